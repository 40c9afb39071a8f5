"""``tengrai-async list``: one page of artworks, as a table or as JSONL.

Its parser and its run; the client comes from the dispatch (``Connect``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import Final, TextIO

from .. import _rules
from .._models import Artwork
from ._arguments import KEY_NOTE, PROG, Commands, Connect, demo_options, integer
from ._exits import EXIT_OK, EXIT_REJECTS
from ._formats import JSONLWriter
from ._output import OutputClosedError
from ._progress import plural
from ._table import render

__all__ = ["add_list_parser", "run_list"]

_LIST_EXIT_NOTE: Final = """exit codes:
  0    done (an empty page too: stderr says so)
  1    API or network failure after retries
  2    usage error: bad arguments, no API key
  3    done, but invalid artworks were left out (each is named on stderr)
  130  interrupted (Ctrl-C)
  141  the reader of the output went away (list | head); nothing is printed
  143  terminated (SIGTERM), handled as Ctrl-C"""
_LIST_EPILOG: Final = f"{KEY_NOTE}\n\n{_LIST_EXIT_NOTE}"


def add_list_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    """Add ``list`` to the command's subparsers."""
    lister = commands.add_parser(
        "list",
        parents=[connection],
        help="print one page of artworks as a table, or as JSONL",
        description=textwrap.fill(
            "Print one page of artworks as a table (id, type, status, created, style, prompt) "
            "or, with --json, as JSONL. An empty page prints nothing on stdout and says so on "
            "stderr; when more artworks follow, stderr gives the --offset of the next page.",
            width=78,
        ),
        epilog=_LIST_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lister.add_argument(
        "--offset",
        type=integer(_rules.OFFSET),
        default=0,
        metavar="N",
        help="artworks to skip (default: 0)",
    )
    lister.add_argument(
        "--limit",
        type=integer(_rules.LIMIT),
        default=20,
        metavar="N",
        help="artworks to show, 1..500 (default: %(default)s)",
    )
    lister.add_argument(
        "--json",
        action="store_true",
        help="print JSONL instead of a table: each line one artwork exactly as the API sent it",
    )


async def run_list(args: argparse.Namespace, stderr: TextIO, *, connect: Connect) -> int:
    """Run ``list`` with the parsed *args*; the exit code."""
    async with connect(args, demo=demo_options(args)) as client:
        page = await client.artworks.list(offset=args.offset, limit=args.limit, on_invalid="skip")
    if page.items:
        _print_page(page.items, as_json=args.json)
    for error in page.invalid:
        stderr.write(f"{PROG}: skipped an invalid artwork: {error}\n")
    if not page.items:
        # Nothing on stdout, in either mode: an empty page says so here.
        if page.invalid:
            why = f"{plural(len(page.invalid), 'invalid one')} left out"
        elif page.offset:
            why = "the listing ends before it"
        else:
            why = "the listing is empty"
        stderr.write(f"{PROG}: no artworks at offset {page.offset} ({why})\n")
    if page.has_more:
        stderr.write(f"{PROG}: more after this page: --offset {page.next_offset}\n")
    return EXIT_REJECTS if page.invalid else EXIT_OK


def _print_page(items: Sequence[Artwork], *, as_json: bool) -> None:
    """Write the page to stdout: a table, or JSONL (each line the API's JSON of one artwork)."""
    stdout = sys.stdout
    try:
        if as_json:
            stdout.flush()
            stdout.buffer.write(JSONLWriter().page(items))
            stdout.buffer.flush()
        else:
            stdout.write(render(items, width=shutil.get_terminal_size().columns))
            stdout.flush()
    except BrokenPipeError:  # list | head: the reader has what it wanted
        raise OutputClosedError(stdout=True) from None
