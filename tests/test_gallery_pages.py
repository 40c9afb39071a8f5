"""The gallery's pages and JSON over loopback, on an archive made by the real archive code.

The grid (count, order by moment, paging while artworks arrive), every filter and their
combination, search by prefix and in ``negativePrompt``, the detail page, hostile text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import html.parser
import json
import re
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from _gallery_helpers import archive_items, illustrate, moment, newest_first, stored
from aiohttp import web
from aiohttp.test_utils import TestClient

from tengrai_async.gallery import make_app
from tengrai_async.testing import FakeTengrAI, make_artworks

Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[[web.Application], Awaitable[Client]]

COUNT = 150
HOSTILE = '<script>alert("x")</script> "double" \'single\' & ünïcödé 🦊 狐狸 </textarea>'
ONLY_NEGATIVE = "quokka"


def library_items(cdn: FakeTengrAI) -> list[dict[str, Any]]:
    items = make_artworks(COUNT)
    illustrate(items, cdn, illustrated=40)
    items[3]["artworkType"] = "selena"
    items[3]["parameters"] = {"prompt": "plain words", "negativePrompt": f"{ONLY_NEGATIVE} hat"}
    items[4]["parameters"]["prompt"] = HOSTILE
    items[6]["parameters"]["prompt"] = "two foxes in the snow"
    return items


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("library") / "archive"
    asyncio.run(archive_items(directory, library_items))
    return directory


@pytest.fixture
async def client(aiohttp_client: ClientFactory, library: Path) -> Client:
    return await aiohttp_client(make_app(library))


class Grid(html.parser.HTMLParser):
    """The ids, image alts and older link of a grid page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.alts: list[str] = []
        self.older: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        href = found.get("href") or ""
        if tag == "a" and href.startswith("/artworks/"):
            self.ids.append(href.removeprefix("/artworks/"))
        if tag == "a" and found.get("rel") == "next":
            self.older = href
        if tag == "img":
            self.alts.append(found.get("alt") or "")


async def grid(client: Client, path: str = "/") -> tuple[Grid, str]:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    text = await response.text()
    return Grid(text), text


def by_json(directory: Path, keep: Callable[[dict[str, Any]], bool]) -> list[str]:
    items = {row[0]: json.loads(row[2]) for row in stored(directory)}
    return [i for i in newest_first(directory) if keep(items[i])]


async def every_page(client: Client, path: str) -> list[str]:
    seen: list[str] = []
    next_path: str | None = path
    while next_path is not None:
        page, _ = await grid(client, next_path)
        assert len(page.ids) <= 60
        seen += page.ids
        next_path = page.older
    return seen


def test_the_data_sorts_differently_by_text_and_by_moment(library: Path) -> None:
    rows = stored(library)
    by_text = [row[0] for row in sorted(rows, key=lambda r: (r[1], r[0]), reverse=True)]
    assert by_text != newest_first(library)  # so the order tests below tell them apart


async def test_the_grid_shows_the_60_newest_by_moment_and_the_count(client: Client) -> None:
    page, text = await grid(client)
    assert "<strong>150</strong> artworks archived" in text
    assert len(page.ids) == 60


async def test_the_grid_is_newest_first_by_moment(client: Client, library: Path) -> None:
    page, _ = await grid(client)
    assert page.ids == newest_first(library)[:60]


async def test_older_links_page_through_every_artwork_once(client: Client, library: Path) -> None:
    assert await every_page(client, "/") == newest_first(library)


async def test_paging_holds_while_new_artworks_arrive(
    aiohttp_client: ClientFactory, library: Path, tmp_path: Path
) -> None:
    directory = tmp_path / "archive"
    shutil.copytree(library, directory)
    client = await aiohttp_client(make_app(directory))
    first, _ = await grid(client)
    second, _ = await grid(client, str(first.older))
    newer = make_artworks(5, start=-5)  # newer than artwork 0
    for item in newer:
        item["results"] = []
        item["status"] = "failed"

    def grown(cdn: FakeTengrAI) -> list[dict[str, Any]]:
        return [*newer, *library_items(cdn)]

    report = await archive_items(directory, grown)
    assert report.new == 5
    again, _ = await grid(client, str(first.older))
    assert again.ids == second.ids  # the same older page, though five arrived on top
    top, text = await grid(client)
    assert top.ids[:5] == [item["id"] for item in newer]
    assert "<strong>155</strong>" in text
    assert await every_page(client, "/") == newest_first(directory)


