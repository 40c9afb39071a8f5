"""The export file formats: JSONL (the API's JSON, one object a line) and CSV (flat rows).

JSONL is lossless: each line is the artwork exactly as the API sent it. CSV flattens: the
shared columns, then one column per documented parameter of the kinds the export can yield.

A writer turns one page of artworks into bytes, whole lines only, so a file cut after any page
is still valid; the export loop does the writing, flushing and byte counting.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Final, Literal, Protocol

import attrs

from .._converter import camel_case, wire_object
from .._fields import NESTED
from .._json import encode_json
from .._models import KINDS, Artwork

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "CSVWriter",
    "Format",
    "JSONLWriter",
    "Writer",
    "csv_columns",
    "writer_for",
]

Format = Literal["jsonl", "csv"]
FORMATS: Final[tuple[Format, ...]] = ("jsonl", "csv")

_ARTWORK_COLUMNS: Final = ("id", "artworkType", "status", "createdAt", "duration", "results")


def csv_columns(kinds: Collection[str] = ()) -> tuple[str, ...]:
    """The CSV header for an export of these kinds (all twelve when none are named).

    The shared columns come first, then each documented parameter by its wire name: the kinds
    in the order of ``ArtworkType``, each kind's parameters in model order, a name shared by
    several kinds (``prompt``, ``model``) once, where it first appears. Derived from the models,
    so a new parameter gets its column without an edit here; kinds unknown to the SDK add none.
    """
    names: dict[str, None] = {}
    for kind, cls in KINDS.items():
        if kinds and kind not in kinds:
            continue
        parameters = attrs.fields_dict(cls)["parameters"].metadata[NESTED]
        for field in attrs.fields(parameters):
            if field.init:
                names[camel_case(field.name)] = None
    return _ARTWORK_COLUMNS + tuple(names)


#: The CSV header of an export of every kind.
CSV_COLUMNS: Final[tuple[str, ...]] = csv_columns()


class Writer(Protocol):
    """Turns artworks into the bytes of a format."""

    def header(self) -> bytes:
        """The bytes that open a new file (empty when the format has no header)."""
        ...

    def page(self, artworks: Iterable[Artwork]) -> bytes:
        """The bytes of these artworks: complete lines, ready to append."""
        ...


class JSONLWriter:
    """One JSON object a line: exactly what the API sent, keys it does not document included."""

    def header(self) -> bytes:
        """JSONL has no header."""
        return b""

    def page(self, artworks: Iterable[Artwork]) -> bytes:
        """One line per artwork, each ending in a newline."""
        return b"".join(encode_json(wire_object(artwork), newline=True) for artwork in artworks)


class CSVWriter:
    """RFC 4180 CSV, UTF-8, one row per artwork under the header of :func:`csv_columns`.

    Args:
        kinds: The kinds the export can yield (its ``--type`` filter); all when empty.
    """

    def __init__(self, kinds: Collection[str] = ()) -> None:
        self._columns = csv_columns(kinds)
        self._parameter_columns = self._columns[len(_ARTWORK_COLUMNS) :]

    def header(self) -> bytes:
        """The header row."""
        return self._rows([list(self._columns)])

    def page(self, artworks: Iterable[Artwork]) -> bytes:
        """One row per artwork: the JSON the API sent, flattened."""
        columns = self._parameter_columns
        return self._rows([_row(wire_object(artwork), columns) for artwork in artworks])

    @staticmethod
    def _rows(rows: Sequence[Sequence[str]]) -> bytes:
        buffer = io.StringIO()
        # QUOTE_MINIMAL with "\r\n" is RFC 4180: quotes only where a comma, quote or newline is.
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue().encode("utf-8")


def _row(obj: Mapping[str, Any], parameter_columns: Sequence[str]) -> list[str]:
    # Every kind, unknown ones included, fills whichever columns its JSON has.
    parameters = obj.get("parameters")
    if not isinstance(parameters, Mapping):
        parameters = {}
    row = [_cell(obj.get(column)) for column in _ARTWORK_COLUMNS[:-1]]
    results = obj.get("results")
    if isinstance(results, list) and all(isinstance(url, str) for url in results):
        row.append(" ".join(results))
    else:
        row.append(_cell(results))
    row.extend(_cell(parameters.get(column)) for column in parameter_columns)
    return row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    # Numbers, and the odd nested value of an unknown kind, read as they do in the JSON.
    return encode_json(value).decode("utf-8")


def writer_for(fmt: Format, kinds: Collection[str] = ()) -> Writer:
    """The writer of a format name, for an export of these kinds (all when empty)."""
    return CSVWriter(kinds) if fmt == "csv" else JSONLWriter()
