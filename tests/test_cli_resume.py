from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from _cli_helpers import KEY, fail_after, serve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tengrai_async.cli import main
from tengrai_async.cli._arguments import UsageError
from tengrai_async.cli._checkpoint import QUERY_KEYS, QUERY_OPTIONS
from tengrai_async.cli._export_plan import ExportOptions, plan
from tengrai_async.testing import FakeTengrAI, make_artworks

COUNT = 1000
# One request at a time and no retries: the first injected fault stops the export.
FRAGILE = ["--page-size", "100", "--prefetch", "1", "--max-retries", "0"]


@contextlib.contextmanager
def serve_slowly(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Iterator[FakeTengrAI]:
    """The shared `serve`, with COUNT artworks unless given others and a little latency."""
    if "artworks" not in kwargs:
        kwargs.setdefault("count", COUNT)
    with serve(monkeypatch, latency=0.005, **kwargs) as server:
        yield server


def checkpoint_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(out.with_name(out.name + ".checkpoint.json").read_bytes())
    return data


def part_of(out: Path) -> Path:
    return out.with_name(out.name + ".part")


def interrupt(server: FakeTengrAI, out: Path, *args: str, after: int = 3) -> dict[str, Any]:
    """Run an export that fails after some pages; check what it leaves behind."""
    watcher = fail_after(server, after)
    assert main(["export", "-o", str(out), *FRAGILE, *args]) == 1
    watcher.join(timeout=1)
    assert not watcher.is_alive()
    checkpoint = checkpoint_of(out)
    assert 0 < checkpoint["items"] < COUNT
    assert part_of(out).stat().st_size == checkpoint["part_bytes"]
    assert not out.exists()
    return checkpoint


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_failed_export_resumes_to_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, suffix: str
) -> None:
    with serve_slowly(monkeypatch) as server:
        reference = tmp_path / f"reference{suffix}"
        assert main(["export", "-o", str(reference), "--page-size", "100"]) == 0
        out = tmp_path / f"out{suffix}"
        checkpoint = interrupt(server, out)
        assert checkpoint["version"] == 1
        assert checkpoint["query"]["format"] == suffix[1:]
        assert checkpoint["next_offset"] == checkpoint["items"]
        assert checkpoint["recent_ids"][-1] == server.ids()[checkpoint["items"] - 1]
        assert main(["export", "-o", str(out), *FRAGILE, "--resume"]) == 0
    assert out.read_bytes() == reference.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, reference.name])


