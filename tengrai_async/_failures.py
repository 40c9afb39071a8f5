"""What aiohttp raises during a request, turned into the SDK's errors and words, in one place.

:class:`MapFailures` (httpx's ``map_httpcore_exceptions`` is the model) maps aiohttp's errors
and timeouts to :class:`APIConnectionError`, :class:`APITimeoutError`,
:class:`ConfigurationError` or :class:`ClientStateError`; :func:`describe_failure` says in one
sentence what went wrong on the connection. aiohttp's errors carry the request's headers (the
API key among them), so the SDK's error is raised *after* the ``with`` block, outside any
handler: aiohttp's exception is neither its ``__cause__`` nor its ``__context__``.
"""

from __future__ import annotations

import asyncio
import errno
import os
import ssl
from types import TracebackType
from typing import Final

import aiohttp
from aiohttp.http_exceptions import ContentEncodingError, HttpProcessingError

from . import _sansio
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    ClientStateError,
    ConfigurationError,
    MalformedResponseError,
    TengrAIError,
)

__all__ = ["MapFailures", "describe_failure", "what_failed"]

# aiohttp's messages quote raw response bytes (up to kilobytes of them): enough to tell what
# went wrong is kept.
_DESCRIPTION_LIMIT: Final = 300


class MapFailures:
    """A ``with`` block around one request that catches what aiohttp raises and maps it.

    Use it as::

        failures = MapFailures(f"GET {url}", timeout_text="...", secret=key, session=session)
        with failures:
            async with session.get(url) as response:
                failures.answered = True
                ...
        failures.raise_error()  # the SDK's error, if the block failed

    The errors: a timeout is :class:`APITimeoutError` (``"<label> failed: <timeout_text>"``);
    a connection failure or an unreadable answer :class:`APIConnectionError`; a ``ValueError``
    before any answer (aiohttp refusing to send the request) :class:`ConfigurationError`; a
    borrowed session closed by its owner :class:`ClientStateError`. Anything else (the SDK's
    own errors, cancellation) goes through untouched.

    Attributes:
        answered: Set by the caller once the response's status arrived.
        error: The SDK's error for what the block raised, or ``None``.
        unsent: Whether the failure certainly came before any byte of the request went out
            (the connection could not be opened: DNS, refused, TLS, a proxy, a connect
            timeout): a request that failed so never reached the server, and is safe to send
            again whatever its method.
    """

    __slots__ = ("_label", "_secret", "_session", "_timeout_text", "answered", "error", "unsent")

    def __init__(
        self,
        label: str,
        *,
        timeout_text: str,
        secret: str,
        session: aiohttp.ClientSession,
    ) -> None:
        self._label = label
        self._timeout_text = timeout_text
        self._secret = secret
        self._session = session
        self.answered = False
        self.error: TengrAIError | None = None
        self.unsent = False

    def __enter__(self) -> MapFailures:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if not isinstance(exc, Exception) or isinstance(exc, TengrAIError):
            return False
        error = self._map(exc)
        if error is None:
            return False
        self.error = error
        self.unsent = _unsent(exc)
        return True  # raised by raise_error(), outside this handler

    def raise_error(self) -> None:
        """Raise the SDK's error for what the block raised, if it raised."""
        if self.error is not None:
            raise self.error

    def _map(self, exc: Exception) -> TengrAIError | None:
        label = self._label
        # First: on 3.11+ asyncio.TimeoutError is TimeoutError, an OSError.
        if isinstance(exc, asyncio.TimeoutError):
            return APITimeoutError(f"{label} failed: {self._timeout_text}")
        if isinstance(exc, aiohttp.ClientError | OSError):
            return APIConnectionError(f"{label} failed: {self._describe(exc)}")
        if isinstance(exc, ValueError):
            # Mostly aiohttp refusing to send (a borrowed session with trust_env=True and a
            # ~/.netrc entry for the API's host, for one: it will not combine those with the key).
            if self.answered:
                return APIConnectionError(f"{label} failed: {self._describe(exc)}")
            return ConfigurationError(f"aiohttp refused to send {label}: {self._describe(exc)}")
        if isinstance(exc, RuntimeError) and self._session.closed:
            return ClientStateError("the aiohttp session passed to TengrAI was closed by its owner")
        return None

    def _describe(self, exc: BaseException) -> str:
        """What happened, in words, then aiohttp's error: one line, clipped, the key masked."""
        return _sansio.redact(describe_failure(exc), self._secret)


