"""The fake server in its own process (``python -m tengrai_async.testing``), for a fair client.

Client and server then run on different cores; the parent reads the URL from the first line.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

__all__ = ["API_KEY", "server_process"]

#: The key the command-line server requires by default.
API_KEY = "test-key"


@contextlib.contextmanager
def server_process(*, count: int, latency: float) -> Iterator[str]:
    """Run the fake server with *count* artworks and *latency* seconds; yield its base URL."""
    command = [
        sys.executable,
        "-m",
        "tengrai_async.testing",
        *("--count", str(count), "--latency", str(latency), "--port", "0"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE above
        url = process.stdout.readline().strip()
        if not url:
            msg = f"the fake server exited without a URL (status {process.wait()})"
            raise RuntimeError(msg)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
