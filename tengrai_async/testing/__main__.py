"""Run the fake Tengr.ai server from the command line, for benchmarks and manual tries.

It prints its URL as the one line on stdout, then serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from ._server import FakeTengrAI


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tengrai_async.testing", description="Serve fake Tengr.ai artworks."
    )
    parser.add_argument("--count", type=int, required=True, help="how many artworks to serve")
    parser.add_argument("--seed", type=int, default=0, help="the synthetic history")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--host", default="127.0.0.1", help="the interface to listen on")
    parser.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    parser.add_argument("--api-key", default="test-key", help="the bearer token to require")
    parser.add_argument(
        "--kinds",
        type=lambda text: [kind.strip() for kind in text.split(",") if kind.strip()],
        default=None,
        help="comma-separated artwork kinds, equally likely (default: the usual mix)",
    )
    parser.add_argument(
        "--no-extras",
        dest="extras",
        action="store_false",
        help="leave out the keys the docs do not describe",
    )
    parser.add_argument(
        "--images",
        action="store_true",
        help="point the results at images this server serves (GET /images/{id}/{n}.{ext})",
    )
    parser.add_argument(
        "--image-origin",
        choices=("same", "other"),
        default="same",
        help="serve the images on the API's port or on another one (default: same)",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        default=None,
        help="grow every image to about this many bytes (default: about 1 KiB or less)",
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = FakeTengrAI(
        count=args.count,
        seed=args.seed,
        kinds=args.kinds or None,
        extras=args.extras,
        latency=args.latency,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        images=args.images,
        image_origin=args.image_origin,
        image_size=args.image_size,
    )
    async with server:
        # The parent process reads this line to learn the port.
        sys.stdout.write(f"{server.url}\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; return the exit status."""
    asyncio.run(_serve(_parse(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
