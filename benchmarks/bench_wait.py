"""Table 9: waiting at scale. Shared polls against independent pollers; webhook deliveries.

9a. 1,000 jobs that end over a minute of fake time on the fake server (in its own process):
1,000 concurrent ``wait()`` calls on one client against 1,000 independent pollers with the
same schedule on one client; the requests each made (counted by the server) and each
waiter's lag behind its job's end. Both processes run on a :class:`ScaledClock` from one
epoch, :data:`SPEED` times faster than real time, so the minute takes seconds.
9b. Webhook deliveries POSTed to an app with ``setup_webhooks()`` (in its own process): from
a delivery sent to its ``wait()`` returning, and deliveries per second the handler sustains.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
import types
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import orjson
from _line_process import line_process
from _scaled_clock import ScaledClock
from _server import API_KEY
from _stats import Target, format_rate, median, print_table
from _webhook_bench import POOL, deliveries

from tengrai_async import Artwork, TengrAI
from tengrai_async._sansio import FINAL_STATUSES, poll_delays

__all__ = ["run"]

#: How much faster than real time both processes' clocks run (the README says why 2).
SPEED = 2.0
#: The jobs' ends are spread evenly over a minute (of fake time), after LEAD fake seconds.
LEAD = 2.0
#: The poll interval of every wait and poller: wait()'s default.
POLL_INTERVAL = 1.0
#: Artworks older than the jobs in the listing: an account's history.
HISTORY = 500
#: The target: shared polls make at most this share of the independent pollers' requests.
MAX_SHARE = 0.05


@attrs.frozen
class PollRun:
    """One run of 9a: the requests the server counted, and per job its lag and interval."""

    listing: int
    by_id: int
    server_cpu: float  # the server process's CPU seconds over the waits
    wall: float  # real seconds of the waits
    lags: list[float]  # fake seconds from each job's end to its wait's return
    intervals: list[float]  # the pause its schedule was in when its job ended (fake s)
    requests: list[float]  # each request's time to its answer's headers (real s)
    rounds: list[float]  # each shared round's duration (fake s); none for the pollers

    @property
    def total(self) -> int:
        return self.listing + self.by_id

    @property
    def worst_excess(self) -> float:
        """The most any waiter's lag exceeded its interval (fake s)."""
        return max(lag - d for lag, d in zip(self.lags, self.intervals, strict=True))


def _interval(polls_before: int) -> float:
    """The pause a wait()'s schedule is in after its *polls_before*-th poll."""
    delays = poll_delays(POLL_INTERVAL)
    delay = POLL_INTERVAL
    for _ in range(max(1, polls_before)):
        delay = next(delays)
    return delay


def _tracing(log: list[float]) -> aiohttp.TraceConfig:
    """A trace that logs each request's time to its answer's headers, in real seconds."""

    async def start(_: Any, context: types.SimpleNamespace, __: Any) -> None:
        context.start = time.perf_counter()

    async def end(_: Any, context: types.SimpleNamespace, __: Any) -> None:
        log.append(time.perf_counter() - context.start)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(start)
    trace.on_request_end.append(end)
    return trace


Waiter = Callable[[TengrAI, Artwork, ScaledClock], Awaitable[int]]


async def shared_wait(client: TengrAI, job: Artwork, _: ScaledClock) -> int:
    """``wait()``; return the polls that saw the job still running."""
    polls = 0

    def count(_: Artwork) -> None:
        nonlocal polls
        polls += 1

    await client.artworks.wait(job, poll_interval=POLL_INTERVAL, timeout=600, on_poll=count)
    return polls - 1


async def own_poller(client: TengrAI, job: Artwork, clock: ScaledClock) -> int:
    """What a poller of its own does (and ``wait()`` did before shared polls): GET, then
    sleep the same schedule (the interval, growing by half up to 10 s), until final."""
    delays = poll_delays(POLL_INTERVAL)
    polls = 0
    while True:
        artwork = await client.artworks.get(job.id)  # type: ignore[arg-type] # a UUID
        if artwork.status in FINAL_STATUSES:
            return polls
        polls += 1
        await clock.sleep(next(delays))


@attrs.frozen
class Scale:
    """How big a run of 9a is: jobs, the fake seconds their ends spread over, the speed-up."""

    jobs: int
    spread: float
    speed: float


FULL = Scale(jobs=1_000, spread=60.0, speed=SPEED)
QUICK = Scale(jobs=100, spread=10.0, speed=4.0)


def _time_rounds(client: TengrAI, clock: ScaledClock, spans: list[float]) -> None:
    """Log how long each shared round of *client* takes (fake s), by wrapping its method.

    Instrumentation only, of a private method: the rounds' own time is what a waiter may
    wait on top of its interval, so the target allows for it.
    """
    polls = client.artworks._polls  # noqa: SLF001 - measured, not changed
    run_round = polls._round  # noqa: SLF001

    async def timed(due: list[Any]) -> None:
        started = clock.monotonic()
        try:
            await run_round(due)
        finally:
            spans.append(clock.monotonic() - started)

    polls._round = timed  # type: ignore[method-assign] # noqa: SLF001


