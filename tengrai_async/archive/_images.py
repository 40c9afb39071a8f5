"""Downloading one image into the archive: streamed, hashed, capped, and renamed when whole.

A body is written in chunks to a hidden temporary file beside its final name and renamed only
once complete, so a half-downloaded image never has its final name. Transient failures are
retried with the client's retry policy; 404 and 410 mean the host no longer has the image.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final

import aiohttp
import attrs
import yarl

from .. import _sansio
from .._errors import ClientStateError
from .._logging import logger
from .._transport import Transport
from ._db import ImageOutcome

__all__ = [
    "DEFAULT_MAX_IMAGE_BYTES",
    "PART_SUFFIX",
    "ProxyCache",
    "download_image",
    "image_name",
]

#: The default cap on one image's body: a larger one is recorded as failed.
DEFAULT_MAX_IMAGE_BYTES: Final = 256 * 1024 * 1024
#: The suffix of a download in progress (hidden files, removed at the start of every run).
PART_SUFFIX: Final = ".part"
_CHUNK: Final = 256 * 1024
_GONE: Final = frozenset({404, 410})
_EXTENSIONS: Final = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/avif": "avif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
    "image/svg+xml": "svg",
}


class ProxyCache:
    """The proxy for each origin, looked up in the environment once per run, not per image."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._proxies: dict[tuple[str, str | None, int | None], yarl.URL | None] = {}

    def __call__(self, url: yarl.URL) -> yarl.URL | None:
        """The proxy for a GET of *url* (see :meth:`Transport.proxy_for`)."""
        origin = (url.scheme, url.host, url.port)
        if origin not in self._proxies:
            self._proxies[origin] = self._transport.proxy_for(url)
        return self._proxies[origin]


class _Transient(Exception):  # noqa: N818 - a retry signal, never leaves this module
    """A status worth another try."""


