"""Test helpers for code that uses tengrai-async: synthetic artworks and a fake server.

``make_artworks`` builds valid, deterministic artworks; ``FakeTengrAI`` and the pytest plugin's
``tengrai_server`` fixture serve them over real loopback HTTP, and the images of their
``results`` too (``image_bytes`` tells which bytes each image has). The plugin's
``tengrai_client`` fixture is a ``TengrAI`` wired to that server, with instant retries. The
server also takes creates (``POST /v2/artworks/<kind>``, checked by the kind's request rules)
and runs them as jobs on its ``clock``; ``queue_create_faults`` makes a create fail before or
after its job exists (``CREATE_FAULTS``), to test code that must not pay for a job twice.
``python -m tengrai_async.testing`` runs the server in a process of its own.
"""

from __future__ import annotations

from ._clock import FakeClock
from ._create import CREATE_FAULTS, CreateFault, CreateOptions
from ._data import DEFAULT_KINDS, EPOCH, KindMix, index_of, make_artwork, make_artworks
from ._images import IMAGE_CONTENT_TYPES, IMAGE_EXTS, image_bytes, image_ext
from ._server import (
    DEFAULT_FAULTS,
    FAULTS,
    IMAGE_FAULTS,
    JOB_OUTCOMES,
    FakeTengrAI,
    Fault,
    ImageKey,
    RecordedRequest,
)

__all__ = [
    "CREATE_FAULTS",
    "DEFAULT_FAULTS",
    "DEFAULT_KINDS",
    "EPOCH",
    "FAULTS",
    "IMAGE_CONTENT_TYPES",
    "IMAGE_EXTS",
    "IMAGE_FAULTS",
    "JOB_OUTCOMES",
    "CreateFault",
    "CreateOptions",
    "FakeClock",
    "FakeTengrAI",
    "Fault",
    "ImageKey",
    "KindMix",
    "RecordedRequest",
    "image_bytes",
    "image_ext",
    "index_of",
    "make_artwork",
    "make_artworks",
]
