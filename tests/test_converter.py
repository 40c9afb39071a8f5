"""The converter: JSON artworks to validated models and back, strict types, exact error paths."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from typing import Any, cast

import attrs
import cattrs
import orjson
import pytest
from _moments import moment
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    ARTWORK_TYPES,
    BOOLEAN_PARAMETERS,
    DEFAULTS,
    JSON,
    MAX_AREA,
    PARAMETER_ENUMS,
    PARAMETER_KEYS,
    RANGES,
    REQUIRED_KEYS,
    STATUSES,
    TEXT_PARAMETERS,
    json_identical,
    json_values,
    parameters,
    selena_artworks,
    texts,
    with_defaults,
)

from tengrai_async import (
    Artwork,
    ArtworkPage,
    ArtworkStatus,
    AspectRatio,
    CameraAngle,
    ColorTone,
    MalformedResponseError,
    Model,
    ResponseValidationError,
    SelenaArtwork,
    SelenaParameters,
    Style,
    TengrAIConverter,
    UnknownArtwork,
    converter,
    make_converter,
)
from tengrai_async._codegen import MISSING
from tengrai_async._converter import camel_case
from tengrai_async.testing import make_artwork

SETTINGS = settings(max_examples=30, deadline=None)

# --- bad values, by field ----------------------------------------------------------------------

WRONG_FOR_INT: list[Any] = ["3", 2.7, 3.5, True, False, None, [], {}]
WRONG_FOR_BOOL: list[Any] = [0, 1, 0.0, "no", "false", "true", None, []]
WRONG_FOR_TEXT: list[Any] = [1, 2.5, True, None, [], {}]
WRONG_FOR_ENUM: list[Any] = [1, 2.5, True, None, [], {}]
WRONG_FOR_WEBHOOK: list[Any] = [
    1,
    True,
    None,
    [],
    "",
    "relative/path",
    "//host.example/x",
    "https://",
    "no scheme here",
    "https://hooks.example.com/a b",
    "1http://starts-with-a-digit",
]
WRONG_ID: list[Any] = [
    1,
    None,
    [],
    "",
    "not-a-uuid",
    "6f1c2a3b4d5e4f608a7b9c0d1e2f3a4b",
    "{6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b}",
    "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4",
    "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4g",
]
WRONG_DURATION: list[Any] = ["1.5", True, False, None, [], {}, math.nan, math.inf, -math.inf]
WRONG_RESULTS: list[Any] = ["https://cdn.example/1.png", {}, None, 1, True]
#: Arrays with a bad item: reported at the item's own path, with the item.
WRONG_RESULT_ITEMS: list[tuple[list[Any], str, Any]] = [
    ([1], "[0]", 1),
    (["a", None], "[1]", None),
    (["a", "b", ["c"]], "[2]", ["c"]),
]
WRONG_CREATED_AT: list[Any] = [
    "2024-01-01T00:00:00",
    "2024-01-01T00:00:00.123",
    "2024-01-01T00:00:00.123456",
    "2024-01-01",
    "2024-01-01 00:00:00Z",
    "yesterday",
    "2024-13-01T00:00:00Z",
    "2024-01-01T25:00:00Z",
    "",
    1_700_000_000,
    None,
    [],
]
WRONG_PARAMETERS: list[Any] = [[], "x", None, 1, True]


def _bad_enum(values: tuple[str, ...]) -> st.SearchStrategy[Any]:
    return st.one_of(
        texts.filter(lambda s: s not in values),
        st.sampled_from(values).map(str.upper).filter(lambda s: s not in values),
        st.sampled_from(values).map(lambda s: s + " "),
        st.sampled_from(WRONG_FOR_ENUM),
    )


def _bad_range(key: str) -> st.SearchStrategy[Any]:
    low, high = RANGES[key]
    return st.one_of(
        st.integers(-(2**63), low - 1),
        st.integers(high + 1, 2**63),
        st.sampled_from(WRONG_FOR_INT),
    )


#: For each field, by its path under ``$``, a strategy of values its rule rejects.
BAD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": st.sampled_from(WRONG_ID),
    "parameters": st.sampled_from(WRONG_PARAMETERS),
    "duration": st.sampled_from(WRONG_DURATION),
    "results": st.sampled_from(WRONG_RESULTS),
    "status": _bad_enum(STATUSES),
    "createdAt": st.sampled_from(WRONG_CREATED_AT),
    **{f"parameters.{key}": _bad_range(key) for key in RANGES},
    **{f"parameters.{key}": _bad_enum(values) for key, values in PARAMETER_ENUMS.items()},
    **{f"parameters.{key}": st.sampled_from(WRONG_FOR_BOOL) for key in BOOLEAN_PARAMETERS},
    **{f"parameters.{key}": st.sampled_from(WRONG_FOR_TEXT) for key in TEXT_PARAMETERS},
    "parameters.webhook": st.sampled_from(WRONG_FOR_WEBHOOK),
}

#: The same bad values as a fixed table, so every listed case runs on every test run.
BAD_CASES: list[tuple[str, Any]] = [
    *[("id", v) for v in WRONG_ID],
    *[("parameters", v) for v in WRONG_PARAMETERS],
    *[("duration", v) for v in WRONG_DURATION],
    *[("results", v) for v in WRONG_RESULTS],
    *[("createdAt", v) for v in WRONG_CREATED_AT],
    *[("status", v) for v in ["done", "Succeeded", *WRONG_FOR_ENUM]],
    *[(f"parameters.{k}", v) for k in RANGES for v in [RANGES[k][0] - 1, RANGES[k][1] + 1]],
    *[(f"parameters.{k}", v) for k in RANGES for v in WRONG_FOR_INT],
    *[(f"parameters.{k}", v) for k in PARAMETER_ENUMS for v in ["unknown", *WRONG_FOR_ENUM]],
    *[(f"parameters.{k}", v) for k in BOOLEAN_PARAMETERS for v in WRONG_FOR_BOOL],
    *[(f"parameters.{k}", v) for k in TEXT_PARAMETERS for v in WRONG_FOR_TEXT],
    *[("parameters.webhook", v) for v in WRONG_FOR_WEBHOOK],
]


def with_value(artwork: JSON, field: str, value: Any) -> JSON:
    """Return a copy of *artwork* with *field* (``key`` or ``parameters.key``) set to *value*."""
    if field.startswith("parameters."):
        return {**artwork, "parameters": {**artwork["parameters"], field[11:]: value}}
    return {**artwork, field: value}


def without(artwork: JSON, key: str) -> JSON:
    return {k: v for k, v in artwork.items() if k != key}


def same_value(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return type(actual) is type(expected) and actual == expected


def structure_artwork(obj: Any, conv: TengrAIConverter = converter) -> Artwork:
    """``conv.structure(obj, Artwork)``, typed: cattrs' stubs want a class, not a union alias."""
    result: Artwork = conv.structure(obj, cast("Any", Artwork))
    return result


