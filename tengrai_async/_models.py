"""The artworks: one frozen, slotted, keyword-only attrs class per kind, and the unknown kind.

Every kind shares the outer fields (``id``, ``artwork_type``, ``parameters``, ``duration``,
``results``, ``status``, ``created_at``) and keeps the JSON object it came from in ``raw``. The
kinds register themselves by their ``artwork_type``, so the converter, the fake server and the
data generator discover them here instead of keeping lists of their own.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, Final, TypeVar, Union

import attrs

from . import _rules as R  # noqa: N812 - the rule table reads best as R.STATUS
from ._enums import ArtworkStatus, ArtworkStatusName, ArtworkType, ArtworkTypeName
from ._errors import ResponseValidationError
from ._fields import Checks, WireModel, checked, member, nested, ruled, wire_order
from ._parameters import (
    DepthMapParameters,
    DetailerUpscalerParameters,
    FaceRefinerParameters,
    FaceSwapParameters,
    HamiltonParameters,
    PhotoPilotParameters,
    QuantumParameters,
    RemoveBackgroundParameters,
    SegmentationParameters,
    SelenaParameters,
    SelenaVarieteParameters,
    UpscalingParameters,
)
from ._readonly import FrozenDict, freeze

__all__ = [
    "COMMON_FIELDS",
    "KINDS",
    "Artwork",
    "ArtworkPage",
    "DepthMapArtwork",
    "DetailerUpscalerArtwork",
    "FaceRefinerArtwork",
    "FaceSwapArtwork",
    "HamiltonArtwork",
    "KnownArtwork",
    "PhotoPilotArtwork",
    "QuantumArtwork",
    "RemoveBackgroundArtwork",
    "SegmentationArtwork",
    "SelenaArtwork",
    "SelenaVarieteArtwork",
    "UnknownArtwork",
    "UpscalingArtwork",
]

#: The outer fields every kind shares, in the API's key order.
COMMON_FIELDS: Final = (
    "id",
    "artwork_type",
    "parameters",
    "duration",
    "results",
    "status",
    "created_at",
)
#: Inherited fields come first in attrs: this puts the shared ones in the API's key order.
_WIRE_ORDER: Final = wire_order(COMMON_FIELDS)

#: Each documented kind's class, by its ``artworkType``: filled as the classes below are defined
#: (``@_artwork``), so a new kind is one class away and nothing else keeps a list of kinds.
KINDS: Final[dict[str, type[KnownArtwork]]] = {}

_K = TypeVar("_K", bound="type[KnownArtwork]")


def _artwork(cls: _K) -> _K:
    """Register the attrs model *cls* under its ``artwork_type`` default.

    Each class spells out its ``@attrs.frozen(...)`` itself: mypy's attrs plugin only sees a
    class as attrs (and types its ``__init__`` and ``attrs.evolve``) through that decorator.
    """
    kind: ArtworkType = attrs.fields_dict(cls)["artwork_type"].default  # type: ignore[assignment]
    KINDS[kind.value] = cls
    return cls


# The enum fields take a member or its wire string; their converters say which strings, for
# type checkers (see ``_fields``), and convert through the field's rule as ``checked`` would.


def _status(value: ArtworkStatus | ArtworkStatusName) -> ArtworkStatus:
    return member(R.STATUS, value)


def _artwork_type(value: ArtworkType | ArtworkTypeName) -> ArtworkType:
    return member(R.KIND, value)


@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class KnownArtwork(WireModel):
    """The fields every documented kind shares; each kind adds its type and its parameters.

    Attributes:
        id: The artwork's id.
        duration: Seconds the generation took.
        results: URLs of the produced images.
        status: Where the job stands.
        created_at: When it was created (timezone-aware).
    """

    id: uuid.UUID = checked(R.Uuid())
    duration: float = checked(R.Number())
    results: tuple[str, ...] = checked(R.RESULTS)
    status: ArtworkStatus = attrs.field(converter=_status, **ruled(R.STATUS))
    created_at: _dt.datetime = checked(R.Timestamp())


def _kind(kind: ArtworkType) -> Checks:
    """The validator and rule of a kind's ``artwork_type``: that one member."""
    return ruled(R.OneOf(ArtworkType, (kind,)))


