"""The synthetic data of ``tengrai_async.testing``: deterministic, valid, covering, newest first."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import orjson
import pytest
from strategies import (
    BOOLEAN_PARAMETERS,
    JSON,
    MAX_AREA,
    PARAMETER_ENUMS,
    PARAMETER_KEYS,
    RANGES,
    STATUSES,
    with_defaults,
)

from tengrai_async import SelenaArtwork, converter
from tengrai_async.testing import EPOCH, make_artwork, make_artworks

N = 2000


@pytest.fixture(scope="module")
def history() -> list[JSON]:
    return make_artworks(N, seed=7)


def _values(history: list[JSON], key: str) -> set[Any]:
    return {item["parameters"][key] for item in history if key in item["parameters"]}


def test_same_seed_gives_the_same_artworks() -> None:
    assert make_artworks(50, seed=3) == make_artworks(50, seed=3)


def test_different_seeds_give_different_artworks() -> None:
    assert make_artworks(50, seed=3) != make_artworks(50, seed=4)


def test_an_artwork_depends_only_on_its_index_and_seed() -> None:
    assert make_artworks(5, seed=2, start=10) == make_artworks(15, seed=2)[10:]
    assert make_artwork(12, seed=2) == make_artworks(15, seed=2)[12]


def test_every_item_structures_without_error(history: list[JSON]) -> None:
    page = converter.structure_page(history, limit=N)
    assert page.invalid == ()
    assert len(page) == N
    assert all(isinstance(item, SelenaArtwork) for item in page)


def test_every_item_round_trips_with_defaults_filled(history: list[JSON]) -> None:
    page = converter.structure_page(history)
    assert [converter.unstructure(item) for item in page] == [with_defaults(x) for x in history]


def test_items_are_json_serialisable(history: list[JSON]) -> None:
    assert orjson.loads(orjson.dumps(history)) == history


def test_ids_are_unique(history: list[JSON]) -> None:
    assert len({item["id"] for item in history}) == N


@pytest.mark.parametrize("key", sorted(PARAMETER_ENUMS))
def test_every_enum_member_appears(history: list[JSON], key: str) -> None:
    assert _values(history, key) == set(PARAMETER_ENUMS[key])


def test_every_status_appears(history: list[JSON]) -> None:
    assert {item["status"] for item in history} == set(STATUSES)


@pytest.mark.parametrize("key", sorted(RANGES))
def test_both_edges_of_every_range_appear(history: list[JSON], key: str) -> None:
    low, high = RANGES[key]
    values = _values(history, key)
    assert {low, high} <= values
    assert all(low <= value <= high for value in values)


def test_the_area_limit_is_met_exactly_and_never_exceeded(history: list[JSON]) -> None:
    areas = {
        item["parameters"]["width"] * item["parameters"]["height"]
        for item in history
        if {"width", "height"} <= set(item["parameters"])
    }
    assert max(areas) == MAX_AREA


@pytest.mark.parametrize("key", BOOLEAN_PARAMETERS)
def test_both_booleans_appear(history: list[JSON], key: str) -> None:
    assert _values(history, key) == {True, False}


@pytest.mark.parametrize("key", sorted(PARAMETER_KEYS))
def test_every_parameter_is_sometimes_present_and_sometimes_absent(
    history: list[JSON], key: str
) -> None:
    present = sum(key in item["parameters"] for item in history)
    assert 0 < present < N


def test_newest_first(history: list[JSON]) -> None:
    moments = [dt.datetime.fromisoformat(item["createdAt"]) for item in history]
    assert all(a > b for a, b in itertools.pairwise(moments))


@pytest.mark.parametrize("index", [0, 1, 10, 1999])
def test_artwork_i_is_i_times_37_seconds_before_the_epoch_to_the_second(index: int) -> None:
    # The generator adds a random millisecond fraction (under a second) to half the items.
    moment = dt.datetime.fromisoformat(make_artwork(index)["createdAt"])
    assert moment.replace(microsecond=0) == EPOCH - dt.timedelta(seconds=37 * index)


def test_negative_indexes_are_newer_than_artwork_zero() -> None:
    newer = dt.datetime.fromisoformat(make_artwork(-1)["createdAt"])
    assert newer > EPOCH


def test_timestamps_use_several_offsets(history: list[JSON]) -> None:
    offsets = {dt.datetime.fromisoformat(item["createdAt"]).utcoffset() for item in history}
    assert len(offsets) >= 3
    assert dt.timedelta(0) in offsets
