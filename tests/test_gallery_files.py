"""The gallery's files over loopback: images, thumbnails (made once, kept), and nothing else.

Thumbnails are made on first request and reused; a damaged image gets a placeholder and a log
line; no path, encoded or not, and no symbolic link reaches a file outside images/thumbnails.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from _gallery_helpers import illustrated_archive, stored
from aiohttp import web
from aiohttp.test_utils import TestClient
from PIL import Image

from tengrai_async.gallery import make_app
from tengrai_async.gallery._thumbnails import SIZE, make_thumbnail

Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[[web.Application], Awaitable[Client]]
DAY = 86_400


@pytest.fixture
async def directory(tmp_path: Path) -> Path:
    directory = tmp_path / "archive"
    await illustrated_archive(directory, 30, illustrated=10)
    return directory


@pytest.fixture
async def client(aiohttp_client: ClientFactory, directory: Path) -> Client:
    return await aiohttp_client(make_app(directory))


def image_names(directory: Path) -> list[str]:
    rows = stored(directory, "SELECT path FROM images WHERE state = 'done' ORDER BY path")
    return [str(row[0]).removeprefix("images/") for row in rows]


def max_age(response: web.StreamResponse | object) -> int:
    header = getattr(response, "headers", {}).get("Cache-Control", "")
    ages = [int(part.split("=")[1]) for part in header.split(", ") if part.startswith("max-age=")]
    return ages[0] if ages else 0


def picture(path: Path, size: tuple[int, int], fmt: str = "PNG") -> None:
    Image.radial_gradient("L").resize(size).convert("RGB").save(path, fmt)


async def test_an_image_is_served_with_its_type_and_a_day_of_cache(
    client: Client, directory: Path
) -> None:
    for name in image_names(directory)[:4]:
        response = await client.get(f"/images/{name}")
        assert response.status == 200
        assert await response.read() == (directory / "images" / name).read_bytes()
        assert response.content_type == f"image/{name.rsplit('.', 1)[1]}"
        assert max_age(response) >= DAY


async def test_a_thumbnail_is_made_once_and_reused(client: Client, directory: Path) -> None:
    name = image_names(directory)[0]
    kept = directory / "thumbnails" / f"{name}.webp"
    assert not kept.exists()
    first = await client.get(f"/thumbnails/{name}.webp")
    assert first.status == 200
    assert first.content_type == "image/webp"
    assert max_age(first) >= DAY
    body = await first.read()
    made = kept.stat()
    assert body == kept.read_bytes()
    assert Image.open(io.BytesIO(body)).format == "WEBP"
    second = await client.get(f"/thumbnails/{name}.webp")
    assert await second.read() == body
    again = kept.stat()
    assert (again.st_ino, again.st_mtime_ns) == (made.st_ino, made.st_mtime_ns)
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no temporary file left


async def test_requests_at_once_make_one_thumbnail(client: Client, directory: Path) -> None:
    picture(directory / "images" / "big.png", (2000, 1500))
    answers = await asyncio.gather(*(client.get("/thumbnails/big.png.webp") for _ in range(8)))
    bodies = {await answer.read() for answer in answers}
    assert len(bodies) == 1
    assert [p.name for p in (directory / "thumbnails").iterdir()] == ["big.png.webp"]


async def test_a_thumbnail_is_at_most_320_px_on_its_long_side(
    client: Client, directory: Path
) -> None:
    picture(directory / "images" / "wide.png", (1000, 600))
    picture(directory / "images" / "tall.jpg", (500, 1200), "JPEG")
    for name, size in (("wide.png", (SIZE, 192)), ("tall.jpg", (133, SIZE))):
        body = await (await client.get(f"/thumbnails/{name}.webp")).read()
        assert Image.open(io.BytesIO(body)).size == size


async def test_a_thumbnail_is_made_again_when_its_image_is_newer(
    client: Client, directory: Path
) -> None:
    source = directory / "images" / "changing.png"
    picture(source, (400, 400))
    first = await (await client.get("/thumbnails/changing.png.webp")).read()
    picture(source, (800, 200))
    later = (directory / "thumbnails" / "changing.png.webp").stat().st_mtime_ns + 1_000_000_000
    os.utime(source, ns=(later, later))
    second = await (await client.get("/thumbnails/changing.png.webp")).read()
    assert first != second
    assert Image.open(io.BytesIO(second)).size == (SIZE, 80)


async def test_a_damaged_image_gets_a_placeholder_and_a_log_line(
    client: Client, directory: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = image_names(directory)[0]
    damaged = directory / "images" / name
    damaged.write_bytes(damaged.read_bytes()[:20] + b"\x00garbage" * 10)
    caplog.set_level(logging.WARNING, logger="tengrai_async.gallery")
    for _ in range(2):
        response = await client.get(f"/thumbnails/{name}.webp")
        assert response.status == 200
        assert response.content_type == "image/webp"
        assert response.headers["Cache-Control"] == "no-store"
        assert Image.open(io.BytesIO(await response.read())).size == (64, 64)
    lines = [r.getMessage() for r in caplog.records if r.name == "tengrai_async.gallery"]
    assert len(lines) == 1  # once, not on every request
    assert str(damaged) in lines[0]
    assert not (directory / "thumbnails" / f"{name}.webp").exists()


async def test_a_thumbnail_that_cannot_be_kept_is_served_all_the_same(
    client: Client, directory: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (directory / "thumbnails").write_bytes(b"a file where the directory would be")
    name = image_names(directory)[0]
    response = await client.get(f"/thumbnails/{name}.webp")
    assert response.status == 200
    assert Image.open(io.BytesIO(await response.read())).format == "WEBP"
    assert "cannot keep the thumbnail" in caplog.text


def test_making_a_thumbnail_of_a_damaged_file_raises(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(Exception, match=r"."):
        make_thumbnail(tmp_path / "x.png")


TRAVERSALS = [
    "/images/../archive.sqlite",
    "/images/..%2farchive.sqlite",
    "/images/%2e%2e%2farchive.sqlite",
    "/images/%2E%2E/archive.sqlite",
    "/images/..%5carchive.sqlite",
    "/images/%252e%252e%252farchive.sqlite",
    "/images/.%2e/.%2e/etc/passwd",
    "/thumbnails/..%2farchive.sqlite",
    "/thumbnails/..%2fimages%2f..%2farchive.sqlite.webp",
    "/thumbnails/%2e%2e%2farchive.sqlite.webp",
    "/archive.sqlite",
    "/images/archive.sqlite",
    "/thumbnails/archive.sqlite.webp",
    "/images/.hidden.part",
    "/images//etc/passwd",
    "/images/%00",
    "/static/../archive.sqlite",
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_no_path_leaves_images_and_thumbnails(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 404
    assert b"SQLite format" not in await response.read()


async def test_no_symbolic_link_leads_out_of_images(
    client: Client, directory: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.png"
    picture(outside, (20, 20))
    (directory / "images" / "out.png").symlink_to(outside)
    (directory / "images" / "db.png").symlink_to(directory / "archive.sqlite")
    (directory / "images" / "up.png").symlink_to("../archive.sqlite")
    for name in ("out.png", "db.png", "up.png"):
        assert (await client.get(f"/images/{name}")).status == 404
        assert (await client.get(f"/thumbnails/{name}.webp")).status == 404
    (directory / "thumbnails").mkdir()
    (directory / "thumbnails" / "x.png.webp").symlink_to(outside)
    picture(directory / "images" / "x.png", (30, 30))
    served = await (await client.get("/thumbnails/x.png.webp")).read()
    assert served != outside.read_bytes()  # made afresh, not the link's target


async def test_a_thumbnail_of_no_image_is_a_404(client: Client) -> None:
    for path in ("/thumbnails/missing.png.webp", "/thumbnails/missing.png"):
        assert (await client.get(path)).status == 404
