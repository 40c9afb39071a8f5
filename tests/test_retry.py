"""The one retry loop, on a fake clock: what is retried, how long it waits, what it returns.

Most tests drive ``retry_loop`` directly with a ``send`` that fails as scripted; the last ones
send real POSTs over loopback to a purpose-built server, the way a create will (issue 17).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tengrai_async import (
    APIConnectionError,
    APIError,
    ClientStateError,
    RateLimitError,
    ServerError,
    TengrAIError,
)
from tengrai_async._failures import MapFailures
from tengrai_async._retry import Attempt, Cooldown, Found, Retry, RetryPolicy, retry_loop
from tengrai_async.testing import FakeClock

KEY = "test-key"
POLICY = RetryPolicy(wait_initial=1.0, wait_max=8.0, wait_jitter=0.0, retry_after_max=30.0)


class Script:
    """A ``send`` that raises the scripted errors in turn, then returns ``"ok"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.attempts: list[Attempt] = []

    async def __call__(self, attempt: Attempt) -> str:
        self.attempts.append(attempt)
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def always(verdict: Retry | None) -> Callable[[Exception], Retry | None]:
    return lambda _error: verdict


async def run(
    send: Script,
    classify: Callable[[Exception], Retry | None],
    *,
    clock: FakeClock,
    max_retries: int = 3,
    **kwargs: Any,
) -> str:
    return await retry_loop(
        send,
        classify=classify,
        policy=POLICY,
        max_retries=max_retries,
        label="GET http://127.0.0.1/x",
        clock=clock,
        **kwargs,
    )


# -- what is retried, and the waits ----------------------------------------------------------


async def test_a_success_returns_at_once_without_waiting() -> None:
    clock = FakeClock()
    send = Script()
    assert await run(send, always(Retry()), clock=clock) == "ok"
    assert send.attempts == [Attempt(1, 4)]
    assert clock.sleeps == []


async def test_retryable_failures_wait_the_doubling_backoff_on_the_clock() -> None:
    clock = FakeClock()
    send = Script(OSError("a"), OSError("b"), OSError("c"))
    assert await run(send, always(Retry()), clock=clock) == "ok"
    assert [a.number for a in send.attempts] == [1, 2, 3, 4]
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert clock.elapsed == 7.0


async def test_the_servers_retry_after_replaces_the_backoff_up_to_its_cap() -> None:
    clock = FakeClock()
    send = Script(OSError(), OSError())
    asks = iter([12.0, 3600.0])
    assert await run(send, lambda _: Retry(next(asks)), clock=clock) == "ok"
    assert clock.sleeps == [12.0, 30.0]


async def test_a_failure_classified_none_is_raised_at_once_with_its_attempts() -> None:
    clock = FakeClock()
    error = APIError(400, {"error": "no"})
    send = Script(OSError(), error)
    with pytest.raises(APIError) as info:
        await run(send, lambda e: Retry() if isinstance(e, OSError) else None, clock=clock)
    assert info.value is error
    assert error.attempts == 2
    assert info.value.__context__ is None  # raised outside any handler of the loop
    assert clock.sleeps == [1.0]


async def test_the_last_error_is_raised_when_the_tries_run_out() -> None:
    clock = FakeClock()
    errors = [ServerError(500, {"error": str(n)}) for n in range(3)]
    send = Script(*errors)
    with pytest.raises(ServerError) as info:
        await run(send, always(Retry()), clock=clock, max_retries=2)
    assert info.value is errors[-1]
    assert info.value.attempts == 3
    assert "(after 3 attempts)" in str(info.value)
    assert clock.sleeps == [1.0, 2.0]  # no wait after the last try


async def test_max_retries_zero_tries_once() -> None:
    clock = FakeClock()
    send = Script(OSError("down"))
    with pytest.raises(OSError, match="down"):
        await run(send, always(Retry()), clock=clock, max_retries=0)
    assert len(send.attempts) == 1
    assert clock.sleeps == []


async def test_errors_outside_catch_go_straight_through_untouched() -> None:
    clock = FakeClock()
    error = ClientStateError("closed")
    send = Script(error)
    with pytest.raises(ClientStateError):
        await run(send, always(Retry()), clock=clock, catch=(APIError,))
    assert error.attempts is None  # not a failure of the request: no count
    assert len(send.attempts) == 1


async def test_each_retry_is_logged_with_label_attempt_reason_and_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="tengrai_async")
    clock = FakeClock()
    send = Script(OSError("refused"), OSError("reset"))
    asks = iter([None, 90.0])
    await run(send, lambda _: Retry(next(asks)), clock=clock, describe=lambda e: f"<{e}>")
    assert [r.getMessage() for r in caplog.records if r.name == "tengrai_async"] == [
        "GET http://127.0.0.1/x (attempt 1 of 4): <refused>; retrying in 1 s",
        (
            "GET http://127.0.0.1/x (attempt 2 of 4): <reset>; retrying in 30 s, "
            "not the 90 s its Retry-After asked (retry_after_max)"
        ),
    ]


