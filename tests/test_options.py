"""``client.with_options()``: other settings over the same session and connection pool.

Closing a copy ends its own requests only; closing the original closes the session and every
copy. All of it over real loopback HTTP.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yarl
from _client_helpers import (
    FAST_RETRY,
    Reply,
    RequestTrace,
    ScriptedServer,
    is_closed,
    make_client,
    session_of,
    traced_session,
)
from aiohttp import web

from tengrai_async import (
    APITimeoutError,
    ClientStateError,
    InvalidArgumentError,
    RetryPolicy,
    ServerError,
    TengrAI,
)
from tengrai_async._clock import SYSTEM_CLOCK
from tengrai_async.testing import FakeClock, FakeTengrAI


class PeerServer:
    """Answers every GET with ``[]`` after ``delay`` seconds; records the client's port."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.peers: list[int] = []
        self.url = yarl.URL()
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        assert request.transport is not None
        self.peers.append(request.transport.get_extra_info("peername")[1])
        await asyncio.sleep(self.delay)
        return web.Response(body=b"[]", content_type="application/json")

    async def __aenter__(self) -> PeerServer:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.url = yarl.URL.build(scheme="http", host="127.0.0.1", port=port)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def in_flight(client: TengrAI) -> asyncio.Task[Any]:
    """A listing of *client* started as a task, given the time to reach the server."""
    task = asyncio.ensure_future(client.artworks.list())
    await asyncio.sleep(0.05)
    assert not task.done()
    return task


# -- sharing ---------------------------------------------------------------------------------


async def test_a_copy_shares_the_session_and_its_keep_alive_connection() -> None:
    async with PeerServer() as server, make_client(server.url) as client:
        copy = client.with_options(timeout=5.0)
        await client.artworks.list()
        await copy.artworks.list()
        await client.artworks.list()
        await copy.with_options(max_retries=0).artworks.list()
        assert session_of(copy) is session_of(client)
    assert len(server.peers) == 4
    assert len(set(server.peers)) == 1  # one connection of one pool served them all


async def test_a_copy_takes_the_given_settings_and_keeps_the_others() -> None:
    policy = RetryPolicy.instant()
    client = make_client("http://127.0.0.1:1", timeout=7.0, max_retries=2)
    copy = client.with_options(timeout=3.0)
    assert (copy.timeout, copy.max_retries, copy.retry) == (3.0, 2, FAST_RETRY)
    again = copy.with_options(max_retries=0, retry=policy)
    assert (again.timeout, again.max_retries, again.retry) == (3.0, 0, policy)
    same = client.with_options()
    assert (same.timeout, same.max_retries, same.retry) == (7.0, 2, FAST_RETRY)
    assert (client.timeout, client.max_retries, client.retry) == (7.0, 2, FAST_RETRY)
    assert same.base_url == client.base_url
    assert "sk" not in repr(copy)
    await client.close()


async def test_max_retries_of_a_copy_apply_to_its_calls_only() -> None:
    async with ScriptedServer([Reply(503), Reply(503)]) as server:
        async with make_client(server.url) as client:
            with pytest.raises(ServerError) as info:
                await client.with_options(max_retries=0).artworks.list()
            assert len(server.hits) == 1
            assert info.value.attempts == 1
            await client.artworks.list()  # retried past the second 503
        assert len(server.hits) == 3


async def test_the_timeout_of_a_copy_applies_to_its_calls_only() -> None:
    async with PeerServer(delay=0.3) as server, make_client(server.url) as client:
        hasty = client.with_options(timeout=0.05, max_retries=0)
        with pytest.raises(APITimeoutError, match=r"within 0\.05 s"):
            await hasty.artworks.list()
        page = await client.artworks.list()
    assert page.count == 0


async def test_the_retry_policy_of_a_copy_applies_to_its_calls_only() -> None:
    clock = FakeClock()
    slow = RetryPolicy(wait_initial=30.0, wait_max=30.0, wait_jitter=0.0)
    async with (
        ScriptedServer([Reply(503), Reply(), Reply(503)]) as server,
        make_client(server.url, retry=slow, clock=clock) as client,
    ):
        await client.with_options(retry=RetryPolicy.instant()).artworks.list()
        assert clock.sleeps == [0.0]  # not the original's 30 s
        await client.artworks.list()
    assert clock.sleeps == [0.0, 30.0]
    assert len(server.hits) == 4


async def test_copies_share_the_clock_of_the_original() -> None:
    clock = FakeClock()
    async with (
        ScriptedServer([Reply(503)] * 2) as server,
        make_client(server.url, clock=clock) as client,
    ):
        copy = client.with_options(timeout=5).with_options(max_retries=2)
        assert copy.clock is client.clock is clock
        await copy.artworks.list()
    assert clock.sleeps == [0.001, 0.002]  # the copy's retries waited on the shared clock
    assert TengrAI("k").clock is SYSTEM_CLOCK


