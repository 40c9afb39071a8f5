"""The README's "Webhooks and many jobs" backend runs as written, woken by a delivery."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from _client_helpers import make_client
from aiohttp import web
from aiohttp.test_utils import TestClient

from tengrai_async.testing import CreateOptions, FakeClock, FakeTengrAI

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("### Webhooks and many jobs") :]
PYTHON = re.findall(r"```python\n(.*?)```", SECTION, flags=re.DOTALL)[0]
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
