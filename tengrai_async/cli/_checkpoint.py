"""The export checkpoint: what a resumed export needs, saved atomically after every page.

It records where the listing stands (``next_offset``), how many bytes of the ``.part`` file and
of the rejects file are complete, and the query it belongs to, so a resume cannot mix queries.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Final

import attrs
import orjson

__all__ = ["VERSION", "Checkpoint", "CheckpointError", "load", "remove", "save"]

#: Bumped whenever the file's meaning changes; another version is refused, never guessed at.
VERSION: Final = 1


class CheckpointError(Exception):
    """A checkpoint that cannot be read or does not fit the command (a usage error)."""


@attrs.frozen(kw_only=True)
class Checkpoint:
    """The state of an interrupted export.

    Attributes:
        query: What is exported: format, filters, page size, item budget, demo data.
            A resume must ask for exactly the same.
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
    # The temporary file lives beside the target: os.replace is atomic only within a filesystem.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


def load(path: Path) -> Checkpoint:
    """Read a checkpoint written by :func:`save`.

    Raises:
        CheckpointError: The file is unreadable, not a checkpoint, or of another version.
    """
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise CheckpointError(f"cannot read the checkpoint {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise CheckpointError(
            f"{path} is not a version {VERSION} export checkpoint; use --force to start over"
        )
    if not isinstance(data.get("query"), dict):
        raise CheckpointError(f"the checkpoint {path} has no query")
    try:
        checkpoint = Checkpoint(
            query=data["query"],
            next_offset=data["next_offset"],
            part_bytes=data["part_bytes"],
            items=data["items"],
            rejects=data["rejects"],
            rejects_bytes=data["rejects_bytes"],
            recent_ids=tuple(data["recent_ids"]),
        )
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"the checkpoint {path} is incomplete ({exc!r})") from None
    counters = (
        checkpoint.next_offset,
        checkpoint.part_bytes,
        checkpoint.items,
        checkpoint.rejects,
        checkpoint.rejects_bytes,
    )
    if not all(type(n) is int and n >= 0 for n in counters):
        raise CheckpointError(f"the checkpoint {path} holds invalid values")
    return checkpoint


def remove(path: Path) -> None:
    """Delete a checkpoint, if there is one."""
    path.unlink(missing_ok=True)
