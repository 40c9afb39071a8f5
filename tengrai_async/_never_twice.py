"""Sending a create's POST so that a job is never paid for twice.

A POST the server said it did not take (no connection, 429, 503) is retried like a GET. One
it may have taken (a timeout or a dropped connection after the body went out, 500, 502, 504,
an unreadable 2xx) is *ambiguous*: before it is sent again, the listing is searched for the
job (:func:`matches`), and a job found is the answer. The retries run on the one retry loop
(``_retry.retry_loop``), the look-up as its ``settle`` step.
"""

from __future__ import annotations

import datetime as _dt
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, cast

import attrs
import orjson
import yarl

from . import _sansio
from ._clock import SYSTEM_CLOCK, Clock
from ._errors import (
    APIError,
    MalformedResponseError,
    RateLimitError,
    TengrAIError,
    TransportError,
)
from ._failures import what_failed
from ._logging import logger
from ._models import Artwork
from ._retry import Attempt, Cooldown, Found, Retry, retry_loop
from ._transport import Transport

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
_REFUSED: Final = frozenset({408, 429, 503})
# Statuses after which the job may exist all the same.
_AMBIGUOUS: Final = frozenset({500, 502, 504})

#: Looks the job up: given when the first POST went out, the job found, or ``None``.
Lookup = Callable[[_dt.datetime], Awaitable["Artwork | None"]]


class CreateLedger:
    """What a client and its ``with_options()`` copies share across creates.

    The ids of the jobs creates returned (the newest ones): a look-up skips them, so two
    identical creates in a row each get their own job. And one cooldown: a 429 to one create
    holds the others back too.
    """

    __slots__ = ("_returned", "cooldown")

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self._returned: OrderedDict[str, None] = OrderedDict()
        self.cooldown = Cooldown(clock)

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


def classify(error: Exception, *, unsent: bool, look_up: bool) -> Retry | None:  # noqa: PLR0911 - one per verdict
    """What a failed create's POST means: refused (retried), ambiguous, or final (``None``).

    *unsent* is true when the connection could not even be opened. An ambiguous failure is
    marked so (the loop then looks the job up before retrying) only when *look_up*; else it
    is retried blindly, which may make the job twice.
    """
    if isinstance(error, RateLimitError):
        return Retry(error.retry_after, rate_limited=True)
    if isinstance(error, APIError):
        asked = _sansio.parse_retry_after(error.headers.get("Retry-After"))
        if error.status in _REFUSED:
            return Retry(asked)
        if error.status in _AMBIGUOUS:
            return Retry(asked, ambiguous=look_up)
        return None
    if isinstance(error, TransportError | MalformedResponseError):
        if unsent:
            return Retry()
        # A timeout, a dropped connection, an unreadable 2xx: the body went out.
        return Retry(ambiguous=look_up)
    return None


def _ambiguous(error: Exception, *, unsent: bool) -> bool:
    """Whether the job may exist after *error*."""
    verdict = classify(error, unsent=unsent, look_up=True)
    return verdict is not None and verdict.ambiguous


@attrs.define
class _Progress:
    """What one create knows as its attempts go by."""

    first_sent: _dt.datetime | None = None
    sent_at: _dt.datetime | None = None
    unsent: Exception | None = None  # the last error whose request never left
    may_exist: bool = False


async def post_create(
    transport: Transport,
    url: yarl.URL,
    body: dict[str, Any],
    *,
    ledger: CreateLedger,
    lookup: Lookup | None,
) -> Created:
    """POST *body* to *url*; retry what the server refused, look up what it may have taken.

    The retries go through the one retry loop (``_retry.retry_loop``), on the client's clock;
    the look-up is its ``settle`` step. *lookup* ``None`` turns the look-up off: an ambiguous
    failure is then retried like a refused one (the job may be made twice).

    Raises:
        TengrAIError: The error of the last attempt (the error tree's class for it), with
            ``job_may_exist``, ``sent_body`` and ``sent_at`` set.
    """
    await transport.open()
    payload = orjson.dumps(body)
    clock = transport.clock
    label = f"POST {url}"
    progress = _Progress()

    async def send(attempt: Attempt) -> Created:
        progress.sent_at = clock.now()
        progress.first_sent = progress.first_sent or progress.sent_at
        posted = await transport.post_once(url, payload, attempt.number)
        if posted.error is not None:
            progress.unsent = posted.error if posted.unsent else None
            progress.may_exist = progress.may_exist or _ambiguous(
                posted.error, unsent=posted.unsent
            )
            raise posted.error
        return Created(posted.data, None, progress.sent_at)

    def verdict(error: Exception) -> Retry | None:
        return classify(error, unsent=error is progress.unsent, look_up=lookup is not None)

    async def settle(error: Exception, attempt: Attempt) -> Found[Created] | None:
        if attempt.last or lookup is None or progress.first_sent is None:
            return None  # no retry follows: the error says the job may exist
        try:
            found = await lookup(progress.first_sent)
        except TengrAIError as exc:
            # The look-up failed after its own retries: the job's fate stays unknown.
            if isinstance(error, TengrAIError):
                error.attempts = attempt.number
            raise error from exc
        if found is None:
            return None
        logger.info(
            "%s: found the job %s in the listing after %s; not sent again",
            label,
            found.id,
            what_failed(error, label),
        )
        return Found(Created(None, found, progress.sent_at or progress.first_sent))

    try:
        return await transport.until_closed(
            retry_loop(
                send,
                classify=verdict,
                policy=transport.retry,
                max_retries=transport.max_retries,
                label=label,
                describe=lambda error: what_failed(error, label),
                clock=clock,
                cooldown=ledger.cooldown,
                settle=settle,
                catch=(TengrAIError,),
            )
        )
    except TengrAIError as error:
        error.job_may_exist = progress.may_exist
        error.sent_body = body
        error.sent_at = progress.sent_at
        raise