def rebuilt(model: Any) -> Any:
    """The same model built by hand, so that it unstructures canonically (defaults written)."""
    fields = attrs.fields(type(model))
    return type(model)(**{f.name: getattr(model, f.name) for f in fields if f.init})


def attempt(call: Callable[[], object]) -> object:
    """Return what *call* returns, or the ResponseValidationError it raises (nothing else)."""
    try:
        return call()
    except ResponseValidationError as exc:
        return exc


#: A valid selena item, with the undocumented keys newer API versions send.
BASE = make_artwork(0, kinds=["selena"])

# --- round trip --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(selena_artworks())
def test_every_valid_artwork_round_trips_exactly_without_defaults_added(artwork: JSON) -> None:
    model = structure_artwork(artwork)
    assert isinstance(model, SelenaArtwork)
    assert json_identical(converter.unstructure(model), artwork)
    assert json_identical(converter.unstructure(model, Artwork), artwork)
    # A hand-built copy writes the documented defaults out.
    assert converter.unstructure(attrs.evolve(model, parameters=rebuilt(model.parameters))) == (
        with_defaults(artwork)
    )


@SETTINGS
@given(selena_artworks())
def test_structured_fields_have_their_python_types(artwork: JSON) -> None:
    model = structure_artwork(artwork)
    assert isinstance(model, SelenaArtwork)
    assert model.id == uuid.UUID(artwork["id"])
    assert type(model.duration) is float
    assert model.duration == artwork["duration"]
    assert model.results == tuple(artwork["results"])
    assert model.status.value == artwork["status"]
    assert model.created_at == moment(artwork["createdAt"])
    assert model.created_at.utcoffset() == model.created_at.utcoffset()
    assert model.created_at.tzinfo is not None
    webhook = artwork["parameters"].get("webhook")
    assert model.parameters.webhook == webhook  # the text as sent


