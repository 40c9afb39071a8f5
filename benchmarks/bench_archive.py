"""Table 6: the archive (``tengrai_async.archive.sync``) against what it is built on.

``python benchmarks/bench_archive.py [--quick] [--rounds N] [--profile]`` runs it alone;
``--profile`` adds where the time goes (``_archive_profile.py``): the first run's time split
into building rows, SQL statements and commits; the database alone with SQLite's defaults too;
and downloads with one cost (fsync, SHA-256, the per-image commit) switched off at a time, then
all three.

a. Listing: a first ``sync(images=False)`` into an empty directory against ``iterate()`` over
   the same server (in its own process), rounds interleaved on one client; the SQLite writes
   are what the archive adds. Each round also records the event loop's longest stall (a task
   that sleeps 1 ms and notes how late it wakes). Beside it, the database alone: the same
   number of artworks stored through ``store_page`` with no network and no loop, the least a
   first run's database work costs.
b. A second, unchanged run over the full archive (after each first run): its wall time and the
   requests it makes (counted by an aiohttp trace on the client's session).
c. Downloads: ``sync(images=True, downloads=8)`` against a plain aiohttp downloader with 8
   workers, and against the same downloader hashing each body with SHA-256 (which the archive
   must record), each round in a fresh process (``_archive_client.py``) that also samples its RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs
import orjson
import yarl
from _archive_server import count_for_images, images_in
from _server import API_KEY, server_process
from _stats import LoadMeter, Target, format_rate, machine_info, median, print_table

import tengrai_async
from tengrai_async import TengrAI
from tengrai_async.archive import sync

if TYPE_CHECKING:
    from _archive_profile import StoreTimes

__all__ = ["main", "run"]

CLIENT = Path(__file__).with_name("_archive_client.py")
PAGE_SIZE = 500
PREFETCH = 4  # sync()'s default, given to iterate() too
DOWNLOADS = 8
IMAGE_SIZE = 1 << 20
MIB = 1024 * 1024
LISTING_PATH = "/v2/artworks"


@attrs.frozen
class Sizes:
    artworks: int
    images: int
    rounds: int  # 6a, 6b and the database probe
    download_rounds: int  # 6c: more, as a 2 GiB round varies more


@attrs.frozen
class Measure:
    wall: float
    cpu: float
    items: int
    stall: float  # the event loop's longest stall, in seconds


class StallMeter:
    """The event loop's longest stall while the block runs: how late a 1 ms sleep wakes."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            self.longest = max(self.longest, time.perf_counter() - started - 0.001)

    async def __aenter__(self) -> StallMeter:
        self._task = asyncio.create_task(self._watch())
        await asyncio.sleep(0)  # the watch is running before the timed part starts
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None  # noqa: S101 - set on entry
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@attrs.frozen
class SecondRun:
    wall: float
    listings: int
    by_id: int
    new: int
    unchanged: int
    complete: bool


class RequestCounter:
    """Counts the requests a session sends, by path (an aiohttp trace)."""

    def __init__(self) -> None:
        self.paths: collections.Counter[str] = collections.Counter()
        self.config = aiohttp.TraceConfig()
        self.config.on_request_start.append(self._started)

    async def _started(
        self, _session: aiohttp.ClientSession, _context: SimpleNamespace, params: Any
    ) -> None:
        self.paths[yarl.URL(params.url).path] += 1

    def listings(self) -> int:
        return self.paths[LISTING_PATH]

    def by_id(self) -> int:
        return sum(n for path, n in self.paths.items() if path.startswith(LISTING_PATH + "/"))


async def _timed_iterate(client: TengrAI) -> Measure:
    gc.collect()
    cpu = time.process_time()
    started = time.perf_counter()
    items = 0
    async with StallMeter() as stalls:
        async for _ in client.artworks.iterate(page_size=PAGE_SIZE, prefetch=PREFETCH):
            items += 1
    return Measure(time.perf_counter() - started, time.process_time() - cpu, items, stalls.longest)


