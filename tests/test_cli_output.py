"""`export -o`: what the output name may be, how each kind of file is written, and its errors.

Devices are only ever reached through a symbolic link in tmp_path: even a version of the command
that replaced its output would replace the link, never /dev/null itself.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from _cli_helpers import command, environment, fail_after, immutable, names, serve

from tengrai_async.cli import main
from tengrai_async.testing import FakeTengrAI, make_artworks

DEMO = ["--demo", "300", "--page-size", "100"]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTengrAI]:
    with serve(monkeypatch, count=5) as server:
        yield server


@pytest.fixture
def reference(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """What `export` writes for DEMO."""
    out = tmp_path_factory.mktemp("reference") / "ref.jsonl"
    assert main(["export", *DEMO, "-q", "-o", str(out)]) == 0
    return out.read_bytes()


def is_device(path: str) -> bool:
    return stat.S_ISCHR(Path(path).stat().st_mode)


# --- names that cannot be written: exit 2 before any request ----------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "-o names no file: the name is empty"),
        (" ", "-o names no file: the name is empty"),
        (".", "it is a directory"),
        ("sub", "it is a directory"),
        ("sub/", "it is a directory"),
        ("new/", "the name ends with a slash"),
        ("missing/out.jsonl", "there is no directory"),
        ("file.txt/out.jsonl", "Not a directory (ENOTDIR)"),
        ("loop", "Too many levels of symbolic links (ELOOP)"),
        ("loop/out.jsonl", "Too many levels of symbolic links (ELOOP)"),
        ("to-sub", "it is a directory"),
    ],
)
def test_an_output_that_cannot_be_a_file_is_a_usage_error(
    server: FakeTengrAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "to-sub").symlink_to("sub")
    before = names(tmp_path)
    assert main(["export", "-o", name]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tengrai-async: error: ")
    assert message in err
    assert err.count("\n") == 1  # one line, no traceback
    assert server.requests == []
    assert names(tmp_path) == before
    assert names(tmp_path / "sub") == []


def test_a_directory_that_cannot_be_written_is_a_usage_error(
    server: FakeTengrAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "locked"
    directory.mkdir()
    with immutable(directory):
        assert main(["export", "-o", str(directory / "out.jsonl")]) == 2
    err = capsys.readouterr().err
    assert f"no file can be created in {directory}" in err
    assert "(EPERM)" in err or "(EACCES)" in err  # the OS error, named
    assert "Traceback" not in err
    assert server.requests == []
    assert names(directory) == []


def test_a_file_that_may_not_be_written_is_not_replaced(
    server: FakeTengrAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"keep me\n")
    with immutable(out):
        assert main(["export", "-o", str(out)]) == 2
    assert "Permission denied (EACCES)" in capsys.readouterr().err
    assert server.requests == []
    assert out.read_bytes() == b"keep me\n"
    assert names(tmp_path) == ["out.jsonl"]


# --- symbolic links: the target is written, the link stays --------------------------------


def test_a_link_is_followed_and_stays_a_link(tmp_path: Path, reference: bytes) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "links").mkdir()
    target = tmp_path / "real" / "out.jsonl"
    target.write_bytes(b"an older export\n")
    target.chmod(0o640)
    link = tmp_path / "links" / "out.jsonl"
    link.symlink_to(Path("..", "real", "out.jsonl"))  # relative: resolved from the link's place
    assert main(["export", *DEMO, "-q", "-o", str(link)]) == 0
    assert link.is_symlink()
    assert link.readlink() == Path("..", "real", "out.jsonl")
    assert target.read_bytes() == reference
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replacement keeps the mode
    assert names(tmp_path / "links") == ["out.jsonl"]
    assert names(tmp_path / "real") == ["out.jsonl"]


def test_a_dangling_link_gets_its_target_created(tmp_path: Path, reference: bytes) -> None:
    link = tmp_path / "link.jsonl"
    link.symlink_to(tmp_path / "made.jsonl")
    assert main(["export", *DEMO, "-q", "-o", str(link)]) == 0
    assert link.is_symlink()
    assert (tmp_path / "made.jsonl").read_bytes() == reference


def test_an_interrupted_export_through_a_link_keeps_its_files_beside_the_target(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "links").mkdir()
    target = tmp_path / "real" / "out.jsonl"
    link = tmp_path / "links" / "out.jsonl"
    link.symlink_to(target)
    fragile = ["--page-size", "100", "--prefetch", "1", "--max-retries", "0"]
    with serve(monkeypatch, count=600, latency=0.002) as server:
        watcher = fail_after(server, 3)
        assert main(["export", "-o", str(link), *fragile]) == 1
        watcher.join(timeout=1)
        assert names(tmp_path / "links") == ["out.jsonl"]
        assert names(tmp_path / "real") == ["out.jsonl.checkpoint.json", "out.jsonl.part"]
        assert f"{target}.checkpoint.json kept" in capsys.readouterr().err
        # The same export, named by its target this time: the same checkpoint.
        assert main(["export", "-o", str(target), *fragile, "--resume"]) == 0
        ids = [orjson.loads(line)["id"] for line in target.read_bytes().splitlines()]
        assert ids == server.ids()
    assert link.is_symlink()
    assert names(tmp_path / "real") == ["out.jsonl"]


# --- streams: devices, FIFOs, /dev/fd/N are written directly ------------------------------


def test_a_device_is_written_directly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    assert main(["export", *DEMO, "-o", str(link)]) == 0
    assert "done: 300 artworks" in capsys.readouterr().err
    assert link.is_symlink()
    assert is_device("/dev/null")
    assert not os.path.lexists("/dev/null.part")
    assert names(tmp_path) == ["null"]  # no .part, no checkpoint, no lock


def test_resume_on_a_device_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    assert main(["export", *DEMO, "-o", str(link), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err
    assert "Traceback" not in err
    assert is_device("/dev/null")
    assert names(tmp_path) == ["null"]


def test_rejects_sent_to_a_device_leave_it_in_place(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    artworks = make_artworks(20)
    artworks[4]["status"] = "lost"
    rejects = tmp_path / "rejects"
    rejects.symlink_to("/dev/null")
    out = tmp_path / "out.jsonl"
    with serve(monkeypatch, artworks=artworks) as _:
        assert main(["export", "-q", "-o", str(out), "--rejects", str(rejects)]) == 3
    assert rejects.is_symlink()
    assert is_device("/dev/null")
    assert len(out.read_bytes().splitlines()) == 19


def fifo_reader(fifo: Path, *, lines: int | None = None) -> tuple[threading.Thread, list[bytes]]:
    """Read *fifo* in a thread: everything, or the first *lines* lines, then close it."""
    got: list[bytes] = []

    def read() -> None:
        with fifo.open("rb") as file:
            if lines is None:
                got.append(file.read())
            else:
                got.extend(file.readline() for _ in range(lines))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


def release(thread: threading.Thread, fifo: Path) -> None:
    """Make sure a reader still waiting for a writer gives up (when the test failed)."""
    thread.join(timeout=5)
    if thread.is_alive() and stat.S_ISFIFO(fifo.lstat().st_mode):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=5)


def test_a_fifo_is_written_directly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: bytes
) -> None:
    monkeypatch.chdir(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    thread, got = fifo_reader(fifo)
    try:
        assert main(["export", *DEMO, "-q", "-o", str(fifo)]) == 0
    finally:
        release(thread, fifo)
    assert got == [reference]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert names(tmp_path) == ["fifo"]


def test_a_fifo_whose_reader_goes_away_ends_the_export_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    thread, got = fifo_reader(fifo, lines=1)
    try:
        assert main(["export", "--demo", "3000", "--page-size", "100", "-o", str(fifo)]) == 141
    finally:
        release(thread, fifo)
    assert orjson.loads(got[0])["id"]
    assert capsys.readouterr().err == ""
    assert names(tmp_path) == ["fifo"]


@pytest.mark.parametrize("how", ["/dev/fd/N", "a link to /dev/stdout"])
def test_an_open_descriptor_is_written_directly(tmp_path: Path, reference: bytes, how: str) -> None:
    # A shell's >(...) passes /dev/fd/N; /dev/stdout is a link to /proc/self/fd/1.
    read_end, write_end = os.pipe()
    fds: tuple[int, ...]
    if how == "/dev/fd/N":
        name, fds, stdout = f"/dev/fd/{write_end}", (write_end,), subprocess.DEVNULL
    else:
        link = tmp_path / "out"
        link.symlink_to("/dev/stdout")
        name, fds, stdout = str(link), (), write_end
    with subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command(*DEMO, "-q", "-o", name),
        env=environment(),
        cwd=tmp_path,
        pass_fds=fds,
        stdout=stdout,
        stderr=subprocess.PIPE,
    ) as process:
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert data == reference
    assert err == b""
    assert names(tmp_path) == ([] if how == "/dev/fd/N" else ["out"])


# --- local file errors: exit 4, the file and the OS error named -----------------------------


def test_a_full_device_is_a_local_file_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    link = tmp_path / "full"
    link.symlink_to("/dev/full")  # every write fails with ENOSPC
    assert main(["export", *DEMO, "-o", str(link)]) == 4
    err = capsys.readouterr().err
    assert "tengrai-async: error: cannot write /dev/full: No space left on device (ENOSPC)" in err
    assert "Traceback" not in err
    assert link.is_symlink()
    assert is_device("/dev/full")


def test_a_file_that_cannot_grow_is_a_local_file_error_and_resumes(
    tmp_path: Path, reference: bytes
) -> None:
    # RLIMIT_FSIZE makes a write past the limit fail with EFBIG (Python ignores SIGXFSZ):
    # a real write error on a regular file, as a full disk would give.
    limit = len(reference) // 2
    # Only the soft limit, lifted again once main() returns: what runs at exit (coverage
    # saving its data, under nox) must not hit it.
    code = (
        "import resource, sys; unlimited = resource.RLIM_INFINITY; "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, unlimited)); "
        "from tengrai_async.cli import main; code = main(sys.argv[1:]); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (unlimited, unlimited)); sys.exit(code)"
    )
    out = tmp_path / "out.jsonl"
    failed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", code, "export", *DEMO, "-o", str(out)],
        env=environment(),
        capture_output=True,
        check=False,
        timeout=30,
    )
    err = failed.stderr.decode()
    assert failed.returncode == 4, err
    assert f"tengrai-async: error: cannot write {out}.part: File too large (EFBIG)" in err
    assert f"{out}.checkpoint.json kept" in err
    assert "Traceback" not in err
    assert not out.exists()
    assert main(["export", *DEMO, "-q", "-o", str(out), "--resume"]) == 0
    assert out.read_bytes() == reference
    assert names(tmp_path) == ["out.jsonl"]


# --- pipes ---------------------------------------------------------------------------------


def test_a_reader_that_goes_away_ends_the_export_quietly() -> None:
    # export | head -1
    with subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command("--demo", "3000", "--page-size", "100"),
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        line = process.stdout.readline()
        process.stdout.close()
        started = time.monotonic()
        err = process.stderr.read()
        code = process.wait(timeout=20)
    assert orjson.loads(line)["id"]
    assert err == b""
    assert code == 141
    assert time.monotonic() - started < 10
