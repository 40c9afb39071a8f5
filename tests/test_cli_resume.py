from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from _cli_helpers import KEY, serve

from tengrai_async.cli import main
from tengrai_async.testing import FakeTengrAI, make_artworks

COUNT = 1000
# One request at a time and no retries: the first injected fault stops the export.
FRAGILE = ["--page-size", "100", "--prefetch", "1", "--max-retries", "0"]


@contextlib.contextmanager
def serve_slowly(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Iterator[FakeTengrAI]:
    """The shared `serve`, with COUNT artworks unless given others and a little latency."""
    if "artworks" not in kwargs:
        kwargs.setdefault("count", COUNT)
    with serve(monkeypatch, latency=0.005, **kwargs) as server:
        yield server


def fail_after(server: FakeTengrAI, requests: int) -> threading.Thread:
    """Make the request after the next *requests* ones answer 500."""
    target = len(server.requests) + requests

    def watch() -> None:
        while len(server.requests) < target:
            time.sleep(0.0005)
        server.queue_faults("500")

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def checkpoint_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(out.with_name(out.name + ".checkpoint.json").read_bytes())
    return data


def part_of(out: Path) -> Path:
    return out.with_name(out.name + ".part")


def interrupt(server: FakeTengrAI, out: Path, *args: str, after: int = 3) -> dict[str, Any]:
    """Run an export that fails after some pages; check what it leaves behind."""
    watcher = fail_after(server, after)
    assert main(["export", "-o", str(out), *FRAGILE, *args]) == 1
    watcher.join(timeout=1)
    assert not watcher.is_alive()
    checkpoint = checkpoint_of(out)
    assert 0 < checkpoint["items"] < COUNT
    assert part_of(out).stat().st_size == checkpoint["part_bytes"]
    assert not out.exists()
    return checkpoint


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_failed_export_resumes_to_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, suffix: str
) -> None:
    with serve_slowly(monkeypatch) as server:
        reference = tmp_path / f"reference{suffix}"
        assert main(["export", "-o", str(reference), "--page-size", "100"]) == 0
        out = tmp_path / f"out{suffix}"
        checkpoint = interrupt(server, out)
        assert checkpoint["version"] == 1
        assert checkpoint["query"]["format"] == suffix[1:]
        assert checkpoint["next_offset"] == checkpoint["items"]
        assert checkpoint["recent_ids"][-1] == server.ids()[checkpoint["items"] - 1]
        assert main(["export", "-o", str(out), *FRAGILE, "--resume"]) == 0
    assert out.read_bytes() == reference.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, reference.name])


