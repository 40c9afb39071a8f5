"""Reading an archive without ever writing it: filters, full-text search, pages, one artwork.

The gallery and the ``search`` command read through :class:`ArchiveReader`, which opens
``archive.sqlite`` read-only (``mode=ro``) while an archive run may be writing it.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, cast

import attrs
import orjson

from .._rules import Timestamp
from ._db import APPLICATION_ID, SCHEMA_VERSION, ArchiveDatabaseError, database_error
from ._fts import MOMENT, match_expression

__all__ = [
    "ArchiveReader",
    "Filters",
    "ImageRow",
    "Page",
    "StoredRow",
    "json_object",
    "mapping",
    "prompt_of",
]

#: The database file inside the archive directory (as ``sync`` names it).
_DATABASE_NAME: Final = "archive.sqlite"
#: The page cache, at most (as the archive's own connection): a search reads many pages.
_CACHE_KIB: Final = 64 * 1024
#: The first schema with the search index.
_SEARCH_SCHEMA: Final = 2
#: The text parameters, in the order a caption prefers one.
_TEXTS: Final = ("prompt", "textPrompt", "negativePrompt")
_COLUMNS: Final = "id, artwork_type, status, created_at, json, first_seen, last_seen, removed_at"


@attrs.frozen(kw_only=True)
class Filters:
    """Which artworks to show; every filter given must hold (they combine with AND).

    Attributes:
        q: Words to search for in the text parameters (each as a prefix).
        types: Keep these ``artworkType`` values (any of them); empty: all.
        statuses: Keep these statuses (any of them); empty: all.
        since: Keep artworks created at or after this aware moment.
        before: Keep artworks created before this aware moment.
    """

    q: str = ""
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    since: _dt.datetime | None = None
    before: _dt.datetime | None = None


@attrs.frozen
class ImageRow:
    """One row of the ``images`` table: ``path`` is set when ``state`` is ``done``."""

    position: int
    url: str
    path: str | None
    state: str | None


@attrs.frozen(kw_only=True)
class StoredRow:
    """One artwork as the archive holds it: the API's JSON text and the archive's own dates."""

    id: str
    artwork_type: str | None
    status: str | None
    created_at: str | None
    json: str
    first_seen: str
    last_seen: str
    removed_at: str | None
    images: tuple[ImageRow, ...] = ()


@attrs.frozen(kw_only=True)
class Page:
    """One page of matches, newest first.

    Attributes:
        artworks: The artworks of this page.
        count: How many artworks match in all.
        older: The key of the next (older) page: the id of this page's last artwork, or
            ``None`` when no older match follows.
    """

    artworks: tuple[StoredRow, ...]
    count: int
    older: str | None


def mapping(value: object) -> dict[str, Any]:
    """*value* if it is a JSON object, else an empty one."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def json_object(text: str) -> dict[str, Any]:
    """The JSON object of *text*, or an empty one when it is not JSON or not an object."""
    try:
        return mapping(orjson.loads(text))
    except orjson.JSONDecodeError:
        return {}


