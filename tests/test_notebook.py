"""docs/notebook.ipynb is stored clean and runs top to bottom in a real ``python3`` kernel (nbclient + ipykernel)."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import twofold

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebook.ipynb"
CELL_TIMEOUT = 120
"""Seconds per cell: generous, for a loaded CI machine (the whole notebook takes about 8 s of CPU)."""


def _outputs(cell: nbformat.NotebookNode, mime: str) -> str:
    """All of a code cell's output in ``mime`` (``text/plain`` also collects printed text)."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream" and mime == "text/plain":
            parts.append(output.text)
        parts.append(output.get("data", {}).get(mime, ""))
    return "".join(parts)


@pytest.fixture(scope="module")
def executed() -> list[nbformat.NotebookNode]:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_notebook_is_stored_valid_and_clean() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4 and notebook.metadata.kernelspec.name == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)


def test_notebook_runs_top_to_bottom(executed: list[nbformat.NotebookNode]) -> None:
    assert not [output for cell in executed for output in cell.outputs if output.output_type == "error"]
    assert all(cell.execution_count for cell in executed)


def test_notebook_shows_claims_verdicts_and_derivations(executed: list[nbformat.NotebookNode]) -> None:
    listing, claim, verdict, _, derivation, broken, failure, table, summary, steps = executed
    taylor = len(twofold.select(["taylor"]))
    assert f"taylor ({taylor}): derivative_identity" in _outputs(listing, "text/plain")
    assert r"\forall x \in \mathbb{R}" in _outputs(claim, "text/latex")
    assert r"\textbf{PASS}" in _outputs(verdict, "text/latex") and ">PASS</td>" in _outputs(verdict, "text/html")
    assert r"\text{\textbf{conclusion:}}" in _outputs(derivation, "text/latex")
    assert ">FAIL</td>" in _outputs(broken, "text/html") and "hypotheses dropped: n even" in _outputs(broken, "text/html")
    assert _outputs(failure, "text/plain").startswith("derivation: step 'f₅ grows without bound as x → -∞' does not check")
    html = _outputs(table, "text/html")
    assert f"twofold: {taylor} claims, {taylor} passed, 0 failed" in html and html.count(">PASS</td>") == taylor
    assert _outputs(summary, "text/plain") == f"(True, {taylor})"
    valid, invalid = _outputs(steps, "text/plain").splitlines()
    assert valid.startswith("valid: sympy proves it")
    counterexample = re.fullmatch(r"invalid: fails at x = (-?\d+)\b.*: lhs = (\S+), rhs = 0", invalid)
    assert counterexample, invalid
    x = Fraction(counterexample.group(1))
    assert Fraction(counterexample.group(2)) == 1 + x + x**2 / 2 + x**3 / 6 < 0  # f_3 really is negative there
