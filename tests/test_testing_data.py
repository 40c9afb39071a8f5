"""The synthetic data of ``tengrai_async.testing``: deterministic, valid, covering, newest first.

Validity and coverage are judged against the spec's tables as ``strategies`` restates them: every
kind's items structure to the kind's class and round-trip exactly, and a few thousand items show
every member each kind allows and both edges of each of its ranges (the area caps included).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import Any

import orjson
import pytest
from _moments import moment
from strategies import (
    ARTWORK_TYPES,
    JSON,
    KINDS,
    MAX_AREA,
    MAX_HIGH_RESOLUTION_AREA,
    POINT_RANGE,
    REQUIRED_KEYS,
    STATUSES,
    Field,
    Kind,
    json_identical,
)

from tengrai_async import UnknownArtwork, converter
from tengrai_async._models import KINDS as CLASSES
from tengrai_async.testing import EPOCH, make_artwork, make_artworks

#: A few thousand items of the default mix (mostly selena; depth_map and segmentation ~1.5%).
N = 3000
#: Items of a history made of one kind only.
N_ONE_KIND = 400


@pytest.fixture(scope="module")
def history() -> list[JSON]:
    # Seed 0 is the fake server's default history.
    return make_artworks(N, seed=0)


@pytest.fixture(scope="module")
def by_kind(history: list[JSON]) -> dict[str, list[JSON]]:
    groups: dict[str, list[JSON]] = {kind: [] for kind in ARTWORK_TYPES}
    for item in history:
        groups[item["artworkType"]].append(item)
    return groups


def _values(items: Iterable[JSON], key: str) -> list[Any]:
    return [item["parameters"][key] for item in items if key in item["parameters"]]


def _field_gaps(field: Field, values: list[Any]) -> list[str]:
    """What of the field's rule the values do not show: members, edges, both booleans."""
    if field.type in {"enum", "choice"}:
        return [f"{field.key}={v!r}" for v in field.values if v not in values]
    if field.type == "boolean":
        return [f"{field.key}={v!r}" for v in (True, False) if v not in values]
    if field.type in {"integer", "number"}:
        return [f"{field.key}={edge!r}" for edge in field.edges if edge not in values]
    if field.type == "points":
        coordinates = {c for obj in values for pair in obj.get("points", ()) for c in pair}
        labels = [label for obj in values for label in obj.get("labels", ())]
        gaps = [f"{field.key}.points {e}" for e in POINT_RANGE if e not in coordinates]
        return gaps + ([] if labels else [f"{field.key}.labels"])
    return [] if values else [f"{field.key} never present"]


def coverage_gaps(kind: Kind, items: list[JSON]) -> list[str]:
    """Every member, edge and boolean of *kind*'s table the items do not show."""
    gaps = [gap for field in kind.fields for gap in _field_gaps(field, _values(items, field.key))]
    if kind.area is not None:
        areas = _areas(items, raised=False)
        if max(areas, default=0) != kind.area.maximum:
            gaps.append(f"area cap {kind.area.maximum} never met")
        if kind.area.raised_by is not None and (
            max(_areas(items, raised=True), default=0) != kind.area.raised_maximum
        ):
            gaps.append(f"raised area cap {kind.area.raised_maximum} never met")
    return gaps


def _areas(items: list[JSON], *, raised: bool) -> list[float]:
    return [
        p["width"] * p["height"]
        for p in (item["parameters"] for item in items)
        if "width" in p and "height" in p and (p.get("highResolution") is True) is raised
    ]


# --- deterministic -----------------------------------------------------------------------------


def test_same_seed_gives_the_same_artworks() -> None:
    assert make_artworks(50, seed=3) == make_artworks(50, seed=3)


def test_different_seeds_give_different_artworks() -> None:
    assert make_artworks(50, seed=3) != make_artworks(50, seed=4)


def test_an_artwork_depends_only_on_its_index_and_seed() -> None:
    assert make_artworks(5, seed=2, start=10) == make_artworks(15, seed=2)[10:]
    assert make_artwork(12, seed=2) == make_artworks(15, seed=2)[12]


# --- valid, lossless ---------------------------------------------------------------------------


def test_every_item_structures_to_its_kinds_class(history: list[JSON]) -> None:
    page = converter.structure_page(history, limit=N)
    assert page.invalid == ()
    assert len(page) == N
    assert [type(artwork) for artwork in page] == [CLASSES[item["artworkType"]] for item in history]


def test_every_kind_is_in_the_default_mix(by_kind: dict[str, list[JSON]]) -> None:
    assert all(by_kind[kind] for kind in ARTWORK_TYPES)
    assert max(by_kind, key=lambda kind: len(by_kind[kind])) == "selena"


def test_every_item_round_trips_exactly(history: list[JSON]) -> None:
    page = converter.structure_page(history)
    for artwork, item in zip(page, history, strict=True):
        assert json_identical(converter.unstructure(artwork), item)
        assert artwork.raw == item


