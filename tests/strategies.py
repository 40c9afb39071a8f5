"""Hypothesis strategies for valid JSON artworks, built from the spec rather than the package.

The tables below restate the spec (find-artworks.md and artwork-kinds.md: every kind's
parameters, their types, ranges, members, defaults and cross-field rules) so that the tests check
the package against the documents, not against itself. Nothing here imports ``tengrai_async``.

``artworks(kind)`` draws valid JSON items of one kind, undocumented keys included (on the item,
inside ``parameters`` and nested deeper), the way newer API versions send them;
``with_defaults`` fills the documented defaults into a JSON artwork.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from hypothesis import strategies as st

JSON = dict[str, Any]

# --- the spec, restated: shared lists ----------------------------------------------------------

STATUSES: Final = ("starting", "processing", "succeeded", "failed", "canceled")
MODELS: Final = ("tengrai-20231128-m-d.safetensors", "tengrai-20240423-m-f.safetensors")
PROMPT_MODES: Final = ("seer", "servitor")
#: **Styles** (25): selena's and selena_variete's.
STYLES: Final = (
    "default",
    "portraiture",
    "landscape",
    "photographer",
    "analog",
    "car",
    "food",
    "horror",
    "stained-glass",
    "impasto",
    "abstract-ink",
    "illustration",
    "aquarelle",
    "water-cute",
    "sphericute",
    "fairytale",
    "machinart",
    "isometric",
    "logo",
    "abstractpen",
    "lineart",
    "manga",
    "infiny-weave",
    "infiny-pattern",
    "infiny-flow",
)
QUANTUM_STYLES: Final = (*STYLES, "tengrai-anime", "folktale")
HAMILTON_STYLES: Final = (
    "default",
    "stained-glass",
    "line-drawing",
    "simple-sketch",
    "hand-sketch",
    "coloring-book",
    "plasticine",
    "photographer",
    "analog",
    "abstract-flat",
    "surreal",
    "manga",
)
#: **Ratios-11** (the selena family).
ASPECT_RATIOS: Final = (
    "1:1",
    "7:9",
    "2:3",
    "4:7",
    "9:16",
    "9:21",
    "9:7",
    "3:2",
    "7:4",
    "16:9",
    "21:9",
)
#: **Ratios-7** (quantum, hamilton, photo_pilot).
RATIOS_7: Final = ("1:1", "2:3", "3:4", "4:3", "9:16", "3:2", "16:9")
COLOR_TONES: Final = (
    "cool",
    "warm",
    "blackAndWhite",
    "pastel",
    "vibrantColors",
    "sepia",
    "mutedColors",
    "neonColors",
)
CAMERA_ANGLES: Final = (
    "closeUp",
    "eyeLevel",
    "lowAngle",
    "highAngle",
    "wormsEye",
    "birdsEye",
    "fishEye",
    "aerialView",
    "dutchAngle",
    "firstPersonView",
)
OUTPUT_FORMATS: Final = ("auto", "png", "webp")
IMAGE_FORMATS: Final = ("png", "webp")
PROCESSING_MODES: Final = (
    "sketch-to-image",
    "reimagine",
    "3d",
    "ai-rchitect",
    "human-pose",
    "retake",
)
SEGMENTATION_METHODS: Final = ("text", "points")
DEPTH_MODELS: Final = (
    "giant",
    "large",
    "base",
    "small",
    "mono_large",
    "metric_large",
    "nested_giant_large",
)
#: depth_map's models when ``useVersion3`` is false (V2 has only these).
V2_DEPTH_MODELS: Final = DEPTH_MODELS[:4]
NORMALIZATION_MODES: Final = ("Standard", "V2-Style", "Raw")

#: The general area cap (1216 x 1216) and the one of the ``highResolution`` kinds (1328 x 1328).
MAX_AREA: Final = 1_478_656
MAX_HIGH_RESOLUTION_AREA: Final = 1_763_584
MAX_SEED: Final = 2_147_483_647

#: The keys every artwork must carry, in the API's order.
REQUIRED_KEYS: Final = (
    "id",
    "artworkType",
    "parameters",
    "duration",
    "results",
    "status",
    "createdAt",
)

# --- the spec, restated: one table per kind ----------------------------------------------------

#: The JSON types of the tables: ``choice`` is one of a few numbers (``values``), ``points`` the
#: segmentation points object.
TYPES: Final = ("integer", "number", "choice", "enum", "string", "uri", "boolean", "points")


@dataclasses.dataclass(frozen=True)
class Field:
    """One row of a parameters table.

    ``default`` is ``None`` where the docs give none (no documented default is JSON null).
    ``integer`` tells, for a ``choice``, whether the JSON type is integer or number.
    """

    key: str
    type: str
    minimum: float | None = None
    maximum: float | None = None
    multiple_of: int | None = None
    values: tuple[Any, ...] = ()
    default: Any = None
    integer: bool = True

    @property
    def name(self) -> str:
        """The Python (snake_case) name of the field."""
        return snake_case(self.key)

    @property
    def edges(self) -> tuple[Any, ...]:
        """The bounds of a range that exist (a side left open has none)."""
        return tuple(edge for edge in (self.minimum, self.maximum) if edge is not None)


@dataclasses.dataclass(frozen=True)
class AreaCap:
    """``width * height <= maximum`` when both are set; ``raised_maximum`` when the boolean
    ``raised_by`` is true. A break is reported on ``height``."""

    maximum: int
    raised_by: str | None = None
    raised_maximum: int | None = None

    def cap(self, params: Mapping[str, Any]) -> int:
        """The cap that applies to *params*."""
        if self.raised_by is not None and params.get(self.raised_by) is True:
            assert self.raised_maximum is not None
            return self.raised_maximum
        return self.maximum


@dataclasses.dataclass(frozen=True)
class MembersWhen:
    """``key`` must be one of ``members`` when the boolean ``when`` equals ``equals``."""

    key: str
    members: tuple[str, ...]
    when: str
    equals: bool


@dataclasses.dataclass(frozen=True)
class Kind:
    """One documented kind: its ``artworkType`` and its parameters table, in the table's order."""

    name: str
    fields: tuple[Field, ...]
    area: AreaCap | None = None
    members_when: MembersWhen | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """The documented keys of ``parameters``, in the table's order."""
        return tuple(field.key for field in self.fields)

    @property
    def by_key(self) -> dict[str, Field]:
        """The fields by key."""
        return {field.key: field for field in self.fields}

    @property
    def defaults(self) -> dict[str, Any]:
        """The documented defaults, by key."""
        return {f.key: f.default for f in self.fields if f.default is not None}


