from __future__ import annotations

import email.utils
import uuid
from typing import Any

import orjson
import pytest
import yarl
from hypothesis import given, settings
from hypothesis import strategies as st

from tengrai_async import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    SelenaArtwork,
    ServerError,
    make_converter,
)
from tengrai_async import _sansio as sansio
from tengrai_async.testing import make_artworks

CONVERTER = make_converter()
NOW = 1_700_000_000.0


@st.composite
def http_dates(draw: st.DrawFn) -> str:
    """HTTP-date-shaped text whose fields range far past valid values."""
    day = draw(st.sampled_from(["Mon", "Tue", "Sun", "Xyz"]))
    month = draw(st.sampled_from(["Jan", "Feb", "Dec", "Foo"]))
    numbers = st.integers(min_value=-(10**25), max_value=10**25)
    date, year, hour, minute, second = (draw(numbers) for _ in range(5))
    zone = draw(
        st.sampled_from(["GMT", "UTC", "-0000", "+2359", "-2359", "EST", ""]) | numbers.map(str)
    )
    return f"{day}, {date} {month} {year} {hour}:{minute}:{second} {zone}"


def decipher(status: int, body: bytes, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    """What the transport does with one answer: decode it, then structure the page."""
    kw.setdefault("offset", 0)
    kw.setdefault("limit", 10)
    data = sansio.decode_response(status, headers or {}, body, offset=kw["offset"])
    return CONVERTER.structure_page(data, **kw)


# -- check_window --------------------------------------------------------------------------


@pytest.mark.parametrize(("offset", "limit"), [(0, 1), (0, 500), (10**9, 10), (7, 250)])
def test_check_window_accepts_offsets_from_0_and_limits_1_to_500(offset: int, limit: int) -> None:
    sansio.check_window(offset, limit)  # fails the test by raising ValueError if refused


@pytest.mark.parametrize(
    ("offset", "limit", "name"),
    [
        (-1, 10, "offset"),
        (0, 0, "limit"),
        (0, 501, "limit"),
        (0, -3, "limit"),
        (1.0, 10, "offset"),
        (0, 10.0, "limit"),
        ("0", 10, "offset"),
        (True, 10, "offset"),
        (0, True, "limit"),
        (None, 10, "offset"),
    ],
)
def test_check_window_rejects_values_outside_the_spec_naming_the_parameter(
    offset: Any, limit: Any, name: str
) -> None:
    with pytest.raises(ValueError, match=name):
        sansio.check_window(offset, limit)


# -- list_url and request_headers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://api.tengr.ai", "https://api.tengr.ai/v2/artworks?offset=5&limit=20"),
        ("https://api.tengr.ai/", "https://api.tengr.ai/v2/artworks?offset=5&limit=20"),
        (
            "http://127.0.0.1:8080/proxy",
            "http://127.0.0.1:8080/proxy/v2/artworks?offset=5&limit=20",
        ),
        (
            "http://127.0.0.1:8080/proxy/",
            "http://127.0.0.1:8080/proxy/v2/artworks?offset=5&limit=20",
        ),
    ],
)
def test_list_url_appends_the_endpoint_to_the_base_path_with_offset_and_limit(
    base: str, expected: str
) -> None:
    url = sansio.list_url(yarl.URL(base), offset=5, limit=20)
    assert url == yarl.URL(expected)
    assert dict(url.query) == {"offset": "5", "limit": "20"}


def test_list_url_replaces_any_query_of_the_base_url() -> None:
    url = sansio.list_url(yarl.URL("https://api.tengr.ai/?debug=1"), offset=0, limit=1)
    assert dict(url.query) == {"offset": "0", "limit": "1"}


def test_request_headers_carry_bearer_key_json_accept_and_user_agent() -> None:
    assert sansio.request_headers("k-123", "agent/1") == {
        "Authorization": "Bearer k-123",
        "Accept": "application/json",
        "User-Agent": "agent/1",
    }


# -- parse_retry_after ---------------------------------------------------------------------


