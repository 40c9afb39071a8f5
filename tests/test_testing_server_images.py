"""The fake server's images: results that point at them, valid bytes, origins, faults, statuses."""

from __future__ import annotations

import asyncio
import hashlib
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
import yarl
from multidict import CIMultiDictProxy

from tengrai_async.testing import (
    IMAGE_CONTENT_TYPES,
    IMAGE_EXTS,
    FakeTengrAI,
    RecordedRequest,
    image_bytes,
    image_ext,
    make_artwork,
)

AUTH = {"Authorization": "Bearer test-key"}
SIDE = 16


@pytest.fixture
async def api() -> AsyncIterator[aiohttp.ClientSession]:
    """A session that sends the API key with every request, as an API client does."""
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


@pytest.fixture
async def plain() -> AsyncIterator[aiohttp.ClientSession]:
    """A session without a key, as a downloader of images should be."""
    async with aiohttp.ClientSession() as session:
        yield session


async def get(
    session: aiohttp.ClientSession, url: yarl.URL | str, **kwargs: Any
) -> tuple[int, CIMultiDictProxy[str], bytes]:
    async with session.get(url, **kwargs) as response:
        return response.status, response.headers, await response.read()


async def listing(session: aiohttp.ClientSession, server: FakeTengrAI, **params: int) -> Any:
    status, _, body = await get(session, server.url / "v2/artworks", params=params)
    assert status == 200
    return orjson.loads(body)


async def by_id(session: aiohttp.ClientSession, server: FakeTengrAI, artwork_id: str) -> Any:
    status, _, body = await get(session, server.url / "v2/artworks" / artwork_id)
    assert status == 200
    return orjson.loads(body)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- checking the formats by hand ------------------------------------------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into its chunks, checking the signature, every CRC and the framing."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        position += 12 + length
    assert position == len(data)
    return chunks


def check_png(data: bytes) -> bytes:
    """Check a PNG of ours all the way to its pixels; return the raw scanlines."""
    chunks = png_chunks(data)
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR"
    assert chunks[-1] == (b"IEND", b"")
    assert kinds.count(b"IDAT") == 1
    # Anything else must be ancillary (a lower-case first letter), which decoders may skip.
    assert all(kind[0:1].islower() for kind in kinds if kind not in (b"IHDR", b"IDAT", b"IEND"))
    assert struct.unpack(">IIBBBBB", chunks[0][1]) == (SIDE, SIDE, 8, 2, 0, 0, 0)
    raw = zlib.decompress(dict(chunks)[b"IDAT"])
    assert len(raw) == SIDE * (1 + 3 * SIDE)
    assert all(raw[row * (1 + 3 * SIDE)] == 0 for row in range(SIDE))  # filter type None
    return raw


def riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    assert struct.unpack("<I", data[4:8]) == (len(data) - 8,)
    chunks, position = [], 12
    while position < len(data):
        kind = data[position : position + 4]
        (length,) = struct.unpack("<I", data[position + 4 : position + 8])
        chunks.append((kind, data[position + 8 : position + 8 + length]))
        position += 8 + length + (length & 1)
    assert position == len(data)
    return chunks


def check_webp(data: bytes) -> None:
    """Check the RIFF container and the VP8L header of a WebP of ours."""
    chunks = dict(riff_chunks(data))
    assert list(chunks) in ([b"VP8L"], [b"VP8X", b"VP8L", b"PADD"])
    if b"VP8X" in chunks:
        vp8x = chunks[b"VP8X"]
        assert vp8x[:4] == bytes(4)  # no ICC profile, alpha, metadata or animation
        canvas = int.from_bytes(vp8x[4:7], "little") + 1, int.from_bytes(vp8x[7:10], "little") + 1
        assert canvas == (SIDE, SIDE)
    vp8l = chunks[b"VP8L"]
    assert vp8l[0] == 0x2F
    header = int.from_bytes(vp8l[1:5], "little")
    width, height = (header & 0x3FFF) + 1, ((header >> 14) & 0x3FFF) + 1
    assert (width, height) == (SIDE, SIDE)
    assert header >> 29 == 0  # version 0


