from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from multidict import CIMultiDictProxy

from tengrai_async import _rules
from tengrai_async._models import KINDS
from tengrai_async.testing import (
    DEFAULT_KINDS,
    FakeClock,
    FakeTengrAI,
    Fault,
    RecordedRequest,
    make_artwork,
    make_artworks,
)

AUTH = {"Authorization": "Bearer test-key"}
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def fetch(
    session: aiohttp.ClientSession, server: FakeTengrAI, path: str = "/v2/artworks", **kwargs: Any
) -> tuple[int, CIMultiDictProxy[str], bytes]:
    async with session.get(server.url.with_path(path), **kwargs) as response:
        return response.status, response.headers, await response.read()


async def window(session: aiohttp.ClientSession, server: FakeTengrAI, **params: int) -> Any:
    status, _, body = await fetch(session, server, params=params)
    assert status == 200
    return orjson.loads(body)


async def get_artwork(
    session: aiohttp.ClientSession, server: FakeTengrAI, artwork_id: str, **kwargs: Any
) -> tuple[int, CIMultiDictProxy[str], bytes]:
    return await fetch(session, server, f"/v2/artworks/{artwork_id}", **kwargs)


async def artwork(session: aiohttp.ClientSession, server: FakeTengrAI, artwork_id: str) -> Any:
    status, _, body = await get_artwork(session, server, artwork_id)
    assert status == 200
    return orjson.loads(body)


def ids(artworks: list[dict[str, Any]]) -> list[str]:
    return [artwork["id"] for artwork in artworks]


def error_message(status: int, headers: CIMultiDictProxy[str], body: bytes) -> str:
    """Check the API's error body (NestJS's, nothing more) and return its message."""
    assert headers["Content-Type"] == "application/json"
    error = orjson.loads(body)
    assert error == {"message": error["message"], "statusCode": status, "error": REASONS[status]}
    assert isinstance(error["message"], str)
    assert error["message"]
    message: str = error["message"]
    return message


# -- pagination ----------------------------------------------------------------------------


