"""A run that did nothing leaves nothing: no checkpoint, ``.part``, lock, pid file or directory.

Each case runs the real command in a subprocess (what it leaves is about the process), then
the same command again once the cause is mended, which must run plainly (no --resume/--force).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_helpers import KEY, environment, names

from tengrai_async.testing import FakeTengrAI

COUNT = 300


@pytest.fixture
def server() -> Iterator[FakeTengrAI]:
    with FakeTengrAI.in_thread(api_key=KEY, count=COUNT) as server:
        yield server


def _run(
    *args: str, key: str | None = KEY, base_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = environment()
    if key is not None:
        env["TENGRAI_API_KEY"] = key
    if base_url is not None:
        env["TENGRAI_BASE_URL"] = base_url
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tengrai_async", *args, "--retry-wait", "0"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("cause", ["401", "403", "refused", "bad-url"])
def test_an_export_that_fails_before_its_first_artwork_leaves_nothing(
    server: FakeTengrAI, tmp_path: Path, cause: str
) -> None:
    out = tmp_path / "all.jsonl"
    args = ("export", "-o", str(out), "--max-retries", "1")
    if cause == "401":
        failed = _run(*args, key="wrong-key", base_url=str(server.url))
    elif cause == "403":
        server.queue_faults("403")
        failed = _run(*args, base_url=str(server.url))
    elif cause == "refused":
        failed = _run(*args, base_url=_closed_port())
    else:
        failed = _run(*args, base_url="ftp://127.0.0.1/")
    assert failed.returncode in (1, 2), failed.stderr
    assert "Traceback" not in failed.stderr
    assert names(tmp_path) == []  # no checkpoint, .part, .lock or .pid
    again = _run(*args, base_url=str(server.url))  # the same command, mended
    assert again.returncode == 0, again.stderr
    assert len(out.read_bytes().splitlines()) == COUNT
    assert names(tmp_path) == ["all.jsonl"]


@pytest.mark.parametrize("cause", ["no-key", "bad-url"])
def test_an_archive_that_cannot_start_does_not_create_its_directory(
    server: FakeTengrAI, tmp_path: Path, cause: str
) -> None:
    directory = tmp_path / "somewhere" / "archive"
    if cause == "no-key":
        failed = _run("archive", str(directory), "--no-images", key=None)
    else:
        failed = _run("archive", str(directory), "--no-images", base_url="ftp://127.0.0.1/")
    assert failed.returncode == 2, failed.stderr
    assert "Traceback" not in failed.stderr
    assert names(tmp_path) == []
    again = _run("archive", str(directory), "--no-images", "-q", base_url=str(server.url))
    assert again.returncode == 0, again.stderr
    assert (directory / "archive.sqlite").is_file()
    # A finished run leaves its archive, and no lock or pid file.
    assert names(directory) == ["archive.sqlite", "images"]
