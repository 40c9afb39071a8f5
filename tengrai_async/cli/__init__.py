"""The ``tengrai-async`` command line: ``export`` to JSONL or CSV, ``archive``, ``list`` a page.

Install the ``cli`` extra for a progress bar; ``python -m tengrai_async`` runs the same command.
"""

from __future__ import annotations

from ._app import main

__all__ = ["main"]
