"""What the templates show of a stored artwork: a card of the grid, the detail page's facts.

Plain values only (text, links): the templates escape them all, and make no decisions.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any, Final

import attrs

from ..archive._reader import StoredRow, json_object, mapping, prompt_of, utc_text
from ._thumbnails import THUMBNAIL_SUFFIX

__all__ = ["Card", "Detail", "DetailImage", "card", "detail", "image_paths"]

#: How much of a prompt a card shows.
_START: Final = 90
_IMAGES: Final = "images/"


def _parsed(row: StoredRow) -> dict[str, Any]:
    return json_object(row.json)


def _parameters(item: dict[str, Any]) -> dict[str, Any]:
    return mapping(item.get("parameters"))


def _date(text: str | None) -> str:
    """``createdAt`` as a UTC minute, or the text as it is when it cannot be read."""
    return utc_text(text, "%Y-%m-%d %H:%M")


def _name(path: str | None) -> str | None:
    """The file name of an ``images.path`` (``images/NAME``), if it is one this serves."""
    if path is None or not path.startswith(_IMAGES) or "/" in path[len(_IMAGES) :]:
        return None
    return path[len(_IMAGES) :]


def image_paths(row: StoredRow) -> list[str]:
    """The local paths (relative to the archive directory) of the artwork's downloaded images."""
    return [image.path for image in row.images if image.state == "done" and image.path]


@attrs.frozen(kw_only=True)
class Card:
    """One artwork of the grid."""

    id: str
    kind: str
    status: str
    created_at: str
    date: str
    prompt: str
    start: str
    thumbnail: str | None
    label: str
    state: str


def card(row: StoredRow) -> Card:
    """The grid's card of *row*: its first downloaded image, or what became of its images."""
    prompt = prompt_of(_parameters(_parsed(row)))
    kind = row.artwork_type or "unknown kind"
    status = row.status or "unknown"
    thumbnail = None
    for image in row.images:
        name = _name(image.path) if image.state == "done" else None
        if name is not None:
            thumbnail = "/thumbnails/" + urllib.parse.quote(name + THUMBNAIL_SUFFIX)
            break
    states = {image.state for image in row.images}
    state = next((s for s in ("gone", "failed") if s in states), "")
    return Card(
        id=row.id,
        kind=kind,
        status=status,
        created_at=row.created_at or "",
        date=_date(row.created_at),
        prompt=prompt,
        start=prompt if len(prompt) <= _START else prompt[: _START - 1].rstrip() + "…",
        thumbnail=thumbnail,
        label=state or f"{kind} · {status}",
        state=state,
    )


@attrs.frozen
class DetailImage:
    """One image of the detail page: a link to the file, or what became of it."""

    position: int
    href: str | None
    state: str


@attrs.frozen(kw_only=True)
class Detail:
    """The detail page of one artwork."""

    id: str
    kind: str
    status: str
    prompt: str
    created_at: str
    duration: str
    first_seen: str
    last_seen: str
    removed_at: str | None
    images: tuple[DetailImage, ...]
    parameters: tuple[tuple[str, str], ...]
    json: str
    json_href: str
    json_name: str


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def detail(row: StoredRow) -> Detail:
    """Everything the detail page shows of *row*."""
    item = _parsed(row)
    parameters = _parameters(item)
    images: list[DetailImage] = []
    for image in row.images:
        name = _name(image.path) if image.state == "done" else None
        href = None if name is None else "/images/" + urllib.parse.quote(name)
        images.append(DetailImage(image.position, href, image.state or "not downloaded yet"))
    duration = item.get("duration")
    try:
        # Pretty, in the API's own key order; the text itself is kept as the API sent it.
        pretty = json.dumps(json.loads(row.json), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = row.json
    quoted = urllib.parse.quote(row.id, safe="")
    return Detail(
        id=row.id,
        kind=row.artwork_type or "unknown kind",
        status=row.status or "unknown",
        prompt=prompt_of(parameters),
        created_at=row.created_at or "",
        duration="" if duration is None else f"{_shown(duration)} s",
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        removed_at=row.removed_at,
        images=tuple(images),
        parameters=tuple((str(key), _shown(value)) for key, value in parameters.items()),
        json=pretty,
        json_href=f"/api/artworks/{quoted}",
        json_name=f"{quoted}.json",
    )
