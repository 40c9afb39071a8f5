"""The archive's SQLite database: its schema (versioned, migrated in order) and every statement.

The table and column names are a contract (other tools read the file): ``artworks`` keeps each
artwork exactly as the API last sent it, ``images`` each result URL and its download, ``runs``
each run and the high-water mark that lets the next run stop early. One transaction per page.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from .._errors import TengrAIError
from ._fts import SEARCH_MIGRATION

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "ArchiveDatabase",
    "ArchiveDatabaseError",
    "ArchiveWriteError",
    "ImageJob",
    "ImageOutcome",
    "PageCounts",
    "StoredArtwork",
    "database_error",
    "now_text",
    "write_failure",
]

#: ``PRAGMA application_id``: marks the file as a tengrai-async archive ("TGAI").
APPLICATION_ID: Final = 0x54474149
#: ``PRAGMA user_version``: the schema version this code writes.
SCHEMA_VERSION: Final = 2

# Each entry migrates from version n to n + 1 (index n). Append, never edit: a file made by an
# older version is brought up to date step by step.
_MIGRATIONS: Final[tuple[str, ...]] = (
    """
    CREATE TABLE artworks (
        id TEXT PRIMARY KEY,
        artwork_type TEXT,
        status TEXT,
        created_at TEXT,
        json TEXT NOT NULL,
        valid INTEGER NOT NULL DEFAULT 1,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        last_changed TEXT NOT NULL,
        removed_at TEXT
    );
    CREATE INDEX artworks_status ON artworks (status);
    CREATE TABLE images (
        artwork_id TEXT NOT NULL REFERENCES artworks (id),
        position INTEGER NOT NULL,
        url TEXT NOT NULL,
        path TEXT,
        bytes INTEGER,
        sha256 TEXT,
        state TEXT,
        reason TEXT,
        content_type TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT,
        PRIMARY KEY (artwork_id, position)
    );
    CREATE INDEX images_state ON images (state);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        outcome TEXT,
        complete INTEGER NOT NULL DEFAULT 0,
        newest_created_at TEXT,
        new INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        invalid INTEGER NOT NULL DEFAULT 0,
        images_done INTEGER NOT NULL DEFAULT 0,
        images_gone INTEGER NOT NULL DEFAULT 0,
        images_failed INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0
    );
    """,
    SEARCH_MIGRATION,  # 1 -> 2: full-text search and the createdAt moment (see _fts.py)
)
assert len(_MIGRATIONS) == SCHEMA_VERSION  # noqa: S101 - one migration per version

#: The statuses of a job still running: only these are fetched again by id.
_RUNNING: Final = ("starting", "processing")
#: The page cache's size, at most (it grows as pages are read).
_CACHE_KIB: Final = 64 * 1024
#: Pages the write-ahead log may hold before a commit copies them into the database file.
_CHECKPOINT_PAGES: Final = 10_000
#: How many runs' worth of requests a failed image gets before it is left as failed.
MAX_IMAGE_ATTEMPTS: Final = 3


class ArchiveDatabaseError(TengrAIError):
    """The archive's database cannot be used: not SQLite, another program's, or too new."""


class ArchiveWriteError(ArchiveDatabaseError):
    """The archive's database could not be written during a run.

    A full disk, an I/O error, a file made read-only, or another program holding the write lock
    longer than SQLite waits: the file itself is fine, and the next run carries on.
    """


# The SQLite result codes of a write that failed for a reason outside the file (their extended
# codes begin with these names), and the words SQLite uses for them, for Python 3.10, whose
# errors do not carry the code.
_WRITE_FAILURES: Final = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_BUSY")
_WRITE_FAILURE_WORDS: Final = (
    "database or disk is full",
    "disk I/O error",
    "attempt to write a readonly database",
    "database is locked",
)


def write_failure(exc: sqlite3.Error) -> bool:
    """Whether *exc* says the database could not be written, rather than that it is unusable."""
    name: str | None = getattr(exc, "sqlite_errorname", None)
    if name is not None:
        return name.startswith(_WRITE_FAILURES)
    return any(words in str(exc) for words in _WRITE_FAILURE_WORDS)  # pragma: no cover - 3.10


def database_error(path: Path, exc: sqlite3.Error) -> ArchiveDatabaseError:
    """The package's error for an SQLite error on the archive at *path*, opening it or later."""
    if write_failure(exc):  # a full disk, say: the file may well be fine
        return ArchiveWriteError(f"cannot write {path}: {exc}")
    return ArchiveDatabaseError(f"{path} is not a usable archive database: {exc}")


