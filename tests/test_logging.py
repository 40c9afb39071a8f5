"""Logging: quiet by default, one readable WARNING per scheduled retry, ``TENGRAI_LOG``.

The subprocess tests run a program that sets no logging up, the way a library user's script
does: whatever reaches its stderr is what that user would see.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Final

import orjson
import pytest
import stamina
import stamina.instrumentation
from _client_helpers import Reply, ScriptedServer, free_port, make_client

from tengrai_async import APIConnectionError, ServerError, TengrAI, _logging
from tengrai_async.testing import make_artworks

SECRET: Final = "sk-live-logging-secret-0123456789abcdef"  # noqa: S105 - a fake key to hunt

# A server answering a 503 (Retry-After: 0), a 429 (Retry-After: 7, capped at 0.01 s by the
# policy), then a page: two retries, both set by a Retry-After.
PROGRAM: Final = textwrap.dedent(
    f"""
    import asyncio

    from aiohttp import web

    from tengrai_async import RetryPolicy, TengrAI

    REPLIES = [
        (503, {{"Retry-After": "0"}}, b'{{"message": "overloaded"}}'),
        (429, {{"Retry-After": "7"}}, b""),
    ]


    async def handle(request):
        status, headers, body = REPLIES.pop(0) if REPLIES else (200, {{}}, b"[]")
        return web.Response(status=status, headers=headers, body=body)


    async def main():
        app = web.Application()
        app.router.add_get("/{{tail:.*}}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{{runner.addresses[0][1]}}"
        retry = RetryPolicy(retry_after_max=0.01)
        async with TengrAI({SECRET!r}, base_url=url, retry=retry) as client:
            page = await client.artworks.list()
        await runner.cleanup()
        print("listed", page.count, url)


    asyncio.run(main())
    """
)


def run_program(**env: str) -> tuple[str, str]:
    """Run PROGRAM in a fresh interpreter with *env* added; return its stdout and stderr."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TENGRAI_")}
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own program
        [sys.executable, "-c", PROGRAM],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("listed 0 http://127.0.0.1:"), done.stdout
    return done.stdout, done.stderr


def test_a_program_that_set_no_logging_up_sees_nothing_of_the_retries() -> None:
    _, err = run_program()
    assert "stamina" not in err
    assert err == ""


@pytest.mark.parametrize("value", ["info", "INFO"])
def test_tengrai_log_info_writes_one_readable_line_per_retry_to_stderr(value: str) -> None:
    out, err = run_program(TENGRAI_LOG=value)
    url = out.split()[-1] + "/v2/artworks?offset=0&limit=10"
    lines = err.splitlines()
    assert len(lines) == 2, err
    first, second = lines
    assert re.fullmatch(r"\S+ \S+ tengrai_async WARNING .*", first), first
    assert first.endswith(
        f" GET {url} (attempt 1 of 4): HTTP 503 Service Unavailable: overloaded; "
        "retrying in 0 s, as its Retry-After asked"
    ), first
    assert second.endswith(
        f" GET {url} (attempt 2 of 4): HTTP 429 Too Many Requests; "
        "retrying in 0.01 s, not the 7 s its Retry-After asked (retry_after_max)"
    ), second
    assert SECRET not in err
    assert SECRET[:12] not in err
    assert "stamina" not in err


def test_tengrai_log_debug_adds_a_line_per_request() -> None:
    _, err = run_program(TENGRAI_LOG="debug")
    statuses = re.findall(r" DEBUG GET \S+ -> (\S+) \(attempt (\d)", err)
    assert statuses == [("503", "1"), ("429", "2"), ("200", "3")]
    assert err.count(" WARNING ") == 2
    assert SECRET not in err


