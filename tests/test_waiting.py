"""Shared polls over real loopback HTTP: rounds, cancels, gone jobs, as_completed, wait_all."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from _client_helpers import make_client
from aiohttp import web

from tengrai_async import Artwork, ArtworkStatus, NotFoundError, WaitTimeoutError, converter
from tengrai_async.testing import FakeClock, FakeTengrAI, make_artworks


def by_id(server: FakeTengrAI) -> list[Any]:
    return [r for r in server.requests if r.path.startswith("/v2/artworks/")]


def listings(server: FakeTengrAI) -> list[Any]:
    return [r for r in server.requests if r.path == "/v2/artworks"]


def sdk_tasks() -> list[asyncio.Task[Any]]:
    """Unfinished tasks running the SDK's polls (the test's own and the server's left out)."""
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").startswith(("SharedPolls", "Transport"))
    ]


async def test_concurrent_waits_share_each_round_through_the_listing() -> None:
    clock = FakeClock()
    async with (
        FakeTengrAI(count=30, clock=clock) as server,
        make_client(server.url, clock=clock) as client,
    ):
        jobs = [server.start_job(seconds=s) for s in (5.0, 10.0, 20.0)]
        done = await asyncio.gather(*(client.artworks.wait(job) for job in jobs))
        rounds = client.artworks._polls.rounds
    assert [str(a.id) for a in done] == jobs
    assert all(a.status is ArtworkStatus.SUCCEEDED for a in done)
    # One schedule for all: polls at 0, 1, 2.5, 4.75, 8.125, 13.19 and 20.78 s; each round
    # with two jobs or more is one page of the listing, the last (one job left) one GET.
    assert rounds == 7
    assert len(listings(server)) == 6
    assert [r.path for r in by_id(server)] == [f"/v2/artworks/{jobs[2]}"]
    assert all(r.query.get("offset") == "0" for r in listings(server))


async def test_a_lone_wait_costs_one_get_a_poll_as_before() -> None:
    clock = FakeClock()
    async with (
        FakeTengrAI(count=3, clock=clock) as server,
        make_client(server.url, clock=clock) as client,
    ):
        job = server.start_job(seconds=5.0)
        await client.artworks.wait(job)
    assert listings(server) == []
    assert len(by_id(server)) == 5  # 0, 1, 2.5, 4.75 and 8.125 s


async def test_copies_from_with_options_share_the_rounds() -> None:
    clock = FakeClock()
    async with (
        FakeTengrAI(count=3, clock=clock) as server,
        make_client(server.url, clock=clock) as client,
    ):
        copy = client.with_options(timeout=5)
        one, two = server.start_job(seconds=3.0), server.start_job(seconds=3.0)
        await asyncio.gather(client.artworks.wait(one), copy.artworks.wait(two))
    assert by_id(server) == []
    assert len(listings(server)) == 4  # 0, 1, 2.5 and 4.75 s: both jobs in each


async def test_pages_are_read_back_to_the_oldest_job_awaited_and_no_further() -> None:
    async with FakeTengrAI(count=2_000) as server, make_client(server.url) as client:
        old: list[Artwork] = []
        for n in (600, 700):
            page = await client.artworks.list(offset=n, limit=1)
            old.append(page.items[0])
        server.requests.clear()
        done = await client.artworks.wait_all(old)
    assert done == old
    assert [r.query["offset"] for r in listings(server)] == ["0", "500"]
    assert by_id(server) == []


async def test_a_new_job_on_the_first_page_ends_the_reading_there() -> None:
    async with FakeTengrAI(count=2_000) as server, make_client(server.url) as client:
        fresh = await client.artworks.list(limit=2)
        server.requests.clear()
        await client.artworks.wait_all(fresh.items)
    assert [r.query["offset"] for r in listings(server)] == ["0"]