# -- closing ---------------------------------------------------------------------------------


async def test_closing_a_copy_leaves_the_session_and_the_original_working() -> None:
    async with PeerServer() as server, make_client(server.url) as client:
        async with client.with_options(timeout=5.0) as copy:
            await copy.artworks.list()
        assert copy.closed
        assert "closed" in repr(copy)
        assert not client.closed
        session = session_of(client)
        assert session is not None
        assert not is_closed(session)
        await client.artworks.list()
        with pytest.raises(ClientStateError, match="this TengrAI client is closed"):
            await copy.artworks.list()
        with pytest.raises(ClientStateError):
            copy.with_options()
        await copy.close()  # idempotent
    assert is_closed(session)


async def test_closing_a_copy_ends_its_own_requests_and_no_other() -> None:
    async with PeerServer(delay=0.5) as server, make_client(server.url) as client:
        copy = client.with_options()
        other = client.with_options()
        mine = await in_flight(copy)
        theirs = await in_flight(other)
        original = await in_flight(client)
        started = time.monotonic()
        await copy.close()
        with pytest.raises(ClientStateError, match="closed"):
            await mine
        assert time.monotonic() - started < 0.3  # at once, not when the answer came
        assert not theirs.done()
        assert (await theirs).count == 0
        assert (await original).count == 0


async def test_closing_the_original_closes_every_copy_and_ends_their_requests() -> None:
    async with PeerServer(delay=1.0) as server:
        client = make_client(server.url)
        copy = client.with_options(timeout=5.0)
        grandchild = copy.with_options(max_retries=0)
        pending = await in_flight(copy)
        session = session_of(client)
        started = time.monotonic()
        await client.close()
        with pytest.raises(ClientStateError, match=r"made from with with_options\(\) is closed"):
            await pending
        assert time.monotonic() - started < 0.5
        assert copy.closed
        assert grandchild.closed
        assert session is not None
        assert is_closed(session)
        with pytest.raises(ClientStateError, match="with_options"):
            await grandchild.artworks.list()
        with pytest.raises(ClientStateError):
            client.with_options()


async def test_a_copy_made_before_the_original_opens_opens_the_shared_session() -> None:
    async with PeerServer() as server:
        client = make_client(server.url)
        copy = client.with_options(max_retries=1)
        assert session_of(client) is None
        await copy.artworks.list()
        session = session_of(client)
        assert session is not None
        assert session_of(copy) is session
        await client.artworks.list()
        await client.close()
        assert is_closed(session)
        assert copy.closed
    assert len(set(server.peers)) == 1


async def test_without_the_original_the_last_copy_to_close_closes_the_session() -> None:
    async with PeerServer() as server:
        first = make_client(server.url).with_options(timeout=5.0)  # the original is dropped
        gc.collect()
        second = first.with_options(max_retries=0)
        await first.artworks.list()
        session = session_of(first)
        assert session is not None
        await first.close()
        assert not is_closed(session)  # the second copy still uses it
        await second.artworks.list()
        await second.close()
        assert is_closed(session)


async def test_a_borrowed_session_is_shared_by_the_copies_and_never_closed() -> None:
    trace = RequestTrace()
    async with PeerServer() as server, traced_session(trace) as session:
        client = make_client(server.url, session=session)
        copy = client.with_options(timeout=5.0)
        await copy.artworks.list()
        await copy.close()
        await client.artworks.list()
        await client.close()
        assert not is_closed(session)
        assert len(trace.starts) == 2


def test_bad_settings_of_a_copy_are_refused() -> None:
    client = make_client("http://127.0.0.1:1")
    with pytest.raises(InvalidArgumentError, match="timeout"):
        client.with_options(timeout=0)
    with pytest.raises(InvalidArgumentError, match="max_retries"):
        client.with_options(max_retries=-1)


@pytest.fixture
def server() -> Iterator[FakeTengrAI]:
    with FakeTengrAI.in_thread(count=3) as running:
        yield running


def test_the_copies_close_with_the_loop_of_their_session(server: FakeTengrAI) -> None:
    client = make_client(server.url)
    copies: list[TengrAI] = []

    async def first() -> None:
        copies.append(client.with_options(timeout=5.0))
        await copies[0].artworks.list()

    async def second() -> None:
        await copies[0].artworks.list()

    asyncio.run(first())
    assert copies[0].closed
    assert client.closed
    with pytest.raises(ClientStateError, match=r"event loop .*ended"):
        asyncio.run(second())
