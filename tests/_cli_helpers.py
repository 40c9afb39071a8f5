"""Shared by the CLI tests: a fake API in a thread, pointed at by the environment.

The command calls asyncio.run itself, so its server runs on a loop of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from tengrai_async.testing import FakeTengrAI

KEY = "test-key"


@contextlib.contextmanager
def serve(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Iterator[FakeTengrAI]:
    """Run a FakeTengrAI built from *kwargs* and set TENGRAI_API_KEY/BASE_URL to reach it."""
    with FakeTengrAI.in_thread(api_key=KEY, **kwargs) as server:
        monkeypatch.setenv("TENGRAI_API_KEY", KEY)
        monkeypatch.setenv("TENGRAI_BASE_URL", str(server.url))
        yield server
