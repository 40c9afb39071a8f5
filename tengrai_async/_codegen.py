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
from ._fields import NESTED, RULE, WireModel
from ._readonly import thaw

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


def camel_case(name: str) -> str:
    """Turn a snake_case field name into its camelCase wire name."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


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


def emit_model(src: Source, cls: type, target: str, path: str, indent: int) -> None:
    """Emit the code that checks the JSON object ``o`` as *cls* and binds the instance to *target*.

    *path* is the static JSON path of ``o`` (``""`` at the top). The object itself is kept in
    the instance's ``_raw`` slot: the API's JSON, unknown keys included.
    """
    src.emit(indent, "if type(o) is not dict:")
    src.emit(indent + 1, f"raise _Invalid({path!r}, o, {src.const('a JSON object', 'E')})")
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
            required = src.const(f"{_describe(field)} (required)", "E")
            src.emit(indent + 1, f"raise _Invalid({field_path!r}, MISSING, {required}) from None")
            _emit_field(src, field, var, field_path, indent)
        else:
            # A missing key takes the documented default (already a valid Python value), or None.
            src.emit(indent, f"v = o.get({key!r}, MISSING)")
            src.emit(indent, "if v is MISSING:")
            src.emit(indent + 1, f"{var} = {src.const(field.default, 'D')}")
            src.emit(indent, "else:")
            _emit_field(src, field, var, field_path, indent + 1)
    for rule in getattr(cls, "__cross_rules__", ()):
        rule.emit(src, values, repr(f"{path}.{camel_case(rule.field)}"), indent)
    # Every rule has been checked above, so the instance is assembled without re-running the
    # attrs validators: slot descriptors are the cheapest way to fill a frozen slotted class.
    src.emit(indent, f"{target} = {src.const(object.__new__, 'new')}({src.const(cls, 'C')})")
    for name, var in values.items():
        src.emit(indent, f"{src.const(slot_setter(cls, name), 'set')}({target}, {var})")
    src.emit(indent, f"{src.const(slot_setter(cls, '_raw'), 'set')}({target}, o)")


def _emit_field(src: Source, field: attrs.Attribute[Any], var: str, path: str, indent: int) -> None:
    rule: _rules.Rule | None = field.metadata.get(RULE)
    if rule is not None:
        rule.emit(src, var, repr(path), indent)
        return
    # A nested model is generated inline: one function call per item instead of two.
    outer = src.fresh("outer")
    src.emit(indent, f"{outer} = o")
    src.emit(indent, "o = v")
    emit_model(src, field.metadata[NESTED], var, path, indent)
    src.emit(indent, f"o = {outer}")


def generate_structure(cls: type) -> Callable[[Any], Any]:
    """``structure(obj) -> instance`` for one model class, raising :class:`Invalid`."""
    src = Source(f"structure_{cls.__name__}")
    src.emit(0, f"def {src.name}(o):")
    emit_model(src, cls, "self", "", 1)
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
