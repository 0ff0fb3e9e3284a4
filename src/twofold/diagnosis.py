"""Diagnosis of a learner's line: a known typical mistake, or a step of the claim's own derivation.

A family declares its typical wrong steps as :class:`~twofold.model.Mistake`
records (``wrong`` in ``twofold check``'s grammar).  An invalid line *matches* a
mistake when the two say the same thing: their differences ``lhs - rhs`` agree
up to a non-zero constant factor (with the direction of an inequality turned
when the factor is negative), or, in one variable, their truth sets are equal.
A line *is* reference step ``j`` when its two sides equal that step's two sides
(in either order).

:func:`mistakes_for` and :func:`reference_steps` run in the parent (trusted
claim code, safe parser); :func:`matching_mistake` and :func:`matching_step` do
sympy work and run inside the sandbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import functools
from functools import cache

import sympy

from twofold import registry
from twofold.derivation import is_zero
from twofold.model import Claim, Mistake
from twofold.parsing import ParsedStep, parse_relation, symbol_table
from twofold.refute import truth_set

FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True)
class Statement:
    """A relation ``lhs relation rhs`` between sympy expressions (a line, a mistake, a reference step)."""

    lhs: sympy.Expr
    relation: str
    rhs: sympy.Expr

    def difference(self) -> sympy.Expr:
        return (self.lhs - self.rhs).doit()


@dataclass(frozen=True)
class KnownMistake:
    """A family's mistake, parsed with the claim's symbols."""

    name: str
    explanation: str
    statement: Statement


def mistakes_for(claim: Claim, declared: Sequence[Mistake] | None = None) -> tuple[KnownMistake, ...]:
    """The mistakes of ``claim``'s family that apply to it, parsed (``declared`` overrides the family's list)."""
    if declared is None:
        family = registry.family(claim.family)
        declared = family.mistakes if family is not None else ()
    symbols = symbol_table(claim.symbols)
    known = []
    for mistake in declared:
        if mistake.claims and claim.id not in mistake.claims:
            continue
        step: ParsedStep = parse_relation(mistake.wrong, symbols, claim.functions)
        assert step.lhs is not None
        known.append(KnownMistake(mistake.name, mistake.explanation, Statement(step.lhs, step.relation, step.rhs)))
    return tuple(known)


@cache
def reference_steps(claim_id: str) -> tuple[tuple[str, str, Statement | None], ...]:
    """The claim's own derivation at its quick parameters: ``(description, LaTeX, statement)`` per step.

    The statement is ``None`` for a step whose sides are not sympy expressions
    (a matrix, a text); such a step is shown as a hint but never matched.  The
    sides are evaluated here (``doit``: a limit becomes its value), once per
    claim and process, so that matching a learner's line against them is cheap.
    """
    claim = registry.get_claim(claim_id)
    derivation = claim.derive(claim.resolve())
    steps = []
    for step in derivation.steps:
        comparable = step.relation in FLIPPED and all(isinstance(side, sympy.Expr) for side in (step.lhs, step.rhs))
        statement = Statement(step.lhs.doit(), step.relation, step.rhs.doit()) if comparable else None
        if statement is not None:  # fill the probe cache before the sandbox forks its workers
            probe(statement.lhs), probe(statement.rhs)
        steps.append((step.description, step.latex(), statement))
    return tuple(steps)


# --- sympy work, run in the sandbox ----------------------------------------------------------------


def same_statement(first: Statement, second: Statement) -> bool:
    """Whether two relations say the same: proportional differences (direction-aware) or equal truth sets in one variable."""
    a, b = first.difference(), second.difference()
    if b != 0:
        ratio = sympy.cancel(a / b)
        if ratio.is_number and ratio.is_zero is False and ratio.is_real:
            wanted = first.relation if ratio.is_positive else FLIPPED[first.relation]
            if wanted == second.relation:
                return True
    symbols = (a.free_symbols | b.free_symbols)
    if len(symbols) != 1:
        return False
    (x,) = symbols
    sets = truth_set(first.lhs.doit(), first.relation, first.rhs.doit(), x), truth_set(second.lhs.doit(), second.relation, second.rhs.doit(), x)
    return None not in sets and sets[0] == sets[1]


def matching_mistake(line: Statement, mistakes: Sequence[KnownMistake]) -> KnownMistake | None:
    """The first mistake that says the same as ``line``."""
    return next((mistake for mistake in mistakes if same_statement(line, mistake.statement)), None)


def matching_step(line: Statement, steps: Sequence[Statement | None]) -> int | None:
    """The 1-based number of the first reference step whose two sides equal the line's (in either order).

    Each side is first compared by its value at one rational point (cheap);
    only sides that agree there are compared symbolically.
    """
    mine = (probe(line.lhs), probe(line.rhs))
    if None in mine:
        return None
    for number, step in enumerate(steps, start=1):
        if step is None:
            continue
        theirs = (probe(step.lhs), probe(step.rhs))
        for lhs, relation, rhs, values in (
            (step.lhs, step.relation, step.rhs, theirs),
            (step.rhs, FLIPPED[step.relation], step.lhs, theirs[::-1]),
        ):
            if relation != line.relation or not (_close(mine[0], values[0]) and _close(mine[1], values[1])):
                continue
            if is_zero((line.lhs - lhs).doit()) is not None and is_zero((line.rhs - rhs).doit()) is not None:
                return number
    return None


_PROBE = sympy.Rational(3, 7)


@functools.lru_cache(maxsize=4096)
def probe(expr: sympy.Expr) -> sympy.Float | None:
    """``expr`` at every symbol = 3/7, to 30 digits; ``None`` when that is not a number."""
    values = {s: _PROBE for s in expr.free_symbols if isinstance(s, sympy.Symbol)}
    try:
        value = expr.xreplace(values).doit().evalf(30)
    except (ArithmeticError, ValueError, TypeError, NotImplementedError):
        return None
    return value if value.is_Number and value.is_finite else None


def _close(first: sympy.Float | None, second: sympy.Float | None) -> bool:
    if first is None or second is None:
        return False
    return bool(abs(first - second) <= sympy.Float("1e-20") * (1 + abs(first)))
