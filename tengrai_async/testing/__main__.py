"""Run the fake Tengr.ai server from the command line, for benchmarks and manual tries.

It prints two lines on stdout, its base URL and then the API key it requires, then serves
until SIGTERM or SIGINT (Ctrl-C) and exits 0::

    $ python -m tengrai_async.testing --count 1000 --fault-rate 0.2 --faults 503,429
    http://127.0.0.1:54321
    test-key

A program reads the URL from the first line (the benchmarks do) and the key from the second.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
import sys
from collections.abc import Sequence

from ._server import DEFAULT_FAULTS, FAULTS, FakeTengrAI, Fault


def _faults(text: str) -> list[Fault]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    chosen: list[Fault] = []
    for name in names:
        fault: Fault | None = next((known for known in FAULTS if known == name), None)
        if fault is None:
            msg = f"unknown fault {name!r}; the faults are {','.join(FAULTS)}"
            raise argparse.ArgumentTypeError(msg)
        chosen.append(fault)
    if not chosen:
        msg = "give at least one fault"
        raise argparse.ArgumentTypeError(msg)
    return chosen


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not 0.0 <= rate <= 1.0:
        msg = f"a fault rate is a number from 0 to 1, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return rate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tengrai_async.testing", description="Serve fake Tengr.ai artworks."
    )
    parser.add_argument("--count", type=int, required=True, help="how many artworks to serve")
    parser.add_argument("--seed", type=int, default=0, help="the synthetic history")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--host", default="127.0.0.1", help="the interface to listen on")
    parser.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    parser.add_argument(
        "--key",
        "--api-key",
        dest="api_key",
        metavar="KEY",
        default="test-key",
        help="the bearer token to require (default: test-key)",
    )
    parser.add_argument(
        "--fault-rate",
        type=_rate,
        default=0.0,
        help="the share of API requests that get a fault, from the first one on (default: 0)",
    )
    parser.add_argument(
        "--faults",
        type=_faults,
        default=list(DEFAULT_FAULTS),
        help=f"comma-separated faults that take turns, of {','.join(FAULTS)} "
        f"(default: {','.join(DEFAULT_FAULTS)})",
    )
    parser.add_argument(
        "--fault-seed",
        type=int,
        default=0,
        help="0 takes the faults in the order given; another seed shuffles each round",
    )
    parser.add_argument(
        "--fault-timeout",
        type=float,
        default=5.0,
        help="seconds a timeout fault holds its request before closing it (default: 5)",
    )
    parser.add_argument(
        "--retry-after", type=int, default=0, help="the Retry-After seconds of a 429 fault"
    )
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
    images = parser.add_mutually_exclusive_group()
    images.add_argument(
        "--images",
        action="store_true",
        default=True,
        help="point the results at images this server serves, GET /images/{id}/{n}.{ext} "
        "(the default: nothing run against it looks up a real host)",
    )
    images.add_argument(
        "--no-images",
        dest="images",
        action="store_false",
        help="keep the generated results on https://cdn.tengr.ai (another origin)",
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
    return parser


def _server(args: argparse.Namespace) -> FakeTengrAI:
    return FakeTengrAI(
        count=args.count,
        seed=args.seed,
        kinds=args.kinds or None,
        extras=args.extras,
        latency=args.latency,
        fault_rate=args.fault_rate,
        faults=args.faults,
        fault_seed=args.fault_seed,
        fault_timeout=args.fault_timeout,
        retry_after=args.retry_after,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        images=args.images,
        image_origin=args.image_origin,
        image_size=args.image_size,
    )


async def _serve(server: FakeTengrAI, api_key: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        # A parent process reads the first line to learn the port, the second for the key.
        sys.stdout.write(f"{server.url}\n{api_key}\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; return the exit status (2: bad arguments, a busy port)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        server = _server(args)
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    try:
        asyncio.run(_serve(server, args.api_key))
    except OSError as error:  # the port is taken, say: one line, not a traceback
        sys.stderr.write(
            f"{parser.prog}: error: cannot listen on {args.host} port {args.port}: "
            f"{error.strerror or error}\n"
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
