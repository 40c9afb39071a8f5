"""``tengrai-async get ID`` and ``wait ID``, and what ``create`` shares with them.

The job commands' options, their client (of the API, or of the ``--demo`` server), waiting with
progress on stderr, saving the results with the archive's downloader, and their exit codes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Final, TextIO

import orjson

from .. import _rules
from .._client import API_KEY_ENV, TengrAI
from .._converter import wire_object
from .._enums import ArtworkStatus
from .._errors import InvalidArgumentError, WaitTimeoutError
from .._models import Artwork
from ..archive._images import download_image
from ._arguments import KEY_NOTE, PROG, Commands, UsageError, api_client, integer, seconds
from ._demo import DEFAULT_COUNT, DemoOptions
from ._exits import EXIT_ENDED, EXIT_FAILURE, EXIT_OK, EXIT_TIMEOUT
from ._output import LocalFileError

__all__ = [
    "EXIT_ENDED",
    "EXIT_TIMEOUT",
    "JOB_EXIT_NOTE",
    "add_get_parser",
    "add_wait_parser",
    "job_options",
    "make_directory",
    "run_get",
    "run_wait",
]

JOB_EXIT_NOTE: Final = """exit codes:
  0    succeeded (without --wait: the job was accepted)
  1    the API failed, or a result could not be saved (the error is on stderr)
  2    usage error (a parameter that breaks a rule is named; nothing was sent)
  3    the job ended failed or canceled
  4    --save DIR could not be created
  124  --timeout ran out before the job ended (it keeps running upstream)
  130  interrupted (Ctrl-C); 143 terminated: the job keeps running upstream"""


def job_options(*, waits: bool) -> argparse.ArgumentParser:
    """The options of ``create``, ``get`` and ``wait``: the connection, and waiting if *waits*."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection")
    group.add_argument("--base-url", metavar="URL", help="the API root")
    group.add_argument(
        "--request-timeout",
        type=seconds,
        default=30.0,
        metavar="SEC",
        help="seconds for one request, body included (default: %(default)s)",
    )
    group.add_argument(
        "--max-retries",
        type=integer(_rules.OFFSET),
        default=3,
        metavar="N",
        help="retries of a failed request (default: %(default)s)",
    )
    group.add_argument(
        "--demo",
        type=integer(_rules.OFFSET),
        nargs="?",
        const=DEFAULT_COUNT,
        metavar="N",
        help=f"run against a built-in fake API (N synthetic artworks, default {DEFAULT_COUNT}); "
        f"needs no {API_KEY_ENV}",
    )
    group.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    group.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    group.add_argument("--json", action="store_true", help="print the artwork as JSON, one line")
    hidden = argparse.SUPPRESS
    group.add_argument("--retry-wait", type=float, default=None, help=hidden)
    group.add_argument("--poll-interval", type=seconds, default=1.0, help=hidden)
    if waits:
        waiting = parent.add_argument_group("waiting")
        waiting.add_argument(
            "--timeout",
            type=seconds,
            default=600.0,
            metavar="SEC",
            help="how long --wait waits for the end, in all (default: %(default)s; exit 124)",
        )
        waiting.add_argument(
            "--save",
            type=Path,
            metavar="DIR",
            help="download the results into DIR (created if need be)",
        )
    return parent


