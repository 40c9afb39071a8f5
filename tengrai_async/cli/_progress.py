"""Progress on stderr: a tqdm bar while an export runs, and a one-line summary at its end.

tqdm is optional (the ``cli`` extra): without it there is no bar, only a hint how to get one.
"""

from __future__ import annotations

from typing import Any, TextIO

import attrs

from .._pagination import IterationStats

__all__ = ["INSTALL_HINT", "Progress", "Summary"]

INSTALL_HINT = "tengrai-async: no progress bar: pip install 'tengrai-async[cli]' to get one"


class Progress:
    """A bar counting exported artworks; does nothing when disabled.

    Args:
        stream: Where to draw (stderr).
        enabled: Whether a bar is wanted at all (a terminal, and not ``--quiet``).
        total: The expected number of artworks, when known (``--max-items``).
        initial: Artworks already exported by an earlier, resumed run.
    """

    def __init__(self, stream: TextIO, *, enabled: bool, total: int | None, initial: int) -> None:
        self._bar: Any = None
        if not enabled:
            return
        try:
            from tqdm import tqdm  # noqa: PLC0415 - optional: imported only when a bar is wanted
        except ImportError:
            stream.write(INSTALL_HINT + "\n")
            return
        self._bar = tqdm(
            total=total,
            initial=initial,
            unit=" artworks",
            unit_scale=True,
            file=stream,
            dynamic_ncols=True,
            # Redrawing a few times a second is plenty, and keeps a 10k items/s loop cheap.
            mininterval=0.2,
        )

    def update(self, n: int) -> None:
        """Count *n* more exported artworks."""
        if self._bar is not None and n:
            self._bar.update(n)

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
        items: Artworks written in this run.
        total_items: Artworks in the output, earlier resumed runs included.
        rejects: Invalid items written to the rejects file in this run.
        duplicates: Duplicates dropped, by the iterator and by the resume seed.
        elapsed: Seconds this run took.
    """

    outcome: str
    stats: IterationStats
    items: int
    total_items: int
    rejects: int
    duplicates: int
    elapsed: float

    def format(self) -> str:
        """The summary as one line of text."""
        rate = self.items / self.elapsed if self.elapsed > 0 else 0.0
        total = f" ({self.total_items} in total)" if self.total_items != self.items else ""
        return (
            f"tengrai-async: {self.outcome}: {self.items} artworks{total}, "
            f"{self.stats.pages} pages, {self.stats.requests} requests, "
            f"{self.stats.retries} retries, {self.duplicates} duplicates dropped, "
            f"{self.rejects} invalid, {self.elapsed:.2f} s, {rate:,.0f} artworks/s"
        )