async def _poll_run(scale: Scale, waiter: Waiter) -> PollRun:
    n = scale.jobs
    clock = ScaledClock(time.monotonic(), scale.speed)
    requests: list[float] = []
    rounds: list[float] = []
    with line_process("_wait_server.py", clock.epoch, clock.speed, HISTORY) as server:
        seconds = [LEAD + scale.spread * (i + 1) / n for i in range(n)]
        ends = {job["id"]: job["ends"] for job in
                server.command("jobs " + orjson.dumps(seconds).decode())}  # fmt: skip
        async with (
            aiohttp.ClientSession(trace_configs=[_tracing(requests)]) as session,
            TengrAI(API_KEY, base_url=server.url, session=session, clock=clock) as client,
        ):
            # What create_*() would have returned: the artworks, createdAt included.
            jobs: list[Artwork] = []
            for offset in range(0, n, 500):
                page = await client.artworks.list(offset=offset, limit=500)
                jobs.extend(artwork for artwork in page.items if str(artwork.id) in ends)
            server.command("count")  # from here on
            requests.clear()
            _time_rounds(client, clock, rounds)

            async def one(job: Artwork) -> tuple[float, int]:
                polls = await waiter(client, job, clock)
                return clock.monotonic(), polls

            done = await asyncio.gather(*(one(job) for job in jobs))
            counts = server.command("count")
    return PollRun(
        listing=int(counts["listing"]),
        by_id=int(counts["by_id"]),
        server_cpu=float(counts["cpu"]),
        wall=float(counts["wall"]),
        lags=[at - ends[str(job.id)] for (at, _), job in zip(done, jobs, strict=True)],
        intervals=[_interval(polls) for _, polls in done],
        requests=requests,
        rounds=rounds,
    )


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


COLUMNS = (
    "waits",
    "requests",
    "listing",
    "by id",
    "share",
    "lag median s",
    "lag p99 s",
    "lag max s",
    "worst lag - interval s",
    "request median ms",
    "request p99 ms",
    "server CPU",
)


def _polls_table(scale: Scale, shared: PollRun, alone: PollRun) -> list[Target]:
    n = scale.jobs
    share = shared.total / alone.total
    rows = [
        (
            name,
            f"{r.total:,}",
            f"{r.listing:,}",
            f"{r.by_id:,}",
            f"{r.total / alone.total:.2%}",
            f"{median(r.lags):.2f}",
            f"{_quantile(r.lags, 0.99):.2f}",
            f"{max(r.lags):.2f}",
            f"{r.worst_excess:+.2f}",
            f"{median(r.requests) * 1000:.1f}",
            f"{_quantile(r.requests, 0.99) * 1000:.0f}",
            f"{r.server_cpu / r.wall:.0%}",
        )
        for name, r in (("independent pollers", alone), ("wait(), shared", shared))
    ]
    print_table(
        f"9a. {n:,} jobs ending over {scale.spread:g} fake seconds, {n:,} concurrent waits on "
        f"one client, poll_interval={POLL_INTERVAL:g} s; clocks {scale.speed:g}x real time, "
        "server in its own process (lags in fake seconds)",
        COLUMNS,
        rows,
    )
    longest = max(shared.rounds, default=0.0)
    allowance = 2 * longest
    excess = shared.worst_excess
    print(
        f"The interval: the pause each waiter's own schedule ({POLL_INTERVAL:g} s, growing by "
        f"half to 10 s) was in when its job ended. Requests: time to the answer's headers "
        f"(real ms), the client's pool queue included. Shared: {len(shared.rounds)} rounds, "
        f"the longest {longest:.3f} fake s ({longest / scale.speed * 1000:.0f} ms real). "
        "Server CPU: the share of one core the server process used.",
        flush=True,
    )
    return [
        Target(
            f"9a requests: {n:,} shared waits / {n:,} independent pollers",
            f"<= {MAX_SHARE:.0%}",
            f"{shared.total:,} / {alone.total:,} = {share:.2%}",
            share <= MAX_SHARE,
        ),
        Target(
            "9a every shared wait back within its poll interval of its job's end, "
            "plus the two rounds around that end",
            f"lag - interval <= 2 x longest round = {allowance:.2f} fake s",
            f"worst {excess:+.2f} fake s ({excess / scale.speed * 1000:+.0f} ms real)",
            excess <= allowance,
        ),
    ]


def _webhook_tables(*, quick: bool) -> None:
    latency_n, burst_n, runs = (20, 200, 1) if quick else (200, 2_000, 6)
    measured = deliveries(latency_n=latency_n, burst_n=burst_n, runs=runs, history=HISTORY)
    ms = [latency * 1000 for latency in measured.latencies]
    print_table(
        f"9b. Webhook delivery to wait() returning: {latency_n} deliveries one at a time to a "
        "backend with setup() + setup_webhooks() in its own process (ms)",
        ("deliveries", "median ms", "p99 ms", "max ms"),
        [(latency_n, f"{median(ms):.2f}", f"{_quantile(ms, 0.99):.2f}", f"{max(ms):.2f}")],
    )
    bare = median(measured.bare_rates)

    def row(name: str, rates: list[float]) -> tuple[str, str, str]:
        return name, format_rate(median(rates)), f"{median(rates) / bare:.2f}x"

    print_table(
        f"9c. Deliveries per second: {burst_n:,} distinct final artworks POSTed at once "
        f"through an aiohttp pool of {POOL} connections, one wait() each (median of {runs})",
        ("handler", "deliveries/s", "vs bare"),
        [
            row("bare aiohttp handler: reads the JSON, answers 200", measured.bare_rates),
            row("setup_webhooks(): every delivery answered 200", measured.rates),
            row("setup_webhooks(): until the last wait() returned", measured.woken_rates),
            row("the same deliveries again (remembered: no call)", measured.repeat_rates),
        ],
    )


def run(*, quick: bool = False) -> list[Target]:
    scale = QUICK if quick else FULL
    shared = asyncio.run(_poll_run(scale, shared_wait))
    alone = asyncio.run(_poll_run(scale, own_poller))
    targets = _polls_table(scale, shared, alone)
    _webhook_tables(quick=quick)
    return targets


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
