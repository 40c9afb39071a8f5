from __future__ import annotations

import asyncio
import collections
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from _client_helpers import (
    RequestTrace,
    assert_quiet,
    assert_stats_add_up,
    ids_of,
    listing_requests,
    make_client,
    other_tasks,
    request_tasks,
    traced_session,
    windows_requested,
)
from _moments import moment

from tengrai_async import (
    ArtworkStatus,
    ArtworkType,
    ResponseValidationError,
    ServerError,
    TengrAI,
    UnknownArtwork,
)
from tengrai_async.testing import FakeTengrAI, make_artworks


@pytest.fixture
async def small() -> AsyncIterator[tuple[FakeTengrAI, TengrAI]]:
    """100 artworks and a client for them."""
    async with FakeTengrAI(count=100) as server, make_client(server.url) as client:
        yield server, client


def created(artwork: dict[str, Any]) -> dt.datetime:
    return moment(artwork["createdAt"])


# -- a whole listing -----------------------------------------------------------------------


async def test_every_artwork_arrives_once_in_order_through_a_flaky_api() -> None:
    async with (
        FakeTengrAI(count=20_000, fault_rate=0.2, fault_seed=7) as server,
        make_client(server.url, max_retries=12) as client,
        client.artworks.iterate(page_size=500, prefetch=4) as iterator,
    ):
        ids = ids_of([artwork async for artwork in iterator])
    recorded = listing_requests(server)
    assert ids == server.ids()
    stats = iterator.stats
    assert_stats_add_up(stats)
    assert stats.items_received == stats.items_yielded == 20_000
    assert stats.filtered_out == stats.duplicates_dropped == stats.invalid_skipped == 0
    assert stats.pages == 41  # 40 full windows, then the empty one that ends the listing
    assert iterator.next_offset == 20_000
    faults = collections.Counter(request.fault for request in recorded)
    assert set(faults) == {None, "429", "500", "503", "malformed", "drop"}
    # Every window up to the end was answered successfully exactly once ...
    consumed = range(0, 20_001, 500)
    ok = collections.Counter(int(r.query["offset"]) for r in recorded if r.fault is None)
    assert all(ok[offset] == 1 for offset in consumed)
    # ... after one retry per fault it drew; look-aheads past the end (at most prefetch - 1)
    # may have been discarded or cancelled, so their counts are bounds.
    faulted = sum(1 for r in recorded if r.fault is not None and int(r.query["offset"]) <= 20_000)
    assert stats.retries >= faulted > 0
    assert stats.requests >= len(recorded)
    assert 41 <= stats.requests - stats.retries <= 41 + 3


@pytest.mark.parametrize("total", [0, 1, 10, 20, 21])
async def test_totals_around_the_page_size_give_exactly_those_items(total: int) -> None:
    async with FakeTengrAI(count=total) as server, make_client(server.url) as client:
        async with client.artworks.iterate(page_size=10, prefetch=3) as iterator:
            ids = ids_of([artwork async for artwork in iterator])
        assert ids == server.ids()
    assert len(ids) == total
    assert iterator.stats.pages == total // 10 + 1
    assert iterator.next_offset == total
    assert_stats_add_up(iterator.stats)


async def test_plain_async_for_without_context_manager_reads_everything(
    small: tuple[FakeTengrAI, TengrAI],
) -> None:
    server, client = small
    ids = ids_of([artwork async for artwork in client.artworks.iterate(page_size=30)])
    assert ids == server.ids()
    assert request_tasks() == []


async def test_pages_yield_each_window_in_order(small: tuple[FakeTengrAI, TengrAI]) -> None:
    server, client = small
    async with client.artworks.iterate(page_size=30, prefetch=2) as iterator:
        pages = [page async for page in iterator.pages()]
    assert [(p.offset, p.count) for p in pages] == [(0, 30), (30, 30), (60, 30), (90, 10)]
    assert ids_of(a for page in pages for a in page) == server.ids()
    assert iterator.stats.items_yielded == 100
    assert iterator.next_offset == 100


