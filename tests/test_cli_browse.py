"""``tengrai-async browse`` and ``search``: the URL first, read-only, refusals, the migration.

``browse`` runs as a subprocess (as a user starts it) against archives made by the real
archive code; it must never write ``archive.sqlite``, even while an archive run does.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from _gallery_helpers import archive, browse, illustrated_archive, newest_first, stored

from tengrai_async.archive import APPLICATION_ID, SCHEMA_VERSION
from tengrai_async.archive._db import _MIGRATIONS, ArchiveDatabase
from tengrai_async.archive._reader import ArchiveReader
from tengrai_async.cli import main
from tengrai_async.cli._browse import DEFAULT_PORT


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        return response.status, response.read()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli") / "archive"
    asyncio.run(illustrated_archive(directory, 120, illustrated=30))
    return directory


def version_1(directory: Path) -> None:
    """An archive as the version before search wrote it: schema 1, two artworks."""
    directory.mkdir()
    db = sqlite3.connect(directory / "archive.sqlite", isolation_level=None)
    db.executescript(_MIGRATIONS[0])
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    for n, prompt in enumerate(("an old lighthouse", "old foxes")):
        item = {
            "id": f"old-{n}",
            "parameters": {"prompt": prompt},
            "createdAt": f"2026-01-0{n + 1}T00:00:00Z",
        }
        db.execute(
            "INSERT INTO artworks (id, artwork_type, status, created_at, json, first_seen, "
            "last_seen, last_changed) VALUES (?, 'selena', 'failed', ?, ?, 'x', 'x', 'x')",
            (item["id"], item["createdAt"], json.dumps(item)),
        )
    db.close()


def test_the_default_address_is_this_machine_on_8477(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["browse", "--help"]) == 0
    text = capsys.readouterr().out
    assert "127.0.0.1" in text
    assert str(DEFAULT_PORT) in text
    assert DEFAULT_PORT == 8477


def test_browse_prints_its_url_first_and_stops_on_sigterm(library: Path) -> None:
    with browse(str(library)) as (url, process):
        assert url.startswith("http://127.0.0.1:")
        status, body = get(url)
        assert status == 200
        assert b"<strong>120</strong> artworks archived" in body
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_browse_stops_on_ctrl_c_with_exit_0(library: Path) -> None:
    with browse(str(library)) as (url, process):
        assert get(url)[0] == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0


def test_another_host_prints_a_warning(library: Path) -> None:
    with browse(str(library), "--host", "127.0.0.2") as (url, process):
        assert url.startswith("http://127.0.0.2:")
        assert get(url)[0] == 200
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "everyone who can reach it sees the whole archive" in err


def test_the_default_host_prints_no_warning(library: Path) -> None:
    with browse(str(library)) as (_, process):
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "warning" not in err


def test_a_port_in_use_is_a_usage_error(library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["browse", str(library), "--port", str(port)]) == 2
    assert f"cannot listen on http://127.0.0.1:{port}/" in capsys.readouterr().err


def test_a_damaged_image_is_logged_on_stderr_naming_the_file(tmp_path: Path) -> None:
    directory = tmp_path / "archive"
    asyncio.run(illustrated_archive(directory, 5, illustrated=5))
    name = str(stored(directory, "SELECT path FROM images WHERE state = 'done'")[0][0])
    (directory / name).write_bytes(b"not an image at all")
    with browse(str(directory)) as (url, process):
        status, _ = get(f"{url}thumbnails/{name.removeprefix('images/')}.webp")
        assert status == 200
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert f"cannot make a thumbnail of {(directory / name).resolve()}" in err


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("empty", "holds no archive"),
        ("missing", "is not a directory"),
        ("not sqlite", "not a usable archive database"),
        ("zero bytes", "holds no archive"),
        ("other program", "not a tengrai-async archive"),
        ("newer", "written by a newer tengrai-async"),
        ("version 1", "run `tengrai-async archive"),
    ],
)
def test_browse_and_search_refuse_what_is_not_an_archive_they_can_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, words: str
) -> None:
    directory = tmp_path / "dir"
    database = directory / "archive.sqlite"
    if setup != "missing":
        directory.mkdir()
    if setup == "not sqlite":
        database.write_bytes(b"hello, this is not a database" * 100)
    elif setup == "zero bytes":
        database.write_bytes(b"")
    elif setup == "other program":
        sqlite3.connect(database).execute("CREATE TABLE t (x)").connection.close()
    elif setup == "newer":
        ArchiveDatabase(database).close()
        db = sqlite3.connect(database)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.close()
    elif setup == "version 1":
        directory.rmdir()
        version_1(directory)
    before = digest(database) if database.exists() else None
    for command in (["browse", str(directory)], ["search", str(directory), "x"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert words in err
        if setup not in ("missing",):
            assert str(directory) in err
    assert (digest(database) if database.exists() else None) == before


def test_the_next_archive_run_brings_a_version_1_archive_up_to_date(tmp_path: Path) -> None:
    directory = tmp_path / "archive"
    version_1(directory)
    asyncio.run(archive(directory, count=3))
    db = sqlite3.connect(directory / "archive.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    db.close()
    reader = ArchiveReader(directory)
    try:
        from tengrai_async.archive._reader import Filters  # noqa: PLC0415

        found = reader.find(Filters(q="old"), limit=10)
        assert [row.id for row in found.artworks] == ["old-1", "old-0"]  # stored before
        assert reader.find(Filters(q="fox"), limit=10).count == 1
        assert reader.find(Filters(), limit=10).count == 5
    finally:
        reader.close()


def test_the_reader_cannot_write_the_archive(library: Path) -> None:
    reader = ArchiveReader(library)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader._db.execute("DELETE FROM artworks")
    finally:
        reader.close()


def test_browse_reads_while_an_archive_run_writes(tmp_path: Path) -> None:
    directory = tmp_path / "archive"
    asyncio.run(archive(directory, count=100))
    with browse(str(directory)) as (url, _):
        assert b"<strong>100</strong>" in get(url)[1]

        async def write_while_reading() -> None:
            run = asyncio.ensure_future(archive(directory, count=100, insert=50))
            while not run.done():  # pages load while the run writes
                status, _ = await asyncio.to_thread(get, url)
                assert status == 200
            assert (await run).new == 50

        asyncio.run(write_while_reading())
        assert b"<strong>150</strong>" in get(url)[1]  # the next page load shows it
        assert get(url + "api/artworks?q=cat")[0] == 200


def test_browsing_alone_leaves_the_archive_as_it_was(library: Path) -> None:
    files = {p.name: digest(p) for p in library.iterdir() if p.name.startswith("archive.sqlite")}
    with browse(str(library)) as (url, _):
        for path in ("", "?q=lantern", "api/artworks", "?type=selena&status=succeeded"):
            assert get(url + path)[0] == 200
    after = {p.name: digest(p) for p in library.iterdir() if p.name.startswith("archive.sqlite")}
    assert after["archive.sqlite"] == files["archive.sqlite"]


def test_search_prints_the_full_id_date_kind_status_and_prompt(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", str(library), "lantern"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {r[0]: json.loads(r[2]) for r in stored(library)}
    expected = [
        i
        for i in newest_first(library)
        if "lantern"
        in json.dumps(rows[i]["parameters"].get("prompt", ""))
        + json.dumps(rows[i]["parameters"].get("negativePrompt", ""))
        + json.dumps(rows[i]["parameters"].get("textPrompt", ""))
    ]
    assert [line.split()[0] for line in lines] == expected
    first = rows[expected[0]]
    assert lines[0].split()[3:5] == [first["artworkType"], first["status"]]


def test_search_json_prints_each_artwork_as_stored(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["search", str(library), "", "--json", "--type", "selena", "--status", "failed"]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    stored_json = {r[0]: r[2] for r in stored(library)}
    assert lines
    for line in lines:
        item = json.loads(line)
        assert (item["artworkType"], item["status"]) == ("selena", "failed")
        assert line == stored_json[item["id"]]
    selena_failed = [
        i
        for i, t in stored_json.items()
        if '"artworkType":"selena"' in t and '"status":"failed"' in t
    ]
    assert len(lines) == len(selena_failed)


def test_search_says_when_nothing_matches(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", str(library), 'NEAR( "zzzz AND (']) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "matches" in err


def test_browse_without_the_gallery_extra_says_how_to_install_it(
    library: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp_jinja2", None)  # as if not installed
    for name in [n for n in sys.modules if n.startswith("tengrai_async.gallery")]:
        monkeypatch.delitem(sys.modules, name)
    assert main(["browse", str(library)]) == 2
    assert "pip install 'tengrai-async[gallery]'" in capsys.readouterr().err


def test_search_and_the_other_commands_need_no_gallery_libraries(library: Path) -> None:
    script = (
        "import sys\n"
        "for name in ('PIL', 'jinja2', 'aiohttp_jinja2'):\n"
        "    sys.modules[name] = None\n"
        "from tengrai_async.cli import main\n"
        f"sys.exit(main(['search', {str(library)!r}, 'lantern']))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") > 0
