"""RFC 3339 text to an aware datetime on every supported Python: the tests' own oracle.

Python 3.10's ``datetime.fromisoformat`` reads neither ``Z`` nor a fraction of other than 3 or
6 digits, so the tests read timestamps through this instead of the package's parser.
"""

from __future__ import annotations

import datetime as dt
import re

_FRACTION = re.compile(r"\.(\d+)")


def moment(text: str) -> dt.datetime:
    """The moment *text* names (``Z`` as ``+00:00``, any fraction cut or padded to 6 digits)."""
    text = re.sub(r"[zZ]$", "+00:00", text)
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    return dt.datetime.fromisoformat(text)
