"""Deterministic synthetic artworks of every kind, valid under the spec and covering it.

The values come from the rules on the models' fields (``Rule.samples``: both edges of every
range, every enum member), so the data moves with the spec. Each item also carries keys the
docs do not describe, on the item and inside ``parameters``, so that every consumer exercises
the lossless path.
"""

from __future__ import annotations

import datetime as _dt
import math
import random
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from .. import _rules
from .._codegen import camel_case
from .._enums import ArtworkStatus
from .._fields import NESTED, RULE
from .._models import KINDS

__all__ = [
    "DEFAULT_KINDS",
    "EPOCH",
    "RUNNING_WINDOW",
    "KindMix",
    "index_of",
    "make_artwork",
    "make_artworks",
]

#: The ``createdAt`` of artwork 0; artwork *i* is ``i`` times 37 seconds older (newest first).
EPOCH: Final = _dt.datetime(2026, 11, 1, 12, 0, tzinfo=_dt.timezone.utc)
_STEP: Final = _dt.timedelta(seconds=37)

#: What a key's history looks like by default: mostly ``selena``, every other kind present.
DEFAULT_KINDS: Final[Mapping[str, float]] = {
    "selena": 0.55,
    "selena_variete": 0.08,
    "quantum": 0.08,
    "hamilton": 0.06,
    "photo_pilot": 0.03,
    "face_refiner": 0.04,
    "face_swap": 0.03,
    "upscaling_v2": 0.05,
    "detailer_upscaler": 0.03,
    "remove_background": 0.02,
    "segmentation": 0.015,
    "depth_map": 0.015,
}

#: Which kinds to make: a weight per kind, or a sequence of kinds (equally likely). A name
#: outside the documented twelve makes items of an unknown kind.
KindMix = Mapping[str, float] | Sequence[str]

_WORDS: Final = (
    *("cat", "lighthouse", "neon", "forest", "portrait", "misty", "harbor", "glass"),
    *("dragon", "orchard", "brass", "robot", "sunrise", "velvet", "canyon", "paper"),
    *("crane", "storm", "violet", "desert", "choir", "ember", "lantern", "tide"),
)
_PROMPT_WORDS: Final = {
    "prompt": _rules.PROMPT_MAX_WORDS,
    "negativePrompt": _rules.NEGATIVE_PROMPT_MAX_WORDS,
    "textPrompt": 12,
}
_OFFSETS: Final = (
    _dt.timezone.utc,
    _dt.timezone(_dt.timedelta(hours=2)),
    _dt.timezone(_dt.timedelta(hours=-5, minutes=-30)),
)
_STATUSES: Final = tuple(member.value for member in ArtworkStatus)
_FINAL_STATUSES: Final = ("succeeded", "failed", "canceled")
#: Only this many of the newest artworks (about 12 minutes of history) may still be running:
#: a job is done within minutes, so an older artwork has a final status, as in a real history.
RUNNING_WINDOW: Final = 20


@attrs.frozen
class _Field:
    name: str
    key: str
    samples: tuple[Any, ...]
    rule: _rules.Rule | None
    nested: tuple[_Field, ...] = ()


def _plan(cls: type) -> tuple[_Field, ...]:
    """What to generate for each field of a parameters class, worked out once per class."""
    plan = []
    for field in attrs.fields(cls):
        if not field.init:
            continue
        key = camel_case(field.name)
        if NESTED in field.metadata:
            plan.append(_Field(field.name, key, (), None, _plan(field.metadata[NESTED])))
            continue
        rule = field.metadata[RULE]
        plan.append(_Field(field.name, key, tuple(rule.samples()), rule))
    return tuple(plan)


_PARAMETERS: Final = {
    kind: attrs.fields_dict(cls)["parameters"].metadata[NESTED] for kind, cls in KINDS.items()
}
_PLANS: Final = {kind: _plan(cls) for kind, cls in _PARAMETERS.items()}
_CROSS: Final = {kind: cls.__cross_rules__ for kind, cls in _PARAMETERS.items()}


