"""Table 2: iterate() over a whole listing against a raw aiohttp + orjson loop, same prefetch.

The fake server runs in its own process. The raw loop keeps the same ordered window of requests
in flight but validates nothing, so SDK/raw is what validation and the SDK's machinery cost.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import orjson
import yarl
from _server import API_KEY, server_process
from _stats import Target, format_rate, median, print_table

from tengrai_async import TengrAI

__all__ = ["run"]

PAGE_SIZE = 500
PREFETCHES = (1, 4, 8, 16)


@attrs.frozen
class Config:
    count: int
    latency: float
    runs: int


@attrs.frozen
class Measure:
    wall: float
    cpu: float
    items: int


async def raw_items(
    session: aiohttp.ClientSession, base: yarl.URL, *, page_size: int, prefetch: int
) -> AsyncIterator[Any]:
    """The SDK's window logic with nothing else: keep *prefetch* GETs in flight, yield in order."""
    endpoint = base / "v2" / "artworks"
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"}

    async def fetch(offset: int) -> list[Any]:
        url = endpoint.with_query(offset=offset, limit=page_size)
        async with session.get(url, headers=headers) as response:
            response.raise_for_status()
            data: list[Any] = orjson.loads(await response.read())
            return data

    windows: collections.deque[asyncio.Task[list[Any]]] = collections.deque()
    next_offset = 0
    try:
        while True:
            while len(windows) < prefetch:
                windows.append(asyncio.ensure_future(fetch(next_offset)))
                next_offset += page_size
            data = await windows.popleft()
            for item in data:
                yield item
            if len(data) < page_size:
                return
    finally:
        for task in windows:
            task.cancel()
        await asyncio.gather(*windows, return_exceptions=True)


async def _measure(items: Callable[[], AsyncIterator[Any]]) -> Measure:
    gc.collect()
    cpu = time.process_time()
    started = time.perf_counter()
    count = 0
    async for _ in items():
        count += 1
    return Measure(time.perf_counter() - started, time.process_time() - cpu, count)


async def _config(url: str, config: Config) -> dict[int, tuple[list[Measure], list[Measure]]]:
    base = yarl.URL(url)
    results: dict[int, tuple[list[Measure], list[Measure]]] = {}
    async with (
        TengrAI(api_key=API_KEY, base_url=base) as client,
        aiohttp.ClientSession() as session,
    ):

        def sdk(prefetch: int) -> Callable[[], AsyncIterator[Any]]:
            return lambda: client.artworks.iterate(page_size=PAGE_SIZE, prefetch=prefetch)

        def raw(prefetch: int) -> Callable[[], AsyncIterator[Any]]:
            return lambda: raw_items(session, base, page_size=PAGE_SIZE, prefetch=prefetch)

        # One untimed pass fills the server's cache of serialized items and both connection pools.
        await _measure(raw(max(PREFETCHES)))
        await _measure(sdk(max(PREFETCHES)))
        for prefetch in PREFETCHES:
            sdk_runs: list[Measure] = []
            raw_runs: list[Measure] = []
            for index in range(config.runs):
                pair: list[tuple[list[Measure], Callable[[], Awaitable[Measure]]]] = [
                    (sdk_runs, lambda p=prefetch: _measure(sdk(p))),
                    (raw_runs, lambda p=prefetch: _measure(raw(p))),
                ]
                for runs, measure in pair if index % 2 == 0 else reversed(pair):
                    result = await measure()
                    if result.items != config.count:
                        msg = f"expected {config.count} items, got {result.items}"
                        raise AssertionError(msg)
                    runs.append(result)
            results[prefetch] = (sdk_runs, raw_runs)
    return results


def run(*, quick: bool) -> list[Target]:
    """Run every configuration against its own server process; print the table."""
    if quick:
        configs = [Config(5_000, 0.0, 5), Config(5_000, 0.02, 5), Config(2_000, 0.1, 5)]
    else:
        configs = [Config(100_000, 0.0, 5), Config(100_000, 0.02, 5), Config(20_000, 0.1, 5)]
    rows = []
    sdk_rate: dict[tuple[float, int], float] = {}
    sdk_to_raw: dict[tuple[float, int], float] = {}
    started = time.perf_counter()
    for config in configs:
        with server_process(count=config.count, latency=config.latency) as url:
            results = asyncio.run(_config(url, config))
        pages = config.count // PAGE_SIZE + 1  # the last, short (here empty) page ends the list
        for prefetch, (sdk_runs, raw_runs) in results.items():
            wall = median(m.wall for m in sdk_runs)
            cpu = median(m.cpu for m in sdk_runs)
            raw_wall = median(m.wall for m in raw_runs)
            ideal = max(pages * config.latency / prefetch, cpu)
            ratio = raw_wall / wall  # SDK items/s over raw items/s, runs interleaved
            key = (config.latency, prefetch)
            sdk_rate[key] = config.count / wall
            sdk_to_raw[key] = ratio
            rows.append(
                (
                    f"{config.latency * 1000:.0f}",
                    f"{config.count:,}",
                    prefetch,
                    format_rate(config.count / wall),
                    format_rate(config.count / raw_wall),
                    f"{ratio:.2f}",
                    f"{wall:.2f}",
                    f"{cpu:.2f}",
                    f"{ideal:.2f}",
                    f"{ideal / wall:.2f}",
                )
            )
    runs = configs[0].runs
    print_table(
        f"2. Pagination: iterate(page_size={PAGE_SIZE}, prefetch=p) vs raw aiohttp + orjson, "
        f"server in its own process, median of {runs} runs each",
        (
            "latency ms",
            "artworks",
            "prefetch",
            "SDK items/s",
            "raw items/s",
            "SDK/raw",
            "SDK wall s",
            "SDK CPU s",
            "ideal s",
            "ideal/actual",
        ),
        rows,
    )
    print(
        "ideal = max(pages x latency / prefetch, the client's CPU time for the run); "
        "SDK and raw runs alternate, so each ratio is taken side by side. "
        f"Table time: {time.perf_counter() - started:.0f} s."
    )
    t2 = sdk_to_raw[(0.02, 8)]
    t3 = sdk_rate[(0.1, 8)] / sdk_rate[(0.1, 1)]
    return [
        Target("T2", "pagination at 20 ms, prefetch 8: SDK/raw >= 0.7", f"{t2:.2f}", t2 >= 0.7),
        Target(
            "T3",
            "pagination at 100 ms: prefetch 8 / prefetch 1 speedup >= 6x",
            f"{t3:.2f}x",
            t3 >= 6,
        ),
    ]
