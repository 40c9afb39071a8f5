"""The fake server's webhook sender: it POSTs a job's final artwork to the job's ``webhook``.

Public origins are routed to loopback bases, so nothing leaves the machine; repeats, a delay,
lost answers and retries with backoff are knobs, all timed on the server's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import math
from collections.abc import Callable, Mapping
from typing import Any, Final, cast

import aiohttp
import attrs
import yarl

from .._clock import Clock
from .._webhooks import TOKEN_PARAMETER

__all__ = ["WebhookDelivery", "WebhookOptions", "WebhookSender"]

#: What the server tells the sender about a job: the bytes ``GET /v2/artworks/{id}`` answers
#: once the job shows a final status (else ``None``), and when it ends by time (or ``None``).
FinalState = Callable[[int], tuple["bytes | None", "float | None"]]

_ANSWER_LOST: Final = "answer lost (the failures knob)"
#: When a job's end by time is due but its status is not final yet (float rounding), how
#: much longer to sleep before looking again.
_NUDGE: Final = 1e-6


def _origin_key(text: str, what: str) -> str:
    url = yarl.URL(text)
    if (
        url.scheme not in ("http", "https")
        or not url.host
        or url.path not in ("", "/")
        or url.query_string
        or url.fragment
        or url.user is not None
    ):
        msg = f"a webhook route's {what} must be an http(s) origin (https://my.app), got {text!r}"
        raise ValueError(msg)
    return str(url.origin())


def _loopback_base(text: str) -> str:
    origin = _origin_key(text, "target")
    host = yarl.URL(origin).host or ""
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        msg = f"a webhook route must lead to a loopback address (127.0.0.1 or [::1]), got {text!r}"
        raise ValueError(msg)
    return origin


def _routes(routes: Mapping[str, str]) -> dict[str, str]:
    return {_origin_key(origin, "origin"): _loopback_base(to) for origin, to in routes.items()}


@attrs.frozen(kw_only=True)
class WebhookOptions:
    """How the fake server delivers a job's final artwork to its ``webhook`` (``webhooks=``).

    A job created with a ``webhook`` (a create POST whose body carries one, or
    ``start_job(webhook=...)``) is delivered when it ends: by time on the server's clock, or
    at once by ``finish_jobs()`` or ``set_status()``, or, for a job run by polls, once the
    last GET by id that sees it ``processing`` is answered (from then on the listing and the
    next GET show its outcome). The POST's body is exactly the bytes ``GET /v2/artworks/{id}``
    then answers, ``Content-Type: application/json``. An attempt succeeds on a 2xx answer;
    any other status (redirects are not followed), a connection error or a timeout fails it,
    and it is tried again after a backoff, up to *max_attempts* in all. Every attempt is recorded
    (:class:`WebhookDelivery`, in ``server.webhook_deliveries``).

    The real API POSTs to public hosts only (and the client refuses any other ``webhook``),
    so the sender goes only where *routes* say: a webhook on a mapped origin is POSTed to the
    loopback base with the same path and query; any other is recorded as undeliverable and
    nothing is sent (no DNS lookup either).

    Attributes:
        routes: Public origin to loopback base, such as
            ``{"https://my.app": "http://127.0.0.1:8080"}`` (more with
            ``server.webhooks.route()``, once the receiver's port is known). The base must
            be a literal loopback address.
        delay: Seconds after the job's end before the first attempt.
        repeats: Extra identical deliveries after the first (each with its own attempts), to
            test a receiver's memory of repeats.
        repeat_delay: Seconds between the end of one delivery and the next repeat.
        failures: The first *failures* attempts of each delivery count as failed whatever
            the receiver answers, as if the answer were lost on its way back: the receiver
            gets the same POST again on the retry.
        max_attempts: Attempts per delivery, at most (>= 1); then the sender gives up.
        backoff: Seconds before the second attempt; each later wait is *backoff_factor*
            times the one before, up to *backoff_max*.
        backoff_factor: See *backoff* (>= 1).
        backoff_max: See *backoff*.
        timeout: Real seconds an attempt may take on the wire before it fails.
    """

    routes: Mapping[str, str] = attrs.field(factory=dict[str, str], converter=_routes)
    delay: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))
    repeats: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    repeat_delay: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))
    failures: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    max_attempts: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    backoff: float = attrs.field(default=1.0, validator=attrs.validators.ge(0.0))
    backoff_factor: float = attrs.field(default=2.0, validator=attrs.validators.ge(1.0))
    backoff_max: float = attrs.field(default=60.0, validator=attrs.validators.ge(0.0))
    timeout: float = attrs.field(default=10.0, validator=attrs.validators.gt(0.0))

    def wait_before(self, attempt: int) -> float:
        """The seconds to wait before *attempt* (1-based) of a delivery: 0 for the first."""
        if attempt <= 1:
            return 0.0
        return min(self.backoff * self.backoff_factor ** (attempt - 2), self.backoff_max)


@attrs.frozen(kw_only=True)
class WebhookDelivery:
    """One attempt to deliver a job's final artwork to its webhook, as the sender saw it.

    Attributes:
        artwork_id: The job's id.
        url: The webhook given at creation, without its ``token`` parameter.
        target: Where it was POSTed (the routed loopback URL), without its ``token``
            parameter; ``None`` when the webhook's origin has no route.
        delivery: 0 for the first delivery, then 1, 2... for the repeats.
        attempt: The attempt of this delivery, from 1.
        at: The server clock's ``monotonic()`` when the attempt was made.
        status: The receiver's status, or ``None`` when none came back.
        error: Why the attempt failed (an aiohttp error's class name, a lost answer, no
            route), or ``None``.
        ok: Whether the attempt counted as delivered.
        gave_up: Whether this failed attempt was the delivery's last.
    """

    artwork_id: str
    url: str
    target: str | None
    delivery: int
    attempt: int
    at: float
    status: int | None
    error: str | None
    ok: bool
    gave_up: bool


def _without_token(url: yarl.URL) -> str:
    return str(url.without_query_params(TOKEN_PARAMETER))


@attrs.define
class _Watch:
    # One job with a webhook: poked when something may have ended it.
    index: int
    artwork_id: str
    webhook: yarl.URL
    poked: asyncio.Event = attrs.field(factory=asyncio.Event)


class WebhookSender:
    """The fake server's sender (``server.webhooks``): its routes, tasks and records.

    Its tasks run on the server's event loop; :meth:`poke` and :meth:`watch` may be called
    from another thread (as the server's methods may be, with ``in_thread``). Closing the
    server cancels every delivery still to come and closes the sender's session.

    Attributes:
        options: The :class:`WebhookOptions` it runs with.
        deliveries: Every attempt, in the order made.
    """

    def __init__(self, options: WebhookOptions, *, clock: Clock, final: FinalState) -> None:
        self.options = options
        self._routes = dict(options.routes)
        self._clock = clock
        self._final = final
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._watches: dict[int, _Watch] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.deliveries: list[WebhookDelivery] = []

    def route(self, origin: str, to: str) -> None:
        """Deliver webhooks on the public *origin* to the loopback base *to* from now on.

        Raises:
            ValueError: *origin* is not an http(s) origin, or *to* not a loopback one.
        """
        self._routes.update(_routes({origin: to}))

    def open(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run deliveries on *loop* (the server's, as it starts)."""
        self._loop = loop

    async def close(self) -> None:
        """Cancel every delivery still to come, wait for them to end, close the session."""
        self._loop = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._watches.clear()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def check(self, webhook: str) -> tuple[asyncio.AbstractEventLoop, yarl.URL]:
        """Whether a job can be delivered to *webhook* now: the server's loop, and the URL.

        Raises:
            ValueError: *webhook* is not an absolute http(s) URL.
            RuntimeError: The server is not running.
        """
        url = yarl.URL(webhook)
        if url.scheme not in ("http", "https") or not url.host:
            msg = f"a webhook must be an absolute http(s) URL, got {webhook!r}"
            raise ValueError(msg)
        loop = self._loop
        if loop is None:
            msg = "a job with a webhook needs a running server: use start() or async with"
            raise RuntimeError(msg)
        return loop, url

    def created(self, index: int, artwork_id: str, body: Any) -> None:
        """Watch the job a create made from *body* (a JSON object), if it names a webhook."""
        webhook = cast("dict[str, object]", body).get("webhook")
        # A create answered while the server closes makes its job, but close() has ended the
        # deliveries: it is not watched (rather than a 500 for a job that was made).
        if isinstance(webhook, str) and self._loop is not None:
            self.watch(index, artwork_id, webhook)

    def watch(self, index: int, artwork_id: str, webhook: str) -> None:
        """Deliver the job *artwork_id*, at listing *index*, to *webhook* once it ends.

        Raises:
            ValueError, RuntimeError: As :meth:`check` says.
        """
        loop, url = self.check(webhook)
        self._on_loop(loop, lambda: self._spawn(_Watch(index, artwork_id, url)))

    def poke(self, index: int) -> None:
        """Look again whether the job at *index* has ended (it was finished, or polled)."""
        loop = self._loop
        watch = self._watches.get(index)
        if loop is not None and watch is not None:
            self._on_loop(loop, watch.poked.set)

    async def join(self) -> None:
        """Wait until every delivery of the jobs watched so far is over (done or given up).

        Time moves on the server's clock as its sleeps say, so with a
        :class:`~tengrai_async.testing.FakeClock` this returns at once in real time. A job
        that ends by polls and is never polled keeps it waiting. From another event loop than
        the server's (with ``in_thread``), it waits for the server's loop to tell.
        """
        loop = self._loop
        if loop is not None and loop is not asyncio.get_running_loop():
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._join(), loop))
        else:
            await self._join()

    async def _join(self) -> None:
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    @staticmethod
    def _on_loop(loop: asyncio.AbstractEventLoop, call: Callable[[], object]) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            call()
        else:
            # The server's loop may close meanwhile (in_thread, from another thread): then
            # the server is gone, and so is whatever this call was for.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(call)

    def _spawn(self, watch: _Watch) -> None:
        if self._loop is None:  # pragma: no cover - closed meanwhile, from another thread
            return
        self._watches[watch.index] = watch
        task = asyncio.get_running_loop().create_task(self._run(watch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, watch: _Watch) -> None:
        body = await self._until_final(watch)
        del self._watches[watch.index]
        options = self.options
        await self._sleep(options.delay)
        for delivery in range(1 + options.repeats):
            if delivery:
                await self._sleep(options.repeat_delay)
            await self._deliver(watch, body, delivery)

    async def _until_final(self, watch: _Watch) -> bytes:
        nudged = False
        while True:
            watch.poked.clear()
            body, ends_at = self._final(watch.index)
            if body is not None:
                return body
            remaining = math.inf if ends_at is None else ends_at - self._clock.monotonic()
            if 0 < remaining < math.inf:
                await self._sleep_or_poke(remaining, watch)
            elif remaining <= 0 and not nudged:
                nudged = True  # once: past its end, only a poke can finish it (set_status)
                await self._sleep_or_poke(_NUDGE, watch)
            else:
                await watch.poked.wait()

    async def _sleep_or_poke(self, seconds: float, watch: _Watch) -> None:
        sleep = asyncio.ensure_future(self._clock.sleep(seconds))
        poked = asyncio.ensure_future(watch.poked.wait())
        try:
            await asyncio.wait({sleep, poked}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (sleep, poked):
                waiter.cancel()
            await asyncio.gather(sleep, poked, return_exceptions=True)

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            await self._clock.sleep(seconds)

    def _target(self, webhook: yarl.URL) -> yarl.URL | None:
        base = self._routes.get(str(webhook.origin()))
        if base is None:
            return None
        # The same path and query, byte for byte: the token the receiver checks included.
        return yarl.URL(base + webhook.raw_path_qs, encoded=True)

    async def _deliver(self, watch: _Watch, body: bytes, delivery: int) -> None:
        options = self.options
        target = self._target(watch.webhook)
        record = functools.partial(
            WebhookDelivery,
            artwork_id=watch.artwork_id,
            url=_without_token(watch.webhook),
            target=None if target is None else _without_token(target),
            delivery=delivery,
        )
        if target is None:
            unrouted = f"no webhook route for {watch.webhook.origin()}"
            at = self._clock.monotonic()
            self.deliveries.append(
                record(attempt=1, at=at, status=None, error=unrouted, ok=False, gave_up=True)
            )
            return
        for attempt in range(1, options.max_attempts + 1):
            await self._sleep(options.wait_before(attempt))
            at = self._clock.monotonic()
            status, error = await self._post(target, body)
            if error is None and attempt <= options.failures:
                error = _ANSWER_LOST
            ok = error is None
            gave_up = not ok and attempt == options.max_attempts
            self.deliveries.append(
                record(attempt=attempt, at=at, status=status, error=error, ok=ok, gave_up=gave_up)
            )
            if ok:
                return

    async def _post(self, target: yarl.URL, body: bytes) -> tuple[int | None, str | None]:
        if self._session is None:
            # No proxy from the environment: the only traffic is to the loopback target.
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.options.timeout), trust_env=False
            )
        headers = {"Content-Type": "application/json"}
        try:
            async with self._session.post(
                target, data=body, headers=headers, allow_redirects=False
            ) as response:
                await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            return None, type(exc).__name__
        if not 200 <= response.status < 300:  # noqa: PLR2004 - the 2xx range
            return response.status, f"HTTP {response.status}"
        return response.status, None
