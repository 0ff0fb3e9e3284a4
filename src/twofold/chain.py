"""Chain checking for ``twofold check``: each line judged, and related to the line before it.

A learner's derivation is a list of lines, each ``LHS rel RHS`` or a
continuation ``rel RHS`` (whose left-hand side is the previous right-hand side).
Every line gets

* a **relation to the previous line**, over the reals under the claim's
  assumptions: ``equivalent`` (⇔), ``implies`` (the previous line implies
  this one, ⇒), ``implied_by`` (⇐) or ``unrelated``, with a counterexample for
  each direction that fails (``x**2 = 4`` then ``x = 2``: ``implied_by``, since
  x = −2 satisfies the first and not the second);
* a **verdict**: ``valid`` when the line holds for every value of its symbols
  (the step check of :mod:`twofold.stepcheck`) or follows from the previous
  line; ``invalid`` when it fails at a point where the previous line holds (the
  first line: at any point); ``undecided`` otherwise;
* for an invalid line, a **diagnosis** when it says the same as one of the
  family's typical mistakes; for any line, the number of the **reference step**
  of the claim's own derivation it reproduces.

With a premise (``--from-statement``), the first line is related to it like
any other line to its predecessor.  All sympy work for a line (step check,
relation, diagnosis, reference) runs in the sandbox as one task under the time
limit: a child process per line from the command line, or a task of a
:class:`~twofold.sandbox.Pool` of long-lived workers in ``twofold serve``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy

from twofold.diagnosis import KnownMistake, Statement, matching_mistake, matching_step
from twofold.parsing import IndexedFunction
from twofold.refute import element, holds, truth_set
from twofold.sandbox import Run, run_limited
from twofold.stepcheck import (
    DEFAULT_BUDGET,
    DEFAULT_TIMEOUT,
    INVALID,
    UNDECIDED,
    VALID,
    Runner,
    StepVerdict,
    _points,
    _show,
    _sign,
    _value,
    decide,
    parse_lines,
    step_verdict,
)

EQUIVALENT, IMPLIES, IMPLIED_BY, UNRELATED = "equivalent", "implies", "implied_by", "unrelated"
MARKS = {EQUIVALENT: "⇔", IMPLIES: "⇒", IMPLIED_BY: "⇐", UNRELATED: "✗"}
_WORDS = {
    EQUIVALENT: "equivalent to the previous line",
    IMPLIES: "follows from the previous line (not conversely)",
    IMPLIED_BY: "implies the previous line but does not follow from it",
    UNRELATED: "neither follows from nor implies the previous line",
}
HOLDS, FAILS, LIKELY, UNKNOWN = "holds", "fails", "likely", "unknown"
SLICES = 4
"""Values of the other symbols tried per symbol when relating lines in several variables."""
EXIT_VALID, EXIT_INVALID, EXIT_UNDECIDED = 0, 1, 4


@dataclass(frozen=True)
class Direction:
    """Whether one line implies another: ``holds`` (proved), ``fails`` (with a point where the first holds and
    the second does not), ``likely`` (no such point on the slices tried: evidence, not proof) or ``unknown``."""

    status: str
    counterexample: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Relation:
    """How a line relates to the previous one: ``forward`` is previous ⇒ this, ``backward`` this ⇒ previous."""

    forward: Direction
    backward: Direction

    @property
    def kind(self) -> str:
        ahead, back = (d.status in (HOLDS, LIKELY) for d in (self.forward, self.backward))
        return {(True, True): EQUIVALENT, (True, False): IMPLIES, (False, True): IMPLIED_BY}.get((ahead, back), UNRELATED)

    @property
    def proved(self) -> bool:
        return all(d.status in (HOLDS, FAILS) for d in (self.forward, self.backward))

    def describe(self) -> str:
        parts = [f"{MARKS[self.kind]} {_WORDS[self.kind]}"]
        if not self.proved:
            parts.append("(not proved: some direction was only spot-checked or not decided)")
        for name, direction in (("previous ⇒ this", self.forward), ("this ⇒ previous", self.backward)):
            if direction.status == FAILS:
                parts.append(f"{name} fails at {_point_text(direction.counterexample)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class LineReport:
    """One checked line."""

    line: int
    text: str
    verdict: str
    step: StepVerdict
    relation: Relation | None = None
    diagnosis: KnownMistake | None = None
    reference_step: int | None = None

    @property
    def counterexample(self) -> dict[str, str] | None:
        """Where the line fails: a point where the previous line holds and this one not, else the step check's point."""
        if self.verdict != INVALID:
            return None
        if self.relation is not None and self.relation.forward.status == FAILS:
            return dict(self.relation.forward.counterexample)
        return {s.name: str(v) for s, v in self.step.counterexample} or None

    def summary(self) -> str:
        """The line's verdict and everything known about it, on one line."""
        parts = [f"line {self.line}: {self.verdict}"]
        if self.relation is not None:
            parts.append(self.relation.describe())
        parts.append(f"as an identity: {self.step.reason}" if self.relation is not None else self.step.reason)
        if self.diagnosis is not None:
            parts.append(f"this is what you get if {self.diagnosis.explanation}")
        if self.reference_step is not None:
            parts.append(f"step {self.reference_step} of the reference derivation")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        relation = self.relation
        return {
            "line": self.line,
            "text": self.text,
            "verdict": self.verdict,
            "reason": self.step.reason,
            "relation_to_previous": None if relation is None else relation.kind,
            "relation_proved": None if relation is None else relation.proved,
            "counterexample": self.counterexample,
            "direction_counterexamples": None if relation is None else {
                name: dict(d.counterexample) if d.status == FAILS else None
                for name, d in (("implies", relation.forward), ("implied_by", relation.backward))
            },
            "diagnosis": None if self.diagnosis is None else {
                "name": self.diagnosis.name,
                "explanation": self.diagnosis.explanation,
                "message": f"this is what you get if {self.diagnosis.explanation}",
            },
            "reference_step": self.reference_step,
            "step": self.step.to_dict(),
        }


