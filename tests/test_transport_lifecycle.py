"""Close means close, and a client lives in one event loop.

``close()`` ends every request of the client at once, whether it sleeps (backoff,
``Retry-After``, a 429 cooldown) or waits for the server; a client used in a loop that has
ended, or in another one, says so with :class:`ClientStateError` and leaves no unclosed session
behind. All over real loopback HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Final

import aiohttp
import pytest
from _client_helpers import FAST_RETRY, Reply, ScriptedServer, is_closed, make_client, session_of

from tengrai_async import ClientStateError, RetryPolicy, TengrAI
from tengrai_async._retry import Cooldown
from tengrai_async.testing import FakeClock, FakeTengrAI

#: Waits far longer than any test: a request still asleep when the test checks never woke up.
LONG: Final = 30.0
#: How long close(), and the requests it ends, may take.
PROMPT: Final = 1.0


async def started(condition: Callable[[], bool]) -> None:
    """Let the loop run (a little) until *condition* holds: the request got there."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the request never got there")


async def close_and_collect(
    client: TengrAI, pending: list[asyncio.Task[Any]]
) -> tuple[float, list[BaseException | None]]:
    """Close *client*; return how long that took and how each pending request ended."""
    begun = time.monotonic()
    await asyncio.wait_for(client.close(), PROMPT)
    done, _ = await asyncio.wait(pending, timeout=PROMPT)
    elapsed = time.monotonic() - begun
    assert done == set(pending), "a request slept on after close()"
    return elapsed, [task.exception() for task in pending]


@pytest.mark.parametrize(
    ("reply", "retry"),
    [
        pytest.param(
            Reply(503, headers={"Retry-After": str(int(LONG))}),
            RetryPolicy(wait_initial=0.001, wait_max=0.01, wait_jitter=0.0),
            id="Retry-After of a 503",
        ),
        pytest.param(
            Reply(429, headers={"Retry-After": str(int(LONG))}),
            RetryPolicy(wait_initial=0.001, wait_max=0.01, wait_jitter=0.0),
            id="Retry-After of a 429",
        ),
        pytest.param(
            Reply(500),
            RetryPolicy(wait_initial=LONG, wait_max=LONG, wait_jitter=0.0),
            id="exponential backoff",
        ),
        pytest.param(
            Reply(200, delay=LONG),
            FAST_RETRY,
            id="an answer that does not come",
        ),
    ],
)
async def test_close_ends_a_request_asleep_or_in_flight_at_once(
    reply: Reply, retry: RetryPolicy
) -> None:
    clock = FakeClock(auto_advance=False)  # a sleep lasts until close() ends it
    async with ScriptedServer([reply]) as server:
        client = make_client(server.url, retry=retry, clock=clock)
        request = asyncio.ensure_future(client.artworks.list())
        await started(lambda: len(server.hits) == 1)
        if reply.delay == 0:  # into the sleep (else waiting for the answer)
            await started(lambda: len(clock.sleeps) == 1)
        elapsed, [error] = await close_and_collect(client, [request])
    assert isinstance(error, ClientStateError)
    assert "closed" in str(error)
    assert elapsed < PROMPT
    assert len(server.hits) == 1  # and no retry went out after close()


async def test_close_ends_a_request_held_back_by_a_429_cooldown() -> None:
    clock = FakeClock(auto_advance=False)
    async with FakeTengrAI(count=3) as server:
        client = make_client(server.url, clock=clock)
        cooldown = Cooldown(clock)
        cooldown.extend(LONG)
        request = asyncio.ensure_future(
            client._transport.get_window(offset=0, limit=3, cooldown=cooldown)
        )
        await started(lambda: len(clock.sleeps) == 1)
        elapsed, [error] = await close_and_collect(client, [request])
    assert isinstance(error, ClientStateError)
    assert elapsed < PROMPT
    assert server.requests == []


async def test_close_ends_every_window_of_an_iterator_waiting_out_a_429() -> None:
    clock = FakeClock(auto_advance=False)
    async with FakeTengrAI(count=100, retry_after=int(LONG)) as server:
        client = make_client(server.url, clock=clock)
        server.queue_faults("429")
        iterator = client.artworks.iterate(page_size=10, prefetch=4)
        first = asyncio.ensure_future(anext(iterator))
        await started(lambda: len(server.requests) >= 4)
        await started(lambda: LONG in clock.sleeps)  # window 0 waits out its Retry-After
        elapsed, [error] = await close_and_collect(client, [first])
        await iterator.aclose()
    assert isinstance(error, ClientStateError)
    assert elapsed < PROMPT


async def test_close_ends_many_requests_at_once_and_a_borrowed_session_stays_open() -> None:
    replies = [Reply(503, headers={"Retry-After": "30"}), Reply(200, delay=LONG), Reply(500)] * 3
    retry = RetryPolicy(wait_initial=LONG, wait_max=LONG, wait_jitter=0.0, retry_after_max=LONG)
    clock = FakeClock(auto_advance=False)
    async with ScriptedServer(replies) as server, aiohttp.ClientSession() as session:
        client = make_client(server.url, retry=retry, session=session, clock=clock)
        pending = [asyncio.ensure_future(client.artworks.list()) for _ in range(9)]
        await started(lambda: len(server.hits) == 9)
        await started(lambda: len(clock.sleeps) == 6)  # 3 Retry-After, 3 backoff; 3 in flight
        elapsed, errors = await close_and_collect(client, pending)
        assert not is_closed(session)
    assert all(isinstance(error, ClientStateError) for error in errors), errors
    assert elapsed < PROMPT
    assert len(server.hits) == 9