async def test_an_iterator_runs_only_once(small: tuple[FakeTengrAI, TengrAI]) -> None:
    _, client = small
    async with client.artworks.iterate(page_size=50) as iterator:
        assert len([a async for a in iterator]) == 100
        with pytest.raises(RuntimeError, match="only once"):
            async for _ in iterator.pages():
                pass


# -- artworks inserted while listing ---------------------------------------------------------


async def test_artworks_inserted_during_a_sequential_listing_are_never_repeated() -> None:
    async with (
        FakeTengrAI(count=1000, insert_every=2, insert_batch=7) as server,
        make_client(server.url) as client,
        client.artworks.iterate(page_size=50, prefetch=1) as iterator,
    ):
        ids = ids_of([artwork async for artwork in iterator])
    inserted = server.total - 1000
    original = server.ids()[inserted:]
    assert inserted > 0
    assert ids == original  # each original artwork once, in order, none missed
    assert iterator.stats.duplicates_dropped > 0
    assert_stats_add_up(iterator.stats)


async def test_artworks_inserted_during_a_prefetching_listing_reach_the_caller_once() -> None:
    async with (
        FakeTengrAI(count=2000, insert_every=3, insert_batch=5) as server,
        make_client(server.url) as client,
        client.artworks.iterate(page_size=100, prefetch=4) as iterator,
    ):
        ids = ids_of([artwork async for artwork in iterator])
    order = {artwork_id: n for n, artwork_id in enumerate(server.ids())}
    assert len(ids) == len(set(ids))
    positions = [order[artwork_id] for artwork_id in ids]
    assert positions == sorted(positions)  # still in listing order
    assert iterator.stats.duplicates_dropped > 0
    assert_stats_add_up(iterator.stats)


# -- duplicates ----------------------------------------------------------------------------


def with_repeats() -> list[dict[str, Any]]:
    artworks = make_artworks(20)
    artworks[10] = artworks[0]  # far from its first sighting
    artworks[13] = artworks[11]  # close to it
    return artworks


@pytest.mark.parametrize(("dedupe_window", "dropped"), [(100_000, [10, 13]), (5, [13]), (0, [])])
async def test_dedupe_window_bounds_how_far_back_duplicates_are_caught(
    dedupe_window: int, dropped: list[int]
) -> None:
    artworks = with_repeats()
    async with (
        FakeTengrAI(artworks) as server,
        make_client(server.url) as client,
        client.artworks.iterate(page_size=4, dedupe_window=dedupe_window) as iterator,
    ):
        ids = ids_of([artwork async for artwork in iterator])
    assert ids == [a["id"] for n, a in enumerate(artworks) if n not in dropped]
    assert iterator.stats.duplicates_dropped == len(dropped)
    assert_stats_add_up(iterator.stats)


async def test_artworks_without_an_id_are_never_taken_for_duplicates() -> None:
    artworks = make_artworks(3)
    artworks[1:1] = [{"artworkType": "vega"}, {"artworkType": "vega"}]
    async with (
        FakeTengrAI(artworks) as server,
        make_client(server.url) as client,
        client.artworks.iterate(page_size=2) as iterator,
    ):
        kept = [artwork async for artwork in iterator]
    assert [artwork.id for artwork in kept if isinstance(artwork, UnknownArtwork)] == [None, None]
    assert len(kept) == 5
    assert iterator.stats.duplicates_dropped == 0


async def test_pages_returns_the_same_page_stream_each_call(
    small: tuple[FakeTengrAI, TengrAI],
) -> None:
    _, client = small
    async with client.artworks.iterate(page_size=50) as iterator:
        assert iterator.pages() is iterator.pages()
        assert len([page async for page in iterator.pages()]) == 3


# -- max_items -----------------------------------------------------------------------------


async def test_max_items_below_the_total_stops_and_requests_only_what_it_needs(
    small: tuple[FakeTengrAI, TengrAI],
) -> None:
    server, client = small
    async with client.artworks.iterate(page_size=10, prefetch=4, max_items=25) as iterator:
        ids = ids_of([artwork async for artwork in iterator])
    assert ids == server.ids()[:25]
    assert windows_requested(server) == [(0, 10), (10, 10), (20, 5)]
    assert iterator.next_offset == 25
    assert iterator.stats.requests == 3