async def _timed_archive(
    client: TengrAI, directory: Path, profile: list[StoreTimes] | None = None
) -> Measure:
    if directory.exists():  # noqa: ASYNC240 - before the clock starts
        msg = f"{directory} should not exist before a first run"
        raise AssertionError(msg)
    gc.collect()
    timers: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if profile is not None:
        # Only --profile touches the package's private functions (_archive_profile.py).
        from _archive_profile import time_store  # noqa: PLC0415

        timers = time_store()
    cpu = time.process_time()
    started = time.perf_counter()
    async with StallMeter() as stalls:
        with timers as spent:
            report = await sync(
                client, directory, images=False, page_size=PAGE_SIZE, prefetch=PREFETCH
            )
    wall = time.perf_counter() - started
    if profile is not None:
        profile.append(spent)
    if not report.complete or report.updated or report.unchanged:
        msg = f"a first run should store everything as new: {report}"
        raise AssertionError(msg)
    return Measure(wall, time.process_time() - cpu, report.new, stalls.longest)


async def _second_run(client: TengrAI, counter: RequestCounter, directory: Path) -> SecondRun:
    gc.collect()
    counter.paths.clear()
    started = time.perf_counter()
    report = await sync(client, directory, images=False, page_size=PAGE_SIZE, prefetch=PREFETCH)
    wall = time.perf_counter() - started
    return SecondRun(
        wall,
        counter.listings(),
        counter.by_id(),
        report.new,
        report.unchanged,
        report.complete,
    )


async def _listing(
    url: str, sizes: Sizes, workdir: Path, profile: list[StoreTimes] | None
) -> tuple[list[Measure], list[Measure], list[SecondRun]]:
    counter = RequestCounter()
    iterates: list[Measure] = []
    archives: list[Measure] = []
    seconds: list[SecondRun] = []
    async with (
        aiohttp.ClientSession(trace_configs=[counter.config]) as session,
        TengrAI(api_key=API_KEY, base_url=url, session=session) as client,
    ):
        # Untimed: the server generates and caches every artwork on its first request.
        await _timed_iterate(client)
        for index in range(sizes.rounds):
            directory = workdir / f"listing-{index}"
            if index % 2 == 0:
                iterates.append(await _timed_iterate(client))
                archives.append(await _timed_archive(client, directory, profile))
            else:
                archives.append(await _timed_archive(client, directory, profile))
                iterates.append(await _timed_iterate(client))
            seconds.append(await _second_run(client, counter, directory))
            shutil.rmtree(directory)
            os.sync()  # the next round does not pay for this one's writeback
    for measure in (*iterates, *archives):
        if measure.items != sizes.artworks:
            msg = f"expected {sizes.artworks} artworks, got {measure.items}"
            raise AssertionError(msg)
    return iterates, archives, seconds


def _download_round(mode: str, url: str, directory: Path, *, profile: bool) -> dict[str, Any]:
    command = [sys.executable, str(CLIENT), mode, url, str(directory), str(DOWNLOADS)]
    finished = subprocess.run(  # noqa: S603 - our own script
        [*command, "profile"] if profile else command,
        check=False,
        capture_output=True,
        text=True,
    )
    if finished.returncode != 0:
        msg = f"{mode} round failed (status {finished.returncode}):\n{finished.stderr}"
        raise RuntimeError(msg)
    output = finished.stdout
    result: dict[str, Any] = orjson.loads(output)
    shutil.rmtree(directory)
    os.sync()
    if result["images"] != result["expected"] or result["problems"]:
        msg = f"{mode}: {result['images']} of {result['expected']} images downloaded: {result}"
        raise AssertionError(msg)
    return result


def _downloads(
    url: str, sizes: Sizes, workdir: Path, modes: Sequence[str], *, profile: bool
) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for index in range(sizes.download_rounds):
        order = modes if index % 2 == 0 else list(reversed(modes))
        for mode in order:
            directory = workdir / f"{mode}-{index}"
            results[mode].append(_download_round(mode, url, directory, profile=profile))
    return results


def _growth(result: dict[str, Any]) -> float:
    peak = max(result["peak_polled"], result["peak_kernel"])
    return float(peak - result["before"]) / MIB


