"""``tengrai-async export``: every artwork to a file, page by page, resumable.

Each page is written whole and flushed to ``FILE.part``, then the checkpoint is replaced, so the
checkpoint never claims more than the ``.part`` holds; a finished export is renamed to ``FILE``.
``--resume`` takes the query (format, filters, page size, budget, demo data) from the
checkpoint: options left out are the checkpoint's, options given must agree with it (checked by
:func:`._export_plan.plan`, before any request; the files are opened by :mod:`._export_files`).
One process at a time writes a file (an OS lock, see :mod:`._output`). Standard output and
other streams (devices, FIFOs, ``/dev/fd/N``) are written to directly and cannot resume.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from typing import Any, BinaryIO, TextIO

import attrs

from .._client import TengrAI
from .._clock import SYSTEM_CLOCK, Clock
from .._models import Artwork
from .._pagination import ArtworkIterator
from . import _checkpoint
from ._checkpoint import RECENT_PAGES, Checkpoint
from ._exits import EXIT_OK, EXIT_REJECTS
from ._export_files import Rejects, open_new, open_resumable
from ._export_plan import ExportOptions, ExportPaths, ExportPlan
from ._formats import Writer, writer_for
from ._heartbeat import heartbeat
from ._output import LocalFileError, OutputClosedError, Sink, local_errors
from ._progress import Progress, Summary, plural

__all__ = ["export"]


def _artwork_id(artwork: Artwork) -> str | None:
    return None if artwork.id is None else str(artwork.id)


async def export(
    client: TengrAI,
    ready: ExportPlan,
    *,
    stdout: BinaryIO,
    stderr: TextIO,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Run one export; return its exit code (0, or 3 when items were rejected).

    A fresh file export that ends before its first page (a wrong key, a refused connection)
    leaves no ``.part`` and no checkpoint: the same command then runs plainly. Off a terminal,
    a progress line goes to *stderr* every 10 s.

    Raises:
        UsageError: The resumed files do not match the checkpoint.
        LocalFileError: A local file could not be written; the checkpoint is kept.
        OutputClosedError: The reader of the output went away; nothing was reported.
        TengrAIError: The API failed (after retries); the checkpoint is kept.
        asyncio.CancelledError: Interrupted; the checkpoint matches the ``.part`` file.
    """
    options, paths, state = ready.options, ready.paths, ready.state
    output = paths.output
    if paths.part is not None:
        file = (
            open_resumable(paths.part, state.part_bytes, what="the partial output")
            if options.resume
            else open_new(paths.part, mode=output.mode)
        )
        out = Sink(file, label=str(paths.part), kind="file")
    elif ready.stream is not None:
        out = Sink(ready.stream, label=output.label, kind="stream")
    else:
        out = Sink(stdout, label=output.label, kind="stdout")
    try:
        rejects = Rejects(
            paths.rejects, count=state.rejects, size=state.rejects_bytes, resume=options.resume
        )
    except BaseException:
        with contextlib.suppress(LocalFileError):
            out.close()
        raise
    run = _Run(options=options, paths=paths, state=state, out=out, rejects=rejects)
    started = time.perf_counter()
    outcome = "failed"
    progress = Progress(
        stderr,
        enabled=not options.quiet and stderr.isatty(),
        total=options.max_items,
        initial=state.items,
        filtering=options.filtering,
        scanned=state.next_offset,
    )
    iterator = client.artworks.iterate(
        offset=state.next_offset,
        page_size=options.page_size,
        prefetch=options.prefetch,
        max_items=None if options.max_items is None else options.max_items - state.items,
        artwork_type=options.types or None,
        status=options.statuses or None,
        created_after=options.since,
        newest_first=not options.scan_all,
        created_before=options.until,
        on_invalid="skip",
        # After a resume the listing may have shifted: what the last run wrote is dropped.
        seen_ids=state.recent_ids,
    )
    before = 0

    def line(elapsed: float) -> str:
        scanned = f" ({iterator.stats.items_received:,} scanned)" if options.filtering else ""
        written = run.state.items - state.items
        return f"tengrai-async: exporting: {written:,} artworks written{scanned}; {elapsed:.0f} s"

    try:
        async with heartbeat(
            stderr, line, enabled=not options.quiet and not stderr.isatty(), clock=clock
        ):
            async with iterator:
                async for page in iterator.pages():
                    scanned = iterator.stats.items_received
                    written = run.write_page(iterator, page.items)
                    progress.update(written, scanned=scanned - before)
                    before = scanned
            run.finish()
        outcome = "done"
    except BaseException as exc:
        # Ctrl-C reaches here as the main task's cancellation (asyncio.run's SIGINT handler).
        if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
            outcome = "interrupted"
        elif isinstance(exc, OutputClosedError):
            outcome = "closed"
        raise
    finally:
        progress.close()
        run.close()
        if not run.started:
            run.discard()
        if outcome != "closed":  # `export | head`: the reader has what it wanted; no noise
            summary = Summary(
                outcome=outcome,
                stats=iterator.stats,
                filtering=options.filtering,
                items=run.state.items - state.items,
                total_items=run.state.items,
                rejects=rejects.new,
                duplicates=iterator.stats.duplicates_dropped,
                elapsed=time.perf_counter() - started,
            )
            _report(summary, paths, rejects, quiet=options.quiet, stderr=stderr)
    return EXIT_REJECTS if rejects.count else EXIT_OK


