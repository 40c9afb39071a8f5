"""tengrai-async: an async Python SDK for the Tengr.ai image generation API v2.

Typed, validated artwork models, a strict cattrs converter, and an aiohttp client with
concurrent, ordered auto-pagination.

This page is the reference of the client, its errors and the models; the README is the guide.
The other public modules document themselves: `tengrai_async.cli` (the command, its options
and exit codes), `tengrai_async.archive` (the archive and its database), `tengrai_async.testing`
(the fake server, its fixtures and faults) and `tengrai_async.web` (aiohttp.web backends).

## The client: `TengrAI`

```python
import asyncio
from tengrai_async import TengrAI


async def main() -> None:
    async with TengrAI() as client:  # key from TENGRAI_API_KEY
        page = await client.artworks.list(offset=0, limit=10)  # one GET -> ArtworkPage
        print(len(page), page.has_more, page.next_offset)
        async for artwork in client.artworks.iterate():  # every artwork, in order
            print(artwork.id, artwork.artwork_type, artwork.status, artwork.created_at)


asyncio.run(main())
```

```text
TengrAI(api_key=None, *, base_url=None, timeout=30.0, max_retries=3,
        session=None, retry=None, max_response_bytes=64 * 1024 * 1024,
        trust_env=True)
```


- `api_key` (default: `TENGRAI_API_KEY`): no key at all is a `ConfigurationError` naming the
  variable; whitespace around the key is dropped, a control character inside it is a
  `ConfigurationError` (a blank key too).
- `base_url` (default: `TENGRAI_BASE_URL`, then `https://api.tengr.ai`): plain `http://` only
  to a loopback host; no credentials (`user:pass@`).
- `timeout` (`30.0`): seconds for one request, body included
  (`aiohttp.ClientTimeout(total=...)`).
- `max_retries` (`3`): retries of one request after its first attempt.
- `session` (`None`): an `aiohttp.ClientSession` to borrow: used as is, never closed.
- `retry` (`RetryPolicy()`): `wait_initial=0.5`, `wait_max=8.0`, `wait_jitter=0.5`,
  `retry_after_max=60.0` seconds (see "Retries, timeouts, rate limits").
- `max_response_bytes` (64 MiB): the cap on one response body, counted after decompression:
  a larger one raises `ResponseTooLargeError` as soon as it passes the cap (not retried).
- `trust_env` (`True`): use the proxy `HTTP_PROXY` / `HTTPS_PROXY` name, unless `NO_PROXY`
  exempts the host; `False` always connects directly (see "Proxies").

Without `async with`, the session is created on the first request; call
`await client.close()` when done. `close()` ends every request of the client at once: one
asleep before a retry (backoff, `Retry-After`, a 429 cooldown), between the polls of `wait()`,
or still waiting for its answer raises `ClientStateError`, and `close()` itself returns at
once. A closed client raises `ClientStateError`.

A client belongs to the event loop its session was opened in. Each `asyncio.run()` starts a
new loop, so a client kept across two `asyncio.run()` calls raises `ClientStateError`, saying
so, in the second; its session was already closed when the first loop ended, so nothing is
left unclosed. Create the client inside the loop that uses it.

Every request carries `Authorization: Bearer <key>`, `Accept: application/json` and a
`User-Agent` such as `tengrai-async/0.1.0 aiohttp/3.14.5 CPython/3.11.7`. A bad value of any
argument but `api_key` and `base_url` (a `timeout` of 0, a `max_retries` of `"3"`) raises
`InvalidArgumentError`, a `ValueError`, before anything is sent.

### Other settings for some calls: `with_options()`

```python
fast = client.with_options(timeout=5.0, max_retries=0)
artwork = await fast.artworks.get(artwork_id)
```

`client.with_options(timeout=..., max_retries=..., retry=...)` returns a client with those
settings (an argument left out, or `None`, keeps the original's) that shares the original's
session and connection pool, as in openai-python: a copy costs no connection, so one per call
is fine. Closing a copy (or leaving its `async with`) ends that copy's own requests only; the
session stays open and the original keeps working. Closing the original closes the session
and every copy made from it, copies of copies included: their requests in flight end at once
with `ClientStateError`, and so does any later use. When the original was never kept
(`TengrAI().with_options(...)`), closing the last copy closes the session. Copies belong to
the original's event loop.

### One page: `list()`

`await client.artworks.list(*, offset=0, limit=10, on_invalid="raise")` checks `offset >= 0`
and `1 <= limit <= 500` before any request (`ValueError`) and returns an `ArtworkPage`:
`items` (a tuple), `offset`, `limit`, `count` (items the server sent), `invalid`, `has_more`
(the page was full) and `next_offset`; `len(page)` and `for a in page` work.

### One artwork: `get()`, and waiting for a job: `wait()`

```python
artwork = await client.artworks.get("0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60")  # or a uuid.UUID
done = await client.artworks.wait(artwork.id, timeout=300.0, poll_interval=1.0)
if done.status == "succeeded":
    print(done.results)  # the image URLs
```

`await client.artworks.get(artwork_id)` is `GET /v2/artworks/{id}`. It takes a `uuid.UUID` or
its 8-4-4-4-12 hex string (anything else is a `ValueError` before any request), returns an
artwork of whichever kind it is, and is retried like any GET. An unknown id, or an artwork
removed after Tengr.ai's 8-day retention, is a `NotFoundError`.

`await client.artworks.wait(artwork_id, *, timeout=300.0, poll_interval=1.0)` polls `get()`
until the status is final (`succeeded`, `failed` or `canceled`) and returns the artwork; a
failed or canceled job is returned, not raised, so check `status`. The wait between polls
starts at `poll_interval` and grows by half each time, up to 10 s, or `poll_interval` if that
is longer (1, 1.5, 2.25, ... 10, 10 seconds). Past `timeout` (polls included) it raises
`WaitTimeoutError`, which is also a `TimeoutError` and carries the artwork as last fetched
(`exc.artwork`). Cancelling `wait()` cancels the poll in flight: nothing keeps running.

Concurrent waits of one client (its `with_options` copies included) share their polls: a
round reads the listing from the newest page until every awaited job has been seen (or the
pages reach past the oldest of them), then GETs only the jobs it did not see. One wait alone
is one GET a poll. `client.artworks.as_completed(jobs, *, timeout=None, poll_interval=1.0)`
is an `AsCompleted`, an async iterator (and context manager) of each job's final artwork as it
ends; leaving it early ends its waits. `await client.artworks.wait_all(jobs, ...)` returns
them in the order given. A webhook's delivery (`tengrai_async.web.setup_webhooks`) ends the
waits on its job at once.

### Everything: `iterate()`

```text
client.artworks.iterate(*, offset=0, page_size=500, prefetch=4,
                        max_items=None, artwork_type=None, status=None,
                        created_after=None, created_before=None,
                        on_invalid="raise", dedupe_window=100_000,
                        seen_ids=(), newest_first=True)
```

returns an `ArtworkIterator`, usable with or without `async with`:

```python
async with client.artworks.iterate(page_size=500, prefetch=4) as it:
    async for page in it.pages():
        save(page.items)
print(it.stats, it.next_offset)
```

- **Ordered window prefetch.** The API returns a bare array with no total, so the iterator
  requests windows `offset`, `offset + page_size`, ... with up to `prefetch` in flight, and
  hands items out strictly in offset order. The first page shorter than `page_size` (an empty
  one included) is the end: the look-ahead requests beyond it are cancelled and discarded.
  Memory stays bounded by `prefetch x page_size` artworks whatever the total.
- **Stopping early.** `break`, an exception, `await it.aclose()` or cancelling the consuming
  task cancels every request in flight and leaves no task behind. After a bare
  `async for ... break` the cancellation runs on the loop's next turn (the item generator is
  freed and asyncio closes it); `async with` or `aclose()` completes it before the next
  statement.
- **Several consumers of one iterator** share one stream: `anext(it)` then `async for a in it`
  continues where it left off. An iterator is consumed once, by items or by `pages()`.
- **`max_items`** stops after that many artworks and requests no window that cannot be needed
  (without filters, the last window's `limit` is cut to what is still wanted).
- **Filters**, applied while streaming: `artwork_type` and `status` take one value or several,
  enum members or their strings (an `artwork_type` string may name a kind newer than the SDK);
  `created_after` (inclusive) and `created_before` (exclusive) take timezone-aware datetimes;
  a naive one is a `ValueError`. The listing is newest first, so the first artwork older than
  `created_after` **ends the iteration**: no window beyond it is requested, and the look-ahead
  is cancelled. For a listing that is not newest first, `newest_first=False` reads everything
  and only filters.
- **Duplicates.** When artworks are created during a long listing, offset windows shift and an
  item can come back; an id already yielded in this iteration is dropped and counted. The
  iterator remembers the last `dedupe_window` ids (100,000 by default) to keep memory bounded
  on multi-million listings; `seen_ids` seeds it with the ids an earlier run handed out, so a
  resumed listing does not repeat them.
- **A server that ignores `offset`** (or a cache in front of it) answers every window with the
  same artworks and never sends the short page that ends a listing. A full window whose items
  are, id for id and in order, those of the window before it brings nothing new; after 3 such
  windows in a row the iterator cancels its look-ahead requests and raises
  `StalledListingError`, whose `offsets` name those windows. Windows of already-seen artworks
  that do *not* repeat the one before never count: that is what artworks created during a
  listing cause. The one pattern of creation that looks exactly like an ignored offset
  (exactly `page_size` new artworks before every request) makes no progress, and raises too.
- **Invalid items.** `on_invalid="raise"` (default) raises `ResponseValidationError` carrying
  the item's absolute offset; `on_invalid="skip"` records it in `it.invalid` and goes on.
- **Resuming.** `it.next_offset` is the offset just past the last item handed out;
  `iterate(offset=it.next_offset)` continues where a run stopped.
- **`it.stats`**: `requests`, `retries`, `pages`, `items_received`, `items_yielded`,
  `filtered_out`, `duplicates_dropped`, `invalid_skipped`. They add up:
  `items_received == items_yielded + filtered_out + duplicates_dropped + invalid_skipped`.

What offset paging cannot guarantee: artworks *deleted* during a listing shift later items to
lower offsets, so one of them may be skipped; and with `prefetch > 1`, a window served just
before artworks are *inserted* and the window before it served just after can leave a gap of
the inserted count. The API offers no cursor or total to detect either. With `prefetch=1`,
insertions only ever cause repeats, and those are dropped.

## Errors

```text
TengrAIError                          .attempts: requests sent (errors of a request)
├── ConfigurationError (ValueError)   bad client settings: no API key, key over plain http
├── InvalidArgumentError (ValueError) a bad argument, before any request: .argument, .value
│   └── InvalidArgumentTypeError      ... of the wrong type (also a TypeError)
├── ClientStateError (RuntimeError)   a client used after closing, or in another event loop
├── ValidationError (ValueError)      a value breaks a rule of the spec (hand-built model)
│   └── ResponseValidationError       ... in a response: .path, .value, .raw, .offset
│       └── MalformedResponseError    a 2xx body that is not JSON at all (retried)
├── TransportError
│   ├── APIConnectionError            connection refused, reset or dropped mid-body
│   │   └── APITimeoutError           no complete answer within the timeout
│   └── ResponseTooLargeError         a body over max_response_bytes: .limit (not retried)
├── WaitTimeoutError (TimeoutError)   wait() saw no final status in time: .artwork
├── StalledListingError               windows repeat the one before: offset ignored? .offsets
└── APIError                          .status, .message, .body, .headers, .request_id
    ├── BadRequestError               400, 422
    ├── AuthenticationError           401
    ├── PermissionDeniedError         403
    ├── NotFoundError                 404: no such artwork, or gone after 8 days
    ├── RateLimitError                429, .retry_after
    └── ServerError                   5xx
```

The API documents one error body for every status:
`{"message": ..., "statusCode": ..., "error": ...}`, where `message` may also be a list of
strings (NestJS validation errors). `APIError.message` is the server's message (a list joined
with `"; "`; the `error` text, or the start of a body that is not JSON, when there is no
message), and `APIError.body` the parsed body. `APIError.headers` is a case-insensitive,
read-only header mapping (multidict).

Every message is one sentence. An `APIError` reads
`HTTP 404 Not Found: artwork not found (request id ...)`: the status, its reason and the
server's message. A connection error says what happened, then aiohttp's own error in brackets,
never an HTTP-looking status:

```text
GET https://api.tengr.ai/v2/artworks?offset=0&limit=500 failed: the connection broke off in the
middle of the body (ClientPayloadError: Not enough data to satisfy content length header
(received 5 of 100 bytes).)
```

An error raised once retries ran out ends with `(after 4 attempts)`, and its `attempts` counts
the requests sent (1 when it was not retried). Errors pickle with their attributes.

Bad arguments are refused before any request with `InvalidArgumentError`, a `ValueError`, so
`except ValueError` keeps working; a value of the wrong type (`limit="10"`) raises
`InvalidArgumentTypeError`, both a `TypeError` and a `ValueError`. As in openai-python,
`APITimeoutError` is an `APIConnectionError`: `except APIConnectionError` covers both.

```python
from tengrai_async import RateLimitError, ResponseValidationError

try:
    page = await client.artworks.list(limit=500)
except ResponseValidationError as exc:
    print(exc.path, exc.value, exc.offset)  # $[17].parameters.creativity 7 17
except RateLimitError as exc:
    print("retry in", exc.retry_after)
```

## Retries, timeouts, rate limits

GET is idempotent, so connection errors, timeouts, bodies that are not JSON, and the statuses
408, 409, 429, 500, 502, 503 and 504 are retried up to `max_retries` times with exponential
backoff and jitter (`RetryPolicy`: `wait_initial` doubled for each attempt before, plus up to
`wait_jitter` at random), capped at `wait_max`. A `Retry-After` header, in seconds or as an
HTTP date, replaces the computed wait, up to `retry_after_max`. A 429 seen by one window of a
listing pauses every window of that listing until the cooldown ends, instead of each retrying
on its own into the limit. Each scheduled retry is logged at WARNING on the `tengrai_async`
logger (see "Logging"). The retry loop is the SDK's own (stamina, which it used before,
reports every retry to global hooks that a library cannot scope); in tests, use
`RetryPolicy.instant()` (every retry, no waiting) or `max_retries=0`.

## Proxies

With `trust_env=True` (the default), the client's own session goes through the proxy that
`HTTP_PROXY` (for `http://`) or `HTTPS_PROXY` (for `https://`) names, unless `NO_PROXY`
exempts the host: the rules httpx and requests follow. The variables are read when the session
opens, and credentials in the proxy URL (`http://user:pass@proxy:3128`) go to the proxy.
`~/.netrc` is not read (aiohttp would refuse to send its credentials together with the API
key). A loopback `base_url` is never sent to a proxy on another machine. `trust_env=False`
always connects directly; a borrowed `session` keeps its own proxy settings. The archive's
image downloads use the same settings.

## Logging

The SDK logs on the `tengrai_async` logger, which holds a `NullHandler`: a program that set no
logging up sees nothing on stderr, and one that did (`logging.basicConfig(level=logging.INFO)`)
gets the lines through its own handlers.

- WARNING, each scheduled retry: method, URL, attempt n of m, what went wrong, and the wait
  (with the `Retry-After` that set it, if one did). The key never appears. The archive's
  image downloads log theirs the same way (the URL without its query).
- DEBUG, every request.

```text
GET https://api.tengr.ai/v2/artworks?offset=0&limit=500 (attempt 1 of 4): HTTP 503 Service
Unavailable: overloaded; retrying in 0.62 s
GET https://api.tengr.ai/v2/artworks?offset=0&limit=500 -> 200 (attempt 1, 41.3 ms)
```

The error that ends a call is raised, not logged.

`TENGRAI_LOG=info` (`debug` adds every request; `warning` is accepted too) writes these lines
to stderr without a change to your code, like `OPENAI_LOG`. It is read once, when the first
`TengrAI` client is created (setting `os.environ` before that works), and ignored when the
`tengrai_async` logger has a handler of its own already. The command line's `-v` shows them.

## Security

The API key never appears in a log line, an exception message or a `repr` (client, transport
and iterator alike), and it is not reachable from any exception the SDK raises, through
`args`, attributes, `__cause__` or `__context__`: aiohttp's own errors carry the request
headers, so they are never chained; they are described in the message instead, with the key
masked as `***`. The key is masked too where a server echoes it back (in a broken status line
or header, an error body or header, or a request id). Tests pin this against hostile servers:
redirect loops, malformed answers, resets, timeouts and TLS failures.

The key is never sent over plain `http://` to a host that is not loopback, nor to a proxy on
another machine (`ConfigurationError` at construction for the URL), nor to an image host that
is not exactly the API's origin; aiohttp drops the `Authorization` header when a redirect
leads to another origin (pinned by a test).

Whatever a server sends, the client survives it: header values are parsed or ignored, never
raised on (any `Retry-After`: garbage is ignored, a huge number or a far-off date counts as
2**31 s, and every wait is capped at `retry_after_max`), and a body is read no further than
`max_response_bytes`, decompressed or not, so a gzip bomb or a lying `Content-Length` costs
memory up to the cap and no more.

## Models

```python
from tengrai_async import Artwork, SelenaParameters, Style, converter

params = SelenaParameters(style=Style.CAR, creativity=5, width=1216, height=1216)
params.prompt, params.batch  # ('cat', 2): the documented defaults
try:
    SelenaParameters(creativity=6)
except ValueError as exc:  # a ValidationError, which is also a ValueError
    print(exc)  # invalid value 6 @ creativity: expected an integer from 1 to 5

artwork = converter.structure_artwork(json_obj)  # the class of its artworkType, typed Artwork
artwork = converter.structure(json_obj, Artwork)  # the same; typed Any (a Union is no type[T])
page = converter.loads_page(body_bytes, offset=0, limit=500)  # a whole response body
artwork.raw  # the JSON object exactly as the API sent it: a read-only dict at every depth
converter.unstructure(artwork)  # == artwork.raw, as a fresh dict
```

The models are frozen, slotted attrs classes, validated through the package's own cattrs
converter (`tengrai_async.converter`; `make_converter()` builds another).
`converter.structure(obj, SelenaArtwork)` (any one kind's class) is typed as that class, and
refuses an object of another kind.

### The kinds

A listing holds every job the API key ran. Each documented `artworkType` has its class and
its parameters class; any other `artworkType` (Style DNA jobs, whose type the docs do not
name, and kinds added later) becomes an `UnknownArtwork`, so a new kind never breaks a
listing. The parameters, in snake_case (the spec's `artwork-kinds.md` gives every rule):

- `selena`: `SelenaArtwork`, `SelenaParameters`: `model`, `batch=2`,
  `prompt_mode=SERVITOR`, `prompt="cat"`, `negative_prompt`, `style=DEFAULT`,
  `creativity=3`, `details=3`, `aspect_ratio`, `width`, `height`, `nsfw=False`,
  `transparent_background`, `color_tone`, `camera_angle`, `webhook`.
- `selena_variete`: `SelenaVarieteArtwork`, `SelenaVarieteParameters`: `image_url`, `model`,
  `batch=2`, `prompt="cat"`, `negative_prompt`, `style=DEFAULT`, `processing_mode`,
  `prompt_mode`, `creativity=3`, `details=3`, `denoising=3`, `aspect_ratio`, `width`,
  `height`, `nsfw=False`, `webhook`.
- `quantum`: `QuantumArtwork`, `QuantumParameters`: `prompt`, `negative_prompt`, `style`
  (27 styles), `prompt_mode`, `aspect_ratio` (7 ratios), `width`/`height` 512 to 1360,
  `nsfw`, `transparent_background`, `seed`, `webhook`.
- `hamilton`: `HamiltonArtwork`, `HamiltonParameters`: `prompt`, `negative_prompt`, `style`
  (its 12), `prompt_mode`, `creativity`, `effort`, `aspect_ratio`, `width`, `height`, `nsfw`,
  `transparent_background`, `high_resolution`, `webhook`.
- `photo_pilot`: `PhotoPilotArtwork`, `PhotoPilotParameters`: `prompt`, `negative_prompt`,
  `image_guidance` (1, 2, 3), `modification`, `creativity`, `effort`, `aspect_ratio`,
  `high_resolution`, `width`, `height`, `image_url`, `webhook` (its numbers are floats: the
  docs type them `number`).
- `face_refiner`: `FaceRefinerArtwork`, `FaceRefinerParameters`: `image_url`, `model`,
  `denoising=3`, `seed`, `webhook`, `output_format=AUTO`.
- `face_swap`: `FaceSwapArtwork`, `FaceSwapParameters`: `source_image`, `target_image`,
  `denoising=3`, `seed`, `webhook`, `output_format=AUTO`.
- `upscaling_v2`: `UpscalingArtwork`, `UpscalingParameters`: `image_url`, `scale_factor=2`
  (2 to 8), `webhook`.
- `detailer_upscaler`: `DetailerUpscalerArtwork`, `DetailerUpscalerParameters`: `image_url`,
  `scale_factor=2` (1, 2, 4, 8), `details=2`, `modification=2` (1 to 3), `seed`, `webhook`,
  `output_format=AUTO`.
- `remove_background`: `RemoveBackgroundArtwork`, `RemoveBackgroundParameters`: `image_url`,
  `webhook`, `output_format=AUTO`, `image_format=PNG` (the docs' two crawls disagree; both
  kept).
- `segmentation`: `SegmentationArtwork`, `SegmentationParameters`: `image_url`, `method`,
  `text_prompt`, `text_confidence=0.2`, `text_max_detections=-1`, `text_combine_masks=True`,
  `points_positive`/`points_negative` (`SegmentationPoints`: `points`, `labels`),
  `mask_expand=0`, `mask_tapered_corners`, `mask_blur_sigma=0.1`, `mask_kernel_size=0`,
  `output_format=AUTO`, `webhook`.
- `depth_map`: `DepthMapArtwork`, `DepthMapParameters`: `image_url`, `use_version3`,
  `model=LARGE` (V2: only `giant`, `large`, `base`, `small`), `normalization_mode=STANDARD`,
  `resolution_lower_limit=1024` (256 to 2048, a multiple of 64), `invert_depth`,
  `use_post_resize`, `webhook`.
- anything else: `UnknownArtwork`, whose `parameters` is a read-only mapping of whatever was
  sent.

### The fields every artwork has

`Artwork` is the union of the thirteen classes: whatever a listing yields. Every member has
`id`, `artwork_type`, `parameters`, `duration`, `results`, `status`, `created_at` and `raw`,
so `artwork.id`, `artwork.status`, `artwork.created_at` and `artwork.results` type-check
without an `isinstance`. For a known kind they are checked: `id` a `uuid.UUID`, `duration` a
`float`, `results` a `tuple[str, ...]`, `status` an `ArtworkStatus`, `created_at` an aware
`datetime`. For an `UnknownArtwork` they are read leniently: each is `None` where the JSON
lacks it or it does not have that shape (an `id` that is not a UUID, a status this SDK does
not know), and `artwork_type` is the string sent.

### Lossless: what the API sent is what you get back

- `artwork.raw` is the JSON object exactly as the API sent it: every key, including keys the
  SDK does not model (`creditsUsed`, `parameters.seed`, ... at any depth), and no default it
  did not send. It is plain JSON data: a `dict` whose objects and arrays are `dict`s and
  `list`s (read-only subclasses), equal to the parsed JSON, so `json.dumps`, orjson,
  `web.json_response`, `copy.deepcopy` and `pickle` take it as it is; any change raises
  `TypeError`, at every depth. On a listing it costs no time: the decoded object is kept and
  frozen the first time `raw` is read (it costs memory: about 1.3 KB per selena artwork held,
  the "of which raw" column of table 5 in `benchmarks/README.md`).
- `converter.unstructure(artwork)` of an artwork that came from the API returns that object
  (a fresh, plain, mutable copy). The export writes it: a JSONL line parses back to the object
  the API sent. `converter.structure(obj, Artwork)` keeps a read-only copy of `obj`, made while
  it is read (as fast as a page, table 1c), so changing your dict later changes neither the
  model nor its `raw`.
- A 2xx body nested deeper than 128 levels is a `MalformedResponseError`: nothing the API
  sends comes close, and it keeps every walk of `raw` far from Python's recursion limit.
- URIs (`webhook`, `image_url`, `source_image`, ...) are kept as the text sent, checked as
  absolute URIs (a scheme, a colon, no whitespace); `yarl.URL(artwork.parameters.webhook)`
  parses one when you need it.
- Timestamps are exactly RFC 3339 (`T` or `t`, `Z`, `z` or `+hh:mm`, a fraction of any
  length, cut to microseconds in `created_at`; `raw` keeps the text), the same on every
  supported Python.
- One limit of the JSON decoder (orjson): an integer beyond 64 bits, which the API documents
  nowhere, would come back as a float. A string holding a lone surrogate escape is kept
  exactly.
- A model built by hand, or changed with `attrs.evolve`, has no API object: it unstructures
  canonically, camelCase, documented defaults written out, `None` fields left out, and a
  `created_at` in RFC 3339 with its own offset (`Z` for UTC).
- Fields the docs leave unreadable (selena's `seed` and `outputFormat`, segmentation's unnamed
  points options, ...) get no typed attribute and stay in `raw`.

### Rules

Every enum, range and cross-field rule of every kind is checked whenever a model is built, from
JSON or by hand: for example selena's `batch` 1 to 2, `creativity` 1 to 5, `width` and `height`
512 to 2048 with `width * height <= 1,478,656` when both are set (1,763,584 for hamilton and
photo_pilot when `high_resolution` is true), `scale_factor` 1, 2, 4 or 8 for the detailer,
`resolution_lower_limit` a multiple of 64, segmentation points in 0 to 1, each kind's own subset
of `Style` and `AspectRatio`. A broken rule is a `ValidationError`, also a `ValueError`:
`SelenaParameters(creativity=6)` raises
`invalid value 6 @ creativity: expected an integer from 1 to 5`. Each rule is defined once, in
the rule table at the end of `tengrai_async/_rules.py`, and owns everything about itself: the
check of a Python value, the code the converter generates to check a JSON value, its wire form,
the examples the fake server serves. Prompt word limits are the server's truncation, not a
validation error.

The enums (`ArtworkType`, `ArtworkStatus`, `Model`, `PromptMode`, `Style`, `AspectRatio`,
`ColorTone`, `CameraAngle`, `OutputFormat`, `ProcessingMode`, `SegmentationMethod`,
`DepthModel`, `NormalizationMode`) are `str` enums whose values are the wire strings. By hand,
an enum field takes a member or its wire string (`style="car"`), and type checkers know which
strings: each field is typed `Style | SelenaStyleName`, with the kind's own subset
(`HamiltonParameters(style="folktale")` is an error for mypy and pyright as well as at run
time). The attribute is always the member (`params.style` is a `Style`). Each enum has a
`Literal` alias of its values (`StyleName`, `AspectRatioName`, `ArtworkStatusName`, ...) and
each subset its own (`SelenaStyleName`, `QuantumStyleName`, `HamiltonStyleName`,
`SelenaAspectRatioName`, `QuantumAspectRatioName`, `ImageFormatName`), for your own
annotations: `style: HamiltonStyleName = "manga"`.

The converter checks types instead of coercing them: `"3"`, `2.7` or `true` for an integer,
`0` or `"no"` for a boolean, a string for an array, and `null` for an optional parameter are
`ResponseValidationError`s with the exact JSON path (`$[3].parameters.scaleFactor`,
`$[0].parameters.pointsPositive.points[1][0]`); a JSON integer is a fine `number`
(`duration: 5`).

### Type checking

The package ships `py.typed` and passes `mypy --strict` and `pyright --strict` on its public
surface. `tests/typing_sample.py` is a user's program touching every entry point (the client,
the converter, every kind built by hand, the errors, the archive, the fake server,
`web.setup`), with `assert_type` checks; `nox -s mypy` and `nox -s pyright` check it on every
run, including a list of calls both checkers must refuse.

## Assumptions the spec leaves open

- The API key travels as `Authorization: Bearer <key>` (the spec says only "bearerAuth").
- The base URL is `https://api.tengr.ai` (configurable with `base_url` or `TENGRAI_BASE_URL`).
- Error responses carry a JSON or text body; `APIError.body` holds whichever came.
- The request id, when the server sends one, is read from `X-Request-Id` (or `Request-Id`, or
  `X-Amzn-RequestId`).
- The listing is newest first and stable apart from new artworks arriving at the front; the
  iterator's duplicate dropping is built for that.
- A JSON `null` is not a valid value for an optional parameter (the spec gives each a type and
  no `nullable`), so it is a validation error.

## Dependencies

Runtime: `aiohttp`, `attrs`, `cattrs`, `yarl`, and three more:

- `orjson`: decoding is a fifth of the SDK's page path, and orjson decodes a 500-artwork page
  about 2x as fast as the standard `json` module (table 1a of
  `python benchmarks/run.py --only structuring`, in `benchmarks/README.md`).
- `filelock`: the archive's OS file lock (one run per directory, released even when a run is
  killed), portable across Unix and Windows, instead of hand-written `fcntl`/`msvcrt` code.
- `multidict`: `APIError.headers` is a case-insensitive, read-only header mapping like HTTP's
  (already installed with aiohttp and yarl; named because the SDK imports it directly).

The `cli` extra adds `tqdm` for the export progress bar; the `tests` extra pytest and
pytest-asyncio for the testing kit. The `gallery` extra (for `browse`) adds three:

- `aiohttp-jinja2` and `jinja2`: the gallery's pages are templates with autoescape on, so no
  prompt (free text) can reach a page unescaped; hand-built HTML would have to get that right
  at every value.
- `pillow`: the thumbnails (decoding PNG, WebP and JPEG, resizing, encoding WebP); no image
  format is written by hand.

The browser tests drive Debian's `chromium` and `chromium-driver` through `selenium` (in the
`tests` group); `.ci/run` installs the two with `apt-get` when they are missing. Test, lint,
typing, docs and benchmark tools live in the
`tests`, `lint`, `typing`, `docs` and `bench` dependency groups of `pyproject.toml`.

## The package's modules

Small private modules, one concern each, with data flowing one way: the client
(`_client.py`) -> pagination (`_pagination.py`) -> transport (`_transport.py`, the aiohttp
session manager) -> sans-I/O (`_sansio.py`, `_json.py`) -> converter (`_converter.py`, with the
code generator `_codegen.py`) -> models (`_models.py`, `_parameters.py`, `_fields.py`), which
rest on the rule table (`_rules.py`) and the enums (`_enums.py`); `_errors.py` imports nothing
of the package. Around them: `archive/`, `cli/`, `testing/` and `web.py`.
"""

