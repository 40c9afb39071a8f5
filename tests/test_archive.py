"""The archive (``tengrai_async.archive.sync``) over real loopback HTTP, into a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import yarl
from _client_helpers import make_client
from aiohttp import web

from tengrai_async import TengrAI, converter
from tengrai_async.archive import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    ArchiveDatabaseError,
    ArchiveLockedError,
    ArchiveReport,
    sync,
)
from tengrai_async.testing import FakeTengrAI, make_artworks

Row = dict[str, Any]


def rows(directory: Path, table: str) -> list[Row]:
    db = sqlite3.connect(directory / "archive.sqlite")
    db.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in db.execute(f"SELECT * FROM {table}")]  # noqa: S608
    finally:
        db.close()


def entries(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def listing_requests(server: FakeTengrAI) -> int:
    return sum(1 for r in server.requests if r.path == "/v2/artworks")


def by_id_requests(server: FakeTengrAI) -> int:
    return sum(1 for r in server.requests if r.path.startswith("/v2/artworks/"))


def final(artworks: list[Row]) -> list[Row]:
    """The artworks with every status final, as a history older than a few minutes is.

    Their results are emptied too: explicit artworks keep their URLs as given, and tests
    reach nothing but loopback.
    """
    for artwork in artworks:
        if artwork["status"] in ("starting", "processing"):
            artwork["status"] = "canceled"
        artwork["results"] = []
    return artworks


async def listed(client: TengrAI) -> list[Row]:
    """The API's JSON of every artwork, in listing order."""
    async with client.artworks.iterate(on_invalid="skip") as iterator:
        return [converter.unstructure(artwork) async for artwork in iterator]


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeTengrAI, TengrAI]]:
    async with (
        FakeTengrAI(count=700, images=True) as server,
        make_client(server.url) as client,
    ):
        yield server, client


# -- the first run -------------------------------------------------------------------------


async def test_first_run_keeps_every_artwork_exactly_as_sent_and_every_image(
    served: tuple[FakeTengrAI, TengrAI], tmp_path: Path
) -> None:
    server, client = served
    report = await sync(client, tmp_path / "a", page_size=100)
    assert isinstance(report, ArchiveReport)
    expected = await listed(client)
    assert (report.new, report.updated, report.unchanged, report.invalid) == (700, 0, 0, 0)
    assert report.complete
    stored = {row["id"]: row for row in rows(tmp_path / "a", "artworks")}
    assert len(stored) == 700
    for item in expected:
        row = stored[item["id"]]
        assert orjson.loads(row["json"]) == item  # undocumented keys included
        assert (row["artwork_type"], row["status"], row["created_at"]) == (
            item["artworkType"],
            item["status"],
            item["createdAt"],
        )
    urls = {
        (item["id"], n): url
        for item in expected
        if item["status"] == "succeeded"
        for n, url in enumerate(item["results"])
    }
    images = rows(tmp_path / "a", "images")
    assert {(row["artwork_id"], row["position"]): row["url"] for row in images} == urls
    assert report.images_downloaded == len(urls) > 0
    total = 0
    for row in images:
        assert row["state"] == "done"
        data = (tmp_path / "a" / row["path"]).read_bytes()
        assert data == server.image_bytes(row["artwork_id"], row["position"])
        assert row["bytes"] == len(data)
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
        assert row["path"].startswith(f"images/{row['artwork_id']}-{row['position']}.")
        total += len(data)
    assert report.bytes_downloaded == total
    assert not list((tmp_path / "a" / "images").glob(".*"))  # no temporary file left


async def test_the_database_is_versioned_and_marked_as_an_archive(
    served: tuple[FakeTengrAI, TengrAI], tmp_path: Path
) -> None:
    _, client = served
    await sync(client, tmp_path, images=False)
    db = sqlite3.connect(tmp_path / "archive.sqlite")
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        columns = {row[1] for row in db.execute("PRAGMA table_info(artworks)")}
        assert {"id", "artwork_type", "status", "created_at", "json"} <= columns
        columns = {row[1] for row in db.execute("PRAGMA table_info(images)")}
        assert {"artwork_id", "position", "url", "path", "bytes", "sha256", "state"} <= columns
    finally:
        db.close()


# -- later runs ----------------------------------------------------------------------------


