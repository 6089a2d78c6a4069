"""Do the project's modules import each other in a loop? They must not, lazily or not.

Every import counts, at module level or inside a function: a loop closed by a function-level
import (factory -> cli -> jobs -> factory) still ties the parts together and breaks as soon as
one import moves up. Two idioms are not loops: a blueprint package registering its views by
importing its own modules at the bottom of `__init__.py` while they import its `bp`: a module
importing its own package is not counted (Python imports the package first anyway).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_APP = {"tests", "bench", "migrations", "scripts", "deploy", "instance", "requirements"}


def project_modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[0] in NOT_APP or parts[0].startswith("."):
            continue
        if len(parts) > 1 and not (ROOT / parts[0] / "__init__.py").exists():
            continue  # a folder of scripts, not a package
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # a submodule, maybe
    return names


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(path):
            parts = name.split(".")
            targets.update(".".join(parts[:n]) for n in range(1, len(parts) + 1) if ".".join(parts[:n]) in modules)
        graph[module] = {
            target
            for target in targets
            if target != module and not module.startswith(target + ".")  # not a module's own package
        }
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop as a path (first == last), or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        path.append(module)
        on_path.add(module)
        for target in sorted(graph[module]):
            if target in on_path:
                return path[path.index(target) :] + [target]
            if target not in done:
                found = visit(target)
                if found:
                    return found
        on_path.discard(path.pop())
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done:
            found = visit(module)
            if found:
                return found
    return None


def test_the_project_has_no_import_loop():
    cycle = find_cycle(import_graph(project_modules()))
    assert cycle is None, "import loop: " + " -> ".join(cycle)


def test_the_check_sees_a_loop_closed_inside_a_function(tmp_path):
    graph = {"factory": {"cli"}, "cli": {"jobs.context"}, "jobs.context": {"factory"}, "config": set()}
    cycle = find_cycle(graph)
    assert cycle[0] == cycle[-1] and set(cycle) == {"factory", "cli", "jobs.context"}
    lazy = tmp_path / "lazy.py"
    lazy.write_text("def build():\n    from factory import create_app\n    return create_app()\n")
    assert "factory" in imported_names(lazy)


TOP_LEVEL = sorted({name.split(".")[0] for name in project_modules()} - {"wsgi"})


@pytest.mark.parametrize("first", TOP_LEVEL)
def test_each_part_imports_first_in_a_fresh_interpreter(first):
    # `first` alone, then every other part after it: an import that only works when
    # something else happened to be imported earlier fails here.
    others = [name for name in TOP_LEVEL if name != first]
    code = "; ".join(f"import {name}" for name in [first, *others])
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
