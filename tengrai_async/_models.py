"""The artwork models: frozen, slotted, keyword-only attrs classes in snake_case.

Each checked field carries its rule from ``_rules`` in its metadata: ``__init__`` validates with
it, and the converter generates its JSON checks from the same metadata.
"""

from __future__ import annotations

import datetime as _dt
import types
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Final, Union

import attrs
import yarl

from . import _rules
from ._enums import (
    ArtworkStatus,
    ArtworkType,
    AspectRatio,
    CameraAngle,
    ColorTone,
    Model,
    PromptMode,
    Style,
)
from ._errors import ResponseValidationError, ValidationError

__all__ = [
    "RAW_TEXT",
    "RULE",
    "Artwork",
    "ArtworkPage",
    "SelenaArtwork",
    "SelenaParameters",
    "UnknownArtwork",
]

#: The metadata key under which a field keeps its :class:`~tengrai_async._rules.Rule`.
RULE: Final = "tengrai_async.rule"
#: The metadata key of a hidden field keeping the wire text of the field it names.
RAW_TEXT: Final = "tengrai_async.raw_text"


def _validator(rule: _rules.Rule, *, optional: bool) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if optional and value is None:
            return
        if not rule.accepts(value):
            raise ValidationError(attribute.name, value, rule.expected)

    return check


def _checked(rule: _rules.Rule, *, default: Any = attrs.NOTHING, optional: bool = False) -> Any:
    """An attrs field validated by *rule*; ``optional`` fields may also be ``None``.

    Enum fields also accept their wire strings by hand (``style="car"``); anything else is left
    as it is for the validator to reject.
    """
    return attrs.field(
        default=default,
        converter=_to_member(rule) if isinstance(rule, _rules.OneOf) else None,
        validator=_validator(rule, optional=optional),
        metadata={RULE: rule},
    )


def _to_member(rule: _rules.OneOf[Any]) -> Any:
    table = rule.by_value

    def convert(value: Any) -> Any:
        return table.get(value, value) if type(value) is str else value

    return convert


def _instance_of(cls: type) -> Any:
    """A validator for a nested model: our ValidationError, not attrs' TypeError."""

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            raise ValidationError(attribute.name, value, f"a {cls.__name__}")

    return check


@attrs.frozen(kw_only=True)
class SelenaParameters:
    """The generation parameters of a ``selena`` artwork.

    A missing parameter takes the spec's documented default, or ``None`` where there is none.

    Attributes:
        model: The generation model.
        batch: Images per task, 1..=2.
        prompt_mode: How the prompt is read.
        prompt: The prompt (the server truncates it past 256 words).
        negative_prompt: What to keep out of the image (truncated past 64 words).
        style: The visual style.
        creativity: 1..=5.
        details: 1..=5.
        aspect_ratio: The ratio; ``1:1`` (1024 x 1024) when neither it nor a size is given.
        width: 512..=2048 pixels.
        height: 512..=2048 pixels; ``width * height <= 1,478,656`` when both are set.
        nsfw: When false, safety negatives are injected into the negative prompt.
        transparent_background: Whether the background is transparent.
        color_tone: A colour tone prepended to the prompt.
        camera_angle: A camera angle prepended to the prompt.
        webhook: Where the server POSTs the final result.
    """

    model: Model | None = _checked(_rules.OneOf(Model), default=None, optional=True)
    batch: int = _checked(_rules.BATCH, default=2)
    prompt_mode: PromptMode = _checked(_rules.OneOf(PromptMode), default=PromptMode.SERVITOR)
    prompt: str = _checked(_rules.Text(), default="cat")
    negative_prompt: str | None = _checked(_rules.Text(), default=None, optional=True)
    style: Style = _checked(_rules.OneOf(Style), default=Style.DEFAULT)
    creativity: int = _checked(_rules.CREATIVITY, default=3)
    details: int = _checked(_rules.DETAILS, default=3)
    aspect_ratio: AspectRatio | None = _checked(
        _rules.OneOf(AspectRatio), default=None, optional=True
    )
    width: int | None = _checked(_rules.DIMENSION, default=None, optional=True)
    height: int | None = _checked(_rules.DIMENSION, default=None, optional=True)
    nsfw: bool = _checked(_rules.Boolean(), default=False)
    transparent_background: bool | None = _checked(_rules.Boolean(), default=None, optional=True)
    color_tone: ColorTone | None = _checked(_rules.OneOf(ColorTone), default=None, optional=True)
    camera_angle: CameraAngle | None = _checked(
        _rules.OneOf(CameraAngle), default=None, optional=True
    )
    webhook: yarl.URL | None = _checked(_rules.URIRule(), default=None, optional=True)

    #: Rules across fields, checked after the per-field ones (the converter inlines them too).
    __cross_rules__: ClassVar[tuple[_rules.ProductAtMost, ...]] = (_rules.AREA,)

    def __attrs_post_init__(self) -> None:
        for rule in self.__cross_rules__:
            second = getattr(self, rule.second)
            if not rule.accepts(getattr(self, rule.first), second):
                raise ValidationError(rule.second, second, rule.expected)


