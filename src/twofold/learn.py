"""The learning aid's service layer, shared by ``twofold check`` and ``twofold serve``.

It looks claims up (a family name gets a helpful message), builds the
:class:`~twofold.chain.Context` a derivation is checked in (symbols, the
family's typical mistakes, the reference derivation), and turns claims and
verdicts into the JSON records of ``list --json`` and ``explain --json``
(schemas in ``twofold/schemas``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from twofold import registry
from twofold.chain import ChainReport, Context, check_chain
from twofold.contract import InputError, UnknownClaimError, jsonable
from twofold.diagnosis import mistakes_for, reference_steps
from twofold.model import Claim, Verdict
from twofold.parsing import symbol_table
from twofold.stepcheck import DEFAULT_BUDGET, DEFAULT_TIMEOUT, Runner
from twofold.sandbox import run_limited

MIN_TIMEOUT, MAX_TIMEOUT = 0.1, 30.0


def find_claim(claim_id: str) -> Claim:
    """The claim called ``claim_id``; a family name is answered with the family's claims."""
    family = registry.family(claim_id)
    if family is not None:
        names = ", ".join(claim.id for claim in family.claims)
        raise UnknownClaimError(f"'{claim_id}' is a family, not a claim; name one of its claims: {names}")
    return registry.get_claim(claim_id)


def checked_timeout(seconds: float) -> float:
    """``seconds`` if it is a finite number of seconds within the allowed range, else an input error."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
        raise InputError(f"the timeout must be a finite number of seconds, got {seconds!r}")
    if not MIN_TIMEOUT <= seconds <= MAX_TIMEOUT:
        raise InputError(f"the timeout must be between {MIN_TIMEOUT:g} and {MAX_TIMEOUT:g} seconds, got {seconds:g}")
    return float(seconds)


def context(claim: Claim, *, from_statement: bool = False, runner: Runner = run_limited) -> Context:
    """What lines of ``claim`` are checked with; with ``from_statement``, line 1 is related to the claim's premise.

    The premise is the first step of the claim's own derivation at its quick
    parameters (the statement as an instance that can be checked).
    """
    references = reference_steps(claim.id)
    premise = None
    if from_statement:
        first = next(((latex, statement) for _, latex, statement in references if statement is not None), None)
        if first is None:
            raise InputError(f"{claim.id} has no premise in check's grammar (its derivation has no comparable step)")
        premise = (f"{first[1].lhs} {first[1].relation} {first[1].rhs}", first[1])
    return Context(
        claim=claim.id,
        symbols=symbol_table(claim.symbols),
        functions=claim.functions,
        mistakes=mistakes_for(claim),
        references=tuple(statement for _, _, statement in references),
        premise=premise,
        runner=runner,
    )


def check(
    claim_id: str,
    lines: Sequence[str],
    *,
    from_statement: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    budget: float = DEFAULT_BUDGET,
    runner: Runner = run_limited,
) -> ChainReport:
    """Check the learner's ``lines`` for ``claim_id`` (parse errors and bad ids raise :class:`InputError`)."""
    claim = find_claim(claim_id)
    timeout = checked_timeout(timeout)
    return check_chain(lines, context(claim, from_statement=from_statement, runner=runner), timeout=timeout, budget=budget)


def hints(claim_id: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` steps of the claim's own derivation: number, description, LaTeX and text."""
    claim = find_claim(claim_id)
    derivation = claim.derive(claim.resolve())
    return [
        {"step": number, "description": step.description, "latex": step.latex(), "text": step.text(), "rule": step.rule}
        for number, step in enumerate(derivation.steps[:count], start=1)
    ]


def claim_record(claim: Claim) -> dict[str, Any]:
    """One claim as ``list --json`` shows it (``twofold/schemas/list.schema.json``)."""
    return {
        "id": claim.id,
        "family": claim.family,
        "title": claim.title,
        "statement": claim.statement,
        "source": claim.source,
        "parameters": [
            {"name": p.name, "domain": p.domain(), "quick": jsonable(p.quick), "full": jsonable(p.full), "doc": p.doc}
            for p in claim.parameters
        ],
        "hypotheses": [{"name": h.name, "message": h.message} for h in claim.hypotheses],
        "resolution": [
            {"unit": p.unit, "size": p.size, "key": p.key, "index": p.index, "reason": p.reason} for p in claim.resolution
        ],
        "symbols": sorted(s.name for s in claim.symbols),
        "functions": [f"{f.name}_<n>" for f in claim.functions],
    }


def list_record(claims: Sequence[Claim]) -> dict[str, Any]:
    """The document of ``twofold list --json``."""
    return {"claims": [claim_record(claim) for claim in claims]}


def explain_record(claim: Claim, verdict: Verdict) -> dict[str, Any]:
    """The document of ``twofold explain --json`` (``twofold/schemas/explain.schema.json``): the claim, every
    derivation step, and the verdict record of ``verify --json``."""
    derivation = verdict.derivation
    steps = [] if derivation is None else [
        {
            "description": step.description,
            "latex": step.latex(),
            "text": step.text(),
            "relation": step.relation,
            "rule": step.rule,
            "check": step.check,
            "kind": step.kind,
            "checked_by": step.checked_by,
        }
        for step in derivation.steps
    ]
    return {"claim": claim_record(claim), "steps": steps, "verdict": verdict.to_dict()}