async def test_an_unchanged_listing_costs_one_listing_request(tmp_path: Path) -> None:
    async with (
        FakeTengrAI(final(make_artworks(2_000))) as server,
        make_client(server.url) as client,
    ):
        first = await sync(client, tmp_path, images=False, page_size=500)
        before = listing_requests(server), by_id_requests(server)
        again = await sync(client, tmp_path, images=False, page_size=500)
        after = listing_requests(server), by_id_requests(server)
    assert first.new == 2_000
    assert after[0] - before[0] == 1
    assert after[1] == before[1] == 0
    assert (again.new, again.updated) == (0, 0)
    assert again.complete


async def test_new_artworks_at_the_front_cost_at_most_two_listing_requests(
    tmp_path: Path,
) -> None:
    async with FakeTengrAI(count=1_500, images=True) as server, make_client(server.url) as client:
        await sync(client, tmp_path, page_size=500)
        server.insert(37)
        before = listing_requests(server)
        report = await sync(client, tmp_path, page_size=500)
        spent = listing_requests(server) - before
    assert spent <= 2
    assert report.new == 37
    assert len(rows(tmp_path, "artworks")) == 1_537


async def test_a_long_gap_is_listed_with_look_ahead_down_to_the_mark(tmp_path: Path) -> None:
    async with FakeTengrAI(count=300) as server, make_client(server.url) as client:
        await sync(client, tmp_path, images=False, page_size=50)
        server.insert(260)
        report = await sync(client, tmp_path, images=False, page_size=50)
    assert report.new == 260
    ids = [row["id"] for row in rows(tmp_path, "artworks")]
    assert len(ids) == len(set(ids)) == 560


async def test_a_job_archived_while_running_is_brought_up_to_date_with_its_images(
    tmp_path: Path,
) -> None:
    async with (
        FakeTengrAI(final(make_artworks(50)), images=True) as server,
        make_client(server.url) as client,
    ):
        job = server.start_job("quantum", polls=1_000_000)
        first = await sync(client, tmp_path, page_size=20)
        assert first.new == 51
        (row,) = [r for r in rows(tmp_path, "artworks") if r["id"] == job]
        assert row["status"] == "starting"
        server.finish_jobs()
        server.insert(3)  # the job is no longer first: the mark is the job itself
        second = await sync(client, tmp_path, page_size=20)
    (row,) = [r for r in rows(tmp_path, "artworks") if r["id"] == job]
    assert row["status"] == "succeeded"
    assert second.updated == 1
    assert second.new == 3
    job_images = [r for r in rows(tmp_path, "images") if r["artwork_id"] == job]
    assert job_images
    assert all(r["state"] == "done" for r in job_images)


async def test_an_older_unfinished_artwork_is_fetched_by_id(tmp_path: Path) -> None:
    artworks = final(make_artworks(300, kinds=["selena"]))
    artworks[250]["status"] = "processing"
    artworks[250]["results"] = []
    async with FakeTengrAI(artworks, images=True) as server, make_client(server.url) as client:
        await sync(client, tmp_path, page_size=100)
        server.set_status(artworks[250]["id"], "succeeded")
        before = by_id_requests(server), listing_requests(server)
        report = await sync(client, tmp_path, page_size=100)
        spent = by_id_requests(server) - before[0], listing_requests(server) - before[1]
    assert spent == (1, 1)
    assert report.updated == 1
    (row,) = [r for r in rows(tmp_path, "artworks") if r["id"] == artworks[250]["id"]]
    assert row["status"] == "succeeded"
    assert [r["state"] for r in rows(tmp_path, "images") if r["artwork_id"] == row["id"]]


async def test_an_unfinished_artwork_the_api_removed_is_kept_and_marked(tmp_path: Path) -> None:
    artworks = final(make_artworks(30))
    artworks[20]["status"] = "processing"
    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        await sync(client, tmp_path, images=False, page_size=10)
    rest = artworks[:20] + artworks[21:]
    async with FakeTengrAI(rest) as server, make_client(server.url) as client:
        report = await sync(client, tmp_path, images=False, page_size=10)
    assert report.removed == 1
    (row,) = [r for r in rows(tmp_path, "artworks") if r["id"] == artworks[20]["id"]]
    assert row["removed_at"] is not None
    assert orjson.loads(row["json"]) == artworks[20]


