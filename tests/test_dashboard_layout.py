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
