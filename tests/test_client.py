from __future__ import annotations

import asyncio
import logging
import platform
from typing import Any

import aiohttp
import pytest
import yarl
from _client_helpers import (
    API_KEY,
    Reply,
    ScriptedServer,
    free_port,
    is_closed,
    listing_requests,
    make_client,
    session_of,
    windows_requested,
)

from tengrai_async import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ClientStateError,
    ConfigurationError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    TengrAI,
    __version__,
)
from tengrai_async.testing import FakeTengrAI, make_artworks

SECRET = "sk-very-secret-0123456789"  # noqa: S105 - a fake key to look for


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TENGRAI_API_KEY", raising=False)
    monkeypatch.delenv("TENGRAI_BASE_URL", raising=False)


# -- construction and configuration --------------------------------------------------------


def test_missing_api_key_is_a_configuration_error_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="TENGRAI_API_KEY"):
        TengrAI()


def test_empty_api_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="TENGRAI_API_KEY"):
        TengrAI("")


def test_default_base_url_is_the_public_api() -> None:
    client = TengrAI("k")
    assert client.base_url == yarl.URL("https://api.tengr.ai")


def test_base_url_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENGRAI_BASE_URL", "https://eu.tengr.example")
    assert TengrAI("k").base_url == yarl.URL("https://eu.tengr.example")


def test_explicit_base_url_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENGRAI_BASE_URL", "https://eu.tengr.example")
    assert TengrAI("k", base_url="https://us.tengr.example").base_url.host == "us.tengr.example"


async def test_api_key_and_base_url_fall_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with FakeTengrAI(count=3, api_key=SECRET) as server:
        monkeypatch.setenv("TENGRAI_API_KEY", SECRET)
        monkeypatch.setenv("TENGRAI_BASE_URL", str(server.url))
        async with TengrAI() as client:
            page = await client.artworks.list()
    assert [str(artwork.id) for artwork in page] == server.ids()
    assert listing_requests(server)[0].headers["Authorization"] == f"Bearer {SECRET}"


async def test_explicit_api_key_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENGRAI_API_KEY", "from-env")
    async with FakeTengrAI(count=1) as server, make_client(server.url) as client:
        await client.artworks.list()
    assert listing_requests(server)[0].headers["Authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize("url", ["http://api.tengr.ai", "http://192.168.1.10:8080"])
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="plain http"):
        TengrAI("k", base_url=url)


def test_plain_http_to_a_remote_host_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TENGRAI_BASE_URL", "http://api.tengr.ai")
    with pytest.raises(ConfigurationError, match="plain http"):
        TengrAI("k")


def test_configuration_error_does_not_show_the_key() -> None:
    with pytest.raises(ConfigurationError) as info:
        TengrAI(SECRET, base_url="http://api.tengr.ai")
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


def test_a_blank_api_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENGRAI_API_KEY", " \n")
    with pytest.raises(ConfigurationError, match="blank"):
        TengrAI()


def test_a_base_url_with_credentials_is_refused_and_never_shown() -> None:
    with pytest.raises(ConfigurationError, match="credentials") as info:
        TengrAI("k", base_url=f"https://user:{SECRET}@api.tengr.ai")
    assert SECRET not in str(info.value)


def test_the_new_arguments_have_their_documented_defaults() -> None:
    transport = TengrAI("k")._transport
    assert transport.max_response_bytes == 64 * 1024 * 1024
    assert transport.trust_env is True


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan")])
def test_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(InvalidArgumentError, match="timeout"):
        TengrAI("k", timeout=timeout)


@pytest.mark.parametrize("max_retries", [-1, 1.5, True, "3"])
def test_max_retries_must_be_a_non_negative_integer(max_retries: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="max_retries"):
        TengrAI("k", max_retries=max_retries)


async def test_repr_shows_state_and_base_url_but_never_the_key() -> None:
    client = TengrAI(SECRET, base_url="https://api.tengr.ai")
    assert SECRET not in repr(client)
    assert SECRET not in repr(client._transport)
    assert "api.tengr.ai" in repr(client)
    await client.close()
    assert "closed" in repr(client)
    assert client.closed


# -- what goes on the wire -----------------------------------------------------------------