def _unsent(exc: BaseException) -> bool:
    """Whether *exc* came before the request was sent: the connection never opened."""
    return isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)


def what_failed(error: BaseException, label: str) -> str:
    """What went wrong with one attempt, for a retry's log line (the label is said already)."""
    if isinstance(error, MalformedResponseError):
        return "the body is not JSON"
    text = str(error.args[0]) if error.args else type(error).__name__
    return text.removeprefix(f"{label} failed: ")


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return f"{text[:_DESCRIPTION_LIMIT]}..." if len(text) > _DESCRIPTION_LIMIT else text


def _os_text(error: OSError) -> str:
    """An OS error's own words: ``Connection refused``, not ``[Errno 111] Connect call ...``.

    A TLS error keeps its text: its number is OpenSSL's, not the system's.
    """
    if isinstance(error, ssl.SSLError):
        return str(error.strerror or error.reason or error)
    if error.errno is not None and error.errno > 0:
        try:
            return os.strerror(error.errno)
        except ValueError:  # pragma: no cover - an errno the platform does not know
            pass
    return str(error.strerror or error)


def _detail(exc: BaseException) -> str:
    """The text of aiohttp's error, without the ``400, message=`` it gives parser errors."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        text = str(exc.certificate_error)
    elif isinstance(exc, aiohttp.ClientConnectorError):
        text = _os_text(exc.os_error)
    elif isinstance(exc, aiohttp.ClientResponseError | HttpProcessingError):
        text = exc.message
    elif isinstance(exc, aiohttp.ClientPayloadError) and isinstance(
        exc.__cause__, HttpProcessingError
    ):
        text = exc.__cause__.message
    elif isinstance(exc, OSError):
        text = _os_text(exc)
    else:
        text = str(exc)
    text = _one_line(text)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def describe_failure(exc: BaseException) -> str:  # noqa: PLR0911, PLR0912 - one per kind
    """One sentence saying what went wrong on the connection, then aiohttp's error in brackets.

    Never an HTTP-looking status: aiohttp gives its parser and payload errors the code 400,
    which no server sent. The text is not redacted: callers mask the key.
    """
    detail = f"({_detail(exc)})"
    if isinstance(exc, aiohttp.TooManyRedirects):
        return f"too many redirects, {len(exc.history)} followed {detail}"
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return f"the proxy answered HTTP {exc.status} {detail}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"the answer is not valid HTTP {detail}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"could not resolve the host {exc.host} {detail}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientConnectorSSLError):
        return f"the TLS handshake with {exc.host}:{exc.port} failed {detail}"
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return f"could not connect to the proxy {exc.host}:{exc.port} {detail}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"could not connect to {exc.host}:{exc.port} {detail}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return f"the server closed the connection before a complete answer {detail}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        if isinstance(exc.__cause__, ContentEncodingError):
            return f"the body could not be decompressed {detail}"
        return f"the connection broke off in the middle of the body {detail}"
    if isinstance(exc, ConnectionResetError) or getattr(exc, "errno", None) == errno.ECONNRESET:
        return f"the connection was reset {detail}"
    if isinstance(exc, aiohttp.ClientConnectionError | OSError):
        return f"the connection failed {detail}"
    if isinstance(exc, ValueError):
        return f"the answer could not be read {detail}"
    return _detail(exc)