@_artwork
@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class SelenaArtwork(KnownArtwork):
    """A ``selena`` artwork: text to image.

    Attributes:
        artwork_type: Always :attr:`ArtworkType.SELENA`.
        parameters: What it was made with.
    """

    artwork_type: ArtworkType = attrs.field(
        default=ArtworkType.SELENA, converter=_artwork_type, **_kind(ArtworkType.SELENA)
    )
    parameters: SelenaParameters = nested(SelenaParameters)


@_artwork
@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class SelenaVarieteArtwork(KnownArtwork):
    """A ``selena_variete`` artwork: a new image made from a source image.

    Attributes:
        artwork_type: Always :attr:`ArtworkType.SELENA_VARIETE`.
        parameters: What it was made with.
    """

    artwork_type: ArtworkType = attrs.field(
        default=ArtworkType.SELENA_VARIETE,
        converter=_artwork_type,
        **_kind(ArtworkType.SELENA_VARIETE),
    )
    parameters: SelenaVarieteParameters = nested(SelenaVarieteParameters)


@_artwork
@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class QuantumArtwork(KnownArtwork):
    """A ``quantum`` artwork: text to image, Quantum model.

    Attributes:
        artwork_type: Always :attr:`ArtworkType.QUANTUM`.
        parameters: What it was made with.
    """

    artwork_type: ArtworkType = attrs.field(
        default=ArtworkType.QUANTUM, converter=_artwork_type, **_kind(ArtworkType.QUANTUM)
    )
    parameters: QuantumParameters = nested(QuantumParameters)


@_artwork
@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class HamiltonArtwork(KnownArtwork):
    """A ``hamilton`` artwork: text to image, Hamilton model.

    Attributes:
        artwork_type: Always :attr:`ArtworkType.HAMILTON`.
        parameters: What it was made with.
    """

    artwork_type: ArtworkType = attrs.field(
        default=ArtworkType.HAMILTON, converter=_artwork_type, **_kind(ArtworkType.HAMILTON)
    )
    parameters: HamiltonParameters = nested(HamiltonParameters)


@_artwork
@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class PhotoPilotArtwork(KnownArtwork):
    """A ``photo_pilot`` artwork: a source photo guided by a prompt.

    Attributes:
        artwork_type: Always :attr:`ArtworkType.PHOTO_PILOT`.
        parameters: What it was made with.
    """

    artwork_type: ArtworkType = attrs.field(
        default=ArtworkType.PHOTO_PILOT, converter=_artwork_type, **_kind(ArtworkType.PHOTO_PILOT)
    )
    parameters: PhotoPilotParameters = nested(PhotoPilotParameters)


@_artwork
@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class FaceRefinerArtwork(KnownArtwork):
    """A ``face_refiner`` artwork: the faces in an image reworked.

    Attributes:
        artwork_type: Always :attr:`ArtworkType.FACE_REFINER`.
        parameters: What it was made with.
    """

    artwork_type: ArtworkType = attrs.field(
        default=ArtworkType.FACE_REFINER, converter=_artwork_type, **_kind(ArtworkType.FACE_REFINER)
    )
    parameters: FaceRefinerParameters = nested(FaceRefinerParameters)


@_artwork
@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class FaceSwapArtwork(KnownArtwork):
    """A ``face_swap`` artwork: one image's face put into another.

    Attributes:
        artwork_type: Always :attr:`ArtworkType.FACE_SWAP`.
        parameters: What it was made with.
    """

    artwork_type: ArtworkType = attrs.field(
        default=ArtworkType.FACE_SWAP, converter=_artwork_type, **_kind(ArtworkType.FACE_SWAP)
    )
    parameters: FaceSwapParameters = nested(FaceSwapParameters)


@_artwork
@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class UpscalingArtwork(KnownArtwork):
    """A ``upscaling_v2`` artwork: an enlarged image.

    Attributes:
        artwork_type: Always :attr:`ArtworkType.UPSCALING_V2`.
        parameters: What it was made with.
    """

    artwork_type: ArtworkType = attrs.field(
        default=ArtworkType.UPSCALING_V2, converter=_artwork_type, **_kind(ArtworkType.UPSCALING_V2)
    )
    parameters: UpscalingParameters = nested(UpscalingParameters)


