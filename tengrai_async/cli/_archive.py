"""``tengrai-async archive DIR``: keep a local archive of every artwork and its images.

The command checks DIR before any request (creating it only once the client is ready), runs
:func:`tengrai_async.archive.sync` with two bars on a terminal, or a progress line every 10 s
elsewhere, and ends with a summary line (the counts so far when it is interrupted).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import os
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, TextIO

import attrs

from .. import _rules
from .._client import TengrAI
from .._clock import SYSTEM_CLOCK, Clock
from ..archive import ArchiveReport, sync
from ._arguments import KEY_NOTE, Commands, Connect, UsageError, demo_options, integer, timestamp
from ._demo import DemoOptions
from ._exits import EXIT_OK, EXIT_REJECTS
from ._heartbeat import heartbeat, size

__all__ = [
    "ArchiveOptions",
    "add_archive_parser",
    "archive",
    "check_directory",
    "make_directory",
    "run_archive",
]


@attrs.frozen(kw_only=True)
class ArchiveOptions:
    """What ``archive`` was asked to do.

    Attributes:
        directory: The archive directory (created if missing).
        images: Download images (``--no-images`` records their URLs only).
        since: Stop the listing at the first artwork created before this aware datetime.
        prefetch: Listing requests in flight at once.
        downloads: Images downloaded at once.
        quiet: No progress bars and no summary.
        demo: The demo data, when archiving from ``--demo``.
    """

    directory: Path
    images: bool = True
    since: _dt.datetime | None = None
    prefetch: int = 4
    downloads: int = 8
    quiet: bool = False
    demo: DemoOptions | None = None


def check_directory(name: str) -> Path:
    """Make sure DIR can hold an archive before anything is requested; nothing is created.

    Raises:
        UsageError: DIR is empty, is a file, or cannot be created or written (naming the OS
            error).
    """
    if not name.strip():
        raise UsageError("the archive directory name is empty")
    directory = Path(name)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a directory")
    # The nearest directory that exists is where DIR (or its first missing parent) will go.
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"cannot write to {directory}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write to {existing}: permission denied")
    return directory


def make_directory(directory: Path) -> None:
    """Create DIR if missing and prove it writable, once the run is sure to start.

    Raises:
        UsageError: DIR cannot be created or written (naming the OS error).
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".tengrai-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to {directory}: {exc.strerror or exc}") from None


class _Bars:
    """Two tqdm bars on stderr: artworks stored, image bytes written; nothing when disabled."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self._artworks: Any = None
        self._bytes: Any = None
        self._written = 0
        if not enabled:
            return
        try:
            from tqdm import tqdm  # noqa: PLC0415 - optional: imported only when bars are wanted
        except ImportError:
            return
        common: dict[str, Any] = {"file": stream, "dynamic_ncols": True, "mininterval": 0.2}
        self._artworks = tqdm(desc="artworks", unit=" artworks", position=0, **common)
        # In KiB, MiB, ... as the summary counts them (tqdm's own scale says kB for 1,024).
        self._bytes = tqdm(
            desc=f"images: {size(0)}", position=1, bar_format="{desc} written [{elapsed}]", **common
        )

    def artworks(self, count: int) -> None:
        """Count stored artworks."""
        if self._artworks is not None and count:
            self._artworks.update(count)

    def image_bytes(self, count: int) -> None:
        """Count written image bytes."""
        if self._bytes is not None and count:
            self._written += count
            self._bytes.set_description_str(f"images: {size(self._written)}", refresh=False)
            self._bytes.update(count)

    def close(self) -> None:
        """Take the bars down (idempotent)."""
        for bar in (self._artworks, self._bytes):
            if bar is not None:
                bar.close()
        self._artworks = self._bytes = None


class _Progress:
    """The run's progress, told to the bars and counted for the progress lines."""

    def __init__(self, bars: _Bars) -> None:
        self.artworks_stored = 0
        self.bytes_written = 0
        self._bars = bars

    def artworks(self, count: int) -> None:
        self.artworks_stored += count
        self._bars.artworks(count)

    def image_bytes(self, count: int) -> None:
        self.bytes_written += count
        self._bars.image_bytes(count)

    def line(self, elapsed: float) -> str:
        return (
            f"tengrai-async: archiving: {self.artworks_stored:,} artworks stored, "
            f"{size(self.bytes_written)} of images written; {elapsed:.0f} s so far"
        )


