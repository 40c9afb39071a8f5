"""What ``export`` is asked, checked against the files on disk before any request.

The options and the query a checkpoint records, the paths of one export, and the start: fresh,
or resumed from a checkpoint whose query and files agree with the command (:func:`plan`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final

import attrs

from . import _checkpoint
from ._arguments import UsageError
from ._checkpoint import (
    QUERY_KEYS,
    QUERY_OPTIONS,
    RECENT_PAGES,
    Checkpoint,
    CheckpointError,
    utc_text,
)
from ._demo import DemoOptions
from ._export_files import check_resumable
from ._formats import Format, writer_for
from ._output import (
    STDOUT,
    Target,
    companion,
    only_writer,
    open_stream,
    remove_temporaries,
    resolve,
    stdout_target,
)
from ._progress import plural

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "STDOUT",
    "STDOUT_REJECTS",
    "ExportOptions",
    "ExportPaths",
    "ExportPlan",
    "as_option",
    "plan",
]

#: Where invalid items go when the export itself goes to standard output or another stream.
STDOUT_REJECTS: Final = "tengrai-rejects.jsonl"
#: Artworks per request when ``--page-size`` is not given (and no checkpoint says otherwise).
DEFAULT_PAGE_SIZE: Final = 500


@attrs.frozen(kw_only=True)
class ExportOptions:
    """What ``export`` was asked to do (parsed and checked by the argument parser).

    Attributes:
        output: The output path, or ``"-"`` for standard output.
        fmt: ``"jsonl"`` or ``"csv"``.
        rejects: Where invalid items go; ``None`` for the default beside the output.
        resume: Continue from the checkpoint.
        force: Discard a checkpoint and start over.
        quiet: No progress bar and no summary.
        types: Keep only these artwork types.
        statuses: Keep only these statuses.
        since: Keep artworks created at or after this aware datetime; the first older one
            ends the listing unless ``scan_all``.
        scan_all: Read the whole listing and filter by ``since`` instead.
        until: Keep artworks created before this aware datetime.
        page_size: Artworks per request.
        prefetch: Requests in flight at once.
        max_items: Stop after this many artworks (over all resumed runs).
        demo: The demo data, when exporting from ``--demo``.
        given: The keys of :meth:`query` the command line gave; on ``--resume`` the others
            are taken from the checkpoint. ``None``: all of them (nothing is taken).
    """

    output: str = STDOUT
    fmt: Format = "jsonl"
    rejects: str | None = None
    resume: bool = False
    force: bool = False
    quiet: bool = False
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    since: _dt.datetime | None = None
    scan_all: bool = False
    until: _dt.datetime | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    prefetch: int = 4
    max_items: int | None = None
    demo: DemoOptions | None = None
    given: frozenset[str] | None = None

    @property
    def filtering(self) -> bool:
        """Whether a filter may drop artworks."""
        return bool(self.types or self.statuses or self.since or self.until)

    def query(self) -> dict[str, Any]:
        """What the checkpoint records: everything that decides which bytes are written."""
        return {
            "format": self.fmt,
            "types": sorted(set(self.types)),
            "statuses": sorted(set(self.statuses)),
            "since": utc_text(self.since),
            "until": utc_text(self.until),
            "scan_all": self.scan_all,
            "page_size": self.page_size,
            "max_items": self.max_items,
            "demo": None
            if self.demo is None
            else {"count": self.demo.count, "seed": self.demo.seed},
        }

    def with_query(self, query: dict[str, Any]) -> ExportOptions:
        """These options asking for *query* (one :func:`_checkpoint.load` let through)."""
        demo = query["demo"]
        if demo is not None:
            # The demo server's latency and faults are not part of the query: they are kept.
            base = self.demo or DemoOptions()
            demo = attrs.evolve(base, count=demo["count"], seed=demo["seed"])
        return attrs.evolve(
            self,
            fmt=query["format"],
            types=tuple(query["types"]),
            statuses=tuple(query["statuses"]),
            since=_moment(query["since"]),
            until=_moment(query["until"]),
            scan_all=query["scan_all"],
            page_size=query["page_size"],
            max_items=query["max_items"],
            demo=demo,
        )


def _moment(text: str | None) -> _dt.datetime | None:
    return None if text is None else _dt.datetime.fromisoformat(text)


@attrs.frozen(kw_only=True)
class ExportPaths:
    """The files of one export.

    ``part``, ``checkpoint`` and the lock live beside the file the output leads to (a symbolic
    link's target), so that the finished ``.part`` can be renamed onto it.
    """

    output: Target
    part: Path | None  # None: a stream, written directly
    checkpoint: Path | None
    rejects: Target


def _paths(options: ExportOptions) -> ExportPaths:
    """Resolve ``-o`` and ``--rejects``: every check that needs no request and no lock."""
    output = stdout_target() if options.output == STDOUT else resolve(options.output, option="-o")
    if output.kind != "file":
        if options.resume:
            if output.kind == "stdout":
                raise UsageError(
                    "--resume needs an output file (-o FILE): standard output cannot resume"
                )
            raise UsageError(
                f"--resume needs an output file (-o FILE): {output.name} is not a regular file, "
                "so it is written directly, as a stream, and cannot resume"
            )
        # Beside a device or a FIFO is no place for a file: the rejects go to the working
        # directory, as with standard output, and are created only when there is one.
        rejects = _rejects_target(options.rejects, default=STDOUT_REJECTS)
        return ExportPaths(output=output, part=None, checkpoint=None, rejects=rejects)
    assert output.path is not None  # noqa: S101 - a file target has a path
    part = companion(output.path, ".part")
    checkpoint = companion(output.path, ".checkpoint.json")
    default = str(companion(output.path, ".rejects.jsonl"))
    rejects = _rejects_target(options.rejects, default=default)
    own = {output.path, part, checkpoint, *(companion(output.path, s) for s in (".lock", ".pid"))}
    if rejects.path in own:
        raise UsageError(f"--rejects {rejects.name} is one of the export's own files: name another")
    for path in (part, checkpoint):
        # A directory (or a FIFO) at a companion's name would fail the export after its start.
        if path.exists() and not path.is_file():
            raise UsageError(f"{path} is in the way and is not a regular file: remove it")
    return ExportPaths(output=output, part=part, checkpoint=checkpoint, rejects=rejects)


def _rejects_target(name: str | None, *, default: str) -> Target:
    if name is not None:
        return resolve(name, option="--rejects")
    # The default is not probed: an export with no invalid item never creates it.
    return resolve(default, option="--rejects", probe=False)


def _starting_point(options: ExportOptions, paths: ExportPaths) -> tuple[ExportOptions, Checkpoint]:
    """The options to run and the checkpoint to start from.

    A fresh checkpoint, or, when resuming, the saved one, with the query it records.
    """
    fresh = Checkpoint(query=options.query())
    if paths.checkpoint is None:
        return options, fresh
    exists = paths.checkpoint.exists()
    if options.resume:
        if not exists:
            raise UsageError(f"nothing to resume: there is no checkpoint {paths.checkpoint}")
        try:
            saved = _checkpoint.load(paths.checkpoint)
            _check_same_query(paths.checkpoint, saved.query, fresh.query, given=options.given)
            options = options.with_query(saved.query)
            _check_consistent(paths.checkpoint, saved, options)
        except CheckpointError as exc:
            raise UsageError(str(exc)) from None
        if paths.part is not None:
            check_resumable(paths.part, saved.part_bytes, what="the partial output")
        if saved.rejects_bytes and paths.rejects.kind == "file":
            assert paths.rejects.path is not None  # noqa: S101 - a file target has a path
            check_resumable(paths.rejects.path, saved.rejects_bytes, what="the rejects file")
        return options, saved
    if exists and not options.force:
        raise UsageError(
            f"an interrupted export left {paths.checkpoint}: add --resume to continue it, "
            "or --force to start over"
        )
    return options, fresh


def _check_same_query(
    path: Path, saved: dict[str, Any], asked: dict[str, Any], *, given: frozenset[str] | None
) -> None:
    """Refuse a resume whose options disagree with the query the checkpoint records."""
    differences = [
        f"{as_option(key, saved[key])} where this command asks for {as_option(key, asked[key])}"
        for key in QUERY_KEYS
        if (given is None or key in given) and _canonical(saved[key]) != _canonical(asked[key])
    ]
    if differences:
        those = (
            "that option out to take it"
            if len(differences) == 1
            else "those options out to take them"
        )
        raise CheckpointError(
            f"--resume must ask for the same export as the interrupted run (the checkpoint "
            f"{path}), which ran with {', and with '.join(differences)}: leave {those} "
            "from the checkpoint, or use --force to discard it and start over"
        )


def _canonical(value: Any) -> Any:
    # --type a --type b asks for what --type b --type a --type a asks for.
    return sorted(set(value)) if isinstance(value, list) else value


def as_option(key: str, value: Any) -> str:
    """A value of a checkpoint's query as the command line says it: ``--page-size 100``."""
    option = QUERY_OPTIONS[key]
    if value is None or value is False or value == []:
        return f"no {option}"
    if value is True:
        return option
    if isinstance(value, list):
        return " ".join(f"{option} {item}" for item in value)
    if key == "demo":
        seed = f" --demo-seed {value['seed']}" if value["seed"] else ""
        return f"--demo {value['count']}{seed}"
    return f"{option} {value}"


def _check_consistent(path: Path, saved: Checkpoint, options: ExportOptions) -> None:
    """Refuse a checkpoint that the query it matches could not have produced."""
    header = len(writer_for(options.fmt, options.types).header())
    if options.max_items is not None and saved.items > options.max_items:
        raise _checkpoint.refused(
            path,
            f"counts {plural(saved.items, 'artwork')}, more than its --max-items "
            f"{options.max_items}",
        )
    # Every artwork is at least one line ending: the .part holds the header and one per item.
    if saved.part_bytes < header + saved.items or (saved.items == 0) != (
        saved.part_bytes == header
    ):
        raise _checkpoint.refused(path, "counts bytes that cannot hold its artworks")
    if len(saved.recent_ids) > RECENT_PAGES * options.page_size:
        raise _checkpoint.refused(path, "lists more recent ids than two pages hold")


@attrs.frozen(kw_only=True)
class ExportPlan:
    """An export checked against the files on disk, ready to run.

    Attributes:
        options: What was asked.
        paths: The output, ``.part``, checkpoint and rejects paths.
        state: Where to start: a fresh checkpoint, or the saved one when resuming.
        stream: The output when it is a stream, opened already.
    """

    options: ExportOptions
    paths: ExportPaths
    state: Checkpoint
    stream: BinaryIO | None = None


@contextlib.contextmanager
def plan(options: ExportOptions) -> Iterator[ExportPlan]:
    """Check *options* against the files on disk and take the output, before any request.

    Inside, this process is the only writer of the output file (an OS lock, released on the
    way out, or by the OS if the process dies); a stream output is open (a FIFO's reader has
    come).

    Raises:
        UsageError: The output cannot be written, another export is writing it, a checkpoint
            is in the way, or there is none (or no usable one) to resume.
    """
    paths = _paths(options)
    with contextlib.ExitStack() as stack:
        if paths.output.kind == "file":
            assert paths.output.path is not None  # noqa: S101 - a file target has a path
            # Locked before the checkpoint is read: what it says is then this run's to change.
            stack.enter_context(only_writer(paths.output.path))
            if paths.checkpoint is not None:
                remove_temporaries(paths.checkpoint)
        options, state = _starting_point(options, paths)
        stream = None
        if paths.output.kind == "stream":
            stream = stack.enter_context(open_stream(paths.output))
        yield ExportPlan(options=options, paths=paths, state=state, stream=stream)