def snake_case(key: str) -> str:
    """The Python name of a camelCase JSON key (``useVersion3`` -> ``use_version3``)."""
    return re.sub(r"([A-Z])", r"_\1", key).lower()


def _integer(
    key: str,
    minimum: int | None = None,
    maximum: int | None = None,
    default: int | None = None,
    multiple_of: int | None = None,
) -> Field:
    return Field(key, "integer", minimum, maximum, multiple_of, default=default)


def _number(
    key: str,
    minimum: float | None = None,
    maximum: float | None = None,
    default: float | None = None,
) -> Field:
    return Field(key, "number", minimum, maximum, default=default)


def _choice(
    key: str, values: tuple[int, ...], *, integer: bool, default: int | None = None
) -> Field:
    return Field(key, "choice", values=values, default=default, integer=integer)


def _enum(key: str, values: tuple[str, ...], default: str | None = None) -> Field:
    return Field(key, "enum", values=values, default=default)


def _string(key: str, default: str | None = None) -> Field:
    return Field(key, "string", default=default)


def _uri(key: str) -> Field:
    return Field(key, "uri")


def _boolean(key: str, default: bool | None = None) -> Field:
    return Field(key, "boolean", default=default)


_PROMPT_MODE: Final = _enum("promptMode", PROMPT_MODES, "servitor")
_NSFW: Final = _boolean("nsfw", default=False)
_WEBHOOK: Final = _uri("webhook")
_SEED: Final = _integer("seed", 1, MAX_SEED)
_OUTPUT_FORMAT: Final = _enum("outputFormat", OUTPUT_FORMATS, "auto")
_MODEL: Final = _enum("model", MODELS)
_IMAGE_URL: Final = _uri("imageUrl")
_LEVEL: Final = (1, 5)
_AREA: Final = AreaCap(MAX_AREA)
_HIGH_RESOLUTION_AREA: Final = AreaCap(MAX_AREA, "highResolution", MAX_HIGH_RESOLUTION_AREA)