async def test_max_items_on_a_page_boundary_requests_no_further_window(
    small: tuple[FakeTengrAI, TengrAI],
) -> None:
    server, client = small
    async with client.artworks.iterate(page_size=10, prefetch=4, max_items=20) as iterator:
        ids = ids_of([artwork async for artwork in iterator])
    assert ids == server.ids()[:20]
    assert windows_requested(server) == [(0, 10), (10, 10)]


async def test_max_items_above_the_total_gives_everything(
    small: tuple[FakeTengrAI, TengrAI],
) -> None:
    server, client = small
    async with client.artworks.iterate(page_size=40, prefetch=2, max_items=1000) as iterator:
        ids = ids_of([artwork async for artwork in iterator])
    assert ids == server.ids()
    requested = windows_requested(server)
    assert requested[:3] == [(0, 40), (40, 40), (80, 40)]
    assert requested[3:] in ([], [(120, 40)])  # the one look-ahead past the end, if it got out
    assert iterator.next_offset == 100


async def test_max_items_zero_sends_no_request(small: tuple[FakeTengrAI, TengrAI]) -> None:
    server, client = small
    async with client.artworks.iterate(max_items=0) as iterator:
        assert [artwork async for artwork in iterator] == []
    assert server.requests == []


async def test_max_items_with_pages_cuts_the_last_page(small: tuple[FakeTengrAI, TengrAI]) -> None:
    server, client = small
    async with client.artworks.iterate(page_size=30, max_items=45) as iterator:
        pages = [page async for page in iterator.pages()]
    assert [len(page) for page in pages] == [30, 15]
    assert ids_of(a for page in pages for a in page) == server.ids()[:45]
    assert iterator.next_offset == 45


async def test_max_items_counts_kept_artworks_when_filtering() -> None:
    artworks = make_artworks(200)
    wanted = [a["id"] for a in artworks if a["status"] == "failed"][:7]
    async with (
        FakeTengrAI(artworks) as server,
        make_client(server.url) as client,
        client.artworks.iterate(page_size=20, prefetch=2, max_items=7, status="failed") as iterator,
    ):
        ids = ids_of([artwork async for artwork in iterator])
    assert ids == wanted
    assert all(limit == 20 for _, limit in windows_requested(server))


# -- filters -------------------------------------------------------------------------------

ARTWORKS = make_artworks(300, seed=5)


async def filtered(*, received: int = len(ARTWORKS), **kwargs: Any) -> tuple[list[str], Any]:
    async with (
        FakeTengrAI(ARTWORKS) as server,
        make_client(server.url) as client,
        client.artworks.iterate(page_size=64, prefetch=3, **kwargs) as iterator,
    ):
        ids = ids_of([artwork async for artwork in iterator])
    assert_stats_add_up(iterator.stats)
    assert iterator.stats.items_received == received
    assert iterator.stats.filtered_out == received - len(ids)
    return ids, iterator


@pytest.mark.parametrize(
    "status", [ArtworkStatus.FAILED, "failed", ["failed"], ("failed",), {ArtworkStatus.FAILED}]
)
async def test_status_filter_accepts_a_member_a_string_or_a_collection(status: Any) -> None:
    ids, _ = await filtered(status=status)
    assert ids == [a["id"] for a in ARTWORKS if a["status"] == "failed"]
    assert ids


async def test_status_filter_with_several_statuses_keeps_any_of_them() -> None:
    ids, _ = await filtered(status=[ArtworkStatus.STARTING, "canceled"])
    assert ids == [a["id"] for a in ARTWORKS if a["status"] in ("starting", "canceled")]
    assert ids


