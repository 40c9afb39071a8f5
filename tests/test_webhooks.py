"""The webhook receiver over real loopback: every answer, repeats, and a delivery waking a wait."""

from __future__ import annotations

import asyncio
import http
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import pytest
import yarl
from _client_helpers import make_client
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tengrai_async import Artwork, ArtworkStatus, ClientStateError, InvalidArgumentError
from tengrai_async.testing import FakeClock, FakeTengrAI, make_artworks
from tengrai_async.web import (
    ACCESS_LOG_FORMAT,
    MAX_WEBHOOK_BODY,
    TENGRAI_CLIENT,
    setup,
    setup_webhooks,
    webhook_handler,
    webhook_url,
)

ClientFactory = Callable[
    [web.Application | TestServer], Awaitable[TestClient[web.Request, web.Application]]
]
TOKEN = "whk-never-logged-7c2e"  # noqa: S105 - a made-up token to look for
PATH = "/tengrai/webhook"


class Recorder:
    """An ``on_artwork`` that records what it is given, and raises while told to."""

    def __init__(self) -> None:
        self.artworks: list[Artwork] = []
        self.fail = False

    async def __call__(self, artwork: Artwork) -> None:
        self.artworks.append(artwork)
        if self.fail:
            msg = "the database is down"
            raise RuntimeError(msg)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def hook(
    aiohttp_client: ClientFactory, recorder: Recorder
) -> TestClient[web.Request, web.Application]:
    app = web.Application()
    app.router.add_route("*", PATH, webhook_handler(recorder, token=TOKEN))
    server = TestServer(app)
    # Started here: TestClient passes no runner arguments, and the format must reach AppRunner.
    await server.start_server(access_log_format=ACCESS_LOG_FORMAT)
    return await aiohttp_client(server)


def url_of(hook: TestClient[web.Request, web.Application], token: str | None = TOKEN) -> str:
    base = str(hook.make_url(PATH))
    return base if token is None else webhook_url(base, token)


def artwork_json(kinds: list[str] | None = None) -> dict[str, Any]:
    return make_artworks(1, kinds=kinds)[0]


async def post(
    hook: TestClient[web.Request, web.Application], body: Any, token: str | None = TOKEN
) -> tuple[int, Any]:
    data = io.BytesIO(body if isinstance(body, bytes) else orjson.dumps(body))
    async with hook.session.post(url_of(hook, token), data=data) as response:
        return response.status, await response.json()


def test_webhook_url_adds_the_token_and_keeps_the_query() -> None:
    url = yarl.URL(webhook_url("https://my.app/tengrai/webhook?tenant=7", "s3 cr&t"))
    assert url.path == "/tengrai/webhook"
    assert url.query.getall("tenant") == ["7"]
    assert url.query.getall("token") == ["s3 cr&t"]


def test_an_empty_token_is_refused_by_webhook_url() -> None:
    with pytest.raises(InvalidArgumentError, match="token"):
        webhook_url("https://my.app/h", "")


def test_an_empty_token_is_refused_by_webhook_handler() -> None:
    with pytest.raises(InvalidArgumentError, match="token"):
        webhook_handler(Recorder(), token="")


def test_a_relative_url_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="url"):
        webhook_url("/tengrai/webhook", TOKEN)


async def test_a_valid_artwork_is_handed_over_structured_then_200(
    hook: TestClient[web.Request, web.Application], recorder: Recorder
) -> None:
    data = artwork_json()
    status, body = await post(hook, data)
    assert (status, body) == (200, {"received": data["id"]})
    [artwork] = recorder.artworks
    assert str(artwork.id) == data["id"]
    assert artwork.raw == data


async def test_an_unknown_kind_is_an_artwork_too(
    hook: TestClient[web.Request, web.Application], recorder: Recorder
) -> None:
    data = artwork_json(kinds=["zorblax"])
    status, _ = await post(hook, data)
    assert status == 200
    assert [a.artwork_type for a in recorder.artworks] == ["zorblax"]