async def test_items_repeated_by_a_shifting_listing_are_stored_once(tmp_path: Path) -> None:
    async with (
        FakeTengrAI(count=1_000, insert_every=2, insert_batch=7) as server,
        make_client(server.url) as client,
    ):
        report = await sync(client, tmp_path, images=False, page_size=100, prefetch=1)
    ids = [row["id"] for row in rows(tmp_path, "artworks")]
    assert len(ids) == len(set(ids))
    assert report.new == len(ids)


async def test_since_stops_the_listing_and_a_later_run_fills_the_rest(tmp_path: Path) -> None:
    artworks = final(make_artworks(400))
    since = orjson.loads(orjson.dumps(artworks[99]["createdAt"]))
    from tengrai_async._rules import Timestamp  # noqa: PLC0415

    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        partial = await sync(client, tmp_path, images=False, since=Timestamp.parse(since))
        assert partial.new == 100
        assert not partial.complete
        rest = await sync(client, tmp_path, images=False)
    assert rest.new == 300
    assert rest.complete


async def test_no_images_records_the_urls_and_a_later_run_fetches_them(
    served: tuple[FakeTengrAI, TengrAI], tmp_path: Path
) -> None:
    server, client = served
    first = await sync(client, tmp_path, images=False)
    assert first.images_downloaded == 0
    assert not server.image_requests
    pending = rows(tmp_path, "images")
    assert pending
    assert all(row["state"] is None and row["path"] is None for row in pending)
    second = await sync(client, tmp_path)
    assert second.images_downloaded == len(pending)
    third = await sync(client, tmp_path)
    assert third.images_downloaded == 0  # never twice once done
    assert len(server.image_requests) == len(pending)


# -- images ---------------------------------------------------------------------------------


async def image_run(
    tmp_path: Path, *faults: str, **kwargs: Any
) -> tuple[FakeTengrAI, ArchiveReport, list[Row]]:
    artworks = final(make_artworks(40, kinds=["selena"]))
    async with FakeTengrAI(artworks, images=True, **kwargs) as server:
        first = next(a for a in artworks if a["status"] == "succeeded")
        first["results"] = [str(server.image_url(first["id"], 0))]
        for other in artworks:
            if other is not first:
                other["results"] = []
        server.queue_image_faults(*faults)
        async with make_client(server.url, max_retries=2) as client:
            report = await sync(client, tmp_path, max_image_bytes=64 * 1024)
    return server, report, rows(tmp_path, "images")


@pytest.mark.parametrize("status", ["404", "410"])
async def test_an_image_the_host_no_longer_has_is_gone_and_the_run_goes_on(
    tmp_path: Path, status: str
) -> None:
    _, report, images = await image_run(tmp_path, status)
    assert [row["state"] for row in images] == ["gone"]
    assert images[0]["reason"] == f"HTTP {status}"
    assert (report.images_gone, report.images_failed, report.ok) == (1, 0, True)


async def test_a_transient_image_failure_is_retried(tmp_path: Path) -> None:
    server, report, images = await image_run(tmp_path, "503", "drop")
    assert [row["state"] for row in images] == ["done"]
    assert len(server.image_requests) == 3
    assert report.images_downloaded == 1


async def test_an_image_failing_every_attempt_is_failed_and_tried_again_next_run(
    tmp_path: Path,
) -> None:
    _, report, images = await image_run(tmp_path, "503", "503", "503")
    assert [row["state"] for row in images] == ["failed"]
    assert "HTTP 503 after 3 attempts" in images[0]["reason"]
    assert not report.ok


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("html", "is not an image"), ("huge", "over the 65536")],
)
async def test_a_body_that_is_not_an_image_or_too_large_is_failed_with_the_reason(
    tmp_path: Path, fault: str, reason: str
) -> None:
    _, report, images = await image_run(tmp_path, fault)
    assert [row["state"] for row in images] == ["failed"]
    assert reason in images[0]["reason"]
    assert report.images_failed == 1
    assert not list((tmp_path / "images").iterdir())


async def test_a_body_over_the_cap_without_a_length_is_cut_off(tmp_path: Path) -> None:
    _, report, images = await image_run(tmp_path, image_size=200 * 1024)
    assert [row["state"] for row in images] == ["failed"]
    assert "cap" in images[0]["reason"]
    assert not list((tmp_path / "images").iterdir())
    assert report.images_failed == 1


