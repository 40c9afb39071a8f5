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
from tengrai_async.testing import FakeTengrAI, RecordedRequest, make_artwork, make_artworks

AUTH = {"Authorization": "Bearer test-key"}


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


def ids(artworks: list[dict[str, Any]]) -> list[str]:
    return [artwork["id"] for artwork in artworks]


# -- pagination ----------------------------------------------------------------------------


async def test_window_is_the_slice_of_the_synthetic_history_newest_first(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=30, seed=7) as server:
        assert await window(session, server, offset=5, limit=7) == make_artworks(7, seed=7, start=5)


async def test_default_window_is_offset_0_limit_10(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=30) as server:
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
    async with FakeTengrAI(count=1_000_000) as server:
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
    error = orjson.loads(body)
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert error["parameter"] == name
    assert name in error["error"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-key", "Basic test-key", "Bearer", "bearer  test-key", "test-key"],
)
async def test_missing_or_wrong_key_is_401_with_a_json_error(authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with FakeTengrAI(count=5) as server, aiohttp.ClientSession(headers=headers) as session:
        status, _, body = await fetch(session, server)
    assert status == 401
    assert "error" in orjson.loads(body)


async def test_without_an_api_key_any_bearer_token_is_accepted_but_none_is_not() -> None:
    async with FakeTengrAI(count=5, api_key=None) as server, aiohttp.ClientSession() as session:
        anonymous, _, _ = await fetch(session, server)
        any_token, _, _ = await fetch(session, server, headers={"Authorization": "Bearer xyz"})
    assert (anonymous, any_token) == (401, 200)


async def test_unknown_path_is_404_json(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=5) as server:
        status, _, body = await fetch(session, server, "/v2/artwork")
    assert status == 404
    assert "/v2/artwork" in orjson.loads(body)["error"]


# -- recording -----------------------------------------------------------------------------


async def test_every_request_is_recorded_in_order_with_its_answer() -> None:
    async with FakeTengrAI(count=5) as server, aiohttp.ClientSession() as session:
        await fetch(session, server)
        await fetch(session, server, headers=AUTH, params={"limit": "0"})
        await fetch(session, server, headers=AUTH, params={"offset": "2", "limit": "2"})
        await fetch(session, server, "/elsewhere", headers=AUTH)
    assert [(r.path, r.status) for r in server.requests] == [
        ("/v2/artworks", 401),
        ("/v2/artworks", 400),
        ("/v2/artworks", 200),
        ("/elsewhere", 404),
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
    assert "error" in orjson.loads(body)
    assert server.requests[0].fault == "429"


@pytest.mark.parametrize("fault", ["500", "503"])
async def test_server_error_fault_is_that_status_with_a_json_error(
    session: aiohttp.ClientSession, fault: str
) -> None:
    async with FakeTengrAI(count=5) as server:
        server.queue_faults(fault)
        status, _, body = await fetch(session, server)
    assert status == int(fault)
    assert "error" in orjson.loads(body)


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
    async with FakeTengrAI(count=50) as server:
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


async def test_random_faults_are_drawn_from_the_given_kinds_reproducibly(
    session: aiohttp.ClientSession,
) -> None:
    async def faults_seen(fault_seed: int) -> list[str | None]:
        options: dict[str, Any] = {
            "fault_rate": 0.5,
            "faults": ("500", "503"),
            "fault_seed": fault_seed,
        }
        async with FakeTengrAI(count=5, **options) as server:
            for _ in range(40):
                await fetch(session, server)
        return [r.fault for r in server.requests]

    first, again, other = await faults_seen(1), await faults_seen(1), await faults_seen(2)
    assert first == again
    assert first != other
    assert {"500", "503", None} == set(first)


async def test_fault_rate_one_faults_every_request(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=5, fault_rate=1.0, faults=("503",)) as server:
        statuses = [(await fetch(session, server))[0] for _ in range(5)]
    assert statuses == [503] * 5


def test_unknown_fault_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown faults"):
        FakeTengrAI(faults=("418",))
    with pytest.raises(ValueError, match="unknown faults"):
        FakeTengrAI().queue_faults("timeout")


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
    async with FakeTengrAI(count=5) as server:
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
    async with FakeTengrAI(count=20, insert_every=2, insert_batch=3) as server:
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
    async with FakeTengrAI(explicit) as server:
        server.insert()
        assert await window(session, server) == [make_artwork(-1), *explicit]


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
    with FakeTengrAI.in_thread(count=15, seed=3) as server:
        artworks = sync_get(f"{server.url}/v2/artworks?offset=10")
        server.insert()
        assert server.total == 16
    assert artworks == make_artworks(5, seed=3, start=10)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url


def test_module_runs_the_server_until_terminated() -> None:
    command = [sys.executable, "-m", "tengrai_async.testing", "--count", "25", "--seed", "4"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:  # noqa: S603 - our own module
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            artworks = sync_get(f"{url}/v2/artworks?limit=30")
        finally:
            process.terminate()
        assert process.wait(timeout=10) == 0
        assert process.stdout.read() == ""
    assert url.startswith("http://127.0.0.1:")
    assert artworks == make_artworks(25, seed=4)


async def test_concurrent_requests_wait_out_their_latency_together(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=200, latency=0.1) as server:
        started = time.perf_counter()
        windows = await asyncio.gather(
            *(window(session, server, offset=offset, limit=10) for offset in range(0, 200, 10))
        )
        elapsed = time.perf_counter() - started
    assert [artwork for part in windows for artwork in part] == make_artworks(200)
    assert elapsed < 1.0