# -- the cooldown --------------------------------------------------------------------------


async def test_a_cooldown_reads_and_sleeps_on_its_clock() -> None:
    clock = FakeClock()
    cooldown = Cooldown(clock)
    cooldown.extend(5.0)
    cooldown.extend(2.0)  # never shortened
    assert cooldown.remaining == pytest.approx(5.0)
    await cooldown.wait()
    assert cooldown.remaining == 0.0
    assert clock.sleeps == pytest.approx([5.0])


async def test_a_rate_limit_holds_back_a_sibling_sharing_the_cooldown() -> None:
    clock = FakeClock()
    cooldown = Cooldown(clock)
    limited = Script(RateLimitError(429, retry_after=20.0))
    sibling_sent_at: list[float] = []

    async def sibling(_attempt: Attempt) -> str:
        sibling_sent_at.append(clock.elapsed)
        return "ok"

    async def later_sibling() -> str:
        while not clock.sleeps:  # noqa: ASYNC110 - starts once the 429 is in
            await asyncio.sleep(0)
        return await retry_loop(
            sibling,
            classify=always(None),
            policy=POLICY,
            max_retries=3,
            label="GET sibling",
            clock=clock,
            cooldown=cooldown,
        )

    def classify(error: Exception) -> Retry | None:
        assert isinstance(error, RateLimitError)
        return Retry(error.retry_after, rate_limited=True)

    results = await asyncio.gather(
        run(limited, classify, clock=clock, cooldown=cooldown), later_sibling()
    )
    assert list(results) == ["ok", "ok"]
    assert sibling_sent_at == [20.0]  # it waited out the cooldown the 429 set


async def test_a_rate_limit_without_retry_after_cools_down_for_wait_initial() -> None:
    clock = FakeClock()
    cooldown = Cooldown(clock)
    send = Script(RateLimitError(429))
    await run(send, always(Retry(rate_limited=True)), clock=clock, cooldown=cooldown)
    assert clock.sleeps == [1.0]  # the backoff; the cooldown (1 s too) was over by then
    assert cooldown.remaining == 0.0


# -- ambiguous failures: the request may have taken effect -----------------------------------


async def test_an_ambiguous_failure_is_not_retried_without_settle() -> None:
    clock = FakeClock()
    send = Script(APIConnectionError("dropped after the body went out"))
    with pytest.raises(APIConnectionError):
        await run(send, always(Retry(ambiguous=True)), clock=clock)
    assert len(send.attempts) == 1
    assert clock.sleeps == []


async def test_settle_runs_after_the_wait_and_its_find_ends_the_loop() -> None:
    clock = FakeClock()
    send = Script(ServerError(502))
    calls: list[tuple[str, Attempt, float]] = []

    async def settle(error: Exception, attempt: Attempt) -> Found[str] | None:
        calls.append((type(error).__name__, attempt, clock.elapsed))
        return Found("the job")

    assert await run(send, always(Retry(ambiguous=True)), clock=clock, settle=settle) == "the job"
    assert calls == [("ServerError", Attempt(1, 4), 1.0)]
    assert len(send.attempts) == 1  # never sent again


async def test_settle_finding_nothing_lets_the_retry_go_out() -> None:
    clock = FakeClock()
    send = Script(ServerError(504), ServerError(500))
    settled: list[int] = []

    async def settle(_error: Exception, attempt: Attempt) -> Found[str] | None:
        settled.append(attempt.number)
        return None

    assert await run(send, always(Retry(ambiguous=True)), clock=clock, settle=settle) == "ok"
    assert settled == [1, 2]
    assert len(send.attempts) == 3


async def test_settle_runs_at_once_after_the_last_ambiguous_failure() -> None:
    clock = FakeClock()
    send = Script(ServerError(502))
    seen: list[tuple[bool, float]] = []

    async def settle(_error: Exception, attempt: Attempt) -> Found[str] | None:
        seen.append((attempt.last, clock.elapsed))
        return None

    with pytest.raises(ServerError) as info:
        await run(send, always(Retry(ambiguous=True)), clock=clock, settle=settle, max_retries=0)
    assert seen == [(True, 0.0)]
    assert info.value.attempts == 1


async def test_safe_and_ambiguous_failures_mix_and_settle_sees_only_the_ambiguous() -> None:
    clock = FakeClock()
    refused = APIConnectionError("could not connect")
    dropped = APIConnectionError("dropped")
    send = Script(refused, dropped)
    settled: list[Exception] = []

    async def settle(error: Exception, _attempt: Attempt) -> Found[str] | None:
        settled.append(error)
        return None

    def classify(error: Exception) -> Retry | None:
        return Retry(ambiguous=error is dropped)

    assert await run(send, classify, clock=clock, settle=settle) == "ok"
    assert settled == [dropped]


async def test_whatever_settle_raises_ends_the_loop() -> None:
    clock = FakeClock()
    send = Script(ServerError(502))

    async def settle(_error: Exception, _attempt: Attempt) -> Found[str] | None:
        raise ClientStateError("closed during the look-up")

    with pytest.raises(ClientStateError, match="look-up"):
        await run(send, always(Retry(ambiguous=True)), clock=clock, settle=settle)
    assert len(send.attempts) == 1


