"""Table 7: creates. 1,000 ``create_quantum`` calls, 8 at a time, against a plain aiohttp loop.

The fake server runs in its own process; the plain loop POSTs the same JSON bodies, 8 at a
time, and only decodes the answers. Then the look-up's cost: a create whose first answer is
a 504 after the job was made (found by the look-up), or before it (looked up, then sent
again), beside a clean one, with no and with 1,000 jobs made in the last minutes before it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import yarl
from _server import API_KEY, server_process
from _stats import Target, format_rate, median, print_table

from tengrai_async import RetryPolicy, TengrAI
from tengrai_async.testing import FakeTengrAI

__all__ = ["run"]

CONCURRENCY = 8


def arguments(n: int) -> list[dict[str, Any]]:
    """The create arguments, and through them the bodies, of *n* distinct jobs."""
    return [
        {"prompt": f"a red fox, take {i}", "aspect_ratio": "16:9", "seed": i + 1} for i in range(n)
    ]


def wire(argument: dict[str, Any]) -> dict[str, Any]:
    return {"prompt": argument["prompt"], "aspectRatio": "16:9", "seed": argument["seed"]}


async def _bounded(calls: list[Callable[[], Awaitable[None]]]) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(one(call) for call in calls))
    return time.perf_counter() - started


async def sdk(base: str, batch: list[dict[str, Any]]) -> float:
    async with TengrAI(API_KEY, base_url=base, trust_env=False) as client:
        await client.artworks.list(limit=1)  # the session open, as the plain loop's is

        def call(argument: dict[str, Any]) -> Callable[[], Awaitable[None]]:
            async def create() -> None:
                await client.artworks.create_quantum(**argument)

            return create

        return await _bounded([call(argument) for argument in batch])


async def plain(base: str, batch: list[dict[str, Any]]) -> float:
    url = yarl.URL(base) / "v2" / "artworks" / "quantum"
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        async with session.get(yarl.URL(base) / "v2" / "artworks", headers=headers) as warm:
            await warm.read()

        def call(argument: dict[str, Any]) -> Callable[[], Awaitable[None]]:
            async def create() -> None:
                payload = orjson.dumps(wire(argument))
                async with session.post(url, data=payload, headers=headers) as response:
                    orjson.loads(await response.read())
                    assert response.status == 202  # noqa: S101

            return create

        return await _bounded([call(argument) for argument in batch])


async def _look_up_cost(fault: str | None, recent: int, runs: int) -> tuple[float, float]:
    """Median seconds of one create and its request count, after *recent* newer jobs."""
    times: list[float] = []
    requests = 0
    async with FakeTengrAI() as server:
        async with server.client(retry=RetryPolicy.instant()) as client:
            for argument in arguments(recent):
                await client.artworks.create_hamilton(prompt=argument["prompt"])
        for run in range(runs):
            # Another client each time: the recent jobs are not its own.
            async with server.client(retry=RetryPolicy.instant()) as client:
                await client.artworks.list(limit=1)
                before = len(server.requests)
                if fault is not None:
                    server.queue_create_faults(fault)  # type: ignore[arg-type]
                started = time.perf_counter()
                await client.artworks.create_quantum(prompt=f"the measured one {run}")
                times.append(time.perf_counter() - started)
                requests = len(server.requests) - before
    return median(times), requests


def run(*, quick: bool = False) -> list[Target]:
    creates = 100 if quick else 1_000
    runs = 2 if quick else 5
    batch = arguments(creates)
    sdk_times: list[float] = []
    plain_times: list[float] = []
    with server_process(count=0) as base:
        for _ in range(runs):  # side by side, alternating
            sdk_times.append(asyncio.run(sdk(base, batch)))
            plain_times.append(asyncio.run(plain(base, batch)))
    sdk_rate, plain_rate = creates / median(sdk_times), creates / median(plain_times)
    ratio = sdk_rate / plain_rate
    print_table(
        f"7a. {creates:,} creates, {CONCURRENCY} at a time, server in its own process "
        f"(median of {runs}; `python benchmarks/run.py --only create`)",
        ("client", "creates/s", "median s", "vs plain"),
        [
            (
                "plain aiohttp + orjson",
                format_rate(plain_rate),
                f"{median(plain_times):.3f}",
                "1.00x",
            ),
            (
                "create_quantum()",
                format_rate(sdk_rate),
                f"{median(sdk_times):.3f}",
                f"{ratio:.2f}x",
            ),
        ],
    )
    rows = []
    recents = (0, 100) if quick else (0, 1_000)
    clean: dict[int, float] = {}
    for recent in recents:
        for fault, what in ((None, "clean 202"), ("accept-504", "504, job made: found"),
                            ("504", "504, no job: looked up, sent again")):  # fmt: skip
            seconds, requests = asyncio.run(_look_up_cost(fault, recent, runs * 3))
            if fault is None:
                clean[recent] = seconds
            added = seconds - clean[recent]
            rows.append(
                (what, f"{recent:,}", requests, f"{seconds * 1000:.2f}", f"{added * 1000:+.2f}")
            )
    print_table(
        "7b. One create after an ambiguous failure: requests and time (in-process server, "
        "instant retries; `recent` = jobs of other clients made in the last 5 minutes)",
        ("first answer", "recent", "requests", "median ms", "added ms"),
        rows,
    )
    return [
        Target(
            "7a creates vs a plain aiohttp loop",
            ">= 0.9x",
            f"{ratio:.2f}x",
            ratio >= 0.9,
        )
    ]


if __name__ == "__main__":
    run()
