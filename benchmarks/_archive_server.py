"""The fake server with images, in its own process, for the archive benchmark.

``_server.server_process`` knows no image flags; this one passes ``--images`` and
``--image-size`` on to ``python -m tengrai_async.testing`` and yields the URL it prints.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["API_KEY", "count_for_images", "image_server_process", "images_in"]

#: The key the command-line server requires by default.
API_KEY = "test-key"


@contextlib.contextmanager
def image_server_process(
    *, count: int, images: bool = False, image_size: int | None = None, latency: float = 0.0
) -> Iterator[str]:
    """Run the fake server (images on its own port when *images*); yield its base URL."""
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


def images_in(count: int) -> int:
    """How many images the first *count* synthetic artworks (seed 0) of succeeded ones have."""
    from tengrai_async.testing import make_artwork  # noqa: PLC0415 - only the parent needs it

    total = 0
    for index in range(count):
        artwork = make_artwork(index)
        if artwork["status"] == "succeeded":
            total += len(artwork["results"])
    return total


def count_for_images(images: int) -> int:
    """The fewest synthetic artworks (seed 0) whose succeeded ones hold *images* images."""
    from tengrai_async.testing import make_artwork  # noqa: PLC0415 - only the parent needs it

    total = 0
    index = 0
    while total < images:
        artwork = make_artwork(index)
        if artwork["status"] == "succeeded":
            total += len(artwork["results"])
        index += 1
    return index
