"""Table 1: items/s of one 500-item page, bytes to validated models, the SDK against its peers.

Every contender decodes the same bytes; pydantic and msgspec check the same rules (verified
before timing), and orjson alone is the floor: decoding with no validation at all.
"""

from __future__ import annotations

import copy
import gc
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import peers
from _stats import Target, format_rate, median, print_table

from tengrai_async import ResponseValidationError, converter
from tengrai_async.testing import make_artworks

__all__ = ["run"]

PAGE = 500
#: Distinct pages of the stream-like variant.
STREAM = 20
SDK = "tengrai-async `converter.loads_page`"
ORJSON = "orjson.loads alone (the floor, no validation)"
STDLIB_JSON = "json.loads alone (the standard library, no validation)"
#: Contenders that only decode: nothing to verify against the rules.
DECODERS = (ORJSON, STDLIB_JSON)
PYDANTIC = "pydantic v2 `TypeAdapter(list[Artwork]).validate_json`"
MSGSPEC = "msgspec `json.Decoder(list[SelenaArtwork]).decode`"


def _contenders() -> dict[str, Callable[[bytes], Sequence[Any]]]:
    adapter = peers.pydantic_adapter()
    decoder = peers.msgspec_decoder()
    return {
        SDK: lambda body: converter.loads_page(body, offset=0, limit=PAGE).items,
        ORJSON: orjson.loads,
        STDLIB_JSON: json.loads,
        PYDANTIC: adapter.validate_json,
        MSGSPEC: decoder.decode,
    }


