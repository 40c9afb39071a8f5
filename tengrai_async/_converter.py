"""The package's own cattrs converter: JSON artworks to validated models and back.

A hook factory registered on ``attrs.has`` generates, per model class, one structure and one
unstructure function from the field names (camelCase on the wire) and the rules in the field
metadata: strict type checks, no coercion, and a JSON path on every failure.
"""

from __future__ import annotations

import collections.abc
import datetime as _dt
import enum
import itertools
import linecache
import sys
import uuid
from collections.abc import Callable
from typing import Any, Final, get_args, get_origin

import attrs
import cattrs
import orjson
import yarl

from . import _rules
from ._errors import MalformedResponseError, ResponseValidationError
from ._models import (
    RAW_TEXT,
    RULE,
    Artwork,
    ArtworkPage,
    SelenaArtwork,
    SelenaParameters,
    UnknownArtwork,
)

__all__ = ["TengrAIConverter", "camel_case", "converter", "make_converter"]


class _Missing:
    """Stands for a required key that is absent, in errors: its repr says so."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()

# Kinds of artwork the SDK can structure; any other ``artworkType`` becomes an UnknownArtwork.
_KINDS: Final[dict[str, type[SelenaArtwork]]] = {"selena": SelenaArtwork}


class _Invalid(Exception):  # noqa: N818 - internal signal, never reaches a caller
    """Raised by generated hooks; carries the path relative to the object being structured."""

    __slots__ = ("expected", "path", "value")

    def __init__(self, path: str, value: Any, expected: str) -> None:
        self.path = path
        self.value = value
        self.expected = expected


def camel_case(name: str) -> str:
    """Turn a snake_case field name into its camelCase wire name."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


# --- value parsers for the rules that need more than a type check ----------------------------

# uuid.UUID keeps its value in two slots; filling them directly skips re-parsing the string.
_new_uuid = uuid.UUID.__new__
_set_uuid_int = uuid.UUID.__dict__["int"].__set__
_set_uuid_safe = uuid.UUID.__dict__["is_safe"].__set__
_SAFE_UNKNOWN: Final = uuid.SafeUUID.unknown
_HEX_DIGITS: Final = "0123456789abcdefABCDEF"


_fromisoformat = _dt.datetime.fromisoformat
_NEEDS_Z_FIX: Final = sys.version_info < (3, 11)


def parse_timestamp(value: Any) -> _dt.datetime:
    """Parse an RFC 3339 date-time with an offset; raise ``ValueError`` for anything else."""
    if (
        type(value) is not str
        or len(value) < 20  # noqa: PLR2004 - "YYYY-MM-DDTHH:MM:SSZ" is the shortest form
        or value[10] != "T"
        or value[4] != "-"
        or value[13] != ":"
    ):
        raise ValueError(value)
    if _NEEDS_Z_FIX and value[-1] == "Z":  # pragma: no cover - Python 3.10 only
        value = value[:-1] + "+00:00"
    result = _fromisoformat(value)
    if result.tzinfo is None:
        raise ValueError(value)
    return result


def format_timestamp(value: _dt.datetime) -> str:
    """Format an aware datetime as RFC 3339: its own offset, ``Z`` for UTC, ms when whole."""
    micro = value.microsecond
    text = value.isoformat(timespec="milliseconds" if micro and not micro % 1000 else "auto")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def parse_uri(value: Any) -> yarl.URL:
    """Parse an absolute URI with a host; raise ``ValueError`` for anything else."""
    if type(value) is not str:
        raise ValueError(value)
    url = yarl.URL(value)
    if not url.absolute or not url.scheme:
        raise ValueError(value)
    return url


# --- code generation -------------------------------------------------------------------------


