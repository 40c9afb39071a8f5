"""Table 8: the gallery (``tengrai-async browse``) over an archive of 100,000 artworks.

``python benchmarks/bench_gallery.py [--quick]`` runs it alone. The archive is built through
the archive's own storage code (``ArchiveDatabase.store_page`` and ``record_images``, as a run
stores them; no network), 200 of its images real files. The gallery runs as the command does,
in a process of its own; one client process times the requests, one at a time, over loopback.

a. Latency of each page, p50 and p95 of many requests: ``/``, an older page deep in the
   archive, a search (a common word, so thousands match), a search with filters,
   ``/api/artworks`` and ``/artworks/{id}`` (random ids).
b. Cached thumbnails served per second, 16 requests in flight, cycling over 200 of them.
c. Making one thumbnail of a 1 MiB image (PNG 1024 x 1024, as the API sends; JPEG and WebP
   beside it): the median of several, in this process (``make_thumbnail``, what a worker
   thread runs).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
from _stats import LoadMeter, Target, format_rate, machine_info, median, print_table
from PIL import Image

from tengrai_async._json import encode_json
from tengrai_async.archive._db import ArchiveDatabase, ImageJob, ImageOutcome, StoredArtwork
from tengrai_async.gallery._thumbnails import make_thumbnail
from tengrai_async.testing import make_artworks

__all__ = ["run"]

MiB = 1 << 20
FILES = 200  # images that are real files (for the thumbnails)
#: The side of each 1 MiB image: what the API sends as PNG; the lossy formats need more pixels.
SIDES = {"PNG": 1024, "JPEG": 2048, "WEBP": 2048}


def build_archive(directory: Path, count: int) -> list[str]:
    """An archive of *count* synthetic artworks; their ids. Every image is recorded as done."""
    directory.mkdir(parents=True)
    images = directory / "images"
    images.mkdir()
    db = ArchiveDatabase(directory / "archive.sqlite")
    ids: list[str] = []
    names: list[str] = []
    try:
        for start in range(0, count, 500):
            items = make_artworks(min(500, count - start), start=start)
            for item in items:
                if item["status"] == "succeeded" and not item["results"]:
                    item["results"] = [f"https://cdn.example/{item['id']}/0.png"]
            db.store_page(
                StoredArtwork(
                    id=item["id"],
                    artwork_type=item["artworkType"],
                    status=item["status"],
                    created_at=item["createdAt"],
                    json=encode_json(item),
                    results=tuple(item["results"]),
                )
                for item in items
            )
            records = []
            for item in items:
                for n, url in enumerate(item["results"]):
                    name = f"{item['id']}-{n}.png"
                    names.append(name)
                    records.append(
                        (
                            ImageJob(item["id"], n, url),
                            ImageOutcome("done", path=f"images/{name}", size=1, sha256="0"),
                        )
                    )
            db.record_images(records)
            ids += [item["id"] for item in items]
    finally:
        db.close()
    picture = _png_of(512)
    for name in names[:FILES]:
        (images / name).write_bytes(picture)
    return ids


def _png_of(side: int, noise: float = 0.0) -> bytes:
    gradient = Image.linear_gradient("L").resize((side, side))
    red = Image.radial_gradient("L").resize((side, side))
    channels = [gradient, red, gradient.transpose(Image.Transpose.ROTATE_90)]
    if noise:
        grain = Image.effect_noise((side, side), noise)
        channels = [Image.blend(c, grain, 0.5) for c in channels]
    out = io.BytesIO()
    Image.merge("RGB", channels).save(out, "PNG")
    return out.getvalue()


def one_mib(fmt: str) -> bytes:
    """An image of about 1 MiB in *fmt*: 1024 x 1024 for PNG, larger for the lossy formats."""
    side = SIDES[fmt]
    low, high = 0.0, 200.0
    best = b""
    for _ in range(12):  # bisect the grain until the file is about 1 MiB
        noise = (low + high) / 2
        base = Image.open(io.BytesIO(_png_of(side, noise)))
        out = io.BytesIO()
        base.save(out, fmt, **({} if fmt == "PNG" else {"quality": 90}))
        best = out.getvalue()
        if abs(len(best) - MiB) < MiB // 20:
            break
        low, high = (noise, high) if len(best) < MiB else (low, noise)
    return best


def _serve(directory: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "tengrai_async", "browse", str(directory), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    if process.stdout is None:  # pragma: no cover - stdout=PIPE always gives one
        raise RuntimeError("no stdout")
    return process, process.stdout.readline().strip()


async def _latencies(url: str, paths: Sequence[str]) -> list[float]:
    times: list[float] = []
    async with aiohttp.ClientSession() as session:
        for path in paths:
            started = time.perf_counter()
            async with session.get(url + path) as response:
                await response.read()
                _check(path, response.status)
            times.append(time.perf_counter() - started)
    return times


async def _throughput(url: str, paths: Sequence[str], total: int) -> float:
    connector = aiohttp.TCPConnector(limit=16)
    async with aiohttp.ClientSession(connector=connector) as session:
        for path in paths:  # made once, before the clock starts
            async with session.get(url + path) as response:
                await response.read()
        queue = iter(range(total))

        async def worker() -> None:
            for n in queue:
                async with session.get(url + paths[n % len(paths)]) as response:
                    await response.read()
                    _check(paths[n % len(paths)], response.status)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(16)))
        return total / (time.perf_counter() - started)


def _check(path: str, status: int) -> None:
    if status != 200:
        msg = f"{path} answered {status}"
        raise AssertionError(msg)


def p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def run(*, quick: bool) -> list[Target]:
    count, requests, total = (5_000, 40, 1_000) if quick else (100_000, 200, 5_000)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="bench-gallery-") as temporary:
        directory = Path(temporary) / "archive"
        started = time.perf_counter()
        ids = build_archive(directory, count)
        built = time.perf_counter() - started
        deep = ids[count * 9 // 10]
        pages = {
            "/": ["/"] * requests,
            f"/?older=… ({count * 9 // 10:,} artworks down)": [f"/?older={deep}"] * requests,
            "/?q=lantern (search)": ["/?q=lantern"] * requests,
            "/?q=cat&type=selena&status=succeeded": ["/?q=cat&type=selena&status=succeeded"]
            * requests,
            "/api/artworks": ["/api/artworks"] * requests,
            "/artworks/{id} (random ids)": [
                f"/artworks/{rng.choice(ids)}" for _ in range(requests)
            ],
        }
        process, url = _serve(directory)
        try:
            base = url.rstrip("/")
            timings = {name: asyncio.run(_latencies(base, paths)) for name, paths in pages.items()}
            thumbs = [
                f"/thumbnails/{p.name}.webp" for p in sorted((directory / "images").iterdir())
            ]
            rate = asyncio.run(_throughput(base, thumbs, total))
        finally:
            process.terminate()
            process.wait(timeout=30)
        matches = _count(directory)
    print_table(
        f"8a. The gallery's pages over {count:,} artworks ({built:.0f} s to build), "
        f"{requests} requests each, one at a time (ms)",
        ("page", "p50 ms", "p95 ms"),
        [(name, f"{median(t) * 1000:.1f}", f"{p95(t) * 1000:.1f}") for name, t in timings.items()],
    )
    print(f"(a search for 'lantern' matches {matches:,} artworks.)")
    print_table(
        f"8b. Cached thumbnails, 16 in flight, {total:,} requests over {len(thumbs)}",
        ("served per second",),
        [(format_rate(rate),)],
    )
    made: dict[str, float] = {}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-thumb-") as temporary:
        for fmt in ("PNG", "JPEG", "WEBP"):
            path = Path(temporary) / f"one.{fmt.lower()}"
            data = one_mib(fmt)
            sizes[fmt] = len(data)
            path.write_bytes(data)
            runs = []
            for _ in range(3 if quick else 9):
                started = time.perf_counter()
                make_thumbnail(path)
                runs.append(time.perf_counter() - started)
            made[fmt] = median(runs)
    print_table(
        "8c. Making one thumbnail (<= 320 px, WebP) of a 1 MiB image, median",
        ("image", "bytes", "ms"),
        [
            (f"{fmt} {SIDES[fmt]} x {SIDES[fmt]}", f"{sizes[fmt]:,}", f"{made[fmt] * 1000:.1f}")
            for fmt in made
        ],
    )
    worst_page = max(p95(t) for name, t in timings.items() if not name.startswith("/artworks/"))
    detail = p95(timings["/artworks/{id} (random ids)"])
    png = made["PNG"]
    return [
        Target("T8a gallery: /, searches, /api/artworks", "p95 < 50 ms", _ms(worst_page),
               worst_page < 0.050),
        Target("T8b gallery: /artworks/{id}", "p95 < 20 ms", _ms(detail), detail < 0.020),
        Target("T8c cached thumbnails", ">= 1,000/s", f"{format_rate(rate)}/s", rate >= 1000),
        Target("T8d thumbnail of a 1 MiB PNG", "< 50 ms", _ms(png), png < 0.050),
    ]  # fmt: skip


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _count(directory: Path) -> int:
    from tengrai_async.archive._reader import ArchiveReader, Filters  # noqa: PLC0415

    reader = ArchiveReader(directory)
    try:
        return reader.find(Filters(q="lantern"), limit=1).count
    finally:
        reader.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python benchmarks/bench_gallery.py")
    parser.add_argument("--quick", action="store_true", help="5,000 artworks: a smoke check")
    args = parser.parse_args()
    for line in machine_info(sys.argv[1:]):
        print(f"- {line}")
    with LoadMeter() as load:
        targets = run(quick=args.quick)
    print(load.describe())
    print_table(
        "Targets",
        ("target", "wants", "measured", "verdict"),
        [(t.name, t.wants, t.measured, t.verdict) for t in targets],
    )
