# pyright: reportUnnecessaryTypeIgnoreComment=true
"""A user's program, type-checked by ``nox -s mypy`` and ``nox -s pyright`` (strict), never run.

It goes through every public entry point as the README shows them: the client (``list``,
``iterate`` by items and by pages, ``get``, ``wait``), the converter, every kind's artwork and
parameters built by hand with wire strings for their enums, the errors in ``except`` clauses,
the archive, the fake server and the aiohttp integration. ``assert_type`` pins what a checker
must infer. The last function holds calls both checkers must refuse: each ``type: ignore`` has
to be needed, or mypy (``warn_unused_ignores``) and pyright (the comment above) fail.

Importing this module runs nothing: the functions are never called.
"""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yarl
from aiohttp import web

import tengrai_async
from tengrai_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    Artwork,
    ArtworkIterator,
    ArtworkPage,
    ArtworkStatus,
    ArtworkType,
    AspectRatio,
    AuthenticationError,
    BadRequestError,
    ClientStateError,
    ConfigurationError,
    DepthMapArtwork,
    DepthMapParameters,
    DepthModel,
    DetailerUpscalerArtwork,
    DetailerUpscalerParameters,
    FaceRefinerArtwork,
    FaceRefinerParameters,
    FaceSwapArtwork,
    FaceSwapParameters,
    HamiltonArtwork,
    HamiltonParameters,
    HamiltonStyleName,
    InvalidParameterError,
    IterationStats,
    MalformedResponseError,
    NotFoundError,
    OutputFormat,
    PermissionDeniedError,
    PhotoPilotArtwork,
    PhotoPilotParameters,
    QuantumArtwork,
    QuantumParameters,
    QuantumStyleName,
    RateLimitError,
    RemoveBackgroundArtwork,
    RemoveBackgroundParameters,
    ResponseTooLargeError,
    ResponseValidationError,
    RetryPolicy,
    SegmentationArtwork,
    SegmentationParameters,
    SegmentationPoints,
    SelenaArtwork,
    SelenaParameters,
    SelenaVarieteArtwork,
    SelenaVarieteParameters,
    ServerError,
    StalledListingError,
    Style,
    StyleName,
    TengrAI,
    TengrAIConverter,
    TengrAIError,
    TransportError,
    UnknownArtwork,
    UpscalingArtwork,
    UpscalingParameters,
    ValidationError,
    WaitTimeoutError,
    converter,
    make_converter,
)
from tengrai_async import web as tengrai_web
from tengrai_async.archive import ArchiveLockedError, ArchiveReport, sync
from tengrai_async.testing import FakeTengrAI, make_artworks

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # pragma: no cover - the sample is checked, not run
    from typing_extensions import assert_type

CREATED = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
RESULTS = ("https://cdn.tengr.ai/a/0.webp",)
SOURCE = "https://example.com/source.png"


# --- the client ------------------------------------------------------------------------------


async def first_page() -> ArtworkPage:
    """One window of the listing; invalid items skipped into ``page.invalid``."""
    async with TengrAI(api_key="key", timeout=10.0, max_retries=5) as client:
        assert_type(client.base_url, yarl.URL)
        page = await client.artworks.list(offset=0, limit=50, on_invalid="skip")
        assert_type(page, ArtworkPage)
        assert_type(page.items, tuple[Artwork, ...])
        assert_type(page.invalid, tuple[ResponseValidationError, ...])
        assert_type(page.has_more, bool)
        assert_type(page.next_offset, int)
        for artwork in page:
            assert_type(artwork, Artwork)
        return page


async def every_selena_style(client: TengrAI) -> set[Style]:
    """Every artwork, item by item, filtered by kind and status; the selena styles used."""
    styles: set[Style] = set()
    iterator = client.artworks.iterate(
        page_size=500,
        prefetch=4,
        max_items=10_000,
        artwork_type=["selena", ArtworkType.SELENA_VARIETE],
        status="succeeded",
        created_after=CREATED,
        on_invalid="skip",
    )
    assert_type(iterator, ArtworkIterator)
    async with iterator as artworks:
        async for artwork in artworks:
            if isinstance(artwork, SelenaArtwork | SelenaVarieteArtwork):
                assert_type(artwork.parameters.style, Style)
                styles.add(artwork.parameters.style)
        assert_type(artworks.stats, IterationStats)
        assert_type(artworks.invalid, list[ResponseValidationError])
        assert_type(artworks.next_offset, int)
    return styles


