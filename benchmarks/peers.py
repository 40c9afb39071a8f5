"""The peers of the structuring benchmark: pydantic v2 and msgspec models with the SDK's rules.

One model per documented kind, discriminated on ``artworkType`` (a pydantic discriminated union,
msgspec tagged structs), each checking what the SDK checks: every enum and per-kind enum subset,
every range and ``multipleOf``, the width x height caps (the raised ``highResolution`` cap
included), depth_map's V2 model rule, the segmentation points, strict types, UUID, aware
datetime, absolute URIs and the documented defaults. Keys the models do not name are ignored, as
the API sends undocumented ones.

The models are built from the SDK's own rule table (each parameters class's fields and their
rules), so no bound or member list is restated here and none can drift. What gets built is what
a user would write by hand: ``Annotated[int, Field(ge=1, le=5)]`` / ``Meta(ge=1, le=5)``, one
enum per member list, one ``model_validator`` / ``__post_init__`` per cross-field rule;
``create_model`` and ``defstruct`` produce the same validators as class statements.
"""

from __future__ import annotations

import datetime as _dt
import enum
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union

import attrs
import msgspec
import pydantic

from tengrai_async import _rules as R  # noqa: N812 - the SDK's rule table, as it names it
from tengrai_async._codegen import camel_case
from tengrai_async._fields import NESTED, RULE
from tengrai_async._models import KINDS

__all__ = [
    "MSGSPEC_KINDS",
    "PYDANTIC_KINDS",
    "PydanticKind",
    "msgspec_decoder",
    "pydantic_adapter",
]

#: The SDK's parameters class of each kind, by ``artworkType``.
_PARAMETERS: dict[str, type] = {
    kind: attrs.fields_dict(cls)["parameters"].metadata[NESTED] for kind, cls in KINDS.items()
}


# --- shared: enums and cross-field rules ------------------------------------------------------

_enums: dict[tuple[type[enum.Enum], tuple[enum.Enum, ...] | None], type[enum.Enum]] = {}


def _enum(rule: R.OneOf[Any]) -> type[enum.Enum]:
    """The SDK's enum for a whole-enum rule, else an enum of just the allowed members.

    A hand-written peer would declare ``HamiltonStyle`` with its twelve values: same thing.
    """
    if rule.members is None:
        return rule.enum
    key = (rule.enum, rule.members)
    found = _enums.get(key)
    if found is None:
        name = f"{rule.enum.__name__}Of{len(rule.members)}_{len(_enums)}"
        found = _enums[key] = enum.Enum(  # type: ignore[misc]  # the functional API
            name, [(member.name, member.value) for member in rule.members], type=str
        )
    return found


def _default(rule: R.Rule | None, value: Any) -> Any:
    """The SDK's default as the peer's value (an SDK enum member becomes the peer's member)."""
    if isinstance(rule, R.OneOf) and isinstance(value, enum.Enum):
        return _enum(rule)(value.value)
    return value


def _cross(cls: type) -> str | None:
    """Which of the three cross-field rules of the spec *cls* has (they never combine)."""
    rules = cls.__cross_rules__  # type: ignore[attr-defined]
    known = {
        (): None,
        (R.AREA,): "area",
        (R.HIGH_RESOLUTION_AREA,): "high_resolution_area",
        (R.V2_DEPTH_MODEL,): "v2_depth_model",
    }
    if rules not in known:  # a new cross rule: the peers must learn it before timing anything
        msg = f"{cls.__name__}: no peer for the cross rules {rules!r}"
        raise AssertionError(msg)
    return known[rules]


# The validators below name their fields, as hand-written ones would; these pin the names.
assert (R.AREA.first, R.AREA.field, R.AREA.raised_by) == ("width", "height", None)  # noqa: S101
assert (R.HIGH_RESOLUTION_AREA.first, R.HIGH_RESOLUTION_AREA.field) == ("width", "height")  # noqa: S101
assert R.HIGH_RESOLUTION_AREA.raised_by == "high_resolution"  # noqa: S101
assert (R.V2_DEPTH_MODEL.field, R.V2_DEPTH_MODEL.when) == ("model", "use_version3")  # noqa: S101
assert R.V2_DEPTH_MODEL.equals is False  # noqa: S101
_MAX_AREA = R.MAX_AREA
_MAX_HIGH_RESOLUTION_AREA = R.MAX_HIGH_RESOLUTION_AREA
_V2_DEPTH_MODELS = frozenset(member.value for member in R.V2_DEPTH_MODEL.members)


def _area_error(cap: int) -> ValueError:
    return ValueError(f"width * height must be <= {cap}")


def _check_area(self: Any) -> None:
    width, height = self.width, self.height
    if width is not None and height is not None and width * height > _MAX_AREA:
        raise _area_error(_MAX_AREA)


def _check_high_resolution_area(self: Any) -> None:
    width, height = self.width, self.height
    if width is not None and height is not None:
        cap = _MAX_HIGH_RESOLUTION_AREA if self.high_resolution is True else _MAX_AREA
        if width * height > cap:
            raise _area_error(cap)


