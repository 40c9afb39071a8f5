"""Downloading one image into the archive: streamed, hashed, capped, and renamed when whole.

A body is written in chunks to a hidden temporary file beside its final name and renamed only
once complete, so a half-downloaded image never has its final name. Transient failures are
retried through the client's retry loop (``Retry-After`` honoured, a 429 pausing that host);
a host whose connections keep failing is given up on for the run; 404 and 410 mean the host
no longer has the image.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import BinaryIO, Final

import aiohttp
import attrs
import yarl

from .. import _sansio
from .._errors import ClientStateError, TransportError
from .._failures import MapFailures, what_failed
from .._logging import logger
from .._retry import Attempt, Cooldown, Retry, retry_loop
from .._transport import Transport
from ._db import ImageOutcome

__all__ = [
    "DEAD_HOST_FAILURES",
    "DEFAULT_MAX_IMAGE_BYTES",
    "PART_SUFFIX",
    "ImageHosts",
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


#: Connection failures in a row (DNS, refused, TLS, connect timeout) after which a host is
#: given up on for the rest of the run: its other images fail at once, without requests.
DEAD_HOST_FAILURES: Final = 5


@attrs.define
class _Host:
    """One image host's state in a run: its proxy, its 429 cooldown, its failures in a row."""

    proxy: yarl.URL | None
    cooldown: Cooldown
    failures_in_a_row: int = 0
    down: str | None = None  # why it was given up on


class ImageHosts:
    """What a run knows of each image host (by scheme, host and port).

    The proxy is looked up in the environment once per host, not per image; a 429 from a
    host pauses every download from it (its :class:`Cooldown`); and after
    :data:`DEAD_HOST_FAILURES` connection failures in a row the host is *down*: the rest of
    its images fail at once with that reason, while other hosts go on.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._hosts: dict[tuple[str, str | None, int | None], _Host] = {}

    def __call__(self, url: yarl.URL) -> yarl.URL | None:
        """The proxy for a GET of *url* (see :meth:`Transport.proxy_for`)."""
        return self.of(url).proxy

    def of(self, url: yarl.URL) -> _Host:
        """The state of *url*'s host (made on first use)."""
        origin = (url.scheme, url.host, url.port)
        host = self._hosts.get(origin)
        if host is None:
            transport = self._transport
            host = _Host(transport.proxy_for(url), Cooldown(transport.clock))
            self._hosts[origin] = host
        return host