@SETTINGS
@given(selena_artworks())
def test_structuring_directly_as_selena_artwork_matches_dispatch(artwork: JSON) -> None:
    assert converter.structure(artwork, SelenaArtwork) == structure_artwork(artwork)


@SETTINGS
@given(parameters("selena"))
def test_parameters_round_trip_on_their_own(params: JSON) -> None:
    model = converter.structure(params, SelenaParameters)
    assert json_identical(converter.unstructure(model), params)
    assert model.raw == params
    documented = {key: value for key, value in params.items() if key in PARAMETER_KEYS}
    assert converter.unstructure(rebuilt(model)) == {**DEFAULTS, **documented}


@settings(max_examples=20, deadline=None)
@given(st.lists(selena_artworks(), max_size=4), st.integers(0, 10**6))
def test_json_bytes_round_trip_through_loads_page(artworks: list[JSON], offset: int) -> None:
    page = converter.loads_page(orjson.dumps(artworks), offset=offset)
    assert [converter.unstructure(item) for item in page] == artworks
    assert page.offset == offset
    assert page.count == len(artworks)


@settings(max_examples=15, deadline=None)
@given(selena_artworks())
def test_a_fresh_converter_structures_like_the_package_converter(artwork: JSON) -> None:
    fresh = make_converter()
    assert isinstance(fresh, TengrAIConverter)
    assert structure_artwork(artwork, fresh) == structure_artwork(artwork)
    assert json_identical(fresh.unstructure(structure_artwork(artwork, fresh)), artwork)


def test_the_package_converter_is_a_cattrs_converter() -> None:
    assert isinstance(converter, TengrAIConverter)
    assert isinstance(converter, cattrs.Converter)


def test_documented_defaults_fill_an_empty_parameters_object() -> None:
    model = structure_artwork(with_value(BASE, "parameters", {}))
    assert isinstance(model, SelenaArtwork)
    assert model.parameters == SelenaParameters()
    # The defaults are on the model, not added to the API's JSON; a hand-built copy writes them.
    assert converter.unstructure(model)["parameters"] == {}
    assert converter.unstructure(rebuilt(model.parameters)) == DEFAULTS


def test_unstructure_keys_are_the_camel_case_field_names() -> None:
    params = SelenaParameters(
        model=Model.M_D_20231128,
        negative_prompt="blur",
        aspect_ratio=AspectRatio.R_1_1,
        width=1024,
        height=1024,
        transparent_background=True,
        color_tone=ColorTone.SEPIA,
        camera_angle=CameraAngle.CLOSE_UP,
        webhook="https://hooks.example/x",
    )
    art = converter.structure(BASE, SelenaArtwork)
    wire = converter.unstructure(attrs.evolve(art, parameters=params))
    assert set(wire) == set(REQUIRED_KEYS)
    # Every public field is on the wire; the hidden slot of the API's JSON (init=False) is not.
    assert set(wire) == {camel_case(f.name) for f in attrs.fields(SelenaArtwork) if f.init}
    assert set(wire["parameters"]) == PARAMETER_KEYS


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("id", "id"),
        ("artwork_type", "artworkType"),
        ("transparent_background", "transparentBackground"),
    ],
)
def test_camel_case_turns_snake_case_into_the_wire_name(name: str, wire: str) -> None:
    assert camel_case(name) == wire