@pytest.mark.parametrize(("origin", "keyed"), [("other", False), ("same", True)])
async def test_the_key_goes_only_to_the_apis_own_origin(
    tmp_path: Path, origin: str, keyed: bool
) -> None:
    async with FakeTengrAI(count=60, images=True, image_origin=origin) as server:  # type: ignore[arg-type]
        async with make_client(server.url) as client:
            report = await sync(client, tmp_path)
        assert (server.image_base.port != server.url.port) is (origin == "other")
    assert report.images_downloaded == len(server.image_requests) > 0
    sent = {"Authorization" in request.headers for request in server.image_requests}
    assert sent == {keyed}


# -- safety ----------------------------------------------------------------------------------


async def test_a_second_run_on_a_locked_directory_names_the_other_pid(tmp_path: Path) -> None:
    import filelock  # noqa: PLC0415

    held = filelock.FileLock(tmp_path / "archive.lock")
    held.acquire()
    (tmp_path / "archive.pid").write_text("4242\n")
    try:
        async with FakeTengrAI(count=5) as server, make_client(server.url) as client:
            with pytest.raises(ArchiveLockedError) as info:
                await sync(client, tmp_path)
        assert server.requests == []
    finally:
        held.release()
    assert info.value.pid == 4242
    assert "process 4242" in str(info.value)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"this is not a database at all" * 100, "not a usable archive"),
        (None, "not a tengrai-async archive"),
    ],
)
async def test_a_corrupted_or_foreign_database_is_refused_by_name(
    tmp_path: Path, content: bytes | None, words: str
) -> None:
    path = tmp_path / "archive.sqlite"
    if content is None:
        other = sqlite3.connect(path)
        other.execute("CREATE TABLE notes (text TEXT)")
        other.commit()
        other.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    async with FakeTengrAI(count=5) as server, make_client(server.url) as client:
        with pytest.raises(ArchiveDatabaseError) as info:
            await sync(client, tmp_path)
    assert str(path) in str(info.value)
    assert words in str(info.value)
    assert path.read_bytes() == before  # left as it was


async def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    newer = sqlite3.connect(path)
    newer.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.commit()
    newer.close()
    async with FakeTengrAI(count=5) as server, make_client(server.url) as client:
        with pytest.raises(ArchiveDatabaseError, match="newer tengrai-async"):
            await sync(client, tmp_path)


@pytest.mark.parametrize(
    ("name", "value"),
    [("prefetch", 0), ("downloads", 0), ("page_size", 501), ("max_image_bytes", 0)],
)
async def test_bad_arguments_are_refused_before_anything_is_written(
    tmp_path: Path, name: str, value: int
) -> None:
    async with FakeTengrAI(count=5) as server, make_client(server.url) as client:
        with pytest.raises(ValueError, match=name):
            await sync(client, tmp_path / "new", **{name: value})  # type: ignore[arg-type]
    assert not (tmp_path / "new").exists()


async def test_a_naive_since_is_refused(tmp_path: Path) -> None:
    import datetime as dt  # noqa: PLC0415

    async with FakeTengrAI(count=5) as server, make_client(server.url) as client:
        with pytest.raises(ValueError, match="since"):
            await sync(client, tmp_path, since=dt.datetime(2026, 1, 1))  # noqa: DTZ001


# -- what a hostile or odd listing cannot do -------------------------------------------------


def unknown(artwork_id: str, **extra: Any) -> Row:
    return {
        "id": artwork_id,
        "artworkType": "style_dna",
        "status": "succeeded",
        "createdAt": "2026-11-01T12:00:05Z",
        "parameters": {},
        "results": [],
        **extra,
    }


async def test_an_id_never_becomes_a_path_outside_the_images_folder(tmp_path: Path) -> None:
    evil = unknown("./../../escape\x00", results=[])
    artworks = [evil, *final(make_artworks(5))]
    async with FakeTengrAI(artworks, images=True) as server:
        evil["results"] = [str(server.image_url(artworks[1]["id"], 0))]
        async with make_client(server.url) as client:
            report = await sync(client, tmp_path / "a")
    assert report.images_downloaded == 1
    (row,) = [r for r in rows(tmp_path / "a", "images") if r["artwork_id"] == evil["id"]]
    assert row["state"] == "done"
    written = tmp_path / "a" / row["path"]
    assert written.parent == tmp_path / "a" / "images"
    assert written.name.startswith("id-")
    assert entries(tmp_path) == ["a"]  # nothing escaped next to the archive


