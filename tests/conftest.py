"""Shared pytest configuration for the tengrai-async test suite."""

from __future__ import annotations

# pytester runs the tengrai_server plugin in an isolated inner pytest session.
pytest_plugins = ["pytester"]