def kind(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda item: item["artworkType"] == name


def at(item: dict[str, Any]) -> dt.datetime:
    return moment(item["createdAt"])


FILTERS: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
    ("type=selena", kind("selena")),
    ("type=quantum&type=hamilton", lambda i: i["artworkType"] in ("quantum", "hamilton")),
    ("status=failed", lambda i: i["status"] == "failed"),
    ("since=2026-11-01T11:30:00Z", lambda i: at(i) >= moment("2026-11-01T11:30:00Z")),
    ("before=2026-11-01T13:00:00%2B02:00", lambda i: at(i) < moment("2026-11-01T11:00:00Z")),
    ("since=2026-11-01", lambda i: True),
    ("before=2026-11-01", lambda i: False),
    (
        "type=selena&status=succeeded&since=2026-11-01T11:00:00Z&before=2026-11-01T11:50:00Z",
        lambda i: i["artworkType"] == "selena"
        and i["status"] == "succeeded"
        and moment("2026-11-01T11:00:00Z") <= at(i) < moment("2026-11-01T11:50:00Z"),
    ),
    ("q=lantern&type=selena", lambda i: i["artworkType"] == "selena" and "lantern" in text_of(i)),
]  # fmt: skip


def text_of(item: dict[str, Any]) -> str:
    parameters = item["parameters"]
    return " ".join(str(parameters.get(k, "")) for k in ("prompt", "negativePrompt", "textPrompt"))


@pytest.mark.parametrize(("query", "keep"), FILTERS, ids=[f[0] for f in FILTERS])
async def test_each_filter_and_their_combination(
    client: Client, library: Path, query: str, keep: Callable[[dict[str, Any]], bool]
) -> None:
    expected = by_json(library, keep)
    seen = await every_page(client, f"/?{query}")
    assert seen == expected
    _, text = await grid(client, f"/?{query}")
    noun = "artwork" if len(expected) == 1 else "artworks"
    assert f"<strong>{len(expected)}</strong> {noun} match" in text


async def test_a_word_finds_longer_words_by_prefix(client: Client, library: Path) -> None:
    page, _ = await grid(client, "/?q=fox")
    assert page.ids == [newest_first(library)[6]]  # "two foxes in the snow"


async def test_a_word_only_in_the_negative_prompt_is_found(client: Client, library: Path) -> None:
    for query in (ONLY_NEGATIVE, ONLY_NEGATIVE[:4], ONLY_NEGATIVE.upper()):
        page, _ = await grid(client, f"/?q={query}")
        assert page.ids == [newest_first(library)[3]]


@pytest.mark.parametrize(
    "query",
    ['"', "*", "AND (", "NEAR(", "fox*", '"unclosed', "a OR", "-x", "^", ":", "{}", "\\", "%00"],
)
async def test_search_text_of_any_content_answers_200(client: Client, query: str) -> None:
    for path in ("/", "/api/artworks"):
        response = await client.get(path, params={"q": query})
        assert response.status == 200, (path, query, await response.text())


async def test_the_detail_page_shows_the_stored_json_and_every_parameter(
    client: Client, library: Path
) -> None:
    artwork_id, _, text = next(row for row in stored(library) if "images" not in row[2])
    item = json.loads(text)
    response = await client.get(f"/artworks/{artwork_id}")
    assert response.status == 200
    page = await response.text()
    pre = re.search(r'<pre class="json" id="json">(.*?)</pre>', page, re.DOTALL)
    assert pre is not None
    assert json.loads(html.unescape(pre.group(1))) == item
    for name in item["parameters"]:
        assert f"<th>{html.escape(name)}</th>" in page
    raw = await client.get(f"/api/artworks/{artwork_id}")
    assert await raw.text() == text  # the JSON as the API sent it, byte for byte