def _check_v2_depth_model(self: Any) -> None:
    if self.use_version3 is False and self.model.value not in _V2_DEPTH_MODELS:
        msg = f"model must be one of {sorted(_V2_DEPTH_MODELS)} when useVersion3 is false"
        raise ValueError(msg)


_CHECKS: dict[str, Callable[[Any], None]] = {
    "area": _check_area,
    "high_resolution_area": _check_high_resolution_area,
    "v2_depth_model": _check_v2_depth_model,
}


def _one_of(values: frozenset[Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in values:
            msg = f"must be one of {sorted(values)}"
            raise ValueError(msg)
        return value

    return check


# --- pydantic v2 ------------------------------------------------------------------------------

_PYDANTIC_CONFIG = pydantic.ConfigDict(
    strict=True,  # no coercion: "3" is not 3, 1 is not True
    frozen=True,
    alias_generator=camel_case,  # the SDK's own snake_case -> camelCase
    populate_by_name=True,
    allow_inf_nan=False,
    extra="ignore",  # the API sends keys the docs do not describe
)


_PYDANTIC_URI = Annotated[str, pydantic.StringConstraints(pattern=f"^{R.URI_PATTERN}$")]


def _pydantic_type(rule: R.Rule) -> Any:  # noqa: PLR0911 - one branch per kind of rule
    """The annotation a pydantic user would write for a field under *rule*."""
    if isinstance(rule, R.IntRange):
        field = pydantic.Field(ge=rule.minimum, le=rule.maximum, multiple_of=rule.multiple_of)
        return Annotated[int, field]
    if isinstance(rule, R.Number):
        return Annotated[float, pydantic.Field(ge=rule.minimum, le=rule.maximum)]
    if isinstance(rule, R.Choice):
        # Literal[1, 2, 4, 8] would let true and 4.0 through even in strict mode.
        check = pydantic.AfterValidator(_one_of(frozenset(rule.values)))
        return Annotated[int if rule.integer else float, check]
    if isinstance(rule, R.OneOf):
        return _enum(rule)
    if isinstance(rule, R.Boolean):
        return bool
    if isinstance(rule, R.Text):
        return str
    if isinstance(rule, R.Uri):
        return _PYDANTIC_URI
    if isinstance(rule, R.Uuid):
        return uuid.UUID
    if isinstance(rule, R.Timestamp):
        return pydantic.AwareDatetime
    if isinstance(rule, R.ArrayOf):
        item = _pydantic_type(rule.item)
        return tuple[(item,) * rule.length] if rule.length else tuple[item, ...]  # type: ignore[misc]
    msg = f"no pydantic peer for {rule!r}"
    raise AssertionError(msg)


_pydantic_models: dict[type, type[pydantic.BaseModel]] = {}


def _pydantic_model(cls: type, name: str, **extra: Any) -> type[pydantic.BaseModel]:
    """The pydantic model of an SDK model class: its fields, rules, defaults and cross rule."""
    fields: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if not field.init or field.name in extra:
            continue
        rule = field.metadata.get(RULE)
        annotation = (
            _pydantic_type(rule) if rule is not None else _pydantic_nested(field.metadata[NESTED])
        )
        if field.default is attrs.NOTHING:
            fields[field.name] = (annotation, ...)
        elif field.default is None:
            fields[field.name] = (annotation | None, None)
        else:
            fields[field.name] = (annotation, _default(rule, field.default))
    fields.update(extra)
    validators = {}
    cross = _cross(cls)
    if cross is not None:
        check = _CHECKS[cross]

        def after(self: Any) -> Any:
            check(self)
            return self

        validators[f"_{cross}"] = pydantic.model_validator(mode="after")(after)
    return pydantic.create_model(  # type: ignore[call-overload, no-any-return]
        name, __config__=_PYDANTIC_CONFIG, __validators__=validators, **fields
    )


def _pydantic_nested(cls: type) -> type[pydantic.BaseModel]:
    model = _pydantic_models.get(cls)
    if model is None:
        model = _pydantic_models[cls] = _pydantic_model(cls, f"Pydantic{cls.__name__}")
    return model


#: The pydantic model of each kind, by ``artworkType``.
PYDANTIC_KINDS: dict[str, type[pydantic.BaseModel]] = {
    kind: _pydantic_model(
        cls,
        f"Pydantic{cls.__name__}",
        artwork_type=(Literal[kind], ...),
        parameters=(_pydantic_nested(_PARAMETERS[kind]), ...),
    )
    for kind, cls in KINDS.items()
}

# The spec's oneOf, discriminated on artworkType.
PydanticKind = Annotated[
    Union[tuple(PYDANTIC_KINDS.values())],  # type: ignore[valid-type]  # noqa: UP007
    pydantic.Field(discriminator="artwork_type"),
]


def pydantic_adapter() -> pydantic.TypeAdapter[list[Any]]:
    """``TypeAdapter(list[Artwork])``: what a pydantic user would call on a page's bytes."""
    return pydantic.TypeAdapter(list[PydanticKind])  # type: ignore[valid-type]


# --- msgspec ----------------------------------------------------------------------------------

# The SDK keeps a URI's text and checks it with one regex: both peers get the same pattern.
_URI = Annotated[str, msgspec.Meta(pattern=f"^{R.URI_PATTERN}$")]
_AWARE = Annotated[_dt.datetime, msgspec.Meta(tz=True)]


def _msgspec_type(rule: R.Rule) -> Any:  # noqa: PLR0911 - one branch per kind of rule
    """The annotation a msgspec user would write for a field under *rule*."""
    if isinstance(rule, R.IntRange):
        meta = msgspec.Meta(ge=rule.minimum, le=rule.maximum, multiple_of=rule.multiple_of)
        return Annotated[int, meta]
    if isinstance(rule, R.Number):
        return Annotated[float, msgspec.Meta(ge=rule.minimum, le=rule.maximum)]
    if isinstance(rule, R.Choice):
        if rule.integer:
            return Literal[rule.values]  # msgspec's int literals refuse true and 4.0
        # A number among consecutive integers: a range of multiples of 1 (1, 2.0, 3 are in).
        low, high = min(rule.values), max(rule.values)
        assert rule.values == tuple(range(low, high + 1)), rule  # noqa: S101
        return Annotated[float, msgspec.Meta(ge=low, le=high, multiple_of=1)]
    if isinstance(rule, R.OneOf):
        return _enum(rule)
    if isinstance(rule, R.Boolean):
        return bool
    if isinstance(rule, R.Text):
        return str
    if isinstance(rule, R.Uri):
        return _URI
    if isinstance(rule, R.Uuid):
        return uuid.UUID
    if isinstance(rule, R.Timestamp):
        return _AWARE
    if isinstance(rule, R.ArrayOf):
        item = _msgspec_type(rule.item)
        return tuple[(item,) * rule.length] if rule.length else tuple[item, ...]  # type: ignore[misc]
    msg = f"no msgspec peer for {rule!r}"
    raise AssertionError(msg)


class _Struct(msgspec.Struct, frozen=True, kw_only=True):
    """No cross rule."""


class _AreaStruct(_Struct, frozen=True, kw_only=True):
    """width * height <= 1,478,656."""

    def __post_init__(self) -> None:
        _check_area(self)


class _HighResolutionAreaStruct(_Struct, frozen=True, kw_only=True):
    """width * height <= 1,478,656, or 1,763,584 with highResolution true."""

    def __post_init__(self) -> None:
        _check_high_resolution_area(self)


class _V2DepthModelStruct(_Struct, frozen=True, kw_only=True):
    """Only four depth models when useVersion3 is false."""

    def __post_init__(self) -> None:
        _check_v2_depth_model(self)


_BASES: dict[str | None, type[msgspec.Struct]] = {
    None: _Struct,
    "area": _AreaStruct,
    "high_resolution_area": _HighResolutionAreaStruct,
    "v2_depth_model": _V2DepthModelStruct,
}
_msgspec_structs: dict[type, type[msgspec.Struct]] = {}


def _msgspec_struct(cls: type, name: str, **options: Any) -> type[msgspec.Struct]:
    """The msgspec struct of an SDK model class: its fields, rules, defaults and cross rule."""
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for field in attrs.fields(cls):
        if not field.init or field.name == "artwork_type":  # the tag, checked by msgspec
            continue
        rule = field.metadata.get(RULE)
        annotation = (
            _msgspec_type(rule) if rule is not None else _msgspec_nested(field.metadata[NESTED])
        )
        if field.default is attrs.NOTHING:
            fields.append((field.name, annotation))
        elif field.default is None:
            fields.append((field.name, annotation | None, None))
        else:
            fields.append((field.name, annotation, _default(rule, field.default)))
    cross = _cross(cls)
    return msgspec.defstruct(
        name,
        fields,
        bases=(_BASES[cross],),
        rename=camel_case,
        frozen=True,
        kw_only=True,
        **options,
    )


def _msgspec_nested(cls: type) -> type[msgspec.Struct]:
    struct = _msgspec_structs.get(cls)
    if struct is None:
        struct = _msgspec_structs[cls] = _msgspec_struct(cls, f"Msgspec{cls.__name__}")
    return struct


def _msgspec_artwork(kind: str, cls: type) -> type[msgspec.Struct]:
    return _msgspec_struct(cls, f"Msgspec{cls.__name__}", tag_field="artworkType", tag=kind)


#: The msgspec struct of each kind, by ``artworkType`` (the struct's tag).
MSGSPEC_KINDS: dict[str, type[msgspec.Struct]] = {
    kind: _msgspec_artwork(kind, cls) for kind, cls in KINDS.items()
}


def msgspec_decoder() -> msgspec.json.Decoder[list[Any]]:
    """``Decoder(list[Union[<the twelve kinds>]])``: the tag field selects the kind."""
    union = Union[tuple(MSGSPEC_KINDS.values())]  # type: ignore[valid-type]  # noqa: UP007
    return msgspec.json.Decoder(list[union])  # type: ignore[valid-type]
