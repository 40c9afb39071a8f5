"""Edges of the fake server's parts that the other suites of the server leave out.

A create body that is not JSON, starting a running server, a negative insert, and a status set
on an artwork that had not started.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest

from tengrai_async.testing import FakeTengrAI, make_artwork

AUTH = {"Authorization": "Bearer test-key"}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def test_a_create_body_that_is_not_json_is_a_400_recorded_as_none(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=1) as server:
        async with session.post(server.url / "v2/artworks/quantum", data=b"{not json") as answer:
            status, body = answer.status, orjson.loads(await answer.read())
        assert server.total == 1  # no job
    assert status == 400
    assert body["message"] == ["the body must be a JSON object"]
    assert server.create_bodies == [None]
    assert server.requests[0].body is None


async def test_starting_a_running_server_is_refused_and_it_keeps_serving(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=2) as server:
        url = server.url
        with pytest.raises(RuntimeError, match="already running"):
            await server.start()
        assert server.url == url
        async with session.get(url / "v2/artworks") as answer:
            assert answer.status == 200


def test_a_negative_insert_is_refused() -> None:
    server = FakeTengrAI(count=2)
    with pytest.raises(ValueError, match="cannot insert -1 artworks"):
        server.insert(-1)
    assert server.total == 2


async def test_a_status_set_on_an_artwork_that_had_not_started_gives_it_a_duration(
    session: aiohttp.ClientSession,
) -> None:
    starting = make_artwork(19)
    assert (starting["status"], starting["duration"]) == ("starting", 0)
    async with FakeTengrAI(count=20) as server:
        server.set_status(starting["id"], "failed")
        async with session.get(server.url / f"v2/artworks/{starting['id']}") as answer:
            served = orjson.loads(await answer.read())
    assert served["status"] == "failed"
    assert 0.5 <= served["duration"] <= 60.0
    assert served["results"] == []