async def test_the_detail_page_links_every_downloaded_image(client: Client, library: Path) -> None:
    artwork_id, paths = next(
        (a, p)
        for a, p in stored(library, "SELECT artwork_id, group_concat(path) FROM images "
                           "WHERE state = 'done' GROUP BY artwork_id HAVING count(*) = 2")
    )  # fmt: skip
    page = await (await client.get(f"/artworks/{artwork_id}")).text()
    for path in paths.split(","):
        assert f'href="/{path}" download' in page
        assert (await client.get(f"/{path}")).status == 200


async def test_a_hostile_prompt_is_shown_as_text(client: Client, library: Path) -> None:
    hostile_id = newest_first(library)[4]
    page, text = await grid(client)
    assert HOSTILE in page.alts  # the whole prompt, exactly, as the image's alt text
    assert "<script" not in text
    assert "&lt;script&gt;" in text
    detail = await (await client.get(f"/artworks/{hostile_id}")).text()
    assert "<script" not in detail
    assert "</textarea>" not in detail
    shown = re.search(r'<p class="fullprompt">(.*?)</p>', detail, re.DOTALL)
    assert shown is not None
    assert html.unescape(shown.group(1)) == HOSTILE


async def test_the_api_answers_the_same_search_as_json(client: Client, library: Path) -> None:
    response = await client.get("/api/artworks", params={"type": "selena", "limit": "7"})
    assert response.content_type == "application/json"
    body = await response.json()
    expected = by_json(library, kind("selena"))
    assert body["count"] == len(expected)
    assert [entry["artwork"]["id"] for entry in body["artworks"]] == expected[:7]
    raw = {row[0]: json.loads(row[2]) for row in stored(library)}
    images = stored(
        library, "SELECT artwork_id, path FROM images WHERE state = 'done' ORDER BY position"
    )
    for entry in body["artworks"]:
        artwork_id = entry["artwork"]["id"]
        assert entry["artwork"] == raw[artwork_id]
        assert entry["images"] == [p for a, p in images if a == artwork_id]
    following = await (await client.get(body["next"])).json()
    assert [e["artwork"]["id"] for e in following["artworks"]] == expected[7:14]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "x"},
        {"since": "yesterday"},
        {"before": "2026-11-01T10:00"},
    ],
)
async def test_a_filter_that_cannot_be_read_is_a_400(client: Client, query: dict[str, str]) -> None:
    for path in ("/", "/api/artworks"):
        response = await client.get(path, params=query)
        assert response.status == 400
        assert next(iter(query)) in await response.text()


async def test_an_unknown_artwork_or_path_is_a_404_page(client: Client) -> None:
    for path in (
        "/artworks/nope",
        "/nothing/here",
        "/api/artworks/nope",
        "/images/",
        "/static/x.css",
    ):
        response = await client.get(path)
        assert response.status == 404, path
        assert "Content-Security-Policy" in response.headers


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/", "/artworks/nope", "/api/artworks", "/nowhere"])
async def test_any_method_but_get_and_head_is_405(client: Client, method: str, path: str) -> None:
    response = await client.request(method, path)
    assert response.status == 405
    assert response.headers["Allow"] == "GET, HEAD"


async def test_head_answers_like_get_without_a_body(client: Client) -> None:
    response = await client.head("/")
    assert response.status == 200
    assert await response.read() == b""


async def test_every_response_forbids_inline_script_and_other_origins(client: Client) -> None:
    _, text = await grid(client)
    thumbnail = re.search(r'src="(/thumbnails/[^"]+)"', text)
    assert thumbnail is not None
    for path in ("/", "/static/gallery.css", thumbnail.group(1), "/api/artworks", "/missing"):
        response = await client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "unsafe-inline" not in policy
    assert "style=" not in text
    assert "<script" not in text
