"""The fake server in its own process (``python -m tengrai_async.testing``), for a fair client.

Client and server then run on different cores; the parent reads the URL from the first line.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["API_KEY", "server_process"]

#: The key the command-line server requires by default.
API_KEY = "test-key"


@contextlib.contextmanager
def server_process(
    *,
    count: int,
    latency: float = 0.0,
    images: bool = False,
    image_size: int | None = None,
) -> Iterator[str]:
    """Run the fake server with *count* artworks and *latency* seconds; yield its base URL.

    *images* serves the images the results point at, each about *image_size* bytes.
    """
    command = [
        sys.executable,
        "-m",
        "tengrai_async.testing",
        *("--count", str(count), "--latency", str(latency), "--port", "0"),
    ]
    if images:
        command.append("--images")
    if image_size is not None:
        command += ["--image-size", str(image_size)]
    # From this directory, so that -m finds the same tengrai_async as the parent (the working
    # tree's, or a snapshot's on PYTHONPATH), whatever the caller's directory.
    process = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent
    )
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