@pytest.mark.parametrize(("value", "seconds"), [("0", 0.0), ("5", 5.0), (" 120 ", 120.0)])
def test_parse_retry_after_reads_delta_seconds(value: str, seconds: float) -> None:
    assert sansio.parse_retry_after(value) == seconds


def test_parse_retry_after_reads_a_future_http_date_as_seconds_from_now() -> None:
    value = email.utils.formatdate(NOW + 90, usegmt=True)
    assert sansio.parse_retry_after(value, now=NOW) == pytest.approx(90.0)


def test_parse_retry_after_reads_a_past_http_date_as_zero() -> None:
    value = email.utils.formatdate(NOW - 3600, usegmt=True)
    assert sansio.parse_retry_after(value, now=NOW) == 0.0


def test_parse_retry_after_uses_the_clock_when_now_is_not_given() -> None:
    value = email.utils.formatdate(usegmt=True)  # this second: at most a second ago
    seconds = sansio.parse_retry_after(value)
    assert seconds is not None
    assert 0.0 <= seconds <= 1.0


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "  ",
        "soon",
        "-5",
        "1.5",
        "1e3",
        "1e400",
        "0x10",
        "NaN",
        "inf",
        "\u0663\u0660",  # Arabic-Indic digits
        "5\u00a0",  # a no-break space is not HTTP whitespace
        "Tomorrow, 25:99:99 GMT",
        "Mon, 01 Jan 2024 99999999999999999999:00:00 GMT",  # OverflowError in datetime()
        "Mon, 01 Jan 2024 00:00:00 +99999999999999999999",  # OverflowError in timedelta()
        "Mon, 01 Jan 99999 00:00:00 GMT",
        "Mon, 01 Jan 2024 00:00:00 GMT" + " " * 100 + "x",
    ],
)
def test_parse_retry_after_gives_none_for_garbage(value: str | None) -> None:
    assert sansio.parse_retry_after(value, now=NOW) is None


def test_parse_retry_after_gives_none_for_a_superscript_digit() -> None:
    assert sansio.parse_retry_after("²") is None


@pytest.mark.parametrize(
    "value", ["2147483648", "2147483649", "99999999999999999999999", "9" * 400, "9" * 5000]
)
def test_parse_retry_after_clamps_huge_delta_seconds_to_2_to_the_31(value: str) -> None:
    assert sansio.parse_retry_after(value) == 2.0**31 == sansio.RETRY_AFTER_CEILING


def test_parse_retry_after_reads_leading_zeros_of_any_length() -> None:
    assert sansio.parse_retry_after("0" * 5000 + "7") == 7.0


def test_parse_retry_after_clamps_a_far_future_date() -> None:
    assert sansio.parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now=NOW) == 2.0**31


@pytest.mark.parametrize(
    "value", ["Mon, 01 Jan 0001 00:00:00 -2359", "Mon, 01 Jan 0001 00:00:00 +2359"]
)
def test_parse_retry_after_reads_a_date_at_the_start_of_time_as_zero(value: str) -> None:
    assert sansio.parse_retry_after(value, now=NOW) == 0.0


def test_parse_retry_after_reads_a_date_without_zone_as_gmt() -> None:
    value = email.utils.formatdate(NOW + 90, usegmt=True).replace("GMT", "-0000")
    assert sansio.parse_retry_after(value, now=NOW) == pytest.approx(90.0)


@given(st.text() | st.from_regex(r"[0-9]{1,30}", fullmatch=True) | http_dates())
@settings(max_examples=500, deadline=None)
def test_parse_retry_after_takes_any_text(value: str) -> None:
    for now in (None, NOW):
        seconds = sansio.parse_retry_after(value, now=now)
        assert seconds is None or 0.0 <= seconds <= sansio.RETRY_AFTER_CEILING


