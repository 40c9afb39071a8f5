"""The fake server's API faults: their options, the fixed schedule, the queue and the answers.

A fault turns a valid API answer into an error, a body cut short, a dropped connection or silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, Final, Literal, get_args

import attrs

from ._http import Answer, api_error

__all__ = [
    "DEFAULT_FAULTS",
    "FAULTS",
    "Fault",
    "FaultOptions",
    "FaultPlan",
    "FaultSchedule",
    "check_faults",
    "malformed",
]

#: A fault the server can give an API request (see :class:`FaultOptions` for what each does).
Fault = Literal["429", "500", "503", "malformed", "drop", "timeout", "401", "403", "404"]
#: Every :data:`Fault`.
FAULTS: Final[tuple[Fault, ...]] = get_args(Fault)
#: The default ``faults`` of ``fault_rate``: those a client should retry through, at once.
DEFAULT_FAULTS: Final[tuple[Fault, ...]] = ("429", "500", "503", "malformed", "drop")

#: ``fault_rate`` is read as a fraction with at most this denominator (0.2 is exactly 1/5).
_RATE_DENOMINATOR: Final = 1_000_000
#: The message of each HTTP fault's error body (a 404's depends on the route).
_FAULT_MESSAGES: Final[Mapping[str, str]] = {
    "401": "missing or invalid API key",
    "403": "Forbidden resource",  # NestJS's words for a guard's refusal
    "429": "rate limit exceeded",
    "500": "internal server error",
    "503": "service unavailable",
}


def check_faults(faults: Sequence[str]) -> None:
    """Refuse anything in *faults* that is not a :data:`Fault` (``ValueError``)."""
    unknown = sorted(set(faults) - set(FAULTS), key=repr)
    if unknown:
        msg = f"unknown faults {unknown}; the faults are {', '.join(FAULTS)}"
        raise ValueError(msg)


def _fault_tuple(faults: Sequence[Fault]) -> tuple[Fault, ...]:
    return tuple(faults)


def _check_rate(_: object, __: attrs.Attribute[float], rate: float) -> None:
    if not 0.0 <= rate <= 1.0:
        msg = f"fault_rate must be in 0..=1, got {rate!r}"
        raise ValueError(msg)


def _known_faults(
    options: FaultOptions, _: attrs.Attribute[Any], faults: tuple[Fault, ...]
) -> None:
    check_faults(faults)
    if options.fault_rate and not faults:
        msg = "a fault_rate needs at least one fault to draw"
        raise ValueError(msg)


def _check_timeout(_: object, __: attrs.Attribute[float], timeout: float) -> None:
    if not (math.isfinite(timeout) and timeout > 0):
        msg = f"fault_timeout must be a positive number of seconds, got {timeout!r}"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class FaultOptions:
    """Which valid API requests fail, and how (the ``fault_options=`` of :class:`FakeTengrAI`).

    Each field is also a keyword of :class:`FakeTengrAI` of the same name. A fault is one of
    :data:`FAULTS`: ``"429"`` (with ``Retry-After``), ``"500"``, ``"503"``, ``"401"`` (with
    ``WWW-Authenticate: Bearer``), ``"403"`` and ``"404"`` answer that status with the API's
    error body; ``"malformed"`` a 200 whose body is not JSON; ``"drop"`` a 200 whose connection
    is closed halfway through the body; ``"timeout"`` nothing: the request is held
    ``fault_timeout`` seconds, then its connection is closed unanswered. Faults apply to valid,
    authenticated requests (listings and found artworks by id); a request refused anyway does
    not use one up. :meth:`FakeTengrAI.queue_faults` gives the next requests faults of its own.

    Attributes:
        fault_rate: The share of those requests that get one of ``faults`` instead, on a fixed
            schedule: the n-th such request faults when ``ceil(n * fault_rate)`` goes up, so
            the first one faults, then one in every ``1 / fault_rate`` (with 0.2: the 1st,
            6th, 11th...), and after n requests exactly ``ceil(n * fault_rate)`` have. The
            faults take turns in the order of ``faults``. Requests answered from
            :meth:`FakeTengrAI.queue_faults` do not count. In 0..=1.
        faults: The faults ``fault_rate`` injects (default :data:`DEFAULT_FAULTS`), kept as a
            tuple; at least one when ``fault_rate`` is not 0.
        retry_after: The ``Retry-After`` seconds sent with a 429 (and with the 429 and 503 of
            images and creates).
        fault_seed: The order of the faults: 0 takes them in the order of ``faults``, round
            after round; another seed shuffles each round with ``random.Random(fault_seed)``,
            reproducibly. Which requests fault does not depend on it.
        fault_timeout: How long a ``"timeout"`` fault holds its request (after ``latency``)
            before closing the connection unanswered, in seconds (> 0, finite; default 5): a
            client whose timeout is shorter (:meth:`FakeTengrAI.client`'s is) sees a timeout.
            Closing the server ends every held request at once, so a test never waits longer
            than its client does.

    Raises:
        ValueError: A ``fault_rate`` outside 0..=1, an unknown fault, a ``fault_rate`` with no
            ``faults``, or a ``fault_timeout`` that is not a positive number of seconds.
    """

    fault_rate: float = attrs.field(default=0.0, validator=_check_rate)
    faults: tuple[Fault, ...] = attrs.field(
        default=DEFAULT_FAULTS, converter=_fault_tuple, validator=_known_faults
    )
    retry_after: int = 0
    fault_seed: int = 0
    fault_timeout: float = attrs.field(default=5.0, validator=_check_timeout)


class FaultSchedule:
    """Which requests fault at *rate*, by error diffusion (the faults must be known ones).

    After n requests exactly ``ceil(n * rate)`` faults, the first on the first request, the
    others evenly spread. The faults take turns, round after round, each round shuffled when a
    *seed* is given.
    """

    def __init__(self, rate: float, faults: Sequence[Fault], seed: int) -> None:
        self._rate = Fraction(rate).limit_denominator(_RATE_DENOMINATOR)
        self._faults = tuple(faults)
        self._shuffle = random.Random(seed) if seed else None
        self._requests = 0
        self._given = 0
        self._round: list[Fault] = []

    def next(self) -> Fault | None:
        """The fault of the next request, or ``None``."""
        if not self._rate:
            return None
        self._requests += 1
        due = math.ceil(self._requests * self._rate)
        if due == self._given:
            return None
        self._given = due  # one more, as the rate is at most 1
        if not self._round:
            self._round = list(self._faults)
            if self._shuffle is not None:
                self._shuffle.shuffle(self._round)
        return self._round.pop(0)


class FaultPlan:
    """The faults of one server: the queued ones first, then the schedule; and their answers.

    Callers hold the server's lock around :meth:`queue` and :meth:`draw`.
    """

    def __init__(self, options: FaultOptions) -> None:
        self.options = options
        self._schedule = FaultSchedule(options.fault_rate, options.faults, options.fault_seed)
        self._queued: list[Fault] = []
        # Set by release(), to end the requests a "timeout" fault holds.
        self._closing: asyncio.Event | None = None

    def queue(self, faults: Sequence[Fault]) -> None:
        """Give the next valid API requests these faults, in order."""
        check_faults(faults)
        self._queued.extend(faults)

    def draw(self) -> Fault | None:
        """The fault of a valid API request that arrives now, or ``None``."""
        if self._queued:
            return self._queued.pop(0)
        return self._schedule.next()

    def answer(self, fault: Fault, not_found: str) -> Answer | None:
        """The answer *fault* replaces the body with; ``None`` for faults that spoil a 200.

        *not_found* is the message of a ``"404"``, which depends on the route.
        """
        if fault == "timeout":
            return Answer(0, b"", fault=fault)
        if not fault.isdigit():
            return None
        headers = (
            {"Retry-After": str(self.options.retry_after)}
            if fault == "429"
            else {"WWW-Authenticate": "Bearer"}
            if fault == "401"
            else {}
        )
        message = _FAULT_MESSAGES.get(fault, not_found)
        return api_error(int(fault), message, fault=fault, headers=headers)

    def open(self) -> None:
        """Get ready to hold requests (as the server starts)."""
        self._closing = asyncio.Event()

    def release(self) -> None:
        """End every request a ``"timeout"`` fault holds, now (as the server closes)."""
        if self._closing is not None:
            self._closing.set()

    async def hold(self) -> None:
        """Wait out ``fault_timeout``, or until :meth:`release`: a ``"timeout"`` fault."""
        closing = self._closing
        if closing is None:  # pragma: no cover - requests come only while running
            return
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await asyncio.wait_for(closing.wait(), self.options.fault_timeout)


def malformed(body: bytes) -> bytes:
    """*body* spoiled: a strict prefix of a JSON array or object never closes it, so never JSON."""
    return body[: len(body) // 2]
