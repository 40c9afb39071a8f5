"""The export checkpoint: what a resumed export needs, saved atomically after every page.

It records where the listing stands (``next_offset``), how many bytes of the ``.part`` file and
of the rejects file are complete, and the query it belongs to: a resume takes the query from it,
so the options need not be typed again, and cannot mix queries.
"""

from __future__ import annotations

import datetime as _dt
import os
import stat
from pathlib import Path
from typing import Any, Final

import attrs
import orjson

from .. import _rules
from .._enums import ArtworkStatus
from ._atomic import replace_file
from ._formats import FORMATS

__all__ = [
    "MAX_COUNT",
    "QUERY_KEYS",
    "QUERY_OPTIONS",
    "RECENT_PAGES",
    "VERSION",
    "Checkpoint",
    "CheckpointError",
    "load",
    "refused",
    "remove",
    "save",
    "short",
    "utc_text",
]

#: Bumped whenever the file's meaning changes; another version is refused, never guessed at.
VERSION: Final = 1
#: The largest count a checkpoint may hold (2**53 - 1, the largest integer every JSON reader
#: keeps exact); no export comes near it, so anything larger is damage.
MAX_COUNT: Final = 2**53 - 1
#: Ids of this many recent pages are kept in the checkpoint to drop repeats after a resume.
RECENT_PAGES: Final = 2
#: The largest checkpoint file read (one holds a query and at most two pages of ids).
MAX_SIZE: Final = 1 << 20
_COUNTERS: Final = ("next_offset", "part_bytes", "items", "rejects", "rejects_bytes")
_KEYS: Final = frozenset({"version", "query", "recent_ids", *_COUNTERS})
_SHORT: Final = 60
#: The keys of a checkpoint's query (everything that decides which bytes an export writes),
#: each with the ``export`` option that gives it. Each key is also that option's ``dest`` in
#: the parsed arguments. The one table of them: the parser's "given" check, the checkpoint
#: and the resume check all read it.
QUERY_OPTIONS: Final = {
    "format": "--format",
    "types": "--type",
    "statuses": "--status",
    "since": "--since",
    "until": "--until",
    "scan_all": "--scan-all",
    "page_size": "--page-size",
    "max_items": "--max-items",
    "demo": "--demo",
}
#: The keys of a checkpoint's query, in the order it is written.
QUERY_KEYS: Final = tuple(QUERY_OPTIONS)
_DEMO_KEYS: Final = frozenset({"count", "seed"})
_STATUSES: Final = frozenset(member.value for member in ArtworkStatus)


class CheckpointError(Exception):
    """A checkpoint that cannot be read or does not fit the command (a usage error)."""


@attrs.frozen(kw_only=True)
class Checkpoint:
    """The state of an interrupted export.

    Attributes:
        query: What is exported (the keys of :data:`QUERY_KEYS`): format, filters, page size,
            item budget, demo data. A resume takes it from here; options it is given must
            agree.
        next_offset: The listing offset to continue from.
        part_bytes: How many bytes of the ``.part`` file are complete pages.
        items: How many artworks those bytes hold.
        rejects: How many invalid items went to the rejects file.
        rejects_bytes: How many bytes of the rejects file are complete lines.
        recent_ids: The ids of the last page or two, to drop them if the listing shifted.
    """

    query: dict[str, Any]
    next_offset: int = 0
    part_bytes: int = 0
    items: int = 0
    rejects: int = 0
    rejects_bytes: int = 0
    recent_ids: tuple[str, ...] = ()


def save(path: Path, checkpoint: Checkpoint) -> None:
    """Replace *path* with *checkpoint* atomically: readers see the old one or the new one."""
    data = orjson.dumps(
        {"version": VERSION, **attrs.asdict(checkpoint)},
        option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE,
    )
    replace_file(path, data, durable=True)


def load(path: Path) -> Checkpoint:
    """Read a checkpoint written by :func:`save`, trusting nothing in it.

    Every key must be there with the type and range :func:`save` writes, and no other key:
    anything else (a truncated or damaged file, another version, a hand edit) is refused.

    Raises:
        CheckpointError: The file cannot be read, or is not a consistent version 1 checkpoint;
            the message says to use ``--force``.
    """
    data = _parse(path, _read(path))
    if not isinstance(data, dict):
        raise refused(path, f"holds {_kind(data)}, not an object")
    if "version" not in data:
        raise refused(path, "has no version")
    version = data["version"]
    if type(version) is not int or version != VERSION:
        raise refused(
            path,
            f"is of version {short(version)}, and this tengrai-async reads version {VERSION} only",
        )
    if set(data) != _KEYS:
        problems = []
        if missing := sorted(_KEYS - set(data)):
            problems.append(f"lacks {', '.join(missing)}")
        if unknown := sorted(set(data) - _KEYS):
            problems.append(_unknown(unknown))
        raise refused(path, "; ".join(problems))
    if not isinstance(data["query"], dict):
        raise refused(path, f"has a query that is {_kind(data['query'])}, not an object")
    _check_query(path, data["query"])
    for key in _COUNTERS:
        value = data[key]
        if type(value) is not int or not 0 <= value <= MAX_COUNT:
            raise refused(path, f"has {key} {short(value)}, not an integer from 0 to {MAX_COUNT}")
    ids = data["recent_ids"]
    if type(ids) is not list or not all(type(i) is str for i in ids):
        raise refused(path, "has recent_ids that are not a list of strings")
    checkpoint = Checkpoint(
        query=data["query"],
        next_offset=data["next_offset"],
        part_bytes=data["part_bytes"],
        items=data["items"],
        rejects=data["rejects"],
        rejects_bytes=data["rejects_bytes"],
        recent_ids=tuple(ids),
    )
    _check_consistent(path, checkpoint)
    return checkpoint


