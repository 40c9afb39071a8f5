"""Each enum and range rule of the spec, defined once.

The models build their validators from these objects, the converter generates its inline checks
from them, and the fake server and the data generator read their bounds and members.
"""

from __future__ import annotations

import datetime as _dt
import enum
import math
import re
import uuid
from typing import Any, Final, Generic, TypeVar

import attrs
import yarl

__all__ = [
    "AREA",
    "BATCH",
    "CREATIVITY",
    "DETAILS",
    "DIMENSION",
    "LIMIT",
    "MAX_AREA",
    "NEGATIVE_PROMPT_MAX_WORDS",
    "OFFSET",
    "PROMPT_MAX_WORDS",
    "Boolean",
    "IntRange",
    "Number",
    "OneOf",
    "ProductAtMost",
    "Rule",
    "Text",
    "TextList",
    "Timestamp",
    "URIRule",
    "UUIDRule",
]

E = TypeVar("E", bound=enum.Enum)
_QUERY_INTEGER: Final = re.compile(r"-?[0-9]+")


class Rule:
    """What a value of one field must be, on the wire and as a Python value.

    ``accepts`` judges a Python value (a hand-built model); ``expected`` says in words what the
    value must be, for error messages. The converter reads each concrete rule's data to generate
    its own inline check of the JSON value, so both paths apply the same bounds and members.
    """

    __slots__ = ()

    @property
    def expected(self) -> str:  # pragma: no cover - every rule overrides it
        """The rule in words, for error messages."""
        raise NotImplementedError

    def accepts(self, value: object) -> bool:  # pragma: no cover - every rule overrides it
        """Return whether *value* satisfies the rule."""
        raise NotImplementedError


@attrs.frozen
class IntRange(Rule):
    """A JSON integer (never a boolean or a float) in ``minimum ..= maximum``.

    ``maximum`` is ``None`` for a range open above (``offset >= 0``).
    """

    minimum: int
    maximum: int | None = None

    @property
    def expected(self) -> str:
        """The rule in words."""
        if self.maximum is None:
            return f"an integer >= {self.minimum}"
        return f"an integer in {self.minimum}..={self.maximum}"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is an ``int`` (not a ``bool``) inside the range."""
        if type(value) is not int:
            return False
        return self.minimum <= value and (self.maximum is None or value <= self.maximum)

    def from_query(self, text: str) -> int | None:
        """Read a query-string value under the rule: the integer, or ``None`` if it breaks it.

        Only plain ASCII decimal digits with an optional minus count: ``int()`` alone would also
        take ``" 5"``, ``"+5"``, ``"1_0"`` and non-ASCII digits.
        """
        if _QUERY_INTEGER.fullmatch(text) is None:
            return None
        value = int(text)
        return value if self.accepts(value) else None


@attrs.frozen
class OneOf(Rule, Generic[E]):
    """One member of a string enum; on the wire, exactly one of its values."""

    enum: type[E]

    @property
    def expected(self) -> str:
        """The rule in words."""
        return f"one of {', '.join(repr(m.value) for m in self.enum)}"

    @property
    def by_value(self) -> dict[str, E]:
        """Wire value to member: a dict lookup is ~10x cheaper than calling the enum."""
        return {member.value: member for member in self.enum}

    def accepts(self, value: object) -> bool:
        """Return whether *value* is a member of the enum."""
        return isinstance(value, self.enum)


@attrs.frozen
class Boolean(Rule):
    """A JSON boolean; ``0``, ``1`` and ``"false"`` are not booleans."""

    @property
    def expected(self) -> str:
        """The rule in words."""
        return "a boolean"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is ``True`` or ``False``."""
        return value is True or value is False


@attrs.frozen
class Number(Rule):
    """A finite JSON number: an integer or a float, never a boolean."""

    @property
    def expected(self) -> str:
        """The rule in words."""
        return "a number"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is a finite ``int`` or ``float`` (not a ``bool``)."""
        return (type(value) is float and math.isfinite(value)) or type(value) is int


@attrs.frozen
class Text(Rule):
    """A JSON string."""

    @property
    def expected(self) -> str:
        """The rule in words."""
        return "a string"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is a ``str``."""
        return isinstance(value, str)


@attrs.frozen
class TextList(Rule):
    """A JSON array of strings; a tuple of ``str`` in Python."""

    @property
    def expected(self) -> str:
        """The rule in words."""
        return "an array of strings"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is a tuple of ``str``."""
        return isinstance(value, tuple) and all(isinstance(item, str) for item in value)


@attrs.frozen
class UUIDRule(Rule):
    """A UUID in its canonical 8-4-4-4-12 hex form on the wire; ``uuid.UUID`` in Python."""

    @property
    def expected(self) -> str:
        """The rule in words."""
        return "a UUID string (8-4-4-4-12 hex digits)"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is a ``uuid.UUID``."""
        return isinstance(value, uuid.UUID)


@attrs.frozen
class Timestamp(Rule):
    """An RFC 3339 date-time with an offset on the wire; an aware ``datetime`` in Python."""

    @property
    def expected(self) -> str:
        """The rule in words."""
        return "an RFC 3339 date-time with a UTC offset"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is a timezone-aware ``datetime``."""
        return isinstance(value, _dt.datetime) and value.utcoffset() is not None


@attrs.frozen
class URIRule(Rule):
    """An absolute URI (``format: uri``); ``yarl.URL`` in Python."""

    @property
    def expected(self) -> str:
        """The rule in words."""
        return "an absolute URI"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is an absolute ``yarl.URL`` with a scheme."""
        return isinstance(value, yarl.URL) and value.is_absolute() and bool(value.scheme)


# The ranges of the spec. The converter inlines their bounds into generated code, the models
# validate with them, the fake server answers 400 with them, the data generator hits their edges.
BATCH: Final = IntRange(1, 2)
CREATIVITY: Final = IntRange(1, 5)
DETAILS: Final = IntRange(1, 5)
DIMENSION: Final = IntRange(512, 2048)
#: When both ``width`` and ``height`` are set, their product may not exceed this (1216 x 1216).
MAX_AREA: Final = 1_478_656
OFFSET: Final = IntRange(0)
LIMIT: Final = IntRange(1, 500)
#: The server truncates longer prompts; the SDK does not treat a long prompt as invalid.
PROMPT_MAX_WORDS: Final = 256
NEGATIVE_PROMPT_MAX_WORDS: Final = 64


@attrs.frozen
class ProductAtMost:
    """A rule across two fields: when both are set, their product is at most ``maximum``."""

    first: str
    second: str
    maximum: int

    @property
    def expected(self) -> str:
        """The rule in words."""
        return f"{self.first} * {self.second} <= {self.maximum} when both are set"

    def accepts(self, first: Any, second: Any) -> bool:
        """Return whether the pair respects the rule (an unset side always does)."""
        return first is None or second is None or first * second <= self.maximum


#: ``width * height <= 1,478,656`` when both are set.
AREA: Final = ProductAtMost("width", "height", MAX_AREA)
