"""``--demo``: the embedded fake API, started in-process, so the CLI can be tried without a key.

The same count and seed give the same artworks on every run, whatever port the server gets,
so an interrupted demo export resumes like a real one and a second demo archive finds nothing
new or updated.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
from collections.abc import AsyncIterator
from typing import Final

import aiohttp
import attrs
from aiohttp.abc import AbstractResolver, ResolveResult

__all__ = ["DEFAULT_COUNT", "DEMO_IMAGE_ORIGIN", "DEMO_PORT", "Demo", "DemoOptions", "demo_server"]

#: How many synthetic artworks ``--demo`` serves when no number is given.
DEFAULT_COUNT: Final = 10_000
#: The loopback port the demo tries first, so that its URL stays the same from run to run; when
#: it is busy (another demo, say), any free port does.
DEMO_PORT: Final = 28_417
#: The origin the demo's image URLs name. ``.invalid`` is never a real host; the demo's own
#: client resolves it to the demo server, whatever its port: the URLs, and so the artworks'
#: JSON, are the same on every run.
DEMO_IMAGE_ORIGIN: Final = "http://images.tengrai-demo.invalid"
_DEMO_IMAGE_HOST: Final = "images.tengrai-demo.invalid"


@attrs.frozen(kw_only=True)
class DemoOptions:
    """How the demo server behaves.

    Attributes:
        count: How many synthetic artworks it lists.
        seed: The seed of the synthetic data and of the fault draws.
        latency: Seconds it waits before each answer.
        fault_rate: The probability of an injected fault per request.
        images: Serve the images the artworks' results point at (for ``archive``).
    """

    count: int = DEFAULT_COUNT
    seed: int = 0
    latency: float = 0.0
    fault_rate: float = 0.0
    images: bool = False


@attrs.frozen(kw_only=True)
class Demo:
    """A running demo server and how to reach it.

    Attributes:
        base_url: The API root on loopback.
        key: The throwaway key it requires.
        session: The session to reach it with: it resolves :data:`DEMO_IMAGE_ORIGIN` to the
            server and looks up no other name.
    """

    base_url: str
    key: str
    session: aiohttp.ClientSession


class _DemoResolver(AbstractResolver):
    """Resolves the demo's image host to its server's port; any other name is refused."""

    def __init__(self, port: int) -> None:
        self._port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        del port, family  # the server's port is the answer, over IPv4 loopback
        if host != _DEMO_IMAGE_HOST:
            # The demo talks to its own server only: no name is looked up on the network.
            raise OSError(f"the demo reaches no host but its own, not {host!r}")
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": self._port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        """Nothing to release."""


@contextlib.asynccontextmanager
async def demo_server(options: DemoOptions) -> AsyncIterator[Demo]:
    """Run the fake API on a loopback port; yield it with a throwaway key and a session."""
    # Imported here: the fake server is test tooling, loaded only when a demo asks for it.
    from ..testing import CreateOptions, FakeTengrAI  # noqa: PLC0415

    key = secrets.token_urlsafe(16)

    def server(port: int) -> FakeTengrAI:
        return FakeTengrAI(
            count=options.count,
            seed=options.seed,
            api_key=key,
            latency=options.latency,
            fault_rate=options.fault_rate,
            fault_seed=options.seed,
            images=options.images,
            result_origin=DEMO_IMAGE_ORIGIN,
            port=port,
            # A created job ends on its third poll, so `create --demo --wait` takes seconds.
            create=CreateOptions(polls=1),
        )

    async with contextlib.AsyncExitStack() as stack:
        try:
            running = await stack.enter_async_context(server(DEMO_PORT))
        except OSError:  # the port is taken
            running = await stack.enter_async_context(server(0))
        port = running.url.port
        assert port is not None  # noqa: S101 - a loopback URL has its port
        connector = aiohttp.TCPConnector(resolver=_DemoResolver(port))
        session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))
        yield Demo(base_url=str(running.url), key=key, session=session)
