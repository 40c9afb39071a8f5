"""The archive's transactions, as sqlite-utils' ``atomic()`` has them, and a disk that fills up.

SQLite rolls a transaction back by itself on some errors (``SQLITE_FULL``, ``SQLITE_IOERR``):
the error that did it must reach the user, as exit 4, not a ROLLBACK's "no transaction".
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from _cli_helpers import archive_count, archive_demo_again

from tengrai_async.archive._db import _Transaction

ENV = {k: v for k, v in os.environ.items() if not k.startswith("TENGRAI_")}

# The run's page cache cut to 64 KiB, so that a page of artworks spills to the file inside its
# transaction (as a larger page would with the usual cache): the write that fails there is one
# SQLite answers by rolling the whole transaction back itself.
_SPILLING_RUN = """
import resource, signal, sys
from tengrai_async.archive import _db
from tengrai_async.cli import main
_db._CACHE_KIB = 64
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
_, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), hard))
code = main(["archive", sys.argv[1], "--demo", "2000", "--no-images", "-q"])
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # coverage writes its data at exit
sys.exit(code)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="POSIX file size limits")
def test_a_disk_full_inside_a_transaction_exits_4_and_the_next_run_carries_on(
    tmp_path: Path,
) -> None:
    full = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-c", _SPILLING_RUN, str(tmp_path), "700000"],
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    assert full.returncode == 4, full.stderr
    assert f"cannot write {tmp_path / 'archive.sqlite'}" in full.stderr
    assert "no transaction is active" not in full.stderr
    assert "Traceback" not in full.stderr
    stored = archive_count(tmp_path, "SELECT count(*) FROM artworks")
    assert stored % 500 == 0  # whole pages only
    assert stored < 2000
    archive_demo_again(tmp_path)


def _deferred(tmp_path: Path) -> sqlite3.Connection:
    # A deferred foreign key is checked at COMMIT: a COMMIT that fails and leaves the
    # transaction open.
    db = sqlite3.connect(tmp_path / "t.sqlite", isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute(
        "CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    return db


def test_a_failed_commit_is_rolled_back(tmp_path: Path) -> None:
    db = _deferred(tmp_path)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"), _Transaction(db):
        db.execute("INSERT INTO child VALUES (1)")
    assert not db.in_transaction
    assert db.execute("SELECT count(*) FROM child").fetchone()[0] == 0
    db.close()


def test_the_error_that_ended_a_transaction_is_the_one_raised(tmp_path: Path) -> None:
    db = _deferred(tmp_path)

    class EndedError(Exception):
        pass

    def insert_and_end() -> None:
        # What SQLite does on a full disk: the transaction is gone before the error arrives.
        with _Transaction(db):
            db.execute("INSERT INTO parent VALUES (1)")
            db.execute("ROLLBACK")
            raise EndedError

    with pytest.raises(EndedError):
        insert_and_end()
    assert db.execute("SELECT count(*) FROM parent").fetchone()[0] == 0
    db.close()