def test_a_hand_built_model_unstructures_to_wire_json() -> None:
    art = SelenaArtwork(
        id=uuid.UUID("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"),
        parameters=SelenaParameters(style=Style.CAR, webhook="https://hooks.example/x"),
        duration=2.5,
        results=("https://cdn.example/1.png",),
        status=ArtworkStatus.SUCCEEDED,
        created_at=dt.datetime(2024, 5, 1, 8, 30, 0, 120000, tzinfo=dt.timezone.utc),
    )
    wire = converter.unstructure(art)
    assert wire["id"] == "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    assert wire["artworkType"] == "selena"
    assert wire["parameters"]["style"] == "car"
    assert wire["parameters"]["webhook"] == "https://hooks.example/x"
    assert wire["results"] == ["https://cdn.example/1.png"]
    assert wire["status"] == "succeeded"
    assert wire["createdAt"] == "2024-05-01T08:30:00.120Z"
    assert orjson.loads(orjson.dumps(wire)) == wire


@pytest.mark.parametrize(
    ("given_", "canonical"),
    [
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
        ("2024-01-01T00:00:00.123Z", "2024-01-01T00:00:00.123Z"),
        ("2024-01-01T00:00:00.120Z", "2024-01-01T00:00:00.120Z"),
        ("2024-01-01T00:00:00.000100Z", "2024-01-01T00:00:00.000100Z"),
        ("2024-01-01T00:00:00.123456+05:30", "2024-01-01T00:00:00.123456+05:30"),
        ("2024-01-01T00:00:00-09:45", "2024-01-01T00:00:00-09:45"),
        ("2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00Z"),
        ("2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00Z"),
    ],
)
def test_timestamps_are_written_in_canonical_form(given_: str, canonical: str) -> None:
    # From the API the text comes back as sent; a created_at set by hand is written canonically.
    model = structure_artwork(with_value(BASE, "createdAt", given_))
    assert isinstance(model, SelenaArtwork)
    assert converter.unstructure(model)["createdAt"] == given_
    by_hand = attrs.evolve(
        model, created_at=dt.datetime.fromisoformat(given_.replace("Z", "+00:00"))
    )
    assert converter.unstructure(by_hand)["createdAt"] == canonical


def test_json_integer_duration_is_accepted_as_a_float() -> None:
    model = structure_artwork(with_value(BASE, "duration", 7))
    assert isinstance(model, SelenaArtwork)
    assert model.duration == 7.0
    assert type(model.duration) is float


def test_integer_duration_too_large_for_a_float_raises_response_validation_error() -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(with_value(BASE, "duration", 10**400))
    assert info.value.path == "$.duration"
    assert info.value.value == 10**400


@SETTINGS
@given(
    selena_artworks(),
    st.dictionaries(texts.filter(lambda k: k not in REQUIRED_KEYS), texts, max_size=3),
    st.dictionaries(texts.filter(lambda k: k not in PARAMETER_KEYS), texts, max_size=3),
)
def test_unknown_extra_keys_change_no_field_and_survive_the_round_trip(
    artwork: JSON, top: JSON, nested: JSON
) -> None:
    noisy = {**artwork, **top, "parameters": {**artwork["parameters"], **nested}}
    model = structure_artwork(noisy)
    assert model == structure_artwork(artwork)
    assert json_identical(converter.unstructure(model), noisy)
    assert model.raw == noisy


def test_prompt_past_the_word_limit_is_kept_whole() -> None:
    prompt = " ".join(["word"] * 300)
    model = structure_artwork(with_value(BASE, "parameters.prompt", prompt))
    assert isinstance(model, SelenaArtwork)
    assert model.parameters.prompt == prompt


# --- one bad field: exact path and value -------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(selena_artworks(), st.data())
def test_any_bad_field_raises_with_exactly_that_path_and_value(
    artwork: JSON, data: st.DataObject
) -> None:
    field = data.draw(st.sampled_from(sorted(BAD_VALUES)), label="field")
    bad = data.draw(BAD_VALUES[field], label="bad")
    item = with_value(artwork, field, bad)
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(item)
    assert info.value.path == f"$.{field}"
    assert same_value(info.value.value, bad)
    assert info.value.raw is item
    assert info.value.offset is None


@pytest.mark.parametrize(("field", "bad"), BAD_CASES, ids=repr)
def test_listed_bad_value_raises_with_exactly_that_path_and_value(field: str, bad: Any) -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(with_value(BASE, field, bad))
    assert info.value.path == f"$.{field}"
    assert same_value(info.value.value, bad)
    assert info.value.expected
    assert f"@ $.{field}" in str(info.value)


