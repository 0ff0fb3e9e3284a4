"""Jupyter reprs: LaTeX of claims, derivations and verdicts; HTML tables of verdicts; escaping of hostile text."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import twofold
from twofold.api import VerdictTable
from twofold.display import (
    claim_latex,
    derivation_latex,
    verdict_latex,
    verdicts_html,
)
from twofold.sheet import compile_pdf, tex_engine
from twofold.texescape import tex_escape, tex_text

HOSTILE_TITLE = r"<script>alert('x')</script> & \input{/etc/passwd} $x$ % #"
HOSTILE_ID = "taylor.<script>alert(1)</script>&amp"


@pytest.fixture(scope="module")
def claim() -> twofold.Claim:
    return twofold.get_claim("taylor.even_positive")


@pytest.fixture(scope="module")
def passed(claim: twofold.Claim) -> twofold.Verdict:
    return claim.verify(seed=0, n=6)


@pytest.fixture(scope="module")
def failed(claim: twofold.Claim) -> twofold.Verdict:
    return claim.verify(seed=0, n=5, drop=("n even",))


@pytest.fixture(scope="module")
def hostile(claim: twofold.Claim) -> twofold.Claim:
    return dataclasses.replace(claim, id=HOSTILE_ID, title=HOSTILE_TITLE, source=r"\write18{id} & <b>")


def test_claim_latex_has_title_statement_hypotheses_source(claim: twofold.Claim) -> None:
    latex = claim._repr_latex_()
    assert latex == claim_latex(claim)
    assert latex.startswith("$$") and latex.endswith("$$")
    assert claim.statement in latex
    (even,) = claim.hypotheses
    shown = tex_text(even.latex) if even.latex else tex_escape(even.name)
    assert rf"\text{{hypothesis {shown}: {tex_escape(even.message)}}}" in latex
    assert r"taylor.even\_positive" in latex and "kexue.fm" in latex


def test_hostile_claim_text_is_escaped_in_latex(hostile: twofold.Claim) -> None:
    latex = hostile._repr_latex_()
    assert r"\textbackslash{}input\{/etc/passwd\}" in latex
    assert r"\textbackslash{}write18\{id\} \& \textless{}b\textgreater{}" in latex
    assert r"\& \textbackslash{}input" in latex and r"\$x\$ \% \#" in latex
    assert r"\input" not in latex and r"\write18" not in latex


def test_derivation_latex_shows_every_checked_step(passed: twofold.Verdict, failed: twofold.Verdict) -> None:
    derivation = passed.derivation
    latex = derivation._repr_latex_()
    assert latex == derivation_latex(derivation)
    for number, step in enumerate(derivation.steps, start=1):
        assert step.latex() in latex
        assert f"{number}. " in latex
    assert derivation.conclusion in latex
    broken = failed.derivation._repr_latex_()
    assert r"\textbf{does not go through: step '" in broken and "grows without bound" in broken


def test_verdict_latex_shows_decision_and_evidence(passed: twofold.Verdict, failed: twofold.Verdict) -> None:
    latex = passed._repr_latex_()
    assert latex == verdict_latex(passed)
    assert r"\textbf{PASS}" in latex and r"\text{n} = 6" in latex
    assert r"\text{exact }" in latex and r"\text{estimate }" in latex and "deterministic" in latex
    broken = failed._repr_latex_()
    assert r"\textbf{FAIL}" in broken and r"\text{derivation: step" in broken
    assert r"\text{hypotheses dropped: n even}" in broken


def test_verdict_html_is_a_one_row_table(passed: twofold.Verdict) -> None:
    html = passed._repr_html_()
    assert html.count("<tr title=") == 1 and "twofold: 1 claim, 1 passed, 0 failed" in html
    assert "<code>taylor.even_positive</code>" in html and ">PASS</td>" in html and "<td>n=6</td>" in html


def test_hostile_text_is_escaped_in_html(hostile: twofold.Claim, passed: twofold.Verdict) -> None:
    verdict = hostile.verify(seed=0, n=6)
    odd = dataclasses.replace(passed, failure="<img src=x onerror=alert(1)> & more", passed=False)
    html = VerdictTable([verdict, odd])._repr_html_()
    assert "<script>" not in html and "<img" not in html and "&amp;amp" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp" in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; more" in html


def test_verdict_table_record(passed: twofold.Verdict, failed: twofold.Verdict) -> None:
    table = VerdictTable(v for v in [passed, failed])
    assert isinstance(table.verdicts, tuple) and len(table) == 2 and list(table) == [passed, failed]
    assert table[1] is failed and not table.passed and VerdictTable([passed]).passed
    assert repr(table).splitlines() == [f"taylor.even_positive: {v.summary()}" for v in (passed, failed)]
    html = table._repr_html_()
    assert html == verdicts_html([passed, failed])
    assert html.count("<tr title=") == 2 and "2 claims, 1 passed, 1 failed" in html
    assert ">FAIL</td>" in html and "(hypotheses dropped: n even)" in html


def test_verify_all_selects_like_the_cli() -> None:
    table = twofold.verify_all("taylor.critical_structure", "taylor.even_positive", seed=1)
    assert [v.claim_id for v in table] == ["taylor.critical_structure", "taylor.even_positive"]
    assert table.passed
    with pytest.raises(twofold.UnknownClaimError, match="did you mean taylor.even_positive"):
        twofold.verify_all("taylor.even_positiv")


@pytest.mark.tex
def test_latex_reprs_compile(tmp_path: Path, claim: twofold.Claim, hostile: twofold.Claim, passed, failed) -> None:
    """The reprs are real LaTeX (what ``jupyter nbconvert --to pdf`` typesets), hostile text included.

    Display math does not wrap text, so a wide page keeps long failure messages readable to pdftotext."""
    if tex_engine() is None or shutil.which("pdftotext") is None:
        if os.environ.get("TWOFOLD_REQUIRE_TEX") == "1":
            pytest.fail("TWOFOLD_REQUIRE_TEX=1 but latexmk/pdflatex/pdftotext are missing")
        pytest.skip("no TeX engine or pdftotext")
    reprs = [obj._repr_latex_() for obj in (claim, hostile, passed, passed.derivation, failed, failed.derivation)]
    preamble = "\\documentclass{article}\\usepackage{amsmath,amssymb}\\usepackage[paperwidth=150cm,paperheight=60cm]{geometry}"
    source = preamble + "\n\\begin{document}\n" + "\n\n".join(reprs) + "\n\\end{document}\n"
    pdf = compile_pdf(source, tmp_path / "reprs.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert r"\input{/etc/passwd}" in text and "root:x:0" not in text
    assert "PASS" in text and "FAIL" in text and "hypotheses dropped: n even" in text
