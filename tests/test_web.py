from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import pytest
import yarl
from _client_helpers import Reply, ScriptedServer
from aiohttp import web
from aiohttp.test_utils import TestClient

from tengrai_async import (
    APIConnectionError,
    APITimeoutError,
    ArtworkPage,
    AuthenticationError,
    ClientStateError,
    MalformedResponseError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    ServerError,
    StalledListingError,
    TengrAI,
    TengrAIError,
    converter,
)
from tengrai_async._client import ArtworksResource
from tengrai_async.testing import FakeTengrAI, make_artworks
from tengrai_async.web import MAX_OFFSET, TENGRAI_CLIENT, setup

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
SECRET_KEY = "sk-never-shown-3f9a1c"  # noqa: S105 - a made-up key to look for
SPEC = "the upstream API's answer broke the API spec"
HTTP = "the upstream API answered HTTP"


@pytest.fixture
async def upstream() -> AsyncIterator[FakeTengrAI]:
    async with FakeTengrAI(count=30) as server:
        yield server


def make_app(upstream: FakeTengrAI | ScriptedServer, **overrides: Any) -> web.Application:
    app = web.Application()
    kwargs: dict[str, Any] = {"api_key": "test-key", "base_url": upstream.url, "max_retries": 0}
    setup(app, **{**kwargs, **overrides})
    return app


async def get_raw(client: TestClient[web.Request, web.Application], query: str) -> Any:
    """GET ``/artworks?<query>`` with *query* sent exactly as written (already encoded)."""
    url = yarl.URL(f"{client.make_url('/artworks')}?{query}", encoded=True)
    return await client.session.get(url)


def assert_error_shape(body: Any, status: int, reason: str) -> None:
    assert body["statusCode"] == status
    assert body["error"] == reason
    assert isinstance(body["message"], str)
    assert 0 < len(body["message"]) <= 200


# -- the page ------------------------------------------------------------------------------


async def test_handler_proxies_one_page_as_json(
    aiohttp_client: ClientFactory, upstream: FakeTengrAI
) -> None:
    client = await aiohttp_client(make_app(upstream))
    resp = await client.get("/artworks", params={"offset": "5", "limit": "7"})
    assert resp.status == 200
    body = await resp.json()
    expected = make_artworks(7, start=5)
    assert [item["id"] for item in body["items"]] == [item["id"] for item in expected]
    assert body["items"][0] == converter.unstructure(converter.structure_page(expected).items[0])
    assert (body["offset"], body["limit"], body["nextOffset"], body["hasMore"]) == (5, 7, 12, True)
    assert upstream.requests[-1].query == {"offset": "5", "limit": "7"}


async def test_defaults_are_offset_zero_and_limit_ten(
    aiohttp_client: ClientFactory, upstream: FakeTengrAI
) -> None:
    client = await aiohttp_client(make_app(upstream))
    body = await (await client.get("/artworks")).json()
    assert len(body["items"]) == 10
    assert upstream.requests[-1].query == {"offset": "0", "limit": "10"}


@pytest.mark.parametrize(
    ("query", "sent"),
    [
        ("offset=007&limit=0010", {"offset": "7", "limit": "10"}),  # leading zeros are fine
        (f"offset={'0' * 5000}1", {"offset": "1", "limit": "10"}),
        (f"offset={MAX_OFFSET}", {"offset": str(MAX_OFFSET), "limit": "10"}),
        ("limit=500&other=x&other=y", {"offset": "0", "limit": "500"}),  # others are ignored
        ("%6Fffset=3", {"offset": "3", "limit": "10"}),  # a percent-encoded name is the name
    ],
)
async def test_good_parameters_reach_upstream_as_plain_integers(
    aiohttp_client: ClientFactory, upstream: FakeTengrAI, query: str, sent: dict[str, str]
) -> None:
    client = await aiohttp_client(make_app(upstream))
    resp = await get_raw(client, query)
    assert resp.status == 200
    body = await resp.json()
    assert (body["offset"], body["limit"]) == (int(sent["offset"]), int(sent["limit"]))
    assert upstream.requests[-1].query == sent