@pytest.mark.parametrize(
    "token", [None, "", "whk-never-logged-7c2f", TOKEN + "x", "short", TOKEN.upper()]
)
async def test_a_missing_or_wrong_token_is_401_and_no_call(
    hook: TestClient[web.Request, web.Application], recorder: Recorder, token: str | None
) -> None:
    url = url_of(hook, None) if not token else url_of(hook, token)
    async with hook.session.post(url, data=orjson.dumps(artwork_json())) as response:
        assert response.status == 401
        assert await response.json() == {
            "message": "a missing or wrong webhook token",
            "statusCode": 401,
            "error": "Unauthorized",
        }
    assert recorder.artworks == []


async def test_a_repeated_token_parameter_is_401(
    hook: TestClient[web.Request, web.Application], recorder: Recorder
) -> None:
    url = yarl.URL(url_of(hook)).update_query([("token", TOKEN), ("token", TOKEN)])
    async with hook.session.post(url, data=orjson.dumps(artwork_json())) as response:
        assert response.status == 401
    assert recorder.artworks == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_other_methods_are_405_with_allow(
    hook: TestClient[web.Request, web.Application], recorder: Recorder, method: str
) -> None:
    async with hook.session.request(method, url_of(hook)) as response:
        assert response.status == 405
        assert response.headers["Allow"] == "POST"
        assert (await response.json())["statusCode"] == 405
    assert recorder.artworks == []


async def test_a_body_over_1_mib_by_content_length_is_413(
    hook: TestClient[web.Request, web.Application], recorder: Recorder
) -> None:
    body = io.BytesIO(b" " * (MAX_WEBHOOK_BODY + 1))  # BytesIO: sent with its Content-Length
    async with hook.session.post(url_of(hook), data=body) as response:
        assert response.request_info.headers["Content-Length"] == str(MAX_WEBHOOK_BODY + 1)
        assert response.status == 413
        # The reason phrase is "Content Too Large" from 3.13 on, "Request Entity Too Large" before.
        assert (await response.json())["error"] == http.HTTPStatus(413).phrase
    assert recorder.artworks == []


async def test_a_chunked_body_over_1_mib_is_413(
    hook: TestClient[web.Request, web.Application], recorder: Recorder
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65_536  # 1.25 MiB in all, with no Content-Length

    async with hook.session.post(url_of(hook), data=chunks()) as response:
        assert response.status == 413
    assert recorder.artworks == []


async def test_a_body_of_exactly_1_mib_is_read(
    hook: TestClient[web.Request, web.Application], recorder: Recorder
) -> None:
    data = orjson.dumps(artwork_json())
    padded = data + b" " * (MAX_WEBHOOK_BODY - len(data))
    status, _ = await post(hook, padded)
    assert status == 200
    assert len(recorder.artworks) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the body is not JSON"),
        (b"", "the body is not JSON"),
        (b"[1, 2]", "the body is not an artwork: not a JSON object"),
        (b'{"id": "nope"}', "the body is not an artwork: "),
    ],
)
async def test_not_json_or_not_an_artwork_is_400(
    hook: TestClient[web.Request, web.Application],
    recorder: Recorder,
    body: bytes,
    message: str,
) -> None:
    status, answer = await post(hook, body)
    assert status == 400
    assert answer["error"] == "Bad Request"
    assert answer["message"].startswith(message)
    assert recorder.artworks == []


async def test_a_repeat_is_200_without_a_second_call_but_other_json_is_new(
    hook: TestClient[web.Request, web.Application], recorder: Recorder
) -> None:
    data = artwork_json()
    assert (await post(hook, data))[0] == 200
    assert (await post(hook, data))[0] == 200
    assert len(recorder.artworks) == 1
    changed = {**data, "duration": data["duration"] + 1}
    assert (await post(hook, changed))[0] == 200
    assert [a.raw for a in recorder.artworks] == [data, changed]


