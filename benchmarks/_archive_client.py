"""One download round of the archive benchmark, in a process of its own: wall time and RSS.

Usage: ``python benchmarks/_archive_client.py MODE URL DIRECTORY WORKERS [profile]``; prints one
JSON line (with ``profile``, also the seconds spent in ``record_images`` and in the fsyncs).

Both modes first learn the image URLs untimed, then time only the downloads:

- ``archive``: ``sync(images=False)`` fills ``DIRECTORY`` (the artworks and their image rows),
  then ``sync(images=True, downloads=WORKERS)`` is timed: one listing request (the archive is
  up to date), the by-id look-ups of the few unfinished artworks, then every image (streamed,
  hashed, fsynced, renamed, one DB commit each).
- ``plain``: ``iterate()`` collects the URLs of the succeeded artworks, then WORKERS workers of
  a plain ``aiohttp.ClientSession()`` (the session the client makes for itself, the same
  timeouts and headers) stream each body to a file in 256 KiB chunks: no hash, no fsync, no DB.
- ``hashed``: ``plain`` plus a SHA-256 of each body as it streams in, nothing else: the floor
  of any downloader that records the hash, as the archive must.
- ``durable`` (``--profile`` only): ``plain`` plus what ``download_image`` adds to each file
  except the database: a SHA-256, a temporary name, an fsync off the loop and a rename.
- ``archive-nofsync``, ``archive-nohash``, ``archive-nodb``, ``archive-noproxy`` and their
  combinations (``--profile`` only, with the ``profile`` argument): ``archive`` with costs
  switched off in this process (see ``_archive_profile.download_variant``).

RSS: "before" is taken once the untimed part is done and collected (the session, the database
and the URLs exist); the peak is the larger of a 5 ms psutil poll on a thread and the kernel's
high-water mark (``VmHWM``, reset to the current RSS through ``/proc/self/clear_refs`` just
before the timed part, so the untimed part's peak does not count).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import psutil
import yarl
from _rss import PeakPoller, kernel_peak, reset_peak

from tengrai_async import TengrAI
from tengrai_async.archive import DATABASE_NAME, sync

API_KEY = "test-key"
CHUNK = 256 * 1024  # the archive's chunk size (tengrai_async/archive/_images.py)
TIMEOUT = 30.0  # the client's default timeout, which bounds each read of an image


async def _plain(
    session: aiohttp.ClientSession,
    jobs: list[tuple[str, int, str]],
    headers: dict[str, str],
    directory: Path,
    workers: int,
    *,
    hashed: bool,
    durable: bool,
) -> tuple[int, int]:
    """Download every job, *workers* at a time; return (images, bytes)."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=TIMEOUT, sock_read=TIMEOUT)
    queue = iter(jobs)
    done = 0
    written = 0

    def sync_to_disk(file: Any) -> None:
        file.flush()
        os.fsync(file.fileno())

    async def worker() -> None:
        nonlocal done, written
        for artwork_id, position, url in queue:  # the workers share one iterator
            async with session.get(url, headers=headers, timeout=timeout) as response:
                response.raise_for_status()
                name = f"{artwork_id}-{position}.{url.rsplit('.', 1)[-1]}"
                path = directory / (f".{name}.part" if durable else name)
                digest = hashlib.sha256()
                with path.open("wb") as file:
                    async for chunk in response.content.iter_chunked(CHUNK):
                        if hashed or durable:
                            digest.update(chunk)
                        file.write(chunk)
                        written += len(chunk)
                    if durable:
                        await asyncio.to_thread(sync_to_disk, file)
                if durable:
                    path.replace(directory / name)
            done += 1

    await asyncio.gather(*(worker() for _ in range(workers)))
    return done, written


async def main(
    mode: str, url: str, directory: Path, workers: int, *, profile: bool = False
) -> dict[str, Any]:
    process = psutil.Process()
    timers: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if profile:
        # Only --profile touches the package's private functions (_archive_profile.py).
        from _archive_profile import download_variant, time_downloads  # noqa: PLC0415

        mode = download_variant(mode)
        if mode == "archive":
            timers = time_downloads()
    if mode not in ("archive", "plain", "hashed", "durable"):
        msg = f"unknown mode {mode!r} (the archive-... variants need the profile argument)"
        raise ValueError(msg)
    async with TengrAI(api_key=API_KEY, base_url=url) as client:
        if mode == "archive":
            await sync(client, directory, images=False)
            with contextlib.closing(sqlite3.connect(directory / DATABASE_NAME)) as db:
                expected = db.execute("SELECT count(*) FROM images").fetchone()[0]
        else:
            jobs = [
                (str(artwork.id), position, result)
                async for artwork in client.artworks.iterate(page_size=500)
                if artwork.status == "succeeded"
                for position, result in enumerate(artwork.results or ())
            ]
            expected = len(jobs)
            directory.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - untimed setup
            # The headers download_image sends to an image on the API's own origin.
            transport = client._transport  # noqa: SLF001 - the same headers as the archive's
            if jobs and hasattr(transport, "headers_for"):
                headers = transport.headers_for(yarl.URL(jobs[0][2]))
            else:
                headers = {"Authorization": f"Bearer {API_KEY}"}
            headers["Accept"] = "image/*"
        gc.collect()
        before = process.memory_info().rss
        reset = reset_peak()
        times = os.times()
        started = time.perf_counter()
        with PeakPoller() as poller, timers as spent:
            if mode == "archive":
                report = await sync(client, directory, images=True, downloads=workers)
                images, written = report.images_downloaded, report.bytes_downloaded
                problems = report.images_failed + report.images_gone
            else:
                # Its own session, as the client would make it: aiohttp.ClientSession().
                async with aiohttp.ClientSession() as session:
                    images, written = await _plain(
                        session,
                        jobs,
                        headers,
                        directory,
                        workers,
                        hashed=mode == "hashed",
                        durable=mode == "durable",
                    )
                problems = 0
        wall = time.perf_counter() - started
        ended = os.times()
        after = process.memory_info().rss
    return {
        "mode": mode,
        "expected": expected,
        "images": images,
        "bytes": written,
        "problems": problems,
        "wall": wall,
        "user": ended.user - times.user,
        "sys": ended.system - times.system,
        "before": before,
        "after": after,
        "peak_polled": poller.peak,
        "peak_kernel": kernel_peak(),
        "peak_reset": reset,
        "record_s": spent.record if spent else None,
        "fsync_s": spent.fsync if spent else None,
    }


if __name__ == "__main__":
    mode, url, directory, workers, *rest = sys.argv[1:]
    result = asyncio.run(
        main(mode, url, Path(directory), int(workers), profile=rest == ["profile"])
    )
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
