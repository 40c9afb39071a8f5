"""Table 1: items/s of one 500-item page, bytes to validated models, the SDK against its peers.

Two pages: ``selena`` only (1a), and a mix of the twelve documented kinds in equal shares (1b).
Every contender decodes the same bytes; pydantic and msgspec check the same rules (verified
before timing, on both pages), and orjson alone is the floor: decoding with no validation.
Table 1c sets the per-object path (``converter.structure(obj, Artwork)``, one decoded object
at a time, copied as it is read) beside the page path, on the same items.
"""

from __future__ import annotations

import copy
import gc
import json
import time
from collections.abc import Callable, Sequence, Sized
from typing import Any

import attrs
import orjson
import peers
from _stats import Target, format_rate, median, print_table

from tengrai_async import Artwork, ResponseValidationError, converter
from tengrai_async import _rules as R  # noqa: N812 - the SDK's rule table, as it names it
from tengrai_async._codegen import camel_case
from tengrai_async._converter import _structure_artwork
from tengrai_async._fields import NESTED, RULE
from tengrai_async._models import KINDS
from tengrai_async._readonly import thaw
from tengrai_async.testing import make_artworks

__all__ = ["MIXED", "PAGE", "run", "run_per_object", "verify"]

PAGE = 500
#: Distinct pages of the stream-like variant.
STREAM = 20
#: The mixed page: every documented kind, equally likely.
MIXED = tuple(KINDS)
SDK = "tengrai-async `converter.loads_page`"
ORJSON = "orjson.loads alone (the floor, no validation)"
STDLIB_JSON = "json.loads alone (the standard library, no validation)"
#: Contenders that only decode: nothing to verify against the rules.
DECODERS = (ORJSON, STDLIB_JSON)
PYDANTIC = "pydantic v2 `TypeAdapter(list[Artwork]).validate_json`"
MSGSPEC = "msgspec `json.Decoder(list[Artwork]).decode`"


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


@attrs.frozen
class Case:
    """One changed item: of kind *kind*, changed by *change*; *accepted* says what must happen."""

    kind: str
    what: str
    change: Callable[[dict[str, Any]], None]
    accepted: bool = False


def _set(**values: Any) -> Callable[[dict[str, Any]], None]:
    """Set parameters (``None``: remove the key)."""

    def change(item: dict[str, Any]) -> None:
        parameters = item["parameters"]
        for key, value in values.items():
            if value is None:
                parameters.pop(key, None)
            else:
                parameters[key] = value

    return change


def _item(**values: Any) -> Callable[[dict[str, Any]], None]:
    def change(item: dict[str, Any]) -> None:
        item.update(values)

    return change


def _points(*pairs: list[float]) -> dict[str, Any]:
    return {"points": list(pairs), "labels": [1] * len(pairs)}


