"""Any 2xx body ends as data or the SDK's own error: garbage served over real loopback.

A purpose-built aiohttp.web app answers every GET with the body under test (status 200, JSON
content type); ``list()``, ``iterate()`` and ``get()`` run against it with retries off. Whatever
the body, what comes out is artworks (whose ``raw`` every serializer takes) or a
:class:`TengrAIError`, never a ``RecursionError``, ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import json_values

from tengrai_async import MalformedResponseError, ResponseValidationError, TengrAI, TengrAIError
from tengrai_async._readonly import MAX_DEPTH
from tengrai_async.testing import make_artworks

API_KEY = "sk-test-garbage"
ARTWORK_ID = uuid.UUID("0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60")


class BodyServer:
    """A loopback server answering every GET with ``self.body`` (200, application/json)."""

    def __init__(self) -> None:
        self.body = b"[]"
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def _answer(self, _request: web.Request) -> web.Response:
        return web.Response(body=self.body, content_type="application/json")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._answer)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


class Loopback:
    """One event loop, one server and one client for a whole test's examples."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = BodyServer()
        self.loop.run_until_complete(self.server.start())
        self.client = TengrAI(API_KEY, base_url=self.server.url, max_retries=0)

    def run(self, body: bytes) -> list[BaseException | Any]:
        self.server.body = body
        return self.loop.run_until_complete(_every_call(self.client))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.run_until_complete(self.server.stop())
        self.loop.close()


@pytest.fixture(scope="module")
def loopback() -> Iterator[Loopback]:
    running = Loopback()
    yield running
    running.close()


def _touch(artwork: Any) -> Any:
    """Read what a caller would: the fields, and raw through two serializers."""
    raw = artwork.raw
    assert json.loads(json.dumps(raw)) == orjson.loads(orjson.dumps(raw))
    return artwork.id, artwork.status


async def _collect(iterator: AsyncIterator[Any]) -> list[Any]:
    return [_touch(artwork) async for artwork in iterator]


async def _every_call(client: TengrAI) -> list[BaseException | Any]:
    """Each entry point on the current body: its result, or the exception it raised."""
    artworks = client.artworks
    calls = [
        artworks.list(limit=5),
        artworks.list(limit=5, on_invalid="skip"),
        _collect(artworks.iterate(page_size=3, prefetch=2, max_items=12)),
        _collect(artworks.iterate(page_size=3, max_items=12, on_invalid="skip")),
        artworks.get(ARTWORK_ID),
    ]
    outcomes: list[BaseException | Any] = []
    for call in calls:
        try:
            result = await call
        except Exception as exc:  # noqa: BLE001 - each is checked by the caller
            outcomes.append(exc)
            continue
        if hasattr(result, "items"):
            result = [_touch(artwork) for artwork in result.items]
        elif not isinstance(result, list):
            result = _touch(result)
        outcomes.append(result)
    return outcomes


def _check(outcomes: list[BaseException | Any]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, TengrAIError), repr(outcome)
            # Its message and repr are safe to print, however deep the body was.
            assert str(outcome)
            assert repr(outcome)


def nested(depth: int, opener: str) -> bytes:
    """*depth* levels of arrays (``[``) or objects (``{``) around a number."""
    if opener == "[":
        return b"[" * depth + b"1" + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def artwork_with(key_path: list[str], value: Any) -> bytes:
    """A valid artwork (as a one-item page) with *value* put at *key_path*."""
    artwork: dict[str, Any] = make_artworks(1, seed=5, kinds=["selena"])[0]
    target = artwork
    for key in key_path[:-1]:
        target = target.setdefault(key, {}) if isinstance(target.get(key), dict) else target
    target[key_path[-1]] = value
    return orjson.dumps([artwork])


_page = orjson.dumps(make_artworks(4, seed=2))
_keys = st.lists(
    st.sampled_from(["id", "parameters", "results", "status", "createdAt", "prompt", "x"]),
    min_size=1,
    max_size=2,
)
bodies = st.one_of(
    st.binary(max_size=120),
    json_values.map(orjson.dumps),
    st.builds(nested, st.integers(1, 3_000), st.sampled_from(["[", "{"])),
    st.builds(artwork_with, _keys, json_values),
    st.builds(lambda cut: _page[:cut], st.integers(0, len(_page))),
    st.builds(lambda depth: b"[" + nested(depth, "[") + b"]", st.integers(100, 1_200)),
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_no_body_lets_anything_but_an_sdk_error_out(loopback: Loopback, body: bytes) -> None:
    _check(loopback.run(body))


@pytest.mark.parametrize("opener", ["[", "{"])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 1_000, 1_025, 100_000])
def test_a_body_nested_too_deep_is_a_malformed_response(
    loopback: Loopback, depth: int, opener: str
) -> None:
    outcomes = loopback.run(nested(depth, opener))
    for outcome in outcomes:
        assert isinstance(outcome, MalformedResponseError), repr(outcome)
        assert f"nested at most {MAX_DEPTH} levels" in str(outcome)


def test_a_body_nested_to_the_limit_is_data(loopback: Loopback) -> None:
    deep: Any = 1
    for _ in range(MAX_DEPTH - 3):  # the page, the artwork and the key are three levels
        deep = [deep]
    artwork: dict[str, Any] = make_artworks(1, seed=5, kinds=["selena"])[0]
    artwork["deep"] = deep
    outcomes = loopback.run(orjson.dumps([artwork]))
    for outcome in outcomes[:4]:
        assert not isinstance(outcome, BaseException), repr(outcome)
        assert len(outcome) == 1
    assert isinstance(outcomes[4], ResponseValidationError)  # get() wants an object, not a page
