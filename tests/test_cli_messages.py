"""What the command says: dates, mistyped options, kinds and statuses, the table's width,
invalid artworks named, bars labelled, and the documentation of what it reports.
"""

from __future__ import annotations

import inspect
import io
import re
import sys
from pathlib import Path

import attrs
import orjson
import pytest
from _cli_helpers import serve

import tengrai_async.archive
from tengrai_async import Artwork, converter
from tengrai_async.archive import ArchiveReport
from tengrai_async.cli import main
from tengrai_async.cli._table import render
from tengrai_async.testing import make_artwork, make_artworks

ROOT = Path(__file__).parent.parent


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("text", ["2026-01-01Z", "2026-01-01", "2026-01-01+02:00"])
@pytest.mark.parametrize("command", [["export"], ["archive", "somewhere"]])
def test_a_date_without_a_time_is_named_as_such(
    text: str, command: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main([*command, "--since", text]) == 2
    err = capsys.readouterr().err
    assert f"'{text}' is a date without a time" in err
    assert f"{text[:10]}T00:00Z" in err
    assert not (tmp_path / "somewhere").exists()


@pytest.mark.parametrize("command", [["export"], ["archive", "dir"], ["list"]])
def test_a_mistyped_option_prints_that_commands_usage(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--ouput", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: tengrai-async {command[0]} ")
    assert err.rstrip().endswith(
        f"tengrai-async {command[0]}: error: unrecognized arguments: --ouput x"
    )


def test_a_type_that_is_no_documented_kind_is_warned_about_and_still_filters(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "zeta.jsonl"
    with serve(monkeypatch, count=200, kinds={"selena": 3, "zeta": 1}, images=False) as server:
        assert main(["export", "-q", "-o", str(out), "--type", "zeta"]) == 0
        zetas = [
            a
            for a in make_artworks(200, kinds={"selena": 3, "zeta": 1})
            if a["artworkType"] == "zeta"
        ]
        assert server.total == 200
    err = capsys.readouterr().err
    assert "warning: --type zeta: not a documented kind" in err
    assert "selena, selena_variete, quantum" in err
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert lines == zetas
    assert 0 < len(lines) < 200


def test_a_status_that_is_not_documented_is_refused_naming_the_documented_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["export", "--status", "done"]) == 2
    err = capsys.readouterr().err
    assert "--status" in err
    for status in ("starting", "processing", "succeeded", "failed", "canceled"):
        assert status in err


def _artworks(n: int) -> list[Artwork]:
    objs = make_artworks(n)
    for obj in objs:
        obj["parameters"]["prompt"] = "a long prompt " * 20
    return [converter.structure(obj, Artwork) for obj in objs]


@pytest.mark.parametrize("width", [200, 120, 100, 80, 60, 40])
def test_the_table_fits_the_width_the_prompt_giving_way_first(width: int) -> None:
    artworks = _artworks(8)
    lines = render(artworks, width=width).splitlines()
    ids = [str(a.id) for a in artworks]
    assert [line.split()[0] for line in lines[1:]] == ids  # the id stays whole
    if width >= len(ids[0]):
        assert all(len(line) <= width for line in lines), (width, lines)
    full = render(artworks, width=1000).splitlines()
    fixed = len(full[0]) - len("PROMPT")  # every column but the prompt, with its gap
    if width >= fixed + 3:
        # Room for all but the prompt: the others are whole, the prompt cut.
        assert [line[:fixed] for line in lines] == [line[:fixed] for line in full]
        assert lines[1].endswith("…")
    else:
        assert "PROMPT" not in lines[0]
        assert "a long prompt" not in "\n".join(lines)


def test_list_on_an_80_column_terminal_fits_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with serve(monkeypatch, count=30):
        assert main(["list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 21
    assert max(len(line) for line in out) <= 80


def test_an_archive_that_exits_3_names_each_invalid_artwork(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = make_artwork(1, kinds=["selena"])
    bad["parameters"]["details"] = 0
    with serve(monkeypatch, artworks=[make_artwork(0), bad, make_artwork(2)]):
        assert main(["archive", str(tmp_path), "--no-images", "-q"]) == 3
        err = capsys.readouterr().err
        assert f"invalid artwork {bad['id']}, archived as sent: " in err
        assert "$[1].parameters.details" in err
        assert err.count("invalid artwork") == 1
        # Counted once, when it arrives: a second run names nothing.
        assert main(["archive", str(tmp_path), "--no-images", "-q"]) == 0
        assert "invalid artwork" not in capsys.readouterr().err


def test_the_archive_bars_are_labelled_and_count_bytes_in_kib(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with serve(monkeypatch, count=40, image_size=3000):
        assert main(["archive", str(tmp_path)]) == 0
    drawn = terminal.getvalue()
    assert re.search(r"artworks: .*40 artworks", drawn)
    assert re.search(r"images: \d+\.\d KiB written", drawn)
    assert "kB" not in drawn
    summary = drawn.splitlines()[-1]
    total = re.search(r"failed, (\d+\.\d KiB);", summary)
    assert total is not None
    assert f"images: {total[1]} written" in drawn


def test_the_filtered_export_bar_counts_whole_artworks_from_the_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with serve(monkeypatch, count=300):
        assert main(["export", "-o", str(tmp_path / "a.jsonl"), "--type", "quantum"]) == 0
    first = terminal.getvalue().split("\r")[1]
    assert "kept: 0 artworks" in first
    assert "0.00" not in terminal.getvalue()


def test_every_field_of_the_archive_report_is_documented() -> None:
    doc = ArchiveReport.__doc__ or ""
    # 3.13 strips the indentation of docstrings: read them as inspect.cleandoc() has them.
    documented = set(re.findall(r"^    (\w+): ", inspect.cleandoc(doc), re.MULTILINE))
    assert {field.name for field in attrs.fields(ArchiveReport)} <= documented
    # The reference is the archive module's docstring (the README is a guide).
    reference = tengrai_async.archive.__doc__ or ""
    for field in attrs.fields(ArchiveReport):
        assert f"`{field.name}`" in reference


def test_the_readmes_install_lines_name_extras_a_clone_has() -> None:
    # tomllib is 3.11+: the section's keys read by hand, one `name = [...]` a line.
    pyproject = (ROOT / "pyproject.toml").read_text()
    section = pyproject.split("[project.optional-dependencies]\n", 1)[1].split("\n[", 1)[0]
    extras = set(re.findall(r"^([\w-]+) = ", section, re.MULTILINE))
    assert {"cli", "tests"} <= extras
    readme = (ROOT / "README.md").read_text()
    installs = [name.strip("'\"") for name in re.findall(r"pip install ([^\s`]+)", readme)]
    assert installs
    for target in installs:
        if target == "nox":
            continue
        # From a clone the package is ".", with extras the project declares.
        match = re.fullmatch(r"\.\[([\w,]+)\]", target)
        assert match is not None, target
        assert set(match[1].split(",")) <= extras
    assert "pip install '.[cli,tests]'" in readme