@pytest.mark.parametrize(("results", "index", "item"), WRONG_RESULT_ITEMS, ids=repr)
def test_a_bad_result_is_reported_at_its_index(results: list[Any], index: str, item: Any) -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(with_value(BASE, "results", results))
    assert info.value.path == f"$.results{index}"
    assert same_value(info.value.value, item)


@pytest.mark.parametrize("key", sorted(PARAMETER_KEYS))
def test_json_null_for_a_parameter_is_rejected_not_defaulted(key: str) -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(with_value(BASE, f"parameters.{key}", None))
    assert info.value.path == f"$.parameters.{key}"
    assert info.value.value is None


@pytest.mark.parametrize("key", sorted(RANGES))
def test_json_float_for_an_integer_is_rejected_even_when_whole(key: str) -> None:
    low, _ = RANGES[key]
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(with_value(BASE, f"parameters.{key}", float(low)))
    assert info.value.path == f"$.parameters.{key}"


@SETTINGS
@given(selena_artworks(), st.data())
def test_area_over_the_limit_raises_on_height(artwork: JSON, data: st.DataObject) -> None:
    width = data.draw(st.integers(MAX_AREA // 2048 + 1, 2048), label="width")
    height = data.draw(st.integers(MAX_AREA // width + 1, 2048), label="height")
    params = {**artwork["parameters"], "width": width, "height": height}
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork({**artwork, "parameters": params})
    assert info.value.path == "$.parameters.height"
    assert info.value.value == height
    assert "width * height" in info.value.expected


#: The smallest area over the limit in range is 792 x 1867 = 1,478,664.
@pytest.mark.parametrize(
    ("width", "height"), [(1216, 1216), (2048, 722), (722, 2048), (792, 1866), (1867, 791)]
)
def test_area_at_or_just_under_the_limit_structures(width: int, height: int) -> None:
    item = with_value(with_value(BASE, "parameters.width", width), "parameters.height", height)
    model = structure_artwork(item)
    assert isinstance(model, SelenaArtwork)
    assert (model.parameters.width, model.parameters.height) == (width, height)


@pytest.mark.parametrize(("width", "height"), [(792, 1867), (1867, 792), (1217, 1216)])
def test_area_just_over_the_limit_is_rejected_on_height(width: int, height: int) -> None:
    item = with_value(with_value(BASE, "parameters.width", width), "parameters.height", height)
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(item)
    assert info.value.path == "$.parameters.height"
    assert info.value.value == height


@pytest.mark.parametrize("key", [k for k in REQUIRED_KEYS if k != "artworkType"])
@settings(max_examples=10, deadline=None)
@given(artwork=selena_artworks())
def test_missing_required_field_raises_with_its_path(key: str, artwork: JSON) -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(without(artwork, key))
    assert info.value.path == f"$.{key}"
    assert info.value.value is MISSING
    assert "required" in info.value.expected


def test_missing_artwork_type_raises_at_artwork_type() -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(without(BASE, "artworkType"))
    assert info.value.path == "$.artworkType"
    assert info.value.value is MISSING


@pytest.mark.parametrize("kind", [1, None, True, [], {}])
def test_non_string_artwork_type_raises_at_artwork_type(kind: Any) -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(with_value(BASE, "artworkType", kind))
    assert info.value.path == "$.artworkType"
    assert info.value.value == kind


@pytest.mark.parametrize("item", [[], "selena", 1, None, True])
def test_non_object_artwork_raises_at_the_root(item: Any) -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(item)
    assert info.value.path == "$"
    assert info.value.value == item


def test_bad_parameters_structured_alone_report_paths_from_their_root() -> None:
    with pytest.raises(ResponseValidationError) as info:
        converter.structure({"creativity": 9}, SelenaParameters)
    assert info.value.path == "$.creativity"


def test_selena_artwork_hook_rejects_another_artwork_type() -> None:
    with pytest.raises(ResponseValidationError) as info:
        converter.structure(with_value(BASE, "artworkType", "other"), SelenaArtwork)
    assert info.value.path == "$.artworkType"


# --- fuzz: never anything but ResponseValidationError ------------------------------------------

# JSON values of any shape: ``strategies.json_values``.


@settings(max_examples=80, deadline=None)
@given(selena_artworks(), st.data())
def test_any_json_in_any_field_structures_or_raises_response_validation_error(
    artwork: JSON, data: st.DataObject
) -> None:
    fields = sorted([*REQUIRED_KEYS, *(f"parameters.{k}" for k in PARAMETER_KEYS)])
    field = data.draw(st.sampled_from(fields), label="field")
    value = data.draw(json_values, label="value")
    outcome = attempt(lambda: structure_artwork(with_value(artwork, field, value)))
    if isinstance(outcome, ResponseValidationError):
        assert outcome.path.startswith("$")
    else:
        assert isinstance(outcome, SelenaArtwork | UnknownArtwork)


@SETTINGS
@given(json_values)
def test_any_json_body_structures_or_raises_response_validation_error(body: Any) -> None:
    outcome = attempt(lambda: converter.structure_page(body))
    if isinstance(outcome, ResponseValidationError):
        assert outcome.path.startswith("$")
    else:
        assert isinstance(outcome, ArtworkPage)
        assert outcome.count == len(body)


def test_structuring_a_list_of_artworks_raises_with_the_item_path() -> None:
    with pytest.raises(ResponseValidationError) as info:
        converter.structure([BASE, with_value(BASE, "duration", "x")], list[Artwork])
    assert info.value.path == "$[1].duration"
    assert info.value.value == "x"
    assert info.value.offset == 1


def test_structuring_a_list_of_artworks_gives_a_list_and_a_tuple_a_tuple() -> None:
    body = [BASE, {"artworkType": "future"}]
    as_list = converter.structure(body, list[Artwork])
    as_tuple = converter.structure(body, tuple[Artwork, ...])
    assert type(as_list) is list
    assert type(as_tuple) is tuple
    assert as_list == list(as_tuple) == [structure_artwork(item) for item in body]


GOOD_UUID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
#: One character of a good UUID replaced by something that is not a hex digit (nor a hyphen
#: where the hyphen belongs): ASCII letters past f, signs, spaces, non-ASCII digits.
UUID_TYPOS = [
    GOOD_UUID[:position] + char + GOOD_UUID[position + 1 :]
    for position in range(36)
    for char in ["g", "G", "z", "-", " ", "+", "_", "\u0663", "\uff10"]
    if not (GOOD_UUID[position] == "-" and char == "-")
]


@pytest.mark.parametrize("bad", UUID_TYPOS)
def test_uuid_with_a_non_hex_character_anywhere_is_rejected(bad: str) -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(with_value(BASE, "id", bad))
    assert info.value.path == "$.id"
    assert info.value.value == bad


@pytest.mark.parametrize(
    "bad", ["0x000000-0000-0000-0000-000000000000", "0X1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"]
)
def test_uuid_with_a_hex_prefix_is_rejected(bad: str) -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure_artwork(with_value(BASE, "id", bad))
    assert info.value.path == "$.id"


# --- enums through the converter ---------------------------------------------------------------


@pytest.mark.parametrize("member", list(Style), ids=str)
def test_enum_structures_from_and_unstructures_to_its_wire_value(member: Style) -> None:
    assert converter.structure(member.value, Style) is member
    assert converter.unstructure(member) == member.value


@pytest.mark.parametrize("value", ["Car", "unknown", 1, None, []])
def test_enum_hook_rejects_anything_but_a_wire_value(value: Any) -> None:
    with pytest.raises(ResponseValidationError) as info:
        converter.structure(value, Style)
    assert info.value.path == "$"
    assert info.value.value == value


# --- unknown artwork types ---------------------------------------------------------------------

unknown_artworks: st.SearchStrategy[JSON] = st.builds(
    lambda kind, rest: {**rest, "artworkType": kind},
    texts.filter(lambda s: s not in ARTWORK_TYPES),
    st.dictionaries(texts, json_values, max_size=4),
)


def lenient_id(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if type(value) is str and len(value) == 36 else None
    except ValueError:
        return None


@SETTINGS
@given(unknown_artworks)
def test_unknown_artwork_type_is_kept_whole_and_round_trips(raw: JSON) -> None:
    model = structure_artwork(raw)
    assert isinstance(model, UnknownArtwork)
    assert model.artwork_type == raw["artworkType"]
    assert model.id == lenient_id(raw.get("id"))
    assert model.raw == raw
    assert converter.unstructure(model) == raw
    assert converter.unstructure(model, Artwork) == raw


def test_unknown_artwork_raw_refuses_mutation() -> None:
    model = structure_artwork({"artworkType": "future", "id": "a1", "x": 1})
    assert isinstance(model, UnknownArtwork)
    with pytest.raises(TypeError):
        model.raw["x"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        del model.raw["x"]  # type: ignore[attr-defined]
    assert model.raw["x"] == 1


def test_unknown_artwork_with_non_string_id_has_no_id() -> None:
    model = structure_artwork({"artworkType": "future", "id": 42})
    assert isinstance(model, UnknownArtwork)
    assert model.id is None
    assert model.raw["id"] == 42


def test_artwork_type_is_case_sensitive() -> None:
    model = structure_artwork(with_value(BASE, "artworkType", "Selena"))
    assert isinstance(model, UnknownArtwork)
    assert model.artwork_type == "Selena"


# --- pages -------------------------------------------------------------------------------------


@SETTINGS
@given(
    st.lists(selena_artworks(), min_size=1, max_size=4),
    st.integers(0, 10**9),
    st.data(),
)
def test_bad_item_in_a_page_reports_index_path_and_absolute_offset(
    artworks: list[JSON], offset: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(artworks) - 1), label="index")
    field = data.draw(st.sampled_from(sorted(BAD_VALUES)), label="field")
    bad = data.draw(BAD_VALUES[field], label="bad")
    body = list(artworks)
    body[index] = with_value(body[index], field, bad)
    with pytest.raises(ResponseValidationError) as info:
        converter.structure_page(body, offset=offset, limit=len(body))
    assert info.value.path == f"$[{index}].{field}"
    assert info.value.offset == offset + index
    assert same_value(info.value.value, bad)
    assert info.value.raw is body[index]
    assert str(info.value).startswith(f"item at offset {offset + index}: ")


def test_page_error_path_reads_like_the_spec_example() -> None:
    body = [make_artwork(i, kinds=["selena"]) for i in range(18)]
    body[17] = with_value(body[17], "parameters.creativity", 9)
    with pytest.raises(ResponseValidationError) as info:
        converter.loads_page(orjson.dumps(body), offset=100, limit=20)
    assert info.value.path == "$[17].parameters.creativity"
    assert info.value.value == 9
    assert info.value.offset == 117


@SETTINGS
@given(
    st.lists(st.tuples(selena_artworks(), st.booleans()), max_size=5),
    st.integers(0, 10**6),
)
def test_skip_invalid_keeps_valid_items_and_records_the_rest(
    entries: list[tuple[JSON, bool]], offset: int
) -> None:
    body = [a if ok else with_value(a, "parameters.creativity", 0) for a, ok in entries]
    page = converter.structure_page(body, offset=offset, limit=10, skip_invalid=True)
    valid = [a for a, ok in entries if ok]
    assert [converter.unstructure(item) for item in page.items] == valid
    assert [e.offset for e in page.invalid] == [
        offset + i for i, (_, ok) in enumerate(entries) if not ok
    ]
    assert [e.path for e in page.invalid] == [
        f"$[{i}].parameters.creativity" for i, (_, ok) in enumerate(entries) if not ok
    ]
    assert page.count == len(body)
    assert len(page) == len(valid)
    assert page.next_offset == offset + len(body)


def test_skip_invalid_keeps_unknown_artworks() -> None:
    body = [BASE, {"artworkType": "future"}, 5]
    page = converter.structure_page(body, skip_invalid=True)
    assert [type(item) for item in page] == [SelenaArtwork, UnknownArtwork]
    assert [e.path for e in page.invalid] == ["$[2]"]
    assert page.count == 3


@pytest.mark.parametrize(("count", "limit"), [(0, 10), (3, 10), (10, 10)])
def test_page_limit_count_and_has_more(count: int, limit: int) -> None:
    page = converter.structure_page([make_artwork(i) for i in range(count)], offset=40, limit=limit)
    assert isinstance(page, ArtworkPage)
    assert page.count == count == len(page)
    assert page.limit == limit
    assert page.has_more is (count == limit)
    assert page.next_offset == 40 + count
    assert page.invalid == ()


def test_page_limit_defaults_to_the_item_count() -> None:
    page = converter.structure_page([make_artwork(0), make_artwork(1)])
    assert page.limit == 2
    assert page.offset == 0


@pytest.mark.parametrize("body", [{}, {"items": []}, "[]", 1, None, True])
def test_non_list_body_raises_at_the_root(body: Any) -> None:
    with pytest.raises(ResponseValidationError) as info:
        converter.structure_page(body, offset=30)
    assert info.value.path == "$"
    assert info.value.value == body
    assert info.value.raw == body
    assert info.value.offset == 30


@pytest.mark.parametrize("body", [b"", b"{", b"[1,", b"\xff\xfe", b"nope", "not json", b"[]x"])
def test_non_json_body_raises_malformed_response_at_the_root(body: bytes | str) -> None:
    with pytest.raises(MalformedResponseError) as info:
        converter.loads_page(body, offset=5)
    assert info.value.path == "$"
    assert info.value.raw == body
    assert info.value.offset == 5
    assert "JSON" in info.value.expected


def test_json_body_that_is_not_an_array_raises_at_the_root() -> None:
    with pytest.raises(ResponseValidationError) as info:
        converter.loads_page(b'{"items": []}')
    assert not isinstance(info.value, MalformedResponseError)
    assert info.value.path == "$"
    assert info.value.value == {"items": []}


def test_loads_page_accepts_str_and_bytes_alike() -> None:
    body = orjson.dumps([make_artwork(0), make_artwork(1)])
    assert converter.loads_page(body) == converter.loads_page(body.decode())


def test_non_object_item_in_a_page_raises_at_its_index() -> None:
    with pytest.raises(ResponseValidationError) as info:
        converter.structure_page([BASE, BASE, "x"], offset=10)
    assert info.value.path == "$[2]"
    assert info.value.offset == 12


def test_structure_artwork_is_the_typed_spelling_of_structure_as_artwork() -> None:
    raw = make_artwork(3, kinds=["selena"])
    artwork = converter.structure_artwork(raw)
    assert isinstance(artwork, SelenaArtwork)
    assert converter.unstructure(artwork) == converter.unstructure(
        converter.structure_page([raw]).items[0]
    )
    with pytest.raises(ResponseValidationError) as info:
        converter.structure_artwork({**raw, "status": "lost"})
    assert info.value.path == "$.status"


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-01T11:59:23.000Z",
        "2026-11-01T11:59:23+00:00",
        "2026-11-01T11:59:23.123456+02:00",
        "2026-11-01T11:59:23.5-05:30",
    ],
)
def test_created_at_comes_back_exactly_as_the_api_wrote_it(text: str) -> None:
    model = converter.structure_artwork({**BASE, "createdAt": text})
    assert isinstance(model, SelenaArtwork)
    assert model.created_at == moment(text)
    assert converter.unstructure(model)["createdAt"] == text
    assert converter.structure_page([{**BASE, "createdAt": text}]).items[0] == model


def test_a_changed_created_at_is_written_canonically_not_as_the_old_text() -> None:
    model = converter.structure_artwork({**BASE, "createdAt": "2026-11-01T11:59:23.000+00:00"})
    assert isinstance(model, SelenaArtwork)
    moved = attrs.evolve(model, created_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    assert converter.unstructure(moved)["createdAt"] == "2020-01-01T00:00:00Z"


def test_a_structured_artwork_does_not_change_when_the_callers_dict_does() -> None:
    item = make_artwork(0, kinds=["selena"])
    artwork = converter.structure_artwork(item)
    assert isinstance(artwork, SelenaArtwork)
    item["status"] = "failed"
    item["parameters"]["prompt"] = "changed"
    assert artwork.raw["status"] == artwork.status.value != "failed"
    assert converter.unstructure(artwork)["parameters"].get("prompt") != "changed"
