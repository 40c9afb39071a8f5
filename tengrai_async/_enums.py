"""The string enums of the spec (every kind of artwork), spelled exactly as on the wire.

Each member's value is the JSON string, so ``Style("stained-glass")`` and ``Style.STAINED_GLASS``
are the same thing and a member compares equal to its wire value.

Each enum has a ``Literal`` alias of its values (``StyleName`` for ``Style``), and the enums
that each kind accepts only part of have one per subset (``HamiltonStyleName``): the models'
constructors take a member or its wire string, and these aliases are how type checkers know
which strings. They are written out because checkers cannot compute them; a test pins each to
its enum, or to its subset in the rule table.
"""

from __future__ import annotations

import enum
from typing import Literal, TypeAlias

__all__ = [
    "ArtworkStatus",
    "ArtworkStatusName",
    "ArtworkType",
    "ArtworkTypeName",
    "AspectRatio",
    "AspectRatioName",
    "CameraAngle",
    "CameraAngleName",
    "ColorTone",
    "ColorToneName",
    "DepthModel",
    "DepthModelName",
    "HamiltonStyleName",
    "ImageFormatName",
    "Model",
    "ModelName",
    "NormalizationMode",
    "NormalizationModeName",
    "OutputFormat",
    "OutputFormatName",
    "ProcessingMode",
    "ProcessingModeName",
    "PromptMode",
    "PromptModeName",
    "QuantumAspectRatioName",
    "QuantumStyleName",
    "SegmentationMethod",
    "SegmentationMethodName",
    "SelenaAspectRatioName",
    "SelenaStyleName",
    "Style",
    "StyleName",
]


class _WireEnum(str, enum.Enum):
    """A ``str`` enum whose ``str()`` is its wire value (``StrEnum`` needs Python 3.11)."""

    def __str__(self) -> str:
        return str.__str__(self)


class ArtworkType(_WireEnum):
    """The twelve documented kinds of artwork (the ``artworkType`` discriminator).

    A listing may also hold kinds outside this enum (Style DNA jobs, kinds added later): those
    come through as :class:`~tengrai_async.UnknownArtwork`.
    """

    SELENA = "selena"
    SELENA_VARIETE = "selena_variete"
    QUANTUM = "quantum"
    HAMILTON = "hamilton"
    PHOTO_PILOT = "photo_pilot"
    FACE_REFINER = "face_refiner"
    FACE_SWAP = "face_swap"
    UPSCALING_V2 = "upscaling_v2"
    DETAILER_UPSCALER = "detailer_upscaler"
    REMOVE_BACKGROUND = "remove_background"
    SEGMENTATION = "segmentation"
    DEPTH_MAP = "depth_map"


#: The wire values of :class:`ArtworkType`.
ArtworkTypeName: TypeAlias = Literal[
    "selena",
    "selena_variete",
    "quantum",
    "hamilton",
    "photo_pilot",
    "face_refiner",
    "face_swap",
    "upscaling_v2",
    "detailer_upscaler",
    "remove_background",
    "segmentation",
    "depth_map",
]


class ArtworkStatus(_WireEnum):
    """Where an artwork's generation stands."""

    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


#: The wire values of :class:`ArtworkStatus`.
ArtworkStatusName: TypeAlias = Literal["starting", "processing", "succeeded", "failed", "canceled"]


class Model(_WireEnum):
    """The generation models of the selena family and ``face_refiner``."""

    M_D_20231128 = "tengrai-20231128-m-d.safetensors"
    M_F_20240423 = "tengrai-20240423-m-f.safetensors"


#: The wire values of :class:`Model`.
ModelName: TypeAlias = Literal[
    "tengrai-20231128-m-d.safetensors", "tengrai-20240423-m-f.safetensors"
]


class PromptMode(_WireEnum):
    """How the prompt is interpreted."""

    SEER = "seer"
    SERVITOR = "servitor"


#: The wire values of :class:`PromptMode`.
PromptModeName: TypeAlias = Literal["seer", "servitor"]


