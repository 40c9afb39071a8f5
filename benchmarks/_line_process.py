"""A helper process that prints its URL, then answers each command line with a JSON line.

The wait benchmark's fake server (``_wait_server.py``) and webhook app (``_webhook_app.py``).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import orjson

__all__ = ["LineProcess", "line_process"]

HERE = Path(__file__).parent


@attrs.define
class LineProcess:
    """A running helper: its URL, and :meth:`command` to talk to it."""

    url: str
    process: subprocess.Popen[str]

    def command(self, line: str) -> Any:
        """Send one command line; return the decoded JSON line it answers."""
        assert self.process.stdin is not None  # noqa: S101 - stdin=PIPE
        assert self.process.stdout is not None  # noqa: S101 - stdout=PIPE
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            msg = f"{self.process.args!r} exited (status {self.process.wait()})"
            raise RuntimeError(msg)
        return orjson.loads(answer)


@contextlib.contextmanager
def line_process(script: str, *arguments: object) -> Iterator[LineProcess]:
    """Run ``benchmarks/<script>`` with *arguments*; yield it; end it by closing its stdin."""
    command = [sys.executable, str(HERE / script), *(str(argument) for argument in arguments)]
    process = subprocess.Popen(  # noqa: S603
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=HERE
    )
    try:
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE
        url = process.stdout.readline().strip()
        if not url:
            msg = f"{script} exited without a URL (status {process.wait()})"
            raise RuntimeError(msg)
        yield LineProcess(url, process)
    finally:
        assert process.stdin is not None  # noqa: S101 - stdin=PIPE
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
