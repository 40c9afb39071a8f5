"""Each rule of the spec, defined once in ``_rules``: its bounds, its judgement, its words."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest
import yarl
from strategies import MAX_AREA, RANGES

from tengrai_async import ArtworkStatus, Style, _rules


@pytest.mark.parametrize(
    ("rule", "bounds"),
    [
        (_rules.BATCH, RANGES["batch"]),
        (_rules.CREATIVITY, RANGES["creativity"]),
        (_rules.DETAILS, RANGES["details"]),
        (_rules.DIMENSION, RANGES["width"]),
        (_rules.LIMIT, (1, 500)),
    ],
    ids=["batch", "creativity", "details", "dimension", "limit"],
)
def test_closed_range_constants_match_the_spec(
    rule: _rules.IntRange, bounds: tuple[int, int]
) -> None:
    assert (rule.minimum, rule.maximum) == bounds


def test_offset_range_is_open_above_from_zero() -> None:
    assert _rules.IntRange(0, None) == _rules.OFFSET
    assert _rules.OFFSET.accepts(10**12)
    assert not _rules.OFFSET.accepts(-1)


def test_area_and_word_limits_match_the_spec() -> None:
    assert _rules.MAX_AREA == MAX_AREA == 1216 * 1216
    assert _rules.ProductAtMost("width", "height", MAX_AREA) == _rules.AREA
    assert _rules.PROMPT_MAX_WORDS == 256
    assert _rules.NEGATIVE_PROMPT_MAX_WORDS == 64


@pytest.mark.parametrize("value", [1, 3, 5])
def test_int_range_accepts_its_edges_and_inside(value: int) -> None:
    assert _rules.CREATIVITY.accepts(value)


@pytest.mark.parametrize("value", [0, 6, -1, True, False, 3.0, 2.7, "3", None])
def test_int_range_rejects_outside_values_and_non_integers(value: object) -> None:
    assert not _rules.CREATIVITY.accepts(value)


def test_int_range_expected_text_names_its_bounds() -> None:
    assert _rules.CREATIVITY.expected == "an integer in 1..=5"
    assert _rules.OFFSET.expected == "an integer >= 0"


def test_one_of_accepts_members_only() -> None:
    rule = _rules.OneOf(Style)
    assert rule.accepts(Style.CAR)
    assert not rule.accepts("car")
    assert not rule.accepts(ArtworkStatus.FAILED)


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


@pytest.mark.parametrize("value", [0, -3, 2.5, 1e300, -0.0])
def test_number_accepts_finite_ints_and_floats(value: float) -> None:
    assert _rules.Number().accepts(value)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, True, "1", None])
def test_number_rejects_non_finite_bools_and_non_numbers(value: object) -> None:
    assert not _rules.Number().accepts(value)


def test_text_accepts_strings_only() -> None:
    assert _rules.Text().accepts("")
    assert not _rules.Text().accepts(b"x")
    assert not _rules.Text().accepts(None)


def test_text_list_wants_a_tuple_of_strings() -> None:
    rule = _rules.TextList()
    assert rule.accepts(())
    assert rule.accepts(("a", "b"))
    assert not rule.accepts(["a"])
    assert not rule.accepts(("a", 1))
    assert not rule.accepts("ab")


def test_uuid_rule_wants_a_uuid_object() -> None:
    value = uuid.uuid4()
    assert _rules.UUIDRule().accepts(value)
    assert not _rules.UUIDRule().accepts(str(value))


def test_timestamp_rule_wants_an_aware_datetime() -> None:
    rule = _rules.Timestamp()
    aware = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    assert rule.accepts(aware)
    assert not rule.accepts(aware.replace(tzinfo=None))
    assert not rule.accepts(aware.date())
    assert not rule.accepts("2024-01-01T00:00:00Z")


def test_uri_rule_wants_an_absolute_url_with_a_scheme() -> None:
    rule = _rules.URIRule()
    assert rule.accepts(yarl.URL("https://hooks.example.com/x"))
    assert not rule.accepts(yarl.URL("/relative/path"))
    assert not rule.accepts(yarl.URL("//host.example/x"))
    assert not rule.accepts("https://hooks.example.com/x")


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
def test_product_at_most_applies_only_when_both_sides_are_set(
    first: int | None, second: int | None, ok: bool
) -> None:
    assert _rules.AREA.accepts(first, second) is ok


def test_product_at_most_expected_text_names_both_fields() -> None:
    assert _rules.AREA.expected == "width * height <= 1478656 when both are set"


@pytest.mark.parametrize(
    "rule",
    [
        _rules.BATCH,
        _rules.OneOf(Style),
        _rules.Boolean(),
        _rules.Number(),
        _rules.Text(),
        _rules.TextList(),
        _rules.UUIDRule(),
        _rules.Timestamp(),
        _rules.URIRule(),
    ],
    ids=lambda rule: type(rule).__name__,
)
def test_every_rule_describes_itself_in_words(rule: _rules.Rule) -> None:
    assert isinstance(rule.expected, str)
    assert rule.expected


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
