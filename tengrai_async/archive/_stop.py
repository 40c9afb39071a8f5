"""Where an archive run's listing stops: below the last complete run's newest artwork.

The high-water mark less :data:`STOP_LAG`, or ``since``, whichever is later; and whether
stopping there leaves the archive complete.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from typing import Final

import attrs

from .. import _rules
from .._models import Artwork

__all__ = ["STOP_LAG", "Stop"]


#: How far below the last complete run's newest artwork a run still lists: an artwork that
#: becomes visible after a newer one (creation and commit order can differ) is caught.
STOP_LAG: Final = _dt.timedelta(minutes=15)


@attrs.frozen
class Stop:
    """Where a run's listing stops, and whether stopping there makes the run complete."""

    mark: _dt.datetime | None
    since: _dt.datetime | None

    @classmethod
    def of(cls, mark_text: str | None, since: _dt.datetime | None) -> Stop:
        mark = None
        if mark_text is not None:
            with contextlib.suppress(ValueError):
                mark = _rules.Timestamp.parse(mark_text) - STOP_LAG
        return cls(mark, since)

    @property
    def bound(self) -> _dt.datetime | None:
        """The later of the mark and ``since``: the first artwork older than it ends listing."""
        if self.mark is None or self.since is None:
            return self.mark or self.since
        return max(self.mark, self.since)

    @property
    def completes(self) -> bool:
        """Stopping at the bound leaves nothing unarchived (``since`` alone would)."""
        return self.since is None or (self.mark is not None and self.mark >= self.since)

    def reached(self, artwork: Artwork) -> bool:
        bound, created = self.bound, artwork.created_at
        return bound is not None and created is not None and created < bound

    def before_since(self, artwork: Artwork) -> bool:
        created = artwork.created_at
        return self.since is not None and created is not None and created < self.since
