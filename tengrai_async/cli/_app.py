"""The ``tengrai-async`` command: its parser, ``list``, and the dispatch to ``export``, ``archive``.

It also owns the exit codes: every failure is mapped here to 1 (API), 2 (usage), 4 (a local
file), 130 (Ctrl-C), 141 (the reader of the output went away) or 143 (SIGTERM, as Ctrl-C).
Each command's ``--help`` lists its own options and exit codes, and the options every command
shares.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import logging
import math
import os
import re
import shutil
import sys
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Final, TextIO, cast

import attrs

from .. import _rules
from .._client import API_KEY_ENV, BASE_URL_ENV, TengrAI
from .._enums import ArtworkStatus, ArtworkType
from .._errors import ConfigurationError, TengrAIError
from .._models import Artwork
from .._transport import RetryPolicy
from .._version import __version__
from ..archive import ArchiveDatabaseError, ArchiveLockedError, ArchiveWriteError
from ._archive import ArchiveOptions, archive, check_directory, make_directory
from ._browse import add_browse, run_browse
from ._create import add_create_parser, run_create
from ._demo import DEFAULT_COUNT, DemoOptions, demo_server
from ._exits import (
    EXIT_CLOSED,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_LOCAL_FILE,
    EXIT_OK,
    EXIT_REJECTS,
    EXIT_TERMINATED,
    EXIT_USAGE,
)
from ._export import (
    DEFAULT_PAGE_SIZE,
    STDOUT,
    ExportOptions,
    ExportPlan,
    UsageError,
    as_option,
    export,
    plan,
)
from ._formats import FORMATS, Format, JSONLWriter
from ._jobs import add_get_parser, add_wait_parser, run_get, run_wait
from ._output import LocalFileError, OutputClosedError, describe, silence_stdout
from ._progress import plural
from ._search import add_search, run_search
from ._signals import Terminated, run, sigterm_as_interrupt
from ._table import render

__all__ = ["build_parser", "main"]

PROG: Final = "tengrai-async"

_KEY_NOTE: Final = textwrap.fill(
    f"The API key is read from the {API_KEY_ENV} environment variable only: a key given on "
    "the command line would be visible to other users in the process list and end up in shell "
    f"history. The API root is --base-url, else {BASE_URL_ENV}, else https://api.tengr.ai.",
    width=78,
)
_EXIT_NOTE: Final = """exit codes (each COMMAND --help says more):
  0    done
  1    API or network failure after retries
  2    usage error: bad arguments, no API key, ...
  3    done, but some artworks were invalid; create --wait, wait: the job failed
       or was canceled
  4    export, archive: a local file failed while it was written
  124  create --wait, wait: --timeout ran out (the job keeps running upstream)
  130  interrupted (Ctrl-C)
  141  export, list: the reader of the output went away; nothing is printed
  143  terminated (SIGTERM), handled as Ctrl-C"""
_EPILOG: Final = f"{_KEY_NOTE}\n\n{_EXIT_NOTE}"
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
_EXPORT_EPILOG: Final = f"{_KEY_NOTE}\n\n{_EXPORT_EXIT_NOTE}"
_LIST_EXIT_NOTE: Final = """exit codes:
  0    done (an empty page too: stderr says so)
  1    API or network failure after retries
  2    usage error: bad arguments, no API key
  3    done, but invalid artworks were left out (each is named on stderr)
  130  interrupted (Ctrl-C)
  141  the reader of the output went away (list | head); nothing is printed
  143  terminated (SIGTERM), handled as Ctrl-C"""
_LIST_EPILOG: Final = f"{_KEY_NOTE}\n\n{_LIST_EXIT_NOTE}"
_ARCHIVE_EXIT_NOTE: Final = """exit codes:
  0    done (an image the host no longer has is recorded as gone, not a failure)
  1    API or network failure after retries (what was stored is kept)
  2    usage error: bad arguments, no API key, DIR not writable, another run holds DIR
       (its pid is named), or DIR/archive.sqlite is not an archive this version can use
  3    done, but some artworks were invalid (archived as sent; each is named) or some
       images failed
  4    DIR/archive.sqlite could not be written during the run (disk full, I/O error, another
       program holding its lock; the file and the error are named); what was stored is kept
  130  interrupted (Ctrl-C); the summary so far is printed, the next run carries on
  143  terminated (SIGTERM): as 130, Ctrl-C"""
_ARCHIVE_EPILOG: Final = f"{_KEY_NOTE}\n\n{_ARCHIVE_EXIT_NOTE}"


# --- argument types --------------------------------------------------------------------------


def _integer(rule: _rules.IntRange) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = rule.from_query(text.strip())
        if value is None:
            raise argparse.ArgumentTypeError(f"expected {rule.expected}, got {text!r}")
        return value

    return parse


def _number(
    *, minimum: float, maximum: float | None = None, open_min: bool = False
) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        too_low = value <= minimum if open_min else value < minimum
        if too_low or (maximum is not None and value > maximum) or math.isnan(value):
            raise argparse.ArgumentTypeError(f"out of range: {text!r}")
        return value

    return parse


def _timestamp(text: str) -> _dt.datetime:
    """An ISO 8601 date-time with a UTC offset; one without is refused, not guessed."""
    if _DATE_ALONE.fullmatch(text):
        # fromisoformat() would read 2026-01-01+02:00 as 02:00 local time: named, not guessed.
        day = text[:10]
        raise argparse.ArgumentTypeError(
            f"{text!r} is a date without a time: add one, such as {day}T00:00Z (midnight UTC)"
        )
    # Python 3.10's fromisoformat() does not read the "Z" suffix.
    iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        value = _dt.datetime.fromisoformat(iso)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 date-time such as 2026-01-31T09:00Z, got {text!r}"
        ) from None
    if value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset, so its moment is ambiguous: add one, "
            f"such as {value.isoformat()}Z or {value.isoformat()}+01:00"
        )
    return value


#: A calendar date alone, with or without an offset: it names a day, not a moment.
_DATE_ALONE: Final = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?")


# --- the parser --------------------------------------------------------------------------------


class _CommandParser(argparse.ArgumentParser):
    """A command's parser: an option it does not know is refused with that command's usage.

    (argparse hands a subcommand's unknown arguments up to the top level, whose usage names
    no option of the command that was mistyped.)
    """

    def parse_known_args(  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        assert parsed is not None  # noqa: S101 - a new namespace, or the one given
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def _connection_options() -> _CommandParser:
    """The options every command takes: where the API is, and how requests are made."""
    parent = _CommandParser(add_help=False)
    group = parent.add_argument_group("connection (every command)")
    group.add_argument(
        "--base-url", metavar="URL", help=f"the API root (default: ${BASE_URL_ENV} or the real API)"
    )
    group.add_argument(
        "--timeout",
        type=_number(minimum=0, open_min=True),
        default=30.0,
        metavar="SEC",
        help="seconds for one request, body included (default: %(default)s)",
    )
    group.add_argument(
        "--max-retries",
        type=_integer(_rules.OFFSET),
        default=3,
        metavar="N",
        help="retries of a failed request (429, 5xx, network) (default: %(default)s)",
    )
    group.add_argument(
        "-v", "--verbose", action="store_true", help="log every request to stderr (never the key)"
    )
    group.add_argument(
        "--demo",
        type=_integer(_rules.OFFSET),
        nargs="?",
        const=DEFAULT_COUNT,
        metavar="N",
        help=f"run against a built-in fake API with N synthetic artworks (default {DEFAULT_COUNT});"
        f" needs no {API_KEY_ENV}",
    )
    # For tests and demonstrations: a slow or faulty demo server, and quick retries.
    hidden = argparse.SUPPRESS
    group.add_argument("--demo-latency", type=_number(minimum=0), default=0.0, help=hidden)
    group.add_argument(
        "--demo-fault-rate", type=_number(minimum=0, maximum=1), default=0.0, help=hidden
    )
    group.add_argument("--demo-seed", type=_integer(_rules.OFFSET), default=None, help=hidden)
    group.add_argument("--retry-wait", type=_number(minimum=0), default=None, help=hidden)
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The ``tengrai-async`` argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Export, archive or list your Tengr.ai artworks (GET /v2/artworks); create "
        "them, get one, wait for one.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # Every command's parser (and its own subcommands') is a _CommandParser; typed as the
    # plain ArgumentParser it is, so that each command module registers itself alike.
    commands = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",  # noqa: SLF001 - the stub names it so
        parser.add_subparsers(
            dest="command", required=True, metavar="COMMAND", parser_class=_CommandParser
        ),
    )
    connection = _connection_options()

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
        type=_timestamp,
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
        "--until", type=_timestamp, metavar="TIME", help="keep artworks created before TIME"
    )
    tuning = exporter.add_argument_group("paging")
    tuning.add_argument(
        "--page-size",
        type=_integer(_rules.LIMIT),
        metavar="N",
        help=f"artworks per request, 1..500 (default: {DEFAULT_PAGE_SIZE})",
    )
    tuning.add_argument(
        "--prefetch",
        type=_integer(_rules.IntRange(1)),
        default=4,
        metavar="N",
        help="requests in flight at once (default: %(default)s)",
    )
    tuning.add_argument(
        "--max-items",
        type=_integer(_rules.OFFSET),
        metavar="N",
        help="stop after N artworks in all",
    )

    archiver = commands.add_parser(
        "archive",
        parents=[connection],
        help="keep a local archive of every artwork and its images (run it daily)",
        description=textwrap.fill(
            "Bring the archive in DIR up to date: every artwork exactly as the API sent it, in "
            "DIR/archive.sqlite, and every image of every succeeded artwork, in DIR/images. "
            "Tengr.ai deletes artworks and images 8 days after they were made: run this at "
            "least daily. A run stops listing at what is already archived, so it costs little "
            "when little changed; an interrupted run is taken up by the next.",
            width=78,
        ),
        epilog=_ARCHIVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    archiver.add_argument("directory", metavar="DIR", help="the archive directory")
    archiver.add_argument(
        "--no-images",
        dest="images",
        action="store_false",
        help="record the image URLs without downloading them (a later run fetches them)",
    )
    archiver.add_argument(
        "--since",
        type=_timestamp,
        metavar="TIME",
        help="also stop the listing at the first artwork created before TIME (ISO 8601 with "
        "a UTC offset)",
    )
    archiver.add_argument(
        "--prefetch",
        type=_integer(_rules.IntRange(1)),
        default=4,
        metavar="N",
        help="listing requests in flight at once (default: %(default)s)",
    )
    archiver.add_argument(
        "--downloads",
        type=_integer(_rules.IntRange(1)),
        default=8,
        metavar="N",
        help="images downloaded at once (default: %(default)s)",
    )
    archiver.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars and no summary"
    )

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
        type=_integer(_rules.OFFSET),
        default=0,
        metavar="N",
        help="artworks to skip (default: 0)",
    )
    lister.add_argument(
        "--limit",
        type=_integer(_rules.LIMIT),
        default=20,
        metavar="N",
        help="artworks to show, 1..500 (default: %(default)s)",
    )
    lister.add_argument(
        "--json",
        action="store_true",
        help="print JSONL instead of a table: each line one artwork exactly as the API sent it",
    )
    add_create_parser(commands)
    add_get_parser(commands)
    add_wait_parser(commands)
    add_browse(commands.add_parser)
    add_search(commands.add_parser)
    return parser


# --- running -----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _client(args: argparse.Namespace, *, demo: DemoOptions | None) -> AsyncIterator[TengrAI]:
    """The client of a command: of the API, or of a demo server started for *demo*."""
    retry = None
    if args.retry_wait is not None:
        retry = RetryPolicy(wait_initial=args.retry_wait, wait_jitter=0.0)
    async with contextlib.AsyncExitStack() as stack:
        base_url, key, session = args.base_url, None, None
        if demo is None and not os.environ.get(API_KEY_ENV):
            raise UsageError(f"no API key: set {API_KEY_ENV} (or try --demo)")
        if demo is not None:
            running = await stack.enter_async_context(demo_server(demo))
            base_url, key, session = running.base_url, running.key, running.session
        client = TengrAI(
            key,
            base_url=base_url,
            timeout=args.timeout,
            max_retries=args.max_retries,
            retry=retry,
            session=session,
            # The demo reaches its own server only, never through a proxy.
            trust_env=demo is None,
        )
        yield await stack.enter_async_context(client)


def _demo(args: argparse.Namespace) -> DemoOptions | None:
    """The demo server ``--demo`` asks for, or ``None``."""
    if args.demo is None:
        return None
    return DemoOptions(
        count=args.demo,
        seed=args.demo_seed or 0,
        latency=args.demo_latency,
        fault_rate=args.demo_fault_rate,
    )


def _given(args: argparse.Namespace) -> frozenset[str]:
    """The keys of the export's query its options give: a resume takes the rest."""
    values = {
        "format": args.format,
        "types": args.types,
        "statuses": args.statuses,
        "since": args.since,
        "until": args.until,
        "scan_all": args.scan_all,
        "page_size": args.page_size,
        "max_items": args.max_items,
        "demo": args.demo,
    }
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
        demo=_demo(args),
        given=_given(args),
    )


