"""HTTP semantics without I/O: build the request, read the response, parse ``Retry-After``.

One pure function, :func:`decode_response`, turns ``(status, headers, body)`` into decoded JSON
or the right typed exception, so all of it is testable without a socket. Every header value it
reads comes from the server and may be anything: each is parsed or ignored, never raised on.
It also holds the helpers that keep the API key out of exceptions (:func:`redact`).
"""

from __future__ import annotations

import datetime
import email.utils
import ipaddress
import math
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, Final

import orjson
import yarl
from multidict import CIMultiDict

from . import _rules
from ._enums import ArtworkStatus
from ._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from ._json import decode_json

__all__ = [
    "ARTWORKS_PATH",
    "DEFAULT_BASE_URL",
    "FINAL_STATUSES",
    "MAX_POLL_INTERVAL",
    "REDACTED",
    "RETRYABLE_STATUSES",
    "RETRY_AFTER_CEILING",
    "artwork_url",
    "bad_argument",
    "check_api_key",
    "check_artwork_id",
    "check_base_url",
    "check_window",
    "decode_response",
    "error_for_status",
    "is_loopback",
    "list_url",
    "parse_retry_after",
    "poll_delays",
    "redact",
    "request_headers",
    "same_origin",
]

DEFAULT_BASE_URL: Final = yarl.URL("https://api.tengr.ai")
ARTWORKS_PATH: Final = "/v2/artworks"
#: Statuses worth another try for an idempotent GET.
RETRYABLE_STATUSES: Final = frozenset({408, 409, 429, 500, 502, 503, 504})

