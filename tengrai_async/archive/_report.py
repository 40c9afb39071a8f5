"""What an archive run tells its caller: progress as it goes, the report when it ends.

:class:`ArchiveReport` is made from the run's tally (the counts it keeps as pages are stored
and images end); :class:`ArchiveProgress` is what a caller may pass to follow the run.
"""

from __future__ import annotations

from typing import Protocol

import attrs

from .._errors import ResponseValidationError
from ._db import ImageOutcome, PageCounts

__all__ = ["ArchiveProgress", "ArchiveReport", "NoProgress", "Tally"]


class ArchiveProgress(Protocol):
    """What a run reports while it goes (the command line draws it with tqdm)."""

    def artworks(self, count: int) -> None:
        """*count* more artworks were stored."""

    def image_bytes(self, count: int) -> None:
        """*count* more image bytes were written."""


@attrs.frozen(kw_only=True)
class ArchiveReport:
    """What one run did.

    Attributes:
        new: Artworks archived for the first time.
        updated: Archived artworks whose JSON changed (a status that moved on, say).
        unchanged: Artworks seen again exactly as archived.
        invalid: Artworks new or changed in this run that broke a rule of the spec (archived
            as sent all the same).
        invalid_errors: The error of each of those ``invalid`` artworks, in the order met:
            its ``raw`` is the artwork as sent (its ``"id"`` among it), its ``path`` the JSON
            path of the rule it broke.
        removed: Unfinished artworks the API no longer has (their JSON is kept).
        unrefreshed: Unfinished artworks that could not be fetched by id (left as they were).
        images_downloaded: Images written to ``images/``.
        images_gone: Images whose host answered 404 or 410.
        images_failed: Images that could not be kept (after retries, or refused).
        bytes_downloaded: The bytes of the images written.
        complete: Whether the listing was read down to what was already archived (or its end);
            only then does the next run stop at this run's newest artwork.
        elapsed: Seconds the run took.
    """

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    invalid_errors: tuple[ResponseValidationError, ...] = ()
    removed: int = 0
    unrefreshed: int = 0
    images_downloaded: int = 0
    images_gone: int = 0
    images_failed: int = 0
    bytes_downloaded: int = 0
    complete: bool = False
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether nothing was invalid and no image failed (a gone image is not a failure)."""
        return self.invalid == 0 and self.images_failed == 0


@attrs.define
class Tally:
    """The counts of one run so far: the report is made from them."""

    counts: PageCounts = attrs.field(factory=PageCounts)
    invalid_errors: list[ResponseValidationError] = attrs.field(factory=list)
    removed: int = 0
    unrefreshed: int = 0
    done: int = 0
    gone: int = 0
    failed: int = 0
    bytes: int = 0

    def count_image(self, outcome: ImageOutcome) -> None:
        """Count one image that ended: written, gone (404, 410) or failed."""
        if outcome.state == "done":
            self.done += 1
            self.bytes += outcome.size or 0
        elif outcome.state == "gone":
            self.gone += 1
        else:
            self.failed += 1

    def report(self, *, complete: bool, elapsed: float) -> ArchiveReport:
        """The report of the run so far."""
        return ArchiveReport(
            new=self.counts.new,
            updated=self.counts.updated,
            unchanged=self.counts.unchanged,
            invalid=self.counts.invalid,
            invalid_errors=tuple(self.invalid_errors),
            removed=self.removed,
            unrefreshed=self.unrefreshed,
            images_downloaded=self.done,
            images_gone=self.gone,
            images_failed=self.failed,
            bytes_downloaded=self.bytes,
            complete=complete,
            elapsed=elapsed,
        )


class NoProgress:
    """The progress of a caller that asked for none."""

    def artworks(self, count: int) -> None:
        """Nothing to show."""

    def image_bytes(self, count: int) -> None:
        """Nothing to show."""
