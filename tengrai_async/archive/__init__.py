"""Keep the whole history: an incremental archive of every artwork and its images.

Tengr.ai deletes artworks and their images 8 days after they were made. :func:`sync` keeps a
directory up to date with all of them: ``archive.sqlite`` holds each artwork exactly as the API
last sent it, ``images/`` every image of every succeeded artwork. Run it daily (the
``tengrai-async archive`` command calls it); each run costs little when little changed:

```python
async with TengrAI() as client:
    report = await tengrai_async.archive.sync(client, "tengrai-archive")
```

Below: how a run works, the call and its report, and the database's tables. The command's
options, its cron line and its exit codes are in `tengrai_async.cli`.

## A run

- **Each run is cheap when little changed.** The listing is newest first: a run stops at the
  first artwork older than the newest one the last *complete* run saw, so an unchanged archive
  costs one listing request, and a few new artworks one or two. The first window goes alone;
  later windows are prefetched (`prefetch`, the command's `--prefetch`). An artwork archived
  while `starting` or `processing` is brought up to date: through the listing when it shows
  it, else by `GET /v2/artworks/{id}`; one the API no longer has is kept, marked
  `removed_at`.
- **`since`** (`--since TIME`) also stops the listing at the first artwork created before
  TIME; such a run does not count as complete, so the next run without it lists down to the
  last mark.
- **Images.** Every URL in `results` of a `succeeded` artwork is downloaded into
  `DIR/images/<artwork id>-<position>.<ext>` (the extension from the content type), streamed
  in chunks to a hidden temporary file, synced to disk and renamed when complete, with its
  size and SHA-256 recorded; `downloads` at once (default 8). Transient failures are retried
  with the API's retry policy. 404 and 410 are recorded as `gone` (not a failure); a body that
  is not `image/*` or larger than 256 MiB (`max_image_bytes`) is `failed` with the reason, and
  tried again next run. `images=False` (`--no-images`) records the URLs only; a later run
  fetches them. A `done` image is never downloaded again.
- **The key stays home.** Image requests carry `Authorization` only when the image URL has
  exactly the API's scheme, host and port. They go through the client's proxy settings.
- **Safe to run from cron.** A second run on the same DIR while one runs fails at once
  (`ArchiveLockedError`, naming the other run's pid; the command exits 2): an OS file lock
  (filelock), released even if the run is killed. Ctrl-C stops within a second (exit 130).
  Each page is stored in one transaction, a half-downloaded image never has its final name,
  and an interrupted run (Ctrl-C or `kill -9`) is taken up by the next, which stores nothing
  twice. Pages are stored on a thread of their own while the next ones are fetched, so
  `kill -9` loses the few pages in flight (the next run lists them again) and at most the
  records of the last 32 images or last second (fetched again). SQLite works on that thread:
  a run never holds your event loop longer than decoding a page does.
- **Invalid artworks.** Artworks that break a rule of the spec are archived as sent all the
  same, marked `valid = 0`, and counted in `invalid` (the command's exit code 3).

## From your own event loop

```text
report = await tengrai_async.archive.sync(
    client, DIR, images=True, since=None, page_size=500, prefetch=4,
    downloads=8, max_image_bytes=256 * 2**20, progress=None,
)
```

does what the command does and returns an `ArchiveReport`: `new`, `updated`, `unchanged`,
`invalid`, `invalid_errors` (the error of each invalid artwork: its JSON and path),
`removed`, `unrefreshed` (unfinished artworks that could not be fetched by id),
`images_downloaded`, `images_gone`, `images_failed`, `bytes_downloaded`, `complete`,
`elapsed` and `ok`. It raises `ArchiveLockedError` (`.pid`), `ArchiveDatabaseError` (a file
it cannot use), and its subclass `ArchiveWriteError` (a file it could not write during the
run: a full disk, an I/O error, or another program holding its write lock longer than SQLite
waits, 5 s). `progress` (an `ArchiveProgress`) is told of every page stored and every chunk
of image written.

## The database

SQLite: `PRAGMA application_id` `0x54474149` (`APPLICATION_ID`), `PRAGMA user_version` the
schema version (`SCHEMA_VERSION`), migrated in order by each new version; a file that is not
an archive, or of a newer version, is refused (`ArchiveDatabaseError`) before anything is
changed. WAL mode, so other tools can read it while a run writes. The tables:

- `artworks`: `id TEXT PRIMARY KEY`, `artwork_type TEXT`, `status TEXT`, `created_at TEXT`
  (as the API wrote it), `json TEXT` (the artwork exactly as the API last sent it),
  `valid INTEGER` (0: broke a rule of the spec), `first_seen`, `last_seen`, `last_changed`,
  `removed_at` (UTC ISO 8601 texts).
- `images`: `artwork_id TEXT`, `position INTEGER` (index in `results`), `url TEXT`, `path TEXT`
  (relative to DIR; NULL until downloaded), `bytes INTEGER`, `sha256 TEXT`, `state TEXT`
  (NULL: not tried yet; `done`; `gone`: 404/410; `failed`: after retries, or refused),
  `reason TEXT`, `content_type TEXT`, `attempts INTEGER`, `updated_at TEXT`; primary key
  `(artwork_id, position)`.
- `runs`: `id`, `started_at`, `finished_at`, `outcome` (`done`, `failed`, `interrupted`),
  `complete`, `newest_created_at` (the mark the next run stops at), and the run's counts
  (`new`, `updated`, `unchanged`, `invalid`, `images_done`, `images_gone`, `images_failed`,
  `bytes`).

```console
sqlite3 tengrai-archive/archive.sqlite "SELECT status, count(*) FROM artworks GROUP BY status"
```
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