@dataclass(frozen=True)
class ChainReport:
    """A checked derivation (``premise`` is the text of the statement line 1 was related to, if any)."""

    claim: str
    lines: tuple[LineReport, ...]
    premise: str | None = None
    seconds: float = 0.0

    @property
    def outcome(self) -> str:
        verdicts = {line.verdict for line in self.lines}
        return next(v for v in (INVALID, UNDECIDED, VALID) if v in verdicts)

    @property
    def exit_code(self) -> int:
        """0 every line valid, 1 some line invalid, 4 some undecided and none invalid."""
        return {VALID: EXIT_VALID, INVALID: EXIT_INVALID, UNDECIDED: EXIT_UNDECIDED}[self.outcome]

    def summary(self) -> str:
        counts = ", ".join(f"{n} {v}" for v in (VALID, INVALID, UNDECIDED) if (n := sum(l.verdict == v for l in self.lines)))
        return f"{self.outcome}: {len(self.lines)} step{'s' * (len(self.lines) != 1)} ({counts})"

    def to_dict(self) -> dict[str, Any]:
        """The document of ``twofold check --json`` and ``POST /api/check`` (``twofold/schemas/check.schema.json``)."""
        return {
            "claim": self.claim,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "premise": self.premise,
            "seconds": round(self.seconds, 4),
            "lines": [line.to_dict() for line in self.lines],
        }


@dataclass(frozen=True)
class Context:
    """What a line is judged with: the claim's vocabulary, its typical mistakes and its reference steps."""

    claim: str
    symbols: Mapping[str, sympy.Symbol]
    functions: Sequence[IndexedFunction] = ()
    mistakes: Sequence[KnownMistake] = ()
    references: Sequence[Statement | None] = ()
    premise: tuple[str, Statement] | None = None
    runner: Runner = field(default=run_limited)


def check_chain(
    lines: Sequence[str], context: Context, *, timeout: float = DEFAULT_TIMEOUT, budget: float = DEFAULT_BUDGET
) -> ChainReport:
    """Check every line (all are parsed first, so a typo costs no algebra).

    Once the lines' checks have taken ``budget`` seconds in all (time spent
    waiting for a free worker does not count), the remaining lines are undecided.
    """
    start = time.monotonic()
    spent = 0.0
    parsed = parse_lines(lines, context.symbols, context.functions)
    previous = context.premise[1] if context.premise else None
    previous_identity = UNDECIDED
    reports = []
    for number, text, step in parsed:
        lhs = previous.rhs if step.lhs is None and previous is not None else step.lhs
        assert lhs is not None
        statement = Statement(lhs, step.relation, step.rhs)
        report = _check_line(number, text, statement, previous, previous_identity, context, min(timeout, budget - spent), budget)
        spent += report.step.seconds
        reports.append(report)
        previous, previous_identity = statement, report.step.outcome
    return ChainReport(context.claim, tuple(reports), context.premise[0] if context.premise else None,
                       time.monotonic() - start)


