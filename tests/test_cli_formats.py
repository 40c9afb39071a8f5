from __future__ import annotations

import csv
import io
from typing import Any

import attrs
import orjson
import pytest
from strategies import DEFAULTS

from tengrai_async import Artwork, SelenaArtwork, SelenaParameters, converter
from tengrai_async._codegen import camel_case
from tengrai_async._models import KINDS
from tengrai_async.cli._formats import (
    CSV_COLUMNS,
    CSVWriter,
    JSONLWriter,
    csv_columns,
    writer_for,
)
from tengrai_async.testing import make_artwork, make_artworks


def structured(objs: list[dict[str, Any]]) -> list[Artwork]:
    return [converter.structure(obj, Artwork) for obj in objs]


def parse_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


SHARED = ("id", "artworkType", "status", "createdAt", "duration", "results")


def test_csv_header_of_selena_is_the_shared_fields_then_its_parameters_in_model_order() -> None:
    columns = csv_columns(["selena"])
    assert columns[:6] == SHARED
    assert len(columns) == 6 + len(attrs.fields(SelenaParameters)) - 1  # the hidden _raw slot
    assert columns[6:9] == ("model", "batch", "promptMode")
    assert columns[-4:] == ("transparentBackground", "colorTone", "cameraAngle", "webhook")
    assert CSVWriter(["selena"]).header() == (",".join(columns) + "\r\n").encode()


def test_csv_header_of_every_kind_names_each_parameter_once_where_it_first_appears() -> None:
    assert CSV_COLUMNS == csv_columns() == csv_columns(list(KINDS))
    assert CSV_COLUMNS[: len(csv_columns(["selena"]))] == csv_columns(["selena"])
    assert len(set(CSV_COLUMNS)) == len(CSV_COLUMNS)
    for kind, cls in KINDS.items():
        parameters = attrs.fields_dict(cls)["parameters"].metadata["tengrai_async.nested"]
        for field in attrs.fields(parameters):
            if field.init:
                assert camel_case(field.name) in CSV_COLUMNS, (kind, field.name)
    # Kinds come in ArtworkType order: depth_map's own parameters close the header.
    assert CSV_COLUMNS[-3:] == ("resolutionLowerLimit", "invertDepth", "usePostResize")
    assert CSVWriter().header() == (",".join(CSV_COLUMNS) + "\r\n").encode()


def test_csv_header_of_some_kinds_has_only_their_parameters_and_ignores_unknown_kinds() -> None:
    columns = csv_columns(["upscaling_v2", "vega"])
    assert columns == (*SHARED, "imageUrl", "scaleFactor", "webhook")
    assert writer_for("csv", ["upscaling_v2"]).header() == (",".join(columns) + "\r\n").encode()


def test_jsonl_line_is_exactly_the_json_the_api_sent() -> None:
    objs = make_artworks(200)
    objs[3]["parameters"]["deeply"] = {"nested": [{"key": None}, 1.25]}
    lines = JSONLWriter().page(structured(objs)).split(b"\n")
    assert lines[-1] == b""
    assert [orjson.loads(line) for line in lines[:-1]] == objs
    assert {obj["artworkType"] for obj in objs} == set(KINDS)
    assert JSONLWriter().header() == b""


def test_jsonl_adds_no_default_the_api_did_not_send() -> None:
    obj = make_artwork(0, kinds=["selena"], extras=False)
    obj["parameters"] = {}
    (line,) = JSONLWriter().page(structured([obj])).splitlines()
    assert orjson.loads(line) == obj


def test_jsonl_of_a_hand_built_artwork_is_its_canonical_json_with_defaults() -> None:
    (artwork,) = structured([make_artwork(0, kinds=["selena"])])
    assert isinstance(artwork, SelenaArtwork)
    rebuilt = attrs.evolve(artwork, parameters=SelenaParameters())
    (line,) = JSONLWriter().page([rebuilt]).splitlines()
    assert orjson.loads(line)["parameters"] == DEFAULTS
    assert orjson.loads(line) == converter.unstructure(rebuilt)


def test_csv_row_spells_booleans_and_leaves_none_empty() -> None:
    obj = make_artwork(1, kinds=["selena"])
    obj["parameters"] = {"nsfw": True, "transparentBackground": False, "width": 512}
    obj["results"] = ["https://a.example/1.png", "https://a.example/2.png"]
    obj["duration"] = 1.5
    (row,) = parse_csv(CSVWriter().header() + CSVWriter().page(structured([obj])))
    assert row["nsfw"] == "true"
    assert row["transparentBackground"] == "false"
    assert row["width"] == "512"
    assert row["height"] == ""
    assert row["colorTone"] == ""
    assert row["batch"] == ""  # what the API sent: no default is added
    assert row["duration"] == "1.5"
    assert row["results"] == "https://a.example/1.png https://a.example/2.png"
    assert row["createdAt"] == obj["createdAt"]


@pytest.mark.parametrize(
    "prompt",
    ['say "cheese"', "a, b and c", "two\nlines", "carriage\r\nreturn", "ünïcödé ✓", "  spaced  "],
)
def test_csv_quotes_per_rfc_4180_and_round_trips(prompt: str) -> None:
    obj = make_artwork(2, kinds=["selena"])
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


def test_csv_rows_of_every_kind_hold_the_values_the_api_sent() -> None:
    objs = make_artworks(300)
    rows = parse_csv(CSVWriter().header() + CSVWriter().page(structured(objs)))
    assert len(rows) == len(objs)
    for obj, row in zip(objs, rows, strict=True):
        assert row["id"] == obj["id"]
        assert row["artworkType"] == obj["artworkType"]
        for key, value in obj["parameters"].items():
            if key in row and isinstance(value, str):
                assert row[key] == value
        for column in CSV_COLUMNS[6:]:
            if column not in obj["parameters"]:
                assert row[column] == ""


def test_csv_writes_a_nested_parameter_as_its_json() -> None:
    obj = make_artwork(0, kinds=["segmentation"])
    obj["parameters"]["pointsPositive"] = {"points": [[0.5, 1]], "labels": [1]}
    (row,) = parse_csv(CSVWriter().header() + CSVWriter().page(structured([obj])))
    assert orjson.loads(row["pointsPositive"]) == {"points": [[0.5, 1]], "labels": [1]}
