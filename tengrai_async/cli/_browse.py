"""``tengrai-async browse DIR``: serve the archive in DIR as a local web gallery.

The first line on stdout is the URL, flushed at once (scripts and tests read it); Ctrl-C and
SIGTERM stop the server (exit 0). The archive is only read; nothing is requested of any host.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import textwrap
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Final, TextIO

from aiohttp import web

from ._arguments import PROG, UsageError
from ._exits import EXIT_OK

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "AddParser", "add_browse", "run_browse"]

#: Where ``browse`` listens by default: this machine only.
DEFAULT_HOST: Final = "127.0.0.1"
#: The default port ("TG" on a phone keypad is 84; 77 to tell it from the demo's).
DEFAULT_PORT: Final = 8477


#: ``add_subparsers().add_parser``: how a command's module adds its parser.
AddParser = Callable[..., argparse.ArgumentParser]

_EXIT_NOTE: Final = """exit codes:
  0    stopped (Ctrl-C or SIGTERM)
  2    usage error: bad arguments, DIR holds no archive (the file is named), an archive
       written by a newer tengrai-async or not yet brought up to date by `archive`, or
       HOST:PORT cannot be listened on"""


def add_browse(add_parser: AddParser) -> None:
    """Add ``browse`` to the command's subparsers."""
    parser = add_parser(
        "browse",
        help="serve an archive as a local web gallery, with search",
        description=textwrap.fill(
            "Serve the archive in DIR as a web gallery on http://HOST:PORT/: every artwork, "
            "newest first, with thumbnails, full-text search over the prompts and filters; "
            "each artwork's images, parameters and JSON. DIR/archive.sqlite is only read (an "
            "archive run may write it meanwhile); thumbnails are kept in DIR/thumbnails. The "
            "first line printed is the URL. Ctrl-C stops it.",
            width=78,
        ),
        epilog=_EXIT_NOTE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("directory", metavar="DIR", help="the archive directory")
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="the interface to listen on (default: %(default)s, this machine only; any other "
        "lets everyone who can reach it see the whole archive)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help="the port to listen on; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--open", action="store_true", help="open the gallery in the default web browser"
    )


def _port(text: str) -> int:
    if not text.isdecimal() or int(text) > 65535:  # noqa: PLR2004 - the largest TCP port
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return int(text)


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def run_browse(args: argparse.Namespace, stderr: TextIO) -> int:
    """Run ``browse`` with the parsed *args*; the exit code."""
    try:
        # Only here: the gallery's libraries are an extra, which the other commands do not need.
        from ..gallery import make_app  # noqa: PLC0415
    except ImportError as exc:
        msg = (
            f"browse needs the gallery extra ({exc.name} is missing): "
            "python3 -m pip install 'tengrai-async[gallery]'"
        )
        raise UsageError(msg) from None
    app = make_app(Path(args.directory))  # an ArchiveDatabaseError is a usage error (exit 2)
    if args.host != DEFAULT_HOST:
        stderr.write(
            f"{PROG}: warning: listening on {args.host}: everyone who can reach it sees the "
            "whole archive (prompts and images); the default, 127.0.0.1, is this machine only\n"
        )
    handler = logging.StreamHandler(stderr)
    handler.setFormatter(logging.Formatter(f"{PROG} browse: %(message)s"))
    logger = logging.getLogger("tengrai_async.gallery")
    logger.addHandler(handler)
    try:
        return asyncio.run(_serve(app, args.host, args.port, open_browser=args.open))
    except KeyboardInterrupt:  # pragma: no cover - where signal handlers cannot be set
        return EXIT_OK
    finally:
        logger.removeHandler(handler)


async def _serve(app: web.Application, host: str, port: int, *, open_browser: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C raises instead
            loop.add_signal_handler(number, stop.set)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            msg = f"cannot listen on {_url(host, port)}: {exc.strerror or exc}"
            raise UsageError(msg) from None
        url = _url(host, runner.addresses[0][1])  # the port bound (--port 0: a free one)
        sys.stdout.write(url + "\n")
        sys.stdout.flush()
        if open_browser:
            webbrowser.open(url)
        await stop.wait()
    finally:
        await runner.cleanup()
        for number in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(number)
    return EXIT_OK
