"""Test helpers for code that uses tengrai-async: synthetic artworks and a fake server.

``make_artworks`` builds valid, deterministic artworks; ``FakeTengrAI`` and the pytest plugin's
``tengrai_server`` fixture serve them over real loopback HTTP, and the images of their
``results`` too (``image_bytes`` tells which bytes each image has). The plugin's
``tengrai_client`` fixture is a ``TengrAI`` wired to that server, with instant retries. The
server also takes creates (``POST /v2/artworks/<kind>``, checked by the kind's request rules)
and runs them as jobs on its ``clock``; ``queue_create_faults`` makes a create fail before or
after its job exists (``CREATE_FAULTS``), to test code that must not pay for a job twice.
A job created with a ``webhook`` is POSTed, when it ends, to a loopback receiver its public
origin is routed to (``WebhookOptions``), so a webhook receiver can be tested end to end.
``python -m tengrai_async.testing`` runs the server in a process of its own.

Your tests exercise your code, the SDK and aiohttp together, offline. Below: a test file, the
fixtures, instant retries, the server, its faults, the data, and the server in a process of
its own.

## A test file

The `tests` extra brings what it needs, pytest and pytest-asyncio
(from a clone: `python3 -m pip install '.[cli,tests]'`). This file passes as is with
`python -m pytest`, with no configuration (the README's "Testing your code" is a shorter one):

```python
# test_export.py
import pytest

from tengrai_async import APITimeoutError, NotFoundError, RetryPolicy, TengrAI
from tengrai_async.testing import FakeTengrAI


async def export_ids(client: TengrAI) -> list[str]:
    # The code under test: the id of every artwork, newest first.
    return [str(item.id) async for item in client.artworks.iterate()]


@pytest.mark.asyncio
async def test_export_reads_every_artwork(tengrai_client, tengrai_server):
    assert await export_ids(tengrai_client) == tengrai_server.ids()


@pytest.mark.asyncio
async def test_one_503_then_success(tengrai_client, tengrai_server):
    tengrai_server.queue_faults("503")  # the next request gets a 503, then service resumes
    assert await export_ids(tengrai_client) == tengrai_server.ids()
    assert [request.status for request in tengrai_server.requests][:2] == [503, 200]


@pytest.mark.asyncio
@pytest.mark.tengrai_server(count=2_000, fault_rate=0.2, faults=["503", "429", "drop"])
async def test_survives_a_flaky_api(tengrai_client, tengrai_server):
    assert await export_ids(tengrai_client) == tengrai_server.ids()
    assert tengrai_server.requests[0].fault == "503"  # faults start with the first request


@pytest.mark.asyncio
@pytest.mark.tengrai_client(max_retries=0, timeout=0.2)
async def test_refusals_and_timeouts(tengrai_client, tengrai_server):
    artwork_id = tengrai_server.ids()[0]
    tengrai_server.queue_faults("404", "timeout")
    with pytest.raises(NotFoundError):
        await tengrai_client.artworks.get(artwork_id)
    with pytest.raises(APITimeoutError):  # no answer within the client's 0.2 s
        await tengrai_client.artworks.get(artwork_id)


@pytest.mark.asyncio
async def test_without_the_fixtures():
    async with FakeTengrAI(count=2_000, fault_rate=0.2) as server:
        retry = RetryPolicy.instant()  # every retry still happens, none waits
        async with TengrAI("test-key", base_url=server.url, retry=retry) as client:
            assert await export_ids(client) == server.ids()
    assert sum(request.fault is not None for request in server.requests) >= 2
```

## The fixtures

The plugin is installed with the package (a `pytest11` entry point).

- `tengrai_server`: a running `FakeTengrAI` with 100 artworks, a fresh one per test.
  `@pytest.mark.tengrai_server(...)` takes any `FakeTengrAI` argument. It runs on its own
  event loop in a thread, so synchronous tests and any event loop plugin can use it.
- `tengrai_client`: a `TengrAI` wired to that same server (request both to script faults and
  check `tengrai_server.requests`): its URL and key, instant retries, a timeout 1 s longer
  than the server's `latency`, no proxy; closed after the test.
  `@pytest.mark.tengrai_client(...)` takes any `TengrAI` argument over these. It is a
  pytest-asyncio fixture (`pytest_asyncio.fixture`), for strict and auto mode alike. Like your
  own async fixtures, it opens on the event loop that `asyncio_default_fixture_loop_scope`
  names, by default each test's own loop. Anywhere else (anyio, a test on another loop, a
  fixture of your own), `tengrai_server.client()` builds the same client on the loop that
  calls it.

`@pytest.mark.asyncio` is all that pytest-asyncio's default (strict) mode asks for, and it is
harmless in auto mode. pytest-asyncio reminds you, in a warning, to choose the event loop
scope of async fixtures; `asyncio_default_fixture_loop_scope = "function"` under
`[tool.pytest.ini_options]` does.

**Instant retries.** `RetryPolicy.instant()` keeps every retry but waits for none (backoff and
`Retry-After` become 0), so a test of a flaky API runs at full speed and still exercises every
retry; `max_retries=0` is what turns retries off. `tengrai_client` and `server.client()` use
it. `FakeClock` is virtual time, a stand-in for `tengrai_async.SystemClock` where a clock is
taken: its sleepers wake in deadline order, and `.sleeps` records what was slept.

## The server

```text
FakeTengrAI(artworks=None, *, api_key="test-key", host="127.0.0.1", port=0, latency=0.0,
            redirect_to=None, create=None, clock=None, webhooks=None,
            listing_options=None,  # ListingOptions(count=0, seed=0, kinds=None, extras=True,
                                   #                insert_every=0, insert_batch=1)
            fault_options=None,    # FaultOptions(fault_rate=0.0, faults=DEFAULT_FAULTS,
                                   #              retry_after=0, fault_seed=0, fault_timeout=5.0)
            image_options=None,    # ImageOptions(images=True, result_origin=None,
                                   #              image_origin="same", image_size=None,
                                   #              gone_images=(), image_latency=0.0,
                                   #              image_chunk_delay=0.05)
            **fields)              # any field of those three, as a keyword of its own
```

used as `async with` (or `FakeTengrAI.in_thread(...)` from
synchronous code), serves `GET /v2/artworks` and `GET /v2/artworks/{id}` as the spec says:
newest first, bearer auth (401 without it), 400 for a bad `offset` or `limit`, 404 for an
unknown id, every error in the documented body `{"message", "statusCode", "error"}`, an
`X-Request-Id` on every answer. `FakeTengrAI` documents each argument.

Most options are fields of three frozen attrs classes, `ListingOptions`, `FaultOptions` and
`ImageOptions` (creates have `CreateOptions`, as `create=`), which document and check them.
Each field is also a keyword of `FakeTengrAI` of the same name: a group is given whole or field
by field (a field left out keeps its default), and both for one group is a `TypeError`.
`server.listing_options`, `fault_options` and `image_options` say what a server runs with. A
group built once can be shared, by the marker too:

```python
# test_flaky.py
import pytest

from tengrai_async.testing import FakeTengrAI, FaultOptions

FLAKY = FaultOptions(fault_rate=0.2, faults=["503", "429"])


def test_a_group_is_the_same_server_as_its_fields():
    grouped = FakeTengrAI(count=100, fault_options=FLAKY)
    loose = FakeTengrAI(count=100, fault_rate=0.2, faults=["503", "429"])
    assert grouped.fault_options == loose.fault_options == FLAKY


@pytest.mark.asyncio
@pytest.mark.tengrai_server(count=500, fault_options=FLAKY)
async def test_survives_the_shared_flaky_options(tengrai_client, tengrai_server):
    ids = [str(item.id) async for item in tengrai_client.artworks.iterate()]
    assert ids == tengrai_server.ids()
    assert tengrai_server.requests[0].fault == "503"
```

- It serves `count` synthetic artworks (generated lazily, so a million is fine) or the
  `artworks` you give it, valid or not. The synthetic ones mix all twelve kinds (`kinds=`: a
  list of kinds, or a weight per kind; by default mostly `selena`) and carry keys the docs do
  not describe (`extras=False` leaves them out), so your tests exercise the lossless path.
- It records every request, with its status and fault, in `server.requests`;
  `server.client(**options)` is a `TengrAI` wired to it, as `tengrai_client` is.
- `server.ids()` lists what it serves; `insert(n)` and `insert_every` add artworks during a
  listing; `start_job(kind="selena", *, outcome="succeeded", polls=2, seconds=None)` adds one
  that moves from `starting` through `processing` to `outcome` as it is polled (for
  `wait()`); `finish_jobs()` and `set_status(id, status)` move artworks on.
- With `images=True` the results point at images the server serves too (`image_bytes()`
  tells which bytes; `image_origin="other"` serves them from another port, to prove the key
  never goes there), with their own faults (`queue_image_faults(...)`: 404, 410, 429, 500,
  503, drop, slow, html, huge; all in `IMAGE_FAULTS`).

## Faults

A fault is a `Fault`, a `Literal` of these (all in `FAULTS`):

- `"429"`: 429 with `Retry-After: <retry_after>`.
- `"500"`, `"503"`: that status.
- `"401"`: 401 with `WWW-Authenticate: Bearer`, as for a wrong key.
- `"403"`: 403 `Forbidden resource`.
- `"404"`: 404, as for an unknown artwork or route.
- `"malformed"`: 200 with a body that is not JSON.
- `"drop"`: 200, then the connection is closed halfway through the body.
- `"timeout"`: nothing: the request is held `fault_timeout` seconds (5 by default), then its
  connection is closed unanswered; closing the server ends it at once.

The HTTP ones carry the API's error body. They apply to valid, authenticated requests (a
listing, or an artwork that exists); a request refused anyway (wrong key, bad `offset`,
unknown id) does not use one up. Two ways to inject them:

- `server.queue_faults(*faults)`: the next requests get these faults, one each, in the order
  they arrive; then normal service resumes. `queue_faults("503")` is one 503, then success.
- `fault_rate=p` with `faults=[...]` (default `DEFAULT_FAULTS`: 429, 500, 503, malformed,
  drop): a fixed schedule, not a random draw. The first request faults, then one in every
  `1 / p` (at 0.2: the 1st, 6th, 11th...), so after n requests exactly `ceil(n * p)` have
  faulted, and the faults take turns in the order given. `fault_seed=0` keeps that order;
  another seed shuffles each round of them, reproducibly. Queued faults come first and do not
  count.

## Webhooks

A job created with a `webhook` (in the create body, as the SDK's `create_*(webhook=...)`
sends it, or `server.start_job(webhook=...)` on a running server) is delivered when it
ends: by time on the server's `clock`, at once by `finish_jobs()` or `set_status()`, or, for
a job run by polls, once the last GET by id that sees it `processing` is answered (from then
on the listing and the next GET show its outcome). The sender POSTs exactly the bytes
`GET /v2/artworks/{id}` then answers (`Content-Type: application/json`). The SDK and the
fake server take only `https://` webhooks of public hosts, as the API does, so the server
sends nothing anywhere but where `WebhookOptions.routes` says: a public origin mapped to a
loopback base (a literal `127.0.0.1` or `[::1]` address), POSTed with the webhook's own path
and query (its token included). A webhook of an origin without a route is recorded as
undeliverable and nothing is sent, not even a DNS lookup.

The sender sleeps on the server's clock (until a job's end, `delay`, backoff), so on an
auto-advancing `FakeClock` it moves time on by itself, for the client sharing that clock too;
a test that must see a delivery before a poll moves time by hand (`FakeClock(auto_advance=False)`
and `clock.advance()`), or ends jobs with `finish_jobs()`.

```python
# test_my_webhook.py
import pytest
from aiohttp import web

from tengrai_async.testing import FakeClock, FakeTengrAI, WebhookOptions
from tengrai_async.web import webhook_handler, webhook_url


@pytest.mark.asyncio
async def test_my_receiver_handles_a_repeated_delivery_once():
    received = []

    async def on_artwork(artwork):
        received.append(artwork)

    app = web.Application()
    app.router.add_route("*", "/tengrai/webhook", webhook_handler(on_artwork, token="s3cret"))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    receiver = f"http://127.0.0.1:{runner.addresses[0][1]}"
    webhooks = WebhookOptions(routes={"https://my.app": receiver}, repeats=1)
    try:
        async with FakeTengrAI(clock=FakeClock(), webhooks=webhooks) as server:
            hook = webhook_url("https://my.app/tengrai/webhook", "s3cret")
            job = server.start_job(webhook=hook)
            server.finish_jobs()
            await server.webhooks.join()  # every delivery done or given up
    finally:
        await runner.cleanup()
    assert [d.ok for d in server.webhook_deliveries] == [True, True]  # sent twice,
    assert [str(artwork.id) for artwork in received] == [job]  # handled once
```

A route can also be added once the receiver's port is known,
`server.webhooks.route("https://my.app", receiver_base)`. The knobs of `WebhookOptions`, all
timed on the server's clock (a `FakeClock` in tests, so nothing really sleeps):

- `delay`: seconds after the end before the first attempt.
- `repeats`, `repeat_delay`: extra identical deliveries, to test a receiver's memory.
- `failures`: the first n attempts of each delivery count as failed whatever the answer (a
  lost answer), so the receiver gets the same POST again.
- `max_attempts` (default 5), `backoff` (1 s), `backoff_factor` (2), `backoff_max` (60 s):
  an attempt fails on a status outside 2xx (redirects are not followed), a connection error
  or its `timeout` (10 real seconds); it is retried after 1, 2, 4... seconds, then given up.

Every attempt is a `WebhookDelivery` in `server.webhook_deliveries`: the artwork's id, the
webhook and the loopback target (both without the `token` parameter), which delivery and
attempt, the clock's time, the status or error, `ok`, and `gave_up` on a delivery's last
failed attempt. Closing the server cancels the deliveries still to come.

## Data

`make_artworks(n, *, seed=0, start=0, kinds=None, extras=True)` gives deterministic, valid
artworks of every kind that use every enum value and the edges of every range (the values
come from the rule table, so the data moves with the spec); `make_artwork(index, ...)` gives
one.

## In a process of its own

`python -m tengrai_async.testing --count N` serves until Ctrl-C or SIGTERM, and prints two
lines: its URL, then the API key it requires. It takes `--latency S`, `--fault-rate P`,
`--faults 503,429`, `--fault-seed`, `--fault-timeout`, `--retry-after`, `--host`, `--port P`
(default: a free one), `--key K` (or `--api-key`; default `test-key`), `--seed`, `--kinds`,
`--no-extras`, `--images`, `--image-origin` and `--image-size` (see `--help`):

```console
$ python -m tengrai_async.testing --count 1000 --fault-rate 0.2 --port 8765 --key sk-test
http://127.0.0.1:8765
sk-test
```

Then, in another shell,
`TENGRAI_BASE_URL=http://127.0.0.1:8765 TENGRAI_API_KEY=sk-test tengrai-async list` talks to it.
"""

