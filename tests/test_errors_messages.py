"""What ``str()`` of an error reads like, over real loopback connections.

One sentence: for a connection error what happened (never aiohttp's made-up ``400``), for an
API error the status, its reason and the server's message; after retries, how many attempts.
"""

from __future__ import annotations

import asyncio
import functools
import pickle
import re
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Final

import pytest
import yarl
from _client_helpers import Reply, ScriptedServer, free_port, listing_failure, make_client

from tengrai_async import (
    APIConnectionError,
    APITimeoutError,
    NotFoundError,
    ServerError,
    TengrAIError,
    TransportError,
)
from tengrai_async.testing import FakeTengrAI

SECRET: Final = "sk-live-messages-secret-0123456789abcdef"  # noqa: S105 - a fake key to hunt
#: The error one listing raises, with this file's key to hunt for.
failure = functools.partial(listing_failure, api_key=SECRET)
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handle: Handler) -> AsyncIterator[yarl.URL]:
    """A loopback TCP server that runs *handle* on each connection, then closes it."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            await handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield yarl.URL.build(scheme="http", host="127.0.0.1", port=port)
    finally:
        server.close()
        await server.wait_closed()


def writes(data: bytes) -> Handler:
    async def handle(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    return handle


async def reset(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()  # an RST, not a FIN


def assert_reads_well(error: TengrAIError) -> None:
    """One line, no aiohttp-made status, no Python repr of an exception, no key."""
    text = str(error)
    assert "\n" not in text
    # A 400 as a status of its own (aiohttp's made-up one), not inside a port such as 40093.
    assert re.search(r"(?<![:\d])400(?!\d)", text) is None, text
    assert "message=" not in text
    assert "<" not in text
    assert SECRET not in text


# (what the server does, the sentence expected after "failed: ")
CONNECTION_FAILURES: dict[str, tuple[Handler, str]] = {
    "body cut short": (
        writes(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[1, 2"),
        (
            r"the connection broke off in the middle of the body \(ClientPayloadError: Not enough "
            r"data to satisfy content length header \(received 5 of 100 bytes\)\.\)"
        ),
    ),
    "closed without an answer": (
        writes(b""),
        (
            r"the server closed the connection before a complete answer "
            r"\(ServerDisconnectedError: Server disconnected\)"
        ),
    ),
    "reset": (reset, r"the connection was reset \(ClientOSError: Connection reset by peer\)"),
    "not HTTP": (
        writes(b"garbage\r\n\r\n"),
        r"the answer is not valid HTTP \(ClientResponseError: Bad status line: .*\)",
    ),
    "gzip that is not gzip": (
        writes(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd"),
        (
            r"the body could not be decompressed \(ClientPayloadError: Can not decode "
            r"content-encoding: gzip\)"
        ),
    ),
}


@pytest.mark.parametrize("case", list(CONNECTION_FAILURES))
async def test_a_connection_failure_says_what_happened_in_one_sentence(case: str) -> None:
    handle, sentence = CONNECTION_FAILURES[case]
    async with raw_server(handle) as url:
        error = await failure(url)
    assert type(error) is APIConnectionError
    listing = url / "v2/artworks" % {"offset": 0, "limit": 10}
    pattern = rf"GET {re.escape(str(listing))} failed: {sentence} \(after 2 attempts\)"
    assert re.fullmatch(pattern, str(error)), str(error)
    assert error.attempts == 2
    assert_reads_well(error)


async def test_connection_refused_names_the_host_and_the_reason() -> None:
    port = free_port()
    error = await failure(f"http://127.0.0.1:{port}", max_retries=0)
    assert type(error) is APIConnectionError
    assert str(error) == (
        f"GET http://127.0.0.1:{port}/v2/artworks?offset=0&limit=10 failed: could not connect "
        f"to 127.0.0.1:{port} (ClientConnectorError: Connection refused)"
    )
    assert error.attempts == 1
    assert_reads_well(error)


async def test_a_timeout_is_a_connection_error_that_says_how_long_and_how_often() -> None:
    async with FakeTengrAI(count=3, latency=0.3) as server:
        with pytest.raises(APIConnectionError) as info:  # an APITimeoutError is one
            async with make_client(server.url, timeout=0.05, max_retries=2) as client:
                await client.artworks.list()
    error = info.value
    assert type(error) is APITimeoutError
    assert isinstance(error, TransportError)
    assert str(error).endswith("failed: no complete answer within 0.05 s (after 3 attempts)")
    assert error.attempts == 3


async def test_an_api_error_after_retries_says_how_many_attempts() -> None:
    replies = [Reply(503, b'{"message": "overloaded", "statusCode": 503}')] * 3
    async with ScriptedServer(replies) as server, make_client(server.url, max_retries=2) as c:
        with pytest.raises(ServerError) as info:
            await c.artworks.list()
    error = info.value
    assert str(error) == "HTTP 503 Service Unavailable: overloaded (after 3 attempts)"
    assert error.attempts == 3
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (str(copy), copy.attempts) == (str(error), 3)


async def test_an_error_that_is_not_retried_says_nothing_of_attempts() -> None:
    body = b'{"message": "artwork not found", "statusCode": 404}'
    async with ScriptedServer([Reply(404, body)]) as server, make_client(server.url) as client:
        with pytest.raises(NotFoundError) as info:
            await client.artworks.get("0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60")
    assert str(info.value) == "HTTP 404 Not Found: artwork not found"
    assert info.value.attempts == 1


async def test_a_dropped_body_of_the_fake_server_reads_as_a_dropped_connection() -> None:
    async with FakeTengrAI(count=20) as server, make_client(server.url, max_retries=0) as client:
        server.queue_faults("drop")
        with pytest.raises(APIConnectionError) as info:
            await client.artworks.list()
    assert "the connection broke off in the middle of the body" in str(info.value)
    assert_reads_well(info.value)
