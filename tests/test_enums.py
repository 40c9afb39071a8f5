"""The str enums hold every spec value exactly as on the wire."""

from __future__ import annotations

import enum

import pytest
from strategies import (
    ARTWORK_TYPES,
    ASPECT_RATIOS,
    CAMERA_ANGLES,
    COLOR_TONES,
    DEPTH_MODELS,
    HAMILTON_STYLES,
    MODELS,
    NORMALIZATION_MODES,
    OUTPUT_FORMATS,
    PROCESSING_MODES,
    PROMPT_MODES,
    QUANTUM_STYLES,
    RATIOS_7,
    SEGMENTATION_METHODS,
    STATUSES,
)

from tengrai_async import (
    ArtworkStatus,
    ArtworkType,
    AspectRatio,
    CameraAngle,
    ColorTone,
    DepthModel,
    Model,
    NormalizationMode,
    OutputFormat,
    ProcessingMode,
    PromptMode,
    SegmentationMethod,
    Style,
)


def _union(*lists: tuple[str, ...]) -> tuple[str, ...]:
    """Every value of the lists, each once, in the order first met."""
    return tuple(dict.fromkeys(value for values in lists for value in values))


#: ``Style`` and ``AspectRatio`` hold every kind's values: selena's 25 styles, quantum's two
#: more and hamilton's own; the eleven selena ratios and the two the seven-ratio kinds add.
ALL_STYLES = _union(QUANTUM_STYLES, HAMILTON_STYLES)
ALL_ASPECT_RATIOS = _union(ASPECT_RATIOS, RATIOS_7)

SPEC: list[tuple[type[enum.Enum], tuple[str, ...]]] = [
    (ArtworkType, ARTWORK_TYPES),
    (ArtworkStatus, STATUSES),
    (Model, MODELS),
    (PromptMode, PROMPT_MODES),
    (Style, ALL_STYLES),
    (AspectRatio, ALL_ASPECT_RATIOS),
    (ColorTone, COLOR_TONES),
    (CameraAngle, CAMERA_ANGLES),
    (OutputFormat, OUTPUT_FORMATS),
    (ProcessingMode, PROCESSING_MODES),
    (SegmentationMethod, SEGMENTATION_METHODS),
    (DepthModel, DEPTH_MODELS),
    (NormalizationMode, NORMALIZATION_MODES),
]
MEMBERS = [member for cls, _ in SPEC for member in cls]


@pytest.mark.parametrize(("cls", "values"), SPEC, ids=[cls.__name__ for cls, _ in SPEC])
def test_enum_values_are_exactly_the_spec_values_in_order(
    cls: type[enum.Enum], values: tuple[str, ...]
) -> None:
    assert tuple(member.value for member in cls) == values


@pytest.mark.parametrize(("cls", "values"), SPEC, ids=[cls.__name__ for cls, _ in SPEC])
def test_enum_is_a_str_enum(cls: type[enum.Enum], values: tuple[str, ...]) -> None:
    assert issubclass(cls, str)
    assert issubclass(cls, enum.Enum)


@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_member_equals_its_wire_value(member: enum.Enum) -> None:
    assert member == member.value
    assert hash(member) == hash(member.value)


@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_str_of_member_is_its_wire_value(member: enum.Enum) -> None:
    assert str(member) == member.value
    assert f"{member}" == member.value


@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_calling_the_enum_with_the_wire_value_gives_the_member(member: enum.Enum) -> None:
    assert type(member)(member.value) is member


@pytest.mark.parametrize(("cls", "values"), SPEC, ids=[cls.__name__ for cls, _ in SPEC])
def test_enum_rejects_a_value_outside_the_spec(
    cls: type[enum.Enum], values: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="is not a valid"):
        cls(values[0].upper() + "-unknown")


def test_hyphenated_and_camel_case_values_are_kept_verbatim() -> None:
    assert Style.STAINED_GLASS.value == "stained-glass"
    assert ColorTone.BLACK_AND_WHITE.value == "blackAndWhite"
    assert CameraAngle.FIRST_PERSON_VIEW.value == "firstPersonView"
    assert AspectRatio.R_16_9.value == "16:9"
    assert ProcessingMode.THREE_D.value == "3d"
    assert ProcessingMode.AI_RCHITECT.value == "ai-rchitect"
    assert DepthModel.NESTED_GIANT_LARGE.value == "nested_giant_large"
    assert NormalizationMode.V2_STYLE.value == "V2-Style"
    assert Style.TENGRAI_ANIME.value == "tengrai-anime"


def test_the_selena_values_come_first_in_the_shared_enums() -> None:
    # The selena family's lists are prefixes: the rule table slices them off the enums.
    assert ALL_STYLES[:25] == QUANTUM_STYLES[:25]
    assert ALL_ASPECT_RATIOS[:11] == ASPECT_RATIOS
    assert len(Style) == 34
    assert len(AspectRatio) == 13


def test_every_enum_is_public_and_listed() -> None:
    import tengrai_async  # noqa: PLC0415 - the package namespace itself is under test

    for cls, _ in SPEC:
        assert getattr(tengrai_async, cls.__name__) is cls
        assert cls.__name__ in tengrai_async.__all__
