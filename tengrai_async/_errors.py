"""The exceptions tengrai-async raises: one tree, rooted at :class:`TengrAIError`.

This module is a leaf: it imports nothing else of the package, so every layer can raise these.

The hierarchy::

    TengrAIError                          .attempts: requests made, when retried
    ├── ConfigurationError (ValueError)   bad client settings: no API key, key over plain http
    ├── InvalidArgumentError (ValueError) a bad argument, refused before any request
    │   ├── InvalidArgumentTypeError      ... of the wrong type (also a TypeError)
    │   └── InvalidParameterError         ... a create's parameter (also a ValidationError)
    ├── ClientStateError (RuntimeError)   a client used after closing, or in another loop
    ├── ValidationError (ValueError)      a value breaks a rule of the spec
    │   └── ResponseValidationError       ... in a response: JSON path, value, raw item, offset
    │       └── MalformedResponseError    a 2xx body that is not JSON at all (retried)
    ├── TransportError                    the request never got an HTTP answer
    │   ├── APIConnectionError            connection refused, reset or dropped mid-body
    │   │   └── APITimeoutError           no complete answer within the timeout
    │   └── ResponseTooLargeError         a body over ``max_response_bytes`` (not retried)
    ├── StalledListingError               windows that bring nothing new: offset ignored?
    ├── WaitTimeoutError (TimeoutError)   ``artworks.wait()`` ran out of time
    └── APIError                          the server answered with a non-2xx status
        ├── BadRequestError               400, 422
        ├── AuthenticationError           401
        ├── PermissionDeniedError         403
        ├── NotFoundError                 404: no such artwork (or gone after 8 days)
        ├── RateLimitError                429, with ``retry_after``
        └── ServerError                   5xx

An error raised by a ``create_*`` method after its body was sent also says whether the job
may exist upstream all the same (``job_may_exist``), what was sent (``sent_body``) and when
(``sent_at``).

``str()`` of each is one sentence saying what happened: for an :class:`APIError` the status,
its reason and the server's message; for a :class:`TransportError` what went wrong on the
connection (never an HTTP-looking status: aiohttp's own codes are left out). An error raised
once retries ran out ends with ``(after N attempts)``, and its ``attempts`` says the same.

No message or ``repr`` here ever includes request headers, so the API key cannot leak through
an exception.
"""

from __future__ import annotations

import datetime as _dt
import http
from collections.abc import Mapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientStateError",
    "ConfigurationError",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "InvalidParameterError",
    "MalformedResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "ServerError",
    "StalledListingError",
    "TengrAIError",
    "TransportError",
    "ValidationError",
    "WaitTimeoutError",
]

_BODY_PREVIEW = 200


class TengrAIError(Exception):
    """The base of every exception tengrai-async raises on purpose.

    Attributes:
        attempts: For the error of a request, how many times it was sent (retries included);
            ``None`` for anything else. Above 1, ``str(exc)`` ends with ``(after N attempts)``.
        job_may_exist: For the error of a ``create_*`` call: whether the server may have
            taken the job all the same (a timeout, a dropped connection or a 500/502/504
            after the body went out, that no look-up resolved); ``False`` otherwise.
        sent_body: For the error of a ``create_*`` call, the JSON object sent; else ``None``.
        sent_at: When that body was (last) sent, an aware datetime; else ``None``.
    """

    attempts: int | None = None
    job_may_exist: bool = False
    sent_body: dict[str, Any] | None = None
    sent_at: _dt.datetime | None = None

    def __str__(self) -> str:
        text = super().__str__()
        if self.attempts is not None and self.attempts > 1:
            return f"{text} (after {self.attempts} attempts)"
        return text

    def _state(self) -> dict[str, Any] | None:
        """What ``__reduce__`` adds to the constructor's arguments: attempts, a create's body."""
        state: dict[str, Any] = {}
        if self.attempts is not None:
            state["attempts"] = self.attempts
        if self.sent_body is not None:
            state.update(
                job_may_exist=self.job_may_exist, sent_body=self.sent_body, sent_at=self.sent_at
            )
        return state or None


class ConfigurationError(TengrAIError, ValueError):
    """The client cannot be built as configured (no API key, or a key over plain http)."""


