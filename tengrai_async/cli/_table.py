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
# A prompt column narrower than this is useless: the table overflows the terminal instead.
_MIN_PROMPT: Final = 20
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
        _text(prompt, ""),
    )


def _text(value: object, missing: str = "-") -> str:
    return value if isinstance(value, str) else missing


def _fit(text: str, width: int) -> str:
    # A prompt may hold newlines or tabs: a table row must stay one line.
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + _ELLIPSIS


def render(artworks: Iterable[Artwork], *, width: int) -> str:
    """The table (header included) of *artworks*, at most *width* columns where it can be."""
    rows: list[Sequence[str]] = [_cells(artwork) for artwork in artworks]
    widths = [max([len(HEADER[i]), *(len(row[i]) for row in rows)]) for i in range(len(HEADER) - 1)]
    used = sum(widths) + len(_GAP) * len(widths)
    prompt_width = max(_MIN_PROMPT, width - used)
    lines = []
    for row in [HEADER, *rows]:
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)]
        lines.append(_GAP.join([*cells, _fit(row[-1], prompt_width)]).rstrip())
    return "\n".join(lines) + "\n"
