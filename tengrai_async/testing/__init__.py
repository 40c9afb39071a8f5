"""Test helpers for code that uses tengrai-async: synthetic artworks and a fake server.

``make_artworks`` builds valid, deterministic artworks; the fake server and the pytest plugin
serve them over real loopback HTTP.
"""

from __future__ import annotations

from ._data import EPOCH, make_artwork, make_artworks

__all__ = ["EPOCH", "make_artwork", "make_artworks"]