def warm(symbols: Sequence[sympy.Symbol]) -> None:
    """Run the sympy code paths of a check once in this process on a fixed line per symbol.

    The sandbox forks a child per check; a child inherits sympy's caches from
    this process but its own additions die with it, so warming the parent once
    keeps every later check from paying sympy's first-call costs again.
    """
    for x in symbols:
        first, second = Statement(x**2, "=", sympy.Integer(4)), Statement(x, "=", sympy.Integer(2))
        for statement in (first, second):
            for _ in decide(statement.lhs, statement.relation, statement.rhs):
                pass
        _relate(first, second, (INVALID, INVALID))


def _check_line(
    number: int,
    text: str,
    statement: Statement,
    previous: Statement | None,
    previous_identity: str,
    context: Context,
    timeout: float,
    budget: float,
) -> LineReport:
    if timeout <= 0:
        reason = f"not checked: the time budget of {budget:g} s for the whole derivation is spent"
        return LineReport(number, text, UNDECIDED, StepVerdict(UNDECIDED, statement.relation, reason, timed_out=True))
    run = context.runner(
        _line_work, statement, previous, previous_identity, context.mistakes, context.references, timeout=timeout
    )
    findings = [payload for kind, payload in run.items if kind == "finding"]
    decided = any(kind == "decided" for kind, _ in run.items)
    step = step_verdict(statement.relation, findings, run if not decided else _FINISHED, run.seconds)
    found = {kind: payload for kind, payload in run.items if kind not in ("finding", "decided")}
    relation: Relation | None = found.get("relation")
    if previous is not None and relation is None:
        relation = Relation(Direction(UNKNOWN), Direction(UNKNOWN))
    verdict = _verdict(step.outcome, relation)
    diagnosis = found.get("diagnosis") if verdict == INVALID else None
    return LineReport(number, text, verdict, step, relation, diagnosis, found.get("reference"))


_FINISHED = Run((), True)


def _verdict(identity: str, relation: Relation | None) -> str:
    """Valid if the line always holds or follows from the previous line; invalid if it fails where the previous holds."""
    if identity == VALID or (relation is not None and relation.forward.status == HOLDS):
        return VALID
    if relation is None:
        return identity
    if relation.forward.status == FAILS:
        return INVALID
    return UNDECIDED