@pytest.fixture
async def patchy_api() -> AsyncIterator[tuple[str, list[dict[str, Any]], list[str]]]:
    """An API whose listing holds only the first artwork; GET finds the second; the third 404s."""
    items = make_artworks(3)
    for item in items:
        item["status"] = "succeeded"
    asked: list[str] = []

    async def listing(request: web.Request) -> web.Response:
        asked.append(request.path_qs)
        return web.json_response([items[0]] if request.query["offset"] == "0" else [])

    async def one(request: web.Request) -> web.Response:
        asked.append(request.path)
        if request.match_info["id"] == items[1]["id"]:
            return web.json_response(items[1])
        body = {"message": "artwork not found", "statusCode": 404, "error": "Not Found"}
        return web.json_response(body, status=404)

    app = web.Application()
    app.router.add_get("/v2/artworks", listing)
    app.router.add_get("/v2/artworks/{id}", one)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", items, asked
    finally:
        await runner.cleanup()


async def test_a_job_missing_from_the_listing_is_found_by_get(
    patchy_api: tuple[str, list[dict[str, Any]], list[str]],
) -> None:
    url, items, asked = patchy_api
    async with make_client(url) as client:
        first, second = await asyncio.gather(
            client.artworks.wait(items[0]["id"]), client.artworks.wait(items[1]["id"])
        )
    assert converter.unstructure(first) == items[0]
    assert converter.unstructure(second) == items[1]
    assert asked == ["/v2/artworks?offset=0&limit=500", f"/v2/artworks/{items[1]['id']}"]


async def test_a_404_ends_only_the_wait_of_that_job(
    patchy_api: tuple[str, list[dict[str, Any]], list[str]],
) -> None:
    url, items, _ = patchy_api
    async with make_client(url) as client:
        results = await asyncio.gather(
            *(client.artworks.wait(item["id"]) for item in items), return_exceptions=True
        )
    assert [converter.unstructure(r) for r in results[:2]] == items[:2]
    assert isinstance(results[2], NotFoundError)


async def test_cancelling_one_waiter_mid_round_leaves_the_others_alone() -> None:
    clock = FakeClock()
    async with (
        FakeTengrAI(count=3, clock=clock) as server,
        make_client(server.url, clock=clock) as client,
    ):
        stays, goes = server.start_job(seconds=4.0), server.start_job(seconds=60.0)
        victim: list[asyncio.Task[Artwork]] = []

        def cancel_the_other(artwork: Artwork) -> None:
            if victim and not victim[0].done():
                victim[0].cancel()  # while the round that brought this artwork runs

        victim.append(asyncio.create_task(client.artworks.wait(goes)))
        survivor = asyncio.create_task(client.artworks.wait(stays, on_poll=cancel_the_other))
        artwork = await survivor
        with pytest.raises(asyncio.CancelledError):
            await victim[0]
        assert sdk_tasks() == []
    assert str(artwork.id) == stays
    assert artwork.status is ArtworkStatus.SUCCEEDED
    # The first round listed both; from then on the survivor waited alone: GETs by id.
    assert len(listings(server)) == 1
    assert [r.path for r in by_id(server)] == [f"/v2/artworks/{stays}"] * 3


async def test_each_wait_keeps_its_own_timeout() -> None:
    clock = FakeClock()
    async with (
        FakeTengrAI(count=3, clock=clock) as server,
        make_client(server.url, clock=clock) as client,
    ):
        slow, quick = server.start_job(seconds=100.0), server.start_job(seconds=8.0)
        results = await asyncio.gather(
            client.artworks.wait(slow, timeout=5),
            client.artworks.wait(quick, timeout=50),
            return_exceptions=True,
        )
    assert isinstance(results[0], WaitTimeoutError)
    assert results[0].artwork is not None
    assert results[0].artwork.status is ArtworkStatus.STARTING
    assert isinstance(results[1], Artwork.__args__)  # type: ignore[attr-defined]
    assert str(results[1].id) == quick


async def test_as_completed_yields_in_the_order_jobs_end() -> None:
    clock = FakeClock()
    async with (
        FakeTengrAI(count=3, clock=clock) as server,
        make_client(server.url, clock=clock) as client,
    ):
        jobs = [server.start_job(seconds=s) for s in (30.0, 10.0, 20.0)]
        order = [str(a.id) async for a in client.artworks.as_completed(jobs)]
    assert order == [jobs[1], jobs[2], jobs[0]]


