"""What type checkers are told matches what the run time does.

The ``Literal`` aliases are written out for the checkers; these tests pin each to its enum, or to
its subset in the rule table, and each enum field's typed converter (whose first parameter is
the constructor's parameter type for mypy and pyright) to its field's rule. The typing sample
itself is checked by ``nox -s mypy`` and ``nox -s pyright``; here it is imported and its models
built, so that what it shows the checkers also holds at run time.
"""

from __future__ import annotations

import enum
import importlib
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, Literal, get_args, get_origin

import attrs
import cattrs
import pytest

import tengrai_async
from tengrai_async import _enums, _rules
from tengrai_async._fields import NESTED, RULE
from tengrai_async._models import KINDS

ENUMS: list[type[enum.Enum]] = [
    getattr(_enums, name) for name in _enums.__all__ if not name.endswith("Name")
]
ALIASES = {name: value for name, value in vars(_enums).items() if name.endswith("Name")}
#: Each subset alias and the rule table's subset it spells out.
SUBSETS = [
    ("SelenaStyleName", _rules.SELENA_STYLE),
    ("QuantumStyleName", _rules.QUANTUM_STYLE),
    ("HamiltonStyleName", _rules.HAMILTON_STYLE),
    ("SelenaAspectRatioName", _rules.RATIOS_11),
    ("QuantumAspectRatioName", _rules.RATIOS_7),
    ("ImageFormatName", _rules.IMAGE_FORMAT),
]


def _literal_values(alias: Any) -> tuple[object, ...]:
    assert get_origin(alias) is Literal, alias
    return get_args(alias)


def _models() -> Iterator[type]:
    """Every documented kind and every model nested in one, each once."""
    seen: set[type] = set()
    stack: list[type] = list(KINDS.values())
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.add(cls)
            yield cls
            stack.extend(f.metadata[NESTED] for f in attrs.fields(cls) if NESTED in f.metadata)


ENUM_FIELDS = sorted(
    (
        (cls, field)
        for cls in _models()
        for field in attrs.fields(cls)
        if isinstance(field.metadata.get(RULE), _rules.OneOf)
    ),
    key=lambda pair: (pair[0].__name__, pair[1].name),
)


@pytest.mark.parametrize("enum_cls", ENUMS, ids=lambda cls: cls.__name__)
def test_each_enum_has_a_literal_alias_of_exactly_its_values(enum_cls: type[enum.Enum]) -> None:
    values = _literal_values(ALIASES[f"{enum_cls.__name__}Name"])
    assert values == tuple(member.value for member in enum_cls)


@pytest.mark.parametrize(("name", "rule"), SUBSETS, ids=[name for name, _ in SUBSETS])
def test_each_subset_alias_is_its_rule_table_subset(name: str, rule: _rules.OneOf[Any]) -> None:
    values = _literal_values(ALIASES[name])
    assert len(values) == len(set(values))
    assert set(values) == {member.value for member in rule.allowed}


def test_every_alias_is_exported_and_pinned() -> None:
    pinned = {f"{cls.__name__}Name" for cls in ENUMS} | {name for name, _ in SUBSETS}
    assert set(ALIASES) == pinned
    assert set(ALIASES) <= set(tengrai_async.__all__)
    assert set(ALIASES) <= set(_enums.__all__)


def _split(annotation: Any) -> tuple[set[type], set[object], bool]:
    """The enum classes, the Literal values and whether ``None`` is in a union annotation."""
    parts = (
        get_args(annotation)
        if get_origin(annotation) in (typing.Union, types.UnionType)
        else (annotation,)
    )
    classes = {part for part in parts if isinstance(part, type) and part is not type(None)}
    values = {value for part in parts if get_origin(part) is Literal for value in get_args(part)}
    return classes, values, type(None) in parts


@pytest.mark.parametrize(
    ("cls", "field"),
    ENUM_FIELDS,
    ids=[f"{cls.__name__}.{field.name}" for cls, field in ENUM_FIELDS],
)
def test_each_enum_field_has_a_typed_converter_matching_its_rule(
    cls: type, field: attrs.Attribute[Any]
) -> None:
    rule: _rules.OneOf[Any] = field.metadata[RULE]
    convert: Callable[[Any], Any] = field.converter  # type: ignore[assignment]
    # A plain function the checkers can read (not the rule's untyped bound method).
    assert isinstance(convert, types.FunctionType), f"{cls.__name__}.{field.name}"
    hints = typing.get_type_hints(convert)
    parameter = next(iter(hints))
    classes, values, optional = _split(hints[parameter])
    returned, returned_values, returns_none = _split(hints["return"])
    allowed = {member.value for member in rule.allowed}
    assert classes == returned == {rule.enum}
    assert not returned_values
    if field.name == "artwork_type":  # one member per kind, typed as the whole enum
        assert values == {member.value for member in rule.enum}
    else:
        assert values == allowed
    assert optional == returns_none == (field.default is None)
    for member in rule.allowed:
        assert convert(member.value) is member
        assert convert(member) is member
    if optional:
        assert convert(None) is None


def test_structure_is_cattrs_own_for_everything_but_the_artwork_union() -> None:
    # Its overloads type the call; at run time only Artwork takes a way of its own (no
    # dispatch on the 13-member union), and everything else is cattrs' structure as it is.
    conv = tengrai_async.converter
    params = {"prompt": "a fox", "batch": 1}
    for value, cls in ((params, tengrai_async.SelenaParameters), ("car", tengrai_async.Style)):
        ours = tengrai_async.TengrAIConverter.structure(conv, value, cls)
        assert ours == cattrs.Converter.structure(conv, value, cls)


def test_the_typing_sample_imports_without_running_and_its_models_build() -> None:
    sample = importlib.import_module("typing_sample")
    artworks = sample.every_kind()
    assert [type(artwork) for artwork in artworks] == list(KINDS.values())
    assert artworks[0].parameters.style is tengrai_async.Style.CAR
    for artwork in artworks:
        assert tengrai_async.converter.structure_artwork(artwork.raw) == artwork