async def count_by_page(client: TengrAI) -> int:
    """The listing page by page (filtered pages may hold fewer items than they had)."""
    total = 0
    async for page in client.artworks.iterate(status=ArtworkStatus.FAILED).pages():
        assert_type(page, ArtworkPage)
        total += len(page)
    return total


async def generate_and_wait(client: TengrAI, artwork_id: str) -> tuple[str, ...]:
    """One artwork by id, then its job waited for: the result URLs of a success."""
    artwork = await client.artworks.get(artwork_id)
    assert_type(artwork, Artwork)
    done = await client.artworks.wait(uuid.UUID(artwork_id), timeout=120.0, poll_interval=0.5)
    assert_type(done, Artwork)
    if isinstance(done, UnknownArtwork):
        assert_type(done.artwork_type, str)
        assert_type(done.status, ArtworkStatus | None)
        return ()
    assert_type(done.status, ArtworkStatus)
    assert_type(done.id, uuid.UUID)
    assert_type(done.created_at, dt.datetime)
    return done.results if done.status is ArtworkStatus.SUCCEEDED else ()


async def create_wait_and_check(client: TengrAI) -> tuple[str, ...]:
    """Jobs created with wire strings and members, each of its kind, one waited for."""
    quantum = await client.artworks.create_quantum(
        prompt="a red fox", aspect_ratio="16:9", style="folktale", seed=42, nsfw=False
    )
    assert_type(quantum, QuantumArtwork)
    hamilton = await client.artworks.create_hamilton(style="coloring-book", high_resolution=True)
    assert_type(hamilton, HamiltonArtwork)
    mask = await client.artworks.create_segmentation(
        image_url=SOURCE,
        method="points",
        points_positive=SegmentationPoints(points=((0.5, 0.5),), labels=(1,)),
    )
    assert_type(mask, SegmentationArtwork)
    depth = await client.artworks.create_depth_map(
        image_url=SOURCE, use_version3=False, model=DepthModel.SMALL
    )
    assert_type(depth, DepthMapArtwork)
    swap = await client.artworks.create_face_swap(source_image=SOURCE, target_image=SOURCE)
    assert_type(swap, FaceSwapArtwork)
    upscaled = await client.with_options(never_twice=False).artworks.create_upscaling(
        image_url=SOURCE, scale_factor=4
    )
    assert_type(upscaled, UpscalingArtwork)
    try:
        done = await client.artworks.wait(quantum)
    except ServerError as exc:
        if exc.job_may_exist and exc.sent_at is not None:
            assert_type(exc.sent_body, dict[str, Any] | None)
            assert_type(exc.sent_at, dt.datetime)
        return ()
    except InvalidParameterError as exc:
        assert_type(exc.argument, str)
        return ()
    assert_type(done, Artwork)
    return done.results or ()


async def api_errors(client: TengrAI) -> str:
    """The server's answers, most specific first, as a caller would sort them."""
    try:
        artwork = await client.artworks.wait("9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d")
    except WaitTimeoutError as exc:
        assert_type(exc.timeout, float)
        message = f"still running after {exc.timeout} s"
    except NotFoundError as exc:
        assert_type(exc.status, int)
        message = "gone (8-day retention)"
    except RateLimitError as exc:
        message = f"slow down: retry after {exc.retry_after}"
    except (AuthenticationError, PermissionDeniedError) as exc:
        message = f"check the key: {exc.message}"
    except (BadRequestError, ServerError) as exc:
        message = f"HTTP {exc.status} (request id {exc.request_id})"
    except APIError as exc:
        message = str(exc.body)
    else:
        message = str(artwork.status)
    return message


async def other_errors() -> str:
    """Configuration, transport and validation errors, then the root of the tree."""
    policy = RetryPolicy(wait_initial=0.1, wait_max=2.0)
    try:
        async with TengrAI(api_key="key", retry=policy, max_response_bytes=1 << 20) as client:
            message = await api_errors(client)
    except APITimeoutError:
        message = "timed out"
    except APIConnectionError:
        message = "no connection"
    except ResponseTooLargeError as exc:
        assert_type(exc.limit, int)
        message = "too large"
    except TransportError:
        message = "transport"
    except MalformedResponseError as exc:
        message = f"not JSON: {exc.path}"
    except ResponseValidationError as exc:
        message = f"breaks the spec at {exc.path}: {exc.expected} (offset {exc.offset})"
    except StalledListingError as exc:
        message = f"the listing repeats itself at {exc.offsets}"
    except (ConfigurationError, ClientStateError, ValidationError) as exc:
        message = str(exc)
    except TengrAIError as exc:
        message = repr(exc)
    return message


