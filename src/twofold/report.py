"""Terminal rendering with rich: verdict tables, claim lists, step-by-step explanations.

The claims' LaTeX text (titles, step descriptions and rules, methods, hypothesis and
parameter ``latex``) is shown as readable Unicode (:func:`twofold.plaintext.to_unicode`);
formulas are sympy's pretty printing.  This module renders what it is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import sympy
from rich.console import Console
from rich.table import Table
from rich.text import Text

from twofold.contract import Estimate
from twofold.model import Claim, Comparison, Derivation, Parameter, Verdict
from twofold.plaintext import math_to_unicode, to_unicode

if TYPE_CHECKING:  # a renderer reads audit rows; it does not run the audit
    from twofold.audit import AuditRow


def print_claims(console: Console, claims: Iterable[Claim]) -> None:
    """Every claim with its source, statement, parameters (quick value and domain) and hypotheses."""
    for claim in claims:
        console.print(Text(claim.id, style="bold"), Text(f"  {to_unicode(claim.title)}"))
        for label, value in (
            ("source", claim.source),
            ("statement", math_to_unicode(claim.statement)),
            ("parameters", "; ".join(parameter_text(p) for p in claim.parameters) or "none"),
            ("hypotheses", "; ".join(h.name for h in claim.hypotheses) or "none"),
        ):
            console.print(Text(f"    {label}: ", style="dim") + Text(value))


def parameter_text(parameter: Parameter) -> str:
    """``n=8 (int in [2, 64])``: the name as given to ``--param``, its quick value, its domain."""
    return f"{parameter.name}={_value_text(parameter.quick)} ({parameter.domain()})"


def _value_text(value: object) -> str:
    """A parameter value as ``--param`` takes it (``true``/``false`` for a bool)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def method_text(comparison: Comparison) -> str:
    """How the comparison decided, as readable Unicode (the method is LaTeX text), with its test level."""
    level = f" [level {to_unicode(comparison.level)}]" if comparison.level else ""
    return to_unicode(comparison.method) + level


def verdict_table(verdicts: Iterable[Verdict]) -> Table:
    """One row per verdict: the decision and its numbers first, how it was decided last."""
    table = Table(title="twofold verify", show_lines=False)
    table.add_column("claim", no_wrap=True)
    table.add_column("result", justify="center", no_wrap=True)
    for column in ("statistic / threshold", "exact", "estimate", "n / seed", "s"):
        table.add_column(column, justify="right", overflow="fold")
    table.add_column("how decided", overflow="fold")
    for v in verdicts:
        result = Text("PASS", style="bold green") if v.passed else Text("FAIL", style="bold red")
        c, e = v.comparison, v.estimate
        table.add_row(
            Text(v.claim_id),
            result,
            _decision(c) if c else "-",
            f"{c.exact:.8g}" if c else "-",
            Text(_estimate_cell(e)),
            "-" if e is None else f"{e.n} / {'-' if e.seed is None else e.seed}",
            f"{v.seconds:.2f}",
            Text(method_text(c) if c else (v.failure or "")),
        )
    return table


def verdict_lines(verdicts: Iterable[Verdict]) -> Text:
    """The same content as :func:`verdict_table` for narrow consoles: one block per verdict."""
    text = Text()
    for v in verdicts:
        c, e = v.comparison, v.estimate
        text.append("PASS" if v.passed else "FAIL", style="bold green" if v.passed else "bold red")
        text.append(f" {v.claim_id}  ({v.seconds:.2f} s)\n", style="bold")
        if c is not None:
            text.append(f"    {_decision(c, long=True)}; exact {c.exact:.8g}\n")
        if e is not None:
            seed = "-" if e.seed is None else e.seed
            text.append(f"    estimate {_estimate_cell(e)}  (n = {e.n}, seed = {seed})\n")
        text.append(f"    how decided: {method_text(c) if c else v.failure}\n", style="dim")
    return text


def _decision(comparison: Comparison, long: bool = False) -> str:
    """The statistic against its threshold; for an exact match (threshold 0: a count, an interval, no
    counterexample), where that would read "0 vs 0", the words "exact match" (the values stand beside it)."""
    c = comparison
    if c.threshold == 0:
        return ("exact match: " if long else "") + ("agree" if c.agree else f"off by {c.statistic:.3g}")
    return f"statistic {c.statistic:.3g} vs threshold {c.threshold:.3g}" if long else f"{c.statistic:.3g} / {c.threshold:.3g}"


