"""The fake server's image host: ``GET /images/{id}/{n}.{ext}``, on the API's port or its own.

It serves small valid images that depend only on their name, gone images, and faults of its own.
"""

from __future__ import annotations

import asyncio
import http
import re
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Final, Literal, cast

import attrs
import yarl
from aiohttp import web

from ._http import Answer, RecordedRequest, base_url, hang_up, listen, record
from ._images import IMAGE_CONTENT_TYPES, IMAGE_EXTS, filler, image_bytes, image_ext

__all__ = ["IMAGE_FAULTS", "ImageHost", "ImageKey", "ImageOptions"]

#: Every fault :meth:`FakeTengrAI.queue_image_faults` can give an image request. ``"404"``,
#: ``"410"``, ``"429"`` (with ``Retry-After``), ``"500"`` and ``"503"`` answer that status with
#: a short ``text/plain`` body; ``"html"`` a 200 whose ``Content-Type`` is ``text/html`` (a
#: sign-in page); ``"drop"`` the image's headers and half its body, then the connection is
#: closed; ``"slow"`` the whole image in 4 pieces, ``image_chunk_delay`` seconds apart;
#: ``"huge"`` a ``Content-Length`` of 1 TiB, then garbage until the client hangs up (or 256 MiB
#: were sent, when the connection is closed).
IMAGE_FAULTS: Final = ("404", "410", "429", "500", "503", "drop", "slow", "html", "huge")
#: An image named by ``(artwork_id, n)``, or by its URL (or just the URL's path).
ImageKey = tuple[str, int] | str | yarl.URL

_IMAGE_PATH: Final = re.compile(r"/images/(?P<id>[^/]+)/(?P<n>0|[1-9][0-9]*)\.(?P<ext>[a-z]+)")
_GONE_STATUSES: Final = (404, 410)
#: The ``Content-Length`` of a ``"huge"`` image (1 TiB) ...
_HUGE_LENGTH: Final = 1 << 40
#: ... of which at most this much is streamed before the connection is closed.
_HUGE_STREAMED: Final = 256 << 20
_HUGE_CHUNK: Final = 64 << 10
#: How many pieces a ``"slow"`` image body is sent in.
_SLOW_CHUNKS: Final = 4
_HTML: Final = (
    b"<!DOCTYPE html><html><head><title>Sign in</title></head>"
    b"<body><p>Please sign in to view this image.</p></body></html>"
)
_NOT_RUNNING: Final = "the fake server is not running: use start() or async with"


def _origin(text: str | yarl.URL | None) -> yarl.URL | None:
    # *text* as an http(s) origin (no path, query or fragment), or ValueError.
    if text is None:
        return None
    url = yarl.URL(text)
    if url.scheme not in ("http", "https") or not url.host or url.path not in ("", "/"):
        msg = f"result_origin must be an http(s) origin such as http://host:8080, got {text!r}"
        raise ValueError(msg)
    if url.query_string or url.fragment or url.user is not None:
        msg = f"result_origin must be an http(s) origin such as http://host:8080, got {text!r}"
        raise ValueError(msg)
    return url.with_path("")


def _image_key(key: object) -> tuple[str, int]:
    if isinstance(key, tuple) and len(cast("tuple[object, ...]", key)) == 2:  # noqa: PLR2004
        artwork_id, n = cast("tuple[object, object]", key)
        if isinstance(artwork_id, str) and isinstance(n, int) and n >= 0:
            return artwork_id, n
    if isinstance(key, str | yarl.URL):
        match = _IMAGE_PATH.fullmatch(yarl.URL(key).path)
        if match is not None:
            return match["id"], int(match["n"])
    msg = f"an image is an (artwork_id, n) pair or a URL of /images/{{id}}/{{n}}.{{ext}}: {key!r}"
    raise ValueError(msg)


def _gone_images(
    gone: Mapping[ImageKey, int] | Collection[ImageKey],
) -> dict[tuple[str, int], int]:
    pairs: list[tuple[ImageKey, int]]
    if isinstance(gone, Mapping):
        pairs = list(cast("Mapping[ImageKey, int]", gone).items())
    else:
        pairs = [(key, 404) for key in gone]
    result: dict[tuple[str, int], int] = {}
    for key, status in pairs:
        if status not in _GONE_STATUSES:
            msg = f"a gone image answers 404 or 410, not {status!r}"
            raise ValueError(msg)
        result[_image_key(key)] = status
    return result


def _one_of_origins(_: object, __: attrs.Attribute[Any], origin: str) -> None:
    if origin not in ("same", "other"):
        msg = f"image_origin must be 'same' or 'other', got {origin!r}"
        raise ValueError(msg)


