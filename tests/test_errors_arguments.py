"""Every bad argument is an :class:`InvalidArgumentError`, refused before any request.

It stays a ``ValueError`` (``except ValueError`` keeps working); a value of the wrong type is
the :class:`InvalidArgumentTypeError` flavour, a ``TypeError`` too.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import time
from collections.abc import Callable
from typing import Any

import pytest
from _client_helpers import make_client

from tengrai_async import (
    InvalidArgumentError,
    InvalidArgumentTypeError,
    TengrAI,
    TengrAIError,
)
from tengrai_async.testing import FakeTengrAI

ID = "0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60"
NAIVE = dt.datetime(2024, 1, 1)  # noqa: DTZ001 - the naive datetime under test

# Untyped on purpose: these are the calls a type checker would refuse.
Call = Callable[[Any], Any]
LooseTengrAI: Any = TengrAI
# (what is called, the argument refused, whether its type is wrong)
CASES: dict[str, tuple[Call, str, bool]] = {
    "list offset -1": (lambda c: c.artworks.list(offset=-1), "offset", False),
    "list offset '0'": (lambda c: c.artworks.list(offset="0"), "offset", True),
    "list limit 0": (lambda c: c.artworks.list(limit=0), "limit", False),
    "list limit 501": (lambda c: c.artworks.list(limit=501), "limit", False),
    "list limit 2.5": (lambda c: c.artworks.list(limit=2.5), "limit", True),
    "list limit True": (lambda c: c.artworks.list(limit=True), "limit", True),
    "list on_invalid": (lambda c: c.artworks.list(on_invalid="ignore"), "on_invalid", False),
    "list on_invalid 1": (lambda c: c.artworks.list(on_invalid=1), "on_invalid", True),
    "get id text": (lambda c: c.artworks.get("nope"), "artwork_id", False),
    "get id int": (lambda c: c.artworks.get(42), "artwork_id", True),
    "wait id": (lambda c: c.artworks.wait("nope"), "artwork_id", False),
    "wait timeout 0": (lambda c: c.artworks.wait(ID, timeout=0), "timeout", False),
    "wait timeout inf": (lambda c: c.artworks.wait(ID, timeout=math.inf), "timeout", False),
    "wait timeout '5'": (lambda c: c.artworks.wait(ID, timeout="5"), "timeout", True),
    "wait poll -1": (lambda c: c.artworks.wait(ID, poll_interval=-1), "poll_interval", False),
    "wait poll None": (
        lambda c: c.artworks.wait(ID, poll_interval=None),
        "poll_interval",
        True,
    ),
    "iterate offset": (lambda c: c.artworks.iterate(offset=-1), "offset", False),
    "iterate page_size 0": (lambda c: c.artworks.iterate(page_size=0), "page_size", False),
    "iterate page_size '5'": (lambda c: c.artworks.iterate(page_size="5"), "page_size", True),
    "iterate prefetch 0": (lambda c: c.artworks.iterate(prefetch=0), "prefetch", False),
    "iterate max_items -1": (lambda c: c.artworks.iterate(max_items=-1), "max_items", False),
    "iterate max_items '3'": (lambda c: c.artworks.iterate(max_items="3"), "max_items", True),
    "iterate on_invalid": (lambda c: c.artworks.iterate(on_invalid="x"), "on_invalid", False),
    "iterate dedupe_window": (
        lambda c: c.artworks.iterate(dedupe_window=-1),
        "dedupe_window",
        False,
    ),
    "iterate newest_first": (
        lambda c: c.artworks.iterate(newest_first="yes"),
        "newest_first",
        True,
    ),
    "iterate artwork_type []": (
        lambda c: c.artworks.iterate(artwork_type=[]),
        "artwork_type",
        False,
    ),
    "iterate artwork_type [1]": (
        lambda c: c.artworks.iterate(artwork_type=[1]),
        "artwork_type",
        True,
    ),
    "iterate artwork_type 5": (
        lambda c: c.artworks.iterate(artwork_type=5),
        "artwork_type",
        True,
    ),
    "iterate status bogus": (lambda c: c.artworks.iterate(status="bogus"), "status", False),
    "iterate status []": (lambda c: c.artworks.iterate(status=[]), "status", False),
    "iterate status [1]": (lambda c: c.artworks.iterate(status=[1]), "status", True),
    "iterate created_after naive": (
        lambda c: c.artworks.iterate(created_after=NAIVE),
        "created_after",
        False,
    ),
    "iterate created_before text": (
        lambda c: c.artworks.iterate(created_before="2024-01-01"),
        "created_before",
        True,
    ),
    "TengrAI timeout 0": (lambda c: LooseTengrAI("k", timeout=0), "timeout", False),
    "TengrAI timeout nan": (lambda c: LooseTengrAI("k", timeout=math.nan), "timeout", False),
    "TengrAI timeout '5'": (lambda c: LooseTengrAI("k", timeout="5"), "timeout", True),
    "TengrAI max_retries -1": (lambda c: LooseTengrAI("k", max_retries=-1), "max_retries", False),
    "TengrAI max_retries 1.5": (lambda c: LooseTengrAI("k", max_retries=1.5), "max_retries", True),
    "TengrAI max_retries True": (
        lambda c: LooseTengrAI("k", max_retries=True),
        "max_retries",
        True,
    ),
    "TengrAI retry": (lambda c: LooseTengrAI("k", retry="fast"), "retry", True),
    "TengrAI max_response_bytes": (
        lambda c: LooseTengrAI("k", max_response_bytes=0),
        "max_response_bytes",
        False,
    ),
    "TengrAI trust_env": (lambda c: LooseTengrAI("k", trust_env="yes"), "trust_env", True),
    "TengrAI clock": (lambda c: LooseTengrAI("k", clock=time), "clock", True),
    "with_options timeout": (lambda c: c.with_options(timeout=-1), "timeout", False),
    "with_options max_retries": (
        lambda c: c.with_options(max_retries="3"),
        "max_retries",
        True,
    ),
    "with_options retry": (lambda c: c.with_options(retry=object()), "retry", True),
}


async def refused(call: Call, client: TengrAI) -> None:
    """Make the call, and await what it returns if that is awaitable."""
    result = call(client)
    if inspect.isawaitable(result):
        await result


@pytest.fixture(scope="module")
def server() -> Any:
    with FakeTengrAI.in_thread(count=5) as running:
        yield running


@pytest.mark.parametrize("case", list(CASES))
async def test_a_bad_argument_is_an_invalid_argument_error_before_any_request(
    case: str, server: FakeTengrAI
) -> None:
    call, argument, wrong_type = CASES[case]
    before = len(server.requests)
    async with make_client(server.url) as client:
        with pytest.raises(InvalidArgumentError) as info:
            await refused(call, client)
    error = info.value
    assert isinstance(error, TengrAIError)
    assert isinstance(error, ValueError)
    assert isinstance(error, TypeError) is wrong_type
    assert isinstance(error, InvalidArgumentTypeError) is wrong_type
    assert error.argument == argument
    assert str(error).startswith(f"{argument} must be ")
    assert len(server.requests) == before
