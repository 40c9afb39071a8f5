"""The models built by hand: defaults, rules checked on construction, frozen and slotted."""

from __future__ import annotations

import datetime as dt
import math
import typing
import uuid
from typing import Any

import attrs
import pytest
import yarl
from strategies import ARTWORK_TYPES, DEFAULTS, MAX_AREA, PARAMETER_ENUMS, PARAMETER_KEYS

from tengrai_async import (
    Artwork,
    ArtworkPage,
    ArtworkStatus,
    ArtworkType,
    AspectRatio,
    CameraAngle,
    ColorTone,
    Model,
    PromptMode,
    ResponseValidationError,
    SegmentationPoints,
    SelenaArtwork,
    SelenaParameters,
    Style,
    UnknownArtwork,
    ValidationError,
)
from tengrai_async._converter import camel_case, converter
from tengrai_async._fields import NESTED
from tengrai_async._models import KINDS
from tengrai_async.testing import make_artwork

CREATED = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.timezone.utc)


def make_selena(**overrides: Any) -> SelenaArtwork:
    fields: dict[str, Any] = {
        "id": uuid.UUID("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"),
        "parameters": SelenaParameters(),
        "duration": 1.5,
        "results": ("https://cdn.example/1.png",),
        "status": ArtworkStatus.SUCCEEDED,
        "created_at": CREATED,
    }
    fields.update(overrides)
    return SelenaArtwork(**fields)


PARAMETER_FIELDS = (
    "model",
    "batch",
    "prompt_mode",
    "prompt",
    "negative_prompt",
    "style",
    "creativity",
    "details",
    "aspect_ratio",
    "width",
    "height",
    "nsfw",
    "transparent_background",
    "color_tone",
    "camera_angle",
    "webhook",
)

# --- SelenaParameters ---------------------------------------------------------------------------


def test_parameters_have_the_sixteen_snake_case_fields() -> None:
    fields = attrs.fields(SelenaParameters)
    assert tuple(field.name for field in fields if field.init) == PARAMETER_FIELDS
    # The one other slot keeps the API's JSON; it is not a constructor argument.
    assert [field.name for field in fields if not field.init] == ["_raw"]


def test_parameter_field_names_camel_case_to_exactly_the_spec_keys() -> None:
    assert {camel_case(name) for name in PARAMETER_FIELDS} == PARAMETER_KEYS


def test_missing_parameters_take_documented_defaults_or_none() -> None:
    params = SelenaParameters()
    assert params.batch == DEFAULTS["batch"] == 2
    assert params.prompt_mode is PromptMode.SERVITOR
    assert params.prompt == "cat"
    assert params.style is Style.DEFAULT
    assert params.creativity == 3
    assert params.details == 3
    assert params.nsfw is False
    undocumented = set(PARAMETER_FIELDS) - {
        "batch",
        "prompt_mode",
        "prompt",
        "style",
        "creativity",
        "details",
        "nsfw",
    }
    assert {name: getattr(params, name) for name in undocumented} == dict.fromkeys(undocumented)


ENUM_FIELDS: list[tuple[str, Any]] = [
    ("model", Model),
    ("prompt_mode", PromptMode),
    ("style", Style),
    ("aspect_ratio", AspectRatio),
    ("color_tone", ColorTone),
    ("camera_angle", CameraAngle),
]
#: Each enum field with every member selena allows (Style and AspectRatio hold more kinds').
ENUM_CASES = [
    (name, cls(value)) for name, cls in ENUM_FIELDS for value in PARAMETER_ENUMS[camel_case(name)]
]
OTHER_KINDS_MEMBERS = [
    (name, member)
    for name, cls in ENUM_FIELDS
    for member in cls
    if member.value not in PARAMETER_ENUMS[camel_case(name)]
]


@pytest.mark.parametrize(("name", "member"), ENUM_CASES, ids=str)
def test_enum_parameter_built_from_wire_string_becomes_the_member(name: str, member: Any) -> None:
    params = SelenaParameters(**{name: member.value})
    assert getattr(params, name) is member


def test_style_car_by_wire_string_is_style_car() -> None:
    # mypy sees the annotation (Style); accepting the wire string is run-time behaviour.
    assert SelenaParameters(style="car").style is Style.CAR


@pytest.mark.parametrize(("name", "member"), ENUM_CASES[:3], ids=str)
def test_enum_parameter_built_from_member_keeps_the_member(name: str, member: Any) -> None:
    assert getattr(SelenaParameters(**{name: member}), name) is member


