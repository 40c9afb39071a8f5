"""The fake server's option groups: ListingOptions, FaultOptions and ImageOptions.

A group given whole serves exactly what its fields given as keywords serve (real requests over
loopback); a group and one of its fields together is a TypeError; each class checks its fields.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import attrs
import orjson
import pytest
import yarl
from multidict import CIMultiDictProxy

from tengrai_async.testing import (
    DEFAULT_FAULTS,
    CreateOptions,
    FakeClock,
    FakeTengrAI,
    Fault,
    FaultOptions,
    ImageOptions,
    ListingOptions,
    image_bytes,
    make_artwork,
    make_artworks,
)

AUTH = {"Authorization": "Bearer test-key"}
#: The keywords FakeTengrAI took before the groups, which must keep working.
KEYWORDS = {
    ListingOptions: ["count", "seed", "kinds", "extras", "insert_every", "insert_batch"],
    FaultOptions: ["fault_rate", "faults", "retry_after", "fault_seed", "fault_timeout"],
    ImageOptions: [
        *("images", "result_origin", "image_origin", "image_size", "gone_images"),
        *("image_latency", "image_chunk_delay"),
    ],
}
GROUP_KEYWORDS = {
    ListingOptions: "listing_options",
    FaultOptions: "fault_options",
    ImageOptions: "image_options",
}
Build = Callable[..., dict[str, Any]]


def loose(cls: type[Any], **fields: Any) -> dict[str, Any]:
    """The group's fields as FakeTengrAI keywords of their own."""
    assert set(fields) <= set(KEYWORDS[cls])
    return fields


def grouped(cls: type[Any], **fields: Any) -> dict[str, Any]:
    """The same fields as one group, given whole."""
    return {GROUP_KEYWORDS[cls]: cls(**fields)}


BOTH_WAYS = pytest.mark.parametrize("given", [loose, grouped], ids=["keywords", "group"])


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def get(
    session: aiohttp.ClientSession, url: yarl.URL, **params: int
) -> tuple[int, CIMultiDictProxy[str], bytes]:
    async with session.get(url, params=params) as response:
        return response.status, response.headers, await response.read()


# -- the same server either way --------------------------------------------------------------


def test_each_field_of_a_group_is_still_a_keyword_of_its_own() -> None:
    parameters = inspect.signature(FakeTengrAI).parameters
    for cls, names in KEYWORDS.items():
        assert list(attrs.fields_dict(cls)) == names
        for name in names:
            assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert parameters[GROUP_KEYWORDS[cls]].default is None


def test_a_field_keyword_left_out_reads_as_the_field_s_default_in_the_signature() -> None:
    default = inspect.signature(FakeTengrAI).parameters["fault_rate"].default
    assert repr(default) == "<the field's default>"


@pytest.mark.parametrize(
    ("cls", "fields"),
    [
        (ListingOptions, {"count": 3, "seed": 9, "kinds": ["quantum"], "insert_every": 2}),
        (FaultOptions, {"fault_rate": 0.5, "faults": ["503"], "retry_after": 4, "fault_seed": 1}),
        (ImageOptions, {"images": False, "image_origin": "other", "image_size": 100}),
    ],
)
def test_the_keywords_make_the_group_the_server_reports(
    cls: type[Any], fields: dict[str, Any]
) -> None:
    server = FakeTengrAI(**fields)
    assert getattr(server, GROUP_KEYWORDS[cls]) == cls(**fields)
    assert getattr(FakeTengrAI(**grouped(cls, **fields)), GROUP_KEYWORDS[cls]) == cls(**fields)


def test_a_server_without_options_runs_with_each_group_s_defaults() -> None:
    server = FakeTengrAI()
    assert server.listing_options == ListingOptions()
    assert server.fault_options == FaultOptions()
    assert server.image_options == ImageOptions()
    assert server.fault_options.faults == DEFAULT_FAULTS


