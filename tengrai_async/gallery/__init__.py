"""See your history: a local web gallery of an archive, with full-text search.

``tengrai-async browse DIR`` serves it; :func:`make_app` builds the same
:class:`aiohttp.web.Application` for a server of your own. It reads ``DIR/archive.sqlite``
read-only (an archive run may write it meanwhile: what it commits shows on the next page load),
and serves only files under ``DIR/images/`` and ``DIR/thumbnails/``.

Pages (server-rendered HTML; each works without JavaScript):

- ``/``: artworks newest first, by the moment ``createdAt`` names, 60 a page, each a
  thumbnail with its kind, status, date and the start of its prompt. ``?q=`` searches every
  text parameter (``prompt``, ``negativePrompt``, ``textPrompt``, ...; each word as a prefix),
  ``?type=``, ``?status=`` (both repeatable), ``?since=`` and ``?before=`` (RFC 3339, or a
  date: its midnight UTC) filter; they combine, and the page says how many artworks match.
  ``?older=ID`` is the page after the artwork ID (the "older" link), stable while new artworks
  arrive.
- ``/artworks/{id}``: every image at full size, every parameter, the dates, the duration and
  the JSON as the API sent it; ``/api/artworks/{id}`` that JSON itself.
- ``/api/artworks?q=&type=&status=&since=&before=&limit=&older=``: the same search as JSON,
  ``{"count", "older", "next", "artworks": [{"artwork": <the API's JSON>, "images": [paths]}]}``
  (``limit`` 1..500, default 60).
- ``/images/NAME`` serves ``DIR/images/NAME``; ``/thumbnails/NAME.webp`` a WebP thumbnail of
  it (at most 320 px on its long side), made on first request and kept in ``DIR/thumbnails/``.

Search needs schema 2 of the archive: an archive made before it is brought up to date by its
next ``tengrai-async archive`` run (until then ``browse`` says so and exits 2: it never writes
the archive, and keeps no index of its own).
"""

from __future__ import annotations

from ._app import make_app

__all__ = ["make_app"]