def _run_export(args: argparse.Namespace, stderr: TextIO) -> int:
    # The output is checked, locked and opened first: a checkpoint in the way, or another
    # export writing the file, needs no connection. Outside the event loop, so that Ctrl-C
    # stops a wait for a FIFO's reader.
    _warn_unknown_types(args.types, stderr)
    with plan(_export_options(args)) as ready:
        return run(_export_with_client(args, ready, stderr))


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


async def _export_with_client(args: argparse.Namespace, ready: ExportPlan, stderr: TextIO) -> int:
    demo = ready.options.demo  # a resume takes it from the checkpoint
    if demo is not None:
        if args.base_url is not None:
            raise UsageError(
                f"the interrupted export read the built-in demo API "
                f"({as_option('demo', {'count': demo.count, 'seed': demo.seed})}), which "
                "runs its own server: drop --base-url, or use --force to start over"
            )
        demo = attrs.evolve(demo, latency=args.demo_latency, fault_rate=args.demo_fault_rate)
    async with _client(args, demo=demo) as client:
        return await export(client, ready, stdout=sys.stdout.buffer, stderr=stderr)


async def _run_archive(args: argparse.Namespace, stderr: TextIO) -> int:
    # DIR is checked first: a directory that cannot hold an archive needs no connection.
    demo = _demo(args)
    if demo is not None:
        demo = attrs.evolve(demo, images=args.images)
    options = ArchiveOptions(
        directory=check_directory(args.directory),  # nothing created yet
        images=args.images,
        since=args.since,
        prefetch=args.prefetch,
        downloads=args.downloads,
        quiet=args.quiet,
        demo=demo,
    )
    async with _client(args, demo=demo) as client:
        # Only now, with a key and a good URL, is DIR created: a run that cannot start
        # leaves nothing behind.
        make_directory(options.directory)
        return await archive(client, options, stderr=stderr)


