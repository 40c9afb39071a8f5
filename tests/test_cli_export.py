from __future__ import annotations

import csv
import io
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from _cli_helpers import KEY, serve
from _moments import moment

from tengrai_async import Artwork, SelenaArtwork, converter
from tengrai_async._models import KINDS
from tengrai_async.cli import main
from tengrai_async.cli._formats import CSV_COLUMNS
from tengrai_async.cli._progress import INSTALL_HINT
from tengrai_async.testing import FakeTengrAI, make_artwork, make_artworks

# Quick retries keep the fault-injection tests fast.
FAST = ["--retry-wait", "0", "--page-size", "100"]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTengrAI]:
    # The results as make_artworks() has them (on the CDN): exports are compared with it.
    with serve(monkeypatch, count=1000, images=False) as server:
        yield server


def jsonl(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return [orjson.loads(line) for line in data.splitlines()]


def test_export_jsonl_writes_every_artwork_once_in_order(
    server: FakeTengrAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "all.jsonl"
    assert main(["export", "-o", str(out), "--page-size", "150"]) == 0
    lines = jsonl(out)
    assert [line["id"] for line in lines] == server.ids()
    assert lines == make_artworks(1000)  # exactly what the API sent, undocumented keys included
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.jsonl"]  # no .part, no checkpoint


def test_export_csv_has_the_exact_header_and_one_row_per_artwork(
    server: FakeTengrAI, tmp_path: Path
) -> None:
    out = tmp_path / "all.csv"
    assert main(["export", "-o", str(out)]) == 0  # the suffix picks CSV
    data = out.read_bytes()
    assert data.startswith((",".join(CSV_COLUMNS) + "\r\n").encode())
    assert data.endswith(b"\r\n")
    reader = csv.DictReader(io.StringIO(data.decode(), newline=""))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    rows = list(reader)
    assert [row["id"] for row in rows] == server.ids()
    assert {row["artworkType"] for row in rows} == set(KINDS)


def test_format_option_overrides_the_suffix(server: FakeTengrAI, tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    assert main(["export", "-o", str(out), "--format", "jsonl", "--max-items", "5"]) == 0
    assert len(jsonl(out)) == 5


def test_export_to_stdout(server: FakeTengrAI, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["export", "--max-items", "25", "--page-size", "10"]) == 0
    captured = capsysbinary.readouterr()
    ids = [orjson.loads(line)["id"] for line in captured.out.splitlines()]
    assert ids == server.ids()[:25]
    assert b"done: 25 artworks" in captured.err


def test_faults_are_retried_and_the_export_is_complete(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with serve(monkeypatch, count=2000, fault_rate=0.2, fault_seed=3) as server:
        out = tmp_path / "all.jsonl"
        assert main(["export", "-o", str(out), "--max-retries", "10", *FAST]) == 0
        assert [line["id"] for line in jsonl(out)] == server.ids()
        assert any(request.fault for request in server.requests)


def test_filters_mirror_iterate(server: FakeTengrAI, tmp_path: Path) -> None:
    out = tmp_path / "f.jsonl"
    since, until = "2026-11-01T10:00:00+00:00", "2026-11-01T11:00Z"
    args = ["--status", "succeeded", "--status", "failed", "--since", since, "--until", until]
    assert main(["export", "-o", str(out), "--type", "selena", *args]) == 0
    lines = jsonl(out)
    assert lines
    assert {line["status"] for line in lines} <= {"succeeded", "failed"}
    for line in lines:
        artwork: Artwork = converter.structure(line, Artwork)
        assert isinstance(artwork, SelenaArtwork)
        created = artwork.created_at
        assert moment(since) <= created < moment(until)
    assert main(["export", "-o", str(out), "--type", "zeta"]) == 0
    assert out.read_bytes() == b""


def test_since_ends_the_listing_at_the_first_older_artwork(
    server: FakeTengrAI, tmp_path: Path
) -> None:
    out = tmp_path / "recent.jsonl"
    since = make_artworks(1000)[120]["createdAt"]
    assert main(["export", "-o", str(out), "--since", since, "--page-size", "100"]) == 0
    assert [line["id"] for line in jsonl(out)] == server.ids()[:121]
    # Two windows hold the 121 newest; the look-ahead may have asked for a few more, no more.
    offsets = [int(r.query["offset"]) for r in server.requests]
    assert offsets[:2] == [0, 100]
    assert len(offsets) <= 1 + 4


def test_scan_all_reads_the_whole_listing_with_since(server: FakeTengrAI, tmp_path: Path) -> None:
    out = tmp_path / "recent.jsonl"
    since = make_artworks(1000)[120]["createdAt"]
    args = ["--since", since, "--page-size", "100", "--scan-all"]
    assert main(["export", "-o", str(out), *args]) == 0
    assert [line["id"] for line in jsonl(out)] == server.ids()[:121]
    assert {int(r.query["offset"]) for r in server.requests} >= set(range(0, 1001, 100))


def test_invalid_artworks_go_to_the_rejects_file_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artworks = make_artworks(250)
    for index in (3, 120, 249):
        artworks[index]["parameters"]["creativity"] = 9
    with serve(monkeypatch, artworks=artworks) as _:
        out = tmp_path / "all.jsonl"
        assert main(["export", "-o", str(out), *FAST]) == 3
    valid = [a["id"] for i, a in enumerate(artworks) if i not in (3, 120, 249)]
    assert [line["id"] for line in jsonl(out)] == valid
    rejects = jsonl(tmp_path / "all.jsonl.rejects.jsonl")
    assert [r["offset"] for r in rejects] == [3, 120, 249]
    assert [r["raw"]["id"] for r in rejects] == [artworks[i]["id"] for i in (3, 120, 249)]
    assert rejects[0]["path"] == "$[3].parameters.creativity"
    assert "offset 3" in rejects[0]["error"]
    err = capsys.readouterr().err
    assert "3 invalid" in err
    assert "all.jsonl.rejects.jsonl" in err


def test_no_rejects_file_without_rejects_and_a_stale_one_is_removed(
    server: FakeTengrAI, tmp_path: Path
) -> None:
    stale = tmp_path / "mine.rejects"
    stale.write_text("old\n")
    out = tmp_path / "all.jsonl"
    assert main(["export", "-o", str(out), "--rejects", str(stale), "--max-items", "10"]) == 0
    assert not stale.exists()


def test_rejects_beside_stdout_go_to_the_default_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    artworks = make_artworks(5)
    artworks[1]["status"] = "lost"
    monkeypatch.chdir(tmp_path)
    with serve(monkeypatch, artworks=artworks) as _:
        assert main(["export", "-q"]) == 3
    assert len(capsysbinary.readouterr().out.splitlines()) == 4
    assert jsonl(tmp_path / "tengrai-rejects.jsonl")[0]["offset"] == 1


def test_wrong_key_is_an_api_failure_exit_1(
    server: FakeTengrAI,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TENGRAI_API_KEY", "wrong-key")
    out = tmp_path / "all.jsonl"
    assert main(["export", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "401" in err
    assert "wrong-key" not in err
    assert list(tmp_path.iterdir()) == []  # nothing was exported: nothing to resume


def test_closed_port_is_a_network_failure_exit_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("TENGRAI_API_KEY", KEY)
    url = f"http://127.0.0.1:{port}"
    assert main(["export", "--base-url", url, "--max-retries", "0", "-o", "-"]) == 1
    assert "failed" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "--page-size", "501"], "--page-size"),
        (["export", "--page-size", "many"], "expected an integer from 1 to 500"),
        (["export", "--timeout", "soon"], "expected a number"),
        (["export", "-o", "/nonexistent-dir/x.jsonl"], "no directory"),
        (["export", "--prefetch", "0"], "--prefetch"),
        (["export", "--status", "lost"], "--status"),
        (["export", "--since", "2026-01-01T09:00"], "no UTC offset"),
        (["export", "--until", "yesterday"], "ISO 8601"),
        (["export", "--timeout", "0"], "--timeout"),
        (["export", "--resume", "--force", "-o", "x"], "not allowed with"),
        (["export", "--resume"], "needs an output file"),
        (["export", "--demo", "5", "--base-url", "http://127.0.0.1:1"], "drop --base-url"),
        (["export", "--demo-fault-rate", "2"], "out of range"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_usage_errors_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_missing_key_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TENGRAI_API_KEY", raising=False)
    assert main(["export", "-o", str(tmp_path / "x.jsonl")]) == 2
    assert "TENGRAI_API_KEY" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_plain_http_to_a_remote_host_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TENGRAI_API_KEY", KEY)
    assert main(["list", "--base-url", "http://example.com"]) == 2
    assert "plain http" in capsys.readouterr().err


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert main(["export", "--help"]) == 0
    out = capsys.readouterr().out
    assert "TENGRAI_API_KEY" in out
    assert "\n  4    a local file failed" in out
    assert "\n  141  the reader of the output went away" in out
    assert "--api-key" not in out
    assert "--demo-latency" not in out  # hidden


def test_demo_needs_no_api_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TENGRAI_API_KEY", raising=False)
    monkeypatch.delenv("TENGRAI_BASE_URL", raising=False)
    out = tmp_path / "demo.csv"
    assert main(["export", "--demo", "300", "-o", str(out)]) == 0
    assert len(out.read_bytes().splitlines()) == 301
    assert "done: 300 artworks" in capsys.readouterr().err


def test_summary_without_bar_when_stderr_is_not_a_terminal(
    server: FakeTengrAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "-o", str(tmp_path / "a.jsonl"), "--page-size", "300"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    summary = err.strip()
    for part in ("done: 1000 artworks", "4 pages", "requests", "0 retries", "0 duplicates"):
        assert part in summary
    assert "0 invalid" in summary
    assert "artworks/s" in summary


def test_quiet_prints_nothing_on_success(
    server: FakeTengrAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "-q", "-o", str(tmp_path / "a.jsonl")]) == 0
    assert capsys.readouterr().err == ""


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_is_drawn_on_a_terminal(
    server: FakeTengrAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["export", "-o", str(tmp_path / "a.jsonl"), "--max-items", "500"]) == 0
    assert "500/500" in terminal.getvalue()
    assert "artworks" in terminal.getvalue()


def test_while_filtering_the_bar_shows_scanned_and_kept(
    server: FakeTengrAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    out = tmp_path / "a.jsonl"
    assert main(["export", "-o", str(out), "--type", "selena", "--page-size", "100"]) == 0
    kept = len(jsonl(out))
    bar = terminal.getvalue().split("\r")[-1]
    assert f"kept: {kept} artworks" in bar
    assert "1,000 scanned" in bar
    terminal.truncate(0)
    assert main(["export", "-o", str(out), "--max-items", "50"]) == 0
    assert "scanned" not in terminal.getvalue()


def test_without_tqdm_a_terminal_gets_a_hint(
    server: FakeTengrAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` fail
    assert main(["export", "-o", str(tmp_path / "a.jsonl"), "--max-items", "5"]) == 0
    assert terminal.getvalue().startswith(INSTALL_HINT + "\n")
    assert "tengrai-async[cli]" in INSTALL_HINT


def test_verbose_logs_requests_but_never_the_key(
    server: FakeTengrAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "-v", "-o", str(tmp_path / "a.jsonl"), "--max-items", "20"]) == 0
    err = capsys.readouterr().err
    assert "GET http://127.0.0.1" in err
    assert KEY not in err


def test_retries_are_silent_without_verbose(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, count=50) as server:
        server.queue_faults("503")
        assert main(["export", "-o", str(tmp_path / "a.jsonl"), *FAST]) == 0
    err = capsys.readouterr().err
    assert "retrying" not in err  # no retry line: test_logging_cli shows it with -v
    assert "stamina" not in err
    assert ", 1 page, " in err
    assert ", 1 retry, " in err


def test_the_summary_says_one_of_each_in_the_singular(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artworks = [make_artwork(0), make_artwork(1)]
    artworks[1]["status"] = "lost"
    with serve(monkeypatch, artworks=artworks):
        assert main(["export", "-o", str(tmp_path / "a.jsonl"), "--prefetch", "1"]) == 3
    err = capsys.readouterr().err
    assert "done: 1 artwork, 1 page, 1 request, 0 retries, 0 duplicates dropped, 1 invalid" in err
    assert "tengrai-async: 1 invalid artwork written to " in err


def test_the_summary_counts_what_the_filters_dropped(
    server: FakeTengrAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a.jsonl"
    assert main(["export", "-o", str(out), "--status", "succeeded", "--page-size", "300"]) == 0
    kept = len(jsonl(out))
    assert 0 < kept < 1000
    err = capsys.readouterr().err
    assert f"done: {kept} artworks, 1000 scanned, {1000 - kept} filtered out, 4 pages, " in err
    # Without a filter the summary does not speak of scanning.
    assert main(["export", "-o", str(out), "--max-items", "10"]) == 0
    assert "scanned" not in capsys.readouterr().err


def test_unknown_kinds_are_exported_as_sent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    zeta = {"artworkType": "zeta", "id": "z-1", "whatever": [1, {"a": None}]}
    artworks = [make_artwork(0), zeta, make_artwork(1)]
    with serve(monkeypatch, artworks=artworks) as _:
        out = tmp_path / "a.jsonl"
        assert main(["export", "-o", str(out)]) == 0
    assert jsonl(out)[1] == zeta