KINDS: Final[dict[str, Kind]] = {
    kind.name: kind
    for kind in (
        Kind(
            "selena",
            (
                _MODEL,
                _integer("batch", 1, 2, default=2),
                _PROMPT_MODE,
                _string("prompt", "cat"),
                _string("negativePrompt"),
                _enum("style", STYLES, "default"),
                _integer("creativity", *_LEVEL, default=3),
                _integer("details", *_LEVEL, default=3),
                _enum("aspectRatio", ASPECT_RATIOS),
                _integer("width", 512, 2048),
                _integer("height", 512, 2048),
                _NSFW,
                _boolean("transparentBackground"),
                _enum("colorTone", COLOR_TONES),
                _enum("cameraAngle", CAMERA_ANGLES),
                _WEBHOOK,
            ),
            area=_AREA,
        ),
        Kind(
            "selena_variete",
            (
                _IMAGE_URL,
                _MODEL,
                _integer("batch", 1, 2, default=2),
                _string("prompt", "cat"),
                _string("negativePrompt"),
                _enum("style", STYLES, "default"),
                _enum("processingMode", PROCESSING_MODES),
                _PROMPT_MODE,
                _integer("creativity", *_LEVEL, default=3),
                _integer("details", *_LEVEL, default=3),
                _integer("denoising", *_LEVEL, default=3),
                _enum("aspectRatio", ASPECT_RATIOS),
                _integer("width", 512, 2048),
                _integer("height", 512, 2048),
                _NSFW,
                _WEBHOOK,
            ),
            area=_AREA,
        ),
        Kind(
            "quantum",
            (
                _string("prompt"),
                _string("negativePrompt"),
                _enum("style", QUANTUM_STYLES),
                _PROMPT_MODE,
                _enum("aspectRatio", RATIOS_7),
                _integer("width", 512, 1360),
                _integer("height", 512, 1360),
                _NSFW,
                _boolean("transparentBackground"),
                _SEED,
                _WEBHOOK,
            ),
            area=_AREA,
        ),
        Kind(
            "hamilton",
            (
                _string("prompt", "cat"),
                _string("negativePrompt"),
                _enum("style", HAMILTON_STYLES),
                _PROMPT_MODE,
                _integer("creativity", *_LEVEL, default=3),
                _integer("effort", *_LEVEL, default=3),
                _enum("aspectRatio", RATIOS_7),
                _integer("width", 512, 2048),
                _integer("height", 512, 2048),
                _NSFW,
                _boolean("transparentBackground"),
                _boolean("highResolution"),
                _WEBHOOK,
            ),
            area=_HIGH_RESOLUTION_AREA,
        ),
        Kind(
            "photo_pilot",
            (
                _string("prompt", "cat"),
                _string("negativePrompt"),
                _choice("imageGuidance", (1, 2, 3), integer=False),
                _number("modification", *_LEVEL),
                _number("creativity", *_LEVEL),
                _number("effort", *_LEVEL),
                _enum("aspectRatio", RATIOS_7),
                _boolean("highResolution"),
                _number("width", 512, 2048),
                _number("height", 512, 2048),
                _string("imageUrl"),  # a plain string in its only schema, not a uri
                _WEBHOOK,
            ),
            area=_HIGH_RESOLUTION_AREA,
        ),
        Kind(
            "face_refiner",
            (
                _IMAGE_URL,
                _MODEL,
                _integer("denoising", *_LEVEL, default=3),
                _SEED,
                _WEBHOOK,
                _OUTPUT_FORMAT,
            ),
        ),
        Kind(
            "face_swap",
            (
                _uri("sourceImage"),
                _uri("targetImage"),
                _integer("denoising", *_LEVEL, default=3),
                _SEED,
                _WEBHOOK,
                _OUTPUT_FORMAT,
            ),
        ),
        Kind(
            "upscaling_v2",
            (_IMAGE_URL, _integer("scaleFactor", 2, 8, default=2), _WEBHOOK),
        ),
        Kind(
            "detailer_upscaler",
            (
                _IMAGE_URL,
                _choice("scaleFactor", (1, 2, 4, 8), integer=True, default=2),
                _integer("details", 1, 3, default=2),
                _integer("modification", 1, 3, default=2),
                _SEED,
                _WEBHOOK,
                _OUTPUT_FORMAT,
            ),
        ),
        Kind(
            "remove_background",
            (
                _IMAGE_URL,
                _WEBHOOK,
                _OUTPUT_FORMAT,
                _enum("imageFormat", IMAGE_FORMATS, "png"),
            ),
        ),
        Kind(
            "segmentation",
            (
                _IMAGE_URL,
                _enum("method", SEGMENTATION_METHODS),
                _string("textPrompt"),
                _number("textConfidence", maximum=1, default=0.2),
                _integer("textMaxDetections", -1, 100, default=-1),
                _boolean("textCombineMasks", default=True),
                Field("pointsPositive", "points"),
                Field("pointsNegative", "points"),
                _integer("maskExpand", -16384, 16384, default=0),
                _boolean("maskTaperedCorners"),
                _number("maskBlurSigma", 0.1, 100, default=0.1),
                _integer("maskKernelSize", maximum=100, default=0),
                _OUTPUT_FORMAT,
                _WEBHOOK,
            ),
        ),
        Kind(
            "depth_map",
            (
                _IMAGE_URL,
                _boolean("useVersion3"),
                _enum("model", DEPTH_MODELS, "large"),
                _enum("normalizationMode", NORMALIZATION_MODES, "Standard"),
                _integer("resolutionLowerLimit", 256, 2048, default=1024, multiple_of=64),
                _boolean("invertDepth"),
                _boolean("usePostResize"),
                _WEBHOOK,
            ),
            members_when=MembersWhen("model", V2_DEPTH_MODELS, "useVersion3", equals=False),
        ),
    )
}

