"""Keep the whole history: an incremental archive of every artwork and its images.

Tengr.ai deletes artworks and their images 8 days after they were made. :func:`sync` keeps a
directory up to date with all of them: ``archive.sqlite`` holds each artwork exactly as the API
last sent it, ``images/`` every image of every succeeded artwork. Run it daily (the
``tengrai-async archive`` command calls it); each run costs little when little changed::

    async with TengrAI() as client:
        report = await tengrai_async.archive.sync(client, "tengrai-archive")
"""

from __future__ import annotations

from ._db import APPLICATION_ID, SCHEMA_VERSION, ArchiveDatabaseError, ArchiveWriteError
from ._images import DEFAULT_MAX_IMAGE_BYTES
from ._sync import DATABASE_NAME, ArchiveLockedError, ArchiveProgress, ArchiveReport, sync

__all__ = [
    "APPLICATION_ID",
    "DATABASE_NAME",
    "DEFAULT_MAX_IMAGE_BYTES",
    "SCHEMA_VERSION",
    "ArchiveDatabaseError",
    "ArchiveLockedError",
    "ArchiveProgress",
    "ArchiveReport",
    "ArchiveWriteError",
    "sync",
]
