"""The testing kit: typed faults on a fixed schedule, the HTTP and timeout faults, the wired
client with instant retries, and the command-line server's knobs, all over real loopback HTTP."""

from __future__ import annotations

import asyncio
import math
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from fractions import Fraction
from typing import Any, get_args

import aiohttp
import orjson
import pytest

from tengrai_async import (
    APITimeoutError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    ServerError,
    TengrAI,
)
from tengrai_async.testing import DEFAULT_FAULTS, FAULTS, FakeTengrAI, Fault, make_artworks
from tengrai_async.testing.__main__ import main as command_line_main
from tengrai_async.testing._server import _FaultSchedule

AUTH = {"Authorization": "Bearer test-key"}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def get(
    session: aiohttp.ClientSession, server: FakeTengrAI, path: str = "/v2/artworks"
) -> tuple[int, dict[str, str], bytes]:
    async with session.get(server.url.with_path(path)) as response:
        return response.status, dict(response.headers), await response.read()


def faults(server: FakeTengrAI) -> list[str | None]:
    return [request.fault for request in server.requests]


# -- the Fault type ------------------------------------------------------------------------


def test_every_fault_is_a_literal_of_the_fault_type() -> None:
    assert set(get_args(Fault)) == set(FAULTS)
    assert {"401", "403", "404", "429", "500", "503", "malformed", "drop", "timeout"} == set(FAULTS)
    # The default of fault_rate keeps to the faults a client retries through at once.
    assert DEFAULT_FAULTS == ("429", "500", "503", "malformed", "drop")


@pytest.mark.parametrize("fault_timeout", [0, -1.0, math.inf, math.nan])
def test_a_fault_timeout_must_be_a_positive_number_of_seconds(fault_timeout: float) -> None:
    with pytest.raises(ValueError, match="fault_timeout"):
        FakeTengrAI(fault_timeout=fault_timeout)


# -- fault_rate: a fixed schedule ----------------------------------------------------------


async def test_eight_requests_at_a_fifth_get_faults_from_the_first_request_on(
    session: aiohttp.ClientSession,
) -> None:
    # The README's old example: 8 requests at 0.2 once got no fault at all.
    async with FakeTengrAI(count=2_000, fault_rate=0.2, faults=["503"]) as server:
        statuses = [(await get(session, server))[0] for _ in range(8)]
    assert statuses == [503, 200, 200, 200, 200, 503, 200, 200]
    assert sum(fault is not None for fault in faults(server)) == math.ceil(8 * 0.2)


@pytest.mark.parametrize("rate", [0.01, 0.1, 0.2, 0.25, 0.29, 1 / 3, 0.5, 0.7, 0.999, 1.0])
def test_after_n_requests_exactly_ceil_n_times_the_rate_have_faulted(rate: float) -> None:
    schedule = _FaultSchedule(rate, ["500"], 0)
    given = 0
    for n in range(1, 1001):
        given += schedule.next() is not None
        assert given == math.ceil(n * Fraction(str(rate)).limit_denominator(10**6))
    assert given >= 1  # the first request already faults


def test_the_schedule_does_not_depend_on_the_seed_and_a_rate_of_zero_never_faults() -> None:
    def pattern(seed: int) -> list[bool]:
        schedule = _FaultSchedule(0.3, ["500", "503"], seed)
        return [schedule.next() is not None for _ in range(100)]

    assert pattern(0) == pattern(1) == pattern(99)
    never = _FaultSchedule(0.0, DEFAULT_FAULTS, 0)
    assert {never.next() for _ in range(100)} == {None}


async def test_the_faults_take_turns_in_the_order_given(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=5, fault_rate=1.0, faults=["503", "429", "500"]) as server:
        statuses = [(await get(session, server))[0] for _ in range(7)]
    assert statuses == [503, 429, 500, 503, 429, 500, 503]


async def test_a_flaky_listing_through_the_client_sees_faults_and_every_artwork() -> None:
    async with (
        FakeTengrAI(count=2_000, fault_rate=0.2) as server,
        server.client() as client,
    ):
        ids = [str(artwork.id) async for artwork in client.artworks.iterate()]
    assert ids == server.ids()
    total = len(server.requests)
    assert sum(fault is not None for fault in faults(server)) == math.ceil(total * 0.2)


async def test_queued_faults_come_first_and_do_not_count_for_the_rate(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=5, fault_rate=0.5, faults=["500"]) as server:
        server.queue_faults("503", "429")
        statuses = [(await get(session, server))[0] for _ in range(6)]
    assert statuses == [503, 429, 500, 200, 500, 200]


