"""Nox sessions: lint, mypy, pyright, tests and coverage by default; docs and bench on demand.

``tests`` runs on every supported Python (read from the trove classifiers, as stamina does) that
this machine can start, so the same command passes on a machine with one Python and tests all
four on one with more; ``coverage`` then combines their data, so version-only branches count.
The other sessions run on the interpreter nox itself runs on.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True
nox.options.sessions = ["lint", "mypy", "pyright", "tests", "coverage"]
PYPROJECT = nox.project.load_toml("pyproject.toml")
SUPPORTED = nox.project.python_versions(PYPROJECT)
COVERAGE_DIR = Path(".nox-coverage")


@functools.cache
def _runs(version: str) -> bool:
    """Whether ``pythonX.Y`` starts here (a pyenv shim exists even where it cannot start)."""
    if version == f"{sys.version_info.major}.{sys.version_info.minor}":
        return True
    exe = shutil.which(f"python{version}")
    if exe is None:
        return False
    try:
        done = subprocess.run([exe, "-c", "pass"], capture_output=True, timeout=30, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _pythons() -> list[str]:
    """The supported Pythons this machine can start (the running one at least).

    ``TENGRAI_PYTHONS`` (comma-separated) names ones that must be among them: CI sets it to the
    oldest and the newest, so a CI machine that lost one fails instead of skipping it.
    """
    wanted = [v for v in os.environ.get("TENGRAI_PYTHONS", "").split(",") if v]
    missing = [v for v in wanted if not _runs(v)]
    if missing:
        msg = f"TENGRAI_PYTHONS names Pythons this machine cannot start: {', '.join(missing)}"
        raise SystemExit(msg)
    found = [v for v in SUPPORTED if _runs(v)]
    return found or [f"{sys.version_info.major}.{sys.version_info.minor}"]


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


@nox.session(python=_pythons())
def tests(session: nox.Session) -> None:
    """Pytest with warnings as errors, its coverage data kept for the ``coverage`` session."""
    session.install(".[cli,gallery]", *nox.project.dependency_groups(PYPROJECT, "tests"))
    data = COVERAGE_DIR / str(session.python)
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    # coverage starts before pytest: the package's pytest11 plugin imports it at pytest's start,
    # which pytest-cov would miss. Subprocesses (CLI runs) are measured too (coverage's patch).
    session.run(
        "coverage",
        "run",
        "-m",
        "pytest",
        *session.posargs,
        env={"COVERAGE_FILE": str((data / ".coverage").resolve())},
    )


@nox.session
def coverage(session: nox.Session) -> None:
    """The coverage floor (pyproject: fail_under) over every Python's run of ``tests``."""
    session.install("coverage[toml]>=7.10")
    dirs = [str(COVERAGE_DIR / v) for v in _pythons() if (COVERAGE_DIR / v).is_dir()]
    if not dirs:
        session.error("no coverage data: run the tests session first")
    session.run("coverage", "erase")
    session.run("coverage", "combine", "--quiet", "--keep", *dirs)
    session.run("coverage", "report")  # fail_under = 90 in pyproject.toml


@nox.session
def docs(session: nox.Session) -> None:
    """The API reference from the docstrings (pdoc) into .docs/, git-ignored.

    Warnings are errors: an annotation or a reference pdoc cannot resolve fails the build.
    """
    session.install(".[cli,gallery,tests]", *nox.project.dependency_groups(PYPROJECT, "docs"))
    # Each public module by name: pdoc follows only the submodules a package's __all__ lists.
    public = ("archive", "cli", "testing", "web")
    modules = ["tengrai_async", *(f"tengrai_async.{name}" for name in public)]
    session.run("python", "-W", "error", "-m", "pdoc", *modules, "-o", ".docs")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks in benchmarks/: medians and side-by-side ratios, printed as tables."""
    session.install(".[cli,gallery]", *nox.project.dependency_groups(PYPROJECT, "bench"))
    session.run("python", "benchmarks/run.py", *session.posargs)