_SIDE = 1328  # sqrt of the raised (highResolution) cap
#: What every validating contender must refuse (or take): one rule of the spec each.
CASES: tuple[Case, ...] = (
    Case("selena", "creativity 6 (range 1..=5)", _set(creativity=6)),
    Case("selena", "creativity '3' (a string)", _set(creativity="3")),
    Case("selena", "width x height 2048 x 2048 (area rule)", _set(width=2048, height=2048)),
    Case("selena", "style 'cubism' (enum)", _set(style="cubism")),
    Case("selena", "style 'surreal' (hamilton's, not selena's)", _set(style="surreal")),
    Case("selena", "createdAt without offset (naive)", _item(createdAt="2026-01-01T00:00:00")),
    Case("selena", "id 'not-a-uuid'", _item(id="not-a-uuid")),
    Case("selena_variete", "processingMode 'sketch' (enum)", _set(processingMode="sketch")),
    Case("quantum", "width 1400 (512..=1360)", _set(width=1400)),
    Case("quantum", "aspectRatio '21:9' (not of the seven)", _set(aspectRatio="21:9")),
    Case("quantum", "style 'folktale' (quantum's own)", _set(style="folktale"), accepted=True),
    Case(
        "hamilton",
        f"{_SIDE} x {_SIDE}, highResolution false",
        _set(width=_SIDE, height=_SIDE, highResolution=False),
    ),
    Case(
        "hamilton",
        f"{_SIDE} x {_SIDE}, highResolution true (raised cap)",
        _set(width=_SIDE, height=_SIDE, highResolution=True),
        accepted=True,
    ),
    Case(
        "hamilton",
        "2048 x 2048, highResolution true",
        _set(width=2048, height=2048, highResolution=True),
    ),
    Case("photo_pilot", "imageGuidance 1.5 (one of 1, 2, 3)", _set(imageGuidance=1.5)),
    Case("photo_pilot", "imageGuidance true", _set(imageGuidance=True)),
    Case("photo_pilot", "imageGuidance 2.0 (a number)", _set(imageGuidance=2.0), accepted=True),
    Case(
        "photo_pilot",
        f"{_SIDE} x {_SIDE}, no highResolution",
        _set(width=_SIDE, height=_SIDE, highResolution=None),
    ),
    Case("face_refiner", "denoising 0 (range 1..=5)", _set(denoising=0)),
    Case("face_swap", "sourceImage 'not a uri'", _set(sourceImage="not a uri")),
    Case("upscaling_v2", "scaleFactor 9 (range 2..=8)", _set(scaleFactor=9)),
    Case("detailer_upscaler", "scaleFactor 3 (one of 1, 2, 4, 8)", _set(scaleFactor=3)),
    Case("detailer_upscaler", "scaleFactor true", _set(scaleFactor=True)),
    Case("remove_background", "imageFormat 'auto' (png or webp)", _set(imageFormat="auto")),
    Case("segmentation", "a point at x 1.5 (0..=1)", _set(pointsPositive=_points([0.5, 1.5]))),
    Case("segmentation", "a point of three numbers", _set(pointsNegative=_points([0.1] * 3))),
    Case("segmentation", "textConfidence 1.5 (<= 1)", _set(textConfidence=1.5)),
    Case("segmentation", "maskBlurSigma 0.05 (0.1..=100)", _set(maskBlurSigma=0.05)),
    Case(
        "segmentation",
        "maskKernelSize -5000 (no lower bound)",
        _set(maskKernelSize=-5000),
        accepted=True,
    ),
    Case("depth_map", "resolutionLowerLimit 1000 (multipleOf 64)", _set(resolutionLowerLimit=1000)),
    Case(
        "depth_map",
        "model 'mono_large' with useVersion3 false (V2 rule)",
        _set(useVersion3=False, model="mono_large"),
    ),
    Case(
        "depth_map",
        "model 'mono_large' with useVersion3 true",
        _set(useVersion3=True, model="mono_large"),
        accepted=True,
    ),
)


