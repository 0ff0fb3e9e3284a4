"""Jupyter display: claims, derivations and verdicts as LaTeX; verdicts as HTML tables.

Jupyter calls ``_repr_latex_`` / ``_repr_html_`` on the last value of a cell;
:class:`~twofold.model.Claim`, :class:`~twofold.model.Derivation` and
:class:`~twofold.model.Verdict` delegate them to this module, and
:class:`twofold.api.VerdictTable` (what :func:`twofold.verify_all` returns) shows
many verdicts as one table through :func:`verdicts_html`.  This module renders
what it is given; it never runs a claim nor reaches the registry.

The LaTeX is a single display-math block, ``$$\\begin{gathered} ...
\\end{gathered}$$``, valid both for MathJax in the browser and for a real LaTeX
run (``jupyter nbconvert --to pdf``).  Mathematics comes from ``sympy.latex``
(numbers included: :math:`1.2 \\cdot 10^{-5}`, :math:`\\infty`) or is the
claim's own LaTeX statement; the claims' LaTeX text (titles, step descriptions
and rules, methods, ``proved_for``) is set in ``\\text{...}`` as written
(:func:`twofold.texescape.tex_text`), and every other string (hypothesis
messages, failure messages, details) is escaped with
:func:`twofold.texescape.tex_escape`.  The HTML is a
jinja2 template with autoescaping on, so every string is HTML-escaped; methods
appear there as readable Unicode (:func:`twofold.plaintext.to_unicode`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jinja2
import sympy

from twofold.contract import Estimate
from twofold.model import Claim, Derivation, Verdict
from twofold.plaintext import to_unicode
from twofold.texescape import tex_escape, tex_text

_HTML = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(
    """\
<table class="twofold-verdicts">
<caption style="text-align:left">{{ caption }}</caption>
<thead><tr>
{% for name in columns %}<th style="text-align:left">{{ name }}</th>{% endfor %}

