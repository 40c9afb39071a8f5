"""The archive's image downloads through the one retry loop, on a fake clock, over loopback.

``Retry-After`` is waited out as told, a 429 pauses its host, ``close()`` and Ctrl-C end the
waits at once, a host whose connections keep failing is given up on for the run while other
hosts go on, ``images.attempts`` counts the requests made, and each request is logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.abc
import pytest
from _client_helpers import FAST_RETRY, free_port, make_client
from aiohttp import web

from tengrai_async import ClientStateError, RetryPolicy
from tengrai_async.archive import sync
from tengrai_async.archive._images import DEAD_HOST_FAILURES
from tengrai_async.testing import FakeClock, FakeTengrAI, make_artworks

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
IMAGE_LOG = re.compile(r"GET (\S+) -> (\S+) \(attempt (\d+), (\d+) bytes, [0-9.]+ ms\)")


def images_table(directory: Path) -> list[dict[str, Any]]:
    db = sqlite3.connect(directory / "archive.sqlite")
    db.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in db.execute("SELECT * FROM images ORDER BY url")]
    finally:
        db.close()


def succeeded(urls: Sequence[str], start: int = 0) -> list[dict[str, Any]]:
    """One succeeded artwork per URL, each with that one result (indexes from *start*)."""
    artworks = make_artworks(len(urls), start=start, kinds=["selena"])
    for artwork, url in zip(artworks, urls, strict=True):
        artwork["status"] = "succeeded"
        artwork["results"] = [url]
    return artworks


class ImageHost:
    """Serves ``/<name>.png``, answering first with the scripted ``(status, headers)``."""

    def __init__(self, script: Sequence[tuple[int, dict[str, str]]] = ()) -> None:
        self.script = list(script)
        self.hits: list[tuple[str, int]] = []
        self.base = ""

    async def handle(self, request: web.Request) -> web.Response:
        status, headers = self.script.pop(0) if self.script else (200, {})
        self.hits.append((request.path, status))
        if status != 200:
            return web.Response(status=status, headers=headers)
        return web.Response(body=PNG, content_type="image/png")

    def urls(self, count: int) -> list[str]:
        return [f"{self.base}/{n}.png" for n in range(count)]


@pytest.fixture
async def image_host(request: pytest.FixtureRequest) -> AsyncIterator[ImageHost]:
    host = ImageHost(getattr(request, "param", ()))
    app = web.Application()
    app.router.add_get("/{name}", host.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.05)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield host
    finally:
        await runner.cleanup()


async def until(condition: Any, what: str) -> None:
    """Let the loop run until *condition()* holds (the downloads got there)."""
    for _ in range(2_000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never: {what}")


# -- Retry-After, and the host's cooldown -----------------------------------------------------


@pytest.mark.parametrize("image_host", [[(503, {"Retry-After": "7"})]], indirect=True, ids=["503"])
async def test_a_503_with_retry_after_is_waited_out_as_told(
    tmp_path: Path, image_host: ImageHost
) -> None:
    clock = FakeClock()
    async with (
        FakeTengrAI(succeeded(image_host.urls(1))) as server,
        make_client(server.url, clock=clock) as client,
    ):
        report = await sync(client, tmp_path)
    assert report.images_downloaded == 1
    assert image_host.hits == [("/0.png", 503), ("/0.png", 200)]
    assert clock.sleeps == [7.0]  # not the millisecond backoff of FAST_RETRY
    [row] = images_table(tmp_path)
    assert (row["state"], row["attempts"]) == ("done", 2)


@pytest.mark.parametrize(
    "image_host", [[(429, {"Retry-After": "3600"})]], indirect=True, ids=["429"]
)
async def test_a_429s_retry_after_is_capped_as_the_apis_is(
    tmp_path: Path, image_host: ImageHost
) -> None:
    clock = FakeClock()
    retry = RetryPolicy(wait_initial=0.001, wait_max=0.01, wait_jitter=0.0, retry_after_max=20.0)
    async with (
        FakeTengrAI(succeeded(image_host.urls(1))) as server,
        make_client(server.url, clock=clock, retry=retry) as client,
    ):
        report = await sync(client, tmp_path)
    assert report.images_downloaded == 1
    assert clock.sleeps == [20.0]


@pytest.mark.parametrize("image_host", [[(429, {"Retry-After": "5"})]], indirect=True, ids=["429"])
async def test_one_429_pauses_every_download_from_that_host(
    tmp_path: Path, image_host: ImageHost
) -> None:
    clock = FakeClock(auto_advance=False)  # time moves when the test says
    async with (
        FakeTengrAI(succeeded(image_host.urls(12))) as server,
        make_client(server.url, clock=clock) as client,
    ):
        run = asyncio.ensure_future(sync(client, tmp_path, downloads=3))
        # The 429's retry waits, and so does every other worker, on the host's cooldown.
        await until(lambda: len(clock.sleeps) == 3, "three workers waiting")
        assert clock.sleeps == [5.0, 5.0, 5.0]
        held = len(image_host.hits)
        assert held < 12  # the rest of the host's images were held back
        await clock.advance(4.9)
        assert len(image_host.hits) == held
        await clock.advance(0.1)
        report = await run
    assert report.images_downloaded == 12
    assert len(image_host.hits) == 13  # each image once, and the one retry


@pytest.mark.parametrize(
    "image_host", [[(503, {"Retry-After": "3600"})]], indirect=True, ids=["503"]
)
async def test_close_ends_a_download_waiting_out_retry_after_at_once(
    tmp_path: Path, image_host: ImageHost
) -> None:
    clock = FakeClock(auto_advance=False)
    retry = RetryPolicy(retry_after_max=3600)
    async with FakeTengrAI(succeeded(image_host.urls(3))) as server:
        client = make_client(server.url, clock=clock, retry=retry)
        run = asyncio.ensure_future(sync(client, tmp_path, downloads=1))
        await until(lambda: clock.sleeps == [3600.0], "the Retry-After wait")
        await client.close()
        with pytest.raises(ClientStateError):
            await asyncio.wait_for(run, 5)
    assert len(image_host.hits) == 1
    assert clock.elapsed == 0.0
    assert not [p for p in (tmp_path / "images").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    "image_host", [[(429, {"Retry-After": "3600"})]], indirect=True, ids=["429"]
)
async def test_cancelling_the_run_ends_the_hosts_cooldown_at_once(
    tmp_path: Path, image_host: ImageHost
) -> None:
    clock = FakeClock(auto_advance=False)
    retry = RetryPolicy(retry_after_max=3600)
    async with (
        FakeTengrAI(succeeded(image_host.urls(4))) as server,
        make_client(server.url, clock=clock, retry=retry) as client,
    ):
        run = asyncio.ensure_future(sync(client, tmp_path, downloads=2))
        await until(lambda: len(clock.sleeps) == 2, "both workers waiting")
        run.cancel()  # what Ctrl-C does
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(run, 5)
    assert clock.elapsed == 0.0
    assert not [p for p in (tmp_path / "images").iterdir() if p.name.startswith(".")]


# -- a host whose connections keep failing ----------------------------------------------------


class NoDNS(aiohttp.abc.AbstractResolver):
    """A resolver that knows no name (IP literals never reach it): DNS failing, no network."""

    def __init__(self) -> None:
        self.lookups = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        self.lookups += 1
        raise OSError(socket.EAI_NONAME, f"no such host: {host}")

    async def close(self) -> None:
        return None


def split(rows: list[dict[str, Any]], prefix: str) -> tuple[list[dict[str, Any]], list[Any]]:
    dead = [row for row in rows if row["url"].startswith(prefix)]
    return dead, [row for row in rows if not row["url"].startswith(prefix)]


async def test_700_images_on_an_unresolvable_host_fail_fast_and_other_hosts_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tengrai_async")
    clock = FakeClock()
    resolver = NoDNS()
    dead_urls = [f"http://images.invalid/{n}.png" for n in range(700)]
    alive = succeeded([""] * 20)
    async with FakeTengrAI(alive + succeeded(dead_urls, start=20), images=True) as server:
        for artwork in alive:  # the server holds these very dicts
            artwork["results"] = [str(server.image_url(artwork["id"]))]
        connector = aiohttp.TCPConnector(resolver=resolver)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            make_client(server.url, clock=clock, session=session, retry=RetryPolicy()) as client,
        ):
            report = await sync(client, tmp_path)
    dead, good = split(images_table(tmp_path), "http://images.invalid/")
    assert len(dead) == 700
    assert {row["state"] for row in dead} == {"failed"}
    assert all("could not resolve the host images.invalid" in row["reason"] for row in dead)
    assert [row["state"] for row in good] == ["done"] * 20  # the other host went on
    assert report.images_failed == 700
    # A handful of requests, not 700 x 4, and seconds of (virtual) backoff, not minutes.
    made = sum(row["attempts"] for row in dead)
    sent = [m for r in caplog.records if (m := IMAGE_LOG.fullmatch(r.getMessage()))]
    assert made == sum(1 for m in sent if "images.invalid" in m[1])
    assert DEAD_HOST_FAILURES <= made <= DEAD_HOST_FAILURES + 8  # 8 downloads at once
    assert sum(1 for row in dead if row["attempts"] == 0) >= 700 - made
    assert clock.elapsed < 30
    assert resolver.lookups <= made


async def test_a_refused_port_is_given_up_on_and_tried_again_next_run(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    clock = FakeClock()
    async with (
        FakeTengrAI(succeeded([f"{base}/{n}.png" for n in range(50)])) as server,
        make_client(server.url, clock=clock, retry=FAST_RETRY) as client,
    ):
        await sync(client, tmp_path, downloads=2)
        first = images_table(tmp_path)
        await sync(client, tmp_path, downloads=2)
        second = images_table(tmp_path)
    assert {row["state"] for row in first} == {"failed"}
    port = base.rsplit(":", 1)[1]
    assert all(f"could not connect to 127.0.0.1:{port}" in row["reason"] for row in first)
    assert all("connections in a row" in row["reason"] for row in first if row["attempts"] == 0)
    made = sum(row["attempts"] for row in first)
    assert DEAD_HOST_FAILURES <= made <= DEAD_HOST_FAILURES + 2
    # The next run tries the host again (it may be back), and gives up as fast.
    assert DEAD_HOST_FAILURES <= sum(row["attempts"] for row in second) - made <= made + 2


@pytest.mark.parametrize(
    "image_host", [[(500, {}), (500, {}), (500, {})]], indirect=True, ids=["500"]
)
async def test_attempts_counts_the_requests_made(tmp_path: Path, image_host: ImageHost) -> None:
    async with (
        FakeTengrAI(succeeded(image_host.urls(2))) as server,
        make_client(server.url, clock=FakeClock(), max_retries=2) as client,
    ):
        await sync(client, tmp_path, downloads=1)
    rows = sorted(images_table(tmp_path), key=lambda row: row["state"])
    assert [(row["state"], row["attempts"]) for row in rows] == [("done", 1), ("failed", 3)]
    assert rows[1]["reason"] == "HTTP 500 after 3 attempts"


async def test_each_image_request_is_logged_at_debug_without_its_query(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tengrai_async")
    [artwork] = succeeded([""])
    async with FakeTengrAI([artwork], images=True) as server:
        url = server.image_url(artwork["id"])
        artwork["results"] = [str(url.with_query(signature="s3cr3t"))]
        server.queue_image_faults("503")
        async with make_client(server.url, clock=FakeClock()) as client:
            await sync(client, tmp_path)
    lines = [m.groups() for r in caplog.records if (m := IMAGE_LOG.fullmatch(r.getMessage()))]
    size = len(server.image_bytes(artwork["id"]))
    assert lines == [(str(url), "503", "1", "0"), (str(url), "200", "2", str(size))]
    assert "s3cr3t" not in caplog.text
