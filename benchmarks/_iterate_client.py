"""``iterate()`` alone, in a fresh process, as the export command would run it (the baseline).

Usage: ``python benchmarks/_iterate_client.py demo N`` (an in-process fake server, as
``--demo N`` starts one) or ``python benchmarks/_iterate_client.py URL N`` (a running server).
Exits non-zero if it did not see N artworks.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator

from tengrai_async import TengrAI
from tengrai_async.testing import FakeTengrAI

API_KEY = "test-key"
# The export command's defaults.
PAGE_SIZE = 500
PREFETCH = 4


@contextlib.asynccontextmanager
async def _server(where: str, count: int) -> AsyncIterator[str]:
    if where != "demo":
        yield where
        return
    async with FakeTengrAI(count=count, seed=0, api_key=API_KEY) as server:
        yield str(server.url)


async def main(where: str, count: int) -> int:
    async with _server(where, count) as url, TengrAI(api_key=API_KEY, base_url=url) as client:
        items = 0
        async for _artwork in client.artworks.iterate(page_size=PAGE_SIZE, prefetch=PREFETCH):
            items += 1
    return 0 if items == count else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]))))