_ERRORS_BY_STATUS: Final[dict[int, type[APIError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}
#: The statuses after which a job changes no more (``wait()`` returns on them).
FINAL_STATUSES: Final = frozenset(
    {ArtworkStatus.SUCCEEDED, ArtworkStatus.FAILED, ArtworkStatus.CANCELED}
)
#: The cap on the wait between two polls of ``wait()`` (unless the first wait is longer).
MAX_POLL_INTERVAL: Final = 10.0
#: Each wait between polls is this much longer than the one before, up to the cap.
POLL_BACKOFF: Final = 1.5
_DELTA_SECONDS: Final = re.compile(r"[0-9]+")
#: The longest wait a ``Retry-After`` can ask for: 2**31 s, the value RFC 9111 (1.2.2) says to
#: take for a delta-seconds too large to represent. Callers cap it further (``retry_after_max``).
RETRY_AFTER_CEILING: Final = float(2**31)
# An HTTP-date is 29 characters; a value far longer is garbage, not worth parsing.
_MAX_DATE_TEXT: Final = 64
_REQUEST_ID_HEADERS: Final = ("X-Request-Id", "Request-Id", "X-Amzn-RequestId")
# Request ids end up in every error message: a longer one is clipped, not printed whole.
_MAX_REQUEST_ID: Final = 200
#: What stands in for the API key wherever a server or aiohttp echoed it.
REDACTED: Final = "***"
# Shorter "keys" are not secrets anyone issues, and as substrings they would turn up in ordinary
# text by chance: redacting them would garble messages without protecting anything.
_MIN_REDACTED_LENGTH: Final = 8
_CONTROL_CHARACTER: Final = re.compile(r"[\x00-\x1f\x7f]")


def is_loopback(host: str | None) -> bool:
    """Return whether *host* names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str | yarl.URL) -> yarl.URL:
    """Validate the API base URL: absolute http(s), and https unless the host is loopback.

    Raises:
        ConfigurationError: The URL is not absolute http(s), or is plain http to a remote host
            (the API key would travel in clear text).
    """
    url = yarl.URL(base_url)
    if url.user is not None or url.password is not None:
        # Not echoed: the URL holds a credential. aiohttp would turn it into a Basic
        # Authorization header that clashes with the bearer key (and repr(client) would show it).
        raise ConfigurationError(
            "base_url must not carry credentials (user:password@); pass the API key as api_key"
        )
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"base_url must be an absolute http(s) URL, not {str(url)!r}")
    if url.scheme == "http" and not is_loopback(url.host):
        raise ConfigurationError(
            f"refusing to send the API key over plain http to {url.host!r}: use https "
            "(plain http is only allowed to a loopback host such as 127.0.0.1)"
        )
    return url


def bad_argument(
    argument: str, value: object, expected: str, *, types: tuple[type, ...]
) -> InvalidArgumentError:
    """The error refusing *value* as *argument*, whose accepted types are *types*.

    A value of another type gets the :class:`InvalidArgumentTypeError` flavour (a ``TypeError``
    too); a ``bool`` counts as another type unless *types* names it, though it is an ``int``.
    """
    right_type = isinstance(value, types) and (bool in types or not isinstance(value, bool))
    cls = InvalidArgumentError if right_type else InvalidArgumentTypeError
    return cls(argument, value, expected)


def check_window(offset: int, limit: int) -> None:
    """Check ``offset`` and ``limit`` against the spec before any request.

    Raises:
        InvalidArgumentError: ``offset`` is not an integer >= 0 or ``limit`` not an integer in
            1..=500 (:class:`InvalidArgumentTypeError` when it is no integer at all).
    """
    if not _rules.OFFSET.accepts(offset):
        raise bad_argument("offset", offset, _rules.OFFSET.expected, types=(int,))
    if not _rules.LIMIT.accepts(limit):
        raise bad_argument("limit", limit, _rules.LIMIT.expected, types=(int,))


def list_url(base_url: yarl.URL, *, offset: int, limit: int) -> yarl.URL:
    """The URL of one ``GET /v2/artworks`` window."""
    return base_url.with_path(base_url.path.rstrip("/") + ARTWORKS_PATH).with_query(
        offset=offset, limit=limit
    )


_UUID_TEXT: Final = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def check_artwork_id(artwork_id: object) -> uuid.UUID:
    """Read an artwork id: a ``uuid.UUID``, or its 8-4-4-4-12 hex text.

    Raises:
        InvalidArgumentError: Anything else, checked before any request is made
            (:class:`InvalidArgumentTypeError` for neither a ``UUID`` nor a string).
    """
    if isinstance(artwork_id, uuid.UUID):
        return artwork_id
    if isinstance(artwork_id, str) and _UUID_TEXT.fullmatch(artwork_id):
        return uuid.UUID(artwork_id)
    raise bad_argument(
        "artwork_id",
        artwork_id,
        "a uuid.UUID or its 8-4-4-4-12 hex string",
        types=(uuid.UUID, str),
    )


def artwork_url(base_url: yarl.URL, artwork_id: uuid.UUID) -> yarl.URL:
    """The URL of ``GET /v2/artworks/{id}``."""
    return base_url.with_path(f"{base_url.path.rstrip('/')}{ARTWORKS_PATH}/{artwork_id}")


def same_origin(url: yarl.URL, base_url: yarl.URL) -> bool:
    """Whether *url* has exactly the scheme, host and port of *base_url* (the API's origin)."""
    return (
        url.scheme == base_url.scheme
        and (url.host or "").lower() == (base_url.host or "").lower()
        and url.port == base_url.port
    )


def check_api_key(api_key: str) -> str:
    """The key as it goes into the header: without surrounding whitespace, control-free.

    Whitespace around the key (a newline left by a file, say) is dropped, as an HTTP parser
    would drop it from the header anyway.

    Raises:
        ConfigurationError: A control character inside the key (the message never shows
            the key): sent as is, it would split the header.
    """
    key = api_key.strip()
    if _CONTROL_CHARACTER.search(key):
        raise ConfigurationError(
            "the API key contains a control character (such as a line break); pass the key alone"
        )
    return key


def redact(text: str, secret: str | None) -> str:
    """*text* with the *secret* in it, and every run of 8 or more of its characters, masked.

    The runs matter because aiohttp clips the raw bytes it quotes in its error messages, which
    can cut an echoed key in two. Each masked stretch reads :data:`REDACTED`. Secrets shorter
    than 8 characters are left alone: no real key is that short, and such strings occur in
    ordinary text by chance.
    """
    size = _MIN_REDACTED_LENGTH
    if not secret or len(secret) < size:
        return text
    pieces = {secret[i : i + size] for i in range(len(secret) - size + 1)}
    masked = [False] * len(text)
    for start in range(len(text) - size + 1):
        if text[start : start + size] in pieces:
            masked[start : start + size] = [True] * size
    if not any(masked):
        return text
    out: list[str] = []
    for index, char in enumerate(text):
        if not masked[index]:
            out.append(char)
        elif index == 0 or not masked[index - 1]:
            out.append(REDACTED)
    return "".join(out)


def _redact_bytes(body: bytes, secret: str | None) -> bytes:
    if not secret or len(secret) < _MIN_REDACTED_LENGTH:
        return body
    raw = secret.encode("utf-8", "surrogateescape")
    return body.replace(raw, REDACTED.encode()) if raw in body else body


def _redact_headers(headers: Mapping[str, str], secret: str | None) -> Mapping[str, str]:
    if not secret or len(secret) < _MIN_REDACTED_LENGTH:
        return headers
    if not any(secret in name or secret in value for name, value in headers.items()):
        return headers
    return CIMultiDict(
        (redact(name, secret), redact(value, secret)) for name, value in headers.items()
    )


def request_headers(api_key: str, user_agent: str) -> dict[str, str]:
    """The headers of every request: bearer auth, JSON, and who is asking."""
    return {
        "Authorization": f"Bearer {api_key}",
        "Accept": "application/json",
        "User-Agent": user_agent,
    }


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Parse ``Retry-After`` as seconds to wait: delta-seconds or an HTTP-date; else ``None``.

    Any text is accepted and none raises: garbage (negative or decimal numbers, ``NaN``,
    non-ASCII, an impossible date) gives ``None``. The result is at most
    :data:`RETRY_AFTER_CEILING` (2**31 s), however large the number or far the date; a date in
    the past is ``0.0``. A date without a zone is read as GMT, as HTTP-dates always are.
    """
    if value is None:
        return None
    value = value.strip(" \t")  # HTTP's optional whitespace, not every Unicode space
    if _DELTA_SECONDS.fullmatch(value):  # ASCII digits: isdigit() takes superscripts too
        digits = value.lstrip("0") or "0"
        # int() refuses over 4300 digits, and 2**31 has 10: longer is beyond the ceiling anyway.
        if len(digits) > len(str(int(RETRY_AFTER_CEILING))):
            return RETRY_AFTER_CEILING
        return min(float(digits), RETRY_AFTER_CEILING)
    if not value or len(value) > _MAX_DATE_TEXT:
        return None
    seconds = _seconds_until(value, time.time() if now is None else now)
    return None if seconds is None else min(max(0.0, seconds), RETRY_AFTER_CEILING)


def _seconds_until(http_date: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(http_date)
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        seconds = when.timestamp() - now
    except (TypeError, ValueError, IndexError, OverflowError):
        # parsedate_to_datetime raises all of these on hostile dates (an hour of 10**20, an
        # offset that overflows a C int, a year beyond 9999).
        return None
    return None if math.isnan(seconds) else seconds


def poll_delays(first: float, cap: float = MAX_POLL_INTERVAL) -> Iterator[float]:
    """The waits between polls of a job: *first*, then half again each time, up to the cap.

    The cap is *cap* or *first*, whichever is larger; the iterator never ends.
    """
    delay, limit = first, max(first, cap)
    while True:
        yield delay
        delay = min(delay * POLL_BACKOFF, limit)


def _decode_body(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace")


def _request_id(headers: Mapping[str, str]) -> str | None:
    """The server's request id, made printable: it goes into every error message."""
    for name in _REQUEST_ID_HEADERS:
        if (value := headers.get(name)) is not None:
            # aiohttp hands over undecodable bytes as lone surrogates, which no stream can
            # print: those and control characters become U+FFFD.
            text = "".join(c if c.isprintable() else "\ufffd" for c in value[:_MAX_REQUEST_ID])
            return text.strip() or None
    return None


def error_for_status(
    status: int, headers: Mapping[str, str], body: bytes, *, secret: str | None = None
) -> APIError:
    """Build the typed :class:`APIError` for a non-2xx answer.

    Wherever the server echoed *secret* (the API key) in the body or the headers, the error
    holds :data:`REDACTED` instead, so that printing or logging it cannot leak the key.
    """
    body = _redact_bytes(body, secret)
    headers = _redact_headers(headers, secret)
    parsed = _decode_body(body) if body else None
    request_id = _request_id(headers)
    if status == 429:  # noqa: PLR2004
        retry_after = parse_retry_after(headers.get("Retry-After"))
        return RateLimitError(status, parsed, headers, request_id, retry_after=retry_after)
    cls = _ERRORS_BY_STATUS.get(status, ServerError if status >= 500 else APIError)  # noqa: PLR2004
    return cls(status, parsed, headers, request_id)


def decode_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    offset: int = 0,
    secret: str | None = None,
) -> Any:
    """Turn one answer of the API into decoded JSON, or raise the matching error.

    Structuring is left to the caller, so a listing can decode pages as they arrive and
    structure them in order, as they are consumed. An error never holds *secret* (the API
    key), even where the server echoed it.

    Raises:
        APIError: A non-2xx status, as its subclass (see :func:`error_for_status`).
        MalformedResponseError: A 2xx body that is not JSON at all.
    """
    if not 200 <= status < 300:  # noqa: PLR2004
        raise error_for_status(status, headers, body, secret=secret)
    try:
        return decode_json(body, offset=offset)
    except MalformedResponseError as exc:
        error = exc
    if (clean := _redact_bytes(body, secret)) is not body:
        # Decoded again outside the handler, so that the error holding the key is not the
        # context of the one raised.
        try:
            return decode_json(clean, offset=offset)
        except MalformedResponseError as exc:
            error = exc
    # orjson's error, suppressed yet kept as the context, holds the whole body: let it go.
    error.__context__ = None
    raise error
