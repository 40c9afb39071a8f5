"""The pytest plugin of tengrai-async: a ``tengrai_server`` fixture serving fake artworks.

pytest loads it through the ``pytest11`` entry point as soon as tengrai-async is installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ._server import FakeTengrAI

__all__ = ["pytest_configure", "tengrai_server"]

_DEFAULT_COUNT = 100


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``tengrai_server`` marker, so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        "tengrai_server(**kwargs): configure the tengrai_server fixture with FakeTengrAI "
        "keyword arguments, e.g. count=1000, latency=0.01, fault_rate=0.1",
    )


@pytest.fixture
def tengrai_server(request: pytest.FixtureRequest) -> Iterator[FakeTengrAI]:
    """A running :class:`~tengrai_async.testing.FakeTengrAI`, with 100 artworks by default.

    Point your own client at ``tengrai_server.url`` with the API key ``"test-key"``, then check
    what it received in ``tengrai_server.requests``::

        async def test_export_reads_everything(tengrai_server):
            base_url = str(tengrai_server.url)
            exported = await my_app.export_all(base_url=base_url, api_key="test-key")
            assert [artwork["id"] for artwork in exported] == tengrai_server.ids()

    Configure the server with a marker taking any ``FakeTengrAI`` keyword argument::

        @pytest.mark.tengrai_server(count=2_000, latency=0.01, fault_rate=0.2)
        def test_survives_a_flaky_api(tengrai_server): ...

    The server runs on its own event loop in a thread, so the fixture works for synchronous
    tests and for async tests under any event loop plugin.
    """
    marker = request.node.get_closest_marker("tengrai_server")
    kwargs: dict[str, Any] = {}
    if marker is not None:
        if marker.args:
            msg = "@pytest.mark.tengrai_server takes keyword arguments only"
            raise pytest.UsageError(msg)
        kwargs.update(marker.kwargs)
    if "artworks" not in kwargs:
        kwargs.setdefault("count", _DEFAULT_COUNT)
    with FakeTengrAI.in_thread(**kwargs) as server:
        yield server