async def test_a_request_ended_by_close_leaves_its_task_free_to_go_on() -> None:
    async def caller(client: TengrAI) -> str:
        with contextlib.suppress(ClientStateError):
            await client.artworks.list()
        task = asyncio.current_task()
        assert task is not None
        if sys.version_info >= (3, 11):
            assert task.cancelling() == 0  # close()'s cancellation was taken back
        await asyncio.sleep(0.01)  # not cancelled again
        return "went on"

    async with ScriptedServer([Reply(200, delay=LONG)]) as server:
        client = make_client(server.url)
        task = asyncio.ensure_future(caller(client))
        await started(lambda: len(server.hits) == 1)
        await client.close()
        assert await asyncio.wait_for(task, PROMPT) == "went on"


async def test_cancelling_a_request_still_cancels_it() -> None:
    async with (
        ScriptedServer([Reply(200, delay=LONG)] * 2) as server,
        make_client(server.url) as client,
    ):
        request = asyncio.ensure_future(client.artworks.list())
        await started(lambda: len(server.hits) == 1)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.artworks.list(), 0.05)
        assert not client.closed


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="Python 3.10 counts no cancellations (Task.uncancel is 3.11+): a caller's cancel "
    "pending as close() comes cannot be told from close()'s own",
)
async def test_a_request_cancelled_while_close_ends_it_stays_cancelled() -> None:
    async with ScriptedServer([Reply(200, delay=LONG)]) as server:
        client = make_client(server.url)
        request = asyncio.ensure_future(client.artworks.list())
        await started(lambda: len(server.hits) == 1)
        request.cancel()  # the caller's own cancellation, pending as close() comes
        await client.close()
        with pytest.raises(asyncio.CancelledError):
            await request


async def test_the_transport_sleep_for_waits_between_requests_ends_at_close() -> None:
    clock = FakeClock()
    client = make_client("http://127.0.0.1:1", clock=clock)
    transport = client._transport
    await transport.sleep(0.5)
    assert clock.sleeps == [0.5]  # on the client's clock
    clock = FakeClock(auto_advance=False)
    client = make_client("http://127.0.0.1:1", clock=clock)
    transport = client._transport
    sleeper = asyncio.ensure_future(transport.sleep(LONG))
    await started(lambda: clock.sleeps == [LONG])
    elapsed, [error] = await close_and_collect(client, [sleeper])
    assert isinstance(error, ClientStateError)
    assert elapsed < PROMPT
    with pytest.raises(ClientStateError):
        await transport.sleep(0.001)


# -- event loops ---------------------------------------------------------------------------

UNCLOSED: Final = ("Unclosed client session", "Unclosed connector")


@pytest.fixture
def server() -> Iterator[FakeTengrAI]:
    with FakeTengrAI.in_thread(count=20) as running:
        yield running


def aiohttp_leaks(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if any(text in str(w.message) for text in UNCLOSED)]


async def listed(client: TengrAI) -> int:
    return len(await client.artworks.list())


def test_a_client_used_again_under_a_second_asyncio_run_says_so(server: FakeTengrAI) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = make_client(server.url)
        assert asyncio.run(listed(client)) == 10
        session = session_of(client)
        assert session is not None
        assert is_closed(session)  # closed as its loop ended, not left to the collector
        assert client.closed
        with pytest.raises(ClientStateError, match=r"event loop .*ended.*asyncio\.run"):
            asyncio.run(asyncio.wait_for(listed(client), 5))
        asyncio.run(client.close())  # fine, and a no-op
        del client, session
        gc.collect()
    assert aiohttp_leaks(caught) == []
    assert len(server.requests) == 1


def test_a_client_built_in_one_loop_may_open_in_another(server: FakeTengrAI) -> None:
    async def build() -> TengrAI:
        return make_client(server.url)

    client = asyncio.run(build())
    assert asyncio.run(listed(client)) == 10


def test_a_client_whose_loop_closed_without_shutting_down_says_so(server: FakeTengrAI) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = make_client(server.url)
        loop = asyncio.new_event_loop()
        assert loop.run_until_complete(listed(client)) == 10
        loop.close()  # no shutdown_asyncgens(): the session outlives its loop
        assert not client.closed
        with pytest.raises(ClientStateError, match="an event loop that has ended"):
            asyncio.run(asyncio.wait_for(listed(client), 5))
        asyncio.run(client.close())
        session = session_of(client)
        assert session is not None
        assert is_closed(session)
        del client, session
        gc.collect()
    # asyncio itself may report the socket its closed loop left open; aiohttp reports nothing.
    assert aiohttp_leaks(caught) == []


def test_a_client_of_a_loop_that_still_runs_is_refused_elsewhere_and_closed_there(
    server: FakeTengrAI,
) -> None:
    client = make_client(server.url)
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(listed(client)) == 10
        with pytest.raises(ClientStateError, match="another event loop"):
            asyncio.run(asyncio.wait_for(listed(client), 5))
        asyncio.run(client.close())  # from the wrong loop: handed to the session's own
        assert client.closed
        session = session_of(client)
        assert session is not None
        loop.run_until_complete(asyncio.sleep(0.05))  # the session's loop runs again
        assert is_closed(session)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def test_a_borrowed_session_of_another_loop_is_refused(server: FakeTengrAI) -> None:
    async def make_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    session = asyncio.run(make_session())
    try:
        client = make_client(server.url, session=session)
        with pytest.raises(ClientStateError, match="session passed to TengrAI belongs to an"):
            asyncio.run(asyncio.wait_for(listed(client), 5))
    finally:
        asyncio.run(session.close())
    assert server.requests == []