@given(
    st.dictionaries(
        st.sampled_from(["Retry-After", "X-Request-Id", "Request-Id", "X-Amzn-RequestId", "X"]),
        st.text(),
    ),
    st.sampled_from([429, 503, 400, 500, 418]),
    st.binary(max_size=64),
)
@settings(max_examples=300, deadline=None)
def test_an_error_is_built_from_any_headers_and_body(
    headers: dict[str, str], status: int, body: bytes
) -> None:
    error = sansio.error_for_status(status, headers, body, secret="sk-0123456789")  # noqa: S106
    assert error.status == status
    str(error).encode("utf-8")  # printable on any UTF-8 stream
    repr(error)
    if error.request_id is not None:
        assert len(error.request_id) <= 200
        assert error.request_id.isprintable()
    if isinstance(error, RateLimitError) and error.retry_after is not None:
        assert 0.0 <= error.retry_after <= sansio.RETRY_AFTER_CEILING


# -- decode_response (then structure_page) and error_for_status --------------------------


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, BadRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (599, ServerError),
    ],
)
def test_a_response_raises_the_error_class_of_each_status(
    status: int, error_class: type[APIError]
) -> None:
    body = orjson.dumps({"error": "nope", "code": status})
    headers = {"X-Request-Id": "req-42", "Content-Type": "application/json"}
    with pytest.raises(error_class) as info:
        decipher(status, body, headers)
    error = info.value
    assert type(error) is error_class
    assert error.status == status
    assert error.body == {"error": "nope", "code": status}
    assert error.headers["Content-Type"] == "application/json"
    assert error.request_id == "req-42"
    assert str(status) in str(error)
    assert "req-42" in str(error)


@pytest.mark.parametrize("status", [300, 307, 418, 451])
def test_a_response_raises_the_base_api_error_for_other_statuses(status: int) -> None:
    with pytest.raises(APIError) as info:
        decipher(status, b"")
    assert type(info.value) is APIError
    assert info.value.status == status
    assert info.value.body is None


def test_error_keeps_a_text_body_as_text() -> None:
    error = sansio.error_for_status(502, {}, b"<html>Bad Gateway</html>")
    assert error.body == "<html>Bad Gateway</html>"
    assert error.request_id is None


@pytest.mark.parametrize("header", ["X-Request-Id", "Request-Id", "X-Amzn-RequestId"])
def test_error_reads_the_request_id_from_any_known_header(header: str) -> None:
    error = sansio.error_for_status(500, {header: "abc"}, b"")
    assert error.request_id == "abc"


def test_rate_limit_error_carries_retry_after_seconds() -> None:
    error = sansio.error_for_status(429, {"Retry-After": "7"}, b"{}")
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0


def test_rate_limit_error_without_retry_after_has_none() -> None:
    error = sansio.error_for_status(429, {}, b"")
    assert isinstance(error, RateLimitError)
    assert error.retry_after is None


def test_a_response_turns_a_2xx_array_into_a_page() -> None:
    artworks = make_artworks(3, kinds=["selena"])
    page = decipher(200, orjson.dumps(artworks), offset=20, limit=3)
    assert [str(artwork.id) for artwork in page.items] == [a["id"] for a in artworks]
    assert all(isinstance(artwork, SelenaArtwork) for artwork in page.items)
    assert [artwork.raw for artwork in page.items] == artworks
    assert (page.offset, page.limit, page.count, page.has_more) == (20, 3, 3, True)


def test_a_response_short_page_has_no_more() -> None:
    page = decipher(200, orjson.dumps(make_artworks(2)), offset=0, limit=10)
    assert page.count == 2
    assert not page.has_more
    assert decipher(204, b"[]").count == 0


def test_a_response_raises_malformed_for_a_2xx_body_that_is_not_json() -> None:
    with pytest.raises(MalformedResponseError) as info:
        decipher(200, b'[{"id": "trunc', offset=40)
    assert info.value.offset == 40
    assert info.value.path == "$"


def test_a_response_raises_validation_error_for_a_body_that_is_not_an_array() -> None:
    with pytest.raises(ResponseValidationError) as info:
        decipher(200, b'{"items": []}', offset=0)
    assert not isinstance(info.value, MalformedResponseError)
    assert info.value.path == "$"