def run(*, quick: bool, rounds: int | None = None, profile: bool = False) -> list[Target]:
    """Run the three parts against server processes of their own; print the tables."""
    sizes = Sizes(10_000, 200, 3, 3) if quick else Sizes(100_000, 2_000, 3, 5)
    if rounds is not None:
        sizes = attrs.evolve(sizes, rounds=rounds, download_rounds=rounds)
    elif profile:
        sizes = attrs.evolve(sizes, download_rounds=sizes.rounds)  # 8 downloaders, not 2
    started = time.perf_counter()
    store_times: list[StoreTimes] | None = [] if profile else None
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as temporary:
        workdir = Path(temporary)
        with server_process(count=sizes.artworks) as url:
            iterates, archives, seconds = asyncio.run(_listing(url, sizes, workdir, store_times))
        listing_time = time.perf_counter() - started
        image_count = count_for_images(sizes.images)
        modes = [*DOWNLOAD_MODES, *PROFILE_MODES] if profile else list(DOWNLOAD_MODES)
        with server_process(count=image_count, images=True, image_size=IMAGE_SIZE) as url:
            downloads = _downloads(url, sizes, workdir, modes, profile=profile)
        probes = None
        if profile:
            from _archive_profile import probe_database  # noqa: PLC0415 - --profile only

            probes = probe_database(sizes.artworks, sizes.rounds, workdir, defaults=True)
    total = time.perf_counter() - started

    ratio = _print_listing(sizes, iterates, archives)
    second_wall, listings = _print_second(sizes, seconds)
    download_ratio, hashed_ratio, growth = _print_downloads(sizes, image_count, downloads)
    if store_times is not None and probes is not None:
        _print_profile(sizes, archives, iterates, store_times, probes, downloads)
    print(f"Table time: {total:.0f} s ({listing_time:.0f} s for 6a and 6b).")
    images = images_in(image_count)
    return [
        Target(
            "A1",
            f"archive first run, {sizes.artworks:,} artworks: sync/iterate() >= 0.7x",
            f"{ratio:.2f}x",
            ratio >= 0.7,
        ),
        Target(
            "A2",
            f"unchanged second run over {sizes.artworks:,}: wall < 1 s",
            f"{second_wall:.3f} s, {listings} listing request(s)",
            second_wall < 1,
        ),
        Target(
            "A3",
            f"{images:,} images of 1 MiB, downloads={DOWNLOADS}: sync/plain >= 0.9x",
            f"{download_ratio:.2f}x (plain + SHA-256 alone: {hashed_ratio:.2f}x of plain)",
            download_ratio >= 0.9,
        ),
        Target(
            "A4",
            "archive download phase: peak RSS growth < 64 MiB",
            f"{growth:.1f} MiB",
            growth < 64,
        ),
    ]


DOWNLOAD_MODES = ("archive", "plain", "hashed", "durable")
PROFILE_MODES = (
    "archive-nofsync",
    "archive-nohash",
    "archive-nodb",
    "archive-nofsync-nohash-nodb",
)
LABELS = {
    "archive": f"sync(images=True, downloads={DOWNLOADS})",
    "plain": f"plain aiohttp, {DOWNLOADS} workers",
    "hashed": "plain + SHA-256 of each body as it streams",
    "durable": "plain + sha256 + .part + fsync + rename",
    "archive-nofsync": "sync, fsync switched off",
    "archive-nohash": "sync, SHA-256 switched off",
    "archive-nodb": "sync, image records switched off",
    "archive-nofsync-nohash-nodb": "sync, all three switched off",
}


def _print_listing(sizes: Sizes, iterates: list[Measure], archives: list[Measure]) -> float:
    ratio = median(m.wall for m in iterates) / median(m.wall for m in archives)
    print_table(
        f"6a. Archive listing: first sync(images=False) into an empty directory vs iterate(), "
        f"{sizes.artworks:,} artworks, page_size={PAGE_SIZE}, prefetch={PREFETCH}, server in its "
        f"own process, median of {sizes.rounds} interleaved rounds",
        ("client", "items/s", "wall s", "CPU s", "longest loop stall ms", "walls s (each round)"),
        [
            (
                name,
                format_rate(sizes.artworks / median(m.wall for m in runs)),
                f"{median(m.wall for m in runs):.2f}",
                f"{median(m.cpu for m in runs):.2f}",
                f"{max(m.stall for m in runs) * 1000:.0f}",
                " / ".join(f"{m.wall:.2f}" for m in runs),
            )
            for name, runs in (("iterate()", iterates), ("sync(images=False)", archives))
        ],
    )
    print(
        f"sync/iterate throughput: {ratio:.2f}x (median iterate() wall over median sync wall). "
        "CPU: the client's process time, its threads included (the server's is not counted). "
        "Longest loop stall: the largest of the rounds, seen by a task that sleeps 1 ms at a time "
        "in every timed round of both (it costs both alike); the database works on a thread of its "
        "own, so the loop stalls no longer than iterate() makes it (decoding a page)."
    )
    return ratio


