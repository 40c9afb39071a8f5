"""``tengrai-async export``: its parser, and its run from the parsed options to ``export``.

The export itself (files, checkpoint, resume) is ``_export``; the client comes from the
dispatch (``Connect``).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import Final, TextIO

import attrs

from .. import _rules
from .._enums import ArtworkStatus, ArtworkType
from ._arguments import (
    KEY_NOTE,
    PROG,
    Commands,
    Connect,
    UsageError,
    demo_options,
    integer,
    timestamp,
)
from ._checkpoint import QUERY_KEYS
from ._export import export
from ._export_plan import DEFAULT_PAGE_SIZE, STDOUT, ExportOptions, ExportPlan, as_option, plan
from ._formats import FORMATS, Format
from ._signals import run

__all__ = ["add_export_parser", "run_export"]

_EXPORT_EXIT_NOTE: Final = """exit codes:
  0    done
  1    API or network failure after retries (a file export keeps its checkpoint)
  2    usage error: bad arguments, no API key, an output that cannot be written, another
       export writing the same file (its pid is named), a checkpoint in the way, unusable,
       or not matching the options given with --resume
  3    done, but invalid artworks were set aside in the rejects file
  4    a local file failed while the export wrote it (disk full, I/O error; the file and the
       OS error are named); a file export keeps its checkpoint
  130  interrupted (Ctrl-C); a file export keeps its checkpoint
  141  the reader of the output went away (export | head); nothing is printed
  143  terminated (SIGTERM): as 130, Ctrl-C"""
_EXPORT_EPILOG: Final = f"{KEY_NOTE}\n\n{_EXPORT_EXIT_NOTE}"


def add_export_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    """Add ``export`` to the command's subparsers."""
    exporter = commands.add_parser(
        "export",
        parents=[connection],
        help="stream every artwork to a JSONL or CSV file (resumable)",
        description=textwrap.fill(
            "Stream every artwork, page by page, to a JSONL or CSV file or stdout. A file "
            "export writes FILE.part and FILE.checkpoint.json as it goes; after an interruption "
            "or a failure, -o FILE --resume continues where it stopped, with the format, "
            "filters and paging the checkpoint recorded.",
            width=78,
        ),
        epilog=_EXPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    output = exporter.add_argument_group("output")
    output.add_argument(
        "-o",
        "--output",
        default=STDOUT,
        metavar="FILE",
        help="where to write; '-' is stdout; a link is followed; a device, FIFO or /dev/fd/N "
        "is written directly; only a regular FILE can resume (default: -)",
    )
    output.add_argument(
        "--format",
        choices=FORMATS,
        help="jsonl: the API's JSON, one object a line; csv: one row per artwork "
        "(default: csv when FILE ends in .csv, else jsonl; with --resume, the checkpoint's)",
    )
    output.add_argument(
        "--rejects",
        metavar="FILE",
        help="where artworks that break the spec go, as JSONL {offset, path, error, raw} "
        "(default: FILE.rejects.jsonl, or tengrai-rejects.jsonl with stdout); "
        "created only when there is one",
    )
    restart = output.add_mutually_exclusive_group()
    restart.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted export of FILE; the format, filters, --page-size, "
        "--max-items and --demo are the checkpoint's: leave them out, or give the same",
    )
    restart.add_argument(
        "--force", action="store_true", help="discard an interrupted export of FILE and start over"
    )
    output.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    filters = exporter.add_argument_group("filters (applied by the client as items stream)")
    filters.add_argument(
        "--type",
        dest="types",
        action="append",
        default=[],
        metavar="TYPE",
        help="keep this artwork type; repeatable (known: "
        + ", ".join(member.value for member in ArtworkType)
        + ")",
    )
    filters.add_argument(
        "--status",
        dest="statuses",
        action="append",
        default=[],
        choices=[member.value for member in ArtworkStatus],
        metavar="STATUS",
        help="keep this status; repeatable ("
        + ", ".join(member.value for member in ArtworkStatus)
        + ")",
    )
    filters.add_argument(
        "--since",
        type=timestamp,
        metavar="TIME",
        help="keep artworks created at or after TIME (ISO 8601 with a UTC offset, e.g. "
        "2026-01-31T00:00Z); the first older artwork ends the listing (newest first)",
    )
    filters.add_argument(
        "--scan-all",
        action="store_true",
        help="with --since, read the whole listing and filter, instead of stopping at the "
        "first older artwork (for a listing that is not newest first)",
    )
    filters.add_argument(
        "--until", type=timestamp, metavar="TIME", help="keep artworks created before TIME"
    )
    tuning = exporter.add_argument_group("paging")
    tuning.add_argument(
        "--page-size",
        type=integer(_rules.LIMIT),
        metavar="N",
        help=f"artworks per request, 1..500 (default: {DEFAULT_PAGE_SIZE})",
    )
    tuning.add_argument(
        "--prefetch",
        type=integer(_rules.IntRange(1)),
        default=4,
        metavar="N",
        help="requests in flight at once (default: %(default)s)",
    )
    tuning.add_argument(
        "--max-items",
        type=integer(_rules.OFFSET),
        metavar="N",
        help="stop after N artworks in all",
    )


