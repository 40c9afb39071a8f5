"""The ``tengrai_async`` logger, quiet unless asked, and ``TENGRAI_LOG``.

What the SDK logs, all on the ``tengrai_async`` logger:

* WARNING, each scheduled retry: method, URL (never the key), attempt n of m, what went wrong
  (a status, or what happened to the connection) and the wait, with the ``Retry-After`` that
  set it when one did;
* DEBUG, every request: method, URL, status (or ``error``), attempt and elapsed time.

The logger holds a :class:`logging.NullHandler`, as a library's should: with no logging set
up, Python's last-resort handler prints none of it; records still reach the handlers the
application configures (the root logger's included).

``TENGRAI_LOG=info`` (or ``debug``, or ``warning``), read once, when the first ``TengrAI``
client is created, adds a handler writing the SDK's lines to stderr and sets the logger's level
(``debug`` shows every request too), like ``OPENAI_LOG``: a switch for a program that set no
logging up. Any other value is ignored, and so is the variable when the ``tengrai_async``
logger has a handler already (the command line's ``-v`` adds one), so no line shows twice.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Final

__all__ = ["LOGGER_NAME", "LOG_ENV", "logger", "setup_from_env"]

LOGGER_NAME: Final = "tengrai_async"
LOG_ENV: Final = "TENGRAI_LOG"
#: The format of the lines ``TENGRAI_LOG`` writes.
LOG_FORMAT: Final = "%(asctime)s %(name)s %(levelname)s %(message)s"
_LEVELS: Final = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}

logger = logging.getLogger(LOGGER_NAME)
logger.addHandler(logging.NullHandler())

_lock = threading.Lock()
_done = False


def setup_from_env() -> logging.Handler | None:
    """Apply ``TENGRAI_LOG`` the first time this is called; return the handler it added.

    Later calls do nothing (and return ``None``): the variable is read once per process, so
    creating many clients never stacks handlers. Nothing is added either when the logger has a
    handler of its own already (other than the library's ``NullHandler``).
    """
    global _done  # noqa: PLW0603 - once per process, by design
    with _lock:
        if _done:
            return None
        _done = True
        level = _LEVELS.get(os.environ.get(LOG_ENV, "").strip().lower())
        if level is None or any(not isinstance(h, logging.NullHandler) for h in logger.handlers):
            return None  # unset, or the logger is set up already (the CLI's -v): no doubles
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
        logger.setLevel(level)
        return handler