async def test_wait_all_returns_in_the_order_given() -> None:
    clock = FakeClock()
    async with (
        FakeTengrAI(count=3, clock=clock) as server,
        make_client(server.url, clock=clock) as client,
    ):
        jobs = [server.start_job(seconds=s) for s in (30.0, 10.0, 20.0)]
        done = await client.artworks.wait_all([*jobs, jobs[1]])
    assert [str(a.id) for a in done] == [*jobs, jobs[1]]


async def test_leaving_as_completed_early_ends_its_polls() -> None:
    clock = FakeClock()
    async with (
        FakeTengrAI(count=3, clock=clock) as server,
        make_client(server.url, clock=clock) as client,
    ):
        jobs = [server.start_job(seconds=s) for s in (30.0, 2.0, 20.0)]
        async for artwork in client.artworks.as_completed(jobs):
            first = artwork
            break
        assert client.artworks._polls.waiting == 0
        await asyncio.sleep(0)  # one loop turn: the cancelled round unwinds
        assert sdk_tasks() == []
        seen = len(server.requests)
        await clock.advance(100)
        assert len(server.requests) == seen
    assert str(first.id) == jobs[1]


async def test_as_completed_timeout_names_the_first_job_still_running() -> None:
    clock = FakeClock()
    async with (
        FakeTengrAI(count=3, clock=clock) as server,
        make_client(server.url, clock=clock) as client,
    ):
        jobs = [server.start_job(seconds=s) for s in (1.0, 90.0, 80.0)]
        got: list[str] = []

        async def collect() -> None:
            async with client.artworks.as_completed(jobs, timeout=30) as done:
                async for artwork in done:
                    got.append(str(artwork.id))  # noqa: PERF401 - kept up to the error

        with pytest.raises(WaitTimeoutError) as info:
            await collect()
        assert sdk_tasks() == []
    assert got == [jobs[0]]
    assert info.value.artwork_id == jobs[1]
    assert clock.elapsed == pytest.approx(30.0)


async def test_as_completed_raises_the_error_of_a_job_gone() -> None:
    missing = str(uuid.UUID(int=7, version=4))
    async with FakeTengrAI(count=3) as server, make_client(server.url) as client:
        job = server.start_job(polls=1_000)
        with pytest.raises(NotFoundError):
            await client.artworks.wait_all([job, missing])
        assert sdk_tasks() == []


async def test_as_completed_refuses_bad_jobs_and_arguments_before_any_request() -> None:
    async with FakeTengrAI(count=3) as server, make_client(server.url) as client:
        with pytest.raises(ValueError, match="artwork_id"):
            client.artworks.as_completed(["nope"])
        with pytest.raises(ValueError, match="timeout"):
            client.artworks.as_completed([], timeout=0)
        with pytest.raises(ValueError, match="poll_interval"):
            await client.artworks.wait_all([], poll_interval=-1)
        assert [a async for a in client.artworks.as_completed([])] == []
    assert server.requests == []


async def test_a_delivery_ends_a_wait_before_its_next_poll() -> None:
    clock = FakeClock(auto_advance=False)
    async with (
        FakeTengrAI(count=3, clock=clock) as server,
        make_client(server.url, clock=clock) as client,
    ):
        job = server.start_job(polls=1_000)
        task = asyncio.create_task(client.artworks.wait(job, poll_interval=30))
        while not by_id(server):  # noqa: ASYNC110 - the server's record has no event
            await asyncio.sleep(0.001)  # the first poll is under way
        polled = await client.artworks.get(job)
        final = converter.structure_artwork({**polled.raw, "status": "succeeded"})
        while client.artworks.deliver(final) == 0:  # noqa: ASYNC110 - nor the round's end
            await asyncio.sleep(0.001)  # until the first poll's round has ended
        assert (await task).status is ArtworkStatus.SUCCEEDED
        # A wait that starts after the delivery returns it without a request.
        before = len(server.requests)
        assert await client.artworks.wait(job) is final
        assert len(server.requests) == before
    assert clock.elapsed == 0
