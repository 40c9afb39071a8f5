"""The fake server's webhook deliveries over loopback: once, delays, repeats, retries, close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import pytest
import yarl
from _client_helpers import free_port
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tengrai_async import Artwork, ArtworkStatus
from tengrai_async.testing import (
    CreateOptions,
    FakeClock,
    FakeTengrAI,
    WebhookDelivery,
    WebhookOptions,
)
from tengrai_async.web import TENGRAI_CLIENT, setup, setup_webhooks, webhook_handler, webhook_url

ClientFactory = Callable[
    [web.Application | TestServer], Awaitable[TestClient[web.Request, web.Application]]
]
TOKEN = "whk-fake-server-3b9d"  # noqa: S105 - a made-up token
PATH = "/tengrai/webhook"
ORIGIN = "https://my.app"
WEBHOOK = webhook_url(ORIGIN + PATH + "?tenant=7", TOKEN)
START = 1_000.0  # FakeClock's default start


@attrs.define
class Receiver:
    """A purpose-built receiver: records each POST, answers the scripted statuses, then 200."""

    statuses: list[int] = attrs.field(factory=list[int])
    posts: list[tuple[str, str, bytes]] = attrs.field(factory=list[tuple[str, str, bytes]])
    base: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append((request.path_qs, request.content_type, await request.read()))
        status = self.statuses.pop(0) if self.statuses else 200
        return web.json_response({"status": status}, status=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recorded = Receiver()
    app = web.Application()
    app.router.add_post(PATH, recorded.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    recorded.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield recorded
    await runner.cleanup()


def options(receiver: Receiver, **knobs: Any) -> WebhookOptions:
    return WebhookOptions(routes={ORIGIN: receiver.base}, **knobs)


async def get_bytes(server: FakeTengrAI, artwork_id: str) -> bytes:
    headers = {"Authorization": "Bearer test-key"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.url / "v2/artworks" / artwork_id, headers=headers) as response,
    ):
        assert response.status == 200
        return await response.read()


def summary(deliveries: list[WebhookDelivery]) -> list[tuple[int, int, int | None, bool, bool]]:
    """(delivery, attempt, status, ok, gave_up) of each attempt."""
    return [(d.delivery, d.attempt, d.status, d.ok, d.gave_up) for d in deliveries]


async def deliveries_of_one_job(knobs: WebhookOptions) -> list[WebhookDelivery]:
    """Every attempt to deliver one job, finished at once, on a fresh server and FakeClock."""
    async with FakeTengrAI(clock=FakeClock(), webhooks=knobs) as server:
        server.start_job(webhook=WEBHOOK)
        server.finish_jobs()
        await server.webhooks.join()
        return server.webhook_deliveries


def sender_tasks() -> list[str]:
    """The names of the tasks the sender runs (its deliveries, and their sleeps), sorted."""
    names = (getattr(task.get_coro(), "__qualname__", "") for task in asyncio.all_tasks())
    return sorted(name for name in names if name.startswith(("WebhookSender", "FakeClock")))


async def test_a_created_job_ending_by_time_is_posted_once_with_the_bytes_get_answers(
    receiver: Receiver,
) -> None:
    clock = FakeClock()
    create = CreateOptions(seconds=30.0)
    async with FakeTengrAI(clock=clock, create=create, webhooks=options(receiver)) as server:
        async with server.client() as client:
            job = await client.artworks.create_quantum(prompt="a red fox", webhook=WEBHOOK)
        await server.webhooks.join()
        served = await get_bytes(server, str(job.id))
        deliveries = server.webhook_deliveries
    [(path_qs, content_type, body)] = receiver.posts
    assert body == served
    assert content_type == "application/json"
    assert yarl.URL(path_qs).path == PATH
    assert yarl.URL(path_qs).query == {"tenant": "7", "token": TOKEN}  # the same path and query
    [delivery] = deliveries
    assert delivery.artwork_id == str(job.id)
    assert (delivery.at, delivery.status, delivery.ok) == (START + 30.0, 200, True)
    assert delivery.url == ORIGIN + PATH + "?tenant=7"  # recorded without the token
    assert delivery.target == receiver.base + PATH + "?tenant=7"
    assert clock.elapsed == 30.0


async def test_finish_jobs_delivers_at_once(receiver: Receiver) -> None:
    clock = FakeClock(auto_advance=False)  # time never moves
    async with FakeTengrAI(clock=clock, webhooks=options(receiver)) as server:
        job = server.start_job(seconds=3600.0, webhook=WEBHOOK)
        assert server.finish_jobs() == [job]
        await server.webhooks.join()
        served = await get_bytes(server, job)
    assert [body for _, _, body in receiver.posts] == [served]
    assert b'"status":"succeeded"' in served
    assert clock.elapsed == 0


async def test_set_status_with_an_outcome_delivers_that_outcome(receiver: Receiver) -> None:
    async with FakeTengrAI(clock=FakeClock(), webhooks=options(receiver)) as server:
        job = server.start_job(webhook=WEBHOOK)
        server.set_status(job, "failed")
        await server.webhooks.join()
        served = await get_bytes(server, job)
    assert [body for _, _, body in receiver.posts] == [served]
    assert b'"status":"failed"' in served


async def test_a_job_that_ends_by_polls_is_delivered_after_the_get_that_ends_it(
    receiver: Receiver,
) -> None:
    async with FakeTengrAI(clock=FakeClock(), webhooks=options(receiver)) as server:
        job = server.start_job(polls=1, webhook=WEBHOOK)  # the 3rd GET sees the outcome
        for _ in range(2):
            await get_bytes(server, job)
        await server.webhooks.join()
        served = await get_bytes(server, job)
    assert [body for _, _, body in receiver.posts] == [served]
    assert b'"status":"succeeded"' in served


async def test_a_job_not_ended_is_not_delivered(receiver: Receiver) -> None:
    async with FakeTengrAI(clock=FakeClock(), webhooks=options(receiver)) as server:
        job = server.start_job(polls=1, webhook=WEBHOOK)
        await get_bytes(server, job)  # starting -> processing: not final
        for _ in range(50):  # let the sender look (no time passes)
            await asyncio.sleep(0)
        assert server.webhook_deliveries == []
    assert receiver.posts == []


async def test_a_job_held_past_its_end_by_set_status_waits_without_spinning(
    receiver: Receiver,
) -> None:
    clock = FakeClock(auto_advance=False)
    async with FakeTengrAI(clock=clock, webhooks=options(receiver)) as server:
        job = server.start_job(seconds=10.0, webhook=WEBHOOK)
        server.set_status(job, "processing")  # served as processing, even after its end
        await clock.advance(20.0)
        for _ in range(50):
            await asyncio.sleep(0)
        assert server.webhook_deliveries == []
        assert len(clock.sleeps) <= 2  # till its end, then one nudge: no loop of sleeps
        server.set_status(job, "succeeded")
        await server.webhooks.join()
        deliveries = server.webhook_deliveries
    assert [d.at for d in deliveries] == [START + 20.0]
    assert len(receiver.posts) == 1


async def test_the_delay_knob_waits_after_the_end(receiver: Receiver) -> None:
    clock = FakeClock()
    async with FakeTengrAI(clock=clock, webhooks=options(receiver, delay=5.0)) as server:
        server.start_job(seconds=10.0, webhook=WEBHOOK)
        await server.webhooks.join()
        deliveries = server.webhook_deliveries
    assert [d.at for d in deliveries] == [START + 15.0]
    assert len(receiver.posts) == 1


async def test_repeats_are_identical_and_a_real_receiver_calls_back_once(
    aiohttp_client: ClientFactory,
) -> None:
    seen: list[Artwork] = []

    async def on_artwork(artwork: Artwork) -> None:
        seen.append(artwork)

    app = web.Application()
    app.router.add_route("*", PATH, webhook_handler(on_artwork, token=TOKEN))
    hook = await aiohttp_client(app)
    base = str(hook.make_url("/").origin())
    knobs = WebhookOptions(routes={ORIGIN: base}, repeats=2, repeat_delay=1.0)
    clock = FakeClock()
    async with FakeTengrAI(clock=clock, webhooks=knobs) as server:
        job = server.start_job(webhook=WEBHOOK)
        server.finish_jobs()
        await server.webhooks.join()
        deliveries = server.webhook_deliveries
    assert summary(deliveries) == [
        (0, 1, 200, True, False),
        (1, 1, 200, True, False),
        (2, 1, 200, True, False),
    ]
    assert [d.at for d in deliveries] == [START, START + 1.0, START + 2.0]
    assert [str(a.id) for a in seen] == [job]  # the receiver's memory answered the repeats


async def test_failing_attempts_back_off_up_to_max_attempts_then_give_up(
    receiver: Receiver,
) -> None:
    receiver.statuses = [500, 503, 502, 500]
    knobs = options(receiver, max_attempts=3, backoff=2.0, backoff_factor=3.0)
    deliveries = await deliveries_of_one_job(knobs)
    assert summary(deliveries) == [
        (0, 1, 500, False, False),
        (0, 2, 503, False, False),
        (0, 3, 502, False, True),
    ]
    assert [d.at for d in deliveries] == [START, START + 2.0, START + 8.0]
    assert [d.error for d in deliveries] == ["HTTP 500", "HTTP 503", "HTTP 502"]
    assert len(receiver.posts) == 3  # and no fourth


async def test_the_backoff_is_capped(receiver: Receiver) -> None:
    receiver.statuses = [500] * 4
    knobs = options(receiver, max_attempts=4, backoff=10.0, backoff_factor=10.0, backoff_max=30.0)
    deliveries = await deliveries_of_one_job(knobs)
    assert [d.at - START for d in deliveries] == [0.0, 10.0, 40.0, 70.0]


async def test_a_500_then_a_200_is_delivered_on_the_retry(receiver: Receiver) -> None:
    receiver.statuses = [500]
    deliveries = await deliveries_of_one_job(options(receiver))
    assert summary(deliveries) == [(0, 1, 500, False, False), (0, 2, 200, True, False)]
    assert [d.at for d in deliveries] == [START, START + 1.0]  # the default backoff: 1 s
    assert receiver.posts[0] == receiver.posts[1]


async def test_the_failures_knob_loses_answers_so_the_receiver_sees_the_post_again(
    receiver: Receiver,
) -> None:
    deliveries = await deliveries_of_one_job(options(receiver, failures=2))
    assert summary(deliveries) == [
        (0, 1, 200, False, False),
        (0, 2, 200, False, False),
        (0, 3, 200, True, False),
    ]
    assert deliveries[0].error == deliveries[1].error == "answer lost (the failures knob)"
    assert len(receiver.posts) == 3
    assert len(set(receiver.posts)) == 1


async def test_a_refused_connection_is_retried_then_given_up() -> None:
    knobs = WebhookOptions(routes={ORIGIN: f"http://127.0.0.1:{free_port()}"}, max_attempts=2)
    deliveries = await deliveries_of_one_job(knobs)
    assert summary(deliveries) == [(0, 1, None, False, False), (0, 2, None, False, True)]
    assert [d.error for d in deliveries] == ["ClientConnectorError"] * 2


async def test_an_unmapped_origin_is_recorded_undeliverable_and_nothing_is_sent(
    receiver: Receiver,
) -> None:
    elsewhere = webhook_url("https://other.app/hook", TOKEN)
    async with FakeTengrAI(clock=FakeClock(), webhooks=options(receiver)) as server:
        job = server.start_job(webhook=elsewhere)
        server.finish_jobs()
        await server.webhooks.join()
        deliveries = server.webhook_deliveries
    assert deliveries == [
        WebhookDelivery(
            artwork_id=job,
            url="https://other.app/hook",
            target=None,
            delivery=0,
            attempt=1,
            at=START,
            status=None,
            error="no webhook route for https://other.app",
            ok=False,
            gave_up=True,
        )
    ]
    assert receiver.posts == []


async def test_close_with_deliveries_pending_leaves_no_task(receiver: Receiver) -> None:
    receiver.statuses = [500]
    clock = FakeClock(auto_advance=False)
    server = FakeTengrAI(clock=clock, webhooks=options(receiver, backoff=60.0))
    await server.start()
    server.start_job(seconds=3600.0, webhook=WEBHOOK)  # waiting for its end
    backing_off = server.start_job(webhook=WEBHOOK)
    server.set_status(backing_off, "succeeded")
    while not server.webhook_deliveries:  # noqa: ASYNC110 - no event to wait on; no time passes
        await asyncio.sleep(0)
    # One delivery sleeping till its job's end (in a task of its own), one backing off.
    assert sender_tasks() == ["FakeClock.sleep", "WebhookSender._run", "WebhookSender._run"]
    await server.close()
    assert sender_tasks() == []
    assert server.webhooks._session is None
    assert summary(server.webhook_deliveries) == [(0, 1, 500, False, False)]


async def test_finishing_a_job_after_close_sends_nothing(receiver: Receiver) -> None:
    async with FakeTengrAI(clock=FakeClock(), webhooks=options(receiver)) as server:
        job = server.start_job(seconds=3600.0, webhook=WEBHOOK)
    assert server.finish_jobs() == [job]
    for _ in range(50):  # no time passes
        await asyncio.sleep(0)
    assert server.webhook_deliveries == []
    assert receiver.posts == []


async def test_a_server_in_a_thread_delivers_what_another_thread_finishes(
    receiver: Receiver,
) -> None:
    with FakeTengrAI.in_thread(webhooks=options(receiver)) as server:
        job = server.start_job(seconds=3600.0, webhook=WEBHOOK)  # from this loop's thread
        await asyncio.to_thread(server.finish_jobs)  # from a thread with no loop at all
        await server.webhooks.join()  # on this loop, waiting for the server's
    assert [d.artwork_id for d in server.webhook_deliveries] == [job]
    assert len(receiver.posts) == 1


async def test_routes_added_later_apply_to_later_deliveries(receiver: Receiver) -> None:
    async with FakeTengrAI(clock=FakeClock()) as server:
        server.webhooks.route(ORIGIN + "/", receiver.base)
        server.start_job(webhook=WEBHOOK)
        server.finish_jobs()
        await server.webhooks.join()
    assert len(receiver.posts) == 1


@pytest.mark.parametrize(
    "routes",
    [
        {ORIGIN: "http://example.com:8080"},  # not loopback
        {ORIGIN: "http://10.0.0.1:8080"},  # private, still not loopback
        {ORIGIN: "http://localhost:8080"},  # a name: looked up, so refused
        {ORIGIN: "http://127.0.0.1:8080/base"},  # a path
        {ORIGIN + "/hook": "http://127.0.0.1:8080"},  # the origin with a path
        {"my.app": "http://127.0.0.1:8080"},  # not a URL
        {ORIGIN: "ftp://127.0.0.1:21"},
    ],
)
def test_a_bad_route_is_refused(routes: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="webhook route"):
        WebhookOptions(routes=routes)


def test_loopback_routes_are_taken_and_origins_normalized() -> None:
    knobs = WebhookOptions(routes={"https://My.App:443": "http://[::1]:8080"})
    assert knobs.routes == {"https://my.app": "http://[::1]:8080"}


@pytest.mark.parametrize(
    "knobs",
    [
        {"delay": -1.0},
        {"repeats": -1},
        {"failures": -1},
        {"max_attempts": 0},
        {"backoff": -1.0},
        {"backoff_factor": 0.5},
        {"timeout": 0.0},
    ],
)
def test_bad_knobs_are_refused(knobs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(knobs))):
        WebhookOptions(**knobs)


def test_a_webhook_needs_a_running_server() -> None:
    with pytest.raises(RuntimeError, match="running server"):
        FakeTengrAI().start_job(webhook=WEBHOOK)


async def test_a_server_that_failed_to_start_takes_no_webhook() -> None:
    async with FakeTengrAI() as running:
        taken = FakeTengrAI(port=running.url.port or 0)
        with pytest.raises(OSError, match="address already in use"):
            await taken.start()
        with pytest.raises(RuntimeError, match="running server"):
            taken.start_job(webhook=WEBHOOK)
        assert taken.total == 0  # refused before the job was added


async def test_a_create_answered_while_the_server_closes_is_a_job_without_a_delivery(
    receiver: Receiver,
) -> None:
    # close() ends the deliveries first, then stops listening: a create in between is
    # answered as ever (its job made and listed), and nothing is delivered for it.
    async with FakeTengrAI(webhooks=options(receiver)) as server:
        await server.webhooks.close()
        async with server.client() as client:
            job = await client.artworks.create_quantum(prompt="a red fox", webhook=WEBHOOK)
        assert server.ids()[0] == str(job.id)
        server.finish_jobs()
    assert [request.status for request in server.requests] == [202]
    assert server.webhook_deliveries == []
    assert receiver.posts == []


async def test_a_webhook_must_be_an_absolute_url() -> None:
    async with FakeTengrAI() as server:
        with pytest.raises(ValueError, match="absolute"):
            server.start_job(webhook="/tengrai/webhook")


async def test_end_to_end_a_delivery_wakes_a_wait_before_its_next_poll(
    aiohttp_client: ClientFactory,
) -> None:
    clock = FakeClock(auto_advance=False)  # time moves only as the test says
    async with FakeTengrAI(clock=clock, create=CreateOptions(seconds=30.0)) as server:
        app = web.Application()
        setup(app, api_key="test-key", base_url=server.url, clock=clock)
        setup_webhooks(app, PATH, token=TOKEN)
        hook = await aiohttp_client(app)
        server.webhooks.route(ORIGIN, str(hook.make_url("/").origin()))
        client = app[TENGRAI_CLIENT]
        created = await client.artworks.create_quantum(
            prompt="a red fox", webhook=webhook_url(ORIGIN + PATH, TOKEN)
        )
        waiting = asyncio.create_task(client.artworks.wait(created, poll_interval=60.0))
        polls = [r for r in server.requests if r.method == "GET"]
        while not polls:  # the wait's first poll, which sees the job starting
            await asyncio.sleep(0)
            polls = [r for r in server.requests if r.method == "GET"]
        await clock.advance(30.0)  # the job ends; its next poll is due at 60 s
        done = await asyncio.wait_for(waiting, timeout=5)  # a bound, not an order
        gets = [r for r in server.requests if r.method == "GET"]
        deliveries = server.webhook_deliveries
    assert done.status is ArtworkStatus.SUCCEEDED
    assert done.id == created.id
    assert len(gets) == 1  # the first poll only: the delivery ended the wait
    assert clock.elapsed == 30.0
    assert summary(deliveries) == [(0, 1, 200, True, False)]
    assert deliveries[0].at == START + 30.0
