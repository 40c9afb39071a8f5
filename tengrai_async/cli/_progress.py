"""Progress on stderr: a tqdm bar while an export runs, and a one-line summary at its end.

tqdm is optional (the ``cli`` extra): without it there is no bar, only a hint how to get one.
"""

from __future__ import annotations

import time
from typing import Any, Final, TextIO

import attrs

from .._pagination import IterationStats

__all__ = ["INSTALL_HINT", "Progress", "Summary", "plural"]

INSTALL_HINT = "tengrai-async: no progress bar: pip install 'tengrai-async[cli]' to get one"
# Seconds between redraws: a few times a second is plenty, and keeps a 10k items/s loop cheap.
_REDRAW: Final = 0.2


def plural(count: int, word: str, many: str | None = None) -> str:
    """*count* with the *word* that goes with it: ``1 page``, ``2 pages``, ``0 retries``."""
    return f"{count} {word if count == 1 else many or word + 's'}"


class Progress:
    """A bar counting exported artworks; does nothing when disabled.

    While a filter runs, most artworks read may be dropped: the bar then counts the artworks
    kept and shows how many were scanned (read from the listing) beside it.

    Args:
        stream: Where to draw (stderr).
        enabled: Whether a bar is wanted at all (a terminal, and not ``--quiet``).
        total: The expected number of artworks, when known (``--max-items``).
        initial: Artworks already exported by an earlier, resumed run.
        filtering: Whether a filter drops artworks (``--type``, ``--status``, ``--since``,
            ``--until``): then the scanned count is shown.
        scanned: Artworks already scanned by an earlier, resumed run.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool,
        total: int | None,
        initial: int,
        filtering: bool = False,
        scanned: int = 0,
    ) -> None:
        self._bar: Any = None
        self._filtering = filtering
        self._scanned = scanned
        self._drawn = 0.0
        if not enabled:
            return
        try:
            from tqdm import tqdm  # noqa: PLC0415 - optional: imported only when a bar is wanted
        except ImportError:
            stream.write(INSTALL_HINT + "\n")
            return
        # Whole counts, not tqdm's scale: "0.00 artworks" would read as a fraction of one.
        self._bar = tqdm(
            total=total,
            initial=initial,
            unit=" artworks",
            file=stream,
            dynamic_ncols=True,
            mininterval=_REDRAW,
            desc="kept" if filtering else "exported",
            postfix=self._postfix(),
        )

    def _postfix(self) -> str | None:
        if not self._filtering:
            return None
        return f"{self._scanned:,} scanned"

    def update(self, n: int, *, scanned: int = 0) -> None:
        """Count *n* more exported artworks, out of *scanned* more read from the listing."""
        bar = self._bar
        if bar is None:
            return
        if self._filtering and scanned:
            self._scanned += scanned
            bar.set_postfix_str(self._postfix(), refresh=False)
            now = time.monotonic()
            if not n and now - self._drawn >= _REDRAW:
                # Nothing kept, so tqdm would not redraw: the scanned count moves all the same.
                self._drawn = now
                bar.refresh()
        if n:
            bar.update(n)

    def close(self) -> None:
        """Take the bar down (idempotent)."""
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()


@attrs.frozen(kw_only=True)
class Summary:
    """What one export run did, for the closing line on stderr.

    Attributes:
        outcome: ``"done"``, ``"interrupted"`` or ``"failed"``.
        stats: The iterator's counters of this run.
        filtering: Whether a filter dropped artworks: then the summary says how many were
            scanned and how many filtered out.
        items: Artworks written in this run.
        total_items: Artworks in the output, earlier resumed runs included.
        rejects: Invalid items written to the rejects file in this run.
        duplicates: Duplicates dropped, by the iterator and by the resume seed.
        elapsed: Seconds this run took.
    """

    outcome: str
    stats: IterationStats
    filtering: bool = False
    items: int
    total_items: int
    rejects: int
    duplicates: int
    elapsed: float

    def format(self) -> str:
        """The summary as one line of text."""
        rate = self.items / self.elapsed if self.elapsed > 0 else 0.0
        stats = self.stats
        parts = [plural(self.items, "artwork")]
        if self.total_items != self.items:
            parts[0] += f" ({self.total_items} in total)"
        if self.filtering:
            parts += [f"{stats.items_received} scanned", f"{stats.filtered_out} filtered out"]
        parts += [
            plural(stats.pages, "page"),
            plural(stats.requests, "request"),
            plural(stats.retries, "retry", "retries"),
            plural(self.duplicates, "duplicate") + " dropped",
            f"{self.rejects} invalid",
            f"{self.elapsed:.2f} s",
            f"{rate:,.0f} artworks/s",
        ]
        return f"tengrai-async: {self.outcome}: {', '.join(parts)}"