def test_a_response_reports_an_invalid_item_with_its_absolute_offset() -> None:
    artworks = make_artworks(3)
    artworks[1]["status"] = "exploded"
    with pytest.raises(ResponseValidationError) as info:
        decipher(200, orjson.dumps(artworks), offset=100, limit=3)
    assert info.value.offset == 101
    assert info.value.path == "$[1].status"
    assert "offset 101" in str(info.value)


def test_a_response_skips_invalid_items_into_page_invalid() -> None:
    artworks = make_artworks(3)
    artworks[1]["status"] = "exploded"
    page = decipher(200, orjson.dumps(artworks), offset=100, limit=3, skip_invalid=True)
    assert [str(artwork.id) for artwork in page.items] == [artworks[0]["id"], artworks[2]["id"]]
    assert page.count == 3
    assert [error.offset for error in page.invalid] == [101]


# -- is_loopback and check_base_url --------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("127.10.20.30", True),
        ("::1", True),
        ("[::1]", True),
        (None, False),
        ("", False),
        ("api.tengr.ai", False),
        ("localhost.evil.example", False),
        ("127.0.0.1.nip.io", False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - a host name under test, not a bind
        ("::", False),
    ],
)
def test_is_loopback_recognizes_only_this_machine(host: str | None, expected: bool) -> None:
    assert sansio.is_loopback(host) is expected


@pytest.mark.parametrize(
    "url",
    [
        "https://api.tengr.ai",
        "https://10.0.0.1:8443/base",
        "http://127.0.0.1:8080",
        "http://localhost:1234",
        "http://[::1]:1234",
        "HTTP://LOCALHOST:80",
    ],
)
def test_check_base_url_accepts_https_anywhere_and_http_to_loopback(url: str) -> None:
    assert sansio.check_base_url(url) == yarl.URL(url)
    assert isinstance(sansio.check_base_url(yarl.URL(url)), yarl.URL)


@pytest.mark.parametrize(
    "url", ["http://api.tengr.ai", "http://10.0.0.1:8080", "http://localhost.evil.example"]
)
def test_check_base_url_refuses_plain_http_to_a_remote_host(url: str) -> None:
    with pytest.raises(ConfigurationError, match="plain http"):
        sansio.check_base_url(url)


@pytest.mark.parametrize("url", ["ftp://api.tengr.ai", "api.tengr.ai", "/v2", "https://", ""])
def test_check_base_url_refuses_urls_that_are_not_absolute_http(url: str) -> None:
    with pytest.raises(ConfigurationError, match="absolute"):
        sansio.check_base_url(url)


@pytest.mark.parametrize(
    "text",
    [
        "0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60",
        "0B6F4A52-7C1E-4D3A-9F2B-5E8C1A7D3F60",
    ],
)
def test_check_artwork_id_takes_the_uuid_text_in_either_case(text: str) -> None:
    assert sansio.check_artwork_id(text) == uuid.UUID(text)


def test_check_artwork_id_takes_a_uuid() -> None:
    value = uuid.uuid4()
    assert sansio.check_artwork_id(value) is value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not-a-uuid",
        "0b6f4a527c1e4d3a9f2b5e8c1a7d3f60",
        "{0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60}",
        "urn:uuid:0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60",
        "0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f6g",
        "../../v2/artworks",
        12,
        None,
        b"0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60",
    ],
)
def test_check_artwork_id_refuses_anything_else_with_value_error(value: object) -> None:
    with pytest.raises(ValueError, match=r"artwork_id must be a uuid\.UUID"):
        sansio.check_artwork_id(value)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://api.tengr.ai", "https://api.tengr.ai/v2/artworks/"),
        ("https://proxy.example/tengr/", "https://proxy.example/tengr/v2/artworks/"),
    ],
)
def test_artwork_url_appends_the_id_to_the_artworks_path(base: str, expected: str) -> None:
    artwork_id = uuid.UUID("0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60")
    url = sansio.artwork_url(yarl.URL(base), artwork_id)
    assert str(url) == f"{expected}{artwork_id}"
    assert not url.query


