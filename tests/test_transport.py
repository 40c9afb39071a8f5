from __future__ import annotations

import asyncio
import email.utils
import logging
import re
import time

import aiohttp
import orjson
import pytest
from _client_helpers import (
    FAST_RETRY,
    Reply,
    RequestTrace,
    ScriptedServer,
    free_port,
    is_closed,
    listing_requests,
    make_client,
    session_of,
    traced_session,
)

from tengrai_async import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    ClientStateError,
    MalformedResponseError,
    RateLimitError,
    ResponseValidationError,
    RetryPolicy,
    ServerError,
)
from tengrai_async._retry import Cooldown
from tengrai_async.testing import FakeClock, FakeTengrAI, make_artworks

LOG_LINE = re.compile(r"GET (\S+) -> (\S+) \(attempt (\d+), [0-9.]+ ms\)")


def log_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, int]]:
    matches = [
        LOG_LINE.fullmatch(record.getMessage())
        for record in caplog.records
        if record.name == "tengrai_async"
    ]
    return [(match[1], match[2], int(match[3])) for match in matches if match]


# -- the session -----------------------------------------------------------------------------


async def test_owned_session_is_created_in_the_running_loop_and_closed_on_exit() -> None:
    async with FakeTengrAI(count=3) as server:
        client = make_client(server.url)
        assert session_of(client) is None  # nothing is built outside a loop
        async with client:
            session = session_of(client)
            assert session is not None
            assert session._loop is asyncio.get_running_loop()
            await client.artworks.list()
        assert is_closed(session)
        assert client.closed


async def test_borrowed_session_is_used_and_never_closed() -> None:
    trace = RequestTrace()
    async with FakeTengrAI(count=3) as server, traced_session(trace) as session:
        async with make_client(server.url, session=session) as client:
            await client.artworks.list()
        assert client.closed
        assert not is_closed(session)
        assert len(trace.starts) == 1  # the request went through the borrowed session
        async with make_client(server.url, session=session) as again:
            await again.artworks.list()
        assert len(trace.starts) == 2


async def test_a_closed_borrowed_session_is_a_client_state_error() -> None:
    session = aiohttp.ClientSession()
    await session.close()
    client = make_client("http://127.0.0.1:1", session=session)
    with pytest.raises(ClientStateError, match="already closed"):
        await client.__aenter__()


async def reached_a_sleep(clock: FakeClock, count: int = 1) -> None:
    """Let the loop run until *count* sleeps were asked of *clock* (no time passes)."""
    for _ in range(2_000):
        if len(clock.sleeps) >= count:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"only {len(clock.sleeps)} of {count} sleeps were reached")


async def test_a_request_waiting_out_a_cooldown_fails_cleanly_when_the_client_closes() -> None:
    clock = FakeClock(auto_advance=False)
    async with FakeTengrAI(count=3) as server:
        client = make_client(server.url, clock=clock)
        async with client:
            cooldown = Cooldown(clock)
            cooldown.extend(0.1)
            pending = asyncio.ensure_future(
                client._transport.get_window(offset=0, limit=3, cooldown=cooldown)
            )
            await reached_a_sleep(clock)
        with pytest.raises(ClientStateError, match="closed"):
            await pending
    assert server.requests == []
    assert clock.sleeps == pytest.approx([0.1])


# -- transport errors ----------------------------------------------------------------------


async def test_connection_refused_is_api_connection_error_after_every_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tengrai_async")
    async with make_client(f"http://127.0.0.1:{free_port()}", max_retries=2) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.artworks.list()
    # aiohttp's error carries the request headers (the key): described, never chained.
    assert "ClientConnectorError" in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    assert [(status, attempt) for _, status, attempt in log_lines(caplog)] == [
        ("error", 1),
        ("error", 2),
        ("error", 3),
    ]


async def test_a_body_dropped_halfway_is_api_connection_error_without_retries() -> None:
    async with FakeTengrAI(count=20) as server, make_client(server.url, max_retries=0) as client:
        server.queue_faults("drop")
        with pytest.raises(APIConnectionError):
            await client.artworks.list()
    assert [request.fault for request in server.requests] == ["drop"]


async def test_a_body_dropped_halfway_is_retried() -> None:
    async with FakeTengrAI(count=20) as server, make_client(server.url, max_retries=1) as client:
        server.queue_faults("drop")
        page = await client.artworks.list()
    assert [str(a.id) for a in page] == server.ids()[:10]
    assert [request.fault for request in server.requests] == ["drop", None]


async def test_a_slow_answer_is_api_timeout_error_after_retries() -> None:
    async with FakeTengrAI(count=3, latency=0.3) as server:
        async with make_client(server.url, timeout=0.05, max_retries=1) as client:
            with pytest.raises(APITimeoutError, match=r"0\.05"):
                await client.artworks.list()
        assert len(server.requests) == 2


async def test_malformed_json_is_retried_then_succeeds() -> None:
    async with FakeTengrAI(count=20) as server, make_client(server.url) as client:
        server.queue_faults("malformed", "malformed")
        page = await client.artworks.list()
    assert len(page) == 10
    assert [request.fault for request in server.requests] == ["malformed", "malformed", None]