async def test_window_is_the_slice_of_the_synthetic_history_newest_first(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(images=False, count=30, seed=7) as server:
        assert await window(session, server, offset=5, limit=7) == make_artworks(7, seed=7, start=5)


async def test_default_window_is_offset_0_limit_10(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(images=False, count=30) as server:
        assert await window(session, server) == make_artworks(10)


async def test_window_at_the_end_is_short_then_empty(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=12) as server:
        assert ids(await window(session, server, offset=10, limit=10)) == server.ids()[10:]
        assert await window(session, server, offset=12) == []
        assert await window(session, server, offset=10_000) == []


async def test_largest_limit_of_the_rules_is_accepted(session: aiohttp.ClientSession) -> None:
    assert _rules.LIMIT.maximum is not None
    async with FakeTengrAI(count=_rules.LIMIT.maximum + 5) as server:
        artworks = await window(session, server, limit=_rules.LIMIT.maximum)
        assert ids(artworks) == server.ids()[: _rules.LIMIT.maximum]


async def test_window_is_served_as_json(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=3) as server:
        _, headers, _ = await fetch(session, server)
        assert headers["Content-Type"] == "application/json"


async def test_a_million_artworks_serve_a_window_near_the_end_without_generating_the_rest(
    session: aiohttp.ClientSession,
) -> None:
    started = time.perf_counter()
    async with FakeTengrAI(images=False, count=1_000_000) as server:
        artworks = await window(session, server, offset=999_995, limit=500)
        assert artworks == make_artworks(5, start=999_995)
        assert len(server._cache) == 5
        assert server.total == 1_000_000
    assert time.perf_counter() - started < 5


async def test_explicit_invalid_artworks_are_served_untouched(
    session: aiohttp.ClientSession,
) -> None:
    invalid: list[dict[str, Any]] = [
        {"id": 1, "status": "bogus"},
        {"unexpected": None},
        {"artworkType": "video"},
    ]
    async with FakeTengrAI(invalid) as server:
        assert await window(session, server) == invalid
        assert server.total == 3


# -- one artwork by id ---------------------------------------------------------------------


async def test_by_id_serves_an_explicit_artwork_with_the_listing_bytes(
    session: aiohttp.ClientSession,
) -> None:
    explicit: list[dict[str, Any]] = [
        {"id": "first", "x": [1.5, None]},
        {"id": "second", "é": "ü"},
        {"id": 3},
    ]
    async with FakeTengrAI(explicit) as server:
        for offset, item in enumerate(explicit[:2]):
            _, _, listed = await fetch(session, server, params={"offset": offset, "limit": 1})
            status, headers, body = await get_artwork(session, server, str(item["id"]))
            assert (status, headers["Content-Type"]) == (200, "application/json")
            assert listed == b"[" + body + b"]"
            assert orjson.loads(body) == item
        # Only string ids are looked up, as only strings are ids on the wire.
        assert (await get_artwork(session, server, "3"))[0] == 404


async def test_the_first_of_duplicate_explicit_ids_is_served(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI([{"id": "twin", "n": 1}, {"id": "twin", "n": 2}]) as server:
        assert await artwork(session, server, "twin") == {"id": "twin", "n": 1}


@pytest.mark.parametrize("index", [0, 1, 17, 39])
async def test_by_id_serves_a_synthetic_artwork_with_the_listing_bytes(
    session: aiohttp.ClientSession, index: int
) -> None:
    async with FakeTengrAI(images=False, count=40, seed=3) as server:
        artwork_id = make_artwork(index, seed=3)["id"]
        status, _, body = await get_artwork(session, server, artwork_id)
        _, _, listed = await fetch(session, server, params={"offset": index, "limit": 1})
    assert status == 200
    assert listed == b"[" + body + b"]"
    assert orjson.loads(body) == make_artwork(index, seed=3)


async def test_by_id_in_a_million_artworks_generates_only_that_one(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(images=False, count=1_000_000, seed=5) as server:
        last = make_artwork(999_999, seed=5)
        assert await artwork(session, server, last["id"]) == last
        assert len(server._cache) <= 1


async def test_by_id_finds_inserted_artworks_once_they_are_inserted(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(images=False, count=5) as server:
        newest = make_artwork(-2)["id"]
        assert (await get_artwork(session, server, newest))[0] == 404
        server.insert(2)
        assert await artwork(session, server, newest) == make_artwork(-2)
        assert await artwork(session, server, make_artwork(-1)["id"]) == make_artwork(-1)
        assert (await get_artwork(session, server, make_artwork(-3)["id"]))[0] == 404


async def test_by_id_next_to_explicit_artworks_finds_only_inserted_synthetic_ones(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI([{"id": "only"}], images=False) as server:
        server.insert()
        assert await artwork(session, server, make_artwork(-1)["id"]) == make_artwork(-1)
        assert await artwork(session, server, "only") == {"id": "only"}
        # Synthetic index 0 has an id, but explicit artworks are what this server lists.
        assert (await get_artwork(session, server, make_artwork(0)["id"]))[0] == 404


@pytest.mark.parametrize(
    "artwork_id",
    [
        pytest.param(make_artwork(5)["id"], id="past-the-end"),
        pytest.param(make_artwork(2, seed=1)["id"], id="another-seed"),
        pytest.param(make_artwork(2)["id"].upper(), id="not-canonical"),
        pytest.param(make_artwork(2)["id"].replace("-", ""), id="no-hyphens"),
        pytest.param("not-a-uuid", id="malformed"),
        pytest.param("12345678-1234-5678-1234-56781234567", id="short"),
        pytest.param("3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b", id="some-uuid"),
    ],
)
async def test_unknown_artwork_is_404_artwork_not_found(
    session: aiohttp.ClientSession, artwork_id: str
) -> None:
    async with FakeTengrAI(count=5) as server:
        status, headers, body = await get_artwork(session, server, artwork_id)
    assert status == 404
    assert error_message(status, headers, body) == "artwork not found"


async def test_by_id_serves_the_configured_kinds(session: aiohttp.ClientSession) -> None:
    kinds = {"quantum": 1.0, "depth_map": 2.0}
    async with FakeTengrAI(images=False, count=20, kinds=kinds, extras=False) as server:
        for index in (0, 19):
            expected = make_artwork(index, kinds=kinds, extras=False)
            assert await artwork(session, server, expected["id"]) == expected


# -- kinds and extras ------------------------------------------------------------------------


async def test_default_listing_mixes_every_documented_kind(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(images=False, count=500) as server:
        artworks = await window(session, server, limit=500)
    assert artworks == make_artworks(500)
    assert {item["artworkType"] for item in artworks} == set(KINDS) == set(DEFAULT_KINDS)
    assert all("creditsUsed" in item for item in artworks)


async def test_kinds_as_a_sequence_serves_only_those_kinds(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(images=False, count=30, kinds=["quantum"]) as server:
        listed = await window(session, server, limit=30)
        inserted = server.insert()
    assert listed == make_artworks(30, kinds=["quantum"])
    assert {item["artworkType"] for item in listed} == {"quantum"}
    assert inserted == [make_artwork(-1, kinds=["quantum"])]


async def test_kinds_as_weights_serves_only_the_weighted_kinds(
    session: aiohttp.ClientSession,
) -> None:
    kinds = {"segmentation": 1.0, "face_swap": 1.0, "selena": 0.0}
    async with FakeTengrAI(count=60, kinds=kinds) as server:
        listed = await window(session, server, limit=60)
    assert {item["artworkType"] for item in listed} == {"segmentation", "face_swap"}


async def test_extras_false_serves_only_documented_keys(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(images=False, count=40, kinds=["selena"], extras=False) as server:
        listed = await window(session, server, limit=40)
        server.insert()
        newest = (await window(session, server, limit=1))[0]
    assert listed == make_artworks(40, kinds=["selena"], extras=False)
    for item in [*listed, newest]:
        assert "creditsUsed" not in item
        assert not {"seed", "outputFormat", "clientMeta"} & set(item["parameters"])


async def test_kinds_the_sdk_does_not_know_are_served_as_given(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=3, kinds=["hologram"]) as server:
        assert {item["artworkType"] for item in await window(session, server)} == {"hologram"}


@pytest.mark.parametrize(
    ("kinds", "error"),
    [
        ([], ValueError),
        ({}, ValueError),
        ({"selena": -1.0, "quantum": 2.0}, ValueError),
        ({"selena": 0.0}, ValueError),
        ("quantum", TypeError),
    ],
)
def test_a_kind_mix_that_cannot_make_artworks_is_refused(
    kinds: Any, error: type[Exception]
) -> None:
    with pytest.raises(error, match="kinds"):
        FakeTengrAI(count=1, kinds=kinds)


# -- validation and auth -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("offset", "-1"),
        ("offset", "abc"),
        ("offset", "1.5"),
        ("offset", ""),
        ("limit", "0"),
        ("limit", str((_rules.LIMIT.maximum or 0) + 1)),
        ("limit", "+5"),
        ("limit", " 5"),
    ],
)
async def test_bad_parameter_is_400_naming_it(
    session: aiohttp.ClientSession, name: str, value: str
) -> None:
    async with FakeTengrAI(count=5) as server:
        status, headers, body = await fetch(session, server, params={name: value})
    assert status == 400
    rule = _rules.OFFSET if name == "offset" else _rules.LIMIT
    assert error_message(status, headers, body) == f"{name} must be {rule.expected}, got {value!r}"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-key", "Basic test-key", "Bearer", "bearer  test-key", "test-key"],
)
@pytest.mark.parametrize("path", ["/v2/artworks", "/v2/artworks/{id}"])
async def test_missing_or_wrong_key_is_401_with_a_json_error(
    authorization: str | None, path: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with FakeTengrAI(count=5) as server, aiohttp.ClientSession(headers=headers) as session:
        status, response_headers, body = await fetch(
            session, server, path.format(id=server.ids()[0])
        )
    assert status == 401
    assert response_headers["WWW-Authenticate"] == "Bearer"
    assert error_message(status, response_headers, body) == "missing or invalid API key"


async def test_without_an_api_key_any_bearer_token_is_accepted_but_none_is_not() -> None:
    async with FakeTengrAI(count=5, api_key=None) as server, aiohttp.ClientSession() as session:
        anonymous, _, _ = await fetch(session, server)
        any_token, _, _ = await fetch(session, server, headers={"Authorization": "Bearer xyz"})
    assert (anonymous, any_token) == (401, 200)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/artwork"),
        ("GET", "/v2/artworks/"),
        ("GET", "/v2/artworks/a/b"),
        ("POST", "/v2/artworks"),
        ("DELETE", "/v2/artworks/x"),
    ],
)
async def test_unknown_endpoint_is_404_in_nestjs_words(
    session: aiohttp.ClientSession, method: str, path: str
) -> None:
    async with (
        FakeTengrAI(count=5) as server,
        session.request(method, server.url.with_path(path)) as response,
    ):
        status, headers, body = response.status, response.headers, await response.read()
    assert status == 404
    assert error_message(status, headers, body) == f"Cannot {method} {path}"


# -- recording -----------------------------------------------------------------------------


async def test_every_request_is_recorded_in_order_with_its_answer() -> None:
    async with FakeTengrAI(count=5) as server, aiohttp.ClientSession() as session:
        await fetch(session, server)
        await fetch(session, server, headers=AUTH, params={"limit": "0"})
        await fetch(session, server, headers=AUTH, params={"offset": "2", "limit": "2"})
        await fetch(session, server, "/elsewhere", headers=AUTH)
        first = server.ids()[0]
        await get_artwork(session, server, first, headers=AUTH)
        await get_artwork(session, server, "gone", headers=AUTH)
    assert [(r.path, r.status) for r in server.requests] == [
        ("/v2/artworks", 401),
        ("/v2/artworks", 400),
        ("/v2/artworks", 200),
        ("/elsewhere", 404),
        (f"/v2/artworks/{first}", 200),
        ("/v2/artworks/gone", 404),
    ]
    recorded = server.requests[2]
    assert recorded == RecordedRequest(
        method="GET",
        path="/v2/artworks",
        query={"offset": "2", "limit": "2"},
        headers=recorded.headers,
        status=200,
        fault=None,
    )
    assert recorded.headers["authorization"] == "Bearer test-key"


async def test_every_response_carries_its_own_request_id(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=5) as server:
        answers = [
            await fetch(session, server),
            await fetch(session, server, params={"limit": "x"}),
            await fetch(session, server, headers={"Authorization": "Bearer no"}),
            await fetch(session, server, "/nope"),
        ]
    assert [status for status, _, _ in answers] == [200, 400, 401, 404]
    request_ids = {headers["X-Request-Id"] for _, headers, _ in answers}
    assert len(request_ids) == 4
    assert "" not in request_ids


# -- faults --------------------------------------------------------------------------------


async def test_429_fault_carries_retry_after(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=5, retry_after=7) as server:
        server.queue_faults("429")
        status, headers, body = await fetch(session, server)
    assert status == 429
    assert headers["Retry-After"] == "7"
    assert error_message(status, headers, body) == "rate limit exceeded"
    assert server.requests[0].fault == "429"


@pytest.mark.parametrize("fault", ["500", "503"])
async def test_server_error_fault_is_that_status_with_a_json_error(
    session: aiohttp.ClientSession, fault: Fault
) -> None:
    async with FakeTengrAI(count=5) as server:
        server.queue_faults(fault)
        status, headers, body = await fetch(session, server)
    assert status == int(fault)
    assert error_message(status, headers, body)


async def test_malformed_fault_is_a_200_whose_body_is_not_json(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=5) as server:
        server.queue_faults("malformed")
        status, headers, body = await fetch(session, server)
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    assert server.requests[0] == RecordedRequest(
        method="GET",
        path="/v2/artworks",
        query={},
        headers=server.requests[0].headers,
        status=200,
        fault="malformed",
    )


async def test_malformed_fault_on_an_empty_window_is_still_not_json(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=0) as server:
        server.queue_faults("malformed")
        _, _, body = await fetch(session, server)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)


async def test_drop_fault_breaks_the_connection_mid_body_and_the_server_carries_on(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(images=False, count=50) as server:
        server.queue_faults("drop")
        with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
            await fetch(session, server, params={"limit": 50})
        assert await window(session, server, limit=50) == make_artworks(50)
    assert [r.fault for r in server.requests] == ["drop", None]


async def test_queued_faults_come_in_order_then_clean_answers(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=5) as server:
        server.queue_faults("503", "429")
        server.queue_faults("500")
        statuses = [(await fetch(session, server))[0] for _ in range(4)]
    assert statuses == [503, 429, 500, 200]
    assert [r.fault for r in server.requests] == ["503", "429", "500", None]


async def test_rejected_requests_do_not_use_up_queued_faults() -> None:
    async with FakeTengrAI(count=5) as server, aiohttp.ClientSession() as session:
        server.queue_faults("500")
        first, _, _ = await fetch(session, server)
        second, _, _ = await fetch(session, server, headers=AUTH, params={"offset": "-3"})
        third, _, _ = await fetch(session, server, headers=AUTH)
    assert (first, second, third) == (401, 400, 500)


async def test_faults_apply_to_by_id_and_share_the_queue_with_the_listing(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(images=False, count=5, retry_after=2) as server:
        first = server.ids()[0]
        server.queue_faults("503", "429", "500")
        by_id = await get_artwork(session, server, first)
        listing = await fetch(session, server)
        again = await get_artwork(session, server, first)
        clean = await artwork(session, server, first)
    assert [by_id[0], listing[0], again[0]] == [503, 429, 500]
    assert again[1].get("Retry-After") is None
    assert listing[1]["Retry-After"] == "2"
    assert error_message(*by_id) == "service unavailable"
    assert error_message(*again) == "internal server error"
    assert clean == make_artwork(0)
    assert [r.fault for r in server.requests] == ["503", "429", "500", None]


async def test_an_unknown_artwork_does_not_use_up_a_queued_fault(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=5) as server:
        server.queue_faults("500")
        unknown, _, _ = await get_artwork(session, server, "nope")
        found, _, _ = await get_artwork(session, server, server.ids()[1])
    assert (unknown, found) == (404, 500)


async def test_malformed_fault_on_by_id_is_a_200_whose_body_is_not_json(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=5) as server:
        server.queue_faults("malformed")
        status, _, body = await get_artwork(session, server, server.ids()[2])
    assert status == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)


async def test_drop_fault_on_by_id_breaks_the_connection_mid_body(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(images=False, count=5) as server:
        artwork_id = server.ids()[0]
        server.queue_faults("drop")
        with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
            await get_artwork(session, server, artwork_id)
        assert await artwork(session, server, artwork_id) == make_artwork(0)


async def test_fault_rate_one_faults_every_get_by_id(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=5, fault_rate=1.0, faults=("429",)) as server:
        artwork_id = server.ids()[0]
        statuses = [(await get_artwork(session, server, artwork_id))[0] for _ in range(3)]
    assert statuses == [429] * 3


async def test_a_fault_seed_shuffles_the_order_of_the_faults_reproducibly(
    session: aiohttp.ClientSession,
) -> None:
    async def faults_seen(fault_seed: int) -> list[str | None]:
        options: dict[str, Any] = {
            "fault_rate": 0.5,
            "faults": ("500", "503", "429"),
            "fault_seed": fault_seed,
        }
        async with FakeTengrAI(count=5, **options) as server:
            for _ in range(40):
                await fetch(session, server)
        return [r.fault for r in server.requests]

    first, again, other = await faults_seen(1), await faults_seen(1), await faults_seen(2)
    assert first == again
    assert first != other
    for seen in (first, other):
        # Which requests fault does not depend on the seed: every other one, from the first.
        assert seen[1::2] == [None] * 20
        faults = [str(fault) for fault in seen[::2]]
        # Each round of three gives every fault once, in a shuffled order.
        assert all(sorted(faults[i : i + 3]) == ["429", "500", "503"] for i in range(0, 18, 3))


async def test_fault_rate_one_faults_every_request(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=5, fault_rate=1.0, faults=("503",)) as server:
        statuses = [(await fetch(session, server))[0] for _ in range(5)]
    assert statuses == [503] * 5


def test_unknown_fault_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown faults"):
        FakeTengrAI(faults=("418",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown faults"):
        FakeTengrAI().queue_faults("hang")  # type: ignore[arg-type]


def test_artworks_and_count_together_are_refused() -> None:
    with pytest.raises(ValueError, match="either artworks or count"):
        FakeTengrAI(make_artworks(2), count=2)


async def test_latency_delays_each_answer(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=5, latency=0.2) as server:
        started = time.perf_counter()
        await fetch(session, server)
    assert time.perf_counter() - started >= 0.2


# -- a listing that grows ------------------------------------------------------------------


async def test_insert_prepends_newer_artworks_and_shifts_offsets(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(images=False, count=5) as server:
        before = server.ids()
        inserted = server.insert(2)
        assert inserted == [make_artwork(-2), make_artwork(-1)]
        assert server.insert() == [make_artwork(-3)]
        assert server.total == 8
        assert server.ids() == [make_artwork(i)["id"] for i in (-3, -2, -1)] + before
        assert ids(await window(session, server, offset=3, limit=3)) == before[:3]


async def test_insert_every_adds_a_batch_before_every_kth_listing_request(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(images=False, count=20, insert_every=2, insert_batch=3) as server:
        first = await window(session, server, limit=2)
        second = await window(session, server, offset=2, limit=2)
        third = await window(session, server, offset=4, limit=2)
        fourth = await window(session, server, offset=6, limit=2)
    assert first == make_artworks(2)
    # Three artworks arrived before the second request: offset 2 now holds artwork -1.
    assert second == [make_artwork(-1), make_artwork(0)]
    assert third == make_artworks(2, start=1)
    assert fourth == make_artworks(2, start=0)
    assert server.total == 26


async def test_explicit_artworks_get_synthetic_insertions_in_front(
    session: aiohttp.ClientSession,
) -> None:
    explicit = [{"id": "only"}]
    async with FakeTengrAI(explicit, images=False) as server:
        server.insert()
        assert await window(session, server) == [make_artwork(-1), *explicit]


# -- jobs ----------------------------------------------------------------------------------


async def poll(session: aiohttp.ClientSession, server: FakeTengrAI, job: str, n: int) -> list[str]:
    return [(await artwork(session, server, job))["status"] for _ in range(n)]


async def test_a_job_is_a_new_starting_artwork_at_the_front(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(images=False, count=5, seed=2) as server:
        before = server.ids()
        job = server.start_job("quantum")
        listed = await window(session, server, limit=10)
    base = make_artwork(-1, seed=2, kinds=["quantum"])
    assert job == base["id"]
    assert server.total == 6
    assert server.ids() == [job, *before]
    assert listed[0] == {**base, "status": "starting", "duration": 0, "results": []}
    assert list(listed[0]) == list(base)
    assert listed[1:] == make_artworks(5, seed=2)


async def test_jobs_and_insertions_take_turns_at_the_front(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(images=False, count=2) as server:
        server.insert()
        job = server.start_job()
        inserted = server.insert()
        assert ids(await window(session, server)) == [
            inserted[0]["id"],
            job,
            make_artwork(-1)["id"],
            *ids(make_artworks(2)),
        ]
        assert (await artwork(session, server, inserted[0]["id"])) == make_artwork(-3)


async def test_a_job_moves_on_every_polls_gets_by_id(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(images=False, count=3) as server:
        job = server.start_job(polls=2)
        statuses = await poll(session, server, job, 6)
        done = await artwork(session, server, job)
    assert statuses == ["starting"] * 2 + ["processing"] * 2 + ["succeeded"] * 2
    assert 1 <= len(done["results"]) <= 2
    assert all(url.startswith(f"https://cdn.tengr.ai/artworks/{job}/") for url in done["results"])
    assert done["duration"] > 0


async def test_a_job_with_one_poll_per_state(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=3) as server:
        job = server.start_job(polls=1)
        assert await poll(session, server, job, 4) == [
            "starting",
            "processing",
            "succeeded",
            "succeeded",
        ]


@pytest.mark.parametrize("outcome", ["failed", "canceled"])
async def test_a_job_can_end_without_results(session: aiohttp.ClientSession, outcome: str) -> None:
    async with FakeTengrAI(count=3) as server:
        job = server.start_job("face_swap", outcome=outcome, polls=1)
        assert await poll(session, server, job, 3) == ["starting", "processing", outcome]
        done = await artwork(session, server, job)
    assert done["status"] == outcome
    assert done["results"] == []
    assert done["duration"] > 0
    assert done["artworkType"] == "face_swap"


async def test_the_listing_shows_a_job_as_it_is_now_without_counting_as_a_poll(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=3) as server:
        job = server.start_job(polls=2)
        seen = []
        for _ in range(5):
            _, _, listed = await fetch(session, server, params={"limit": 1})
            _, _, polled = await get_artwork(session, server, job)
            assert listed == b"[" + polled + b"]"
            seen.append(orjson.loads(polled)["status"])
    assert seen == ["starting", "starting", "processing", "processing", "succeeded"]


async def test_faulted_gets_by_id_are_not_polls(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=3) as server:
        job = server.start_job(polls=1)
        server.queue_faults("503", "malformed")
        assert (await get_artwork(session, server, job))[0] == 503
        assert (await get_artwork(session, server, job))[0] == 200  # but not JSON
        assert await poll(session, server, job, 3) == ["starting", "processing", "succeeded"]


async def test_head_by_id_is_not_a_poll(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=3) as server:
        job = server.start_job(polls=1)
        async with session.head(server.url / f"v2/artworks/{job}") as response:
            assert response.status == 200
        assert await poll(session, server, job, 2) == ["starting", "processing"]


async def test_a_timed_job_moves_on_with_the_clock_not_the_polls(
    session: aiohttp.ClientSession,
) -> None:
    clock = FakeClock(auto_advance=False)
    async with FakeTengrAI(count=3, clock=clock) as server:
        job = server.start_job(outcome="succeeded", polls=1, seconds=1.0)
        early = await poll(session, server, job, 3)
        await clock.advance(0.499)
        still = await poll(session, server, job, 1)
        await clock.advance(0.001)
        middle = await poll(session, server, job, 1)
        await clock.advance(0.499)
        before = await poll(session, server, job, 1)
        await clock.advance(0.001)
        late = await poll(session, server, job, 1)
        listed = (await window(session, server, limit=1))[0]
    assert early == ["starting"] * 3
    assert still == ["starting"]
    assert middle == ["processing"]
    assert before == ["processing"]
    assert late == ["succeeded"]
    assert listed["status"] == "succeeded"
    assert listed["results"]


def test_a_job_runs_in_a_threaded_server_too() -> None:
    with FakeTengrAI.in_thread(count=2) as server:
        job = server.start_job(polls=1)
        seen = [sync_get(f"{server.url}/v2/artworks/{job}")["status"] for _ in range(3)]
    assert seen == ["starting", "processing", "succeeded"]


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"kind": ""}, "kind"),
        ({"outcome": "done"}, "outcome"),
        ({"outcome": "starting"}, "outcome"),
        ({"polls": 0}, "polls"),
        ({"seconds": 0.0}, "seconds"),
        ({"seconds": -1.0}, "seconds"),
        ({"seconds": float("inf")}, "seconds"),
        ({"seconds": float("nan")}, "seconds"),
    ],
)
def test_a_job_that_cannot_run_is_refused(arguments: dict[str, Any], match: str) -> None:
    server = FakeTengrAI(count=1)
    with pytest.raises(ValueError, match=match):
        server.start_job(**arguments)
    assert server.total == 1


# -- redirects -----------------------------------------------------------------------------


async def test_redirect_is_a_307_to_the_other_base_with_path_and_query(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=5, redirect_to="http://other.example:8080/") as server:
        status, headers, _ = await fetch(
            session, server, params={"offset": "3", "limit": "4"}, allow_redirects=False
        )
    assert status == 307
    assert headers["Location"] == "http://other.example:8080/v2/artworks?offset=3&limit=4"


async def test_redirect_applies_to_by_id_too(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=5, redirect_to="http://other.example") as server:
        status, headers, _ = await get_artwork(session, server, "abc", allow_redirects=False)
    assert status == 307
    assert headers["Location"] == "http://other.example/v2/artworks/abc"


async def test_following_a_redirect_to_another_origin_does_not_carry_the_key(
    session: aiohttp.ClientSession,
) -> None:
    async with (
        FakeTengrAI(count=5) as target,
        FakeTengrAI(count=5, redirect_to=str(target.url)) as server,
    ):
        status, _, _ = await fetch(session, server, params={"limit": "2"})
    assert server.requests[0].status == 307
    assert target.requests[0].query == {"limit": "2"}
    assert "Authorization" not in target.requests[0].headers
    assert status == 401


# -- lifecycle and other ways to run it ----------------------------------------------------


def test_url_of_a_server_that_is_not_running_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = FakeTengrAI().url


async def test_closed_server_refuses_connections(session: aiohttp.ClientSession) -> None:
    server = FakeTengrAI(count=5)
    await server.start()
    url = server.url
    await server.close()
    with pytest.raises(aiohttp.ClientConnectionError):
        await session.get(url / "v2/artworks")


def sync_get(url: str) -> Any:
    request = urllib.request.Request(url, headers=AUTH)  # noqa: S310 - loopback test URL
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback test URL
        return json.loads(response.read())


def test_in_thread_serves_synchronous_code() -> None:
    with FakeTengrAI.in_thread(count=15, seed=3, images=False) as server:
        artworks = sync_get(f"{server.url}/v2/artworks?offset=10")
        server.insert()
        assert server.total == 16
    assert artworks == make_artworks(5, seed=3, start=10)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url


@pytest.mark.parametrize(
    ("options", "kinds", "extras"),
    [
        ([], None, True),
        (["--kinds", "quantum, depth_map", "--no-extras"], ["quantum", "depth_map"], False),
    ],
)
def test_module_runs_the_server_until_terminated(
    options: list[str], kinds: list[str] | None, extras: bool
) -> None:
    command = [sys.executable, "-m", "tengrai_async.testing", "--count", "25", "--seed", "4"]
    command += options
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:  # noqa: S603 - our own module
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            key = process.stdout.readline().strip()
            artworks = sync_get(f"{url}/v2/artworks?limit=30")
        finally:
            process.terminate()
        assert process.wait(timeout=10) == 0
        assert process.stdout.read() == ""
    assert url.startswith("http://127.0.0.1:")
    assert key == "test-key"
    expected = make_artworks(25, seed=4, kinds=kinds, extras=extras)
    # The results point at the server's own images, so nothing run against it looks up a
    # real host; the rest is the generated data.
    assert [{**a, "results": len(a["results"])} for a in artworks] == [
        {**a, "results": len(a["results"])} for a in expected
    ]
    urls = [u for a in artworks for u in a["results"]]
    assert urls
    assert all(u.startswith(f"{url}/images/") for u in urls)


async def test_concurrent_requests_wait_out_their_latency_together(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(images=False, count=200, latency=0.1) as server:
        started = time.perf_counter()
        windows = await asyncio.gather(
            *(window(session, server, offset=offset, limit=10) for offset in range(0, 200, 10))
        )
        elapsed = time.perf_counter() - started
    assert [artwork for part in windows for artwork in part] == make_artworks(200)
    assert elapsed < 1.0