def _size(_: object, __: attrs.Attribute[Any], size: int | None) -> None:
    if size is not None and size < 0:
        msg = f"image_size must be >= 0 or None, got {size!r}"
        raise ValueError(msg)


def _delay(_: object, attribute: attrs.Attribute[Any], seconds: float) -> None:
    if seconds < 0:
        msg = f"{attribute.name} must be >= 0, got {seconds!r}"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class ImageOptions:
    """The image host: what ``results`` point at, where it listens, what it serves.

    The ``image_options=`` of :class:`FakeTengrAI`; each field is also a keyword of it of the
    same name. The image route (no key needed, as on a CDN) is served either way.

    Attributes:
        images: Point the ``results`` of synthetic artworks (listed, inserted, by id and jobs)
            at the server's images, ``{image_base}/images/{id}/{n}.{ext}`` (the default), so
            that nothing run against it looks up a real host; the extension (``png`` or
            ``webp``) is fixed per artwork. ``False`` keeps the ``https://cdn.tengr.ai`` URLs
            :func:`make_artwork` gives (another origin: the data exactly as generated).
        result_origin: The origin the ``results`` name instead of :attr:`FakeTengrAI.image_base`,
            such as ``http://images.example.invalid``, for a client that reaches the server by
            that name (a resolver of its own mapping it there): the URLs then do not change
            with the port. Given as a string or URL, kept as a :class:`yarl.URL`; ``None``
            (the default): :attr:`FakeTengrAI.image_base`.
        image_origin: ``"same"`` serves the images on the API's port; ``"other"`` on another
            port of the same host (another origin), which serves nothing else.
        image_size: Grow every image to about this many bytes with a padding chunk that
            decoders skip (see :func:`image_bytes`), e.g. ``1 << 20`` for benchmarks.
        gone_images: Images that answer 404 forever: ``(artwork_id, n)`` pairs or URLs (any
            extension). A mapping chooses the status of each: 404 or 410. Kept as a dict from
            ``(artwork_id, n)`` to the status.
        image_latency: Seconds to wait before each image answer (>= 0).
        image_chunk_delay: Seconds between the pieces of a ``"slow"`` image body (>= 0).

    Raises:
        ValueError: A ``result_origin`` that is not an http(s) origin, an ``image_origin``
            other than ``"same"`` or ``"other"``, a negative ``image_size``, a gone image that
            names no image or answers another status, or a negative delay.
    """

    images: bool = True
    result_origin: yarl.URL | None = attrs.field(default=None, converter=_origin)
    image_origin: Literal["same", "other"] = attrs.field(default="same", validator=_one_of_origins)
    image_size: int | None = attrs.field(default=None, validator=_size)
    gone_images: dict[tuple[str, int], int] = attrs.field(
        factory=dict[tuple[str, int], int], converter=_gone_images, hash=False
    )
    image_latency: float = attrs.field(default=0.0, validator=_delay)
    image_chunk_delay: float = attrs.field(default=0.05, validator=_delay)


def check_image_faults(faults: Sequence[str]) -> None:
    """Refuse anything in *faults* that is not one of :data:`IMAGE_FAULTS` (``ValueError``)."""
    unknown = sorted(set(faults) - set(IMAGE_FAULTS), key=repr)
    if unknown:
        msg = f"unknown image faults {unknown}; they are {', '.join(IMAGE_FAULTS)}"
        raise ValueError(msg)