# -- bad parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("offset=-1", "offset"),
        ("offset=-0", "offset"),
        ("offset=abc", "offset"),
        ("offset=%2B5", "offset"),  # "+5"
        ("offset=+5", "offset"),  # " 5": a plus is a space in a query
        ("offset=--1", "offset"),
        ("offset=1_0", "offset"),
        ("offset=1e3", "offset"),
        ("offset=0x10", "offset"),
        ("offset=", "offset"),
        ("offset", "offset"),
        ("offset=%205", "offset"),
        ("offset=5%20", "offset"),
        ("offset=%095", "offset"),
        ("offset=%00", "offset"),
        ("offset=%D9%A5", "offset"),  # ARABIC-INDIC DIGIT FIVE
        ("offset=%EF%BC%95", "offset"),  # FULLWIDTH DIGIT FIVE
        ("offset=%C2%B2", "offset"),  # SUPERSCRIPT TWO: str.isdigit() says yes
        ("offset=%FF", "offset"),  # not UTF-8
        ("offset=%ZZ", "offset"),
        ("offset=%", "offset"),
        ("offset=5;limit=3", "offset"),
        (f"offset={MAX_OFFSET + 1}", "offset"),  # not a 64-bit integer
        ("offset=99999999999999999999999999", "offset"),
        (f"offset={'9' * 5000}", "offset"),  # past int()'s 4300 digits
        (f"offset=-{'9' * 5000}", "offset"),
        ("offset=1&offset=1", "offset"),
        ("offset=1&offset=2", "offset"),
        ("offset=&offset=3", "offset"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=1.5", "limit"),
        ("limit=10&limit=10", "limit"),
        ("offset=3&limit=%F0%9F%98%80", "limit"),
    ],
)
async def test_bad_parameters_get_a_400_json_error_without_an_upstream_request(
    aiohttp_client: ClientFactory, upstream: FakeTengrAI, query: str, parameter: str
) -> None:
    client = await aiohttp_client(make_app(upstream))
    resp = await get_raw(client, query)
    assert resp.status == 400
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert_error_shape(body, 400, "Bad Request")
    assert body["parameter"] == parameter
    assert body["message"].startswith(f"{parameter} must be ")
    assert upstream.requests == []


async def test_the_400_says_what_is_expected(
    aiohttp_client: ClientFactory, upstream: FakeTengrAI
) -> None:
    client = await aiohttp_client(make_app(upstream))
    offset = await (await get_raw(client, "offset=x")).json()
    limit = await (await get_raw(client, "limit=x")).json()
    repeated = await (await get_raw(client, "limit=1&limit=2&limit=3")).json()
    assert offset["message"] == f"offset must be an integer from 0 to {MAX_OFFSET}"
    assert limit["message"] == "limit must be an integer from 1 to 500"
    assert repeated["message"] == "limit must be given once, not 3 times"


# -- upstream failures ---------------------------------------------------------------------


async def test_upstream_http_error_is_a_502_in_the_api_error_shape(
    aiohttp_client: ClientFactory, upstream: FakeTengrAI
) -> None:
    client = await aiohttp_client(make_app(upstream, api_key="wrong-key"))
    resp = await client.get("/artworks")
    assert resp.status == 502
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body == {
        "message": "the upstream API answered HTTP 401 Unauthorized",
        "statusCode": 502,
        "error": "Bad Gateway",
        "kind": "AuthenticationError",
        "upstreamStatus": 401,
    }
    assert "wrong-key" not in await resp.text()


async def test_the_api_key_never_reaches_the_caller_even_when_upstream_echoes_it(
    aiohttp_client: ClientFactory,
) -> None:
    echo = orjson.dumps({"message": f"bad token {SECRET_KEY}", "statusCode": 401})
    replies = [
        Reply(401, echo),
        Reply(500, echo),
        Reply(200, b"<html>" + SECRET_KEY.encode() + b"</html>"),
        Reply(200, orjson.dumps([{"id": SECRET_KEY, "artworkType": "selena"}])),
    ]
    async with ScriptedServer(replies) as scripted:
        client = await aiohttp_client(make_app(scripted, api_key=SECRET_KEY))
        for _ in replies:
            resp = await client.get("/artworks")
            assert resp.status == 502
            assert SECRET_KEY not in await resp.text()
        assert scripted.hits[0].headers["Authorization"] == f"Bearer {SECRET_KEY}"


@pytest.mark.parametrize(
    ("reply", "kind", "message"),
    [
        (Reply(500), "ServerError", f"{HTTP} 500 Internal Server Error"),
        (Reply(503), "ServerError", f"{HTTP} 503 Service Unavailable"),
        (
            Reply(429, headers={"Retry-After": "1"}),
            "RateLimitError",
            f"{HTTP} 429 Too Many Requests",
        ),
        (Reply(404, b"{}"), "NotFoundError", f"{HTTP} 404 Not Found"),
        (Reply(599), "ServerError", f"{HTTP} 599"),
        (Reply(200, b"<html>"), "MalformedResponseError", SPEC),
        (Reply(200, b"{}"), "ResponseValidationError", SPEC),
        (Reply(200, b'[{"artworkType": "selena", "id": 3}]'), "ResponseValidationError", SPEC),
        (Reply(200, delay=1.0), "APITimeoutError", "the upstream API did not answer in time"),
    ],
)
async def test_every_kind_of_upstream_failure_is_a_502(
    aiohttp_client: ClientFactory, reply: Reply, kind: str, message: str
) -> None:
    async with ScriptedServer([reply]) as scripted:
        client = await aiohttp_client(make_app(scripted, timeout=0.2))
        resp = await client.get("/artworks")
        assert resp.status == 502
        body = await resp.json()
    assert_error_shape(body, 502, "Bad Gateway")
    assert (body["kind"], body["message"]) == (kind, message)
    assert body.get("upstreamStatus") == (reply.status if reply.status != 200 else None)


