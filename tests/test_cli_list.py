from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from _cli_helpers import serve

from tengrai_async import Artwork, converter
from tengrai_async._json import encode_json
from tengrai_async.cli import main
from tengrai_async.cli._table import HEADER, render
from tengrai_async.testing import make_artwork, make_artworks


def rows(out: str) -> list[str]:
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ID", "TYPE", "STATUS"]
    return lines[1:]


def test_list_prints_one_page_as_a_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, count=100) as server:
        assert main(["list", "--offset", "10", "--limit", "7"]) == 0
        ids = server.ids()[10:17]
        assert server.requests[-1].query == {"offset": "10", "limit": "7"}
    captured = capsys.readouterr()
    table = rows(captured.out)
    assert [line.split()[0] for line in table] == ids
    assert "--offset 17" in captured.err


def test_list_columns_are_aligned_and_prompts_cut_to_the_width() -> None:
    objs = make_artworks(5)
    objs[0]["parameters"]["prompt"] = "word " * 100
    objs[1]["parameters"]["prompt"] = "two\nlines\tand tabs"
    artworks: list[Artwork] = [converter.structure(o, Artwork) for o in objs]
    table = render(artworks, width=120).splitlines()
    assert len(table) == 6
    status_at = table[0].index(HEADER[1])
    assert all(line[status_at - 2 : status_at] == "  " != line[status_at] for line in table)
    assert all(len(line) <= 120 for line in table)
    assert table[1].endswith("…")
    assert table[2].endswith("two lines and tabs")


def test_list_of_the_last_page_has_fewer_rows(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, count=25):
        assert main(["list", "--offset", "20"]) == 0
    captured = capsys.readouterr()
    assert len(rows(captured.out)) == 5
    assert "--offset" not in captured.err


def test_list_shows_unknown_kinds_and_reports_invalid_items(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = make_artwork(1, kinds=["selena"])
    bad["parameters"]["details"] = 0
    zeta = {
        "artworkType": "zeta",
        "id": "zeta-1",
        "status": "queued",
        "createdAt": "2026-11-01T12:00:00+02:00",
        "parameters": {"style": "neo", "prompt": "a new kind"},
    }
    odd: dict[str, Any] = {
        "artworkType": "zeta",
        "id": None,
        "createdAt": "yesterday",
        "parameters": [],
    }
    monkeypatch.setenv("COLUMNS", "200")  # wide enough for every column
    with serve(monkeypatch, artworks=[make_artwork(0), bad, zeta, odd]):
        assert main(["list"]) == 3
    captured = capsys.readouterr()
    table = rows(captured.out)
    assert len(table) == 3
    assert table[1].split() == [
        "zeta-1", "zeta", "queued", "2026-11-01", "10:00:00", "neo", "a", "new", "kind"
    ]  # fmt: skip
    assert table[2].split() == ["-", "zeta", "-", "-", "-"]
    assert "offset 1" in captured.err
    assert "$[1].parameters.details" in captured.err


@pytest.mark.parametrize("mode", [[], ["--json"]])
@pytest.mark.parametrize(
    ("count", "offset", "message"),
    [
        (0, 0, "no artworks at offset 0 (the listing is empty)"),
        (25, 25, "no artworks at offset 25 (the listing ends before it)"),
        (25, 400, "no artworks at offset 400 (the listing ends before it)"),
    ],
)
def test_an_empty_page_prints_nothing_and_says_so_on_stderr(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mode: list[str],
    count: int,
    offset: int,
    message: str,
) -> None:
    with serve(monkeypatch, count=count):
        assert main(["list", "--offset", str(offset), *mode]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"tengrai-async: {message}\n"


def test_a_page_of_invalid_artworks_only_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = make_artwork(0)
    bad["status"] = "lost"
    with serve(monkeypatch, artworks=[bad]):
        assert main(["list", "--json"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "skipped an invalid artwork" in captured.err
    assert captured.err.endswith("no artworks at offset 0 (1 invalid one left out)\n")


def test_list_json_prints_the_page_as_jsonl_exactly_as_sent(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    objs = make_artworks(40)
    objs[12] = {"artworkType": "zeta", "id": "zeta-1", "odd": [1, {"a": None}], "n": 1.5}
    with serve(monkeypatch, artworks=objs):
        assert main(["list", "--json", "--offset", "10", "--limit", "7"]) == 0
    captured = capsysbinary.readouterr()
    assert captured.out == b"".join(encode_json(o, newline=True) for o in objs[10:17])
    assert [orjson.loads(line) for line in captured.out.splitlines()] == objs[10:17]
    assert captured.err == b"tengrai-async: more after this page: --offset 17\n"


def test_list_json_leaves_invalid_artworks_out_of_stdout(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    objs = make_artworks(5)
    objs[1]["parameters"]["details"] = 0
    with serve(monkeypatch, artworks=objs):
        assert main(["list", "--json"]) == 3
    captured = capsysbinary.readouterr()
    assert [orjson.loads(line) for line in captured.out.splitlines()] == objs[:1] + objs[2:]
    assert b"$[1].parameters.details" in captured.err


def test_list_demo_needs_no_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TENGRAI_API_KEY", raising=False)
    assert main(["list", "--demo", "--limit", "12"]) == 0
    table = rows(capsys.readouterr().out)
    assert len(table) == 12
    assert all(uuid.UUID(line.split()[0]) for line in table)


def test_list_api_failure_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, count=5) as server:
        server.queue_faults("500")
        assert main(["list", "--max-retries", "0"]) == 1
    assert "500" in capsys.readouterr().err


def test_list_rejects_a_bad_limit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--limit", "0"]) == 2
    assert "--limit" in capsys.readouterr().err


def test_list_shows_the_kind_style_and_prompt_of_every_kind() -> None:
    objs = make_artworks(60)
    artworks: list[Artwork] = [converter.structure(o, Artwork) for o in objs]
    table = render(artworks, width=400).splitlines()[1:]
    for obj, line in zip(objs, table, strict=True):
        cells = line.split()
        assert cells[:3] == [obj["id"], obj["artworkType"], obj["status"]]
        prompt = obj["parameters"].get("prompt")
        if prompt:
            assert line.endswith(" ".join(prompt.split()))


@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_list_into_a_reader_that_goes_away_exits_141_quietly(mode: list[str]) -> None:
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGRAI_")}
    command = [sys.executable, "-m", "tengrai_async", "list", "--demo", "5000", "--limit", "500"]
    command += mode
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
    )
    assert process.stdout is not None
    process.stdout.close()  # gone before the table is written: one page fits a pipe buffer
    assert process.wait(timeout=30) == 141
    assert process.stderr is not None
    assert process.stderr.read() == b""
    process.stderr.close()


def test_an_os_error_reads_as_the_os_says_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno  # noqa: PLC0415

    from tengrai_async.cli import _arguments  # noqa: PLC0415

    class NoPort:  # the demo server, failing to bind its port
        def __init__(self, *_: Any) -> None:
            pass

        async def __aenter__(self) -> Any:
            raise OSError(errno.EADDRINUSE, "Address already in use")

        async def __aexit__(self, *_: Any) -> None:
            pass

    monkeypatch.setattr(_arguments, "demo_server", NoPort)
    assert main(["list", "--demo", "5"]) == 1
    err = capsys.readouterr().err
    assert err == "tengrai-async: failed: Address already in use (EADDRINUSE)\n"
