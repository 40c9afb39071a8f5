"""Shared helpers of the client tests: fast retries, request traces and a scripted server.

Everything here talks real loopback HTTP; nothing mocks aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Final

import aiohttp
import attrs
import pytest
import yarl
from aiohttp import web

from tengrai_async import IterationStats, RetryPolicy, TengrAI, TengrAIError
from tengrai_async.testing import FakeTengrAI, RecordedRequest

API_KEY: Final = "test-key"
#: Loop rounds that let cancelled requests and finalized generators finish (no time passes).
_SETTLE_ROUNDS: Final = 200
#: Retries that cost milliseconds, so fault-injection runs stay fast.
FAST_RETRY: Final = RetryPolicy(wait_initial=0.001, wait_max=0.01, wait_jitter=0.0)


def make_client(base_url: str | yarl.URL, **kwargs: Any) -> TengrAI:
    """A client with the test key and fast retries (override any argument)."""
    kwargs.setdefault("retry", FAST_RETRY)
    api_key = kwargs.pop("api_key", API_KEY)
    return TengrAI(api_key, base_url=base_url, **kwargs)


def listing_requests(server: FakeTengrAI) -> list[RecordedRequest]:
    """The ``GET /v2/artworks`` requests the server recorded, in arrival order."""
    return [request for request in server.requests if request.path == "/v2/artworks"]


def windows_requested(server: FakeTengrAI) -> list[tuple[int, int]]:
    """``(offset, limit)`` of every listing request, in arrival order."""
    return [
        (int(request.query["offset"]), int(request.query["limit"]))
        for request in listing_requests(server)
    ]


async def listing_failure(base_url: str | yarl.URL, **kwargs: Any) -> TengrAIError:
    """The error one listing against *base_url* raises (one retry unless told otherwise)."""
    kwargs.setdefault("max_retries", 1)
    async with make_client(base_url, **kwargs) as client:
        with pytest.raises(TengrAIError) as info:
            await client.artworks.list()
    return info.value


def ids_of(artworks: Any) -> list[str]:
    """The artworks' ids, as text."""
    return [str(artwork.id) for artwork in artworks]


async def assert_quiet(client: TengrAI) -> None:
    """No task of ours is left, and no request of *client* is on its way to the server.

    Called well within the server's latency: a look-ahead still running would still be there.
    Nothing can reach the server later: no task is left to send a request, and no connection
    of the client's session is in use (a request cut off mid-send would hold one). The loop
    runs a few rounds first (no time passes), to finalize the iterator's inner generators.
    """
    for _ in range(_SETTLE_ROUNDS):
        if not other_tasks():
            break
        await asyncio.sleep(0)
    assert other_tasks() == set()
    session = session_of(client)
    assert session is not None
    assert session.connector is not None
    assert session.connector._acquired == set()


def other_tasks() -> set[asyncio.Task[Any]]:
    """Every unfinished task of the running loop but the current one."""
    current = asyncio.current_task()
    return {task for task in asyncio.all_tasks() if task is not current}


def request_tasks() -> list[asyncio.Task[Any]]:
    """The unfinished tasks of the running loop that are sending a window."""
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "")
        in ("Transport.get_window", "Transport.get_json")
    ]


def assert_stats_add_up(stats: IterationStats) -> None:
    """Every item received is yielded or accounted for by exactly one counter."""
    assert stats.items_received == (
        stats.items_yielded + stats.filtered_out + stats.duplicates_dropped + stats.invalid_skipped
    ), stats


def session_of(client: TengrAI) -> aiohttp.ClientSession | None:
    """The aiohttp session a client uses right now (``None`` before it opens)."""
    return client._transport._session


def is_closed(session: aiohttp.ClientSession) -> bool:
    """``session.closed``, read through a call so type checkers do not narrow it."""
    return session.closed


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@attrs.define
class RequestTrace:
    """What an aiohttp ``TraceConfig`` saw: send and answer times, and peak concurrency."""

    starts: list[tuple[float, yarl.URL]] = attrs.field(factory=list)
    ends: list[tuple[float, yarl.URL, int]] = attrs.field(factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def config(self) -> aiohttp.TraceConfig:
        """A TraceConfig recording into this trace."""
        config = aiohttp.TraceConfig()

        async def on_start(
            _session: aiohttp.ClientSession, _ctx: Any, params: aiohttp.TraceRequestStartParams
        ) -> None:
            self.starts.append((time.monotonic(), params.url))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

        async def on_end(
            _session: aiohttp.ClientSession, _ctx: Any, params: aiohttp.TraceRequestEndParams
        ) -> None:
            self.ends.append((time.monotonic(), params.url, params.response.status))
            self.in_flight -= 1

        async def on_exception(
            _session: aiohttp.ClientSession,
            _ctx: Any,
            _params: aiohttp.TraceRequestExceptionParams,
        ) -> None:
            self.in_flight -= 1

        config.on_request_start.append(on_start)
        config.on_request_end.append(on_end)
        config.on_request_exception.append(on_exception)
        return config


@contextlib.asynccontextmanager
async def traced_session(trace: RequestTrace) -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp session (to lend to a client) whose requests are recorded in *trace*."""
    async with aiohttp.ClientSession(trace_configs=[trace.config()]) as session:
        yield session


@attrs.frozen
class Reply:
    """One scripted answer: status, headers, body, and how long to wait before it."""

    status: int = 200
    body: bytes = b"[]"
    headers: Mapping[str, str] = attrs.field(factory=dict)
    delay: float = 0.0


@attrs.frozen
class Hit:
    """One request the scripted server received."""

    at: float
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]


class ScriptedServer:
    """A loopback server answering any GET with the next scripted :class:`Reply`.

    For statuses and headers the fake Tengr.ai server does not produce (403, 422, 408, an
    HTTP-date ``Retry-After``...). Once the script is used up it answers ``200 []``.
    """

    def __init__(self, replies: Sequence[Reply] = ()) -> None:
        self.replies = list(replies)
        self.hits: list[Hit] = []
        self._runner: web.AppRunner | None = None
        self.url = yarl.URL()

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits.append(
            Hit(time.monotonic(), request.path, dict(request.query), dict(request.headers))
        )
        reply = self.replies.pop(0) if self.replies else Reply()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return web.Response(status=reply.status, body=reply.body, headers=dict(reply.headers))

    async def __aenter__(self) -> ScriptedServer:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.05)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = yarl.URL.build(
            scheme="http", host="127.0.0.1", port=self._runner.addresses[0][1]
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
