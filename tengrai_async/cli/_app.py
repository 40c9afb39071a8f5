"""The ``tengrai-async`` command: its top-level parser, the shared options, and the dispatch.

Each command owns its parser and its run in its own module (``_export_command``, ``_archive``,
``_list``, ``_create``, ``_jobs``, ``_browse``, ``_search``); the exit codes are in ``_exits``.
The dispatch maps every failure to its code: 1 (API), 2 (usage), 4 (a local file), 130
(Ctrl-C), 141 (the reader of the output went away) or 143 (SIGTERM, as Ctrl-C). Each
command's ``--help`` lists its own options and exit codes, and the options every command shares.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import sys
import textwrap
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any, Final, TextIO, cast

from .. import _rules
from .._client import API_KEY_ENV, BASE_URL_ENV, TengrAI
from .._errors import ConfigurationError, TengrAIError
from .._version import __version__
from ..archive import ArchiveDatabaseError, ArchiveLockedError, ArchiveWriteError
from ._archive import add_archive_parser, run_archive
from ._arguments import KEY_NOTE, PROG, UsageError, api_client, integer, number
from ._browse import add_browse, run_browse
from ._create import add_create_parser, run_create
from ._demo import DEFAULT_COUNT, DemoOptions
from ._exits import (
    EXIT_CLOSED,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_LOCAL_FILE,
    EXIT_TERMINATED,
    EXIT_USAGE,
)
from ._export_command import add_export_parser, run_export
from ._jobs import add_get_parser, add_wait_parser, run_get, run_wait
from ._list import add_list_parser, run_list
from ._output import LocalFileError, OutputClosedError, describe, silence_stdout
from ._search import add_search, run_search
from ._signals import Terminated, run, sigterm_as_interrupt

__all__ = ["build_parser", "main"]

#: A command's run on the event loop: the parsed arguments and stderr; its exit code.
_Run = Callable[[argparse.Namespace, TextIO], Coroutine[Any, Any, int]]

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
_EPILOG: Final = f"{KEY_NOTE}\n\n{_EXIT_NOTE}"
#: What the dispatch reports as ``tengrai-async: error: ...`` with exit code 2.
_USAGE_ERRORS: Final = (UsageError, ConfigurationError, ArchiveLockedError, ArchiveDatabaseError)


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
        type=number(minimum=0, open_min=True),
        default=30.0,
        metavar="SEC",
        help="seconds for one request, body included (default: %(default)s)",
    )
    group.add_argument(
        "--max-retries",
        type=integer(_rules.OFFSET),
        default=3,
        metavar="N",
        help="retries of a failed request (429, 5xx, network) (default: %(default)s)",
    )
    group.add_argument(
        "-v", "--verbose", action="store_true", help="log every request to stderr (never the key)"
    )
    group.add_argument(
        "--demo",
        type=integer(_rules.OFFSET),
        nargs="?",
        const=DEFAULT_COUNT,
        metavar="N",
        help=f"run against a built-in fake API with N synthetic artworks (default {DEFAULT_COUNT});"
        f" needs no {API_KEY_ENV}",
    )
    # For tests and demonstrations: a slow or faulty demo server, and quick retries.
    hidden = argparse.SUPPRESS
    group.add_argument("--demo-latency", type=number(minimum=0), default=0.0, help=hidden)
    group.add_argument(
        "--demo-fault-rate", type=number(minimum=0, maximum=1), default=0.0, help=hidden
    )
    group.add_argument("--demo-seed", type=integer(_rules.OFFSET), default=None, help=hidden)
    group.add_argument("--retry-wait", type=number(minimum=0), default=None, help=hidden)
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The ``tengrai-async`` argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=textwrap.fill(
            "Your Tengr.ai artworks from the command line: export, archive or list them "
            "(GET /v2/artworks); create one, get one, wait for one; browse or search an archive.",
            width=78,
        ),
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

    add_export_parser(commands, connection)
    add_archive_parser(commands, connection)
    add_list_parser(commands, connection)
    add_create_parser(commands)
    add_get_parser(commands)
    add_wait_parser(commands)
    add_browse(commands.add_parser)
    add_search(commands.add_parser)
    return parser


# --- running -----------------------------------------------------------------------------------


def _client(
    args: argparse.Namespace, *, demo: DemoOptions | None
) -> contextlib.AbstractAsyncContextManager[TengrAI]:
    """The client of a listing command (``--timeout`` is the one request's)."""
    return api_client(args, demo=demo, timeout=args.timeout)


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
    if local is not None:  # these read DIR only: no API, no connection options, no signals
        try:
            return local(args, stderr)
        except _USAGE_ERRORS as exc:
            stderr.write(f"{PROG}: error: {exc}\n")
            return EXIT_USAGE
    commands: dict[str, _Run] = {
        "archive": functools.partial(run_archive, connect=_client),
        "list": functools.partial(run_list, connect=_client),
        "create": run_create,
        "get": run_get,
        "wait": run_wait,
    }
    command = commands.get(args.command)
    with _logging(stderr, verbose=args.verbose), sigterm_as_interrupt():
        try:
            if args.demo is not None and args.base_url is not None:
                raise UsageError("--demo runs its own server: drop --base-url")
            if command is None:
                return run_export(args, stderr, connect=_client)
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
        except _USAGE_ERRORS as exc:
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
