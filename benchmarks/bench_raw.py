"""Table 5: what keeping each artwork's JSON (``artwork.raw``) costs: memory held, and speed
against an older install of the SDK.

``python benchmarks/bench_raw.py [--quick] [--against PYTHON]`` (``run.py --only raw`` runs it
too). It runs against whichever ``tengrai_async`` the interpreter imports:

- *Memory*: 100,000 artworks structured page by page (``converter.loads_page``) and held in a
  list, the decoded pages dropped, each figure from a fresh process: the RSS growth, the loop's
  CPU time and the collector's share of it in one; tracemalloc's traced bytes for the first
  10,000 (split by the file that allocated them) in another. Where the models have a ``_raw``
  slot, the traced bytes are taken again after emptying those slots: the difference is what
  keeping the JSON costs. Data: ``selena`` only without undocumented keys (which any version of
  the SDK reads), and the default mix with its extras.
- *Reading raw* (table 5c): a page through ``loads_page`` alone, and with every artwork's
  ``raw`` read once and twice, alternating in this process.
- *Speed* (with ``--against``): one 500-item ``selena`` page structured by this interpreter and
  by ``PYTHON`` (another venv, e.g. the previous release), the same bytes for both: each runs a
  worker process, and their samples alternate, so the ratio is taken side by side. Also, the
  default ``make_artworks(500)`` of the ``--against`` install, on both.

The data always comes from this interpreter's ``make_artworks`` (``kinds=["selena"],
extras=False``), so both sides read the same bytes; an older generator without ``kinds`` gives
its own (selena-only) data.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import orjson
from _stats import Target, median, print_table

__all__ = ["run"]

SCRIPT = Path(__file__).resolve()
PAGE = 500
MIB = 1024 * 1024


# --- data -------------------------------------------------------------------------------------


def _make(n: int, *, start: int = 0, selena_only: bool) -> list[dict[str, Any]]:
    """*n* artworks of this interpreter's generator: selena without extras, or its default."""
    from tengrai_async.testing import make_artworks  # noqa: PLC0415 - only where data is made

    if not selena_only:
        return make_artworks(n, start=start)
    try:
        return make_artworks(n, start=start, kinds=["selena"], extras=False)
    except TypeError:  # a generator from before the kinds: selena only, no extras
        return make_artworks(n, start=start)


def _write_pages(path: Path, count: int, *, selena_only: bool) -> None:
    """*count* artworks as JSON pages of 500, one page a line."""
    with path.open("wb") as file:
        for start in range(0, count, PAGE):
            page = _make(min(PAGE, count - start), start=start, selena_only=selena_only)
            file.write(orjson.dumps(page) + b"\n")


def _read_pages(path: Path) -> list[bytes]:
    with path.open("rb") as file:
        return [line.rstrip(b"\n") for line in file if line.strip()]


# --- memory (a fresh process per figure) ------------------------------------------------------


def _rss() -> int:
    import psutil  # noqa: PLC0415 - only the RSS mode needs it

    return int(psutil.Process().memory_info().rss)


def _empty_raw(artworks: Sequence[Any]) -> int:
    """Set the ``_raw`` slot of every model reachable from the artworks to ``None``.

    Returns how many models had one; an older SDK has no such slot: 0. An unknown kind keeps
    its JSON (it is nothing else).
    """
    import attrs  # noqa: PLC0415

    setters: dict[type, Any] = {}

    def setter(cls: type) -> Any:
        if cls not in setters:
            setters[cls] = next(
                (k.__dict__["_raw"].__set__ for k in cls.__mro__ if "_raw" in k.__dict__), None
            )
        return setters[cls]

    emptied = 0
    stack = [a for a in artworks if type(a).__name__ != "UnknownArtwork"]
    while stack:
        obj = stack.pop()
        set_raw = setter(type(obj))
        if set_raw is not None:
            set_raw(obj, None)
            emptied += 1
        stack.extend(
            value
            for field in attrs.fields(type(obj))
            if attrs.has(type(value := getattr(obj, field.name)))
        )
    return emptied


def _group(filename: str) -> str:
    """A short name for the file an allocation came from."""
    parts = Path(filename).parts
    if filename.startswith("<tengrai_async generated"):
        return "generated structure code (models, tuples, datetimes, UUIDs)"
    if "yarl" in parts:
        return "yarl (URLs)"
    if Path(filename).name == "_json.py":
        return "orjson.loads (the decoded JSON kept)"
    if "tengrai_async" in parts:
        return f"tengrai_async/{Path(filename).name}"
    return Path(filename).name


