from __future__ import annotations

import asyncio
import textwrap

import aiohttp
import orjson
import pytest

from tengrai_async import TengrAI
from tengrai_async.testing import FakeTengrAI, _plugin, make_artworks

# The inner test files fetch with urllib so they need no event loop plugin.
FETCH = textwrap.dedent(
    """
    import json
    import urllib.error
    import urllib.request

    import pytest


    def fetch(server, query=""):
        request = urllib.request.Request(
            f"{server.url}/v2/artworks{query}", headers={"Authorization": "Bearer test-key"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    """
)


# The inner runs load our plugin through its entry point like any user's run; the event loop
# plugins are left out because, with no configuration, they warn, and warnings are errors here.
ARGS: tuple[str, ...] = ("-W", "error", "--strict-markers")
ARGS += ("-p", "no:cacheprovider", "-p", "no:aiohttp", "-p", "no:asyncio")


def run(pytester: pytest.Pytester, tests: str) -> pytest.RunResult:
    pytester.makepyfile(FETCH + textwrap.dedent(tests))
    return pytester.runpytest(*ARGS)


def test_plugin_fixture_serves_100_artworks_by_default(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_default(tengrai_server):
            assert tengrai_server.total == 100
            assert len(fetch(tengrai_server, "?offset=95")) == 5
            assert [r.status for r in tengrai_server.requests] == [200]
        """,
    )
    result.assert_outcomes(passed=1)


def test_plugin_marker_passes_its_keywords_to_the_server(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        from tengrai_async.testing import ListingOptions, make_artworks

        @pytest.mark.tengrai_server(count=3, seed=9, retry_after=4, images=False)
        def test_configured(tengrai_server):
            assert fetch(tengrai_server) == make_artworks(3, seed=9)
            tengrai_server.queue_faults("429")
            with pytest.raises(urllib.error.HTTPError) as caught:
                fetch(tengrai_server)
            assert caught.value.headers["Retry-After"] == "4"
            caught.value.close()

        @pytest.mark.tengrai_server(artworks=[{"id": "x"}])
        def test_explicit(tengrai_server):
            assert fetch(tengrai_server) == [{"id": "x"}]

        @pytest.mark.tengrai_server(listing_options=ListingOptions(count=7, seed=9), images=False)
        def test_a_group(tengrai_server):
            # The fixture's own count=100 stays out of it: the group says how many.
            assert fetch(tengrai_server) == make_artworks(7, seed=9)
        """,
    )
    result.assert_outcomes(passed=3)


def test_plugin_gives_each_test_a_fresh_server(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        @pytest.mark.parametrize("round", [1, 2])
        def test_fresh(tengrai_server, round):
            assert tengrai_server.requests == []
            tengrai_server.insert()
            fetch(tengrai_server)
            assert tengrai_server.total == 101
        """,
    )
    result.assert_outcomes(passed=2)


def test_plugin_registers_its_marker(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers", *ARGS)
    result.stdout.fnmatch_lines(["@pytest.mark.tengrai_server(**kwargs):*"])


def test_plugin_marker_refuses_positional_arguments(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        @pytest.mark.tengrai_server(5)
        def test_positional(tengrai_server):
            pass
        """,
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*keyword arguments only*"])


@pytest.mark.tengrai_server(images=False)  # the results as generated, on the CDN
async def test_fixture_serves_an_async_client(tengrai_server: FakeTengrAI) -> None:
    headers = {"Authorization": "Bearer test-key"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(tengrai_server.url / "v2/artworks", params={"offset": 98}) as response,
    ):
        body = await response.read()
    assert orjson.loads(body) == make_artworks(2, start=98)


@pytest.mark.tengrai_server(count=7, seed=2, api_key=None, images=False)
async def test_marker_configures_the_fixture(tengrai_server: FakeTengrAI) -> None:
    headers = {"Authorization": "Bearer anything"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(tengrai_server.url / "v2/artworks") as response,
    ):
        body = await response.read()
    assert orjson.loads(body) == make_artworks(7, seed=2)


# -- the tengrai_client fixture ------------------------------------------------------------

# The inner runs of the client fixture load pytest-asyncio (the `tests` extra); each sets its
# loop scopes, so that pytest-asyncio's reminder to set them does not fail the `-W error` run.
ASYNC_ARGS: tuple[str, ...] = ("-W", "error", "--strict-markers", "-p", "no:cacheprovider")
ASYNC_ARGS += ("-p", "no:aiohttp")

CLIENT_TESTS = """
import asyncio
import time

import pytest

from tengrai_async import ServerError, TengrAI

MARK = pytest.mark.asyncio if MODE == "strict" else (lambda test: test)


@MARK
@pytest.mark.tengrai_server(count=7, seed=2, retry_after=30)
async def test_client_talks_to_the_same_server_with_instant_retries(
    tengrai_client, tengrai_server
):
    assert isinstance(tengrai_client, TengrAI)
    assert tengrai_client.base_url == tengrai_server.url
    tengrai_server.queue_faults("503", "429", "500")
    started = time.perf_counter()
    page = await tengrai_client.artworks.list()
    assert time.perf_counter() - started < 0.5
    assert [str(artwork.id) for artwork in page.items] == tengrai_server.ids()
    assert [r.fault for r in tengrai_server.requests] == ["503", "429", "500", None]


@MARK
@pytest.mark.tengrai_client(max_retries=0)
async def test_the_client_marker_passes_tengrai_options(tengrai_client, tengrai_server):
    tengrai_server.queue_faults("503")
    with pytest.raises(ServerError):
        await tengrai_client.artworks.list()


@MARK
@pytest.mark.tengrai_server(api_key="sk-marker", count=3)
async def test_the_client_uses_the_servers_key(tengrai_client, tengrai_server):
    assert len((await tengrai_client.artworks.list()).items) == 3
    assert tengrai_server.requests[0].headers["Authorization"] == "Bearer sk-marker"


@MARK
async def test_the_client_alone_starts_a_default_server(tengrai_client):
    assert len((await tengrai_client.artworks.list(limit=500)).items) == 100
"""


@pytest.mark.parametrize(
    ("mode", "loop_scope"), [("strict", "function"), ("auto", "function"), ("strict", "session")]
)
def test_client_fixture_works_in_pytest_asyncios_strict_and_auto_modes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mode: str, loop_scope: str
) -> None:
    closes: list[bool] = []
    close = TengrAI.close

    async def spy(self: TengrAI) -> None:
        await close(self)
        # Closed on a running loop (the test's), not left to the loop's end.
        closes.append(self.closed and asyncio.get_running_loop().is_running())

    monkeypatch.setattr(TengrAI, "close", spy)
    pytester.makepyfile(f"MODE = {mode!r}\n" + CLIENT_TESTS)
    result = pytester.runpytest(
        *ASYNC_ARGS,
        *("-o", f"asyncio_mode={mode}"),
        # The client runs on the loop of the async fixtures, the tests on theirs: the same.
        *("-o", f"asyncio_default_fixture_loop_scope={loop_scope}"),
        *("-o", f"asyncio_default_test_loop_scope={loop_scope}"),
    )
    result.assert_outcomes(passed=4)
    assert closes == [True] * 4


def test_client_fixture_without_pytest_asyncio_says_what_to_install() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"pip install 'tengrai-async\[tests\]'"):
        _plugin._tengrai_client_unavailable()


def test_plugin_registers_the_client_marker(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers", *ARGS)
    result.stdout.fnmatch_lines(["@pytest.mark.tengrai_client(**kwargs):*"])