async def test_malformed_json_surfaces_as_malformed_response_error_when_retries_run_out() -> None:
    async with FakeTengrAI(count=20) as server, make_client(server.url, max_retries=1) as client:
        server.queue_faults("malformed", "malformed")
        with pytest.raises(MalformedResponseError):
            await client.artworks.list()
    assert len(server.requests) == 2


async def test_an_invalid_but_well_formed_body_is_not_retried() -> None:
    artworks = make_artworks(3)
    artworks[0]["id"] = "not-a-uuid"
    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        with pytest.raises(ResponseValidationError) as info:
            await client.artworks.list()
    assert not isinstance(info.value, MalformedResponseError)
    assert len(server.requests) == 1


# -- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
async def test_each_retryable_status_is_retried(status: int) -> None:
    body = orjson.dumps(make_artworks(2))
    replies = [Reply(status), Reply(status), Reply(200, body)]
    async with ScriptedServer(replies) as server, make_client(server.url) as client:
        page = await client.artworks.list(limit=2)
    assert len(page) == 2
    assert len(server.hits) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_not_retried(status: int) -> None:
    async with ScriptedServer([Reply(status)] * 4) as server, make_client(server.url) as client:
        with pytest.raises(Exception) as info:  # noqa: PT011 - the class is pinned elsewhere
            await client.artworks.list()
    assert getattr(info.value, "status", None) == status
    assert len(server.hits) == 1


async def test_retries_stop_after_max_retries_with_the_last_error() -> None:
    async with FakeTengrAI(count=20) as server, make_client(server.url, max_retries=2) as client:
        server.queue_faults("500", "503", "500", "503")
        with pytest.raises(ServerError) as info:
            await client.artworks.list()
    assert info.value.status == 500
    assert [request.status for request in server.requests] == [500, 503, 500]


async def test_max_retries_zero_sends_exactly_one_request() -> None:
    async with FakeTengrAI(count=20) as server, make_client(server.url, max_retries=0) as client:
        server.queue_faults("429")
        with pytest.raises(RateLimitError) as info:
            await client.artworks.list()
    assert info.value.retry_after == 0.0
    assert len(server.requests) == 1


async def test_a_mix_of_faults_is_retried_until_a_page_arrives() -> None:
    async with FakeTengrAI(count=20) as server, make_client(server.url) as client:
        server.queue_faults("429", "500", "malformed")
        page = await client.artworks.list()
    assert [str(a.id) for a in page] == server.ids()[:10]
    assert [request.fault for request in server.requests] == ["429", "500", "malformed", None]


# -- Retry-After ----------------------------------------------------------------------------


def gaps(server: ScriptedServer) -> list[float]:
    return [
        later.at - earlier.at for earlier, later in zip(server.hits, server.hits[1:], strict=False)
    ]


async def test_retry_after_seconds_of_a_429_are_honoured() -> None:
    clock = FakeClock()
    trace = RequestTrace()
    async with FakeTengrAI(count=20, retry_after=7) as server, traced_session(trace) as session:
        server.queue_faults("429")
        async with make_client(server.url, session=session, clock=clock) as client:
            await client.artworks.list()
    [(_, _, first_status), (_, _, second_status)] = trace.ends
    assert (first_status, second_status) == (429, 200)
    # The retry waited as asked, and the cooldown it set was over by then (no second wait).
    assert clock.sleeps == [7.0]
    assert clock.elapsed == 7.0


async def test_retry_after_of_a_503_is_honoured() -> None:
    clock = FakeClock()
    replies = [Reply(503, headers={"Retry-After": "7"}), Reply()]
    async with ScriptedServer(replies) as server, make_client(server.url, clock=clock) as client:
        await client.artworks.list()
    assert len(server.hits) == 2
    assert clock.sleeps == [7.0]


async def test_retry_after_is_capped_by_retry_after_max() -> None:
    clock = FakeClock()
    retry = RetryPolicy(wait_initial=0.001, wait_max=0.01, wait_jitter=0.0, retry_after_max=0.2)
    async with FakeTengrAI(count=20, retry_after=3600) as server:
        server.queue_faults("429")
        async with make_client(server.url, retry=retry, clock=clock) as client:
            await client.artworks.list()
    assert len(server.requests) == 2
    assert clock.sleeps == pytest.approx([0.2])


async def test_retry_after_as_an_http_date_is_honoured_up_to_the_cap() -> None:
    clock = FakeClock()
    retry = RetryPolicy(wait_initial=0.001, wait_max=0.01, wait_jitter=0.0, retry_after_max=0.2)
    in_an_hour = email.utils.formatdate(time.time() + 3600, usegmt=True)
    replies = [Reply(503, headers={"Retry-After": in_an_hour}), Reply()]
    async with (
        ScriptedServer(replies) as server,
        make_client(server.url, retry=retry, clock=clock) as client,
    ):
        await client.artworks.list()
    assert len(server.hits) == 2
    assert clock.sleeps == [0.2]  # without the date the backoff would be a millisecond