def prompt_of(parameters: dict[str, Any]) -> str:
    """An artwork's prompt (else its ``textPrompt``, else its ``negativePrompt``), or ``""``."""
    for key in _TEXTS:
        value = parameters.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _moment_text(moment: _dt.datetime) -> str:
    """The UTC text ``julianday()`` reads, to the millisecond (as it keeps moments)."""
    utc = moment.astimezone(_dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class ArchiveReader:
    """An archive directory's database, opened read-only.

    Each call reads the database as it is at that moment: what an archive run commits shows
    on the next call.

    Raises:
        ArchiveDatabaseError: On opening: *directory* holds no archive, or one that is not
            ours, that a newer tengrai-async wrote, or that has no search index yet (run
            ``tengrai-async archive`` once to add it).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = path = directory / _DATABASE_NAME
        if not directory.is_dir():
            raise ArchiveDatabaseError(f"{directory} is not a directory holding an archive")
        if not path.is_file():
            raise ArchiveDatabaseError(f"{directory} holds no archive: {path} does not exist")
        uri = "file:" + urllib.parse.quote(str(path.absolute())) + "?mode=ro"
        try:
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise database_error(path, exc) from None
        try:
            self._check()
            self._db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise database_error(path, exc) from None
        except ArchiveDatabaseError:
            self._db.close()
            raise

    def _check(self) -> None:
        application_id = self._db.execute("PRAGMA application_id").fetchone()[0]
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if application_id != APPLICATION_ID:
            if application_id == 0 and version == 0 and tables == 0:
                raise ArchiveDatabaseError(
                    f"{self.directory} holds no archive: {self.path} is empty"
                )
            raise ArchiveDatabaseError(
                f"{self.path} is an SQLite database, but not a tengrai-async archive"
            )
        if version > SCHEMA_VERSION:
            raise ArchiveDatabaseError(
                f"{self.path} was written by a newer tengrai-async (schema {version}, this "
                f"one knows {SCHEMA_VERSION}); upgrade tengrai-async to use it"
            )
        if version < _SEARCH_SCHEMA:
            raise ArchiveDatabaseError(
                f"{self.path} has no search index yet: run `tengrai-async archive "
                f"{self.directory}` once to add it (browse and search never write the archive)"
            )

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def find(self, filters: Filters, *, limit: int, older: str | None = None) -> Page:
        """The page of at most *limit* matches of *filters* that follows the artwork *older*.

        Newest first by the moment ``createdAt`` names (ties by id): paging on that key stays
        stable while an archive run adds newer artworks.
        """
        where, values = self._where(filters)
        page_where = list(where)
        page_values = list(values)
        if older is not None:
            # An id the archive does not hold gives NULL: an empty page, not an error. Spelled
            # as a range on the moment (not a row value, which SQLite would not seek to).
            key = f"(SELECT {MOMENT} FROM artworks WHERE id = ?)"  # noqa: S608 - a ?
            page_where.append(f"{MOMENT} <= {key} AND ({MOMENT} < {key} OR id < ?)")
            page_values += [older, older, older]
        self._db.execute("BEGIN")  # one snapshot for the count and the page
        try:
            count = self._count(filters, where, values)
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM artworks{_clause(page_where)} "  # noqa: S608 - ours
                f"ORDER BY {MOMENT} DESC, id DESC LIMIT ?",
                [*page_values, limit + 1],
            ).fetchall()
            artworks = self._with_images(rows[:limit])
        finally:
            self._db.execute("COMMIT")
        return Page(
            artworks=artworks,
            count=count,
            older=artworks[-1].id if len(rows) > limit else None,
        )

    def _count(self, filters: Filters, where: list[str], values: list[Any]) -> int:
        if where and filters == Filters(q=filters.q):
            # Words alone: the index has one row per artwork (the triggers see to it).
            sql = "SELECT count(*) FROM artworks_fts WHERE artworks_fts MATCH ?"
        else:
            sql = f"SELECT count(*) FROM artworks{_clause(where)}"  # noqa: S608 - ours
        return int(self._db.execute(sql, values).fetchone()[0])

    def artwork(self, artwork_id: str) -> StoredRow | None:
        """The artwork *artwork_id* with its images, or ``None`` when the archive has none."""
        self._db.execute("BEGIN")
        try:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM artworks WHERE id = ?",  # noqa: S608 - ours
                (artwork_id,),
            ).fetchall()
            found = self._with_images(rows)
        finally:
            self._db.execute("COMMIT")
        return found[0] if found else None

    def _where(self, filters: Filters) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        values: list[Any] = []
        match = match_expression(filters.q)
        if match is not None:
            # "+rowid": the matches are probed while an index is read in order, rather than
            # each looked up in the table (its rows hold the JSON: thousands of page reads).
            where.append("+rowid IN (SELECT rowid FROM artworks_fts WHERE artworks_fts MATCH ?)")
            values.append(match)
        for column, wanted in (("artwork_type", filters.types), ("status", filters.statuses)):
            if wanted:
                where.append(f"{column} IN ({','.join('?' * len(wanted))})")
                values += wanted
        if filters.since is not None:
            where.append(f"{MOMENT} >= julianday(?)")
            values.append(_moment_text(filters.since))
        if filters.before is not None:
            where.append(f"{MOMENT} < julianday(?)")
            values.append(_moment_text(filters.before))
        return where, values

    def _with_images(self, rows: Sequence[Any]) -> tuple[StoredRow, ...]:
        ids = [str(row[0]) for row in rows]
        images: dict[str, list[ImageRow]] = {artwork_id: [] for artwork_id in ids}
        if ids:
            found = self._db.execute(
                "SELECT artwork_id, position, url, path, state FROM images "  # noqa: S608 - ?s
                f"WHERE artwork_id IN ({','.join('?' * len(ids))}) ORDER BY artwork_id, position",
                ids,
            )
            for artwork_id, position, url, path, state in found:
                images[str(artwork_id)].append(ImageRow(int(position), str(url), path, state))
        return tuple(
            StoredRow(
                id=str(row[0]),
                artwork_type=row[1],
                status=row[2],
                created_at=row[3],
                json=str(row[4]),
                first_seen=str(row[5]),
                last_seen=str(row[6]),
                removed_at=row[7],
                images=tuple(images[str(row[0])]),
            )
            for row in rows
        )


def _clause(where: list[str]) -> str:
    return " WHERE " + " AND ".join(where) if where else ""


def utc_text(text: str | None, fmt: str, *, missing: str = "") -> str:
    """``createdAt`` as UTC in *fmt*, read as the models read it; the text itself if unreadable.

    The archive keeps the API's text exactly, in whichever RFC 3339 spelling it came.
    """
    if not text:
        return missing
    try:
        moment = Timestamp.parse(text)
    except ValueError:
        return text
    return moment.astimezone(_dt.timezone.utc).strftime(fmt)