def _variant(items: list[dict[str, Any]], change: Callable[[dict[str, Any]], None]) -> bytes:
    bad = copy.deepcopy(items)
    change(bad[PAGE // 2])
    return orjson.dumps(bad)


def _set(**values: Any) -> Callable[[dict[str, Any]], None]:
    def change(item: dict[str, Any]) -> None:
        item["parameters"].update(values)

    return change


def verify(items: list[dict[str, Any]], body: bytes) -> list[str]:
    """Check that every validating contender takes the page and refuses the same bad items."""
    bad_pages = {
        "creativity 6 (range 1..=5)": _variant(items, _set(creativity=6)),
        "creativity '3' (a string)": _variant(items, _set(creativity="3")),
        "width x height 2048 x 2048 (area rule)": _variant(items, _set(width=2048, height=2048)),
        "style 'cubism' (enum)": _variant(items, _set(style="cubism")),
        "createdAt without offset (naive)": _variant(
            items, lambda item: item.update(createdAt="2026-01-01T00:00:00")
        ),
        "id 'not-a-uuid'": _variant(items, lambda item: item.update(id="not-a-uuid")),
    }
    notes = []
    for name, decode in _contenders().items():
        accepted = decode(body)
        if len(accepted) != PAGE:
            msg = f"{name} accepted {len(accepted)} of {PAGE} valid items"
            raise AssertionError(msg)
        if name in DECODERS:
            continue
        for what, bad in bad_pages.items():
            try:
                decode(bad)
            except (ResponseValidationError, ValueError):  # pydantic/msgspec errors are ValueErrors
                continue
            msg = f"{name} accepted an item with {what}: it does not check the same rules"
            raise AssertionError(msg)
    notes.append(
        f"Verified before timing: each validating contender accepts all {PAGE} items and rejects "
        f"an item with {', '.join(bad_pages)}."
    )
    return notes


def _sample(decode: Callable[[bytes], Any], bodies: Sequence[bytes], repeats: int) -> float:
    """CPU seconds per page over *repeats* calls, cycling through *bodies*.

    CPU time rather than wall time: on a shared machine, time spent descheduled is not ours.
    The collector runs as in real use.
    """
    count = len(bodies)
    gc.collect()
    started = time.process_time()
    for index in range(repeats):
        decode(bodies[index % count])
    return (time.process_time() - started) / repeats


def _rates(bodies: Sequence[bytes], *, rounds: int, sample_seconds: float) -> dict[str, float]:
    """Items/s of each contender: the median of interleaved rounds over the same bodies."""
    contenders = _contenders()
    repeats = {}
    for name, decode in contenders.items():
        # Warm up (allocator arenas, caches) for about one sample, then calibrate.
        per_call = _sample(decode, bodies, len(bodies))
        _sample(decode, bodies, max(len(bodies), round(sample_seconds / per_call)))
        per_call = _sample(decode, bodies, len(bodies))
        repeats[name] = max(len(bodies), round(sample_seconds / per_call))
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for index in range(rounds):
        # Rotate the order each round so no contender always runs first after a collection.
        for name in names[index % len(names) :] + names[: index % len(names)]:
            times[name].append(_sample(contenders[name], bodies, repeats[name]))
    return {name: PAGE / median(samples) for name, samples in times.items()}


def run(*, quick: bool) -> list[Target]:
    """Time each contender on the same page, interleaved round by round; print the table."""
    items = make_artworks(PAGE, seed=0)
    body = orjson.dumps(items)
    notes = verify(items, body)
    # A stream brings new values: distinct pages keep value caches (yarl's URL cache) honest.
    stream = [orjson.dumps(make_artworks(PAGE, seed=0, start=PAGE * n)) for n in range(STREAM)]
    for decode in _contenders().values():
        if any(len(decode(page)) != PAGE for page in stream):
            msg = "a contender refused a valid page"
            raise AssertionError(msg)
    rounds = 5 if quick else 9
    sample_seconds = 0.05 if quick else 0.3
    one = _rates([body], rounds=rounds, sample_seconds=sample_seconds)
    many = _rates(stream, rounds=rounds, sample_seconds=sample_seconds)
    rows = [
        (
            name,
            format_rate(one[name]),
            f"{1e6 / one[name]:.2f}",
            "1.00" if name == SDK else f"{one[SDK] / one[name]:.2f}",
            format_rate(many[name]),
            f"{1e6 / many[name]:.2f}",
            "1.00" if name == SDK else f"{many[SDK] / many[name]:.2f}",
        )
        for name in one
    ]
    print_table(
        f"1. Structuring: bytes of a {PAGE}-item page ({len(body):,} bytes of make_artworks data) "
        f"to validated objects, median of {rounds} interleaved rounds (CPU time)",
        (
            "contender",
            "one page: items/s",
            "µs/item",
            "SDK ÷ this",
            f"{STREAM} pages cycled: items/s",
            "µs/item",
            "SDK ÷ this",
        ),
        rows,
    )
    for note in notes:
        print(note)
    print(
        "Peers: strict types, enums, Field(ge, le) / Meta(ge, le) ranges, the width x height "
        "rule as a model validator / __post_init__, uuid.UUID, aware datetime, camelCase, "
        "documented defaults; pydantic discriminates on artworkType, msgspec checks it as the "
        "struct tag. The webhook is pydantic AnyUrl, msgspec a URI pattern, the SDK yarl.URL. "
        f"'One page' decodes the same bytes again and again (the brief's setting); '{STREAM} "
        f"pages cycled' feeds {STREAM} distinct pages in turn, as a listing would, so that "
        "yarl's URL cache (an lru_cache of 128 entries; one page has 120 webhooks) cannot "
        "flatter the SDK."
    )
    to_pydantic = one[SDK] / one[PYDANTIC]
    return [
        Target(
            "T1",
            "structuring, one page: SDK items/s / pydantic v2 items/s >= 0.8",
            f"{to_pydantic:.2f} (SDK/msgspec {one[SDK] / one[MSGSPEC]:.2f}, "
            f"SDK/orjson {one[SDK] / one[ORJSON]:.2f}, "
            f"orjson/json {one[ORJSON] / one[STDLIB_JSON]:.2f}; {STREAM} pages cycled: "
            f"SDK/pydantic {many[SDK] / many[PYDANTIC]:.2f})",
            to_pydantic >= 0.8,
        )
    ]
