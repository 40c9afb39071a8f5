"""The ordered window-prefetch iterator behind ``client.artworks.iterate()``.

The API gives no total, so the iterator guesses: it keeps up to ``prefetch`` consecutive offset
windows in flight, yields strictly in offset order, and stops at the first short page. A server
that ignores ``offset`` never sends a short page, so the iterator also watches for windows that
merely repeat the one before them (see :data:`STALLED_WINDOWS`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as _dt
import uuid
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import Any, Final, Literal, TypeVar

import attrs

from . import _rules
from ._converter import converter
from ._enums import ArtworkStatus, ArtworkType
from ._errors import InvalidArgumentError, ResponseValidationError, StalledListingError
from ._models import Artwork, ArtworkPage
from ._retry import Cooldown
from ._sansio import bad_argument
from ._transport import Transport

__all__ = ["STALLED_WINDOWS", "ArtworkIterator", "IterationStats"]

OnInvalid = Literal["raise", "skip"]
T = TypeVar("T")
#: How many of the most recent ids are remembered to drop duplicates (bounded memory).
DEFAULT_DEDUPE_WINDOW: Final = 100_000
#: How many consecutive *repeated* windows end an iteration with :class:`StalledListingError`.
#:
#: A window repeats the one before it when both are full and hold the same items in the same
#: order: item for item, the same ``id`` (an item without a string ``id`` is compared whole).
#: Such a window brings no new artwork, and neither will the next: the server (or a cache in
#: front of it) ignores ``offset``. Windows whose items were all seen before but that do not
#: repeat their predecessor do not count: artworks created during the listing push the
#: listing back, and a burst of ``n`` windows' worth of them makes about ``n`` consecutive
#: windows of nothing but seen items, each a different stretch of the listing, before it
#: moves on. Only ``page_size`` new artworks before *every* request, exactly, repeat windows
#: the way an ignored ``offset`` does; the listing then makes no progress either.
STALLED_WINDOWS: Final = 3


@attrs.define(kw_only=True)
class IterationStats:
    """Counters of one iteration; they add up: every item received is yielded or accounted for.

    Attributes:
        requests: HTTP requests sent, retries and cancelled look-ahead requests included.
        retries: Requests that were retries of an earlier failed attempt.
        pages: Pages received and consumed in order.
        items_received: Items in the consumed pages, invalid ones included.
        items_yielded: Artworks handed to the caller.
        filtered_out: Artworks dropped by a filter.
        duplicates_dropped: Artworks dropped because their id was already yielded.
        invalid_skipped: Items skipped because they broke a rule (``on_invalid="skip"``).
    """

    requests: int = 0
    retries: int = 0
    pages: int = 0
    items_received: int = 0
    items_yielded: int = 0
    filtered_out: int = 0
    duplicates_dropped: int = 0
    invalid_skipped: int = 0


def _aware(name: str, value: _dt.datetime | None) -> _dt.datetime | None:
    candidate: object = value  # callers without a type checker may pass anything
    if candidate is not None and (
        not isinstance(candidate, _dt.datetime) or candidate.utcoffset() is None
    ):
        raise bad_argument(name, value, "a timezone-aware datetime", types=(_dt.datetime,))
    return value


def _id_key(value: uuid.UUID | str) -> int | str:
    """The dedupe key of an id: its 128-bit number when it is a UUID, else the text.

    An ``int`` hashes in C, where ``uuid.UUID.__hash__`` is a Python call: this runs per item.
    """
    if isinstance(value, uuid.UUID):
        return value.int
    try:
        return uuid.UUID(value).int
    except (ValueError, TypeError, AttributeError):
        return value


def _artwork_key(artwork: Artwork) -> int | str | None:
    """The dedupe key of an artwork whose ``id`` is not a UUID (an unknown kind's odd id)."""
    raw_id = artwork.raw.get("id")
    return raw_id if isinstance(raw_id, str) else None


def _item_key(item: Any) -> Any:
    """What identifies a raw listing item when windows are compared: its ``id``, else itself.

    The ``id`` rather than the whole item: a running job changes its status between two
    requests, yet it is the same artwork.
    """
    if type(item) is dict:
        item_id = item.get("id")
        if isinstance(item_id, str):
            return item_id
    return item


def _same_items(previous: list[Any], current: list[Any]) -> bool:
    """Whether two windows hold the same items in the same order (see ``STALLED_WINDOWS``)."""
    # Usually the first items differ already, so this costs next to nothing per window.
    return len(previous) == len(current) and all(
        _item_key(a) == _item_key(b) for a, b in zip(previous, current, strict=True)
    )


def _as_list(value: Iterable[Any], name: str) -> list[Any]:
    try:
        return list(value)
    except TypeError:
        raise bad_argument(name, value, "one value or an iterable of values", types=()) from None


def _type_values(value: ArtworkType | str | Iterable[ArtworkType | str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = [value] if isinstance(value, str) else _as_list(value, "artwork_type")
    if not all(isinstance(item, str) for item in items):
        raise bad_argument("artwork_type", value, "a type name or several", types=())
    if not items:
        raise InvalidArgumentError("artwork_type", value, "a type name or several")
    # Plain strings are allowed beyond the enum: kinds newer than this SDK can be filtered too.
    return frozenset(str(item) for item in items)


def _status_values(
    value: ArtworkStatus | str | Iterable[ArtworkStatus | str] | None,
) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = [value] if isinstance(value, str) else _as_list(value, "status")
    known = _rules.STATUS
    for item in items:
        candidate: object = item  # callers without a type checker may pass anything
        if not isinstance(candidate, str) or candidate not in known.by_value:
            raise bad_argument("status", item, f"{known.expected} (or several)", types=(str,))
    if not items:
        raise InvalidArgumentError("status", value, "one status or several")
    return frozenset(str(item) for item in items)


class ArtworkIterator:
    """Every artwork of a listing, in order, fetched ``prefetch`` windows ahead.

    Use it with ``async for``; wrap it in ``async with`` to cancel the look-ahead requests the
    moment you stop early. :meth:`pages` yields whole (filtered) pages instead of items.

    Attributes:
        stats: The counters of this iteration (:class:`IterationStats`).
        invalid: The :class:`ResponseValidationError` of every item skipped as invalid.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        offset: int = 0,
        page_size: int = 500,
        prefetch: int = 4,
        max_items: int | None = None,
        artwork_type: ArtworkType | str | Iterable[ArtworkType | str] | None = None,
        status: ArtworkStatus | str | Iterable[ArtworkStatus | str] | None = None,
        created_after: _dt.datetime | None = None,
        created_before: _dt.datetime | None = None,
        on_invalid: OnInvalid = "raise",
        dedupe_window: int = DEFAULT_DEDUPE_WINDOW,
        seen_ids: Iterable[uuid.UUID | str] = (),
        newest_first: bool = True,
    ) -> None:
        if not _rules.OFFSET.accepts(offset):
            raise bad_argument("offset", offset, _rules.OFFSET.expected, types=(int,))
        if not _rules.LIMIT.accepts(page_size):
            raise bad_argument("page_size", page_size, _rules.LIMIT.expected, types=(int,))
        if type(prefetch) is not int or prefetch < 1:
            raise bad_argument("prefetch", prefetch, "an integer >= 1", types=(int,))
        if max_items is not None and (type(max_items) is not int or max_items < 0):
            raise bad_argument(
                "max_items", max_items, "None or an integer >= 0", types=(int, type(None))
            )
        if on_invalid not in ("raise", "skip"):
            raise bad_argument("on_invalid", on_invalid, "'raise' or 'skip'", types=(str,))
        if type(dedupe_window) is not int or dedupe_window < 0:
            raise bad_argument("dedupe_window", dedupe_window, "an integer >= 0", types=(int,))
        self._transport = transport
        self._start = offset
        self._page_size = page_size
        self._prefetch = prefetch
        self._max_items = max_items
        self._types = _type_values(artwork_type)
        self._statuses = _status_values(status)
        self._after = _aware("created_after", created_after)
        self._before = _aware("created_before", created_before)
        self._skip_invalid = on_invalid == "skip"
        self._dedupe_window = dedupe_window
        self._filtering = bool(self._types or self._statuses or self._after or self._before)
        if newest_first is not True and newest_first is not False:
            raise bad_argument("newest_first", newest_first, "True or False", types=(bool,))
        # The listing is newest first: the first artwork older than created_after ends it.
        self._stop_before = self._after if newest_first else None
        self._past_bound = False
        self._seen: set[Any] = set()
        self._seen_order: collections.deque[Any] = collections.deque()
        for seen in seen_ids:
            self._remember(_id_key(seen))
        self._cooldown = Cooldown(transport.clock)
        self._windows: collections.deque[tuple[int, int, asyncio.Task[Any]]] = collections.deque()
        self._started = False
        self._items_gen: AsyncGenerator[Artwork, None] | None = None
        # The live item and page streams, held weakly (see __aiter__), by kind.
        self._streams: dict[str, weakref.ref[AsyncGenerator[Any, None]]] = {}
        self._page: ArtworkPage | None = None
        self.stats = IterationStats()
        self.invalid: list[ResponseValidationError] = []
        self._next_offset = offset
        # The last full window taken from the queue (its offset and decoded body, kept whole
        # so that the usual comparison stops at the first item), and the offsets of the
        # consecutive windows that merely repeated it (see STALLED_WINDOWS).
        self._last_window: tuple[int, list[Any]] | None = None
        self._repeats: list[int] = []

    @property
    def next_offset(self) -> int:
        """The offset a later run resumes from: just past the last item handed out."""
        return self._next_offset

    def __repr__(self) -> str:
        return (
            f"<ArtworkIterator next_offset={self._next_offset} page_size={self._page_size} "
            f"prefetch={self._prefetch} yielded={self.stats.items_yielded}>"
        )

    # --- the async-iterator and context-manager protocols ---------------------------------

    def __aiter__(self) -> AsyncIterator[Artwork]:
        # The iterator holds its item generator only weakly: when an ``async for`` is left by
        # ``break``, the generator is freed at once and asyncio closes it, which cancels the
        # look-ahead requests even without ``async with``.
        return self._stream("items", self._items)

    async def __anext__(self) -> Artwork:
        if self._items_gen is None:  # anext(it) without async for: the iterator holds it
            self._items_gen = self._stream("items", self._items)
        return await self._items_gen.__anext__()

    async def __aenter__(self) -> ArtworkIterator:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop: cancel every request in flight and wait until they are gone. Idempotent."""
        for ref in list(self._streams.values()):
            if (gen := ref()) is not None:
                await gen.aclose()
        await self._cancel_windows()

    def pages(self) -> AsyncIterator[ArtworkPage]:
        """Yield the listing page by page, each filtered and de-duplicated like the items.

        A page may come out with fewer items than it had (or none) after filtering; its
        ``offset``, ``count`` and ``next_offset`` still describe the window the server sent.
        An iterator is consumed once: by items or by pages, not both.
        """
        return self._stream("pages", self._pages)

    def _stream(
        self, kind: str, make: Callable[[], AsyncGenerator[T, None]]
    ) -> AsyncGenerator[T, None]:
        """The live generator of *kind*, or a new one: a stream in progress is continued."""
        ref = self._streams.get(kind)
        gen: AsyncGenerator[T, None] | None = ref() if ref is not None else None
        if gen is None:
            gen = make()
            self._streams[kind] = weakref.ref(gen)
        return gen

    # --- the engine ------------------------------------------------------------------------

    async def _items(self) -> AsyncGenerator[Artwork, None]:
        async with contextlib.aclosing(self._kept()) as pages:
            async for kept, end in pages:
                for position, artwork in kept:
                    # Counted when handed out: next_offset is exact even if the caller stops.
                    self.stats.items_yielded += 1
                    self._next_offset = position + 1
                    yield artwork
                self._next_offset = end

    async def _pages(self) -> AsyncGenerator[ArtworkPage, None]:
        async with contextlib.aclosing(self._kept()) as pages:
            async for kept, end in pages:
                self.stats.items_yielded += len(kept)
                self._next_offset = end
                yield self._current_page(kept)

    async def _kept(self) -> AsyncGenerator[tuple[list[tuple[int, Artwork]], int], None]:
        """The items to hand out, page by page, with their absolute offsets and the page end."""
        if self._started:
            raise RuntimeError("an ArtworkIterator can be iterated only once")
        self._started = True
        try:
            async for page in self._raw_pages():
                self._page = page
                kept, end = self._keep(page)
                yield kept, end
                if self._budget() == 0 or self._past_bound:
                    return
        finally:
            await self._cancel_windows()

    def _current_page(self, kept: list[tuple[int, Artwork]]) -> ArtworkPage:
        page = self._page
        assert page is not None  # noqa: S101 - set just before the page's items are kept
        if len(kept) == len(page.items):  # kept is a subsequence: nothing was dropped
            return page
        return attrs.evolve(page, items=tuple(artwork for _, artwork in kept))

    def _budget(self) -> int | None:
        """How many more items the caller wants (``None``: no limit)."""
        if self._max_items is None:
            return None
        return max(0, self._max_items - self.stats.items_yielded)

    def _keep(self, page: ArtworkPage) -> tuple[list[tuple[int, Artwork]], int]:
        """Apply filters, dedupe and ``max_items`` to one page; count everything considered.

        Returns the kept ``(offset, artwork)`` pairs and the offset just past the last item
        considered: the page's end, or earlier when ``max_items`` cut the page short.
        """
        stats = self.stats
        budget = self._budget()
        invalid_offsets = {error.offset for error in page.invalid}
        positions: Iterable[int] = range(page.offset, page.next_offset)
        if invalid_offsets:
            positions = [p for p in positions if p not in invalid_offsets]
        kept: list[tuple[int, Artwork]] = []
        end = page.next_offset
        filtering = self._filtering
        stop_before = self._stop_before
        # The dedupe set, inlined: this loop runs once per artwork of the listing.
        seen, order, window = self._seen, self._seen_order, self._dedupe_window
        for position, artwork in zip(positions, page.items, strict=True):
            if budget is not None and len(kept) >= budget:
                end = position  # the rest of the page is left for a later run
                break
            if stop_before is not None:
                created = artwork.created_at
                if created is not None and created < stop_before:
                    end = position  # everything from here on is older: the listing ends
                    self._past_bound = True
                    break
            if filtering and not self._matches(artwork):
                stats.filtered_out += 1
                continue
            if window:
                key = artwork.id.int if artwork.id is not None else _artwork_key(artwork)
                if key is not None:
                    if key in seen:
                        stats.duplicates_dropped += 1
                        continue
                    seen.add(key)
                    order.append(key)
                    if len(order) > window:
                        seen.discard(order.popleft())
            kept.append((position, artwork))
        invalid = [error for error in page.invalid if (error.offset or 0) < end]
        self.invalid.extend(invalid)
        stats.invalid_skipped += len(invalid)
        stats.pages += 1
        stats.items_received += end - page.offset
        return kept, end

    def _matches(self, artwork: Artwork) -> bool:
        created = artwork.created_at
        if self._types and artwork.artwork_type not in self._types:
            return False
        if self._statuses and artwork.status not in self._statuses:
            return False
        if self._after is not None and (created is None or created < self._after):
            return False
        return not (self._before is not None and (created is None or created >= self._before))

    def _remember(self, key: Any) -> None:
        self._seen.add(key)
        self._seen_order.append(key)
        if len(self._seen_order) > self._dedupe_window:
            self._seen.discard(self._seen_order.popleft())

    async def _raw_pages(self) -> AsyncGenerator[ArtworkPage, None]:
        windows = self._windows
        next_window = self._start
        while True:
            while len(windows) < self._prefetch:
                limit = self._window_limit()
                if limit == 0:
                    break
                # Windows only fetch and decode; each is structured when its turn comes, so
                # that answers arriving together do not hold back the refill requests.
                task = asyncio.ensure_future(
                    self._transport.get_window(
                        offset=next_window,
                        limit=limit,
                        cooldown=self._cooldown,
                        counter=self.stats,
                    )
                )
                windows.append((next_window, limit, task))
                next_window += limit
            if not windows:
                return
            offset, limit, task = windows[0]
            data = await task
            windows.popleft()
            self._check_stalled(offset, limit, data)
            page = converter.structure_page(
                data, offset=offset, limit=limit, skip_invalid=self._skip_invalid
            )
            yield page
            if not page.has_more:
                return

    def _check_stalled(self, offset: int, limit: int, data: Any) -> None:
        """Count a full window that repeats the one before it; raise at STALLED_WINDOWS."""
        previous = self._last_window
        full = type(data) is list and len(data) >= limit
        if previous is None or not full or not _same_items(previous[1], data):
            self._last_window = (offset, data) if full else None
            self._repeats.clear()
            return
        self._repeats.append(offset)
        if len(self._repeats) < STALLED_WINDOWS:
            return
        offsets = tuple(self._repeats)
        raise StalledListingError(
            f"the windows at offsets {', '.join(map(str, offsets))} repeated the artworks of "
            f"the window at offset {previous[0]}: the server seems to ignore offset, so the "
            "listing would never end",
            offsets,
        )

    def _window_limit(self) -> int:
        """The limit of the next window to request, or 0 when no further window can be needed."""
        budget = self._budget()
        if budget is None:
            return self._page_size
        remaining = budget - sum(limit for _, limit, _ in self._windows)
        if remaining <= 0:
            return 0
        # With a filter, items may be dropped, so full windows are the better bet.
        return self._page_size if self._filtering else min(self._page_size, remaining)

    async def _cancel_windows(self) -> None:
        windows = self._windows
        tasks = [task for _, _, task in windows]
        windows.clear()
        for task in tasks:
            task.cancel()
        # Wait for the cancellations, and fetch errors of discarded look-aheads so none is
        # reported as "never retrieved".
        await asyncio.gather(*tasks, return_exceptions=True)
