"""Hostile servers: the key stays out of every exception, any header value is survived, and a
body is read no further than ``max_response_bytes``.

Every server here is a raw asyncio socket server that writes exactly the bytes a test scripts,
broken ones included; nothing mocks aiohttp.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import gzip
import logging
import socket
import struct
import time
import tracemalloc
import types
import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, Final

import orjson
import pytest
import yarl
from _client_helpers import free_port, listing_failure, make_client

from tengrai_async import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    MalformedResponseError,
    RateLimitError,
    ResponseTooLargeError,
    RetryPolicy,
    ServerError,
    TengrAI,
    TengrAIError,
)
from tengrai_async.testing import make_artworks

SECRET: Final = "sk-live-9f8e7d6c5b4a3210fedcba9876543210"  # noqa: S105 - a fake key to hunt
#: The error one listing raises, with this file's key to hunt for.
failure = functools.partial(listing_failure, api_key=SECRET)
Respond = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bytes], Awaitable[bool]]


def header(head: bytes, name: bytes) -> bytes:
    """The value of header *name* in a raw request head (b"" when absent)."""
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return b""


class RawServer:
    """A loopback TCP server whose every answer is the bytes *respond* writes.

    *respond* gets the request head and returns whether to keep the connection for another
    request. ``speak_first`` bytes are written as soon as a client connects, before it says
    anything (for a TLS client that expects a handshake).
    """

    def __init__(self, respond: Respond | None = None, *, speak_first: bytes = b"") -> None:
        self._respond = respond
        self._speak_first = speak_first
        self.heads: list[bytes] = []
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self.url = yarl.URL()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            if self._speak_first:
                writer.write(self._speak_first)
                await writer.drain()
            while self._respond is not None:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                if not await self._respond(reader, writer, head):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client hung up, or the test is over
        finally:
            self._handlers.discard(task)
            writer.close()

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = yarl.URL.build(scheme="http", host="127.0.0.1", port=port)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.wait(list(self._handlers))
        await self._server.wait_closed()


def send(make: Callable[[bytes], bytes], *, keep: bool = False) -> Respond:
    """A responder writing ``make(authorization header)``, then closing unless *keep*."""

    async def respond(
        _reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> bool:
        writer.write(make(header(head, b"authorization")))
        await writer.drain()
        return keep

    return respond


def http(status: str, headers: Mapping[str, str | bytes] | None = None, body: bytes = b"") -> bytes:
    """A whole HTTP/1.1 answer: status line, headers (raw bytes allowed), Content-Length."""
    lines = [f"HTTP/1.1 {status}".encode()]
    for name, value in (headers or {}).items():
        raw = value if isinstance(value, bytes) else value.encode()
        lines.append(name.encode() + b": " + raw)
    lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def reset(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _head: bytes) -> bool:
    """Answer with a TCP reset (SO_LINGER 0, then close)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
    return False


async def hang(_reader: asyncio.StreamReader, _writer: asyncio.StreamWriter, _head: bytes) -> bool:
    """Never answer."""
    await asyncio.sleep(3600)
    return False


# -- walking an exception's object graph ----------------------------------------------------

# Not walked: code and the machinery around it. Tracebacks are left out on purpose: their
# frames hold the transport itself (whose headers carry the key), as any caller's frames do.
_OPAQUE = (
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.FrameType,
    types.TracebackType,
    types.CodeType,
    type,
    asyncio.AbstractEventLoop,
)
_LEAVES = (str, bytes, bytearray, int, float, complex, bool, type(None))


def _children(obj: object) -> Iterator[object]:
    if isinstance(obj, BaseException):
        yield obj.args
        yield obj.__cause__
        yield obj.__context__
    if isinstance(obj, Mapping):
        for key, value in list(obj.items()):
            yield key
            yield value
    elif isinstance(obj, list | tuple | set | frozenset | collections.deque):
        yield from obj
    attributes = getattr(obj, "__dict__", None)
    if isinstance(attributes, dict):
        yield from attributes.values()
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            with contextlib.suppress(AttributeError):
                yield getattr(obj, name)


def reachable(root: object, limit: int = 20_000) -> list[object]:
    """Everything reachable from *root* through args, causes, contexts, containers and
    attributes (breadth first, each object once)."""
    seen: set[int] = set()
    found: list[object] = []
    queue: collections.deque[object] = collections.deque([root])
    while queue and len(found) < limit:
        obj = queue.popleft()
        if id(obj) in seen or isinstance(obj, _OPAQUE):
            continue
        seen.add(id(obj))
        found.append(obj)
        if not isinstance(obj, _LEAVES):
            queue.extend(_children(obj))
    return found


