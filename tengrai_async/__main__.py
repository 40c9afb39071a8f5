"""``python -m tengrai_async``: runs the ``tengrai-async`` command line.

The same as the console script: see :mod:`tengrai_async.cli`.
"""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