@pytest.mark.parametrize("artwork_type", [ArtworkType.SELENA, "selena", ["selena", "vega"]])
async def test_artwork_type_filter_keeps_the_named_kinds(artwork_type: Any) -> None:
    ids, _ = await filtered(artwork_type=artwork_type)
    assert ids == [a["id"] for a in ARTWORKS if a["artworkType"] == "selena"]
    assert 0 < len(ids) < len(ARTWORKS)


async def test_artwork_type_filter_keeps_several_kinds_in_listing_order() -> None:
    ids, _ = await filtered(artwork_type=[ArtworkType.QUANTUM, "depth_map"])
    kept = [a["id"] for a in ARTWORKS if a["artworkType"] in ("quantum", "depth_map")]
    assert ids == kept
    assert kept


async def test_artwork_type_filter_drops_every_other_kind() -> None:
    ids, iterator = await filtered(artwork_type="vega")
    assert ids == []
    assert iterator.stats.filtered_out == 300


async def test_artwork_type_filter_can_select_a_kind_newer_than_the_sdk() -> None:
    artworks = make_artworks(10)
    for n in (2, 5):
        artworks[n] = {"id": f"vega-{n}", "artworkType": "vega", "status": "failed"}
    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        async with client.artworks.iterate(page_size=4, artwork_type="vega") as iterator:
            kept = [artwork async for artwork in iterator]
        async with client.artworks.iterate(page_size=4, status="failed") as by_status:
            failed = [artwork async for artwork in by_status]
    assert all(isinstance(artwork, UnknownArtwork) for artwork in kept)
    assert [artwork.raw["id"] for artwork in kept] == ["vega-2", "vega-5"]
    assert [artwork.id for artwork in kept] == [None, None]  # not a UUID: read leniently
    assert {"vega-2", "vega-5"} <= {artwork.raw["id"] for artwork in failed}


async def test_created_after_is_inclusive_and_created_before_exclusive() -> None:
    newer, older = ARTWORKS[40], ARTWORKS[120]  # newest first: 40 is the later moment
    ids, _ = await filtered(
        created_after=created(older), created_before=created(newer), received=121
    )
    assert ids == [a["id"] for a in ARTWORKS[41:121]]


async def test_created_bounds_compare_instants_across_time_zones() -> None:
    bound = created(ARTWORKS[10]).astimezone(dt.timezone(dt.timedelta(hours=-11)))
    after, _ = await filtered(created_after=bound, received=11)
    before, _ = await filtered(created_before=bound)
    assert after == [a["id"] for a in ARTWORKS[:11]]
    assert before == [a["id"] for a in ARTWORKS[11:]]


async def test_filters_combine() -> None:
    since = created(ARTWORKS[150])
    ids, _ = await filtered(
        status=["succeeded", "failed"], artwork_type="selena", created_after=since, received=151
    )
    assert ids == [
        a["id"]
        for a in ARTWORKS[:151]
        if a["status"] in ("succeeded", "failed") and a["artworkType"] == "selena"
    ]
    assert 0 < len(ids) < 151


async def test_created_after_ends_the_listing_at_the_first_older_artwork() -> None:
    async with FakeTengrAI(ARTWORKS) as server, make_client(server.url) as client:
        async with client.artworks.iterate(
            page_size=64, prefetch=1, created_after=created(ARTWORKS[100])
        ) as iterator:
            ids = ids_of([artwork async for artwork in iterator])
        assert windows_requested(server) == [(0, 64), (64, 64)]
    assert ids == [a["id"] for a in ARTWORKS[:101]]
    assert iterator.next_offset == 101
    assert iterator.stats.items_received == 101


async def test_created_after_with_look_ahead_cancels_the_windows_past_the_bound() -> None:
    async with FakeTengrAI(ARTWORKS, latency=0.02) as server, make_client(server.url) as client:
        async with client.artworks.iterate(
            page_size=20, prefetch=2, created_after=created(ARTWORKS[5])
        ) as iterator:
            ids = ids_of([artwork async for artwork in iterator])
        assert request_tasks() == []
        assert len(listing_requests(server)) <= 2
    assert ids == [a["id"] for a in ARTWORKS[:6]]


