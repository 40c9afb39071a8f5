"""Sending a create's POST so that a job is never paid for twice.

A POST the server said it did not take (no connection, 429, 503) is retried like a GET. One
it may have taken (a timeout or a dropped connection after the body went out, 500, 502, 504,
an unreadable 2xx) is *ambiguous*: before it is sent again, the listing is searched for the
job (:func:`matches`), and a job found is the answer.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, Literal, cast

import aiohttp
import attrs
import orjson
import yarl

from . import _sansio
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ClientStateError,
    ConfigurationError,
    MalformedResponseError,
    RateLimitError,
    ResponseTooLargeError,
    TengrAIError,
    TransportError,
)
from ._logging import logger
from ._models import Artwork
from ._transport import Cooldown, Transport

__all__ = [
    "LOOKUP_PAGE_SIZE",
    "LOOKUP_SKEW",
    "CreateLedger",
    "Created",
    "matches",
    "post_create",
]

#: How far before the first POST went out the look-up reads the listing back to: the clocks
#: of this machine and of the API's may disagree by up to this much.
LOOKUP_SKEW: Final = _dt.timedelta(minutes=5)
#: The listing's window size for the look-up (the newest artworks are all it usually needs).
LOOKUP_PAGE_SIZE: Final = 50
#: How many ids of created jobs a client remembers, so that a look-up never returns one twice.
_LEDGER_SIZE: Final = 10_000
# Statuses that say the server did not take the job: retried like a GET.
_REFUSED: Final = frozenset({408, 409, 429, 503})
# Statuses after which the job may exist all the same.
_AMBIGUOUS: Final = frozenset({500, 502, 504})

Verdict = Literal["refused", "ambiguous", "final"]
#: Looks the job up: given when the first POST went out, the job found, or ``None``.
Lookup = Callable[[_dt.datetime], Awaitable["Artwork | None"]]


class CreateLedger:
    """What a client and its ``with_options()`` copies share across creates.

    The ids of the jobs creates returned (the newest ones): a look-up skips them, so two
    identical creates in a row each get their own job. And one cooldown: a 429 to one create
    holds the others back too.
    """

    __slots__ = ("_returned", "cooldown")

    def __init__(self) -> None:
        self._returned: OrderedDict[str, None] = OrderedDict()
        self.cooldown = Cooldown()

    def add(self, artwork_id: str) -> None:
        """Remember that a create returned *artwork_id*."""
        self._returned[artwork_id] = None
        if len(self._returned) > _LEDGER_SIZE:
            self._returned.popitem(last=False)

    def __contains__(self, artwork_id: object) -> bool:
        return artwork_id in self._returned


@attrs.frozen
class Created:
    """How a create ended: the POST's decoded answer, or the job the look-up found.

    Attributes:
        data: The decoded JSON of the 2xx answer (``None`` when the job was found).
        found: The job found in the listing after an ambiguous failure, or ``None``.
        sent_at: When the (last) POST went out.
    """

    data: Any
    found: Artwork | None
    sent_at: _dt.datetime


def matches(parameters: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """Whether an artwork's *parameters* hold every key of *body* with the same value.

    The server may echo defaults it filled in: keys the body does not hold are not compared.
    """
    return all(key in parameters and _same(parameters[key], value) for key, value in body.items())


def _same(echoed: Any, sent: Any) -> bool:
    if isinstance(sent, Mapping):
        if not isinstance(echoed, Mapping):
            return False
        fields: Mapping[str, Any] = cast("Any", echoed)
        sent_fields: Mapping[str, Any] = cast("Any", sent)
        return len(fields) == len(sent_fields) and matches(fields, sent_fields)
    if isinstance(sent, Sequence) and not isinstance(sent, str):
        if not isinstance(echoed, Sequence) or isinstance(echoed, str):
            return False
        items: Sequence[Any] = cast("Any", echoed)
        sent_items: Sequence[Any] = cast("Any", sent)
        return len(items) == len(sent_items) and all(
            _same(a, b) for a, b in zip(items, sent_items, strict=True)
        )
    # True == 1 in Python; on the wire a boolean and a number are different values.
    numbers = (int, float)
    return bool(echoed == sent) and (
        type(echoed) is type(sent) or (type(echoed) in numbers and type(sent) in numbers)
    )


def classify(error: TengrAIError, *, sent: bool = True) -> Verdict:
    """Whether the server refused the job, may have taken it, or there is no point retrying.

    *sent* is false when the connection could not even be opened (the body never went out).
    """
    if isinstance(error, APIError):
        if error.status in _REFUSED:
            return "refused"
        return "ambiguous" if error.status in _AMBIGUOUS else "final"
    if isinstance(error, TransportError | MalformedResponseError):
        # A timeout, a dropped connection, an unreadable 2xx: the body went out.
        return "ambiguous" if sent else "refused"
    return "final"


class _Failed(Exception):  # noqa: N818 - a signal of this module, never raised out of it
    """One attempt's error, and whether its body went out."""

    def __init__(self, error: TengrAIError, *, sent: bool) -> None:
        super().__init__()
        self.error = error
        self.sent = sent


