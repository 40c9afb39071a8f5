"""``--demo``: the embedded fake API, started in-process, so the CLI can be tried without a key.

The same count and seed give the same artworks on every run, so an interrupted demo export
resumes like a real one.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Final

import attrs

__all__ = ["DEFAULT_COUNT", "DEMO_PORT", "DemoOptions", "demo_server"]

#: How many synthetic artworks ``--demo`` serves when no number is given.
DEFAULT_COUNT: Final = 10_000
#: The loopback port the demo tries first. The artworks' image URLs name it, so a second demo
#: archive into the same directory finds them unchanged; when it is busy (another demo, say),
#: any free port does.
DEMO_PORT: Final = 28_417


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


@contextlib.asynccontextmanager
async def demo_server(options: DemoOptions) -> AsyncIterator[tuple[str, str]]:
    """Run the fake API on a loopback port; yield its base URL and a throwaway key."""
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
            port=port,
            # A created job ends on its third poll, so `create --demo --wait` takes seconds.
            create=CreateOptions(polls=1),
        )

    async with contextlib.AsyncExitStack() as stack:
        try:
            running = await stack.enter_async_context(server(DEMO_PORT))
        except OSError:  # the port is taken
            running = await stack.enter_async_context(server(0))
        yield str(running.url), key
