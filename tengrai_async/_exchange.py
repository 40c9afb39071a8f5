"""One HTTP exchange of the transport: the request sent, the answer read under its cap.

:func:`exchange` sends one request over the session and reads the body chunk by chunk,
abandoning it past the cap (counted after decompression); what aiohttp raises is held by a
:class:`~tengrai_async._failures.MapFailures` in the :class:`Answer`, for the caller to raise.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import aiohttp
import attrs
import yarl

from ._errors import ResponseTooLargeError
from ._failures import MapFailures
from ._logging import logger

__all__ = ["Answer", "exchange", "read_capped"]


@attrs.define
class Answer:
    """One request's answer as read, or the failure its :class:`MapFailures` holds.

    Attributes:
        failures: What aiohttp raised, mapped (``failures.error`` is ``None`` on an answer).
        status: The status, once it arrived.
        headers: The answer's headers.
        body: The whole body.
    """

    failures: MapFailures
    status: int | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict[str, str])
    body: bytes = b""


async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: yarl.URL,
    *,
    attempt: int,
    headers: Mapping[str, str],
    data: bytes | None,
    timeout: aiohttp.ClientTimeout,
    proxy: yarl.URL | None,
    secret: str,
    cap: int,
) -> Answer:
    """Send one request and read its answer; log it at DEBUG (method, URL, status, time).

    Raises:
        ResponseTooLargeError: The body is over *cap* bytes.
    """
    started = time.perf_counter()
    answer = Answer(
        MapFailures(
            f"{method} {url}",
            timeout_text=f"no complete answer within {timeout.total:g} s",
            secret=secret,
            session=session,
        )
    )
    try:
        with answer.failures:
            async with session.request(
                method, url, data=data, headers=headers, timeout=timeout, proxy=proxy
            ) as resp:
                answer.status = resp.status
                answer.failures.answered = True
                answer.headers = resp.headers
                answer.body = await read_capped(resp, f"{method} {url}", cap)
    finally:
        logger.debug(
            "%s %s -> %s (attempt %d, %.1f ms)",
            method,
            url,
            "error" if answer.status is None else answer.status,
            attempt,
            (time.perf_counter() - started) * 1000,
        )
    return answer


def _encoded(response: aiohttp.ClientResponse) -> bool:
    coding = response.headers.get("Content-Encoding", "").strip().lower()
    return coding not in ("", "identity")


async def read_capped(resp: aiohttp.ClientResponse, label: str, cap: int) -> bytes:
    """The body, read chunk by chunk and given up as soon as it is over *cap* bytes.

    Raises:
        ResponseTooLargeError: The body is over *cap* (declared, or counted after
            decompression).
    """
    declared = resp.content_length
    # An encoded body's length says nothing of its size once decompressed.
    if declared is not None and declared > cap and not _encoded(resp):
        raise ResponseTooLargeError(
            f"{label}: the body of {declared} bytes is over max_response_bytes ({cap})", cap
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_any():  # decompressed, in bounded pieces
        size += len(chunk)
        if size > cap:
            raise ResponseTooLargeError(
                f"{label}: the body is over max_response_bytes ({cap} bytes, counted "
                "after decompression)",
                cap,
            )
        chunks.append(chunk)
    return b"".join(chunks)