async def test_a_raising_callback_is_500_logged_without_body_and_its_retry_calls_again(
    hook: TestClient[web.Request, web.Application],
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    data = {**artwork_json(), "bodyMarker": "only-in-the-body-5e1"}
    recorder.fail = True
    status, answer = await post(hook, data)
    assert status == 500
    assert answer == {
        "message": "the webhook callback failed",
        "statusCode": 500,
        "error": "Internal Server Error",
    }
    [record] = [r for r in caplog.records if r.name.startswith("tengrai_async")]
    assert record.levelno == logging.ERROR
    assert data["id"] in record.getMessage()
    assert "only-in-the-body-5e1" not in caplog.text
    recorder.fail = False
    assert (await post(hook, data))[0] == 200
    assert len(recorder.artworks) == 2


async def test_the_token_is_in_no_log_record(
    hook: TestClient[web.Request, web.Application],
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder.fail = True
    await post(hook, artwork_json())
    await post(hook, artwork_json(), token=TOKEN + "x")
    await post(hook, b"{bad")
    names = {record.name for record in caplog.records}
    assert {"tengrai_async.web", "aiohttp.access"} <= names  # both logs did run
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert TOKEN not in caplog.text


async def test_aiohttps_default_access_log_shows_the_token_which_is_why_the_format_exists(
    aiohttp_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = web.Application()
    app.router.add_route("*", PATH, webhook_handler(Recorder(), token=TOKEN))
    hook = await aiohttp_client(app)
    await post(hook, artwork_json())
    assert TOKEN in caplog.text


async def test_setup_webhooks_refuses_an_app_without_setup() -> None:
    with pytest.raises(ClientStateError, match=r"setup\(app\)"):
        setup_webhooks(web.Application(), token=TOKEN)


async def test_a_delivery_through_setup_webhooks_wakes_a_wait_before_its_next_poll(
    aiohttp_client: ClientFactory,
) -> None:
    clock = FakeClock(auto_advance=False)  # time never moves: no second poll can happen
    extra: list[Artwork] = []

    async def also(artwork: Artwork) -> None:
        extra.append(artwork)

    async with FakeTengrAI(count=3, clock=clock) as server:
        app = web.Application()
        setup(app, api_key="test-key", base_url=server.url, clock=clock)
        setup_webhooks(app, token=TOKEN, on_artwork=also)
        hook = await aiohttp_client(app)
        job = server.start_job(seconds=30.0)
        waiting = asyncio.create_task(app[TENGRAI_CLIENT].artworks.wait(job, poll_interval=60))
        # The server has no event for a request; a zero sleep only yields (no time passes).
        while not any(r.path.endswith(job) for r in server.requests):  # noqa: ASYNC110
            await asyncio.sleep(0)  # the wait's first poll, which sees the job starting
        server.finish_jobs()
        async with make_client(server.url, clock=clock) as reader:
            final = await reader.artworks.get(job)
        assert not waiting.done()
        status, _ = await post(hook, dict(final.raw))
        assert status == 200
        done = await asyncio.wait_for(waiting, timeout=5)
        polls = [r for r in server.requests if r.path.endswith(job)]
    assert done.status is ArtworkStatus.SUCCEEDED
    assert done == final
    assert len(polls) == 2  # the wait's one poll and the reader's get
    assert [a.id for a in extra] == [final.id]
    assert clock.elapsed == 0


async def test_the_memory_is_bounded_and_forgets_the_least_recently_seen_first(
    aiohttp_client: ClientFactory, recorder: Recorder
) -> None:
    app = web.Application()
    app.router.add_route("*", PATH, webhook_handler(recorder, token=TOKEN, remember=2))
    hook = await aiohttp_client(app)
    one, two, three = make_artworks(3)
    for data in (one, two, one, three, one, two):  # one seen again, so two is forgotten
        assert (await post(hook, data))[0] == 200
    called = [a.raw["id"] for a in recorder.artworks]
    assert called == [one["id"], two["id"], three["id"], two["id"]]


@pytest.mark.parametrize("remember", [0, -1, True, 2.0])
def test_a_bad_bound_is_refused(remember: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="remember"):
        webhook_handler(Recorder(), token=TOKEN, remember=remember)
