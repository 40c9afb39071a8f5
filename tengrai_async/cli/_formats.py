"""The export file formats: JSONL (the API's JSON, one object a line) and CSV (flat rows).

A writer turns one page of artworks into bytes, whole lines only, so a file cut after any page
is still valid; the export loop does the writing, flushing and byte counting.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal, Protocol

import attrs
import orjson

from .. import converter
from .._converter import camel_case
from .._models import Artwork, SelenaParameters

__all__ = ["CSV_COLUMNS", "FORMATS", "CSVWriter", "Format", "JSONLWriter", "Writer", "writer_for"]

Format = Literal["jsonl", "csv"]
FORMATS: Final[tuple[Format, ...]] = ("jsonl", "csv")

_ARTWORK_COLUMNS: Final = ("id", "artworkType", "status", "createdAt", "duration", "results")
#: The CSV header: the artwork's scalar fields, then each parameter by its wire name, in model
#: order, derived from the model so that a new parameter gets its column without an edit here.
CSV_COLUMNS: Final[tuple[str, ...]] = _ARTWORK_COLUMNS + tuple(
    camel_case(field.name) for field in attrs.fields(SelenaParameters)
)
_PARAMETER_COLUMNS: Final = CSV_COLUMNS[len(_ARTWORK_COLUMNS) :]


class Writer(Protocol):
    """Turns artworks into the bytes of a format."""

    def header(self) -> bytes:
        """The bytes that open a new file (empty when the format has no header)."""
        ...

    def page(self, artworks: Iterable[Artwork]) -> bytes:
        """The bytes of these artworks: complete lines, ready to append."""
        ...


class JSONLWriter:
    """One JSON object a line: what the API sent, camelCase, with documented defaults filled."""

    def header(self) -> bytes:
        """JSONL has no header."""
        return b""

    def page(self, artworks: Iterable[Artwork]) -> bytes:
        """One line per artwork, each ending in a newline."""
        unstructure = converter.unstructure
        newline = orjson.OPT_APPEND_NEWLINE
        return b"".join(orjson.dumps(unstructure(artwork), option=newline) for artwork in artworks)


class CSVWriter:
    """RFC 4180 CSV, UTF-8, one row per artwork under the fixed :data:`CSV_COLUMNS` header."""

    def header(self) -> bytes:
        """The header row."""
        return self._rows([list(CSV_COLUMNS)])

    def page(self, artworks: Iterable[Artwork]) -> bytes:
        """One row per artwork."""
        unstructure = converter.unstructure
        return self._rows([_row(unstructure(artwork)) for artwork in artworks])

    @staticmethod
    def _rows(rows: Sequence[Sequence[str]]) -> bytes:
        buffer = io.StringIO()
        # QUOTE_MINIMAL with "\r\n" is RFC 4180: quotes only where a comma, quote or newline is.
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue().encode("utf-8")


def _row(obj: Mapping[str, Any]) -> list[str]:
    # An UnknownArtwork unstructures to its raw JSON: it fills whichever columns it has.
    parameters = obj.get("parameters")
    if not isinstance(parameters, Mapping):
        parameters = {}
    row = [_cell(obj.get(column)) for column in _ARTWORK_COLUMNS[:-1]]
    results = obj.get("results")
    if isinstance(results, list) and all(isinstance(url, str) for url in results):
        row.append(" ".join(results))
    else:
        row.append(_cell(results))
    row.extend(_cell(parameters.get(column)) for column in _PARAMETER_COLUMNS)
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
    return orjson.dumps(value).decode("utf-8")


def writer_for(fmt: Format) -> Writer:
    """The writer of a format name."""
    return CSVWriter() if fmt == "csv" else JSONLWriter()
