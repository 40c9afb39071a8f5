"""CPU time of ``iterate()`` in two checkouts, interleaved: did a change make the client slower?

Usage: ``python benchmarks/compare_trees.py OLD_TREE NEW_TREE [--count N] [--rounds R]
[--prefetch P ...]``, each tree a checkout of this repository (``git worktree add ../old REV``).
Each round runs one fresh process per tree, in alternating order, with the tree on
``PYTHONPATH`` and the fake server of that tree in a process of its own (latency 0, so the
client's CPU is all there is to measure); a process warms the server, then reports the least
CPU time of 3 listings of N artworks (``page_size=500``). The table gives the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

_CLIENT = r"""
import asyncio, sys, time
sys.path.insert(0, "benchmarks")
from _server import API_KEY, server_process
from tengrai_async import TengrAI

count, prefetch = int(sys.argv[1]), int(sys.argv[2])

async def listing(url):
    async with TengrAI(api_key=API_KEY, base_url=url, trust_env=False) as client:
        seen = 0
        async for _ in client.artworks.iterate(page_size=500, prefetch=prefetch):
            seen += 1
    if seen != count:
        raise SystemExit(f"saw {seen} artworks, not {count}")

with server_process(count=count) as url:
    asyncio.run(listing(url))
    times = []
    for _ in range(3):
        started = time.process_time()
        asyncio.run(listing(url))
        times.append(time.process_time() - started)
    print(min(times))
"""


def _cpu(tree: Path, count: int, prefetch: int) -> float:
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", _CLIENT, str(count), str(prefetch)],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/compare_trees.py", description=__doc__)
    parser.add_argument("old", type=Path, help="the checkout before the change")
    parser.add_argument("new", type=Path, help="the checkout after it")
    parser.add_argument("--count", type=int, default=100_000, help="artworks (default 100,000)")
    parser.add_argument("--rounds", type=int, default=9, help="rounds per prefetch (default 9)")
    parser.add_argument("--prefetch", type=int, action="append", help="repeatable (default 4)")
    args = parser.parse_args(argv)
    print(f"### iterate() over {args.count:,} artworks at 0 ms, CPU s, median of {args.rounds}")
    print()
    print("| prefetch | old | new | new / old | old, each round | new, each round |")
    print("|---:|---:|---:|---:|---|---|")
    for prefetch in args.prefetch or [4]:
        times: dict[str, list[float]] = {"old": [], "new": []}
        for round_ in range(args.rounds):
            order = ("old", "new") if round_ % 2 == 0 else ("new", "old")
            for side in order:
                tree = args.old if side == "old" else args.new
                times[side].append(_cpu(tree.resolve(), args.count, prefetch))
        old, new = statistics.median(times["old"]), statistics.median(times["new"])
        each = [" / ".join(f"{value:.2f}" for value in times[side]) for side in ("old", "new")]
        print(f"| {prefetch} | {old:.3f} | {new:.3f} | {new / old:.3f} | {each[0]} | {each[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