def test_items_carry_undocumented_keys_at_the_top_and_inside_parameters(
    history: list[JSON],
) -> None:
    for item in history:
        assert set(item) - set(REQUIRED_KEYS), item["id"]
        assert set(item["parameters"]) - set(KINDS[item["artworkType"]].keys), item["id"]


def test_without_extras_items_hold_only_documented_keys() -> None:
    for item in make_artworks(300, seed=5, extras=False):
        assert list(item) == list(REQUIRED_KEYS)
        assert set(item["parameters"]) <= set(KINDS[item["artworkType"]].keys)
        assert json_identical(converter.unstructure(converter.structure_artwork(item)), item)


def test_items_are_json_serialisable(history: list[JSON]) -> None:
    assert orjson.loads(orjson.dumps(history)) == history


def test_ids_are_unique(history: list[JSON]) -> None:
    assert len({item["id"] for item in history}) == N


# --- covering ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ARTWORK_TYPES)
def test_the_default_mix_covers_every_member_and_edge_of_every_kind(
    by_kind: dict[str, list[JSON]], kind: str
) -> None:
    assert coverage_gaps(KINDS[kind], by_kind[kind]) == []


@pytest.mark.parametrize("kind", ARTWORK_TYPES)
def test_a_history_of_one_kind_covers_it_within_a_few_hundred_items(kind: str) -> None:
    items = make_artworks(N_ONE_KIND, seed=1, kinds=[kind])
    assert {item["artworkType"] for item in items} == {kind}
    page = converter.structure_page(items)
    assert page.invalid == ()
    assert all(
        json_identical(converter.unstructure(a), i) for a, i in zip(page, items, strict=True)
    )
    assert coverage_gaps(KINDS[kind], items) == []


def test_every_status_appears(history: list[JSON]) -> None:
    assert {item["status"] for item in history} == set(STATUSES)


@pytest.mark.parametrize("kind", [k for k in ARTWORK_TYPES if KINDS[k].area is not None])
def test_the_area_caps_are_met_exactly_and_never_exceeded(
    by_kind: dict[str, list[JSON]], kind: str
) -> None:
    items = by_kind[kind]
    assert max(_areas(items, raised=False)) == MAX_AREA
    area = KINDS[kind].area
    assert area is not None
    if area.raised_by is not None:
        assert max(_areas(items, raised=True)) == MAX_HIGH_RESOLUTION_AREA


def test_depth_map_never_pairs_v2_with_a_v3_only_model(by_kind: dict[str, list[JSON]]) -> None:
    rule = KINDS["depth_map"].members_when
    assert rule is not None
    v2 = [p for p in (i["parameters"] for i in by_kind["depth_map"]) if p.get(rule.when) is False]
    assert v2
    assert all(p.get(rule.key, rule.members[0]) in rule.members for p in v2)


@pytest.mark.parametrize("kind", ARTWORK_TYPES)
def test_every_parameter_is_sometimes_present_and_sometimes_absent(
    by_kind: dict[str, list[JSON]], kind: str
) -> None:
    items = by_kind[kind]
    for key in KINDS[kind].keys:
        present = sum(key in item["parameters"] for item in items)
        assert 0 < present < len(items), key


def test_a_kind_outside_the_twelve_makes_unknown_artworks() -> None:
    items = make_artworks(20, seed=3, kinds=["style_dna"])
    page = converter.structure_page(items)
    assert all(type(artwork) is UnknownArtwork for artwork in page)
    assert [converter.unstructure(artwork) for artwork in page] == items


def test_kind_weights_are_honoured() -> None:
    items = make_artworks(400, seed=9, kinds={"quantum": 1.0, "depth_map": 3.0})
    counts = {
        kind: sum(i["artworkType"] == kind for i in items) for kind in ("quantum", "depth_map")
    }
    assert sum(counts.values()) == 400
    assert counts["depth_map"] > 2 * counts["quantum"] > 0


# --- newest first ------------------------------------------------------------------------------


def test_newest_first(history: list[JSON]) -> None:
    moments = [moment(item["createdAt"]) for item in history]
    assert all(a > b for a, b in itertools.pairwise(moments))


@pytest.mark.parametrize("index", [0, 1, 10, 1999])
def test_artwork_i_is_i_times_37_seconds_before_the_epoch_to_the_second(index: int) -> None:
    # The generator adds a random millisecond fraction (under a second) to half the items.
    when = moment(make_artwork(index)["createdAt"])
    assert when.replace(microsecond=0) == EPOCH - dt.timedelta(seconds=37 * index)


def test_negative_indexes_are_newer_than_artwork_zero() -> None:
    newer = moment(make_artwork(-1)["createdAt"])
    assert newer > EPOCH


def test_timestamps_use_several_offsets(history: list[JSON]) -> None:
    offsets = {moment(item["createdAt"]).utcoffset() for item in history}
    assert len(offsets) >= 3
    assert dt.timedelta(0) in offsets