def texts_of(obj: object) -> list[str]:
    texts = []
    for show in (str, repr):
        try:
            texts.append(show(obj))
        except Exception:  # noqa: BLE001, S112 - some objects cannot show themselves
            continue
    if isinstance(obj, bytes | bytearray):
        texts.append(bytes(obj).decode("latin-1"))
    return texts


def assert_keyless(error: object, secret: str = SECRET) -> None:
    leaks = [
        f"{type(obj).__name__}: {text[:200]!r}"
        for obj in reachable(error)
        for text in texts_of(obj)
        if secret in text or secret[:12] in text or secret[-12:] in text
    ]
    assert leaks == [], "the key is reachable from the exception"


# -- the key never leaks ---------------------------------------------------------------------

REDIRECT_LOOP = http("307 Temporary Redirect", {"Location": "/v2/artworks?offset=0&limit=10"})
ECHOING_ERROR = http(
    "401 Unauthorized",
    {"X-Echo": "Bearer " + SECRET, "X-Request-Id": SECRET, "Content-Type": "application/json"},
    orjson.dumps({"message": f"bad key Bearer {SECRET}", "statusCode": 401}),
)

FAILURES: Final[dict[str, tuple[Respond, type[TengrAIError]]]] = {
    # aiohttp's TooManyRedirects holds the request (headers and all) of every hop.
    "redirect loop": (send(lambda _: REDIRECT_LOOP, keep=True), APIConnectionError),
    # aiohttp quotes the offending bytes of a broken answer in its messages.
    "status line echoing the key": (
        send(lambda auth: b"HTTP/1.1 2x0 " + auth + b"\r\n\r\n"),
        APIConnectionError,
    ),
    "header line echoing the key": (
        send(lambda auth: b"HTTP/1.1 200 OK\r\n" + auth + b"\r\n\r\n"),
        APIConnectionError,
    ),
    "header with a NUL echoing the key": (
        send(lambda auth: b"HTTP/1.1 200 OK\r\nX: " + auth + b"\x00\r\n\r\n"),
        APIConnectionError,
    ),
    "header over 8 KiB echoing the key": (
        send(lambda auth: b"HTTP/1.1 200 OK\r\nX: " + auth * 400 + b"\r\n\r\n"),
        APIConnectionError,
    ),
    "not HTTP at all": (send(lambda _: b"garbage\r\n\r\n"), APIConnectionError),
    "Content-Length garbage": (
        send(lambda _: b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"),
        APIConnectionError,
    ),
    "Content-Length overflow": (
        send(lambda _: b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
        APIConnectionError,
    ),
    "bad chunk size": (
        send(lambda _: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        APIConnectionError,
    ),
    "body cut short": (
        send(lambda _: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[1, 2"),
        APIConnectionError,
    ),
    "gzip that is not gzip": (
        send(lambda _: http("200 OK", {"Content-Encoding": "gzip"}, b"0123456789")),
        APIConnectionError,
    ),
    "connection reset": (reset, APIConnectionError),
    "closed without an answer": (send(lambda _: b""), APIConnectionError),
    "no answer in time": (hang, APITimeoutError),
    "error echoing the key in body, headers and request id": (
        send(lambda _: ECHOING_ERROR),
        AuthenticationError,
    ),
    "2xx non-JSON body echoing the key": (
        send(lambda auth: http("200 OK", {}, b"<html>your headers: " + auth + b"</html>")),
        MalformedResponseError,
    ),
}


@pytest.mark.parametrize("case", list(FAILURES))
async def test_the_key_is_reachable_from_no_exception(
    case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    respond, expected = FAILURES[case]
    async with RawServer(respond) as server:
        error = await failure(server.url, timeout=0.3)
    assert type(error) is expected
    assert_keyless(error)
    # Nor from the log records, the SDK's retry warnings (which show the error) included.
    for record in caplog.records:
        assert_keyless(record.getMessage())
        for value in vars(record).values():
            assert SECRET not in repr(value)
    # Nothing of aiohttp is chained: it carries the request, and with it the key.
    assert error.__cause__ is None
    assert error.__context__ is None
    assert server.heads, "the request reached the server"
    assert SECRET.encode() in server.heads[0], "the server was sent the key, and echoed it"


async def test_a_redirect_loop_is_described_without_its_requests() -> None:
    async with RawServer(send(lambda _: REDIRECT_LOOP, keep=True)) as server:
        error = await failure(server.url, max_retries=0)
    assert "TooManyRedirects" in str(error)
    assert len(server.heads) == 10  # aiohttp's limit of hops


async def test_an_echoed_key_is_masked_in_the_error_the_server_caused() -> None:
    async with RawServer(send(lambda _: ECHOING_ERROR)) as server:
        error = await failure(server.url, max_retries=0)
    assert isinstance(error, AuthenticationError)
    assert error.message == "bad key Bearer ***"
    assert error.headers["X-Echo"] == "Bearer ***"
    assert error.request_id == "***"


async def test_a_status_line_echoing_the_key_is_still_described() -> None:
    async with RawServer(send(lambda auth: b"HTTP/1.1 2x0 " + auth + b"\r\n\r\n")) as server:
        error = await failure(server.url, max_retries=0)
    assert "Bad status line" in str(error)
    assert "Bearer ***" in str(error)


async def test_a_tls_handshake_with_a_plain_http_server_leaks_nothing() -> None:
    plain = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    async with RawServer(speak_first=plain) as server:
        error = await failure(server.url.with_scheme("https"), timeout=2.0)
    assert isinstance(error, APIConnectionError)
    assert_keyless(error)
    assert error.__cause__ is None
    assert error.__context__ is None


async def test_connection_refused_leaks_nothing() -> None:
    error = await failure(f"http://127.0.0.1:{free_port()}")
    assert isinstance(error, APIConnectionError)
    assert_keyless(error)
    assert error.__context__ is None


async def test_retried_failures_chain_nothing_from_earlier_attempts() -> None:
    replies = iter([http("503 Service Unavailable", {"X-Echo": SECRET}), b""])
    async with RawServer(send(lambda _: next(replies, b""))) as server:
        error = await failure(server.url, max_retries=1)
    assert isinstance(error, APIConnectionError)  # the second attempt's failure
    assert error.__context__ is None
    assert_keyless(error)
    assert len(server.heads) >= 2  # aiohttp may retry a dropped keep-alive connection itself


def test_a_key_that_would_split_its_header_is_refused_without_showing_it() -> None:
    for key in (SECRET + "\r\nX-Evil: 1", SECRET + "\x00", f"{SECRET[:9]}\n{SECRET[9:]}"):
        with pytest.raises(TengrAIError) as info:
            TengrAI(key, base_url="https://api.tengr.ai")
        assert "control character" in str(info.value)
        assert_keyless(info.value)


async def test_a_key_with_a_trailing_newline_is_sent_without_it() -> None:
    async with (
        RawServer(send(lambda _: http("200 OK", {}, b"[]"))) as server,
        make_client(server.url, api_key=f" {SECRET}\r\n") as client,
    ):
        await client.artworks.list()
    assert header(server.heads[0], b"authorization") == f"Bearer {SECRET}".encode()


# -- any header value ------------------------------------------------------------------------

ABSURD_RETRY_AFTER: Final = [
    b"1e400",
    b"99999999999999999999999",
    b"9" * 5000,
    b"-5",
    b"NaN",
    b"inf",
    b"",
    b"\xff\xfe caf\xc3\xa9",
    "\u0663\u0660".encode(),  # Arabic-Indic digits
    b"Mon, 01 Jan 2024 99999999999999999999:00:00 GMT",
    b"Mon, 01 Jan 2024 00:00:00 +99999999999999999999",
    b"Fri, 31 Dec 9999 23:59:59 GMT",
    b"Mon, 01 Jan 0001 00:00:00 -2359",
    b"Mon, 01 Jan 0001 00:00:00 -0000",
    b"Thu, 01 Jan 1970 00:00:00 GMT",
    b"garbage; <script>",
]


@pytest.mark.parametrize("value", ABSURD_RETRY_AFTER)
async def test_any_retry_after_of_a_429_is_parsed_or_ignored_and_capped(value: bytes) -> None:
    retry = RetryPolicy(wait_initial=0.001, wait_max=0.01, wait_jitter=0.0, retry_after_max=0.05)
    body = orjson.dumps(make_artworks(1))
    limited = http("429 Too Many Requests", {"Retry-After": value})
    answers = iter([limited, http("200 OK", {}, body)])
    async with RawServer(send(lambda _: next(answers), keep=True)) as server:
        started = time.monotonic()
        async with make_client(server.url, retry=retry, max_retries=1) as client:
            page = await client.artworks.list(limit=1)
    assert len(page) == 1
    assert time.monotonic() - started < 2.0  # the wait was capped at 0.05 s
    assert len(server.heads) == 2


@pytest.mark.parametrize("value", ABSURD_RETRY_AFTER)
async def test_any_retry_after_surfaces_as_none_or_a_bounded_wait(value: bytes) -> None:
    answer = http("429 Too Many Requests", {"Retry-After": value})
    async with RawServer(send(lambda _: answer, keep=True)) as server:
        error = await failure(server.url, max_retries=0)
    assert isinstance(error, RateLimitError)
    assert error.retry_after is None or 0.0 <= error.retry_after <= 2**31


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"", None),
        (b"   ", None),
        (b"\xff\xfe\x01", "\ufffd\ufffd\ufffd"),
        (b"caf\xc3\xa9-42", "caf\u00e9-42"),
        (b"x" * 5000, "x" * 200),
    ],
)
async def test_any_request_id_ends_up_printable_and_bounded(
    value: bytes, expected: str | None
) -> None:
    answer = http("500 Internal Server Error", {"X-Request-Id": value, "Retry-After": value})
    async with RawServer(send(lambda _: answer, keep=True)) as server:
        error = await failure(server.url, max_retries=1)
    assert isinstance(error, ServerError)
    assert error.request_id == expected
    str(error).encode("utf-8")  # printable on any UTF-8 stream: no lone surrogates
    assert len(str(error)) < 300


# -- bounded bodies --------------------------------------------------------------------------

MIB: Final = 1024 * 1024


def gzip_of_zeros(size: int) -> bytes:
    """A gzip member inflating to *size* zero bytes (about a thousandth of that on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MIB)
    parts = [packer.compress(block) for _ in range(size // MIB)]
    return b"".join([*parts, packer.flush()])


async def test_a_gzip_bomb_stops_at_the_cap_with_bounded_memory() -> None:
    bomb = gzip_of_zeros(50 * MIB)
    assert len(bomb) < MIB // 10
    answer = http("200 OK", {"Content-Encoding": "gzip", "Content-Type": "application/json"}, bomb)
    async with RawServer(send(lambda _: answer, keep=True)) as server:
        tracemalloc.start()
        try:
            error = await failure(server.url, max_retries=3, max_response_bytes=MIB)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert isinstance(error, ResponseTooLargeError)
    assert error.limit == MIB
    assert "max_response_bytes" in str(error)
    assert peak < 12 * MIB  # the whole body would be 50 MiB
    assert len(server.heads) == 1  # not retried: the same request brings the same body


async def test_a_huge_content_length_is_refused_before_reading() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n[" + b"0," * 1000

    async def respond(
        _reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _head: bytes
    ) -> bool:
        writer.write(head)
        await writer.drain()
        await asyncio.sleep(3600)  # the rest never comes
        return False

    async with RawServer(respond) as server:
        started = time.monotonic()
        error = await failure(server.url, max_retries=3, timeout=5.0)
    assert isinstance(error, ResponseTooLargeError)
    assert "1000000000000 bytes" in str(error)
    assert time.monotonic() - started < 1.0  # no waiting for a body that never comes
    assert len(server.heads) == 1


async def test_an_error_body_is_capped_too() -> None:
    answer = http("503 Service Unavailable", {}, b"x" * (MIB + 1))
    async with RawServer(send(lambda _: answer, keep=True)) as server:
        error = await failure(server.url, max_retries=2, max_response_bytes=MIB)
    assert isinstance(error, ResponseTooLargeError)
    assert len(server.heads) == 1


async def test_a_chunked_body_without_length_is_cut_at_the_cap() -> None:
    chunk = b"x" * 65536
    piece = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = []

    async def respond(
        _reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _head: bytes
    ) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(1000):  # 64 MiB, if the client kept reading
            writer.write(piece)
            await writer.drain()
            sent.append(len(chunk))
        return False

    async with RawServer(respond) as server:
        error = await failure(server.url, max_response_bytes=MIB)
    assert isinstance(error, ResponseTooLargeError)
    assert sum(sent) < 32 * MIB  # the client hung up long before the end


@pytest.mark.parametrize("size", [MIB - 1, MIB])
async def test_a_body_up_to_the_cap_is_read(size: int) -> None:
    item = make_artworks(1)
    body = orjson.dumps(item)
    body = body[:-1] + b" " * (size - len(body)) + b"]"
    assert len(body) == size
    compressed = gzip.compress(body)
    answer = http("200 OK", {"Content-Encoding": "gzip"}, compressed)
    async with (
        RawServer(send(lambda _: answer, keep=True)) as server,
        make_client(server.url, max_response_bytes=MIB) as client,
    ):
        page = await client.artworks.list(limit=1)
    assert [str(artwork.id) for artwork in page] == [item[0]["id"]]


def test_max_response_bytes_defaults_to_64_mib_and_must_be_a_positive_integer() -> None:
    assert TengrAI("k")._transport.max_response_bytes == 64 * MIB
    assert TengrAI("k", max_response_bytes=1)._transport.max_response_bytes == 1
    for bad in (0, -1, 1.5, True, "1024", None):
        with pytest.raises(ValueError, match="max_response_bytes"):
            TengrAI("k", max_response_bytes=bad)  # type: ignore[arg-type]
