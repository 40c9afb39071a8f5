"""The code generator behind the converter: one structure and one unstructure function per model.

The generated code reads a JSON object field by field, lets each field's rule write its own check
(``Rule.emit``), runs the cross-field rules, and only then assembles the frozen instance through
its slot descriptors, so a half-checked object never exists. Every generated function has a
unique name and file name, registered with ``linecache`` so tracebacks and profilers show it.
"""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable, Iterable
from typing import Any, Final

import attrs

from . import _rules
from ._errors import ValidationError
from ._fields import NESTED, RULE, WireModel, camel_case
from ._readonly import (
    FILL_DICT,
    FILL_LIST,
    MAX_DEPTH,
    NEW_DICT,
    NEW_LIST,
    SET_ITEM,
    FrozenDict,
    FrozenList,
    freeze,
    thaw,
)

__all__ = [
    "MISSING",
    "Invalid",
    "Source",
    "camel_case",
    "emit_model",
    "generate_parser",
    "generate_structure",
    "generate_unstructure",
    "slot_setter",
]


class _Missing:
    """Stands for a required key that is absent, in errors: its repr says so."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()


class Invalid(Exception):  # noqa: N818 - internal signal, never reaches a caller
    """Raised by generated code; carries the JSON path relative to the object being read."""

    __slots__ = ("expected", "path", "value")

    def __init__(self, path: str, value: Any, expected: str) -> None:
        self.path = path
        self.value = value
        self.expected = expected


_serial = itertools.count()


class Source:
    """Collects the lines and the constants of one generated function (a ``CodeSink``)."""

    def __init__(self, name: str) -> None:
        # A process-wide serial keeps names unique, as cattrs' own generator does.
        self.name = f"{name}_{next(_serial)}"
        self.lines: list[str] = []
        self.env: dict[str, Any] = {"_Invalid": Invalid, "MISSING": MISSING}
        self._names: dict[int, str] = {}
        self._count = itertools.count()

    def const(self, value: Any, stem: str = "K") -> str:
        """Make *value* available to the code; the same object always gets the same name."""
        name = self._names.get(id(value))
        if name is None:
            name = self._names[id(value)] = self.fresh(f"_{stem}")
            self.env[name] = value
        return name

    def fresh(self, stem: str) -> str:
        """A name not used before in this function."""
        return f"{stem}_{next(self._count)}"

    def emit(self, indent: int, line: str) -> None:
        """Append one line at *indent* levels."""
        self.lines.append("    " * indent + line)

    def compile(self) -> Callable[..., Any]:
        """Compile the function and return it."""
        text = "\n".join(self.lines) + "\n"
        filename = f"<tengrai_async generated {self.name}>"
        linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
        exec(compile(text, filename, "exec"), self.env)  # noqa: S102 - our own generated code
        fn: Callable[..., Any] = self.env[self.name]
        return fn


def slot_setter(cls: type, name: str) -> Any:
    """The slot descriptor's ``__set__`` of *name*, wherever in the MRO the slot was made."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name].__set__
    raise AttributeError(name)  # pragma: no cover - every attrs field has a slot


def _describe(field: attrs.Attribute[Any]) -> str:
    rule = field.metadata.get(RULE)
    return rule.expected if rule is not None else f"a {field.metadata[NESTED].__name__} object"


