"""The two encodings stay independent: ``twofold.numerics`` never reaches sympy or ``twofold.theorems``.

Checked twice: statically (every import statement in numerics/, parsed with ``ast``)
and dynamically (importing every numerics module in a fresh interpreter and
inspecting ``sys.modules``, which sees transitive imports too).  The namespace
is checked too: the installed distribution owns the import name ``twofold``
only, so ``import numerics`` and ``import theorems`` fail outside the work tree.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import twofold
import twofold.numerics
import twofold.theorems

FORBIDDEN = ("sympy", "twofold.theorems", "theorems")
NUMERICS_DIR = Path(twofold.numerics.__file__).parent


def _imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__"):
            names.add("<dynamic import>")
    return names


def _forbidden(name: str) -> bool:
    return name == "<dynamic import>" or any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_numerics_source_imports_no_sympy_or_theorems() -> None:
    offenders = {
        path.name: sorted(name for name in _imported_names(path) if _forbidden(name))
        for path in NUMERICS_DIR.glob("*.py")
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_numerics_import_graph_excludes_sympy_and_theorems() -> None:
    modules = [f"twofold.numerics.{info.name}" for info in pkgutil.iter_modules([str(NUMERICS_DIR)])]
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=Path.home()).stdout
    )
    assert [m for m in loaded if _forbidden(m)] == []
    assert len(modules) >= 2


def test_detector_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import numpy\nfrom sympy import Symbol\nimport twofold.theorems.taylor\n", encoding="utf-8")
    assert sorted(n for n in _imported_names(sample) if _forbidden(n)) == ["sympy", "twofold.theorems.taylor"]
