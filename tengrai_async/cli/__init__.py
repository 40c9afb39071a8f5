"""The ``tengrai-async`` command line: export, archive, browse, search, list, create, get, wait.

``create KIND`` starts a job (its options are the kind's parameters in kebab-case, checked
before anything is sent; ``--wait`` and ``--save DIR`` follow it to its end and download the
results), ``get ID`` prints one artwork and ``wait ID`` waits for one: exit 0 succeeded (or
accepted, without ``--wait``), 1 API failure, 2 usage, 3 the job ended failed or canceled, 124
``--timeout`` ran out, 130/143 interrupted (the job keeps running upstream; its id is said).

Install the ``cli`` extra for a progress bar; ``python -m tengrai_async`` runs the same command.

Below: the commands with every option, the options every command shares, and the exit codes.
Each command's `--help` lists the options that apply to it, and its own exit codes.

```console
export TENGRAI_API_KEY=...                      # the key is never a command-line option
tengrai-async export -o artworks.jsonl
tengrai-async export -o artworks.csv --status succeeded --since 2026-01-01T00:00Z
tengrai-async list --offset 0 --limit 20
tengrai-async list --json --limit 500 > page.jsonl   # one page, as the API sent it
tengrai-async export --demo 10000 -o demo.jsonl  # no key: the built-in fake API
tengrai-async archive ~/tengrai-archive          # artworks and images, incrementally
```

Install it with the `cli` extra (`python3 -m pip install '.[cli]'`, which adds the tqdm
progress bar); `python -m tengrai_async` is the same command, and `tengrai-async` is on `PATH`
once the install's scripts directory is.

## `tengrai-async export`

Streams every artwork through `artworks.iterate()`, one page at a time, to a file or to
stdout.

- **JSONL** (the default): one object per line, exactly the JSON the API sent
  (`artwork.raw`): parsing a line gives back that object, keys the SDK does not model
  included, and no default the API did not send.
- **CSV** (`--format csv`, or a `-o` name ending in `.csv`): UTF-8, RFC 4180 quoting, CR LF line
  endings, a header row, one row per artwork. The column rule: first
  `id, artworkType, status, createdAt, duration, results` (URLs joined by a single space); then
  one column per documented parameter, under its camelCase name, of the kinds the export can
  yield (those named with `--type`, else all twelve), the kinds in `ArtworkType` order and each
  kind's parameters in model order, a name several kinds share (`prompt`, `model`, `width`)
  once, where it first appears. The header is derived from the models, so it is stable. Each
  cell holds what the API sent (no default is filled in): booleans as `true`/`false`, a nested
  value (segmentation's `pointsPositive`) as its JSON, a missing value as an empty cell; an
  artwork of an unknown kind fills the columns its JSON has. CSV keeps only documented
  parameters; JSONL is the lossless format.

Its options:

- `-o, --output FILE`: where to write; `-` (the default) is stdout. A symbolic link is
  followed (the file it points to is written; the link stays a link). A device, a FIFO,
  `/dev/stdout` or `/dev/fd/N` (a shell's `>(...)`) is written to directly, as a stream. Only
  a regular FILE can `--resume`.
- `--format jsonl|csv`: default `csv` if FILE ends in `.csv`, else `jsonl`; with `--resume`,
  the checkpoint's.
- `--rejects FILE`: where invalid artworks go, as JSONL `{offset, path, error, raw}`; default
  `FILE.rejects.jsonl` beside the file written (a link's target), or `tengrai-rejects.jsonl`
  in the working directory when writing to stdout or another stream; created only if there is
  one.
- `--resume`: continue an interrupted or failed export of FILE. The format, filters,
  `--scan-all`, `--page-size`, `--max-items` and `--demo` are taken from the checkpoint:
  leave them out, or give the same values (one that differs is refused, naming it).
- `--force`: throw away an interrupted export of FILE and start over.
- `-q, --quiet`: no progress bar and no summary.
- `--type TYPE`: keep only this artwork type; repeatable (unknown types allowed).
- `--status STATUS`: keep only this status (`starting`, `processing`, `succeeded`, `failed`,
  `canceled`); repeatable.
- `--since TIME` / `--until TIME`: keep artworks created at/after, or before, TIME: ISO 8601
  **with a UTC offset** (`2026-01-31T00:00Z`, `...+01:00`); a time without an offset is
  refused. The listing is newest first, so the first artwork older than `--since` ends the
  export.
- `--scan-all`: with `--since`, read the whole listing and filter, for a listing that is not
  newest first.
- `--page-size N`: artworks per request, 1..500 (default 500; with `--resume`, the
  checkpoint's).
- `--prefetch N`: requests in flight at once (default 4).
- `--max-items N`: stop after N artworks in total, counting across resumed runs.

**Progress.** While it runs, a progress bar shows on stderr. There is none when stderr is not
a terminal, with `--quiet`, or without tqdm (then a one-line hint says to install
`tengrai-async[cli]`). While a filter runs (`--type`, `--status`, `--since`, `--until`), the
bar counts the artworks kept and shows how many were scanned beside it:
`kept: 1.28k artworks [..., 2.30k scanned]`. At the end, also after Ctrl-C or a failure (but
not when the reader of the output went away), one summary line gives artworks, with a filter
the artworks scanned and filtered out, pages, requests, retries, duplicates dropped, invalid
items, elapsed time and artworks per second:

```text
tengrai-async: done: 1644 artworks, 3000 scanned, 1356 filtered out, 31 pages, 31 requests,
0 retries, 0 duplicates dropped, 0 invalid, 0.23 s, 7,148 artworks/s
```

**Where the output goes.** `-o` is checked before any request: an empty name, a directory, a
missing directory, a directory where no file can be created, or an existing file you may not
write is a usage error (exit 2) naming the file and the OS error. A regular FILE is written as
`FILE.part` beside it and renamed onto it when complete; a file it replaces keeps its
permission bits. A symbolic link is followed: `FILE.part`, the checkpoint and the lock live
beside the file it points to, and the link stays a link. Anything that is not a regular file,
such as `/dev/null`, a FIFO, `/dev/stdout` or a process substitution
`-o >(gzip > all.jsonl.gz)`, is written to directly, as a stream: no `.part`, no rename, no
checkpoint, so `--resume` is refused. When the reader of stdout, a pipe or a FIFO goes away
(`tengrai-async export | head -1`), the export stops quietly, with nothing on stderr and exit
141, as `yes | head -1` does. A local file that fails while the export writes it (a full disk,
an I/O error) ends it with exit 4 and a message naming the file and the OS error, such as
`tengrai-async: error: cannot write all.jsonl.part: No space left on device (ENOSPC)`; the
checkpoint is kept: make room and run the same command with `--resume`.

**One writer at a time.** While an export writes FILE it holds an OS file lock on
`FILE.lock`, and `FILE.pid` names it. A second export of the same file, by its name or
through a link, with `--resume`, `--force` or neither, exits 2 at once, naming the pid of the
one running. The OS releases the lock when the process ends, even by `kill -9`; the next run
(with `--resume`) takes over. `FILE.lock` and `FILE.pid` are removed when a run ends.

**Resuming.** A file export writes `FILE.part` as it goes. After each page is written and
flushed, it atomically replaces `FILE.checkpoint.json` (the query: format, filters,
`--scan-all`, page size, `--max-items`, demo data; the next offset, bytes and items written,
the last pages' ids). When the export succeeds, `FILE.part` becomes `FILE` and the checkpoint
is deleted, so `FILE` is either missing or complete, never half-written. After Ctrl-C or a
failure, `tengrai-async export -o FILE --resume` carries on: the options left out are taken
from the checkpoint (a `--demo` export resumes on the same demo data, with no key), and an
option given must agree with it, or the resume is refused (exit 2) with a message naming each
difference as options, such as `--page-size 100 where this command asks for --page-size 50`.
It cuts any half-written tail off `FILE.part` and carries on from the checkpoint, passing the
last pages' ids to `iterate(seen_ids=...)` so nothing is written twice even if new artworks
shifted the listing meanwhile. Running again without `--resume` while a checkpoint exists is
refused (exit 2); `--force` starts over. The checkpoint is trusted for nothing: one that is
truncated or damaged, of another version, holds a value of the wrong type or out of range
(the query's included), or does not fit the `.part` file is refused (exit 2) with a message
saying what is wrong, values shown as JSON; `--force` discards it and starts over.

## `tengrai-async archive`

```text
tengrai-async archive DIR [--no-images] [--since TIME] [--prefetch N] [--downloads N]
                          [--base-url URL] [--demo [N]] [-q] [-v]
```

keeps DIR up to date through
`tengrai_async.archive.sync()`: `DIR/archive.sqlite` holds every artwork exactly as the API
last sent it, `DIR/images/` every image of every succeeded artwork. DIR is created if
missing. `tengrai_async.archive` says how a run works (what it lists, the images, what an
interruption leaves) and what the database holds. Its options:

- `--no-images`: record the image URLs without downloading them (a later run fetches them).
- `--since TIME`: also stop the listing at the first artwork created before TIME (ISO 8601
  with a UTC offset); such a run does not count as complete.
- `--prefetch N`: listing requests in flight at once (default 4).
- `--downloads N`: images downloaded at once (default 8).
- `-q, --quiet`: no progress bars and no summary.

Tengr.ai deletes artworks and their images 8 days after they were made, so run it at least
daily, for example from cron (the README's "Keep your history" has the crontab lines). The
key goes on a line of its own, `TENGRAI_API_KEY=...` (cron puts it in the job's environment;
on the command line it would show in the process list), and the command is named by the path
of the virtual environment it was installed into (such as
`"$HOME/tengrai-async/.venv/bin/tengrai-async"` for a clone in `~/tengrai-async`): cron's
`PATH` does not hold it. With `-q` the run prints nothing unless something goes wrong, so
cron mails only then.

**Progress** on stderr when it is a terminal: artworks and image bytes (tqdm). At the end one
line: new, updated, unchanged, invalid, removed; images downloaded, gone, failed; bytes;
elapsed. Artworks that break a rule of the spec are archived as sent all the same (marked
`valid = 0`) and make the exit code 3. A second run on the same DIR while one runs exits 2 at
once, naming the other run's pid; Ctrl-C stops within a second (exit 130).

```console
sqlite3 tengrai-archive/archive.sqlite "SELECT status, count(*) FROM artworks GROUP BY status"
```

Its exit codes:

- 0: done (gone images alone still exit 0).
- 1: API or network failure after retries; what was stored is kept.
- 2: usage error: bad arguments, no API key, DIR cannot be written, another run holds DIR (its
  pid is named), or `archive.sqlite` is not an archive this version can use (named).
- 3: done, but some artworks were invalid or some images failed.
- 4: `archive.sqlite` could not be written during the run: a full disk, an I/O error, or
  another program holding its write lock longer than SQLite waits (5 s); the file and the
  error are named, what was stored is kept.
- 130: interrupted (Ctrl-C); the next run carries on.

## `tengrai-async browse`

`tengrai-async browse DIR [--host HOST] [--port PORT] [--open]` serves the archive in DIR as a
web gallery on http://127.0.0.1:8477/ (the first line printed is the URL; `--port 0` picks a
free one; `--open` opens it in the default browser; Ctrl-C or SIGTERM stops it, exit 0). Its
pages, search and JSON API are in the `tengrai_async.gallery` docstring. It only reads
`DIR/archive.sqlite` (an archive run may write it meanwhile), keeps thumbnails in
`DIR/thumbnails/`, and serves nothing but those and `DIR/images/`. It listens on this machine
only unless `--host` names another interface, which it warns about: everyone who can reach it
then sees the whole archive. It needs the `gallery` extra (it says so, exit 2, without it).
Exit 2 also for DIR holding no archive (the file is named), an archive written by a newer
tengrai-async or not yet brought to schema 2 by `archive`, or HOST:PORT that cannot be
listened on.

## `tengrai-async search`

`tengrai-async search DIR QUERY [--type TYPE] [--status STATUS] [--json]` prints the archived
artworks whose text parameters (`prompt`, `negativePrompt`, `textPrompt`, ...) hold every word
of QUERY, each word as a prefix (`fox` finds "foxes"), newest first: id, created (UTC), type,
status and prompt, fitted to the terminal; `--json` prints each artwork's JSON exactly as the
API sent it, one a line. `--type` and `--status` are repeatable filters; an empty QUERY
matches every artwork. Exit 0 (no match too: stderr says so), 2 as for `browse`, 141 when the
reader of the output goes away.

## `tengrai-async list`

Prints one page as an aligned table: id, type, status, created (UTC), style, and the prompt
cut to the terminal width. With `--json` it prints the page as JSONL instead: each line one
artwork exactly as the API sent it (as `export` writes it), ready for `jq`. Its options:

- `--offset N`: artworks to skip (default 0).
- `--limit N`: artworks, 1..500 (default 20).
- `--json`: JSONL instead of a table.

stdout holds only the table or the JSONL; everything else goes to stderr. An empty page prints
nothing on stdout, in either mode, and says so on stderr:
`tengrai-async: no artworks at offset 40 (the listing ends before it)` (at offset 0:
`the listing is empty`). When more artworks follow, stderr gives the next page:
`tengrai-async: more after this page: --offset 20`. An artwork that breaks the spec is left out,
named on stderr, and makes the exit code 3.

```console
tengrai-async list --json --limit 500 | jq -r 'select(.status == "failed") | .id'
```

## Options of every command

- `--base-url URL`: the API root (default `$TENGRAI_BASE_URL`, else `https://api.tengr.ai`).
- `--timeout SEC`: seconds per request (default 30).
- `--max-retries N`: retries of a request that fails transiently (default 3).
- `-v, --verbose`: log every request to stderr (the key never appears).
- `--demo [N]`: run against the built-in fake API with N synthetic artworks of every kind
  (default 10000), images included for `archive`; needs no key, and refuses `--base-url`. The
  same N gives the same data, so a demo export can be resumed and a second demo archive into
  the same DIR finds nothing new or updated (the fake API listens on 127.0.0.1:28417 when that
  port is free, since the image URLs name it; the run stops after the first window, which it
  reports unchanged).

The API key comes only from `TENGRAI_API_KEY`: a key on the command line would show in the
process list and in shell history.

## Exit codes

- 0: done.
- 1: API or network failure after retries (message on stderr; a file export keeps its
  checkpoint for `--resume`).
- 2: usage error, before any request: bad arguments, no API key, an output that cannot be
  written (the file and the OS error are named), another export writing the same file (its
  pid is named), a checkpoint in the way or unusable, or an option given with `--resume` that
  differs from the checkpoint's (each difference named).
- 3: done, but some artworks broke the spec: `export` wrote them to the rejects file, `list`
  left them out and named them on stderr.
- 4: a local file failed while the export wrote it, or `archive.sqlite` while the archive
  wrote it, such as a full disk or an I/O error (the file and the error are named); a file
  export keeps its checkpoint for `--resume` (an image the archive cannot write is recorded as
  `failed`: exit 3).
- 130: interrupted by Ctrl-C (stops within a second; a file export keeps a valid `.part` and
  its checkpoint).
- 124: `--timeout` ran out (`wait`, `create --wait`; the job keeps running upstream).
- 141: the reader of the output went away (`tengrai-async export | head`, also `list`):
  stopped quietly, with nothing on stderr.
- 143: SIGTERM, handled as Ctrl-C: the run is recorded (the archive's `runs` row has outcome
  `interrupted`), the summary so far is printed, and no pid, lock or `.part` file is left.
"""

from __future__ import annotations

from ._app import main

__all__ = ["main"]
