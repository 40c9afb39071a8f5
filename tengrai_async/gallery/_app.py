"""The gallery's aiohttp application: its routes, error pages and security headers.

Every page is rendered on the server (it works without JavaScript), every response carries a
Content-Security-Policy of ``default-src 'self'``, and only GET and HEAD are answered.
"""

from __future__ import annotations

import concurrent.futures
import importlib.resources
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import aiohttp_jinja2
import jinja2
import orjson
from aiohttp import hdrs, web

from .._enums import ArtworkStatus, ArtworkType
from ..archive._reader import ArchiveReader
from ._query import BadQueryError, Query, parse_query
from ._thumbnails import Thumbnails, safe_file
from ._views import card, detail, image_paths

__all__ = ["make_app"]

_READER: Final = web.AppKey("reader", ArchiveReader)
_THUMBNAILS: Final = web.AppKey("thumbnails", Thumbnails)
_DIRECTORY: Final = web.AppKey("directory", Path)

_SECURITY_HEADERS: Final = {
    # No inline script or style, nothing from another origin, no framing, forms to us only.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
#: Images and thumbnails do not change under their names: a week in the browser's cache.
_CACHE: Final = "public, max-age=604800"
_PAGES_CACHE: Final = "no-cache"  # pages change as the archive grows: always revalidated
_ALLOWED: Final = ("GET", "HEAD")
_CONTENT_TYPES: Final = {
    "png": "image/png",
    "webp": "image/webp",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "avif": "image/avif",
}
_KINDS: Final = tuple(member.value for member in ArtworkType)
_STATUSES: Final = tuple(member.value for member in ArtworkStatus)
_PACKAGE: Final = "tengrai_async.gallery"  # where the templates and the style sheet are
_CSS: Final = (
    importlib.resources.files(_PACKAGE).joinpath("static").joinpath("gallery.css").read_bytes()
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _context(query: Query | None, **more: Any) -> dict[str, Any]:
    filters = None if query is None else query.filters
    dates = {}
    for key in ("since", "before"):
        moment = None if filters is None else getattr(filters, key)
        dates[f"{key}_text"] = "" if moment is None else moment.date().isoformat()
    return {"filters": filters, "kinds": _KINDS, "statuses": _STATUSES, **dates, **more}


def _page(
    request: web.Request, template: str, query: Query | None, *, status: int = 200, **more: Any
) -> web.Response:
    response = aiohttp_jinja2.render_template(
        template, request, _context(query, **more), status=status
    )
    response.headers[hdrs.CACHE_CONTROL] = _PAGES_CACHE
    return response


def _error(request: web.Request, status: int, reason: str, message: str) -> web.Response:
    if request.path.startswith("/api/"):
        body = orjson.dumps({"error": reason, "message": message, "statusCode": status})
        return web.Response(body=body, status=status, content_type="application/json")
    return _page(
        request, "error.html", None, status=status, code=status, reason=reason, message=message
    )


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """405 for any method but GET and HEAD; every 4xx as a page of ours (JSON under /api/)."""
    if request.method not in _ALLOWED:
        response = _error(
            request, 405, "Method Not Allowed", "This gallery only reads: GET and HEAD."
        )
        response.headers[hdrs.ALLOW] = ", ".join(_ALLOWED)
        return response
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return _error(request, 404, "Not Found", f"Nothing is archived at {request.path}.")
    except web.HTTPMethodNotAllowed:  # pragma: no cover - the check above answers first
        return _error(request, 405, "Method Not Allowed", "GET and HEAD only.")


async def _security_headers(_: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(_SECURITY_HEADERS)


async def _index(request: web.Request) -> web.StreamResponse:
    try:
        query = parse_query(request.query)
    except BadQueryError as exc:
        return _error(request, 400, "Bad Request", str(exc))
    page = request.app[_READER].find(query.filters, limit=query.limit, older=query.older)
    return _page(
        request,
        "index.html",
        query,
        page=page,
        cards=[card(row) for row in page.artworks],
        filtered=query.filtered,
        older=query.older,
        older_link=None if page.older is None else query.link("/", older=page.older),
        newest_link=query.link("/", older=None),
    )


async def _artwork(request: web.Request) -> web.StreamResponse:
    row = request.app[_READER].artwork(request.match_info["id"])
    if row is None:
        raise web.HTTPNotFound
    return _page(request, "artwork.html", None, artwork=detail(row))


async def _api_artworks(request: web.Request) -> web.StreamResponse:
    try:
        query = parse_query(request.query)
    except BadQueryError as exc:
        return _error(request, 400, "Bad Request", str(exc))
    page = request.app[_READER].find(query.filters, limit=query.limit, older=query.older)
    # Each artwork's JSON goes out as the archive holds it (the API's text), not re-encoded.
    items = b",".join(
        b'{"artwork":%s,"images":%s}' % (row.json.encode(), orjson.dumps(image_paths(row)))
        for row in page.artworks
    )
    head = {
        "count": page.count,
        "older": page.older,
        "next": None if page.older is None else query.link("/api/artworks", older=page.older),
    }
    body = orjson.dumps(head)[:-1] + b',"artworks":[' + items + b"]}"
    return web.Response(
        body=body, content_type="application/json", headers={hdrs.CACHE_CONTROL: _PAGES_CACHE}
    )


async def _api_artwork(request: web.Request) -> web.StreamResponse:
    row = request.app[_READER].artwork(request.match_info["id"])
    if row is None:
        raise web.HTTPNotFound
    return web.Response(body=row.json.encode(), content_type="application/json")


def _file(path: Path) -> web.FileResponse:
    kind = _CONTENT_TYPES.get(path.suffix.lstrip(".").lower(), "application/octet-stream")
    return web.FileResponse(path, headers={hdrs.CONTENT_TYPE: kind, hdrs.CACHE_CONTROL: _CACHE})


async def _image(request: web.Request) -> web.StreamResponse:
    path = safe_file(request.app[_DIRECTORY] / "images", request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound
    return _file(path)


async def _thumbnail(request: web.Request) -> web.StreamResponse:
    found = await request.app[_THUMBNAILS].get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound
    # The placeholder is not cached: a repaired image shows on the next load.
    cache = "no-store" if found.placeholder else _CACHE
    return web.Response(
        body=found.data, content_type="image/webp", headers={hdrs.CACHE_CONTROL: cache}
    )


async def _css(_: web.Request) -> web.StreamResponse:
    return web.Response(
        body=_CSS,
        content_type="text/css",
        charset="utf-8",
        headers={hdrs.CACHE_CONTROL: "no-cache"},
    )


def make_app(directory: Path | str, *, workers: int = 2) -> web.Application:
    """The gallery of the archive in *directory*, as an :class:`aiohttp.web.Application`.

    The archive is opened read-only at once; thumbnails are made by *workers* threads.

    Raises:
        tengrai_async.archive.ArchiveDatabaseError: *directory* holds no archive this version
            can read (see :class:`~tengrai_async.archive._reader.ArchiveReader`).
    """
    directory = Path(directory)
    reader = ArchiveReader(directory)
    app = web.Application(middlewares=[_errors])
    app[_DIRECTORY] = directory
    app[_READER] = reader
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader(_PACKAGE, "templates"),
        autoescape=True,  # prompts are free text: every value from the archive is escaped
        undefined=jinja2.StrictUndefined,
    )

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        executor = concurrent.futures.ThreadPoolExecutor(workers, "tengrai-thumbnails")
        app[_THUMBNAILS] = Thumbnails(directory, executor)
        try:
            yield
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            reader.close()

    app.cleanup_ctx.append(lifetime)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/", _index)
    app.router.add_get("/artworks/{id}", _artwork)
    app.router.add_get("/api/artworks", _api_artworks)
    app.router.add_get("/api/artworks/{id}", _api_artwork)
    app.router.add_get("/images/{name}", _image)
    app.router.add_get("/thumbnails/{name}", _thumbnail)
    app.router.add_get("/static/gallery.css", _css)
    return app
