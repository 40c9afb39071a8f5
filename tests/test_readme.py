"""The README's examples run as written, on a listing that holds every kind of artwork."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tengrai_async import TengrAI
from tengrai_async._models import KINDS
from tengrai_async.testing import FakeTengrAI, make_artworks

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
EXAMPLE_ID = "0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60"


def block(marker: str) -> str:
    """The one Python block of the README that contains *marker*."""
    (found,) = [text for text in BLOCKS if marker in text]
    return str(found)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTengrAI]:
    with FakeTengrAI.in_thread(count=400, seed=3) as running:
        monkeypatch.setenv("TENGRAI_API_KEY", "test-key")
        monkeypatch.setenv("TENGRAI_BASE_URL", str(running.url))
        yield running


def test_the_listing_holds_every_kind(server: FakeTengrAI) -> None:
    kinds = {artwork["artworkType"] for artwork in make_artworks(400, seed=3)}
    assert kinds == set(KINDS)


def test_the_client_example_prints_every_artwork_of_every_kind(server: FakeTengrAI) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(block("async for artwork in client.artworks.iterate()"), {})  # noqa: S102
    lines = out.getvalue().splitlines()
    assert lines[0] == "10 True 10"
    assert [line.split()[0] for line in lines[1:]] == server.ids()
    assert {line.split()[1] for line in lines[1:]} == set(KINDS)


def test_the_get_and_wait_example_follows_a_job(server: FakeTengrAI) -> None:
    job = server.start_job("depth_map", polls=1)
    code = block("client.artworks.wait(artwork.id").replace(EXAMPLE_ID, job)
    namespace: dict[str, Any] = {}
    source = "async def example(client):\n" + textwrap.indent(code, "    ")
    source += "    return artwork, done\n"
    exec(source, namespace)  # noqa: S102 - the README's own code

    async def run() -> Any:
        async with TengrAI(retry=None) as client:
            return await namespace["example"](client)

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        artwork, done = asyncio.run(run())
    assert str(artwork.id) == job
    assert artwork.status == "starting"
    assert done.status == "succeeded"
    assert out.getvalue() == f"{done.results}\n"


def test_the_models_example_runs_on_every_kind(server: FakeTengrAI) -> None:
    items = make_artworks(400, seed=3)
    for item in items[:60]:
        namespace: dict[str, Any] = {"json_obj": item, "body_bytes": orjson.dumps(items)}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(block("converter.structure(json_obj, Artwork)"), namespace)  # noqa: S102
        assert namespace["artwork"].raw == item
        assert namespace["page"].count == len(items)
        assert "invalid value 6 @ creativity" in out.getvalue()


def test_the_iterate_example_saves_every_page(server: FakeTengrAI) -> None:
    saved: list[Any] = []
    source = "async def example(client, save):\n" + textwrap.indent(
        block("async for page in it.pages()"), "    "
    )
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - the README's own code

    async def run() -> None:
        async with TengrAI() as client:
            await namespace["example"](client, saved.extend)

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        asyncio.run(run())
    assert [str(artwork.id) for artwork in saved] == server.ids()
    assert "items_yielded=400" in out.getvalue()