class ImageHost:
    """The image route of one server, its queued faults and, with ``"other"``, its own port.

    Each request is handed to *on_request*, recorded, before anything is awaited.
    """

    def __init__(
        self,
        options: ImageOptions,
        *,
        retry_after: int,
        lock: threading.Lock,
        on_request: Callable[[RecordedRequest], None],
    ) -> None:
        self.options = options
        self._retry_after = retry_after
        self._lock = lock
        self._on_request = on_request
        self._queued: list[str] = []
        self._runner: web.AppRunner | None = None
        self._base: yarl.URL | None = None

    @property
    def base(self) -> yarl.URL:
        """The origin serving the images, while the server runs."""
        if self._base is None:
            raise RuntimeError(_NOT_RUNNING)
        return self._base

    @property
    def running(self) -> bool:
        """Whether the image route is being served (so :attr:`base` is known)."""
        return self._base is not None

    def url(self, artwork_id: str, n: int = 0, ext: str | None = None) -> yarl.URL:
        """Where image *n* of *artwork_id* is served (see :meth:`FakeTengrAI.image_url`)."""
        if ext is None:
            ext = image_ext(artwork_id)
        if ext not in IMAGE_EXTS or n < 0 or not artwork_id or "/" in artwork_id:
            msg = f"no image route for artwork {artwork_id!r}, n={n!r}, ext={ext!r}"
            raise ValueError(msg)
        base = self.options.result_origin or self.base
        return base.with_path(f"/images/{artwork_id}/{n}.{ext}")

    def urls(self, artwork_id: str, count: int) -> list[str]:
        """The first *count* image URLs of *artwork_id*, as ``results`` hold them."""
        return [str(self.url(artwork_id, n)) for n in range(count)]

    def image(self, artwork_id: str, n: int = 0, ext: str | None = None) -> bytes:
        """The bytes :meth:`url` serves, ``image_size`` applied."""
        ext = image_ext(artwork_id) if ext is None else ext
        return image_bytes(artwork_id, n, ext, size=self.options.image_size)

    def queue(self, faults: Sequence[str]) -> None:
        """Give the next image requests these faults, in order (the caller holds the lock)."""
        check_image_faults(faults)
        self._queued.extend(faults)

    async def start(self, host: str, api_url: yarl.URL) -> None:
        """Serve the images: on *api_url*, whose app has the route, or on a port of their own."""
        if self.options.image_origin == "same":
            self._base = api_url
            return
        app = web.Application()
        app.router.add_get("/images/{tail:.*}", self.handle)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        self._runner = await listen(app, host, 0)
        self._base = base_url(host, self._runner)

    async def close(self) -> None:
        """Stop serving the images (the second port's, if any)."""
        runner, self._runner, self._base = self._runner, None, None
        if runner is not None:
            await runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer a request to the image route."""
        with self._lock:
            answer = self._decide(request)
        return await self._send(request, answer)

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        # Anything but an image on the image origin: a CDN's plain 404.
        return await self._send(request, _image_error(404))

    def _decide(self, request: web.Request) -> Answer:
        match = _IMAGE_PATH.fullmatch(request.path)
        if match is None or match["ext"] not in IMAGE_EXTS:
            return _image_error(404)
        artwork_id, n, ext = match["id"], int(match["n"]), match["ext"]
        gone = self.options.gone_images.get((artwork_id, n))
        if gone is not None:
            return _image_error(gone)
        fault = self._queued.pop(0) if self._queued else None
        if fault is not None and fault.isdigit():
            headers = {"Retry-After": str(self._retry_after)} if fault == "429" else {}
            return _image_error(int(fault), fault=fault, headers=headers)
        if fault == "html":
            return Answer(200, _HTML, fault=fault, headers={"Content-Type": "text/html"})
        body = self.image(artwork_id, n, ext)
        return Answer(200, body, fault=fault, headers={"Content-Type": IMAGE_CONTENT_TYPES[ext]})

    async def _send(self, request: web.Request, answer: Answer) -> web.StreamResponse:
        # Recorded before any await, so the record keeps the order of arrival.
        self._on_request(record(request, answer))
        if self.options.image_latency:
            await asyncio.sleep(self.options.image_latency)
        headers = dict(answer.headers)
        content_type = headers.pop("Content-Type")
        if answer.fault not in ("drop", "slow", "huge"):
            return web.Response(
                status=answer.status, body=answer.body, headers=headers, content_type=content_type
            )
        response = web.StreamResponse(status=answer.status, headers=headers)
        response.content_type = content_type
        response.content_length = _HUGE_LENGTH if answer.fault == "huge" else len(answer.body)
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        try:
            if answer.fault == "drop":
                await response.write(answer.body[: len(answer.body) // 2])
            elif answer.fault == "slow":
                await self._trickle(response, answer.body)
                return response
            else:
                await _stream_garbage(response)
        except ConnectionError:
            return response  # the client hung up, as it may
        # As for the API's "drop": the client sees the body end early.
        hang_up(request)
        return response

    async def _trickle(self, response: web.StreamResponse, body: bytes) -> None:
        size = -(-len(body) // _SLOW_CHUNKS)
        for start in range(0, len(body), size):
            if start:
                await asyncio.sleep(self.options.image_chunk_delay)
            await response.write(body[start : start + size])


def _image_error(status: int, **attributes: Any) -> Answer:
    # A CDN's error: a line of plain text, not the API's JSON.
    body = f"{status} {http.HTTPStatus(status).phrase}\n".encode()
    headers = {**attributes.pop("headers", {}), "Content-Type": "text/plain"}
    return Answer(status, body, headers=headers, **attributes)


async def _stream_garbage(response: web.StreamResponse) -> None:
    chunk = filler(_HUGE_CHUNK)
    for _ in range(_HUGE_STREAMED // _HUGE_CHUNK):
        await response.write(chunk)
