"""The dashboard's layout (issue 17): a slice owns one view state, caches are a thin layer, imports point one way."""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import pytest

DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard"
VIEWS = {"generate": "GenerateView", "reconstruct": "ReconstructView", "traversals": "TraversalView",
         "arithmetic": "ArithmeticView", "your_digit": "DigitSource", "latent_map": "MapView",
         "compare": "CompareView"}
SLICES = sorted(p.parent.name for p in DASHBOARD.glob("*/page.py"))


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_a_slice_keeps_its_view_in_one_frozen_dataclass_beside_its_page(name):
    state = importlib.import_module(f"dashboard.{name}.state")
    view = getattr(state, VIEWS[name])
    assert dataclasses.is_dataclass(view) and view.__dataclass_params__.frozen
    page = (DASHBOARD / name / "page.py").read_text()
    assert "bind=" not in page, "the page binds no widget itself: its state module does"
    assert len(page.splitlines()) <= 100


def test_the_cache_layer_is_thin():
    assert len((DASHBOARD / "shell" / "cache.py").read_text().splitlines()) <= 205


def imported_dashboard_packages(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dashboard."):
            names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith("dashboard.")}
    return names


@pytest.mark.parametrize("name", SLICES)
def test_a_slice_imports_the_shell_and_components_never_another_slice(name):
    for path in (DASHBOARD / name).glob("*.py"):
        others = imported_dashboard_packages(path) - {name, "shell", "components"}
        assert not others, f"{path.name} imports {others}"


def test_the_shell_imports_no_slice():
    for path in (DASHBOARD / "shell").glob("*.py"):
        assert imported_dashboard_packages(path) <= {"shell", "components"}, path.name


def module_name(path: Path) -> str:
    parts = path.relative_to(DASHBOARD.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """{module: the dashboard modules it imports}, from every import statement (a package counts as a module)."""
    modules = {module_name(path): path for path in DASHBOARD.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dashboard"):
                targets |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
        graph[name] = (targets & modules.keys()) - {name}
    return graph


def floors(graph: dict[str, set[str]]) -> dict[str, int]:
    """A module's floor: 1 when it imports no dashboard module, else one above the highest it imports."""
    floor: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> int:
        assert name not in path, f"an import circle: {' -> '.join(path + (name,))}"
        if name not in floor:
            floor[name] = 1 + max((visit(t, path + (name,)) for t in graph[name]), default=0)
        return floor[name]

    for name in graph:
        visit(name, ())
    return floor


def test_the_import_graph_has_no_circle_and_at_most_five_floors():
    floor = floors(import_graph())
    top = max(floor.values())
    assert top <= 5, f"{top} floors: {sorted(n for n, f in floor.items() if f == top)}"
    assert floor["dashboard.shell.cache"] <= 2, "the cache imports only modules that import no other"


def test_no_module_is_long_and_none_imports_another_inside_a_function():
    for path in DASHBOARD.rglob("*.py"):
        tree = ast.parse(path.read_text())
        assert len(path.read_text().splitlines()) <= 300, path
        for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in ast.walk(function):
                module = getattr(node, "module", None) or ""
                names = [alias.name for alias in getattr(node, "names", [])] if isinstance(node, ast.Import) else []
                assert not module.startswith("dashboard") and not any(n.startswith("dashboard") for n in names), \
                    f"{path.relative_to(DASHBOARD)} imports a dashboard module inside {function.name}()"
