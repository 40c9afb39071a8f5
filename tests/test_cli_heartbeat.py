"""A long run shows life off a terminal: a progress line on stderr about every 10 s.

Time comes from a FakeClock; the runs are real, against the fake API over loopback.
"""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

from tengrai_async.cli._archive import ArchiveOptions, archive
from tengrai_async.cli._export import export
from tengrai_async.cli._export_plan import ExportOptions, plan
from tengrai_async.cli._heartbeat import INTERVAL, heartbeat
from tengrai_async.testing import FakeClock, FakeTengrAI


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_a_line_every_ten_seconds_never_sooner_and_none_once_done() -> None:
    clock = FakeClock(auto_advance=False)
    out = io.StringIO()
    async with heartbeat(out, lambda seconds: f"at {seconds:.1f}", enabled=True, clock=clock):
        for _ in range(3):
            await asyncio.sleep(0)  # the beat goes to sleep on the clock
        await clock.advance(9.9)
        assert out.getvalue() == ""
        await clock.advance(0.1)
        assert out.getvalue() == "at 10.0\n"
        await clock.advance(25)
        assert out.getvalue().splitlines() == ["at 10.0", "at 20.0", "at 30.0"]
    await clock.advance(60)
    assert len(out.getvalue().splitlines()) == 3
    assert clock.sleeps == [INTERVAL] * 4  # the fourth, cut short when the block ended


async def test_disabled_it_writes_nothing_and_never_sleeps() -> None:
    clock = FakeClock()
    out = io.StringIO()
    async with heartbeat(out, lambda _: "never", enabled=False, clock=clock):
        await clock.sleep(100)
    assert out.getvalue() == ""
    assert clock.sleeps == [100]


_ARCHIVING = re.compile(
    r"^tengrai-async: archiving: [\d,]+ artworks stored, [\d.]+ (B|KiB|MiB) of images written;"
    r" \d+ s so far$"
)


async def test_an_archive_off_a_terminal_prints_progress_lines(tmp_path: Path) -> None:
    clock = FakeClock()  # virtual time runs on whenever the run waits for the network
    stderr = io.StringIO()
    server = FakeTengrAI(count=400, latency=0.01, image_latency=0.01)
    async with server, server.client() as client:
        options = ArchiveOptions(directory=tmp_path, prefetch=1, downloads=2)
        assert await archive(client, options, stderr=stderr, clock=clock) == 0
    lines = stderr.getvalue().splitlines()
    progress = [line for line in lines if "archiving:" in line]
    assert progress, lines
    assert all(_ARCHIVING.match(line) for line in progress), progress
    assert lines[-1].startswith("tengrai-async: archived: 400 new")
    # Every line came after 10 s of (virtual) quiet, never sooner.
    assert set(clock.sleeps) == {INTERVAL}
    assert len(progress) in (len(clock.sleeps), len(clock.sleeps) - 1)


async def test_on_a_terminal_or_quiet_there_are_no_progress_lines(tmp_path: Path) -> None:
    async with FakeTengrAI(count=50, latency=0.01) as server, server.client() as client:
        for n, (stream, quiet) in enumerate([(Terminal(), False), (io.StringIO(), True)]):
            clock = FakeClock()
            options = ArchiveOptions(directory=tmp_path / str(n), images=False, quiet=quiet)
            assert await archive(client, options, stderr=stream, clock=clock) == 0
            assert "archiving:" not in stream.getvalue()
            assert clock.sleeps == []


async def test_an_export_off_a_terminal_prints_progress_lines(tmp_path: Path) -> None:
    clock = FakeClock()
    stderr = io.StringIO()
    stdout = io.BytesIO()
    options = ExportOptions(output=str(tmp_path / "out.jsonl"), page_size=20, prefetch=1)
    async with FakeTengrAI(count=200, latency=0.01) as server, server.client() as client:
        with plan(options) as ready:
            assert await export(client, ready, stdout=stdout, stderr=stderr, clock=clock) == 0
    progress = [line for line in stderr.getvalue().splitlines() if "exporting:" in line]
    assert progress
    assert all(
        re.match(r"^tengrai-async: exporting: [\d,]+ artworks written; \d+ s$", line)
        for line in progress
    ), progress
    assert set(clock.sleeps) == {INTERVAL}
