"""Imports point down: no import cycle in the package, lazy imports inside functions included.

The graph is read from the source with ``ast`` (every ``import`` and ``from ... import``, at
any depth of any function), not from ``sys.modules``, so an import that only runs when a
function is called counts too. Imports under ``if TYPE_CHECKING:`` never run, and a module's
own parent package is imported by Python before it anyway: neither is an edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tengrai_async

PACKAGE = Path(tengrai_async.__file__).resolve().parent
NAME = "tengrai_async"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _package_of(module: str) -> str:
    is_package = MODULES[module].name == "__init__.py"
    return module if is_package else module.rpartition(".")[0]


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The package's modules that *node*, in *module*, runs."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = _package_of(module)
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            source = f"{base}.{node.module}" if node.module else base
        else:
            source = node.module or ""
        # ``from pkg import name``: the submodule pkg.name when there is one, else pkg itself.
        names = [
            f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
            for alias in node.names
        ]
    return {name for name in names if name in MODULES}


def import_graph() -> dict[str, set[str]]:
    """Each module of the package and the package's modules it imports at run time."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        parents = {module.rsplit(".", depth)[0] for depth in range(1, module.count(".") + 1)}
        graph[module] = {
            target
            for node in _runtime_imports(tree)
            for target in _targets(module, node)
            if target != module and target not in parents
        }
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of *graph* (its modules in order, the first again at the end)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = [start]
        on_path = {start}
        branches = [iter(sorted(graph[start]))]
        while branches:
            following = next(branches[-1], None)
            if following is None:  # every import of path[-1] explored: no cycle through it
                finished = path.pop()
                done.add(finished)
                on_path.discard(finished)
                branches.pop()
            elif following in on_path:
                return [*path[path.index(following) :], following]
            elif following not in done:
                path.append(following)
                on_path.add(following)
                branches.append(iter(sorted(graph[following])))
    return None


def test_the_graph_sees_the_packages_modules_and_lazy_imports() -> None:
    graph = import_graph()
    assert f"{NAME}._converter" in graph
    assert f"{NAME}._fields" in graph[f"{NAME}._converter"]
    assert f"{NAME}._errors" in graph[f"{NAME}._json"]
    # An import inside a function body counts.
    lazy = ast.parse("def f():\n    from . import _json\n")
    assert _targets(f"{NAME}._models", _runtime_imports(lazy)[0]) == {f"{NAME}._json"}


def test_find_cycle_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_package_has_no_import_cycle() -> None:
    assert find_cycle(import_graph()) is None


def test_the_models_never_import_the_converter() -> None:
    graph = import_graph()
    reached: set[str] = set()
    stack = [f"{NAME}._fields", f"{NAME}._models"]
    while stack:
        module = stack.pop()
        if module not in reached:
            reached.add(module)
            stack.extend(graph[module])
    assert f"{NAME}._converter" not in reached
    assert f"{NAME}._codegen" not in reached
