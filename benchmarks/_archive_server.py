"""How many images the fake server's synthetic artworks hold, for the archive benchmark.

The server itself runs through ``_server.server_process(images=True, image_size=...)``.
"""

from __future__ import annotations

__all__ = ["count_for_images", "images_in"]


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
