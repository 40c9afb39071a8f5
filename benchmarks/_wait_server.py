"""The fake server for the wait benchmark, in its own process, on a shared scaled clock.

``python benchmarks/_wait_server.py EPOCH SPEED HISTORY`` prints its URL, then answers one
JSON line per command line on stdin: ``jobs [s1, s2, ...]`` starts a job per duration (fake
seconds) and answers ``[{"id": ..., "ends": <fake second>}, ...]``; ``count`` answers the API
requests since the last ``count`` (``listing``, ``by_id``) and this process's CPU seconds.
"""

from __future__ import annotations

import asyncio
import sys
import time

import orjson
from _scaled_clock import ScaledClock

from tengrai_async.testing import FakeTengrAI

__all__ = ["main"]


def _counts(server: FakeTengrAI, since: int, cpu: float, wall: float) -> dict[str, float]:
    new = server.requests[since:]
    listing = sum(1 for request in new if request.path == "/v2/artworks")
    return {
        "listing": listing,
        "by_id": len(new) - listing,
        "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - wall,
    }


async def _serve(epoch: float, speed: float, history: int) -> None:
    clock = ScaledClock(epoch, speed)
    loop = asyncio.get_running_loop()
    async with FakeTengrAI(count=history, clock=clock, api_key="test-key") as server:
        print(server.url, flush=True)
        since, cpu, wall = 0, time.process_time(), time.perf_counter()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command, _, argument = line.strip().partition(" ")
            answer: object
            if command == "jobs":
                jobs = []
                for seconds in orjson.loads(argument):
                    # A job's start is read on the clock inside start_job(), just after this.
                    started = clock.monotonic()
                    job_id = server.start_job("selena", seconds=seconds)
                    jobs.append({"id": job_id, "ends": started + seconds})
                answer = jobs
            elif command == "count":
                answer = _counts(server, since, cpu, wall)
                since, cpu, wall = len(server.requests), time.process_time(), time.perf_counter()
            else:
                answer = {"error": f"unknown command {command!r}"}
            sys.stdout.write(orjson.dumps(answer).decode() + "\n")
            sys.stdout.flush()


def main(argv: list[str]) -> int:
    epoch, speed, history = float(argv[0]), float(argv[1]), int(argv[2])
    asyncio.run(_serve(epoch, speed, history))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