from __future__ import annotations

from ._clock import FakeClock
from ._create import CREATE_FAULTS, CreateFault, CreateOptions
from ._data import DEFAULT_KINDS, EPOCH, KindMix, index_of, make_artwork, make_artworks
from ._faults import DEFAULT_FAULTS, FAULTS, Fault, FaultOptions
from ._http import RecordedRequest
from ._image_host import IMAGE_FAULTS, ImageKey, ImageOptions
from ._images import IMAGE_CONTENT_TYPES, IMAGE_EXTS, image_bytes, image_ext
from ._jobs import JOB_OUTCOMES
from ._listing import ListingOptions
from ._server import FakeTengrAI
from ._webhooks import WebhookDelivery, WebhookOptions, WebhookSender

__all__ = [
    "CREATE_FAULTS",
    "DEFAULT_FAULTS",
    "DEFAULT_KINDS",
    "EPOCH",
    "FAULTS",
    "IMAGE_CONTENT_TYPES",
    "IMAGE_EXTS",
    "IMAGE_FAULTS",
    "JOB_OUTCOMES",
    "CreateFault",
    "CreateOptions",
    "FakeClock",
    "FakeTengrAI",
    "Fault",
    "FaultOptions",
    "ImageKey",
    "ImageOptions",
    "KindMix",
    "ListingOptions",
    "RecordedRequest",
    "WebhookDelivery",
    "WebhookOptions",
    "WebhookSender",
    "image_bytes",
    "image_ext",
    "index_of",
    "make_artwork",
    "make_artworks",
]
