"""``tengrai-async create KIND``, ``get ID`` and ``wait ID``: end to end against the fake API."""

from __future__ import annotations

import hashlib
import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _cli_helpers import environment, serve

from tengrai_async.cli import main
from tengrai_async.testing import CreateOptions, image_bytes, make_artwork

IMAGE = "https://images.example.com/in.png"
FAST = ("--poll-interval", "0.01", "--retry-wait", "0")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_create_prints_the_new_id_and_sends_exactly_the_options(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch) as server:
        code, out, _ = run(
            capsys, "create", "quantum", "--prompt", "a red fox", "--aspect-ratio", "16:9",
            "--seed", "42", "--no-nsfw",
        )  # fmt: skip
        bodies = server.create_bodies
        ids = server.ids()
    assert code == 0
    assert out == f"{ids[0]}\n"
    assert bodies == [{"prompt": "a red fox", "aspectRatio": "16:9", "seed": 42, "nsfw": False}]


def test_create_json_prints_the_artwork_as_the_api_sent_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch):
        code, out, _ = run(capsys, "create", "upscaling", "--image-url", IMAGE, "--json")
    assert code == 0
    assert out.count("\n") == 1
    artwork = json.loads(out)
    assert artwork["artworkType"] == "upscaling_v2"
    assert artwork["parameters"] == {"imageUrl": IMAGE, "scaleFactor": 2}


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["quantum", "--seed", "0"], "--seed"),
        (["quantum", "--aspect-ratio", "21:9"], "--aspect-ratio"),
        (["quantum", "--webhook", "http://hooks.example.com/x"], "--webhook"),
        (["quantum", "--width", "1216", "--height", "1360"], "--height"),
        (["upscaling"], "--image-url"),
        (["segmentation", "--image-url", IMAGE, "--method", "text"], "--text-prompt"),
        (["segmentation", "--image-url", IMAGE, "--method", "points", "--points-positive", "[1]"],
         "--points-positive"),
        (["depth-map", "--image-url", IMAGE, "--no-use-version3", "--model", "mono_large"],
         "--model"),
    ],
)  # fmt: skip
def test_a_broken_rule_exits_2_naming_the_option_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    option: str,
) -> None:
    with serve(monkeypatch) as server:
        code, out, err = run(capsys, "create", *args)
        requests = list(server.requests)
    assert code == 2
    assert option in err
    assert out == ""
    assert requests == []


def test_create_help_lists_the_kinds_and_a_kind_its_parameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "create", "--help")
    assert code == 0
    for segment in ("quantum", "selena-variete", "detailer-upscaler", "depth-map"):
        assert segment in out
    assert "selena and photo_pilot have no documented create path" in out.replace("\n", " ")
    code, out, _ = run(capsys, "create", "depth-map", "--help")
    assert code == 0
    assert "--resolution-lower-limit" in out
    assert "mono_large" in out
    assert "(server default: 1024)" in " ".join(out.split())
    assert "--invert-depth, --no-invert-depth" in out


def test_create_wait_save_end_to_end(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    options = CreateOptions(polls=1, images=2)
    with serve(monkeypatch, images=True, create=options) as server:
        code, out, err = run(
            capsys, "create", "quantum", "--prompt", "a red fox", "--wait", "--save",
            str(tmp_path / "out"), *FAST,
        )  # fmt: skip
        (job,) = server.ids()
        urls = [str(server.image_url(job, n)) for n in range(2)]
        expected = [server.image_bytes(job, n) for n in range(2)]
    assert code == 0, err
    assert out.splitlines() == ["succeeded", *urls]
    saved = sorted((tmp_path / "out").iterdir())
    assert [p.read_bytes() for p in saved] == expected
    for path in saved:
        assert hashlib.sha256(path.read_bytes()).hexdigest() in err
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("outcome", ["failed", "canceled"])
def test_a_job_that_ends_failed_or_canceled_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], outcome: str
) -> None:
    with serve(monkeypatch, create=CreateOptions(outcome=outcome, polls=1)):
        code, out, err = run(capsys, "create", "hamilton", "--wait", *FAST)
    assert code == 3
    assert out == f"{outcome}\n"
    assert outcome in err


def test_a_wait_that_runs_out_exits_124_and_says_the_job_runs_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, create=CreateOptions(polls=1000)) as server:
        code, out, err = run(capsys, "create", "hamilton", "--wait", "--timeout", "0.05", *FAST)
        (job,) = server.ids()
    assert code == 124
    assert out == ""
    assert f"wait {job}" in err


