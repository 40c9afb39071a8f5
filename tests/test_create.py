"""``artworks.create_<kind>()``: the arguments, the checks before sending, the body, the answers.

Over real loopback HTTP against the fake server, or a purpose-built one where an answer the
fake never gives is needed.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from _client_helpers import make_client
from aiohttp import web

from tengrai_async import (
    ArtworksResource,
    ArtworkStatus,
    AspectRatio,
    AuthenticationError,
    BadRequestError,
    InvalidArgumentError,
    InvalidParameterError,
    NotFoundError,
    PermissionDeniedError,
    PromptMode,
    QuantumArtwork,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    SegmentationPoints,
    ServerError,
    Style,
    ValidationError,
)
from tengrai_async._codegen import camel_case
from tengrai_async._create import CREATE_KINDS, parameter_fields
from tengrai_async.testing import FakeTengrAI, make_artwork

IMAGE = "https://images.example.com/in.png"
OTHER = "https://images.example.com/other.png"
POINTS = SegmentationPoints(points=((0.25, 0.75), (0.5, 0.5)), labels=(1, 0))

#: The required arguments of each kind (nothing else).
MINIMAL: dict[str, dict[str, Any]] = {
    "quantum": {},
    "hamilton": {},
    "selena-variete": {},
    "face-refiner": {"image_url": IMAGE},
    "face-swap": {"source_image": IMAGE, "target_image": OTHER},
    "upscaling": {"image_url": IMAGE},
    "detailer-upscaler": {"image_url": IMAGE},
    "remove-background": {"image_url": IMAGE},
    "segmentation": {"image_url": IMAGE, "method": "points"},
    "depth-map": {"image_url": IMAGE},
}
#: Some optional arguments of each kind, and the body they make with the minimal ones.
SOME: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "quantum": (
        {"prompt": "a red fox", "aspect_ratio": "16:9", "seed": 42, "nsfw": False},
        {"prompt": "a red fox", "aspectRatio": "16:9", "seed": 42, "nsfw": False},
    ),
    "hamilton": (
        {"style": "coloring-book", "width": 1216, "height": 1216, "high_resolution": True},
        {"style": "coloring-book", "width": 1216, "height": 1216, "highResolution": True},
    ),
    "selena-variete": (
        {"image_url": IMAGE, "processing_mode": "3d", "batch": 1, "prompt_mode": "seer"},
        {"imageUrl": IMAGE, "processingMode": "3d", "batch": 1, "promptMode": "seer"},
    ),
    "face-refiner": (
        {"denoising": 5, "output_format": "png"},
        {"denoising": 5, "outputFormat": "png"},
    ),
    "face-swap": ({"seed": 7}, {"seed": 7}),
    "upscaling": ({"scale_factor": 8}, {"scaleFactor": 8}),
    "detailer-upscaler": ({"scale_factor": 1, "details": 3}, {"scaleFactor": 1, "details": 3}),
    "remove-background": ({"image_format": "webp"}, {"imageFormat": "webp"}),
    "segmentation": (
        {"points_positive": POINTS, "mask_blur_sigma": 0.5},
        {
            "pointsPositive": {"points": [[0.25, 0.75], [0.5, 0.5]], "labels": [1, 0]},
            "maskBlurSigma": 0.5,
        },
    ),
    "depth-map": (
        {"use_version3": True, "model": "mono_large", "resolution_lower_limit": 256},
        {"useVersion3": True, "model": "mono_large", "resolutionLowerLimit": 256},
    ),
}
#: One broken rule per case: the kind, the arguments (over the minimal ones), the wire name.
BROKEN: list[tuple[str, dict[str, Any], str]] = [
    ("quantum", {"aspect_ratio": "21:9"}, "aspectRatio"),  # a Ratios-11 value, not Ratios-7
    ("quantum", {"width": 1361}, "width"),
    ("quantum", {"width": 1216, "height": 1360}, "height"),  # the area cap
    ("quantum", {"seed": 0}, "seed"),
    ("quantum", {"seed": True}, "seed"),
    ("quantum", {"style": "coloring-book"}, "style"),
    ("quantum", {"prompt_mode": "oracle"}, "promptMode"),
    ("quantum", {"nsfw": "yes"}, "nsfw"),
    ("quantum", {"webhook": "http://hooks.example.com/x"}, "webhook"),
    ("quantum", {"webhook": "https://127.0.0.1/hook"}, "webhook"),
    ("quantum", {"webhook": "https://localhost/hook"}, "webhook"),
    ("quantum", {"webhook": "not a uri"}, "webhook"),
    ("hamilton", {"creativity": 6}, "creativity"),
    ("hamilton", {"effort": 0}, "effort"),
    ("hamilton", {"style": "car"}, "style"),
    ("hamilton", {"width": 1328, "height": 1329, "high_resolution": True}, "height"),
    ("hamilton", {"width": 1216, "height": 1217}, "height"),
    ("selena-variete", {"batch": 3}, "batch"),
    ("selena-variete", {"processing_mode": "sketch"}, "processingMode"),
    ("selena-variete", {"model": "tengrai-20231128-m-d"}, "model"),
    ("selena-variete", {"denoising": 2.5}, "denoising"),
    ("selena-variete", {"image_url": "images/in.png"}, "imageUrl"),
    ("face-refiner", {"image_url": None}, "imageUrl"),
    ("face-refiner", {"output_format": "jpeg"}, "outputFormat"),
    ("face-swap", {"source_image": None}, "sourceImage"),
    ("face-swap", {"target_image": None}, "targetImage"),
    ("face-swap", {"denoising": 0}, "denoising"),
    ("upscaling", {"image_url": None}, "imageUrl"),
    ("upscaling", {"scale_factor": 1}, "scaleFactor"),
    ("detailer-upscaler", {"scale_factor": 3}, "scaleFactor"),
    ("detailer-upscaler", {"modification": 4}, "modification"),
    ("remove-background", {"image_format": "auto"}, "imageFormat"),
    ("remove-background", {"image_url": None}, "imageUrl"),
    ("segmentation", {"method": None}, "method"),
    ("segmentation", {"method": "text"}, "textPrompt"),
    ("segmentation", {"method": "text", "text_prompt": "  "}, "textPrompt"),
    ("segmentation", {"text_confidence": 1.5}, "textConfidence"),
    ("segmentation", {"text_max_detections": -2}, "textMaxDetections"),
    ("segmentation", {"mask_kernel_size": 101}, "maskKernelSize"),
    (
        "segmentation",
        {"points_positive": {"points": [[0.5, 0.5]], "labels": [1]}},
        "pointsPositive",
    ),
    ("depth-map", {"use_version3": False, "model": "mono_large"}, "model"),
    ("depth-map", {"resolution_lower_limit": 1000}, "resolutionLowerLimit"),
    ("depth-map", {"normalization_mode": "standard"}, "normalizationMode"),
]


def posts(server: FakeTengrAI) -> list[Any]:
    """The bodies of the POSTs the server received."""
    return [request.body for request in server.requests if request.method == "POST"]


async def create(client: Any, segment: str, **arguments: Any) -> Any:
    method = getattr(client.artworks, CREATE_KINDS[segment].method)
    return await method(**arguments)


@pytest.fixture
async def server() -> AsyncIterator[FakeTengrAI]:
    async with FakeTengrAI() as running:
        yield running


def test_each_kind_with_a_create_path_has_its_method() -> None:
    methods = sorted(name for name in dir(ArtworksResource) if name.startswith("create_"))
    assert methods == sorted(kind.method for kind in CREATE_KINDS.values())
    assert not hasattr(ArtworksResource, "create_selena")
    assert not hasattr(ArtworksResource, "create_photo_pilot")


@pytest.mark.parametrize("segment", list(CREATE_KINDS))
def test_a_method_takes_one_keyword_per_parameter_field(segment: str) -> None:
    kind = CREATE_KINDS[segment]
    signature = inspect.signature(getattr(ArtworksResource, kind.method))
    parameters = list(signature.parameters.values())[1:]
    assert [p.name for p in parameters] == sorted(
        (field.name for field in parameter_fields(kind)),
        key=lambda name: (
            name not in kind.required,
            [f.name for f in parameter_fields(kind)].index(name),
        ),
    )
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    required = [p.name for p in parameters if p.default is inspect.Parameter.empty]
    assert required == list(kind.required)
    assert all(p.default is None for p in parameters if p.name not in kind.required)


@pytest.mark.parametrize("segment", list(CREATE_KINDS))
async def test_the_body_holds_only_the_required_arguments_given(
    server: FakeTengrAI, segment: str
) -> None:
    async with server.client() as client:
        artwork = await create(client, segment, **MINIMAL[segment])
    expected = {camel_case(name): value for name, value in MINIMAL[segment].items()}
    assert posts(server) == [expected]
    assert artwork.artwork_type.value == CREATE_KINDS[segment].artwork_type.value
    assert artwork.status is ArtworkStatus.STARTING


@pytest.mark.parametrize("segment", list(CREATE_KINDS))
async def test_the_body_holds_exactly_the_arguments_given_in_wire_names(
    server: FakeTengrAI, segment: str
) -> None:
    arguments, body = SOME[segment]
    minimal = {camel_case(name): value for name, value in MINIMAL[segment].items()}
    async with server.client() as client:
        artwork = await create(client, segment, **{**MINIMAL[segment], **arguments})
    assert posts(server) == [{**minimal, **body}]
    assert isinstance(artwork, CREATE_KINDS[segment].artwork)


async def test_no_default_of_the_sdk_is_sent(server: FakeTengrAI) -> None:
    # promptMode's default changed in v2.2.0: a body without it leaves the choice to the server.
    async with server.client() as client:
        artwork = await client.artworks.create_quantum(prompt="a red fox")
    assert posts(server) == [{"prompt": "a red fox"}]
    assert "promptMode" not in posts(server)[0]
    assert artwork.parameters.raw["promptMode"] == "servitor"  # the server's echo of its own


async def test_enum_members_are_sent_as_their_wire_strings(server: FakeTengrAI) -> None:
    async with server.client() as client:
        await client.artworks.create_quantum(
            style=Style.FOLKTALE, aspect_ratio=AspectRatio.R_16_9, prompt_mode=PromptMode.SEER
        )
    assert posts(server) == [{"style": "folktale", "aspectRatio": "16:9", "promptMode": "seer"}]


@pytest.mark.parametrize(("segment", "arguments", "wire"), BROKEN)
async def test_a_broken_rule_is_refused_before_anything_is_sent(
    server: FakeTengrAI, segment: str, arguments: dict[str, Any], wire: str
) -> None:
    async with server.client() as client:
        with pytest.raises(InvalidParameterError) as info:
            await create(client, segment, **{**MINIMAL[segment], **arguments})
    assert info.value.argument == wire
    assert str(info.value).startswith(f"{wire} must be ")
    assert isinstance(info.value, InvalidArgumentError)
    assert isinstance(info.value, ValidationError)
    assert server.requests == []


async def test_a_missing_required_argument_is_a_type_error_for_python_too() -> None:
    async with FakeTengrAI() as server, server.client() as client:
        with pytest.raises(TypeError):
            await client.artworks.create_upscaling()  # type: ignore[call-arg]
    assert server.requests == []


async def test_the_answer_is_the_new_artwork_of_the_kind(server: FakeTengrAI) -> None:
    async with server.client() as client:
        artwork = await client.artworks.create_quantum(prompt="a red fox")
        assert isinstance(artwork, QuantumArtwork)
        assert artwork.id is not None
        assert await client.artworks.get(artwork.id) == artwork
        listed = await client.artworks.list(limit=1)
    assert listed.items == (artwork,)


async def test_wait_takes_the_artwork_a_create_returned() -> None:
    async with FakeTengrAI(images=True) as server, server.client() as client:
        done = await client.artworks.wait(
            await client.artworks.create_quantum(prompt="a red fox"), poll_interval=0.001
        )
        image = str(server.image_url(str(done.id), 0))
    assert done.status is ArtworkStatus.SUCCEEDED
    assert done.results == (image,)


# --- answers the fake server does not give: a purpose-built one -------------------------------


BODIES: web.AppKey[list[Any]] = web.AppKey("bodies", list)


def answering(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Application:
    """An API whose create paths always answer *status* with the JSON *body*."""

    async def handle(request: web.Request) -> web.Response:
        request.app[BODIES].append(await request.json())
        return web.json_response(body, status=status, headers=headers)

    app = web.Application()
    app[BODIES] = []
    app.router.add_post("/v2/artworks/{kind}", handle)
    return app


def quantum_json(**changes: Any) -> dict[str, Any]:
    artwork = make_artwork(0, kinds=["quantum"])
    return {**artwork, "status": "starting", "results": [], "duration": 0, **changes}


@pytest.mark.parametrize("status", [200, 201, 202])
async def test_a_2xx_answer_is_the_artwork(aiohttp_server: Any, status: int) -> None:
    server = await aiohttp_server(answering(status, quantum_json()))
    async with make_client(server.make_url("")) as client:
        artwork = await client.artworks.create_quantum(prompt="x")
    assert isinstance(artwork, QuantumArtwork)


async def test_an_answer_of_another_kind_is_refused_without_a_retry(aiohttp_server: Any) -> None:
    server = await aiohttp_server(answering(202, quantum_json(artworkType="hamilton")))
    async with make_client(server.make_url("")) as client:
        with pytest.raises(ResponseValidationError) as info:
            await client.artworks.create_quantum(prompt="x")
    assert info.value.path == "$.artworkType"
    assert info.value.value == "hamilton"
    assert info.value.sent_body == {"prompt": "x"}
    assert info.value.job_may_exist is True  # the server took it, whatever it answered
    assert len(server.app[BODIES]) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
    ],
)
async def test_a_refusal_maps_to_the_error_tree_with_the_servers_message(
    aiohttp_server: Any, status: int, error: type[Exception]
) -> None:
    body = {"message": ["prompt is too long"], "statusCode": status, "error": "Nope"}
    server = await aiohttp_server(answering(status, body))
    async with make_client(server.make_url("")) as client:
        with pytest.raises(error) as info:
            await client.artworks.create_quantum(prompt="x")
    assert isinstance(info.value, error)
    assert "prompt is too long" in str(info.value)
    assert info.value.job_may_exist is False  # type: ignore[attr-defined]
    assert len(server.app[BODIES]) == 1


async def test_a_429_is_retried_until_the_retries_run_out(aiohttp_server: Any) -> None:
    body = {"message": "slow down", "statusCode": 429}
    server = await aiohttp_server(answering(429, body, {"Retry-After": "0"}))
    async with make_client(server.make_url(""), max_retries=2) as client:
        with pytest.raises(RateLimitError) as info:
            await client.artworks.create_quantum(prompt="x")
    assert info.value.attempts == 3
    assert info.value.job_may_exist is False
    assert len(server.app[BODIES]) == 3


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_5xx_that_may_have_made_the_job_raises_with_job_may_exist(
    aiohttp_server: Any, status: int
) -> None:
    server = await aiohttp_server(answering(status, {"message": "oops", "statusCode": status}))
    async with make_client(server.make_url(""), max_retries=0) as client:
        with pytest.raises(ServerError) as info:
            await client.artworks.create_quantum(prompt="x", seed=3)
    assert info.value.status == status
    assert info.value.job_may_exist is True
    assert info.value.sent_body == {"prompt": "x", "seed": 3}
    assert info.value.sent_at is not None
    assert info.value.sent_at.tzinfo is not None
    assert len(server.app[BODIES]) == 1


def test_the_kind_table_names_each_documented_path() -> None:
    assert {segment: kind.artwork_type.value for segment, kind in CREATE_KINDS.items()} == {
        "quantum": "quantum",
        "hamilton": "hamilton",
        "selena-variete": "selena_variete",
        "face-refiner": "face_refiner",
        "face-swap": "face_swap",
        "upscaling": "upscaling_v2",
        "detailer-upscaler": "detailer_upscaler",
        "remove-background": "remove_background",
        "segmentation": "segmentation",
        "depth-map": "depth_map",
    }
    assert all(attrs.has(kind.parameters) for kind in CREATE_KINDS.values())


def _without_none(hint: Any) -> set[Any]:
    """The members of a union hint, ``None`` left out (Literal aliases flattened)."""
    members: set[Any] = set()
    for arg in typing.get_args(hint) or (hint,):
        if arg is type(None):
            continue
        if typing.get_origin(arg) is typing.Literal:
            members.update(("literal", value) for value in typing.get_args(arg))
        else:
            members.add(arg)
    return members


@pytest.mark.parametrize("segment", list(CREATE_KINDS))
def test_each_argument_is_typed_as_its_parameters_field_takes_it(segment: str) -> None:
    kind = CREATE_KINDS[segment]
    method = typing.get_type_hints(getattr(ArtworksResource, kind.method))
    fields = typing.get_type_hints(kind.parameters)
    for field in parameter_fields(kind):
        convert = field.converter
        if getattr(convert, "__module__", None) == "tengrai_async._parameters":
            takes = typing.get_type_hints(convert)["value"]  # the enum's members and strings
        else:
            takes = fields[field.name]
        assert _without_none(method[field.name]) == _without_none(takes), field.name
    assert method["return"] is kind.artwork


def test_an_argument_of_no_field_of_the_kind_is_refused() -> None:
    from tengrai_async._create import build_body  # noqa: PLC0415

    with pytest.raises(InvalidParameterError) as info:
        build_body(CREATE_KINDS["upscaling"], {"image_url": IMAGE, "style_name": "x"})
    assert info.value.argument == "styleName"


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://hooks.example.com/tengrai", True),
        ("https://8.8.8.8/hook", True),
        ("https://[2001:4860:4860::8888]/hook", True),
        ("https://10.0.0.7/hook", False),
        ("https://169.254.169.254/latest", False),
        ("https://[::1]/hook", False),
        ("https://metadata.google.internal/x", False),
        ("https://app.localhost/x", False),
        ("https:///nohost", False),
        ("ftp://hooks.example.com/x", False),
    ],
)
def test_a_webhook_must_be_https_to_a_public_host(url: str, accepted: bool) -> None:
    from tengrai_async._create import check_webhook  # noqa: PLC0415

    assert (check_webhook(url) is None) is accepted


async def test_a_2xx_answer_that_breaks_the_spec_says_the_job_exists(aiohttp_server: Any) -> None:
    server = await aiohttp_server(answering(202, quantum_json(status="done")))
    async with make_client(server.make_url("")) as client:
        with pytest.raises(ResponseValidationError) as info:
            await client.artworks.create_quantum(prompt="x")
    assert info.value.path == "$.status"
    assert info.value.job_may_exist is True
    assert len(server.app[BODIES]) == 1


async def test_an_answer_over_the_cap_may_have_made_the_job() -> None:
    async with FakeTengrAI() as server, server.client(max_response_bytes=50, max_retries=0) as c:
        with pytest.raises(ResponseTooLargeError) as info:
            await c.artworks.create_quantum(prompt="a red fox")
    assert info.value.job_may_exist is True
    assert server.total == 1