@pytest.fixture
def fresh_env_setup(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """TENGRAI_LOG not read yet in this process; the logger restored afterwards."""
    logger = logging.getLogger("tengrai_async")
    handlers, level = list(logger.handlers), logger.level
    monkeypatch.setattr(_logging, "_done", False)
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


@pytest.mark.usefixtures("fresh_env_setup")
def test_tengrai_log_is_read_once_when_the_first_client_is_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logger = logging.getLogger("tengrai_async")
    before = list(logger.handlers)
    monkeypatch.setenv("TENGRAI_LOG", "debug")
    TengrAI("k")  # read here, after the import
    added = [h for h in logger.handlers if h not in before]
    assert len(added) == 1
    assert isinstance(added[0], logging.StreamHandler)
    assert added[0].stream is sys.stderr
    assert logger.level == logging.DEBUG
    monkeypatch.setenv("TENGRAI_LOG", "info")
    TengrAI("k")
    TengrAI("k")
    assert [h for h in logger.handlers if h not in before] == added  # never stacked
    assert logger.level == logging.DEBUG


@pytest.mark.usefixtures("fresh_env_setup")
@pytest.mark.parametrize("value", ["", "verbose", "1"])
def test_an_unknown_tengrai_log_value_sets_nothing_up(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    logger = logging.getLogger("tengrai_async")
    before, level = list(logger.handlers), logger.level
    monkeypatch.setenv("TENGRAI_LOG", value)
    assert _logging.setup_from_env() is None
    assert (logger.handlers, logger.level) == (before, level)


@pytest.mark.usefixtures("fresh_env_setup")
def test_tengrai_log_adds_nothing_to_a_logger_set_up_already(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logger = logging.getLogger("tengrai_async")
    mine = logging.StreamHandler(sys.stdout)  # as the command line's -v does
    logger.addHandler(mine)
    before = list(logger.handlers)
    monkeypatch.setenv("TENGRAI_LOG", "info")
    assert _logging.setup_from_env() is None
    assert logger.handlers == before


def test_the_sdk_logger_has_a_null_handler_so_the_last_resort_stays_silent() -> None:
    logger = logging.getLogger("tengrai_async")
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)


# -- the retry line, in process --------------------------------------------------------------


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "tengrai_async" and record.levelno == logging.WARNING
    ]


async def test_a_connection_failure_is_logged_with_what_happened_and_no_line_when_giving_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="tengrai_async")
    port = free_port()
    async with make_client(f"http://127.0.0.1:{port}", api_key=SECRET, max_retries=2) as client:
        with pytest.raises(APIConnectionError):
            await client.artworks.list(limit=5)
    lines = warnings_of(caplog)
    url = f"http://127.0.0.1:{port}/v2/artworks?offset=0&limit=5"
    pattern = (
        rf"GET {re.escape(url)} \(attempt (\d) of 3\): could not connect to 127\.0\.0\.1:{port} "
        r"\(ClientConnectorError: .+\); retrying in [0-9.e-]+ s"
    )
    assert [re.fullmatch(pattern, line) is not None for line in lines] == [True, True], lines
    assert [re.findall(r"attempt (\d)", line) for line in lines] == [["1"], ["2"]]
    assert SECRET not in caplog.text


async def test_a_retry_of_get_names_the_artwork_url_and_the_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="tengrai_async")
    artwork = make_artworks(1)[0]
    replies = [Reply(502, b"bad gateway"), Reply(200, orjson.dumps(artwork))]
    async with ScriptedServer(replies) as server, make_client(server.url) as client:
        await client.artworks.get(artwork["id"])
    (line,) = warnings_of(caplog)
    assert line.startswith(
        f"GET {server.url}/v2/artworks/{artwork['id']} (attempt 1 of 4): "
        "HTTP 502 Bad Gateway: bad gateway; retrying in "
    )


async def test_an_error_that_is_not_retried_logs_no_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="tengrai_async")
    async with (
        ScriptedServer([Reply(500), Reply(404)]) as server,
        make_client(server.url, max_retries=0) as client,
    ):
        with pytest.raises(ServerError):
            await client.artworks.list()
    assert warnings_of(caplog) == []


async def test_the_sdk_leaves_stamina_hooks_alone_and_does_not_feed_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    calls: list[stamina.instrumentation.RetryDetails] = []

    def hook(details: stamina.instrumentation.RetryDetails) -> None:
        calls.append(details)

    hooks = (hook,)
    stamina.instrumentation.set_on_retry_hooks(hooks)
    try:
        async with (
            ScriptedServer([Reply(503), Reply(503)]) as server,
            make_client(server.url) as client,
        ):
            await client.artworks.list()
        assert len(warnings_of(caplog)) == 2
        assert calls == []
        assert stamina.instrumentation.get_on_retry_hooks() == hooks
        # The user's own retries still reach the user's hooks.
        for attempt in stamina.retry_context(on=ValueError, attempts=2, wait_initial=0):
            with attempt:
                if attempt.num == 1:
                    raise ValueError
        assert len(calls) == 1
    finally:
        stamina.instrumentation.set_on_retry_hooks(None)
    assert not [r for r in caplog.records if r.name == "stamina"]
