"""Hypothesis strategies for valid JSON artworks, built from the spec rather than the package.

The constants below restate the spec (find-artworks.md) so that the tests check the package
against it; ``with_defaults`` fills the documented defaults into a JSON artwork.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from hypothesis import strategies as st

JSON = dict[str, Any]

# --- the spec, restated ------------------------------------------------------------------------

ARTWORK_TYPES: Final = ("selena",)
STATUSES: Final = ("starting", "processing", "succeeded", "failed", "canceled")
MODELS: Final = ("tengrai-20231128-m-d.safetensors", "tengrai-20240423-m-f.safetensors")
PROMPT_MODES: Final = ("seer", "servitor")
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

#: Inclusive integer ranges of the parameters, by wire key.
RANGES: Final[dict[str, tuple[int, int]]] = {
    "batch": (1, 2),
    "creativity": (1, 5),
    "details": (1, 5),
    "width": (512, 2048),
    "height": (512, 2048),
}
MAX_AREA: Final = 1_478_656

#: Enum-valued parameters, by wire key.
PARAMETER_ENUMS: Final[dict[str, tuple[str, ...]]] = {
    "model": MODELS,
    "promptMode": PROMPT_MODES,
    "style": STYLES,
    "aspectRatio": ASPECT_RATIOS,
    "colorTone": COLOR_TONES,
    "cameraAngle": CAMERA_ANGLES,
}
BOOLEAN_PARAMETERS: Final = ("nsfw", "transparentBackground")
TEXT_PARAMETERS: Final = ("prompt", "negativePrompt")

#: Every documented key of a selena ``parameters`` object.
PARAMETER_KEYS: Final = frozenset(
    {*RANGES, *PARAMETER_ENUMS, *BOOLEAN_PARAMETERS, *TEXT_PARAMETERS, "webhook"}
)
#: The keys every artwork must carry.
REQUIRED_KEYS: Final = (
    "id",
    "artworkType",
    "parameters",
    "duration",
    "results",
    "status",
    "createdAt",
)

#: The documented defaults of the optional parameters.
DEFAULTS: Final[dict[str, Any]] = {
    "batch": 2,
    "promptMode": "servitor",
    "prompt": "cat",
    "style": "default",
    "creativity": 3,
    "details": 3,
    "nsfw": False,
}


def with_defaults(artwork: JSON) -> JSON:
    """Return *artwork* with the documented defaults filled into its missing parameters."""
    return {**artwork, "parameters": {**DEFAULTS, **artwork["parameters"]}}


# --- values ------------------------------------------------------------------------------------

_MAX_OFFSET_MINUTES: Final = 23 * 60 + 59

#: Text that JSON can carry (no lone surrogates, which no encoder accepts).
texts: Final = st.text(st.characters(codec="utf-8"), max_size=30)


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

_label = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
_segment = st.from_regex(r"[A-Za-z0-9_~-]{1,10}", fullmatch=True)
_query = st.from_regex(r"[a-z]{1,5}=[A-Za-z0-9]{1,8}", fullmatch=True)


@st.composite
def webhooks(draw: st.DrawFn) -> str:
    """``https`` URLs in the canonical form ``yarl`` writes back unchanged."""
    host = ".".join(draw(st.lists(_label, min_size=1, max_size=3))) + ".example"
    path = "/" + "/".join(draw(st.lists(_segment, max_size=3)))
    query = draw(st.one_of(st.just(""), _query.map(lambda q: "?" + q)))
    return f"https://{host}{path}{query}"


#: Prompts, including some past the 256-word limit (the server truncates; not an error).
prompts: Final = st.one_of(texts, st.integers(250, 400).map(lambda n: " ".join(["word"] * n)))


@st.composite
def sizes(draw: st.DrawFn) -> JSON:
    """``width``/``height`` absent, alone, or both within the area rule (its edge included)."""
    low, high = RANGES["width"]
    kind = draw(st.sampled_from(("none", "width", "height", "both")))
    if kind == "none":
        return {}
    if kind in {"width", "height"}:
        return {kind: draw(st.integers(low, high))}
    width = draw(st.integers(low, high))
    height = draw(st.integers(low, min(high, MAX_AREA // width)))
    return {"width": width, "height": height}


_OPTIONAL_PARAMETERS: Final = {
    "model": st.sampled_from(MODELS),
    "batch": st.integers(*RANGES["batch"]),
    "promptMode": st.sampled_from(PROMPT_MODES),
    "prompt": prompts,
    "negativePrompt": texts,
    "style": st.sampled_from(STYLES),
    "creativity": st.integers(*RANGES["creativity"]),
    "details": st.integers(*RANGES["details"]),
    "aspectRatio": st.sampled_from(ASPECT_RATIOS),
    "nsfw": st.booleans(),
    "transparentBackground": st.booleans(),
    "colorTone": st.sampled_from(COLOR_TONES),
    "cameraAngle": st.sampled_from(CAMERA_ANGLES),
    "webhook": webhooks(),
}


@st.composite
def selena_parameters(draw: st.DrawFn) -> JSON:
    """A valid ``parameters`` object: every key optional, every value in its rule."""
    params: JSON = draw(st.fixed_dictionaries({}, optional=_OPTIONAL_PARAMETERS))
    params.update(draw(sizes()))
    return params


#: Durations: finite floats and JSON integers (exactly representable as floats).
durations: Final = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**53), 2**53),
)


def selena_artworks() -> st.SearchStrategy[JSON]:
    """Valid JSON ``selena`` artworks covering every field, enum member and range edge."""
    return st.fixed_dictionaries(
        {
            "id": st.uuids().map(str),
            "artworkType": st.just("selena"),
            "parameters": selena_parameters(),
            "duration": durations,
            "results": st.lists(st.one_of(texts, webhooks()), max_size=3),
            "status": st.sampled_from(STATUSES),
            "createdAt": timestamps,
        }
    )