@_artwork
@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class DetailerUpscalerArtwork(KnownArtwork):
    """A ``detailer_upscaler`` artwork: detail added, optionally enlarged.

    Attributes:
        artwork_type: Always :attr:`ArtworkType.DETAILER_UPSCALER`.
        parameters: What it was made with.
    """

    artwork_type: ArtworkType = attrs.field(
        default=ArtworkType.DETAILER_UPSCALER,
        converter=_artwork_type,
        **_kind(ArtworkType.DETAILER_UPSCALER),
    )
    parameters: DetailerUpscalerParameters = nested(DetailerUpscalerParameters)


@_artwork
@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class RemoveBackgroundArtwork(KnownArtwork):
    """A ``remove_background`` artwork: the subject cut out of its background.

    Attributes:
        artwork_type: Always :attr:`ArtworkType.REMOVE_BACKGROUND`.
        parameters: What it was made with.
    """

    artwork_type: ArtworkType = attrs.field(
        default=ArtworkType.REMOVE_BACKGROUND,
        converter=_artwork_type,
        **_kind(ArtworkType.REMOVE_BACKGROUND),
    )
    parameters: RemoveBackgroundParameters = nested(RemoveBackgroundParameters)


@_artwork
@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class SegmentationArtwork(KnownArtwork):
    """A ``segmentation`` artwork: masks chosen by text or by points.

    Attributes:
        artwork_type: Always :attr:`ArtworkType.SEGMENTATION`.
        parameters: What it was made with.
    """

    artwork_type: ArtworkType = attrs.field(
        default=ArtworkType.SEGMENTATION, converter=_artwork_type, **_kind(ArtworkType.SEGMENTATION)
    )
    parameters: SegmentationParameters = nested(SegmentationParameters)


@_artwork
@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class DepthMapArtwork(KnownArtwork):
    """A ``depth_map`` artwork: a grayscale depth image.

    Attributes:
        artwork_type: Always :attr:`ArtworkType.DEPTH_MAP`.
        parameters: What it was made with.
    """

    artwork_type: ArtworkType = attrs.field(
        default=ArtworkType.DEPTH_MAP, converter=_artwork_type, **_kind(ArtworkType.DEPTH_MAP)
    )
    parameters: DepthMapParameters = nested(DepthMapParameters)


def _copy(raw: Mapping[str, Any]) -> FrozenDict:
    # A read-only copy at every depth: nested objects the caller keeps must not change ``raw``.
    copy: FrozenDict = freeze(dict(raw))
    return copy


@attrs.frozen(kw_only=True, field_transformer=_WIRE_ORDER)
class UnknownArtwork:
    """An artwork of a kind this SDK does not know, kept whole instead of breaking a listing.

    The shared fields are read leniently: each is ``None`` where the JSON lacks it or does not
    have the shape every kind shares.

    Attributes:
        id: The id, or ``None``.
        artwork_type: The ``artworkType`` string the server sent.
        parameters: The ``parameters`` object (a read-only ``dict``), or ``None``.
        duration: Seconds the job took, or ``None``.
        results: The result URLs, or ``None``.
        status: Where the job stands, or ``None`` (also for a status this SDK does not know).
        created_at: When it was created, or ``None``.
    """

    id: uuid.UUID | None = None
    artwork_type: str = attrs.field(validator=attrs.validators.instance_of(str))
    parameters: Mapping[str, Any] | None = None
    duration: float | None = None
    results: tuple[str, ...] | None = None
    status: ArtworkStatus | None = None
    created_at: _dt.datetime | None = None
    # The API's object, frozen: given by hand it is copied; the converter freezes what it read.
    _raw: FrozenDict = attrs.field(converter=_copy, eq=False, repr=False)

    @property
    def raw(self) -> Mapping[str, Any]:
        """The JSON object exactly as the API sent it: a read-only ``dict`` at every depth."""
        return self._raw


#: One artwork of any kind: what a listing yields. ``converter.structure(obj, Artwork)``
#: structures JSON into it; every member has the shared fields.
Artwork = Union[  # noqa: UP007 - a runtime alias, also on 3.10
    SelenaArtwork,
    SelenaVarieteArtwork,
    QuantumArtwork,
    HamiltonArtwork,
    PhotoPilotArtwork,
    FaceRefinerArtwork,
    FaceSwapArtwork,
    UpscalingArtwork,
    DetailerUpscalerArtwork,
    RemoveBackgroundArtwork,
    SegmentationArtwork,
    DepthMapArtwork,
    UnknownArtwork,
]


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
