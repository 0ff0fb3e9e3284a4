"""The step checker of ``twofold check``: is a learner's step ``LHS rel RHS`` valid?

A step gets one of three outcomes:

* **valid** — sympy proves it: ``lhs - rhs`` simplifies to 0 (for ``=``); or
  sympy's assumptions settle the sign of ``lhs - rhs`` (for ``< <= > >=``); or,
  for a rational function of one real variable, its sign is checked exactly
  between consecutive real roots (:mod:`twofold.refute`).
* **invalid** — a point where the step fails: for a rational (in)equality in
  one variable, found by real-root isolation on the whole domain; otherwise by
  exact evaluation at rational points that respect the symbols' assumptions
  (positive, integer, nonzero, ...), then along lines through them.  Rational
  values are compared exactly; values with ``exp``, ``log``, roots are compared
  with sympy's ``evalf`` at :data:`DIGITS` significant digits in strict mode,
  which raises instead of answering when it cannot certify those digits, so a
  reported difference is real.
* **undecided** — neither: the verdict shows the residual ``lhs - rhs`` sympy
  could not reduce and how many spot checks (points where both sides are real
  and the step held) were made.

All sympy work happens in a child process under a wall-clock limit
(:mod:`twofold.sandbox`); when the limit strikes, the step is *undecided* with
whatever was established before.  A file of steps is read with
:func:`read_steps` and :func:`parse_lines`, and checked line by line, each line
related to the one before it, by :mod:`twofold.chain`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import sympy
from sympy.core.evalf import PrecisionExhausted

from twofold.derivation import is_zero
from twofold.contract import InputError, ParseError, ResourceLimitError
from twofold.parsing import RELATIONS, IndexedFunction, ParsedStep, parse_relation
from twofold.refute import holds, refute
from twofold.sandbox import Run, run_limited

Runner = Callable[..., Run]

VALID, INVALID, UNDECIDED = "valid", "invalid", "undecided"
DEFAULT_TIMEOUT = 1.0
"""Seconds of sympy work allowed for one step (or one link)."""
DEFAULT_BUDGET = 20.0
"""Seconds allowed for a whole file of steps; steps past it are undecided."""
SPOT_CHECKS = 24
"""Rational points tried per step."""
DIGITS = 30
"""Significant digits certified before two irrational values are called different."""
MAX_FILE_BYTES = 64 * 1024
MAX_STEPS = 100
"""Step lines in one file."""
_SHOWN = 80

_QUERIES: Mapping[str, tuple[str, str]] = {
    "<": ("is_negative", "negative"),
    "<=": ("is_nonpositive", "nonpositive"),
    ">": ("is_positive", "positive"),
    ">=": ("is_nonnegative", "nonnegative"),
}
_TRIGONOMETRIC = (sympy.sin, sympy.cos, sympy.tan, sympy.sinh, sympy.cosh, sympy.tanh)
_POOL = tuple(
    sympy.Rational(p, q)
    for p, q in (
        (0, 1), (1, 1), (-1, 1), (2, 1), (-2, 1), (1, 2), (-1, 2), (3, 1), (-3, 1), (1, 3), (3, 2),
        (-3, 2), (-1, 3), (5, 1), (-5, 1), (2, 3), (-2, 3), (7, 1), (-7, 1), (5, 2), (-5, 2), (1, 7),
        (10, 1), (-10, 1), (4, 1), (6, 1), (8, 1), (9, 1), (11, 1), (12, 1), (13, 4), (100, 1),
        (-100, 1), (1, 100),
    )
)
"""Candidate values, simplest first; a symbol gets those its assumptions allow."""


@dataclass(frozen=True)
class StepVerdict:
    """The outcome of checking one step ``lhs relation rhs``.

    ``counterexample`` holds ``(symbol, exact rational value)`` pairs and
    ``values`` the exact values of both sides there (as text, with a decimal
    approximation when irrational), for an *invalid* step.  ``spot_checks`` counts
    the points where the step held.  ``timed_out`` says the time limit cut the
    work short.
    """

    outcome: str
    relation: str
    reason: str
    counterexample: tuple[tuple[sympy.Symbol, sympy.Rational], ...] = ()
    values: tuple[str, str] = ("", "")
    spot_checks: int = 0
    seconds: float = 0.0
    timed_out: bool = False

    @property
    def point(self) -> dict[sympy.Symbol, sympy.Rational]:
        """The counterexample as a substitution (empty unless invalid)."""
        return dict(self.counterexample)

    def summary(self) -> str:
        """One line: the outcome and why."""
        return f"{self.outcome}: {self.reason}"

    def to_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "relation": self.relation,
            "reason": self.reason,
            "counterexample": {s.name: str(v) for s, v in self.counterexample},
            "lhs_value": self.values[0] or None,
            "rhs_value": self.values[1] or None,
            "spot_checks": self.spot_checks,
            "seconds": round(self.seconds, 4),
            "timed_out": self.timed_out,
        }


def check_step(
    lhs: sympy.Expr, relation: str, rhs: sympy.Expr, *, timeout: float = DEFAULT_TIMEOUT, runner: Runner = run_limited
) -> StepVerdict:
    """Check ``lhs relation rhs`` (``relation`` in :data:`~twofold.parsing.RELATIONS`) within ``timeout`` seconds.

    ``runner`` runs the work in the sandbox: :func:`~twofold.sandbox.run_limited` or a
    :class:`~twofold.sandbox.Pool`'s ``run``.
    """
    if relation not in RELATIONS:
        raise ParseError(f"unknown relation '{relation}' (use one of {' '.join(RELATIONS)})")
    run = runner(decide, lhs, relation, rhs, timeout=timeout)
    return step_verdict(relation, run.items, run, run.seconds)


def step_verdict(relation: str, findings: Sequence[_Finding], run: Run, seconds: float) -> StepVerdict:
    """The verdict from what :func:`decide` yielded before ``run`` ended (finished, timed out, or failed)."""
    last = findings[-1] if findings else _Finding(UNDECIDED, "")
    if last.outcome != UNDECIDED:
        return StepVerdict(relation=relation, seconds=seconds, **last._asdict())
    if run.finished:
        cause = "" if last.reason.startswith("sympy could not") else "sympy could not decide"
    elif run.timed_out or run.failure.startswith("memory"):
        cause = f"{run.failure} before sympy decided"
    else:  # an exception inside sympy: its message is about sympy's internals, not the learner's step
        cause = "sympy gave up on this step"
    reason = "; ".join(part for part in (cause, last.reason) if part)
    fields = {**last._asdict(), "reason": reason}
    return StepVerdict(relation=relation, seconds=seconds, timed_out=run.timed_out, **fields)


def check_text(
    text: str,
    symbols: Mapping[str, sympy.Symbol],
    functions: Sequence[IndexedFunction] = (),
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> StepVerdict:
    """Parse the step ``text`` (``twofold check ID --step TEXT``) and check it."""
    step = parse_relation(text, symbols, functions)
    assert step.lhs is not None
    return check_step(step.lhs, step.relation, step.rhs, timeout=timeout)


def read_steps(data: bytes) -> list[str]:
    """The lines of a steps file: at most :data:`MAX_FILE_BYTES`, strict UTF-8 (a BOM is allowed)."""
    if len(data) > MAX_FILE_BYTES:
        raise ResourceLimitError(f"the steps file has {len(data)} bytes; the limit is {MAX_FILE_BYTES}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParseError(
            f"line {line}: byte 0x{data[exc.start]:02x} at byte column {column} is not UTF-8; save the file as UTF-8"
        ) from None
    return [line.removesuffix("\r") for line in text.split("\n")]


def parse_lines(
    lines: Sequence[str], symbols: Mapping[str, sympy.Symbol], functions: Sequence[IndexedFunction]
) -> list[tuple[int, str, ParsedStep]]:
    """``(line number, text, parsed step)`` for every step line; blank lines and ``#`` comments are skipped."""
    steps = []
    for number, text in enumerate(lines, start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        if len(steps) == MAX_STEPS:
            raise ResourceLimitError(f"line {number}: a steps file holds at most {MAX_STEPS} steps")
        try:
            step = parse_relation(text, symbols, functions, continuation=bool(steps))
        except InputError as exc:
            raise type(exc)(f"line {number}: {exc}") from None
        steps.append((number, text.strip(), step))
    if not steps:
        raise ParseError("the steps file holds no step (one step per line, '#' starts a comment)")
    return steps


# --- the work done in the child process ----------------------------------------------------------


class _Finding(NamedTuple):
    """What the child reports; the last one it sends is the verdict."""

    outcome: str
    reason: str
    counterexample: tuple[tuple[sympy.Symbol, sympy.Rational], ...] = ()
    values: tuple[str, str] = ("", "")
    spot_checks: int = 0


class _Search(NamedTuple):
    checks: int
    numeric: bool
    counterexample: _Finding | None


def decide(lhs: sympy.Expr, relation: str, rhs: sympy.Expr) -> Iterator[_Finding]:
    """Prove, refute, or spot-check ``lhs relation rhs``; yields the best finding so far, ending with the verdict."""
    left, right = lhs.doit(), rhs.doit()
    difference = left - right
    free = left.free_symbols | right.free_symbols
    symbols = sorted((s for s in free if isinstance(s, sympy.Symbol)), key=sympy.default_sort_key)
    if relation != "=":
        proof = _sign_proof(difference, relation)
        if proof:
            yield _Finding(VALID, proof)
            return
    if difference == 0:
        if holds(relation, 0):
            yield _Finding(VALID, "sympy proves it: lhs and rhs evaluate to the same expression")
        else:
            point = next(_points(symbols), {})
            yield _refuted(left, right, point, f"lhs and rhs evaluate to the same expression, never {relation} each other")
        return
    exact = _exact_decision(left, right, relation, symbols) if len(symbols) == 1 else None
    if exact is not None:
        yield exact
        return
    search = _search(left, right, relation, symbols)
    if search.counterexample is not None:
        yield search.counterexample
        return
    sliced = _sliced_refutation(left, right, relation, symbols) if len(symbols) > 1 else None
    if sliced is not None:
        yield sliced
        return
    yield _Finding(UNDECIDED, _spot_checked(search), spot_checks=search.checks)
    residual = sympy.simplify(difference)
    if relation == "=":
        proof = _equality_proof(difference)
    else:
        proof = _sign_proof(residual, relation)
    if proof:
        yield _Finding(VALID, proof, spot_checks=search.checks)
        return
    yield _Finding(UNDECIDED, f"sympy could not reduce lhs - rhs = {_show(residual)}; {_spot_checked(search)}",
                   spot_checks=search.checks)


def _exact_decision(left: sympy.Expr, right: sympy.Expr, relation: str, symbols: list[sympy.Symbol]) -> _Finding | None:
    """Decide a rational (in)equality in one variable exactly on its whole domain by isolating the real roots."""
    (x,) = symbols
    found = refute(left - right, relation, x)
    if found is True and relation == "=":
        return _Finding(VALID, f"sympy proves it: lhs - rhs = 0 as a rational function of {x}")
    if found is True:
        return _Finding(VALID, f"certified: lhs - rhs is rational in {x}; its sign was checked exactly between"
                               " consecutive real roots (root isolation) on the whole domain")
    return None if found is None else _refuted(left, right, {x: found[0]}, "exact root isolation")


def _sliced_refutation(left: sympy.Expr, right: sympy.Expr, relation: str, symbols: list[sympy.Symbol]) -> _Finding | None:
    """In several variables: exact root isolation along lines through spot points, parallel to each axis."""
    difference = left - right
    for x in symbols:
        others = [s for s in symbols if s != x]
        for point in itertools.islice(_points(others), 4):
            found = refute(difference.xreplace(point), relation, x)
            if isinstance(found, tuple):
                return _refuted(left, right, {**point, x: found[0]}, f"exact root isolation along {x}")
    return None


def _refuted(left: sympy.Expr, right: sympy.Expr, point: dict[sympy.Symbol, sympy.Expr], how: str) -> _Finding:
    values = (left.xreplace(point).doit(), right.xreplace(point).doit())
    shown = (_show(values[0]), _show(values[1]))
    where = ", ".join(f"{s} = {_show(v)}" for s, v in point.items())
    return _Finding(INVALID, f"fails at {where} ({how}): lhs = {shown[0]}, rhs = {shown[1]}", tuple(point.items()), shown)


def _equality_proof(difference: sympy.Expr) -> str | None:
    """How sympy reduces ``lhs - rhs`` to 0: first with sin, cos, tan, sinh, cosh, tanh written
    with exp (their identities become algebra), then as it stands."""
    rewritten = difference.rewrite(_TRIGONOMETRIC, sympy.exp)
    how = is_zero(rewritten)
    if how:
        written = " written with exp" if rewritten != difference else ""
        return f"sympy proves it: {how}(lhs - rhs{written}) = 0"
    how = is_zero(difference) if rewritten != difference else None
    return f"sympy proves it: {how}(lhs - rhs) = 0" if how else None


def _spot_checked(search: _Search) -> str:
    if search.checks == 0:
        return "no spot check was possible (no point where both sides are real)"
    how = f"exactly or to {DIGITS} digits" if search.numeric else "exactly"
    return f"the step holds at all {search.checks} spot checks (rational points, compared {how})"


def _sign_proof(difference: sympy.Expr, relation: str) -> str | None:
    query, word = _QUERIES[relation]
    if getattr(difference, query) is True:
        return f"sympy proves it: lhs - rhs = {_show(difference)} is {word} under the symbols' assumptions"
    return None


def _search(left: sympy.Expr, right: sympy.Expr, relation: str, symbols: list[sympy.Symbol]) -> _Search:
    """Evaluate both sides at rational points; stop at the first point where the step provably fails."""
    checks, numeric = 0, False
    for point in _points(symbols):
        values = _value(left, point), _value(right, point)
        if values[0] is None or values[1] is None:
            continue
        sign = _sign(values[0] - values[1])
        numeric = numeric or not all(v.is_Rational for v in values)
        if sign is not None and not holds(relation, sign):
            shown = (_show(values[0]), _show(values[1]))
            where = " at " + ", ".join(f"{s} = {v}" for s, v in point.items()) if point else ""
            exact = all(v.is_Rational for v in values)
            gap = "" if exact else f" (lhs - rhs ≈ {sympy.sstr((values[0] - values[1]).evalf(3))})"
            reason = f"fails{where}: lhs = {shown[0]}, rhs = {shown[1]}{gap}"
            return _Search(checks, numeric, _Finding(INVALID, reason, tuple(point.items()), shown, checks))
        checks += 1
    return _Search(checks, numeric, None)


def _points(symbols: list[sympy.Symbol]) -> Iterator[dict[sympy.Symbol, sympy.Rational]]:
    """Up to :data:`SPOT_CHECKS` distinct points; symbol j of point i takes candidate ``i*(2j+1) + j``."""
    pools = [[v for v in _POOL if _admits(s, v)] for s in symbols]
    if not all(pools):
        return
    seen = set()
    for i in range(4 * SPOT_CHECKS):
        values = tuple(pool[(i * (2 * j + 1) + j) % len(pool)] for j, pool in enumerate(pools))
        if values not in seen:
            seen.add(values)
            yield dict(zip(symbols, values))
        if len(seen) == SPOT_CHECKS:
            return


def _admits(symbol: sympy.Symbol, value: sympy.Rational) -> bool:
    """Whether ``value`` satisfies every assumption of ``symbol`` (positive, integer, nonzero, ...)."""
    return all(getattr(value, f"is_{fact}") == holds for fact, holds in symbol.assumptions0.items())


def _value(expr: sympy.Expr, point: dict[sympy.Symbol, sympy.Rational]) -> sympy.Expr | None:
    """``expr`` at ``point``, exactly; ``None`` where it is undefined or not real."""
    try:
        value = expr.xreplace(point).doit()
    except (ArithmeticError, ValueError, TypeError, NotImplementedError):
        return None
    return value if value.is_real is True and not value.free_symbols else None


def _sign(number: sympy.Expr) -> int | None:
    """-1, 0 or 1 exactly or certified to :data:`DIGITS` digits; ``None`` if indistinguishable from 0."""
    if number.is_Rational:
        return (number.p > 0) - (number.p < 0)
    try:
        approximation = number.evalf(DIGITS, strict=True)
    except PrecisionExhausted:
        return None
    if not approximation.is_Number or approximation == 0:
        return None
    return 1 if approximation > 0 else -1


def _show(value: sympy.Expr) -> str:
    """Exact text of a value (shortened when long), with a decimal approximation when it is irrational."""
    text = sympy.sstr(value)
    if len(text) > _SHOWN:
        text = f"{text[:_SHOWN]}... ({len(text)} characters)"
        if value.is_Rational:
            return f"{text} ≈ {sympy.sstr(value.evalf(6))}"
    if value.is_Number or value.free_symbols:
        return text
    return f"{text} ≈ {sympy.sstr(value.evalf(15))}"
