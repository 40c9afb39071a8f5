from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tengrai_async import TengrAI, converter
from tengrai_async.testing import FakeTengrAI, make_artworks
from tengrai_async.web import TENGRAI_CLIENT, setup

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
async def upstream() -> AsyncIterator[FakeTengrAI]:
    async with FakeTengrAI(count=30) as server:
        yield server


def make_app(upstream: FakeTengrAI, **overrides: Any) -> web.Application:
    app = web.Application()
    kwargs: dict[str, Any] = {"api_key": "test-key", "base_url": upstream.url, "max_retries": 0}
    setup(app, **{**kwargs, **overrides})
    return app


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
    ("query", "parameter"),
    [
        ({"offset": "-1"}, "offset"),
        ({"offset": "abc"}, "offset"),
        ({"offset": "+5"}, "offset"),
        ({"offset": "--1"}, "offset"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "1.5"}, "limit"),
    ],
)
async def test_bad_parameters_get_a_400_json_error_without_an_upstream_request(
    aiohttp_client: ClientFactory, upstream: FakeTengrAI, query: dict[str, str], parameter: str
) -> None:
    client = await aiohttp_client(make_app(upstream))
    resp = await client.get("/artworks", params=query)
    assert resp.status == 400
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body["parameter"] == parameter
    assert parameter in body["error"]
    assert upstream.requests == []


async def test_upstream_failure_is_a_502_json_error(
    aiohttp_client: ClientFactory, upstream: FakeTengrAI
) -> None:
    client = await aiohttp_client(make_app(upstream, api_key="wrong-key"))
    resp = await client.get("/artworks")
    assert resp.status == 502
    body = await resp.json()
    assert body == {
        "error": "upstream failure",
        "kind": "AuthenticationError",
        "upstreamStatus": 401,
    }
    assert "wrong-key" not in await resp.text()


async def test_unreachable_upstream_is_a_502_json_error(aiohttp_client: ClientFactory) -> None:
    async with FakeTengrAI(count=1) as gone:
        url = gone.url
    app = web.Application()
    setup(app, api_key="test-key", base_url=url, max_retries=0)
    client = await aiohttp_client(app)
    resp = await client.get("/artworks")
    assert resp.status == 502
    assert (await resp.json())["kind"] == "APIConnectionError"


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
