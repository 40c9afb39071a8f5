"""The backend of the webhook benchmark, in its own process: waiters woken by deliveries.

``python benchmarks/_webhook_app.py API_URL TOKEN`` serves an aiohttp app with
``tengrai_async.web.setup()`` (its client on the fake server at API_URL) and
``setup_webhooks(app, path=WEBHOOK_PATH, token=TOKEN)``, plus ``POST /bare``, a handler that
reads the body and answers as the webhook does, for a floor. It prints its URL, then answers
one JSON line per command on stdin: ``wait ID ID ...`` starts a ``wait()`` on each job (the
artworks read from the listing, as ``create_*`` returns them; a poll interval of an hour, so
no poll ends them) and answers once each has made its first poll; ``returned N`` answers
``{id: time.monotonic() when its wait() returned}`` for the waits ended since the last one,
once there are N of them (or after a second without more).
"""

from __future__ import annotations

import asyncio
import sys
import time

import orjson
from aiohttp import web

from tengrai_async import Artwork, TengrAI
from tengrai_async.web import TENGRAI_CLIENT, setup, setup_webhooks

__all__ = ["BARE_PATH", "WEBHOOK_PATH", "main"]

WEBHOOK_PATH = "/tengrai/webhook"
BARE_PATH = "/bare"
API_KEY = "test-key"
_HOUR = 3600.0


async def _bare(request: web.Request) -> web.Response:
    body = orjson.loads(await request.read())
    return web.json_response({"received": body["id"]}, dumps=lambda o: orjson.dumps(o).decode())


async def _artworks(client: TengrAI, ids: set[str]) -> list[Artwork]:
    found: list[Artwork] = []
    async for artwork in client.artworks.iterate(page_size=500):
        if str(artwork.id) in ids:
            found.append(artwork)
            if len(found) == len(ids):
                break
    return found


class _Waits:
    def __init__(self, client: TengrAI) -> None:
        self._client = client
        self._tasks: set[asyncio.Task[None]] = set()
        self._returned: dict[str, float] = {}
        self._more = asyncio.Event()

    async def start(self, ids: list[str]) -> dict[str, int]:
        jobs = await _artworks(self._client, set(ids))
        polled = asyncio.Event()
        left = len(jobs)

        def first_poll(_: Artwork) -> None:
            nonlocal left
            left -= 1
            if left == 0:
                polled.set()

        async def one(job: Artwork) -> None:
            await self._client.artworks.wait(
                job, poll_interval=_HOUR, timeout=2 * _HOUR, on_poll=first_poll
            )
            self._returned[str(job.id)] = time.monotonic()
            self._more.set()

        for job in jobs:
            task = asyncio.get_running_loop().create_task(one(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if jobs:
            await polled.wait()
        return {"waiting": len(jobs)}

    async def returned(self, expected: int) -> dict[str, float]:
        while len(self._returned) < expected:
            self._more.clear()
            try:
                await asyncio.wait_for(self._more.wait(), 1.0)
            except asyncio.TimeoutError:
                break
        returned, self._returned = self._returned, {}
        return returned

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _serve(api_url: str, token: str) -> None:
    app = web.Application()
    setup(app, api_key=API_KEY, base_url=api_url, trust_env=False)
    setup_webhooks(app, path=WEBHOOK_PATH, token=token)
    app.router.add_post(BARE_PATH, _bare)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()  # runs the cleanup_ctx: the client is open from here
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(f"http://127.0.0.1:{port}", flush=True)
        waits = _Waits(app[TENGRAI_CLIENT])
        loop = asyncio.get_running_loop()
        try:
            while line := await loop.run_in_executor(None, sys.stdin.readline):
                command, *arguments = line.split()
                answer: object
                if command == "wait":
                    answer = await waits.start(arguments)
                elif command == "returned":
                    answer = await waits.returned(int(arguments[0]) if arguments else 0)
                else:
                    answer = {"error": f"unknown command {command!r}"}
                sys.stdout.write(orjson.dumps(answer).decode() + "\n")
                sys.stdout.flush()
        finally:
            await waits.close()
    finally:
        await runner.cleanup()


def main(argv: list[str]) -> int:
    asyncio.run(_serve(argv[0], argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
