"""The claims' LaTeX text, three ways: as written in the sheet when safe (tex_text), as Unicode in the
terminal (to_unicode), and the core's own strings (crosscheck methods) written that way."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import twofold
from twofold import crosscheck
from twofold.contract import Estimate
from twofold.plaintext import math_to_unicode, to_unicode
from twofold.texescape import is_latex_text, tex_escape, tex_identifier, tex_text

PSEUDO_MATH = ("<=", ">=", "!=", "**", "^(", "sqrt(", "->", "|z| =")


@pytest.mark.parametrize(
    ("latex", "shown"),
    [
        (r"$z$-test: $|\hat v - v|/\mathrm{se} \le 5$", "z-test: |v̂ - v|/se ≤ 5"),
        (r"$W = U \Lambda^{-1/2}$ whitens", "W = U Λ^(-1/2) whitens"),
        (r"$O(\eta)$ and $N \le d$", "O(η) and N ≤ d"),
        (r"$\chi^2_{19}$, $\alpha = 10^{-6}$", "χ²₁₉, α = 10⁻⁶"),
        (r"$x_{n-1} \ne 0$, $U^\top U$", "xₙ₋₁ ≠ 0, UᵀU"),
        (r"$\frac{a+b}{2}$ and $\tfrac12$", "(a+b)/2 and 1/2"),
        (r"\texttt{taylor.even\_positive}: 50\% $\to$ 1", "taylor.even_positive: 50% → 1"),
        ("plain text, left <= as it is", "plain text, left <= as it is"),
        ("unbalanced { brace", "unbalanced { brace"),
    ],
)
def test_to_unicode(latex: str, shown: str) -> None:
    assert to_unicode(latex) == shown


def test_statements_read_in_the_terminal() -> None:
    assert math_to_unicode(r"f_n'(x) = f_{n-1}(x) \ge 0") == "fₙ'(x) = fₙ₋₁(x) ≥ 0"


@given(st.text(max_size=80))
def test_to_unicode_never_raises(text: str) -> None:
    assert isinstance(to_unicode(text), str)


@pytest.mark.parametrize(
    "safe",
    [r"$|\hat v - v|/\mathrm{se} \le 5$", r"relative error $\le 10^{-9}$", r"\emph{all} even $n \ge 2$", "N <= d (plain)"],
)
def test_safe_latex_text_goes_in_as_written(safe: str) -> None:
    assert tex_text(safe) == safe


@pytest.mark.parametrize(
    "unsafe",
    [r"\input{/etc/passwd}", r"\write18{id}", "a_b outside math", "50% off", "a & b", "#1", r"$x", "{x", "x}", r"$$x$$",
     "two\nlines", r"\def\x{y}", r"\catcode`\%=11", "ends with \\"],
)
def test_unsafe_text_is_escaped(unsafe: str) -> None:
    assert tex_text(unsafe) == tex_escape(unsafe)


def test_non_ascii_in_latex_text_is_mapped() -> None:
    assert tex_text("ρ ≤ 1 in $x$") == r"\ensuremath{\rho} \ensuremath{\le} 1 in $x$"
    assert tex_escape("10⁻⁸ xᵀ") .count(r"\ensuremath") == 3


def test_identifiers_break_only_at_dots_and_underscores() -> None:
    assert tex_identifier("favor.positive_mse") == r"\texttt{favor.\penalty0{}positive\_\penalty5000{}mse}"


def test_core_methods_are_latex_text_without_pseudo_math() -> None:
    estimate = Estimate(value=1.01, method="mean", n=100, stderr=0.01, replicate_stderr=0.011, replicates=20)
    comparisons = [
        crosscheck.z_score(1.0, estimate),
        crosscheck.relative_error(1.0, estimate, rtol=1e-9),
        crosscheck.absolute_error(1.0, estimate, atol=2.5e-8),
        crosscheck.contains(1.0, Estimate(value=1.0, method="iv", n=1, interval=(0.9, 1.1))),
        crosscheck.same_count(3, Estimate(value=3.0, method="count", n=1)),
        crosscheck.stderr_agrees(estimate),
    ]
    for comparison in comparisons:
        assert tex_text(comparison.method) == comparison.method, comparison.method
        shown = to_unicode(comparison.method)
        assert not any(pattern in shown for pattern in PSEUDO_MATH), shown
    z = comparisons[0]
    assert z.statistic == pytest.approx(1.0) and z.threshold == 5.0 and z.level == r"$5\sigma$, $\alpha = 10^{-6}$"
    assert r"10^{-9}" in comparisons[1].method and r"2.5 \cdot 10^{-8}" in comparisons[2].method
    assert comparisons[5].level == r"$\alpha = 10^{-6}$"


def test_combined_comparisons_keep_every_level() -> None:
    estimate = Estimate(value=1.0, method="mean", n=100, stderr=0.01)
    combined = crosscheck.all_of(crosscheck.z_score(1.0, estimate), crosscheck.at_most(0.1, 1.0, "KS", level=r"$\alpha = 10^{-7}$"))
    assert combined.level == r"$5\sigma$, $\alpha = 10^{-7}$"
    assert "z-test: |v̂ - v|/se ≤ 5" not in combined.detail  # the lead's method is in method, the other part in detail
    assert "KS: statistic 0.1 vs 1" in combined.detail


def test_every_claim_title_reads_in_the_terminal() -> None:
    for claim in twofold.all_claims():
        assert to_unicode(claim.title).strip(), claim.id


def test_combining_accents_from_the_terminal_text_become_math_accents() -> None:
    """Details are plain text written with readable Unicode (``|v̂ - v|``); the sheet shows the accent, not U+0302."""
    assert tex_escape("|v\u0302 - v| and x\u0303") == r"\textbar{}\ensuremath{\hat{v}} - v\textbar{} and \ensuremath{\tilde{x}}"
    assert tex_escape("\u0302") == r"\texttt{[U+0302]}"  # an accent on nothing stays visible


def test_probe_reasons_are_latex_text_in_the_sheet_and_unicode_in_the_terminal() -> None:
    probe = twofold.get_claim("favor.orthogonal_unbiased").resolution[-1]
    assert is_latex_text(probe.latex()) and tex_text(probe.latex()) == probe.latex()
    assert "$" not in to_unicode(probe.latex()) and r"\texttt" not in to_unicode(probe.latex())
