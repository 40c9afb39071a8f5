"""The fake server's data: its artworks, newest first, as the API serves them, and their options.

Synthetic items are made and serialized when a window first holds them; jobs are made afresh.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs
import orjson

from ._data import KindMix, index_of, make_artwork
from ._jobs import JOB_OUTCOMES, Jobs, new_job, with_status

if TYPE_CHECKING:
    from .._clock import Clock
    from ._create import CreateOptions
    from ._image_host import ImageHost

__all__ = ["Listing", "ListingOptions"]


def _not_negative(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 0:
        msg = f"{attribute.name} must be >= 0, got {value!r}"
        raise ValueError(msg)


def _kind_mix(kinds: KindMix | None) -> KindMix | None:
    # Checked (and copied) here, so a bad mix fails at construction, not on a request.
    if kinds is None:
        return None
    if isinstance(kinds, str):
        msg = f"kinds must be a sequence of kinds or a mapping, not the string {kinds!r}"
        raise TypeError(msg)
    if isinstance(kinds, Mapping):
        weights = dict(kinds)
        if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            msg = f"kinds needs weights >= 0 with a positive sum, got {weights!r}"
            raise ValueError(msg)
        return weights
    names = tuple(kinds)
    if not names:
        msg = "kinds needs at least one kind"
        raise ValueError(msg)
    return names


@attrs.frozen(kw_only=True)
class ListingOptions:
    """The synthetic history a server lists, and how it grows while it is listed.

    The ``listing_options=`` of :class:`FakeTengrAI`; each field is also a keyword of it of
    the same name.

    Attributes:
        count: How many synthetic artworks to serve when no ``artworks`` are given (>= 0).
        seed: The synthetic history (see :func:`make_artwork`), for listed and inserted items.
        kinds: The mix of artwork kinds of listed and inserted synthetic items (see
            :func:`make_artwork`; default: mostly ``selena``, every documented kind present),
            kept as a copy: a dict of weights or a tuple of kinds.
        extras: Whether synthetic items carry keys the docs do not describe.
        insert_every: Insert ``insert_batch`` new artworks before every n-th valid listing
            request (0: never), shifting the offsets as new artworks do during a long listing.
        insert_batch: How many artworks each of those insertions adds (>= 0).

    Raises:
        ValueError: A negative ``count``, ``insert_every`` or ``insert_batch``; an empty
            ``kinds``, or weights that are negative or sum to 0.
        TypeError: ``kinds`` given as a string.
    """

    count: int = attrs.field(default=0, validator=_not_negative)
    seed: int = 0
    kinds: KindMix | None = attrs.field(default=None, converter=_kind_mix, hash=False)
    extras: bool = True
    insert_every: int = attrs.field(default=0, validator=_not_negative)
    insert_batch: int = attrs.field(default=1, validator=_not_negative)


class Listing:
    """The artworks of one server by listing index: explicit or synthetic, inserted, jobs.

    Index 0 is the newest artwork of ``count`` (or the first explicit one); inserted artworks
    and jobs take -1, -2... as they come, each newer than all before. Callers hold the
    server's lock.
    """

    def __init__(
        self,
        artworks: Sequence[Mapping[str, Any]] | None,
        options: ListingOptions,
        *,
        images: ImageHost,
        clock: Clock,
        on_finish: Callable[[int], None] | None = None,
    ) -> None:
        self.options = options
        self._explicit = list(artworks) if artworks is not None else None
        self._count = len(self._explicit) if self._explicit is not None else options.count
        # Explicit artworks are found by id through this map; synthetic ones carry their index.
        self._explicit_ids: dict[str, int] = {}
        # Anything, as explicit artworks are never validated.
        for index, item in enumerate(cast("list[object]", self._explicit or [])):
            artwork_id = (
                cast("Mapping[str, object]", item).get("id") if isinstance(item, Mapping) else None
            )
            if isinstance(artwork_id, str):
                self._explicit_ids.setdefault(artwork_id, index)  # the first of duplicates
        self._images = images
        # Whether the results of synthetic artworks point at the image host.
        self._on_host = images.options.images
        self._clock = clock
        self.jobs = Jobs(on_finish)
        self._inserted = 0
        self._listings = 0
        #: Serialized items by index (negative for inserted ones): each is dumped once. Jobs
        #: are never cached, since their state changes.
        self.cache: dict[int, bytes] = {}

    @property
    def total(self) -> int:
        """How many artworks are listed now, inserted ones (and jobs) included."""
        return self._inserted + self._count

    @property
    def next_index(self) -> int:
        """The index the next inserted artwork or job takes."""
        return -self._inserted - 1

    def insert(self, n: int) -> list[dict[str, Any]]:
        """Add *n* synthetic artworks at the front; return them as served, newest first."""
        inserted = self._insert(n)
        if self._on_host and self._images.running:
            inserted = [self._with_images(artwork) for artwork in inserted]
        return inserted

    def listed(self) -> None:
        """Count a valid listing request: every ``insert_every``-th inserts a batch first."""
        self._listings += 1
        every = self.options.insert_every
        if every and self._listings % every == 0:
            self._insert(self.options.insert_batch)

    def start_job(self, kind: str, *, outcome: str, polls: int, seconds: float | None) -> str:
        """Add a job of *kind* at the front (see :meth:`FakeTengrAI.start_job`); its id."""
        self._inserted += 1
        index = -self._inserted
        seed = self.options.seed
        artwork = make_artwork(index, seed=seed, kinds=[kind], extras=self.options.extras)
        job = new_job(
            artwork,
            seed=seed,
            index=index,
            outcome=outcome,
            polls=polls,
            seconds=seconds,
            started=self._clock.monotonic(),
        )
        self.jobs.add(index, job)
        return str(artwork["id"])

    def add_created(self, artwork: dict[str, Any], options: CreateOptions) -> int:
        """Add a created *artwork* at the front, run as a job, its results on the image host.

        Returns its listing index.
        """
        self._inserted += 1
        index = -self._inserted
        job = new_job(
            artwork,
            seed=self.options.seed,
            index=index,
            outcome=options.outcome,
            polls=options.polls,
            seconds=options.seconds,
            started=self._clock.monotonic(),
            results=self._images.urls(artwork["id"], options.images),
        )
        self.jobs.add(index, job)
        return index

    def polled(self, index: int) -> None:
        """Count a clean GET by id of the artwork at *index*: a job's poll."""
        self.jobs.polled(index, self._clock.monotonic())

    def finish_jobs(self) -> list[str]:
        """Move every job to its outcome (see :meth:`FakeTengrAI.finish_jobs`)."""
        return self.jobs.finish_all(self._clock.monotonic())

    def set_status(self, artwork_id: str, status: str) -> None:
        """Serve *artwork_id* with *status* from now on (``KeyError``: not listed)."""
        index = self.find(artwork_id)
        if index is None:
            msg = f"no listed artwork has the id {artwork_id!r}"
            raise KeyError(msg)
        self.cache.pop(index, None)
        self.jobs.set_status(index, status, self._clock.monotonic())

    def ids(self) -> list[str]:
        """The ``id`` of every listed artwork, in listing order (generates them all)."""
        now = self._clock.monotonic()
        return [
            str(self._artwork(index, now)["id"]) for index in range(-self._inserted, self._count)
        ]

    def find(self, artwork_id: str) -> int | None:
        """The index of the listed artwork with this id, or ``None``; O(1), making one item."""
        index = self._explicit_ids.get(artwork_id)
        if index is not None:
            return index
        try:
            index = index_of(uuid.UUID(artwork_id))
        except ValueError:
            return None
        last = 0 if self._explicit is not None else self._count
        if not -self._inserted <= index < last:
            return None
        found = self._artwork(index, self._clock.monotonic()).get("id") == artwork_id
        # A uuid from another seed, or a non-canonical spelling of ours, is not found.
        return index if found else None

    def item(self, index: int) -> bytes:
        """The JSON the API answers for the artwork at *index*, now."""
        return self._item(index, self._clock.monotonic())

    def final(self, index: int) -> tuple[bytes | None, float | None]:
        """The job at *index* for its webhook: its final JSON, and when it ends by time.

        The JSON is what GET by id answers once it shows a final status (``None`` before);
        the time is :attr:`Job.ends_at`.
        """
        now = self._clock.monotonic()
        final = self._served(index, now).get("status") in JOB_OUTCOMES
        job = self.jobs.get(index)
        return (self._item(index, now) if final else None), (None if job is None else job.ends_at)

    def window(self, offset: int, limit: int) -> bytes:
        """The JSON array of a listing page."""
        first = offset - self._inserted
        last = min(first + limit, self._count)
        now = self._clock.monotonic()
        return b"[" + b",".join(self._item(index, now) for index in range(first, last)) + b"]"

    def _make(self, index: int) -> dict[str, Any]:
        options = self.options
        return make_artwork(index, seed=options.seed, kinds=options.kinds, extras=options.extras)

    def _insert(self, n: int) -> list[dict[str, Any]]:
        self._inserted += n
        return [self._make(index) for index in range(-self._inserted, n - self._inserted)]

    def _artwork(self, index: int, now: float) -> Mapping[str, Any]:
        job = self.jobs.get(index)
        if job is not None:
            return job.snapshot(now)
        if index < 0 or self._explicit is None:
            return self._make(index)
        return self._explicit[index]

    def _served(self, index: int, now: float) -> Mapping[str, Any]:
        # The artwork as the API answers it: its results on the image origin, its status set.
        artwork = self._artwork(index, now)
        if self._on_host and (index < 0 or self._explicit is None):
            artwork = self._with_images(artwork)
        status = self.jobs.override(index)
        if status is not None:
            urls = self._images.urls if self._on_host else None
            artwork = with_status(artwork, status, urls)
        return artwork

    def _with_images(self, artwork: Mapping[str, Any]) -> dict[str, Any]:
        # As many results as the synthetic artwork has, on the image route. Updating the
        # existing key keeps it where make_artwork put it.
        artwork_id = str(artwork["id"])
        return {**artwork, "results": self._images.urls(artwork_id, len(artwork["results"]))}

    def _item(self, index: int, now: float) -> bytes:
        item = self.cache.get(index)
        if item is None:
            item = orjson.dumps(self._served(index, now))
            if index not in self.jobs:
                self.cache[index] = item
        return item
