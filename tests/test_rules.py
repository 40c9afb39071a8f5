"""Each rule of the spec, defined once in ``_rules``: its bounds, its judgement, its words, its
generated check, its wire form and its samples."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import yarl
from strategies import (
    ASPECT_RATIOS,
    HAMILTON_STYLES,
    IMAGE_FORMATS,
    KINDS,
    MAX_AREA,
    MAX_HIGH_RESOLUTION_AREA,
    MAX_SEED,
    QUANTUM_STYLES,
    RANGES,
    RATIOS_7,
    STYLES,
    V2_DEPTH_MODELS,
)

from tengrai_async import ArtworkStatus, AspectRatio, DepthModel, OutputFormat, Style, _rules
from tengrai_async._codegen import Invalid, Source, generate_parser


def _range(kind: str, key: str) -> tuple[float | None, float | None]:
    field = KINDS[kind].by_key[key]
    return field.minimum, field.maximum


@pytest.mark.parametrize(
    ("rule", "bounds"),
    [
        (_rules.BATCH, RANGES["batch"]),
        (_rules.LEVEL, RANGES["creativity"]),
        (_rules.LEVEL, RANGES["details"]),
        (_rules.LEVEL, _range("hamilton", "effort")),
        (_rules.LEVEL, _range("face_swap", "denoising")),
        (_rules.DIMENSION, RANGES["width"]),
        (_rules.DIMENSION, _range("hamilton", "height")),
        (_rules.QUANTUM_DIMENSION, _range("quantum", "width")),
        (_rules.SEED, (1, MAX_SEED)),
        (_rules.UPSCALE_FACTOR, _range("upscaling_v2", "scaleFactor")),
        (_rules.LEVEL_OF_THREE, _range("detailer_upscaler", "details")),
        (_rules.LEVEL_OF_THREE, _range("detailer_upscaler", "modification")),
        (_rules.TEXT_MAX_DETECTIONS, _range("segmentation", "textMaxDetections")),
        (_rules.MASK_EXPAND, _range("segmentation", "maskExpand")),
        (_rules.MASK_KERNEL_SIZE, _range("segmentation", "maskKernelSize")),
        (_rules.RESOLUTION_LOWER_LIMIT, _range("depth_map", "resolutionLowerLimit")),
        (_rules.LIMIT, (1, 500)),
    ],
    ids=lambda value: str(value)[:40],
)
def test_integer_range_constants_match_the_spec(
    rule: _rules.IntRange, bounds: tuple[int | None, int | None]
) -> None:
    assert isinstance(rule, _rules.IntRange)
    assert (rule.minimum, rule.maximum) == bounds


@pytest.mark.parametrize(
    ("rule", "bounds"),
    [
        (_rules.NUMBER_LEVEL, _range("photo_pilot", "creativity")),
        (_rules.NUMBER_DIMENSION, _range("photo_pilot", "width")),
        (_rules.TEXT_CONFIDENCE, _range("segmentation", "textConfidence")),
        (_rules.MASK_BLUR_SIGMA, _range("segmentation", "maskBlurSigma")),
        (_rules.POINT.item, (0, 1)),
    ],
    ids=lambda value: str(value)[:40],
)
def test_number_range_constants_match_the_spec(
    rule: _rules.Number, bounds: tuple[float | None, float | None]
) -> None:
    assert isinstance(rule, _rules.Number)
    assert (rule.minimum, rule.maximum) == bounds


def test_the_other_table_constants_match_the_spec() -> None:
    assert _rules.RESOLUTION_LOWER_LIMIT.multiple_of == 64
    assert KINDS["depth_map"].by_key["resolutionLowerLimit"].multiple_of == 64
    assert _rules.Choice((1, 2, 4, 8)) == _rules.DETAILER_SCALE_FACTOR
    assert (
        _rules.DETAILER_SCALE_FACTOR.values
        == KINDS["detailer_upscaler"].by_key["scaleFactor"].values
    )
    assert _rules.Choice((1, 2, 3), integer=False) == _rules.IMAGE_GUIDANCE
    assert _rules.ArrayOf(_rules.Number(0, 1), length=2) == _rules.POINT
    assert _rules.ArrayOf(_rules.POINT) == _rules.POINTS
    assert _rules.ArrayOf(_rules.IntRange()) == _rules.LABELS
    assert _rules.ArrayOf(_rules.Text()) == _rules.RESULTS


@pytest.mark.parametrize(
    ("rule", "values"),
    [
        (_rules.SELENA_STYLE, STYLES),
        (_rules.QUANTUM_STYLE, QUANTUM_STYLES),
        (_rules.HAMILTON_STYLE, HAMILTON_STYLES),
        (_rules.RATIOS_11, ASPECT_RATIOS),
        (_rules.RATIOS_7, RATIOS_7),
        (_rules.IMAGE_FORMAT, IMAGE_FORMATS),
    ],
    ids=[
        "selena-style",
        "quantum-style",
        "hamilton-style",
        "ratios-11",
        "ratios-7",
        "image-format",
    ],
)
def test_each_kinds_subset_is_exactly_the_spec_list(
    rule: _rules.OneOf[Any], values: tuple[str, ...]
) -> None:
    assert set(rule.samples()) == set(values)
    assert len(rule.allowed) == len(values)


def test_v2_depth_models_are_the_first_four() -> None:
    assert tuple(member.value for member in _rules.V2_DEPTH_MODELS) == V2_DEPTH_MODELS
    assert (
        _rules.MembersWhen("model", _rules.V2_DEPTH_MODELS, "use_version3", equals=False)
        == _rules.V2_DEPTH_MODEL
    )


def test_a_subset_with_a_value_outside_its_enum_is_a_bug_caught_at_import() -> None:
    with pytest.raises(AssertionError):
        _rules._subset(Style, ("default", "no-such-style"))


def test_offset_range_is_open_above_from_zero() -> None:
    assert _rules.IntRange(0, None) == _rules.OFFSET
    assert _rules.OFFSET.accepts(10**12)
    assert not _rules.OFFSET.accepts(-1)


def test_area_and_word_limits_match_the_spec() -> None:
    assert _rules.MAX_AREA == MAX_AREA == 1216 * 1216
    assert _rules.MAX_HIGH_RESOLUTION_AREA == MAX_HIGH_RESOLUTION_AREA == 1328 * 1328
    assert _rules.AreaCap(MAX_AREA) == _rules.AREA
    assert (
        _rules.AreaCap(MAX_AREA, "high_resolution", MAX_HIGH_RESOLUTION_AREA)
        == _rules.HIGH_RESOLUTION_AREA
    )
    assert (_rules.AREA.first, _rules.AREA.field) == ("width", "height")
    assert _rules.PROMPT_MAX_WORDS == 256
    assert _rules.NEGATIVE_PROMPT_MAX_WORDS == 64
    assert _rules.QUANTUM_PROMPT_MAX_WORDS == 200


# --- IntRange ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 3, 5])
def test_int_range_accepts_its_edges_and_inside(value: int) -> None:
    assert _rules.LEVEL.accepts(value)


@pytest.mark.parametrize("value", [0, 6, -1, True, False, 3.0, 2.7, "3", None])
def test_int_range_rejects_outside_values_and_non_integers(value: object) -> None:
    assert not _rules.LEVEL.accepts(value)


def test_int_range_expected_text_names_its_bounds() -> None:
    assert _rules.LEVEL.expected == "an integer from 1 to 5"
    assert _rules.OFFSET.expected == "an integer >= 0"
    assert _rules.MASK_KERNEL_SIZE.expected == "an integer <= 100"
    assert _rules.IntRange().expected == "an integer"
    assert _rules.RESOLUTION_LOWER_LIMIT.expected == (
        "an integer from 256 to 2048, a multiple of 64"
    )


@pytest.mark.parametrize(("value", "ok"), [(256, True), (2048, True), (1024, True), (320, True)])
def test_multiple_of_accepts_multiples_in_range(value: int, ok: bool) -> None:
    assert _rules.RESOLUTION_LOWER_LIMIT.accepts(value) is ok


@pytest.mark.parametrize("value", [257, 2047, 1000, 192, 2112, 1024.0, True])
def test_multiple_of_rejects_other_values(value: object) -> None:
    assert not _rules.RESOLUTION_LOWER_LIMIT.accepts(value)


def test_a_range_open_below_takes_any_smaller_integer() -> None:
    assert _rules.MASK_KERNEL_SIZE.accepts(100)
    assert _rules.MASK_KERNEL_SIZE.accepts(-(10**30))
    assert not _rules.MASK_KERNEL_SIZE.accepts(101)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("500", 500),
        ("7", 7),
        ("501", None),
        ("-1", None),
        ("+5", None),
        (" 5", None),
        ("1_0", None),
        ("5.0", None),
        ("", None),
        ("\u0661", None),  # ARABIC-INDIC DIGIT ONE: int() would take it
        ("abc", None),
    ],
)
def test_int_range_reads_only_plain_decimal_query_text_inside_the_range(
    text: str, expected: int | None
) -> None:
    assert _rules.IntRange(0, 500).from_query(text) == expected


def test_from_query_reads_negative_numbers_where_the_range_allows_them() -> None:
    assert _rules.TEXT_MAX_DETECTIONS.from_query("-1") == -1
    assert _rules.TEXT_MAX_DETECTIONS.from_query("-2") is None
    assert _rules.RESOLUTION_LOWER_LIMIT.from_query("1000") is None
    assert _rules.RESOLUTION_LOWER_LIMIT.from_query("1024") == 1024


@pytest.mark.parametrize(
    ("text", "expected"),
    [("-0", None), ("-1", None), ("0" * 5000 + "7", 7), ("0" * 30, 0), ("9" * 21, None)],
)
def test_from_query_unsigned_and_zero_padded_as_the_web_handler_reads(
    text: str, expected: int | None
) -> None:
    assert _rules.IntRange(None, 500).from_query(text, signed=False, zero_padded=True) == expected


def test_from_query_by_default_takes_minus_zero_and_counts_leading_zeros() -> None:
    assert _rules.OFFSET.from_query("-0") == 0
    assert _rules.OFFSET.from_query("0" * 20 + "7") is None
    assert _rules.OFFSET.from_query("-0", zero_padded=True) == 0
    assert _rules.OFFSET.from_query("-" + "0" * 30, zero_padded=True) == 0


# --- Number, Choice, Boolean, Text, ArrayOf ----------------------------------------------------


@pytest.mark.parametrize("value", [0, -3, 2.5, 1e300, -0.0])
def test_number_accepts_finite_ints_and_floats(value: float) -> None:
    assert _rules.Number().accepts(value)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, True, "1", None])
def test_number_rejects_non_finite_bools_and_non_numbers(value: object) -> None:
    assert not _rules.Number().accepts(value)


@pytest.mark.parametrize(
    ("rule", "inside", "outside"),
    [
        (_rules.MASK_BLUR_SIGMA, [0.1, 100, 50.5, 1], [0.09999, 100.0001, 0, -1]),
        (_rules.TEXT_CONFIDENCE, [1, 1.0, 0.2, -5], [1.0000001, 2]),
        (_rules.NUMBER_DIMENSION, [512, 2048, 1024.5], [511.99, 2048.01]),
    ],
    ids=["blur", "confidence", "dimension"],
)
def test_number_bounds(rule: _rules.Number, inside: list[float], outside: list[float]) -> None:
    assert all(rule.accepts(value) for value in inside)
    assert not any(rule.accepts(value) for value in outside)


def test_number_expected_text_names_its_bounds() -> None:
    assert _rules.Number().expected == "a number"
    assert _rules.TEXT_CONFIDENCE.expected == "a number <= 1"
    assert _rules.MASK_BLUR_SIGMA.expected == "a number from 0.1 to 100"


@pytest.mark.parametrize("value", [1, 2, 4, 8])
def test_integer_choice_accepts_its_values(value: int) -> None:
    assert _rules.DETAILER_SCALE_FACTOR.accepts(value)


@pytest.mark.parametrize("value", [0, 3, 5, 16, 2.0, True, "2", None])
def test_integer_choice_rejects_anything_else(value: object) -> None:
    assert not _rules.DETAILER_SCALE_FACTOR.accepts(value)


def test_number_choice_takes_ints_and_floats_of_its_values_only() -> None:
    assert all(_rules.IMAGE_GUIDANCE.accepts(v) for v in (1, 2, 3, 1.0, 2.0, 3.0))
    assert not any(_rules.IMAGE_GUIDANCE.accepts(v) for v in (0, 4, 2.5, True, "2", math.nan))
    assert _rules.IMAGE_GUIDANCE.expected == "a number, one of 1, 2, 3"
    assert _rules.DETAILER_SCALE_FACTOR.expected == "an integer, one of 1, 2, 4, 8"


def test_one_of_accepts_members_only() -> None:
    rule = _rules.OneOf(Style)
    assert rule.accepts(Style.CAR)
    assert not rule.accepts("car")
    assert not rule.accepts(ArtworkStatus.FAILED)


def test_one_of_a_subset_refuses_the_enums_other_members() -> None:
    assert _rules.HAMILTON_STYLE.accepts(Style.SURREAL)
    assert not _rules.SELENA_STYLE.accepts(Style.SURREAL)
    assert not _rules.HAMILTON_STYLE.accepts(Style.CAR)
    assert not _rules.RATIOS_11.accepts(AspectRatio.R_3_4)
    assert not _rules.IMAGE_FORMAT.accepts(OutputFormat.AUTO)
    assert "'surreal'" not in _rules.SELENA_STYLE.expected
    assert _rules.SELENA_STYLE.by_value == {v: Style(v) for v in STYLES}


def test_one_of_converts_a_wire_string_to_its_member_and_leaves_the_rest() -> None:
    assert _rules.SELENA_STYLE.convert("car") is Style.CAR
    # A member outside the subset is still converted: the check then refuses it.
    assert _rules.SELENA_STYLE.convert("surreal") is Style.SURREAL
    assert _rules.SELENA_STYLE.convert("Car") == "Car"
    assert _rules.SELENA_STYLE.convert(1) == 1


def test_one_of_maps_every_wire_value_to_its_member() -> None:
    table = _rules.OneOf(Style).by_value
    assert table == {member.value: member for member in Style}
    assert all(type(key) is str for key in table)


def test_one_of_expected_text_lists_the_wire_values() -> None:
    expected = _rules.OneOf(ArtworkStatus).expected
    assert expected.startswith("one of ")
    for member in ArtworkStatus:
        assert repr(member.value) in expected


@pytest.mark.parametrize(("value", "ok"), [(True, True), (False, True), (0, False), (1, False)])
def test_boolean_accepts_true_and_false_only(value: object, ok: bool) -> None:
    assert _rules.Boolean().accepts(value) is ok
    assert not _rules.Boolean().accepts("false")


def test_text_accepts_strings_only() -> None:
    assert _rules.Text().accepts("")
    assert not _rules.Text().accepts(b"x")
    assert not _rules.Text().accepts(None)


def test_array_of_text_wants_a_tuple_of_strings() -> None:
    rule = _rules.ArrayOf(_rules.Text())
    assert rule.accepts(())
    assert rule.accepts(("a", "b"))
    assert not rule.accepts(["a"])
    assert not rule.accepts(("a", 1))
    assert not rule.accepts("ab")


def test_array_of_a_fixed_length_wants_exactly_that_many() -> None:
    assert _rules.POINT.accepts((0, 1))
    assert _rules.POINT.accepts((0.5, 0.25))
    assert not _rules.POINT.accepts((0.5,))
    assert not _rules.POINT.accepts((0.5, 0.5, 0.5))
    assert not _rules.POINT.accepts((0.5, 1.5))
    assert not _rules.POINT.accepts((0.5, True))
    assert _rules.POINTS.accepts(((0, 0), (1, 1)))
    assert not _rules.POINTS.accepts(((0, 0), (1, 2)))
    assert _rules.POINTS.expected == (
        "an array of items, each an array of 2 items, each a number from 0 to 1"
    )


def test_array_of_converts_lists_to_tuples_at_every_depth() -> None:
    assert _rules.POINTS.convert([[0, 1], [0.5, 0.5]]) == ((0, 1), (0.5, 0.5))
    assert type(_rules.POINTS.convert([[0, 1]])[0]) is tuple
    assert _rules.POINTS.convert("x") == "x"


# --- Uuid, Timestamp, Uri ----------------------------------------------------------------------


def test_uuid_rule_wants_a_uuid_object() -> None:
    value = uuid.uuid4()
    assert _rules.Uuid().accepts(value)
    assert not _rules.Uuid().accepts(str(value))


def test_timestamp_rule_wants_an_aware_datetime() -> None:
    rule = _rules.Timestamp()
    aware = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    assert rule.accepts(aware)
    assert not rule.accepts(aware.replace(tzinfo=None))
    assert not rule.accepts(aware.date())
    assert not rule.accepts("2024-01-01T00:00:00Z")


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2024-01-01T00:00:00Z", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)),
        ("2024-01-01T00:00:00z", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)),
        (
            "2024-01-01T02:00:00.250+02:00",
            dt.datetime(2024, 1, 1, 0, 0, 0, 250000, tzinfo=dt.timezone.utc),
        ),
    ],
)
def test_timestamp_parse_reads_rfc_3339(text: str, moment: dt.datetime) -> None:
    assert _rules.Timestamp.parse(text) == moment


@pytest.mark.parametrize(
    "text", ["2024-01-01T00:00:00", "2024-01-01", "2024-01-01 00:00:00Z", "", 1, None]
)
def test_timestamp_parse_refuses_anything_else(text: Any) -> None:
    with pytest.raises(ValueError, match=r".*"):
        _rules.Timestamp.parse(text)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), "2024-01-01T00:00:00Z"),
        (
            dt.datetime(2024, 1, 1, 0, 0, 0, 120000, tzinfo=dt.timezone.utc),
            "2024-01-01T00:00:00.120Z",
        ),
        (
            dt.datetime(
                2024, 1, 1, 0, 0, 0, 100, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))
            ),
            "2024-01-01T00:00:00.000100+05:30",
        ),
    ],
)
def test_timestamp_format_is_canonical_rfc_3339(moment: dt.datetime, text: str) -> None:
    assert _rules.Timestamp.format(moment) == text


@pytest.mark.parametrize(
    "text",
    [
        "https://hooks.example.com/x",
        "http://[::1]:8080/p?q#f",
        "mailto:a@b.example",
        "urn:isbn:0451450523",
        "x-custom+v1.2:opaque",
    ],
)
def test_uri_rule_takes_any_absolute_uri_text(text: str) -> None:
    assert _rules.Uri().accepts(text)


@pytest.mark.parametrize(
    "value",
    [
        "relative/path",
        "//host.example/x",
        "/absolute/path",
        "",
        "https://",
        "http:///no-host",
        "https://hooks.example.com/a b",
        "1http://x",
        "ht tp://x",
        1,
        None,
        yarl.URL("https://hooks.example.com/x"),  # the text is the value, not a parsed URL
    ],
)
def test_uri_rule_refuses_relative_references_whitespace_and_non_strings(value: Any) -> None:
    assert not _rules.Uri().accepts(value)


# --- cross-field rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "ok"),
    [
        (None, None, True),
        (2048, None, True),
        (None, 2048, True),
        (1216, 1216, True),
        (2048, 722, True),
        (2048, 723, False),
        (1217, 1216, False),
    ],
)
def test_area_cap_applies_only_when_both_sides_are_set(
    first: int | None, second: int | None, ok: bool
) -> None:
    assert _rules.AREA.accepts({"width": first, "height": second}) is ok
    assert _rules.AREA.accepts({"width": first, "height": second, "high_resolution": True}) is ok


@pytest.mark.parametrize(
    ("width", "height", "flag", "ok"),
    [
        (1328, 1328, True, True),
        (2048, 861, True, True),
        (1328, 1329, True, False),
        (1328, 1328, False, False),
        (1328, 1328, None, False),
        (1216, 1216, None, True),
        (1217, 1216, None, False),
    ],
)
def test_high_resolution_raises_the_cap_only_when_true(
    width: int, height: int, flag: bool | None, ok: bool
) -> None:
    values = {"width": width, "height": height, "high_resolution": flag}
    assert _rules.HIGH_RESOLUTION_AREA.accepts(values) is ok


def test_area_cap_expected_text_names_both_fields_and_the_caps() -> None:
    assert _rules.AREA.expected == "width * height <= 1,478,656 when both are set"
    assert _rules.HIGH_RESOLUTION_AREA.expected == (
        "width * height <= 1,478,656 when both are set (1,763,584 when high_resolution is true)"
    )


@pytest.mark.parametrize(
    ("model", "flag", "ok"),
    [
        (DepthModel.MONO_LARGE, False, False),
        (DepthModel.NESTED_GIANT_LARGE, False, False),
        (DepthModel.SMALL, False, True),
        (DepthModel.MONO_LARGE, True, True),
        (DepthModel.MONO_LARGE, None, True),
        (None, False, True),
    ],
)
def test_members_when_applies_only_under_its_condition(
    model: DepthModel | None, flag: bool | None, ok: bool
) -> None:
    assert _rules.V2_DEPTH_MODEL.accepts({"model": model, "use_version3": flag}) is ok


# --- every rule: words, generated check, wire form, samples -------------------------------------

EVERY_RULE: list[_rules.Rule] = [
    _rules.BATCH,
    _rules.MASK_KERNEL_SIZE,
    _rules.RESOLUTION_LOWER_LIMIT,
    _rules.TEXT_CONFIDENCE,
    _rules.MASK_BLUR_SIGMA,
    _rules.DETAILER_SCALE_FACTOR,
    _rules.IMAGE_GUIDANCE,
    _rules.OneOf(Style),
    _rules.HAMILTON_STYLE,
    _rules.Boolean(),
    _rules.Number(),
    _rules.Text(),
    _rules.RESULTS,
    _rules.POINTS,
    _rules.LABELS,
    _rules.Uuid(),
    _rules.Timestamp(),
    _rules.Uri(),
]
RULE_IDS = [f"{type(rule).__name__}-{index}" for index, rule in enumerate(EVERY_RULE)]


@pytest.mark.parametrize("rule", EVERY_RULE, ids=RULE_IDS)
def test_every_rule_describes_itself_in_words(rule: _rules.Rule) -> None:
    assert isinstance(rule.expected, str)
    assert rule.expected


def _wire(rule: _rules.Rule) -> Callable[[Any], Any]:
    src = Source("wire_test")
    expr = rule.wire(src, "v")
    src.emit(0, f"def {src.name}(v):")
    src.emit(1, f"return {expr}")
    return src.compile()


@pytest.mark.parametrize("rule", EVERY_RULE, ids=RULE_IDS)
def test_every_sample_passes_the_generated_check_and_the_python_check(rule: _rules.Rule) -> None:
    parse, wire = generate_parser(rule), _wire(rule)
    samples = rule.samples()
    assert samples
    for sample in samples:
        value = parse(sample)
        assert rule.accepts(value), sample
        assert wire(value) == sample or isinstance(rule, _rules.Timestamp)


@pytest.mark.parametrize(
    ("rule", "edges"),
    [
        (_rules.BATCH, {1, 2}),
        (_rules.RESOLUTION_LOWER_LIMIT, {256, 2048}),
        (_rules.MASK_KERNEL_SIZE, {100}),
        (_rules.MASK_BLUR_SIGMA, {0.1, 100}),
        (_rules.TEXT_CONFIDENCE, {1}),
        (_rules.DETAILER_SCALE_FACTOR, {1, 2, 4, 8}),
        (_rules.Boolean(), {True, False}),
    ],
    ids=lambda value: str(value)[:30],
)
def test_samples_cover_both_edges_of_a_range_and_every_value(
    rule: _rules.Rule, edges: set[Any]
) -> None:
    assert edges <= set(rule.samples())


def test_samples_of_a_subset_are_exactly_its_members() -> None:
    assert sorted(_rules.HAMILTON_STYLE.samples()) == sorted(HAMILTON_STYLES)
    assert _rules.RESOLUTION_LOWER_LIMIT.samples() == (256, 1152, 2048)


@pytest.mark.parametrize(
    ("rule", "bad"),
    [
        (_rules.BATCH, [0, 3, True, 1.0, "1", None]),
        (_rules.RESOLUTION_LOWER_LIMIT, [257, 192, 2112, 1024.0]),
        (_rules.MASK_BLUR_SIGMA, [0.0999, 100.5, True, math.inf, math.nan, 10**400, "1"]),
        (_rules.DETAILER_SCALE_FACTOR, [3, 2.0, True, "2"]),
        (_rules.IMAGE_GUIDANCE, [0, 2.5, True, "2", math.nan]),
        (_rules.HAMILTON_STYLE, ["car", "Surreal", 1, None, [], {}]),
        (_rules.Boolean(), [0, 1, "true", None]),
        (_rules.POINTS, ["x", [[0.5]], [[0.5, 1.5]], [[0.5, True]], [["a", 0]], [None]]),
        (_rules.LABELS, [[1.0], [True], ["1"], {}, None]),
        (_rules.Uuid(), ["x", 1, "6f1c2a3b4d5e4f608a7b9c0d1e2f3a4b"]),
        (_rules.Uri(), ["relative", "", 1, "a:b c", "//h/x"]),
    ],
    ids=lambda value: str(value)[:30],
)
def test_the_generated_check_refuses_what_the_rule_refuses(
    rule: _rules.Rule, bad: list[Any]
) -> None:
    parse = generate_parser(rule)
    for value in bad:
        with pytest.raises(Invalid):
            parse(value)


def test_the_generated_check_turns_json_numbers_into_floats() -> None:
    assert type(generate_parser(_rules.Number())(3)) is float
    assert type(generate_parser(_rules.IMAGE_GUIDANCE)(2)) is float
    assert generate_parser(_rules.POINTS)([[0, 1]]) == ((0.0, 1.0),)
    assert type(generate_parser(_rules.POINTS)([[0, 1]])[0][0]) is float
    assert type(generate_parser(_rules.DETAILER_SCALE_FACTOR)(2)) is int


RFC_3339_SPELLINGS = [
    ("2026-11-01T11:59:23Z", "2026-11-01T11:59:23+00:00"),
    ("2026-11-01t11:59:23z", "2026-11-01T11:59:23+00:00"),
    ("2026-11-01T11:59:23.5Z", "2026-11-01T11:59:23.500000+00:00"),
    ("2026-11-01T11:59:23.12+02:00", "2026-11-01T11:59:23.120000+02:00"),
    ("2026-11-01T11:59:23.123456789-05:30", "2026-11-01T11:59:23.123456-05:30"),
]
NOT_RFC_3339 = [
    "2026-11-01T11:59+02:00",  # no seconds
    "2026-11-01T11:59:23+0200",  # offset without a colon
    "2026-11-01T11:59:23",  # no offset
    "2024-W01-1T00:00:00Z",  # a week date
    "2026-11-01 11:59:23Z",  # a space for T
    "2026-11-01T11:59:23,5Z",  # a comma fraction
    "2026-11-01T11:59:60Z",  # a leap second datetime cannot hold
    "2026-13-01T11:59:23Z",
    "2026-11-01T11:59:23+24:00",
    "",
]


@pytest.mark.parametrize(("text", "moment"), RFC_3339_SPELLINGS)
def test_timestamps_take_every_rfc_3339_spelling_alike_in_parse_and_generated_code(
    text: str, moment: str
) -> None:
    expected = dt.datetime.fromisoformat(moment)
    assert _rules.Timestamp.parse(text) == expected
    assert generate_parser(_rules.Timestamp())(text) == expected


@pytest.mark.parametrize("text", NOT_RFC_3339)
def test_timestamps_refuse_what_rfc_3339_does_not_allow(text: str) -> None:
    with pytest.raises(ValueError, match=r".*"):
        _rules.Timestamp.parse(text)
    with pytest.raises(Invalid):
        generate_parser(_rules.Timestamp())(text)


@pytest.mark.parametrize("text", ["9" * 21, "1" + "0" * 5000, "-" + "9" * 20])
def test_a_query_integer_longer_than_64_bits_is_refused_before_int(text: str) -> None:
    assert _rules.OFFSET.from_query(text) is None
