"""HTTP semantics without I/O: build the request, read the response, parse ``Retry-After``.

One pure function, :func:`decode_response`, turns ``(status, headers, body)`` into decoded JSON
or the right typed exception, so all of it is testable without a socket.
"""

from __future__ import annotations

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

from . import _rules
from ._enums import ArtworkStatus
from ._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
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
    "RETRYABLE_STATUSES",
    "artwork_url",
    "check_artwork_id",
    "check_base_url",
    "check_window",
    "decode_response",
    "error_for_status",
    "is_loopback",
    "list_url",
    "parse_retry_after",
    "poll_delays",
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
_REQUEST_ID_HEADERS: Final = ("X-Request-Id", "Request-Id", "X-Amzn-RequestId")


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
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"base_url must be an absolute http(s) URL, not {str(url)!r}")
    if url.scheme == "http" and not is_loopback(url.host):
        raise ConfigurationError(
            f"refusing to send the API key over plain http to {url.host!r}: use https "
            "(plain http is only allowed to a loopback host such as 127.0.0.1)"
        )
    return url


def check_window(offset: int, limit: int) -> None:
    """Check ``offset`` and ``limit`` against the spec before any request.

    Raises:
        ValueError: ``offset`` is not an integer >= 0 or ``limit`` not an integer in 1..=500.
    """
    if not _rules.OFFSET.accepts(offset):
        raise ValueError(f"offset must be {_rules.OFFSET.expected}, not {offset!r}")
    if not _rules.LIMIT.accepts(limit):
        raise ValueError(f"limit must be {_rules.LIMIT.expected}, not {limit!r}")


def list_url(base_url: yarl.URL, *, offset: int, limit: int) -> yarl.URL:
    """The URL of one ``GET /v2/artworks`` window."""
    return base_url.with_path(base_url.path.rstrip("/") + ARTWORKS_PATH).with_query(
        offset=offset, limit=limit
    )


_UUID_TEXT: Final = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def check_artwork_id(artwork_id: object) -> uuid.UUID:
    """Read an artwork id: a ``uuid.UUID``, or its 8-4-4-4-12 hex text.

    Raises:
        ValueError: Anything else (checked before any request is made).
    """
    if isinstance(artwork_id, uuid.UUID):
        return artwork_id
    if isinstance(artwork_id, str) and _UUID_TEXT.fullmatch(artwork_id):
        return uuid.UUID(artwork_id)
    raise ValueError(
        f"artwork_id must be a uuid.UUID or its 8-4-4-4-12 hex string, not {artwork_id!r}"
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


def request_headers(api_key: str, user_agent: str) -> dict[str, str]:
    """The headers of every request: bearer auth, JSON, and who is asking."""
    return {
        "Authorization": f"Bearer {api_key}",
        "Accept": "application/json",
        "User-Agent": user_agent,
    }


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Parse ``Retry-After`` as seconds to wait: delta-seconds or an HTTP-date; else ``None``."""
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):  # ASCII digits: isdigit() takes superscripts too
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


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
    for name in _REQUEST_ID_HEADERS:
        if (value := headers.get(name)) is not None:
            return value
    return None


def error_for_status(status: int, headers: Mapping[str, str], body: bytes) -> APIError:
    """Build the typed :class:`APIError` for a non-2xx answer."""
    parsed = _decode_body(body) if body else None
    request_id = _request_id(headers)
    if status == 429:  # noqa: PLR2004
        retry_after = parse_retry_after(headers.get("Retry-After"))
        return RateLimitError(status, parsed, headers, request_id, retry_after=retry_after)
    cls = _ERRORS_BY_STATUS.get(status, ServerError if status >= 500 else APIError)  # noqa: PLR2004
    return cls(status, parsed, headers, request_id)


def decode_response(
    status: int, headers: Mapping[str, str], body: bytes, *, offset: int = 0
) -> Any:
    """Turn one answer of the API into decoded JSON, or raise the matching error.

    Structuring is left to the caller, so a listing can decode pages as they arrive and
    structure them in order, as they are consumed.

    Raises:
        APIError: A non-2xx status, as its subclass (see :func:`error_for_status`).
        MalformedResponseError: A 2xx body that is not JSON at all.
    """
    if not 200 <= status < 300:  # noqa: PLR2004
        raise error_for_status(status, headers, body)
    return decode_json(body, offset=offset)