async def test_newest_first_false_scans_everything_and_filters() -> None:
    shuffled = [*ARTWORKS[150:], *ARTWORKS[:150]]  # not newest first
    bound = created(ARTWORKS[100])
    async with FakeTengrAI(shuffled) as server, make_client(server.url) as client:
        async with client.artworks.iterate(page_size=64, created_after=bound) as stopping:
            stopped = ids_of([artwork async for artwork in stopping])
        async with client.artworks.iterate(
            page_size=64, created_after=bound, newest_first=False
        ) as scanning:
            scanned = ids_of([artwork async for artwork in scanning])
    assert stopped == []  # the first artwork is older than the bound: the listing ends there
    assert scanned == [a["id"] for a in ARTWORKS[:101]]
    assert scanning.stats.items_received == len(ARTWORKS)


async def test_newest_first_must_be_a_boolean() -> None:
    async with FakeTengrAI(ARTWORKS) as server, make_client(server.url) as client:
        with pytest.raises(ValueError, match="newest_first"):
            client.artworks.iterate(newest_first="yes")  # type: ignore[arg-type]


# -- invalid artworks ----------------------------------------------------------------------


def corrupted() -> list[dict[str, Any]]:
    artworks = make_artworks(30)
    artworks[3]["status"] = "bogus"
    del artworks[17]["id"]
    artworks[25]["parameters"]["creativity"] = 99
    return artworks


async def test_on_invalid_skip_records_each_invalid_item_and_yields_the_rest() -> None:
    artworks = corrupted()
    async with (
        FakeTengrAI(artworks) as server,
        make_client(server.url) as client,
        client.artworks.iterate(page_size=10, prefetch=2, on_invalid="skip") as it,
    ):
        ids = ids_of([artwork async for artwork in it])
    assert ids == [a["id"] for n, a in enumerate(artworks) if n not in (3, 17, 25)]
    assert [error.offset for error in it.invalid] == [3, 17, 25]
    assert [error.path for error in it.invalid] == [
        "$[3].status",
        "$[7].id",
        "$[5].parameters.creativity",
    ]
    assert all(isinstance(error, ResponseValidationError) for error in it.invalid)
    assert it.stats.invalid_skipped == 3
    assert it.stats.items_received == 30
    assert_stats_add_up(it.stats)
    assert it.next_offset == 30


async def test_on_invalid_raise_reports_the_absolute_offset() -> None:
    artworks = corrupted()
    artworks[3] = make_artworks(1, start=3)[0]
    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        got: list[str] = []
        with pytest.raises(ResponseValidationError) as info:
            async with client.artworks.iterate(page_size=10, prefetch=2) as iterator:
                got.extend(ids_of([artwork async for artwork in iterator]))
        requested = windows_requested(server)
    assert info.value.offset == 17
    assert "offset 17" in str(info.value)
    assert got == []
    assert iterator.next_offset == 10  # the first page went out, the second broke
    assert requested.count((10, 10)) == 1  # an invalid body is not retried
    assert other_tasks() == set()


# -- resuming ------------------------------------------------------------------------------


async def test_resuming_from_next_offset_after_a_break_yields_the_rest(
    small: tuple[FakeTengrAI, TengrAI],
) -> None:
    server, client = small
    first: list[str] = []
    async with client.artworks.iterate(page_size=10, prefetch=3) as iterator:
        async for artwork in iterator:
            first.append(str(artwork.id))
            if len(first) == 15:
                break
    assert iterator.next_offset == 15
    async with client.artworks.iterate(offset=iterator.next_offset, page_size=10) as rest:
        second = ids_of([artwork async for artwork in rest])
    assert first + second == server.ids()
    assert rest.next_offset == 100


async def test_resuming_after_max_items_yields_the_rest(small: tuple[FakeTengrAI, TengrAI]) -> None:
    server, client = small
    async with client.artworks.iterate(page_size=10, max_items=33) as head:
        first = ids_of([artwork async for artwork in head])
    async with client.artworks.iterate(offset=head.next_offset, page_size=10) as tail:
        second = ids_of([artwork async for artwork in tail])
    assert first + second == server.ids()