def _print_second(sizes: Sizes, seconds: list[SecondRun]) -> tuple[float, int]:
    print_table(
        f"6b. A second, unchanged sync(images=False) over the full archive of {sizes.artworks:,}, "
        "one after each first run",
        ("round", "wall s", "listing requests", "by-id requests", "new", "unchanged", "complete"),
        [
            (
                index,
                f"{s.wall:.3f}",
                s.listings,
                s.by_id,
                s.new,
                s.unchanged,
                "yes" if s.complete else "no",
            )
            for index, s in enumerate(seconds, 1)
        ],
    )
    print(
        "Requests counted by an aiohttp trace on the client's session. By-id requests: the "
        "artworks archived while still running (only the 20 newest of the synthetic history "
        "can be) are looked up again, as every run does. The verdict takes the median wall."
    )
    return median(s.wall for s in seconds), max(s.listings for s in seconds)


def _print_downloads(
    sizes: Sizes, image_count: int, downloads: dict[str, list[dict[str, Any]]]
) -> tuple[float, float, float]:
    plain_wall = median(r["wall"] for r in downloads["plain"])

    def row(mode: str) -> tuple[object, ...]:
        results = downloads[mode]
        wall = median(r["wall"] for r in results)
        mib = results[0]["bytes"] / MIB
        return (
            LABELS[mode],
            f"{results[0]['images']:,}",
            f"{mib:,.0f}",
            f"{wall:.2f}",
            f"{mib / wall:,.0f}",
            f"{plain_wall / wall:.2f}x",
            f"{median(r['user'] for r in results):.2f} + {median(r['sys'] for r in results):.2f}",
            f"{median(r['before'] for r in results) / MIB:.1f}",
            f"{median(_growth(r) for r in results):.1f}",
            f"{max(_growth(r) for r in results):.1f}",
            " / ".join(f"{r['wall']:.2f}" for r in results),
        )

    print_table(
        f"6c. Archive downloads: {images_in(image_count):,} images of {IMAGE_SIZE // 1024:,} KiB "
        f"({image_count:,} artworks), each round in a fresh process, server in its own process, "
        f"median of {sizes.download_rounds} interleaved rounds",
        (
            "client",
            "images",
            "MiB",
            "wall s",
            "MiB/s",
            "plain / this",
            "CPU s user + sys",
            "RSS before MiB",
            "peak growth MiB",
            "max growth MiB",
            "walls s (each round)",
        ),
        [row(mode) for mode in downloads],
    )
    plain = plain_wall
    hashed = median(r["wall"] for r in downloads["hashed"])
    durable = median(r["wall"] for r in downloads["durable"])
    archive = median(r["wall"] for r in downloads["archive"])
    ratio, hashed_ratio = plain / archive, plain / hashed
    growth = max(_growth(r) for r in downloads["archive"])
    print(
        f"sync/plain throughput: {ratio:.2f}x. What the archive must do costs the rest: plain + "
        f"SHA-256 alone runs at {hashed_ratio:.2f}x of plain, and with each file synced to disk "
        f"before its rename (durable) at {plain / durable:.2f}x; sync runs at "
        f"{durable / archive:.2f}x of that durable downloader. The archive's timed run also makes "
        "its one "
        "listing request and the by-id look-ups (see 6b) before the images. RSS before: after "
        "the untimed part (sync(images=False), or iterate() for the URLs), collected. Peak: "
        "the larger of a 5 ms psutil poll and the kernel's VmHWM, reset through "
        "/proc/self/clear_refs just before the timed part; the verdict takes the largest "
        "growth of the rounds. The plain downloader leaves its files in the page cache; the "
        "archive fsyncs each one."
    )
    return ratio, hashed_ratio, growth


