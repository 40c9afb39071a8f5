"""The public surface: a sorted, complete ``__all__``, and a version from one place."""

from __future__ import annotations
import __future__

import importlib
import importlib.metadata
import pkgutil
import types
from pathlib import Path

import pytest

import tengrai_async
from tengrai_async.testing import FakeTengrAI

FOUNDATION = [
    "tengrai_async._enums",
    "tengrai_async._rules",
    "tengrai_async._models",
    "tengrai_async._converter",
    "tengrai_async._errors",
    "tengrai_async.testing",
    "tengrai_async.testing._data",
]
#: Every importable module of the package (``__main__`` runs a program, so it is left out).
SUBMODULES = sorted(
    {
        info.name
        for info in pkgutil.walk_packages(tengrai_async.__path__, "tengrai_async.")
        if not info.name.endswith("__main__")
        and hasattr(importlib.import_module(info.name), "__all__")
    }
    | set(FOUNDATION)
)


def test_all_is_sorted_without_duplicates() -> None:
    assert tengrai_async.__all__ == sorted(set(tengrai_async.__all__))


def test_every_name_in_all_is_importable() -> None:
    for name in tengrai_async.__all__:
        assert hasattr(tengrai_async, name), name


def test_every_public_name_is_in_all() -> None:
    public = {
        name
        for name, value in vars(tengrai_async).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and not isinstance(value, __future__._Feature)
    }
    assert public <= set(tengrai_async.__all__)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from tengrai_async import *", namespace)  # noqa: S102 - a fixed import statement
    namespace.pop("__builtins__")
    assert set(namespace) == set(tengrai_async.__all__)


def test_version_matches_the_installed_metadata() -> None:
    assert tengrai_async.__version__ == importlib.metadata.version("tengrai-async")


def test_version_is_a_plain_release_string() -> None:
    parts = tengrai_async.__version__.split(".")
    assert len(parts) >= 3
    assert all(part.isdigit() for part in parts[:3])


@pytest.mark.parametrize("module_name", SUBMODULES)
def test_every_name_in_a_submodule_all_exists(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names: list[str] = module.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(module, name), f"{module_name}.{name}"


def test_the_converter_is_the_package_converter_instance() -> None:
    assert isinstance(tengrai_async.converter, tengrai_async.TengrAIConverter)
    assert isinstance(tengrai_async.make_converter(), tengrai_async.TengrAIConverter)
    assert tengrai_async.make_converter() is not tengrai_async.converter


def test_package_ships_py_typed() -> None:
    assert tengrai_async.__file__ is not None
    assert (Path(tengrai_async.__file__).parent / "py.typed").is_file()


async def test_what_the_artworks_methods_return_is_of_a_public_class() -> None:
    # A user annotates what they hold: each of these types must be importable from the package.
    async with FakeTengrAI(count=3) as server, server.client() as client:
        assert type(client.artworks) is tengrai_async.ArtworksResource
        async with client.artworks.iterate() as iterator:
            assert type(iterator) is tengrai_async.ArtworkIterator
            assert len([artwork async for artwork in iterator]) == 3
        async with client.artworks.as_completed(server.ids()) as done:
            assert type(done) is tengrai_async.AsCompleted
            assert {str(artwork.id) async for artwork in done} == set(server.ids())
