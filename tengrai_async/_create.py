"""What a create request of each kind is: its path, its kind, its parameters, their rules.

:func:`build_body` checks the arguments of a ``create_*`` call against every rule of the kind
(the models' rules, the cross-field ones, the request-only ones) and builds the JSON body
holding exactly the arguments given, in their wire names; nothing is sent on a broken rule.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping
from typing import Any, Final, Generic, TypeVar

import attrs
import yarl

from ._codegen import camel_case
from ._converter import converter
from ._enums import ArtworkType, SegmentationMethod
from ._errors import InvalidParameterError
from ._fields import NESTED, RULE, WireModel
from ._models import (
    DepthMapArtwork,
    DetailerUpscalerArtwork,
    FaceRefinerArtwork,
    FaceSwapArtwork,
    HamiltonArtwork,
    KnownArtwork,
    QuantumArtwork,
    RemoveBackgroundArtwork,
    SegmentationArtwork,
    SelenaVarieteArtwork,
    UpscalingArtwork,
)
from ._parameters import (
    DepthMapParameters,
    DetailerUpscalerParameters,
    FaceRefinerParameters,
    FaceSwapParameters,
    HamiltonParameters,
    QuantumParameters,
    RemoveBackgroundParameters,
    SegmentationParameters,
    SelenaVarieteParameters,
    UpscalingParameters,
)
from ._sansio import ARTWORKS_PATH

__all__ = [
    "CREATE_KINDS",
    "CreateKind",
    "build_body",
    "check_webhook",
    "parameter_fields",
]

A = TypeVar("A", bound=KnownArtwork)

_REQUIRED: Final = "given (it is required in the request)"
_METADATA_HOSTS: Final = frozenset({"metadata.google.internal", "metadata"})


@attrs.frozen
class CreateKind(Generic[A]):
    """One kind that has a documented ``POST /v2/artworks/<segment>``.

    Attributes:
        artwork_type: The ``artworkType`` of the artworks it makes.
        segment: The last segment of its path (``selena-variete``), also the CLI's ``KIND``.
        parameters: Its ``<Kind>Parameters`` class: one argument per field.
        artwork: Its artwork class, what ``create_<kind>`` returns.
        required: The fields the spec marks *required in the request* (snake_case).
        summary: What the kind makes, in a few words (for ``--help``).
    """

    artwork_type: ArtworkType
    segment: str
    parameters: type[WireModel]
    artwork: type[A]
    required: tuple[str, ...] = ()
    summary: str = ""

    @property
    def path(self) -> str:
        """The request's path: ``/v2/artworks/<segment>``."""
        return f"{ARTWORKS_PATH}/{self.segment}"

    @property
    def method(self) -> str:
        """The name of the client's method: ``create_<segment in snake_case>``."""
        return "create_" + self.segment.replace("-", "_")


QUANTUM: Final = CreateKind(
    ArtworkType.QUANTUM,
    "quantum",
    QuantumParameters,
    QuantumArtwork,
    (),
    "text to image, Quantum model",
)
HAMILTON: Final = CreateKind(
    ArtworkType.HAMILTON,
    "hamilton",
    HamiltonParameters,
    HamiltonArtwork,
    (),
    "text to image, Hamilton model",
)
SELENA_VARIETE: Final = CreateKind(
    ArtworkType.SELENA_VARIETE,
    "selena-variete",
    SelenaVarieteParameters,
    SelenaVarieteArtwork,
    (),
    "a new image made from a source image",
)
FACE_REFINER: Final = CreateKind(
    ArtworkType.FACE_REFINER,
    "face-refiner",
    FaceRefinerParameters,
    FaceRefinerArtwork,
    ("image_url",),
    "reworks the faces in an image",
)
FACE_SWAP: Final = CreateKind(
    ArtworkType.FACE_SWAP,
    "face-swap",
    FaceSwapParameters,
    FaceSwapArtwork,
    ("source_image", "target_image"),
    "puts one image's face into another",
)
UPSCALING: Final = CreateKind(
    ArtworkType.UPSCALING_V2,
    "upscaling",
    UpscalingParameters,
    UpscalingArtwork,
    ("image_url",),
    "enlarges an image",
)
DETAILER_UPSCALER: Final = CreateKind(
    ArtworkType.DETAILER_UPSCALER,
    "detailer-upscaler",
    DetailerUpscalerParameters,
    DetailerUpscalerArtwork,
    ("image_url",),
    "adds detail, optionally enlarging",
)
REMOVE_BACKGROUND: Final = CreateKind(
    ArtworkType.REMOVE_BACKGROUND,
    "remove-background",
    RemoveBackgroundParameters,
    RemoveBackgroundArtwork,
    ("image_url",),
    "cuts the subject out of its background",
)
SEGMENTATION: Final = CreateKind(
    ArtworkType.SEGMENTATION,
    "segmentation",
    SegmentationParameters,
    SegmentationArtwork,
    ("image_url", "method"),
    "masks parts of an image, chosen by text or by points",
)
DEPTH_MAP: Final = CreateKind(
    ArtworkType.DEPTH_MAP,
    "depth-map",
    DepthMapParameters,
    DepthMapArtwork,
    ("image_url",),
    "a grayscale depth image",
)