@attrs.frozen(kw_only=True)
class SelenaArtwork:
    """An artwork made by the ``selena`` generator.

    Attributes:
        id: The artwork's id.
        artwork_type: Always :attr:`ArtworkType.SELENA`.
        parameters: What it was generated with.
        duration: Seconds the generation took.
        results: URLs of the generated images.
        status: Where the generation stands.
        created_at: When it was created (timezone-aware).
    """

    id: uuid.UUID = _checked(_rules.UUIDRule())
    artwork_type: ArtworkType = _checked(_rules.OneOf(ArtworkType), default=ArtworkType.SELENA)
    parameters: SelenaParameters = attrs.field(validator=_instance_of(SelenaParameters))
    duration: float = _checked(_rules.Number())
    results: tuple[str, ...] = _checked(_rules.TextList())
    status: ArtworkStatus = _checked(_rules.OneOf(ArtworkStatus))
    created_at: _dt.datetime = _checked(_rules.Timestamp())
    # The createdAt text exactly as the API sent it, so that unstructuring gives back the API's
    # own JSON (``.000Z``, ``+00:00``...). Not an argument: a hand-built or evolve()d artwork
    # has none, and its created_at is written in canonical RFC 3339.
    _created_at_text: str | None = attrs.field(
        default=None,
        init=False,
        eq=False,
        repr=False,
        hash=False,
        metadata={RAW_TEXT: "created_at"},
    )


def _read_only(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(raw))


@attrs.frozen(kw_only=True)
class UnknownArtwork:
    """An artwork of a kind this SDK does not know yet, kept whole instead of breaking a listing.

    Attributes:
        artwork_type: The ``artworkType`` string the server sent.
        id: The ``id`` string, or ``None`` when the item has no string id.
        raw: The whole JSON object, read-only.
    """

    artwork_type: str = attrs.field(validator=attrs.validators.instance_of(str))
    id: str | None = attrs.field(
        validator=attrs.validators.optional(attrs.validators.instance_of(str))
    )
    raw: Mapping[str, Any] = attrs.field(converter=_read_only, eq=False, hash=False)


#: One artwork of any kind: structure JSON into it with ``converter.structure(obj, Artwork)``.
Artwork = Union[SelenaArtwork, UnknownArtwork]  # noqa: UP007 - a runtime alias, also on 3.10


@attrs.frozen(kw_only=True)
class ArtworkPage:
    """One response of ``GET /v2/artworks``: the artworks of one offset window.

    Attributes:
        items: The artworks, in the server's order (invalid ones left out when skipped).
        offset: The offset that was requested.
        limit: The limit that was requested.
        count: How many items the server sent, valid or not: the window's true length.
        invalid: The items skipped because they broke a rule (only with ``on_invalid="skip"``).
    """

    items: tuple[Artwork, ...]
    offset: int
    limit: int
    count: int
    invalid: tuple[ResponseValidationError, ...] = ()

    @property
    def has_more(self) -> bool:
        """Whether the window was full, so that another may follow (a short page is the end)."""
        return self.count >= self.limit

    @property
    def next_offset(self) -> int:
        """The offset of the window after this one."""
        return self.offset + self.count

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Artwork]:
        return iter(self.items)


# The converter reads field types at run time; resolve the postponed annotations once, here.
for _cls in (SelenaParameters, SelenaArtwork, UnknownArtwork, ArtworkPage):
    attrs.resolve_types(_cls, globals(), locals())
del _cls
