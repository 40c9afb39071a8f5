"""Each enum, range and cross-field rule of the spec, defined once, owning everything about itself.

A rule checks a Python value (``accepts``, for hand-built models), writes the inline code that
checks and converts a JSON value (``emit``, for the generated converter), writes the expression
that turns a Python value back into JSON (``wire``), offers valid JSON examples (``samples``, for
the fake server's data) and, for integers, reads query strings (``from_query``). The models
carry rules in their field metadata; nothing else restates a bound or a member list.
"""

from __future__ import annotations

import datetime as _dt
import enum
import functools
import math
import re
import sys
import uuid
from collections.abc import Collection, Mapping
from typing import Any, Final, Generic, Protocol, TypeVar

import attrs

from ._enums import (
    ArtworkStatus,
    ArtworkType,
    AspectRatio,
    DepthModel,
    OutputFormat,
    Style,
)
from ._readonly import FrozenList

__all__ = [
    "AREA",
    "BATCH",
    "DIMENSION",
    "HIGH_RESOLUTION_AREA",
    "LIMIT",
    "MAX_AREA",
    "MAX_HIGH_RESOLUTION_AREA",
    "NEGATIVE_PROMPT_MAX_WORDS",
    "OFFSET",
    "PROMPT_MAX_WORDS",
    "SEED",
    "STATUS",
    "AreaCap",
    "ArrayOf",
    "Boolean",
    "Choice",
    "CodeSink",
    "CrossRule",
    "IntRange",
    "MembersWhen",
    "Number",
    "OneOf",
    "Rule",
    "Text",
    "Timestamp",
    "Uri",
    "Uuid",
]

