"""Table 3: peak RSS growth of a client streaming a long listing with ``iterate()``.

The client runs in its own process (so the figure is the SDK's alone) and the server in another.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
from _server import server_process
from _stats import Target, median, print_table

__all__ = ["run"]

CLIENT = Path(__file__).with_name("_memory_client.py")
PREFETCH = 8
MIB = 1024 * 1024


def _client(url: str, count: int) -> dict[str, float]:
    output = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(CLIENT), url, str(count), str(PREFETCH)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = orjson.loads(output)
    if result["items"] != count:
        msg = f"the memory client saw {result['items']} of {count} artworks"
        raise AssertionError(msg)
    return result


def run(*, quick: bool) -> list[Target]:
    """Stream *count* artworks once per run; print the growth of the peak over the start."""
    count, runs = (20_000, 3) if quick else (1_000_000, 1)
    results = []
    with server_process(count=count, latency=0.0) as url:
        results = [_client(url, count) for _ in range(runs)]
    rows = []
    growths = []
    for index, result in enumerate(results, 1):
        peak = max(result["peak_polled"], result["peak_kernel"])
        growth = (peak - result["before"]) / MIB
        growths.append(growth)
        marks = [
            f"{result[key] / MIB:.1f}"
            for key in (f"rss_at_{count // 10}", f"rss_at_{count // 2}")
            if key in result
        ]
        rows.append(
            (
                index,
                f"{count:,}",
                f"{result['before'] / MIB:.1f}",
                " / ".join([*marks, f"{result['after'] / MIB:.1f}"]),
                f"{peak / MIB:.1f}",
                f"{growth:.1f}",
                f"{result['wall']:.1f}",
            )
        )
    growth = median(growths)
    note = "one run (it takes minutes)" if runs == 1 else f"median of {runs} runs"
    print_table(
        f"3. Memory: iterate(page_size=500, prefetch={PREFETCH}) over {count:,} artworks, "
        f"client and server in separate processes, {note}",
        (
            "run",
            "artworks",
            "RSS before MiB",
            "RSS at 10% / 50% / end MiB",
            "peak RSS MiB",
            "peak growth MiB",
            "wall s",
        ),
        rows,
    )
    print(
        "RSS before: after the client, its session and one request exist. Peak: the larger of "
        "a 5 ms psutil poll and the kernel's high-water mark (VmHWM, reset at the start of "
        "the loop through /proc/self/clear_refs). The iterator keeps the ids of the last 100,000 "
        "artworks (dedupe_window) by default; that set is part of the figure. The wall time is "
        "bounded by the fake server, which generates every artwork on first request."
    )
    return [
        Target(
            "T4",
            f"memory: peak RSS growth streaming {count:,} artworks <= 64 MB",
            f"{growth:.1f} MiB",
            growth <= 64,
        )
    ]