@attrs.frozen
class StoredArtwork:
    """One artwork to store: its id, the fields the table indexes, and the API's JSON text."""

    id: str
    artwork_type: str | None
    status: str | None
    created_at: str | None
    json: bytes
    results: tuple[str, ...] = ()
    valid: bool = True


@attrs.define
class PageCounts:
    """What storing one page did (``invalid``: new or changed artworks that broke a rule).

    ``invalid_ids`` names those ``invalid`` counts, in page order.
    """

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    invalid_ids: list[str] = attrs.field(factory=list[str])


@attrs.frozen
class ImageJob:
    """An image still to download."""

    artwork_id: str
    position: int
    url: str


@attrs.frozen
class ImageOutcome:
    """How one download ended, as the ``images`` table records it.

    Attributes:
        state: ``done``, ``gone`` (404 or 410) or ``failed``.
        path: The file's path relative to the archive directory (``done`` only).
        size: Its size in bytes (``done`` only).
        sha256: Its SHA-256, in hex (``done`` only).
        content_type: The ``Content-Type`` the host sent.
        reason: Why it is ``gone`` or ``failed``.
        attempts: The requests made for it in this run (0 when none was: a URL that is not
            fetched, or a host given up on), added to the table's ``attempts``.
    """

    state: str
    path: str | None = None
    size: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    reason: str | None = None
    attempts: int = 1