class InvalidArgumentError(TengrAIError, ValueError):
    """An argument the SDK cannot use, refused before any request is made.

    Also a ``ValueError``, so ``except ValueError`` keeps catching it.

    Attributes:
        argument: The argument's name (``"offset"``, ``"timeout"``, ...).
        value: What was passed.
        expected: What the argument takes, in words.
    """

    def __init__(self, argument: str, value: Any, expected: str) -> None:
        self.argument = argument
        self.value = value
        self.expected = expected
        super().__init__(f"{argument} must be {expected}, not {_preview(value)}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.argument, self.value, self.expected), self._state())


class InvalidArgumentTypeError(InvalidArgumentError, TypeError):
    """An argument of a type the call does not take (a string for a number, say).

    Both a ``TypeError`` and, through :class:`InvalidArgumentError`, a ``ValueError``.
    """


class ClientStateError(TengrAIError, RuntimeError):
    """A client was used in a state that does not allow it (for example after ``close()``)."""


class ValidationError(TengrAIError, ValueError):
    """A value breaks a rule of the spec.

    Attributes:
        path: Where the value sits: a JSON path such as ``$.parameters.creativity``.
        value: The offending value.
        expected: What the rule asks for, in words.
    """

    def __init__(self, path: str, value: Any, expected: str) -> None:
        self.path = path
        self.value = value
        self.expected = expected
        super().__init__(self._message())

    def _message(self) -> str:
        return f"invalid value {_preview(self.value)} @ {self.path}: expected {self.expected}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.value, self.expected), self._state())


class InvalidParameterError(InvalidArgumentError, ValidationError):
    """A parameter of a ``create_*`` call that breaks a rule of its kind, refused before sending.

    Both an :class:`InvalidArgumentError` and a :class:`ValidationError` (so a ``ValueError``).
    It names the parameter by its wire name (``aspectRatio``), as the API would.

    Attributes:
        argument: The parameter's wire name (``"imageUrl"``).
        path: The same as a JSON path into the body (``"$.imageUrl"``).
        value: What was passed (``None`` for a missing required parameter).
        expected: What the rule asks for, in words.
    """

    def __init__(self, argument: str, value: Any, expected: str) -> None:
        self.argument = argument
        self.path = f"$.{argument}"
        self.value = value
        self.expected = expected
        Exception.__init__(self, f"{argument} must be {expected}, not {_preview(value)}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.argument, self.value, self.expected), self._state())


class ResponseValidationError(ValidationError):
    """An artwork in a response breaks a rule of the spec.

    Attributes:
        path: The JSON path inside the response body (``$[17].parameters.creativity``).
        value: The offending value (``MISSING`` text for a missing required field).
        expected: What the rule asks for, in words.
        raw: The raw JSON item (or the whole body when the body itself is malformed).
        offset: The absolute offset of the item in the listing, when known.
    """

    def __init__(
        self,
        path: str,
        value: Any,
        expected: str,
        *,
        raw: Any = None,
        offset: int | None = None,
    ) -> None:
        self.raw = raw
        self.offset = offset
        super().__init__(path, value, expected)

    def _message(self) -> str:
        where = "" if self.offset is None else f"item at offset {self.offset}: "
        return f"{where}{super()._message()}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_rve,
            (type(self), self.path, self.value, self.expected, self.raw, self.offset),
            self._state(),
        )


class MalformedResponseError(ResponseValidationError):
    """A 2xx body that is not JSON at all: a truncated transfer or a proxy's error page.

    Unlike a well-formed but invalid body, this is usually transient, so GETs retry it.
    """


def _rebuild_rve(
    cls: type[ResponseValidationError],
    path: str,
    value: Any,
    expected: str,
    raw: Any,
    offset: int | None,
) -> ResponseValidationError:
    return cls(path, value, expected, raw=raw, offset=offset)


class TransportError(TengrAIError):
    """The request did not get a complete HTTP answer."""


class APIConnectionError(TransportError):
    """The connection failed: refused, reset, or dropped in the middle of a body."""


class APITimeoutError(APIConnectionError):
    """No complete answer arrived within the configured timeout (an :class:`APIConnectionError`)."""


class ResponseTooLargeError(TransportError):
    """A response body grew past the client's ``max_response_bytes`` (after decompression).

    Attributes:
        limit: The cap, in bytes.
    """

    def __init__(self, message: str, limit: int) -> None:
        self.limit = limit
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.args[0], self.limit), self._state())


