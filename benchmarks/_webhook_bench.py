"""Table 9b: webhook deliveries to ``wait()`` returning, and deliveries per second.

Three processes: the fake server (jobs that never end by themselves), the backend
(``_webhook_app.py``: ``setup()``, ``setup_webhooks()`` and the waiters), and this one, which
POSTs each job's final artwork, as the listing would hold it, to the webhook URL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
import attrs
import orjson
import yarl
from _line_process import LineProcess, line_process
from _server import API_KEY

from tengrai_async.web import webhook_url

__all__ = ["DeliveryRun", "deliveries"]

TOKEN = "bench-webhook-token"  # noqa: S105 - a benchmark's made-up token
WEBHOOK_PATH = "/tengrai/webhook"
BARE_PATH = "/bare"
#: Connections the sender keeps to the backend (the sender's pool).
POOL = 64
_NEVER = 1e9  # fake seconds: the jobs end only by delivery
# The orders a round measures in (a repeat comes after the first delivery of its bodies).
_ORDERS = (("first", "again", "floor"), ("floor", "first", "again"), ("first", "floor", "again"))


@attrs.frozen
class DeliveryRun:
    """What :func:`deliveries` measured (seconds; rates per second)."""

    latencies: list[float]  # one delivery at a time: sent -> its wait() returned
    rates: list[float]  # K distinct deliveries through the pool: all answered 200
    woken_rates: list[float]  # the same, until the last wait() returned
    repeat_rates: list[float]  # the same bodies again: answered from the handler's memory
    bare_rates: list[float]  # the same bodies to a handler that only reads them


def _final(item: dict[str, Any], api: str) -> bytes:
    """The artwork as the listing holds it once its job succeeded."""
    artwork_id = item["id"]
    results = [f"{api}/images/{artwork_id}/0.webp"]
    return orjson.dumps({**item, "status": "succeeded", "duration": 12.5, "results": results})


async def _finals(session: aiohttp.ClientSession, api: str, n: int) -> list[tuple[str, bytes]]:
    """The final artwork of each of the newest *n* jobs, newest first."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    items: list[dict[str, Any]] = []
    while len(items) < n:
        query = {"offset": len(items), "limit": min(500, n - len(items))}
        async with session.get(f"{api}/v2/artworks", params=query, headers=headers) as response:
            items.extend(orjson.loads(await response.read()))
    return [(item["id"], _final(item, api)) for item in items[:n]]


async def _post(session: aiohttp.ClientSession, url: str, body: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        if response.status != 200:
            msg = f"the webhook answered {response.status}"
            raise RuntimeError(msg)


async def _burst(session: aiohttp.ClientSession, url: str, bodies: Sequence[bytes]) -> float:
    """POST every body at once (the pool's connections bound the concurrency); seconds."""
    started = time.perf_counter()
    await asyncio.gather(*(_post(session, url, body) for body in bodies))
    return time.perf_counter() - started


async def _send(
    app: LineProcess, api: str, *, latency_n: int, burst_n: int, runs: int
) -> DeliveryRun:
    hook = webhook_url(yarl.URL(app.url) / WEBHOOK_PATH.lstrip("/"), TOKEN)
    bare = str(yarl.URL(app.url) / BARE_PATH.lstrip("/"))
    connector = aiohttp.TCPConnector(limit=POOL)
    async with aiohttp.ClientSession(connector=connector) as session:
        finals = await _finals(session, api, latency_n + burst_n * runs)
        one, many = finals[:latency_n], finals[latency_n:]
        app.command("wait " + " ".join(job_id for job_id, _ in one))
        sent: dict[str, float] = {}
        for job_id, body in one:
            sent[job_id] = time.monotonic()
            await _post(session, hook, body)
        returned = app.command(f"returned {len(one)}")
        latencies = [returned[job_id] - sent[job_id] for job_id, _ in one]
        rates: list[float] = []
        woken: list[float] = []
        repeats: list[float] = []
        bares: list[float] = []
        for run in range(runs):
            batch = many[run * burst_n : (run + 1) * burst_n]
            bodies = [body for _, body in batch]
            app.command("wait " + " ".join(job_id for job_id, _ in batch))

            async def first(bodies: list[bytes] = bodies) -> None:
                started = time.monotonic()
                rates.append(burst_n / await _burst(session, hook, bodies))
                returned = app.command(f"returned {burst_n}")
                if len(returned) != burst_n:
                    msg = f"{burst_n - len(returned)} waits did not return"
                    raise RuntimeError(msg)
                woken.append(burst_n / (max(returned.values()) - started))

            async def again(bodies: list[bytes] = bodies) -> None:
                repeats.append(burst_n / await _burst(session, hook, bodies))

            async def floor(bodies: list[bytes] = bodies) -> None:
                bares.append(burst_n / await _burst(session, bare, bodies))

            # Side by side, in turns: the load of the machine moves over a run.
            for step in _ORDERS[run % len(_ORDERS)]:
                await {"first": first, "again": again, "floor": floor}[step]()
    return DeliveryRun(latencies, rates, woken, repeats, bares)


def deliveries(*, latency_n: int, burst_n: int, runs: int, history: int) -> DeliveryRun:
    """Start the fake server and the backend, and measure (see the module's docstring)."""
    jobs = latency_n + burst_n * runs
    with line_process("_wait_server.py", time.monotonic(), 1.0, history) as api:
        api.command("jobs " + orjson.dumps([_NEVER] * jobs).decode())
        api.command("count")
        with line_process("_webhook_app.py", api.url, TOKEN) as app:
            return asyncio.run(_send(app, api.url, latency_n=latency_n, burst_n=burst_n, runs=runs))
