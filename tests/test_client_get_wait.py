"""``artworks.get()`` and ``artworks.wait()`` over real loopback HTTP against the fake server."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

import pytest
from _client_helpers import make_client

from tengrai_async import (
    ArtworkStatus,
    ClientStateError,
    NotFoundError,
    QuantumArtwork,
    SelenaArtwork,
    ServerError,
    UnknownArtwork,
    WaitTimeoutError,
    converter,
)
from tengrai_async import _sansio as sansio
from tengrai_async.testing import FakeClock, FakeTengrAI, make_artworks

MISSING_ID = "00000000-0000-4000-8000-000000000000"


def client_tasks() -> list[asyncio.Task[Any]]:
    """The unfinished tasks running the SDK's code (the server's own tasks are left out)."""
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").startswith(
            ("ArtworksResource", "Transport")
        )
    ]


def by_id_requests(server: FakeTengrAI) -> list[Any]:
    return [r for r in server.requests if r.path.startswith("/v2/artworks/")]


# -- get ---------------------------------------------------------------------------------


@pytest.mark.parametrize("as_uuid", [True, False])
async def test_get_returns_the_artwork_the_listing_holds(as_uuid: bool) -> None:
    async with FakeTengrAI(count=40) as server, make_client(server.url) as client:
        listed = (await client.artworks.list(limit=40)).items[17]
        assert listed.id is not None
        got = await client.artworks.get(listed.id if as_uuid else str(listed.id))
    assert got == listed
    assert type(got) is type(listed)
    assert got.raw == listed.raw
    assert by_id_requests(server)[0].path == f"/v2/artworks/{listed.id}"


async def test_get_keeps_the_json_exactly_as_sent() -> None:
    items = make_artworks(3, kinds=["quantum"])
    items[1]["creditsUsed"] = 7
    items[1]["parameters"]["futureKnob"] = {"nested": [1, 2.5, None]}
    async with FakeTengrAI(items) as server, make_client(server.url) as client:
        got = await client.artworks.get(items[1]["id"])
    assert isinstance(got, QuantumArtwork)
    assert converter.unstructure(got) == items[1]
    assert got.raw["parameters"]["futureKnob"]["nested"] == [1, 2.5, None]


async def test_get_returns_an_unknown_kind_whole() -> None:
    item: dict[str, Any] = {
        "id": "0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60",
        "artworkType": "style_dna",
        "parameters": {"anchor": "x"},
        "status": "processing",
        "createdAt": "2026-11-20T08:00:00Z",
    }
    async with FakeTengrAI([item]) as server, make_client(server.url) as client:
        got = await client.artworks.get(item["id"])
    assert isinstance(got, UnknownArtwork)
    assert got.status is ArtworkStatus.PROCESSING
    assert got.results is None
    assert converter.unstructure(got) == item


async def test_get_of_an_unknown_id_is_not_found_with_the_servers_message() -> None:
    async with FakeTengrAI(count=5) as server, make_client(server.url) as client:
        with pytest.raises(NotFoundError) as info:
            await client.artworks.get(MISSING_ID)
    error = info.value
    assert error.status == 404
    assert error.message == "artwork not found"
    assert str(error).startswith("HTTP 404 Not Found: artwork not found")
    assert error.body["statusCode"] == 404
    assert len(by_id_requests(server)) == 1  # a 404 is not retried


@pytest.mark.parametrize(
    "bad", ["", "nope", "../v2/artworks", MISSING_ID.replace("-", ""), 42, None, b"x"]
)
async def test_get_refuses_a_bad_id_before_any_request(bad: Any) -> None:
    async with FakeTengrAI(count=5) as server, make_client(server.url) as client:
        with pytest.raises(ValueError, match="artwork_id"):
            await client.artworks.get(bad)
    assert server.requests == []


async def test_get_is_retried_like_any_get() -> None:
    async with FakeTengrAI(count=5) as server, make_client(server.url) as client:
        first = (await client.artworks.list(limit=1)).items[0]
        server.queue_faults("503", "malformed", "drop")
        got = await client.artworks.get(first.id)  # type: ignore[arg-type]
    assert got == first
    assert [r.fault for r in by_id_requests(server)] == ["503", "malformed", "drop", None]


async def test_get_gives_up_after_the_retries_with_the_last_error() -> None:
    async with FakeTengrAI(count=5) as server, make_client(server.url, max_retries=1) as client:
        first = (await client.artworks.list(limit=1)).items[0]
        server.queue_faults("500", "500")
        with pytest.raises(ServerError) as info:
            await client.artworks.get(first.id)  # type: ignore[arg-type]
    assert info.value.status == 500
    assert len(by_id_requests(server)) == 2


# -- wait --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "status"),
    [("succeeded", "succeeded"), ("failed", "failed"), ("canceled", "canceled")],
)
async def test_wait_polls_until_a_final_status_and_returns_it(outcome: str, status: str) -> None:
    clock = FakeClock()
    async with FakeTengrAI(count=3) as server, make_client(server.url, clock=clock) as client:
        job = server.start_job("selena", outcome=outcome, polls=2)
        artwork = await client.artworks.wait(job)
    assert clock.sleeps == [1.0, 1.5, 2.25, 3.375]  # on the client's clock, growing by half
    assert isinstance(artwork, SelenaArtwork)
    assert artwork.status == status
    assert str(artwork.id) == job
    # starting, starting, processing, processing, then the outcome: five polls.
    assert len(by_id_requests(server)) == 5
    if outcome == "succeeded":
        assert artwork.results
    else:
        assert artwork.results == ()


async def test_wait_follows_a_job_that_runs_on_time() -> None:
    async with FakeTengrAI(count=3) as server, make_client(server.url) as client:
        job = server.start_job("quantum", seconds=0.15)
        artwork = await client.artworks.wait(uuid.UUID(job), poll_interval=0.01)
    assert isinstance(artwork, QuantumArtwork)
    assert artwork.status is ArtworkStatus.SUCCEEDED


async def test_wait_returns_at_once_when_the_artwork_is_already_final() -> None:
    items = make_artworks(1, kinds=["selena"])
    items[0]["status"] = "succeeded"
    async with FakeTengrAI(items) as server, make_client(server.url) as client:
        artwork = await client.artworks.wait(items[0]["id"], poll_interval=30)
    assert artwork.status is ArtworkStatus.SUCCEEDED
    assert len(by_id_requests(server)) == 1


async def test_wait_past_its_timeout_raises_a_timeout_error_with_the_last_artwork() -> None:
    clock = FakeClock()
    async with FakeTengrAI(count=3) as server, make_client(server.url, clock=clock) as client:
        job = server.start_job(polls=1_000_000)
        with pytest.raises(WaitTimeoutError) as info:
            await client.artworks.wait(job, timeout=60, poll_interval=1)
        assert client_tasks() == []
    # 1, 1.5, ... up to 10 s, and the last wait cut to the timeout: 60 s of virtual time.
    assert clock.sleeps[:7] == [1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375, 10.0]
    assert clock.sleeps[-1] < 10.0
    assert clock.elapsed == pytest.approx(60.0)
    assert len(by_id_requests(server)) == len(clock.sleeps)  # no poll once the time is up
    error = info.value
    assert isinstance(error, TimeoutError)
    assert error.artwork_id == job
    assert error.artwork is not None
    assert error.artwork.status is ArtworkStatus.STARTING
    assert "did not reach a final status within 60 s; last status starting" in str(error)


async def test_wait_times_out_even_while_a_poll_hangs() -> None:
    async with FakeTengrAI(count=3, latency=5.0) as server, make_client(server.url) as client:
        with pytest.raises(WaitTimeoutError) as info:
            await client.artworks.wait(MISSING_ID, timeout=0.1)
        assert client_tasks() == []
    assert info.value.artwork is None
    assert str(info.value).endswith("within 0.1 s")


async def test_cancelling_wait_leaves_nothing_running() -> None:
    clock = FakeClock(auto_advance=False)
    async with FakeTengrAI(count=3) as server, make_client(server.url, clock=clock) as client:
        job = server.start_job(polls=1_000_000)
        task = asyncio.create_task(client.artworks.wait(job, poll_interval=1))
        while len(clock.sleeps) < 3:  # until the third poll's sleep
            if len(clock.sleeps) == len(by_id_requests(server)):
                await clock.advance(10)
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client_tasks() == []
        seen = len(by_id_requests(server))
        await clock.advance(60)  # the wait's sleep would be long over
    assert len(by_id_requests(server)) == seen == 3  # no poll after the cancel


async def test_wait_of_an_unknown_artwork_raises_not_found() -> None:
    async with FakeTengrAI(count=3) as server, make_client(server.url) as client:
        with pytest.raises(NotFoundError):
            await client.artworks.wait(MISSING_ID, poll_interval=0.01)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeout", 0),
        ("timeout", -1.0),
        ("timeout", float("nan")),
        ("timeout", float("inf")),
        ("timeout", "10"),
        ("poll_interval", 0),
        ("poll_interval", True),
        ("poll_interval", None),
    ],
)
async def test_wait_refuses_bad_arguments_before_any_request(name: str, value: Any) -> None:
    async with FakeTengrAI(count=3) as server, make_client(server.url) as client:
        with pytest.raises(ValueError, match=name):
            await client.artworks.wait(MISSING_ID, **{name: value})
    assert server.requests == []


def test_poll_delays_grow_by_half_up_to_ten_seconds() -> None:
    delays = list(itertools.islice(sansio.poll_delays(1.0), 9))
    assert delays == [1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375, 10.0, 10.0, 10.0]


def test_poll_delays_keep_a_first_delay_longer_than_the_cap() -> None:
    assert list(itertools.islice(sansio.poll_delays(30.0), 3)) == [30.0, 30.0, 30.0]


async def test_close_ends_a_wait_that_sleeps_between_polls() -> None:
    clock = FakeClock(auto_advance=False)  # the sleep lasts until close() ends it
    async with FakeTengrAI(count=3) as server:
        client = make_client(server.url, clock=clock)
        job = server.start_job(polls=1_000_000)
        task = asyncio.create_task(client.artworks.wait(job, poll_interval=30))
        while clock.sleeps != [30.0]:  # noqa: ASYNC110 - waiting for the sleep between polls
            await asyncio.sleep(0.001)
        started = asyncio.get_running_loop().time()
        await client.close()
        with pytest.raises(ClientStateError):
            await task
        assert asyncio.get_running_loop().time() - started < 1.0
