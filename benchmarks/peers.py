"""The peers of the structuring benchmark: pydantic v2 and msgspec models with the SDK's rules.

Both check what the SDK checks (every enum, every range, the width x height rule, strict types,
UUID, aware datetime, absolute webhook URI, documented defaults), so the comparison is fair.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from typing import Annotated, Literal, Union

import msgspec
import pydantic
from pydantic.alias_generators import to_camel

from tengrai_async import (
    ArtworkStatus,
    AspectRatio,
    CameraAngle,
    ColorTone,
    Model,
    PromptMode,
    Style,
)
from tengrai_async._rules import BATCH, CREATIVITY, DETAILS, DIMENSION, MAX_AREA

__all__ = [
    "MsgspecArtwork",
    "MsgspecParameters",
    "PydanticArtwork",
    "PydanticKind",
    "PydanticParameters",
    "msgspec_decoder",
    "pydantic_adapter",
]

# The bounds come from the SDK's rules, so every peer checks exactly the same ranges.
_BATCH = (BATCH.minimum, BATCH.maximum)
_CREATIVITY = (CREATIVITY.minimum, CREATIVITY.maximum)
_DETAILS = (DETAILS.minimum, DETAILS.maximum)
_SIDE = (DIMENSION.minimum, DIMENSION.maximum)


# --- pydantic v2 ------------------------------------------------------------------------------

_PYDANTIC_CONFIG = pydantic.ConfigDict(
    strict=True,  # no coercion: "3" is not 3, 1 is not True
    frozen=True,
    alias_generator=to_camel,
    populate_by_name=True,
    allow_inf_nan=False,
)


class PydanticParameters(pydantic.BaseModel):
    model_config = _PYDANTIC_CONFIG

    model: Model | None = None
    batch: Annotated[int, pydantic.Field(ge=_BATCH[0], le=_BATCH[1])] = 2
    prompt_mode: PromptMode = PromptMode.SERVITOR
    prompt: str = "cat"
    negative_prompt: str | None = None
    style: Style = Style.DEFAULT
    creativity: Annotated[int, pydantic.Field(ge=_CREATIVITY[0], le=_CREATIVITY[1])] = 3
    details: Annotated[int, pydantic.Field(ge=_DETAILS[0], le=_DETAILS[1])] = 3
    aspect_ratio: AspectRatio | None = None
    width: Annotated[int, pydantic.Field(ge=_SIDE[0], le=_SIDE[1])] | None = None
    height: Annotated[int, pydantic.Field(ge=_SIDE[0], le=_SIDE[1])] | None = None
    nsfw: bool = False
    transparent_background: bool | None = None
    color_tone: ColorTone | None = None
    camera_angle: CameraAngle | None = None
    webhook: pydantic.AnyUrl | None = None

    @pydantic.model_validator(mode="after")
    def _area(self) -> PydanticParameters:
        if (
            self.width is not None
            and self.height is not None
            and self.width * self.height > MAX_AREA
        ):
            msg = f"width * height must be <= {MAX_AREA}"
            raise ValueError(msg)
        return self


class PydanticArtwork(pydantic.BaseModel):
    model_config = _PYDANTIC_CONFIG

    id: uuid.UUID
    artwork_type: Literal["selena"]
    parameters: PydanticParameters
    duration: float
    results: tuple[str, ...]
    status: ArtworkStatus
    created_at: pydantic.AwareDatetime


# The spec's oneOf, discriminated on artworkType; selena is its only kind today.
PydanticKind = Annotated[
    Union[PydanticArtwork],  # noqa: UP007 - a one-member union, to be extended with new kinds
    pydantic.Field(discriminator="artwork_type"),
]


def pydantic_adapter() -> pydantic.TypeAdapter[list[PydanticKind]]:
    """``TypeAdapter(list[Artwork])``: what a pydantic user would call on a page's bytes."""
    return pydantic.TypeAdapter(list[PydanticKind])


# --- msgspec ----------------------------------------------------------------------------------


def _int_range(bounds: tuple[int, int | None]) -> msgspec.Meta:
    return msgspec.Meta(ge=bounds[0], le=bounds[1])


_Batch = Annotated[int, _int_range(_BATCH)]
_Creativity = Annotated[int, _int_range(_CREATIVITY)]
_Details = Annotated[int, _int_range(_DETAILS)]
_Side = Annotated[int, _int_range(_SIDE)]
# msgspec has no URL type: an absolute URI is a scheme, a colon and something after it.
_URI = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")]
_Aware = Annotated[_dt.datetime, msgspec.Meta(tz=True)]


class MsgspecParameters(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    model: Model | None = None
    batch: _Batch = 2
    prompt_mode: PromptMode = PromptMode.SERVITOR
    prompt: str = "cat"
    negative_prompt: str | None = None
    style: Style = Style.DEFAULT
    creativity: _Creativity = 3
    details: _Details = 3
    aspect_ratio: AspectRatio | None = None
    width: _Side | None = None
    height: _Side | None = None
    nsfw: bool = False
    transparent_background: bool | None = None
    color_tone: ColorTone | None = None
    camera_angle: CameraAngle | None = None
    webhook: _URI | None = None

    def __post_init__(self) -> None:
        if (
            self.width is not None
            and self.height is not None
            and self.width * self.height > MAX_AREA
        ):
            msg = f"width * height must be <= {MAX_AREA}"
            raise ValueError(msg)


class MsgspecArtwork(
    msgspec.Struct,
    rename="camel",
    frozen=True,
    kw_only=True,
    tag_field="artworkType",
    tag="selena",
):
    id: uuid.UUID
    parameters: MsgspecParameters
    duration: float
    results: tuple[str, ...]
    status: ArtworkStatus
    created_at: _Aware


def msgspec_decoder() -> msgspec.json.Decoder[list[MsgspecArtwork]]:
    """``Decoder(list[SelenaArtwork])``: the tag field checks ``artworkType == "selena"``."""
    return msgspec.json.Decoder(list[MsgspecArtwork])
