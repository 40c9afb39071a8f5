"""SIGTERM (what cron, systemd, docker and CI send) is Ctrl-C for ``archive`` and ``export``.

Each test runs the real command in a subprocess, sends SIGTERM mid-run, and checks what the
process leaves: exit 143 within a second, the run recorded, no pid or lock file, no ``.part``
of an image, and a next run that carries on as after Ctrl-C.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from _cli_helpers import archive_query, environment

from tengrai_async.cli._signals import Terminated, run, sigterm_as_interrupt

ARCHIVE = [sys.executable, "-m", "tengrai_async", "archive"]
EXPORT = [sys.executable, "-m", "tengrai_async", "export"]


def _wait_for(condition: Any, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before the signal"
        try:
            if condition():
                return
        except sqlite3.Error:
            pass
        time.sleep(0.01)
    raise AssertionError("the run never got that far")


def _terminate(process: subprocess.Popen[bytes]) -> tuple[int, float, str]:
    process.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    code = process.wait(timeout=10)
    took = time.monotonic() - sent
    assert process.stderr is not None
    err = process.stderr.read().decode()
    process.stderr.close()
    return code, took, err


def test_sigterm_stops_an_archive_as_ctrl_c_does_recording_the_run(tmp_path: Path) -> None:
    demo = ["--demo", "3000", "--downloads", "2"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*ARCHIVE, str(tmp_path), *demo], env=environment(), stderr=subprocess.PIPE
    )
    # Mid-download: images are being written (each through a .part) when the signal comes.
    _wait_for(
        lambda: archive_query(tmp_path, "SELECT count(*) FROM images WHERE state = 'done'")[0] > 0,
        process,
    )
    code, took, err = _terminate(process)
    assert code == 143, err
    assert took < 1.5
    assert "Traceback" not in err
    assert "tengrai-async: interrupted so far: 3000 new, 0 updated" in err
    finished, outcome, new, images_done = archive_query(
        tmp_path, "SELECT finished_at, outcome, new, images_done FROM runs ORDER BY id DESC"
    )
    assert finished is not None
    assert outcome == "interrupted"
    assert new == 3000
    done = archive_query(tmp_path, "SELECT count(*) FROM images WHERE state = 'done'")[0]
    assert images_done == done > 0
    assert not (tmp_path / "archive.pid").exists()
    assert not (tmp_path / "archive.lock").exists()
    assert list((tmp_path / "images").glob(".*.part")) == []
    again = subprocess.run(  # noqa: S603
        [*ARCHIVE, str(tmp_path), *demo], env=environment(), capture_output=True, check=False
    )
    assert again.returncode == 0, again.stderr
    assert b"0 new, 0 updated, 3000 unchanged" in again.stderr
    assert archive_query(tmp_path, "SELECT count(*) FROM images WHERE state != 'done'")[0] == 0


def test_sigterm_stops_an_export_as_ctrl_c_does_and_it_resumes(tmp_path: Path) -> None:
    demo = ["--demo", "3000", "--page-size", "100"]
    reference = tmp_path / "reference.jsonl"
    made = subprocess.run(  # noqa: S603
        [*EXPORT, *demo, "-q", "-o", str(reference)], env=environment(), check=False
    )
    assert made.returncode == 0
    out = tmp_path / "out.jsonl"
    part = tmp_path / "out.jsonl.part"
    slow = ["--demo-latency", "0.05", "--prefetch", "1"]
    process = subprocess.Popen(  # noqa: S603
        [*EXPORT, *demo, *slow, "-o", str(out)], env=environment(), stderr=subprocess.PIPE
    )
    _wait_for(lambda: part.exists() and part.stat().st_size > 0, process)
    code, took, err = _terminate(process)
    assert code == 143, err
    assert took < 1.5
    assert "Traceback" not in err
    assert "tengrai-async: interrupted: " in err  # the summary so far
    assert "--resume" in err
    assert not (tmp_path / "out.jsonl.lock").exists()
    assert not (tmp_path / "out.jsonl.pid").exists()
    checkpoint = orjson.loads((tmp_path / "out.jsonl.checkpoint.json").read_bytes())
    assert checkpoint["part_bytes"] == part.stat().st_size
    assert 0 < checkpoint["items"] < 3000
    resumed = subprocess.run(  # noqa: S603
        [*EXPORT, "-o", str(out), "--resume"], env=environment(), capture_output=True, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    assert out.read_bytes() == reference.read_bytes()


def test_outside_the_event_loop_sigterm_raises_terminated_and_the_handler_is_put_back() -> None:
    before = signal.getsignal(signal.SIGTERM)

    def wait_for_a_reader() -> None:  # a FIFO's, say: outside any event loop
        with sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs between two bytecodes
                time.sleep(0)

    with pytest.raises(Terminated):
        wait_for_a_reader()
    assert signal.getsignal(signal.SIGTERM) == before


def test_inside_the_event_loop_sigterm_cancels_the_command_into_terminated() -> None:
    cancelled = []

    async def command() -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.Event().wait()  # what a run waiting on the network looks like
        except asyncio.CancelledError:
            cancelled.append(True)  # every finally runs: the run is recorded, files removed
            raise

    with pytest.raises(Terminated), sigterm_as_interrupt():
        run(command())
    assert cancelled == [True]


def test_off_the_main_thread_nothing_is_installed() -> None:
    before = signal.getsignal(signal.SIGTERM)
    seen: list[object] = []

    def worker() -> None:
        with sigterm_as_interrupt():
            seen.append(signal.getsignal(signal.SIGTERM))
            seen.append(run(asyncio.sleep(0, result="ran")))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [before, "ran"]
