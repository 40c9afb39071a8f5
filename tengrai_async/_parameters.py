"""The ``parameters`` of each kind of artwork: frozen, slotted, keyword-only attrs classes.

``parameters`` echoes the request, so every field is optional: a missing key takes the
documented default, or ``None`` where the docs give none. Each field's rule comes from the rule
table in ``_rules``; keys the docs do not let us read are not modelled and survive in ``raw``.

An enum field takes a member or its wire string (``style="car"``) and holds the member. Its
typed converter below says which strings, for type checkers: the kind's own subset where the
kind accepts only part of the enum (``hamilton``'s twelve styles).
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from . import _rules as R  # noqa: N812 - the rule table reads best as R.SEED, R.LEVEL
from ._enums import (
    AspectRatio,
    CameraAngle,
    CameraAngleName,
    ColorTone,
    ColorToneName,
    DepthModel,
    DepthModelName,
    HamiltonStyleName,
    ImageFormatName,
    Model,
    ModelName,
    NormalizationMode,
    NormalizationModeName,
    OutputFormat,
    OutputFormatName,
    ProcessingMode,
    ProcessingModeName,
    PromptMode,
    PromptModeName,
    QuantumAspectRatioName,
    QuantumStyleName,
    SegmentationMethod,
    SegmentationMethodName,
    SelenaAspectRatioName,
    SelenaStyleName,
    Style,
)
from ._fields import WireModel, checked, member, nested, ruled

__all__ = [
    "DepthMapParameters",
    "DetailerUpscalerParameters",
    "FaceRefinerParameters",
    "FaceSwapParameters",
    "HamiltonParameters",
    "PhotoPilotParameters",
    "QuantumParameters",
    "RemoveBackgroundParameters",
    "SegmentationParameters",
    "SegmentationPoints",
    "SelenaParameters",
    "SelenaVarieteParameters",
    "UpscalingParameters",
]

_MODEL = R.OneOf(Model)
_PROMPT_MODE = R.OneOf(PromptMode)
_OUTPUT_FORMAT = R.OneOf(OutputFormat)
_COLOR_TONE = R.OneOf(ColorTone)
_CAMERA_ANGLE = R.OneOf(CameraAngle)
_PROCESSING_MODE = R.OneOf(ProcessingMode)
_SEGMENTATION_METHOD = R.OneOf(SegmentationMethod)
_DEPTH_MODEL = R.OneOf(DepthModel)
_NORMALIZATION_MODE = R.OneOf(NormalizationMode)


# --- the enum fields' typed converters --------------------------------------------------------
# Mypy's attrs plugin and pyright type a constructor parameter by its converter's parameter:
# these say which wire strings each field takes (the rule's members, written as a Literal).
# Each converts through its field's rule, as ``checked`` would; a test pins each to its rule.


def _model(value: Model | ModelName | None) -> Model | None:
    return None if value is None else member(_MODEL, value)


def _prompt_mode(value: PromptMode | PromptModeName) -> PromptMode:
    return member(_PROMPT_MODE, value)


def _output_format(value: OutputFormat | OutputFormatName) -> OutputFormat:
    return member(_OUTPUT_FORMAT, value)


def _image_format(value: OutputFormat | ImageFormatName) -> OutputFormat:
    return member(R.IMAGE_FORMAT, value)


def _selena_style(value: Style | SelenaStyleName) -> Style:
    return member(R.SELENA_STYLE, value)


def _quantum_style(value: Style | QuantumStyleName | None) -> Style | None:
    return None if value is None else member(R.QUANTUM_STYLE, value)


def _hamilton_style(value: Style | HamiltonStyleName | None) -> Style | None:
    return None if value is None else member(R.HAMILTON_STYLE, value)


def _selena_ratio(value: AspectRatio | SelenaAspectRatioName | None) -> AspectRatio | None:
    return None if value is None else member(R.RATIOS_11, value)


def _quantum_ratio(value: AspectRatio | QuantumAspectRatioName | None) -> AspectRatio | None:
    return None if value is None else member(R.RATIOS_7, value)


def _color_tone(value: ColorTone | ColorToneName | None) -> ColorTone | None:
    return None if value is None else member(_COLOR_TONE, value)


def _camera_angle(value: CameraAngle | CameraAngleName | None) -> CameraAngle | None:
    return None if value is None else member(_CAMERA_ANGLE, value)


def _processing_mode(value: ProcessingMode | ProcessingModeName | None) -> ProcessingMode | None:
    return None if value is None else member(_PROCESSING_MODE, value)


def _segmentation_method(
    value: SegmentationMethod | SegmentationMethodName | None,
) -> SegmentationMethod | None:
    return None if value is None else member(_SEGMENTATION_METHOD, value)


def _depth_model(value: DepthModel | DepthModelName) -> DepthModel:
    return member(_DEPTH_MODEL, value)


def _normalization_mode(value: NormalizationMode | NormalizationModeName) -> NormalizationMode:
    return member(_NORMALIZATION_MODE, value)


@attrs.frozen(kw_only=True)
class SelenaParameters(WireModel):
    """The parameters of a ``selena`` artwork (text to image).

    Attributes:
        model: The generation model.
        batch: Images per task, 1 to 2.
        prompt_mode: How the prompt is read: ``seer`` rewrites it, ``servitor`` keeps it.
        prompt: The prompt (the server truncates it past 256 words).
        negative_prompt: What to keep out of the image (truncated past 64 words).
        style: One of the 25 selena styles.
        creativity: 1 to 5.
        details: 1 to 5.
        aspect_ratio: One of the eleven selena ratios; 1:1 when neither it nor a size is given.
        width: 512 to 2048 pixels.
        height: 512 to 2048 pixels; ``width * height <= 1,478,656`` when both are set.
        nsfw: When false, safety terms are added to the negative prompt.
        transparent_background: Whether the background is transparent.
        color_tone: A colour tone prepended to the prompt.
        camera_angle: A camera angle prepended to the prompt.
        webhook: Where the server POSTs the final result.
    """

    __cross_rules__: ClassVar[tuple[R.CrossRule, ...]] = (R.AREA,)

    model: Model | None = attrs.field(default=None, converter=_model, **ruled(_MODEL))
    batch: int = checked(R.BATCH, default=2)
    prompt_mode: PromptMode = attrs.field(
        default=PromptMode.SERVITOR, converter=_prompt_mode, **ruled(_PROMPT_MODE)
    )
    prompt: str = checked(R.Text(), default="cat")
    negative_prompt: str | None = checked(R.Text(), default=None)
    style: Style = attrs.field(
        default=Style.DEFAULT, converter=_selena_style, **ruled(R.SELENA_STYLE)
    )
    creativity: int = checked(R.LEVEL, default=3)
    details: int = checked(R.LEVEL, default=3)
    aspect_ratio: AspectRatio | None = attrs.field(
        default=None, converter=_selena_ratio, **ruled(R.RATIOS_11)
    )
    width: int | None = checked(R.DIMENSION, default=None)
    height: int | None = checked(R.DIMENSION, default=None)
    nsfw: bool = checked(R.Boolean(), default=False)
    transparent_background: bool | None = checked(R.Boolean(), default=None)
    color_tone: ColorTone | None = attrs.field(
        default=None, converter=_color_tone, **ruled(_COLOR_TONE)
    )
    camera_angle: CameraAngle | None = attrs.field(
        default=None, converter=_camera_angle, **ruled(_CAMERA_ANGLE)
    )
    webhook: str | None = checked(R.Uri(), default=None)


@attrs.frozen(kw_only=True)
class SelenaVarieteParameters(WireModel):
    """The parameters of a ``selena_variete`` artwork (a new image made from a source image).

    Attributes:
        image_url: The source image.
        model: The generation model.
        batch: How many images, 1 to 2.
        prompt: The prompt.
        negative_prompt: What to keep out of the image.
        style: One of the 25 selena styles.
        processing_mode: How the source is used (``sketch-to-image``, ``reimagine``, ...).
        prompt_mode: How the prompt is read.
        creativity: 1 to 5.
        details: 1 to 5.
        denoising: 1 to 5 (no effect in the modes that generate from scratch).
        aspect_ratio: One of the eleven selena ratios.
        width: 512 to 2048 pixels.
        height: 512 to 2048 pixels; ``width * height <= 1,478,656`` when both are set.
        nsfw: When false, safety terms are added to the negative prompt.
        webhook: Where the server POSTs the final result.
    """

    __cross_rules__: ClassVar[tuple[R.CrossRule, ...]] = (R.AREA,)

    image_url: str | None = checked(R.Uri(), default=None)
    model: Model | None = attrs.field(default=None, converter=_model, **ruled(_MODEL))
    batch: int = checked(R.BATCH, default=2)
    prompt: str = checked(R.Text(), default="cat")
    negative_prompt: str | None = checked(R.Text(), default=None)
    style: Style = attrs.field(
        default=Style.DEFAULT, converter=_selena_style, **ruled(R.SELENA_STYLE)
    )
    processing_mode: ProcessingMode | None = attrs.field(
        default=None, converter=_processing_mode, **ruled(_PROCESSING_MODE)
    )
    prompt_mode: PromptMode = attrs.field(
        default=PromptMode.SERVITOR, converter=_prompt_mode, **ruled(_PROMPT_MODE)
    )
    creativity: int = checked(R.LEVEL, default=3)
    details: int = checked(R.LEVEL, default=3)
    denoising: int = checked(R.LEVEL, default=3)
    aspect_ratio: AspectRatio | None = attrs.field(
        default=None, converter=_selena_ratio, **ruled(R.RATIOS_11)
    )
    width: int | None = checked(R.DIMENSION, default=None)
    height: int | None = checked(R.DIMENSION, default=None)
    nsfw: bool = checked(R.Boolean(), default=False)
    webhook: str | None = checked(R.Uri(), default=None)


@attrs.frozen(kw_only=True)
class QuantumParameters(WireModel):
    """The parameters of a ``quantum`` artwork (text to image, Quantum model).

    Attributes:
        prompt: The prompt (at most 200 words; empty falls back on the style's own prompt).
        negative_prompt: What to keep out of the image (at most 64 words).
        style: One of the 25 selena styles, ``tengrai-anime`` or ``folktale``.
        prompt_mode: How the prompt is read.
        aspect_ratio: One of seven ratios; 1:1 at 1024 x 1024 when neither it nor a size is set.
        width: 512 to 1360 pixels.
        height: 512 to 1360 pixels; ``width * height <= 1,478,656`` when both are set.
        nsfw: When false, safety terms are added to the negative prompt.
        transparent_background: Whether the background is transparent.
        seed: 1 to 2,147,483,647; absent means a random seed.
        webhook: Where the server POSTs the final result.
    """

    __cross_rules__: ClassVar[tuple[R.CrossRule, ...]] = (R.AREA,)

    prompt: str | None = checked(R.Text(), default=None)
    negative_prompt: str | None = checked(R.Text(), default=None)
    style: Style | None = attrs.field(
        default=None, converter=_quantum_style, **ruled(R.QUANTUM_STYLE)
    )
    prompt_mode: PromptMode = attrs.field(
        default=PromptMode.SERVITOR, converter=_prompt_mode, **ruled(_PROMPT_MODE)
    )
    aspect_ratio: AspectRatio | None = attrs.field(
        default=None, converter=_quantum_ratio, **ruled(R.RATIOS_7)
    )
    width: int | None = checked(R.QUANTUM_DIMENSION, default=None)
    height: int | None = checked(R.QUANTUM_DIMENSION, default=None)
    nsfw: bool = checked(R.Boolean(), default=False)
    transparent_background: bool | None = checked(R.Boolean(), default=None)
    seed: int | None = checked(R.SEED, default=None)
    webhook: str | None = checked(R.Uri(), default=None)


@attrs.frozen(kw_only=True)
class HamiltonParameters(WireModel):
    """The parameters of a ``hamilton`` artwork (text to image, Hamilton model).

    Attributes:
        prompt: The prompt (at most 256 words).
        negative_prompt: What to keep out of the image.
        style: One of the twelve hamilton styles.
        prompt_mode: How the prompt is read.
        creativity: 1 to 5, the CFG scale.
        effort: 1 (fastest) to 5 (best quality).
        aspect_ratio: One of seven ratios.
        width: 512 to 2048 pixels.
        height: 512 to 2048 pixels; ``width * height <= 1,478,656`` when both are set, or
            ``1,763,584`` when ``high_resolution`` is true.
        nsfw: When false, safety terms are added to the negative prompt.
        transparent_background: Whether the background is transparent.
        high_resolution: A larger image (1328 x 1328 rather than 1024 x 1024 at 1:1).
        webhook: Where the server POSTs the final result.
    """

    __cross_rules__: ClassVar[tuple[R.CrossRule, ...]] = (R.HIGH_RESOLUTION_AREA,)

    prompt: str = checked(R.Text(), default="cat")
    negative_prompt: str | None = checked(R.Text(), default=None)
    style: Style | None = attrs.field(
        default=None, converter=_hamilton_style, **ruled(R.HAMILTON_STYLE)
    )
    prompt_mode: PromptMode = attrs.field(
        default=PromptMode.SERVITOR, converter=_prompt_mode, **ruled(_PROMPT_MODE)
    )
    creativity: int = checked(R.LEVEL, default=3)
    effort: int = checked(R.LEVEL, default=3)
    aspect_ratio: AspectRatio | None = attrs.field(
        default=None, converter=_quantum_ratio, **ruled(R.RATIOS_7)
    )
    width: int | None = checked(R.DIMENSION, default=None)
    height: int | None = checked(R.DIMENSION, default=None)
    nsfw: bool = checked(R.Boolean(), default=False)
    transparent_background: bool | None = checked(R.Boolean(), default=None)
    high_resolution: bool | None = checked(R.Boolean(), default=None)
    webhook: str | None = checked(R.Uri(), default=None)


@attrs.frozen(kw_only=True)
class PhotoPilotParameters(WireModel):
    """The parameters of a ``photo_pilot`` artwork (a source photo guided by a prompt).

    Its only schema types its numbers as JSON numbers, so they are floats here.

    Attributes:
        prompt: The prompt.
        negative_prompt: What to keep out of the image.
        image_guidance: 1, 2 or 3: how closely the source is followed.
        modification: 1 to 5.
        creativity: 1 to 5.
        effort: 1 to 5.
        aspect_ratio: One of seven ratios (honoured only at low guidance).
        high_resolution: Raises the area cap.
        width: 512 to 2048 pixels (honoured only at low guidance).
        height: 512 to 2048 pixels; ``width * height <= 1,478,656`` when both are set, or
            ``1,763,584`` when ``high_resolution`` is true.
        image_url: The source image.
        webhook: Where the server POSTs the final result.
    """

    __cross_rules__: ClassVar[tuple[R.CrossRule, ...]] = (R.HIGH_RESOLUTION_AREA,)

    prompt: str = checked(R.Text(), default="cat")
    negative_prompt: str | None = checked(R.Text(), default=None)
    image_guidance: float | None = checked(R.IMAGE_GUIDANCE, default=None)
    modification: float | None = checked(R.NUMBER_LEVEL, default=None)
    creativity: float | None = checked(R.NUMBER_LEVEL, default=None)
    effort: float | None = checked(R.NUMBER_LEVEL, default=None)
    aspect_ratio: AspectRatio | None = attrs.field(
        default=None, converter=_quantum_ratio, **ruled(R.RATIOS_7)
    )
    high_resolution: bool | None = checked(R.Boolean(), default=None)
    width: float | None = checked(R.NUMBER_DIMENSION, default=None)
    height: float | None = checked(R.NUMBER_DIMENSION, default=None)
    image_url: str | None = checked(R.Text(), default=None)
    webhook: str | None = checked(R.Uri(), default=None)


@attrs.frozen(kw_only=True)
class FaceRefinerParameters(WireModel):
    """The parameters of a ``face_refiner`` artwork (reworks the faces in an image).

    Attributes:
        image_url: The image whose faces are reworked.
        model: The generation model.
        denoising: 1 to 5.
        seed: 1 to 2,147,483,647; absent means a random seed.
        webhook: Where the server POSTs the final result.
        output_format: ``auto`` (the server's choice, WebP), ``png`` or ``webp``.
    """

    image_url: str | None = checked(R.Uri(), default=None)
    model: Model | None = attrs.field(default=None, converter=_model, **ruled(_MODEL))
    denoising: int = checked(R.LEVEL, default=3)
    seed: int | None = checked(R.SEED, default=None)
    webhook: str | None = checked(R.Uri(), default=None)
    output_format: OutputFormat = attrs.field(
        default=OutputFormat.AUTO, converter=_output_format, **ruled(_OUTPUT_FORMAT)
    )


@attrs.frozen(kw_only=True)
class FaceSwapParameters(WireModel):
    """The parameters of a ``face_swap`` artwork (one image's face put into another).

    Attributes:
        source_image: The image the face comes from.
        target_image: The image whose face is replaced.
        denoising: 1 to 5: how strongly the new face is blended in.
        seed: 1 to 2,147,483,647; absent means a random seed.
        webhook: Where the server POSTs the final result.
        output_format: ``auto`` (the server's choice, WebP), ``png`` or ``webp``.
    """

    source_image: str | None = checked(R.Uri(), default=None)
    target_image: str | None = checked(R.Uri(), default=None)
    denoising: int = checked(R.LEVEL, default=3)
    seed: int | None = checked(R.SEED, default=None)
    webhook: str | None = checked(R.Uri(), default=None)
    output_format: OutputFormat = attrs.field(
        default=OutputFormat.AUTO, converter=_output_format, **ruled(_OUTPUT_FORMAT)
    )


@attrs.frozen(kw_only=True)
class UpscalingParameters(WireModel):
    """The parameters of an ``upscaling_v2`` artwork (an enlarged image).

    Attributes:
        image_url: The image to enlarge.
        scale_factor: 2 to 8.
        webhook: Where the server POSTs the final result.
    """

    image_url: str | None = checked(R.Uri(), default=None)
    scale_factor: int = checked(R.UPSCALE_FACTOR, default=2)
    webhook: str | None = checked(R.Uri(), default=None)


@attrs.frozen(kw_only=True)
class DetailerUpscalerParameters(WireModel):
    """The parameters of a ``detailer_upscaler`` artwork (detail added, optionally enlarged).

    Attributes:
        image_url: The source image.
        scale_factor: 1 (detail only), 2, 4 or 8 (also enlarged by that factor).
        details: 1 (low) to 3 (high).
        modification: 1 (subtle) to 3 (strong).
        seed: 1 to 2,147,483,647; absent means a random seed.
        webhook: Where the server POSTs the final result.
        output_format: ``auto`` (the server's choice, WebP), ``png`` or ``webp``.
    """

    image_url: str | None = checked(R.Uri(), default=None)
    scale_factor: int = checked(R.DETAILER_SCALE_FACTOR, default=2)
    details: int = checked(R.LEVEL_OF_THREE, default=2)
    modification: int = checked(R.LEVEL_OF_THREE, default=2)
    seed: int | None = checked(R.SEED, default=None)
    webhook: str | None = checked(R.Uri(), default=None)
    output_format: OutputFormat = attrs.field(
        default=OutputFormat.AUTO, converter=_output_format, **ruled(_OUTPUT_FORMAT)
    )


@attrs.frozen(kw_only=True)
class RemoveBackgroundParameters(WireModel):
    """The parameters of a ``remove_background`` artwork (the subject cut out).

    The docs' two crawls disagree on the format key, so both are modelled.

    Attributes:
        image_url: The source image.
        webhook: Where the server POSTs the final result.
        output_format: ``auto``, ``png`` or ``webp`` (the newer crawl).
        image_format: ``png`` or ``webp`` (the older crawl).
    """

    image_url: str | None = checked(R.Uri(), default=None)
    webhook: str | None = checked(R.Uri(), default=None)
    output_format: OutputFormat = attrs.field(
        default=OutputFormat.AUTO, converter=_output_format, **ruled(_OUTPUT_FORMAT)
    )
    image_format: OutputFormat = attrs.field(
        default=OutputFormat.PNG, converter=_image_format, **ruled(R.IMAGE_FORMAT)
    )


@attrs.frozen(kw_only=True)
class SegmentationPoints(WireModel):
    """Points chosen on the image for ``segmentation`` in the ``points`` mode.

    Attributes:
        points: ``(x, y)`` pairs, each coordinate from 0 to 1.
        labels: One integer label per point.
    """

    points: tuple[tuple[float, float], ...] | None = checked(R.POINTS, default=None)
    labels: tuple[int, ...] | None = checked(R.LABELS, default=None)


@attrs.frozen(kw_only=True)
class SegmentationParameters(WireModel):
    """The parameters of a ``segmentation`` artwork (masks chosen by text or by points).

    Attributes:
        image_url: The source image.
        method: ``text`` or ``points``.
        text_prompt: What to segment (the ``text`` method).
        text_confidence: At most 1.
        text_max_detections: -1 (no limit) to 100.
        text_combine_masks: Whether the masks are combined into one.
        points_positive: The points to include.
        points_negative: The points to leave out.
        mask_expand: -16384 to 16384 pixels.
        mask_tapered_corners: Whether the mask's corners are tapered.
        mask_blur_sigma: 0.1 to 100.
        mask_kernel_size: At most 100.
        output_format: ``auto`` (the server's choice, WebP), ``png`` or ``webp``.
        webhook: Where the server POSTs the final result.
    """

    image_url: str | None = checked(R.Uri(), default=None)
    method: SegmentationMethod | None = attrs.field(
        default=None, converter=_segmentation_method, **ruled(_SEGMENTATION_METHOD)
    )
    text_prompt: str | None = checked(R.Text(), default=None)
    text_confidence: float = checked(R.TEXT_CONFIDENCE, default=0.2)
    text_max_detections: int = checked(R.TEXT_MAX_DETECTIONS, default=-1)
    text_combine_masks: bool = checked(R.Boolean(), default=True)
    points_positive: SegmentationPoints | None = nested(SegmentationPoints, optional=True)
    points_negative: SegmentationPoints | None = nested(SegmentationPoints, optional=True)
    mask_expand: int = checked(R.MASK_EXPAND, default=0)
    mask_tapered_corners: bool | None = checked(R.Boolean(), default=None)
    mask_blur_sigma: float = checked(R.MASK_BLUR_SIGMA, default=0.1)
    mask_kernel_size: int = checked(R.MASK_KERNEL_SIZE, default=0)
    output_format: OutputFormat = attrs.field(
        default=OutputFormat.AUTO, converter=_output_format, **ruled(_OUTPUT_FORMAT)
    )
    webhook: str | None = checked(R.Uri(), default=None)


@attrs.frozen(kw_only=True)
class DepthMapParameters(WireModel):
    """The parameters of a ``depth_map`` artwork (a grayscale depth image).

    Attributes:
        image_url: The source image.
        use_version3: True for DepthAnything V3, false for V2.
        model: The DepthAnything model; V2 offers only ``giant``, ``large``, ``base`` and
            ``small``.
        normalization_mode: ``Standard``, ``V2-Style`` or ``Raw`` (V3 only).
        resolution_lower_limit: 256 to 2048, a multiple of 64.
        invert_depth: Whether depth is inverted.
        use_post_resize: Whether the result is scaled back to the input's size.
        webhook: Where the server POSTs the final result.
    """

    __cross_rules__: ClassVar[tuple[R.CrossRule, ...]] = (R.V2_DEPTH_MODEL,)

    image_url: str | None = checked(R.Uri(), default=None)
    use_version3: bool | None = checked(R.Boolean(), default=None)
    model: DepthModel = attrs.field(
        default=DepthModel.LARGE, converter=_depth_model, **ruled(_DEPTH_MODEL)
    )
    normalization_mode: NormalizationMode = attrs.field(
        default=NormalizationMode.STANDARD,
        converter=_normalization_mode,
        **ruled(_NORMALIZATION_MODE),
    )
    resolution_lower_limit: int = checked(R.RESOLUTION_LOWER_LIMIT, default=1024)
    invert_depth: bool | None = checked(R.Boolean(), default=None)
    use_post_resize: bool | None = checked(R.Boolean(), default=None)
    webhook: str | None = checked(R.Uri(), default=None)
