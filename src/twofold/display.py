"""Jupyter display: claims, derivations and verdicts as LaTeX; verdicts as HTML tables.

Jupyter calls ``_repr_latex_`` / ``_repr_html_`` on the last value of a cell;
:class:`~twofold.model.Claim`, :class:`~twofold.model.Derivation` and
:class:`~twofold.model.Verdict` delegate them to this module, and
:class:`VerdictTable` (what :func:`verify_all` returns) shows many verdicts as
one table.

The LaTeX is a single display-math block, ``$$\\begin{gathered} ...
\\end{gathered}$$``, valid both for MathJax in the browser and for a real LaTeX
run (``jupyter nbconvert --to pdf``).  Mathematics comes from ``sympy.latex``
(numbers included: :math:`1.2 \\cdot 10^{-5}`, :math:`\\infty`) or is the
claim's own LaTeX statement; every other string (titles, hypothesis messages,
rules, methods, failure messages) is escaped with
:func:`twofold.sheet.tex_escape` and set in ``\\text{...}``.  The HTML is a
jinja2 template with autoescaping on, so every string is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jinja2
import sympy

from twofold.contract import Estimate
from twofold.model import Claim, Derivation, Verdict
from twofold.registry import select
from twofold.runner import verify_claims
from twofold.sheet import tex_escape

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


def _number(value: float, digits: int = 6) -> str:
    return sympy.latex(sympy.Float(value, digits))


def _display(rows: Iterable[str]) -> str:
    return r"$$\begin{gathered}" + r" \\ ".join(rows) + r"\end{gathered}$$"


def claim_latex(claim: Claim) -> str:
    """Title and id, the statement, each hypothesis with its message, and the source."""
    rows = [rf"\text{{\textbf{{{tex_escape(claim.title)}}} \texttt{{({tex_escape(claim.id)})}}}}", claim.statement]
    rows += [_text(f"hypothesis {h.name}: {h.message}") for h in claim.hypotheses]
    rows.append(_text(f"source: {claim.source}"))
    return _display(rows)


def derivation_latex(derivation: Derivation) -> str:
    """Each step (number, description, rule) over its checked relation; then the conclusion."""
    rows: list[str] = []
    for number, step in enumerate(derivation.steps, start=1):
        rows.append(_text(f"{number}. {step.description} ({step.rule})"))
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
        rows.append(rf"{_text(c.method)}:\; {_number(c.statistic, 3)} {relation} {_number(c.threshold, 3)}")
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
    how = c.method if c is not None else verdict.failure or ""
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


@dataclass(frozen=True, repr=False)
class VerdictTable:
    """Verdicts shown together: an HTML table in Jupyter, one summary line per verdict as text.

    >>> table = VerdictTable(verdicts)        # any iterable of Verdict
    >>> table.passed, len(table), table[0].claim_id
    """

    verdicts: tuple[Verdict, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdicts", tuple(self.verdicts))

    @property
    def passed(self) -> bool:
        """True when every verdict passed."""
        return all(v.passed for v in self.verdicts)

    def __len__(self) -> int:
        return len(self.verdicts)

    def __iter__(self) -> Iterator[Verdict]:
        return iter(self.verdicts)

    def __getitem__(self, index: int) -> Verdict:
        return self.verdicts[index]

    def __repr__(self) -> str:
        return "\n".join(f"{v.claim_id}: {v.summary()}" for v in self.verdicts)

    def _repr_html_(self) -> str:
        return verdicts_html(self.verdicts)


def verify_all(*targets: str, seed: int = 0, profile: str = "quick", jobs: int = 1) -> VerdictTable:
    """Verify claims named by ids or family names (none: every claim), as ``twofold verify`` does, into a table.

    ``jobs`` worker processes as in :func:`twofold.runner.verify_claims` (``0``: one per CPU).
    """
    return VerdictTable(verify_claims(select(list(targets)), seed=seed, profile=profile, jobs=jobs))