@pytest.mark.parametrize(("name", "member"), OTHER_KINDS_MEMBERS, ids=str)
def test_members_only_other_kinds_allow_are_refused_by_member_and_by_string(
    name: str, member: Any
) -> None:
    assert OTHER_KINDS_MEMBERS  # surreal, folktale, 3:4, ...
    for value in (member, member.value):
        with pytest.raises(ValidationError) as info:
            SelenaParameters(**{name: value})
        assert info.value.path == name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("model", "tengrai-unknown.safetensors"),
        ("model", 1),
        ("prompt_mode", "SEER"),
        ("prompt_mode", None),
        ("style", "Car"),
        ("style", ArtworkStatus.FAILED),
        ("aspect_ratio", "1:2"),
        ("color_tone", "black-and-white"),
        ("camera_angle", "close-up"),
        ("batch", 0),
        ("batch", 3),
        ("batch", True),
        ("batch", "2"),
        ("batch", 2.0),
        ("creativity", 0),
        ("creativity", 6),
        ("creativity", 2.7),
        ("details", 0),
        ("details", 6),
        ("details", None),
        ("width", 511),
        ("width", 2049),
        ("width", "1024"),
        ("height", 511),
        ("height", 2049),
        ("nsfw", 0),
        ("nsfw", 1),
        ("nsfw", "no"),
        ("nsfw", None),
        ("transparent_background", 1),
        ("prompt", 3),
        ("prompt", None),
        ("negative_prompt", b"bytes"),
        ("webhook", "hooks.example.com/x"),
        ("webhook", yarl.URL("/relative")),
    ],
    ids=repr,
)
def test_hand_built_parameters_reject_values_outside_their_rule(name: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        SelenaParameters(**{name: value})
    assert type(info.value) is ValidationError
    assert info.value.path == name
    assert info.value.value == value or info.value.value is value


@pytest.mark.parametrize(("low", "high"), [(512, 512), (2048, 2048)], ids=["min", "max"])
def test_hand_built_dimensions_accept_both_edges(low: int, high: int) -> None:
    assert SelenaParameters(width=low).width == low
    assert SelenaParameters(height=high).height == high


@pytest.mark.parametrize(("width", "height"), [(1216, 1216), (2048, 722), (722, 2048)])
def test_area_exactly_at_the_limit_is_accepted(width: int, height: int) -> None:
    params = SelenaParameters(width=width, height=height)
    assert (params.width, params.height) == (width, height)
    assert width * height <= MAX_AREA


@pytest.mark.parametrize(
    ("width", "height"), [(1217, 1216), (2048, 723), (792, 1867), (2048, 2048)]
)
def test_area_over_the_limit_raises_validation_error_on_height(width: int, height: int) -> None:
    with pytest.raises(ValidationError) as info:
        SelenaParameters(width=width, height=height)
    assert info.value.path == "height"
    assert info.value.value == height
    assert "width * height" in info.value.expected


def test_one_dimension_alone_is_not_bound_by_the_area_rule() -> None:
    assert SelenaParameters(width=2048).height is None
    assert SelenaParameters(height=2048).width is None


def test_prompts_past_the_word_limits_are_not_validation_errors() -> None:
    long_prompt = " ".join(["word"] * 400)
    long_negative = " ".join(["word"] * 100)
    params = SelenaParameters(prompt=long_prompt, negative_prompt=long_negative)
    assert params.prompt == long_prompt
    assert params.negative_prompt == long_negative


def test_webhook_is_kept_as_text() -> None:
    text = "https://hooks.example.com/tengrai?x=1"
    assert SelenaParameters(webhook=text).webhook == text


def test_parameters_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        SelenaParameters(None, 2)  # type: ignore[call-arg]


# --- SelenaArtwork ------------------------------------------------------------------------------


def test_selena_artwork_fields_and_types() -> None:
    art = make_selena()
    assert [field.name for field in attrs.fields(SelenaArtwork) if field.init] == [
        "id",
        "artwork_type",
        "parameters",
        "duration",
        "results",
        "status",
        "created_at",
    ]
    assert art.artwork_type is ArtworkType.SELENA
    assert isinstance(art.id, uuid.UUID)
    assert art.results == ("https://cdn.example/1.png",)


def test_selena_artwork_status_accepts_its_wire_string() -> None:
    assert make_selena(status="canceled").status is ArtworkStatus.CANCELED


def test_selena_artwork_accepts_any_aware_offset() -> None:
    moment = dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert make_selena(created_at=moment).created_at == moment


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("id", "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"),
        ("id", None),
        ("artwork_type", "other"),
        ("duration", True),
        ("duration", "1.5"),
        ("duration", math.nan),
        ("duration", math.inf),
        ("results", ("ok", 1)),
        ("results", "https://cdn.example/1.png"),
        ("status", "done"),
        ("status", None),
        ("created_at", dt.datetime(2024, 1, 1)),  # noqa: DTZ001 - the naive value is the point
        ("created_at", "2024-01-01T00:00:00Z"),
    ],
    ids=repr,
)
def test_hand_built_artwork_rejects_values_outside_their_rule(name: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        make_selena(**{name: value})
    assert not isinstance(info.value, ResponseValidationError)
    assert info.value.path == name


def test_hand_built_artwork_with_wrong_parameters_type_raises_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        make_selena(parameters={"batch": 2})
    assert info.value.path == "parameters"
    assert info.value.value == {"batch": 2}


def test_hand_built_artwork_accepts_an_integer_duration() -> None:
    assert make_selena(duration=3).duration == 3


def test_hand_built_results_given_as_a_list_become_a_tuple() -> None:
    assert make_selena(results=["https://cdn.example/1.png"]).results == (
        "https://cdn.example/1.png",
    )


def test_a_hand_built_model_has_no_api_json_and_its_raw_is_its_canonical_json() -> None:
    art = make_selena()
    assert art._raw is None
    assert art.parameters._raw is None
    assert art.raw == converter.unstructure(art)
    assert art.raw["parameters"] == DEFAULTS
    assert art.parameters.raw == DEFAULTS


def test_evolve_of_a_structured_model_drops_the_api_json_of_that_level_only() -> None:
    item = converter.unstructure(make_selena())
    item["parameters"]["seed"] = 7  # undocumented: kept by a structured model
    item["creditsUsed"] = 2
    art = converter.structure(item, SelenaArtwork)
    assert converter.unstructure(art) == item
    moved = attrs.evolve(art, duration=9.0)
    assert moved._raw is None
    wire = converter.unstructure(moved)
    assert "creditsUsed" not in wire
    assert wire["duration"] == 9.0
    # The parameters were not rebuilt: they still write the API's object, seed included.
    assert wire["parameters"] == item["parameters"]


def test_structured_and_hand_built_models_are_equal_whatever_json_they_keep() -> None:
    item = converter.unstructure(make_selena())
    item["parameters"]["extra"] = {"nested": [1]}
    assert converter.structure(item, SelenaArtwork) == make_selena()


def test_evolve_reruns_the_rules() -> None:
    with pytest.raises(ValidationError):
        attrs.evolve(SelenaParameters(), creativity=9)


# --- frozen, slotted ----------------------------------------------------------------------------


def _instances() -> list[object]:
    structured = [converter.structure_artwork(make_artwork(0, kinds=[kind])) for kind in KINDS]
    return [
        SelenaParameters(),
        make_selena(),
        UnknownArtwork(artwork_type="future", id=None, raw={"artworkType": "future"}),
        ArtworkPage(items=(), offset=0, limit=10, count=0),
        SegmentationPoints(),
        *(attrs.fields_dict(cls)["parameters"].metadata[NESTED]() for cls in KINDS.values()),
        *structured,
        *(artwork.parameters for artwork in structured),
    ]


@pytest.mark.parametrize("instance", _instances(), ids=lambda i: type(i).__name__)
def test_models_are_frozen(instance: Any) -> None:
    name = next(field.name for field in attrs.fields(type(instance)) if field.init)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(instance, name, getattr(instance, name))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        instance._raw = None


@pytest.mark.parametrize("instance", _instances(), ids=lambda i: type(i).__name__)
def test_models_are_slotted(instance: object) -> None:
    assert "__slots__" in type(instance).__dict__
    assert not hasattr(instance, "__dict__")


def test_equal_models_are_equal_and_hash_alike() -> None:
    assert make_selena() == make_selena()
    assert hash(make_selena()) == hash(make_selena())
    assert make_selena() != make_selena(duration=2.0)


# --- UnknownArtwork, Artwork, ArtworkPage -------------------------------------------------------


def test_unknown_artwork_raw_is_read_only() -> None:
    unknown = UnknownArtwork(artwork_type="future", id=None, raw={"artworkType": "future"})
    with pytest.raises(TypeError):
        unknown.raw["artworkType"] = "selena"  # type: ignore[index]
    assert unknown.raw == {"artworkType": "future"}


def test_unknown_artwork_raw_is_a_copy_of_the_source() -> None:
    source: dict[str, Any] = {"artworkType": "future", "id": "a"}
    unknown = UnknownArtwork(artwork_type="future", id=None, raw=source)
    source["id"] = "b"
    assert unknown.raw["id"] == "a"


def test_artwork_is_the_union_of_the_known_and_unknown_kinds() -> None:
    assert set(typing.get_args(Artwork)) == {*KINDS.values(), UnknownArtwork}
    assert tuple(KINDS) == ARTWORK_TYPES
    assert KINDS["selena"] is SelenaArtwork


def test_page_length_and_iteration_follow_its_items() -> None:
    items = (make_selena(), make_selena(duration=2.0))
    page = ArtworkPage(items=items, offset=20, limit=10, count=2)
    assert len(page) == 2
    assert list(page) == list(items)
    assert page.items == items


@pytest.mark.parametrize(
    ("count", "limit", "has_more"), [(10, 10, True), (9, 10, False), (0, 10, False)]
)
def test_page_has_more_only_when_the_window_was_full(
    count: int, limit: int, has_more: bool
) -> None:
    page = ArtworkPage(items=(), offset=30, limit=limit, count=count)
    assert page.has_more is has_more
    assert page.next_offset == 30 + count


def test_page_next_offset_counts_skipped_items_too() -> None:
    page = ArtworkPage(items=(make_selena(),), offset=5, limit=3, count=3)
    assert len(page) == 1
    assert page.next_offset == 8
    assert page.has_more