# -- queue_faults: one 503, then success ---------------------------------------------------


async def test_one_503_then_success_through_the_client() -> None:
    async with FakeTengrAI(count=30) as server, server.client() as client:
        server.queue_faults("503")
        page = await client.artworks.list(limit=5)
        again = await client.artworks.list(limit=5)
    assert [str(artwork.id) for artwork in page.items] == server.ids()[:5]
    assert again.items == page.items
    assert [(r.status, r.fault) for r in server.requests] == [
        (503, "503"),
        (200, None),
        (200, None),
    ]


# -- the HTTP faults -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "reason", "message"),
    [
        ("401", "Unauthorized", "missing or invalid API key"),
        ("403", "Forbidden", "Forbidden resource"),
        ("404", "Not Found", "Cannot GET /v2/artworks"),
        ("429", "Too Many Requests", "rate limit exceeded"),
        ("500", "Internal Server Error", "internal server error"),
        ("503", "Service Unavailable", "service unavailable"),
    ],
)
async def test_an_http_fault_answers_the_documented_error_body(
    session: aiohttp.ClientSession, fault: Fault, reason: str, message: str
) -> None:
    async with FakeTengrAI(count=5, retry_after=2) as server:
        server.queue_faults(fault)
        status, headers, body = await get(session, server)
        artwork_id = server.ids()[0]
        server.queue_faults(fault)
        status_by_id, _, body_by_id = await get(session, server, f"/v2/artworks/{artwork_id}")
    assert status == status_by_id == int(fault)
    assert headers["Content-Type"] == "application/json"
    assert orjson.loads(body) == {"message": message, "statusCode": int(fault), "error": reason}
    by_id = orjson.loads(body_by_id)
    assert by_id["message"] == ("artwork not found" if fault == "404" else message)
    assert headers.get("WWW-Authenticate") == ("Bearer" if fault == "401" else None)
    assert headers.get("Retry-After") == ("2" if fault == "429" else None)
    assert faults(server) == [fault, fault]


@pytest.mark.parametrize(
    ("fault", "error"),
    [("401", AuthenticationError), ("403", PermissionDeniedError), ("404", NotFoundError)],
)
async def test_the_client_raises_the_matching_error_at_once_for_a_refusal_fault(
    fault: Fault, error: type[Exception]
) -> None:
    async with FakeTengrAI(count=5) as server, server.client() as client:
        artwork_id = server.ids()[0]
        server.queue_faults(fault)
        with pytest.raises(error):
            await client.artworks.get(artwork_id)
        assert str((await client.artworks.get(artwork_id)).id) == artwork_id
    assert faults(server) == [fault, None]  # not retried, and served again afterwards


# -- the timeout fault ---------------------------------------------------------------------


async def test_a_timeout_fault_answers_nothing_within_the_clients_timeout() -> None:
    async with FakeTengrAI(count=5) as server:
        server.queue_faults("timeout")
        async with server.client(max_retries=0, timeout=0.2) as client:
            started = time.perf_counter()
            with pytest.raises(APITimeoutError):
                await client.artworks.list()
            assert time.perf_counter() - started < 1.0
        server.queue_faults("timeout")
        async with server.client(timeout=0.2) as client:
            page = await client.artworks.list()  # retried at once, then served
        assert len(page.items) == 5
    assert [(r.status, r.fault) for r in server.requests] == [
        (0, "timeout"),
        (0, "timeout"),
        (200, None),
    ]


async def test_a_timeout_fault_closes_the_connection_unanswered_after_fault_timeout() -> None:
    async with FakeTengrAI(count=5, fault_timeout=0.3) as server:
        server.queue_faults("timeout")
        reader, writer = await asyncio.open_connection(server.url.host, server.url.port)
        writer.write(
            b"GET /v2/artworks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-key\r\n\r\n"
        )
        started = time.perf_counter()
        answer = await asyncio.wait_for(reader.read(), timeout=5)
        held = time.perf_counter() - started
        writer.close()
    assert answer == b""
    assert 0.25 <= held < 2.0


async def test_closing_the_server_ends_a_held_request_at_once() -> None:
    server = FakeTengrAI(count=5, fault_timeout=60)
    await server.start()
    server.queue_faults("timeout")
    reader, writer = await asyncio.open_connection(server.url.host, server.url.port)
    writer.write(b"GET /v2/artworks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-key\r\n\r\n")
    while not server.requests:  # noqa: ASYNC110 - polling the record, which has no event
        await asyncio.sleep(0.01)
    started = time.perf_counter()
    await server.close()
    assert time.perf_counter() - started < 0.5
    assert await asyncio.wait_for(reader.read(), timeout=5) == b""
    writer.close()