def _print_profile(
    sizes: Sizes,
    archives: list[Measure],
    iterates: list[Measure],
    store_times: list[StoreTimes],
    probes: dict[str, list[Any]],
    downloads: dict[str, list[dict[str, Any]]],
) -> None:
    archive_wall = median(m.wall for m in archives)
    iterate_wall = median(m.wall for m in iterates)
    parts = [
        (
            "building rows on the event loop (_rows: wire_object, JSON text, StoredArtwork)",
            [t.rows for t in store_times],
        ),
        (
            "SQL statements on the database's thread (one lookup, multi-row INSERTs)",
            [t.statements for t in store_times],
        ),
        (
            f"COMMIT x {store_times[0].pages} there (WAL writes, checkpoint fsyncs)",
            [t.commits for t in store_times],
        ),
    ]
    rows: list[tuple[object, ...]] = [
        (name, f"{median(values):.2f}", f"{median(values) / sizes.artworks * 1e6:.1f}")
        for name, values in parts
    ]
    stored = median(t.rows + t.statements + t.commits for t in store_times)
    rows.append(
        (
            "all three (the thread's part overlaps the listing)",
            f"{stored:.2f}",
            f"{stored / sizes.artworks * 1e6:.1f}",
        )
    )
    rows.append(("sync wall", f"{archive_wall:.2f}", ""))
    rows.append(("iterate() wall (for comparison)", f"{iterate_wall:.2f}", ""))
    print_table(
        f"6d. Profile: where the first run's wall time goes ({sizes.artworks:,} artworks, "
        "the 6a rounds, timers on the package's functions)",
        ("part", "wall s", "µs/artwork"),
        rows,
    )
    print_table(
        f"6e. Profile: the database alone, {sizes.artworks:,} synthetic artworks stored 500 a "
        f"page into an empty archive, no network, no event loop, median of {sizes.rounds} "
        "interleaved rounds",
        ("way", "wall s", "CPU s", "artworks/s"),
        [
            (
                name,
                f"{median(p.wall for p in runs):.2f}",
                f"{median(p.cpu for p in runs):.2f}",
                format_rate(sizes.artworks / median(p.wall for p in runs)),
            )
            for name, runs in probes.items()
        ],
    )
    alone = median(p.wall for p in next(iter(probes.values())))
    print(
        f"The database alone takes {alone:.2f} s: even with a listing that cost nothing, a first "
        f"run could reach {iterate_wall / alone:.2f}x of iterate()'s {iterate_wall:.2f} s."
    )
    archive = downloads["archive"]
    print(
        "Downloads: record_images (a transaction per batch of images, on the database's "
        "thread, not awaited by the downloads) took "
        f"{median(r['record_s'] for r in archive):.2f} s per run; the fsyncs "
        f"{median(r['fsync_s'] for r in archive):.2f} s summed over the executor's threads. "
        "The 'switched off' rows of 6c take one cost out of the archive at a time."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the archive benchmark alone, as ``run.py`` would, and print its targets."""
    parser = argparse.ArgumentParser(prog="python benchmarks/bench_archive.py", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke check")
    parser.add_argument(
        "--rounds", type=int, default=None, help="rounds of each part (default 3, 5 for downloads)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="add where the time goes (tables 6d, 6e, and 6c with costs switched off): "
        "about 3 minutes more",
    )
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    print("## tengrai-async archive benchmark" + (" (--quick: smoke sizes)" if args.quick else ""))
    print()
    for line in machine_info(argv):
        print(f"- {line.replace('benchmarks/run.py', 'benchmarks/bench_archive.py')}")
    print(f"- package measured: {Path(tengrai_async.__file__).parent}")
    with LoadMeter() as load:
        targets = run(quick=args.quick, rounds=args.rounds, profile=args.profile)
    print(load.describe(), flush=True)
    print_table(
        "Targets"
        + (
            " (--quick sizes are too small for the verdicts to mean anything)" if args.quick else ""
        ),
        ("target", "wants", "measured", "verdict"),
        [(t.name, t.wants, t.measured, t.verdict) for t in targets],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
