"""Shared by the CLI tests: a fake API in a thread, pointed at by the environment, and more.

The command calls asyncio.run itself, so its server runs on a loop of its own. Also here: the
export command line for a subprocess and its environment, a path made unwritable, a fault
injected after a number of requests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tengrai_async.testing import FakeTengrAI

KEY = "test-key"
ARCHIVE = [sys.executable, "-m", "tengrai_async", "archive"]
"""``tengrai-async archive`` as a subprocess runs it."""


@contextlib.contextmanager
def serve(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Iterator[FakeTengrAI]:
    """Run a FakeTengrAI built from *kwargs* and set TENGRAI_API_KEY/BASE_URL to reach it."""
    with FakeTengrAI.in_thread(api_key=KEY, **kwargs) as server:
        monkeypatch.setenv("TENGRAI_API_KEY", KEY)
        monkeypatch.setenv("TENGRAI_BASE_URL", str(server.url))
        yield server


def command(*args: str) -> list[str]:
    """``tengrai-async export ARGS`` as a subprocess runs it."""
    return [sys.executable, "-m", "tengrai_async", "export", *args]


def environment() -> dict[str, str]:
    """This process's environment without any TENGRAI_ variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TENGRAI_")}


def archive_query(directory: Path, sql: str) -> Any:
    """The first row of *sql* on the archive in *directory* (the connection closed after)."""
    db = sqlite3.connect(directory / "archive.sqlite")
    try:
        return db.execute(sql).fetchone()
    finally:
        db.close()


def archive_count(directory: Path, sql: str) -> Any:
    """The one value *sql* (a ``SELECT count(*) ...``) gives on the archive in *directory*."""
    return archive_query(directory, sql)[0]


def archive_demo_again(directory: Path) -> None:
    """A plain demo run of 2,000 into *directory* succeeds and leaves all 2,000 archived."""
    again = subprocess.run(  # noqa: S603 - our own command
        [*ARCHIVE, str(directory), "--demo", "2000", "--no-images", "-q"],
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert archive_count(directory, "SELECT count(*) FROM artworks") == 2000


def names(directory: Path) -> list[str]:
    """The names in *directory*, sorted."""
    return sorted(p.name for p in directory.iterdir())


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """Make *path* unwritable, even for root (immutable), or skip where that cannot be."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o500 if path.is_dir() else 0o400)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    made = chattr and subprocess.run([chattr, "+i", str(path)], check=False).returncode == 0  # noqa: S603
    if not made:
        pytest.skip("running as root where the path cannot be made immutable")
    try:
        yield
    finally:
        subprocess.run([str(chattr), "-i", str(path)], check=True)  # noqa: S603


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