def add_get_parser(commands: Commands) -> None:
    """Register ``get ID``."""
    parser = commands.add_parser(
        "get",
        parents=[job_options(waits=False)],
        help="print one artwork's status and result URLs",
        description="Print the status of artwork ID, then its result URLs, one a line.",
        epilog=f"{KEY_NOTE}\n\n{JOB_EXIT_NOTE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("id", metavar="ID", help="the artwork's id")


def add_wait_parser(commands: Commands) -> None:
    """Register ``wait ID``."""
    parser = commands.add_parser(
        "wait",
        parents=[job_options(waits=True)],
        help="wait for an artwork to end; print its status and result URLs",
        description=textwrap.fill(
            "Poll artwork ID until it succeeds, fails or is canceled (progress on stderr when "
            "it is a terminal), then print its status and result URLs; --save DIR downloads "
            "them.",
            width=78,
        ),
        epilog=f"{KEY_NOTE}\n\n{JOB_EXIT_NOTE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("id", metavar="ID", help="the artwork's id")


def job_client(args: argparse.Namespace) -> contextlib.AbstractAsyncContextManager[TengrAI]:
    """The client of a job command: of the API, or of a demo server (with images)."""
    demo = None if args.demo is None else DemoOptions(count=args.demo, images=True)
    return api_client(args, demo=demo, timeout=args.request_timeout)


def print_artwork(artwork: Artwork, *, as_json: bool, final: bool) -> None:
    """Write the artwork to stdout: its JSON line, or its status (final) or id, and its URLs."""
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(wire_object(artwork)) + b"\n")
        sys.stdout.flush()
        return
    if not final:
        sys.stdout.write(f"{artwork.id}\n")
        return
    status = getattr(artwork.status, "value", artwork.status)
    lines = [str(status), *(artwork.results or ())]
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()


def _progress(stderr: TextIO, *, quiet: bool) -> Callable[[Artwork], None] | None:
    """What reports each poll on a terminal's stderr (nothing when piped, or with -q)."""
    if quiet or not stderr.isatty():
        return None
    loop = asyncio.get_running_loop()
    started = loop.time()

    def report(artwork: Artwork) -> None:
        status = getattr(artwork.status, "value", artwork.status)
        stderr.write(f"\r{PROG}: {artwork.id}: {status} ({loop.time() - started:.0f} s)\x1b[K")
        if artwork.status in (
            ArtworkStatus.SUCCEEDED,
            ArtworkStatus.FAILED,
            ArtworkStatus.CANCELED,
        ):
            stderr.write("\n")
        stderr.flush()

    return report


async def wait_and_save(
    client: TengrAI, artwork: Artwork, args: argparse.Namespace, stderr: TextIO
) -> int:
    """Wait for *artwork* to end, print it, save its results if asked; the exit code."""
    try:
        done = await client.artworks.wait(
            artwork,
            timeout=args.timeout,
            poll_interval=args.poll_interval,
            on_poll=_progress(stderr, quiet=args.quiet),
        )
    except WaitTimeoutError as exc:
        stderr.write(f"{PROG}: {exc}; it keeps running upstream: {PROG} wait {artwork.id}\n")
        return EXIT_TIMEOUT
    except asyncio.CancelledError:
        stderr.write(
            f"{PROG}: stopped waiting; the job {artwork.id} keeps running upstream: "
            f"{PROG} wait {artwork.id}\n"
        )
        raise
    print_artwork(done, as_json=args.json, final=True)
    if done.status is not ArtworkStatus.SUCCEEDED:
        ended = getattr(done.status, "value", done.status)
        stderr.write(f"{PROG}: the job {done.id} ended {ended}\n")
        return EXIT_ENDED
    if args.save is not None:
        return await _save(client, done, args.save, stderr, quiet=args.quiet)
    return EXIT_OK


async def _save(
    client: TengrAI, artwork: Artwork, directory: Path, stderr: TextIO, *, quiet: bool
) -> int:
    """Download every result into *directory*: streamed, hashed, renamed when whole."""
    make_directory(directory)
    transport = client._transport  # noqa: SLF001 - the CLI is the package's own
    outcomes = await asyncio.gather(
        *(
            download_image(
                transport,
                url,
                directory=directory,
                artwork_id=str(artwork.id),
                position=position,
                folder="",
            )
            for position, url in enumerate(artwork.results or ())
        )
    )
    failed = [outcome for outcome in outcomes if outcome.state != "done"]
    for outcome in outcomes:
        if outcome.state == "done" and not quiet:
            stderr.write(f"{PROG}: saved {directory / str(outcome.path)} ({outcome.sha256})\n")
    for outcome in failed:
        stderr.write(f"{PROG}: a result was not saved: {outcome.reason}\n")
    return EXIT_FAILURE if failed else EXIT_OK


def make_directory(directory: Path) -> None:
    """Create ``--save DIR`` (and its parents), or raise :class:`LocalFileError` (exit 4)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalFileError(str(directory), exc, doing="create") from None


async def run_get(args: argparse.Namespace, stderr: TextIO) -> int:
    """``get ID``: print the artwork; exit 3 when it ended failed or canceled."""
    async with job_client(args) as client:
        artwork = await _get(client, args.id)
    print_artwork(artwork, as_json=args.json, final=True)
    status = artwork.status
    if status is ArtworkStatus.FAILED or status is ArtworkStatus.CANCELED:
        stderr.write(f"{PROG}: the job {artwork.id} ended {status.value}\n")
        return EXIT_ENDED
    return EXIT_OK


async def run_wait(args: argparse.Namespace, stderr: TextIO) -> int:
    """``wait ID``: wait for the end, print it, save the results."""
    if args.save is not None:
        make_directory(args.save)
    async with job_client(args) as client:
        artwork = await _get(client, args.id)
        return await wait_and_save(client, artwork, args, stderr)


async def _get(client: TengrAI, artwork_id: str) -> Artwork:
    try:
        return await client.artworks.get(artwork_id)
    except InvalidArgumentError as exc:
        raise UsageError(f"ID: {exc}") from None