def _point_text(point: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{name} = {value}" for name, value in point) or "a point"


# --- the work done in the child process ----------------------------------------------------------


def _line_work(
    line: Statement,
    previous: Statement | None,
    previous_identity: str,
    mistakes: Sequence[KnownMistake],
    references: Sequence[Statement | None],
) -> Iterator[tuple[str, Any]]:
    """The step check's findings (``("finding", f)``, then ``("decided", None)``), then ``("reference", j)``,
    ``("relation", Relation)`` and ``("diagnosis", KnownMistake)`` as they are found."""
    identity = UNDECIDED
    for finding in decide(line.lhs, line.relation, line.rhs):
        identity = finding.outcome
        yield "finding", finding
    yield "decided", None
    identities = (previous_identity, identity)
    reference = matching_step(line, references)
    if reference is not None:
        yield "reference", reference
    if previous is not None:
        yield "relation", _relate(previous, line, identities)
    if identities[1] == INVALID and mistakes:
        mistake = matching_mistake(line, mistakes)
        if mistake is not None:
            yield "diagnosis", mistake


def _relate(previous: Statement, line: Statement, identities: tuple[str, str]) -> Relation:
    """Previous ⇒ line and line ⇒ previous, decided exactly where possible; a line that always holds
    (its step check is valid) is implied by anything."""
    forward = Direction(HOLDS) if identities[1] == VALID else _direction(previous, line)
    backward = Direction(HOLDS) if identities[0] == VALID else _direction(line, previous)
    return Relation(forward, backward)


def _direction(first: Statement, second: Statement) -> Direction:
    """Does ``first`` imply ``second``?  Exact truth sets in one variable; slices through spot points in several."""
    a, b = first.difference(), second.difference()
    if _proportional(a, first.relation, b, second.relation):
        return Direction(HOLDS)
    symbols = sorted(a.free_symbols | b.free_symbols, key=sympy.default_sort_key)
    if not symbols:
        return _constant_direction(first, second)
    sampled = _sampled(first, second, symbols)
    if sampled is not None:
        return sampled
    if len(symbols) == 1:
        return _sliced(first, second, symbols[0], {}) or Direction(HOLDS)
    tried = 0
    for x in symbols:
        others = [s for s in symbols if s != x]
        for point in itertools.islice(_points(others), SLICES):
            found = _sliced(first, second, x, point)
            if found is not None and found.status == FAILS:
                return found
            tried += found is None
    return Direction(LIKELY if tried else UNKNOWN)


def _proportional(a: sympy.Expr, first: str, b: sympy.Expr, second: str) -> bool:
    """``a first 0`` implies ``b second 0`` because ``b = c·a`` for a constant ``c`` (sign-aware for inequalities)."""
    if a == 0 or b == 0:
        return False
    ratio = sympy.cancel(b / a)
    if not ratio.is_number or ratio.is_zero is not False or ratio.is_real is not True:
        return False
    turned = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
    relation = first if ratio.is_positive else turned[first]
    weaker = {"=": ("=", "<=", ">="), "<": ("<", "<="), "<=": ("<=",), ">": (">", ">="), ">=": (">=",)}
    return second in weaker[relation]


def _constant_direction(first: Statement, second: Statement) -> Direction:
    values = [_value(s.difference(), {}) for s in (first, second)]
    signs = [None if v is None else _sign(v) for v in values]
    if signs[0] is None or signs[1] is None:
        return Direction(UNKNOWN)
    if not holds(first.relation, signs[0]) or holds(second.relation, signs[1]):
        return Direction(HOLDS)
    return Direction(FAILS)


def _sampled(first: Statement, second: Statement, symbols: list[sympy.Symbol]) -> Direction | None:
    """A spot point (exact rationals) where ``first`` holds and ``second`` fails, if one of them is such a point."""
    sides = [(s.lhs.doit(), s.relation, s.rhs.doit()) for s in (first, second)]
    for point in _points(symbols):
        outcomes = []
        for lhs, relation, rhs in sides:
            difference = _value(lhs - rhs, point)
            sign = None if difference is None else _sign(difference)
            outcomes.append(None if sign is None else holds(relation, sign))
        if outcomes == [True, False]:
            return Direction(FAILS, tuple((s.name, _show(v)) for s, v in sorted(point.items(), key=lambda i: i[0].name)))
    return None


def _sliced(first: Statement, second: Statement, x: sympy.Symbol, point: dict[sympy.Symbol, sympy.Expr]) -> Direction | None:
    """In ``x`` with the other symbols fixed at ``point``: a point where ``first`` holds and ``second`` fails
    (``FAILS``), ``None`` when there is none, ``UNKNOWN`` when sympy cannot say."""
    sides = [(s.lhs.doit().xreplace(point), s.relation, s.rhs.doit().xreplace(point)) for s in (first, second)]
    sets = [truth_set(lhs, relation, rhs, x) for lhs, relation, rhs in sides]
    if sets[0] is None or sets[1] is None:
        return Direction(UNKNOWN)
    try:
        outside = sympy.Complement(sets[0], sets[1])
        witness = element(outside)
    except (TypeError, ValueError, NotImplementedError):
        return Direction(UNKNOWN)
    if outside is sympy.S.EmptySet or sets[0].is_subset(sets[1]) is True:
        return None
    if witness is None or not _confirmed(sides, x, witness):
        return Direction(UNKNOWN)
    where = {**point, x: witness}
    return Direction(FAILS, tuple((s.name, _show(v)) for s, v in sorted(where.items(), key=lambda i: i[0].name)))


def _confirmed(sides: list[tuple[sympy.Expr, str, sympy.Expr]], x: sympy.Symbol, value: sympy.Expr) -> bool:
    """The first relation holds at ``x = value`` and the second fails, by exact (or certified) evaluation."""
    outcomes = []
    for lhs, relation, rhs in sides:
        difference = _value(lhs - rhs, {x: value})
        sign = None if difference is None else _sign(difference)
        if sign is None:
            return False
        outcomes.append(holds(relation, sign))
    return outcomes == [True, False]
