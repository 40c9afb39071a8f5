"""Property tests of the web proxy: whatever the query and whatever upstream answers, the
caller gets JSON with 200, 400 or 502, never a bare 500.

The examples share one proxy (and one upstream) per test: the fixtures are built once per test
function, which is the point here, hence the suppressed function-scoped-fixture health check.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any, Final

import orjson
import pytest
import yarl
from _client_helpers import Reply, ScriptedServer
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strategies import any_artworks, json_values

from tengrai_async.testing import FakeTengrAI
from tengrai_async.web import setup

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
Proxy = TestClient[web.Request, web.Application]

SHARED_FIXTURES: Final = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
#: The bounds the proxy promises, restated: offset fits a signed 64-bit integer.
BOUNDS: Final = {"offset": (0, 2**63 - 1), "limit": (1, 500)}
DEFAULTS: Final = {"offset": 0, "limit": 10}
_ASCII_DIGITS: Final = re.compile(r"[0-9]+", re.ASCII)


@pytest.fixture
async def upstream() -> AsyncIterator[FakeTengrAI]:
    async with FakeTengrAI(count=30) as server:
        yield server


@pytest.fixture
async def proxy(aiohttp_client: ClientFactory, upstream: FakeTengrAI) -> Proxy:
    app = web.Application()
    setup(app, api_key="test-key", base_url=upstream.url, max_retries=0)
    return await aiohttp_client(app)


async def get_raw(client: Proxy, query: str) -> Any:
    url = yarl.URL(f"{client.make_url('/artworks')}?{query}", encoded=True)
    return await client.session.get(url)


# -- arbitrary query strings ---------------------------------------------------------------

# What may stand unencoded in a request target's query; everything else is percent-encoded.
_SAFE: Final = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "#%")


def _encode(text: str) -> str:
    return urllib.parse.quote(text, safe=_SAFE)


_names = st.one_of(
    st.sampled_from(["offset", "limit"]).map(_encode),
    st.sampled_from(["offset", "limit"]).map(lambda name: urllib.parse.quote(name, safe="")),
    st.sampled_from(["%6Fffset", "l%69mit", "Offset", "LIMIT", "offset[]", "", "x"]),
    st.text(max_size=8).map(_encode),
)
_integers = st.one_of(
    st.integers(-10, 600),
    st.integers(2**63 - 3, 2**63 + 3),
    st.integers(),
    st.integers(0, 10**40),
)
_values = st.one_of(
    _integers.map(str),
    st.tuples(st.sampled_from(["", "0", "00", "+", "-", " ", "\t", "%2B", "+0"]), _integers).map(
        lambda t: t[0] + str(t[1])
    ),
    st.tuples(_integers, st.sampled_from(["", " ", "_0", ".0", "e3", "\n", "\x00"])).map(
        lambda t: str(t[0]) + t[1]
    ),
    st.from_regex(r"[0-9]{1,40}", fullmatch=True),
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=5),  # other digits
    st.text(),
)
_raw_junk = st.from_regex(r"(%[0-9A-Za-z%]{0,2}|[=&;+])*", fullmatch=True)


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    """A request target's query: some ``name=value`` pairs, junk between them now and then."""
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(_names)
        value = draw(_values)
        style = draw(st.sampled_from(["encoded", "plus", "raw-digits", "bare"]))
        if style == "bare":
            parts.append(name)
        elif style == "plus":  # the form encoding: a space is "+"
            parts.append(f"{name}={urllib.parse.quote_plus(value)}")
        elif style == "raw-digits" and value.isascii():
            parts.append(f"{name}={_encode(value)}")
        else:
            parts.append(f"{name}={urllib.parse.quote(value, safe='')}")
        if draw(st.integers(0, 9)) == 0:
            parts.append(draw(_raw_junk))
    return "&".join(parts)


