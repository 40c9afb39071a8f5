"""The fake server's create routes, spoken to with plain aiohttp: rules, echo, jobs, faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tengrai_async.testing import CREATE_FAULTS, CreateOptions, FakeClock, FakeTengrAI

AUTH = {"Authorization": "Bearer test-key"}
IMAGE = "https://images.example.com/in.png"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


async def post(
    session: aiohttp.ClientSession, server: FakeTengrAI, segment: str, body: Any, **options: Any
) -> tuple[int, Any]:
    options.setdefault("headers", AUTH)
    async with session.post(server.url / f"v2/artworks/{segment}", json=body, **options) as r:
        return r.status, await r.json()


async def get(session: aiohttp.ClientSession, server: FakeTengrAI, path: str, **query: int) -> Any:
    async with session.get(server.url / path, headers=AUTH, params=query) as response:
        assert response.status == 200
        return await response.json()


async def test_a_valid_body_makes_a_starting_artwork_echoing_it_and_the_defaults(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI() as server:
        status, artwork = await post(
            session, server, "detailer-upscaler", {"imageUrl": IMAGE, "scaleFactor": 4}
        )
    assert status == 202
    assert artwork["artworkType"] == "detailer_upscaler"
    assert artwork["status"] == "starting"
    assert artwork["duration"] == 0
    assert artwork["results"] == []
    assert artwork["parameters"] == {
        "imageUrl": IMAGE,
        "scaleFactor": 4,
        "details": 2,
        "modification": 2,
        "outputFormat": "auto",
    }


async def test_unknown_keys_are_kept_as_the_real_servers_are(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI() as server:
        status, artwork = await post(session, server, "upscaling", {"imageUrl": IMAGE, "x": [1]})
    assert status == 202
    assert artwork["parameters"]["x"] == [1]


@pytest.mark.parametrize(
    ("segment", "body", "word"),
    [
        ("upscaling", {}, "imageUrl"),
        ("upscaling", {"imageUrl": IMAGE, "scaleFactor": 9}, "scaleFactor"),
        ("quantum", {"aspectRatio": "21:9"}, "aspectRatio"),
        ("quantum", {"seed": 2.5}, "seed"),
        ("segmentation", {"imageUrl": IMAGE, "method": "text"}, "textPrompt"),
        (
            "segmentation",
            {"imageUrl": IMAGE, "method": "points", "pointsPositive": 3},
            "pointsPositive",
        ),
        ("depth-map", {"imageUrl": IMAGE, "useVersion3": False, "model": "metric_large"}, "model"),
        ("quantum", [1, 2], "JSON object"),
    ],
)
async def test_a_body_breaking_a_rule_is_answered_400_with_the_documented_body(
    session: aiohttp.ClientSession, segment: str, body: Any, word: str
) -> None:
    async with FakeTengrAI() as server:
        status, answer = await post(session, server, segment, body)
        assert server.total == 0
    assert status == 400
    assert answer["statusCode"] == 400
    assert answer["error"] == "Bad Request"
    assert isinstance(answer["message"], list)
    assert word in answer["message"][0]


@pytest.mark.parametrize("segment", ["selena", "photo-pilot", "photo_pilot", "nothing"])
async def test_kinds_without_a_documented_create_path_are_404(
    session: aiohttp.ClientSession, segment: str
) -> None:
    async with FakeTengrAI() as server:
        status, answer = await post(session, server, segment, {})
    assert status == 404
    assert answer["message"] == f"Cannot POST /v2/artworks/{segment}"


async def test_a_post_without_the_key_is_401_and_records_no_body(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI() as server:
        status, _ = await post(session, server, "quantum", {}, headers={})
        assert server.create_bodies == []
        assert server.requests[0].status == 401
    assert status == 401


async def test_every_post_body_is_recorded(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI() as server:
        server.queue_create_faults("503")
        await post(session, server, "quantum", {"prompt": "a"})
        await post(session, server, "quantum", {"prompt": "b"})
        assert server.create_bodies == [{"prompt": "a"}, {"prompt": "b"}]
        assert [r.body for r in server.requests] == [{"prompt": "a"}, {"prompt": "b"}]


async def test_the_job_is_listed_first_and_runs_on_the_servers_clock(
    session: aiohttp.ClientSession,
) -> None:
    clock = FakeClock(auto_advance=False)
    options = CreateOptions(seconds=10.0, images=2)
    async with FakeTengrAI(count=3, images=True, clock=clock, create=options) as server:
        _, created = await post(session, server, "quantum", {"prompt": "a"})
        listed = await get(session, server, "v2/artworks", limit=1)
        await clock.advance(5.0)
        middle = await get(session, server, f"v2/artworks/{created['id']}")
        await clock.advance(5.0)
        done = await get(session, server, f"v2/artworks/{created['id']}")
        async with session.get(done["results"][1]) as image:
            assert image.status == 200
            assert image.content_type.startswith("image/")
    assert listed == [created]
    assert created["createdAt"].startswith("2026-01-01T00:00:00")  # the fake clock's wall
    assert middle["status"] == "processing"
    assert done["status"] == "succeeded"
    assert len(done["results"]) == 2


@pytest.mark.parametrize("outcome", ["failed", "canceled"])
async def test_a_job_can_end_failed_or_canceled(
    session: aiohttp.ClientSession, outcome: str
) -> None:
    async with FakeTengrAI(create=CreateOptions(outcome=outcome, polls=1)) as server:
        _, created = await post(session, server, "hamilton", {})
        seen = [
            (await get(session, server, f"v2/artworks/{created['id']}"))["status"] for _ in range(3)
        ]
    assert seen == ["starting", "processing", outcome]


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_an_accepting_fault_makes_the_job_then_fails_the_answer(
    session: aiohttp.ClientSession, status: int
) -> None:
    async with FakeTengrAI() as server:
        server.queue_create_faults(f"accept-{status}")  # type: ignore[arg-type]
        answered, body = await post(session, server, "quantum", {"prompt": "a"})
        assert server.total == 1
        listed = await get(session, server, "v2/artworks")
    assert answered == status
    assert body["statusCode"] == status
    assert listed[0]["parameters"]["prompt"] == "a"


async def test_a_refusing_fault_makes_no_job(session: aiohttp.ClientSession) -> None:
    async with FakeTengrAI(retry_after=7) as server:
        server.queue_create_faults("429", "503")
        async with session.post(server.url / "v2/artworks/quantum", json={}, headers=AUTH) as r:
            assert r.status == 429
            assert r.headers["Retry-After"] == "7"
        assert (await post(session, server, "quantum", {}))[0] == 503
        assert server.total == 0
        assert (await post(session, server, "quantum", {}))[0] == 202


async def test_a_dropped_answer_after_accepting_leaves_the_job(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeTengrAI() as server:
        server.queue_create_faults("accept-drop")
        with pytest.raises(aiohttp.ClientPayloadError):
            await post(session, server, "quantum", {})
        assert server.total == 1


def test_an_unknown_create_fault_is_refused() -> None:
    server = FakeTengrAI()
    with pytest.raises(ValueError, match="unknown create faults"):
        server.queue_create_faults("418")  # type: ignore[arg-type]
    assert "accept-timeout" in CREATE_FAULTS


@pytest.mark.parametrize(
    "options", [{"outcome": "done"}, {"polls": 0}, {"seconds": 0}, {"images": 3}]
)
def test_create_options_are_checked(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - attrs' own messages
        CreateOptions(**options)