E = TypeVar("E", bound=enum.Enum)
_FROMISOFORMAT: Final = _dt.datetime.fromisoformat if sys.version_info >= (3, 11) else None
#: RFC 3339 ``date-time``: the date and time, an optional fraction, then Z or an offset.
_RFC_3339: Final = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?(?P<zone>[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_QUERY_INTEGER: Final = re.compile(r"(-?)([0-9]+)")
_QUERY_NATURAL: Final = re.compile(r"()([0-9]+)")
#: The longest query integer read: a sign and 19 digits hold every 64-bit integer.
_QUERY_DIGITS: Final = 20


class CodeSink(Protocol):
    """Where a rule writes its generated code (the converter's code generator)."""

    def const(self, value: Any, stem: str = "K") -> str:
        """Make *value* available to the code under a fresh name; return the name."""
        ...

    def fresh(self, stem: str) -> str:
        """A local variable name not used before in this function."""
        ...

    def emit(self, indent: int, line: str) -> None:
        """Append one line of code at *indent* levels."""
        ...


def _fail(src: CodeSink, path: str, expected: str, value: str = "v") -> str:
    """The line that reports *value* at the JSON path expression *path* as breaking a rule."""
    return f"raise _Invalid({path}, {value}, {src.const(expected, 'E')})"


class Rule:
    """What a value of one field must be, on the wire and as a Python value.

    Generated code runs with the JSON value in the local ``v``; ``emit`` checks it, binds the
    Python value to the variable it is given, and raises ``_Invalid`` (path, value, expected)
    when the value breaks the rule. *path* is a Python expression giving the JSON path.
    """

    __slots__ = ()

    @property
    def expected(self) -> str:  # pragma: no cover - every rule overrides it
        """The rule in words, for error messages."""
        raise NotImplementedError

    def accepts(self, value: object) -> bool:  # pragma: no cover - every rule overrides it
        """Return whether the Python *value* satisfies the rule."""
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        """Turn a hand-given value into the field's Python type where the rule allows it."""
        return value

    def emit(self, src: CodeSink, var: str, path: str, indent: int) -> None:  # pragma: no cover
        """Write the code that checks the JSON value ``v`` and binds its Python value to *var*."""
        raise NotImplementedError

    def wire(self, src: CodeSink, expr: str) -> str:  # noqa: ARG002 - most rules need no constant
        """A code expression turning the Python value *expr* into its JSON value."""
        return expr

    def samples(self) -> tuple[Any, ...]:  # pragma: no cover - every rule overrides it
        """Valid JSON values that cover the rule: both edges of a range, every member."""
        raise NotImplementedError

    def bad_check(self, expr: str) -> str | None:  # noqa: ARG002 - only plain rules have one
        """A boolean expression, true when the JSON value *expr* breaks the rule.

        Only for rules whose Python value is the JSON value itself; ``None`` for the others.
        """
        return None


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"from {minimum} to {maximum}"
    if minimum is not None:
        return f">= {minimum}"
    if maximum is not None:
        return f"<= {maximum}"
    return ""


@attrs.frozen
class IntRange(Rule):
    """A JSON integer (never a boolean or a float), optionally bounded and a multiple of a step.

    A bound of ``None`` leaves that side open (``offset >= 0``, ``maskKernelSize <= 100``).
    """

    minimum: int | None = None
    maximum: int | None = None
    multiple_of: int | None = None

    @property
    def expected(self) -> str:
        """The rule in words."""
        words = " ".join(filter(None, ("an integer", _bounds(self.minimum, self.maximum))))
        return f"{words}, a multiple of {self.multiple_of}" if self.multiple_of else words

    def accepts(self, value: object) -> bool:
        """Return whether *value* is an ``int`` (not a ``bool``) inside the range."""
        return (
            type(value) is int
            and (self.minimum is None or self.minimum <= value)
            and (self.maximum is None or value <= self.maximum)
            and (not self.multiple_of or value % self.multiple_of == 0)
        )

    def bad_check(self, expr: str) -> str:
        """True when *expr* is not an integer inside the range."""
        terms = [f"type({expr}) is not int"]
        if self.minimum is not None:
            terms.append(f"{expr} < {self.minimum}")
        if self.maximum is not None:
            terms.append(f"{expr} > {self.maximum}")
        if self.multiple_of:
            terms.append(f"{expr} % {self.multiple_of}")
        return " or ".join(terms)

    def emit(self, src: CodeSink, var: str, path: str, indent: int) -> None:
        """Check the type and the bounds inline."""
        src.emit(indent, f"if {self.bad_check('v')}:")
        src.emit(indent + 1, _fail(src, path, self.expected))
        src.emit(indent, f"{var} = v")

    def samples(self) -> tuple[int, ...]:
        """The edges and the middle (an open side gets a value near the other edge)."""
        low = self.minimum if self.minimum is not None else (self.maximum or 0) - 100
        high = self.maximum if self.maximum is not None else low + 1000
        step = self.multiple_of or 1
        low = -(-low // step) * step
        high = high // step * step
        middle = (low + high) // 2 // step * step
        return tuple(sorted({low, middle, high}))

    def from_query(
        self, text: str, *, signed: bool = True, zero_padded: bool = False
    ) -> int | None:
        """Read a query-string value under the rule: the integer, or ``None`` if it breaks it.

        Only plain ASCII decimal digits with an optional minus count: ``int()`` alone would also
        take ``" 5"``, ``"+5"``, ``"1_0"`` and non-ASCII digits. A query integer is a 64-bit
        one: longer text is refused before ``int()`` (which gives up past 4,300 digits).

        ``signed=False`` refuses a minus too (``-0`` included, which is otherwise 0);
        ``zero_padded=True`` takes any number of leading zeros (otherwise they count towards
        the 64-bit length).
        """
        if not zero_padded and len(text) > _QUERY_DIGITS:
            return None
        match = (_QUERY_INTEGER if signed else _QUERY_NATURAL).fullmatch(text)
        if match is None:
            return None
        sign, digits = match.groups()
        if zero_padded:
            digits = digits.lstrip("0") or "0"
            if len(sign) + len(digits) > _QUERY_DIGITS:
                return None
        value = int(sign + digits)
        return value if self.accepts(value) else None


@attrs.frozen
class Number(Rule):
    """A finite JSON number (an integer or a float, never a boolean), optionally bounded.

    The Python value is a ``float``: the JSON ``3`` and ``3.0`` are the same number.
    """

    minimum: float | None = None
    maximum: float | None = None

    @property
    def expected(self) -> str:
        """The rule in words."""
        return " ".join(filter(None, ("a number", _bounds(self.minimum, self.maximum))))

    def accepts(self, value: object) -> bool:
        """Return whether *value* is a finite ``int`` or ``float`` (not a ``bool``) in range."""
        if not ((type(value) is float and math.isfinite(value)) or type(value) is int):
            return False
        return (self.minimum is None or self.minimum <= value) and (
            self.maximum is None or value <= self.maximum
        )

    def emit(self, src: CodeSink, var: str, path: str, indent: int) -> None:
        """Check the type inline; an integer becomes a float, an inf or nan is refused."""
        fail = _fail(src, path, self.expected)
        src.emit(indent, "if type(v) is int:")
        src.emit(indent + 1, "try:")
        src.emit(indent + 2, f"{var} = float(v)")
        src.emit(indent + 1, "except OverflowError:")  # an integer beyond any float
        src.emit(indent + 2, f"{fail} from None")
        # v - v is 0.0 for every finite float and nan for inf and nan: no call needed.
        src.emit(indent, "elif type(v) is float and v - v == 0.0:")
        src.emit(indent + 1, f"{var} = v")
        src.emit(indent, "else:")
        src.emit(indent + 1, fail)
        bounds = []
        if self.minimum is not None:
            bounds.append(f"{var} < {self.minimum!r}")
        if self.maximum is not None:
            bounds.append(f"{var} > {self.maximum!r}")
        if bounds:
            src.emit(indent, f"if {' or '.join(bounds)}:")
            src.emit(indent + 1, fail)

    def samples(self) -> tuple[float, ...]:
        """Both edges and a point between (an open side gets a value near the other edge)."""
        low = self.minimum if self.minimum is not None else (self.maximum or 0.0) - 10.0
        high = self.maximum if self.maximum is not None else low + 100.0
        return (low, round((low + high) / 2, 3), high)


@attrs.frozen
class Choice(Rule):
    """One of a few numbers (``scaleFactor`` 1, 2, 4 or 8); integers only when ``integer``."""

    values: tuple[int, ...]
    integer: bool = True

    @property
    def expected(self) -> str:
        """The rule in words."""
        kind = "an integer" if self.integer else "a number"
        return f"{kind}, one of {', '.join(map(str, self.values))}"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is one of the values (of the right type)."""
        if self.integer:
            return type(value) is int and value in self.values
        return type(value) in (int, float) and value in self.values

    def emit(self, src: CodeSink, var: str, path: str, indent: int) -> None:
        """Check membership inline (``True == 1`` in Python, so the type is checked first)."""
        allowed = src.const(frozenset(self.values), "CH")
        types = "type(v) is not int" if self.integer else "type(v) not in (int, float)"
        src.emit(indent, f"if {types} or v not in {allowed}:")
        src.emit(indent + 1, _fail(src, path, self.expected))
        src.emit(indent, f"{var} = v" if self.integer else f"{var} = float(v)")

    def samples(self) -> tuple[int, ...]:
        """Every allowed value."""
        return self.values


@attrs.frozen
class OneOf(Rule, Generic[E]):
    """One member of a string enum, or of a subset of it; on the wire, exactly its value."""

    enum: type[E]
    members: tuple[E, ...] | None = None

    @functools.cached_property
    def allowed(self) -> tuple[E, ...]:
        """The members this rule accepts (worked out once per rule)."""
        return self.members if self.members is not None else tuple(self.enum)

    @property
    def expected(self) -> str:
        """The rule in words."""
        return f"one of {', '.join(repr(m.value) for m in self.allowed)}"

    @functools.cached_property
    def by_value(self) -> dict[str, E]:
        """Wire value to member: a dict lookup is ~10x cheaper than calling the enum.

        Built once per rule and shared: read it, never change it.
        """
        return {member.value: member for member in self.allowed}

    def accepts(self, value: object) -> bool:
        """Return whether *value* is one of the allowed members."""
        return isinstance(value, self.enum) and value in self.allowed

    def convert(self, value: Any) -> Any:
        """A wire string becomes its member (``style="car"``); anything else is left alone."""
        if type(value) is str:
            for member in self.enum:
                if member.value == value:
                    return member
        return value

    def emit(self, src: CodeSink, var: str, path: str, indent: int) -> None:
        """One dict lookup: a missing key or an unhashable value is the failure."""
        table = src.const(self.by_value, "M")
        src.emit(indent, "try:")
        src.emit(indent + 1, f"{var} = {table}[v]")
        src.emit(indent, "except (KeyError, TypeError):")
        src.emit(indent + 1, f"{_fail(src, path, self.expected)} from None")

    def wire(self, src: CodeSink, expr: str) -> str:  # noqa: ARG002
        """The member's value."""
        return f"{expr}.value"

    def samples(self) -> tuple[str, ...]:
        """Every allowed value."""
        return tuple(str(member.value) for member in self.allowed)


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

    def bad_check(self, expr: str) -> str:
        """True when *expr* is not a boolean."""
        return f"{expr} is not True and {expr} is not False"

    def emit(self, src: CodeSink, var: str, path: str, indent: int) -> None:
        """Two identity checks."""
        src.emit(indent, f"if {self.bad_check('v')}:")
        src.emit(indent + 1, _fail(src, path, self.expected))
        src.emit(indent, f"{var} = v")

    def samples(self) -> tuple[bool, ...]:
        """Both values."""
        return (False, True)


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

    def bad_check(self, expr: str) -> str:
        """True when *expr* is not a string."""
        return f"type({expr}) is not str"

    def emit(self, src: CodeSink, var: str, path: str, indent: int) -> None:
        """One type check."""
        src.emit(indent, f"if {self.bad_check('v')}:")
        src.emit(indent + 1, _fail(src, path, self.expected))
        src.emit(indent, f"{var} = v")

    def samples(self) -> tuple[str, ...]:
        """A short text."""
        return ("a misty harbor",)


@attrs.frozen
class ArrayOf(Rule):
    """A JSON array whose items each follow ``item`` (and, with ``length``, exactly that many).

    The Python value is a tuple of the items' Python values.
    """

    item: Rule
    length: int | None = None

    @property
    def expected(self) -> str:
        """The rule in words."""
        size = f"{self.length} " if self.length is not None else ""
        return f"an array of {size}items, each {self.item.expected}"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is a tuple of accepted items (of the right length)."""
        return (
            isinstance(value, tuple)
            and (self.length is None or len(value) == self.length)
            and all(self.item.accepts(item) for item in value)
        )

    def convert(self, value: Any) -> Any:
        """A list becomes a tuple, and each item is converted by its rule."""
        if isinstance(value, list | tuple):
            return tuple(self.item.convert(item) for item in value)
        return value

    def emit(self, src: CodeSink, var: str, path: str, indent: int) -> None:
        """Check the array, then each item with its index in the path."""
        # A read-only array (another artwork's raw) reads as the list it is.
        src.emit(indent, f"if type(v) is not list and type(v) is not {src.const(FrozenList)}:")
        src.emit(indent + 1, _fail(src, path, self.expected))
        if self.length is not None:
            src.emit(indent, f"if len(v) != {self.length}:")
            src.emit(indent + 1, _fail(src, path, self.expected))
        index, item = src.fresh("i"), src.fresh("x")
        item_path = f"{path} + '[' + str({index}) + ']'"
        bad = self.item.bad_check(item)
        if bad is not None:
            # The items are their own Python values: check them, keep the list as a tuple.
            src.emit(indent, f"for {index}, {item} in enumerate(v):")
            src.emit(indent + 1, f"if {bad}:")
            src.emit(indent + 2, _fail(src, item_path, self.item.expected, item))
            src.emit(indent, f"{var} = tuple(v)")
            return
        items, outer, value = src.fresh("items"), src.fresh("outer"), src.fresh("value")
        src.emit(indent, f"{items} = []")
        src.emit(indent, f"{outer} = v")
        src.emit(indent, f"for {index}, v in enumerate({outer}):")
        self.item.emit(src, value, item_path, indent + 1)
        src.emit(indent + 1, f"{items}.append({value})")
        src.emit(indent, f"v = {outer}")
        src.emit(indent, f"{var} = tuple({items})")

    def wire(self, src: CodeSink, expr: str) -> str:
        """A list of the items' JSON values."""
        item = src.fresh("x")
        inner = self.item.wire(src, item)
        return f"list({expr})" if inner == item else f"[{inner} for {item} in {expr}]"

    def samples(self) -> tuple[list[Any], ...]:
        """An array of one sample and one of every sample (or exactly ``length`` of them)."""
        items = list(self.item.samples())
        if self.length is not None:
            return tuple([items[(i + n) % len(items)] for n in range(self.length)] for i in (0, 1))
        return ([items[0]], items)


@attrs.frozen
class Uuid(Rule):
    """A UUID in its canonical 8-4-4-4-12 hex form on the wire; ``uuid.UUID`` in Python."""

    @property
    def expected(self) -> str:
        """The rule in words."""
        return "a UUID string (8-4-4-4-12 hex digits)"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is a ``uuid.UUID``."""
        return isinstance(value, uuid.UUID)

    def emit(self, src: CodeSink, var: str, path: str, indent: int) -> None:
        """Check the shape, then fill the UUID's slots directly (no second parse)."""
        fail = _fail(src, path, self.expected)
        hex_digits = src.const("0123456789abcdefABCDEF", "HEX")
        new = src.const(uuid.UUID.__new__, "new_uuid")
        cls = src.const(uuid.UUID, "UUID")
        set_int = src.const(uuid.UUID.__dict__["int"].__set__, "set_uuid_int")
        set_safe = src.const(uuid.UUID.__dict__["is_safe"].__set__, "set_uuid_safe")
        unknown = src.const(uuid.SafeUUID.unknown, "SAFE_UNKNOWN")
        digits = src.fresh("digits")
        src.emit(indent, "if type(v) is not str or len(v) != 36:")
        src.emit(indent + 1, fail)
        src.emit(indent, f"{digits} = v.replace('-', '')")
        src.emit(indent, f"if (len({digits}) != 32 or v[8] != '-' or v[13] != '-'")
        src.emit(indent + 1, f"or v[18] != '-' or v[23] != '-' or {digits}.strip({hex_digits})):")
        src.emit(indent + 1, fail)
        src.emit(indent, f"{var} = {new}({cls})")
        src.emit(indent, f"{set_int}({var}, int({digits}, 16))")
        src.emit(indent, f"{set_safe}({var}, {unknown})")

    def wire(self, src: CodeSink, expr: str) -> str:  # noqa: ARG002
        """The canonical lowercase text."""
        return f"str({expr})"

    def samples(self) -> tuple[str, ...]:
        """One UUID."""
        return ("0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60",)


@attrs.frozen
class Timestamp(Rule):
    """An RFC 3339 date-time with an offset on the wire; an aware ``datetime`` in Python.

    Exactly RFC 3339's ``date-time``, the same on every Python version: ``T`` or ``t``, a
    fraction of any length (cut to microseconds), ``Z``, ``z`` or ``+hh:mm``; nothing that
    ``datetime.fromisoformat`` alone would also take (week dates, ``+hhmm``, no seconds).
    """

    @property
    def expected(self) -> str:
        """The rule in words."""
        return "an RFC 3339 date-time with a UTC offset"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is a timezone-aware ``datetime``."""
        return isinstance(value, _dt.datetime) and value.utcoffset() is not None

    def emit(self, src: CodeSink, var: str, path: str, indent: int) -> None:
        """The RFC 3339 pattern, then ``fromisoformat`` (the full parse only when it balks)."""
        fail = _fail(src, path, self.expected)
        match = src.const(_RFC_3339.fullmatch, "rfc3339")
        full = src.const(self.parse, "parse_timestamp")
        src.emit(indent, f"if type(v) is not str or {match}(v) is None:")
        src.emit(indent + 1, fail)
        if _FROMISOFORMAT is None:  # Python 3.10: parse() is the only reading
            src.emit(indent, "try:")
            src.emit(indent + 1, f"{var} = {full}(v)")
            src.emit(indent, "except ValueError:")
            src.emit(indent + 1, f"{fail} from None")
            return
        # On 3.11+ fromisoformat reads every RFC 3339 form but a lowercase t or z: those few
        # go through parse(), the rest take the fast call.
        fast = src.const(_FROMISOFORMAT, "fromisoformat")
        src.emit(indent, "try:")
        src.emit(indent + 1, f"{var} = {fast}(v)")
        src.emit(indent, "except ValueError:")
        src.emit(indent + 1, "try:")
        src.emit(indent + 2, f"{var} = {full}(v)")
        src.emit(indent + 1, "except ValueError:")
        src.emit(indent + 2, f"{fail} from None")

    @staticmethod
    def parse(value: Any) -> _dt.datetime:
        """Parse an RFC 3339 date-time with an offset; raise ``ValueError`` for anything else."""
        found = _RFC_3339.fullmatch(value) if type(value) is str else None
        if found is None:
            raise ValueError(value)
        date, fraction, zone = found.group("date", "fraction", "zone")
        micro = f".{fraction[:6].ljust(6, '0')}" if fraction else ""
        offset = "+00:00" if zone in "Zz" else zone
        return _dt.datetime.fromisoformat(f"{date[:10]}T{date[11:]}{micro}{offset}")

    @staticmethod
    def format(value: _dt.datetime) -> str:
        """Format an aware datetime as RFC 3339: its own offset, ``Z`` for UTC, ms when whole."""
        micro = value.microsecond
        text = value.isoformat(timespec="milliseconds" if micro and not micro % 1000 else "auto")
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    def wire(self, src: CodeSink, expr: str) -> str:
        """The canonical RFC 3339 text."""
        return f"{src.const(self.format, 'format_timestamp')}({expr})"

    def samples(self) -> tuple[str, ...]:
        """Two spellings of one moment."""
        return ("2026-11-01T12:00:00Z", "2026-11-01T14:00:00.250+02:00")


@attrs.frozen
class Uri(Rule):
    """An absolute URI (``format: uri``): a scheme, a colon, and no whitespace (RFC 3986).

    The Python value is the text as sent (a ``str``): parsing every URL of a page would cost
    more than the rest of structuring, and the text is what a lossless archive keeps;
    ``yarl.URL(value)`` parses one when you need it.
    """

    @property
    def expected(self) -> str:
        """The rule in words."""
        return "an absolute URI (scheme:...)"

    def accepts(self, value: object) -> bool:
        """Return whether *value* is a string that is an absolute URI."""
        return type(value) is str and _URI.fullmatch(value) is not None

    def emit(self, src: CodeSink, var: str, path: str, indent: int) -> None:
        """One type check and one precompiled regex match."""
        match = src.const(_URI.fullmatch, "uri_match")
        src.emit(indent, f"if type(v) is not str or {match}(v) is None:")
        src.emit(indent + 1, _fail(src, path, self.expected))
        src.emit(indent, f"{var} = v")

    def samples(self) -> tuple[str, ...]:
        """One https URL."""
        return ("https://hooks.example.com/tengrai",)


#: An absolute URI: RFC 3986's scheme syntax, a colon, then anything but whitespace, with a
#: host when it names an authority (``https://`` alone is not a usable URI). The spec checks a
#: response "only for being a URI"; what a host accepts is the server's business. No
#: lookaround, so regex engines without it (the benchmarks' peers) take the same pattern.
URI_PATTERN: Final = r"[A-Za-z][A-Za-z0-9+.\-]*:(?:[^/\s]\S*|/(?:[^/\s]\S*)?|//[^/?#\s]\S*)"
_URI: Final = re.compile(URI_PATTERN)


class CrossRule:
    """A rule across fields of one model, checked after each field passed its own rule.

    ``field`` is the field whose path an error reports; the others are ``None``-tolerant: a
    rule across fields applies only when the fields it needs are set.
    """

    __slots__ = ()

    field: str

    @property
    def expected(self) -> str:  # pragma: no cover - every rule overrides it
        """The rule in words."""
        raise NotImplementedError

    def accepts(self, values: Mapping[str, Any]) -> bool:  # pragma: no cover
        """Return whether the Python (or JSON) values, by field name, respect the rule."""
        raise NotImplementedError

    def emit(
        self, src: CodeSink, names: Mapping[str, str], path: str, indent: int
    ) -> None:  # pragma: no cover - every rule overrides it
        """Write the check over the variables *names* (field name to variable name)."""
        raise NotImplementedError


@attrs.frozen
class AreaCap(CrossRule):
    """``width * height`` at most ``maximum`` when both are set.

    The cap is ``raised_maximum`` instead when the boolean field ``raised_by`` is true.
    """

    maximum: int
    raised_by: str | None = None
    raised_maximum: int | None = None
    first: str = "width"
    field: str = "height"

    @property
    def expected(self) -> str:
        """The rule in words."""
        text = f"{self.first} * {self.field} <= {self.maximum:,} when both are set"
        if self.raised_by is not None:
            text += f" ({self.raised_maximum:,} when {self.raised_by} is true)"
        return text

    def _cap(self, raised: object) -> int:
        if raised is True and self.raised_maximum is not None:
            return self.raised_maximum
        return self.maximum

    def accepts(self, values: Mapping[str, Any]) -> bool:
        """Return whether the area is within the cap (an unset side always is)."""
        first, second = values.get(self.first), values.get(self.field)
        if first is None or second is None:
            return True
        raised = values.get(self.raised_by) if self.raised_by is not None else None
        return bool(first * second <= self._cap(raised))

    def emit(self, src: CodeSink, names: Mapping[str, str], path: str, indent: int) -> None:
        """Multiply only when both are set; pick the cap from the flag."""
        first, second = names[self.first], names[self.field]
        cap = str(self.maximum)
        if self.raised_by is not None:
            cap = f"({self.raised_maximum} if {names[self.raised_by]} is True else {cap})"
        src.emit(indent, f"if {first} is not None and {second} is not None:")
        src.emit(indent + 1, f"if {first} * {second} > {cap}:")
        src.emit(indent + 2, _fail(src, path, self.expected, second))


@attrs.frozen
class MembersWhen(CrossRule):
    """``field`` must be one of ``members`` when the boolean field ``when`` equals ``equals``."""

    field: str
    members: tuple[enum.Enum, ...]
    when: str
    equals: bool

    @property
    def expected(self) -> str:
        """The rule in words."""
        allowed = ", ".join(repr(member.value) for member in self.members)
        return f"one of {allowed} when {self.when} is {str(self.equals).lower()}"

    def accepts(self, values: Mapping[str, Any]) -> bool:
        """Return whether the field is allowed under the condition (or the condition is off)."""
        value = values.get(self.field)
        return values.get(self.when) is not self.equals or value is None or value in self.members

    def emit(self, src: CodeSink, names: Mapping[str, str], path: str, indent: int) -> None:
        """One identity check and one membership test."""
        value, flag = names[self.field], names[self.when]
        allowed = src.const(frozenset(self.members), "ALLOWED")
        src.emit(indent, f"if {flag} is {self.equals} and {value} is not None:")
        src.emit(indent + 1, f"if {value} not in {allowed}:")
        src.emit(indent + 2, _fail(src, path, self.expected, f"{value}.value"))


def _subset(enum_cls: type[E], values: Collection[str]) -> OneOf[E]:
    members = tuple(member for member in enum_cls if member.value in values)
    assert len(members) == len(values), values  # noqa: S101 - a typo in the table is a bug
    return OneOf(enum_cls, members)


# --- the rule table -------------------------------------------------------------------------
# Every bound and member list of the spec, named once; the models put them on their fields.

OFFSET: Final = IntRange(0)
LIMIT: Final = IntRange(1, 500)
STATUS: Final = OneOf(ArtworkStatus)
KIND: Final = OneOf(ArtworkType)

BATCH: Final = IntRange(1, 2)
#: creativity, details, denoising, effort: the 1 to 5 scales of the generators.
LEVEL: Final = IntRange(1, 5)
#: photo_pilot's scales, typed number in its only schema.
NUMBER_LEVEL: Final = Number(1, 5)
#: detailer_upscaler's details and modification: low, medium, high.
LEVEL_OF_THREE: Final = IntRange(1, 3)
DIMENSION: Final = IntRange(512, 2048)
QUANTUM_DIMENSION: Final = IntRange(512, 1360)
NUMBER_DIMENSION: Final = Number(512, 2048)
SEED: Final = IntRange(1, 2_147_483_647)
UPSCALE_FACTOR: Final = IntRange(2, 8)
DETAILER_SCALE_FACTOR: Final = Choice((1, 2, 4, 8))
IMAGE_GUIDANCE: Final = Choice((1, 2, 3), integer=False)
TEXT_CONFIDENCE: Final = Number(maximum=1)
TEXT_MAX_DETECTIONS: Final = IntRange(-1, 100)
POINT: Final = ArrayOf(Number(0, 1), length=2)
POINTS: Final = ArrayOf(POINT)
LABELS: Final = ArrayOf(IntRange())
MASK_EXPAND: Final = IntRange(-16384, 16384)
MASK_BLUR_SIGMA: Final = Number(0.1, 100)
MASK_KERNEL_SIZE: Final = IntRange(maximum=100)
RESOLUTION_LOWER_LIMIT: Final = IntRange(256, 2048, multiple_of=64)
RESULTS: Final = ArrayOf(Text())

#: The server truncates longer prompts; the SDK does not treat a long prompt as invalid.
PROMPT_MAX_WORDS: Final = 256
NEGATIVE_PROMPT_MAX_WORDS: Final = 64
QUANTUM_PROMPT_MAX_WORDS: Final = 200

_SELENA_STYLE_VALUES: Final = tuple(member.value for member in Style)[:25]
SELENA_STYLE: Final = _subset(Style, _SELENA_STYLE_VALUES)
QUANTUM_STYLE: Final = _subset(Style, (*_SELENA_STYLE_VALUES, "tengrai-anime", "folktale"))
HAMILTON_STYLE: Final = _subset(
    Style,
    (
        *("default", "stained-glass", "line-drawing", "simple-sketch", "hand-sketch"),
        *("coloring-book", "plasticine", "photographer", "analog", "abstract-flat", "surreal"),
        "manga",
    ),
)
RATIOS_11: Final = _subset(AspectRatio, tuple(member.value for member in AspectRatio)[:11])
RATIOS_7: Final = _subset(AspectRatio, ("1:1", "2:3", "3:4", "4:3", "9:16", "3:2", "16:9"))
IMAGE_FORMAT: Final = _subset(OutputFormat, ("png", "webp"))
V2_DEPTH_MODELS: Final = _subset(DepthModel, ("giant", "large", "base", "small")).allowed

#: When both ``width`` and ``height`` are set, their product may not exceed this (1216 x 1216).
MAX_AREA: Final = 1_478_656
#: The cap for the kinds that take ``highResolution``, when it is true (1328 x 1328).
MAX_HIGH_RESOLUTION_AREA: Final = 1_763_584
#: ``width * height <= 1,478,656`` when both are set.
AREA: Final = AreaCap(MAX_AREA)
#: ``width * height <= 1,478,656``, or ``1,763,584`` when ``highResolution`` is true.
HIGH_RESOLUTION_AREA: Final = AreaCap(MAX_AREA, "high_resolution", MAX_HIGH_RESOLUTION_AREA)
#: depth_map's V2 (``useVersion3`` false) offers only four of its models.
V2_DEPTH_MODEL: Final = MembersWhen("model", V2_DEPTH_MODELS, "use_version3", equals=False)
