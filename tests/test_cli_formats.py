from __future__ import annotations

import csv
import io
from typing import Any

import attrs
import orjson
import pytest
from strategies import DEFAULTS

from tengrai_async import Artwork, SelenaParameters, converter
from tengrai_async.cli._formats import CSV_COLUMNS, CSVWriter, JSONLWriter, writer_for
from tengrai_async.testing import make_artwork, make_artworks


def structured(objs: list[dict[str, Any]]) -> list[Artwork]:
    return [converter.structure(obj, Artwork) for obj in objs]  # type: ignore[arg-type]


def parse_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_csv_header_is_the_artwork_fields_then_every_parameter_in_model_order() -> None:
    assert CSV_COLUMNS[:6] == ("id", "artworkType", "status", "createdAt", "duration", "results")
    assert len(CSV_COLUMNS) == 6 + len(attrs.fields(SelenaParameters))
    assert CSV_COLUMNS[6:9] == ("model", "batch", "promptMode")
    assert CSV_COLUMNS[-4:] == ("transparentBackground", "colorTone", "cameraAngle", "webhook")
    assert CSVWriter().header() == (",".join(CSV_COLUMNS) + "\r\n").encode()


def test_jsonl_line_is_the_unstructured_artwork() -> None:
    artworks = structured(make_artworks(50))
    lines = JSONLWriter().page(artworks).split(b"\n")
    assert lines[-1] == b""
    assert [orjson.loads(line) for line in lines[:-1]] == [
        converter.unstructure(a) for a in artworks
    ]
    assert JSONLWriter().header() == b""


def test_jsonl_fills_documented_defaults() -> None:
    obj = make_artwork(0)
    obj["parameters"] = {}
    (line,) = JSONLWriter().page(structured([obj])).splitlines()
    assert orjson.loads(line)["parameters"] == DEFAULTS


def test_csv_row_spells_booleans_and_leaves_none_empty() -> None:
    obj = make_artwork(1)
    obj["parameters"] = {"nsfw": True, "transparentBackground": False, "width": 512}
    obj["results"] = ["https://a.example/1.png", "https://a.example/2.png"]
    obj["duration"] = 1.5
    (row,) = parse_csv(CSVWriter().header() + CSVWriter().page(structured([obj])))
    assert row["nsfw"] == "true"
    assert row["transparentBackground"] == "false"
    assert row["width"] == "512"
    assert row["height"] == ""
    assert row["colorTone"] == ""
    assert row["batch"] == "2"  # the documented default
    assert row["duration"] == "1.5"
    assert row["results"] == "https://a.example/1.png https://a.example/2.png"
    assert row["createdAt"] == obj["createdAt"]


@pytest.mark.parametrize(
    "prompt",
    ['say "cheese"', "a, b and c", "two\nlines", "carriage\r\nreturn", "ünïcödé ✓", "  spaced  "],
)
def test_csv_quotes_per_rfc_4180_and_round_trips(prompt: str) -> None:
    obj = make_artwork(2)
    obj["parameters"] = {"prompt": prompt}
    data = CSVWriter().page(structured([obj]))
    assert data.endswith(b"\r\n")
    if any(c in prompt for c in ',"\n\r'):
        assert b'"' + prompt.replace('"', '""').encode() + b'"' in data
    (row,) = parse_csv(CSVWriter().header() + data)
    assert row["prompt"] == prompt


def test_csv_unknown_artwork_fills_what_its_raw_json_has() -> None:
    raw = {
        "artworkType": "zeta",
        "id": "not-a-uuid",
        "status": "brand-new",
        "parameters": {"prompt": "hello", "nsfw": True, "extra": 1, "style": {"nested": [1]}},
        "results": [1, 2],
    }
    (row,) = parse_csv(CSVWriter().header() + CSVWriter().page(structured([raw])))
    assert row["artworkType"] == "zeta"
    assert row["id"] == "not-a-uuid"
    assert row["status"] == "brand-new"
    assert row["prompt"] == "hello"
    assert row["nsfw"] == "true"
    assert row["style"] == '{"nested":[1]}'
    assert row["results"] == "[1,2]"
    assert row["createdAt"] == ""
    assert row["duration"] == ""
    assert "extra" not in row


def test_csv_unknown_artwork_without_parameters_object() -> None:
    raw = {"artworkType": "zeta", "id": None, "parameters": "odd"}
    (row,) = parse_csv(CSVWriter().header() + CSVWriter().page(structured([raw])))
    assert row["prompt"] == ""
    assert row["id"] == ""


def test_empty_page_writes_nothing() -> None:
    assert CSVWriter().page([]) == b""
    assert JSONLWriter().page([]) == b""


def test_writer_for_picks_the_format() -> None:
    assert isinstance(writer_for("csv"), CSVWriter)
    assert isinstance(writer_for("jsonl"), JSONLWriter)
