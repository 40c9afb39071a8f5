"""``artwork.raw`` is plain JSON data to every serializer, cannot be changed, and stays what the
API sent: from a page, from ``structure`` of a caller's dict, and for a model built by hand."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from aiohttp import web

from tengrai_async import (
    Artwork,
    ResponseValidationError,
    SelenaArtwork,
    SelenaParameters,
    UnknownArtwork,
    converter,
)
from tengrai_async._converter import make_converter
from tengrai_async._readonly import FrozenDict, FrozenList
from tengrai_async.testing import make_artworks

JSON = dict[str, Any]


def item(kind: str = "segmentation") -> JSON:
    """A valid artwork of *kind* with undocumented keys (objects and arrays among them)."""
    found = make_artworks(1, seed=3, kinds=[kind])[0]
    found["extra"] = {"nested": [{"deep": [1, 2]}], "n": 1}
    found["parameters"]["extraList"] = [[1], {"x": None}]
    return found


def page_artwork(obj: JSON) -> Artwork:
    """*obj* through the page path (bytes decoded by the SDK)."""
    return converter.loads_page(orjson.dumps([obj])).items[0]


STRUCTURED: dict[str, Callable[[JSON], Any]] = {
    "page": page_artwork,
    "structure(obj, Artwork)": lambda obj: converter.structure(obj, Artwork),
    "structure_artwork": converter.structure_artwork,
    "structure(obj, list[Artwork])": lambda obj: converter.structure([obj], list[Artwork])[0],
    "unknown kind": lambda obj: converter.structure({**obj, "artworkType": "future"}, Artwork),
}


@pytest.fixture(params=list(STRUCTURED))
def structure(request: pytest.FixtureRequest) -> Callable[[JSON], Any]:
    fn: Callable[[JSON], Any] = STRUCTURED[request.param]
    return fn


def expected_raw(obj: JSON, structure: Callable[[JSON], Any]) -> JSON:
    return {**obj, "artworkType": "future"} if structure is STRUCTURED["unknown kind"] else obj


def test_raw_is_a_dict_equal_to_the_json_sent(structure: Callable[[JSON], Any]) -> None:
    obj = item()
    sent = copy.deepcopy(expected_raw(obj, structure))
    raw = structure(obj).raw
    assert isinstance(raw, dict)
    assert type(raw) is FrozenDict
    assert raw == sent
    assert type(raw["parameters"]["extraList"]) is FrozenList
    assert type(raw["extra"]["nested"][0]) is FrozenDict


def test_every_serializer_takes_raw(structure: Callable[[JSON], Any]) -> None:
    obj = item()
    sent = copy.deepcopy(expected_raw(obj, structure))
    raw = structure(obj).raw
    assert json.loads(json.dumps(raw)) == sent
    assert orjson.loads(orjson.dumps(raw)) == sent
    assert orjson.dumps(raw) == orjson.dumps(sent)
    body = web.json_response(raw).body
    assert isinstance(body, bytes)
    assert json.loads(body) == sent
    assert copy.deepcopy(raw) == sent
    again = pickle.loads(pickle.dumps(raw))  # noqa: S301 - our own bytes
    assert again == sent
    assert type(again) is FrozenDict


def test_raw_cannot_be_changed_at_any_depth(structure: Callable[[JSON], Any]) -> None:
    obj = item()
    sent = copy.deepcopy(expected_raw(obj, structure))
    artwork = structure(obj)
    raw = artwork.raw
    for change in (
        lambda: raw.__setitem__("id", "x"),
        lambda: raw["parameters"].__setitem__("prompt", "x"),
        lambda: raw["parameters"]["extraList"].append(1),
        lambda: raw["extra"]["nested"][0]["deep"].__setitem__(0, 9),
        raw["results"].clear,
        lambda: raw.update(id="x"),
    ):
        with pytest.raises(TypeError, match="read-only"):
            change()
    assert artwork.raw == sent


def test_changing_the_callers_dict_afterwards_changes_neither_model_nor_raw() -> None:
    for name in ("structure(obj, Artwork)", "structure_artwork", "structure(obj, list[Artwork])"):
        obj = item()
        sent = copy.deepcopy(obj)
        artwork = STRUCTURED[name](obj)
        before = copy.deepcopy(artwork)
        obj["id"] = "changed"
        obj["results"].append("https://x.example/y")
        obj["parameters"]["extraList"][0].append(2)
        obj["parameters"]["textPrompt"] = "changed"
        obj["extra"]["nested"][0]["deep"].clear()
        obj["new"] = 1
        assert artwork.raw == sent, name
        assert artwork == before, name
        assert artwork.parameters.raw == sent["parameters"], name


def test_a_nested_model_of_a_page_artwork_shares_its_raw_with_the_artwork() -> None:
    artwork = page_artwork(item("selena"))
    assert isinstance(artwork, SelenaArtwork)
    raw = artwork.raw
    assert artwork.raw is raw  # frozen once, then kept
    assert artwork.parameters.raw is raw["parameters"]


def test_a_nested_model_read_first_keeps_its_own_raw() -> None:
    artwork = page_artwork(item("selena"))
    assert isinstance(artwork, SelenaArtwork)
    parameters = artwork.parameters.raw
    assert artwork.raw["parameters"] == parameters
    assert artwork.parameters.raw is parameters


def test_models_pickle_and_deepcopy_with_their_raw(structure: Callable[[JSON], Any]) -> None:
    obj = item()
    sent = copy.deepcopy(expected_raw(obj, structure))
    for artwork in (structure(obj), structure(copy.deepcopy(obj))):
        artwork_raw_read = artwork.raw  # frozen already, for one of the two
        again = pickle.loads(pickle.dumps(artwork))  # noqa: S301 - our own bytes
        assert again == artwork
        assert again.raw == sent == artwork_raw_read
        assert copy.deepcopy(artwork).raw == sent


def test_unstructure_gives_a_plain_mutable_copy_of_raw(structure: Callable[[JSON], Any]) -> None:
    obj = item()
    sent = copy.deepcopy(expected_raw(obj, structure))
    artwork = structure(obj)
    plain = converter.unstructure(artwork)
    assert plain == sent
    assert type(plain) is dict
    assert type(plain["parameters"]["extraList"]) is list
    plain["parameters"]["extraList"].append(1)
    assert artwork.raw == sent


def test_a_hand_built_models_raw_is_its_canonical_json_frozen() -> None:
    params = SelenaParameters(prompt="a fox")
    raw = params.raw
    assert type(raw) is FrozenDict
    assert raw == converter.unstructure(params)
    with pytest.raises(TypeError):
        raw["prompt"] = "x"


def test_an_unknown_kind_keeps_its_parameters_frozen_as_part_of_raw() -> None:
    obj: JSON = {"artworkType": "future", "parameters": {"a": [1]}, "id": "x"}
    artwork = converter.structure(obj, Artwork)
    assert isinstance(artwork, UnknownArtwork)
    assert type(artwork.parameters) is FrozenDict
    assert artwork.parameters is artwork.raw["parameters"]
    obj["parameters"]["a"].append(2)
    assert artwork.raw == {"artworkType": "future", "parameters": {"a": [1]}, "id": "x"}


def test_structure_refuses_a_callers_dict_nested_too_deep_with_its_path() -> None:
    obj = item("selena")
    deep: Any = 1
    for _ in range(200):
        deep = [deep]
    obj["parameters"]["deep"] = deep
    with pytest.raises(ResponseValidationError, match="nested at most") as info:
        converter.structure(obj, Artwork)
    assert info.value.path == "$.parameters.deep"
    unknown = {"artworkType": "future", "deep": deep}
    with pytest.raises(ResponseValidationError, match="nested at most"):
        converter.structure(unknown, Artwork)


def test_a_structure_hook_registered_later_is_used_for_artwork() -> None:
    conv = make_converter()
    obj = item("selena")
    assert isinstance(conv.structure(obj, Artwork), SelenaArtwork)
    conv.register_structure_hook(Artwork, lambda value, _: ("mine", value["id"]))
    mine: Any = conv.structure(obj, Artwork)
    assert mine == ("mine", obj["id"])
    mine = conv.structure_artwork(obj)
    assert mine == ("mine", obj["id"])


def test_raw_structures_again_into_an_equal_model(structure: Callable[[JSON], Any]) -> None:
    artwork = structure(item())
    raw = artwork.raw
    assert converter.structure(raw, Artwork) == artwork
    assert converter.structure_artwork(raw).raw == raw
    # A dict of the caller's own, made from raw: its read-only parts read as plain JSON.
    changed = converter.structure({**raw, "duration": 2.5}, Artwork)
    assert changed.duration == 2.5
    assert changed.raw == {**raw, "duration": 2.5}
    page = converter.structure_page([raw, {**raw}])
    assert list(page.items) == [artwork, artwork]
    assert [again.raw for again in page.items] == [raw, raw]
    assert page.items[0].raw is raw  # frozen already: kept as it is


def test_structure_of_a_list_of_artworks_refuses_what_is_not_an_array() -> None:
    with pytest.raises(ResponseValidationError, match="a JSON array of artworks"):
        converter.structure({"artworkType": "selena"}, list[Artwork])
    with pytest.raises(ResponseValidationError) as info:
        converter.structure([item("selena"), {"artworkType": "selena"}], list[Artwork])
    assert info.value.path.startswith("$[1].")
    assert info.value.offset == 1