def _given(args: argparse.Namespace) -> frozenset[str]:
    """The keys of the export's query its options give: a resume takes the rest."""
    # Each key of the query is its option's dest (tests/test_cli_query_keys.py holds them so).
    values = {key: getattr(args, key) for key in QUERY_KEYS}
    # None, False or [] is an option left out: none can be typed (but 0 can: --max-items 0).
    return frozenset(
        key
        for key, value in values.items()
        if value is not None and value is not False and value != []
    )


def _export_options(args: argparse.Namespace) -> ExportOptions:
    fmt: Format = args.format or ("csv" if args.output.lower().endswith(".csv") else "jsonl")
    return ExportOptions(
        output=args.output,
        fmt=fmt,
        rejects=args.rejects,
        resume=args.resume,
        force=args.force,
        quiet=args.quiet,
        types=tuple(args.types),
        statuses=tuple(args.statuses),
        since=args.since,
        scan_all=args.scan_all,
        until=args.until,
        page_size=args.page_size or DEFAULT_PAGE_SIZE,
        prefetch=args.prefetch,
        max_items=args.max_items,
        demo=demo_options(args),
        given=_given(args),
    )


def run_export(args: argparse.Namespace, stderr: TextIO, *, connect: Connect) -> int:
    """Run ``export`` with the parsed *args*; the exit code."""
    # The output is checked, locked and opened first: a checkpoint in the way, or another
    # export writing the file, needs no connection. Outside the event loop, so that Ctrl-C
    # stops a wait for a FIFO's reader.
    _warn_unknown_types(args.types, stderr)
    with plan(_export_options(args)) as ready:
        return run(_export_with_client(args, ready, stderr, connect=connect))


def _warn_unknown_types(types: Sequence[str], stderr: TextIO) -> None:
    """Say so when a ``--type`` is no documented kind: the filter applies all the same."""
    known = [member.value for member in ArtworkType]
    unknown = sorted({name for name in types if name not in known})
    if unknown:
        stderr.write(
            f"{PROG}: warning: --type {', '.join(unknown)}: not a documented kind (those are "
            f"{', '.join(known)}); filtering by it all the same, for a kind newer than this "
            "version\n"
        )


async def _export_with_client(
    args: argparse.Namespace, ready: ExportPlan, stderr: TextIO, *, connect: Connect
) -> int:
    demo = ready.options.demo  # a resume takes it from the checkpoint
    if demo is not None:
        if args.base_url is not None:
            raise UsageError(
                f"the interrupted export read the built-in demo API "
                f"({as_option('demo', {'count': demo.count, 'seed': demo.seed})}), which "
                "runs its own server: drop --base-url, or use --force to start over"
            )
        demo = attrs.evolve(demo, latency=args.demo_latency, fault_rate=args.demo_fault_rate)
    async with connect(args, demo=demo) as client:
        return await export(client, ready, stdout=sys.stdout.buffer, stderr=stderr)
