"""Small, valid, deterministic PNG and WebP images, as the fake server's image route serves them.

Each image depends only on ``(artwork_id, n, ext)`` and the optional ``size``, so a test can
compute what it should have downloaded::

    expected = hashlib.sha256(image_bytes(artwork_id, 0, "png")).hexdigest()

A PNG is a 16x16 RGB gradient (its IDAT stored uncompressed, so every PNG has the same length);
a WebP is a 16x16 solid colour in a lossless (VP8L) bitstream. A ``size`` grows the file with a
padding chunk that decoders skip (a private ancillary ``paDd`` chunk in a PNG, an unknown
``PADD`` chunk after the image in an extended WebP), so benchmark images stay valid.
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib
from collections.abc import Mapping
from typing import Final

__all__ = ["IMAGE_CONTENT_TYPES", "IMAGE_EXTS", "filler", "image_bytes", "image_ext"]

#: The extensions (and formats) of the served images.
IMAGE_EXTS: Final = ("png", "webp")
#: The ``Content-Type`` of each extension.
IMAGE_CONTENT_TYPES: Final[Mapping[str, str]] = {"png": "image/png", "webp": "image/webp"}

#: Width and height of every image.
_SIDE: Final = 16
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
#: Ancillary (lower-case 1st letter), private (2nd), reserved bit clear (upper-case 3rd),
#: safe to copy (lower-case 4th): every PNG decoder skips it.
_PNG_PADDING: Final = b"paDd"
_PNG_CHUNK_OVERHEAD: Final = 12  # length, type, CRC
_WEBP_PADDING: Final = b"PADD"
_RIFF_CHUNK_OVERHEAD: Final = 8  # FourCC, length
#: How much distinct filler is generated; longer padding repeats it.
_FILLER_BLOCK: Final = 1 << 20


def image_ext(artwork_id: str) -> str:
    """The extension of every image of *artwork_id*: ``"png"`` or ``"webp"``, about half each."""
    return IMAGE_EXTS[hashlib.sha256(artwork_id.encode()).digest()[0] & 1]


def image_bytes(artwork_id: str, n: int, ext: str, *, size: int | None = None) -> bytes:
    """The bytes of image *n* of *artwork_id* in format *ext* (``"png"`` or ``"webp"``).

    Args:
        artwork_id: The artwork's id (any string).
        n: The image's place in the artwork's ``results`` (>= 0).
        ext: ``"png"`` or ``"webp"``.
        size: Grow the image with a padding chunk to this many bytes (a WebP rounds an odd
            size up, as RIFF files have an even length; a size below the smallest padded
            image gives that one). The padding is generated once per size.

    Raises:
        ValueError: An unknown *ext*, a negative *n* or a negative *size*.
    """
    return b"".join(_image_parts(artwork_id, n, ext, size))


def _image_parts(artwork_id: str, n: int, ext: str, size: int | None) -> tuple[bytes, ...]:
    if ext not in IMAGE_EXTS:
        msg = f"ext must be one of {', '.join(IMAGE_EXTS)}, got {ext!r}"
        raise ValueError(msg)
    if n < 0:
        msg = f"n must be >= 0, got {n!r}"
        raise ValueError(msg)
    if size is not None and size < 0:
        msg = f"size must be >= 0 or None, got {size!r}"
        raise ValueError(msg)
    if ext == "png":
        body = _png_body(artwork_id, n)
        if size is None:
            return body, _PNG_END
        return body, _png_padding(size - len(body) - len(_PNG_END)), _PNG_END
    chunk = _vp8l_chunk(artwork_id, n)
    if size is None:
        return _riff_header(len(chunk)), chunk
    padding = _webp_padding(size - _RIFF_HEADER_LENGTH - len(_VP8X) - len(chunk))
    return _riff_header(len(_VP8X) + len(chunk) + len(padding)), _VP8X, chunk, padding


def _seed(artwork_id: str, n: int) -> bytes:
    return hashlib.sha256(f"{artwork_id}/{n}".encode()).digest()


# -- PNG -----------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


_PNG_END: Final = _png_chunk(b"IEND", b"")
#: 8-bit RGB, deflate, no filter method variations, no interlace.
_IHDR: Final = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", _SIDE, _SIDE, 8, 2, 0, 0, 0))


@functools.lru_cache(maxsize=4096)
def _png_body(artwork_id: str, n: int) -> bytes:
    # Everything but IEND: a gradient from the seed's colour, each row with filter type 0.
    red, green, blue, *_ = _seed(artwork_id, n)
    rows = b"".join(
        b"\x00"
        + bytes(
            channel
            for x in range(_SIDE)
            for channel in ((red + 16 * x) & 255, (green + 16 * y) & 255, blue ^ (x * y & 255))
        )
        for y in range(_SIDE)
    )
    # Stored (level 0), so the IDAT, and the whole file, has the same length for every image.
    return _PNG_SIGNATURE + _IHDR + _png_chunk(b"IDAT", zlib.compress(rows, 0))


@functools.lru_cache(maxsize=8)
def _png_padding(room: int) -> bytes:
    return _png_chunk(_PNG_PADDING, filler(max(0, room - _PNG_CHUNK_OVERHEAD)))


# -- WebP ----------------------------------------------------------------------------------


_RIFF_HEADER_LENGTH: Final = 12


def _riff_header(payload: int) -> bytes:
    # The RIFF size counts the "WEBP" FourCC and every chunk after it.
    return b"RIFF" + struct.pack("<I", 4 + payload) + b"WEBP"


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) & 1)


#: The extended format's header: no ICC profile, alpha, metadata or animation; the canvas size.
_VP8X: Final = _riff_chunk(
    b"VP8X", bytes(4) + (_SIDE - 1).to_bytes(3, "little") + (_SIDE - 1).to_bytes(3, "little")
)


class _BitWriter:
    # VP8L packs its fields least significant bit first.
    def __init__(self) -> None:
        self._value = 0
        self._length = 0

    def write(self, value: int, bits: int) -> None:
        self._value |= value << self._length
        self._length += bits

    def to_bytes(self) -> bytes:
        return self._value.to_bytes((self._length + 7) // 8, "little")


@functools.lru_cache(maxsize=4096)
def _vp8l_chunk(artwork_id: str, n: int) -> bytes:
    red, green, blue, *_ = _seed(artwork_id, n)
    bits = _BitWriter()
    bits.write(0x2F, 8)  # the VP8L signature
    bits.write(_SIDE - 1, 14)  # width - 1
    bits.write(_SIDE - 1, 14)  # height - 1
    bits.write(0, 1)  # alpha_is_used: every pixel is opaque
    bits.write(0, 3)  # version 0
    bits.write(0, 1)  # no transform
    bits.write(0, 1)  # no colour cache
    bits.write(0, 1)  # no meta prefix codes: one group of five prefix codes
    # Green, red, blue and alpha: each a "simple" code of one 8-bit symbol, whose code has
    # zero bits, so every pixel is that colour and the pixel data takes no bits at all.
    for value in (green, red, blue, 255):
        bits.write(1, 1)  # a simple code
        bits.write(0, 1)  # of one symbol
        bits.write(1, 1)  # given in 8 bits
        bits.write(value, 8)
    # Distance: a simple code of the 1-bit symbol 0 (never used: there are no back-references).
    bits.write(1, 1)
    bits.write(0, 1)
    bits.write(0, 1)
    bits.write(0, 1)
    return _riff_chunk(b"VP8L", bits.to_bytes())


@functools.lru_cache(maxsize=8)
def _webp_padding(room: int) -> bytes:
    return _riff_chunk(_WEBP_PADDING, filler(max(0, room - _RIFF_CHUNK_OVERHEAD)))


# -- padding -------------------------------------------------------------------------------


@functools.cache
def _filler_block() -> bytes:
    # Incompressible, like image data, and the same on every run.
    return hashlib.shake_128(b"tengrai-async fake image padding").digest(_FILLER_BLOCK)


def filler(length: int) -> bytes:
    """*length* bytes of incompressible filler, the same on every run."""
    block = _filler_block()
    if length <= len(block):
        return block[:length]
    return (block * -(-length // len(block)))[:length]
