"""Run the benchmarks and print their tables: ``python benchmarks/run.py [--quick] [--only ...]``.

1 structuring, 2 pagination, 3 memory, 4 export, 5 raw (memory held by structured artworks;
with ``--against PYTHON``, speed against another install), 6 archive, 7 create, 8 gallery,
9 wait (shared polls against independent pollers, webhook deliveries); each target of the
README ends as PASS or FAIL.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable, Sequence

import bench_archive
import bench_create
import bench_export
import bench_gallery
import bench_memory
import bench_pagination
import bench_raw
import bench_structuring
import bench_wait
from _stats import LoadMeter, Target, machine_info, print_table

BENCHMARKS: dict[str, Callable[..., list[Target]]] = {
    "structuring": bench_structuring.run,
    "pagination": bench_pagination.run,
    "memory": bench_memory.run,
    "export": bench_export.run,
    "raw": bench_raw.run,
    "archive": bench_archive.run,
    "create": bench_create.run,
    "gallery": bench_gallery.run,
    "wait": bench_wait.run,
}


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python benchmarks/run.py", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: a smoke check in under a minute"
    )
    parser.add_argument(
        "--only",
        choices=list(BENCHMARKS),
        action="append",
        help="run only this benchmark (repeatable; default: all of them)",
    )
    parser.add_argument(
        "--against",
        metavar="PYTHON",
        help="raw: also time a page with this interpreter's tengrai_async (another venv)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    args = _parse(argv)
    print(
        "## tengrai-async benchmarks"
        + (" (--quick: smoke sizes, not figures)" if args.quick else "")
    )
    print()
    for line in machine_info(argv):
        print(f"- {line}")
    targets: list[Target] = []
    started = time.perf_counter()
    for name in args.only or list(BENCHMARKS):
        bench = BENCHMARKS[name]
        if name == "raw":
            bench = functools.partial(bench_raw.run, against=args.against)
        with LoadMeter() as load:
            targets.extend(bench(quick=args.quick))
        print(load.describe(), flush=True)
    if targets:
        print_table(
            "Targets"
            + (
                " (--quick sizes are too small for the verdicts to mean anything)"
                if args.quick
                else ""
            ),
            ("target", "wants", "measured", "verdict"),
            [(t.name, t.wants, t.measured, t.verdict) for t in targets],
        )
    print(f"Total time: {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
