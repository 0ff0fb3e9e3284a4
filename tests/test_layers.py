"""The core's import graph: no cycle, and every import goes down the layers of docs/architecture.md.

Read with ``ast`` from the source files of the installed ``twofold`` package (nothing is imported),
so a new module or a new import is checked the moment it is written.  Imports under
``if TYPE_CHECKING:`` are annotations, not dependencies, and are left out.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

import twofold

PACKAGE = Path(twofold.__file__).parent

# docs/architecture.md draws these layers; a module may import its own layer (without a cycle) and the ones below.
LAYERS = {
    "contract": 0, "texescape": 0, "plaintext": 0, "parsing": 0, "sandbox": 0, "refute": 0, "transfer": 0,
    "dask_local": 0,
    "model": 1,
    "derivation": 2, "crosscheck": 2, "stepcheck": 2, "store": 2, "grid": 2, "sweep_stats": 2,
    "theorems": 3, "numerics": 3, "claims": 3, "drawings": 3,
    "registry": 4, "runner": 4, "audit": 4, "power": 4, "api": 4, "executors": 4, "sweeps": 4,
    "diagnosis": 4, "chain": 4, "learn": 4,
    "report": 5, "display": 5, "sheet": 5, "figures": 5, "sweep_report": 5,
    "cli": 6, "cli_sweep": 6, "cli_learn": 6, "clidoc": 6, "pytest_plugin": 6, "__main__": 6, "serve": 6,
}
RENDERERS = ("report", "display", "sheet", "figures", "sweep_report")
# What a renderer never reaches, not even inside a function: it is given verdicts and families.
RUNS_OR_LOOKS_UP = {"registry", "runner", "api", "audit", "power", "claims", "cli", "executors", "sweeps", "learn"}
# Jupyter hooks (Claim._repr_latex_, VerdictTable._repr_html_, ...) hand the object to the renderer at display time.
LATE_BINDINGS = {("model", "display"), ("api", "display")}


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.glob("*.py"))}


def _targets(node: ast.AST, known: set[str]) -> set[str]:
    """The twofold modules (top-level names) an import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    else:
        return set()
    found = set()
    for name in names:
        parts = name.split(".")
        if parts[0] == "twofold" and len(parts) > 1 and parts[1] in known | set(LAYERS):
            found.add(parts[1])
    return found


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(tree: ast.Module, known: set[str], top_level_only: bool) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            inside_function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if not (top_level_only and inside_function):
                found.update(_targets(child, known))
                visit(child, top and not inside_function)

    visit(tree, True)
    return found


@pytest.fixture(scope="module")
def modules() -> dict[str, ast.Module]:
    return _modules()


def test_module_level_imports_have_no_cycle(modules: dict[str, ast.Module]) -> None:
    known = set(modules)
    graph = {name: _imports(tree, known, top_level_only=True) & known for name, tree in modules.items()}
    graphlib.TopologicalSorter(graph).static_order()  # raises CycleError naming the cycle


def test_no_cycle_even_through_imports_inside_functions(modules: dict[str, ast.Module]) -> None:
    known = set(modules)
    graph = {
        name: {target for target in _imports(tree, known, top_level_only=False) & known if (name, target) not in LATE_BINDINGS}
        for name, tree in modules.items()
    }
    graphlib.TopologicalSorter(graph).static_order()


def test_imports_go_down_the_layers(modules: dict[str, ast.Module]) -> None:
    known = set(modules)
    upward = [
        f"{name} (layer {LAYERS[name]}) imports {target} (layer {LAYERS[target]})"
        for name, tree in modules.items()
        if name in LAYERS
        for target in _imports(tree, known, top_level_only=False)
        if target in LAYERS and LAYERS[target] > LAYERS[name] and (name, target) not in LATE_BINDINGS
    ]
    assert not upward, upward


@pytest.mark.parametrize("renderer", RENDERERS)
def test_renderers_never_run_claims_nor_reach_the_registry(modules: dict[str, ast.Module], renderer: str) -> None:
    reached = _imports(modules[renderer], set(modules), top_level_only=False) & RUNS_OR_LOOKS_UP
    assert not reached, f"{renderer} imports {sorted(reached)}"


def test_every_core_module_has_a_layer(modules: dict[str, ast.Module]) -> None:
    """New modules are placed in docs/architecture.md and here (the package's own __init__ is lazy: PEP 562)."""
    unplaced = sorted(set(modules) - set(LAYERS) - {"__init__"})
    assert not unplaced, f"give these modules a layer in LAYERS and docs/architecture.md: {unplaced}"


def test_the_graph_reader_sees_imports(modules: dict[str, ast.Module]) -> None:
    """The reader is not vacuous: it finds known edges of each kind."""
    known = set(modules)
    assert "registry" in _imports(modules["api"], known, top_level_only=True)
    assert "report" in _imports(modules["cli"], known, top_level_only=False)
    assert "report" not in _imports(modules["cli"], known, top_level_only=True)
    assert "audit" not in _imports(modules["report"], known, top_level_only=False)  # under TYPE_CHECKING only
    assert "display" in _imports(modules["model"], known, top_level_only=False)
