"""The string enums of the Find-artworks spec, spelled exactly as on the wire.

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
    "Model",
    "PromptMode",
    "Style",
]


class _WireEnum(str, enum.Enum):
    """A ``str`` enum whose ``str()`` is its wire value (``StrEnum`` needs Python 3.11)."""

    def __str__(self) -> str:
        return str.__str__(self)


class ArtworkType(_WireEnum):
    """The kinds of artwork the SDK knows (the ``artworkType`` discriminator)."""

    SELENA = "selena"


class ArtworkStatus(_WireEnum):
    """Where an artwork's generation stands."""

    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class Model(_WireEnum):
    """The generation models a ``selena`` artwork can name."""

    M_D_20231128 = "tengrai-20231128-m-d.safetensors"
    M_F_20240423 = "tengrai-20240423-m-f.safetensors"


class PromptMode(_WireEnum):
    """How the prompt is interpreted."""

    SEER = "seer"
    SERVITOR = "servitor"


class Style(_WireEnum):
    """The visual styles of a ``selena`` artwork."""

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


class AspectRatio(_WireEnum):
    """Width-to-height ratios; ``1:1`` (1024 x 1024) when neither this nor a size is given."""

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
