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
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final

import aiohttp
import attrs
import stamina
import yarl

from .. import _sansio
from .._transport import Transport

__all__ = [
    "DEFAULT_MAX_IMAGE_BYTES",
    "PART_SUFFIX",
    "ImageOutcome",
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
_SAFE_SUBTYPE: Final = re.compile(r"[a-z0-9]{1,10}")


@attrs.frozen
class ImageOutcome:
    """How one download ended.

    Attributes:
        state: ``done``, ``gone`` (404 or 410) or ``failed``.
        path: The file's path relative to the archive directory (``done`` only).
        size: Its size in bytes (``done`` only).
        sha256: Its SHA-256, in hex (``done`` only).
        content_type: The ``Content-Type`` the host sent.
        reason: Why it is ``gone`` or ``failed``.
    """

    state: str
    path: str | None = None
    size: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    reason: str | None = None


class _Transient(Exception):  # noqa: N818 - a retry signal, never leaves this module
    """A status worth another try."""


class _Refused(Exception):  # noqa: N818 - ends one download as failed, never leaves here
    """The body cannot be kept (not an image, over the cap, another status)."""


def image_name(artwork_id: str, position: int, content_type: str) -> str:
    """The stable file name of an image: the artwork id, its position, the type's extension."""
    media = content_type.split(";", 1)[0].strip().lower()
    extension = _EXTENSIONS.get(media)
    if extension is None:
        subtype = media.partition("/")[2]
        extension = subtype if _SAFE_SUBTYPE.fullmatch(subtype) else "img"
    return f"{artwork_id}-{position}.{extension}"


async def download_image(
    transport: Transport,
    url: str,
    *,
    directory: Path,
    artwork_id: str,
    position: int,
    max_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    on_bytes: Callable[[int], None] | None = None,
) -> ImageOutcome:
    """Download one image into ``directory / "images"``; never raises for what a host answers.

    The API key is sent only when *url* has exactly the API's scheme, host and port.

    Raises:
        ClientStateError: The client was closed meanwhile.
        asyncio.CancelledError: The run was interrupted (the temporary file is removed).
    """
    try:
        target = yarl.URL(url)
    except (TypeError, ValueError):
        return ImageOutcome("failed", reason=f"not a URL: {url!r}")
    if target.scheme not in ("http", "https") or not target.host:
        return ImageOutcome("failed", reason=f"not an http(s) URL: {url!r}")
    session = await transport.session()
    headers = transport.headers_for(target)
    headers["Accept"] = "image/*"
    # A large image may take longer than one API call: the timeout bounds each read instead.
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=transport.timeout, sock_read=transport.timeout
    )
    policy = transport.retry
    try:
        async for attempt in stamina.retry_context(
            on=(_Transient, aiohttp.ClientError, asyncio.TimeoutError),
            attempts=transport.max_retries + 1,
            timeout=None,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_jitter,
        ):
            with attempt:
                return await _fetch(
                    session,
                    target,
                    headers,
                    timeout,
                    directory,
                    artwork_id,
                    position,
                    max_bytes,
                    on_bytes,
                )
    except _Transient as exc:
        return ImageOutcome("failed", reason=f"{exc} after {transport.max_retries + 1} attempts")
    except asyncio.TimeoutError:
        return ImageOutcome("failed", reason="no answer within the timeout, after retries")
    except aiohttp.ClientError as exc:
        return ImageOutcome("failed", reason=f"{type(exc).__name__} after retries")
    raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover


def _sync_to_disk(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())


async def _fetch(
    session: aiohttp.ClientSession,
    url: yarl.URL,
    headers: dict[str, str],
    timeout: aiohttp.ClientTimeout,
    directory: Path,
    artwork_id: str,
    position: int,
    max_bytes: int,
    on_bytes: Callable[[int], None] | None,
) -> ImageOutcome:
    async with session.get(url, headers=headers, timeout=timeout) as response:
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
        images = directory / "images"
        part = images / f".{name}.{secrets.token_hex(4)}{PART_SUFFIX}"
        digest = hashlib.sha256()
        size = 0
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
        finally:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
        return ImageOutcome(
            "done",
            path=f"images/{name}",
            size=size,
            sha256=digest.hexdigest(),
            content_type=content_type,
        )
