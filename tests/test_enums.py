"""The str enums hold every spec value exactly as on the wire."""

from __future__ import annotations

import enum

import pytest
from strategies import (
    ARTWORK_TYPES,
    ASPECT_RATIOS,
    CAMERA_ANGLES,
    COLOR_TONES,
    MODELS,
    PROMPT_MODES,
    STATUSES,
    STYLES,
)

from tengrai_async import (
    ArtworkStatus,
    ArtworkType,
    AspectRatio,
    CameraAngle,
    ColorTone,
    Model,
    PromptMode,
    Style,
)

SPEC: list[tuple[type[enum.Enum], tuple[str, ...]]] = [
    (ArtworkType, ARTWORK_TYPES),
    (ArtworkStatus, STATUSES),
    (Model, MODELS),
    (PromptMode, PROMPT_MODES),
    (Style, STYLES),
    (AspectRatio, ASPECT_RATIOS),
    (ColorTone, COLOR_TONES),
    (CameraAngle, CAMERA_ANGLES),
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
