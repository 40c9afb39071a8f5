"""The ``tengrai-async`` command line: ``export`` to JSONL or CSV, ``archive``, ``list`` a page.

``create KIND`` starts a job (its options are the kind's parameters in kebab-case, checked
before anything is sent; ``--wait`` and ``--save DIR`` follow it to its end and download the
results), ``get ID`` prints one artwork and ``wait ID`` waits for one: exit 0 succeeded (or
accepted, without ``--wait``), 1 API failure, 2 usage, 3 the job ended failed or canceled, 124
``--timeout`` ran out, 130/143 interrupted (the job keeps running upstream; its id is said).

Install the ``cli`` extra for a progress bar; ``python -m tengrai_async`` runs the same command.
"""

from __future__ import annotations

from ._app import main

__all__ = ["main"]