def test_resume_drops_a_half_written_tail(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with serve_slowly(monkeypatch) as server:
        out = tmp_path / "out.jsonl"
        interrupt(server, out)
        with part_of(out).open("ab") as part:
            part.write(b'{"id": "half a li')
        assert main(["export", "-o", str(out), "--page-size", "100", "--resume"]) == 0
    assert [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()] == server.ids()


def test_a_checkpoint_is_not_overwritten_without_resume_or_force(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_slowly(monkeypatch) as server:
        out = tmp_path / "out.jsonl"
        interrupt(server, out)
        before = part_of(out).read_bytes()
        capsys.readouterr()
        assert main(["export", "-o", str(out), *FRAGILE]) == 2
        err = capsys.readouterr().err
        assert "--resume" in err
        assert "--force" in err
        assert part_of(out).read_bytes() == before
        assert main(["export", "-o", str(out), "--page-size", "100", "--force"]) == 0
    assert len(out.read_bytes().splitlines()) == COUNT
    assert not part_of(out).exists()


@pytest.mark.parametrize(
    ("change", "difference"),
    [
        (["--status", "failed"], "no --status where this command asks for --status failed"),
        (["--format", "csv"], "--format jsonl where this command asks for --format csv"),
        (["--page-size", "50"], "--page-size 100 where this command asks for --page-size 50"),
        (["--max-items", "9"], "no --max-items where this command asks for --max-items 9"),
        (["--scan-all"], "no --scan-all where this command asks for --scan-all"),
        (["--demo", "1000"], "no --demo where this command asks for --demo 1000"),
    ],
)
def test_resume_must_ask_for_the_same_export(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: list[str],
    difference: str,
) -> None:
    with serve_slowly(monkeypatch) as server:
        out = tmp_path / "out.jsonl"
        interrupt(server, out)
        capsys.readouterr()
        assert main(["export", "-o", str(out), *FRAGILE, "--resume", *change]) == 2
    err = capsys.readouterr().err
    assert "same export" in err
    assert f"which ran with {difference}: leave that option out" in err
    assert_sentence(err)


def assert_sentence(err: str) -> None:
    """No Python repr of a dict, list or string, and one line."""
    assert not re.search(r"[{\[]'|'[}\]]|: '|\bNone\b|\bTrue\b|\bFalse\b", err), err
    assert err.count("\n") == 1


def test_resume_takes_the_query_from_the_checkpoint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asked = ["--format", "csv", "--status", "succeeded", "--type", "selena", "--type", "hamilton"]
    asked += ["--until", "2026-11-01T12:00+01:00", "--max-items", "150", "--page-size", "50"]
    with serve_slowly(monkeypatch) as server:
        reference = tmp_path / "reference"
        assert main(["export", "-q", "-o", str(reference), *asked]) == 0
        out = tmp_path / "out"
        watcher = fail_after(server, 3)
        fragile = ["--prefetch", "1", "--max-retries", "0"]
        assert main(["export", "-q", "-o", str(out), *fragile, *asked]) == 1
        watcher.join(timeout=1)
        assert 0 < checkpoint_of(out)["items"] < 150
        # One option given again (it agrees); the rest are taken from the checkpoint.
        assert main(["export", "-q", "-o", str(out), "--resume", "--type", "selena"]) == 2
        assert main(["export", "-q", "-o", str(out), "--resume", "--status", "succeeded"]) == 0
    assert out.read_bytes() == reference.read_bytes()
    assert reference.read_bytes().startswith(b"id,artworkType,")
    assert len(reference.read_bytes().splitlines()) == 151  # the header, and --max-items rows


def test_resume_of_a_demo_export_needs_neither_demo_nor_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TENGRAI_API_KEY", raising=False)
    out = tmp_path / "out.jsonl"
    part_of(out).write_bytes(PART)
    demo = {"count": COUNT, "seed": 0}  # the demo data is make_artworks(COUNT)
    checkpoint_path(out).write_bytes(changed(query={**VALID["query"], "demo": demo}))
    assert main(["export", "-o", str(out), "--resume", "--base-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "the interrupted export read the built-in demo API (--demo 1000)" in err
    assert "drop --base-url" in err
    assert_sentence(err)
    assert main(["export", "-q", "-o", str(out), "--resume"]) == 0
    ids = [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()]
    assert ids == [a["id"] for a in make_artworks(COUNT)]


def test_a_resume_that_disagrees_in_several_options_names_each(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TENGRAI_API_KEY", raising=False)
    out = tmp_path / "out.jsonl"
    part_of(out).write_bytes(PART)
    query = {
        **VALID["query"],
        "demo": {"count": 300000, "seed": 0},
        "types": ["hamilton", "selena"],
        "since": "2026-01-31T00:00:00+00:00",
    }
    checkpoint_path(out).write_bytes(changed(query=query))
    args = ["--demo", "5", "--type", "selena", "--since", "2026-01-31T01:00+01:00"]
    assert main(["export", "-o", str(out), "--resume", *args, "--page-size", "100"]) == 2
    err = capsys.readouterr().err
    assert_sentence(err)
    assert (
        "which ran with --type hamilton --type selena where this command asks for "
        "--type selena, and with --demo 300000 where this command asks for --demo 5: "
        "leave those options out to take them from the checkpoint, or use --force"
    ) in err
    assert "--since" not in err  # the same moment, written another way


def test_the_query_keys_are_the_checkpoint_keys_and_each_names_its_option() -> None:
    assert tuple(ExportOptions().query()) == QUERY_KEYS == tuple(QUERY_OPTIONS)


def test_resume_needs_a_checkpoint_and_its_part_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    monkeypatch.setenv("TENGRAI_API_KEY", KEY)
    assert main(["export", "-o", str(out), "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    with serve_slowly(monkeypatch) as server:
        interrupt(server, out)
    part_of(out).write_bytes(b"")
    assert main(["export", "-o", str(out), *FRAGILE, "--resume"]) == 2
    assert "fewer than" in capsys.readouterr().err
    part_of(out).unlink()
    assert main(["export", "-o", str(out), *FRAGILE, "--resume"]) == 2
    assert "is missing" in capsys.readouterr().err


# --- the checkpoint is trusted for nothing -------------------------------------------------

# A checkpoint and .part as an export with RESUME's options leaves them after SYNTHETIC items.
SYNTHETIC = 300
RESUME = ["--page-size", "100", "--resume"]
WRITTEN = make_artworks(COUNT)[:SYNTHETIC]
PART = b"".join(orjson.dumps(a, option=orjson.OPT_APPEND_NEWLINE) for a in WRITTEN)
VALID: dict[str, Any] = {
    "version": 1,
    "query": ExportOptions(page_size=100).query(),
    "next_offset": SYNTHETIC,
    "part_bytes": len(PART),
    "items": SYNTHETIC,
    "rejects": 0,
    "rejects_bytes": 0,
    "recent_ids": [a["id"] for a in WRITTEN[-200:]],  # the last two pages
}
COUNTERS = ("next_offset", "part_bytes", "items", "rejects", "rejects_bytes")
MAX_COUNT = 2**53 - 1
NOT_COUNTS: tuple[Any, ...] = (-1, -(2**63), 1.5, 300.0, "3", True, None, [], {}, MAX_COUNT + 1)


def query(**changes: Any) -> bytes:
    return changed(query={**VALID["query"], **changes})


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def checkpoint_path(out: Path) -> Path:
    return out.with_name(out.name + ".checkpoint.json")


def changed(**changes: Any) -> bytes:
    return orjson.dumps({**VALID, **changes})


def flawed(key: str, value: Any) -> bytes:
    return changed(**{key: value})


def without(key: str) -> bytes:
    return orjson.dumps({k: v for k, v in VALID.items() if k != key})


def test_the_synthetic_checkpoint_resumes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The control for the tests below: unchanged, VALID and PART are taken up where they stop.
    out = tmp_path / "out.jsonl"
    part_of(out).write_bytes(PART)
    checkpoint_path(out).write_bytes(orjson.dumps(VALID))
    with serve_slowly(monkeypatch) as server:
        assert main(["export", "-q", "-o", str(out), *RESUME]) == 0
        assert [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()] == server.ids()
        assert {int(r.query["offset"]) for r in server.requests} >= {SYNTHETIC}


def refuse(
    out: Path, content: bytes | None, capsys: pytest.CaptureFixture[str], *, way: str = "--force"
) -> str:
    """Resume with *content* as the checkpoint: refused, before any request, with the way out."""
    if not part_of(out).exists():
        part_of(out).write_bytes(PART)
    if content is not None:
        checkpoint_path(out).write_bytes(content)
    capsys.readouterr()
    # No TENGRAI_API_KEY: a checkpoint let through would stop at "no API key", not here.
    assert main(["export", "-o", str(out), *RESUME]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tengrai-async: error: ")
    assert_sentence(err)  # one line: no traceback, no Python repr
    assert way in err
    assert part_of(out).read_bytes() == PART
    return err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not valid JSON"),
        (b"not json", "is not valid JSON"),
        (b"\x00\xff\xfe binary \x80", "is not valid JSON"),
        (orjson.dumps(VALID)[:1], "is not valid JSON"),
        (orjson.dumps(VALID)[:200], "is not valid JSON"),
        (orjson.dumps(VALID)[:-1], "is not valid JSON"),
        (orjson.dumps(VALID).replace(b"300", b"1e400", 1), "is not valid JSON"),
        (b"[]", "holds a list, not an object"),
        (b"null", "holds null, not an object"),
        (b'"checkpoint"', "holds a string, not an object"),
        (b"7", "holds a number, not an object"),
        (b"true", "holds a boolean, not an object"),
        (b"{}", "has no version"),
        (changed(version=99), "is of version 99"),
        (changed(version=0), "is of version 0"),
        (changed(version="1"), 'is of version "1"'),
        (changed(version=True), "is of version true"),
        (changed(version=1.0), "is of version 1.0"),
        (changed(version=None), "is of version null"),
        (without("version"), "has no version"),
        *[(without(key), f"lacks {key}") for key in VALID if key != "version"],
        (changed(extra=1), 'has the unknown key "extra"'),
        (changed(extra=1, more=2), 'has unknown keys "extra", "more"'),
        (changed(query=None), "has a query that is null"),
        (changed(query=[]), "has a query that is a list, not an object"),
        (changed(query="jsonl"), "has a query that is a string, not an object"),
        (
            changed(query={}),
            (
                "has a query that lacks format, types, statuses, since, until, scan_all, "
                "page_size, max_items, demo"
            ),
        ),
        (query(format="xml"), 'has a query whose format is "xml", not jsonl or csv'),
        (query(format=None), "has a query whose format is null, not jsonl or csv"),
        (query(page_size="100"), 'page_size is "100", not an integer from 1 to 500'),
        (query(page_size=0), "page_size is 0, not an integer from 1 to 500"),
        (query(page_size=501), "page_size is 501, not an integer from 1 to 500"),
        (query(page_size=True), "page_size is true, not an integer from 1 to 500"),
        (query(new=1), 'has a query that has the unknown key "new"'),
        (query(types="selena"), 'types is "selena", not a list of artwork types'),
        (query(types=[1]), "types is [1], not a list of artwork types"),
        (query(types=[""]), 'types is [""], not a list of artwork types'),
        (query(statuses=["lost"]), 'statuses is ["lost"], not a list of statuses (canceled, '),
        (query(statuses=None), "statuses is null, not a list of statuses"),
        (query(since="yesterday"), 'since is "yesterday", not null or a UTC time'),
        (query(since="2026-01-01T00:00:00"), 'since is "2026-01-01T00:00:00", not null or'),
        (query(until="2026-01-01T01:00:00+01:00"), 'until is "2026-01-01T01:00:00+01:00"'),
        (query(until=0), "until is 0, not null or a UTC time"),
        (query(scan_all=0), "scan_all is 0, not true or false"),
        (query(scan_all=None), "scan_all is null, not true or false"),
        (query(max_items=-1), "max_items is -1, not null or an integer from 0 to"),
        (query(max_items=1.5), "max_items is 1.5, not null or an integer from 0 to"),
        (query(max_items=MAX_COUNT + 1), "max_items is 9007199254740992, not null or"),
        (query(demo=5), "demo is 5, not null or an object of a count and a seed"),
        (query(demo={"count": 5}), 'demo is {"count":5}, not null or an object of a count'),
        (query(demo={"count": -1, "seed": 0}), "not null or an object of a count and a seed"),
        (query(demo={"count": 1, "seed": "0"}), "not null or an object of a count and a seed"),
        (query(demo={"count": 1, "seed": 0, "x": 1}), "not null or an object of a count"),
        *[
            (changed(**{key: value}), f"has {key} {json_text(value)}, not an integer from 0 to")
            for key in COUNTERS
            for value in NOT_COUNTS
        ],
        # Beyond 64 bits, JSON numbers are read as floats.
        (orjson.dumps(VALID).replace(b"300", b"18446744073709551616", 1), "not an integer"),
        (changed(recent_ids="abc"), "recent_ids that are not a list of strings"),
        (changed(recent_ids=[1]), "recent_ids that are not a list of strings"),
        (changed(recent_ids=[None]), "recent_ids that are not a list of strings"),
        (changed(recent_ids={"a": "b"}), "recent_ids that are not a list of strings"),
        (changed(items=SYNTHETIC + 1), "counts more artworks than listing offsets"),
        (changed(rejects=1), "rejects and rejects bytes that do not match"),
        (changed(rejects_bytes=10), "rejects and rejects bytes that do not match"),
        (changed(rejects=5, rejects_bytes=3), "rejects and rejects bytes that do not match"),
        (changed(items=5, recent_ids=VALID["recent_ids"][:6]), "more recent ids than artworks"),
        (changed(part_bytes=SYNTHETIC - 1), "bytes that cannot hold its artworks"),
        (changed(part_bytes=len(PART), items=0, recent_ids=[]), "cannot hold its artworks"),
        (
            changed(next_offset=5000, items=1000, recent_ids=["x"] * 201),
            "more recent ids than two pages hold",
        ),
        (changed(part_bytes=len(PART) - 1), "has no line end at byte"),
        (changed(part_bytes=len(PART) + 1), "fewer than the"),
        (changed(recent_ids=["x" * 100] * 11000), "is larger than any checkpoint"),
    ],
)
def test_a_damaged_checkpoint_is_refused_with_the_way_out(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
) -> None:
    monkeypatch.delenv("TENGRAI_API_KEY", raising=False)
    assert message in refuse(tmp_path / "out.jsonl", content, capsys)


def test_max_items_bounds_the_checkpoint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TENGRAI_API_KEY", raising=False)
    out = tmp_path / "out.jsonl"
    part_of(out).write_bytes(PART)
    query = {**VALID["query"], "max_items": 200}
    checkpoint_path(out).write_bytes(changed(query=query))
    assert main(["export", "-o", str(out), *RESUME, "--max-items", "200"]) == 2
    assert "counts 300 artworks, more than its --max-items 200" in capsys.readouterr().err
    # Without --max-items the checkpoint's is taken, and refused all the same.
    assert main(["export", "-o", str(out), *RESUME]) == 2
    assert "counts 300 artworks, more than its --max-items 200" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_checkpoint_that_is_no_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    monkeypatch.delenv("TENGRAI_API_KEY", raising=False)
    out = tmp_path / "out.jsonl"
    path = checkpoint_path(out)
    if kind == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)
    stop = threading.Event()

    def unblock() -> None:
        # Should the command wait on the FIFO for a writer, this ends the wait (the test fails).
        while not stop.wait(2):
            with contextlib.suppress(OSError):
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        err = refuse(out, None, capsys, way="remove it")
    finally:
        stop.set()
    assert time.monotonic() - started < 1.5
    assert "is in the way and is not a regular file" in err


def contents() -> st.SearchStrategy[bytes]:
    """Checkpoint files that must all be refused: noise, any JSON, and VALID with one flaw."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    )
    json = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    )
    not_int = json.filter(lambda v: type(v) is not int)
    bad_count = st.one_of(
        not_int,
        st.integers(min_value=-(2**63), max_value=-1),  # orjson writes 64-bit integers
        st.integers(min_value=MAX_COUNT + 1, max_value=2**64 - 1),
    )
    flaws: dict[str, st.SearchStrategy[Any]] = {
        "version": json.filter(lambda v: type(v) is not int or v != 1),
        "query": json.filter(lambda v: v != VALID["query"]),
        "recent_ids": json.filter(
            lambda v: type(v) is not list or any(type(i) is not str for i in v)
        ),
        **dict.fromkeys(COUNTERS, bad_count),
        # In range, but not what an export of PART could have written:
        "items": bad_count | st.integers(min_value=SYNTHETIC + 1, max_value=MAX_COUNT),
        "rejects": bad_count | st.integers(min_value=1, max_value=MAX_COUNT),
        "part_bytes": bad_count
        | st.integers(min_value=len(PART) + 1, max_value=MAX_COUNT)
        | st.integers(min_value=1, max_value=len(PART)).filter(lambda n: PART[n - 1] != 10),
    }
    one_flaw = st.one_of(
        *[strategy.map(functools.partial(flawed, key)) for key, strategy in flaws.items()],
        st.sampled_from(sorted(VALID)).map(without),
        st.text(min_size=1).filter(lambda k: k not in VALID).map(lambda k: changed(**{k: 0})),
    )
    valid = orjson.dumps(VALID)
    return st.one_of(
        st.binary(max_size=300),
        json.map(orjson.dumps),
        st.integers(min_value=0, max_value=len(valid) - 2).map(lambda n: valid[:n]),
        one_flaw,
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=contents())
def test_no_checkpoint_gets_past_the_checks_with_a_flaw(tmp_path: Path, content: bytes) -> None:
    # plan() is where main() reads the checkpoint (the tests above go through main()); any
    # exception but a UsageError would reach the user as a traceback.
    out = tmp_path / "out.jsonl"
    part_of(out).write_bytes(PART)
    checkpoint_path(out).write_bytes(content)
    options = ExportOptions(output=str(out), page_size=100, resume=True)
    with pytest.raises(UsageError, match="--force"), plan(options):
        pass
    assert part_of(out).read_bytes() == PART


def test_a_listing_shifted_by_new_artworks_resumes_without_duplicates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_slowly(monkeypatch) as server:
        original = server.ids()
        out = tmp_path / "out.jsonl"
        interrupt(server, out)
        server.insert(7)  # every offset moves up by 7 while the export is stopped
        capsys.readouterr()
        assert main(["export", "-o", str(out), "--page-size", "100", "--resume"]) == 0
    assert [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()] == original
    assert "7 duplicates dropped" in capsys.readouterr().err


def test_rejects_are_kept_once_across_a_resume(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    artworks = make_artworks(COUNT)
    bad = [5, 150, 777]
    for index in bad:
        artworks[index]["status"] = "lost"
    with serve_slowly(monkeypatch, artworks=artworks) as server:
        out = tmp_path / "out.jsonl"
        checkpoint = interrupt(server, out)
        assert checkpoint["rejects"] >= 1
        assert main(["export", "-o", str(out), *FRAGILE, "--resume"]) == 3
    rejects = out.with_name(out.name + ".rejects.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line)["offset"] for line in rejects] == bad
    assert len(out.read_bytes().splitlines()) == COUNT - len(bad)


def test_max_items_counts_over_the_resumed_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with serve_slowly(monkeypatch) as server:
        out = tmp_path / "out.jsonl"
        interrupt(server, out, "--max-items", "750")
        assert main(["export", "-o", str(out), *FRAGILE, "--max-items", "750", "--resume"]) == 0
    ids = [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()]
    assert ids == server.ids()[:750]


def test_ctrl_c_leaves_a_resumable_export(tmp_path: Path) -> None:
    reference = tmp_path / "reference.jsonl"
    demo = ["--demo", "3000", "--page-size", "100"]
    assert main(["export", *demo, "-o", str(reference), "-q"]) == 0

    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "tengrai_async", "export", *demo, "-o", str(out)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGRAI_")}
    slow = ["--demo-latency", "0.05", "--prefetch", "1"]
    process = subprocess.Popen([*command, *slow], env=env, stderr=subprocess.PIPE)  # noqa: S603
    part = part_of(out)
    deadline = time.monotonic() + 20
    while not (part.exists() and part.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    assert process.wait(timeout=5) == 130
    assert time.monotonic() - sent < 2
    assert process.stderr is not None
    err = process.stderr.read().decode()
    process.stderr.close()
    assert "interrupted" in err
    assert "--resume" in err

    data = part.read_bytes()
    assert data.endswith(b"\n")
    checkpoint = checkpoint_of(out)
    assert checkpoint["part_bytes"] == len(data)
    assert 0 < checkpoint["items"] < 3000

    resumed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [*command, "--resume"], env=env, capture_output=True, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    assert out.read_bytes() == reference.read_bytes()