#: Every kind with a documented create path, by its path's last segment, in the docs' order.
#: ``selena`` and ``photo_pilot`` have none: the v2 docs document no create path for them.
CREATE_KINDS: Final[Mapping[str, CreateKind[Any]]] = {
    kind.segment: kind
    for kind in (
        QUANTUM,
        HAMILTON,
        SELENA_VARIETE,
        FACE_REFINER,
        FACE_SWAP,
        UPSCALING,
        DETAILER_UPSCALER,
        REMOVE_BACKGROUND,
        SEGMENTATION,
        DEPTH_MAP,
    )
}


@functools.cache
def parameter_fields(kind: CreateKind[Any]) -> tuple[attrs.Attribute[Any], ...]:
    """The fields of the kind's parameters class, one per argument, in wire order."""
    return tuple(field for field in attrs.fields(kind.parameters) if field.init)


@functools.cache
def _names(kind: CreateKind[Any]) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    """The kind's argument names, and each with its wire name (worked out once per kind)."""
    fields = parameter_fields(kind)
    return (
        frozenset(field.name for field in fields),
        tuple((field.name, camel_case(field.name)) for field in fields),
    )


def check_webhook(url: str) -> str | None:
    """What is wrong with *url* as a request's ``webhook``, or ``None`` when nothing is.

    The newer docs take only HTTPS to a host reachable from the public internet: loopback,
    link-local, private-network and cloud-metadata hosts are turned away. Host names are not
    resolved (that would be a DNS lookup per create); literal addresses and the well-known
    local names are checked.
    """
    try:
        parsed = yarl.URL(url)
    except (TypeError, ValueError):
        return "an https:// URL"
    if parsed.scheme != "https" or not parsed.host:
        return "an https:// URL (the API takes no other webhook)"
    host = parsed.host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost") or host in _METADATA_HOSTS:
        return "an https:// URL of a publicly reachable host"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if not address.is_global:
        return "an https:// URL of a publicly reachable host"
    return None


def build_body(kind: CreateKind[Any], given: Mapping[str, object]) -> dict[str, Any]:
    """Check *given* (argument name to value; ``None`` is not given) and build the body.

    The body holds exactly the arguments given, in their wire names and wire values: a
    field left out is not sent, so the server's own default applies.

    Raises:
        InvalidParameterError: A value breaks a rule of the kind, a required one is missing,
            or a request-only rule is broken; named by its wire name.
    """
    fields = parameter_fields(kind)
    known, wires = _names(kind)
    unknown = given.keys() - known
    if unknown:  # the typed methods cannot pass one; the CLI and the fake server might
        name = min(unknown)
        raise InvalidParameterError(camel_case(name), given[name], f"a {kind.segment} parameter")
    values: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for field, (name, wire) in zip(fields, wires, strict=True):
        value = given.get(name)
        if value is None:
            if name in kind.required:
                raise InvalidParameterError(wire, None, _REQUIRED)
            continue
        values[name], body[wire] = _checked(field, wire, value)
    for rule in kind.parameters.__cross_rules__:
        if not rule.accepts(values):
            wire = camel_case(rule.field)
            raise InvalidParameterError(wire, body.get(wire), _wire_words(rule.expected, fields))
    _check_request_rules(kind, values, body)
    return body


def _checked(field: attrs.Attribute[Any], wire: str, value: object) -> tuple[Any, Any]:
    """The Python value and the wire value of one argument, or the error of its rule."""
    nested: type | None = field.metadata.get(NESTED)
    if nested is not None:
        if not isinstance(value, nested):
            raise InvalidParameterError(wire, value, f"a {nested.__name__}")
        return value, converter.unstructure(value)
    rule = field.metadata[RULE]
    attribute: Any = field  # attrs types a converter loosely
    convert: Any = attribute.converter
    converted: Any = convert(value) if convert is not None else value
    if not rule.accepts(converted):
        raise InvalidParameterError(wire, value, rule.expected)
    if wire == "webhook":
        problem = check_webhook(converted)
        if problem is not None:
            raise InvalidParameterError(wire, value, problem)
    wire_value = converted.value if hasattr(converted, "value") else converted
    return converted, wire_value


def _check_request_rules(
    kind: CreateKind[Any], values: Mapping[str, Any], body: Mapping[str, Any]
) -> None:
    """The rules the spec states on requests only (never checked on a response)."""
    if kind is SEGMENTATION and values.get("method") is SegmentationMethod.TEXT:
        prompt = values.get("text_prompt")
        if prompt is None or not prompt.strip():
            raise InvalidParameterError(
                "textPrompt", body.get("textPrompt"), "a text prompt when method is 'text'"
            )


def _wire_words(text: str, fields: tuple[attrs.Attribute[Any], ...]) -> str:
    """A rule's words with its field names in their wire spelling."""
    for field in fields:
        if "_" in field.name:
            text = re.sub(rf"\b{field.name}\b", camel_case(field.name), text)
    return text