async def test_odd_image_urls_fail_alone_and_the_others_are_downloaded(tmp_path: Path) -> None:
    artworks = final(make_artworks(6, kinds=["selena"]))
    for artwork in artworks:
        artwork["status"] = "succeeded"
    async with FakeTengrAI(artworks, images=True) as server:
        good = str(server.image_url(artworks[0]["id"], 0))
        odd = [
            f"http://user:pw@{server.url.host}:{server.url.port}/images/x/0.png",
            "http://" + "a" * 70 + ".example/x.png",
            "ftp://example.com/x.png",
            "not a url at all",
        ]
        artworks[0]["results"] = [good]
        for artwork, url in zip(artworks[1:], odd, strict=False):
            artwork["results"] = [url]
        async with make_client(server.url) as client:
            report = await sync(client, tmp_path)
    states = {row["url"]: (row["state"], row["reason"]) for row in rows(tmp_path, "images")}
    assert states[good][0] == "done"
    assert all(states[url][0] == "failed" and states[url][1] for url in odd)
    assert report.images_downloaded == 1
    assert report.images_failed == len(odd)


@contextlib.asynccontextmanager
async def by_id_always_fails(artworks: list[Row]) -> AsyncIterator[yarl.URL]:
    """A server whose listing works and whose ``GET /v2/artworks/{id}`` always answers 400."""

    async def listing(request: web.Request) -> web.Response:
        offset, limit = int(request.query["offset"]), int(request.query["limit"])
        return web.json_response(artworks[offset : offset + limit])

    async def by_id(_: web.Request) -> web.Response:
        body = {"message": "not an artwork", "statusCode": 400, "error": "Bad Request"}
        return web.json_response(body, status=400)

    app = web.Application()
    app.router.add_get("/v2/artworks", listing)
    app.router.add_get("/v2/artworks/{id}", by_id)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield yarl.URL(f"http://127.0.0.1:{runner.addresses[0][1]}")
    finally:
        await runner.cleanup()


async def test_an_artwork_that_cannot_be_refreshed_never_stops_the_run(tmp_path: Path) -> None:
    artworks = final(make_artworks(40, kinds=["selena"]))
    artworks[30]["status"] = "processing"  # older than the first page: fetched by id later
    artworks[31] = unknown("dna-job-1", status="processing", createdAt=artworks[31]["createdAt"])
    async with by_id_always_fails(artworks) as url, make_client(url) as client:
        first = await sync(client, tmp_path, images=False, page_size=10)
        second = await sync(client, tmp_path, images=False, page_size=10)
    assert first.new == 40
    assert second.unrefreshed == 1  # the UUID one; "dna-job-1" is no id to fetch by
    assert second.ok
    stored = {row["id"]: row["status"] for row in rows(tmp_path, "artworks")}
    assert stored[artworks[30]["id"]] == stored["dna-job-1"] == "processing"


async def test_an_artwork_without_created_at_past_the_first_page_is_archived(
    tmp_path: Path,
) -> None:
    artworks = final(make_artworks(12))
    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        await sync(client, tmp_path, images=False, page_size=3)
    newer = final(make_artworks(5, start=-5))
    newer.insert(4, {k: v for k, v in unknown("undated-1").items() if k != "createdAt"})
    async with (
        FakeTengrAI([*newer, *artworks]) as server,
        make_client(server.url) as client,
    ):
        report = await sync(client, tmp_path, images=False, page_size=3)
    assert "undated-1" in {row["id"] for row in rows(tmp_path, "artworks")}
    assert report.new == 6


async def test_an_artwork_that_shows_up_late_below_the_mark_is_still_caught(
    tmp_path: Path,
) -> None:
    artworks = final(make_artworks(30))
    late = artworks.pop(2)  # created before artwork 2's neighbours, visible only later
    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        await sync(client, tmp_path, images=False, page_size=10)
    artworks.insert(2, late)
    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        report = await sync(client, tmp_path, images=False, page_size=10)
    assert report.new == 1
    assert late["id"] in {row["id"] for row in rows(tmp_path, "artworks")}


