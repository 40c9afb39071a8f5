"""``client.artworks.create_<kind>()``: one typed method per kind with a documented create path.

Each checks its arguments (:func:`~tengrai_async._create.build_body`), POSTs exactly those it
was given and hands the POST to :func:`~tengrai_async._never_twice.post_create`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from ._converter import converter
from ._create import (
    DEPTH_MAP,
    DETAILER_UPSCALER,
    FACE_REFINER,
    FACE_SWAP,
    HAMILTON,
    QUANTUM,
    REMOVE_BACKGROUND,
    SEGMENTATION,
    SELENA_VARIETE,
    UPSCALING,
    CreateKind,
    build_body,
)
from ._enums import (
    AspectRatio,
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
)
from ._errors import ResponseValidationError, TengrAIError
from ._models import (
    Artwork,
    DepthMapArtwork,
    DetailerUpscalerArtwork,
    FaceRefinerArtwork,
    FaceSwapArtwork,
    HamiltonArtwork,
    KnownArtwork,
    QuantumArtwork,
    RemoveBackgroundArtwork,
    SegmentationArtwork,
    SelenaVarieteArtwork,
    UpscalingArtwork,
)
from ._never_twice import LOOKUP_PAGE_SIZE, LOOKUP_SKEW, CreateLedger, matches, post_create
from ._pagination import ArtworkIterator
from ._parameters import SegmentationPoints

if TYPE_CHECKING:
    import datetime as _dt

    from ._transport import Transport

__all__ = ["ArtworksCreate"]

A = TypeVar("A", bound=KnownArtwork)


class ArtworksCreate:
    """The ``create_<kind>`` methods of ``client.artworks``: start a job, get its artwork.

    ``selena`` and ``photo_pilot`` have no method: the v2 docs document no create path for
    them (they may still be listed and fetched).

    **Checked before anything is sent.** The arguments are keyword-only, one per field of the
    kind's ``<Kind>Parameters``, enum members or their strings. Every rule of the kind is
    checked first (ranges, members, the area caps, depth_map's V2 models, the fields the spec
    marks *required in the request*, segmentation's ``text_prompt`` with ``method="text"``,
    a ``webhook`` that is ``https://`` to a public host): a broken one raises
    :class:`~tengrai_async.InvalidParameterError` naming the field by its wire name, and no
    request is made. The JSON body holds exactly the arguments given (``None`` is not
    given): the SDK adds no defaults of its own, so the server's apply.

    **The answer** (202; 200 and 201 too) is the new artwork, usually ``starting``; pass it to
    :meth:`wait`. An answer of another ``artworkType`` is a
    :class:`~tengrai_async.ResponseValidationError`, not retried. Error statuses raise the
    usual :class:`~tengrai_async.APIError` subclasses with the server's message.

    **Never paid for twice.** The API has no idempotency key, and a create is billed. So:

    - a POST the server did not take (the connection could not be opened, 429 with its
      ``Retry-After`` and the client's shared cooldown, 503) is retried like a GET;
    - after one it may have taken (a timeout or a dropped connection once the body went
      out, 500, 502, 504, an unreadable 2xx), the listing is read from the newest artwork
      back to 5 minutes before the first POST went out (``LOOKUP_SKEW``: the two machines'
      clocks may disagree), and an artwork of the kind whose ``parameters`` hold every sent
      key with the sent value, that this client (or a ``with_options()`` copy) has not
      already returned from a create, *is* the job: it is returned, and logged at INFO on
      the ``tengrai_async`` logger with its id. Only when none is found is the POST sent
      again, within ``max_retries``; the look-up's GETs are retried like any GET.
    - With ``max_retries=0``, or once the retries run out, the error raised is the usual
      class (``ServerError``, ``APITimeoutError``, ``APIConnectionError``, ...) and carries
      ``job_may_exist``, ``sent_body`` (the JSON object sent) and ``sent_at`` (aware).

    What it cannot see: a job that reaches the listing only after the look-up read it (the
    server took the POST but lists the job late), or one whose echoed ``parameters`` differ
    from what was sent. Either way that job and the retried one both exist. The look-up
    costs one GET of 50 artworks in the common case (more when many artworks were made in
    the last few minutes).

    Turn it off with ``TengrAI(never_twice=False)`` or ``client.with_options(never_twice=
    False)``: an ambiguous failure is then retried at once like a GET, with no look-up (a job
    may be made twice). To never retry a create at all, use ``with_options(max_retries=0)``
    and read ``job_may_exist`` on the error.
    """

    __slots__ = ()

    if TYPE_CHECKING:
        _transport: Transport
        _ledger: CreateLedger
        _never_twice: bool

    async def _create(self, kind: CreateKind[A], arguments: dict[str, Any]) -> A:
        arguments.pop("self", None)
        body = build_body(kind, arguments)
        base = self._transport.base_url
        url = base.with_path(base.path.rstrip("/") + kind.path)

        async def lookup(since: _dt.datetime) -> Artwork | None:
            return await self._find_job(kind, body, since)

        created = await post_create(
            self._transport,
            url,
            body,
            ledger=self._ledger,
            lookup=lookup if self._never_twice else None,
        )
        artwork: Artwork
        if created.found is not None:
            artwork = created.found
        else:
            try:
                artwork = converter.structure_artwork(created.data)
            except ResponseValidationError as invalid:
                raise _answered(invalid, body, created.sent_at) from None
            if not isinstance(artwork, kind.artwork):
                got = getattr(artwork, "artwork_type", None)
                other = ResponseValidationError(
                    "$.artworkType",
                    getattr(got, "value", got),
                    f"{kind.artwork_type.value!r}, the kind requested",
                    raw=created.data,
                )
                raise _answered(other, body, created.sent_at)
        self._ledger.add(str(artwork.id))
        assert isinstance(artwork, kind.artwork)  # noqa: S101 - the look-up filters the kind
        return artwork

    async def _find_job(
        self, kind: CreateKind[Any], body: dict[str, Any], since: _dt.datetime
    ) -> Artwork | None:
        """The oldest artwork of *kind* created after *since* (less the skew) matching *body*."""
        found: Artwork | None = None
        async for artwork in ArtworkIterator(
            self._transport,
            page_size=LOOKUP_PAGE_SIZE,
            prefetch=1,
            artwork_type=kind.artwork_type,
            created_after=since - LOOKUP_SKEW,
            on_invalid="skip",
        ):
            if not isinstance(artwork, kind.artwork) or str(artwork.id) in self._ledger:
                continue
            parameters: Any = getattr(artwork, "parameters", None)
            if parameters is not None and matches(parameters.raw, body):
                found = artwork  # newest first: the last one found is the oldest
        return found

    async def create_quantum(
        self,
        *,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        style: Style | QuantumStyleName | None = None,
        prompt_mode: PromptMode | PromptModeName | None = None,
        aspect_ratio: AspectRatio | QuantumAspectRatioName | None = None,
        width: int | None = None,
        height: int | None = None,
        nsfw: bool | None = None,
        transparent_background: bool | None = None,
        seed: int | None = None,
        webhook: str | None = None,
    ) -> QuantumArtwork:
        """Create a ``quantum`` artwork: ``POST /v2/artworks/quantum``.

        Text to image with the Quantum model. An argument left ``None`` is not sent (the
        server's default applies); :class:`ArtworksCreate` tells what is checked, retried and
        raised.

        Args:
            prompt: The prompt (the server reads at most 200 words; empty falls back on the
                style's own prompt).
            negative_prompt: What to keep out of the image (at most 64 words).
            style: One of the 25 selena styles, ``tengrai-anime`` or ``folktale``.
            prompt_mode: ``seer`` (rewritten by AI) or ``servitor`` (word for word; the server's
                default).
            aspect_ratio: One of seven ratios; with neither it nor a size, 1:1 at 1024 x 1024.
            width: 512 to 1360 pixels.
            height: 512 to 1360 pixels; ``width * height <= 1,478,656`` with both.
            nsfw: ``True`` lets NSFW output through (the server's default is ``False``).
            transparent_background: A transparent background.
            seed: 1 to 2,147,483,647 (absent: a random seed).
            webhook: An https:// URL the server POSTs the finished artwork to.
        """
        return await self._create(QUANTUM, locals())

    async def create_hamilton(
        self,
        *,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        style: Style | HamiltonStyleName | None = None,
        prompt_mode: PromptMode | PromptModeName | None = None,
        creativity: int | None = None,
        effort: int | None = None,
        aspect_ratio: AspectRatio | QuantumAspectRatioName | None = None,
        width: int | None = None,
        height: int | None = None,
        nsfw: bool | None = None,
        transparent_background: bool | None = None,
        high_resolution: bool | None = None,
        webhook: str | None = None,
    ) -> HamiltonArtwork:
        """Create a ``hamilton`` artwork: ``POST /v2/artworks/hamilton``.

        Text to image with the Hamilton model. An argument left ``None`` is not sent (the
        server's default applies); :class:`ArtworksCreate` tells what is checked, retried and
        raised.

        Args:
            prompt: The prompt (at most 256 words; the server's default is ``cat``).
            negative_prompt: What to keep out of the image.
            style: One of the twelve hamilton styles.
            prompt_mode: ``seer`` or ``servitor`` (the default).
            creativity: 1 to 5, the CFG scale (default 3).
            effort: 1 (fastest) to 5 (best quality) (default 3).
            aspect_ratio: One of seven ratios.
            width: 512 to 2048 pixels.
            height: 512 to 2048 pixels; ``width * height <= 1,478,656`` with both (1,763,584
                with ``high_resolution``).
            nsfw: ``True`` lets NSFW output through (default ``False``).
            transparent_background: A transparent background.
            high_resolution: A larger image (1328 x 1328 rather than 1024 x 1024 at 1:1).
            webhook: An https:// URL the server POSTs the finished artwork to.
        """
        return await self._create(HAMILTON, locals())

    async def create_selena_variete(
        self,
        *,
        image_url: str | None = None,
        model: Model | ModelName | None = None,
        batch: int | None = None,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        style: Style | SelenaStyleName | None = None,
        processing_mode: ProcessingMode | ProcessingModeName | None = None,
        prompt_mode: PromptMode | PromptModeName | None = None,
        creativity: int | None = None,
        details: int | None = None,
        denoising: int | None = None,
        aspect_ratio: AspectRatio | SelenaAspectRatioName | None = None,
        width: int | None = None,
        height: int | None = None,
        nsfw: bool | None = None,
        webhook: str | None = None,
    ) -> SelenaVarieteArtwork:
        """Create a ``selena_variete`` artwork: ``POST /v2/artworks/selena-variete``.

        A new image made from a source image. An argument left ``None`` is not sent (the
        server's default applies); :class:`ArtworksCreate` tells what is checked, retried and
        raised.

        Args:
            image_url: The source image.
            model: The generation model.
            batch: How many images, 1 or 2 (default 2).
            prompt: The prompt (default ``cat``).
            negative_prompt: What to keep out of the image.
            style: One of the 25 selena styles (default ``default``).
            processing_mode: How the source is used.
            prompt_mode: ``seer`` or ``servitor`` (the default).
            creativity: 1 to 5 (default 3).
            details: 1 to 5 (default 3).
            denoising: 1 to 5 (default 3; no effect in the modes that generate from scratch).
            aspect_ratio: One of the eleven selena ratios.
            width: 512 to 2048 pixels.
            height: 512 to 2048 pixels; ``width * height <= 1,478,656`` with both.
            nsfw: ``True`` lets NSFW output through (default ``False``).
            webhook: An https:// URL the server POSTs the finished artwork to.
        """
        return await self._create(SELENA_VARIETE, locals())

    async def create_face_refiner(
        self,
        *,
        image_url: str,
        model: Model | ModelName | None = None,
        denoising: int | None = None,
        seed: int | None = None,
        webhook: str | None = None,
        output_format: OutputFormat | OutputFormatName | None = None,
    ) -> FaceRefinerArtwork:
        """Create a ``face_refiner`` artwork: ``POST /v2/artworks/face-refiner``.

        Reworks the faces in an image. An argument left ``None`` is not sent (the server's
        default applies); :class:`ArtworksCreate` tells what is checked, retried and raised.

        Args:
            image_url: The image whose faces are reworked (required).
            model: The generation model.
            denoising: 1 to 5 (default 3).
            seed: 1 to 2,147,483,647 (absent: a random seed).
            webhook: An https:// URL the server POSTs the finished artwork to.
            output_format: ``auto`` (the default), ``png`` or ``webp``.
        """
        return await self._create(FACE_REFINER, locals())

    async def create_face_swap(
        self,
        *,
        source_image: str,
        target_image: str,
        denoising: int | None = None,
        seed: int | None = None,
        webhook: str | None = None,
        output_format: OutputFormat | OutputFormatName | None = None,
    ) -> FaceSwapArtwork:
        """Create a ``face_swap`` artwork: ``POST /v2/artworks/face-swap``.

        Puts one image's face into another. An argument left ``None`` is not sent (the server's
        default applies); :class:`ArtworksCreate` tells what is checked, retried and raised.

        Args:
            source_image: The image the face comes from (required).
            target_image: The image whose face is replaced (required).
            denoising: 1 to 5: how strongly the new face is blended in (default 3).
            seed: 1 to 2,147,483,647 (absent: a random seed).
            webhook: An https:// URL the server POSTs the finished artwork to.
            output_format: ``auto`` (the default), ``png`` or ``webp``.
        """
        return await self._create(FACE_SWAP, locals())

    async def create_upscaling(
        self,
        *,
        image_url: str,
        scale_factor: int | None = None,
        webhook: str | None = None,
    ) -> UpscalingArtwork:
        """Create a ``upscaling_v2`` artwork: ``POST /v2/artworks/upscaling``.

        Enlarges an image. An argument left ``None`` is not sent (the server's default applies);
        :class:`ArtworksCreate` tells what is checked, retried and raised.

        Args:
            image_url: The image to enlarge: JPEG, PNG or WebP of at most 1,478,656 pixels
                (required).
            scale_factor: 2 to 8 (default 2).
            webhook: An https:// URL the server POSTs the finished artwork to.
        """
        return await self._create(UPSCALING, locals())

    async def create_detailer_upscaler(
        self,
        *,
        image_url: str,
        scale_factor: int | None = None,
        details: int | None = None,
        modification: int | None = None,
        seed: int | None = None,
        webhook: str | None = None,
        output_format: OutputFormat | OutputFormatName | None = None,
    ) -> DetailerUpscalerArtwork:
        """Create a ``detailer_upscaler`` artwork: ``POST /v2/artworks/detailer-upscaler``.

        Adds detail, optionally enlarging. An argument left ``None`` is not sent (the server's
        default applies); :class:`ArtworksCreate` tells what is checked, retried and raised.

        Args:
            image_url: The source image (required).
            scale_factor: 1 (detail only), 2, 4 or 8 (default 2).
            details: 1 (low) to 3 (high) (default 2).
            modification: 1 (subtle) to 3 (strong) (default 2).
            seed: 1 to 2,147,483,647 (absent: a random seed).
            webhook: An https:// URL the server POSTs the finished artwork to.
            output_format: ``auto`` (the default), ``png`` or ``webp``.
        """
        return await self._create(DETAILER_UPSCALER, locals())

    async def create_remove_background(
        self,
        *,
        image_url: str,
        webhook: str | None = None,
        output_format: OutputFormat | OutputFormatName | None = None,
        image_format: OutputFormat | ImageFormatName | None = None,
    ) -> RemoveBackgroundArtwork:
        """Create a ``remove_background`` artwork: ``POST /v2/artworks/remove-background``.

        Cuts the subject out of its background. An argument left ``None`` is not sent (the
        server's default applies); :class:`ArtworksCreate` tells what is checked, retried and
        raised.

        Args:
            image_url: The source image (required).
            webhook: An https:// URL the server POSTs the finished artwork to.
            output_format: ``auto``, ``png`` or ``webp`` (the newer docs).
            image_format: ``png`` or ``webp`` (the older docs).
        """
        return await self._create(REMOVE_BACKGROUND, locals())

    async def create_segmentation(
        self,
        *,
        image_url: str,
        method: SegmentationMethod | SegmentationMethodName,
        text_prompt: str | None = None,
        text_confidence: float | None = None,
        text_max_detections: int | None = None,
        text_combine_masks: bool | None = None,
        points_positive: SegmentationPoints | None = None,
        points_negative: SegmentationPoints | None = None,
        mask_expand: int | None = None,
        mask_tapered_corners: bool | None = None,
        mask_blur_sigma: float | None = None,
        mask_kernel_size: int | None = None,
        output_format: OutputFormat | OutputFormatName | None = None,
        webhook: str | None = None,
    ) -> SegmentationArtwork:
        """Create a ``segmentation`` artwork: ``POST /v2/artworks/segmentation``.

        Masks parts of an image, chosen by text or by points. An argument left ``None`` is not
        sent (the server's default applies); :class:`ArtworksCreate` tells what is checked,
        retried and raised.

        Args:
            image_url: The source image (required).
            method: ``text`` or ``points`` (required).
            text_prompt: What to segment; required with ``method='text'``.
            text_confidence: At most 1 (default 0.2).
            text_max_detections: -1 (no limit, the default) to 100.
            text_combine_masks: Combine the masks into one (default ``True``).
            points_positive: The points to include.
            points_negative: The points to leave out.
            mask_expand: -16384 to 16384 pixels (default 0).
            mask_tapered_corners: Taper the mask's corners.
            mask_blur_sigma: 0.1 (the default) to 100.
            mask_kernel_size: At most 100 (default 0).
            output_format: ``auto`` (the default), ``png`` or ``webp``.
            webhook: An https:// URL the server POSTs the finished artwork to.
        """
        return await self._create(SEGMENTATION, locals())

    async def create_depth_map(
        self,
        *,
        image_url: str,
        use_version3: bool | None = None,
        model: DepthModel | DepthModelName | None = None,
        normalization_mode: NormalizationMode | NormalizationModeName | None = None,
        resolution_lower_limit: int | None = None,
        invert_depth: bool | None = None,
        use_post_resize: bool | None = None,
        webhook: str | None = None,
    ) -> DepthMapArtwork:
        """Create a ``depth_map`` artwork: ``POST /v2/artworks/depth-map``.

        A grayscale depth image, nearer parts lighter. An argument left ``None`` is not sent
        (the server's default applies); :class:`ArtworksCreate` tells what is checked, retried
        and raised.

        Args:
            image_url: The source image (required).
            use_version3: ``True`` for DepthAnything V3, ``False`` for V2.
            model: The model (default ``large``); V2 has only ``giant``, ``large``, ``base``,
                ``small``.
            normalization_mode: ``Standard`` (the default), ``V2-Style`` or ``Raw`` (V3 only).
            resolution_lower_limit: 256 to 2048, a multiple of 64 (default 1024).
            invert_depth: Invert the depth.
            use_post_resize: Scale the result back to the input's size.
            webhook: An https:// URL the server POSTs the finished artwork to.
        """
        return await self._create(DEPTH_MAP, locals())


def _answered(error: TengrAIError, body: dict[str, Any], sent_at: _dt.datetime) -> TengrAIError:
    """*error*, for a 2xx answer that cannot be read: the job exists upstream."""
    error.job_may_exist = True
    error.sent_body = body
    error.sent_at = sent_at
    return error
