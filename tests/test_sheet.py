"""LaTeX proof sheets: escaping, rendering, and a real PDF checked with pdftotext.

Without TeX the PDF tests skip — unless ``TWOFOLD_REQUIRE_TEX=1`` (set by
``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import twofold
from twofold.contract import TexError
from twofold.sheet import compile_pdf, overfull_boxes, render_tex, tex_engine, write_sheet
from twofold.texescape import tex_breakable, tex_escape

HOSTILE = [r"\input{/etc/passwd}", r"\write18{rm -rf /}", r"\immediate\write18{id}", "$x$ & # % _ ^ ~ { } < > |", "我爱 ρ ≤ 1 ±"]


def _need_tex() -> None:
    if tex_engine() is None or shutil.which("pdftotext") is None:
        if os.environ.get("TWOFOLD_REQUIRE_TEX") == "1":
            pytest.fail("TWOFOLD_REQUIRE_TEX=1 but latexmk/pdflatex/pdftotext are missing")
        pytest.skip("no TeX engine or pdftotext")


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_leaves_no_active_characters(text: str) -> None:
    escaped = tex_escape(text)
    stripped = escaped
    for safe in (r"\textbackslash{}", r"\{", r"\}", r"\$", r"\&", r"\#", r"\%", r"\_", r"\textasciitilde{}",
                 r"\textasciicircum{}", r"\textless{}", r"\textgreater{}", r"\textbar{}"):
        stripped = stripped.replace(safe, "")
    assert "\\input" not in stripped and "\\write" not in stripped
    assert not any(ch in stripped for ch in "$&#%_^~<>|") or "ensuremath" in escaped


def test_breakable_text_is_escaped_and_may_wrap_after_operators() -> None:
    assert tex_breakable("f(x)*2 = y_1") == r"f(\allowbreak{}x)\allowbreak{}*\allowbreak{}2 =\allowbreak{} y\_1"
    assert tex_breakable(r"\input{a}") == tex_escape(r"\input{a}")


@pytest.fixture(scope="module")
def taylor_pairs() -> list[tuple[twofold.Claim, twofold.Verdict]]:
    return [(claim, claim.verify(seed=0)) for claim in twofold.select(["taylor"])]


def test_rendered_tex_contains_statements_and_evidence(taylor_pairs) -> None:
    source = render_tex(taylor_pairs)
    assert source.count(r"\section{") == 1 and source.count(r"\subsection{") == len(taylor_pairs)
    assert r"\begin{longtable}[l]" in source and "checked by sympy" in source
    for pair in taylor_pairs:
        derivation = pair[1].derivation
        scope = f"Proved for {derivation.proved_for}" if derivation.proved_for else "Checked at "
        assert scope in source, pair[0].id


@pytest.mark.tex
def test_taylor_sheet_compiles_and_reads_back(tmp_path: Path, taylor_pairs) -> None:
    _need_tex()
    result = write_sheet(taylor_pairs, tmp_path / "taylor.pdf")
    assert result.pdf is not None and result.pdf.read_bytes().startswith(b"%PDF")
    text = _pdf_text(result.pdf)
    flat = " ".join(text.split())
    for claim, _ in taylor_pairs:  # the longest stretch of the title outside math reads back as it is written
        words = max(re.split(r"\$[^$]*\$|\(", claim.title), key=len).strip()
        assert len(words) >= 8 and words[:30] in flat, claim.title
    for word in ("Statement.", "Derivation", "Numeric evidence", "decided by", "statistic", "PASS", "seed"):
        assert word in text
    assert "Even truncations are positive (T3)" in text


@pytest.mark.tex
def test_hostile_text_is_typeset_not_executed(tmp_path: Path, taylor_pairs) -> None:
    _need_tex()
    claim, verdict = taylor_pairs[0]
    hostile = twofold.Claim(**{**claim.__dict__, "title": " ".join(HOSTILE), "source": r"\input{/etc/passwd}"})
    pdf = compile_pdf(render_tex([(hostile, verdict)]), tmp_path / "hostile.pdf")
    text = _pdf_text(pdf)
    assert r"\input{/etc/passwd}" in text and "root:x:0" not in text
    assert r"\write18{rm -rf /}" in text


@pytest.mark.tex
def test_tex_errors_are_reported_in_one_line(tmp_path: Path) -> None:
    _need_tex()
    with pytest.raises(TexError, match="latexmk failed: .*Undefined control sequence"):
        compile_pdf("\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}", tmp_path / "bad.pdf")


def test_without_tex_the_tex_is_written_and_no_pdf_claimed(tmp_path: Path, taylor_pairs, monkeypatch) -> None:
    monkeypatch.setattr("twofold.sheet.tex_engine", lambda: None)
    with pytest.raises(TexError, match="no PDF made"):
        write_sheet(taylor_pairs, tmp_path / "taylor.pdf")
    assert (tmp_path / "taylor.tex").exists() and not (tmp_path / "taylor.pdf").exists()


@pytest.mark.tex
def test_engine_itself_refuses_absolute_reads_and_shell_escape(tmp_path: Path) -> None:
    """Defence in depth, for raw LaTeX that escaping would never let through."""
    _need_tex()
    with pytest.raises(TexError, match="not found"):
        compile_pdf("\\documentclass{article}\\begin{document}\\input{/etc/passwd}\\end{document}", tmp_path / "a.pdf")
    marker = tmp_path / "pwned"
    compile_pdf(
        f"\\documentclass{{article}}\\begin{{document}}\\immediate\\write18{{touch {marker}}}x\\end{{document}}",
        tmp_path / "b.pdf",
    )
    assert not marker.exists()


@pytest.mark.tex
def test_a_failed_claim_with_no_checked_step_typesets(tmp_path: Path) -> None:
    """Dropping "n even" breaks the derivation at its first step: no steps, a FAIL, a long formula in text."""
    _need_tex()
    claim = twofold.get_claim("taylor.even_positive")
    hypothesis = claim.hypothesis("n even")
    verdict = claim.verify(seed=0, drop=(hypothesis.name,), **hypothesis.witness)
    assert not verdict.passed and not verdict.derivation.steps
    result = write_sheet([(claim, verdict)], tmp_path / "failed.pdf")
    text = " ".join(_pdf_text(result.pdf).split())
    assert "FAIL" in text and "does not go through" in text and "(dropped for this run)" in text
    assert overfull_boxes(result.log) == []