async def test_a_lowercase_retry_after_header_of_a_503_is_honoured() -> None:
    clock = FakeClock()
    retry = RetryPolicy(wait_initial=0.001, wait_max=0.01, wait_jitter=0.0, retry_after_max=0.2)
    replies = [Reply(503, headers={"retry-after": "3600"}), Reply()]
    async with (
        ScriptedServer(replies) as server,
        make_client(server.url, retry=retry, clock=clock) as client,
    ):
        await client.artworks.list()
    assert clock.sleeps == pytest.approx([0.2])


async def test_a_429_pauses_every_window_of_the_iterator() -> None:
    clock = FakeClock(auto_advance=False)  # time moves only when the test says
    async with (
        FakeTengrAI(count=100, retry_after=5) as server,
        make_client(server.url, clock=clock) as client,
        client.artworks.iterate(page_size=10, prefetch=3) as iterator,
    ):
        pages = aiter(iterator.pages())
        await anext(pages)  # windows 0, 10, 20 sent; 0 consumed
        server.queue_faults("429")
        await anext(pages)  # window 30 is created now and draws the 429
        await reached_a_sleep(clock)  # window 30 waits out its Retry-After
        assert [r.status for r in listing_requests(server)] == [200, 200, 200, 429]
        await anext(pages)  # window 40 is created now, inside the cooldown
        await reached_a_sleep(clock, 2)
        during = [r.query["offset"] for r in listing_requests(server)]
        assert during == ["0", "10", "20", "30"]  # window 40 held back
        assert clock.sleeps == [5.0, 5.0]  # the retry, and window 40 in the cooldown
        await clock.advance(4.9)
        assert len(listing_requests(server)) == 4  # still held back
        await clock.advance(0.1)
        rest = [page async for page in pages]
    ids = [str(artwork.id) for page in rest for artwork in page]
    assert ids == server.ids()[30:]
    assert [r.query["offset"] for r in listing_requests(server)][4:6] in (
        ["30", "40"],
        ["40", "30"],
    )
    assert iterator.stats.retries == 1


async def test_a_cooldown_holds_a_request_back_until_it_is_over() -> None:
    clock = FakeClock(auto_advance=False)
    async with (
        FakeTengrAI(count=5) as server,
        make_client(server.url, clock=clock) as client,
    ):
        cooldown = Cooldown(clock)
        cooldown.extend(0.2)
        assert cooldown.remaining == pytest.approx(0.2)
        task = asyncio.ensure_future(
            client._transport.get_window(offset=0, limit=5, cooldown=cooldown)
        )
        await reached_a_sleep(clock)
        await clock.advance(0.19)
        assert server.requests == []
        assert cooldown.remaining == pytest.approx(0.01)
        await clock.advance(0.01)
        page = await task
    assert len(page) == 5
    assert cooldown.remaining == 0.0
    assert clock.sleeps == pytest.approx([0.2])


def test_retry_policy_rejects_negative_waits() -> None:
    with pytest.raises(ValueError, match="wait_initial"):
        RetryPolicy(wait_initial=-1)
    assert FAST_RETRY.retry_after_max == 60.0


# -- logging -------------------------------------------------------------------------------


async def test_each_request_logs_method_url_status_attempt_and_elapsed_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tengrai_async")
    async with FakeTengrAI(count=20) as server, make_client(server.url) as client:
        server.queue_faults("503")
        await client.artworks.list(offset=5, limit=7)
        url = str(server.url.with_path("/v2/artworks").with_query(offset=5, limit=7))
    assert log_lines(caplog) == [(url, "503", 1), (url, "200", 2)]
    assert all(
        record.levelno == logging.DEBUG
        for record in caplog.records
        if record.name == "tengrai_async" and LOG_LINE.fullmatch(record.getMessage())
    )
    assert "test-key" not in caplog.text


async def test_nothing_is_logged_above_debug_for_a_successful_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tengrai_async")
    async with FakeTengrAI(count=20) as server, make_client(server.url) as client:
        await client.artworks.list()
    assert [r for r in caplog.records if r.name == "tengrai_async"] == []


async def test_bad_request_error_is_raised_for_a_400_from_the_server() -> None:
    reply = Reply(400, b'{"error": "invalid query parameter"}')
    async with ScriptedServer([reply]) as server, make_client(server.url) as client:
        with pytest.raises(BadRequestError, match="invalid query parameter"):
            await client.artworks.list()


async def test_instant_retries_retry_every_time_without_waiting() -> None:
    import time  # noqa: PLC0415

    from tengrai_async import RetryPolicy, TengrAI  # noqa: PLC0415
    from tengrai_async.testing import FakeTengrAI  # noqa: PLC0415

    async with FakeTengrAI(count=5, retry_after=30) as server:
        server.queue_faults("503", "429", "500")
        started = time.monotonic()
        async with TengrAI("test-key", base_url=server.url, retry=RetryPolicy.instant()) as client:
            page = await client.artworks.list(limit=5)
        assert time.monotonic() - started < 1.0
    assert page.count == 5
    assert [r.fault for r in server.requests] == ["503", "429", "500", None]