class Style(_WireEnum):
    """Every visual style of every kind; each kind accepts its own subset (see ``_rules``).

    The first 25 are the styles of ``selena`` and ``selena_variete``; ``quantum`` adds
    ``tengrai-anime`` and ``folktale``; ``hamilton`` has a list of its own.
    """

    DEFAULT = "default"
    PORTRAITURE = "portraiture"
    LANDSCAPE = "landscape"
    PHOTOGRAPHER = "photographer"
    ANALOG = "analog"
    CAR = "car"
    FOOD = "food"
    HORROR = "horror"
    STAINED_GLASS = "stained-glass"
    IMPASTO = "impasto"
    ABSTRACT_INK = "abstract-ink"
    ILLUSTRATION = "illustration"
    AQUARELLE = "aquarelle"
    WATER_CUTE = "water-cute"
    SPHERICUTE = "sphericute"
    FAIRYTALE = "fairytale"
    MACHINART = "machinart"
    ISOMETRIC = "isometric"
    LOGO = "logo"
    ABSTRACTPEN = "abstractpen"
    LINEART = "lineart"
    MANGA = "manga"
    INFINY_WEAVE = "infiny-weave"
    INFINY_PATTERN = "infiny-pattern"
    INFINY_FLOW = "infiny-flow"
    TENGRAI_ANIME = "tengrai-anime"
    FOLKTALE = "folktale"
    LINE_DRAWING = "line-drawing"
    SIMPLE_SKETCH = "simple-sketch"
    HAND_SKETCH = "hand-sketch"
    COLORING_BOOK = "coloring-book"
    PLASTICINE = "plasticine"
    ABSTRACT_FLAT = "abstract-flat"
    SURREAL = "surreal"


#: The 25 styles of ``selena`` and ``selena_variete``.
SelenaStyleName: TypeAlias = Literal[
    "default",
    "portraiture",
    "landscape",
    "photographer",
    "analog",
    "car",
    "food",
    "horror",
    "stained-glass",
    "impasto",
    "abstract-ink",
    "illustration",
    "aquarelle",
    "water-cute",
    "sphericute",
    "fairytale",
    "machinart",
    "isometric",
    "logo",
    "abstractpen",
    "lineart",
    "manga",
    "infiny-weave",
    "infiny-pattern",
    "infiny-flow",
]
#: The styles of ``quantum``: selena's and two more.
QuantumStyleName: TypeAlias = Literal[SelenaStyleName, "tengrai-anime", "folktale"]
#: The twelve styles of ``hamilton``.
HamiltonStyleName: TypeAlias = Literal[
    "default",
    "photographer",
    "analog",
    "stained-glass",
    "manga",
    "line-drawing",
    "simple-sketch",
    "hand-sketch",
    "coloring-book",
    "plasticine",
    "abstract-flat",
    "surreal",
]
#: The wire values of :class:`Style`: every kind's styles (quantum's and hamilton's own seven).
StyleName: TypeAlias = Literal[
    QuantumStyleName,
    "line-drawing",
    "simple-sketch",
    "hand-sketch",
    "coloring-book",
    "plasticine",
    "abstract-flat",
    "surreal",
]


class AspectRatio(_WireEnum):
    """Width-to-height ratios of every kind; each kind accepts its own subset (see ``_rules``).

    The first eleven are the selena family's; ``quantum``, ``hamilton`` and ``photo_pilot``
    take seven, two of them (``3:4``, ``4:3``) their own.
    """

    R_1_1 = "1:1"
    R_7_9 = "7:9"
    R_2_3 = "2:3"
    R_4_7 = "4:7"
    R_9_16 = "9:16"
    R_9_21 = "9:21"
    R_9_7 = "9:7"
    R_3_2 = "3:2"
    R_7_4 = "7:4"
    R_16_9 = "16:9"
    R_21_9 = "21:9"
    R_3_4 = "3:4"
    R_4_3 = "4:3"


#: The eleven ratios of ``selena`` and ``selena_variete``.
SelenaAspectRatioName: TypeAlias = Literal[
    "1:1", "7:9", "2:3", "4:7", "9:16", "9:21", "9:7", "3:2", "7:4", "16:9", "21:9"
]
#: The seven ratios of ``quantum``, also those of ``hamilton`` and ``photo_pilot``.
QuantumAspectRatioName: TypeAlias = Literal["1:1", "2:3", "9:16", "3:2", "16:9", "3:4", "4:3"]
#: The wire values of :class:`AspectRatio`: every kind's ratios (selena's and quantum's two own).
AspectRatioName: TypeAlias = Literal[SelenaAspectRatioName, "3:4", "4:3"]