def summary(report: ArchiveReport, outcome: str = "archived") -> str:
    """The closing line of a run (*outcome*: ``archived``, or ``interrupted`` so far)."""
    return (
        f"tengrai-async: {outcome}: {report.new} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.invalid} invalid, {report.removed} removed; "
        f"images: {report.images_downloaded} downloaded, {report.images_gone} gone, "
        f"{report.images_failed} failed, {size(report.bytes_downloaded)}; "
        f"{report.elapsed:.2f} s"
    )


async def archive(
    client: TengrAI, options: ArchiveOptions, *, stderr: TextIO, clock: Clock = SYSTEM_CLOCK
) -> int:
    """Run one archive pass; return the exit code (0 done, 3 some item invalid or image failed).

    On a terminal, two bars show the run; elsewhere (a log, cron's mail) a progress line
    every 10 s does. Interrupted (Ctrl-C, SIGTERM), it prints the summary so far.
    """
    terminal = stderr.isatty()
    bars = _Bars(stderr, enabled=not options.quiet and terminal)
    progress = _Progress(bars)
    reports: list[ArchiveReport] = []
    interrupted = False
    try:
        async with heartbeat(
            stderr, progress.line, enabled=not options.quiet and not terminal, clock=clock
        ):
            report = await sync(
                client,
                options.directory,
                images=options.images,
                since=options.since,
                prefetch=options.prefetch,
                downloads=options.downloads,
                progress=progress,
                on_finish=reports.append,
            )
    except (asyncio.CancelledError, KeyboardInterrupt):
        interrupted = True
        raise
    finally:
        bars.close()
        if interrupted and reports and not options.quiet:
            stderr.write(summary(reports[-1], "interrupted so far") + "\n")
    if not options.quiet:
        stderr.write(summary(report) + "\n")
    _name_invalid(report, stderr)
    return EXIT_OK if report.ok else EXIT_REJECTS


#: Invalid artworks named one by one at the end of a run; the rest are counted.
_NAMED: Final = 20


def _name_invalid(report: ArchiveReport, stderr: TextIO) -> None:
    """Say which artworks were invalid (``--quiet`` too: they are why the exit code is 3)."""
    errors = report.invalid_errors
    for error in errors[:_NAMED]:
        raw: object = error.raw
        artwork_id = raw.get("id") if isinstance(raw, Mapping) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        stderr.write(f"tengrai-async: invalid artwork {artwork_id}, archived as sent: {error}\n")
    if len(errors) > _NAMED:
        stderr.write(
            f"tengrai-async: and {len(errors) - _NAMED} more invalid artworks (valid = 0 in "
            "the artworks table)\n"
        )


# --- the command: its parser and its run -----------------------------------------------------

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
_ARCHIVE_EPILOG: Final = f"{KEY_NOTE}\n\n{_ARCHIVE_EXIT_NOTE}"


def add_archive_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    """Add ``archive`` to the command's subparsers."""
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
        type=timestamp,
        metavar="TIME",
        help="also stop the listing at the first artwork created before TIME (ISO 8601 with "
        "a UTC offset)",
    )
    archiver.add_argument(
        "--prefetch",
        type=integer(_rules.IntRange(1)),
        default=4,
        metavar="N",
        help="listing requests in flight at once (default: %(default)s)",
    )
    archiver.add_argument(
        "--downloads",
        type=integer(_rules.IntRange(1)),
        default=8,
        metavar="N",
        help="images downloaded at once (default: %(default)s)",
    )
    archiver.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars and no summary"
    )


async def run_archive(args: argparse.Namespace, stderr: TextIO, *, connect: Connect) -> int:
    """Run ``archive`` with the parsed *args*; the exit code."""
    # DIR is checked first: a directory that cannot hold an archive needs no connection.
    demo = demo_options(args)
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
    async with connect(args, demo=demo) as client:
        # Only now, with a key and a good URL, is DIR created: a run that cannot start
        # leaves nothing behind.
        make_directory(options.directory)
        return await archive(client, options, stderr=stderr)