class StalledListingError(TengrAIError):
    """Consecutive full windows brought no artwork not seen before: ``offset`` seems ignored.

    The server (or a cache in front of it) answers every offset with the same artworks, so
    listing on would never end.

    Attributes:
        offsets: The offsets of those windows.
    """

    def __init__(self, message: str, offsets: tuple[int, ...]) -> None:
        self.offsets = offsets
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.args[0], self.offsets), self._state())


class APIError(TengrAIError):
    """The server answered with a status that is not 2xx.

    ``str(exc)`` reads ``HTTP 404 Not Found: artwork not found``: the status, its reason and
    the server's own message.

    Attributes:
        status: The HTTP status code.
        message: The server's message: the error body's ``message`` (a list of messages joined
            with ``"; "``), else its ``error``, else the start of a non-JSON body; ``None`` when
            the body says nothing.
        body: The parsed JSON body (``{"message": ..., "statusCode": ..., "error": ...}`` as
            documented), or the body text when it is not JSON.
        headers: The response headers.
        request_id: The server's request id (``X-Request-Id``), when it sends one.
    """

    def __init__(
        self,
        status: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.body = body
        # Case-insensitive, like HTTP: aiohttp hands over "X-Request-ID" for "X-Request-Id".
        self.headers: Mapping[str, str] = CIMultiDictProxy(CIMultiDict(headers or {}))
        self.request_id = request_id
        self.message = _server_message(body)
        super().__init__(self._text())

    def _text(self) -> str:
        try:
            reason = f" {http.HTTPStatus(self.status).phrase}"
        except ValueError:
            reason = ""
        text = f"HTTP {self.status}{reason}"
        if self.message:
            text += f": {self.message}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.status, self.body, dict(self.headers), self.request_id),
            self._state(),
        )


class BadRequestError(APIError):
    """400 or 422: the server rejected the request's parameters."""


class AuthenticationError(APIError):
    """401: the API key is missing or not valid."""


class PermissionDeniedError(APIError):
    """403: the API key may not do this."""


class NotFoundError(APIError):
    """404: no such resource (often a wrong base URL)."""


class RateLimitError(APIError):
    """429: too many requests.

    Attributes:
        retry_after: Seconds the server asked to wait (from ``Retry-After``), or ``None``.
    """

    def __init__(
        self,
        status: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(status, body, headers, request_id)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.status, self.body, dict(self.headers), self.request_id, self.retry_after),
            self._state(),
        )


class ServerError(APIError):
    """5xx: the server failed."""


class WaitTimeoutError(TengrAIError, TimeoutError):
    """``artworks.wait()`` saw no final status before its timeout.

    Attributes:
        artwork_id: The artwork waited for.
        timeout: The seconds waited.
        artwork: The artwork as last fetched (its status says where it stood), or ``None`` when
            no poll had answered yet.
    """

    def __init__(self, artwork_id: str, timeout: float, artwork: Any = None) -> None:
        self.artwork_id = artwork_id
        self.timeout = timeout
        self.artwork = artwork
        status = getattr(artwork, "status", None)
        where = f"; last status {status}" if status is not None else ""
        super().__init__(
            f"artwork {artwork_id} did not reach a final status within {timeout:g} s{where}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.artwork_id, self.timeout, self.artwork), self._state())


def _server_message(body: Any) -> str | None:
    """What the server said, from the documented error body or, failing that, the raw text."""
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, str) and message.strip():
            return _clip(message.strip())
        if isinstance(message, list) and message and all(isinstance(m, str) for m in message):
            return _clip("; ".join(message))
        error = body.get("error")
        if isinstance(error, str) and error.strip():
            return _clip(error.strip())
        return None
    if isinstance(body, str) and body.strip():
        return _clip(" ".join(body.split()))
    return None


def _clip(text: str) -> str:
    return text if len(text) <= _BODY_PREVIEW else f"{text[:_BODY_PREVIEW]}..."


def _preview(value: Any) -> str:
    text = repr(value)
    if len(text) > _BODY_PREVIEW:
        return f"{text[:_BODY_PREVIEW]}... ({len(text)} chars)"
    return text
