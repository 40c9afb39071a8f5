"""What the commands of ``tengrai-async`` share: the name, the key note, argument types.

And the one way to refuse arguments, the client of a command that talks to the API
(:func:`api_client`; ``Connect``, given by the dispatch) and the demo server ``--demo`` asks for.

An argument is refused in one of two places, each with one way: while parsing, a type function
here raises ``argparse.ArgumentTypeError`` (argparse prints the command's usage and the error;
exit 2); after parsing (arguments that do not go together, files that cannot be used, no key),
the command raises :class:`UsageError` and the dispatch prints ``tengrai-async: error: ...``
(exit 2). No command prints a usage error itself.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import math
import os
import re
import textwrap
from collections.abc import AsyncGenerator, Callable
from typing import Final, Protocol, TypeAlias

from .. import _rules
from .._client import API_KEY_ENV, BASE_URL_ENV, TengrAI
from .._transport import RetryPolicy
from ._demo import DemoOptions, demo_server

__all__ = [
    "KEY_NOTE",
    "PROG",
    "Commands",
    "Connect",
    "UsageError",
    "api_client",
    "demo_options",
    "integer",
    "number",
    "seconds",
    "timestamp",
]

PROG: Final = "tengrai-async"

KEY_NOTE: Final = textwrap.fill(
    f"The API key is read from the {API_KEY_ENV} environment variable only: a key given on "
    "the command line would be visible to other users in the process list and end up in shell "
    f"history. The API root is --base-url, else {BASE_URL_ENV}, else https://api.tengr.ai.",
    width=78,
)

#: ``add_subparsers()``: where a command's module adds its parser.
# The stub names the type argparse keeps private: the one way to type add_subparsers().
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # noqa: SLF001  # pyright: ignore[reportPrivateUsage]


class UsageError(Exception):
    """The command cannot run as asked (exit code 2): the dispatch prints it after the name."""


class Connect(Protocol):
    """The client of a command: of the API, or of a demo server started for *demo*."""

    def __call__(
        self, args: argparse.Namespace, *, demo: DemoOptions | None
    ) -> contextlib.AbstractAsyncContextManager[TengrAI]: ...


def integer(rule: _rules.IntRange) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = rule.from_query(text.strip())
        if value is None:
            raise argparse.ArgumentTypeError(f"expected {rule.expected}, got {text!r}")
        return value

    return parse


def number(
    *, minimum: float, maximum: float | None = None, open_min: bool = False
) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        too_low = value <= minimum if open_min else value < minimum
        if too_low or (maximum is not None and value > maximum) or math.isnan(value):
            raise argparse.ArgumentTypeError(f"out of range: {text!r}")
        return value

    return parse


def seconds(text: str) -> float:
    """A number of seconds above 0 (and finite)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def timestamp(text: str) -> _dt.datetime:
    """An ISO 8601 date-time with a UTC offset; one without is refused, not guessed."""
    if _DATE_ALONE.fullmatch(text):
        # fromisoformat() would read 2026-01-01+02:00 as 02:00 local time: named, not guessed.
        day = text[:10]
        raise argparse.ArgumentTypeError(
            f"{text!r} is a date without a time: add one, such as {day}T00:00Z (midnight UTC)"
        )
    # Python 3.10's fromisoformat() does not read the "Z" suffix.
    iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        value = _dt.datetime.fromisoformat(iso)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 date-time such as 2026-01-31T09:00Z, got {text!r}"
        ) from None
    if value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset, so its moment is ambiguous: add one, "
            f"such as {value.isoformat()}Z or {value.isoformat()}+01:00"
        )
    return value


#: A calendar date alone, with or without an offset: it names a day, not a moment.
_DATE_ALONE: Final = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?")


def demo_options(args: argparse.Namespace) -> DemoOptions | None:
    """The demo server ``--demo`` asks for, or ``None``."""
    if args.demo is None:
        return None
    return DemoOptions(
        count=args.demo,
        seed=args.demo_seed or 0,
        latency=args.demo_latency,
        fault_rate=args.demo_fault_rate,
    )


@contextlib.asynccontextmanager
async def api_client(
    args: argparse.Namespace, *, demo: DemoOptions | None, timeout: float
) -> AsyncGenerator[TengrAI, None]:
    """The client of a command: of the API, or of a demo server started for *demo*.

    *timeout* is the one request's (``--timeout`` of the listing commands, ``--request-timeout``
    of the job commands); ``--retry-wait`` (hidden) makes the retries quick.

    Raises:
        UsageError: No *demo* and no API key in the environment.
    """
    retry = None
    if args.retry_wait is not None:
        retry = RetryPolicy(wait_initial=args.retry_wait, wait_jitter=0.0)
    async with contextlib.AsyncExitStack() as stack:
        base_url, key, session = args.base_url, None, None
        if demo is None and not os.environ.get(API_KEY_ENV):
            raise UsageError(f"no API key: set {API_KEY_ENV} (or try --demo)")
        if demo is not None:
            running = await stack.enter_async_context(demo_server(demo))
            base_url, key, session = running.base_url, running.key, running.session
        client = TengrAI(
            key,
            base_url=base_url,
            timeout=timeout,
            max_retries=args.max_retries,
            retry=retry,
            # The demo's session reaches its own server (and image host) only, never a proxy.
            session=session,
            trust_env=demo is None,
        )
        yield await stack.enter_async_context(client)
