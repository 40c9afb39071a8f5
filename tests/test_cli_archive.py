"""``tengrai-async archive``: exit codes, the lock across processes, Ctrl-C and kill -9, demo."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _cli_helpers import archive_count, archive_demo_again, immutable, serve

from tengrai_async.cli import main
from tengrai_async.cli._demo import DEMO_IMAGE_ORIGIN, DEMO_PORT
from tengrai_async.testing import make_artworks

ENV = {k: v for k, v in os.environ.items() if not k.startswith("TENGRAI_")}
COMMAND = [sys.executable, "-m", "tengrai_async", "archive"]


def assert_whole(directory: Path) -> None:
    """Every artwork once, every image done is whole, nothing half-written left."""
    assert archive_count(directory, "SELECT count(*) - count(DISTINCT id) FROM artworks") == 0
    db = sqlite3.connect(directory / "archive.sqlite")
    try:
        done = db.execute("SELECT path, bytes, sha256 FROM images WHERE state = 'done'").fetchall()
    finally:
        db.close()
    for path, size, digest in done:
        data = (directory / path).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, digest)
    assert not [p for p in (directory / "images").iterdir() if p.name.startswith(".")]


def test_demo_archives_artworks_and_images_with_no_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TENGRAI_API_KEY", raising=False)
    assert main(["archive", str(tmp_path / "a"), "--demo", "300"]) == 0
    err = capsys.readouterr().err
    assert "archived: 300 new, 0 updated" in err
    images = archive_count(tmp_path / "a", "SELECT count(*) FROM images WHERE state = 'done'")
    assert images > 0
    assert f"images: {images} downloaded, 0 gone, 0 failed" in err
    assert_whole(tmp_path / "a")


def test_a_second_demo_archive_finds_every_artwork_unchanged_whatever_port_the_first_got(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TENGRAI_API_KEY", raising=False)
    with socket.socket() as busy:  # the demo's usual port taken: the first run gets another
        # SO_REUSEADDR: the port may still be in TIME_WAIT from other runs; a listener holds it
        # all the same.
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", DEMO_PORT))
        busy.listen()
        assert main(["archive", str(tmp_path / "a"), "--demo", "300", "-q"]) == 0
    assert main(["archive", str(tmp_path / "a"), "--demo", "300"]) == 0
    assert "archived: 0 new, 0 updated, 300 unchanged" in capsys.readouterr().err
    # The image URLs name the demo's image host, never its port (nor a real host).
    db = sqlite3.connect(tmp_path / "a" / "archive.sqlite")
    try:
        urls = db.execute("SELECT url FROM images").fetchall()
    finally:
        db.close()  # 3.13 warns of a connection left to the garbage collector
    assert {url.split("/images/")[0] for (url,) in urls} == {DEMO_IMAGE_ORIGIN}


def test_a_second_run_is_quiet_when_asked_and_finds_nothing_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    artworks = make_artworks(120)
    for artwork in artworks:
        artwork["results"] = []
    with serve(monkeypatch, artworks=artworks) as server:
        assert main(["archive", str(tmp_path), "-q"]) == 0
        listed = sum(1 for r in server.requests if r.path == "/v2/artworks")
        assert main(["archive", str(tmp_path)]) == 0
        assert sum(1 for r in server.requests if r.path == "/v2/artworks") - listed == 1
    err = capsys.readouterr().err
    assert err.count("archived:") == 1
    assert "archived: 0 new, 0 updated, " in err


def test_no_images_downloads_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, count=50, images=True) as server:
        assert main(["archive", str(tmp_path), "--no-images", "-q"]) == 0
        assert server.image_requests == []
    assert archive_count(tmp_path, "SELECT count(*) FROM images WHERE state IS NULL") > 0


def test_failed_images_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, count=30, images=True) as server:
        server.queue_image_faults(*["html"] * 100)
        assert main(["archive", str(tmp_path), "--retry-wait", "0"]) == 3
    assert "0 downloaded" in capsys.readouterr().err


def test_gone_images_alone_exit_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, count=30, images=True) as server:
        server.queue_image_faults(*["410"] * 100)
        assert main(["archive", str(tmp_path)]) == 0
    assert "0 downloaded, " in capsys.readouterr().err
    assert archive_count(tmp_path, "SELECT count(*) FROM images WHERE state = 'gone'") > 0


def test_an_api_failure_exits_1_and_keeps_what_was_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, count=300) as server:
        server.queue_faults("500", "500")
        code = main(["archive", str(tmp_path), "--max-retries", "1", "--retry-wait", "0"])
    assert code == 1
    assert "HTTP 500" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("file", "is not a directory"),
        ("under-a-file", "cannot write to"),
        ("empty", "empty"),
    ],
)
def test_a_directory_that_cannot_hold_an_archive_is_a_usage_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setup: str,
    words: str,
) -> None:
    (tmp_path / "plain").write_text("x")
    target = {"file": tmp_path / "plain", "under-a-file": tmp_path / "plain" / "a", "empty": ""}[
        setup
    ]
    with serve(monkeypatch, count=5) as server:
        assert main(["archive", str(target)]) == 2
        assert server.requests == []
    assert words in capsys.readouterr().err


def test_a_corrupted_database_is_exit_2_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "archive.sqlite").write_bytes(b"\x00garbage" * 512)
    with serve(monkeypatch, count=5):
        assert main(["archive", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "archive.sqlite") in err
    assert "Traceback" not in err


def test_a_database_another_program_keeps_locked_exits_4_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, count=20):
        assert main(["archive", str(tmp_path), "-q", "--no-images"]) == 0
        # Another program holds the write lock longer than SQLite waits for it (5 s).
        other = sqlite3.connect(tmp_path / "archive.sqlite", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            assert main(["archive", str(tmp_path), "--no-images"]) == 4
        finally:
            other.execute("ROLLBACK")
            other.close()
        err = capsys.readouterr().err
        assert f"cannot write {tmp_path / 'archive.sqlite'}: database is locked" in err
        assert "Traceback" not in err
        assert main(["archive", str(tmp_path), "-q", "--no-images"]) == 0  # the next carries on


_FULL_DISK = """
import resource, signal, sys
from tengrai_async.cli import main
from tengrai_async.cli._demo import DEMO_IMAGE_ORIGIN, DEMO_PORT
# Past the limit a write fails with EFBIG (not a signal), as a full disk fails it with ENOSPC.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
_, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), hard))
code = main(["archive", sys.argv[1], "--demo", "2000", "--no-images"])
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # coverage writes its data at exit
sys.exit(code)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="POSIX file size limits")
@pytest.mark.parametrize("limit", [2_000, 1_000_000], ids=["on-opening", "mid-run"])
def test_a_full_disk_exits_4_naming_the_file_and_the_next_run_carries_on(
    tmp_path: Path, limit: int
) -> None:
    full = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-c", _FULL_DISK, str(tmp_path), str(limit)],
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    assert full.returncode == 4, full.stderr
    assert f"cannot write {tmp_path / 'archive.sqlite'}" in full.stderr
    assert "Traceback" not in full.stderr
    if limit > 2_000:  # the pages stored before the disk filled up are kept, whole
        stored = archive_count(tmp_path, "SELECT count(*) FROM artworks")
        assert 0 < stored < 2000
        assert stored % 500 == 0
    else:  # it failed while the database was made: not one table
        assert archive_count(tmp_path, "SELECT count(*) FROM sqlite_master") == 0
    archive_demo_again(tmp_path)


