"""The README's examples run as written, on a listing that holds every kind of artwork.

So do the examples in the public modules' docstrings (the reference): each is one of the
README's, or is run here itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

import tengrai_async
import tengrai_async.archive
import tengrai_async.cli
import tengrai_async.testing
import tengrai_async.web
from tengrai_async import ServerError, TengrAI
from tengrai_async._models import KINDS
from tengrai_async.testing import FakeTengrAI, make_artworks

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", flags=re.DOTALL)
BLOCKS = PYTHON_BLOCK.findall(README)
EXAMPLE_ID = "0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60"
#: The public modules, whose docstrings hold the reference.
REFERENCE = (
    tengrai_async,
    tengrai_async.archive,
    tengrai_async.cli,
    tengrai_async.testing,
    tengrai_async.web,
)


def block(marker: str, text: str = README) -> str:
    """The one Python block of *text* (the README by default) that contains *marker*."""
    (found,) = [code for code in PYTHON_BLOCK.findall(text) if marker in code]
    return str(found)


def docstring(module: ModuleType) -> str:
    assert module.__doc__ is not None
    return module.__doc__


def as_coroutine(code: str, *arguments: str, returns: str = "None") -> Any:
    """*code* as the body of ``async def example(*arguments)``, returning *returns*."""
    source = f"async def example({', '.join(arguments)}):\n" + textwrap.indent(code, "    ")
    source += f"    return {returns}\n"
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - the documentation's own code
    return namespace["example"]


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


def test_the_errors_example_names_the_path_value_and_offset() -> None:
    items = make_artworks(40, seed=3, kinds=["selena"])
    items[17]["parameters"]["creativity"] = 7
    example = as_coroutine(block("except RateLimitError as exc"), "client")

    async def run() -> None:
        async with FakeTengrAI(items) as server, server.client() as client:
            await example(client)

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        asyncio.run(run())
    assert out.getvalue() == "$[17].parameters.creativity 7 17\n"


def test_the_errors_example_reads_the_servers_retry_after() -> None:
    example = as_coroutine(block("except RateLimitError as exc"), "client")

    async def run() -> None:
        async with FakeTengrAI(count=5, retry_after=7) as server:
            server.queue_faults("429")
            async with server.client(max_retries=0) as client:
                await example(client)

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        asyncio.run(run())
    assert out.getvalue() == "retry in 7.0\n"


def test_the_with_options_example_of_the_reference_gets_an_artwork_without_retries() -> None:
    example = as_coroutine(
        block("client.with_options(", docstring(tengrai_async)),
        "client",
        "artwork_id",
        returns="fast, artwork",
    )

    async def run() -> None:
        async with FakeTengrAI(count=5) as server, server.client() as client:
            wanted = server.ids()[2]
            fast, artwork = await example(client, wanted)
            assert str(artwork.id) == wanted
            assert (fast.timeout, fast.max_retries) == (5.0, 0)
            server.queue_faults("503")
            with pytest.raises(ServerError) as raised:  # max_retries=0: no second attempt
                await example(client, wanted)
            assert raised.value.attempts == 1

    asyncio.run(run())


def test_the_archive_example_archives_every_artwork_and_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = block("tengrai_async.archive.sync(", docstring(tengrai_async.archive))
    example = as_coroutine(code, "TengrAI", "tengrai_async", returns="report")
    monkeypatch.chdir(tmp_path)
    with FakeTengrAI.in_thread(count=30, seed=3, images=True) as server:
        monkeypatch.setenv("TENGRAI_API_KEY", "test-key")
        monkeypatch.setenv("TENGRAI_BASE_URL", str(server.url))
        report = asyncio.run(example(TengrAI, tengrai_async))
        ids = server.ids()
    assert (report.new, report.images_failed, report.complete) == (30, 0, True)
    assert report.images_downloaded > 0
    with contextlib.closing(sqlite3.connect(tmp_path / "tengrai-archive" / "archive.sqlite")) as db:
        archived = {row[0] for row in db.execute("SELECT id FROM artworks")}
    assert archived == set(ids)


def test_the_web_example_serves_the_newest_artwork_and_the_listing(
    server: FakeTengrAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: dict[str, Any] = {}

    async def serve(app: web.Application) -> None:
        async with TestClient(TestServer(app)) as http:
            for path in ("/newest", "/artworks?limit=3"):
                response = await http.get(path)
                answers[path] = (response.status, await response.json())

    def run_app(app: web.Application) -> None:  # what the example's web.run_app(app) does
        asyncio.run(serve(app))

    monkeypatch.setattr(web, "run_app", run_app)
    exec(block("web.run_app(app)", docstring(tengrai_async.web)), {})  # noqa: S102
    assert answers["/newest"] == (200, {"newest": server.ids()[0]})
    status, page = answers["/artworks?limit=3"]
    assert status == 200
    assert [item["id"] for item in page["items"]] == server.ids()[:3]


def test_every_example_in_the_reference_runs() -> None:
    run_here = {
        tengrai_async: ["client.with_options("],
        tengrai_async.archive: ["tengrai_async.archive.sync("],
        tengrai_async.web: ["web.run_app(app)"],
        # tests/test_testing_kit_readme.py runs the testing kit's test files
        tengrai_async.testing: ["def test_"],
    }
    for module in REFERENCE:
        for code in PYTHON_BLOCK.findall(docstring(module)):
            markers = run_here.get(module, [])
            assert code in BLOCKS or any(marker in code for marker in markers), code
