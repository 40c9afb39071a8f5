"""tengrai-async: an async Python SDK for the Tengr.ai image generation API v2.

Typed, validated artwork models, a strict cattrs converter, and an aiohttp client with
concurrent, ordered auto-pagination.
"""

from __future__ import annotations

from ._client import ArtworksResource, TengrAI
from ._converter import TengrAIConverter, converter, make_converter
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
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientStateError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    TengrAIError,
    TransportError,
    ValidationError,
)
from ._models import Artwork, ArtworkPage, SelenaArtwork, SelenaParameters, UnknownArtwork
from ._pagination import ArtworkIterator, IterationStats
from ._transport import RetryPolicy
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "Artwork",
    "ArtworkIterator",
    "ArtworkPage",
    "ArtworkStatus",
    "ArtworkType",
    "ArtworksResource",
    "AspectRatio",
    "AuthenticationError",
    "BadRequestError",
    "CameraAngle",
    "ClientStateError",
    "ColorTone",
    "ConfigurationError",
    "IterationStats",
    "MalformedResponseError",
    "Model",
    "NotFoundError",
    "PermissionDeniedError",
    "PromptMode",
    "RateLimitError",
    "ResponseValidationError",
    "RetryPolicy",
    "SelenaArtwork",
    "SelenaParameters",
    "ServerError",
    "Style",
    "TengrAI",
    "TengrAIConverter",
    "TengrAIError",
    "TransportError",
    "UnknownArtwork",
    "ValidationError",
    "__version__",
    "converter",
    "make_converter",
]