async def test_cancelling_ends_a_retry_wait_at_once() -> None:
    clock = FakeClock(auto_advance=False)
    task = asyncio.ensure_future(run(Script(OSError()), always(Retry(3600.0)), clock=clock))
    while not clock.sleeps:  # noqa: ASYNC110 - until the retry's wait began
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.elapsed == 0.0


# -- a POST over loopback, classified three ways ---------------------------------------------


class JobServer:
    """``POST /jobs`` makes a job, then answers as scripted; ``GET /jobs`` lists them."""

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.jobs: list[dict[str, Any]] = []
        self.posts = 0
        self.url = ""

    async def post(self, request: web.Request) -> web.StreamResponse:
        self.posts += 1
        answer = self.answers.pop(0) if self.answers else "202"
        if answer == "503":  # refused before taking the job
            return web.json_response({"error": "busy"}, status=503, headers={"Retry-After": "9"})
        job = {"id": len(self.jobs) + 1, **(await request.json())}
        self.jobs.append(job)
        if answer == "502":  # took it, then the gateway failed
            return web.json_response({"error": "bad gateway"}, status=502)
        if answer == "drop":  # took it, then the connection went
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        return web.json_response(job, status=202)

    async def list_jobs(self, _request: web.Request) -> web.Response:
        return web.json_response(self.jobs[::-1])


@pytest.fixture
async def jobs(request: pytest.FixtureRequest) -> AsyncIterator[JobServer]:
    server = JobServer(request.param)
    app = web.Application()
    app.router.add_post("/jobs", server.post)
    app.router.add_get("/jobs", server.list_jobs)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}/jobs"
    try:
        yield server
    finally:
        await runner.cleanup()


async def create(server: JobServer, clock: FakeClock) -> dict[str, Any]:
    """A create as issue 17 describes it, over the one retry loop."""
    body = {"prompt": "a red fox"}
    async with aiohttp.ClientSession() as session:

        async def post(_attempt: Attempt) -> dict[str, Any]:
            failures = MapFailures(
                f"POST {server.url}", timeout_text="no answer", secret=KEY, session=session
            )
            status, data = 0, None
            with failures:
                async with session.post(server.url, json=body) as response:
                    failures.answered = True
                    status, data = response.status, await response.json()
            failures.raise_error()
            if status != 202:
                raise ServerError(status, data)
            assert isinstance(data, dict)
            return data

        def classify(error: Exception) -> Retry | None:
            if isinstance(error, ServerError) and error.status == 503:
                return Retry(9.0)
            if isinstance(error, ServerError | APIConnectionError):
                return Retry(ambiguous=True)
            return None

        async def settle(_error: Exception, _attempt: Attempt) -> Found[dict[str, Any]] | None:
            async with session.get(server.url) as response:
                listed = await response.json()
            found = [job for job in listed if job["prompt"] == body["prompt"]]
            return Found(found[0]) if found else None

        return await retry_loop(
            post,
            classify=classify,
            settle=settle,
            policy=POLICY,
            max_retries=3,
            label=f"POST {server.url}",
            clock=clock,
            catch=(TengrAIError,),
        )


@pytest.mark.parametrize("jobs", [["502"], ["drop"]], indirect=True, ids=["502", "dropped"])
async def test_an_ambiguous_post_that_made_the_job_returns_it_and_posts_once(
    jobs: JobServer,
) -> None:
    clock = FakeClock()
    job = await create(jobs, clock)
    assert job == {"id": 1, "prompt": "a red fox"}
    assert jobs.posts == 1
    assert len(jobs.jobs) == 1


@pytest.mark.parametrize("jobs", [["503", "202"]], indirect=True)
async def test_a_refused_post_is_sent_again_after_the_servers_wait(jobs: JobServer) -> None:
    clock = FakeClock()
    job = await create(jobs, clock)
    assert job["id"] == 1
    assert jobs.posts == 2
    assert clock.sleeps == [9.0]


async def unsent_after(url: str) -> tuple[bool, str]:
    async with aiohttp.ClientSession() as session:
        failures = MapFailures(f"POST {url}", timeout_text="no answer", secret=KEY, session=session)
        with failures:
            async with session.post(url, json={}) as response:
                await response.read()
        assert isinstance(failures.error, APIConnectionError)
        return failures.unsent, str(failures.error)


@pytest.mark.parametrize("jobs", [["drop"]], indirect=True)
async def test_map_failures_tells_a_connection_never_opened_from_one_that_broke(
    jobs: JobServer,
) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    unsent, text = await unsent_after(f"http://127.0.0.1:{port}/jobs")
    assert unsent is True  # the body never went out: safe to send again
    assert f"could not connect to 127.0.0.1:{port}" in text
    unsent, text = await unsent_after(jobs.url)
    assert unsent is False  # the server had the body: the job may exist
    assert "closed the connection" in text
    assert jobs.posts == 1