def now_text() -> str:
    """Now, in UTC, as the ISO 8601 text the tables hold (sortable as text)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


class ArchiveDatabase:
    """The open archive database (one connection, used from the event loop's thread).

    Raises:
        ArchiveDatabaseError: On opening, for a file that is not an SQLite database, that
            belongs to another program, or that a newer tengrai-async wrote.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            # isolation_level=None: transactions are begun and committed explicitly, per page.
            self._db = sqlite3.connect(path, isolation_level=None)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            if hasattr(self, "_db"):
                self._db.close()
            raise database_error(path, exc) from None
        except ArchiveDatabaseError:
            self._db.close()
            raise

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def _migrate(self) -> None:
        db = self._db
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if application_id != APPLICATION_ID and (application_id != 0 or tables):
            raise ArchiveDatabaseError(
                f"{self.path} is an SQLite database, but not a tengrai-async archive; "
                "give the archive a directory of its own"
            )
        if version > SCHEMA_VERSION:
            raise ArchiveDatabaseError(
                f"{self.path} was written by a newer tengrai-async (schema {version}, this "
                f"one knows {SCHEMA_VERSION}); upgrade tengrai-async to use it"
            )
        # Only now that the file is known to be ours (or new) is anything about it changed.
        db.execute("PRAGMA journal_mode = WAL")  # readers (other tools) never block a run
        db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a crash loses no commit
        db.execute("PRAGMA foreign_keys = ON")
        # Both ids are random, so every page's rows land all over the two primary-key
        # indexes: a cache that holds them, and fewer (larger) checkpoints, cost a third
        # less time per artwork than the defaults (2 MiB, 1,000 pages); see the benchmarks.
        db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        db.execute(f"PRAGMA wal_autocheckpoint = {_CHECKPOINT_PAGES}")
        for step in range(version, SCHEMA_VERSION):
            # One transaction per step, the version bump included (executescript would commit a
            # transaction begun outside it, so the script carries its own BEGIN and COMMIT).
            try:
                db.executescript(
                    f"BEGIN IMMEDIATE;\n{_MIGRATIONS[step]}\n"
                    f"PRAGMA application_id = {APPLICATION_ID};\n"
                    f"PRAGMA user_version = {step + 1};\nCOMMIT;"
                )
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def _transaction(self) -> Any:
        return _Transaction(self._db)

    # --- runs -----------------------------------------------------------------------------

    def high_water_mark(self) -> str | None:
        """The ``createdAt`` of the newest artwork of the last complete run, as the API wrote it.

        Everything created before it was archived by that run (or an earlier one).
        """
        row = self._db.execute(
            "SELECT newest_created_at FROM runs WHERE complete = 1 "
            "AND newest_created_at IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    def start_run(self) -> int:
        """Record a new run, ``interrupted`` until it finishes (or if it never does); its id."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO runs (started_at, outcome) VALUES (?, 'interrupted')", (now_text(),)
            )
        assert cursor.lastrowid is not None  # noqa: S101 - an INSERT always sets it
        return cursor.lastrowid

    def finish_run(
        self, run: int, /, *, outcome: str, complete: bool, newest: str | None, **counts: int
    ) -> None:
        """Record how a run ended; a complete run moves the high-water mark to *newest*."""
        columns = "".join(f", {name} = :{name}" for name in counts)
        with self._transaction():
            self._db.execute(
                f"UPDATE runs SET finished_at = :now, outcome = :outcome, complete = :complete, "  # noqa: S608 - column names are ours
                f"newest_created_at = :newest{columns} WHERE id = :run",
                {
                    "now": now_text(),
                    "outcome": outcome,
                    "complete": int(complete),
                    "newest": newest,
                    "run": run,
                    **counts,
                },
            )

    # --- artworks -------------------------------------------------------------------------

    def store_page(self, artworks: Iterable[StoredArtwork]) -> PageCounts:
        """Store one page of artworks in one transaction; count new, updated and unchanged.

        An artwork already stored with the same JSON is unchanged (only its ``last_seen``
        moves). The image rows of a succeeded artwork are added (or their URL updated while not
        yet downloaded).
        """
        counts = PageCounts()
        now = now_text()
        items = list(artworks)
        known = self._stored_json([artwork.id for artwork in items])
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        touches: list[str] = []
        images: list[tuple[str, int, str]] = []
        for artwork in items:
            text = artwork.json.decode("utf-8")
            old = known.get(artwork.id)
            if old != text and not artwork.valid:
                # An invalid artwork counts once, when it arrives or changes, not each run.
                counts.invalid += 1
                counts.invalid_ids.append(artwork.id)
            if old is None:
                counts.new += 1
                inserts.append(
                    (
                        *(artwork.id, artwork.artwork_type, artwork.status, artwork.created_at),
                        *(text, int(artwork.valid), now, now, now),
                    )
                )
            elif old == text:
                counts.unchanged += 1
                touches.append(artwork.id)
            else:
                counts.updated += 1
                updates.append(
                    (
                        *(artwork.artwork_type, artwork.status, artwork.created_at, text),
                        *(int(artwork.valid), now, now, artwork.id),
                    )
                )
            known[artwork.id] = text  # an id twice in one page: the second compares to the first
            if artwork.status == "succeeded":
                images.extend((artwork.id, n, url) for n, url in enumerate(artwork.results))
        db = self._db
        # A few statements per page, not a few per artwork: on the database's thread, each
        # statement gives the GIL up once (an executemany would give it up per row, and wait
        # for it again behind the event loop each time). Inserts first, so that an id met
        # twice in one page is inserted, then updated.
        with self._transaction():
            _insert_rows(db, _INSERT_ARTWORKS, inserts)
            db.executemany(
                "UPDATE artworks SET artwork_type = ?, status = ?, created_at = ?, json = ?, "
                "valid = ?, last_seen = ?, last_changed = ?, removed_at = NULL WHERE id = ?",
                updates,
            )
            for chunk in _chunks(touches, _MAX_PARAMETERS - 1):
                marks = ",".join("?" * len(chunk))
                db.execute(
                    f"UPDATE artworks SET last_seen = ? WHERE id IN ({marks})",  # noqa: S608 - only ?s
                    (now, *chunk),
                )
            _insert_rows(db, _INSERT_IMAGES, images)
        return counts

    def _stored_json(self, ids: list[str]) -> dict[str, str]:
        """The stored JSON text of those of *ids* already archived (one query per 500 ids)."""
        found: dict[str, str] = {}
        for chunk in _chunks(ids, _MAX_PARAMETERS):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT id, json FROM artworks WHERE id IN ({marks})",  # noqa: S608 - only ?s
                chunk,
            )
            found.update((str(row[0]), str(row[1])) for row in rows)
        return found

    def unfinished(self, seen_since: str) -> list[str]:
        """Ids of artworks archived while running and not seen since *seen_since*.

        Only the documented running statuses count: a status this SDK does not know (an
        unknown kind's, v1's ``done``) is not fetched again on every run.
        """
        rows = self._db.execute(
            "SELECT id FROM artworks WHERE removed_at IS NULL AND last_seen < ? "
            "AND status IN (?, ?) ORDER BY created_at DESC",
            (seen_since, *_RUNNING),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def mark_removed(self, artwork_id: str) -> None:
        """Record that the API no longer has this artwork (its JSON is kept)."""
        with self._transaction():
            self._db.execute(
                "UPDATE artworks SET removed_at = ? WHERE id = ?", (now_text(), artwork_id)
            )

    # --- images ---------------------------------------------------------------------------

    def pending_images(self, requests_per_run: int = 1) -> list[ImageJob]:
        """Images to download, newest first.

        Those never tried, and those that failed with fewer requests than
        :data:`MAX_IMAGE_ATTEMPTS` runs of *requests_per_run* each make (``attempts``
        counts requests).
        """
        rows = self._db.execute(
            "SELECT images.artwork_id, images.position, images.url FROM images "
            "JOIN artworks ON artworks.id = images.artwork_id "
            "WHERE images.state IS NULL OR (images.state = 'failed' AND images.attempts < ?) "
            "ORDER BY artworks.created_at DESC, images.position",
            (MAX_IMAGE_ATTEMPTS * requests_per_run,),
        ).fetchall()
        return [ImageJob(str(a), int(p), str(u)) for a, p, u in rows]

    def record_images(self, records: Sequence[tuple[ImageJob, ImageOutcome]]) -> None:
        """Record how some image downloads ended, in one transaction.

        A record whose URL the listing has changed meanwhile is dropped: the image is pending
        again, with its new URL.
        """
        now = now_text()
        rows = [
            (
                *(job.artwork_id, job.position, job.url, outcome.state, outcome.path),
                *(outcome.size, outcome.sha256, outcome.reason, outcome.content_type),
                *(outcome.attempts, now),
            )
            for job, outcome in records
        ]
        with self._transaction():
            _insert_rows(self._db, _RECORD_IMAGES, rows)


#: Bound parameters per statement, at most: SQLite's oldest limit (newer ones allow 32,766).
_MAX_PARAMETERS: Final = 999
_INSERT_ARTWORKS: Final = (
    "INSERT INTO artworks (id, artwork_type, status, created_at, json, valid, first_seen, "
    "last_seen, last_changed) VALUES {rows}"
)
# A URL that changed while its image was not yet downloaded is taken; a done image is kept.
_INSERT_IMAGES: Final = (
    "INSERT INTO images (artwork_id, position, url) VALUES {rows} "
    "ON CONFLICT (artwork_id, position) DO UPDATE SET url = excluded.url, state = NULL, "
    "reason = NULL WHERE images.url != excluded.url AND "
    "(images.state IS NULL OR images.state != 'done')"
)


# An upsert, so that a batch is one statement; the EXISTS keeps it to rows that exist, as an
# UPDATE would (a row removed by hand stays removed), and the WHERE to rows that still have the
# URL that was downloaded (the listing may have changed it meanwhile).
_RECORD_IMAGES: Final = (
    "WITH record (artwork_id, position, url, state, path, bytes, sha256, reason, content_type, "
    "attempts, updated_at) AS (VALUES {rows}) "
    "INSERT INTO images (artwork_id, position, url, state, path, bytes, sha256, reason, "
    "content_type, attempts, updated_at) SELECT * FROM record WHERE EXISTS (SELECT 1 FROM "
    "images WHERE images.artwork_id = record.artwork_id AND images.position = record.position) "
    "ON CONFLICT (artwork_id, position) DO UPDATE SET state = excluded.state, "
    "path = excluded.path, bytes = excluded.bytes, sha256 = excluded.sha256, "
    "reason = excluded.reason, content_type = excluded.content_type, "
    "attempts = images.attempts + excluded.attempts, updated_at = excluded.updated_at "
    "WHERE images.url = excluded.url"
)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_rows(db: sqlite3.Connection, statement: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert *rows* with as few multi-row statements as :data:`_MAX_PARAMETERS` allows."""
    if not rows:
        return
    marks = "(" + ",".join("?" * len(rows[0])) + ")"
    for chunk in _chunks(rows, _MAX_PARAMETERS // len(rows[0])):
        db.execute(
            statement.format(rows=",".join([marks] * len(chunk))),
            [value for row in chunk for value in row],
        )


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on any exception (Ctrl-C included).

    As sqlite-utils' ``atomic()``: SQLite rolls back by itself on some errors (``SQLITE_FULL``
    among them), so ROLLBACK is issued only while a transaction is still open, and the error
    that ended it is the one raised; a COMMIT that fails is rolled back too.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:
            self._rollback()
            return
        try:
            self._db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
