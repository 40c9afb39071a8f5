"""Proxies from the environment: ``HTTP_PROXY`` is followed, ``NO_PROXY`` and ``trust_env=False``
go direct, and a loopback API never goes through a proxy on another machine.

The proxy is a real one on loopback: it reads absolute-form requests (``GET http://host:port/``),
records them and forwards each to its target.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yarl
from _client_helpers import listing_requests, make_client, session_of

from tengrai_async import ConfigurationError, TengrAI
from tengrai_async.testing import FakeTengrAI

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "REQUEST_METHOD")


class LoopbackProxy:
    """A forwarding HTTP proxy on 127.0.0.1 that records the requests it was asked for."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._server: asyncio.Server | None = None
        self.url = yarl.URL()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            _, target, _ = request_line.split(" ")
            headers = dict(line.split(": ", 1) for line in lines if ": " in line)
            self.requests.append((target, headers))
            url = yarl.URL(target)
            assert url.host is not None
            assert url.port is not None
            up_reader, up_writer = await asyncio.open_connection(url.host, url.port)
            forwarded = {
                name: value
                for name, value in headers.items()
                if name.lower() not in ("proxy-authorization", "connection")
            }
            forwarded["Connection"] = "close"
            up_writer.write(
                f"GET {url.raw_path_qs} HTTP/1.1\r\n".encode()
                + "".join(f"{name}: {value}\r\n" for name, value in forwarded.items()).encode()
                + b"\r\n"
            )
            writer.write(await up_reader.read())  # the whole answer: upstream closes after it
            await writer.drain()
            up_writer.close()
        writer.close()

    async def __aenter__(self) -> LoopbackProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = yarl.URL.build(scheme="http", host="127.0.0.1", port=port)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture(autouse=True)
def _no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever proxies the machine running the tests has, these tests set their own.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


async def test_the_api_is_reached_through_http_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeTengrAI(count=3) as server, LoopbackProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", str(proxy.url))
        async with make_client(server.url) as client:
            page = await client.artworks.list()
        expected = server.url.with_path("/v2/artworks").with_query(offset=0, limit=10)
    assert [str(artwork.id) for artwork in page] == server.ids()
    [(target, headers)] = proxy.requests
    assert target == str(expected)
    assert headers["Authorization"] == "Bearer test-key"
    assert len(listing_requests(server)) == 1  # and the proxy passed it on


async def test_credentials_in_the_proxy_url_go_to_the_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with FakeTengrAI(count=3) as server, LoopbackProxy() as proxy:
        monkeypatch.setenv("http_proxy", str(proxy.url.with_user("me").with_password("pw")))
        async with make_client(server.url) as client:
            await client.artworks.list()
    [(_, headers)] = proxy.requests
    assert headers["Proxy-Authorization"] == "Basic " + base64.b64encode(b"me:pw").decode()
    assert "Proxy-Authorization" not in listing_requests(server)[0].headers


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.1", "*"])
async def test_no_proxy_bypasses_the_proxy(monkeypatch: pytest.MonkeyPatch, no_proxy: str) -> None:
    async with FakeTengrAI(count=3) as server, LoopbackProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", str(proxy.url))
        monkeypatch.setenv("NO_PROXY", no_proxy)
        async with make_client(server.url) as client:
            await client.artworks.list()
    assert proxy.requests == []
    assert len(listing_requests(server)) == 1


async def test_trust_env_false_bypasses_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeTengrAI(count=3) as server, LoopbackProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", str(proxy.url))
        async with make_client(server.url, trust_env=False) as client:
            await client.artworks.list()
            assert client._transport.proxy_for(server.url) is None
    assert proxy.requests == []
    assert len(listing_requests(server)) == 1


async def test_a_loopback_api_never_goes_through_a_proxy_on_another_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 192.0.2.0/24 is TEST-NET-1: nothing answers there. The key would cross the network in
    # clear, to a proxy that cannot reach this machine's loopback anyway.
    monkeypatch.setenv("HTTP_PROXY", "http://192.0.2.1:3128")
    async with FakeTengrAI(count=3) as server, make_client(server.url, timeout=5.0) as client:
        await client.artworks.list()
        assert client._transport.proxy_for(server.url) is None
        remote = yarl.URL("http://images.example/a.png")
        assert client._transport.proxy_for(remote) == yarl.URL("http://192.0.2.1:3128")
    assert len(listing_requests(server)) == 1


async def test_the_proxy_is_read_when_the_session_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeTengrAI(count=3) as server, LoopbackProxy() as proxy:
        client = make_client(server.url)  # built before the variable is set
        monkeypatch.setenv("HTTP_PROXY", str(proxy.url))
        async with client:
            await client.artworks.list()
    assert len(proxy.requests) == 1


async def test_a_borrowed_session_keeps_its_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeTengrAI(count=3) as server, LoopbackProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", str(proxy.url))
        async with (
            aiohttp.ClientSession() as session,  # trust_env=False, aiohttp's default
            make_client(server.url, session=session) as client,
        ):
            await client.artworks.list()
            assert session_of(client) is session
    assert proxy.requests == []


def test_trust_env_defaults_to_true_and_must_be_a_bool() -> None:
    assert TengrAI("k")._transport.trust_env is True
    assert TengrAI("k", trust_env=False)._transport.trust_env is False
    bad: Any
    for bad in (0, 1, "yes", None):
        with pytest.raises(ValueError, match="trust_env"):
            TengrAI("k", trust_env=bad)


async def test_netrc_is_not_read_by_the_own_session(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # aiohttp's trust_env would add these credentials, and then refuse to send them along
    # with the key: every request would fail.
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login me password pw\n", encoding="utf-8")
    monkeypatch.setenv("NETRC", str(netrc))
    async with FakeTengrAI(count=3) as server:
        async with make_client(server.url) as client:
            assert len(await client.artworks.list()) == 3
        assert listing_requests(server)[0].headers["Authorization"] == "Bearer test-key"
        async with (
            aiohttp.ClientSession(trust_env=True) as session,
            make_client(server.url, session=session, max_retries=3) as client,
        ):
            with pytest.raises(ConfigurationError, match="aiohttp refused to send") as info:
                await client.artworks.list()
    assert info.value.__context__ is None
    assert len(listing_requests(server)) == 1  # refused before sending, and not retried
