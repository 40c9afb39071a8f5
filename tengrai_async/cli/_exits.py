"""The exit codes of the ``tengrai-async`` command: one table, read by every command's module.

Each command's ``--help`` says which of them it uses and what each means for it.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "EXIT_CLOSED",
    "EXIT_ENDED",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_LOCAL_FILE",
    "EXIT_OK",
    "EXIT_REJECTS",
    "EXIT_TERMINATED",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
]

#: Done.
EXIT_OK: Final = 0
#: The API or the network failed after the retries (or a job's result could not be saved).
EXIT_FAILURE: Final = 1
#: A usage error: bad arguments, no API key, an output or archive that cannot be used.
EXIT_USAGE: Final = 2
#: Done, but some artworks were invalid (set aside, left out or named on stderr).
EXIT_REJECTS: Final = 3
#: The job ended ``failed`` or ``canceled`` (``create --wait``, ``get``, ``wait``).
EXIT_ENDED: Final = 3
#: A local file failed while it was written (disk full, I/O error).
EXIT_LOCAL_FILE: Final = 4
#: ``--timeout`` ran out before the job ended (``timeout(1)``'s code).
EXIT_TIMEOUT: Final = 124
#: Interrupted (Ctrl-C): 128 + SIGINT.
EXIT_INTERRUPTED: Final = 130
# 128 + SIGPIPE, what a shell reports for `yes | head -1`: the command did not finish, but
# nothing is wrong, and `set -o pipefail` scripts can tell it from a failure.
#: The reader of the output went away; nothing is printed.
EXIT_CLOSED: Final = 141
# 128 + SIGTERM, what a shell reports for a command SIGTERM killed: it stopped as after Ctrl-C.
#: Terminated (SIGTERM), handled as Ctrl-C.
EXIT_TERMINATED: Final = 143
