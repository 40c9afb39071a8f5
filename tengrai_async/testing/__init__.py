"""Test helpers for code that uses tengrai-async: synthetic artworks and a fake server.

``make_artworks`` builds valid, deterministic artworks; ``FakeTengrAI`` and the pytest plugin's
``tengrai_server`` fixture serve them over real loopback HTTP.
"""

from __future__ import annotations

from ._data import EPOCH, make_artwork, make_artworks
from ._server import FakeTengrAI, RecordedRequest

__all__ = ["EPOCH", "FakeTengrAI", "RecordedRequest", "make_artwork", "make_artworks"]