@BOTH_WAYS
async def test_listing_options_serve_their_history_and_insertions(
    given: Build, session: aiohttp.ClientSession
) -> None:
    fields = loose(
        ListingOptions,
        count=6,
        seed=5,
        kinds=["depth_map"],
        extras=False,
        insert_every=2,
        insert_batch=3,
    )
    options = given(ListingOptions, **fields)
    async with FakeTengrAI(images=False, **options) as server:
        url = server.url / "v2/artworks"
        first = orjson.loads((await get(session, url, limit=50))[2])
        second = orjson.loads((await get(session, url, limit=50))[2])
    assert first == make_artworks(6, seed=5, kinds=["depth_map"], extras=False)
    # The second listing inserts a batch of three first.
    inserted = [make_artwork(i, seed=5, kinds=["depth_map"], extras=False) for i in (-3, -2, -1)]
    assert second == inserted + first
    assert {item["artworkType"] for item in second} == {"depth_map"}
    assert all("creditsUsed" not in item for item in second)


@BOTH_WAYS
async def test_fault_options_schedule_their_faults_with_their_retry_after(
    given: Build, session: aiohttp.ClientSession
) -> None:
    fields = loose(FaultOptions, fault_rate=0.5, faults=["429", "500"], retry_after=7)
    async with FakeTengrAI(count=3, **given(FaultOptions, **fields)) as server:
        answers = [await get(session, server.url / "v2/artworks") for _ in range(6)]
    assert [status for status, _, _ in answers] == [429, 200, 500, 200, 429, 200]
    assert answers[0][1]["Retry-After"] == "7"
    assert [request.fault for request in server.requests] == [
        *("429", None, "500", None, "429", None)
    ]


@BOTH_WAYS
async def test_fault_options_shuffle_with_their_seed(
    given: Build, session: aiohttp.ClientSession
) -> None:
    faults: list[Fault] = ["429", "500", "503"]
    async with FakeTengrAI(count=1, fault_rate=1.0, faults=faults) as plain:
        in_order = [(await get(session, plain.url / "v2/artworks"))[0] for _ in range(30)]
    fields = loose(FaultOptions, fault_rate=1.0, faults=faults, fault_seed=11)
    async with FakeTengrAI(count=1, **given(FaultOptions, **fields)) as server:
        shuffled = [(await get(session, server.url / "v2/artworks"))[0] for _ in range(30)]
    assert in_order == [429, 500, 503] * 10
    assert shuffled != in_order
    assert sorted(shuffled) == sorted(in_order)


@BOTH_WAYS
async def test_fault_options_hold_a_timeout_fault_for_their_fault_timeout(given: Build) -> None:
    fields = loose(FaultOptions, fault_rate=1.0, faults=["timeout"], fault_timeout=0.05)
    async with FakeTengrAI(count=1, **given(FaultOptions, **fields)) as server:
        reader, writer = await asyncio.open_connection(server.url.host, server.url.port)
        writer.write(
            b"GET /v2/artworks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-key\r\n\r\n"
        )
        # Closed unanswered after 0.05 s: held the default 5 s, this wait would run out.
        answer = await asyncio.wait_for(reader.read(), timeout=2)
        writer.close()
    assert answer == b""
    assert [(request.status, request.fault) for request in server.requests] == [(0, "timeout")]


@BOTH_WAYS
async def test_image_options_serve_images_on_their_own_origin(
    given: Build, session: aiohttp.ClientSession
) -> None:
    fields = loose(
        ImageOptions, image_origin="other", image_size=4_000, gone_images={("gone", 0): 410}
    )
    async with (
        aiohttp.ClientSession() as plain,
        FakeTengrAI(count=30, **given(ImageOptions, **fields)) as server,
    ):
        assert server.image_base != server.url
        items = orjson.loads((await get(session, server.url / "v2/artworks", limit=30))[2])
        url = yarl.URL(next(result for item in items for result in item["results"]))
        assert url.origin() == server.image_base
        status, _, body = await get(plain, url)
        assert (status, body) == (200, image_bytes(*key_of(url), size=4_000))
        assert len(body) >= 4_000
        # The API's port serves no image; the gone one answers its own status.
        assert (await get(plain, server.url.with_path(url.path)))[0] == 404
        assert (await get(plain, server.image_url("gone", 0)))[0] == 410