def emit_model(
    src: Source,
    cls: type,
    target: str,
    path: str,
    indent: int,
    *,
    copy: str | None = None,
    depth: int = 1,
) -> None:
    """Emit the code that checks the JSON object ``o`` as *cls* and binds the instance to *target*.

    *path* is the static JSON path of ``o`` (``""`` at the top), *depth* its level (1 at the
    top). Without *copy*, the object itself is kept in the instance's ``_raw`` slot: the API's
    JSON, unknown keys included, taken as it is (the page path, whose decoded objects nothing
    else holds). With *copy* (a variable name), a read-only copy is bound to it and kept
    instead, made in the same pass: one C-level copy per object and array the code reads
    anyway, and a walk of the other keys only when the object has keys the model does not know.
    """
    # A read-only object (another artwork's raw) reads as the dict it is.
    src.emit(indent, f"if type(o) is not dict and type(o) is not {src.const(FrozenDict)}:")
    src.emit(indent + 1, f"raise _Invalid({path!r}, o, {src.const('a JSON object', 'E')})")
    if copy is not None:
        # dict.__new__ and dict.update, inline: FrozenDict's own __init__ refuses to run.
        src.emit(indent, f"{copy} = {src.const(NEW_DICT, 'new_dict')}({src.const(FrozenDict)})")
        src.emit(indent, f"{src.const(FILL_DICT, 'fill_dict')}({copy}, o)")
    values: dict[str, str] = {}
    for field in attrs.fields(cls):
        if not field.init:
            continue  # the _raw slot, filled below
        var = values[field.name] = src.fresh(field.name)
        key = camel_case(field.name)
        field_path = f"{path}.{key}"
        if field.default is attrs.NOTHING:
            src.emit(indent, "try:")
            src.emit(indent + 1, f"v = o[{key!r}]")
            src.emit(indent, "except KeyError:")
            message = src.const(f"{_describe(field)} (required)", "E")
            src.emit(indent + 1, f"raise _Invalid({field_path!r}, MISSING, {message}) from None")
            _emit_field(src, field, var, field_path, indent, copy, depth)
        else:
            # A missing key takes the documented default (already a valid Python value), or None.
            src.emit(indent, f"v = o.get({key!r}, MISSING)")
            src.emit(indent, "if v is MISSING:")
            src.emit(indent + 1, f"{var} = {src.const(field.default, 'D')}")
            src.emit(indent, "else:")
            _emit_field(src, field, var, field_path, indent + 1, copy, depth)
    for rule in getattr(cls, "__cross_rules__", ()):
        rule.emit(src, values, repr(f"{path}.{camel_case(rule.field)}"), indent)
    if copy is not None:
        # Keys the model does not read (newer API fields) may hold objects and arrays too.
        known = src.const(frozenset(camel_case(f.name) for f in attrs.fields(cls) if f.init))
        key, value = src.fresh("key"), src.fresh("value")
        src.emit(indent, f"if not {known}.issuperset(o):")  # in C, about 10 ns a key
        src.emit(indent + 1, f"for {key} in o:")
        src.emit(indent + 2, f"if {key} not in {known}:")
        src.emit(indent + 3, f"{value} = o[{key}]")
        src.emit(indent + 3, f"if type({value}) not in {src.const(_SCALARS, 'SCALARS')}:")
        src.emit(indent + 4, "try:")
        frozen = f"{src.const(freeze, 'freeze')}({value}, {MAX_DEPTH - depth})"
        src.emit(indent + 5, f"{src.const(SET_ITEM, 'set_item')}({copy}, {key}, {frozen})")
        src.emit(indent + 4, f"except {src.const(ValidationError, 'ValidationError')} as exc:")
        where = f"{path!r} + '.' + {key}"
        src.emit(indent + 5, f"raise _Invalid({where}, exc.value, exc.expected) from None")
    # Every rule has been checked above, so the instance is assembled without re-running the
    # attrs validators: slot descriptors are the cheapest way to fill a frozen slotted class.
    src.emit(indent, f"{target} = {src.const(object.__new__, 'new')}({src.const(cls, 'C')})")
    for name, var in values.items():
        src.emit(indent, f"{src.const(slot_setter(cls, name), 'set')}({target}, {var})")
    kept = "o" if copy is None else copy
    src.emit(indent, f"{src.const(slot_setter(cls, '_raw'), 'set')}({target}, {kept})")


_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


def _emit_field(
    src: Source,
    field: attrs.Attribute[Any],
    var: str,
    path: str,
    indent: int,
    copy: str | None,
    depth: int,
) -> None:
    rule: _rules.Rule | None = field.metadata.get(RULE)
    key = camel_case(field.name)
    if rule is not None:
        rule.emit(src, var, repr(path), indent)
        if copy is not None and isinstance(rule, _rules.ArrayOf):
            # The only rule whose JSON value is a container; its items are checked by now.
            set_item = src.const(SET_ITEM, "set_item")
            if rule.item.bad_check("x") is None:  # arrays of arrays: rare, a call will do
                src.emit(indent, f"{set_item}({copy}, {key!r}, {src.const(freeze, 'freeze')}(v))")
                return
            array = src.fresh("array")
            src.emit(
                indent, f"{array} = {src.const(NEW_LIST, 'new_list')}({src.const(FrozenList)})"
            )
            src.emit(indent, f"{src.const(FILL_LIST, 'fill_list')}({array}, v)")
            src.emit(indent, f"{set_item}({copy}, {key!r}, {array})")
        return
    # A nested model is generated inline: one function call per item instead of two.
    outer = src.fresh("outer")
    inner = None if copy is None else src.fresh("copy")
    src.emit(indent, f"{outer} = o")
    src.emit(indent, "o = v")
    emit_model(src, field.metadata[NESTED], var, path, indent, copy=inner, depth=depth + 1)
    src.emit(indent, f"o = {outer}")
    if copy is not None:
        src.emit(indent, f"{src.const(SET_ITEM, 'set_item')}({copy}, {key!r}, {inner})")


