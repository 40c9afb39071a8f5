"""JSON the API may send that orjson alone would refuse or rewrite."""

from __future__ import annotations

import json

import orjson
import pytest

from tengrai_async import MalformedResponseError, converter
from tengrai_async._json import decode_json, encode_json
from tengrai_async._readonly import MAX_DEPTH
from tengrai_async.cli._formats import JSONLWriter
from tengrai_async.testing import make_artworks

LONE = '{"prompt": "a cat \\ud83d", "n": 1}'


def test_a_lone_surrogate_is_decoded_instead_of_failing_the_page() -> None:
    assert decode_json(LONE.encode()) == json.loads(LONE)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(LONE)


def test_a_lone_surrogate_is_encoded_back_as_its_escape() -> None:
    value = json.loads(LONE)
    assert json.loads(encode_json(value)) == value
    assert encode_json(value, newline=True).endswith(b"\n")
    assert b"\\ud83d" in encode_json(value)


def test_an_item_with_a_lone_surrogate_goes_through_a_page_and_the_export_exactly() -> None:
    items = make_artworks(3, kinds=["selena"])
    body = orjson.dumps(items).replace(b'"createdAt"', b'"note":"x\\udc00y","createdAt"', 1)
    page = converter.loads_page(body)
    assert page.count == 3
    line = JSONLWriter().page(page.items).splitlines()[0]
    assert json.loads(line) == json.loads(body)[0]


@pytest.mark.parametrize("body", [b"[NaN]", b"[Infinity]", b'{"a": -Infinity}', b"not json", b""])
def test_what_is_not_json_stays_malformed(body: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        decode_json(body, offset=7)


def test_plain_json_round_trips_byte_for_byte_through_orjson() -> None:
    value = {"a": [1, 2.5, None, True], "b": "ünï ✓"}
    assert encode_json(value) == orjson.dumps(value)


@pytest.mark.parametrize("as_text", [False, True])
def test_a_long_body_of_two_values_is_malformed_not_its_first_value(as_text: bool) -> None:
    # Long enough to be probed inside arrays: "[...],[...]" there would read as one value.
    page = orjson.dumps(make_artworks(40, kinds=["selena"]))
    body = page + b"," + page
    with pytest.raises(MalformedResponseError, match="a JSON body"):
        decode_json(body.decode() if as_text else body)


@pytest.mark.parametrize("as_text", [False, True])
def test_a_long_page_decodes_as_it_is_as_bytes_and_as_text(as_text: bool) -> None:
    items = make_artworks(40, kinds=["selena"])
    body = orjson.dumps(items)
    assert decode_json(body.decode() if as_text else body) == items


def test_the_standard_librarys_reading_is_held_to_the_depth_limit_too() -> None:
    # A lone surrogate sends the body to the standard library; its depth is checked there.
    deep = "[" * (MAX_DEPTH + 1) + '"x\\udc00y"' + "]" * (MAX_DEPTH + 1)
    with pytest.raises(MalformedResponseError, match=f"nested at most {MAX_DEPTH} levels"):
        decode_json(deep.encode())
    shallow = "[" * MAX_DEPTH + '"x\\udc00y"' + "]" * MAX_DEPTH
    assert decode_json(shallow.encode()) == json.loads(shallow)
