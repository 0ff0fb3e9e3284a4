"""Terminal rendering with rich: verdict tables, claim lists, step-by-step explanations."""

from __future__ import annotations

from collections.abc import Iterable

import sympy
from rich.console import Console
from rich.table import Table
from rich.text import Text

from numerics.estimate import Estimate
from twofold.model import Claim, Derivation, Verdict


def claims_table(claims: Iterable[Claim]) -> Table:
    table = Table(title="twofold claims", show_lines=False)
    table.add_column("id", no_wrap=True)
    for column in ("title", "parameters (quick)", "hypotheses"):
        table.add_column(column, overflow="fold")
    for claim in claims:
        params = ", ".join(f"{p.name}={p.quick}" for p in claim.parameters)
        hypotheses = "; ".join(h.name for h in claim.hypotheses)
        table.add_row(Text(claim.id), Text(claim.title), Text(params), Text(hypotheses))
    return table


def verdict_table(verdicts: Iterable[Verdict]) -> Table:
    table = Table(title="twofold verify", show_lines=False)
    table.add_column("claim", no_wrap=True)
    for column, justify in (
        ("result", "center"),
        ("how decided", "left"),
        ("statistic / threshold", "right"),
        ("exact", "right"),
        ("estimate", "right"),
        ("n", "right"),
        ("seed", "right"),
        ("s", "right"),
    ):
        table.add_column(column, justify=justify, overflow="fold")
    for v in verdicts:
        result = Text("PASS", style="bold green") if v.passed else Text("FAIL", style="bold red")
        c, e = v.comparison, v.estimate
        table.add_row(
            Text(v.claim_id),
            result,
            Text(c.method if c else (v.failure or "")),
            f"{c.statistic:.3g} / {c.threshold:.3g}" if c else "-",
            f"{c.exact:.10g}" if c else "-",
            Text(_estimate_cell(e)),
            str(e.n) if e else "-",
            "-" if e is None or e.seed is None else str(e.seed),
            f"{v.seconds:.2f}",
        )
    return table


def _estimate_cell(estimate: Estimate | None) -> str:
    if estimate is None:
        return "-"
    return f"{estimate.value:.10g} {estimate.uncertainty()}"


def print_derivation(console: Console, derivation: Derivation) -> None:
    for number, step in enumerate(derivation.steps, start=1):
        console.print(f"[bold]{number}. {step.description}[/bold]  [dim]({step.rule})[/dim]", highlight=False)
        console.print(_pretty(step.lhs, step.relation, step.rhs), highlight=False, markup=False)
        console.print(f"   checked: {step.check}", style="dim", highlight=False, markup=False)
    if derivation.result is None:
        console.print(derivation.conclusion, style="bold red", highlight=False, markup=False)
        return
    console.print(f"conclusion: {derivation.conclusion}", style="bold", highlight=False, markup=False)
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
    """The claim, its hypotheses, the derivation step by step, the numeric evidence, the verdict."""
    console.rule(f"{claim.id}: {claim.title}")
    console.print(f"source: {claim.source}", highlight=False, markup=False)
    console.print(f"statement: {claim.statement}", highlight=False, markup=False)
    for hypothesis in claim.hypotheses:
        dropped = "  [DROPPED]" if hypothesis.name in verdict.dropped else ""
        console.print(f"hypothesis '{hypothesis.name}': {hypothesis.message}{dropped}", highlight=False, markup=False)
    console.print("parameters: " + ", ".join(f"{k}={v}" for k, v in verdict.params), highlight=False, markup=False)
    console.rule("exact derivation (sympy)")
    if verdict.derivation is not None:
        print_derivation(console, verdict.derivation)
    console.rule("numeric evidence (numpy/scipy/networkx/mpmath)")
    if verdict.estimate is not None:
        print_estimate(console, verdict.estimate)
    else:
        console.print("the estimator gave no trustworthy number (see the verdict)", style="red")
    console.rule("verdict")
    style = "bold green" if verdict.passed else "bold red"
    console.print(verdict.summary(), style=style, highlight=False, markup=False)
