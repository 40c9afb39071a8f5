"""How a model declares its fields, and the base that keeps the JSON each model came from.

``checked`` builds an attrs field that validates (and, for enums, converts) through its rule and
records the rule in its metadata, where the converter's code generator reads it. ``WireModel``
gives every model a hidden slot for the JSON object the API sent.

Nothing here imports the converter (models sit below it): the converter registers its
unstructure function with :func:`register_canonical`, which ``raw`` of a hand-built model uses.

A field that takes a member's wire string (``style="car"``) is spelled out for type checkers
instead: ``attrs.field(default=..., converter=<a typed function>, **ruled(rule))``. Mypy's attrs
plugin and pyright read a constructor parameter's type from the converter's annotation only
when they see ``attrs.field`` itself with a named function as its converter; ``checked``
returns ``Any``, so its fields' parameters take the annotated (attribute) type.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final, TypedDict, TypeVar

import attrs

from . import _rules
from ._errors import ValidationError
from ._readonly import FrozenDict, freeze

__all__ = [
    "NESTED",
    "RULE",
    "Checks",
    "WireModel",
    "camel_case",
    "checked",
    "member",
    "nested",
    "register_canonical",
    "ruled",
    "wire_order",
]

#: The metadata key under which a field keeps its :class:`~tengrai_async._rules.Rule`.
RULE: Final = "tengrai_async.rule"
#: The metadata key under which a field holding another model keeps that model's class.
NESTED: Final = "tengrai_async.nested"

E = TypeVar("E", bound=enum.Enum)

#: The converter's unstructure function, once it has registered it (see ``register_canonical``).
_canonical: list[Callable[[Any], dict[str, Any]]] = []


def register_canonical(unstructure: Callable[[Any], dict[str, Any]]) -> None:
    """Give ``raw`` of hand-built models the converter's unstructure function.

    The converter calls this when it is built (the cattrs way: the converter is handed down,
    never imported from below); the last one registered is used.
    """
    _canonical[:] = [unstructure]


def camel_case(name: str) -> str:
    """Turn a snake_case field name into its camelCase wire name."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


class Checks(TypedDict):
    """What ``ruled`` gives ``attrs.field``: typed, so that checkers still infer the field."""

    validator: Callable[[Any, attrs.Attribute[Any], Any], None]
    metadata: Mapping[str, Any]


def _validator(rule: _rules.Rule) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and attribute.default is None:  # a field defaulting to None
            return
        if not rule.accepts(value):
            raise ValidationError(attribute.name, value, rule.expected)

    return check


def ruled(rule: _rules.Rule) -> Checks:
    """The keyword arguments of ``attrs.field`` that check a field by *rule* and record it.

    A field whose default is ``None`` is optional. The converter is left to the caller.
    """
    return {"validator": _validator(rule), "metadata": {RULE: rule}}


def checked(rule: _rules.Rule, *, default: Any = attrs.NOTHING) -> Any:
    """An attrs field validated by *rule*; a field whose default is ``None`` is optional.

    The rule converts hand-given values where it can (``style="car"`` becomes the member);
    anything else is left as it is for the validator to reject.
    """
    if type(rule).convert is _rules.Rule.convert:
        return attrs.field(default=default, **ruled(rule))

    # attrs copies a converter's annotation into __init__: a builtin name resolves anywhere
    # (documentation tools evaluate it in the model's module, where Any is not imported).
    def convert(value: object) -> object:
        return rule.convert(value)

    return attrs.field(default=default, converter=convert, **ruled(rule))


def member(rule: _rules.OneOf[E], value: object) -> E:
    """*rule*'s conversion, typed: a wire string becomes its member, anything else stays.

    The body of the typed converters of the enum fields; what stays is the validator's to
    reject, so the result is the member whenever construction succeeds.
    """
    converted: E = rule.convert(value)
    return converted


def nested(cls: type, *, optional: bool = False) -> Any:
    """A field holding another model (our ValidationError, not attrs' TypeError, when not)."""

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not (isinstance(value, cls) or (optional and value is None)):
            raise ValidationError(attribute.name, value, f"a {cls.__name__}")

    return attrs.field(
        default=None if optional else attrs.NOTHING, validator=check, metadata={NESTED: cls}
    )


def wire_order(order: tuple[str, ...]) -> Callable[[type, list[attrs.Attribute[Any]]], Any]:
    """An attrs field transformer that puts the named fields first, in the API's key order.

    Inherited fields come first in attrs; this keeps repr and canonical JSON in wire order.
    """
    rank = {name: index for index, name in enumerate(order)}

    def transform(_cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
        return sorted(fields, key=lambda field: rank.get(field.name, len(rank)))

    return transform


@attrs.frozen(kw_only=True)
class WireModel:
    """The base of every checked model: a hidden slot for the JSON object it came from.

    ``_raw`` is set only by the converter; a model built by hand or through ``attrs.evolve``
    has none and unstructures canonically. It takes no part in equality or hashing.
    """

    #: Rules across fields, checked after the per-field ones.
    __cross_rules__: ClassVar[tuple[_rules.CrossRule, ...]] = ()

    _raw: dict[str, Any] | None = attrs.field(
        default=None, init=False, eq=False, repr=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        cross_rules = type(self).__cross_rules__
        if cross_rules:
            values = {field.name: getattr(self, field.name) for field in attrs.fields(type(self))}
            for rule in cross_rules:
                if not rule.accepts(values):
                    raise ValidationError(rule.field, values[rule.field], rule.expected)

    @property
    def raw(self) -> Mapping[str, Any]:
        """The JSON object exactly as the API sent it: a read-only ``dict`` at every depth.

        For a model built by hand, the canonical JSON it unstructures to. Frozen on first
        read (the page path keeps the decoded object as it is), then kept.
        """
        raw = self._raw
        if raw is None:
            if not _canonical:  # pragma: no cover - the package's __init__ builds the converter
                msg = "no converter is registered to give a hand-built model its JSON"
                raise RuntimeError(msg)
            canonical: FrozenDict = freeze(_canonical[-1](self))
            return canonical
        if type(raw) is not FrozenDict:
            raw = freeze(raw)
            self._adopt(raw)
        return raw

    def _adopt(self, frozen: FrozenDict) -> None:
        """Keep *frozen* as the raw JSON, and its parts as the nested models' raw JSON.

        So ``artwork.parameters.raw`` is ``artwork.raw["parameters"]``, and the decoded
        objects can go. The frozen slot is set the way attrs' own ``__init__`` sets it.
        """
        plain = self._raw
        object.__setattr__(self, "_raw", frozen)
        if type(plain) is not dict:
            return
        for name, key in _nested_keys(type(self)):
            child = getattr(self, name)
            part = frozen.get(key)
            # Unless the nested model's raw was read (and frozen) first, on its own.
            shared = isinstance(child, WireModel) and child._raw is plain.get(key)  # noqa: SLF001
            if shared and type(part) is FrozenDict:
                child._adopt(part)  # noqa: SLF001 - the same class


def _nested_keys(cls: type) -> tuple[tuple[str, str], ...]:
    """(field name, wire key) of each field of *cls* that holds another model."""
    found = _NESTED_KEYS.get(cls)
    if found is None:
        found = _NESTED_KEYS[cls] = tuple(
            (field.name, camel_case(field.name))
            for field in attrs.fields(cls)
            if NESTED in field.metadata
        )
    return found


_NESTED_KEYS: dict[type, tuple[tuple[str, str], ...]] = {}
