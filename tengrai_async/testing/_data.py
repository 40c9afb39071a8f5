"""Deterministic synthetic artworks that are valid under the spec and cover it.

Every enum member and both edges of every range show up within a few hundred items; the values
come from the rules in ``_rules``, so the data moves with the spec.
"""

from __future__ import annotations

import datetime as _dt
import random
import uuid
from typing import Any, Final

from .. import _rules
from .._enums import (
    ArtworkStatus,
    AspectRatio,
    CameraAngle,
    ColorTone,
    Model,
    PromptMode,
    Style,
)

__all__ = ["EPOCH", "make_artwork", "make_artworks"]

#: The ``createdAt`` of artwork 0; artwork *i* is ``i`` times 37 seconds older (newest first).
EPOCH: Final = _dt.datetime(2026, 11, 1, 12, 0, tzinfo=_dt.timezone.utc)
_STEP: Final = _dt.timedelta(seconds=37)

_WORDS: Final = (
    *("cat", "lighthouse", "neon", "forest", "portrait", "misty", "harbor", "glass"),
    *("dragon", "orchard", "brass", "robot", "sunrise", "velvet", "canyon", "paper"),
    *("crane", "storm", "violet", "desert", "choir", "ember", "lantern", "tide"),
)

_OFFSETS: Final = (
    _dt.timezone.utc,
    _dt.timezone(_dt.timedelta(hours=2)),
    _dt.timezone(_dt.timedelta(hours=-5, minutes=-30)),
)


def _span(rule: _rules.IntRange) -> tuple[int, ...]:
    assert rule.maximum is not None  # noqa: S101 - every parameter range is closed
    return tuple(range(rule.minimum, rule.maximum + 1))


def _edges(rule: _rules.IntRange) -> list[int]:
    assert rule.maximum is not None  # noqa: S101 - every parameter range is closed
    middle = (rule.minimum + rule.maximum) // 2
    return sorted({rule.minimum, middle, rule.maximum})


# Width/height pairs on both edges of the size rules, the area limit met exactly included.
_SIDE = _edges(_rules.DIMENSION)
_EXACT_AREA_HEIGHT: Final = _rules.MAX_AREA // _rules.DIMENSION.maximum  # type: ignore[operator]
_SIZES: Final[list[tuple[int | None, int | None]]] = [
    (None, None),
    (_SIDE[0], _SIDE[0]),
    (_SIDE[-1], None),
    (None, _SIDE[-1]),
    (_SIDE[0], _SIDE[-1]),
    (1216, 1216),
    (_rules.DIMENSION.maximum, _EXACT_AREA_HEIGHT),
]


# Member tuples built once: listing an enum class costs microseconds, and a history is long.
_MODELS: Final = tuple(Model)
_PROMPT_MODES: Final = tuple(PromptMode)
_STYLES: Final = tuple(Style)
_ASPECT_RATIOS: Final = tuple(AspectRatio)
_COLOR_TONES: Final = tuple(ColorTone)
_CAMERA_ANGLES: Final = tuple(CameraAngle)
_STATUSES: Final = tuple(ArtworkStatus)
_BATCHES: Final = _span(_rules.BATCH)
_CREATIVITIES: Final = _span(_rules.CREATIVITY)
_DETAILS: Final = _span(_rules.DETAILS)


def _pick(rng: random.Random, index: int, values: list[Any] | tuple[Any, ...]) -> Any:
    # Cycling by index guarantees coverage; the rng only decides what else varies.
    return values[(index + rng.randrange(2)) % len(values)]


def _words(rng: random.Random, limit: int) -> str:
    count = limit if rng.random() < 0.02 else rng.randint(1, 12)  # noqa: PLR2004
    return " ".join(rng.choices(_WORDS, k=count))


def _timestamp(index: int, rng: random.Random) -> str:
    moment = (EPOCH - _STEP * index).astimezone(_OFFSETS[index % len(_OFFSETS)])
    if rng.random() < 0.5:  # noqa: PLR2004
        moment = moment.replace(microsecond=rng.randrange(1, 1000) * 1000)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def _parameters(index: int, rng: random.Random) -> dict[str, Any]:
    params: dict[str, Any] = {}

    def maybe(key: str, value: Any) -> None:
        # About a third of the optional parameters are left out to exercise the defaults.
        if rng.random() < 0.66:  # noqa: PLR2004
            params[key] = value

    maybe("model", _pick(rng, index, _MODELS).value)
    maybe("batch", _pick(rng, index, _BATCHES))
    maybe("promptMode", _pick(rng, index, _PROMPT_MODES).value)
    maybe("prompt", _words(rng, _rules.PROMPT_MAX_WORDS))
    maybe("negativePrompt", _words(rng, _rules.NEGATIVE_PROMPT_MAX_WORDS))
    maybe("style", _STYLES[index % len(_STYLES)].value)
    maybe("creativity", _CREATIVITIES[index % len(_CREATIVITIES)])
    maybe("details", _pick(rng, index, _DETAILS))
    width, height = _SIZES[index % len(_SIZES)]
    if width is None and height is None:
        maybe("aspectRatio", _ASPECT_RATIOS[index % len(_ASPECT_RATIOS)].value)
    if width is not None:
        params["width"] = width
    if height is not None:
        params["height"] = height
    maybe("nsfw", bool(index % 2))
    maybe("transparentBackground", rng.random() < 0.5)  # noqa: PLR2004
    maybe("colorTone", _COLOR_TONES[index % len(_COLOR_TONES)].value)
    maybe("cameraAngle", _CAMERA_ANGLES[index % len(_CAMERA_ANGLES)].value)
    if rng.random() < 0.2:  # noqa: PLR2004
        params["webhook"] = f"https://hooks.example.com/tengrai/{index}"
    return params


def make_artwork(index: int, *, seed: int = 0) -> dict[str, Any]:
    """Return artwork number *index* (0 is the newest) of the synthetic history *seed*.

    The result is the JSON object the API would send; it depends only on ``(index, seed)``, so a
    server can produce any window of a huge history without holding it. Negative indexes give
    artworks newer than artwork 0 (what a server inserts while a listing runs).
    """
    rng = random.Random(f"{seed}:{index}")
    status = ArtworkStatus.SUCCEEDED if rng.random() < 0.6 else _pick(rng, index, _STATUSES)  # noqa: PLR2004
    batch_images = rng.randint(0, 2) if status is ArtworkStatus.SUCCEEDED else 0
    artwork_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    return {
        "id": str(artwork_id),
        "artworkType": "selena",
        "parameters": _parameters(index, rng),
        "duration": rng.choice((0, 1, round(rng.uniform(0.5, 60.0), 3))),
        "results": [
            f"https://cdn.tengr.ai/artworks/{artwork_id}/{n}.png" for n in range(batch_images)
        ],
        "status": status.value,
        "createdAt": _timestamp(index, rng),
    }


def make_artworks(n: int, *, seed: int = 0, start: int = 0) -> list[dict[str, Any]]:
    """Return *n* synthetic artworks, newest first: indexes ``start .. start + n - 1``."""
    return [make_artwork(index, seed=seed) for index in range(start, start + n)]
