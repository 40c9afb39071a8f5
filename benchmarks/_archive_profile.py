"""What the archive's time goes to, for ``bench_archive.py --profile``: timers and probes.

Measurement only: the package is never edited. The timers wrap three of its private functions
for the length of a ``with`` block; the download variants (``_archive_client.py``) switch one
cost off at a time in their own process; the database probe stores the same rows through the
package's ``store_page`` and through a prototype of the proposed change, side by side.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import types
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs

from tengrai_async import _transport
from tengrai_async.archive import _db, _images, _sync
from tengrai_async.testing import make_artwork

__all__ = [
    "DownloadTimes",
    "StoreTimes",
    "download_variant",
    "probe_database",
    "time_downloads",
    "time_store",
]


@attrs.define
class StoreTimes:
    """Seconds a first run spent outside the listing itself, and how often."""

    rows: float = 0.0  # _rows: wire_object + orjson.dumps + StoredArtwork, per artwork
    statements: float = 0.0  # store_page's SELECT + INSERT (+ images) per artwork
    commits: float = 0.0  # BEGIN IMMEDIATE ... COMMIT: the WAL write, checkpoints' fsyncs
    pages: int = 0


@contextlib.contextmanager
def time_store() -> Iterator[StoreTimes]:
    """Time ``store_page`` in three parts while the block runs (wall seconds)."""
    times = StoreTimes()
    store_page = _db.ArchiveDatabase.store_page
    commit = _db._Transaction.__exit__  # noqa: SLF001 - measured, not changed

    def timed_store(self: _db.ArchiveDatabase, artworks: Iterable[_db.StoredArtwork]) -> Any:
        started = time.perf_counter()
        rows = list(artworks)  # the generator of _sync._rows runs here
        built = time.perf_counter()
        before = times.commits
        counts = store_page(self, rows)
        times.rows += built - started
        times.statements += time.perf_counter() - built - (times.commits - before)
        times.pages += 1
        return counts

    def timed_commit(self: Any, *args: Any) -> None:
        started = time.perf_counter()
        try:
            commit(self, *args)
        finally:
            times.commits += time.perf_counter() - started

    _db.ArchiveDatabase.store_page = timed_store  # type: ignore[method-assign]
    _db._Transaction.__exit__ = timed_commit  # type: ignore[method-assign]  # noqa: SLF001
    try:
        yield times
    finally:
        _db.ArchiveDatabase.store_page = store_page  # type: ignore[method-assign]
        _db._Transaction.__exit__ = commit  # type: ignore[method-assign]  # noqa: SLF001


# --- the database alone ---------------------------------------------------------------------

_INSERT = (
    "INSERT INTO artworks (id, artwork_type, status, created_at, json, valid, first_seen, "
    "last_seen, last_changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE = (
    "UPDATE artworks SET artwork_type = ?, status = ?, created_at = ?, json = ?, valid = ?, "
    "last_seen = ?, last_changed = ?, removed_at = NULL WHERE id = ?"
)
_IMAGES = (
    "INSERT INTO images (artwork_id, position, url) VALUES (?, ?, ?) "
    "ON CONFLICT (artwork_id, position) DO UPDATE SET url = excluded.url, state = NULL, "
    "reason = NULL WHERE images.url != excluded.url AND "
    "(images.state IS NULL OR images.state != 'done')"
)


def _store_batched(db: Any, page: list[_db.StoredArtwork]) -> None:
    """The proposal: one SELECT for the page's ids, then one executemany per kind of write.

    It counts new, updated and unchanged as store_page does; the caller commits.
    """
    now = _db._now()  # noqa: SLF001
    ids = [artwork.id for artwork in page]
    marks = ",".join("?" * len(ids))
    old = dict(db.execute(f"SELECT id, json FROM artworks WHERE id IN ({marks})", ids))  # noqa: S608
    new, changed, same = [], [], []
    for artwork in page:
        text = artwork.json.decode("utf-8")
        previous = old.get(artwork.id)
        if previous is None:
            new.append(
                (
                    artwork.id,
                    artwork.artwork_type,
                    artwork.status,
                    artwork.created_at,
                    text,
                    int(artwork.valid),
                    now,
                    now,
                    now,
                )
            )
        elif previous == text:
            same.append((now, artwork.id))
        else:
            changed.append(
                (
                    artwork.artwork_type,
                    artwork.status,
                    artwork.created_at,
                    text,
                    int(artwork.valid),
                    now,
                    now,
                    artwork.id,
                )
            )
    db.executemany(_INSERT, new)
    db.executemany(_UPDATE, changed)
    db.executemany("UPDATE artworks SET last_seen = ? WHERE id = ?", same)
    db.executemany(
        _IMAGES,
        [
            (artwork.id, position, url)
            for artwork in page
            if artwork.status == "succeeded"
            for position, url in enumerate(artwork.results)
        ],
    )


@attrs.frozen
class Probe:
    """One way of storing the rows: wall and CPU seconds, and the rows stored per second."""

    name: str
    wall: float
    cpu: float


def _one_probe(
    name: str, pages: list[list[_db.StoredArtwork]], pages_per_commit: int, workdir: Path
) -> Probe:
    directory = Path(tempfile.mkdtemp(dir=workdir))
    db = _db.ArchiveDatabase(directory / "archive.sqlite")
    connection = db._db  # noqa: SLF001 - the probe writes through the package's connection
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        if pages_per_commit == 0:
            for page in pages:
                db.store_page(page)
        else:
            for first in range(0, len(pages), pages_per_commit):
                connection.execute("BEGIN IMMEDIATE")
                for page in pages[first : first + pages_per_commit]:
                    _store_batched(connection, page)
                connection.execute("COMMIT")
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        db.close()
        shutil.rmtree(directory)
        os.sync()
    return Probe(name, wall, cpu)


def probe_database(count: int, rounds: int, workdir: Path) -> dict[str, list[Probe]]:
    """Store *count* synthetic artworks (500 a page) into empty databases, ways interleaved.

    ``store_page`` is the package's (one transaction a page, a SELECT and an INSERT per
    artwork); the others are the proposal at 1 and 10 pages a transaction.
    """
    rows = [_sync._stored(make_artwork(index), valid=True) for index in range(count)]  # noqa: SLF001
    pages = [[row for row in rows[i : i + 500] if row is not None] for i in range(0, count, 500)]
    ways = {
        "store_page (now): 1 txn/page, 2 statements/artwork": 0,
        "batched: 1 txn/page, 1 SELECT + executemany": 1,
        "batched: 1 txn/10 pages": 10,
    }
    results: dict[str, list[Probe]] = {name: [] for name in ways}
    for index in range(rounds):
        order = list(ways.items()) if index % 2 == 0 else list(reversed(ways.items()))
        for name, per_commit in order:
            results[name].append(_one_probe(name, pages, per_commit, workdir))
    return results


# --- the download variants --------------------------------------------------------------------


class _NoDigest:
    def update(self, _data: bytes) -> None:
        """Nothing hashed."""

    def hexdigest(self) -> str:
        return "0" * 64


def download_variant(mode: str) -> str:
    """Switch off the cost named after ``archive-`` (in this process); return the base mode.

    ``archive-nofsync``: flush only, no fsync. ``archive-nohash``: no SHA-256.
    ``archive-nodb``: no per-image transaction (``record_image`` does nothing).
    ``archive-noproxy``: no proxy look-up in the environment per image (``proxy_for`` answers
    ``None``, as it does here anyway: no ``*_PROXY`` variable is set for loopback).
    Several join with ``-``: ``archive-nofsync-nohash-nodb-noproxy``.
    """
    if not mode.startswith("archive-"):
        return mode
    for cost in mode.removeprefix("archive-").split("-"):
        if cost == "nofsync":
            _images._sync_to_disk = lambda file: file.flush()  # noqa: SLF001
        elif cost == "nohash":
            _images.hashlib = types.SimpleNamespace(sha256=_NoDigest)  # type: ignore[assignment,attr-defined]
        elif cost == "nodb":
            _db.ArchiveDatabase.record_image = lambda *_, **__: None  # type: ignore[method-assign]
        elif cost == "noproxy":
            if not hasattr(_transport.Transport, "proxy_for"):
                msg = "this version of the package has no Transport.proxy_for to switch off"
                raise ValueError(msg)
            _transport.Transport.proxy_for = lambda *_: None  # type: ignore[method-assign]
        else:
            msg = f"unknown variant {mode!r}"
            raise ValueError(msg)
    return "archive"


@attrs.define
class DownloadTimes:
    """Seconds spent in the per-image database commit and in the fsyncs (summed over threads)."""

    record: float = 0.0  # record_image: BEGIN IMMEDIATE, UPDATE, COMMIT, on the event loop
    fsync: float = 0.0  # _sync_to_disk in the default executor, 8 downloads at once


@contextlib.contextmanager
def time_downloads() -> Iterator[DownloadTimes]:
    """Time ``record_image`` and ``_sync_to_disk`` (as this process has them) in the block."""
    times = DownloadTimes()
    record_image = _db.ArchiveDatabase.record_image
    sync_to_disk = _images._sync_to_disk  # noqa: SLF001

    def timed_record(self: Any, *args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            record_image(self, *args, **kwargs)
        finally:
            times.record += time.perf_counter() - started

    def timed_sync(file: Any) -> None:
        started = time.perf_counter()
        try:
            sync_to_disk(file)
        finally:
            times.fsync += time.perf_counter() - started

    _db.ArchiveDatabase.record_image = timed_record  # type: ignore[method-assign]
    _images._sync_to_disk = timed_sync  # noqa: SLF001
    try:
        yield times
    finally:
        _db.ArchiveDatabase.record_image = record_image  # type: ignore[method-assign]
        _images._sync_to_disk = sync_to_disk  # noqa: SLF001