# --- the converter ---------------------------------------------------------------------------


def structure(objs: list[dict[str, Any]]) -> list[Artwork]:
    """JSON to models and back, through the package's converter."""
    assert_type(converter, TengrAIConverter)
    own = make_converter()
    artwork = converter.structure_artwork(objs[0])
    assert_type(artwork, Artwork)
    # A Union is not a ``type[T]``: structure() returns Any for it, so annotate.
    same: Artwork = converter.structure(objs[0], Artwork)
    selena = own.structure(objs[0], SelenaArtwork)
    assert_type(selena, SelenaArtwork)
    parameters = converter.structure(objs[0]["parameters"], SelenaParameters)
    assert_type(parameters, SelenaParameters)
    many = converter.structure(objs, list[Artwork])
    assert_type(many, list[Artwork])
    page = converter.loads_page(b"[]", offset=500, limit=500, skip_invalid=True)
    assert_type(page, ArtworkPage)
    page = converter.structure_page(objs, offset=0)
    wire: dict[str, Any] = converter.unstructure(same)
    assert_type(selena.raw, Mapping[str, Any])
    del wire
    return [artwork, same, *many, *page.items]


# --- every kind, built by hand with wire strings -------------------------------------------


def every_kind() -> list[Artwork]:
    """One artwork of each kind: enum fields take their members or their wire strings."""
    hamilton_style: HamiltonStyleName = "coloring-book"
    quantum_style: QuantumStyleName = "folktale"
    selena_parameters = SelenaParameters(
        model="tengrai-20240423-m-f.safetensors",
        prompt_mode="seer",
        prompt="a lighthouse in the fog",
        style="car",
        aspect_ratio="16:9",
        color_tone="warm",
        camera_angle="closeUp",
    )
    assert_type(selena_parameters.style, Style)
    assert_type(selena_parameters.aspect_ratio, AspectRatio | None)
    return [
        SelenaArtwork(
            id=uuid.uuid4(),
            duration=12.5,
            results=RESULTS,
            status="succeeded",
            created_at=CREATED,
            parameters=selena_parameters,
        ),
        SelenaVarieteArtwork(
            id=uuid.uuid4(),
            duration=3.0,
            results=(),
            status=ArtworkStatus.PROCESSING,
            created_at=CREATED,
            parameters=SelenaVarieteParameters(
                image_url=SOURCE,
                style=Style.MANGA,
                processing_mode="sketch-to-image",
                aspect_ratio="21:9",
            ),
        ),
        QuantumArtwork(
            artwork_type="quantum",
            id=uuid.uuid4(),
            duration=8.0,
            results=RESULTS,
            status="succeeded",
            created_at=CREATED,
            parameters=QuantumParameters(style=quantum_style, aspect_ratio="3:4", seed=42),
        ),
        HamiltonArtwork(
            id=uuid.uuid4(),
            duration=9.0,
            results=RESULTS,
            status="failed",
            created_at=CREATED,
            parameters=HamiltonParameters(
                style=hamilton_style, aspect_ratio="4:3", high_resolution=True
            ),
        ),
        PhotoPilotArtwork(
            id=uuid.uuid4(),
            duration=4.0,
            results=RESULTS,
            status="succeeded",
            created_at=CREATED,
            parameters=PhotoPilotParameters(image_url=SOURCE, image_guidance=2, aspect_ratio="2:3"),
        ),
        FaceRefinerArtwork(
            id=uuid.uuid4(),
            duration=2.0,
            results=RESULTS,
            status="succeeded",
            created_at=CREATED,
            parameters=FaceRefinerParameters(
                image_url=SOURCE, model="tengrai-20231128-m-d.safetensors", output_format="png"
            ),
        ),
        FaceSwapArtwork(
            id=uuid.uuid4(),
            duration=2.0,
            results=RESULTS,
            status="canceled",
            created_at=CREATED,
            parameters=FaceSwapParameters(
                source_image=SOURCE, target_image=SOURCE, output_format="webp"
            ),
        ),
        UpscalingArtwork(
            id=uuid.uuid4(),
            duration=1.0,
            results=RESULTS,
            status="succeeded",
            created_at=CREATED,
            parameters=UpscalingParameters(image_url=SOURCE, scale_factor=4),
        ),
        DetailerUpscalerArtwork(
            id=uuid.uuid4(),
            duration=1.0,
            results=RESULTS,
            status="starting",
            created_at=CREATED,
            parameters=DetailerUpscalerParameters(
                image_url=SOURCE, scale_factor=8, output_format=OutputFormat.AUTO
            ),
        ),
        RemoveBackgroundArtwork(
            id=uuid.uuid4(),
            duration=1.0,
            results=RESULTS,
            status="succeeded",
            created_at=CREATED,
            parameters=RemoveBackgroundParameters(
                image_url=SOURCE, output_format="auto", image_format="webp"
            ),
        ),
        SegmentationArtwork(
            id=uuid.uuid4(),
            duration=1.0,
            results=RESULTS,
            status="succeeded",
            created_at=CREATED,
            parameters=SegmentationParameters(
                image_url=SOURCE,
                method="points",
                points_positive=SegmentationPoints(points=((0.25, 0.5),), labels=(1,)),
                output_format="png",
            ),
        ),
        DepthMapArtwork(
            id=uuid.uuid4(),
            duration=1.0,
            results=RESULTS,
            status="succeeded",
            created_at=CREATED,
            parameters=DepthMapParameters(
                image_url=SOURCE,
                use_version3=True,
                model="metric_large",
                normalization_mode="V2-Style",
            ),
        ),
    ]