def test_resume_drops_a_half_written_tail(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with serve_slowly(monkeypatch) as server:
        out = tmp_path / "out.jsonl"
        interrupt(server, out)
        with part_of(out).open("ab") as part:
            part.write(b'{"id": "half a li')
        assert main(["export", "-o", str(out), "--page-size", "100", "--resume"]) == 0
    assert [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()] == server.ids()


def test_a_checkpoint_is_not_overwritten_without_resume_or_force(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_slowly(monkeypatch) as server:
        out = tmp_path / "out.jsonl"
        interrupt(server, out)
        before = part_of(out).read_bytes()
        capsys.readouterr()
        assert main(["export", "-o", str(out), *FRAGILE]) == 2
        err = capsys.readouterr().err
        assert "--resume" in err
        assert "--force" in err
        assert part_of(out).read_bytes() == before
        assert main(["export", "-o", str(out), "--page-size", "100", "--force"]) == 0
    assert len(out.read_bytes().splitlines()) == COUNT
    assert not part_of(out).exists()


@pytest.mark.parametrize(
    "change",
    [["--status", "failed"], ["--format", "csv"], ["--page-size", "50"], ["--max-items", "9"]],
)
def test_resume_must_ask_for_the_same_export(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: list[str],
) -> None:
    with serve_slowly(monkeypatch) as server:
        out = tmp_path / "out.jsonl"
        interrupt(server, out)
        capsys.readouterr()
        assert main(["export", "-o", str(out), *FRAGILE, "--resume", *change]) == 2
    assert "same export" in capsys.readouterr().err


def test_resume_needs_a_checkpoint_and_its_part_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    monkeypatch.setenv("TENGRAI_API_KEY", KEY)
    assert main(["export", "-o", str(out), "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    with serve_slowly(monkeypatch) as server:
        interrupt(server, out)
    part_of(out).write_bytes(b"")
    assert main(["export", "-o", str(out), *FRAGILE, "--resume"]) == 2
    assert "fewer than" in capsys.readouterr().err
    part_of(out).unlink()
    assert main(["export", "-o", str(out), *FRAGILE, "--resume"]) == 2
    assert "is missing" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'{"version": 99}',
        b'{"version": 1, "query": null}',
        b'{"version": 1, "query": {}}',
        orjson.dumps(
            {
                "version": 1,
                "query": {},
                "next_offset": -1,
                "part_bytes": 0,
                "items": 0,
                "rejects": 0,
                "rejects_bytes": 0,
                "recent_ids": [],
            }
        ),
    ],
)
def test_an_unreadable_checkpoint_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
) -> None:
    monkeypatch.setenv("TENGRAI_API_KEY", KEY)
    out = tmp_path / "out.jsonl"
    out.with_name(out.name + ".checkpoint.json").write_bytes(content)
    assert main(["export", "-o", str(out), "--resume"]) == 2
    assert "checkpoint" in capsys.readouterr().err


def test_a_listing_shifted_by_new_artworks_resumes_without_duplicates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_slowly(monkeypatch) as server:
        original = server.ids()
        out = tmp_path / "out.jsonl"
        interrupt(server, out)
        server.insert(7)  # every offset moves up by 7 while the export is stopped
        capsys.readouterr()
        assert main(["export", "-o", str(out), "--page-size", "100", "--resume"]) == 0
    assert [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()] == original
    assert "7 duplicates dropped" in capsys.readouterr().err


def test_rejects_are_kept_once_across_a_resume(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    artworks = make_artworks(COUNT)
    bad = [5, 150, 777]
    for index in bad:
        artworks[index]["status"] = "lost"
    with serve_slowly(monkeypatch, artworks=artworks) as server:
        out = tmp_path / "out.jsonl"
        checkpoint = interrupt(server, out)
        assert checkpoint["rejects"] >= 1
        assert main(["export", "-o", str(out), *FRAGILE, "--resume"]) == 3
    rejects = out.with_name(out.name + ".rejects.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line)["offset"] for line in rejects] == bad
    assert len(out.read_bytes().splitlines()) == COUNT - len(bad)


def test_max_items_counts_over_the_resumed_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with serve_slowly(monkeypatch) as server:
        out = tmp_path / "out.jsonl"
        interrupt(server, out, "--max-items", "750")
        assert main(["export", "-o", str(out), *FRAGILE, "--max-items", "750", "--resume"]) == 0
    ids = [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()]
    assert ids == server.ids()[:750]


def test_ctrl_c_leaves_a_resumable_export(tmp_path: Path) -> None:
    reference = tmp_path / "reference.jsonl"
    demo = ["--demo", "3000", "--page-size", "100"]
    assert main(["export", *demo, "-o", str(reference), "-q"]) == 0

    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "tengrai_async", "export", *demo, "-o", str(out)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGRAI_")}
    slow = ["--demo-latency", "0.05", "--prefetch", "1"]
    process = subprocess.Popen([*command, *slow], env=env, stderr=subprocess.PIPE)  # noqa: S603
    part = part_of(out)
    deadline = time.monotonic() + 20
    while not (part.exists() and part.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    assert process.wait(timeout=5) == 130
    assert time.monotonic() - sent < 2
    assert process.stderr is not None
    err = process.stderr.read().decode()
    process.stderr.close()
    assert "interrupted" in err
    assert "--resume" in err

    data = part.read_bytes()
    assert data.endswith(b"\n")
    checkpoint = checkpoint_of(out)
    assert checkpoint["part_bytes"] == len(data)
    assert 0 < checkpoint["items"] < 3000

    resumed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [*command, "--resume"], env=env, capture_output=True, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    assert out.read_bytes() == reference.read_bytes()