class ColorTone(_WireEnum):
    """A colour tone prepended to the prompt."""

    COOL = "cool"
    WARM = "warm"
    BLACK_AND_WHITE = "blackAndWhite"
    PASTEL = "pastel"
    VIBRANT_COLORS = "vibrantColors"
    SEPIA = "sepia"
    MUTED_COLORS = "mutedColors"
    NEON_COLORS = "neonColors"


#: The wire values of :class:`ColorTone`.
ColorToneName: TypeAlias = Literal[
    "cool",
    "warm",
    "blackAndWhite",
    "pastel",
    "vibrantColors",
    "sepia",
    "mutedColors",
    "neonColors",
]


class CameraAngle(_WireEnum):
    """A camera angle prepended to the prompt."""

    CLOSE_UP = "closeUp"
    EYE_LEVEL = "eyeLevel"
    LOW_ANGLE = "lowAngle"
    HIGH_ANGLE = "highAngle"
    WORMS_EYE = "wormsEye"
    BIRDS_EYE = "birdsEye"
    FISH_EYE = "fishEye"
    AERIAL_VIEW = "aerialView"
    DUTCH_ANGLE = "dutchAngle"
    FIRST_PERSON_VIEW = "firstPersonView"


#: The wire values of :class:`CameraAngle`.
CameraAngleName: TypeAlias = Literal[
    "closeUp",
    "eyeLevel",
    "lowAngle",
    "highAngle",
    "wormsEye",
    "birdsEye",
    "fishEye",
    "aerialView",
    "dutchAngle",
    "firstPersonView",
]


class OutputFormat(_WireEnum):
    """The image format asked for; ``auto`` lets the server choose (a high-quality WebP)."""

    AUTO = "auto"
    PNG = "png"
    WEBP = "webp"


#: The wire values of :class:`OutputFormat`.
OutputFormatName: TypeAlias = Literal["auto", "png", "webp"]
#: The formats of ``remove_background``'s ``image_format``: no ``auto``.
ImageFormatName: TypeAlias = Literal["png", "webp"]


class ProcessingMode(_WireEnum):
    """How ``selena_variete`` turns its source image into a new one."""

    SKETCH_TO_IMAGE = "sketch-to-image"
    REIMAGINE = "reimagine"
    THREE_D = "3d"
    AI_RCHITECT = "ai-rchitect"
    HUMAN_POSE = "human-pose"
    RETAKE = "retake"


#: The wire values of :class:`ProcessingMode`.
ProcessingModeName: TypeAlias = Literal[
    "sketch-to-image", "reimagine", "3d", "ai-rchitect", "human-pose", "retake"
]


class SegmentationMethod(_WireEnum):
    """How a ``segmentation`` artwork chooses what to mask."""

    TEXT = "text"
    POINTS = "points"


#: The wire values of :class:`SegmentationMethod`.
SegmentationMethodName: TypeAlias = Literal["text", "points"]


class DepthModel(_WireEnum):
    """The DepthAnything models of ``depth_map``; V2 has only the first four."""

    GIANT = "giant"
    LARGE = "large"
    BASE = "base"
    SMALL = "small"
    MONO_LARGE = "mono_large"
    METRIC_LARGE = "metric_large"
    NESTED_GIANT_LARGE = "nested_giant_large"


#: The wire values of :class:`DepthModel`.
DepthModelName: TypeAlias = Literal[
    "giant", "large", "base", "small", "mono_large", "metric_large", "nested_giant_large"
]


class NormalizationMode(_WireEnum):
    """How ``depth_map`` (V3) normalizes depth values."""

    STANDARD = "Standard"
    V2_STYLE = "V2-Style"
    RAW = "Raw"


#: The wire values of :class:`NormalizationMode`.
NormalizationModeName: TypeAlias = Literal["Standard", "V2-Style", "Raw"]