# --- the archive, the fake server, the web integration -------------------------------------


class Dots:
    """An archive progress reporter (the ``ArchiveProgress`` protocol)."""

    def __init__(self) -> None:
        self.artworks_seen = 0
        self.bytes_written = 0

    def artworks(self, count: int) -> None:
        self.artworks_seen += count

    def image_bytes(self, count: int) -> None:
        self.bytes_written += count


async def archive(client: TengrAI, directory: Path) -> ArchiveReport | None:
    """One incremental archive run; ``None`` when another run holds the directory."""
    try:
        report = await sync(client, directory, images=True, downloads=4, progress=Dots())
    except ArchiveLockedError:
        return None
    assert_type(report.ok, bool)
    assert_type(report.new, int)
    return report


async def against_the_fake_server() -> list[str]:
    """The fake API, one 503 first, read by a client with instant retries."""
    async with FakeTengrAI(count=1_000, fault_rate=0.1, seed=7) as server:
        server.queue_faults("503")
        async with TengrAI(
            api_key="test-key", base_url=server.url, retry=RetryPolicy.instant()
        ) as client:
            ids = [str(artwork.id) async for artwork in client.artworks.iterate()]
        assert ids == server.ids()
        assert server.requests[0].query["offset"] == "0"
        return ids


def against_a_threaded_fake_server() -> int:
    """The fake API in a thread of its own, for synchronous code."""
    with FakeTengrAI.in_thread(artworks=make_artworks(3, seed=1)) as server:
        assert_type(server, FakeTengrAI)
        return server.total


async def artworks_view(request: web.Request) -> web.Response:
    """An aiohttp handler of one's own, using the app's shared client."""
    client = request.app[tengrai_web.TENGRAI_CLIENT]
    assert_type(client, TengrAI)
    page = await client.artworks.list(limit=5)
    return web.json_response([converter.unstructure(artwork) for artwork in page])


def make_app() -> web.Application:
    """An aiohttp app with the SDK's listing route and a view of its own."""
    app = web.Application()
    tengrai_web.setup(app, path="/api/artworks", api_key="key", timeout=15.0)
    app.router.add_get("/latest", artworks_view)
    return app


def version() -> str:
    """The package's version string."""
    return tengrai_async.__version__


# --- what both checkers refuse ---------------------------------------------------------------


def rejected() -> None:
    """Wire strings outside a kind's own subset, and strings that are no member at all."""
    HamiltonParameters(style="folktale")  # type: ignore[arg-type]  # quantum's, not hamilton's
    QuantumParameters(aspect_ratio="21:9")  # type: ignore[arg-type]  # selena's eleven only
    RemoveBackgroundParameters(image_format="auto")  # type: ignore[arg-type]  # png or webp
    SelenaParameters(style="cars")  # type: ignore[arg-type]  # a typo
    DepthMapParameters(normalization_mode="raw")  # type: ignore[arg-type]  # "Raw"
    client = TengrAI("key")
    client.artworks.create_quantum(aspect_ratio="21:9")  # type: ignore[arg-type, unused-coroutine]
    client.artworks.create_upscaling()  # type: ignore[call-arg, unused-coroutine]  # image_url
    client.artworks.create_hamilton(seed=1)  # type: ignore[call-arg, unused-coroutine]  # none
    selena = SelenaParameters(style="car")
    selena_style: StyleName = selena.style  # type: ignore[assignment]  # the attribute is a Style
    del selena_style
