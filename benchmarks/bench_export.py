"""Table 4: ``tengrai-async export`` to JSONL and CSV against ``iterate()`` alone, same data.

Each figure is a whole fresh process, start-up included, timed from outside: the export command
and a script that only iterates, both over the same synthetic artworks in the same conditions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import attrs
from _server import API_KEY, server_process
from _stats import Target, format_rate, median, print_table

__all__ = ["run"]

ITERATE = Path(__file__).with_name("_iterate_client.py")


def _command() -> list[str]:
    """The installed ``tengrai-async`` script of this interpreter, else ``python -m``."""
    script = Path(sys.executable).with_name("tengrai-async")
    if script.exists():
        return [str(script)]
    found = shutil.which("tengrai-async")
    return [found] if found else [sys.executable, "-m", "tengrai_async"]


@attrs.frozen
class Contender:
    name: str
    argv: Sequence[str]
    output: Path | None = None
    lines: int = 0


def _timed(contender: Contender, env: dict[str, str]) -> float:
    if contender.output is not None:
        contender.output.unlink(missing_ok=True)
    started = time.perf_counter()
    completed = subprocess.run(  # noqa: S603 - our own commands
        list(contender.argv), env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        msg = f"{contender.name} exited {completed.returncode}: {completed.stderr[-2000:]}"
        raise RuntimeError(msg)
    if contender.output is not None:
        with contender.output.open("rb") as file:
            lines = sum(1 for _ in file)
        if lines != contender.lines:
            msg = f"{contender.name} wrote {lines} lines, expected {contender.lines}"
            raise AssertionError(msg)
    return elapsed


def _scenario(
    title: str, count: int, runs: int, base: Sequence[str], iterate_at: str, env: dict[str, str]
) -> tuple[list[tuple[object, ...]], float]:
    with tempfile.TemporaryDirectory(prefix="tengrai-bench-") as tmp:
        jsonl, csv = Path(tmp, "out.jsonl"), Path(tmp, "out.csv")
        contenders = [
            Contender(
                "iterate() alone",
                [sys.executable, str(ITERATE), iterate_at, str(count)],
            ),
            Contender(
                "export JSONL",
                [*_command(), "export", *base, "-o", str(jsonl), "--quiet"],
                jsonl,
                count,
            ),
            Contender(
                "export CSV",
                [*_command(), "export", *base, "-o", str(csv), "--format", "csv", "--quiet"],
                csv,
                count + 1,  # the header
            ),
        ]
        times: dict[str, list[float]] = {c.name: [] for c in contenders}
        for contender in contenders:  # one untimed run each: disk cache, .pyc files
            _timed(contender, env)
        for index in range(runs):
            order = contenders[index % 3 :] + contenders[: index % 3]
            for contender in order:
                times[contender.name].append(_timed(contender, env))
    baseline = times["iterate() alone"]
    rows: list[tuple[object, ...]] = []
    jsonl_ratio = 0.0
    for name, samples in times.items():
        # Medians of interleaved runs: the ratio is side by side, and checkable in the table.
        ratio = median(baseline) / median(samples)
        if name == "export JSONL":
            jsonl_ratio = ratio
        rows.append(
            (
                title,
                name,
                f"{count:,}",
                format_rate(count / median(samples)),
                f"{median(samples):.2f}",
                f"{ratio:.2f}",
            )
        )
    return rows, jsonl_ratio


def run(*, quick: bool) -> list[Target]:
    """Time the export and the iteration, interleaved, over the demo data and a warm server."""
    demo_count, warm_count, runs = (2_000, 5_000, 5) if quick else (20_000, 50_000, 5)
    env = dict(os.environ)
    env.pop("TENGRAI_BASE_URL", None)
    env.pop("TENGRAI_API_KEY", None)
    rows, t5 = _scenario(
        "--demo (in-process fake server)",
        demo_count,
        runs,
        ["--demo", str(demo_count)],
        "demo",
        env,
    )
    with server_process(count=warm_count, latency=0.0) as url:
        warm_env = {**env, "TENGRAI_API_KEY": API_KEY}
        warm_rows, warm_ratio = _scenario(
            "--base-url (warm server, own process)",
            warm_count,
            runs,
            ["--base-url", url],
            url,
            warm_env,
        )
    print_table(
        f"4. Export: whole processes timed from outside (start-up included), "
        f"page_size 500, prefetch 4, median of {runs} interleaved runs",
        ("server", "command", "artworks", "items/s", "wall s", "iterate / this"),
        rows + warm_rows,
    )
    print(
        "--demo generates each synthetic artwork in the exporting process, as the demo does; "
        "the --base-url rows serve already generated artworks from another process, so they "
        "show the export's own cost (conversion back to JSON/CSV, a flush, fsync and checkpoint "
        f"per page) undiluted. iterate / this for the warm server, JSONL: {warm_ratio:.2f}."
    )
    return [
        Target(
            "T5",
            "export --demo to JSONL >= 0.7x iterate() alone (same demo data, in-process server)",
            f"{t5:.2f} (warm server in its own process: {warm_ratio:.2f})",
            t5 >= 0.7,
        )
    ]