from __future__ import annotations

from ._client import ArtworksResource, TengrAI
from ._clock import Clock, SystemClock
from ._converter import TengrAIConverter, converter, make_converter
from ._create_api import ArtworksCreate
from ._enums import (
    ArtworkStatus,
    ArtworkStatusName,
    ArtworkType,
    ArtworkTypeName,
    AspectRatio,
    AspectRatioName,
    CameraAngle,
    CameraAngleName,
    ColorTone,
    ColorToneName,
    DepthModel,
    DepthModelName,
    HamiltonStyleName,
    ImageFormatName,
    Model,
    ModelName,
    NormalizationMode,
    NormalizationModeName,
    OutputFormat,
    OutputFormatName,
    ProcessingMode,
    ProcessingModeName,
    PromptMode,
    PromptModeName,
    QuantumAspectRatioName,
    QuantumStyleName,
    SegmentationMethod,
    SegmentationMethodName,
    SelenaAspectRatioName,
    SelenaStyleName,
    Style,
    StyleName,
)
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientStateError,
    ConfigurationError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidParameterError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    ServerError,
    StalledListingError,
    TengrAIError,
    TransportError,
    ValidationError,
    WaitTimeoutError,
)
from ._models import (
    Artwork,
    ArtworkPage,
    DepthMapArtwork,
    DetailerUpscalerArtwork,
    FaceRefinerArtwork,
    FaceSwapArtwork,
    HamiltonArtwork,
    PhotoPilotArtwork,
    QuantumArtwork,
    RemoveBackgroundArtwork,
    SegmentationArtwork,
    SelenaArtwork,
    SelenaVarieteArtwork,
    UnknownArtwork,
    UpscalingArtwork,
)
from ._pagination import ArtworkIterator, IterationStats
from ._parameters import (
    DepthMapParameters,
    DetailerUpscalerParameters,
    FaceRefinerParameters,
    FaceSwapParameters,
    HamiltonParameters,
    PhotoPilotParameters,
    QuantumParameters,
    RemoveBackgroundParameters,
    SegmentationParameters,
    SegmentationPoints,
    SelenaParameters,
    SelenaVarieteParameters,
    UpscalingParameters,
)
from ._retry import RetryPolicy
from ._version import __version__
from ._waiting import AsCompleted

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "Artwork",
    "ArtworkIterator",
    "ArtworkPage",
    "ArtworkStatus",
    "ArtworkStatusName",
    "ArtworkType",
    "ArtworkTypeName",
    "ArtworksCreate",
    "ArtworksResource",
    "AsCompleted",
    "AspectRatio",
    "AspectRatioName",
    "AuthenticationError",
    "BadRequestError",
    "CameraAngle",
    "CameraAngleName",
    "ClientStateError",
    "Clock",
    "ColorTone",
    "ColorToneName",
    "ConfigurationError",
    "DepthMapArtwork",
    "DepthMapParameters",
    "DepthModel",
    "DepthModelName",
    "DetailerUpscalerArtwork",
    "DetailerUpscalerParameters",
    "FaceRefinerArtwork",
    "FaceRefinerParameters",
    "FaceSwapArtwork",
    "FaceSwapParameters",
    "HamiltonArtwork",
    "HamiltonParameters",
    "HamiltonStyleName",
    "ImageFormatName",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "InvalidParameterError",
    "IterationStats",
    "MalformedResponseError",
    "Model",
    "ModelName",
    "NormalizationMode",
    "NormalizationModeName",
    "NotFoundError",
    "OutputFormat",
    "OutputFormatName",
    "PermissionDeniedError",
    "PhotoPilotArtwork",
    "PhotoPilotParameters",
    "ProcessingMode",
    "ProcessingModeName",
    "PromptMode",
    "PromptModeName",
    "QuantumArtwork",
    "QuantumAspectRatioName",
    "QuantumParameters",
    "QuantumStyleName",
    "RateLimitError",
    "RemoveBackgroundArtwork",
    "RemoveBackgroundParameters",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "RetryPolicy",
    "SegmentationArtwork",
    "SegmentationMethod",
    "SegmentationMethodName",
    "SegmentationParameters",
    "SegmentationPoints",
    "SelenaArtwork",
    "SelenaAspectRatioName",
    "SelenaParameters",
    "SelenaStyleName",
    "SelenaVarieteArtwork",
    "SelenaVarieteParameters",
    "ServerError",
    "StalledListingError",
    "Style",
    "StyleName",
    "SystemClock",
    "TengrAI",
    "TengrAIConverter",
    "TengrAIError",
    "TransportError",
    "UnknownArtwork",
    "UpscalingArtwork",
    "UpscalingParameters",
    "ValidationError",
    "WaitTimeoutError",
    "__version__",
    "converter",
    "make_converter",
]
