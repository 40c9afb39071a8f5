"""The pytest plugin of tengrai-async: the ``tengrai_server`` and ``tengrai_client`` fixtures.

pytest loads it through the ``pytest11`` entry point as soon as tengrai-async is installed.
``tengrai_client`` is an async fixture of pytest-asyncio (``pip install tengrai-async[tests]``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from .._client import TengrAI
from ._server import FakeTengrAI

__all__ = ["pytest_configure", "tengrai_client", "tengrai_server"]

_DEFAULT_COUNT = 100
_NEEDS_PYTEST_ASYNCIO = (
    "the tengrai_client fixture is an async fixture of pytest-asyncio, which is not "
    "installed: pip install 'tengrai-async[tests]' (or pytest-asyncio), or build a client "
    "with tengrai_server.client() in your own async fixture"
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``tengrai_server`` and ``tengrai_client`` markers (``--strict-markers``)."""
    config.addinivalue_line(
        "markers",
        "tengrai_server(**kwargs): configure the tengrai_server fixture with FakeTengrAI "
        "keyword arguments, e.g. count=1000, latency=0.01, fault_rate=0.1",
    )
    config.addinivalue_line(
        "markers",
        "tengrai_client(**kwargs): configure the tengrai_client fixture with TengrAI "
        "keyword arguments, e.g. max_retries=0, timeout=0.2",
    )


def _marker_kwargs(request: pytest.FixtureRequest, name: str) -> dict[str, Any]:
    marker = request.node.get_closest_marker(name)
    if marker is None:
        return {}
    if marker.args:
        msg = f"@pytest.mark.{name} takes keyword arguments only"
        raise pytest.UsageError(msg)
    return dict(marker.kwargs)


@pytest.fixture
def tengrai_server(request: pytest.FixtureRequest) -> Iterator[FakeTengrAI]:
    """A running :class:`~tengrai_async.testing.FakeTengrAI`, with 100 artworks by default.

    Point your own client at ``tengrai_server.url`` with the API key ``"test-key"`` (or use
    the ``tengrai_client`` fixture), then check what it received in
    ``tengrai_server.requests``::

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
    kwargs = _marker_kwargs(request, "tengrai_server")
    if "artworks" not in kwargs and "listing_options" not in kwargs:
        kwargs.setdefault("count", _DEFAULT_COUNT)
    with FakeTengrAI.in_thread(**kwargs) as server:
        yield server


async def _tengrai_client(
    request: pytest.FixtureRequest, tengrai_server: FakeTengrAI
) -> AsyncIterator[TengrAI]:
    """A :class:`~tengrai_async.TengrAI` talking to this test's ``tengrai_server``.

    It is ``tengrai_server.client()``: the server's URL and key, instant retries
    (``RetryPolicy.instant()``: every retry happens, none waits), a timeout of 1 s more than
    the server's latency, no proxy. It is opened on the event loop of your async fixtures
    (see below) and closed after the test. Request it together with ``tengrai_server`` (the
    same server, shaped by the same ``@pytest.mark.tengrai_server(...)``) to script faults
    and check the requests::

        @pytest.mark.asyncio
        async def test_one_503_then_success(tengrai_client, tengrai_server):
            tengrai_server.queue_faults("503")
            page = await tengrai_client.artworks.list()
            assert [r.status for r in tengrai_server.requests] == [503, 200]

    ``@pytest.mark.tengrai_client(...)`` takes ``TengrAI`` keyword arguments over these
    (``max_retries=0``, ``timeout=0.2``...).

    It is a pytest-asyncio fixture (``pytest_asyncio.fixture``), so it works in
    pytest-asyncio's strict mode (mark the tests ``@pytest.mark.asyncio``) and auto mode
    alike. Like your own async fixtures, it runs on the event loop that
    ``asyncio_default_fixture_loop_scope`` names (each test's own loop by default), so the
    tests on that loop can use it: with both loop scopes left at their defaults, every test
    can. A test on another loop builds its own client with ``tengrai_server.client()``.
    """
    async with tengrai_server.client(**_marker_kwargs(request, "tengrai_client")) as client:
        yield client


def _tengrai_client_unavailable() -> None:
    pytest.fail(_NEEDS_PYTEST_ASYNCIO, pytrace=False)


_tengrai_client_unavailable.__doc__ = _tengrai_client.__doc__

tengrai_client: Any
if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    tengrai_client = pytest_asyncio.fixture(_tengrai_client, name="tengrai_client")
else:  # pragma: no cover - the tests run with pytest-asyncio
    tengrai_client = pytest.fixture(_tengrai_client_unavailable, name="tengrai_client")