@pytest.mark.parametrize("page_size", [2, 3, 7])
async def test_a_since_run_is_never_complete_when_it_stopped_at_since(
    tmp_path: Path, page_size: int
) -> None:
    from tengrai_async._rules import Timestamp  # noqa: PLC0415

    artworks = final(make_artworks(4))
    since = Timestamp.parse(artworks[1]["createdAt"])
    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        partial = await sync(client, tmp_path, images=False, since=since, page_size=page_size)
        rest = await sync(client, tmp_path, images=False, page_size=page_size)
    assert (partial.new, partial.complete) == (2, False)
    assert rest.new == 2


def damage(path: Path) -> None:
    """Overwrite all but the first pages of an SQLite file."""
    data = bytearray(path.read_bytes())
    data[4096 * 3 :] = b"\xff" * (len(data) - 4096 * 3)
    path.write_bytes(bytes(data))


async def test_a_database_damaged_after_a_run_is_refused_by_name(tmp_path: Path) -> None:
    async with FakeTengrAI(count=2_000) as server, make_client(server.url) as client:
        await sync(client, tmp_path, images=False)
        path = tmp_path / "archive.sqlite"
        damage(path)
        with pytest.raises(ArchiveDatabaseError) as info:
            await sync(client, tmp_path, images=False)
    assert str(path) in str(info.value)


async def test_a_status_this_sdk_does_not_know_is_not_fetched_again(tmp_path: Path) -> None:
    artworks = final(make_artworks(30))
    artworks[25] = unknown(artworks[25]["id"], status="done", createdAt=artworks[25]["createdAt"])
    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        await sync(client, tmp_path, images=False, page_size=10)
        await sync(client, tmp_path, images=False, page_size=10)
        assert by_id_requests(server) == 0


async def test_an_invalid_artwork_counts_once_not_on_every_run(tmp_path: Path) -> None:
    artworks = final(make_artworks(10, kinds=["selena"]))
    artworks[0]["parameters"]["creativity"] = 9
    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        first = await sync(client, tmp_path, images=False)
        second = await sync(client, tmp_path, images=False)
    assert (first.invalid, first.ok) == (1, False)
    assert (second.invalid, second.ok) == (0, True)
    (row,) = [r for r in rows(tmp_path, "artworks") if r["id"] == artworks[0]["id"]]
    assert row["valid"] == 0
    assert orjson.loads(row["json"]) == artworks[0]


async def test_close_ends_an_image_download_waiting_to_retry(tmp_path: Path) -> None:
    from tengrai_async import ClientStateError, RetryPolicy  # noqa: PLC0415

    artworks = final(make_artworks(5, kinds=["selena"]))
    artworks[0]["status"] = "succeeded"
    async with FakeTengrAI(artworks, images=True) as server:
        artworks[0]["results"] = [str(server.image_url(artworks[0]["id"], 0))]
        server.queue_image_faults("503")
        client = make_client(server.url, retry=RetryPolicy(wait_initial=30, wait_jitter=0))
        task = asyncio.create_task(sync(client, tmp_path))
        while not server.image_requests:  # noqa: ASYNC110 - waiting on the server's record
            await asyncio.sleep(0.005)
        started = asyncio.get_running_loop().time()
        await client.close()
        with pytest.raises(ClientStateError):
            await task
        assert asyncio.get_running_loop().time() - started < 1.0
    assert not [p for p in (tmp_path / "images").iterdir() if p.name.startswith(".")]


# -- the database's thread -----------------------------------------------------------------