</tr></thead>
<tbody>
{% for row in rows %}
<tr title="{{ row.summary }}">
<td><code>{{ row.claim }}</code></td>
<td style="font-weight:bold;color:{{ '#1a7f37' if row.passed else '#cf222e' }}">{{ 'PASS' if row.passed else 'FAIL' }}</td>
<td>{{ row.params }}</td>
<td>{{ row.statistic }}</td>
<td>{{ row.exact }}</td>
<td>{{ row.estimate }}</td>
<td>{{ row.sample }}</td>
<td>{{ row.seconds }}</td>
<td>{{ row.how }}</td>
</tr>
{% endfor %}
</tbody>
</table>
"""
)
_COLUMNS = ("claim", "result", "parameters", "statistic / threshold", "exact", "estimate", "n / seed", "s", "how decided")


def _text(value: object) -> str:
    return rf"\text{{{tex_escape(value)}}}"


def _latex_text(value: str) -> str:
    return rf"\text{{{tex_text(value)}}}"


def _number(value: float, digits: int = 6) -> str:
    return sympy.latex(sympy.Float(value, digits))


def _display(rows: Iterable[str]) -> str:
    return r"$$\begin{gathered}" + r" \\ ".join(rows) + r"\end{gathered}$$"


def claim_latex(claim: Claim) -> str:
    """Title and id, the statement, each hypothesis with its message, and the source."""
    rows = [rf"\text{{\textbf{{{tex_text(claim.title)}}} \texttt{{({tex_escape(claim.id)})}}}}", claim.statement]
    rows += [rf"\text{{hypothesis {tex_text(h.latex) if h.latex else tex_escape(h.name)}: {tex_escape(h.message)}}}" for h in claim.hypotheses]
    rows.append(_text(f"source: {claim.source}"))
    return _display(rows)


def derivation_latex(derivation: Derivation) -> str:
    """The scope (proved for all ... or checked at the parameter point), each step (number, description, rule,
    kind, checker) over its checked relation; then the conclusion."""
    rows: list[str] = [_latex_text(derivation.scope())]
    for number, step in enumerate(derivation.steps, start=1):
        who = "sympy" if step.checked_by == "sympy" else "certified by the caller"
        rows.append(rf"\text{{{number}. {tex_text(step.description)} ({tex_text(step.rule)}) [{step.kind}, {who}]}}")
        rows.append(step.latex())
    if derivation.result is None:
        rows.append(rf"\text{{\textbf{{{tex_escape(derivation.conclusion)}}}}}")
    else:
        rows.append(rf"\text{{\textbf{{conclusion:}}}}\; {derivation.conclusion}")
    return _display(rows)


def verdict_latex(verdict: Verdict) -> str:
    """The decision with its parameters, then how it was decided: statistic against threshold, both values, n and seed."""
    word = r"\textbf{PASS}" if verdict.passed else r"\textbf{FAIL}"
    rows = [rf"\text{{\texttt{{{tex_escape(verdict.claim_id)}}}: {word}}}\quad {_params_latex(verdict)}"]
    c, e = verdict.comparison, verdict.estimate
    if c is not None:
        relation = r"\le" if c.agree else ">"
        rows.append(rf"{_latex_text(c.method)}:\; {_number(c.statistic, 3)} {relation} {_number(c.threshold, 3)}")
        if c.level:
            rows.append(rf"\text{{test level {tex_text(c.level)}}}")
        rows.append(rf"\text{{exact }} {_number(c.exact, 12)}")
    if verdict.failure is not None:
        rows.append(_text(verdict.failure))
    if e is not None:
        rows.append(rf"\text{{estimate }} {_estimate_latex(e)}")
        seed = "deterministic" if e.seed is None else f"seed {e.seed}"
        rows.append(_text(f"{e.method}; n = {e.n}, {seed}; {verdict.seconds:.2f} s"))
    if verdict.dropped:
        rows.append(_text("hypotheses dropped: " + ", ".join(verdict.dropped)))
    return _display(rows)


def _params_latex(verdict: Verdict) -> str:
    return ",\\ ".join(rf"{_text(name)} = {_value_latex(value)}" for name, value in verdict.params)


def _value_latex(value: Any) -> str:
    return _number(value) if isinstance(value, float) else sympy.latex(value)


def _estimate_latex(estimate: Estimate) -> str:
    out = _number(estimate.value, 12)
    if estimate.stderr is not None:
        out += rf" \pm {_number(estimate.stderr, 3)}\ \text{{(s.e.)}}"
    if estimate.interval is not None:
        low, high = estimate.interval
        out += rf" \in [{_number(low, 12)}, {_number(high, 12)}]"
    return out


def verdicts_html(verdicts: Iterable[Verdict]) -> str:
    """One table row per verdict, as :func:`twofold.report.verdict_table` prints in the terminal."""
    rows = [_row(v) for v in verdicts]
    failed = sum(not row["passed"] for row in rows)
    caption = f"twofold: {len(rows)} claim{'s' * (len(rows) != 1)}, {len(rows) - failed} passed, {failed} failed"
    return _HTML.render(caption=caption, columns=_COLUMNS, rows=rows)


def _row(verdict: Verdict) -> dict[str, Any]:
    c, e = verdict.comparison, verdict.estimate
    how = to_unicode(c.method) if c is not None else verdict.failure or ""
    if verdict.dropped:
        how += f" (hypotheses dropped: {', '.join(verdict.dropped)})"
    return {
        "claim": verdict.claim_id,
        "passed": verdict.passed,
        "summary": verdict.summary(),
        "params": ", ".join(f"{k}={v}" for k, v in verdict.params),
        "statistic": f"{c.statistic:.3g} / {c.threshold:.3g}" if c else "-",
        "exact": f"{c.exact:.12g}" if c else "-",
        "estimate": f"{e.value:.12g} {e.uncertainty()}".rstrip() if e else "-",
        "sample": "-" if e is None else f"{e.n} / {'-' if e.seed is None else e.seed}",
        "seconds": f"{verdict.seconds:.2f}",
        "how": how,
    }