def test_a_bad_since_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["archive", str(tmp_path), "--since", "2026-01-01T09:00"]) == 2
    assert "no UTC offset" in capsys.readouterr().err


def slow_run(directory: Path, *extra: str) -> subprocess.Popen[bytes]:
    slow = ["--demo", "4000", "--demo-latency", "0.05", "--prefetch", "1", *extra]
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*COMMAND, str(directory), *slow], env=ENV, stderr=subprocess.PIPE
    )


def wait_for_rows(directory: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if archive_count(directory, "SELECT count(*) FROM artworks"):
                return
        except sqlite3.Error:
            pass
        time.sleep(0.02)
    raise AssertionError("the first run stored nothing")


def test_a_second_run_while_one_runs_exits_2_naming_its_pid(tmp_path: Path) -> None:
    first = slow_run(tmp_path)
    try:
        wait_for_rows(tmp_path, first)
        second = subprocess.run(  # noqa: S603
            [*COMMAND, str(tmp_path), "--demo", "10"], env=ENV, capture_output=True, check=False
        )
        assert second.returncode == 2
        assert f"process {first.pid}" in second.stderr.decode()
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=10)
        assert first.stderr is not None
        first.stderr.close()


def test_ctrl_c_stops_within_a_second_and_the_next_run_carries_on(tmp_path: Path) -> None:
    process = slow_run(tmp_path)
    wait_for_rows(tmp_path, process)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    assert process.wait(timeout=5) == 130
    assert time.monotonic() - sent < 1.5
    assert process.stderr is not None
    err = process.stderr.read().decode()
    process.stderr.close()
    assert "interrupted" in err
    stored = archive_count(tmp_path, "SELECT count(*) FROM artworks")
    assert f"tengrai-async: interrupted so far: {stored} new, " in err  # the summary so far
    assert 0 < stored < 4000
    assert_whole(tmp_path)
    done = subprocess.run(  # noqa: S603
        [*COMMAND, str(tmp_path), "--demo", "4000"], env=ENV, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert archive_count(tmp_path, "SELECT count(*) FROM artworks") == 4000
    assert_whole(tmp_path)


def test_kill_9_loses_at_most_the_page_in_flight(tmp_path: Path) -> None:
    process = slow_run(tmp_path)
    wait_for_rows(tmp_path, process)
    process.kill()
    process.wait(timeout=5)
    assert process.stderr is not None
    process.stderr.close()
    done = subprocess.run(  # noqa: S603 - the lock died with the process
        [*COMMAND, str(tmp_path), "--demo", "4000"], env=ENV, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert archive_count(tmp_path, "SELECT count(*) FROM artworks") == 4000
    assert_whole(tmp_path)


def test_a_read_only_directory_is_a_usage_error_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "archive"
    directory.mkdir()
    with serve(monkeypatch, count=5) as server, immutable(directory):
        assert main(["archive", str(directory)]) == 2
        assert server.requests == []
    err = capsys.readouterr().err
    assert f"cannot write to {directory}" in err
    assert "Traceback" not in err