def _sizes(rule: _rules.Rule, cap: _rules.AreaCap | None) -> list[tuple[Any, Any, bool]]:
    # Width/height pairs on both edges of the size rules, each area cap met exactly included;
    # the third item says whether the pair needs the cap's raising flag (highResolution) set.
    low, _, high = rule.samples()
    pairs: list[tuple[Any, Any, bool]] = [
        (None, None, False),
        (low, low, False),
        (high, None, False),
        (None, high, False),
    ]
    if cap is not None:
        side = math.isqrt(cap.maximum)
        pairs += [(side, side, False), (high, cap.maximum // high, False)]
        if cap.raised_maximum is not None:
            side = math.isqrt(cap.raised_maximum)
            pairs += [(side, side, True), (high, cap.raised_maximum // high, True)]
    else:  # pragma: no cover - every kind with a size has an area cap
        pairs.append((low, high, False))
    return pairs


def _pick(rng: random.Random, index: int, values: Sequence[Any]) -> Any:
    # Cycling by index guarantees coverage; the rng only decides what else varies.
    return values[(index + rng.randrange(2)) % len(values)]


def _words(rng: random.Random, limit: int) -> str:
    count = limit if rng.random() < 0.02 else rng.randint(1, 12)  # noqa: PLR2004
    return " ".join(rng.choices(_WORDS, k=count))


def _value(field: _Field, rng: random.Random, index: int) -> Any:
    if field.nested:
        return _object(field.nested, rng, index)
    if isinstance(field.rule, _rules.Text) and field.key in _PROMPT_WORDS:
        return _words(rng, _PROMPT_WORDS[field.key])
    if isinstance(field.rule, _rules.Uri | _rules.Text) and field.key != "webhook":
        return f"https://cdn.tengr.ai/inputs/{index}/{field.key}.png"
    if field.key == "webhook":
        return f"https://hooks.example.com/tengrai/{index}"
    return _pick(rng, index, field.samples)


def _object(plan: tuple[_Field, ...], rng: random.Random, index: int) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for field in plan:
        # About a third of the optional keys are left out, to exercise the defaults.
        if field.key in ("width", "height") or rng.random() >= 0.66:  # noqa: PLR2004
            continue
        obj[field.key] = _value(field, rng, index)
    return obj


def _parameters(kind: str, rng: random.Random, index: int) -> dict[str, Any]:
    plan = _PLANS.get(kind)
    if plan is None:  # an unknown kind: something prompt-like, as a new kind would have
        return {"prompt": _words(rng, 12), "strength": rng.randint(1, 5)}
    params = _object(plan, rng, index)
    by_key = {field.key: field for field in plan}
    if "width" in by_key:
        caps = [rule for rule in _CROSS[kind] if isinstance(rule, _rules.AreaCap)]
        sizes = _sizes(by_key["width"].rule, caps[0] if caps else None)  # type: ignore[arg-type]
        width, height, raised = sizes[index % len(sizes)]
        if width is not None:
            params["width"] = width
        if height is not None:
            params["height"] = height
        if raised and caps[0].raised_by is not None:
            params[camel_case(caps[0].raised_by)] = True
    for rule in _CROSS[kind]:
        if rule.accepts({field.name: params.get(field.key) for field in plan}):
            continue
        if isinstance(rule, _rules.MembersWhen):
            # Keep the value (every member must show up) and turn the condition off instead.
            params[camel_case(rule.when)] = not rule.equals
        else:
            del params[camel_case(rule.field)]
    return params


def _timestamp(index: int, rng: random.Random) -> str:
    moment = (EPOCH - _STEP * index).astimezone(_OFFSETS[index % len(_OFFSETS)])
    if rng.random() < 0.5:  # noqa: PLR2004
        moment = moment.replace(microsecond=rng.randrange(1, 1000) * 1000)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def _weights(kinds: KindMix | None) -> tuple[tuple[str, ...], tuple[float, ...]]:
    if kinds is None:
        kinds = DEFAULT_KINDS
    if isinstance(kinds, Mapping):
        return tuple(kinds), tuple(kinds.values())
    names = tuple(kinds)
    return names, (1.0,) * len(names)


def make_artwork(
    index: int, *, seed: int = 0, kinds: KindMix | None = None, extras: bool = True
) -> dict[str, Any]:
    """Return artwork number *index* (0 is the newest) of the synthetic history *seed*.

    The result is the JSON object the API would send; it depends only on its arguments, so a
    server can produce any window of a huge history without holding it. Negative indexes give
    artworks newer than artwork 0 (what a server inserts while a listing runs).

    Args:
        index: The artwork's place in the history.
        seed: Which history.
        kinds: The mix of kinds (default :data:`DEFAULT_KINDS`: mostly ``selena``).
        extras: Add keys the docs do not describe (``creditsUsed`` on the item; ``seed``,
            ``outputFormat`` or a nested ``clientMeta`` inside ``parameters``), as newer API
            versions send; a lossless client keeps them.
    """
    rng = random.Random(f"{seed}:{index}")
    names, weights = _weights(kinds)
    kind = names[0] if len(names) == 1 else rng.choices(names, weights)[0]
    statuses = _STATUSES if index < RUNNING_WINDOW else _FINAL_STATUSES
    status = "succeeded" if rng.random() < 0.6 else _pick(rng, index, statuses)  # noqa: PLR2004
    images = rng.randint(0, 2) if status == "succeeded" else 0
    # The low 48 bits carry the index, so a server can find any artwork by its id.
    artwork_id = uuid.UUID(int=(rng.getrandbits(80) << 48) | (index + _INDEX_BIAS), version=4)
    parameters = _parameters(kind, rng, index)
    item: dict[str, Any] = {
        "id": str(artwork_id),
        "artworkType": kind,
        "parameters": parameters,
        "duration": 0
        if status == "starting"
        else rng.choice((1, round(rng.uniform(0.5, 60.0), 3))),
        "results": [f"https://cdn.tengr.ai/artworks/{artwork_id}/{n}.webp" for n in range(images)],
        "status": status,
        "createdAt": _timestamp(index, rng),
    }
    if extras:
        item["creditsUsed"] = rng.randint(1, 8)
        if kind == "selena":  # the two keys the newer docs show, which the SDK does not model
            parameters["seed"] = rng.randint(1, 2_147_483_647)
            parameters["outputFormat"] = "webp"
        else:
            parameters["clientMeta"] = {"source": "fake", "tags": ["a", index % 7], "v": 1.5}
    return item


#: Added to the index in an id's low 48 bits, so negative (inserted) indexes fit too.
_INDEX_BIAS: Final = 1 << 47


def index_of(artwork_id: uuid.UUID) -> int:
    """The index a synthetic id was made for (check it by making that artwork again)."""
    return (artwork_id.int & ((1 << 48) - 1)) - _INDEX_BIAS


def make_artworks(
    n: int,
    *,
    seed: int = 0,
    start: int = 0,
    kinds: KindMix | None = None,
    extras: bool = True,
) -> list[dict[str, Any]]:
    """Return *n* synthetic artworks, newest first: indexes ``start .. start + n - 1``."""
    return [
        make_artwork(index, seed=seed, kinds=kinds, extras=extras)
        for index in range(start, start + n)
    ]
