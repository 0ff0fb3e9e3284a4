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
from twofold.parsing import IndexedFunction, ParsedStep, parse_relation, symbol_table
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

    @functools.cached_property
    def truth(self) -> sympy.Set | None:
        """Where the relation holds, when it has exactly one variable (``None`` otherwise or when sympy
        cannot say).  Kept on the record: a family's mistakes compute theirs once, in the parent, before
        the sandbox forks (:func:`mistakes_for`)."""
        symbols = self.lhs.free_symbols | self.rhs.free_symbols
        if len(symbols) != 1:
            return None
        (x,) = symbols
        return truth_set(self.lhs.doit(), self.relation, self.rhs.doit(), x)


@dataclass(frozen=True)
class KnownMistake:
    """A family's mistake, parsed with the claim's symbols."""

    name: str
    explanation: str
    statement: Statement


def mistakes_for(claim: Claim, declared: Sequence[Mistake] | None = None) -> tuple[KnownMistake, ...]:
    """The mistakes of ``claim``'s family that apply to it, parsed, their truth sets computed
    (``declared`` overrides the family's list)."""
    if declared is None:
        family = registry.family(claim.family)
        declared = family.mistakes if family is not None else ()
    return _parsed(claim.id, tuple(claim.symbols), tuple(claim.functions), tuple(declared))


@cache
def _parsed(
    claim_id: str, symbols: tuple[sympy.Symbol, ...], functions: tuple[IndexedFunction, ...], declared: tuple[Mistake, ...]
) -> tuple[KnownMistake, ...]:
    table = symbol_table(symbols)
    known = []
    for mistake in declared:
        if mistake.claims and claim_id not in mistake.claims:
            continue
        step: ParsedStep = parse_relation(mistake.wrong, table, functions)
        assert step.lhs is not None
        statement = Statement(step.lhs, step.relation, step.rhs)
        statement.truth  # noqa: B018 - computed here, once, so that no sandboxed check pays for it
        known.append(KnownMistake(mistake.name, mistake.explanation, statement))
    return tuple(known)


@cache
def reference_steps(claim_id: str) -> tuple[tuple[str, str, Statement | None], ...]:
    """The claim's own derivation at its quick parameters: ``(description, LaTeX, statement)`` per step.

    The statement is ``None`` for a step a learner cannot type (sides that are
    not sympy expressions, such as a matrix or a text, or that use a symbol the
    claim does not declare, such as the symbolic order :math:`n` of a general
    step); such a step is shown as a hint but never matched.  The sides are
    evaluated here (``doit``: a limit becomes its value), once per claim and
    process, so that matching a learner's line against them is cheap.
    """
    claim = registry.get_claim(claim_id)
    derivation = claim.derive(claim.resolve())
    typable = set(claim.symbols)
    steps = []
    for step in derivation.steps:
        comparable = (
            step.relation in FLIPPED
            and all(isinstance(side, sympy.Expr) for side in (step.lhs, step.rhs))
            and (step.lhs.free_symbols | step.rhs.free_symbols) <= typable
        )
        statement = Statement(step.lhs.doit(), step.relation, step.rhs.doit()) if comparable else None
        if statement is not None:  # fill the probe cache before the sandbox forks its workers
            probe(statement.lhs), probe(statement.rhs)
        steps.append((step.description, step.latex(), statement))
    return tuple(steps)


# --- sympy work, run in the sandbox ----------------------------------------------------------------


def same_sides(first: Statement, second: Statement) -> bool:
    """Whether the two relations have the same two sides (in either order, the relation turned): the very formula."""
    for lhs, relation, rhs in ((second.lhs, second.relation, second.rhs), (second.rhs, FLIPPED[second.relation], second.lhs)):
        if relation == first.relation and all(sympy.expand((mine - theirs).doit()) == 0 for mine, theirs in ((first.lhs, lhs), (first.rhs, rhs))):
            return True
    return False


def proportional(first: Statement, second: Statement) -> bool:
    """Whether the differences ``lhs - rhs`` agree up to a non-zero constant factor, the relation turned
    when the factor is negative: the two lines say the same thing, written differently."""
    a, b = first.difference(), second.difference()
    if b == 0:
        return False
    ratio = sympy.cancel(a / b)
    if not (ratio.is_number and ratio.is_zero is False and ratio.is_real):
        return False
    return (first.relation if ratio.is_positive else FLIPPED[first.relation]) == second.relation


def same_truth_set(first: Statement, second: Statement) -> bool:
    """Whether two relations in the same single variable hold at exactly the same points."""
    if len(first.lhs.free_symbols | first.rhs.free_symbols | second.lhs.free_symbols | second.rhs.free_symbols) != 1:
        return False
    sets = first.truth, second.truth
    return None not in sets and sets[0] == sets[1]


def matching_mistake(line: Statement, mistakes: Sequence[KnownMistake]) -> KnownMistake | None:
    """The mistake that says the same as ``line``, by the strongest test that finds one: the same two sides,
    else differences proportional to the line's, else the same truth set.  Wrong identities in one variable
    often say the same thing (``f_4 = f_3 + x^4`` and ``f_4 = f_3 + x^4/3!`` both reduce to :math:`x^4 = 0`),
    so the weaker tests only decide when the stronger ones find nothing."""
    for same in (same_sides, proportional, same_truth_set):
        found = next((mistake for mistake in mistakes if same(line, mistake.statement)), None)
        if found is not None:
            return found
    return None


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
