"""The read-only JSON behind ``artwork.raw``: plain dict and list to readers, unchangeable."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import orjson
import pytest
from aiohttp import web
from hypothesis import given, settings
from strategies import json_values

from tengrai_async import ValidationError
from tengrai_async._readonly import MAX_DEPTH, FrozenDict, FrozenList, freeze, thaw

DOC: dict[str, Any] = {"a": [1, {"b": [2, 3]}], "c": {"d": None}, "e": "text"}


def frozen_doc() -> Any:
    return freeze(copy.deepcopy(DOC))


def test_freeze_gives_dict_and_list_subclasses_at_every_depth() -> None:
    raw = frozen_doc()
    assert type(raw) is FrozenDict
    assert type(raw["a"]) is FrozenList
    assert type(raw["a"][1]) is FrozenDict
    assert type(raw["a"][1]["b"]) is FrozenList
    assert isinstance(raw, dict)
    assert isinstance(raw["a"], list)
    for scalar in (None, True, 1, 1.5, "x"):
        assert freeze(scalar) is scalar


def test_freeze_copies_so_the_source_changing_later_changes_nothing() -> None:
    source = copy.deepcopy(DOC)
    raw = freeze(source)
    source["a"][1]["b"].append(4)
    source["c"]["d"] = "changed"
    source["new"] = 1
    assert raw == DOC


def test_a_frozen_value_is_frozen_again_as_it_is() -> None:
    raw = frozen_doc()
    assert freeze(raw) is raw
    assert freeze(raw["a"]) is raw["a"]


def test_frozen_json_equals_the_plain_json_both_ways() -> None:
    raw = frozen_doc()
    assert raw == DOC
    assert DOC == raw  # noqa: SIM300 - the reflected comparison is the point
    assert raw["a"] == [1, {"b": [2, 3]}]
    assert raw != {**DOC, "e": "other"}
    assert raw["a"] != (1, {"b": [2, 3]})
    assert repr(raw) == repr(DOC)


def test_frozen_json_is_unhashable_like_dict_and_list() -> None:
    with pytest.raises(TypeError):
        hash(frozen_doc())
    with pytest.raises(TypeError):
        hash(freeze([1]))


def _dict_changes(raw: Any) -> list[Any]:
    return [
        lambda: raw.__setitem__("a", 1),
        lambda: raw.__delitem__("e"),
        raw.clear,
        lambda: raw.pop("e"),
        lambda: raw.pop("missing", None),
        raw.popitem,
        lambda: raw.setdefault("z", 1),
        lambda: raw.update({"z": 1}),
        lambda: raw.update(z=1),
        lambda: raw.__ior__({"z": 1}),
        lambda: raw.__init__({"z": 1}),
    ]


def _list_changes(items: Any) -> list[Any]:
    return [
        lambda: items.__setitem__(0, 9),
        lambda: items.__setitem__(slice(0, 1), [9]),
        lambda: items.__delitem__(0),
        lambda: items.append(9),
        lambda: items.extend([9]),
        lambda: items.insert(0, 9),
        items.pop,
        lambda: items.remove(1),
        items.clear,
        items.sort,
        items.reverse,
        lambda: items.__iadd__([9]),
        lambda: items.__imul__(2),
        lambda: items.__init__([9]),
    ]


def test_every_change_to_an_object_or_array_raises_a_type_error_at_every_depth() -> None:
    raw = frozen_doc()
    changes = [
        *_dict_changes(raw),
        *_dict_changes(raw["c"]),
        *_dict_changes(raw["a"][1]),
        *_list_changes(raw["a"]),
        *_list_changes(raw["a"][1]["b"]),
    ]
    for change in changes:
        with pytest.raises(TypeError, match="read-only"):
            change()
    assert raw == DOC


def test_augmented_assignment_cannot_change_a_frozen_array() -> None:
    raw = frozen_doc()
    items = raw["a"]
    with pytest.raises(TypeError):
        items += [9]
    with pytest.raises(TypeError):
        items *= 2
    assert raw["a"] == DOC["a"]


def test_copies_that_python_makes_are_plain_and_leave_the_frozen_json_alone() -> None:
    raw = frozen_doc()
    shallow = dict(raw)
    shallow["e"] = "mine"
    merged = raw | {"e": "mine"}
    part = raw["a"][0:1]
    part.append(5)
    assert type(shallow) is dict
    assert type(merged) is dict
    assert type(part) is list
    assert raw == DOC


def test_json_dumps_and_orjson_write_frozen_json_as_the_plain_json() -> None:
    raw = frozen_doc()
    assert json.dumps(raw) == json.dumps(DOC)
    assert json.dumps(raw, indent=2) == json.dumps(DOC, indent=2)  # the pure-Python encoder
    assert orjson.dumps(raw) == orjson.dumps(DOC)


def test_aiohttp_json_response_takes_frozen_json() -> None:
    response = web.json_response(frozen_doc())
    assert isinstance(response.body, bytes)
    assert json.loads(response.body) == DOC


def test_copy_and_deepcopy_give_the_unchangeable_value_back() -> None:
    raw = frozen_doc()
    assert copy.copy(raw) is raw
    assert copy.deepcopy(raw) is raw
    assert copy.deepcopy({"held": raw})["held"] is raw
    assert copy.copy(raw["a"]) is raw["a"]
    assert copy.deepcopy(raw["a"]) is raw["a"]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trips_frozen_json_still_frozen(protocol: int) -> None:
    again = pickle.loads(pickle.dumps(frozen_doc(), protocol=protocol))  # noqa: S301 - ours
    assert again == DOC
    assert type(again) is FrozenDict
    assert type(again["a"]) is FrozenList
    assert type(again["a"][1]) is FrozenDict
    with pytest.raises(TypeError):
        again["a"][1]["b"].append(4)


def test_thaw_gives_a_plain_mutable_copy_at_every_depth() -> None:
    for source in (DOC, frozen_doc()):
        plain = thaw(source)
        assert plain == DOC
        assert type(plain) is dict
        assert type(plain["a"]) is list
        assert type(plain["a"][1]) is dict
        plain["a"][1]["b"].append(4)
        assert DOC["a"][1]["b"] == [2, 3]


def test_other_dict_and_list_subclasses_are_frozen_as_plain_ones() -> None:
    class Mine(dict[str, Any]):
        pass

    raw = freeze({"m": Mine(x=[1])})
    assert type(raw["m"]) is FrozenDict
    assert type(raw["m"]["x"]) is FrozenList


def _nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def test_freeze_and_thaw_refuse_json_nested_deeper_than_the_limit_without_recursing() -> None:
    assert freeze(_nested(MAX_DEPTH)) == _nested(MAX_DEPTH)
    assert thaw(_nested(MAX_DEPTH)) == _nested(MAX_DEPTH)
    for too_deep in (_nested(MAX_DEPTH + 1), _nested(5_000)):
        with pytest.raises(ValidationError, match=f"at most {MAX_DEPTH} levels"):
            freeze(too_deep)
        with pytest.raises(ValidationError, match=f"at most {MAX_DEPTH} levels"):
            thaw(too_deep)


@settings(max_examples=60, deadline=None)
@given(json_values)
def test_any_json_freezes_equal_and_thaws_back_to_itself(value: Any) -> None:
    frozen = freeze(value)
    assert frozen == value
    assert orjson.dumps(frozen) == orjson.dumps(value)
    assert json.dumps(frozen) == json.dumps(value)
    assert orjson.dumps(thaw(frozen)) == orjson.dumps(value)
    assert pickle.loads(pickle.dumps(frozen)) == value  # noqa: S301 - our own bytes
