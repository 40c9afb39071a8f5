"""`export -o FILE`: one writer at a time, with real processes, and what a `kill -9` leaves."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import filelock
import orjson
import pytest
from _cli_helpers import command, environment, names, serve

from tengrai_async.cli import main

# Slow enough (50 pages of 0.3 s) that the first run is still writing while others try, even on
# a busy machine; it is killed long before it would end.
DEMO = ["--demo", "1000", "--page-size", "20"]
SLOW = ["--demo-latency", "0.3", "--prefetch", "1"]


def wait_for_pages(part: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while not (part.exists() and part.stat().st_size):
        assert process.poll() is None, "the first export ended early"
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_a_second_writer_is_refused_and_a_killed_one_is_taken_over(tmp_path: Path) -> None:
    reference = tmp_path / "reference.jsonl"
    assert main(["export", *DEMO, "-q", "-o", str(reference)]) == 0
    out = tmp_path / "out.jsonl"
    link = tmp_path / "link.jsonl"
    link.symlink_to(out.name)
    part = tmp_path / "out.jsonl.part"

    first = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command(*DEMO, *SLOW, "-q", "-o", str(out)), env=environment(), stderr=subprocess.PIPE
    )
    try:
        wait_for_pages(part, first)
        # The same file, through a link or by its name, anew or starting over: refused at
        # once, naming the writer (each flag on each name: the in-process test below).
        for name, args in ((link, []), (out, ["--force"])):
            started = time.monotonic()
            second = subprocess.run(  # noqa: S603 - our own interpreter and module
                command(*DEMO, *SLOW, "-o", str(name), *args),
                env=environment(),
                capture_output=True,
                check=False,
                timeout=20,
            )
            err = second.stderr.decode()
            assert second.returncode == 2, err
            assert f"{out} is being written by process {first.pid}" in err
            assert err.count("\n") == 1
            assert time.monotonic() - started < 5
            assert first.poll() is None
    finally:
        first.kill()  # SIGKILL: no clean-up of any kind
        first.wait(timeout=10)
        assert first.stderr is not None
        first.stderr.close()

    # The OS dropped the lock with the process; its checkpoint matches its .part.
    data = part.read_bytes()
    checkpoint = orjson.loads((tmp_path / "out.jsonl.checkpoint.json").read_bytes())
    assert checkpoint["part_bytes"] <= len(data)
    assert 0 < checkpoint["items"] < 1000
    assert main(["export", *DEMO, "-q", "-o", str(out), "--resume"]) == 0
    assert out.read_bytes() == reference.read_bytes()
    assert link.is_symlink()
    assert names(tmp_path) == ["link.jsonl", "out.jsonl", "reference.jsonl"]


def test_a_held_lock_names_its_holder_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    checkpoint = tmp_path / "out.jsonl.checkpoint.json"
    checkpoint.write_bytes(b"another run's\n")
    lock = filelock.FileLock(str(tmp_path / "out.jsonl.lock"))
    with serve(monkeypatch, count=20) as server:
        lock.acquire(timeout=0)
        try:
            (tmp_path / "out.jsonl.pid").write_text("4242\n")
            for args in ([], ["--force"], ["--resume"]):
                assert main(["export", "-o", str(out), *args]) == 2
                err = capsys.readouterr().err
                assert err == (
                    f"tengrai-async: error: {out} is being written by process 4242 (another "
                    "export): wait for it to end, or stop it\n"
                )
            assert server.requests == []
            assert checkpoint.read_bytes() == b"another run's\n"
            # An unreadable pid file still gives a clear message.
            (tmp_path / "out.jsonl.pid").write_text("garbage")
            assert main(["export", "-o", str(out)]) == 2
            assert "is being written by another process" in capsys.readouterr().err
        finally:
            lock.release()
        checkpoint.unlink()
        assert main(["export", "-q", "-o", str(out)]) == 0
    assert len(out.read_bytes().splitlines()) == 20
    assert names(tmp_path) == ["out.jsonl"]  # the lock and pid files go with the run
