"""The README's "Webhooks and many jobs" examples run as written: the backend woken by a delivery
(by hand, and by the fake server itself), and the script that awaits many jobs as they end.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from _client_helpers import make_client
from aiohttp import web
from aiohttp.test_utils import TestClient

from tengrai_async import TengrAI
from tengrai_async.testing import CreateOptions, FakeClock, FakeTengrAI

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("### Webhooks and many jobs") :]
BLOCKS = re.findall(r"```python\n(.*?)```", SECTION, flags=re.DOTALL)
PYTHON = BLOCKS[0]
SCRIPT = BLOCKS[1]
RUN_APP = "web.run_app(app, access_log_format=ACCESS_LOG_FORMAT)"


async def test_the_backend_creates_with_the_webhook_and_the_delivery_answers_it(
    aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert RUN_APP in PYTHON
    clock = FakeClock(auto_advance=False)  # the job never ends on the server by itself
    async with FakeTengrAI(clock=clock, create=CreateOptions(seconds=60.0)) as server:
        monkeypatch.setenv("TENGRAI_API_KEY", "test-key")
        monkeypatch.setenv("TENGRAI_BASE_URL", str(server.url))
        namespace: dict[str, Any] = {}
        exec(PYTHON.replace(RUN_APP, ""), namespace)  # noqa: S102 - the README's own code
        backend = await aiohttp_client(namespace["app"])
        answer = asyncio.create_task(backend.post("/fox"))
        while not server.create_bodies:  # noqa: ASYNC110 - the server has no event for it
            await asyncio.sleep(0)  # yields only: no time passes
        [body] = server.create_bodies
        assert body == {"prompt": "a red fox", "webhook": namespace["HOOK"]}
        [job] = server.finish_jobs()
        async with make_client(server.url, clock=clock) as reader:
            final = await reader.artworks.get(job)
        hook = backend.make_url("/tengrai/webhook").with_query(token=namespace["TOKEN"])
        async with backend.session.post(hook, data=orjson.dumps(dict(final.raw))) as delivered:
            assert delivered.status == 200
        response = await answer
        assert response.status == 200
        assert await response.json() == {"id": job, "status": "succeeded"}
        response.release()
    assert clock.elapsed == 0


async def test_the_backend_returns_when_the_fake_server_delivers_the_webhook(
    aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The whole path over loopback: the backend creates with its webhook, the fake server
    # ends the job and POSTs it to the backend (its public origin routed to the backend's
    # port), and the wait returns on that delivery: the clock never moves, so no second poll.
    clock = FakeClock(auto_advance=False)
    async with FakeTengrAI(clock=clock, create=CreateOptions(seconds=60.0)) as server:
        monkeypatch.setenv("TENGRAI_API_KEY", "test-key")
        monkeypatch.setenv("TENGRAI_BASE_URL", str(server.url))
        namespace: dict[str, Any] = {}
        exec(PYTHON.replace(RUN_APP, ""), namespace)  # noqa: S102 - the README's own code
        backend = await aiohttp_client(namespace["app"])
        server.webhooks.route("https://my.app", str(backend.make_url("/")))
        answer = asyncio.create_task(backend.post("/fox"))

        async def delivered() -> tuple[str, aiohttp.ClientResponse]:
            while len(server.requests) < 2:  # noqa: ASYNC110 - the create, then the first poll
                await asyncio.sleep(0)  # yields only: no time passes
            [job] = server.finish_jobs()
            await server.webhooks.join()
            return job, await answer

        # A bound in real time, so that a delivery that never wakes the wait fails, not hangs.
        job, response = await asyncio.wait_for(delivered(), 10.0)
        assert response.status == 200
        assert await response.json() == {"id": job, "status": "succeeded"}
        response.release()
        [delivery] = server.webhook_deliveries
        assert (delivery.artwork_id, delivery.ok, delivery.status) == (job, True, 200)
        assert [request.method for request in server.requests] == ["POST", "GET"]
    assert clock.elapsed == 0


async def test_the_as_completed_script_prints_every_job_as_it_ends(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = FakeClock()
    async with FakeTengrAI(clock=clock, create=CreateOptions(seconds=30.0)) as server:

        def client() -> TengrAI:  # what TengrAI() gives with the key and URL in the environment
            return server.client(clock=clock)

        code = SCRIPT.replace("from tengrai_async import TengrAI\n", "")
        code = code.replace("asyncio.run(main())", "")
        assert "TengrAI()" in code
        namespace: dict[str, Any] = {"TengrAI": client}
        exec(code, namespace)  # noqa: S102 - the README's own code
        await namespace["main"]()
        printed = capsys.readouterr().out.splitlines()
        jobs = [str(artwork_id) for artwork_id in server.ids()[:20]]
        assert sorted(line.split()[0] for line in printed) == sorted(jobs)
        assert all(line.split()[1] == "succeeded" and "/images/" in line for line in printed)
        gets = [request for request in server.requests if request.method == "GET"]
    # 20 jobs, each polled on a schedule growing by half from 1 s (8 polls in the 30 s): 20
    # pollers would make 160 GETs by id, while each shared round reads one listing page.
    assert len(printed) == 20
    assert {request.path for request in gets} == {"/v2/artworks"}
    assert len(gets) <= 8
    assert 30.0 <= clock.elapsed <= 30.0 + 10.0
