"""Thumbnails of the archive's images: made with Pillow on first request, kept on disk.

``DIR/thumbnails/NAME.webp`` is the thumbnail of ``DIR/images/NAME``, at most :data:`SIZE`
pixels on its long side. It is made off the event loop, written under a temporary name and
renamed, and made again when its image is newer. An image Pillow cannot read gets a
placeholder and one log line naming the file.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import functools
import io
import logging
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Final

import attrs
from PIL import Image, ImageFile, ImageOps

__all__ = [
    "SIZE",
    "THUMBNAIL_SUFFIX",
    "Thumbnail",
    "Thumbnails",
    "make_thumbnail",
    "placeholder",
    "safe_file",
    "safe_stat",
]

logger = logging.getLogger("tengrai_async.gallery")

#: The long side of a thumbnail, at most, in pixels.
SIZE: Final = 320
#: What a thumbnail's name adds to its image's.
THUMBNAIL_SUFFIX: Final = ".webp"
_QUALITY: Final = 80
#: How many thumbnails are kept in memory, at most (about 10 KiB each).
_IN_MEMORY: Final = 2048
#: The names the archive gives its files (see ``archive._images.image_name``): no separator,
#: no leading dot, so no name can leave its directory or be a hidden (temporary) file.
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,250}")


def safe_stat(root: Path, name: str) -> tuple[Path, os.stat_result] | None:
    """The regular file *name* directly in *root* and its status, or ``None``.

    ``None`` for a name that is not one the archive gives (``..``, a separator, a hidden
    name), a missing file, and a symbolic link that leads out of *root*.
    """
    if not _NAME.fullmatch(name) or ".." in name:
        return None
    path = root / name
    try:
        found = path.lstat()
        if stat.S_ISREG(found.st_mode):  # the usual case: one system call, nothing to follow
            return path, found
        if not stat.S_ISLNK(found.st_mode):
            return None
        real = path.resolve(strict=True)
        found = real.stat()
    except (OSError, RuntimeError):  # missing, or a loop of links
        return None
    with contextlib.suppress(OSError):
        if real.parent == root.resolve(strict=True) and stat.S_ISREG(found.st_mode):
            return real, found
    return None


def safe_file(root: Path, name: str) -> Path | None:
    """The path :func:`safe_stat` finds, or ``None``."""
    found = safe_stat(root, name)
    return None if found is None else found[0]


def make_thumbnail(source: Path) -> bytes:
    """A WebP thumbnail of the image at *source*, at most :data:`SIZE` px on its long side.

    Raises:
        Exception: Whatever Pillow raises for a file it cannot read (callers catch it all: a
            damaged file can make a decoder raise almost anything).
    """
    image: ImageFile.ImageFile = Image.open(source)
    with image:
        # A JPEG decodes straight at a fraction of its size: far faster than decode + resize.
        image.draft("RGB", (SIZE, SIZE))
        small = ImageOps.exif_transpose(image)
        # reducing_gap 1.5: a 1024 px image is first halved by a box filter (cheap), then
        # resampled; at 2.0 the bicubic pass would take the full image, twice the time.
        small.thumbnail((SIZE, SIZE), Image.Resampling.BICUBIC, reducing_gap=1.5)
        if small.mode not in ("RGB", "RGBA"):
            alpha = "A" in small.getbands() or "transparency" in small.info
            small = small.convert("RGBA" if alpha else "RGB")
        out = io.BytesIO()
        small.save(out, "WEBP", quality=_QUALITY, method=2)
    return out.getvalue()


@functools.cache
def placeholder() -> bytes:
    """The image served for a thumbnail that cannot be made: a plain dark square."""
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (40, 42, 50)).save(out, "WEBP", quality=_QUALITY)
    return out.getvalue()


@attrs.frozen
class Thumbnail:
    """A thumbnail to send (or the placeholder, which must not be cached)."""

    data: bytes
    placeholder: bool = False


class Thumbnails:
    """The thumbnails of one archive directory, made at most once each at a time.

    The bytes of the most recently served ones are kept in memory too (checked against their
    file's modification time on every request), so that a page of them costs no file reads.
    """

    def __init__(self, directory: Path, executor: concurrent.futures.Executor) -> None:
        self.images = directory / "images"
        self.directory = directory / "thumbnails"
        self._executor = executor
        self._making: dict[str, asyncio.Future[tuple[bytes, int | None]]] = {}
        self._failed: set[Path] = set()
        self._memory: collections.OrderedDict[str, tuple[int, bytes]] = collections.OrderedDict()

    async def get(self, name: str) -> Thumbnail | None:
        """The thumbnail called *name* (``IMAGE.webp``), or ``None`` when there is no IMAGE."""
        if not name.endswith(THUMBNAIL_SUFFIX):
            return None
        found = safe_stat(self.images, name[: -len(THUMBNAIL_SUFFIX)])
        if found is None:
            return None
        source, source_stat = found
        kept = safe_stat(self.directory, name)
        loop = asyncio.get_running_loop()
        if kept is not None and kept[1].st_mtime_ns >= source_stat.st_mtime_ns:
            fresh = await self._kept(name, kept[0], kept[1].st_mtime_ns)
            if fresh is not None:
                return fresh
        if source in self._failed:
            return Thumbnail(placeholder(), placeholder=True)
        making = self._making.get(name)
        if making is None:
            # One thread makes it; every request for it meanwhile waits for the same result.
            making = loop.run_in_executor(self._executor, self._make, name, source)
            self._making[name] = making
            making.add_done_callback(lambda _: self._making.pop(name, None))
        data, mtime = await asyncio.shield(making)
        if mtime is None:
            return Thumbnail(data, placeholder=source in self._failed)
        self._remember(name, mtime, data)
        return Thumbnail(data)

    async def _kept(self, name: str, path: Path, mtime: int) -> Thumbnail | None:
        """The kept thumbnail at *path*: from memory when its file has not changed since."""
        held = self._memory.get(name)
        if held is not None and held[0] == mtime:
            self._memory.move_to_end(name)
            return Thumbnail(held[1])
        loop = asyncio.get_running_loop()
        try:
            data = await loop.run_in_executor(self._executor, path.read_bytes)
        except OSError:  # removed meanwhile: made again
            return None
        self._remember(name, mtime, data)
        return Thumbnail(data)

    def _remember(self, name: str, mtime: int, data: bytes) -> None:
        self._memory[name] = (mtime, data)
        self._memory.move_to_end(name)
        while len(self._memory) > _IN_MEMORY:
            self._memory.popitem(last=False)

    def _make(self, name: str, source: Path) -> tuple[bytes, int | None]:
        """The thumbnail's bytes, and its file's modification time once kept (else None)."""
        try:
            data = make_thumbnail(source)
        except Exception as exc:  # noqa: BLE001 - a damaged file: a placeholder, never a 500
            self._failed.add(source)
            logger.warning("cannot make a thumbnail of %s: %s: %s", source, type(exc).__name__, exc)
            return placeholder(), None
        target = self.directory / name
        part = self.directory / f".{name}.{secrets.token_hex(4)}.part"
        try:
            self.directory.mkdir(exist_ok=True)
            part.write_bytes(data)
            part.replace(target)  # whole, or not there: a reader never sees half a file
            return data, target.stat().st_mtime_ns
        except OSError as exc:  # a read-only directory, say: served all the same
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)
            logger.warning("cannot keep the thumbnail %s: %s", target, exc.strerror or exc)
            return data, None
