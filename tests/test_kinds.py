"""Every kind of artwork against the spec's tables (artwork-kinds.md), restated in ``strategies``.

Valid items of each kind structure to their class and unstructure to exactly their JSON, extra
keys included; defaults fill the typed attributes and never the wire; every rule of every kind,
broken in a response, is reported at its exact JSON path (through a page, so the ``$[i]`` prefix
and the offset are checked too) and, broken by hand, as a ``ValidationError``; unknown kinds are
read leniently and never raise; ``raw`` is read-only at every depth.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import typing
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import (
    ALL_ENUM_VALUES,
    ARTWORK_TYPES,
    JSON,
    KINDS,
    MAX_AREA,
    MAX_HIGH_RESOLUTION_AREA,
    OUTPUT_FORMATS,
    POINT_RANGE,
    POINTS_KEYS,
    REQUIRED_KEYS,
    STATUSES,
    TYPES,
    V2_DEPTH_MODELS,
    Field,
    Kind,
    any_artworks,
    artworks,
    canonical_timestamp,
    durations,
    json_identical,
    json_values,
    snake_case,
    texts,
    timestamp_spellings,
)

import tengrai_async
from tengrai_async import (
    Artwork,
    ArtworkStatus,
    ArtworkType,
    DepthMapArtwork,
    DepthMapParameters,
    DepthModel,
    DetailerUpscalerArtwork,
    DetailerUpscalerParameters,
    FaceRefinerArtwork,
    FaceRefinerParameters,
    FaceSwapArtwork,
    FaceSwapParameters,
    HamiltonArtwork,
    HamiltonParameters,
    PhotoPilotArtwork,
    PhotoPilotParameters,
    QuantumArtwork,
    QuantumParameters,
    RemoveBackgroundArtwork,
    RemoveBackgroundParameters,
    ResponseValidationError,
    SegmentationArtwork,
    SegmentationParameters,
    SegmentationPoints,
    SelenaArtwork,
    SelenaParameters,
    SelenaVarieteArtwork,
    SelenaVarieteParameters,
    Style,
    UnknownArtwork,
    UpscalingArtwork,
    UpscalingParameters,
    ValidationError,
    converter,
)
from tengrai_async._codegen import MISSING, camel_case
from tengrai_async._models import KINDS as REGISTRY
from tengrai_async._readonly import FrozenDict, FrozenList
from tengrai_async.testing import make_artworks

#: The public class pair of every documented kind, in the spec's order.
CLASSES: dict[str, tuple[type[Any], type[Any]]] = {
    "selena": (SelenaArtwork, SelenaParameters),
    "selena_variete": (SelenaVarieteArtwork, SelenaVarieteParameters),
    "quantum": (QuantumArtwork, QuantumParameters),
    "hamilton": (HamiltonArtwork, HamiltonParameters),
    "photo_pilot": (PhotoPilotArtwork, PhotoPilotParameters),
    "face_refiner": (FaceRefinerArtwork, FaceRefinerParameters),
    "face_swap": (FaceSwapArtwork, FaceSwapParameters),
    "upscaling_v2": (UpscalingArtwork, UpscalingParameters),
    "detailer_upscaler": (DetailerUpscalerArtwork, DetailerUpscalerParameters),
    "remove_background": (RemoveBackgroundArtwork, RemoveBackgroundParameters),
    "segmentation": (SegmentationArtwork, SegmentationParameters),
    "depth_map": (DepthMapArtwork, DepthMapParameters),
}
FIELDS: list[tuple[str, Field]] = [(name, f) for name, kind in KINDS.items() for f in kind.fields]
KIND_IDS: list[str] = list(ARTWORK_TYPES)
#: Per kind: a few examples each, every kind every run; the whole module stays within seconds.
PER_KIND = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MIXED = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Valid items of other kinds, to surround a bad one in a page.
NEIGHBOURS: list[JSON] = make_artworks(12, seed=11, kinds=list(ARTWORK_TYPES))


def field_id(case: tuple[str, Field]) -> str:
    return f"{case[0]}.{case[1].key}"


def same_value(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return (type(actual) is type(expected) and actual == expected) or actual is expected


def item_of(kind: str, params: JSON | None = None, /, **top: Any) -> JSON:
    """A valid item of *kind* with the given parameters, plus undocumented keys; *top* replaces
    keys of the item itself."""
    item: JSON = {
        "id": "0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60",
        "artworkType": kind,
        "parameters": {"clientMeta": {"tags": [1, [2]]}, **(params or {})},
        "duration": 2,
        "results": ["https://cdn.example/a.webp"],
        "status": "succeeded",
        "createdAt": "2026-11-01T12:00:00.000+00:00",
        "creditsUsed": 3,
    }
    item.update(top)
    return item


def rebuild(value: Any) -> Any:
    """The same model built by hand, at every depth (so nothing keeps the API's JSON)."""
    if attrs.has(type(value)):
        fields = attrs.fields(type(value))
        return type(value)(**{f.name: rebuild(getattr(value, f.name)) for f in fields if f.init})
    return value


def canonical_parameters(kind: Kind, params: JSON) -> JSON:
    """What a hand-built copy writes: the documented keys in table order, defaults filled."""
    out: JSON = {}
    for field in kind.fields:
        if field.key in params:
            out[field.key] = canonical_value(field, params[field.key])
        elif field.default is not None:
            out[field.key] = field.default
    return out


def canonical_value(field: Field, value: Any) -> Any:
    if field.type == "number" or (field.type == "choice" and not field.integer):
        return float(value)
    if field.type == "points":
        out: JSON = {}
        if "points" in value:
            out["points"] = [[float(c) for c in pair] for pair in value["points"]]
        if "labels" in value:
            out["labels"] = list(value["labels"])
        return out
    return value


def check_value(field: Field, attribute: Any, value: Any) -> None:
    """The typed attribute of a JSON value (or a documented default) under the field's rule."""
    kind = field.type
    if kind == "integer" or (kind == "choice" and field.integer):
        assert type(attribute) is int
        assert attribute == value
    elif kind in {"number", "choice"}:
        assert type(attribute) is float
        assert attribute == value
    elif kind == "enum":
        assert isinstance(attribute, enum.Enum)
        assert attribute.value == value
    elif kind == "string":
        assert type(attribute) is str
        assert attribute == value
    elif kind == "uri":
        assert type(attribute) is str
        assert attribute == value  # the text as sent
    elif kind == "boolean":
        assert attribute is value
    else:
        assert kind == "points"
        assert isinstance(attribute, SegmentationPoints)
        assert attribute.raw == value
        if "points" in value:
            assert attribute.points == tuple(tuple(pair) for pair in value["points"])
            assert all(type(c) is float for pair in attribute.points for c in pair)
        else:
            assert attribute.points is None
        assert attribute.labels == (tuple(value["labels"]) if "labels" in value else None)


def check_parameters(kind: Kind, model: Any, params: JSON) -> None:
    for field in kind.fields:
        attribute = getattr(model, field.name)
        if field.key in params:
            check_value(field, attribute, params[field.key])
        elif field.default is None:
            assert attribute is None, field.key
        else:
            check_value(field, attribute, field.default)


# --- the registry and the tables ---------------------------------------------------------------


def test_the_twelve_kinds_are_registered_under_their_artwork_type() -> None:
    assert list(REGISTRY) == list(ARTWORK_TYPES)
    assert dict(REGISTRY) == {kind: classes[0] for kind, classes in CLASSES.items()}
    assert [member.value for member in ArtworkType] == list(ARTWORK_TYPES)


def test_artwork_is_the_union_of_every_kind_and_the_unknown_kind() -> None:
    members = typing.get_args(Artwork)
    assert members == (*(cls for cls, _ in CLASSES.values()), UnknownArtwork)


def test_every_kind_and_parameters_class_is_public() -> None:
    for artwork_cls, parameters_cls in CLASSES.values():
        assert getattr(tengrai_async, artwork_cls.__name__) is artwork_cls
        assert getattr(tengrai_async, parameters_cls.__name__) is parameters_cls
    assert tengrai_async.SegmentationPoints is SegmentationPoints


def test_the_spec_tables_use_only_known_json_types() -> None:
    assert {field.type for _, field in FIELDS} <= set(TYPES)
    assert len(FIELDS) == 16 + 16 + 11 + 13 + 12 + 6 + 6 + 3 + 7 + 4 + 14 + 8


@pytest.mark.parametrize("kind", KIND_IDS)
def test_parameters_fields_are_the_kinds_table_in_order(kind: str) -> None:
    _, parameters_cls = CLASSES[kind]
    names = [f.name for f in attrs.fields(parameters_cls) if f.init]
    assert names == [field.name for field in KINDS[kind].fields]
    assert [camel_case(n) for n in names] == list(KINDS[kind].keys)


def test_segmentation_points_have_points_and_labels() -> None:
    assert [f.name for f in attrs.fields(SegmentationPoints) if f.init] == list(POINTS_KEYS)


@pytest.mark.parametrize("kind", KIND_IDS)
def test_artwork_fields_are_the_seven_shared_keys_in_the_apis_order(kind: str) -> None:
    artwork_cls, _ = CLASSES[kind]
    names = [f.name for f in attrs.fields(artwork_cls) if f.init]
    assert [camel_case(n) for n in names] == list(REQUIRED_KEYS)
    assert attrs.fields_dict(artwork_cls)["artwork_type"].default == ArtworkType(kind)


@pytest.mark.parametrize("kind", KIND_IDS)
def test_hand_built_parameters_take_the_documented_defaults_or_none(kind: str) -> None:
    _, parameters_cls = CLASSES[kind]
    check_parameters(KINDS[kind], parameters_cls(), {})


# --- valid items: structure, attributes, exact round trip --------------------------------------


def check_round_trip(kind: str, item: JSON) -> Any:
    """The item structures to its kind's class and unstructures to exactly its JSON."""
    artwork_cls, parameters_cls = CLASSES[kind]
    model: Any = converter.structure_artwork(item)
    assert type(model) is artwork_cls
    assert type(model.parameters) is parameters_cls
    assert converter.structure(item, artwork_cls) == model
    # Exactly the JSON it came from: unknown keys at any depth, key order, int vs float.
    wire = converter.unstructure(model)
    assert json_identical(wire, item)
    assert json_identical(converter.unstructure(model, Artwork), item)
    assert model.raw == item
    assert model.parameters.raw == item["parameters"]
    # A fresh copy: changing it changes neither the model nor the next copy.
    wire["parameters"]["changed"] = True
    assert "changed" not in model.raw["parameters"]
    assert json_identical(converter.unstructure(model), item)
    return model


def check_attributes(kind: str, item: JSON, model: Any) -> None:
    """The typed attributes hold the values, and the documented defaults of missing keys."""
    check_parameters(KINDS[kind], model.parameters, item["parameters"])
    assert model.id == uuid.UUID(item["id"])
    assert model.artwork_type is ArtworkType(kind)
    assert type(model.duration) is float
    assert model.duration == item["duration"]
    assert model.results == tuple(item["results"])
    assert model.status is ArtworkStatus(item["status"])
    assert model.created_at == dt.datetime.fromisoformat(item["createdAt"].replace("Z", "+00:00"))
    # The defaults are on the attributes, never added to the wire.
    missing = set(KINDS[kind].defaults) - set(item["parameters"])
    assert not missing & set(converter.unstructure(model)["parameters"])


def check_by_hand(kind: str, item: JSON, model: Any) -> None:
    """A hand-built copy is equal and unstructures canonically, defaults written out."""
    by_hand = rebuild(model)
    assert by_hand == model
    assert hash(by_hand) == hash(model)
    moment = dt.datetime.fromisoformat(item["createdAt"].replace("Z", "+00:00"))
    expected = {
        "id": item["id"],
        "artworkType": kind,
        "parameters": canonical_parameters(KINDS[kind], item["parameters"]),
        "duration": float(item["duration"]),
        "results": item["results"],
        "status": item["status"],
        "createdAt": canonical_timestamp(moment),
    }
    canonical = converter.unstructure(by_hand)
    assert json_identical(canonical, expected)
    assert by_hand.raw == expected
    assert converter.structure_artwork(canonical) == model


@pytest.mark.parametrize("kind", KIND_IDS)
@PER_KIND
@given(data=st.data())
def test_valid_items_round_trip_exactly_fill_defaults_and_equal_their_hand_built_copy(
    kind: str, data: st.DataObject
) -> None:
    item = data.draw(artworks(kind), label="item")
    model = check_round_trip(kind, item)
    check_attributes(kind, item, model)
    check_by_hand(kind, item, model)


@pytest.mark.parametrize("kind", KIND_IDS)
def test_empty_parameters_fill_every_default_on_the_model_and_none_on_the_wire(kind: str) -> None:
    item = item_of(kind)
    del item["parameters"]["clientMeta"]
    model = converter.structure_artwork(item)
    _, parameters_cls = CLASSES[kind]
    assert model.parameters == parameters_cls()
    assert converter.unstructure(model)["parameters"] == {}
    assert converter.unstructure(rebuild(model))["parameters"] == KINDS[kind].defaults


@MIXED
@given(st.lists(any_artworks(), max_size=4), st.integers(0, 10**9))
def test_a_page_of_mixed_kinds_round_trips_item_by_item(items: list[JSON], offset: int) -> None:
    page = converter.structure_page(items, offset=offset, limit=10)
    assert [type(a) for a in page] == [CLASSES[i["artworkType"]][0] for i in items]
    assert all(
        json_identical(converter.unstructure(a), i) for a, i in zip(page, items, strict=True)
    )
    assert page.invalid == ()
    assert page.next_offset == offset + len(items)


def test_the_cap_met_exactly_structures_and_the_high_resolution_cap_needs_the_flag() -> None:
    for kind in ("hamilton", "photo_pilot"):
        raised = {"width": 1328, "height": 1328, "highResolution": True}
        model: Any = converter.structure_artwork(item_of(kind, raised))
        assert model.parameters.width * model.parameters.height == MAX_HIGH_RESOLUTION_AREA
        with pytest.raises(ResponseValidationError) as info:
            converter.structure_artwork(item_of(kind, {**raised, "highResolution": False}))
        assert info.value.path == "$.parameters.height"
    for kind, cap in (("selena", MAX_AREA), ("selena_variete", MAX_AREA), ("quantum", MAX_AREA)):
        model = converter.structure_artwork(item_of(kind, {"width": 1216, "height": 1216}))
        assert model.parameters.width * model.parameters.height == cap
        # A flag another kind has does not raise this kind's cap.
        with pytest.raises(ResponseValidationError) as info:
            converter.structure_artwork(
                item_of(kind, {"width": 1328, "height": 1328, "highResolution": True})
            )
        assert info.value.path == "$.parameters.height"


@pytest.mark.parametrize("model", list(DepthModel), ids=str)
def test_depth_map_takes_every_model_with_v3_or_unset_and_only_four_with_v2(
    model: DepthModel,
) -> None:
    for flag in (True, None):
        params = (
            {"model": model.value} if flag is None else {"model": model.value, "useVersion3": flag}
        )
        assert (
            converter.structure(item_of("depth_map", params), DepthMapArtwork).parameters.model
            is model
        )
        assert DepthMapParameters(model=model, use_version3=flag).model is model
    v2 = {"model": model.value, "useVersion3": False}
    if model.value in V2_DEPTH_MODELS:
        assert (
            converter.structure(item_of("depth_map", v2), DepthMapArtwork).parameters.model is model
        )
        assert DepthMapParameters(model=model, use_version3=False).model is model
    else:
        with pytest.raises(ResponseValidationError) as info:
            converter.structure_page([NEIGHBOURS[0], item_of("depth_map", v2)], offset=7)
        assert (info.value.path, info.value.value, info.value.offset) == (
            "$[1].parameters.model",
            model.value,
            8,
        )
        with pytest.raises(ValidationError) as by_hand:
            DepthMapParameters(model=model, use_version3=False)
        assert by_hand.value.path == "model"


# --- broken rules: the table -------------------------------------------------------------------

WRONG_TYPE: dict[str, list[Any]] = {
    "integer": ["3", True, False, None, [], {}, 2.5],
    "number": ["1", True, False, None, [], {}, math.nan, math.inf, -math.inf, 10**400],
    "choice": ["2", True, False, None, [], {}],
    "enum": [1, 2.5, True, None, [], {}, "", "unknown"],
    "string": [1, 2.5, True, None, [], {}],
    "uri": [1, True, None, [], {}, "", "relative/path", "//host.example/x", "https://"],
    "boolean": [0, 1, 0.0, "no", "false", "true", None, []],
    "points": [None, [], "x", 1, True, [[0.5, 0.5]]],
}


def _foreign(kind: Kind, field: Field) -> list[str]:
    """Values another kind's field of the same key (or the format fields) allows, not this one."""
    family = (
        {"outputFormat", "imageFormat"}
        if field.key in {"outputFormat", "imageFormat"}
        else {field.key}
    )
    others = [
        value
        for other in KINDS.values()
        for f in other.fields
        if f.key in family and f.type == "enum"
        for value in f.values
    ]
    return [value for value in dict.fromkeys(others) if value not in field.values]


def bad_values(kind: Kind, field: Field) -> list[Any]:
    """Values the field's rule refuses in a response: range edges, types, other kinds' members."""
    out = list(WRONG_TYPE[field.type])
    if field.type == "integer":
        anchor = field.minimum if field.minimum is not None else field.maximum
        out.append(float(anchor if anchor is not None else 0))  # a whole float: still not an int
    if field.type in {"integer", "number"}:
        integer = field.type == "integer"
        if field.minimum is not None:
            low = field.minimum
            out += [low - 1, low - 10**20] if integer else [math.nextafter(low, -math.inf), low - 1]
        if field.maximum is not None:
            high = field.maximum
            out += (
                [high + 1, high + 10**20] if integer else [math.nextafter(high, math.inf), high + 1]
            )
    if field.multiple_of:
        assert field.minimum is not None
        assert field.maximum is not None
        step, low, high = field.multiple_of, int(field.minimum), int(field.maximum)
        out += [low + 1, high - 1, (low + high) // 2 + 1, low - step, high + step]
    if field.type == "choice":
        out += [v for v in (0, 3, 5, 16, -1, 2.5, 1.5, 4) if v not in field.values]
        if field.integer:
            out += [float(v) for v in field.values]
    if field.type == "enum":
        first = field.values[0]
        out += [first + " ", first.upper() if first.upper() != first else first.lower() + "x"]
        out += _foreign(kind, field)
    return out


@dataclasses.dataclass(frozen=True)
class Break:
    """One broken rule: the parameters to set, and where and what the error must report."""

    kind: str
    parameters: JSON
    path: str
    value: Any

    def __str__(self) -> str:
        return f"{self.kind}{self.path}={self.value!r}"[:80]


def _points_breaks(kind: str, key: str) -> list[Break]:
    base = f".parameters.{key}"
    low, high = POINT_RANGE
    cases: list[tuple[JSON, str, Any]] = [
        ({"points": "x"}, ".points", "x"),
        ({"points": None}, ".points", None),
        ({"points": {}}, ".points", {}),
        ({"points": [[0.1]]}, ".points[0]", [0.1]),
        ({"points": [[0.1, 0.2], [0.1, 0.2, 0.3]]}, ".points[1]", [0.1, 0.2, 0.3]),
        ({"points": [[0.1, 0.2], []]}, ".points[1]", []),
        ({"points": ["ab"]}, ".points[0]", "ab"),
        ({"points": [{"x": 0.1, "y": 0.2}]}, ".points[0]", {"x": 0.1, "y": 0.2}),
        ({"points": [[0.1, 0.2], [0.5, high + 0.5]]}, ".points[1][1]", high + 0.5),
        ({"points": [[0.5, 0.5], [0.1, 0.2], [2, 0.2]]}, ".points[2][0]", 2),
        ({"points": [[low - 0.25, 0.2]]}, ".points[0][0]", low - 0.25),
        ({"points": [[math.nextafter(high, 2), 0]]}, ".points[0][0]", math.nextafter(high, 2)),
        ({"points": [[0.1, True]]}, ".points[0][1]", True),
        ({"points": [[0.1, "0.2"]]}, ".points[0][1]", "0.2"),
        ({"points": [[None, 0.2]]}, ".points[0][0]", None),
        ({"labels": "x"}, ".labels", "x"),
        ({"labels": None}, ".labels", None),
        ({"labels": [1, 0.5]}, ".labels[1]", 0.5),
        ({"labels": [1, 1.0]}, ".labels[1]", 1.0),
        ({"labels": [True]}, ".labels[0]", True),
        ({"labels": [0, 1, "1"]}, ".labels[2]", "1"),
    ]
    return [
        Break(kind, {key: {"extra": [1], **obj}}, base + suffix, value)
        for obj, suffix, value in cases
    ]


def _cross_breaks(kind: Kind) -> list[Break]:
    breaks: list[Break] = []
    if kind.area is not None:
        high = int(kind.by_key["width"].maximum or 0)
        pairs: list[tuple[float, float]] = [
            (1217, 1216),
            (1216, 1217),
            (high, MAX_AREA // high + 1),
        ]
        if kind.by_key["width"].type == "number":
            pairs += [(1216.0, math.nextafter(1216.0, 2048)), (1216.5, 1216)]
        flags: list[JSON] = [{}]
        if kind.area.raised_by is not None:
            flags.append({kind.area.raised_by: False})
        breaks += [
            Break(kind.name, {"width": w, "height": h, **flag}, ".parameters.height", h)
            for w, h in pairs
            for flag in flags
        ]
        if kind.area.raised_by is not None:
            raised = {kind.area.raised_by: True}
            over = [(1329, 1328), (1328, 1329), (2048, MAX_HIGH_RESOLUTION_AREA // 2048 + 1)]
            breaks += [
                Break(kind.name, {**raised, "width": w, "height": h}, ".parameters.height", h)
                for w, h in over
            ]
            breaks += [
                Break(
                    kind.name, {"width": 1328, "height": 1328, **flag}, ".parameters.height", 1328
                )
                for flag in flags
            ]
    rule = kind.members_when
    if rule is not None:
        allowed = next(f for f in kind.fields if f.key == rule.key).values
        breaks += [
            Break(kind.name, {rule.when: rule.equals, rule.key: v}, f".parameters.{rule.key}", v)
            for v in allowed
            if v not in rule.members
        ]
    return breaks


def breaks_of(name: str, field: Field) -> list[Break]:
    kind = KINDS[name]
    cases = [
        Break(name, {field.key: value}, f".parameters.{field.key}", value)
        for value in bad_values(kind, field)
    ]
    if field.type == "points":
        cases += _points_breaks(name, field.key)
    return cases


def _structure_at(index: int, bad: JSON, offset: int) -> ResponseValidationError:
    body = [*NEIGHBOURS[:index], bad, *NEIGHBOURS[index:]]
    with pytest.raises(ResponseValidationError) as info:
        converter.structure_page(body, offset=offset, limit=len(body))
    return info.value


def _check_break(case: Break, index: int, *, cross: bool = False) -> None:
    bad = item_of(case.kind, case.parameters)
    error = _structure_at(index, bad, offset=1000)
    assert error.path == f"$[{index}]{case.path}", case
    if cross:  # a cross-field rule reports the checked value: photo_pilot's 1216 as 1216.0
        assert error.value == case.value, case
    else:
        assert same_value(error.value, case.value), case
    assert error.offset == 1000 + index
    assert error.raw is bad
    assert error.expected
    assert str(error).startswith(f"item at offset {1000 + index}: ")


@pytest.mark.parametrize(("kind", "field"), FIELDS, ids=list(map(field_id, FIELDS)))
def test_every_broken_field_rule_is_reported_at_its_exact_path(kind: str, field: Field) -> None:
    cases = breaks_of(kind, field)
    assert cases
    for number, case in enumerate(cases):
        _check_break(case, number % 5)


@pytest.mark.parametrize("kind", [k for k in KIND_IDS if KINDS[k].area or KINDS[k].members_when])
def test_every_broken_cross_field_rule_is_reported_on_its_field(kind: str) -> None:
    cases = _cross_breaks(KINDS[kind])
    assert cases
    for number, case in enumerate(cases):
        _check_break(case, number % 4, cross=True)


def test_another_kinds_members_are_refused_eg_hamiltons_surreal_in_a_selena_style() -> None:
    error = _structure_at(3, item_of("selena", {"style": "surreal"}), offset=0)
    assert (error.path, error.value) == ("$[3].parameters.style", "surreal")
    error = _structure_at(0, item_of("hamilton", {"style": "car"}), offset=0)
    assert (error.path, error.value) == ("$[0].parameters.style", "car")
    error = _structure_at(1, item_of("selena_variete", {"aspectRatio": "3:4"}), offset=0)
    assert (error.path, error.value) == ("$[1].parameters.aspectRatio", "3:4")
    error = _structure_at(2, item_of("remove_background", {"imageFormat": "auto"}), offset=0)
    assert (error.path, error.value) == ("$[2].parameters.imageFormat", "auto")
    error = _structure_at(3, item_of("upscaling_v2", {"scaleFactor": 9}), offset=0)
    assert (error.path, error.value) == ("$[3].parameters.scaleFactor", 9)
    error = _structure_at(0, item_of("detailer_upscaler", {"scaleFactor": 3}), offset=0)
    assert (error.path, error.value) == ("$[0].parameters.scaleFactor", 3)
    bad_points = {"pointsPositive": {"points": [[0.1, 0.2], [1.5, 0.3]]}}
    error = _structure_at(0, item_of("segmentation", bad_points), offset=0)
    assert (error.path, error.value) == ("$[0].parameters.pointsPositive.points[1][0]", 1.5)


SHARED_BREAKS: list[tuple[str, Any, str, Any]] = [
    ("id", "not-a-uuid", "", "not-a-uuid"),
    ("id", 1, "", 1),
    ("duration", "1.5", "", "1.5"),
    ("duration", True, "", True),
    ("results", ["a", 1], "[1]", 1),
    ("results", "x", "", "x"),
    ("status", "done", "", "done"),
    ("createdAt", "2024-01-01", "", "2024-01-01"),
    ("parameters", [], "", []),
    ("parameters", None, "", None),
]


@pytest.mark.parametrize("kind", KIND_IDS)
def test_shared_fields_of_every_kind_are_checked_and_required(kind: str) -> None:
    for number, (key, value, suffix, reported) in enumerate(SHARED_BREAKS):
        error = _structure_at(number % 3, item_of(kind, **{key: value}), offset=5)
        assert (error.path, error.offset) == (f"$[{number % 3}].{key}{suffix}", 5 + number % 3)
        assert same_value(error.value, reported)
    for number, key in enumerate(k for k in REQUIRED_KEYS if k != "artworkType"):
        item = item_of(kind)
        del item[key]
        error = _structure_at(number % 3, item, offset=0)
        assert error.path == f"$[{number % 3}].{key}"
        assert error.value is MISSING


# --- broken rules: drawn -----------------------------------------------------------------------

_OPEN_BAD = 2**70


def _bad_numbers(field: Field) -> st.SearchStrategy[Any]:
    """Numbers outside the field's range (and, for integers, every float)."""
    options: list[st.SearchStrategy[Any]] = []
    integer = field.type == "integer"
    if field.minimum is not None:
        low = field.minimum
        if integer:
            options.append(st.integers(-_OPEN_BAD, int(low) - 1))
        else:
            options.append(st.floats(max_value=low, exclude_max=True, allow_nan=False))
    if field.maximum is not None:
        high = field.maximum
        if integer:
            options.append(st.integers(int(high) + 1, _OPEN_BAD))
        else:
            options.append(st.floats(min_value=high, exclude_min=True, allow_nan=False))
    if integer:
        options.append(st.floats())  # a float is never a JSON integer, whole or not
    if field.multiple_of:
        step = field.multiple_of
        options.append(
            st.integers(int(field.minimum or 0), int(field.maximum or 0)).filter(
                lambda n: n % step != 0
            )
        )
    return st.one_of(options)


def _not(predicate: Callable[[Any], bool]) -> st.SearchStrategy[Any]:
    return json_values.filter(lambda value: not predicate(value))


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


_BAD_BY_TYPE: dict[str, Callable[[Field], st.SearchStrategy[Any]]] = {
    "integer": lambda f: st.one_of(_bad_numbers(f), _not(lambda v: type(v) is int)),
    "number": lambda f: st.one_of(_bad_numbers(f), _not(_is_number)),
    "choice": lambda f: st.one_of(
        st.integers().filter(lambda n: n not in f.values),
        st.floats().filter(lambda x: f.integer or x not in f.values),
        _not(lambda v: _is_number(v) and v in f.values),
    ),
    "enum": lambda f: st.one_of(
        st.sampled_from([v for v in ALL_ENUM_VALUES if v not in f.values]),
        _not(lambda v: v in f.values),
    ),
    "string": lambda _: _not(lambda v: type(v) is str),
    "uri": lambda _: st.sampled_from(WRONG_TYPE["uri"]),
    "boolean": lambda _: _not(lambda v: v is True or v is False),
    "points": lambda _: _not(lambda v: type(v) is dict),
}


@st.composite
def broken_items(draw: st.DrawFn) -> tuple[JSON, str, Any]:
    """A valid item of any kind with one field broken: (item, path under the item, value)."""
    kind, field = draw(st.sampled_from(FIELDS))
    item = draw(artworks(kind))
    if field.type == "points" and draw(st.booleans()):
        case = draw(st.sampled_from(_points_breaks(kind, field.key)))
        item["parameters"].update(case.parameters)
        return item, case.path, case.value
    value = draw(_BAD_BY_TYPE[field.type](field))
    item["parameters"][field.key] = value
    return item, f".parameters.{field.key}", value


@MIXED
@given(broken_items(), st.lists(any_artworks(), max_size=2), st.data())
def test_any_broken_rule_in_a_page_reports_index_path_value_and_offset(
    broken: tuple[JSON, str, Any], others: list[JSON], data: st.DataObject
) -> None:
    bad, path, value = broken
    index = data.draw(st.integers(0, len(others)), label="index")
    offset = data.draw(st.integers(0, 10**9), label="offset")
    body = [*others[:index], bad, *others[index:]]
    with pytest.raises(ResponseValidationError) as info:
        converter.structure_page(body, offset=offset)
    assert info.value.path == f"$[{index}]{path}"
    assert same_value(info.value.value, value)
    assert info.value.offset == offset + index
    assert info.value.raw is bad
    skipped = converter.structure_page(body, offset=offset, skip_invalid=True)
    assert [e.path for e in skipped.invalid] == [f"$[{index}]{path}"]
    assert len(skipped) == len(others)


# --- broken rules: by hand ---------------------------------------------------------------------


def _hand_values(kind: Kind, field: Field) -> list[Any]:
    """The response's bad values a hand-built model must refuse too (``None`` means unset where
    no default is documented), plus the Python-only mistakes."""
    out = [v for v in bad_values(kind, field) if not (v is None and field.default is None)]
    if field.type == "enum":
        out.append(ArtworkStatus.FAILED)
    if field.type == "uri":
        out += ["no scheme", "a:b c"]
    if field.type == "points":
        out += [{"points": [[0.5, 0.5]]}]
    return out


@pytest.mark.parametrize(("kind", "field"), FIELDS, ids=list(map(field_id, FIELDS)))
def test_every_field_rule_is_checked_on_hand_built_parameters(kind: str, field: Field) -> None:
    _, parameters_cls = CLASSES[kind]
    for value in _hand_values(KINDS[kind], field):
        with pytest.raises(ValidationError) as info:
            parameters_cls(**{field.name: value})
        assert type(info.value) is ValidationError, value
        assert info.value.path == field.name, value
        assert info.value.value == value or same_value(info.value.value, value), value


@pytest.mark.parametrize(
    ("attribute", "value", "path"),
    [
        ("points", ((0.1, 0.2), (1.5, 0.3)), "points"),
        ("points", ((0.1,),), "points"),
        ("points", ((0.1, 0.2, 0.3),), "points"),
        ("points", ((0.1, True),), "points"),
        ("points", ((-0.1, 0.2),), "points"),
        ("points", "ab", "points"),
        ("labels", (1, 0.5), "labels"),
        ("labels", (True,), "labels"),
        ("labels", 1, "labels"),
    ],
    ids=repr,
)
def test_hand_built_points_are_checked(attribute: str, value: Any, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        SegmentationPoints(**{attribute: value})
    assert info.value.path == path


def test_hand_built_points_accept_lists_and_keep_tuples() -> None:
    lists: JSON = {"points": [[0, 1], [0.5, 0.25]], "labels": [1, 0]}
    points = SegmentationPoints(**lists)
    assert points.points is not None
    assert points.labels is not None
    assert list(points.points) == [(0, 1), (0.5, 0.25)]
    assert list(points.labels) == [1, 0]
    assert type(points.labels) is tuple
    assert type(points.points) is tuple
    assert all(type(pair) is tuple for pair in points.points)
    wire = converter.unstructure(SegmentationParameters(points_positive=points))
    assert wire["pointsPositive"] == {"points": [[0, 1], [0.5, 0.25]], "labels": [1, 0]}


@pytest.mark.parametrize("kind", [k for k in KIND_IDS if KINDS[k].area or KINDS[k].members_when])
def test_every_cross_field_rule_is_checked_on_hand_built_parameters(kind: str) -> None:
    _, parameters_cls = CLASSES[kind]
    for case in _cross_breaks(KINDS[kind]):
        kwargs = {snake_case(key): value for key, value in case.parameters.items()}
        with pytest.raises(ValidationError) as info:
            parameters_cls(**kwargs)
        assert type(info.value) is ValidationError
        assert info.value.path == case.path.rsplit(".", 1)[1]
        assert info.value.value == case.value


@pytest.mark.parametrize("kind", KIND_IDS)
def test_hand_built_artworks_check_their_kind_and_parameters_class(kind: str) -> None:
    artwork_cls, parameters_cls = CLASSES[kind]
    fields: JSON = {
        "id": uuid.uuid4(),
        "parameters": parameters_cls(),
        "duration": 1.0,
        "results": (),
        "status": ArtworkStatus.SUCCEEDED,
        "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    }
    assert artwork_cls(**fields).artwork_type is ArtworkType(kind)
    other = next(p for k, (_, p) in CLASSES.items() if k != kind)
    wrong: list[tuple[str, Any]] = [
        ("parameters", other()),
        ("parameters", {}),
        ("artwork_type", next(t for t in ArtworkType if t.value != kind)),
        ("artwork_type", "future"),
        ("status", "done"),
        ("duration", math.nan),
        ("id", "0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60"),
    ]
    for name, value in wrong:
        with pytest.raises(ValidationError) as info:
            artwork_cls(**{**fields, name: value})
        assert info.value.path == name


def test_kinds_are_built_and_evolved_by_keyword_as_mypy_sees_them() -> None:
    # mypy checks these keywords: every kind's class is an attrs class to its attrs plugin.
    created = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    selena = SelenaArtwork(
        id=uuid.UUID(int=1),
        parameters=SelenaParameters(batch=1),
        duration=1.0,
        results=(),
        status=ArtworkStatus.SUCCEEDED,
        created_at=created,
    )
    assert attrs.evolve(selena, duration=2.0).duration == 2.0
    points = SegmentationPoints(points=((0.0, 1.0),), labels=(1,))
    segmentation = SegmentationArtwork(
        id=uuid.UUID(int=2),
        parameters=SegmentationParameters(points_positive=points, mask_expand=-16384),
        duration=0,
        results=("https://cdn.example/mask.png",),
        status=ArtworkStatus.STARTING,
        created_at=created,
    )
    assert segmentation.parameters.points_positive == points
    depth = DepthMapArtwork(
        id=uuid.UUID(int=3),
        parameters=DepthMapParameters(use_version3=True, model=DepthModel.MONO_LARGE),
        duration=3.5,
        results=(),
        status=ArtworkStatus.FAILED,
        created_at=created,
    )
    assert converter.unstructure(depth)["parameters"]["model"] == "mono_large"


def test_hand_built_style_of_another_kind_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        SelenaParameters(style=Style.SURREAL)
    assert info.value.path == "style"
    assert HamiltonParameters(style=Style.SURREAL).style is Style.SURREAL
    assert QuantumParameters(style="folktale").style is Style.FOLKTALE
    with pytest.raises(ValidationError):
        HamiltonParameters(style="folktale")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        RemoveBackgroundParameters(image_format="auto")  # type: ignore[arg-type]
    auto = RemoveBackgroundParameters(output_format="auto")
    assert auto.output_format.value in OUTPUT_FORMATS


# --- unknown kinds -----------------------------------------------------------------------------

UNKNOWN_TYPES = st.one_of(
    st.sampled_from(["upscaling", "style_dna", "Selena", "selena ", "depth-map", "", "QUANTUM"]),
    texts,
).filter(lambda kind: kind not in ARTWORK_TYPES)


@dataclasses.dataclass(frozen=True)
class Lenient:
    """How one shared key of an unknown kind is read: valid values and what they give."""

    valid: st.SearchStrategy[Any]
    read: Callable[[Any], Any]
    wrong: tuple[Any, ...]


LENIENT: dict[str, Lenient] = {
    "id": Lenient(
        st.uuids().map(str).flatmap(lambda s: st.sampled_from([s, s.upper()])),
        uuid.UUID,
        (1, None, "", "not-a-uuid", "6f1c2a3b4d5e4f608a7b9c0d1e2f3a4b", "{6f1c2a3b-4d5e-4f60}"),
    ),
    "duration": Lenient(durations, float, ("1.5", True, False, None, [], {}, 10**400)),
    "results": Lenient(
        st.lists(texts, max_size=3), tuple, ("x", [1], ["a", None], {}, None, 1, True)
    ),
    "status": Lenient(
        st.sampled_from(STATUSES), ArtworkStatus, ("done", "Succeeded", 1, None, [], "upscaling")
    ),
    "createdAt": Lenient(
        timestamp_spellings,
        lambda text: dt.datetime.fromisoformat(text.replace("Z", "+00:00")),
        ("2024-01-01T00:00:00", "yesterday", "", 1_700_000_000, None, [], "2024-13-01T00:00:00Z"),
    ),
}


@st.composite
def unknown_items(draw: st.DrawFn) -> tuple[JSON, JSON]:
    """An item of an unknown kind, each shared key absent, valid or ill-shaped, with what each
    field must read as."""
    item: JSON = {"artworkType": draw(UNKNOWN_TYPES, label="kind")}
    expected: JSON = {}
    for key, rule in LENIENT.items():
        shape = draw(st.sampled_from(("absent", "valid", "wrong")), label=key)
        if shape == "valid":
            item[key] = draw(rule.valid)
            expected[key] = rule.read(item[key])
        elif shape == "wrong":
            item[key] = draw(st.sampled_from(rule.wrong))
    parameters = draw(st.one_of(st.dictionaries(texts, json_values, max_size=4), json_values))
    if draw(st.booleans()):
        item["parameters"] = parameters
    extra = st.dictionaries(texts.filter(lambda k: k not in REQUIRED_KEYS), json_values, max_size=3)
    item.update(draw(extra))
    order = draw(st.permutations(list(item)))
    return {key: item[key] for key in order}, expected


@MIXED
@given(unknown_items(), st.lists(any_artworks(), max_size=2))
def test_unknown_kinds_are_read_leniently_and_never_raise(
    case: tuple[JSON, JSON], others: list[JSON]
) -> None:
    item, expected = case
    model = converter.structure_artwork(item)
    assert type(model) is UnknownArtwork
    assert model.artwork_type == item["artworkType"]
    assert model.id == expected.get("id")
    assert model.duration == expected.get("duration")
    assert model.duration is None or type(model.duration) is float
    assert model.results == expected.get("results")
    assert model.status is expected.get("status")
    assert model.created_at == expected.get("createdAt")
    parameters = item.get("parameters")
    assert model.parameters == (parameters if type(parameters) is dict else None)
    assert model.raw == item
    assert json_identical(converter.unstructure(model), item)
    assert json_identical(converter.unstructure(model, Artwork), item)
    page = converter.structure_page([*others, item], offset=3)
    assert type(page.items[-1]) is UnknownArtwork
    assert page.invalid == ()


@MIXED
@given(UNKNOWN_TYPES, st.dictionaries(st.sampled_from(REQUIRED_KEYS), json_values))
def test_any_json_in_the_shared_keys_of_an_unknown_kind_never_raises(
    kind: str, shared: JSON
) -> None:
    item = {**shared, "artworkType": kind}
    model = converter.structure_artwork(item)
    assert type(model) is UnknownArtwork
    assert model.id is None or isinstance(model.id, uuid.UUID)
    assert model.duration is None or type(model.duration) is float
    assert model.results is None or all(type(r) is str for r in model.results)
    assert model.status is None or isinstance(model.status, ArtworkStatus)
    assert model.created_at is None or model.created_at.tzinfo is not None
    assert json_identical(converter.unstructure(model), item)


def test_a_former_or_future_kind_comes_through_whole() -> None:
    v1 = {"id": "x", "artworkType": "upscaling", "status": "done", "parameters": {"a": [1]}}
    model = converter.structure_artwork(v1)
    assert isinstance(model, UnknownArtwork)
    assert (model.id, model.status, model.duration, model.results, model.created_at) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert model.parameters == {"a": [1]}
    assert converter.unstructure(model) == v1


# --- raw is read-only at every depth -----------------------------------------------------------


def _containers(value: Any, path: str = "raw") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        yield path, value
        for key in value:
            yield from _containers(value[key], f"{path}[{key!r}]")
    elif isinstance(value, typing.Sequence) and not isinstance(value, str):
        yield path, value
        for index, item in enumerate(value):
            yield from _containers(item, f"{path}[{index}]")


def _assert_read_only(raw: Any) -> None:
    for where, node in _containers(raw):
        # Plain JSON data to every reader (a dict or a list), that refuses every change.
        assert type(node) in (FrozenDict, FrozenList), where
        if isinstance(node, Mapping):
            with pytest.raises(TypeError):
                node["new"] = 1  # type: ignore[index]
            for key in list(node)[:1]:
                with pytest.raises(TypeError):
                    node[key] = 1  # type: ignore[index]
                with pytest.raises(TypeError):
                    del node[key]  # type: ignore[attr-defined]
            for method in ("update", "pop", "popitem", "clear", "setdefault"):
                with pytest.raises(TypeError):
                    getattr(node, method)()
        else:
            if len(node):
                with pytest.raises(TypeError):
                    node[0] = 1
                with pytest.raises(TypeError):
                    del node[0]
            for method in ("append", "extend", "insert", "pop", "remove", "sort", "reverse"):
                with pytest.raises(TypeError):
                    getattr(node, method)()
        with pytest.raises(AttributeError):
            node.anything = 1


@MIXED
@given(st.one_of(any_artworks(), unknown_items().map(lambda case: case[0])))
def test_raw_is_read_only_at_every_depth(item: JSON) -> None:
    model = converter.structure_artwork(item)
    before = converter.unstructure(model)
    _assert_read_only(model.raw)
    if isinstance(model, UnknownArtwork):
        if model.parameters is not None:
            _assert_read_only(model.parameters)
    else:
        _assert_read_only(model.parameters.raw)
    with pytest.raises(AttributeError):
        model.raw = {}  # type: ignore[misc]
    assert model.raw == item
    assert json_identical(converter.unstructure(model), before)


def test_raw_of_nested_lists_refuses_every_change() -> None:
    points = {"points": [[0.1, 0.2], [0.3, 0.4]], "labels": [1, 0], "meta": [[["deep"]]]}
    item = item_of("segmentation", {"pointsPositive": points})
    model = converter.structure(item, SegmentationArtwork)
    nested = model.raw["parameters"]["pointsPositive"]["points"]
    with pytest.raises(TypeError):
        nested[0][1] = 0.9
    with pytest.raises(TypeError):
        model.raw["parameters"]["pointsPositive"]["meta"][0][0][0] = "changed"
    with pytest.raises(TypeError):
        nested[1].append(0.5)
    assert model.parameters.points_positive is not None
    with pytest.raises(TypeError):
        model.parameters.points_positive.raw["labels"][0] = 7
    assert nested[0][1] == 0.2
    # A slice is the caller's own list (as for a tuple's slice), its items still read-only.
    part = nested[0:1]
    assert part == [[0.1, 0.2]]
    part.append([0.5, 0.5])
    _assert_read_only(part[0])
    assert model.raw == item


def test_a_hand_built_unknown_artwork_copies_its_raw_at_every_depth() -> None:
    source: JSON = {"artworkType": "future", "parameters": {"tags": ["a"]}}
    model = UnknownArtwork(artwork_type="future", raw=source)
    source["parameters"]["tags"].append("b")
    source["parameters"]["new"] = 1
    assert model.raw == {"artworkType": "future", "parameters": {"tags": ["a"]}}
    _assert_read_only(model.raw)


# --- the shared attributes, as mypy sees them on the union -------------------------------------

Common = tuple[
    uuid.UUID | None,
    str,
    float | None,
    tuple[str, ...] | None,
    ArtworkStatus | None,
    dt.datetime | None,
    Mapping[str, Any],
    object,
]


def common(artwork: Artwork) -> Common:
    """Every shared attribute, read through the union: mypy checks this function's types."""
    return (
        artwork.id,
        artwork.artwork_type,
        artwork.duration,
        artwork.results,
        artwork.status,
        artwork.created_at,
        artwork.raw,
        artwork.parameters,
    )


@pytest.mark.parametrize("kind", [*KIND_IDS, "future"])
def test_the_shared_attributes_work_on_every_member_of_the_union(kind: str) -> None:
    item = item_of(kind)
    artwork = converter.structure_artwork(item)
    id_, artwork_type, duration, results, status, created_at, raw, parameters = common(artwork)
    assert id_ == uuid.UUID(item["id"])
    assert artwork_type == kind
    assert duration == 2.0
    assert results == ("https://cdn.example/a.webp",)
    assert status is ArtworkStatus.SUCCEEDED
    assert created_at == dt.datetime(2026, 11, 1, 12, tzinfo=dt.timezone.utc)
    assert raw == item
    assert parameters is not None