async def test_requests_carry_bearer_key_and_a_user_agent_naming_sdk_aiohttp_and_python() -> None:
    async with FakeTengrAI(count=1) as server, make_client(server.url) as client:
        await client.artworks.list()
    headers = listing_requests(server)[0].headers
    assert headers["Authorization"] == "Bearer test-key"
    assert headers["Accept"] == "application/json"
    agent = headers["User-Agent"]
    assert f"tengrai-async/{__version__}" in agent
    assert f"aiohttp/{aiohttp.__version__}" in agent
    assert platform.python_version() in agent


# -- artworks.list() -----------------------------------------------------------------------


async def test_list_defaults_to_offset_0_limit_10() -> None:
    async with FakeTengrAI(count=25) as server, make_client(server.url) as client:
        page = await client.artworks.list()
    assert [str(artwork.id) for artwork in page] == server.ids()[:10]
    assert windows_requested(server) == [(0, 10)]
    assert (page.offset, page.limit, page.count, page.has_more) == (0, 10, 10, True)


async def test_list_returns_the_requested_window() -> None:
    async with FakeTengrAI(count=25) as server, make_client(server.url) as client:
        page = await client.artworks.list(offset=20, limit=500)
    assert [str(artwork.id) for artwork in page] == server.ids()[20:]
    assert windows_requested(server) == [(20, 500)]
    assert (page.count, page.has_more, page.next_offset) == (5, False, 25)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"offset": -1},
        {"limit": 0},
        {"limit": 501},
        {"limit": 2.5},
        {"offset": "0"},
        {"on_invalid": "ignore"},
    ],
)
async def test_list_rejects_bad_arguments_before_any_request(kwargs: dict[str, Any]) -> None:
    async with FakeTengrAI(count=5) as server, make_client(server.url) as client:
        with pytest.raises(ValueError):  # noqa: PT011 - each message is pinned in test_sansio
            await client.artworks.list(**kwargs)
        await asyncio.sleep(0.01)
    assert server.requests == []


async def test_list_maps_a_wrong_key_to_authentication_error_with_its_details() -> None:
    async with FakeTengrAI(count=5) as server, make_client(server.url, api_key="wrong") as client:
        with pytest.raises(AuthenticationError) as info:
            await client.artworks.list()
    error = info.value
    assert error.status == 401
    assert error.body == {
        "message": "missing or invalid API key",
        "statusCode": 401,
        "error": "Unauthorized",
    }
    assert error.message == "missing or invalid API key"
    assert str(error).startswith("HTTP 401 Unauthorized: missing or invalid API key")
    assert error.headers["WWW-Authenticate"] == "Bearer"
    lowered = {name.lower(): value for name, value in error.headers.items()}
    assert error.request_id is not None
    assert error.request_id == lowered["x-request-id"]
    assert len(server.requests) == 1  # a 401 is not retried


async def test_error_headers_are_looked_up_case_insensitively() -> None:
    async with FakeTengrAI(count=5) as server, make_client(server.url, api_key="wrong") as client:
        with pytest.raises(AuthenticationError) as info:
            await client.artworks.list()
    assert info.value.headers["x-request-id"] == info.value.request_id
    assert info.value.headers["X-Request-Id"] == info.value.request_id


async def test_list_maps_a_wrong_base_path_to_not_found() -> None:
    async with FakeTengrAI(count=5) as server, make_client(server.url / "nowhere") as client:
        with pytest.raises(NotFoundError) as info:
            await client.artworks.list()
    assert info.value.status == 404
    assert server.requests[0].path == "/nowhere/v2/artworks"


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, BadRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (418, APIError),
    ],
)
async def test_list_maps_each_error_status_to_its_error_class(
    status: int, error_class: type[APIError]
) -> None:
    reply = Reply(status, b'{"error": "scripted"}', {"X-Request-Id": "rid-1"})
    async with (
        ScriptedServer([reply] * 5) as server,
        make_client(server.url, max_retries=0) as client,
    ):
        with pytest.raises(error_class) as info:
            await client.artworks.list(offset=3, limit=4)
    assert type(info.value) is error_class
    assert (info.value.status, info.value.body) == (status, {"error": "scripted"})
    assert info.value.request_id == "rid-1"
    assert len(server.hits) == 1


