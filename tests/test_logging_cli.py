"""The command line's ``-v`` shows the SDK's retry lines (without it they stay quiet:
``test_cli_export.test_retries_are_silent_without_verbose``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cli_helpers import KEY, serve

from tengrai_async.cli import main

FAST = ["--retry-wait", "0", "--page-size", "100"]


def test_verbose_shows_each_retry_with_url_attempt_wait_and_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(monkeypatch, count=50) as server:
        server.queue_faults("503")
        assert main(["export", "-v", "-o", str(tmp_path / "a.jsonl"), *FAST]) == 0
        url = f"{server.url}/v2/artworks?offset=0&limit=100"
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if " WARNING " in line]
    assert f" tengrai_async WARNING GET {url} (attempt 1 of 4): HTTP 503 " in line
    assert "; retrying in 0 s" in line
    assert "stamina" not in err
    assert KEY not in err