def _variant(items: list[dict[str, Any]], case: Case) -> bytes | None:
    """The page with one item of the case's kind changed (``None``: the page has none).

    The changed item is the first of its kind from the middle of the page on.
    """
    indexes = [i for i, item in enumerate(items) if item["artworkType"] == case.kind]
    if not indexes:
        return None
    index = next((i for i in indexes if i >= PAGE // 2), indexes[0])
    page = copy.deepcopy(items)
    case.change(page[index])
    return orjson.dumps(page)


def verify(items: list[dict[str, Any]], body: bytes) -> list[str]:
    """Check that every validating contender takes the page and refuses the same bad items."""
    variants = [(case, _variant(items, case)) for case in CASES]
    checked = [(case, body) for case, body in variants if body is not None]
    for name, decode in _contenders().items():
        accepted = decode(body)
        if len(accepted) != PAGE:
            msg = f"{name} accepted {len(accepted)} of {PAGE} valid items"
            raise AssertionError(msg)
        if name in DECODERS:
            continue
        for case, page in checked:
            try:
                took = len(decode(page)) == PAGE
            except (ResponseValidationError, ValueError):  # pydantic/msgspec errors are ValueErrors
                took = False
            if took != case.accepted:
                verb = "accepted" if took else "refused"
                msg = f"{name} {verb} a {case.kind} item with {case.what}: not the SDK's rules"
                raise AssertionError(msg)
    refused = [f"{c.kind} {c.what}" for c, _ in checked if not c.accepted]
    taken = [f"{c.kind} {c.what}" for c, _ in checked if c.accepted]
    note = (
        f"Verified before timing: each validating contender accepts all {PAGE} items, "
        f"refuses an item with {'; '.join(refused)}"
    )
    return [note + (f"; and accepts one with {'; '.join(taken)}." if taken else ".")]


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


_URI_KEYS: dict[str, frozenset[str]] = {
    kind: frozenset(
        camel_case(field.name)
        for field in attrs.fields(attrs.fields_dict(cls)["parameters"].metadata[NESTED])
        if isinstance(field.metadata.get(RULE), R.Uri)
    )
    for kind, cls in KINDS.items()
}


def _uris(items: list[dict[str, Any]]) -> int:
    """How many values of the page the SDK parses as URIs (yarl.URL)."""
    return sum(len(_URI_KEYS[item["artworkType"]] & item["parameters"].keys()) for item in items)


def _page(
    label: str, kinds: Sequence[str], *, quick: bool
) -> tuple[dict[str, float], dict[str, float]]:
    """Verify, then time, one page of *kinds*; print its table; return both rate dicts."""
    items = make_artworks(PAGE, seed=0, kinds=kinds)
    body = orjson.dumps(items)
    notes = verify(items, body)
    # A stream brings new values: distinct pages keep value caches (yarl's URL cache) honest.
    stream = [
        orjson.dumps(make_artworks(PAGE, seed=0, start=PAGE * n, kinds=kinds))
        for n in range(STREAM)
    ]
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
        f"{label}: bytes of a {PAGE}-item page ({len(body):,} bytes of make_artworks data, "
        f"{_uris(items)} URIs) to validated objects, median of {rounds} interleaved rounds "
        "(CPU time)",
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
    return one, many


PAGE_PATH = "page path: `converter.loads_page(body)` (bytes, decoded and structured)"
PAGE_DECODED = "page path from decoded JSON: `converter.structure_page(data)`"
PER_OBJECT = "per object: `converter.structure(obj, Artwork)`"
PER_OBJECT_TYPED = "per object: `converter.structure_artwork(obj)`"
DEEP_COPY_FIRST = "per object, the old way: a deep copy, then the page path's code"


def _per_object_contenders(body: bytes, items: list[Any]) -> dict[str, Callable[[], Sized]]:
    """What 1c times: each call handles the same PAGE items."""

    def structure() -> Sized:
        return [converter.structure(obj, Artwork) for obj in items]

    def structure_artwork() -> Sized:
        return [converter.structure_artwork(obj) for obj in items]

    def deep_copy_first() -> Sized:
        # What structure(obj, Artwork) did before it copied while reading: thaw, then keep.
        return [_structure_artwork(thaw(obj)) for obj in items]

    return {
        PAGE_PATH: lambda: converter.loads_page(body, offset=0, limit=PAGE),
        PAGE_DECODED: lambda: converter.structure_page(items, offset=0, limit=PAGE),
        PER_OBJECT: structure,
        PER_OBJECT_TYPED: structure_artwork,
        DEEP_COPY_FIRST: deep_copy_first,
    }


def _time_calls(call: Callable[[], Sized], repeats: int) -> float:
    """CPU seconds per call over *repeats* calls, the collector running as in real use."""
    gc.collect()
    started = time.process_time()
    for _ in range(repeats):
        call()
    return (time.process_time() - started) / repeats


def _per_object(kinds: Sequence[str], *, quick: bool) -> dict[str, float]:
    """Table 1c's rows for one page of *kinds*: items/s of each path, rounds interleaved."""
    items = make_artworks(PAGE, seed=0, kinds=kinds)
    body = orjson.dumps(items)
    contenders = _per_object_contenders(body, items)
    for name, call in contenders.items():
        count = len(call())
        if count != PAGE:
            msg = f"{name} structured {count} of {PAGE} items"
            raise AssertionError(msg)
    rounds = 5 if quick else 9
    seconds = 0.05 if quick else 0.3
    repeats = {}
    for name, call in contenders.items():
        _time_calls(call, 3)  # warm up
        repeats[name] = max(3, round(seconds / _time_calls(call, 3)))
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for index in range(rounds):
        for name in names[index % len(names) :] + names[: index % len(names)]:
            times[name].append(_time_calls(contenders[name], repeats[name]))
    return {name: PAGE / median(samples) for name, samples in times.items()}


def _per_object_table(*, quick: bool) -> dict[str, dict[str, float]]:
    """Print table 1c; return the items/s of each path, by page."""
    rates = {
        "selena": _per_object(["selena"], quick=quick),
        f"the {len(MIXED)} kinds": _per_object(MIXED, quick=quick),
    }
    rows = [
        (label, name, format_rate(rate), f"{1e6 / rate:.2f}", f"{rate / paths[PAGE_PATH]:.2f}")
        for label, paths in rates.items()
        for name, rate in paths.items()
    ]
    print_table(
        f"1c. Structuring one object at a time vs the page path: the same {PAGE} "
        f"make_artworks items (extras included), median of {5 if quick else 9} interleaved "
        "rounds (CPU time)",
        ("page", "path", "items/s", "µs/item", "this ÷ page path"),
        rows,
    )
    print(
        "Per object: each item is one decoded JSON object (what a webhook handler holds); the "
        "model keeps a read-only copy of it, made while it is read, so that changing the "
        "caller's dict afterwards changes nothing. The page path keeps the objects it decoded "
        "itself. The old way (deep copy first) is what structure(obj, Artwork) did before, "
        "here with today's plain-JSON copy (the read-only views' copy was slower still)."
    )
    return rates


def run_per_object(*, quick: bool) -> list[Target]:
    """Table 1c alone: ``python benchmarks/bench_structuring.py [--quick]``."""
    return [_per_object_target(_per_object_table(quick=quick))]


def run(*, quick: bool) -> list[Target]:
    """Time each contender on the same pages, interleaved round by round; print the tables."""
    selena, selena_many = _page("1a. Structuring, selena only", ["selena"], quick=quick)
    mixed, mixed_many = _page(
        f"1b. Structuring, the {len(MIXED)} kinds in equal shares", MIXED, quick=quick
    )
    per_object = _per_object_table(quick=quick)
    print(
        "Data: make_artworks(500, kinds=...) with its default extras (undocumented keys on the "
        "item and in parameters, which every contender must let through). Peers (peers.py, "
        "built from the SDK's rule table): one model per kind discriminated on artworkType "
        "(pydantic discriminated union, msgspec tagged structs), strict types, per-kind enums, "
        "Field(ge, le, multiple_of) / Meta(ge, le, multiple_of) ranges, the area caps and "
        "depth_map's V2 rule as a model validator / __post_init__, uuid.UUID, aware datetime, "
        "camelCase, documented defaults. URIs (webhook, imageUrl, ...) are text checked by one "
        "pattern, the same for all three (the SDK's URI_PATTERN). 'One page' decodes the same "
        f"bytes again and again; '{STREAM} pages cycled' feeds {STREAM} distinct pages in turn, "
        "as a listing would, so that no value cache can flatter anyone."
    )
    to_pydantic = selena[SDK] / selena[PYDANTIC]
    mixed_to_pydantic = mixed[SDK] / mixed[PYDANTIC]
    return [
        Target(
            "T1",
            "structuring, one selena page: SDK items/s / pydantic v2 items/s >= 0.8",
            f"{to_pydantic:.2f} (SDK/msgspec {selena[SDK] / selena[MSGSPEC]:.2f}, "
            f"SDK/orjson {selena[SDK] / selena[ORJSON]:.2f}, "
            f"orjson/json {selena[ORJSON] / selena[STDLIB_JSON]:.2f}; {STREAM} pages cycled: "
            f"SDK/pydantic {selena_many[SDK] / selena_many[PYDANTIC]:.2f})",
            to_pydantic >= 0.8,
        ),
        Target(
            "T1b",
            f"structuring, one page of the {len(MIXED)} kinds: SDK / pydantic v2 >= 0.8",
            f"{mixed_to_pydantic:.2f} (SDK/msgspec {mixed[SDK] / mixed[MSGSPEC]:.2f}; "
            f"{STREAM} pages cycled: SDK/pydantic "
            f"{mixed_many[SDK] / mixed_many[PYDANTIC]:.2f})",
            mixed_to_pydantic >= 0.8,
        ),
        _per_object_target(per_object),
    ]


def _per_object_target(rates: dict[str, dict[str, float]]) -> Target:
    ratios = {
        f"{label}, {name.split('`')[1].split('(')[0]}": paths[name] / paths[PAGE_PATH]
        for label, paths in rates.items()
        for name in (PER_OBJECT, PER_OBJECT_TYPED)
    }
    return Target(
        "T7",
        "structuring per object (structure(obj, Artwork), structure_artwork) >= 0.9x the "
        "page path's items/s",
        "; ".join(f"{name} {ratio:.2f}" for name, ratio in ratios.items()),
        min(ratios.values()) >= 0.9,  # the bound
    )


if __name__ == "__main__":
    import sys

    for target in run_per_object(quick="--quick" in sys.argv[1:]):
        print(f"{target.name}: {target.wants}: {target.measured} ({target.verdict})")