ARTWORK_TYPES: Final = tuple(KINDS)

#: The keys of a segmentation points object: ``points``, ``[x, y]`` pairs of numbers each in
#: ``POINT_RANGE``, and ``labels``, integers.
POINTS_KEYS: Final = ("points", "labels")
POINT_RANGE: Final = (0, 1)

#: Every value any enum of any kind takes: a kind's field must refuse the ones not its own.
ALL_ENUM_VALUES: Final = tuple(
    dict.fromkeys(
        value
        for kind in KINDS.values()
        for field in kind.fields
        if field.type == "enum"
        for value in field.values
    )
)
#: Every documented parameter key of any kind.
ALL_PARAMETER_KEYS: Final = frozenset(key for kind in KINDS.values() for key in kind.keys)

# --- selena, by the names the single-kind tests use ---------------------------------------------

_SELENA: Final = KINDS["selena"]
#: Inclusive integer ranges of selena's parameters, by wire key.
RANGES: Final[dict[str, tuple[int, int]]] = {
    f.key: (int(f.minimum), int(f.maximum))
    for f in _SELENA.fields
    if f.type == "integer" and f.minimum is not None and f.maximum is not None
}
#: Enum-valued selena parameters, by wire key.
PARAMETER_ENUMS: Final[dict[str, tuple[str, ...]]] = {
    f.key: f.values for f in _SELENA.fields if f.type == "enum"
}
BOOLEAN_PARAMETERS: Final = tuple(f.key for f in _SELENA.fields if f.type == "boolean")
TEXT_PARAMETERS: Final = tuple(f.key for f in _SELENA.fields if f.type == "string")
#: Every documented key of a selena ``parameters`` object.
PARAMETER_KEYS: Final = frozenset(_SELENA.keys)
#: The documented defaults of selena's optional parameters.
DEFAULTS: Final[dict[str, Any]] = _SELENA.defaults


