"""The test examples pass as written, in a project of their own, with the `tests` extra.

They are the README's and the testing kit's (the test file in ``tengrai_async.testing``'s
docstring, the reference).

They run in a fresh pytest process, from a directory with no configuration at all (so
pytest-asyncio is in its default strict mode), and with only the plugins the `tests` extra
installs: pytest-asyncio and ours.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import tengrai_async.testing

README = Path(__file__).parent.parent / "README.md"
TEST_FUNCTION = re.compile(r"^(?:async )?def (test_\w+)", flags=re.MULTILINE)


def pytest_files(text: str) -> list[str]:
    """The Python blocks of *text* (Markdown) that are pytest files: those that define a test."""
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    return [str(block) for block in blocks if TEST_FUNCTION.search(block)]


def run_examples(project: Path, examples: list[str]) -> subprocess.CompletedProcess[str]:
    """Write each example as a test file of *project* and run pytest there, as a user would."""
    for number, example in enumerate(examples):
        (project / f"test_readme_example_{number}.py").write_text(example, encoding="utf-8")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TENGRAI_", "PYTEST_"))
    }
    # Only what `pip install tengrai-async[tests]` brings: pytest-asyncio, and our plugin
    # through its entry point, both loaded by name.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    command += ["-p", "asyncio", "-p", "tengrai_async", "-q", "-rA"]
    return subprocess.run(  # noqa: S603 - the current interpreter running pytest
        command, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_test_examples_pass_as_written(tmp_path: Path) -> None:
    readme = pytest_files(README.read_text(encoding="utf-8"))
    reference = pytest_files(tengrai_async.testing.__doc__ or "")
    assert readme
    assert reference
    examples = readme + reference
    assert any("tengrai_client" in example for example in examples)
    assert any("queue_faults(" in example for example in examples)
    assert not list(tmp_path.iterdir())  # nothing configures pytest or pytest-asyncio here
    result = run_examples(tmp_path, examples)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    names = [name for example in examples for name in TEST_FUNCTION.findall(example)]
    assert f"{len(names)} passed" in result.stdout, report
    for name in names:
        assert re.search(rf"^PASSED .*::{name}$", result.stdout, flags=re.MULTILINE), report
