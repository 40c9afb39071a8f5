"""Test helpers for code that uses tengrai-async: synthetic artworks and a fake server.

``make_artworks`` builds valid, deterministic artworks; ``FakeTengrAI`` and the pytest plugin's
``tengrai_server`` fixture serve them over real loopback HTTP.
"""

from __future__ import annotations

from ._data import DEFAULT_KINDS, EPOCH, KindMix, index_of, make_artwork, make_artworks
from ._server import FAULTS, JOB_OUTCOMES, FakeTengrAI, RecordedRequest

__all__ = [
    "DEFAULT_KINDS",
    "EPOCH",
    "FAULTS",
    "JOB_OUTCOMES",
    "FakeTengrAI",
    "KindMix",
    "RecordedRequest",
    "index_of",
    "make_artwork",
    "make_artworks",
]
