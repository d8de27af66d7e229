"""The house's rules, checked: core imports no Qt and no program built on it, its stages
import only the stages below them (the contracts in pyproject.toml), and adding a method is
one file."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT = ("PySide6", "pyqtgraph", "superqt", "shiboken6")
#: The stages of core, lowest first (the README's Layout section).
STAGES = ("common", "io", "methods", "metrics", "backends", "comparison", "display", "report")


def imported_modules(path: Path) -> list[str]:
    """Every module a file imports, at any depth of its code (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_core_imports_no_qt_and_no_program_built_on_it() -> None:
    for path in (ROOT / "core").rglob("*.py"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            assert top not in QT, f"{path.relative_to(ROOT)} imports {name}"
            assert top != "gui", f"{path.relative_to(ROOT)} imports {name}"
            if top == "cli":  # the one deprecated alias, core.TerminalProgress, resolves lazily
                assert path == ROOT / "core" / "__init__.py" and name == "cli.progress", path


def test_each_stage_of_core_imports_only_the_stages_below_it() -> None:
    for path in (ROOT / "core").rglob("*.py"):
        parts = path.relative_to(ROOT / "core").parts
        if len(parts) < 2:
            continue  # core/__init__.py gathers the public names of every stage
        stage = STAGES.index(parts[0])
        for name in imported_modules(path):
            pieces = name.split(".")
            if pieces[0] == "core" and len(pieces) > 1 and pieces[1] in STAGES:
                assert STAGES.index(pieces[1]) <= stage, f"{path.relative_to(ROOT)} ({parts[0]}) imports {name}"


@pytest.mark.skipif(importlib.util.find_spec("importlinter") is None, reason="import-linter is not installed")
def test_the_import_contracts_of_pyproject_hold() -> None:
    done = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_adding_a_method_is_one_file() -> None:
    # Every method module of core/methods registers its own methods: the registry lists
    # them all without any other list to keep (tests read the registry too).
    import core

    ids = {spec.id for spec in core.list_methods()}
    registered_in = {spec.id: spec.function.__module__ for spec in core.list_methods()}
    assert ids == set(registered_in)
    assert all(module.startswith("core.methods.") for module in registered_in.values())