class _GcTimer:
    """CPU seconds spent in the cyclic garbage collector (gc.callbacks), and how many runs."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.runs = 0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started
            self.runs += 1


def measure_memory(path: Path, mode: str, limit: int) -> dict[str, Any]:
    """Structure the first *limit* artworks of *path*, page by page, and hold them.

    *mode* ``rss``: the RSS growth and the loop's CPU time (and the collector's share of it);
    ``tracemalloc``: the traced bytes, by allocating file, then again with the ``_raw`` slots
    emptied.
    """
    from tengrai_async import converter  # noqa: PLC0415 - after the data is read

    bodies = _read_pages(path)[: -(-limit // PAGE)]
    # One page first, dropped: the converter's generated code and the caches exist before.
    converter.loads_page(bodies[0])
    gc.collect()
    if mode == "tracemalloc":
        tracemalloc.start()
    timer = _GcTimer()
    gc.callbacks.append(timer)
    before = _rss()
    held: list[Any] = []
    started = time.process_time()
    for body in bodies:
        held.extend(converter.loads_page(body).items)
    cpu = time.process_time() - started
    gc.callbacks.remove(timer)
    gc.collect()
    result: dict[str, Any] = {
        "items": len(held),
        "cpu": cpu,
        "gc": timer.seconds,
        "gc_runs": timer.runs,
        "rss_growth": _rss() - before,
    }
    if mode == "tracemalloc":
        result["traced"] = tracemalloc.get_traced_memory()[0]
        groups: dict[str, int] = {}
        for stat in tracemalloc.take_snapshot().statistics("filename"):
            name = _group(stat.traceback[0].filename)
            groups[name] = groups.get(name, 0) + stat.size
        result["groups"] = groups
        result["raw_slots"] = _empty_raw(held)
        gc.collect()
        result["traced_without_raw"] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    return result


def _memory(python: str, path: Path, mode: str, limit: int) -> dict[str, Any]:
    output = subprocess.run(  # noqa: S603 - our own script
        [python, str(SCRIPT), "memory", str(path), mode, str(limit)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = orjson.loads(output)
    return result


# --- speed: one worker process per interpreter, samples alternating ---------------------------


def worker(stdin: IO[str], stdout: IO[str]) -> None:
    """Serve timing requests, one JSON line each: load a page, calibrate, sample, write data."""
    from tengrai_async import converter  # noqa: PLC0415 - the worker's own install

    bodies: dict[str, bytes] = {}

    def sample(body: bytes, repeats: int) -> float:
        gc.collect()
        started = time.process_time()
        for _ in range(repeats):
            converter.loads_page(body)
        return (time.process_time() - started) / repeats

    for line in stdin:
        request = orjson.loads(line)
        op = request["op"]
        if op == "load":
            body = bodies[request["name"]] = Path(request["path"]).read_bytes()
            reply: dict[str, Any] = {"items": len(converter.loads_page(body).items)}
        elif op == "calibrate":
            body = bodies[request["name"]]
            per_call = sample(body, 20)
            sample(body, max(20, round(request["seconds"] / per_call)))  # warm up
            reply = {"repeats": max(20, round(request["seconds"] / sample(body, 20)))}
        elif op == "sample":
            reply = {"seconds": sample(bodies[request["name"]], request["repeats"])}
        elif op == "write":  # this install's default make_artworks(500), as one page
            page = _make(PAGE, selena_only=False)
            Path(request["path"]).write_bytes(orjson.dumps(page))
            reply = {"items": len(page)}
        else:
            return
        stdout.write(orjson.dumps(reply).decode() + "\n")
        stdout.flush()


class _Worker:
    def __init__(self, python: str) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own script
            [python, str(SCRIPT), "worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **request: Any) -> dict[str, Any]:
        assert self.process.stdin is not None  # noqa: S101 - PIPE above
        assert self.process.stdout is not None  # noqa: S101
        self.process.stdin.write(orjson.dumps(request).decode() + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            msg = f"the worker {self.process.args!r} exited with {self.process.wait()}"
            raise RuntimeError(msg)
        reply: dict[str, Any] = orjson.loads(line)
        return reply

    def close(self) -> None:
        """Ask the worker to stop (an unknown op ends its loop) and wait for it."""
        assert self.process.stdin is not None  # noqa: S101 - PIPE above
        with contextlib.suppress(OSError):
            self.process.stdin.write('{"op": "quit"}\n')
            self.process.stdin.close()
        self.process.wait(timeout=30)


@contextlib.contextmanager
def _workers(pythons: Sequence[str]) -> Iterator[list[_Worker]]:
    workers = [_Worker(python) for python in pythons]
    try:
        yield workers
    finally:
        for one in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                one.close()
            if one.process.poll() is None:
                one.process.kill()


def _speed(
    pythons: Sequence[str], pages: dict[str, Path], *, rounds: int, seconds: float
) -> dict[tuple[str, str], list[float]]:
    """µs per page of each (interpreter, page): *rounds* samples each, alternating."""
    times: dict[tuple[str, str], list[float]] = {}
    with _workers(pythons) as workers:
        for one in workers:
            for name, path in pages.items():
                items = one.ask(op="load", name=name, path=str(path))["items"]
                if items != PAGE:
                    msg = f"{one.process.args[0]} structured {items} of {PAGE} items of {name}"
                    raise AssertionError(msg)
        repeats = {
            (index, name): workers[index].ask(op="calibrate", name=name, seconds=seconds)["repeats"]
            for index in range(len(workers))
            for name in pages
        }
        for round_ in range(rounds):
            for name in pages:
                order = list(range(len(workers)))
                if round_ % 2:
                    order.reverse()  # neither side always goes first
                for index in order:
                    reply = workers[index].ask(op="sample", name=name, repeats=repeats[index, name])
                    times.setdefault((pythons[index], name), []).append(reply["seconds"] * 1e6)
    return times


# --- the table --------------------------------------------------------------------------------


def _label(python: str) -> str:
    return "this interpreter" if python == sys.executable else python


def run(*, quick: bool, against: str | None = None, rounds: int | None = None) -> list[Target]:
    """Print the memory table (and, with *against*, the side-by-side speed table)."""
    count = 10_000 if quick else 100_000
    traced_count = min(count, 10_000)  # tracemalloc slows the loop ~15x: a sample will do
    pythons = [sys.executable, *([against] if against else [])]
    with tempfile.TemporaryDirectory(prefix="tengrai-bench-raw-") as tmp:
        selena, mixed = Path(tmp, "selena.jsonl"), Path(tmp, "default.jsonl")
        _write_pages(selena, count, selena_only=True)
        _write_pages(mixed, count, selena_only=False)
        sets = [(python, "selena, no extras", selena) for python in pythons]
        sets.append((sys.executable, "default mix, extras", mixed))
        rows = []
        details = []
        for python, label, path in sets:
            rss = _memory(python, path, "rss", count)
            traced = _memory(python, path, "tracemalloc", traced_count)
            sample = traced["items"]
            raw = traced["traced"] - traced["traced_without_raw"]
            rows.append(
                (
                    _label(python),
                    label,
                    f"{rss['items']:,}",
                    f"{rss['rss_growth'] / MIB:.1f}",
                    f"{rss['rss_growth'] / rss['items']:.0f}",
                    f"{traced['traced'] / sample:.0f}",
                    f"{raw / sample:.0f}" if traced["raw_slots"] else "no raw",
                    f"{rss['cpu'] / rss['items'] * 1e6:.2f}",
                    f"{rss['gc'] / rss['items'] * 1e6:.2f} ({rss['gc_runs']})",
                )
            )
            top = sorted(traced["groups"].items(), key=lambda kv: -kv[1])[:3]
            details.append(
                f"- {_label(python)}, {label}: "
                + ", ".join(f"{name} {size / sample:.0f} B" for name, size in top)
            )
        print_table(
            f"5. Memory held: {count:,} artworks structured page by page (loads_page) and kept "
            "in a list, each figure from a fresh process",
            (
                "interpreter",
                "data",
                "artworks",
                "RSS growth MiB",
                "RSS B/artwork",
                f"traced B/artwork ({traced_count // 1000}k)",
                "of which raw",
                "loop µs/artwork",
                "of which GC (runs)",
            ),
            rows,
        )
        print(
            "RSS growth and the loop's CPU time: a process without tracemalloc; GC: the time "
            "gc.callbacks saw the collector run during that loop, which grows with what is "
            f"held. traced: tracemalloc's bytes still allocated after the first {traced_count:,} "
            "artworks and a collection, in another process (the list of pointers included); "
            "raw: what emptying every model's _raw slot gives back (the decoded JSON the models "
            "keep). Where the traced bytes come from, by allocating file:"
        )
        print("\n".join(details))
        if against:
            _speed_table(pythons, Path(tmp), quick=quick, rounds=rounds)
    _reading_table(quick=quick)
    return []


def _reading_table(*, quick: bool) -> None:
    """Table 5c: a page through loads_page, then the same with every artwork's raw read.

    In this process, the two alternating: what reading ``raw`` costs the first time (the
    decoded objects are frozen then), and that the page path itself does not pay for it.
    """
    from tengrai_async import converter  # noqa: PLC0415 - this interpreter's install

    rounds = 5 if quick else 15
    rows = []
    for label, selena_only in (("selena, no extras", True), ("default mix, extras", False)):
        body = orjson.dumps(_make(PAGE, selena_only=selena_only))

        def page(body: bytes = body) -> object:
            return converter.loads_page(body)

        def page_and_raw(body: bytes = body) -> object:
            return [artwork.raw for artwork in converter.loads_page(body).items]

        def page_and_raw_twice(body: bytes = body) -> object:
            items = converter.loads_page(body).items
            return [artwork.raw for artwork in items] + [artwork.raw for artwork in items]

        calls = {"page": page, "raw read once": page_and_raw, "raw read twice": page_and_raw_twice}
        repeats = max(3, round((0.05 if quick else 0.3) / _per_call(page, 3)))
        times: dict[str, list[float]] = {name: [] for name in calls}
        for round_ in range(rounds):
            order = list(calls) if round_ % 2 else list(reversed(calls))
            for name in order:
                times[name].append(_per_call(calls[name], repeats) * 1e6 / PAGE)
        base = median(times["page"])
        rows.append(
            (
                label,
                f"{base:.2f}",
                *(f"{median(times[name]):.2f}" for name in list(calls)[1:]),
                f"{median(times['raw read once']) / base:.2f}",
            )
        )
    print_table(
        "5c. What reading raw costs: one 500-item page through loads_page, alone and with "
        f"every artwork's raw read, this interpreter, {rounds} alternating rounds (CPU time)",
        (
            "data",
            "page µs/artwork",
            "+ raw read once",
            "+ raw read twice",
            "once ÷ page",
        ),
        rows,
    )
    print(
        "The page path keeps each decoded object and freezes it (read-only dicts and lists) the "
        "first time raw is read; a second read returns the frozen object. An artwork whose raw "
        "is never read costs nothing for it."
    )


def _per_call(call: Any, repeats: int) -> float:
    gc.collect()
    started = time.process_time()
    for _ in range(repeats):
        call()
    return (time.process_time() - started) / repeats


def _speed_table(
    pythons: Sequence[str], tmp: Path, *, quick: bool, rounds: int | None = None
) -> None:
    selena = tmp / "selena-page.json"
    selena.write_bytes(orjson.dumps(_make(PAGE, selena_only=True)))
    pages = {"selena page, this generator": selena}
    own = tmp / "against-default-page.json"
    with _workers(pythons[1:]) as (other,):
        other.ask(op="write", path=str(own))
    pages["make_artworks(500) of --against"] = own
    rounds = rounds or (5 if quick else 15)
    times = _speed(pythons, pages, rounds=rounds, seconds=0.05 if quick else 0.3)
    rows = []
    for name in pages:
        this, that = (times[python, name] for python in pythons)
        # Each round's two samples ran back to back: their ratio is the side-by-side figure.
        ratios = sorted(a / b for a, b in zip(this, that, strict=True))
        rows.append(
            (
                name,
                f"{median(this):,.0f}",
                f"{median(that):,.0f}",
                f"{median(this) / median(that):.3f}",
                f"{median(ratios):.3f}",
                f"{ratios[len(ratios) // 4]:.3f} .. {ratios[-1 - len(ratios) // 4]:.3f}",
            )
        )
    print_table(
        f"5b. Speed: one 500-item page through converter.loads_page, this interpreter vs "
        f"{pythons[1]}, worker processes sampled alternately, {rounds} rounds (CPU time)",
        (
            "page",
            "this µs/page",
            "--against µs/page",
            "ratio of medians",
            "median of round ratios",
            "quartiles of round ratios",
        ),
        rows,
    )


def main(argv: Sequence[str]) -> int:
    """The command line: the table, or one of the helper modes."""
    if argv[:1] == ["worker"]:
        worker(sys.stdin, sys.stdout)
        return 0
    if argv[:1] == ["memory"]:
        result = measure_memory(Path(argv[1]), argv[2], int(argv[3]))
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
        return 0
    parser = argparse.ArgumentParser(prog="python benchmarks/bench_raw.py", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 artworks, short samples")
    parser.add_argument("--against", help="another interpreter (venv) to compare speed with")
    parser.add_argument("--rounds", type=int, help="speed rounds (default 15, --quick 5)")
    args = parser.parse_args(argv)
    run(quick=args.quick, against=args.against, rounds=args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