# -- keeping the key out of errors ---------------------------------------------------------

KEY = "sk-live-0123456789abcdef"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Bearer {KEY}", "Bearer ***"),
        (f"{KEY}{KEY}", "***"),
        (f"b'Bearer {KEY[:14]}...'", "b'Bearer ***...'"),  # a key cut in two by aiohttp
        (f"...{KEY[-9:]} tail", "...*** tail"),
        ("nothing secret here", "nothing secret here"),
        (KEY[:7] + " is too short a piece to tell", KEY[:7] + " is too short a piece to tell"),
    ],
)
def test_redact_masks_the_key_and_every_long_piece_of_it(text: str, expected: str) -> None:
    assert sansio.redact(text, KEY) == expected


@pytest.mark.parametrize("secret", [None, "", "k", "1234567"])
def test_redact_leaves_text_alone_for_no_key_or_a_toy_one(secret: str | None) -> None:
    assert sansio.redact("k 1234567 k", secret) == "k 1234567 k"


def test_an_error_echoing_the_key_holds_it_nowhere() -> None:
    headers = {"X-Echo": f"Bearer {KEY}", "X-Request-Id": KEY, KEY: "as a name"}
    body = orjson.dumps({"message": f"invalid key {KEY}", "statusCode": 401})
    error = sansio.error_for_status(401, headers, body, secret=KEY)
    assert error.message == "invalid key ***"
    assert error.body == {"message": "invalid key ***", "statusCode": 401}
    assert dict(error.headers) == {
        "X-Echo": "Bearer ***",
        "X-Request-Id": "***",
        "***": "as a name",
    }
    assert error.request_id == "***"
    assert KEY not in repr(error.__reduce__())


def test_a_malformed_body_echoing_the_key_holds_it_nowhere() -> None:
    body = f"<html>Authorization: Bearer {KEY}</html>".encode()
    with pytest.raises(MalformedResponseError) as info:
        sansio.decode_response(200, {}, body, secret=KEY)
    error = info.value
    assert error.raw == b"<html>Authorization: Bearer ***</html>"
    assert KEY not in str(error)
    assert error.__context__ is None  # orjson's error holds the whole body
    assert error.__cause__ is None


def test_a_malformed_body_keeps_no_context_either() -> None:
    with pytest.raises(MalformedResponseError) as info:
        sansio.decode_response(200, {}, b"[{", secret=KEY)
    assert info.value.__context__ is None


@pytest.mark.parametrize("key", ["a\r\nX-Evil: 1", "k\nk", "k\x00", "k\x7fk", "\tk\tk"])
def test_check_api_key_refuses_control_characters_inside_the_key(key: str) -> None:
    with pytest.raises(ConfigurationError, match="control character") as info:
        sansio.check_api_key(key)
    assert key not in str(info.value)


@pytest.mark.parametrize(
    ("key", "sent"),
    [
        ("k", "k"),
        (KEY, KEY),
        (f"{KEY}\n", KEY),
        (f"\t {KEY}\r\n", KEY),
        ("\u00a0k\u00a0", "k"),
        ("key with inner spaces", "key with inner spaces"),
        ("ключ-\u00e9", "ключ-\u00e9"),
    ],
)
def test_check_api_key_drops_surrounding_whitespace_only(key: str, sent: str) -> None:
    assert sansio.check_api_key(key) == sent


@pytest.mark.parametrize(
    "url", ["https://user:pa55@api.tengr.ai", "https://user@api.tengr.ai", "http://:pa55@127.0.0.1"]
)
def test_check_base_url_refuses_credentials_without_showing_them(url: str) -> None:
    with pytest.raises(ConfigurationError, match="credentials") as info:
        sansio.check_base_url(url)
    assert "pa55" not in str(info.value)
