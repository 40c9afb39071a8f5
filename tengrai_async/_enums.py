"""The string enums of the spec (every kind of artwork), spelled exactly as on the wire.

Each member's value is the JSON string, so ``Style("stained-glass")`` and ``Style.STAINED_GLASS``
are the same thing and a member compares equal to its wire value.
"""

from __future__ import annotations

import enum

__all__ = [
    "ArtworkStatus",
    "ArtworkType",
    "AspectRatio",
    "CameraAngle",
    "ColorTone",
    "DepthModel",
    "Model",
    "NormalizationMode",
    "OutputFormat",
    "ProcessingMode",
    "PromptMode",
    "SegmentationMethod",
    "Style",
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


class ArtworkStatus(_WireEnum):
    """Where an artwork's generation stands."""

    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class Model(_WireEnum):
    """The generation models of the selena family and ``face_refiner``."""

    M_D_20231128 = "tengrai-20231128-m-d.safetensors"
    M_F_20240423 = "tengrai-20240423-m-f.safetensors"


class PromptMode(_WireEnum):
    """How the prompt is interpreted."""

    SEER = "seer"
    SERVITOR = "servitor"


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


class OutputFormat(_WireEnum):
    """The image format asked for; ``auto`` lets the server choose (a high-quality WebP)."""

    AUTO = "auto"
    PNG = "png"
    WEBP = "webp"


class ProcessingMode(_WireEnum):
    """How ``selena_variete`` turns its source image into a new one."""

    SKETCH_TO_IMAGE = "sketch-to-image"
    REIMAGINE = "reimagine"
    THREE_D = "3d"
    AI_RCHITECT = "ai-rchitect"
    HUMAN_POSE = "human-pose"
    RETAKE = "retake"


class SegmentationMethod(_WireEnum):
    """How a ``segmentation`` artwork chooses what to mask."""

    TEXT = "text"
    POINTS = "points"


class DepthModel(_WireEnum):
    """The DepthAnything models of ``depth_map``; V2 has only the first four."""

    GIANT = "giant"
    LARGE = "large"
    BASE = "base"
    SMALL = "small"
    MONO_LARGE = "mono_large"
    METRIC_LARGE = "metric_large"
    NESTED_GIANT_LARGE = "nested_giant_large"


class NormalizationMode(_WireEnum):
    """How ``depth_map`` (V3) normalizes depth values."""

    STANDARD = "Standard"
    V2_STYLE = "V2-Style"
    RAW = "Raw"