async def _run_list(args: argparse.Namespace, stderr: TextIO) -> int:
    async with _client(args, demo=_demo(args)) as client:
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


@contextlib.contextmanager
def _logging(stderr: TextIO, *, verbose: bool) -> Iterator[None]:
    loggers = [logging.getLogger("tengrai_async")]
    levels = [logger.level for logger in loggers]
    handler: logging.Handler
    if verbose:
        handler = logging.StreamHandler(stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        level = logging.DEBUG
    else:
        # Without -v the retry warnings stay off stderr: the summary counts the retries.
        handler = logging.NullHandler()
        level = logging.NOTSET
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(level)
    try:
        yield
    finally:
        # main() may run many times in one process (tests): leave logging as it was.
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0911, PLR0912 - a return per exit code
    """Run the ``tengrai-async`` command with *argv* (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 done, 1 API failure, 2 usage error, 3 done with rejected items,
        4 a local file failed, 130 interrupted, 141 the reader of the output went away,
        143 terminated (SIGTERM, handled as Ctrl-C).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    stderr = sys.stderr
    local = {"browse": run_browse, "search": run_search}.get(args.command)
    if local is not None:  # these read DIR only: no API, no connection options
        return local(args, stderr)
    if args.demo is not None and args.base_url is not None:
        stderr.write(f"{PROG}: error: --demo runs its own server: drop --base-url\n")
        return EXIT_USAGE
    command = {
        "archive": _run_archive,
        "list": _run_list,
        "create": run_create,
        "get": run_get,
        "wait": run_wait,
    }.get(args.command)
    with _logging(stderr, verbose=args.verbose), sigterm_as_interrupt():
        try:
            if command is None:
                return _run_export(args, stderr)
            return run(command(args, stderr))
        except OutputClosedError as exc:
            if exc.stdout:
                silence_stdout()
            return EXIT_CLOSED
        except KeyboardInterrupt:
            stderr.write(f"{PROG}: interrupted\n")
            return EXIT_INTERRUPTED
        except Terminated:
            stderr.write(f"{PROG}: terminated (SIGTERM)\n")
            return EXIT_TERMINATED
        except ArchiveWriteError as exc:
            stderr.write(f"{PROG}: error: {exc}\n")
            return EXIT_LOCAL_FILE
        except (UsageError, ConfigurationError, ArchiveLockedError, ArchiveDatabaseError) as exc:
            stderr.write(f"{PROG}: error: {exc}\n")
            return EXIT_USAGE
        except LocalFileError as exc:
            stderr.write(f"{PROG}: error: {exc}\n")
            return EXIT_LOCAL_FILE
        except TengrAIError as exc:
            stderr.write(f"{PROG}: failed: {exc}\n")
            return EXIT_FAILURE
        except OSError as exc:  # the OS's words, not "[Errno 98] ..."
            stderr.write(f"{PROG}: failed: {describe(exc)}\n")
            return EXIT_FAILURE