async def test_list_raises_on_an_invalid_item_and_skips_it_on_request() -> None:
    artworks = make_artworks(4)
    artworks[2]["createdAt"] = "yesterday"
    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        with pytest.raises(ResponseValidationError) as info:
            await client.artworks.list(offset=0, limit=4)
        page = await client.artworks.list(offset=0, limit=4, on_invalid="skip")
    assert info.value.offset == 2
    assert [str(a.id) for a in page] == [artworks[i]["id"] for i in (0, 1, 3)]
    assert [error.offset for error in page.invalid] == [2]
    assert len(server.requests) == 2  # a well-formed but invalid body is not retried


# -- lifecycle -----------------------------------------------------------------------------


async def test_using_a_closed_client_is_a_client_state_error() -> None:
    async with FakeTengrAI(count=5) as server:
        client = make_client(server.url)
        async with client:
            await client.artworks.list()
        with pytest.raises(ClientStateError, match="closed"):
            await client.artworks.list()
        with pytest.raises(ClientStateError):
            async for _ in client.artworks.iterate(page_size=5):
                pass
        with pytest.raises(ClientStateError):
            await client.__aenter__()
    assert len(server.requests) == 1


async def test_client_without_context_manager_opens_on_first_use_and_closes() -> None:
    async with FakeTengrAI(count=5) as server:
        client = make_client(server.url)
        page = await client.artworks.list(limit=5)
        session = session_of(client)
        assert session is not None
        assert not is_closed(session)
        await client.close()
        await client.close()  # idempotent
    assert is_closed(session)
    assert len(page) == 5


async def test_shared_client_serves_many_concurrent_tasks() -> None:
    async with FakeTengrAI(count=500, latency=0.01) as server, make_client(server.url) as client:
        pages = await asyncio.gather(
            *(client.artworks.list(offset=10 * n, limit=10) for n in range(50))
        )
        session = session_of(client)
    ids = server.ids()
    for n, page in enumerate(pages):
        assert [str(artwork.id) for artwork in page] == ids[10 * n : 10 * n + 10]
    assert sorted(windows_requested(server)) == [(10 * n, 10) for n in range(50)]
    assert session is not None
    assert is_closed(session)


# -- security ------------------------------------------------------------------------------


async def test_the_key_never_appears_in_debug_logs_errors_or_reprs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    async with FakeTengrAI(count=30, api_key=SECRET, fault_rate=0.5, fault_seed=3) as server:
        async with make_client(server.url, api_key=SECRET, max_retries=10) as client:
            async with client.artworks.iterate(page_size=10, prefetch=2) as iterator:
                assert len([a async for a in iterator]) == 30
            shown += [repr(client), repr(client._transport), repr(iterator)]
        async with make_client(server.url, api_key=SECRET + "x") as client:
            with pytest.raises(AuthenticationError) as auth:
                await client.artworks.list()
        async with make_client(
            f"http://127.0.0.1:{free_port()}", api_key=SECRET, max_retries=0
        ) as client:
            with pytest.raises(APIConnectionError) as refused:
                await client.artworks.list()
    for error in (auth.value, refused.value):
        shown += [str(error), repr(error), str(error.__cause__), repr(error.__cause__)]
    shown.append(str(auth.value.headers))
    assert caplog.records, "the transport logs every request at DEBUG"
    assert SECRET not in caplog.text
    for record in caplog.records:
        assert SECRET not in record.getMessage()
    for text in shown:
        assert SECRET not in text


@pytest.mark.parametrize("target_host", ["localhost", "127.0.0.1"])
async def test_a_redirect_to_another_origin_does_not_carry_the_key(target_host: str) -> None:
    # Another host name, or the same host on another port: both are another origin.
    async with FakeTengrAI(count=5) as target:
        redirect_to = f"http://{target_host}:{target.url.port}"
        async with (
            FakeTengrAI(redirect_to=redirect_to) as origin,
            make_client(origin.url, max_retries=0) as client,
        ):
            with pytest.raises(AuthenticationError):
                await client.artworks.list(offset=1, limit=2)
    assert origin.requests[0].headers["Authorization"] == "Bearer test-key"
    assert origin.requests[0].status == 307
    [followed] = target.requests
    assert followed.query == {"offset": "1", "limit": "2"}
    assert "Authorization" not in followed.headers
    assert followed.status == 401