def _estimate_cell(estimate: Estimate | None) -> str:
    """Value with its uncertainty, compactly (``--json`` and ``explain`` carry every digit)."""
    if estimate is None:
        return "-"
    cell = f"{estimate.value:.8g}"
    if estimate.stderr is not None:
        cell += f" ± {estimate.stderr:.2g}"
    if estimate.interval is not None:
        cell += f" in [{estimate.interval[0]:.8g}, {estimate.interval[1]:.8g}]"
    return cell


def print_derivation(console: Console, derivation: Derivation, params: str = "") -> None:
    """Scope (proved for all ... / checked at ``params``), then each step with its kind, who checked it and how."""
    scope = f"proved for {to_unicode(derivation.proved_for)}" if derivation.proved_for else f"checked at {params or 'the parameter point'}"
    counts = ", ".join(f"{count} {kind}" for kind, count in derivation.kinds().items() if count)
    console.print(f"{scope}  ({counts or 'no steps'})", style="bold", highlight=False, markup=False)
    for number, step in enumerate(derivation.steps, start=1):
        title = Text(f"{number}. {to_unicode(step.description)}", style="bold")
        console.print(title + Text(f"  ({to_unicode(step.rule)})", style="dim"), highlight=False)
        console.print(_pretty(step.lhs, step.relation, step.rhs), highlight=False, markup=False)
        who = "checked by sympy" if step.checked_by == "sympy" else "certified by the caller"
        console.print(f"   [{step.kind}, {who}] {step.check}", style="dim", highlight=False, markup=False)
    if derivation.result is None:
        console.print(derivation.conclusion, style="bold red", highlight=False, markup=False)
        return
    console.print(f"conclusion: {math_to_unicode(derivation.conclusion)}", style="bold", highlight=False, markup=False)
    console.print(f"exact result: {sympy.sstr(derivation.result)}", highlight=False, markup=False)


def _pretty(lhs: object, relation: str, rhs: object) -> str:
    text = f"{sympy.pretty(lhs, use_unicode=True)}\n  {relation}\n{sympy.pretty(rhs, use_unicode=True)}"
    return "\n".join("   " + line for line in text.splitlines())


def print_estimate(console: Console, estimate: Estimate) -> None:
    console.print(f"method: {estimate.method}", highlight=False, markup=False)
    console.print(f"value: {estimate.value:.15g} {estimate.uncertainty()}", highlight=False, markup=False)
    console.print(f"n = {estimate.n}, seed = {estimate.seed}", highlight=False, markup=False)
    for key, value in estimate.details.items():
        console.print(f"  {key}: {_short(value)}", highlight=False, markup=False)


def _short(value: object, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + " ..."


def print_explanation(console: Console, claim: Claim, verdict: Verdict) -> None:
    """The claim, its hypotheses, the derivation step by step, the numeric evidence and the resolution of the
    comparison (what error it must reject), the verdict."""
    console.rule(f"{claim.id}: {to_unicode(claim.title)}")
    console.print(f"source: {claim.source}", highlight=False, markup=False)
    console.print(f"statement: {math_to_unicode(claim.statement)}", highlight=False, markup=False)
    for hypothesis in claim.hypotheses:
        dropped = "  [DROPPED]" if hypothesis.name in verdict.dropped else ""
        console.print(f"hypothesis '{hypothesis.name}': {hypothesis.message}{dropped}", highlight=False, markup=False)
    params = ", ".join(f"{k}={_value_text(v)}" for k, v in verdict.params)
    console.print(f"parameters: {params}", highlight=False, markup=False)
    console.rule("exact derivation (sympy)")
    if verdict.derivation is not None:
        print_derivation(console, verdict.derivation, params)
    console.rule("numeric evidence (numpy/scipy/networkx/mpmath)")
    if verdict.estimate is not None:
        print_estimate(console, verdict.estimate)
    else:
        console.print("the estimator gave no trustworthy number (see the verdict)", style="red")
    for probe in claim.resolution:
        console.print(f"resolution: {to_unicode(probe.latex())}", highlight=False, markup=False)
    console.rule("verdict")
    style = "bold green" if verdict.passed else "bold red"
    console.print(verdict_summary(verdict), style=style, highlight=False, markup=False)


def verdict_summary(verdict: Verdict) -> str:
    """:meth:`Verdict.summary <twofold.model.Verdict.summary>` with the method as readable Unicode."""
    if verdict.comparison is None:
        return verdict.summary()
    return verdict.summary().replace(verdict.comparison.method, method_text(verdict.comparison), 1)


def audit_table(rows: Iterable[AuditRow]) -> Table:
    """The detection table of ``twofold audit``: one row per known-false variant."""
    table = Table(title="known-false variants")
    for column in ("claim", "variant", "caught", "how"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row.claim, row.name, "yes" if row.caught else "NO", _short(to_unicode(row.how), 160))
    return table
