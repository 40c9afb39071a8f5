"""A create is never paid for twice: refused POSTs retried, ambiguous ones looked up first.

Over real loopback HTTP against the fake server, whose create faults make the job and then
fail the answer (``accept-...``) or fail before any job exists.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from typing import Any

import pytest
from _client_helpers import make_client

from tengrai_async import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    RateLimitError,
    ServerError,
    TengrAIError,
)
from tengrai_async._never_twice import LOOKUP_SKEW, matches
from tengrai_async.testing import FakeClock, FakeTengrAI

IMAGE = "https://images.example.com/in.png"


def posts(server: FakeTengrAI) -> list[Any]:
    return [request.body for request in server.requests if request.method == "POST"]


def listings(server: FakeTengrAI) -> int:
    return sum(request.path == "/v2/artworks" for request in server.requests)


def job_ids(server: FakeTengrAI) -> list[str]:
    """The ids of the jobs the server made (the listing holds nothing else here)."""
    return server.ids()


@pytest.mark.parametrize("fault", ["accept-500", "accept-502", "accept-504", "accept-drop"])
async def test_an_ambiguous_failure_after_the_job_was_made_returns_that_job(fault: str) -> None:
    async with FakeTengrAI() as server, server.client() as client:
        server.queue_create_faults(fault)  # type: ignore[arg-type]
        artwork = await client.artworks.create_quantum(prompt="a red fox", seed=5)
    assert job_ids(server) == [str(artwork.id)]  # exactly one job, and it is the one returned
    assert posts(server) == [{"prompt": "a red fox", "seed": 5}]
    assert listings(server) == 1


async def test_a_timeout_after_the_job_was_made_returns_that_job() -> None:
    async with FakeTengrAI() as server, server.client(timeout=0.2) as client:
        server.queue_create_faults("accept-timeout")
        artwork = await client.artworks.create_upscaling(image_url=IMAGE)
    assert job_ids(server) == [str(artwork.id)]
    assert len(posts(server)) == 1


@pytest.mark.parametrize("fault", ["500", "502", "504", "drop"])
async def test_an_ambiguous_failure_without_a_job_sends_the_post_again(fault: str) -> None:
    async with FakeTengrAI() as server, server.client() as client:
        server.queue_create_faults(fault)  # type: ignore[arg-type]
        artwork = await client.artworks.create_quantum(prompt="a red fox")
    assert job_ids(server) == [str(artwork.id)]
    assert posts(server) == [{"prompt": "a red fox"}] * 2
    assert listings(server) == 1  # looked up once, found nothing


async def test_a_timeout_without_a_job_sends_the_post_again() -> None:
    async with FakeTengrAI() as server, server.client(timeout=0.2) as client:
        server.queue_create_faults("timeout")
        artwork = await client.artworks.create_upscaling(image_url=IMAGE)
    assert job_ids(server) == [str(artwork.id)]
    assert len(posts(server)) == 2


@pytest.mark.parametrize("fault", ["503", "429"])
async def test_a_refused_post_is_retried_without_a_look_up(fault: str) -> None:
    async with FakeTengrAI() as server, server.client() as client:
        server.queue_create_faults(fault)  # type: ignore[arg-type]
        artwork = await client.artworks.create_quantum(prompt="a red fox")
    assert job_ids(server) == [str(artwork.id)]
    assert len(posts(server)) == 2
    assert listings(server) == 0


async def test_a_429_holds_back_the_creates_of_the_client_and_its_copies() -> None:
    clock = FakeClock()
    async with (
        FakeTengrAI(retry_after=30) as server,
        make_client(server.url, clock=clock) as client,
    ):
        server.queue_create_faults("429")
        copy = client.with_options(max_retries=0)
        with pytest.raises(RateLimitError):
            await copy.artworks.create_quantum(prompt="a")
        assert client.artworks._ledger.cooldown.remaining == 30
        await client.artworks.create_quantum(prompt="a")  # waits out the shared cooldown
    assert clock.sleeps == [30.0]
    assert len(job_ids(server)) == 1


async def test_a_503_is_retried_after_its_retry_after() -> None:
    clock = FakeClock()
    async with FakeTengrAI(retry_after=7) as server, make_client(server.url, clock=clock) as client:
        server.queue_create_faults("503")
        await client.artworks.create_quantum(prompt="a")
    assert clock.sleeps == [7.0]


@pytest.mark.parametrize(("behind", "found"), [(0.0, True), (280.0, True), (320.0, False)])
async def test_the_look_up_allows_five_minutes_of_clock_skew(behind: float, found: bool) -> None:
    client_clock = FakeClock()
    server_clock = FakeClock(wall=client_clock.now() - dt.timedelta(seconds=behind))
    async with (
        FakeTengrAI(clock=server_clock) as server,
        server.client(clock=client_clock) as client,
    ):
        server.queue_create_faults("accept-504")
        artwork = await client.artworks.create_quantum(prompt="a red fox")
    assert dt.timedelta(minutes=5) == LOOKUP_SKEW
    assert len(job_ids(server)) == (1 if found else 2)
    assert str(artwork.id) == job_ids(server)[0]


async def test_a_job_with_other_parameters_is_not_taken() -> None:
    async with FakeTengrAI() as server:
        async with server.client() as other:
            theirs = await other.artworks.create_quantum(prompt="a blue fox")
        async with server.client() as client:
            server.queue_create_faults("504")
            mine = await client.artworks.create_quantum(prompt="a red fox")
    assert mine.id != theirs.id
    assert len(job_ids(server)) == 2
    assert mine.parameters.prompt == "a red fox"


async def test_a_job_of_another_kind_is_not_taken() -> None:
    async with FakeTengrAI() as server:
        async with server.client() as other:
            await other.artworks.create_hamilton(prompt="a red fox")
        async with server.client() as client:
            server.queue_create_faults("504")
            mine = await client.artworks.create_quantum(prompt="a red fox")
    assert len(job_ids(server)) == 2
    assert type(mine).__name__ == "QuantumArtwork"


async def test_two_identical_creates_in_a_row_each_get_their_own_job() -> None:
    async with FakeTengrAI() as server, server.client() as client:
        first = await client.artworks.create_quantum(prompt="a red fox")
        server.queue_create_faults("accept-504")
        second = await client.artworks.create_quantum(prompt="a red fox")
        server.queue_create_faults("504")
        third = await client.artworks.create_quantum(prompt="a red fox")
    assert len({first.id, second.id, third.id}) == 3
    assert job_ids(server) == [str(third.id), str(second.id), str(first.id)]


async def test_a_copy_of_the_client_does_not_take_a_job_the_original_returned() -> None:
    async with FakeTengrAI() as server, server.client() as client:
        first = await client.artworks.create_quantum(prompt="a red fox")
        server.queue_create_faults("504")
        second = await client.with_options(timeout=2).artworks.create_quantum(prompt="a red fox")
    assert first.id != second.id
    assert len(job_ids(server)) == 2


async def test_the_job_found_is_logged_at_info_with_its_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tengrai_async")
    async with FakeTengrAI() as server, server.client() as client:
        server.queue_create_faults("accept-502")
        artwork = await client.artworks.create_quantum(prompt="a red fox")
    found = [
        r for r in caplog.records if r.levelno == logging.INFO and str(artwork.id) in r.message
    ]
    assert len(found) == 1
    assert "not sent again" in found[0].message


async def test_with_no_retries_an_ambiguous_failure_raises_at_once() -> None:
    async with FakeTengrAI() as server, server.client(max_retries=0) as client:
        server.queue_create_faults("accept-504")
        with pytest.raises(ServerError) as info:
            await client.artworks.create_quantum(prompt="a red fox")
    error = info.value
    assert error.status == 504
    assert error.job_may_exist is True
    assert error.sent_body == {"prompt": "a red fox"}
    assert error.sent_at is not None
    assert error.sent_at.utcoffset() is not None
    assert listings(server) == 0
    assert len(job_ids(server)) == 1


async def test_a_timeout_with_no_retries_is_an_api_timeout_error_that_may_have_made_the_job() -> (
    None
):
    async with FakeTengrAI() as server, server.client(max_retries=0, timeout=0.2) as client:
        server.queue_create_faults("accept-timeout")
        with pytest.raises(APITimeoutError) as info:
            await client.artworks.create_upscaling(image_url=IMAGE)
    assert info.value.job_may_exist is True
    assert info.value.sent_body == {"imageUrl": IMAGE}


async def test_when_the_retries_run_out_the_error_says_the_job_may_exist() -> None:
    async with FakeTengrAI() as server, server.client(max_retries=2) as client:
        server.queue_create_faults("504", "504", "504")
        with pytest.raises(ServerError) as info:
            await client.artworks.create_quantum(prompt="a red fox")
    assert info.value.attempts == 3
    assert info.value.job_may_exist is True
    assert listings(server) == 2  # one look-up before each retry
    assert job_ids(server) == []


async def test_a_refusal_after_an_ambiguous_failure_still_says_the_job_may_exist() -> None:
    async with FakeTengrAI() as server, server.client(max_retries=1) as client:
        server.queue_create_faults("500", "503")
        with pytest.raises(ServerError) as info:
            await client.artworks.create_quantum(prompt="a red fox")
    assert info.value.status == 503
    assert info.value.job_may_exist is True


async def test_a_connection_that_cannot_be_opened_is_retried_and_never_made_a_job() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with make_client(f"http://127.0.0.1:{port}", max_retries=2) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.artworks.create_quantum(prompt="x")
    assert info.value.attempts == 3
    assert info.value.job_may_exist is False
    assert "test-key" not in str(info.value)


async def test_a_failed_look_up_leaves_the_job_unknown() -> None:
    async with FakeTengrAI() as server, server.client(max_retries=1) as client:
        server.queue_create_faults("accept-504")
        server.queue_faults("401")  # the listing of the look-up
        with pytest.raises(ServerError) as info:
            await client.artworks.create_quantum(prompt="a red fox")
    assert info.value.job_may_exist is True
    assert isinstance(info.value.__cause__, AuthenticationError)
    assert len(posts(server)) == 1


async def test_turned_off_an_ambiguous_failure_is_sent_again_without_a_look_up() -> None:
    async with FakeTengrAI() as server, server.client(never_twice=False) as client:
        server.queue_create_faults("accept-504")
        artwork = await client.artworks.create_quantum(prompt="a red fox")
        assert client.with_options().artworks._never_twice is False
        on = client.with_options(never_twice=True)
        assert on.artworks._never_twice is True
    assert listings(server) == 0
    assert len(job_ids(server)) == 2  # the price of turning it off
    assert job_ids(server)[0] == str(artwork.id)


async def test_never_twice_takes_only_a_boolean() -> None:
    from tengrai_async import InvalidArgumentTypeError, TengrAI  # noqa: PLC0415

    with pytest.raises(InvalidArgumentTypeError):
        TengrAI("k", never_twice="no")  # type: ignore[arg-type]


def test_parameters_match_only_with_every_sent_key_and_value() -> None:
    echoed = {"prompt": "a", "seed": 1, "promptMode": "servitor", "points": {"labels": [1]}}
    assert matches(echoed, {"prompt": "a", "seed": 1})
    assert matches(echoed, {"points": {"labels": [1]}})
    assert not matches(echoed, {"prompt": "b"})
    assert not matches(echoed, {"prompt": "a", "nsfw": False})  # a key it lacks
    assert not matches(echoed, {"seed": True})  # true is not 1 on the wire
    assert not matches(echoed, {"points": {"labels": [1, 2]}})
    assert not matches(echoed, {"points": {"labels": [1], "points": []}})
    assert matches({"x": 1.0}, {"x": 1})
    assert not matches({"x": "1"}, {"x": 1})
    assert not matches({"x": [1]}, {"x": {"a": 1}})
    assert not matches({"x": "ab"}, {"x": ["a", "b"]})


def test_an_error_with_a_sent_body_survives_pickling() -> None:
    import datetime as dt  # noqa: PLC0415
    import pickle  # noqa: PLC0415

    error = ServerError(504, {"message": "late", "statusCode": 504})
    error.attempts = 2
    error.job_may_exist = True
    error.sent_body = {"prompt": "x"}
    error.sent_at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    copy: TengrAIError = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.job_may_exist, copy.sent_body, copy.sent_at, copy.attempts) == (
        True,
        {"prompt": "x"},
        error.sent_at,
        2,
    )


async def test_the_look_up_is_retried_like_any_get() -> None:
    async with FakeTengrAI() as server, server.client() as client:
        server.queue_create_faults("accept-504")
        server.queue_faults("503")  # the look-up's first listing
        artwork = await client.artworks.create_quantum(prompt="a red fox")
    assert job_ids(server) == [str(artwork.id)]
    assert len(posts(server)) == 1
    assert listings(server) == 2


def test_an_invalid_parameter_error_survives_pickling() -> None:
    import pickle  # noqa: PLC0415

    from tengrai_async import InvalidParameterError  # noqa: PLC0415

    error = InvalidParameterError("aspectRatio", "21:9", "one of '1:1', '16:9'")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.argument, copy.path, copy.value, copy.expected) == (
        "aspectRatio",
        "$.aspectRatio",
        "21:9",
        "one of '1:1', '16:9'",
    )
    assert str(copy) == str(error)


def test_the_ledger_remembers_the_newest_ten_thousand_ids() -> None:
    from tengrai_async._never_twice import CreateLedger  # noqa: PLC0415

    ledger = CreateLedger()
    for n in range(10_001):
        ledger.add(str(n))
    assert "0" not in ledger
    assert "1" in ledger
    assert "10000" in ledger
