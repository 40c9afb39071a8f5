"""``tengrai-async search DIR QUERY``: the archive's artworks that match, in the terminal.

Newest first: the full id, the date (UTC), kind, status and the prompt cut to the terminal's
width; ``--json`` prints each artwork's JSON as the API sent it, one a line.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Final, TextIO

import orjson

from .._enums import ArtworkStatus, ArtworkType
from ..archive._reader import (
    ArchiveReader,
    Filters,
    StoredRow,
    json_object,
    mapping,
    prompt_of,
    utc_text,
)
from ._arguments import PROG
from ._browse import AddParser
from ._exits import EXIT_CLOSED, EXIT_OK
from ._output import silence_stdout

__all__ = ["add_search", "run_search"]

_EXIT_NOTE: Final = """exit codes:
  0    done (no match too: stderr says so)
  2    usage error: bad arguments, DIR holds no archive (the file is named), an archive
       written by a newer tengrai-async or not yet brought up to date by `archive`
  141  the reader of the output went away (search | head); nothing is printed"""
#: Matches read from the archive at a time.
_BATCH: Final = 500
#: The widest kind and status of the spec: the columns line up across batches.
_KIND_WIDTH: Final = max(len(member.value) for member in ArtworkType)
_STATUS_WIDTH: Final = max(len(member.value) for member in ArtworkStatus)
_GAP: Final = "  "
_MIN_PROMPT: Final = 20


def add_search(add_parser: AddParser) -> None:
    """Add ``search`` to the command's subparsers."""
    parser = add_parser(
        "search",
        help="print the archived artworks whose prompts match QUERY",
        description=textwrap.fill(
            "Print the artworks of the archive in DIR whose text parameters (prompt, "
            "negativePrompt, textPrompt, ...) hold every word of QUERY (each word as a "
            "prefix: 'fox' finds foxes), newest first: id, created (UTC), type, status and "
            "prompt. DIR/archive.sqlite is only read. An empty QUERY matches every artwork.",
            width=78,
        ),
        epilog=_EXIT_NOTE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("directory", metavar="DIR", help="the archive directory")
    parser.add_argument("query", metavar="QUERY", help="the words to look for")
    parser.add_argument(
        "--type",
        dest="types",
        action="append",
        default=[],
        metavar="TYPE",
        help="keep this artwork type; repeatable",
    )
    parser.add_argument(
        "--status",
        dest="statuses",
        action="append",
        default=[],
        metavar="STATUS",
        help="keep this status; repeatable",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print each artwork's JSON exactly as the API sent it, one a line",
    )


def _json_line(row: StoredRow) -> str:
    if "\n" not in row.json and "\r" not in row.json:
        return row.json  # as the API sent it
    # One a line even if the stored text spans several: the same JSON, compact.
    return orjson.dumps(orjson.loads(row.json)).decode()


def _created(text: str | None) -> str:
    return utc_text(text, "%Y-%m-%d %H:%M:%S", missing="-")


def _line(row: StoredRow, width: int) -> str:
    cells = (
        row.id,
        _created(row.created_at).ljust(19),
        (row.artwork_type or "-").ljust(_KIND_WIDTH),
        (row.status or "-").ljust(_STATUS_WIDTH),
    )
    head = _GAP.join(cells) + _GAP
    prompt = " ".join(
        prompt_of(mapping(json_object(row.json).get("parameters"))).split()
    )  # one line, whatever the prompt holds
    room = max(_MIN_PROMPT, width - len(head))
    if len(prompt) > room:
        prompt = prompt[: room - 1] + "…"
    return (head + prompt).rstrip()


def run_search(args: argparse.Namespace, stderr: TextIO) -> int:
    """Run ``search`` with the parsed *args*; the exit code."""
    directory = Path(args.directory)
    reader = ArchiveReader(directory)  # an ArchiveDatabaseError is a usage error (exit 2)
    filters = Filters(q=args.query, types=tuple(args.types), statuses=tuple(args.statuses))
    width = shutil.get_terminal_size().columns
    found = 0
    try:
        older: str | None = None
        while True:
            page = reader.find(filters, limit=_BATCH, older=older)
            if args.json:
                text = "".join(_json_line(row) + "\n" for row in page.artworks)
            else:
                text = "".join(_line(row, width) + "\n" for row in page.artworks)
            sys.stdout.write(text)
            found += len(page.artworks)
            older = page.older
            if older is None:
                break
        sys.stdout.flush()
    except BrokenPipeError:  # search | head: the reader has what it wanted
        silence_stdout()
        return EXIT_CLOSED
    finally:
        reader.close()
    if not found:
        stderr.write(f"{PROG}: no artwork of {directory} matches\n")
    return EXIT_OK
