"""Shared by the gallery tests: archives made by the real archive code from the fake server.

Also here: the stored rows of an archive, read with plain sqlite3 (what the gallery must show),
and ``browse`` run as a subprocess, with the URL it prints first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tengrai_async.archive import ArchiveReport, sync
from tengrai_async.testing import FakeTengrAI, make_artworks

ENV = {k: v for k, v in os.environ.items() if not k.startswith("TENGRAI_")}


async def archive(
    directory: Path,
    *,
    count: int = 0,
    artworks: Sequence[dict[str, Any]] | None = None,
    insert: int = 0,
    **server: Any,
) -> ArchiveReport:
    """Run the real ``sync`` into *directory* from a fake server of *count* artworks.

    *insert* new artworks are added on the server before the listing (a later run).
    """
    async with FakeTengrAI(artworks, count=count, images=True, **server) as fake:
        if insert:
            fake.insert(insert)
        async with fake.client() as client:
            return await sync(client, directory)


def illustrate(items: list[dict[str, Any]], cdn: FakeTengrAI, *, illustrated: int) -> None:
    """Make the first *illustrated* of *items* succeed with images on *cdn*; finish the rest.

    Every result URL points at the fake CDN (a second fake server: any id has images there),
    so that an archive run reaches nothing but loopback.
    """
    for n, item in enumerate(items):
        if n < illustrated or item["status"] in ("starting", "processing"):
            item["status"] = "succeeded"
        images = 1 + n % 2 if n < illustrated else int(item["status"] == "succeeded")
        item["results"] = [str(cdn.image_url(item["id"], i)) for i in range(images)]


async def archive_items(
    directory: Path, make: Callable[[FakeTengrAI], list[dict[str, Any]]]
) -> ArchiveReport:
    """Archive the artworks *make* returns, their images on a fake CDN it is given."""
    async with FakeTengrAI() as cdn:
        return await archive(directory, artworks=make(cdn))


async def illustrated_archive(directory: Path, count: int, *, illustrated: int) -> None:
    """An archive of *count* artworks whose newest *illustrated* all succeeded with images."""

    def make(cdn: FakeTengrAI) -> list[dict[str, Any]]:
        items = make_artworks(count)
        illustrate(items, cdn, illustrated=illustrated)
        return items

    await archive_items(directory, make)


def stored(directory: Path, sql: str = "SELECT id, created_at, json FROM artworks") -> list[Any]:
    """Rows of the archive's database, read with plain sqlite3."""
    db = sqlite3.connect(directory / "archive.sqlite")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def moment(text: str) -> dt.datetime:
    """The moment a ``createdAt`` names."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def newest_first(directory: Path) -> list[str]:
    """Every archived id, newest first by the moment, ties by id (the gallery's order)."""
    rows = stored(directory, "SELECT id, created_at FROM artworks")
    return [row[0] for row in sorted(rows, key=lambda r: (moment(r[1]), r[0]), reverse=True)]


@contextlib.contextmanager
def browse(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``tengrai-async browse ARGS --port 0`` in a subprocess: the URL it serves, and it."""
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "tengrai_async", "browse", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://"), process.communicate(timeout=10)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
        process.communicate(timeout=30)