def check_image(data: bytes, ext: str) -> None:
    if ext == "png":
        check_png(data)
    else:
        check_webp(data)


# -- results point at the images ---------------------------------------------------------------


def image_path(artwork_id: str, n: int) -> str:
    return f"/images/{artwork_id}/{n}.{image_ext(artwork_id)}"


async def test_results_of_listed_artworks_point_at_the_image_route(
    api: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=40, seed=3, images=True) as server:
        artworks = await listing(api, server, limit=40)
        base = server.image_base
    assert base.host == "127.0.0.1"
    for index, artwork in enumerate(artworks):
        plain_artwork = make_artwork(index, seed=3)
        assert [*artwork] == [*plain_artwork]  # the keys keep their places
        expected = [
            str(base.with_path(image_path(artwork["id"], n)))
            for n in range(len(plain_artwork["results"]))
        ]
        assert artwork == {**plain_artwork, "results": expected}
    extensions = {url.rsplit(".", 1)[1] for artwork in artworks for url in artwork["results"]}
    assert extensions == set(IMAGE_EXTS)


async def test_by_id_and_inserted_artworks_point_at_the_images_too(
    api: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=30, images=True) as server:
        inserted = server.insert(3)
        listed = await listing(api, server, limit=33)
        assert listed[:3] == inserted
        for artwork in listed:
            assert await by_id(api, server, artwork["id"]) == artwork
            assert all(url.startswith(f"{server.image_base}/images/") for url in artwork["results"])
        # Items are cached once serialized, with the image origin in them.
        assert len(server._cache) == 33