async def test_unreachable_upstream_is_a_502_json_error(aiohttp_client: ClientFactory) -> None:
    async with FakeTengrAI(count=1) as gone:
        url = gone.url
    app = web.Application()
    setup(app, api_key="test-key", base_url=url, max_retries=0)
    client = await aiohttp_client(app)
    resp = await client.get("/artworks")
    assert resp.status == 502
    body = await resp.json()
    assert_error_shape(body, 502, "Bad Gateway")
    assert body["kind"] == "APIConnectionError"
    assert body["message"] == "the upstream API could not be reached"


async def test_an_upstream_dropping_the_connection_is_a_502(aiohttp_client: ClientFactory) -> None:
    async with FakeTengrAI(count=30, fault_rate=1.0, faults=["drop"]) as server:
        client = await aiohttp_client(make_app(server))
        resp = await client.get("/artworks")
        assert resp.status == 502
        assert (await resp.json())["kind"] == "APIConnectionError"


def raising(exc: BaseException) -> Callable[..., Awaitable[ArtworkPage]]:
    async def fake_list(*_args: Any, **_kwargs: Any) -> ArtworkPage:
        await asyncio.sleep(0)
        raise exc

    return fake_list


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (
            APITimeoutError(f"GET http://x/?key={SECRET_KEY}"),
            "the upstream API did not answer in time",
        ),
        (APIConnectionError(SECRET_KEY), "the upstream API could not be reached"),
        (ResponseTooLargeError(SECRET_KEY, 10), "the upstream API's answer was too large"),
        (MalformedResponseError("$", SECRET_KEY, "JSON"), SPEC),
        (ResponseValidationError("$[0].id", SECRET_KEY, "a UUID"), SPEC),
        (AuthenticationError(401, {"message": SECRET_KEY}), f"{HTTP} 401 Unauthorized"),
        (RateLimitError(429, retry_after=3), f"{HTTP} 429 Too Many Requests"),
        (ServerError(500, SECRET_KEY), f"{HTTP} 500 Internal Server Error"),
        (ClientStateError(SECRET_KEY), "the upstream request failed"),
        (StalledListingError(SECRET_KEY, (1, 2)), "the upstream request failed"),
        (TengrAIError(SECRET_KEY), "the upstream request failed"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else "",
)
async def test_any_sdk_error_is_a_502_naming_its_kind_but_not_its_text(
    aiohttp_client: ClientFactory,
    upstream: FakeTengrAI,
    monkeypatch: pytest.MonkeyPatch,
    exc: TengrAIError,
    message: str,
) -> None:
    monkeypatch.setattr(ArtworksResource, "list", raising(exc))
    client = await aiohttp_client(make_app(upstream))
    resp = await client.get("/artworks")
    assert resp.status == 502
    body = await resp.json()
    assert_error_shape(body, 502, "Bad Gateway")
    assert (body["kind"], body["message"]) == (type(exc).__name__, message)
    assert SECRET_KEY not in await resp.text()


async def test_an_unexpected_exception_is_logged_and_still_a_502_json_error(
    aiohttp_client: ClientFactory,
    upstream: FakeTengrAI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(ArtworksResource, "list", raising(KeyError(SECRET_KEY)))
    client = await aiohttp_client(make_app(upstream))
    with caplog.at_level(logging.ERROR, logger="tengrai_async.web"):
        resp = await client.get("/artworks")
    assert resp.status == 502
    body = await resp.json()
    assert_error_shape(body, 502, "Bad Gateway")
    assert body["kind"] == "KeyError"
    assert SECRET_KEY not in await resp.text()
    (record,) = [r for r in caplog.records if r.name == "tengrai_async.web"]
    assert record.exc_info is not None
    assert record.exc_info[0] is KeyError


async def test_cancellation_is_not_turned_into_an_answer(
    aiohttp_client: ClientFactory, upstream: FakeTengrAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ArtworksResource, "list", raising(asyncio.CancelledError()))
    client = await aiohttp_client(make_app(upstream))
    with pytest.raises(aiohttp.ServerDisconnectedError):  # no answer at all, not a 502
        await client.get("/artworks")


# -- the shared client ---------------------------------------------------------------------


async def test_one_client_is_shared_by_all_requests_and_closed_on_shutdown(
    aiohttp_client: ClientFactory, upstream: FakeTengrAI
) -> None:
    app = make_app(upstream)
    client = await aiohttp_client(app)
    shared = app[TENGRAI_CLIENT]
    assert isinstance(shared, TengrAI)
    for offset in range(3):
        assert (await client.get("/artworks", params={"offset": str(offset)})).status == 200
    assert app[TENGRAI_CLIENT] is shared
    assert len(upstream.requests) == 3
    await client.close()
    assert shared.closed