async def until(condition: Callable[[], bool], task: asyncio.Task[Any]) -> None:
    """Wait until *condition* holds while *task* runs (a task that ends first fails the test)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not condition():
        assert not task.done(), task
        assert loop.time() < deadline, "gave up waiting"
        await asyncio.sleep(0.002)


def database_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("tengrai-archive-db")]


def assert_no_database_thread_left() -> None:
    """No database thread outlives its run (the thread itself ends a moment after the close)."""
    for thread in database_threads():
        thread.join(timeout=5)
    assert not database_threads()


async def test_a_run_cancelled_mid_listing_leaves_a_consistent_archive_and_no_thread(
    tmp_path: Path,
) -> None:
    async with (
        FakeTengrAI(count=3_000, latency=0.01) as server,
        make_client(server.url) as client,
    ):
        task = asyncio.create_task(sync(client, tmp_path, images=False, page_size=100))
        await until(lambda: listing_requests(server) >= 8, task)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert_no_database_thread_left()
        db = sqlite3.connect(tmp_path / "archive.sqlite")
        try:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert db.execute("SELECT outcome, complete FROM runs").fetchall() == [
                ("interrupted", 0)
            ]
            stored = db.execute("SELECT count(*) FROM artworks").fetchone()[0]
        finally:
            db.close()
        assert 0 < stored < 3_000
        assert stored % 100 == 0  # whole pages only
        report = await sync(client, tmp_path, images=False, page_size=100)
        assert (report.new, report.complete) == (3_000 - stored, True)
        expected = await listed(client)
    assert {row["id"]: orjson.loads(row["json"]) for row in rows(tmp_path, "artworks")} == {
        item["id"]: item for item in expected
    }


async def test_a_page_the_database_refuses_ends_the_run_with_an_error_naming_the_file(
    tmp_path: Path,
) -> None:
    artworks = final(make_artworks(40, kinds=["selena"]))
    async with FakeTengrAI(artworks[20:]) as server, make_client(server.url) as client:
        await sync(client, tmp_path, images=False)
    path = tmp_path / "archive.sqlite"
    db = sqlite3.connect(path)
    # Another program's trigger makes one insert fail (a constraint: the file is not usable as
    # it is, which is not a write failure such as a full disk; those are tested apart).
    refused = artworks[5]["id"]  # a UUID: safe to write into the statement
    db.execute(
        f"CREATE TRIGGER refuse BEFORE INSERT ON artworks WHEN NEW.id = '{refused}' "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
    )
    db.close()
    async with FakeTengrAI(artworks) as server, make_client(server.url) as client:
        with pytest.raises(ArchiveDatabaseError) as info:
            await sync(client, tmp_path, images=False, page_size=4)
    assert type(info.value) is ArchiveDatabaseError  # not ArchiveWriteError: exit 2
    assert str(path) in str(info.value)
    assert "refused by the test" in str(info.value)
    assert info.value.__cause__ is None
    assert_no_database_thread_left()
    stored = {row["id"] for row in rows(tmp_path, "artworks")}
    assert {a["id"] for a in artworks[:4]} <= stored  # the page before it was kept
    assert not {a["id"] for a in artworks[4:8]} & stored  # its own page, not a part of it
    assert [(r["outcome"], r["complete"]) for r in rows(tmp_path, "runs")][-1] == ("failed", 0)


async def test_an_interrupted_run_records_every_image_it_wrote(tmp_path: Path) -> None:
    async with (
        FakeTengrAI(count=120, images=True, image_latency=0.01) as server,
        make_client(server.url) as client,
    ):
        images = tmp_path / "images"

        def written() -> set[str]:
            if not images.is_dir():
                return set()
            return {f"images/{p.name}" for p in images.iterdir() if not p.name.startswith(".")}

        task = asyncio.create_task(sync(client, tmp_path, downloads=2))
        await until(lambda: len(written()) >= 2, task)
        # Another connection holds the write lock: the records of the next images wait.
        other = sqlite3.connect(tmp_path / "archive.sqlite", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            await until(lambda: len(written()) >= 6, task)
            held = {r["path"] for r in rows(tmp_path, "images") if r["state"] == "done"}
            assert len(held) < len(written())  # some records are waiting for the lock
            task.cancel()
            asyncio.get_running_loop().call_later(0.1, other.execute, "COMMIT")
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            other.close()
        assert_no_database_thread_left()
        done = {row["path"] for row in rows(tmp_path, "images") if row["state"] == "done"}
        assert done == written()
        assert not [p for p in images.iterdir() if p.name.startswith(".")]
        total = len(rows(tmp_path, "images"))
        assert len(done) < total
        fetched = len(server.image_requests)
        report = await sync(client, tmp_path)
        assert report.images_downloaded == total - len(done)
        assert len(server.image_requests) == fetched + report.images_downloaded


def test_a_full_disk_is_a_write_failure_and_a_damaged_file_is_not(tmp_path: Path) -> None:
    from tengrai_async.archive._db import write_failure  # noqa: PLC0415 - the rule itself

    db = sqlite3.connect(tmp_path / "full.sqlite")
    db.execute("CREATE TABLE t (x TEXT)")
    db.execute("PRAGMA max_page_count = 2")  # what a full disk looks like to SQLite
    with pytest.raises(sqlite3.OperationalError) as full:
        db.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    db.close()
    assert write_failure(full.value)
    (tmp_path / "damaged.sqlite").write_bytes(b"\x00garbage" * 512)
    db = sqlite3.connect(tmp_path / "damaged.sqlite")
    with pytest.raises(sqlite3.DatabaseError) as damaged:
        db.execute("SELECT * FROM sqlite_master")
    db.close()
    assert not write_failure(damaged.value)


async def test_a_run_cancelled_again_and_again_ends_only_once_its_database_is_closed(
    tmp_path: Path,
) -> None:
    async with (
        FakeTengrAI(count=3_000, latency=0.01) as server,
        make_client(server.url) as client,
    ):
        task = asyncio.create_task(sync(client, tmp_path, images=False, page_size=100))
        await until(lambda: listing_requests(server) >= 4, task)
        # Another program holds the write lock for a while: the run's next write waits for it.
        other = sqlite3.connect(
            tmp_path / "archive.sqlite", isolation_level=None, check_same_thread=False
        )
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, other.execute, ("COMMIT",))
        release.start()
        try:
            cancels = 0
            while not task.done():  # a cancellation wherever the run waits, closing included
                cancels += task.cancel()
                await asyncio.sleep(0.01)
            assert cancels >= 2  # the lock holds the run for 0.3 s: cancelled again and again
            with pytest.raises(asyncio.CancelledError):
                await task
            # Ended, so its connection is closed: the run was recorded before, not after, and
            # the write lock is free at once.
            finished = [
                (r["outcome"], r["finished_at"] is not None) for r in rows(tmp_path, "runs")
            ]
            assert finished == [("interrupted", True)]
            probe = sqlite3.connect(tmp_path / "archive.sqlite", timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
            finally:
                probe.close()
        finally:
            release.join()
            other.close()
    assert_no_database_thread_left()


async def test_a_run_cancelled_before_it_began_is_recorded_as_interrupted(
    tmp_path: Path,
) -> None:
    async with FakeTengrAI(count=10) as server, make_client(server.url) as client:
        await sync(client, tmp_path, images=False)
        other = sqlite3.connect(tmp_path / "archive.sqlite", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # the next run cannot record its start yet
        try:
            task = asyncio.create_task(sync(client, tmp_path, images=False))
            await asyncio.sleep(0.3)
            task.cancel()
            await asyncio.sleep(0.1)
        finally:
            other.execute("COMMIT")
            other.close()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [r["outcome"] for r in rows(tmp_path, "runs")] == ["done", "interrupted"]


async def test_an_image_record_is_written_within_a_second_while_others_download(
    tmp_path: Path,
) -> None:
    artworks = final(make_artworks(20, kinds=["selena"]))
    succeeded = artworks[:2]
    async with FakeTengrAI(artworks, images=True, image_chunk_delay=2.0) as server:
        for artwork in succeeded:
            artwork["status"] = "succeeded"
            artwork["results"] = [str(server.image_url(artwork["id"], 0))]
        server.queue_image_faults("slow")  # the first image takes seconds; the other does not
        async with make_client(server.url) as client:
            task = asyncio.create_task(sync(client, tmp_path, downloads=2))
            try:

                def recorded() -> list[Any]:
                    if not (tmp_path / "archive.sqlite").exists():
                        return []
                    try:
                        return [r["state"] for r in rows(tmp_path, "images") if r["state"]]
                    except sqlite3.OperationalError:  # the tables are not made yet
                        return []

                images = tmp_path / "images"

                def written() -> bool:
                    return images.is_dir() and any(
                        not p.name.startswith(".") for p in images.iterdir()
                    )

                loop = asyncio.get_running_loop()
                await until(written, task)  # the fast image is on disk
                on_disk = loop.time()
                await until(lambda: bool(recorded()), task)
                assert loop.time() - on_disk < 1.5  # its record within about a second
                assert recorded() == ["done"]  # the slow one is still on its way
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