async def test_without_images_the_results_stay_on_the_cdn(api: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(images=False, count=20) as server:
        artworks = await listing(api, server, limit=20)
    assert any(artwork["results"] for artwork in artworks)
    for artwork in artworks:
        assert all(url.startswith("https://cdn.tengr.ai/") for url in artwork["results"])


async def test_a_restarted_server_points_at_its_new_port(api: aiohttp.ClientSession) -> None:
    server = FakeTengrAI(count=20, images=True)
    seen = []
    for _ in range(2):
        async with server:
            artworks = await listing(api, server, limit=20)
            seen.append({url for artwork in artworks for url in artwork["results"]})
            assert all(url.startswith(str(server.image_base)) for url in seen[-1])
    assert seen[0]
    assert seen[0] != seen[1]


async def test_explicit_artworks_are_served_as_given(api: aiohttp.ClientSession) -> None:
    async with FakeTengrAI([{"id": "mine", "results": ["https://cdn.tengr.ai/x.webp"]}]) as server:
        assert await listing(api, server) == [
            {"id": "mine", "results": ["https://cdn.tengr.ai/x.webp"]}
        ]
        # A test builds its own URLs on the image route.
        assert server.image_url("mine", 2, "png") == server.url.with_path("/images/mine/2.png")
        assert server.image_url("mine").path == f"/images/mine/0.{image_ext('mine')}"


@pytest.mark.parametrize(
    ("artwork_id", "n", "ext"),
    [("", 0, None), ("a/b", 0, None), ("a", -1, None), ("a", 0, "gif")],
)
async def test_image_url_refuses_what_the_route_cannot_serve(
    artwork_id: str, n: int, ext: str | None
) -> None:
    async with FakeTengrAI() as server:
        with pytest.raises(ValueError, match="no image route"):
            server.image_url(artwork_id, n, ext)


def test_image_base_of_a_server_that_is_not_running_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = FakeTengrAI(images=True).image_base


# -- the bytes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", IMAGE_EXTS)
async def test_an_image_is_valid_deterministic_and_typed(
    plain: aiohttp.ClientSession, ext: str
) -> None:
    async with FakeTengrAI() as server:
        url = server.image_url("some-artwork", 1, ext)
        first = await get(plain, url)
        second = await get(plain, url)
    status, headers, body = first
    assert status == 200
    assert headers["Content-Type"] == IMAGE_CONTENT_TYPES[ext]
    assert headers["Content-Length"] == str(len(body))
    check_image(body, ext)
    assert sha256(body) == sha256(second[2]) == sha256(image_bytes("some-artwork", 1, ext))
    assert body == server.image_bytes("some-artwork", 1, ext)


def test_images_differ_by_artwork_and_place() -> None:
    for ext in IMAGE_EXTS:
        images = {image_bytes(artwork_id, n, ext) for artwork_id in ("a", "b") for n in (0, 1)}
        assert len(images) == 4


def test_png_pixels_are_a_pattern_not_a_flat_colour() -> None:
    raw = check_png(image_bytes("pattern", 0, "png"))
    pixels = {raw[i : i + 3] for row in range(SIDE) for i in range(row * 49 + 1, row * 49 + 49, 3)}
    assert len(pixels) > SIDE


def test_every_artwork_has_one_extension_and_both_occur() -> None:
    ids = [make_artwork(index)["id"] for index in range(20)]
    assert {image_ext(artwork_id) for artwork_id in ids} == set(IMAGE_EXTS)
    assert all(image_ext(artwork_id) == image_ext(artwork_id) for artwork_id in ids)


@pytest.mark.parametrize("ext", IMAGE_EXTS)
@pytest.mark.parametrize("size", [0, 5_000, 1 << 20])
def test_image_size_grows_a_still_valid_image(ext: str, size: int) -> None:
    data = image_bytes("big", 0, ext, size=size)
    check_image(data, ext)
    natural = len(image_bytes("big", 0, ext))
    assert len(data) == max(size, natural + 12 if ext == "png" else 58)


def test_an_odd_webp_size_rounds_up_to_even_riff() -> None:
    assert len(image_bytes("odd", 0, "webp", size=5_001)) == 5_002
    assert len(image_bytes("odd", 0, "png", size=5_001)) == 5_001


@pytest.mark.parametrize(
    ("arguments", "match"),
    [({"ext": "gif"}, "ext"), ({"n": -1}, "n must"), ({"size": -1}, "size must")],
)
def test_image_bytes_refuses_what_it_cannot_make(arguments: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        image_bytes(**{"artwork_id": "a", "n": 0, "ext": "png", **arguments})


async def test_megabyte_images_are_served_fast_from_a_padding_made_once(
    plain: aiohttp.ClientSession,
) -> None:
    size = 1 << 20
    async with FakeTengrAI(image_size=size) as server:
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(get(plain, server.image_url(f"art{i}", 0, IMAGE_EXTS[i % 2])) for i in range(16))
        )
        elapsed = time.perf_counter() - started
    for i, (status, headers, body) in enumerate(answers):
        assert (status, len(body), headers["Content-Length"]) == (200, size, str(size))
        assert body == server.image_bytes(f"art{i}", 0, IMAGE_EXTS[i % 2])
    check_png(answers[0][2])
    assert elapsed < 1.5


async def test_head_answers_the_headers_only(plain: aiohttp.ClientSession) -> None:
    async with FakeTengrAI() as server:
        async with plain.head(server.image_url("h", 0, "png")) as response:
            assert response.status == 200
            assert response.headers["Content-Length"] == str(len(image_bytes("h", 0, "png")))
            assert await response.read() == b""
        server.queue_image_faults("huge")
        async with plain.head(server.image_url("h", 0, "png")) as response:
            assert response.status == 200
            assert int(response.headers["Content-Length"]) >= 1 << 40
            assert await response.read() == b""
        assert (await get(plain, server.image_url("h", 0, "png")))[0] == 200


@pytest.mark.parametrize(
    "path",
    ["/images/a/0.gif", "/images/a/01.png", "/images/a/x.png", "/images/a/b/0.png", "/images/"],
)
async def test_a_malformed_image_path_is_a_plain_404(
    plain: aiohttp.ClientSession, path: str
) -> None:
    async with FakeTengrAI() as server:
        server.queue_image_faults("500")
        status, headers, body = await get(plain, server.url.with_path(path))
        assert (status, body) == (404, b"404 Not Found\n")
        assert headers["Content-Type"].startswith("text/plain")
        # It did not use up the fault.
        assert (await get(plain, server.image_url("a", 0)))[0] == 500
    assert [r.path for r in server.image_requests] == [path, f"/images/a/0.{image_ext('a')}"]
    assert server.requests == []


# -- origins and keys --------------------------------------------------------------------------


async def test_same_origin_serves_images_on_the_api_port(plain: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=3, images=True) as server:
        assert server.image_base == server.url
        assert (await get(plain, server.image_url("x", 0)))[0] == 200


async def test_other_origin_serves_the_images_on_another_port_only(
    api: aiohttp.ClientSession, plain: aiohttp.ClientSession
) -> None:
    async with FakeTengrAI(count=30, images=True, image_origin="other") as server:
        assert server.image_base.host == server.url.host
        assert server.image_base.port != server.url.port
        artworks = await listing(api, server, limit=30)
        urls = [url for artwork in artworks for url in artwork["results"]]
        assert urls
        assert all(yarl.URL(url).origin() == server.image_base for url in urls)
        for url in urls[:3]:
            status, headers, body = await get(plain, url)
            assert status == 200
            assert body == image_bytes(*parse(url))
            assert headers["Content-Type"] == IMAGE_CONTENT_TYPES[parse(url)[2]]
        # The API's port has no images, and the image port has no API.
        api_side = await get(plain, server.url.with_path(yarl.URL(urls[0]).path))
        assert api_side[0] == 404
        assert orjson.loads(api_side[2])["statusCode"] == 404
        image_side = await get(api, server.image_base / "v2/artworks")
        assert image_side[:1] == (404,)
        assert image_side[2] == b"404 Not Found\n"
    assert [r.status for r in server.image_requests] == [200, 200, 200, 404]
    assert [r.path for r in server.requests] == ["/v2/artworks", yarl.URL(urls[0]).path]


def parse(url: str) -> tuple[str, int, str]:
    _, _, artwork_id, name = yarl.URL(url).path.split("/")
    n, ext = name.split(".")
    return artwork_id, int(n), ext


async def test_image_requests_record_their_headers_so_a_leaked_key_shows(
    api: aiohttp.ClientSession, plain: aiohttp.ClientSession
) -> None:
    async with FakeTengrAI(image_origin="other") as server:
        await get(plain, server.image_url("k", 0))
        await get(api, server.image_url("k", 1))
    clean, leaked = server.image_requests
    assert clean == RecordedRequest(
        method="GET",
        path=f"/images/k/0.{image_ext('k')}",
        query={},
        headers=clean.headers,
        status=200,
        fault=None,
    )
    assert "Authorization" not in clean.headers
    assert leaked.headers["authorization"] == "Bearer test-key"


async def test_closing_stops_both_origins(plain: aiohttp.ClientSession) -> None:
    server = FakeTengrAI(image_origin="other")
    await server.start()
    url = server.image_url("gone", 0)
    await server.close()
    with pytest.raises(aiohttp.ClientConnectionError):
        await plain.get(url)


# -- gone images and faults --------------------------------------------------------------------


async def test_gone_images_answer_404_or_the_status_chosen(plain: aiohttp.ClientSession) -> None:
    gone_url = "http://127.0.0.1:1/images/b/0.png"  # any origin: only the path counts
    async with FakeTengrAI(gone_images={("a", 1): 410, gone_url: 404}) as server:
        server.queue_image_faults("503")
        statuses = [
            (await get(plain, server.image_url("a", 1, "webp")))[0],
            (await get(plain, server.image_url("a", 1, "png")))[0],
            (await get(plain, server.image_url("b", 0, "webp")))[0],
            (await get(plain, server.image_url("a", 0)))[0],
            (await get(plain, server.image_url("a", 0)))[0],
        ]
    # Gone images do not use up the queued fault.
    assert statuses == [410, 410, 404, 503, 200]
    assert [r.fault for r in server.image_requests] == [None, None, None, "503", None]


async def test_gone_images_may_be_a_plain_collection(plain: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(gone_images=[("a", 0), "/images/b/3.webp"]) as server:
        assert (await get(plain, server.image_url("a", 0)))[0] == 404
        assert (await get(plain, server.image_url("b", 3)))[0] == 404
        assert (await get(plain, server.image_url("b", 2)))[0] == 200


@pytest.mark.parametrize(
    "gone",
    [{("a", 0): 500}, ["not-an-image-url"], [("a", -1)], [("a",)]],
)
def test_gone_images_that_cannot_be_are_refused(gone: Any) -> None:
    with pytest.raises(ValueError, match=r"gone image|an image is"):
        FakeTengrAI(gone_images=gone)


async def test_queued_image_faults_come_in_order_then_clean_images(
    plain: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(retry_after=3) as server:
        server.queue_image_faults("404", "410", "429")
        server.queue_image_faults("500", "503")
        answers = [await get(plain, server.image_url("q", n)) for n in range(6)]
    assert [status for status, _, _ in answers] == [404, 410, 429, 500, 503, 200]
    assert answers[2][1]["Retry-After"] == "3"
    for status, headers, body in answers[:5]:
        assert headers["Content-Type"].startswith("text/plain")
        assert body.startswith(str(status).encode())
    assert [r.fault for r in server.image_requests] == ["404", "410", "429", "500", "503", None]


async def test_image_faults_do_not_touch_the_api(api: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=3) as server:
        server.queue_image_faults("500")
        assert len(await listing(api, server)) == 3
        server.queue_faults("503")
        status, _, _ = await get(api, server.url / "v2/artworks")
        assert status == 503
        assert (await get(api, server.image_url("i", 0)))[0] == 500


async def test_html_fault_is_a_200_that_is_no_image(plain: aiohttp.ClientSession) -> None:
    async with FakeTengrAI() as server:
        server.queue_image_faults("html")
        status, headers, body = await get(plain, server.image_url("h", 0))
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert headers["Content-Length"] == str(len(body))
    assert body.startswith(b"<!DOCTYPE html>")
    assert server.image_requests[0].fault == "html"


async def test_drop_fault_breaks_the_image_mid_body_and_the_server_carries_on(
    plain: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(image_size=100_000) as server:
        url = server.image_url("d", 0, "png")
        server.queue_image_faults("drop")
        async with plain.get(url) as response:
            assert response.status == 200
            assert response.headers["Content-Length"] == "100000"
            with pytest.raises(aiohttp.ClientPayloadError):
                await response.read()
        status, _, body = await get(plain, url)
    assert (status, body) == (200, image_bytes("d", 0, "png", size=100_000))
    assert [(r.status, r.fault) for r in server.image_requests] == [(200, "drop"), (200, None)]


async def test_slow_fault_trickles_the_whole_image(plain: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(image_chunk_delay=0.04) as server:
        url = server.image_url("s", 0, "png")
        server.queue_image_faults("slow")
        started = time.perf_counter()
        async with plain.get(url) as response:
            pieces = [piece async for piece in response.content.iter_any()]
        elapsed = time.perf_counter() - started
    assert b"".join(pieces) == image_bytes("s", 0, "png")
    assert len(pieces) >= 2
    assert 0.12 <= elapsed < 1.0


async def test_slow_fault_trips_a_read_timeout(plain: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(image_chunk_delay=0.15) as server:
        server.queue_image_faults("slow")
        timeout = aiohttp.ClientTimeout(sock_read=0.05)
        with pytest.raises(asyncio.TimeoutError):
            await get(plain, server.image_url("s", 0), timeout=timeout)


async def test_huge_fault_announces_a_terabyte_and_streams_until_the_client_hangs_up(
    plain: aiohttp.ClientSession,
) -> None:
    started = time.perf_counter()
    async with FakeTengrAI() as server:
        server.queue_image_faults("huge")
        async with plain.get(server.image_url("big", 0, "webp")) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "image/webp"
            assert int(response.headers["Content-Length"]) >= 1 << 40
            read = 0
            while read < 200_000:
                read += len(await response.content.read(65_536))
            response.close()  # a capped client hangs up
        # The server carries on.
        assert (await get(plain, server.image_url("big", 0, "webp")))[0] == 200
    assert time.perf_counter() - started < 1.5
    assert [r.fault for r in server.image_requests] == ["huge", None]


async def test_image_latency_delays_each_image_answer_only(
    api: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=2, image_latency=0.15) as server:
        started = time.perf_counter()
        await listing(api, server)
        api_elapsed = time.perf_counter() - started
        await get(api, server.image_url("l", 0))
        image_elapsed = time.perf_counter() - started - api_elapsed
    assert api_elapsed < 0.1
    assert image_elapsed >= 0.15


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"image_origin": "elsewhere"}, "image_origin"),
        ({"image_size": -1}, "image_size"),
        ({"image_latency": -0.1}, "image_latency"),
        ({"image_chunk_delay": -0.1}, "image_chunk_delay"),
    ],
)
def test_image_options_that_cannot_work_are_refused(arguments: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FakeTengrAI(**arguments)


def test_unknown_image_fault_is_refused() -> None:
    server = FakeTengrAI()
    with pytest.raises(ValueError, match="unknown image faults"):
        server.queue_image_faults("404", "teapot")
    with pytest.raises(ValueError, match="unknown faults"):
        server.queue_faults("html")  # type: ignore[arg-type]  # refused at run time too


# -- moving statuses on between runs -----------------------------------------------------------


async def test_finish_jobs_moves_every_job_to_its_outcome_now(api: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(count=2, images=True) as server:
        done = server.start_job(outcome="failed", polls=1)
        await by_id(api, server, done)
        await by_id(api, server, done)
        await by_id(api, server, done)  # now failed
        running = server.start_job(polls=50)
        timed = server.start_job("quantum", seconds=60.0)
        assert (await by_id(api, server, running))["status"] == "starting"
        assert server.finish_jobs() == [running, timed]
        assert server.finish_jobs() == []
        finished = await listing(api, server, limit=3)
        assert [a["status"] for a in finished] == ["succeeded", "succeeded", "failed"]
        for artwork in finished[:2]:
            assert 1 <= len(artwork["results"]) <= 2
            assert artwork["duration"] > 0
            for n, url in enumerate(artwork["results"]):
                assert url == str(server.image_url(artwork["id"], n))
                status, _, body = await get(api, url)
                assert (status, body) == (200, server.image_bytes(artwork["id"], n))
        assert finished[2]["results"] == []


async def test_set_status_succeeds_a_synthetic_artwork_with_images(
    api: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=40, images=True) as server:
        artworks = await listing(api, server, limit=40)
        pending = next(a for a in artworks if a["status"] in ("starting", "processing"))
        index = artworks.index(pending)
        server.set_status(pending["id"], "succeeded")
        after = await by_id(api, server, pending["id"])
        assert (await listing(api, server, offset=index, limit=1)) == [after]
        expected = [str(server.image_url(pending["id"], n)) for n in range(len(after["results"]))]
    assert after["status"] == "succeeded"
    assert 1 <= len(after["results"]) <= 2
    assert after["results"] == expected
    assert after["duration"] > 0
    assert {k: v for k, v in after.items() if k not in ("status", "results", "duration")} == {
        k: v for k, v in pending.items() if k not in ("status", "results", "duration")
    }
    assert [*after] == [*pending]


async def test_set_status_to_anything_else_empties_the_results(
    api: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(count=30) as server:
        artworks = await listing(api, server, limit=30)
        done = next(a for a in artworks if a["results"])
        server.set_status(done["id"], "starting")
        assert await by_id(api, server, done["id"]) == {
            **done,
            "status": "starting",
            "results": [],
            "duration": 0,
        }
        server.set_status(done["id"], "canceled")
        canceled = await by_id(api, server, done["id"])
        assert (canceled["status"], canceled["results"]) == ("canceled", [])
        assert canceled["duration"] > 0
        server.set_status(done["id"], "archived")  # undocumented statuses are served as given
        assert (await by_id(api, server, done["id"]))["status"] == "archived"


async def test_set_status_without_images_keeps_empty_results(
    api: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI(
        [{"id": "e", "status": "processing", "results": []}], images=False
    ) as server:
        server.set_status("e", "succeeded")
        assert await by_id(api, server, "e") == {"id": "e", "status": "succeeded", "results": []}


async def test_set_status_on_explicit_artworks_with_images(api: aiohttp.ClientSession) -> None:
    async with FakeTengrAI([{"id": "e", "status": "processing"}], images=True) as server:
        server.set_status("e", "succeeded")
        served = await by_id(api, server, "e")
        assert served["status"] == "succeeded"
        assert served["results"] == [
            str(server.image_url("e", n)) for n in range(len(served["results"]))
        ]
        assert 1 <= len(served["results"]) <= 2


async def test_set_status_finishes_a_job_with_that_outcome(api: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(images=False, count=1) as server:
        job = server.start_job(outcome="failed", polls=10)
        server.set_status(job, "succeeded")
        succeeded = await by_id(api, server, job)
        server.set_status(job, "processing")
        assert (await by_id(api, server, job))["status"] == "processing"
        assert server.finish_jobs() == [job]
        assert (await by_id(api, server, job)) == succeeded
    assert succeeded["status"] == "succeeded"
    assert succeeded["results"]
    assert all(url.startswith("https://cdn.tengr.ai/") for url in succeeded["results"])


def test_set_status_refuses_unknown_ids_and_empty_statuses() -> None:
    server = FakeTengrAI(count=3)
    with pytest.raises(KeyError, match="no listed artwork"):
        server.set_status(make_artwork(3)["id"], "succeeded")
    with pytest.raises(ValueError, match="status"):
        server.set_status(make_artwork(0)["id"], "")


def test_statuses_move_on_in_a_threaded_server_too() -> None:
    with FakeTengrAI.in_thread(count=1, images=True, image_origin="other") as server:
        job = server.start_job(polls=5)
        server.finish_jobs()
        artwork = sync_get(f"{server.url}/v2/artworks/{job}", AUTH)
        url = artwork["results"][0]
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            body = response.read()
        assert body == server.image_bytes(job, 0)
    assert artwork["status"] == "succeeded"
    assert url.startswith(f"http://127.0.0.1:{yarl.URL(url).port}/images/{job}/0.")


def sync_get(url: str, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback test URL
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback test URL
        return orjson.loads(response.read())


# -- the module ----------------------------------------------------------------------------------


def test_module_serves_images_on_another_origin() -> None:
    command = [sys.executable, "-m", "tengrai_async.testing", "--count", "20"]
    command += ["--images", "--image-origin", "other", "--image-size", "2000"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:  # noqa: S603 - our own module
        try:
            assert process.stdout is not None
            url = yarl.URL(process.stdout.readline().strip())
            artworks = sync_get(f"{url}/v2/artworks?limit=20", AUTH)
            image_url = next(u for artwork in artworks for u in artwork["results"])
            with urllib.request.urlopen(image_url, timeout=10) as response:  # noqa: S310 - loopback
                body = response.read()
        finally:
            process.terminate()
        assert process.wait(timeout=10) == 0
    assert yarl.URL(image_url).port != url.port
    assert body == image_bytes(*parse(image_url), size=2000)


async def test_result_origin_names_the_results_on_another_host_whatever_the_port(
    api: aiohttp.ClientSession,
) -> None:
    origin = "http://images.example.invalid"
    async with FakeTengrAI(count=3, result_origin=origin) as server:
        urls = [u for a in await listing(api, server) for u in a["results"]]
        assert urls
        assert all(u.startswith(f"{origin}/images/") for u in urls)
        assert str(server.image_url("x", 0, "png")) == f"{origin}/images/x/0.png"


@pytest.mark.parametrize(
    "origin", ["ftp://host", "http://host/path", "http://host/?q=1", "http://u@host", "nohost"]
)
def test_result_origin_must_be_an_http_origin(origin: str) -> None:
    with pytest.raises(ValueError, match="result_origin must be an http"):
        FakeTengrAI(result_origin=origin)