class _Source:
    """Collects the lines and the constants of one generated function."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.env: dict[str, Any] = {"_Invalid": _Invalid, "MISSING": MISSING}

    def const(self, key: str, value: Any) -> str:
        self.env[key] = value
        return key

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def compile(self) -> Callable[..., Any]:
        text = "\n".join(self.lines) + "\n"
        filename = f"<tengrai_async generated {self.name}>"
        # Registered with linecache so tracebacks and profilers can show the generated source.
        linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
        exec(compile(text, filename, "exec"), self.env)  # noqa: S102 - our own generated code
        fn: Callable[..., Any] = self.env[self.name]
        return fn


def _emit_check(
    src: _Source, var: str, path: str, rule: _rules.Rule | None, field_type: Any, indent: int
) -> None:
    """Emit the lines that check ``v`` for one field and bind the checked value to *var*."""
    exp = src.const(f"E_{var}", rule.expected if rule is not None else "an object")
    fail = f"raise _Invalid({path!r}, v, {exp})"
    if rule is None:
        # A nested model is generated inline: one function call per item instead of two.
        src.emit(indent, "o_outer = o")
        src.emit(indent, "o = v")
        _emit_class(src, field_type, var, path, indent)
        src.emit(indent, "o = o_outer")
    elif type(rule) in _EMITTERS:
        _EMITTERS[type(rule)](src, var, fail, rule, indent)
    else:
        parser = src.const(f"P_{var}", _PARSERS[type(rule)])
        src.emit(indent, "try:")
        src.emit(indent + 1, f"{var} = {parser}(v)")
        src.emit(indent, "except (ValueError, TypeError, OverflowError):")
        src.emit(indent + 1, f"{fail} from None")


def _emit_int_range(src: _Source, var: str, fail: str, rule: Any, indent: int) -> None:
    bounds = f"{rule.minimum} <= v" + ("" if rule.maximum is None else f" <= {rule.maximum}")
    src.emit(indent, f"if type(v) is not int or not ({bounds}):")
    src.emit(indent + 1, fail)
    src.emit(indent, f"{var} = v")


def _emit_one_of(src: _Source, var: str, fail: str, rule: Any, indent: int) -> None:
    table = src.const(f"M_{var}", rule.by_value)
    src.emit(indent, "try:")
    src.emit(indent + 1, f"{var} = {table}[v]")
    src.emit(indent, "except (KeyError, TypeError):")
    src.emit(indent + 1, f"{fail} from None")


def _emit_boolean(src: _Source, var: str, fail: str, _rule: Any, indent: int) -> None:
    src.emit(indent, "if v is not True and v is not False:")
    src.emit(indent + 1, fail)
    src.emit(indent, f"{var} = v")


def _emit_text(src: _Source, var: str, fail: str, _rule: Any, indent: int) -> None:
    src.emit(indent, "if type(v) is not str:")
    src.emit(indent + 1, fail)
    src.emit(indent, f"{var} = v")


def _emit_number(src: _Source, var: str, fail: str, _rule: Any, indent: int) -> None:
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


def _emit_text_list(src: _Source, var: str, fail: str, _rule: Any, indent: int) -> None:
    src.emit(indent, "if type(v) is not list:")
    src.emit(indent + 1, fail)
    src.emit(indent, "for item in v:")
    src.emit(indent + 1, "if type(item) is not str:")
    src.emit(indent + 2, fail)
    src.emit(indent, f"{var} = tuple(v)")


def _emit_uuid(src: _Source, var: str, fail: str, _rule: Any, indent: int) -> None:
    # parse_uuid, inlined: the id is parsed once per item, on the hottest path.
    for name, value in (
        ("_new_uuid", _new_uuid),
        ("_UUID", uuid.UUID),
        ("_set_uuid_int", _set_uuid_int),
        ("_set_uuid_safe", _set_uuid_safe),
        ("_SAFE_UNKNOWN", _SAFE_UNKNOWN),
        ("_HEX_DIGITS", _HEX_DIGITS),
    ):
        src.const(name, value)
    src.emit(indent, "if type(v) is not str or len(v) != 36:")
    src.emit(indent + 1, fail)
    src.emit(indent, "digits = v.replace('-', '')")
    src.emit(indent, "if (len(digits) != 32 or v[8] != '-' or v[13] != '-' or v[18] != '-'")
    src.emit(indent + 1, "or v[23] != '-' or digits.strip(_HEX_DIGITS)):")
    src.emit(indent + 1, fail)
    src.emit(indent, f"{var} = _new_uuid(_UUID)")
    src.emit(indent, f"_set_uuid_int({var}, int(digits, 16))")
    src.emit(indent, f"_set_uuid_safe({var}, _SAFE_UNKNOWN)")


def _emit_timestamp(src: _Source, var: str, fail: str, _rule: Any, indent: int) -> None:
    # parse_timestamp, inlined (Python 3.11+, where fromisoformat reads a trailing Z).
    src.const("_fromisoformat", _fromisoformat)
    src.emit(indent, "if (type(v) is not str or len(v) < 20 or v[10] != 'T' or v[4] != '-'")
    src.emit(indent + 1, "or v[13] != ':'):")
    src.emit(indent + 1, fail)
    src.emit(indent, "try:")
    src.emit(indent + 1, f"{var} = _fromisoformat(v)")
    src.emit(indent, "except ValueError:")
    src.emit(indent + 1, f"{fail} from None")
    src.emit(indent, f"if {var}.tzinfo is None:")
    src.emit(indent + 1, fail)


_Emitter = Callable[[_Source, str, str, Any, int], None]
#: Rules checked by inline code; the others go through their parser in _PARSERS.
_EMITTERS: Final[dict[type[_rules.Rule], _Emitter]] = {
    _rules.IntRange: _emit_int_range,
    _rules.OneOf: _emit_one_of,
    _rules.Boolean: _emit_boolean,
    _rules.Text: _emit_text,
    _rules.Number: _emit_number,
    _rules.TextList: _emit_text_list,
    _rules.UUIDRule: _emit_uuid,
}
if not _NEEDS_Z_FIX:
    _EMITTERS[_rules.Timestamp] = _emit_timestamp

_PARSERS: Final[dict[type[_rules.Rule], Callable[[Any], Any]]] = {
    _rules.Timestamp: parse_timestamp,
    _rules.URIRule: parse_uri,
}

_structure_cache: dict[type, Callable[[Any], Any]] = {}
_unstructure_cache: dict[type, Callable[[Any], dict[str, Any]]] = {}


def _emit_class(src: _Source, cls: type, target: str, path: str, indent: int) -> None:
    """Emit the lines that check the JSON object ``o`` as *cls* and bind the instance to *target*.

    Each field is read, checked against its rule, then the cross-field rules run; the instance
    is assembled last, so a half-checked object never exists.
    """
    src.emit(indent, "if type(o) is not dict:")
    src.emit(indent + 1, f"raise _Invalid({path!r}, o, {src.const('E_object', 'a JSON object')})")
    fields = attrs.fields(cls)
    prefix = f"{target}_"
    # Hidden fields that keep a field's wire text, by the name of that field.
    keepers = {f.metadata[RAW_TEXT]: f.name for f in fields if RAW_TEXT in f.metadata}
    for field in fields:
        var = f"{prefix}{field.name}"
        key = camel_case(field.name)
        field_path = f"{path}.{key}"
        rule = field.metadata.get(RULE)
        if RAW_TEXT in field.metadata:
            continue  # filled from its field's text below
        if field.default is attrs.NOTHING:
            src.emit(indent, "try:")
            src.emit(indent + 1, f"v = o[{key!r}]")
            src.emit(indent, "except KeyError:")
            exp = src.const(f"R_{var}", f"{_describe(rule, field.type)} (required)")
            src.emit(indent + 1, f"raise _Invalid({field_path!r}, MISSING, {exp}) from None")
            _emit_check(src, var, field_path, rule, field.type, indent)
        elif field.default is None:
            src.emit(indent, f"v = o.get({key!r}, MISSING)")
            src.emit(indent, "if v is MISSING:")
            src.emit(indent + 1, f"{var} = None")
            src.emit(indent, "else:")
            _emit_check(src, var, field_path, rule, field.type, indent + 1)
        else:
            # A missing key takes the documented default, already a valid Python value.
            default = src.const(f"D_{var}", field.default)
            src.emit(indent, f"v = o.get({key!r}, MISSING)")
            src.emit(indent, "if v is MISSING:")
            src.emit(indent + 1, f"{var} = {default}")
            src.emit(indent, "else:")
            _emit_check(src, var, field_path, rule, field.type, indent + 1)
        if field.name in keepers:
            assert field.default is attrs.NOTHING  # noqa: S101 - v is the text of a required key
            src.emit(indent, f"{prefix}{keepers[field.name]} = v")
    for index, cross in enumerate(getattr(cls, "__cross_rules__", ())):
        first, second = f"{prefix}{cross.first}", f"{prefix}{cross.second}"
        exp = src.const(f"X_{target}_{index}", cross.expected)
        src.emit(indent, f"if {first} is not None and {second} is not None:")
        src.emit(indent + 1, f"if {first} * {second} > {cross.maximum}:")
        second_path = f"{path}.{camel_case(cross.second)}"
        src.emit(indent + 2, f"raise _Invalid({second_path!r}, {second}, {exp})")
    # Every rule has been checked above, so the instance is assembled without re-running the
    # attrs validators: slot descriptors are the cheapest way to fill a frozen slotted class.
    src.const("_new", object.__new__)
    cls_name = src.const(f"C_{cls.__name__}", cls)
    src.emit(indent, f"{target} = _new({cls_name})")
    for field in fields:
        setter = src.const(f"SET_{cls.__name__}_{field.name}", cls.__dict__[field.name].__set__)
        src.emit(indent, f"{setter}({target}, {prefix}{field.name})")


def _generated_structure(cls: type) -> Callable[[Any], Any]:
    """Generate (once per class) ``structure_<Class>(obj) -> instance``, raising ``_Invalid``."""
    if cls in _structure_cache:
        return _structure_cache[cls]
    name = f"structure_{cls.__name__}"
    src = _Source(name)
    src.emit(0, f"def {name}(o):")
    _emit_class(src, cls, "self", "", 1)
    src.emit(1, "return self")
    fn = src.compile()
    _structure_cache[cls] = fn
    return fn


def _describe(rule: _rules.Rule | None, field_type: Any) -> str:
    return rule.expected if rule is not None else f"a {field_type.__name__} object"


def _generated_unstructure(cls: type) -> Callable[[Any], dict[str, Any]]:
    """Generate (once per class) ``unstructure_<Class>(obj) -> dict`` in wire form."""
    if cls in _unstructure_cache:
        return _unstructure_cache[cls]
    name = f"unstructure_{cls.__name__}"
    src = _Source(name)
    src.emit(0, f"def {name}(obj):")
    src.emit(1, "d = {}")
    fields = attrs.fields(cls)
    keepers = {f.metadata[RAW_TEXT]: f.name for f in fields if RAW_TEXT in f.metadata}
    for field in fields:
        if RAW_TEXT in field.metadata:
            continue
        key = camel_case(field.name)
        rule = field.metadata.get(RULE)
        expr = _wire_expr(src, "v", rule, field.type)
        if field.name in keepers:  # the text the API sent, when the object came from the API
            kept = keepers[field.name]
            expr = f"(obj.{kept} if obj.{kept} is not None else {expr})"
        src.emit(1, f"v = obj.{field.name}")
        if field.default is None:  # no documented default: absent on the wire when unset
            src.emit(1, "if v is not None:")
            src.emit(2, f"d[{key!r}] = {expr}")
        else:
            src.emit(1, f"d[{key!r}] = {expr}")
    src.emit(1, "return d")
    fn = src.compile()
    _unstructure_cache[cls] = fn
    return fn


def _wire_expr(src: _Source, var: str, rule: _rules.Rule | None, field_type: Any) -> str:
    if isinstance(rule, _rules.OneOf):
        return f"{var}.value"
    if isinstance(rule, _rules.UUIDRule | _rules.URIRule):
        return f"str({var})"
    if isinstance(rule, _rules.Timestamp):
        return f"{src.const('_fmt_ts', format_timestamp)}({var})"
    if isinstance(rule, _rules.TextList):
        return f"list({var})"
    if rule is None:
        return f"{src.const(f'U_{field_type.__name__}', _generated_unstructure(field_type))}({var})"
    return var


# --- artworks and pages ----------------------------------------------------------------------


def _structure_unknown(obj: dict[str, Any], artwork_type: str) -> UnknownArtwork:
    raw_id = obj.get("id")
    return UnknownArtwork(
        artwork_type=artwork_type, id=raw_id if type(raw_id) is str else None, raw=obj
    )


def _structure_artwork_fast(obj: Any) -> Artwork:
    """Dispatch one JSON item on ``artworkType``; raise ``_Invalid`` with a relative path."""
    if type(obj) is not dict:
        raise _Invalid("", obj, "a JSON object")
    kind = obj.get("artworkType", MISSING)
    if type(kind) is not str:
        raise _Invalid(".artworkType", kind, "a string naming the artwork type")
    structure = _KIND_HOOKS.get(kind)
    if structure is None:
        return _structure_unknown(obj, kind)
    result: Artwork = structure(obj)
    return result


#: The generated structure function of each known kind, looked up once per item.
_KIND_HOOKS: Final = {kind: _generated_structure(cls) for kind, cls in _KINDS.items()}


def _generated_items() -> Callable[[list[Any], int, list[Artwork]], None]:
    """Generate ``structure_items(data, start, out)``: the page loop, every known kind inline.

    It appends each structured item of ``data[start:]`` to ``out`` and raises ``_Invalid`` at
    the first bad one, so ``len(out)`` tells the caller where it stopped. Inlining the kinds
    saves two Python calls per item on the hottest loop of the SDK.
    """
    src = _Source("structure_items")
    src.const("_islice", itertools.islice)
    src.const("_fallback", _structure_artwork_fast)
    src.emit(0, "def structure_items(data, start, out):")
    src.emit(1, "append = out.append")
    src.emit(1, "for o in (_islice(data, start, None) if start else data):")
    src.emit(2, "if type(o) is dict:")
    src.emit(3, "kind = o.get('artworkType')")
    for kind, cls in _KINDS.items():
        src.emit(3, f"if kind == {kind!r}:")
        _emit_class(src, cls, "self", "", 4)
        src.emit(4, "append(self)")
        src.emit(4, "continue")
    src.emit(2, "append(_fallback(o))")
    fn: Callable[[list[Any], int, list[Artwork]], None] = src.compile()
    return fn


_structure_items: Final = _generated_items()


def _unstructure_artwork(obj: Artwork) -> dict[str, Any]:
    if type(obj) is UnknownArtwork:
        return dict(obj.raw)
    return _generated_unstructure(type(obj))(obj)


class TengrAIConverter(cattrs.Converter):
    """The package's converter: strict, camelCase, path-reporting; also structures pages.

    ``structure(obj, Artwork)`` dispatches on ``artworkType``; ``unstructure(model)`` returns
    the camelCase JSON object. Every failure is a :class:`ResponseValidationError`.
    """

    def structure_artwork(self, obj: Any) -> Artwork:
        """Structure one JSON artwork: ``structure(obj, Artwork)``, typed for checkers.

        Raises:
            ResponseValidationError: The object breaks a rule, with its JSON path.
        """
        result: Artwork = self.structure(obj, Artwork)  # type: ignore[arg-type]  # a Union
        return result

    def structure_page(
        self,
        data: Any,
        *,
        offset: int = 0,
        limit: int | None = None,
        skip_invalid: bool = False,
    ) -> ArtworkPage:
        """Structure one decoded response body (a JSON array) into an :class:`ArtworkPage`.

        Args:
            data: The decoded body.
            offset: The requested offset: errors report each item's absolute offset.
            limit: The requested limit (defaults to the number of items).
            skip_invalid: Record invalid items in ``page.invalid`` instead of raising.

        Raises:
            ResponseValidationError: The body is not an array, or an item breaks a rule (unless
                *skip_invalid*), with the path ``$[i]...`` and the item's absolute offset.
        """
        if type(data) is not list:
            raise ResponseValidationError(
                "$", data, "a JSON array of artworks", raw=data, offset=offset
            )
        items: list[Artwork] = []
        invalid: list[ResponseValidationError] = []
        index = 0
        count = len(data)
        while index < count:
            try:
                _structure_items(data, index, items)
                break
            except _Invalid as exc:
                # The generated loop appends in order, so the failing item is the next index.
                index = len(items) + len(invalid)
                obj = data[index]
                error = ResponseValidationError(
                    f"$[{index}]{exc.path}",
                    exc.value,
                    exc.expected,
                    raw=obj,
                    offset=offset + index,
                )
                if not skip_invalid:
                    raise error from None
                invalid.append(error)
                index += 1
        return ArtworkPage(
            items=tuple(items),
            offset=offset,
            limit=count if limit is None else limit,
            count=count,
            invalid=tuple(invalid),
        )

    def loads_page(
        self,
        body: bytes | str,
        *,
        offset: int = 0,
        limit: int | None = None,
        skip_invalid: bool = False,
    ) -> ArtworkPage:
        """Decode a JSON response body and structure it with :meth:`structure_page`.

        Raises:
            MalformedResponseError: The body is not JSON at all (path ``$``).
            ResponseValidationError: As for :meth:`structure_page`.
        """
        data = self.decode_body(body, offset=offset)
        return self.structure_page(data, offset=offset, limit=limit, skip_invalid=skip_invalid)

    @staticmethod
    def decode_body(body: bytes | str, *, offset: int = 0) -> Any:
        """Decode a JSON response body (without structuring it).

        Raises:
            MalformedResponseError: The body is not JSON at all (path ``$``).
        """
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise MalformedResponseError(
                "$", _body_preview(body), f"a JSON body ({exc})", raw=body, offset=offset
            ) from None


def _body_preview(body: bytes | str) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return text[:80]


def _wrap_structure(fn: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    def structure(obj: Any, _: Any) -> Any:
        try:
            return fn(obj)
        except _Invalid as exc:
            raise ResponseValidationError(
                f"${exc.path}", exc.value, exc.expected, raw=obj
            ) from None

    return structure


def _enum_hook(cls: type[enum.Enum]) -> Callable[[Any, Any], Any]:
    rule = _rules.OneOf(cls)
    table = rule.by_value

    def structure(obj: Any, _: Any) -> Any:
        try:
            return table[obj]
        except (KeyError, TypeError):
            raise ResponseValidationError("$", obj, rule.expected, raw=obj) from None

    return structure


def _is_checked_model(cls: Any) -> bool:
    """Our rule-carrying models (not ArtworkPage or UnknownArtwork, which cattrs handles)."""
    return attrs.has(cls) and cls in (SelenaArtwork, SelenaParameters)


def _is_artwork_sequence(cls: Any) -> bool:
    """``list[Artwork]``, ``tuple[Artwork, ...]`` and the abstract sequences of artworks."""
    origin = get_origin(cls)
    args = tuple(arg for arg in get_args(cls) if arg is not Ellipsis)
    return origin in (list, tuple, collections.abc.Sequence) and args == (Artwork,)


def _artwork_sequence_hook(conv: TengrAIConverter) -> Callable[[Any, Any], Any]:
    def structure(obj: Any, cls: Any) -> Any:
        # The page path reports ``$[i]...`` paths, where cattrs would wrap ours in a group.
        items = conv.structure_page(obj).items
        return items if get_origin(cls) is tuple else list(items)

    return structure


def make_converter() -> TengrAIConverter:
    """Build the package's converter with every hook registered."""
    conv = TengrAIConverter()
    conv.register_structure_hook_func(_is_artwork_sequence, _artwork_sequence_hook(conv))
    conv.register_structure_hook_factory(
        _is_checked_model, lambda cls: _wrap_structure(_generated_structure(cls))
    )
    conv.register_unstructure_hook_factory(_is_checked_model, _generated_unstructure)
    conv.register_structure_hook(Artwork, _wrap_structure(_structure_artwork_fast))
    conv.register_unstructure_hook(Artwork, _unstructure_artwork)
    conv.register_unstructure_hook(UnknownArtwork, lambda obj: dict(obj.raw))
    for enum_cls in _ENUMS:
        # cattrs routes (str, Enum) classes to its str hook, so each gets its own strict hook.
        conv.register_structure_hook(enum_cls, _enum_hook(enum_cls))
        conv.register_unstructure_hook(enum_cls, lambda member: member.value)
    return conv


def _enum_classes() -> tuple[type[enum.Enum], ...]:
    found: dict[type[enum.Enum], None] = {}
    for cls in (SelenaArtwork, SelenaParameters):
        for field in attrs.fields(cls):
            rule = field.metadata.get(RULE)
            if isinstance(rule, _rules.OneOf):
                found[rule.enum] = None
    return tuple(found)


_ENUMS: Final = _enum_classes()


#: The package's one converter (re-exported as ``tengrai_async.converter``); every part of the
#: SDK structures and unstructures through it.
converter: Final = make_converter()