def with_defaults(artwork: JSON) -> JSON:
    """Return *artwork* with its kind's documented defaults filled into missing parameters.

    An artwork without ``artworkType`` is taken as ``selena``.
    """
    kind = KINDS[artwork.get("artworkType", "selena")]
    return {**artwork, "parameters": {**kind.defaults, **artwork["parameters"]}}


def json_identical(a: Any, b: Any) -> bool:
    """Whether two decoded JSON values are the same document: types, key order and all."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(json_identical(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(map(json_identical, a, b))
    return bool(a == b)


# --- values ------------------------------------------------------------------------------------

_MAX_OFFSET_MINUTES: Final = 23 * 60 + 59
#: How far an open side of a range reaches in generated data (JSON integers stay in int64).
_OPEN: Final = 2**53

#: Text that JSON can carry (no lone surrogates, which no encoder accepts).
texts: Final = st.text(st.characters(codec="utf-8"), max_size=30)

#: Any JSON value, nested objects and arrays included (no NaN: JSON has none).
json_values: Final[st.SearchStrategy[Any]] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        texts,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)


def canonical_timestamp(moment: dt.datetime) -> str:
    """Format an aware datetime in the canonical RFC 3339 form the converter writes.

    UTC is ``Z``; the fraction is milliseconds when it is whole milliseconds, microseconds
    otherwise, and absent when zero; other offsets are ``+HH:MM``.
    """
    offset = moment.utcoffset()
    assert offset is not None
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    micro = moment.microsecond
    if micro and micro % 1000 == 0:
        text += f".{micro // 1000:03d}"
    elif micro:
        text += f".{micro:06d}"
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return text + "Z"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{rest:02d}"


@st.composite
def aware_datetimes(draw: st.DrawFn) -> dt.datetime:
    """Aware datetimes over the whole calendar, UTC often, any whole-minute offset otherwise."""
    naive = draw(st.datetimes())
    micro = draw(
        st.one_of(
            st.just(0),
            st.integers(1, 999).map(lambda ms: ms * 1000),
            st.integers(1, 999_999),
        )
    )
    minutes = draw(st.one_of(st.just(0), st.integers(-_MAX_OFFSET_MINUTES, _MAX_OFFSET_MINUTES)))
    zone = dt.timezone(dt.timedelta(minutes=minutes))
    return naive.replace(microsecond=micro, tzinfo=zone)


#: Canonical RFC 3339 timestamps with various offsets and fractions.
timestamps: Final = aware_datetimes().map(canonical_timestamp)


def _respell(text: str) -> st.SearchStrategy[str]:
    """Other RFC 3339 spellings of the same moment: ``+00:00`` for ``Z``, a padded fraction."""
    spellings = [text]
    if text.endswith("Z"):
        spellings.append(text[:-1] + "+00:00")
    if "." not in text[19:]:
        spellings.append(text[:19] + ".000" + text[19:])
    return st.sampled_from(spellings)


#: RFC 3339 timestamps, canonical or not: the API's text must come back exactly as sent.
timestamp_spellings: Final = timestamps.flatmap(_respell)

# Parts drawn from short lists: ``from_regex`` costs milliseconds per URL, and the URL's
# variety is not what these strategies test (the ``Uri`` rule has tests of its own).
_label = st.sampled_from(("hooks", "cdn", "a", "x9", "img-1", "tengr", "q0q"))
_segment = st.sampled_from(("x", "tengrai", "A_b", "~u", "img-2", "Z9", "a-b-c"))
_query = st.sampled_from(("", "?a=1", "?token=Ab9", "?v=2&w=3"))


def _url(scheme: str, labels: list[str], segments: list[str], query: str) -> str:
    return f"{scheme}://{'.'.join(labels)}.example/{'/'.join(segments)}{query}"


def webhooks() -> st.SearchStrategy[str]:
    """``https`` URLs in the canonical form ``yarl`` writes back unchanged."""
    return st.builds(
        _url,
        st.just("https"),
        st.lists(_label, min_size=1, max_size=3),
        st.lists(_segment, max_size=3),
        _query,
    )


#: Absolute URIs of a few schemes (a response is checked only for being a URI).
uris: Final = st.builds(
    _url,
    st.sampled_from(("https", "http", "s3")),
    st.lists(_label, min_size=1, max_size=2),
    st.lists(_segment, max_size=2),
    _query,
)

#: Prompts, including some past the word limits (the server truncates; not an error).
prompts: Final = st.one_of(texts, st.integers(250, 400).map(lambda n: " ".join(["word"] * n)))


def _integers(field: Field) -> st.SearchStrategy[int]:
    step = field.multiple_of or 1
    low = -_OPEN if field.minimum is None else math.ceil(field.minimum / step)
    high = _OPEN if field.maximum is None else math.floor(field.maximum / step)
    if field.minimum is None and field.maximum is not None:
        low = high - _OPEN
    if field.maximum is None and field.minimum is not None:
        high = low + _OPEN
    edges = [edge * step for edge in (low, high)]
    return st.one_of(st.sampled_from(edges), st.integers(low, high).map(lambda n: n * step))


def _numbers(field: Field) -> st.SearchStrategy[float | int]:
    low = -float(_OPEN) if field.minimum is None else field.minimum
    high = float(_OPEN) if field.maximum is None else field.maximum
    return st.one_of(
        st.sampled_from(field.edges),
        st.floats(low, high),
        st.integers(math.ceil(low), math.floor(high)),
    )


def points_objects(*, extras: bool = True) -> st.SearchStrategy[JSON]:
    """Segmentation points: ``[x, y]`` pairs of numbers in 0..=1 and integer labels."""
    low, high = POINT_RANGE
    coordinate = st.one_of(
        st.sampled_from((low, high, float(low), float(high))), st.floats(low, high)
    )
    pairs = st.lists(st.lists(coordinate, min_size=2, max_size=2), max_size=4)
    labels = st.lists(st.integers(-(2**31), 2**31), max_size=4)
    base = st.fixed_dictionaries({}, optional=dict(zip(POINTS_KEYS, (pairs, labels), strict=True)))
    if not extras:
        return base
    return st.tuples(base, _extras(frozenset(POINTS_KEYS))).map(lambda t: {**t[0], **t[1]})


def _choices(field: Field) -> st.SearchStrategy[Any]:
    values = st.sampled_from(field.values)
    return values if field.integer else st.one_of(values, values.map(float))


def _strings(field: Field) -> st.SearchStrategy[str]:
    return prompts if "rompt" in field.key else texts


def _uris(field: Field) -> st.SearchStrategy[str]:
    return webhooks() if field.key == "webhook" else uris


_VALID: Final[dict[str, Any]] = {
    "integer": _integers,
    "number": _numbers,
    "choice": _choices,
    "enum": lambda field: st.sampled_from(field.values),
    "string": _strings,
    "uri": _uris,
    "boolean": lambda _: st.booleans(),
    "points": lambda _: points_objects(),
}


def valid_values(field: Field) -> st.SearchStrategy[Any]:
    """Valid JSON values of one parameter (both edges of a range, every member)."""
    strategy: st.SearchStrategy[Any] = _VALID[field.type](field)
    return strategy


def _undocumented_keys(documented: set[str] | frozenset[str]) -> st.SearchStrategy[str]:
    # Keys other kinds document (a kind must not read them) and arbitrary text.
    others = sorted(ALL_PARAMETER_KEYS - documented)
    return st.one_of(st.sampled_from(others), texts).filter(lambda key: key not in documented)


def _extras(documented: set[str] | frozenset[str]) -> st.SearchStrategy[JSON]:
    return st.dictionaries(_undocumented_keys(documented), json_values, max_size=3)


@st.composite
def _size(draw: st.DrawFn, kind: Kind, params: JSON) -> JSON:
    """``width``/``height`` absent, alone, or both under the cap that applies (edges included)."""
    width_field = kind.by_key["width"]
    assert kind.area is not None
    assert width_field.minimum is not None
    assert width_field.maximum is not None
    low, high = int(width_field.minimum), int(width_field.maximum)
    cap = kind.area.cap(params)
    shape = draw(st.sampled_from(("none", "width", "height", "both", "edge")))
    if shape == "none":
        return {}
    if shape in {"width", "height"}:
        return {shape: draw(valid_values(width_field))}
    if shape == "edge":  # the cap met: exactly for side x side, just under for the others
        side = math.isqrt(cap)
        pairs = [(w, cap // w) for w in (side, high) if low <= cap // w <= high]
        width, height = draw(st.sampled_from([*pairs, *((h, w) for w, h in pairs)]))
        return {"width": width, "height": height}
    if width_field.type == "number" and draw(st.booleans()):
        fwidth = draw(st.floats(low, high))
        fheight = draw(st.floats(low, min(high, cap / fwidth)))
        while fwidth * fheight > cap:
            fheight = math.nextafter(fheight, 0)
        return {"width": fwidth, "height": fheight}
    width = draw(st.integers(low, high))
    height = draw(st.integers(low, min(high, cap // width)))
    return {"width": width, "height": height}


@st.composite
def parameters(draw: st.DrawFn, kind_name: str, *, extras: bool = True) -> JSON:
    """A valid ``parameters`` object of *kind_name*: every key optional, every value in its rule,
    the cross-field rules kept, undocumented keys (nested values too) mixed in."""
    kind = KINDS[kind_name]
    optional = {
        f.key: points_objects(extras=extras) if f.type == "points" else valid_values(f)
        for f in kind.fields
        if f.key not in {"width", "height"}
    }
    params: JSON = draw(st.fixed_dictionaries({}, optional=optional))
    if kind.area is not None:
        params.update(draw(_size(kind, params)))
    rule = kind.members_when
    if (
        rule is not None
        and params.get(rule.when) is rule.equals
        and params.get(rule.key, rule.members[0]) not in rule.members
    ):
        params[rule.key] = draw(st.sampled_from(rule.members))
    if extras:
        extra = draw(_extras(frozenset(kind.keys)))
        params.update(extra)
        # Shuffle the keys: the API's order is whatever it is, and must survive.
        order = draw(st.permutations(list(params)))
        params = {key: params[key] for key in order}
    return params


#: Durations: finite floats and JSON integers (exactly representable as floats).
durations: Final = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**53), 2**53),
)


@st.composite
def artworks(draw: st.DrawFn, kind: str, *, extras: bool = True) -> JSON:
    """A valid JSON artwork of *kind*, with undocumented keys when *extras*."""
    item = draw(
        st.fixed_dictionaries(
            {
                "id": st.uuids().map(str),
                "artworkType": st.just(kind),
                "parameters": parameters(kind, extras=extras),
                "duration": durations,
                "results": st.lists(st.one_of(texts, webhooks()), max_size=3),
                "status": st.sampled_from(STATUSES),
                "createdAt": timestamp_spellings if extras else timestamps,
            }
        )
    )
    if extras:
        item.update(draw(_extras(frozenset(REQUIRED_KEYS))))
    return item


def any_artworks(*, extras: bool = True) -> st.SearchStrategy[JSON]:
    """A valid JSON artwork of any documented kind."""
    return st.sampled_from(ARTWORK_TYPES).flatmap(lambda kind: artworks(kind, extras=extras))


def selena_parameters() -> st.SearchStrategy[JSON]:
    """A valid selena ``parameters`` object of documented keys only."""
    return parameters("selena", extras=False)


def selena_artworks() -> st.SearchStrategy[JSON]:
    """Valid JSON ``selena`` artworks of documented keys only, covering every rule."""
    return artworks("selena", extras=False)


def sizes() -> st.SearchStrategy[JSON]:
    """Selena's ``width``/``height``: absent, alone, or both within the area rule."""
    return _size(_SELENA, {})
