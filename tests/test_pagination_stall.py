"""``iterate()`` against a server that ignores ``offset``: it stops with StalledListingError.

A window counts as stalled when it is full and repeats the window before it id for id (see
``STALLED_WINDOWS``). The tests here pin both sides of that rule: purpose-built servers that
answer every offset with the same page trip it, and front insertion that brings back whole
windows of already seen artworks (each a different stretch of the listing) does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
import yarl
from _client_helpers import (
    assert_quiet,
    assert_stats_add_up,
    ids_of,
    make_client,
    request_tasks,
)
from aiohttp import web

from tengrai_async import ArtworkPage, StalledListingError
from tengrai_async._pagination import STALLED_WINDOWS
from tengrai_async.testing import FakeTengrAI, make_artworks

#: ``answer(offset, limit, n)``: the items of the ``n``-th request (from 0) for that window.
Answer = Callable[[int, int, int], list[Any]]
PAGE = 10
#: Generous: a stalled iteration that hangs fails here instead of stalling the suite.
HANG: float = 10.0


class WindowServer:
    """A listing on a loopback port, on its own loop in a thread, answering with ``answer``.

    Its own thread keeps the test's loop free of server tasks, so that a task left there can
    only be the client's.
    """

    def __init__(self, answer: Answer, latency: float = 0.0) -> None:
        self.answer = answer
        self.latency = latency
        self.requests: list[tuple[int, int]] = []
        self.url = yarl.URL()

    async def _handle(self, request: web.Request) -> web.Response:
        offset, limit = int(request.query["offset"]), int(request.query["limit"])
        n = len(self.requests)
        self.requests.append((offset, limit))
        if self.latency:
            await asyncio.sleep(self.latency)
        body = orjson.dumps(self.answer(offset, limit, n))
        return web.Response(body=body, content_type="application/json")

    @contextlib.contextmanager
    def running(self) -> Iterator[WindowServer]:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="WindowServer", daemon=True)
        thread.start()
        app = web.Application()
        app.router.add_get("/v2/artworks", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)

        async def start() -> None:
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()

        try:
            asyncio.run_coroutine_threadsafe(start(), loop).result()
            port = runner.addresses[0][1]
            self.url = yarl.URL.build(scheme="http", host="127.0.0.1", port=port)
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()


def same_page(items: list[dict[str, Any]]) -> Answer:
    """A server that ignores ``offset``: every window is the first one."""
    return lambda _offset, limit, _n: items[:limit]


def stuck_at_first(listing: list[dict[str, Any]], stuck: int) -> Answer:
    """The first window for the first *stuck* windows (offsets), then the rest of *listing*."""

    def answer(offset: int, limit: int, _n: int) -> list[Any]:
        window = offset // limit
        start = 0 if window < stuck else (window - stuck + 1) * limit
        return listing[start : start + limit]

    return answer


async def drain(iterator: Any, into: list[Any] | None = None) -> list[Any]:
    """Collect what a stream yields into *into* (kept when it raises); a hang fails at HANG s."""
    got: list[Any] = [] if into is None else into

    async def consume() -> None:
        async for item in iterator:
            got.append(item)  # noqa: PERF401 - kept when the loop raises

    await asyncio.wait_for(consume(), HANG)
    return got


# -- a server that ignores offset ----------------------------------------------------------


@pytest.mark.parametrize("prefetch", [1, 4])
@pytest.mark.parametrize("dedupe_window", [100_000, 0])
async def test_a_server_ignoring_offset_ends_the_iteration_with_stalled_listing_error(
    prefetch: int, dedupe_window: int
) -> None:
    page = make_artworks(PAGE)
    with WindowServer(same_page(page)).running() as server:
        async with make_client(server.url) as client:
            iterator = client.artworks.iterate(
                page_size=PAGE, prefetch=prefetch, dedupe_window=dedupe_window
            )
            got: list[Any] = []
            with pytest.raises(StalledListingError) as caught:
                await drain(iterator, got)
            await assert_quiet(client)
    offsets = tuple(PAGE * n for n in range(1, STALLED_WINDOWS + 1))
    assert caught.value.offsets == offsets == (10, 20, 30)
    assert str(caught.value) == (
        "the windows at offsets 10, 20, 30 repeated the artworks of the window at offset 0: "
        "the server seems to ignore offset, so the listing would never end"
    )
    repeats = STALLED_WINDOWS - 1  # the windows handed on before the one that tripped
    expected = [a["id"] for a in page] * (1 if dedupe_window else 1 + repeats)
    assert ids_of(got) == expected
    # The windows up to the one that tripped, and at most the look-ahead beyond it.
    assert sorted(offset for offset, _ in server.requests)[: STALLED_WINDOWS + 1] == [0, *offsets]
    assert len(server.requests) <= STALLED_WINDOWS + prefetch
    assert iterator.stats.pages == STALLED_WINDOWS
    assert iterator.next_offset == STALLED_WINDOWS * PAGE
    assert_stats_add_up(iterator.stats)


async def test_pages_raise_it_too() -> None:
    page = make_artworks(PAGE)
    with WindowServer(same_page(page)).running() as server:
        async with make_client(server.url) as client:
            iterator = client.artworks.iterate(page_size=PAGE, prefetch=2)
            pages: list[ArtworkPage] = []
            with pytest.raises(StalledListingError, match="offsets 10, 20, 30"):
                await drain(iterator.pages(), pages)
    assert [(p.offset, len(p.items)) for p in pages] == [(0, 10), (10, 0), (20, 0)]


async def test_raising_it_cancels_the_look_ahead_and_leaves_nothing_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    page = make_artworks(PAGE)
    # The look-ahead windows are still in flight (0.2 s each) when the repeat is seen.
    with WindowServer(same_page(page), latency=0.2).running() as server:
        async with make_client(server.url) as client:
            iterator = client.artworks.iterate(page_size=PAGE, prefetch=4)
            with caplog.at_level(logging.ERROR, logger="asyncio"):
                started = asyncio.get_running_loop().time()
                with pytest.raises(StalledListingError):
                    await drain(iterator)
                elapsed = asyncio.get_running_loop().time() - started
                assert request_tasks() == []  # cancelled and awaited before the raise
                await assert_quiet(client)
                del iterator
                gc.collect()
                await asyncio.sleep(0)
    # Windows 0-30 came back in order, one latency each at most, with 40-60 in flight.
    assert elapsed < 2.0
    assert {offset for offset, _ in server.requests} <= set(range(0, 70, PAGE))
    assert [r for r in caplog.records if r.name == "asyncio"] == []


async def test_aclose_after_it_is_harmless() -> None:
    with WindowServer(same_page(make_artworks(PAGE))).running() as server:
        async with make_client(server.url) as client:
            async with client.artworks.iterate(page_size=PAGE, prefetch=3) as iterator:
                with pytest.raises(StalledListingError):
                    await drain(iterator)
            await iterator.aclose()
            await assert_quiet(client)


@pytest.mark.parametrize(
    ("repeats", "stalls"), [(STALLED_WINDOWS - 1, False), (STALLED_WINDOWS, True)]
)
async def test_only_stalled_windows_in_a_row_end_it(repeats: int, stalls: bool) -> None:
    listing = make_artworks(4 * PAGE + 5)
    with WindowServer(stuck_at_first(listing, stuck=repeats + 1)).running() as server:
        async with make_client(server.url) as client:
            iterator = client.artworks.iterate(page_size=PAGE, prefetch=1)
            if stalls:
                with pytest.raises(StalledListingError):
                    await drain(iterator)
            else:
                ids = ids_of(await drain(iterator))
                assert ids == [a["id"] for a in listing]
                assert iterator.stats.duplicates_dropped == repeats * PAGE


async def test_a_stall_that_is_interrupted_starts_counting_again() -> None:
    listing = make_artworks(3 * PAGE)
    first, second = listing[:PAGE], listing[PAGE : 2 * PAGE]

    def answer(offset: int, _limit: int, _n: int) -> list[Any]:
        # Two repeats of window 0, one new window, two repeats of it, then the end.
        return {0: first, 10: first, 20: first, 30: second, 40: second, 50: second}.get(
            offset, listing[2 * PAGE :][:5]
        )

    with WindowServer(answer).running() as server:
        async with make_client(server.url) as client:
            ids = ids_of(await drain(client.artworks.iterate(page_size=PAGE, prefetch=2)))
    assert ids == [a["id"] for a in listing[: 2 * PAGE + 5]]


async def test_a_running_job_changing_status_is_still_the_same_artwork() -> None:
    page = make_artworks(PAGE)
    statuses = ["starting", "processing", "succeeded", "succeeded"]

    def answer(_offset: int, limit: int, n: int) -> list[Any]:
        return [{**page[0], "status": statuses[min(n, 3)]}, *page[1:limit]]

    with WindowServer(answer).running() as server:
        async with make_client(server.url) as client:
            with pytest.raises(StalledListingError):
                await drain(client.artworks.iterate(page_size=PAGE, prefetch=1))


async def test_items_without_an_id_are_compared_whole() -> None:
    page = [{"artworkType": "vega", "n": n} for n in range(PAGE)]
    with WindowServer(same_page(page)).running() as server:
        async with make_client(server.url) as client:
            iterator = client.artworks.iterate(page_size=PAGE, prefetch=1)
            with pytest.raises(StalledListingError):
                await drain(iterator)
    # Nothing tells id-less items apart, so every window's items were handed on.
    assert iterator.stats.items_yielded == STALLED_WINDOWS * PAGE


async def test_a_short_listing_from_a_server_ignoring_offset_just_ends() -> None:
    page = make_artworks(PAGE - 3)
    with WindowServer(same_page(page)).running() as server:
        async with make_client(server.url) as client:
            ids = ids_of(await drain(client.artworks.iterate(page_size=PAGE, prefetch=3)))
    assert ids == [a["id"] for a in page]


# -- front insertion does not trip it ------------------------------------------------------


def longest_run_of_seen_windows(pages: list[ArtworkPage]) -> int:
    """The most consecutive full windows that brought only artworks already handed out."""
    longest = run = 0
    for page in pages:
        run = run + 1 if page.has_more and not page.items else 0
        longest = max(longest, run)
    return longest


async def test_a_burst_of_insertions_brings_back_seen_windows_without_tripping() -> None:
    # After 5 windows (50 artworks), 45 new ones arrive at the front: the next 4 windows hold
    # the artworks 5 to 44 again, every one already seen, yet each window is a different
    # stretch of the listing, so none repeats the one before it.
    async with (
        FakeTengrAI(count=200) as server,
        make_client(server.url) as client,
        client.artworks.iterate(page_size=PAGE, prefetch=1) as iterator,
    ):
        pages: list[ArtworkPage] = []
        async for page in iterator.pages():
            pages.append(page)
            if len(pages) == 5:
                server.insert(45)
    assert longest_run_of_seen_windows(pages) == 4 > STALLED_WINDOWS
    ids = [str(a.id) for page in pages for a in page.items]
    assert ids == server.ids()[45:]  # every original artwork once, in order
    assert_stats_add_up(iterator.stats)


@pytest.mark.parametrize("prefetch", [1, 4])
async def test_heavy_periodic_insertion_completes_without_tripping(prefetch: int) -> None:
    # 45 new artworks before every 8th request: runs of 4 windows of seen artworks.
    async with (
        FakeTengrAI(count=300, insert_every=8, insert_batch=45) as server,
        make_client(server.url) as client,
        client.artworks.iterate(page_size=PAGE, prefetch=prefetch) as iterator,
    ):
        pages = [page async for page in iterator.pages()]
    ids = [str(a.id) for page in pages for a in page.items]
    assert len(ids) == len(set(ids))
    assert not pages[-1].has_more  # the listing ended on its own
    assert_stats_add_up(iterator.stats)
    if prefetch == 1:
        # In order, insertions only bring repeats: every original artwork arrives. With
        # windows in flight together, the order they are served in varies, and so do the
        # runs (and offset paging may skip an artwork: see the README).
        assert longest_run_of_seen_windows(pages) == 4 > STALLED_WINDOWS
        assert set(server.ids()[server.total - 300 :]) <= set(ids)


@pytest.mark.parametrize("prefetch", [1, 4])
async def test_twice_the_page_size_inserted_before_every_request_does_not_trip(
    prefetch: int,
) -> None:
    # The listing grows by 2 windows per request while the iterator moves on by 1, so every
    # window lands among newly inserted artworks and the listing never ends: max_items is
    # what ends it, and the point is that no window counts as stalled. (Two windows served
    # in swapped order may overlap, but never so that one repeats the one before it.)
    async with (
        FakeTengrAI(count=200, insert_every=1, insert_batch=2 * PAGE) as server,
        make_client(server.url) as client,
        client.artworks.iterate(page_size=PAGE, prefetch=prefetch, max_items=500) as iterator,
    ):
        ids = [str(artwork.id) async for artwork in iterator]
    assert len(ids) == len(set(ids)) == 500
    if prefetch == 1:  # in order, every window is new artworks only
        assert iterator.stats.duplicates_dropped == 0
        assert len(server.requests) == 50


async def test_exactly_one_page_inserted_before_every_request_looks_like_a_stall() -> None:
    # The one insertion pattern that repeats windows: each request finds the same artworks
    # at the same offset, which an ignored offset would also give. The listing makes no
    # progress either, so stopping is the documented outcome.
    async with (
        FakeTengrAI(count=100, insert_every=1, insert_batch=PAGE) as server,
        make_client(server.url) as client,
    ):
        with pytest.raises(StalledListingError) as caught:
            await drain(client.artworks.iterate(page_size=PAGE, prefetch=1))
    assert caught.value.offsets == (10, 20, 30)


async def test_an_ordinary_listing_is_not_slowed_by_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Consecutive windows differ at their first item, so the comparison looks at one item each.
    from tengrai_async import _pagination  # noqa: PLC0415 - patched for this test only

    looked_at: list[Any] = []
    key = _pagination._item_key

    def counting(item: Any) -> Any:
        looked_at.append(item)
        return key(item)

    monkeypatch.setattr(_pagination, "_item_key", counting)
    async with FakeTengrAI(count=1000) as server, make_client(server.url) as client:
        ids = [str(a.id) async for a in client.artworks.iterate(page_size=100)]
    assert ids == server.ids()
    assert len(looked_at) == 2 * 9  # windows 100 to 900, one pair each
