"""``tengrai-async list``: one page of artworks as an aligned text table.

Columns: id, kind, status, created (UTC), style, and the prompt cut to fit the terminal's width.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from .._models import Artwork

__all__ = ["HEADER", "render"]

HEADER: Final = ("ID", "TYPE", "STATUS", "CREATED (UTC)", "STYLE", "PROMPT")
_GAP: Final = "  "
# Which columns give way when the table is wider than the terminal, first to last: the prompt
# first, down to nothing, then the style, the type, the status and the time; never the id,
# which names the artwork.
_CUT_ORDER: Final = (5, 4, 1, 2, 3)
# A column cut narrower than this says nothing any more: it is left out instead.
_MIN_CUT: Final = 3
_ELLIPSIS: Final = "…"


def _created(value: _dt.datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _cells(artwork: Artwork) -> tuple[str, ...]:
    # Style and prompt are read from the JSON: every kind that has them, unknown ones too.
    found = artwork.raw.get("parameters")
    parameters: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    prompt = parameters.get("prompt", parameters.get("textPrompt"))
    return (
        str(artwork.id) if artwork.id is not None else _text(artwork.raw.get("id")),
        str(artwork.artwork_type),
        str(artwork.status) if artwork.status is not None else _text(artwork.raw.get("status")),
        _created(artwork.created_at),
        _text(parameters.get("style")),
        # A prompt may hold newlines or tabs: a table row must stay one line.
        " ".join(_text(prompt, "").split()),
    )


def _text(value: object, missing: str = "-") -> str:
    return value if isinstance(value, str) else missing


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + _ELLIPSIS


def _widths(rows: Sequence[Sequence[str]], width: int) -> list[int]:
    """Each column's width, 0 for one left out, so that a row fits in *width* where it can."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    excess = sum(widths) + len(_GAP) * (len(widths) - 1) - width
    for column in _CUT_ORDER:
        if excess <= 0:
            break
        kept = widths[column] - excess
        if kept < _MIN_CUT:
            excess -= widths[column] + len(_GAP)
            widths[column] = 0
        else:
            widths[column] = kept
            excess = 0
    return widths


def render(artworks: Iterable[Artwork], *, width: int) -> str:
    """The table (header included) of *artworks*, at most *width* columns where it can be.

    Too wide, it gives way column by column: the prompt is cut first, down to nothing, then
    the style, the type, the status and the time; the id stays whole.
    """
    rows: list[Sequence[str]] = [HEADER, *(_cells(artwork) for artwork in artworks)]
    widths = _widths(rows, width)
    lines = [
        _GAP.join(_fit(cell, w).ljust(w) for cell, w in zip(row, widths, strict=True) if w).rstrip()
        for row in rows
    ]
    return "\n".join(lines) + "\n"