def expected(query: str) -> tuple[int, dict[str, int]]:
    """The status the query deserves and the window it asks for, decoded by the stdlib.

    An independent reading: ``urllib.parse`` rather than the yarl that aiohttp uses.
    """
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, errors="replace")
    window = dict(DEFAULTS)
    for name, (low, high) in BOUNDS.items():
        values = [value for key, value in pairs if key == name]
        if len(values) > 1:
            return 400, {}
        if values:
            text = values[0]
            if not _ASCII_DIGITS.fullmatch(text) or not low <= Decimal(text) <= high:
                return 400, {}
            window[name] = int(text)
    return 200, window


@settings(SHARED_FIXTURES, max_examples=300)
@given(query=query_strings())
async def test_any_query_gets_200_or_a_400_json_error(
    proxy: Proxy, upstream: FakeTengrAI, query: str
) -> None:
    before = len(upstream.requests)
    resp = await get_raw(proxy, query)
    status, window = expected(query)
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert resp.status == status, (query, body)
    event(f"status {status}" + (f" ({body['parameter']})" if status == 400 else ""))
    if status == 400:
        assert body["statusCode"] == 400
        assert body["error"] == "Bad Request"
        assert body["parameter"] in BOUNDS
        assert len(upstream.requests) == before
    else:
        assert (body["offset"], body["limit"]) == (window["offset"], window["limit"])
        assert upstream.requests[-1].query == {k: str(v) for k, v in window.items()}


@settings(SHARED_FIXTURES, max_examples=200)
@given(query=st.text(st.characters(codec="ascii"), max_size=40).map(_encode))
async def test_any_ascii_text_as_the_query_gets_json(
    proxy: Proxy, upstream: FakeTengrAI, query: str
) -> None:
    resp = await get_raw(proxy, query)
    assert resp.status == expected(query)[0]
    assert resp.content_type == "application/json"
    await resp.json()


# -- arbitrary upstream answers ------------------------------------------------------------

_statuses = st.one_of(
    st.sampled_from([200, 201, 203, 206, 300, 301, 400, 401, 403, 404, 418, 422, 429, 500, 503]),
    st.integers(200, 599).filter(lambda status: status not in (204, 304)),  # these have no body
)
_valid_pages = st.lists(any_artworks(), max_size=3).map(lambda items: ("valid", items))
_json_bodies = json_values.map(lambda value: ("json", value))
_byte_bodies = st.binary(max_size=64).map(lambda body: ("bytes", body))
_headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(["application/json", "text/html", "text/plain"]),
        "Retry-After": st.sampled_from(["0", "-1", "soon", "Wed, 21 Oct 2015 07:28:00 GMT"]),
        "X-Request-Id": st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
    },
)


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer() as server:
        yield server


@pytest.fixture
async def scripted_proxy(aiohttp_client: ClientFactory, scripted: ScriptedServer) -> Proxy:
    app = web.Application()
    setup(app, api_key="test-key", base_url=scripted.url, max_retries=0, timeout=5)
    return await aiohttp_client(app)


@settings(SHARED_FIXTURES, max_examples=100)
@given(
    status=_statuses,
    answer=st.one_of(_valid_pages, _json_bodies, _byte_bodies),
    headers=_headers,
)
async def test_any_upstream_answer_gets_200_or_a_502_json_error(
    scripted_proxy: Proxy,
    scripted: ScriptedServer,
    status: int,
    answer: tuple[str, Any],
    headers: dict[str, str],
) -> None:
    kind, payload = answer
    event(f"{kind} body")
    body = payload if kind == "bytes" else orjson.dumps(payload)
    scripted.replies.append(Reply(status, body, headers))
    resp = await scripted_proxy.get("/artworks")
    assert resp.content_type == "application/json"
    got = await resp.json()
    ok = 200 <= status < 300
    if not ok:
        assert resp.status == 502
        assert got["upstreamStatus"] == status
    elif kind == "valid":
        assert resp.status == 200, got
        assert [item["id"] for item in got["items"]] == [item["id"] for item in payload]
    else:
        assert resp.status in (200, 502)
    if resp.status == 502:
        assert (got["statusCode"], got["error"]) == (502, "Bad Gateway")
        assert isinstance(got["kind"], str)
        assert isinstance(got["message"], str)
    assert "test-key" not in await resp.text()
    event(f"upstream {'2xx' if ok else 'error'} -> {resp.status}")