def _report(
    summary: Summary, paths: ExportPaths, rejects: Rejects, *, quiet: bool, stderr: TextIO
) -> None:
    """The closing lines on stderr: the summary, a checkpoint kept, the rejects file."""
    if not quiet:
        stderr.write(summary.format() + "\n")
    checkpoint = paths.checkpoint
    if summary.outcome != "done" and checkpoint is not None and checkpoint.exists():
        stderr.write(
            f"tengrai-async: {checkpoint} kept: run the same command with --resume to continue\n"
        )
    if rejects.count and summary.outcome != "failed":
        invalid = plural(rejects.count, "invalid artwork")
        stderr.write(f"tengrai-async: {invalid} written to {rejects.path}\n")


@attrs.define(kw_only=True)
class _Run:
    """The files of one export and the state the checkpoint records."""

    options: ExportOptions
    paths: ExportPaths
    state: Checkpoint
    out: Sink
    rejects: Rejects
    _recent: collections.deque[tuple[str, ...]] = attrs.field(init=False)
    _writer: Writer = attrs.field(init=False)

    started: bool = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        # A resumed output has its header already; a new one gets it with its first page.
        self.started = self.options.resume
        self._recent = collections.deque(maxlen=RECENT_PAGES)
        if self.state.recent_ids:
            self._recent.append(self.state.recent_ids)
        self._writer = writer_for(self.options.fmt, self.options.types)

    def start(self) -> None:
        """Begin a new output: its header, and the first checkpoint beside it."""
        header = self._writer.header()
        self.out.write(header)
        self.started = True
        self._save(part_bytes=len(header))

    def discard(self) -> None:
        """Remove what a new output that never got a page left: its ``.part`` and checkpoint.

        Nothing was exported, so there is nothing to resume; a checkpoint that ``--force``
        was to replace goes too, as its ``.part`` was replaced already.
        """
        for path in (self.paths.part, self.paths.checkpoint):
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)

    def write_page(self, iterator: ArtworkIterator, items: tuple[Artwork, ...]) -> int:
        """Append one page (and its rejects), then checkpoint; return the artworks written."""
        if not self.started:
            self.start()
        data = self._writer.page(items)
        self.out.write(data)
        # iterator.invalid holds this run's rejects; those past the ones written are new.
        self.rejects.write(iterator.invalid[self.rejects.new :])
        self._recent.append(tuple(i for a in items if (i := _artwork_id(a)) is not None))
        self._save(
            next_offset=iterator.next_offset,
            part_bytes=self.state.part_bytes + len(data),
            items=self.state.items + len(items),
        )
        return len(items)

    def _save(self, **changes: Any) -> None:
        self.state = attrs.evolve(
            self.state,
            rejects=self.rejects.count,
            rejects_bytes=self.rejects.size,
            recent_ids=tuple(i for ids in self._recent for i in ids),
            **changes,
        )
        if self.paths.checkpoint is not None:
            with local_errors(self.paths.checkpoint):
                _checkpoint.save(self.paths.checkpoint, self.state)

    def finish(self) -> None:
        """Move the complete output into place and drop the checkpoint."""
        if not self.started:
            self.start()  # an empty listing: the header alone
        if self.paths.part is None:
            return
        target = self.paths.output.path
        assert target is not None  # noqa: S101 - a .part belongs to a file target
        self.out.close()
        with local_errors(target, doing=f"rename {self.paths.part} onto"):
            self.paths.part.replace(target)
        if self.paths.checkpoint is not None:
            with local_errors(self.paths.checkpoint, doing="remove"):
                _checkpoint.remove(self.paths.checkpoint)

    def close(self) -> None:
        """Close the files; what was written is on disk already, so errors here add nothing."""
        with contextlib.suppress(LocalFileError):
            self.out.close()
        self.rejects.close()