def test_an_api_failure_exits_1_and_says_when_the_job_may_exist(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch) as server:
        server.queue_create_faults("accept-504")
        code, _, err = run(capsys, "create", "quantum", "--max-retries", "0")
    assert code == 1
    assert "504" in err
    assert "may exist upstream" in err


def test_get_prints_the_status_and_urls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, images=True, create=CreateOptions(polls=1)) as server:
        assert run(capsys, "create", "quantum")[0] == 0
        (job,) = server.ids()
        server.finish_jobs()
        code, out, _ = run(capsys, "get", job)
        url = str(server.image_url(job, 0))
        code_json, out_json, _ = run(capsys, "get", job, "--json")
    assert code == code_json == 0
    assert out.splitlines() == ["succeeded", url]
    assert json.loads(out_json)["id"] == job


def test_get_of_a_failed_job_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, create=CreateOptions(outcome="failed", polls=1)) as server:
        run(capsys, "create", "quantum")
        (job,) = server.ids()
        running = run(capsys, "get", job)
        server.finish_jobs()
        failed = run(capsys, "get", job)
    assert running[:2] == (0, "starting\n")
    assert failed[:2] == (3, "failed\n")
    assert f"the job {job} ended failed" in failed[2]


def test_get_of_an_unknown_or_malformed_id(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch):
        missing = run(capsys, "get", "00000000-0000-4000-8000-000000000000")
        malformed = run(capsys, "get", "not-an-id")
    assert missing[0] == 1
    assert "404" in missing[2]
    assert malformed[0] == 2
    assert "ID" in malformed[2]


def test_wait_saves_the_results_of_an_id(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with serve(monkeypatch, images=True, create=CreateOptions(polls=1)) as server:
        run(capsys, "create", "quantum")
        (job,) = server.ids()
        code, out, _ = run(capsys, "wait", job, "--save", str(tmp_path), *FAST)
        expected = server.image_bytes(job, 0)
    assert code == 0
    assert out.splitlines()[0] == "succeeded"
    assert [p.read_bytes() for p in tmp_path.iterdir()] == [expected]


def test_without_a_key_the_job_commands_ask_for_one_or_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TENGRAI_API_KEY", raising=False)
    code, _, err = run(capsys, "create", "quantum")
    assert code == 2
    assert "--demo" in err


def test_the_demo_creates_waits_and_saves_as_a_newcomer_runs_it(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603
        [
            sys.executable, "-m", "tengrai_async", "create", "quantum", "--prompt", "a red fox",
            "--demo", "--wait", "--save", str(tmp_path), "--poll-interval", "0.05",
        ],
        env=environment(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    status, url = done.stdout.splitlines()
    assert status == "succeeded"
    (saved,) = tmp_path.iterdir()
    job, n, ext = url.rsplit("/", 2)[1], 0, url.rsplit(".", 1)[1]
    assert saved.read_bytes() == image_bytes(job, n, ext)


def test_an_interrupted_wait_exits_130_naming_the_job_that_runs_on() -> None:
    running = make_artwork(6)  # "processing" for ever in the demo's listing
    assert running["status"] == "processing"
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable, "-m", "tengrai_async", "wait", running["id"], "--demo", "10", "-v",
            "--poll-interval", "0.05",
        ],
        env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        while "GET " not in process.stderr.readline():  # the first poll went out
            pass
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130
    assert f"the job {running['id']} keeps running upstream" in err


def test_a_save_directory_that_cannot_be_made_exits_4_before_anything_is_paid_for(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("not a directory")
    with serve(monkeypatch) as server:
        code, _, err = run(capsys, "create", "quantum", "--save", str(tmp_path / "file" / "out"))
        requests = list(server.requests)
    assert code == 4
    assert "cannot create" in err
    assert requests == []


def test_progress_goes_to_stderr_when_it_is_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    with serve(monkeypatch, create=CreateOptions(polls=1)) as server:
        monkeypatch.setattr(sys, "stderr", terminal)
        code = main(["create", "hamilton", "--wait", *FAST])
        (job,) = server.ids()
    assert code == 0
    shown = terminal.getvalue()
    assert f"\r{'tengrai-async'}: {job}: starting" in shown
    assert f"{job}: processing" in shown
    assert shown.endswith(f"{job}: succeeded (0 s)\x1b[K\n")
    assert capsys.readouterr().out.splitlines()[0] == "succeeded"