async def post_create(
    transport: Transport,
    url: yarl.URL,
    body: dict[str, Any],
    *,
    ledger: CreateLedger,
    lookup: Lookup | None,
    now: Callable[[], _dt.datetime],
) -> Created:
    """POST *body* to *url*; retry what the server refused, look up what it may have taken.

    *lookup* ``None`` turns the look-up off: an ambiguous failure is then retried like a
    refused one (the job may be made twice).

    Raises:
        TengrAIError: The error of the last attempt (the error tree's class for it), with
            ``job_may_exist``, ``sent_body`` and ``sent_at`` set.
    """
    await transport.open()
    posting = _post_with_retries(transport, url, body, ledger, lookup, now)
    return await transport.until_closed(posting)


async def _post_with_retries(
    transport: Transport,
    url: yarl.URL,
    body: dict[str, Any],
    ledger: CreateLedger,
    lookup: Lookup | None,
    now: Callable[[], _dt.datetime],
) -> Created:
    payload = orjson.dumps(body)
    attempts = transport.max_retries + 1
    first_sent: _dt.datetime | None = None
    may_exist = False
    attempt = 0
    while True:
        await ledger.cooldown.wait()
        attempt += 1
        sent_at = now()
        first_sent = first_sent or sent_at
        try:
            data = await _post_once(transport, url, payload, attempt)
        except _Failed as failed:
            error, sent = failed.error, failed.sent
        except TengrAIError as exc:  # a 4xx/5xx answer, or a 2xx body that is not JSON
            error, sent = exc, True
        else:
            return Created(data, None, sent_at)
        verdict = classify(error, sent=sent)
        ambiguous = verdict == "ambiguous"
        may_exist = may_exist or ambiguous
        wait = transport._retry_wait(error, attempt, ledger.cooldown)  # noqa: SLF001
        if verdict == "final" or attempt >= attempts:
            raise _sealed(error, attempt, body, sent_at, may_exist=may_exist)
        seconds = wait[0] if wait is not None else transport.retry.backoff(attempt)
        logger.warning(
            "POST %s (attempt %d of %d): %s; %s in %.3g s",
            url,
            attempt,
            attempts,
            _reason(error, url),
            "looking the job up, then retrying" if ambiguous and lookup else "retrying",
            seconds,
        )
        await asyncio.sleep(seconds)
        if ambiguous and lookup is not None:
            try:
                found = await lookup(first_sent)
            except TengrAIError as exc:
                # The look-up failed after its own retries: the job's fate stays unknown.
                raise _sealed(error, attempt, body, sent_at, may_exist=True) from exc
            if found is not None:
                logger.info(
                    "POST %s: found the job %s in the listing after %s; not sent again",
                    url,
                    found.id,
                    _reason(error, url),
                )
                return Created(None, found, sent_at)


def _sealed(
    error: TengrAIError,
    attempt: int,
    body: dict[str, Any],
    sent_at: _dt.datetime,
    *,
    may_exist: bool,
) -> TengrAIError:
    error.attempts = attempt
    error.job_may_exist = may_exist
    error.sent_body = body
    error.sent_at = sent_at
    return error


async def _post_once(transport: Transport, url: yarl.URL, payload: bytes, attempt: int) -> Any:
    """One POST: the decoded JSON of a 2xx answer, or the error for what happened."""
    # The transport's own parts, until the retry seam gives every request one loop.
    session = transport._session  # noqa: SLF001
    if session is None or transport.closed:
        raise ClientStateError(transport._reason())  # noqa: SLF001 - closed while waiting
    headers = transport.headers_for(url)
    headers["Content-Type"] = "application/json"
    status: int | None = None
    response_headers: Mapping[str, str] = {}
    raw = b""
    error: TengrAIError | None = None
    sent = True
    try:
        async with session.post(
            url,
            data=payload,
            headers=headers,
            timeout=transport._timeout,  # noqa: SLF001
            proxy=transport._pool.proxy,  # noqa: SLF001
        ) as resp:
            status = resp.status
            response_headers = resp.headers
            raw = await transport._read_body(resp, url)  # noqa: SLF001
    except asyncio.TimeoutError:
        error = APITimeoutError(
            f"POST {url} failed: no complete answer within {transport.timeout:g} s"
        )
    except aiohttp.ClientConnectorError as exc:
        error = APIConnectionError(f"POST {url} failed: {transport._describe(exc)}")  # noqa: SLF001
        sent = False
    except (aiohttp.ClientError, OSError) as exc:
        error = APIConnectionError(f"POST {url} failed: {transport._describe(exc)}")  # noqa: SLF001
    except ValueError as exc:
        described = transport._describe(exc)  # noqa: SLF001
        error = (
            APIConnectionError(f"POST {url} failed: {described}")
            if status is not None
            else ConfigurationError(f"aiohttp refused to send POST {url}: {described}")
        )
    except RuntimeError:
        if not session.closed:
            raise
        error = ClientStateError("the aiohttp session passed to TengrAI was closed by its owner")
    logger.debug("POST %s -> %s (attempt %d)", url, "error" if status is None else status, attempt)
    if error is not None:
        # Outside the handlers: aiohttp's exception, which holds the key, is not chained.
        raise _Failed(error, sent=sent)
    assert status is not None  # noqa: S101 - set before the body was read
    return _sansio.decode_response(status, response_headers, raw, secret=transport._secret)  # noqa: SLF001


def _reason(error: TengrAIError, url: yarl.URL) -> str:
    if isinstance(error, MalformedResponseError):
        return "the body is not JSON"
    if isinstance(error, ResponseTooLargeError | RateLimitError):
        return str(error)
    text = str(error.args[0]) if error.args else type(error).__name__
    return text.removeprefix(f"POST {url} failed: ")