def key_of(url: yarl.URL) -> tuple[str, int, str]:
    """The ``(artwork_id, n, ext)`` of an image URL."""
    _, _, artwork_id, name = url.path.split("/")
    n, ext = name.split(".")
    return artwork_id, int(n), ext


@BOTH_WAYS
async def test_image_options_name_their_result_origin_or_keep_the_cdn(
    given: Build, session: aiohttp.ClientSession
) -> None:
    named = loose(ImageOptions, result_origin="http://images.example.invalid")
    async with FakeTengrAI(count=30, **given(ImageOptions, **named)) as server:
        items = orjson.loads((await get(session, server.url / "v2/artworks", limit=30))[2])
    origins = {yarl.URL(result).origin() for item in items for result in item["results"]}
    assert origins == {yarl.URL("http://images.example.invalid")}
    async with FakeTengrAI(count=30, **given(ImageOptions, images=False)) as server:
        items = orjson.loads((await get(session, server.url / "v2/artworks", limit=30))[2])
    assert items == make_artworks(30)


@BOTH_WAYS
async def test_image_options_lengthen_the_client_s_timeout_by_their_latency(given: Build) -> None:
    fields = loose(ImageOptions, image_latency=0.25)
    async with (
        FakeTengrAI(count=1, latency=0.5, **given(ImageOptions, **fields)) as server,
        server.client() as client,
    ):
        assert client.timeout == 1.75


# -- a group and its fields together ---------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "field", "value"),
    [
        (ListingOptions, "count", 3),
        (ListingOptions, "kinds", None),
        (FaultOptions, "fault_rate", 0.0),  # the default, still given
        (FaultOptions, "faults", ["503"]),
        (ImageOptions, "images", True),
        (ImageOptions, "gone_images", ()),
    ],
)
def test_a_group_and_one_of_its_fields_together_are_refused(
    cls: type[Any], field: str, value: Any
) -> None:
    name = GROUP_KEYWORDS[cls]
    with pytest.raises(TypeError, match=rf"give {field} in {name}= or as keywords, not both"):
        FakeTengrAI(**{name: cls(), field: value})


def test_a_group_and_fields_of_other_groups_mix() -> None:
    server = FakeTengrAI(listing_options=ListingOptions(count=4), fault_rate=0.5, images=False)
    assert server.listing_options.count == 4
    assert server.fault_options == FaultOptions(fault_rate=0.5)
    assert server.image_options == ImageOptions(images=False)


@pytest.mark.parametrize("name", ["listing_options", "fault_options", "image_options"])
def test_a_group_of_the_wrong_class_is_refused(name: str) -> None:
    wrong: dict[str, Any] = {name: CreateOptions()}
    with pytest.raises(TypeError, match=rf"{name} must be a \w+Options, not CreateOptions"):
        FakeTengrAI(**wrong)


def test_a_group_keeps_the_artworks_or_count_rule() -> None:
    with pytest.raises(ValueError, match="either artworks or count"):
        FakeTengrAI(make_artworks(2), listing_options=ListingOptions(count=2))
    assert FakeTengrAI(make_artworks(2), listing_options=ListingOptions(seed=4)).total == 2


def test_a_negative_latency_is_refused() -> None:
    with pytest.raises(ValueError, match="latency must be >= 0"):
        FakeTengrAI(latency=-1.0)


# -- what each class checks and keeps ---------------------------------------------------------

