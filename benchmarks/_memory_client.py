"""The client side of the memory benchmark, in a process of its own: RSS before and at peak.

Usage: ``python benchmarks/_memory_client.py URL COUNT PREFETCH``; prints one JSON line.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import resource
import sys
import threading
import time
from pathlib import Path

import orjson
import psutil

from tengrai_async import TengrAI

API_KEY = "test-key"
POLL_SECONDS = 0.005


class PeakPoller:
    """Samples the RSS every few milliseconds on a thread (ru_maxrss is the other witness)."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakPoller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _reset_peak() -> bool:
    """Reset the kernel's RSS high-water mark (VmHWM) to the current RSS (Linux >= 4.0)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
        return True
    return False


def _kernel_peak() -> int:
    """The RSS high-water mark: VmHWM where there is one, else ru_maxrss.

    ru_maxrss alone would not do on Linux: it survives execve, so a child started by a big
    parent reports the parent's peak.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


async def main(url: str, count: int, prefetch: int) -> dict[str, float]:
    process = psutil.Process()
    async with TengrAI(api_key=API_KEY, base_url=url) as client:
        # One page first, so the session, the converter and the connection exist before "before".
        page = await client.artworks.list(limit=1)
        assert len(page) == 1  # noqa: S101 - a sanity check of the setup
        del page
        gc.collect()
        before = process.memory_info().rss
        reset = _reset_peak()
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
        "peak_kernel": _kernel_peak(),
        "peak_reset": reset,
        "wall": wall,
        **checkpoints,
    }


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