async def test_resuming_a_filtered_listing_skips_nothing() -> None:
    async with FakeTengrAI(ARTWORKS) as server, make_client(server.url) as client:
        async with client.artworks.iterate(page_size=25, status="succeeded", max_items=20) as head:
            first = ids_of([artwork async for artwork in head])
        async with client.artworks.iterate(offset=head.next_offset, status="succeeded") as tail:
            second = ids_of([artwork async for artwork in tail])
    assert first + second == [a["id"] for a in ARTWORKS if a["status"] == "succeeded"]


# -- stopping early ------------------------------------------------------------------------
# The server runs on its own loop thread, so this loop holds only the client's tasks.


@pytest.fixture
def slow_server() -> Any:
    with FakeTengrAI.in_thread(count=1000, latency=0.3) as server:
        yield server


async def test_break_inside_async_with_cancels_in_flight_requests(slow_server: FakeTengrAI) -> None:
    async with make_client(slow_server.url) as client:
        async with client.artworks.iterate(page_size=10, prefetch=4) as iterator:
            async for n, _ in aenumerate(iterator):
                if n == 10:  # window 40 was just requested and is in flight for 0.3 s
                    assert request_tasks()
                    break
        await assert_quiet(client)
    assert iterator.stats.items_yielded == 11


async def test_break_without_async_with_cancels_in_flight_requests(
    slow_server: FakeTengrAI,
) -> None:
    async with make_client(slow_server.url) as client:
        async for n, _ in aenumerate(client.artworks.iterate(page_size=10, prefetch=4)):
            if n == 10:
                break
        await assert_quiet(client)


async def test_break_without_async_with_starts_no_further_request(
    slow_server: FakeTengrAI,
) -> None:
    async with make_client(slow_server.url) as client:
        async for n, _ in aenumerate(client.artworks.iterate(page_size=10, prefetch=4)):
            if n == 10:
                break
        for _ in range(400):  # until the look-ahead's request reaches the server thread
            if len(slow_server.requests) >= 5:
                break
            await asyncio.sleep(0.005)
        await assert_quiet(client)  # nothing left that could send another
        assert len(slow_server.requests) == 5


async def test_aclose_cancels_in_flight_requests_and_is_idempotent(
    slow_server: FakeTengrAI,
) -> None:
    async with make_client(slow_server.url) as client:
        iterator = client.artworks.iterate(page_size=10, prefetch=4)
        for _ in range(11):
            await anext(iterator)
        assert request_tasks()  # window 40 was just requested and is in flight for 0.3 s
        await iterator.aclose()
        await iterator.aclose()
        await assert_quiet(client)
        with pytest.raises(StopAsyncIteration):
            await anext(iterator)


async def test_an_exception_in_the_consumer_cancels_in_flight_requests(
    slow_server: FakeTengrAI,
) -> None:
    async def consume(client: TengrAI) -> None:
        async with client.artworks.iterate(page_size=10, prefetch=4) as iterator:
            async for n, _ in aenumerate(iterator):
                if n == 10:
                    assert request_tasks()
                    raise KeyError(n)

    async with make_client(slow_server.url) as client:
        with pytest.raises(KeyError):
            await consume(client)
        await assert_quiet(client)


async def test_cancelling_the_consuming_task_cancels_in_flight_requests(
    slow_server: FakeTengrAI,
) -> None:
    got: list[str] = []

    async def consume(client: TengrAI) -> None:
        async for artwork in client.artworks.iterate(page_size=10, prefetch=4):
            got.append(str(artwork.id))  # noqa: PERF401 - the test watches it grow

    async with make_client(slow_server.url) as client:
        consumer = asyncio.create_task(consume(client))
        while len(got) < 40:  # noqa: ASYNC110 - pages 0-3 arrived; windows 40-70 in flight
            await asyncio.sleep(0.005)
        assert request_tasks()
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer
        await assert_quiet(client)
    assert got == slow_server.ids()[:40]