def _check_query(path: Path, query: dict[str, Any]) -> None:
    """Refuse a query :func:`save` could not have written: a resume runs what it says."""
    if set(query) != set(QUERY_KEYS):
        problems = []
        if missing := [key for key in QUERY_KEYS if key not in query]:
            problems.append(f"lacks {', '.join(missing)}")
        if unknown := sorted(set(query) - set(QUERY_KEYS)):
            problems.append(_unknown(unknown))
        raise refused(path, f"has a query that {' and '.join(problems)}")
    for key in QUERY_KEYS:
        expected = _query_expected(key, query[key])
        if expected is not None:
            raise refused(path, f"has a query whose {key} is {short(query[key])}, not {expected}")


def _query_expected(key: str, value: Any) -> str | None:  # noqa: PLR0911 - one rule a key
    """What *value* should have been, when it is not a value *key* of a query can have."""
    if key == "format":
        return None if value in FORMATS else " or ".join(FORMATS)
    if key == "types":
        ok = type(value) is list and all(type(item) is str and item for item in value)
        return None if ok else "a list of artwork types"
    if key == "statuses":
        ok = type(value) is list and all(type(item) is str and item in _STATUSES for item in value)
        return None if ok else f"a list of statuses ({', '.join(sorted(_STATUSES))})"
    if key in ("since", "until"):
        return None if value is None or _is_utc_text(value) else "null or a UTC time"
    if key == "scan_all":
        return None if type(value) is bool else "true or false"
    if key == "page_size":
        return None if _rules.LIMIT.accepts(value) else _rules.LIMIT.expected
    if key == "max_items":
        return None if value is None or _is_count(value) else f"null or {_COUNT_WORDS}"
    # demo: the synthetic data's size and seed
    ok = value is None or (
        isinstance(value, dict)
        and set(value) == _DEMO_KEYS
        and all(_is_count(value[k]) for k in _DEMO_KEYS)
    )
    return None if ok else f"null or an object of a count and a seed, each {_COUNT_WORDS}"


_COUNT_WORDS: Final = f"an integer from 0 to {MAX_COUNT}"


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_COUNT


def _is_utc_text(value: Any) -> bool:
    """Whether *value* is a time exactly as :func:`utc_text` writes it."""
    if type(value) is not str:
        return False
    try:
        moment = _dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return moment.utcoffset() is not None and utc_text(moment) == value


def utc_text(value: _dt.datetime | None) -> str | None:
    """An aware datetime as a query holds it: ISO 8601 in UTC (``None`` stays ``None``)."""
    return None if value is None else value.astimezone(_dt.timezone.utc).isoformat()


def _unknown(keys: list[str]) -> str:
    names = ", ".join(short(key) for key in keys)
    return f"has the unknown key {names}" if len(keys) == 1 else f"has unknown keys {names}"


def _check_consistent(path: Path, checkpoint: Checkpoint) -> None:
    # What save() writes always holds these; a file that breaks one was not written by it.
    if checkpoint.items > checkpoint.next_offset:
        raise refused(path, "counts more artworks than listing offsets it went past")
    if checkpoint.rejects > checkpoint.rejects_bytes or (
        (checkpoint.rejects == 0) != (checkpoint.rejects_bytes == 0)
    ):
        raise refused(path, "counts rejects and rejects bytes that do not match")
    if len(checkpoint.recent_ids) > checkpoint.items:
        raise refused(path, "lists more recent ids than artworks written")


def refused(path: Path, problem: str) -> CheckpointError:
    """The error for a checkpoint with *problem*, saying what to do about it."""
    return CheckpointError(
        f"the checkpoint {path} {problem}: it cannot be resumed; run the same command with "
        "--force to discard it and start over"
    )


def _read(path: Path) -> bytes:
    try:
        # O_NONBLOCK: a FIFO put at the name must not hang the command before it is refused.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise refused(path, f"cannot be read ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as file:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise refused(path, "is not a regular file")
            data = file.read(MAX_SIZE + 1)
        except OSError as exc:
            raise refused(path, f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_SIZE:
        raise refused(path, f"is larger than any checkpoint ({MAX_SIZE} bytes)")
    return data


def _parse(path: Path, data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise refused(path, "is not valid JSON (truncated or damaged)") from None


def _kind(value: Any) -> str:
    """What a JSON value is, in JSON's words."""
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    return "null" if value is None else kinds.get(type(value), "a list")


def short(value: Any) -> str:
    """*value* as JSON writes it (a checkpoint is JSON), cut to a length that fits a message."""
    try:
        text = orjson.dumps(value).decode("utf-8")
    except TypeError:  # nothing orjson.loads returns; kept to never fail a message
        text = str(value)
    return text if len(text) <= _SHORT else text[: _SHORT - 3] + "..."


def remove(path: Path) -> None:
    """Delete a checkpoint, if there is one."""
    path.unlink(missing_ok=True)
