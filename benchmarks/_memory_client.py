"""The client side of the memory benchmark, in a process of its own: RSS before and at peak.

Usage: ``python benchmarks/_memory_client.py URL COUNT PREFETCH``; prints one JSON line.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time

import orjson
import psutil
from _rss import PeakPoller, kernel_peak, reset_peak

from tengrai_async import TengrAI

API_KEY = "test-key"


async def main(url: str, count: int, prefetch: int) -> dict[str, float]:
    process = psutil.Process()
    async with TengrAI(api_key=API_KEY, base_url=url) as client:
        # One page first, so the session, the converter and the connection exist before "before".
        page = await client.artworks.list(limit=1)
        assert len(page) == 1  # noqa: S101 - a sanity check of the setup
        del page
        gc.collect()
        before = process.memory_info().rss
        reset = reset_peak()
        checkpoints: dict[str, float] = {}
        items = 0
        started = time.perf_counter()
        with PeakPoller() as poller:
            async for _artwork in client.artworks.iterate(page_size=500, prefetch=prefetch):
                items += 1
                if items in (count // 10, count // 2):
                    checkpoints[f"rss_at_{items}"] = process.memory_info().rss
        wall = time.perf_counter() - started
        after = process.memory_info().rss
    return {
        "items": items,
        "before": before,
        "after": after,
        "peak_polled": poller.peak,
        "peak_kernel": kernel_peak(),
        "peak_reset": reset,
        "wall": wall,
        **checkpoints,
    }


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