async def test_a_failing_window_cancels_the_others_and_surfaces() -> None:
    with FakeTengrAI.in_thread(count=1000, latency=0.05) as server:
        async with make_client(server.url, max_retries=0) as client:
            server.queue_faults("503")
            with pytest.raises(ServerError):
                async for _ in client.artworks.iterate(page_size=10, prefetch=4):
                    pass
            await assert_quiet(client)


# -- prefetch ------------------------------------------------------------------------------


@pytest.mark.parametrize("prefetch", [1, 2, 4])
async def test_prefetch_keeps_that_many_windows_in_flight(prefetch: int) -> None:
    trace = RequestTrace()
    async with (
        FakeTengrAI(count=200, latency=0.05) as server,
        traced_session(trace) as session,
        make_client(server.url, session=session) as client,
        client.artworks.iterate(page_size=10, prefetch=prefetch) as iterator,
    ):
        first = await anext(iterator)
        at_first_item = len(server.requests)
        rest = [artwork async for artwork in iterator]
    assert ids_of([first, *rest]) == server.ids()
    assert at_first_item == prefetch  # sent together, before the first answer came back
    assert trace.max_in_flight == prefetch
    assert [offset for offset, _ in windows_requested(server)][:prefetch] == [
        10 * n for n in range(prefetch)
    ]


# -- bad arguments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"offset": -1},
        {"page_size": 0},
        {"page_size": 501},
        {"prefetch": 0},
        {"prefetch": 1.5},
        {"max_items": -1},
        {"max_items": 2.0},
        {"on_invalid": "ignore"},
        {"dedupe_window": -1},
        {"status": "bogus"},
        {"status": []},
        {"status": [3]},
        {"status": ["failed", None]},
        {"artwork_type": []},
        {"artwork_type": [3]},
        {"created_after": dt.datetime(2026, 1, 1)},  # noqa: DTZ001 - naive on purpose
        {"created_before": dt.datetime(2026, 1, 1)},  # noqa: DTZ001 - naive on purpose
        {"created_after": "2026-01-01T00:00:00Z"},
    ],
)
async def test_bad_iterate_arguments_raise_before_any_request(
    small: tuple[FakeTengrAI, TengrAI], kwargs: dict[str, Any]
) -> None:
    server, client = small
    with pytest.raises(ValueError):  # noqa: PT011 - one case each, the message names it
        client.artworks.iterate(**kwargs)
    await asyncio.sleep(0.01)
    assert server.requests == []


@pytest.mark.parametrize("kwargs", [{"status": 3}, {"artwork_type": 3}])
async def test_a_filter_that_is_not_a_name_or_a_collection_is_a_value_error(
    small: tuple[FakeTengrAI, TengrAI], kwargs: dict[str, Any]
) -> None:
    _, client = small
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        client.artworks.iterate(**kwargs)


async def aenumerate(iterator: Any) -> AsyncIterator[tuple[int, Any]]:
    n = 0
    async for item in iterator:
        yield n, item
        n += 1


# -- resuming with the ids of an earlier run ---------------------------------------------------


async def test_seen_ids_drop_items_an_earlier_run_handed_out() -> None:
    async with FakeTengrAI(count=30) as server, make_client(server.url) as client:
        first = [a async for a in client.artworks.iterate(page_size=10, max_items=12)]
        server.insert(3)  # the listing shifts: the first run's last items come back
        resumed = client.artworks.iterate(
            offset=12, page_size=10, seen_ids=[str(a.id) for a in first]
        )
        rest = [a async for a in resumed]
    assert ids_of(first + rest) == server.ids()[3:]
    assert resumed.stats.duplicates_dropped == 3
    assert_stats_add_up(resumed.stats)


async def test_seen_ids_accept_uuid_objects_and_text_alike() -> None:
    data = make_artworks(5)
    async with FakeTengrAI(artworks=data) as server, make_client(server.url) as client:
        seen: list[Any] = [uuid.UUID(data[0]["id"]), data[1]["id"], "not-a-uuid"]
        items = [a async for a in client.artworks.iterate(seen_ids=seen)]
    assert ids_of(items) == [item["id"] for item in data[2:]]