def generate_structure(cls: type, *, copy: bool = False) -> Callable[[Any], Any]:
    """``structure(obj) -> instance`` for one model class, raising :class:`Invalid`.

    With *copy*, the instance keeps a read-only copy of *obj* (see :func:`emit_model`).
    """
    src = Source(f"structure_{cls.__name__}{'_copy' if copy else ''}")
    src.emit(0, f"def {src.name}(o):")
    emit_model(src, cls, "self", "", 1, copy="raw" if copy else None)
    src.emit(1, "return self")
    return src.compile()


def generate_items(
    kinds: Iterable[tuple[str, type]], fallback: Callable[[Any], Any]
) -> Callable[[list[Any], int, list[Any]], None]:
    """``structure_items(data, start, out)``: the page loop, every known kind inline.

    It appends each structured item of ``data[start:]`` to ``out`` and raises :class:`Invalid`
    at the first bad one, so ``len(out)`` tells the caller where it stopped. *kinds* pairs each
    ``artworkType`` with its class; items of no inlined kind go through *fallback*. Inlining
    saves two Python calls per item on the hottest loop of the SDK; the kinds are tried in
    order, so the commonest comes first.
    """
    src = Source("structure_items")
    islice = src.const(itertools.islice, "islice")
    src.emit(0, f"def {src.name}(data, start, out):")
    src.emit(1, "append = out.append")
    src.emit(1, f"for o in ({islice}(data, start, None) if start else data):")
    src.emit(2, "if type(o) is dict:")
    src.emit(3, "kind = o.get('artworkType')")
    for kind, cls in kinds:
        src.emit(3, f"if kind == {kind!r}:")
        emit_model(src, cls, "self", "", 4)
        src.emit(4, "append(self)")
        src.emit(4, "continue")
    src.emit(2, f"append({src.const(fallback, 'fallback')}(o))")
    fn: Callable[[list[Any], int, list[Any]], None] = src.compile()
    return fn


def generate_parser(rule: _rules.Rule) -> Callable[[Any], Any]:
    """``parse(value) -> python value`` for one rule, raising :class:`Invalid` (path ``""``)."""
    src = Source(f"parse_{type(rule).__name__}")
    src.emit(0, f"def {src.name}(v):")
    rule.emit(src, "result", "''", 1)
    src.emit(1, "return result")
    return src.compile()


def generate_unstructure(
    cls: type, nested: Callable[[type], Callable[[Any], Any]]
) -> Callable[[Any], dict[str, Any]]:
    """``unstructure(obj) -> dict``: the API's own JSON when the object came from it.

    Otherwise (built by hand, or through ``attrs.evolve``) the canonical JSON: camelCase keys,
    documented defaults written out, ``None`` fields left out. *nested* gives the unstructure
    function of a nested model class.
    """
    src = Source(f"unstructure_{cls.__name__}")
    src.emit(0, f"def {src.name}(obj):")
    src.emit(1, "raw = obj._raw")
    src.emit(1, "if raw is not None:")
    src.emit(2, f"return {src.const(thaw, 'thaw')}(raw)")
    src.emit(1, "d = {}")
    for field in attrs.fields(cls):
        if not field.init:
            continue
        rule: _rules.Rule | None = field.metadata.get(RULE)
        if rule is None:
            expr = f"{src.const(nested(field.metadata[NESTED]), 'unstructure')}(v)"
        else:
            expr = rule.wire(src, "v")
        src.emit(1, f"v = obj.{field.name}")
        if field.default is None:  # no documented default: absent on the wire when unset
            src.emit(1, "if v is not None:")
            src.emit(2, f"d[{camel_case(field.name)!r}] = {expr}")
        else:
            src.emit(1, f"d[{camel_case(field.name)!r}] = {expr}")
    src.emit(1, "return d")
    fn: Callable[[Any], dict[str, Any]] = src.compile()
    return fn


def is_model(cls: Any) -> bool:
    """Whether *cls* is one of the package's checked models."""
    return isinstance(cls, type) and attrs.has(cls) and issubclass(cls, WireModel)