# -- server.client() -----------------------------------------------------------------------


async def test_the_wired_client_retries_every_time_without_waiting() -> None:
    async with FakeTengrAI(count=5, retry_after=30) as server, server.client() as client:
        server.queue_faults("503", "429", "500")
        started = time.perf_counter()
        page = await client.artworks.list()
        elapsed = time.perf_counter() - started
    # The default policy would sleep about 0.5 + 30 + 2 s: instant retries still retry.
    assert elapsed < 0.5
    assert len(page.items) == 5
    assert faults(server) == ["503", "429", "500", None]
    assert client.closed


@pytest.mark.parametrize("api_key", ["sk-other", None])
async def test_the_wired_client_has_the_servers_url_and_key(api_key: str | None) -> None:
    async with FakeTengrAI(count=3, api_key=api_key, latency=0.05) as server:
        assert server.api_key == api_key
        async with server.client() as client:
            assert client.base_url == server.url
            page = await client.artworks.list()
        header = server.requests[0].headers["Authorization"]
    assert [str(artwork.id) for artwork in page.items] == server.ids()
    assert header == f"Bearer {api_key or 'test-key'}"


async def test_the_wired_client_takes_any_tengrai_option_over_its_own() -> None:
    async with FakeTengrAI(count=3) as server, server.client(max_retries=0) as client:
        server.queue_faults("503")
        with pytest.raises(ServerError):
            await client.artworks.list()
    assert faults(server) == ["503"]


async def test_retry_policy_instant_works_for_any_client() -> None:
    async with FakeTengrAI(count=3, retry_after=30) as server:
        server.queue_faults("429", "503")
        started = time.perf_counter()
        async with TengrAI("test-key", base_url=server.url, retry=RetryPolicy.instant()) as client:
            page = await client.artworks.list()
    assert time.perf_counter() - started < 0.5
    assert len(page.items) == 3


def test_the_wired_client_needs_a_running_server() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        FakeTengrAI().client()


# -- python -m tengrai_async.testing -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def http_get(url: str, key: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, orjson.loads(error.read())


@pytest.fixture
def command_line_server() -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    command = [sys.executable, "-m", "tengrai_async.testing", "--count", "7", "--latency", "0"]
    command += ["--fault-rate", "0.5", "--faults", "503,429", "--retry-after", "3"]
    # --no-images: the results as make_artworks() gives them, on the CDN.
    command += ["--port", str(port), "--key", "sk-cli", "--no-images"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:  # noqa: S603
        try:
            yield process, port
        finally:
            if process.poll() is None:
                process.kill()


def test_the_command_line_server_prints_its_url_and_key_and_takes_the_fault_knobs(
    command_line_server: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = command_line_server
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    key = process.stdout.readline().strip()
    assert url == f"http://127.0.0.1:{port}"
    assert key == "sk-cli"
    answers = [http_get(f"{url}/v2/artworks?limit=10", key) for _ in range(4)]
    assert [status for status, _ in answers] == [503, 200, 429, 200]
    assert answers[1][1] == make_artworks(7)
    assert http_get(f"{url}/v2/artworks", "test-key")[0] == 401
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
    assert process.stdout.read() == ""


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (["--faults", "503,teapot"], "unknown fault 'teapot'"),
        (["--faults", ","], "give at least one fault"),
        (["--fault-rate", "1.5"], "a fault rate is a number from 0 to 1"),
        (["--fault-rate", "often"], "a fault rate is a number from 0 to 1"),
        (["--fault-timeout", "0"], "fault_timeout must be a positive number"),
    ],
)
def test_the_command_line_server_refuses_bad_knobs(
    options: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        command_line_main(["--count", "1", *options])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert complaint in err


def test_the_command_line_server_on_a_busy_port_says_so_in_one_line_and_exits_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ended = subprocess.run(  # noqa: S603 - our own module
            [sys.executable, "-m", "tengrai_async.testing", "--count", "1", "--port", str(port)],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    assert ended.returncode == 2
    assert ended.stdout == ""
    assert ended.stderr.count("\n") == 1, ended.stderr
    assert f"cannot listen on 127.0.0.1 port {port}" in ended.stderr
