"""The gallery's query string: the filters ``q``, ``type``, ``status``, ``since``, ``before``.

Parsed once for the HTML pages and the JSON API alike; a value that cannot be read is a 400
that says which and why (the search text never is: any text is words to look for).
"""

from __future__ import annotations

import datetime as _dt
import urllib.parse
from collections.abc import Mapping
from typing import Final

import attrs
from multidict import MultiMapping

from ..archive._reader import Filters

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "BadQueryError", "Query", "parse_moment", "parse_query"]

#: Artworks per page of the grid (and of the JSON API when ``limit`` is left out).
DEFAULT_LIMIT: Final = 60
#: The largest ``limit`` the JSON API takes.
MAX_LIMIT: Final = 500


class BadQueryError(ValueError):
    """A query parameter that cannot be read; the message says which."""


@attrs.frozen(kw_only=True)
class Query:
    """A request's filters, page key and page size."""

    filters: Filters
    older: str | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def filtered(self) -> bool:
        """Whether any filter is set."""
        return self.filters != Filters()

    def link(self, path: str, **changes: str | None) -> str:
        """*path* with this query's filters, and *changes* (a ``None`` value drops the key)."""
        pairs: list[tuple[str, str]] = []
        filters = self.filters
        if filters.q:
            pairs.append(("q", filters.q))
        pairs += [("type", kind) for kind in filters.types]
        pairs += [("status", status) for status in filters.statuses]
        for key, moment in (("since", filters.since), ("before", filters.before)):
            if moment is not None:
                pairs.append((key, moment.isoformat().replace("+00:00", "Z")))
        if self.limit != DEFAULT_LIMIT:
            pairs.append(("limit", str(self.limit)))
        for key, value in changes.items():
            pairs = [pair for pair in pairs if pair[0] != key]
            if value is not None:
                pairs.append((key, value))
        return path + ("?" + urllib.parse.urlencode(pairs) if pairs else "")


def parse_moment(text: str) -> _dt.datetime:
    """An RFC 3339 date-time with its offset, or a date (its midnight, UTC).

    Raises:
        BadQueryError: Neither, or a date-time without an offset (its moment would be a guess).
    """
    value = text.strip()
    # Python 3.10's fromisoformat() reads neither "Z" nor a date-time in every RFC 3339 form.
    iso = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
    try:
        if len(iso) == len("2026-01-31"):
            day = _dt.date.fromisoformat(iso)
            return _dt.datetime(day.year, day.month, day.day, tzinfo=_dt.timezone.utc)
        moment = _dt.datetime.fromisoformat(iso.replace("t", "T"))
    except ValueError:
        raise BadQueryError(
            f"expected an RFC 3339 date-time such as 2026-01-31T09:00:00Z, or a date such as "
            f"2026-01-31, got {text!r}"
        ) from None
    if moment.utcoffset() is None:
        raise BadQueryError(f"{text!r} has no UTC offset: add one, such as {value}Z")
    return moment


def _values(query: MultiMapping[str] | Mapping[str, str], key: str) -> list[str]:
    # Empty values are what a form sends for a field left blank: no filter.
    found = query.getall(key, []) if isinstance(query, MultiMapping) else [query.get(key, "")]
    return [value for value in found if value]


def _limit(values: list[str]) -> int:
    if not values:
        return DEFAULT_LIMIT
    text = values[-1]
    if not text.isdecimal() or not 1 <= int(text) <= MAX_LIMIT:
        raise BadQueryError(f"limit: expected a whole number from 1 to {MAX_LIMIT}, got {text!r}")
    return int(text)


def parse_query(query: MultiMapping[str] | Mapping[str, str]) -> Query:
    """The filters, page key and limit of a request's query string.

    Raises:
        BadQueryError: A ``since``, ``before`` or ``limit`` that cannot be read.
    """
    moments: dict[str, _dt.datetime | None] = {}
    for key in ("since", "before"):
        given = _values(query, key)
        try:
            moments[key] = parse_moment(given[-1]) if given else None
        except BadQueryError as exc:
            raise BadQueryError(f"{key}: {exc}") from None
    q = " ".join(_values(query, "q"))
    filters = Filters(
        q=q,
        types=tuple(dict.fromkeys(_values(query, "type"))),
        statuses=tuple(dict.fromkeys(_values(query, "status"))),
        since=moments["since"],
        before=moments["before"],
    )
    older = _values(query, "older")
    return Query(
        filters=filters, older=older[-1] if older else None, limit=_limit(_values(query, "limit"))
    )