REFUSED = [
    (ListingOptions, {"count": -1}, ValueError, "count must be >= 0"),
    (ListingOptions, {"insert_every": -1}, ValueError, "insert_every must be >= 0"),
    (ListingOptions, {"insert_batch": -2}, ValueError, "insert_batch must be >= 0"),
    (ListingOptions, {"kinds": []}, ValueError, "kinds needs at least one kind"),
    (ListingOptions, {"kinds": {"selena": 0.0}}, ValueError, "kinds needs weights"),
    (ListingOptions, {"kinds": "selena"}, TypeError, "not the string"),
    (FaultOptions, {"fault_rate": 1.5}, ValueError, r"fault_rate must be in 0\.\.=1"),
    (FaultOptions, {"fault_rate": float("nan")}, ValueError, "fault_rate must be in"),
    (FaultOptions, {"faults": ["418"]}, ValueError, "unknown faults"),
    (FaultOptions, {"fault_rate": 0.1, "faults": []}, ValueError, "needs at least one fault"),
    (FaultOptions, {"fault_timeout": 0}, ValueError, "fault_timeout must be a positive"),
    (FaultOptions, {"fault_timeout": float("inf")}, ValueError, "fault_timeout"),
    (ImageOptions, {"image_origin": "elsewhere"}, ValueError, "image_origin must be"),
    (ImageOptions, {"image_size": -1}, ValueError, "image_size must be >= 0"),
    (ImageOptions, {"image_latency": -0.1}, ValueError, "image_latency must be >= 0"),
    (ImageOptions, {"image_chunk_delay": -0.1}, ValueError, "image_chunk_delay must be >= 0"),
    (ImageOptions, {"result_origin": "ftp://host"}, ValueError, "result_origin must be"),
    (ImageOptions, {"result_origin": "http://host/path"}, ValueError, "result_origin must be"),
    (ImageOptions, {"gone_images": {("a", 0): 500}}, ValueError, "404 or 410"),
    (ImageOptions, {"gone_images": ["/nowhere"]}, ValueError, "an image is"),
]


@pytest.mark.parametrize(("cls", "fields", "error", "match"), REFUSED)
def test_each_class_refuses_what_cannot_work(
    cls: type[Any], fields: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        cls(**fields)


@pytest.mark.parametrize(("cls", "fields", "error", "match"), REFUSED)
def test_the_keywords_refuse_it_in_the_same_words(
    cls: type[Any], fields: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        FakeTengrAI(**fields)


def test_the_classes_keep_their_values_in_one_form() -> None:
    kinds = {"quantum": 1.0}
    listing = ListingOptions(kinds=kinds)
    kinds["selena"] = 2.0
    assert listing.kinds == {"quantum": 1.0}  # a copy
    assert ListingOptions(kinds=["quantum", "hamilton"]).kinds == ("quantum", "hamilton")
    assert FaultOptions(faults=["503", "drop"]).faults == ("503", "drop")
    images = ImageOptions(
        result_origin="http://images.example.invalid:8080/",
        gone_images=["http://any.invalid/images/a/0.webp", ("b", 2)],
    )
    assert images.result_origin == yarl.URL("http://images.example.invalid:8080")
    assert images.gone_images == {("a", 0): 404, ("b", 2): 404}


def test_the_classes_are_frozen_and_hashable() -> None:
    options = ImageOptions(gone_images={("a", 0): 410})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        options.image_size = 3  # type: ignore[misc]
    assert hash(options) == hash(ImageOptions(gone_images={("a", 0): 410}))
    assert hash(ListingOptions(kinds={"quantum": 1.0})) == hash(ListingOptions(kinds={"x": 1.0}))
    assert len({FaultOptions(), FaultOptions(), FaultOptions(retry_after=1)}) == 2


# -- the job machinery's seam ----------------------------------------------------------------


def ends_at(server: FakeTengrAI, index: int) -> float | None:
    """When the job at listing *index* shows its outcome from, on the server's clock."""
    job = server._listing.jobs.get(index)
    assert job is not None
    return job.ends_at


async def test_a_job_knows_when_it_ends_on_the_server_s_clock(
    session: aiohttp.ClientSession,
) -> None:
    clock = FakeClock(start=100.0, auto_advance=False)
    async with FakeTengrAI(count=1, clock=clock) as server:
        timed = server.start_job(seconds=4.0)
        polled = server.start_job(polls=1)
        assert ends_at(server, -1) == 104.0
        assert ends_at(server, -2) is None  # it ends with its last poll, whenever that comes
        await clock.advance(1.5)
        statuses = []
        for _ in range(3):
            body = (await get(session, server.url / f"v2/artworks/{polled}"))[2]
            statuses.append(orjson.loads(body)["status"])
        assert statuses == ["starting", "processing", "succeeded"]
        assert ends_at(server, -2) == 101.5
        await clock.advance(1.0)
        assert server.finish_jobs() == [timed]
        assert ends_at(server, -1) == 102.5  # finished early, now
        assert ends_at(server, -2) == 101.5  # already over: it keeps its end