class _Transient(Exception):  # noqa: N818 - a retry signal, never leaves this module
    """A status worth another try, and the ``Retry-After`` it came with."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class _HostDown(Exception):  # noqa: N818 - a stop signal, never leaves this module
    """The host was given up on: no further request to it."""


class _LocalFileError(Exception):
    """The image's file could not be written (kept apart from the connection's OSErrors)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(f"{type(error).__name__}: {str(error)[:200]}")


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
    hosts: ImageHosts | None = None,
    folder: str = "images",
) -> ImageOutcome:
    """Download one image into ``directory / folder``; never raises for what a host answers.

    Whatever goes wrong with one image (an odd URL, a host's answer, a local file error) ends
    as its ``failed`` outcome with the reason, so one image never stops the others. The API
    key is sent only when *url* has exactly the API's scheme, host and port. Transient
    failures are retried through the client's retry loop, on its clock: 429 and 503 wait as
    their ``Retry-After`` asks (capped at ``retry_after_max``), and a 429 pauses every
    download from that host. *hosts* is the run's :class:`ImageHosts` (a fresh one when
    ``None``): its proxies, cooldowns and hosts given up on. Each request is logged at DEBUG
    on the ``tengrai_async`` logger (the URL without its query, the status, the bytes).
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
                hosts or ImageHosts(transport),
            )
        )
    except ClientStateError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of one image is that image's outcome
        reason = _sansio.redact(f"{type(exc).__name__}: {str(exc)[:200]}", transport.secret)
        return ImageOutcome("failed", reason=reason)


async def _download(
    transport: Transport,
    url: str,
    destination: _Destination,
    hosts: ImageHosts,
) -> ImageOutcome:
    target = _fetchable(url)
    if isinstance(target, ImageOutcome):
        return target
    host = hosts.of(target)
    if host.down is not None:
        return ImageOutcome("failed", reason=host.down, attempts=0)
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
        proxy=host.proxy,
        label=f"GET {target.with_query(None)}",  # a signed URL's query may hold its secret
        secret=transport.secret,
    )
    made = 0

    async def send(attempt: Attempt) -> ImageOutcome:
        nonlocal made
        if host.down is not None:  # given up on while this one waited
            raise _HostDown(host.down)
        made += 1
        return await _attempt(request, destination, host, attempt.number)

    try:
        outcome = await retry_loop(
            send,
            classify=_classify,
            policy=transport.retry,
            max_retries=transport.max_retries,
            label=request.label,
            describe=lambda error: _reason(error, request.label),
            clock=transport.clock,
            cooldown=host.cooldown,
            catch=(_Transient, _HostDown, TransportError),
        )
    except (_HostDown, _LocalFileError) as exc:
        return ImageOutcome("failed", reason=str(exc), attempts=made)
    except (_Transient, TransportError) as exc:
        reason = _reason(exc, request.label)
        return ImageOutcome("failed", reason=f"{reason} after {made} attempts", attempts=made)
    return attrs.evolve(outcome, attempts=made)


def _classify(error: Exception) -> Retry | None:
    """Whether a failed image GET is worth another try (see ``_retry``)."""
    if isinstance(error, _Transient):
        return Retry(error.retry_after, rate_limited=error.status == 429)  # noqa: PLR2004
    if isinstance(error, TransportError):
        return Retry()
    return None


def _reason(error: BaseException, label: str) -> str:
    """What went wrong with one attempt, in words (never the request's headers)."""
    if isinstance(error, _Transient):
        return str(error)
    return what_failed(error, label)


async def _attempt(
    request: _Request, destination: _Destination, host: _Host, attempt: int
) -> ImageOutcome:
    """One GET of the image: its outcome, or the SDK's error for a failed connection."""
    started = time.perf_counter()
    seen = _Seen()
    failures = MapFailures(
        request.label,
        timeout_text=f"no data for {request.timeout.sock_read:g} s",
        secret=request.secret,
        session=request.session,
    )
    try:
        with failures:
            return await _fetch(request, destination, seen)
    finally:
        if seen.status is not None:
            host.failures_in_a_row = 0  # it answered
        logger.debug(
            "%s -> %s (attempt %d, %d bytes, %.1f ms)",
            request.label,
            "error" if seen.status is None else seen.status,
            attempt,
            seen.size,
            (time.perf_counter() - started) * 1000,
        )
    # Only a failure MapFailures took in gets here; raised outside any handler.
    if failures.unsent:
        _count_failure(host, failures, request.label)
    failures.raise_error()
    raise AssertionError("unreachable: MapFailures holds the error")  # pragma: no cover


def _count_failure(host: _Host, failures: MapFailures, label: str) -> None:
    """Count a connection that could not be opened; give the host up after too many."""
    host.failures_in_a_row += 1
    if host.failures_in_a_row >= DEAD_HOST_FAILURES and host.down is None:
        reason = what_failed(failures.error, label) if failures.error else "no connection"
        host.down = (
            f"{reason} (the host failed {host.failures_in_a_row} connections in a row: "
            "no further request to it in this run)"
        )
        logger.warning("giving up on %s: %s", label.removeprefix("GET "), host.down)


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
    label: str
    secret: str


@attrs.define
class _Seen:
    """What one attempt saw of its answer, for its log line and the host's failure count."""

    status: int | None = None
    size: int = 0


@attrs.frozen
class _Destination:
    """Where one image goes, and how much of it may come."""

    directory: Path
    artwork_id: str
    position: int
    max_bytes: int
    on_bytes: Callable[[int], None] | None
    folder: str = "images"


@contextlib.contextmanager
def _writing() -> Generator[None, None, None]:
    """Turn an OSError of the image's file into :class:`_LocalFileError`: not the host's."""
    try:
        yield
    except OSError as exc:
        raise _LocalFileError(exc) from None


async def _fetch(request: _Request, destination: _Destination, seen: _Seen) -> ImageOutcome:
    directory, max_bytes, on_bytes = (
        destination.directory,
        destination.max_bytes,
        destination.on_bytes,
    )
    artwork_id, position = destination.artwork_id, destination.position
    async with request.session.get(
        request.url, headers=request.headers, timeout=request.timeout, proxy=request.proxy
    ) as response:
        status = seen.status = response.status
        content_type = response.headers.get("Content-Type", "")
        if status in _GONE:
            return ImageOutcome("gone", content_type=content_type or None, reason=f"HTTP {status}")
        if status in _sansio.RETRYABLE_STATUSES:
            asked = _sansio.parse_retry_after(response.headers.get("Retry-After"))
            raise _Transient(status, asked)
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
        renamed = False
        try:
            with _writing():
                file = part.open("wb")
            try:
                async for chunk in response.content.iter_chunked(_CHUNK):
                    seen.size += len(chunk)
                    if seen.size > max_bytes:
                        return ImageOutcome(
                            "failed",
                            content_type=content_type,
                            reason=f"body over the {max_bytes} bytes cap",
                        )
                    digest.update(chunk)
                    with _writing():
                        file.write(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
                # On disk before it takes its final name (a power cut then leaves no empty
                # "done" image); fsync waits for the disk, so it runs off the event loop.
                with _writing():
                    await asyncio.to_thread(_sync_to_disk, file)
            finally:
                with _writing():
                    file.close()
            with _writing():
                part.replace(images / name)
            renamed = True
        finally:
            if not renamed:
                with contextlib.suppress(FileNotFoundError):
                    part.unlink()
        return ImageOutcome(
            "done",
            path=f"{destination.folder}/{name}" if destination.folder else name,
            size=seen.size,
            sha256=digest.hexdigest(),
            content_type=content_type,
        )
