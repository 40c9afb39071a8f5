"""The README's "Create artworks" examples run as written: from Python, and the command line."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_helpers import environment

from tengrai_async.testing import CreateOptions, FakeTengrAI

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("### Create artworks") :]
PYTHON = re.findall(r"```python\n(.*?)```", SECTION, flags=re.DOTALL)[0]
CONSOLE = re.findall(r"```console\n\$ (.*?)\n(.*?)```", SECTION, flags=re.DOTALL)[0]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeTengrAI]:
    with FakeTengrAI.in_thread(images=True, create=CreateOptions(polls=1, images=2)) as running:
        monkeypatch.setenv("TENGRAI_API_KEY", "test-key")
        monkeypatch.setenv("TENGRAI_BASE_URL", str(running.url))
        monkeypatch.chdir(tmp_path)
        yield running


def test_the_python_example_creates_waits_and_saves(server: FakeTengrAI, tmp_path: Path) -> None:
    code = PYTHON.replace("wait(artwork)", "wait(artwork, poll_interval=0.01)")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})  # noqa: S102 - the README's own code
    (job,) = server.ids()
    assert out.getvalue() == f"{job} starting\n"
    saved = sorted(tmp_path.iterdir())
    assert [path.read_bytes() for path in saved] == [server.image_bytes(job, n) for n in (0, 1)]
    assert server.create_bodies == [{"prompt": "a red fox", "aspectRatio": "16:9"}]


def test_the_command_line_example_prints_what_the_readme_shows(tmp_path: Path) -> None:
    command, shown = CONSOLE
    args = command.split()[1:]
    assert args[:2] == ["create", "quantum"]
    args = [arg.strip('"') for arg in re.findall(r'"[^"]*"|\S+', command)[1:]]
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "tengrai_async", *args, "--poll-interval", "0.05"],
        env=environment(), capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    status, url = done.stdout.splitlines()
    shown_status, shown_url = shown.splitlines()
    assert status == shown_status
    # The demo's port is 28417 unless another program holds it.
    assert url.rsplit("/", 2)[-2:] == shown_url.rsplit("/", 2)[-2:]
    assert len(list((tmp_path / "results").iterdir())) == 1
