"""The one retry loop of the SDK: its policy, the shared cooldown, and :func:`retry_loop`.

API GETs, image GETs and (later) POSTs all retry through :func:`retry_loop`, on the client's
clock (``tengrai_async._clock``), so tests of backoff, ``Retry-After`` and cooldowns run on a
fake clock in no time.

The loop, like stamina's ``retry_context``, is one primitive any block can use. The caller
gives it:

* ``send(attempt)``: one try, returning the result or raising. It is called with an
  :class:`Attempt` (its ``number``, 1-based, of ``total``), so it can count or log.
* ``classify(error)``: the hook saying what a failure means. It returns ``None`` for a
  failure never worth another try (the error is raised at once), or a :class:`Retry`:

  - ``Retry()``: retried after the policy's backoff;
  - ``Retry(retry_after=s)``: retried after the ``s`` seconds the server asked for
    (``Retry-After``), capped at ``RetryPolicy.retry_after_max``;
  - ``Retry(rate_limited=True, ...)``: also extends the shared :class:`Cooldown`, so that the
    request's siblings wait too instead of each retrying into the limit (a 429);
  - ``Retry(ambiguous=True, ...)``: the request may have taken effect (a POST whose body went
    out before a timeout or a dropped connection, or answered 500/502/504). It is retried only
    when the caller passed ``settle``, and only after ``settle`` found nothing.

* ``settle(error, attempt)`` (optional): an async callback run after each *ambiguous* failure,
  once the retry's wait is over and before the next attempt is sent. It returns
  ``Found(value)`` when the request did take effect (the loop then ends and returns
  ``value``), or ``None`` to go on. It also runs after the last attempt's ambiguous failure
  (at once: no retry follows, so nothing is waited for), where ``attempt.last`` is true; return
  ``None`` there to have the error raised. Whatever it raises ends the loop.
* ``catch`` (optional): the exception types that are failures of the request (default: any
  ``Exception``); anything else ``send`` raises (a closed client, say) passes straight through.
* ``cooldown`` (optional): waited out before every try; a ``rate_limited`` failure extends it.

How a create plugs in (issue 17, "Never paid for twice")::

    def classify(error: Exception) -> Retry | None:
        if isinstance(error, RateLimitError):              # the server refused: safe
            return Retry(retry_after=error.retry_after, rate_limited=True)
        if isinstance(error, APIError) and error.status == 503:
            return Retry(retry_after=parse_retry_after(error.headers.get("Retry-After")))
        if never_sent(error):   # the connection never opened (MapFailures.unsent): safe
            return Retry()
        if isinstance(error, TransportError) or (
            isinstance(error, APIError) and error.status in (500, 502, 504)
        ):
            return Retry(ambiguous=True)                    # the job may exist
        return None                                         # 400, 401, ...: never again

    async def settle(error: Exception, attempt: Attempt) -> Found[Artwork] | None:
        job = await look_for_the_job(...)                   # a GET, retried like any GET
        return Found(job) if job is not None else None

    artwork = await retry_loop(
        post, classify=classify, settle=settle, policy=policy, max_retries=n, clock=clock,
        cooldown=cooldown, label=f"POST {url}", describe=describe,
    )

When the loop gives up it raises the last error as it is (a :class:`TengrAIError` has its
``attempts`` set to the tries made), never chained to anything of the loop. Each retry is
logged at WARNING on the ``tengrai_async`` logger as
``<label> (attempt n of m): <what went wrong>; retrying in <s> s[, as its Retry-After asked]``.
Sleeps are the clock's, in the caller's task: ``close()`` (which cancels that task) and Ctrl-C
end them at once.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Final, Generic, NoReturn, TypeVar

import attrs

from ._clock import SYSTEM_CLOCK, Clock
from ._errors import TengrAIError
from ._logging import logger

__all__ = [
    "Attempt",
    "Cooldown",
    "Found",
    "Retry",
    "RetryPolicy",
    "retry_loop",
]

T = TypeVar("T")

# 2**64 times any wait is beyond any wait_max: the doubling stops there (no float overflow).
_MAX_DOUBLINGS: Final = 64


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How GETs are retried (the count of retries is the client's ``max_retries``).

    Attributes:
        wait_initial: Seconds before the first retry; doubles with each further one.
        wait_max: The cap on one exponential wait.
        wait_jitter: Up to this many random seconds are added to each exponential wait.
        retry_after_max: The cap on a server's ``Retry-After``: longer asks are cut to this.
    """

    wait_initial: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    wait_max: float = attrs.field(default=8.0, validator=attrs.validators.ge(0))
    wait_jitter: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    retry_after_max: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number *attempt* (1-based), jitter included.

        ``wait_initial`` doubled for each attempt before, plus up to ``wait_jitter`` at random,
        capped at ``wait_max``. A ``Retry-After`` replaces it (see ``retry_after_max``).
        """
        doublings = min(max(attempt - 1, 0), _MAX_DOUBLINGS)
        jitter = random.uniform(0, self.wait_jitter) if self.wait_jitter else 0.0  # noqa: S311
        return min(self.wait_max, self.wait_initial * 2.0**doublings + jitter)

    @classmethod
    def instant(cls) -> RetryPolicy:
        """Retries that do not wait: every retry still happens, at once (for tests).

        ``Retry-After`` is capped to 0 too, so a test of a flaky API runs at full speed
        while it still exercises every retry.
        """
        return cls(wait_initial=0.0, wait_max=0.0, wait_jitter=0.0, retry_after_max=0.0)


class Cooldown:
    """A pause shared by related requests: a 429 to one holds back all of them.

    One listing's windows share one; the archive's downloads share one per image host. It
    reads the time from *clock* and sleeps on it.
    """

    __slots__ = ("_clock", "_until")

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock
        self._until = 0.0

    def extend(self, seconds: float) -> None:
        """Hold every request back for at least *seconds* from now."""
        self._until = max(self._until, self._clock.monotonic() + seconds)

    @property
    def remaining(self) -> float:
        """Seconds left before requests may go out again."""
        return max(0.0, self._until - self._clock.monotonic())

    async def wait(self) -> None:
        """Sleep until the cooldown is over (it may be extended while sleeping)."""
        # A deadline that only moves later is simpler to poll than to signal with an Event.
        while (left := self.remaining) > 0:
            await self._clock.sleep(left)


@attrs.frozen
class Retry:
    """``classify``'s verdict on a failure worth another try (``None`` means: never).

    Attributes:
        retry_after: The seconds the server asked to wait (its ``Retry-After``), or ``None``
            for the policy's backoff.
        rate_limited: A rate limit (429): the shared cooldown is extended too.
        ambiguous: The request may have taken effect: retried only after ``settle`` found
            that it did not (never without a ``settle``).
    """

    retry_after: float | None = None
    rate_limited: bool = attrs.field(default=False, kw_only=True)
    ambiguous: bool = attrs.field(default=False, kw_only=True)


@attrs.frozen
class Attempt:
    """One try of a retried request.

    Attributes:
        number: Which try this is, from 1.
        total: How many tries are allowed in all (``max_retries + 1``).
    """

    number: int
    total: int

    @property
    def last(self) -> bool:
        """Whether no retry can follow this try."""
        return self.number >= self.total


@attrs.frozen
class Found(Generic[T]):
    """What ``settle`` returns when an ambiguous failure did take effect: the loop's result.

    Attributes:
        value: What the loop returns.
    """

    value: T


async def retry_loop(
    send: Callable[[Attempt], Awaitable[T]],
    *,
    classify: Callable[[Exception], Retry | None],
    policy: RetryPolicy,
    max_retries: int,
    label: str,
    describe: Callable[[Exception], str] = str,
    clock: Clock = SYSTEM_CLOCK,
    cooldown: Cooldown | None = None,
    settle: Callable[[Exception, Attempt], Awaitable[Found[T] | None]] | None = None,
    catch: tuple[type[Exception], ...] = (Exception,),
) -> T:
    """Call ``send`` until it returns, ``classify`` says no, or the tries run out.

    See the module's docstring for the contract of each argument. Before each try the loop
    waits out *cooldown*; *label* (``"GET https://..."``) and ``describe(error)`` make the
    retry's log line. Only the errors of *catch* are failures of the request, handed to
    ``classify``; anything else ``send`` raises goes straight through.

    Raises:
        Exception: The last error of ``send`` (or whatever ``settle`` raised).
    """
    total = max_retries + 1
    number = 0
    while True:
        if cooldown is not None:
            await cooldown.wait()
        number += 1
        attempt = Attempt(number, total)
        try:
            return await send(attempt)
        except catch as exc:
            error = exc
        verdict = classify(error)
        if verdict is None or (verdict.ambiguous and settle is None):
            _give_up(error, attempt)
        if verdict.rate_limited and cooldown is not None:
            asked = verdict.retry_after
            cooldown.extend(
                min(asked, policy.retry_after_max) if asked is not None else policy.wait_initial
            )
        if attempt.last:
            if verdict.ambiguous and settle is not None:
                found = await settle(error, attempt)
                if found is not None:
                    return found.value
            _give_up(error, attempt)
        seconds = _wait(policy, number, verdict.retry_after)
        logger.warning(
            "%s (attempt %d of %d): %s; retrying in %.3g s%s",
            label,
            number,
            total,
            describe(error),
            seconds,
            _why(seconds, verdict.retry_after),
        )
        await clock.sleep(seconds)
        if verdict.ambiguous and settle is not None:
            found = await settle(error, attempt)
            if found is not None:
                return found.value


def _give_up(error: Exception, attempt: Attempt) -> NoReturn:
    """Raise *error*, the last of the loop (outside any handler: nothing is chained to it)."""
    if isinstance(error, TengrAIError):
        error.attempts = attempt.number
    try:
        raise error
    finally:
        # Python 3.10 resumes a task woken by a failed future inside the handler of that
        # failure, so this raise would chain aiohttp's exception (the request, key and all)
        # as __context__ even here, outside any handler of ours.
        error.__context__ = None


def _wait(policy: RetryPolicy, attempt: int, asked: float | None) -> float:
    """The wait before the next try: the server's ask (capped), else the backoff."""
    if asked is not None:
        return min(asked, policy.retry_after_max)
    return policy.backoff(attempt)


def _why(seconds: float, asked: float | None) -> str:
    """Where a wait came from, when a ``Retry-After`` set it."""
    if asked is None:
        return ""
    if asked <= seconds:
        return ", as its Retry-After asked"
    return f", not the {asked:g} s its Retry-After asked (retry_after_max)"
