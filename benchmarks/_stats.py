"""Shared pieces of the benchmarks: medians, Markdown tables, targets, the machine's description.

Every figure is a median of several runs; every ratio is taken between runs made side by side.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterable, Sequence

import attrs

__all__ = ["LoadMeter", "Target", "format_rate", "machine_info", "median", "print_table"]


def median(values: Iterable[float]) -> float:
    """The median of *values* (at least one)."""
    return statistics.median(list(values))


def format_rate(items_per_second: float) -> str:
    """Items per second with a thousands separator, no decimals."""
    return f"{items_per_second:,.0f}"


def print_table(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print a Markdown table under a ``###`` title, numbers right-aligned."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(header[i]), *(len(row[i]) for row in cells)]) for i in range(len(header))]
    numeric = [all(_is_number(row[i]) for row in cells) for i in range(len(header))]

    def line(values: Sequence[str]) -> str:
        padded = (
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (width + 1) + (":" if right else "-")
            for width, right in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    print(f"\n### {title}\n")
    print(line(header))
    print(rule)
    for row in cells:
        print(line(row))
    print(flush=True)


def _is_number(text: str) -> bool:
    stripped = text.replace(",", "").replace("x", "").replace("%", "").strip()
    try:
        float(stripped)
    except ValueError:
        return False
    return True


@attrs.frozen
class Target:
    """A target of the README: its name, what it asks, what was measured and whether it holds."""

    name: str
    wants: str
    measured: str
    passed: bool

    @property
    def verdict(self) -> str:
        """PASS or FAIL."""
        return "PASS" if self.passed else "FAIL"


class LoadMeter:
    """How many cores *other* processes kept busy while a table ran: its figures' noise.

    The machine's busy time (``/proc/stat``) less this process's CPU time and that of its
    finished children (the servers and clients it started), over the wall time.
    """

    def __init__(self) -> None:
        self.other_cores: float | None = None

    def __enter__(self) -> LoadMeter:
        self._busy = _machine_busy_seconds()
        self._ours = _our_cpu_seconds()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        busy = _machine_busy_seconds()
        if busy is None or self._busy is None:
            return
        ours = _our_cpu_seconds() - self._ours
        wall = time.perf_counter() - self._started
        self.other_cores = max(0.0, (busy - self._busy - ours) / wall)

    def describe(self) -> str:
        """One line for the table's notes."""
        if self.other_cores is None:
            return "Other processes' load: unknown (no /proc/stat)."
        warning = " (noisy: figures may be low)" if self.other_cores > 0.2 else ""
        return (
            f"Other processes kept {self.other_cores:.2f} of {os.cpu_count()} cores busy on "
            f"average during this table{warning}."
        )


def _machine_busy_seconds() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as stat:  # noqa: PTH123 - one read
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    # guest times are already counted in user and nice: only the first eight fields add up.
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _our_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_info(argv: Sequence[str]) -> list[str]:
    """Lines describing the command, the interpreter, the machine and the libraries measured."""
    libraries = ("tengrai-async", "aiohttp", "attrs", "cattrs", "orjson", "pydantic", "msgspec")
    python = f"{platform.python_implementation()} {platform.python_version()}"
    machine = f"{platform.system()} {platform.release()} {platform.machine()}"
    return [
        f"command: python benchmarks/run.py {' '.join(argv)}".rstrip(),
        f"python: {python} ({sys.executable})",
        f"machine: {machine}, {os.cpu_count()} CPUs ({_cpu_model()})",
        "libraries: " + ", ".join(f"{name} {_version(name)}" for name in libraries),
    ]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:  # noqa: PTH123 - one read
            for text in info:
                if text.startswith("model name"):
                    return text.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
