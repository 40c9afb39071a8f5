"""The read-only views behind ``artwork.raw``: no copy, no depth changeable, plain equality."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from strategies import json_values

from tengrai_async._readonly import JSONArrayView, JSONObjectView, thaw, view

DOC: dict[str, Any] = {"a": [1, {"b": [2, 3]}], "c": {"d": None}, "e": "text"}


def test_view_wraps_objects_and_arrays_and_returns_scalars_as_they_are() -> None:
    assert type(view({})) is JSONObjectView
    assert type(view([])) is JSONArrayView
    for scalar in (None, True, 1, 1.5, "x"):
        assert view(scalar) is scalar


def test_a_view_is_a_mapping_or_sequence_but_not_a_dict_or_list() -> None:
    raw = view(DOC)
    assert isinstance(raw, Mapping)
    assert not isinstance(raw, dict)
    assert isinstance(raw["a"], Sequence)
    assert not isinstance(raw["a"], list)


def test_a_view_takes_no_copy() -> None:
    data: dict[str, Any] = {"x": [1]}
    raw = view(data)
    assert raw._data is data
    assert raw["x"]._data is data["x"]


def test_views_compare_equal_to_what_they_wrap_both_ways() -> None:
    raw = view(DOC)
    assert raw == DOC
    assert DOC == raw  # noqa: SIM300 - the reflected comparison is the point
    assert raw == view(thaw(DOC))
    assert raw["a"] == [1, {"b": [2, 3]}]
    assert [1, {"b": [2, 3]}] == raw["a"]  # noqa: SIM300 - reflected, on purpose
    assert raw != {**DOC, "e": "other"}
    assert raw["a"] != (1, {"b": [2, 3]})


def test_views_are_unhashable_like_the_dict_and_list_they_wrap() -> None:
    with pytest.raises(TypeError):
        hash(view(DOC))
    with pytest.raises(TypeError):
        hash(view([1]))


def test_reading_works_like_the_plain_json() -> None:
    raw = view(DOC)
    assert list(raw) == ["a", "c", "e"]
    assert len(raw) == 3
    assert "a" in raw
    assert "z" not in raw
    assert raw.get("z") is None
    assert raw["a"][1]["b"][-1] == 3
    assert raw["a"][0:1] == [1]
    assert type(raw["a"][0:1]) is JSONArrayView
    assert list(raw["a"][1]["b"]) == [2, 3]
    assert repr(raw) == repr(DOC)
    with pytest.raises(KeyError):
        raw["z"]
    with pytest.raises(IndexError):
        raw["a"][5]


def test_no_depth_can_be_changed() -> None:
    raw = view(thaw(DOC))
    with pytest.raises(TypeError):
        raw["a"] = 1
    with pytest.raises(TypeError):
        raw["a"][0] = 2
    with pytest.raises(TypeError):
        raw["a"][1]["b"][0] = 2
    with pytest.raises(TypeError):
        del raw["c"]["d"]
    with pytest.raises(AttributeError):
        raw["a"].append(4)
    with pytest.raises(AttributeError):
        raw.update({})
    with pytest.raises(AttributeError):
        raw.extra = 1
    assert raw == DOC


def test_thaw_copies_plain_json_or_a_view_at_every_depth() -> None:
    for source in (DOC, view(DOC)):
        copy = thaw(source)
        assert copy == DOC
        assert type(copy) is dict
        assert type(copy["a"]) is list
        assert type(copy["a"][1]) is dict
        copy["a"][1]["b"].append(4)
        assert DOC["a"][1]["b"] == [2, 3]


@settings(max_examples=60, deadline=None)
@given(json_values)
def test_any_json_views_equal_and_thaws_back_to_itself(value: Any) -> None:
    wrapped = view(value)
    assert wrapped == value
    assert orjson.dumps(thaw(wrapped)) == orjson.dumps(value)
