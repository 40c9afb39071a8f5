"""``tengrai-async archive DIR``: keep a local archive of every artwork and its images.

The command checks DIR before any request, runs :func:`tengrai_async.archive.sync` with two
progress bars (artworks, image bytes) when stderr is a terminal, and ends with a summary line.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, TextIO

import attrs

from .._client import TengrAI
from ..archive import ArchiveReport, sync
from ._demo import DemoOptions
from ._export import UsageError

__all__ = ["ArchiveOptions", "archive", "check_directory"]


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
    """Make sure DIR can hold an archive before anything is requested; create it if missing.

    Raises:
        UsageError: DIR is empty, is a file, or cannot be created or written (naming the OS
            error).
    """
    if not name.strip():
        raise UsageError("the archive directory name is empty")
    directory = Path(name)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".tengrai-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to {directory}: {exc.strerror or exc}") from None
    return directory


class _Bars:
    """Two tqdm bars on stderr: artworks stored, image bytes written; nothing when disabled."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self._artworks: Any = None
        self._bytes: Any = None
        if not enabled:
            return
        try:
            from tqdm import tqdm  # noqa: PLC0415 - optional: imported only when bars are wanted
        except ImportError:
            return
        common: dict[str, Any] = {"file": stream, "dynamic_ncols": True, "mininterval": 0.2}
        self._artworks = tqdm(unit=" artworks", unit_scale=True, position=0, **common)
        self._bytes = tqdm(unit="B", unit_scale=True, unit_divisor=1024, position=1, **common)

    def artworks(self, count: int) -> None:
        """Count stored artworks."""
        if self._artworks is not None and count:
            self._artworks.update(count)

    def image_bytes(self, count: int) -> None:
        """Count written image bytes."""
        if self._bytes is not None and count:
            self._bytes.update(count)

    def close(self) -> None:
        """Take the bars down (idempotent)."""
        for bar in (self._artworks, self._bytes):
            if bar is not None:
                bar.close()
        self._artworks = self._bytes = None


def summary(report: ArchiveReport) -> str:
    """The closing line of a run."""
    return (
        f"tengrai-async: archived: {report.new} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.invalid} invalid, {report.removed} removed; "
        f"images: {report.images_downloaded} downloaded, {report.images_gone} gone, "
        f"{report.images_failed} failed, {_size(report.bytes_downloaded)}; "
        f"{report.elapsed:.2f} s"
    )


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":  # noqa: PLR2004
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


async def archive(client: TengrAI, options: ArchiveOptions, *, stderr: TextIO) -> int:
    """Run one archive pass; return the exit code (0 done, 3 some item invalid or image failed)."""
    bars = _Bars(stderr, enabled=not options.quiet and stderr.isatty())
    try:
        report = await sync(
            client,
            options.directory,
            images=options.images,
            since=options.since,
            prefetch=options.prefetch,
            downloads=options.downloads,
            progress=bars,
        )
    finally:
        bars.close()
    if not options.quiet:
        stderr.write(summary(report) + "\n")
    return 0 if report.ok else 3
