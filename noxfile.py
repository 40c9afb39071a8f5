"""Nox sessions: lint, mypy, pyright and tests run by default; docs and bench on demand.

Sessions carry no Python version list: they run on the interpreter nox itself runs on, so the
same command works on any machine with one supported Python (CI included).
"""

from __future__ import annotations

import nox

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True
nox.options.sessions = ["lint", "mypy", "pyright", "tests"]


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff: the chosen rule set, and the formatter in check mode."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def mypy(session: nox.Session) -> None:
    """Mypy --strict on the package and its tests."""
    session.install(".[cli,gallery]", *nox.project.dependency_groups(PYPROJECT, "typing"))
    session.run("mypy", "tengrai_async", "tests")


@nox.session
def pyright(session: nox.Session) -> None:
    """Pyright on the package and tests/typing_sample.py, strict where pyproject.toml says."""
    session.install(".[cli,gallery]", *nox.project.dependency_groups(PYPROJECT, "typing"))
    session.run("pyright")


@nox.session
def tests(session: nox.Session) -> None:
    """Pytest with warnings as errors, then the coverage floor (pyproject: fail_under)."""
    session.install(".[cli,gallery]", *nox.project.dependency_groups(PYPROJECT, "tests"))
    session.run("coverage", "erase")
    # coverage starts before pytest: the package's pytest11 plugin imports it at pytest's start,
    # which pytest-cov would miss. Subprocesses (CLI runs) are measured too (coverage's patch).
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report")  # fail_under = 90 in pyproject.toml


@nox.session
def docs(session: nox.Session) -> None:
    """The API reference from the docstrings (pdoc) into .docs/, git-ignored.

    Warnings are errors: an annotation or a reference pdoc cannot resolve fails the build.
    """
    session.install(".[cli,gallery,tests]", *nox.project.dependency_groups(PYPROJECT, "docs"))
    session.run("python", "-W", "error", "-m", "pdoc", "tengrai_async", "-o", ".docs")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks in benchmarks/: medians and side-by-side ratios, printed as tables."""
    session.install(".[cli,gallery]", *nox.project.dependency_groups(PYPROJECT, "bench"))
    session.run("python", "benchmarks/run.py", *session.posargs)


PYPROJECT = nox.project.load_toml("pyproject.toml")