def image_name(artwork_id: str, position: int, content_type: str) -> str:
    """The stable file name of an image: its artwork, its position, the type's extension.

    The id comes from the API, so it never reaches the file system as it is: a UUID is
    written in its canonical form, anything else (an unknown kind's id could hold ``/``,
    ``..`` or a NUL) as the SHA-256 of its text. The extension comes from a fixed list.
    """
    try:
        stem = str(_sansio.check_artwork_id(artwork_id))
    except ValueError:
        stem = "id-" + hashlib.sha256(artwork_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    media = content_type.split(";", 1)[0].strip().lower()
    return f"{stem}-{position}.{_EXTENSIONS.get(media, 'img')}"


async def download_image(
    transport: Transport,
    url: str,
    *,
    directory: Path,
    artwork_id: str,
    position: int,
    max_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    on_bytes: Callable[[int], None] | None = None,
    proxies: Callable[[yarl.URL], yarl.URL | None] | None = None,
    folder: str = "images",
) -> ImageOutcome:
    """Download one image into ``directory / folder``; never raises for what a host answers.

    Whatever goes wrong with one image (an odd URL, a host's answer, a local file error) ends
    as its ``failed`` outcome with the reason, so one image never stops the others. The API
    key is sent only when *url* has exactly the API's scheme, host and port. *proxies*
    looks the proxy up (the transport's ``proxy_for``, unless a run passes its cache).
    *folder* is the subdirectory (``""``: *directory* itself); the outcome's ``path`` is
    relative to *directory*.

    Raises:
        ClientStateError: The client was closed meanwhile.
        asyncio.CancelledError: The run was interrupted (the temporary file is removed).
    """
    try:
        # Run as one of the client's requests: close() ends it at once, even mid-backoff.
        return await transport.until_closed(
            _download(
                transport,
                url,
                _Destination(directory, artwork_id, position, max_bytes, on_bytes, folder),
                proxies or transport.proxy_for,
            )
        )
    except ClientStateError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of one image is that image's outcome
        return ImageOutcome("failed", reason=f"{type(exc).__name__}: {str(exc)[:200]}")


async def _download(
    transport: Transport,
    url: str,
    destination: _Destination,
    proxies: Callable[[yarl.URL], yarl.URL | None],
) -> ImageOutcome:
    target = _fetchable(url)
    if isinstance(target, ImageOutcome):
        return target
    headers = transport.headers_for(target)
    headers["Accept"] = "image/*"
    request = _Request(
        session=await transport.session(),
        url=target,
        headers=headers,
        # A large image may take longer than one API call: the timeout bounds each read.
        timeout=aiohttp.ClientTimeout(
            total=None, sock_connect=transport.timeout, sock_read=transport.timeout
        ),
        proxy=proxies(target),
    )
    attempts = transport.max_retries + 1
    # The API's retry policy, in a loop of the SDK's own (as the transport's), logged the same.
    for attempt in range(1, attempts + 1):
        try:
            return await _fetch(request, destination)
        except (_Transient, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            reason = _reason(exc)
            if attempt == attempts:
                return ImageOutcome("failed", reason=f"{reason} after {attempts} attempts")
            wait = transport.retry.backoff(attempt)
            logger.warning(
                "GET %s (attempt %d of %d): %s; retrying in %.2g s",
                target.with_query(None),
                attempt,
                attempts,
                reason,
                wait,
            )
            await transport.sleep(wait)
    raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover


def _reason(exc: BaseException) -> str:
    """What went wrong with one attempt, in words (never the request's headers)."""
    if isinstance(exc, _Transient):
        return str(exc)
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer within the timeout"
    return type(exc).__name__


def _fetchable(url: str) -> yarl.URL | ImageOutcome:
    """The URL to fetch, or the ``failed`` outcome of one that is not fetched."""
    try:
        target = yarl.URL(url)
    except (TypeError, ValueError):
        return ImageOutcome("failed", reason=f"not a URL: {url[:200]!r}")
    if target.scheme not in ("http", "https") or not target.host:
        return ImageOutcome("failed", reason=f"not an http(s) URL: {url[:200]!r}")
    if target.user is not None or target.password is not None:
        # Credentials in an image URL would go to whatever host it names: refused.
        return ImageOutcome("failed", reason="an image URL with credentials in it is not fetched")
    return target


def _sync_to_disk(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())


@attrs.frozen
class _Request:
    """One image GET, as every attempt sends it."""

    session: aiohttp.ClientSession
    url: yarl.URL
    headers: dict[str, str]
    timeout: aiohttp.ClientTimeout
    proxy: yarl.URL | None


@attrs.frozen
class _Destination:
    """Where one image goes, and how much of it may come."""

    directory: Path
    artwork_id: str
    position: int
    max_bytes: int
    on_bytes: Callable[[int], None] | None
    folder: str = "images"


async def _fetch(request: _Request, destination: _Destination) -> ImageOutcome:
    directory, max_bytes, on_bytes = (
        destination.directory,
        destination.max_bytes,
        destination.on_bytes,
    )
    artwork_id, position = destination.artwork_id, destination.position
    async with request.session.get(
        request.url, headers=request.headers, timeout=request.timeout, proxy=request.proxy
    ) as response:
        status = response.status
        content_type = response.headers.get("Content-Type", "")
        if status in _GONE:
            return ImageOutcome("gone", content_type=content_type or None, reason=f"HTTP {status}")
        if status in _sansio.RETRYABLE_STATUSES:
            raise _Transient(f"HTTP {status}")
        if status != 200:  # noqa: PLR2004
            return ImageOutcome("failed", reason=f"HTTP {status}")
        media = content_type.split(";", 1)[0].strip().lower()
        if not media.startswith("image/"):
            return ImageOutcome(
                "failed",
                content_type=content_type or None,
                reason=f"content type {content_type or '(none)'!r} is not an image",
            )
        if response.content_length is not None and response.content_length > max_bytes:
            return ImageOutcome(
                "failed",
                content_type=content_type,
                reason=f"body of {response.content_length} bytes is over the {max_bytes} cap",
            )
        name = image_name(artwork_id, position, content_type)
        images = directory / destination.folder
        part = images / f".{name}.{secrets.token_hex(4)}{PART_SUFFIX}"
        # Hashed as it streams in, on the event loop: a thread would cost a hand-over per
        # chunk, or a second read of the file, and the CPU it needs is not free either way.
        digest = hashlib.sha256()
        size = 0
        renamed = False
        try:
            with part.open("wb") as file:
                async for chunk in response.content.iter_chunked(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        return ImageOutcome(
                            "failed",
                            content_type=content_type,
                            reason=f"body over the {max_bytes} bytes cap",
                        )
                    digest.update(chunk)
                    file.write(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
                # On disk before it takes its final name (a power cut then leaves no empty
                # "done" image); fsync waits for the disk, so it runs off the event loop.
                await asyncio.to_thread(_sync_to_disk, file)
            part.replace(images / name)
            renamed = True
        finally:
            if not renamed:
                with contextlib.suppress(FileNotFoundError):
                    part.unlink()
        return ImageOutcome(
            "done",
            path=f"{destination.folder}/{name}" if destination.folder else name,
            size=size,
            sha256=digest.hexdigest(),
            content_type=content_type,
        )
