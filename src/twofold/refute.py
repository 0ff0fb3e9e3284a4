"""Exact refutation and truth sets in one real variable, for ``twofold check``.

A false polynomial or rational (in)equality ``p(x)/q(x) rel 0`` changes sign
only at the real roots of ``p·q``; isolating those roots (sympy's
``Poly.intervals``, exact rational intervals) and evaluating the step exactly at
one rational point inside every gap between them decides it on the whole line:
if it fails anywhere, it fails at one of those points.  The same idea gives the
truth set of a relation (``solveset`` over the symbol's domain), used to relate
consecutive lines of a chain.

Everything here runs inside the sandbox (:mod:`twofold.sandbox`), never on the
server's or the command line's own thread.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import sympy

RELATIONAL = {"=": sympy.Eq, "<": sympy.Lt, "<=": sympy.Le, ">": sympy.Gt, ">=": sympy.Ge}
MAX_DEGREE = 200
"""Degree of ``p·q`` beyond which root isolation is not attempted."""


def holds(relation: str, sign: int) -> bool:
    """Whether ``lhs relation rhs`` holds when ``sign(lhs - rhs) = sign``."""
    return {"=": sign == 0, "<": sign < 0, "<=": sign <= 0, ">": sign > 0, ">=": sign >= 0}[relation]


def domain(x: sympy.Symbol) -> sympy.Set:
    """The real values ``x``'s assumptions allow (reals, positive, nonnegative, negative, integers, ...)."""
    base: sympy.Set = sympy.S.Integers if x.is_integer else sympy.S.Reals
    if x.is_positive:
        return base.intersect(sympy.Interval.open(0, sympy.oo))
    if x.is_nonnegative:
        return base.intersect(sympy.Interval(0, sympy.oo))
    if x.is_negative:
        return base.intersect(sympy.Interval.open(-sympy.oo, 0))
    if x.is_nonpositive:
        return base.intersect(sympy.Interval(-sympy.oo, 0))
    return base


def _bounds(x: sympy.Symbol) -> tuple[sympy.Rational | None, sympy.Rational | None]:
    """The closed hull ``(inf, sup)`` of ``x``'s domain (``None``: unbounded)."""
    if x.is_nonnegative:
        return sympy.Integer(0), None
    if x.is_nonpositive:
        return None, sympy.Integer(0)
    return None, None


def sign_points(difference: sympy.Expr, x: sympy.Symbol) -> tuple[list[sympy.Expr], bool] | None:
    """Points of ``x``'s domain, one in every interval where ``difference`` (rational in ``x``) keeps its sign,
    and the real roots of its numerator there (exact: rationals or ``CRootOf``).

    The flag says the points are complete: the sign of ``difference`` at them
    is its sign everywhere it is defined (false for an integer symbol, whose
    domain has holes).  ``None`` when ``difference`` is not a rational function
    of ``x`` or its degree is too high.
    """
    try:
        numerator, denominator = sympy.fraction(sympy.together(difference))
        top = sympy.Poly(numerator, x, domain="QQ")
        product = top * sympy.Poly(denominator, x, domain="QQ")
    except (sympy.polys.polyerrors.PolynomialError, sympy.polys.polyerrors.BasePolynomialError):
        return None
    complete = not x.is_integer
    if product.degree() < 1:
        return [sympy.Integer(1) if x.is_positive else sympy.Integer(-1) if x.is_negative else sympy.Integer(0)], complete
    if product.degree() > MAX_DEGREE:
        return None
    low_bound, high_bound = _bounds(x)
    ends = [
        (sympy.Rational(low), sympy.Rational(high))
        for (low, high), _ in sorted(product.sqf_part().intervals(inf=low_bound, sup=high_bound, eps=1), key=lambda i: i[0][0])
    ]
    cuts = [low_bound if low_bound is not None else None, *(e for pair in ends for e in pair),
            high_bound if high_bound is not None else None]
    points: list[sympy.Expr] = []
    if not ends:
        points.append(_inside(low_bound, high_bound))
    else:
        points.append(_inside(low_bound, ends[0][0]))
        points.extend(_inside(high, low) for (_, high), (low, _) in zip(ends, ends[1:]))
        points.append(_inside(ends[-1][1], high_bound))
    if x.is_integer:
        points.extend(sympy.Integer(math.floor(e)) for e in cuts if e is not None)
        points.extend(sympy.Integer(math.ceil(e)) for e in cuts if e is not None)
    if low_bound is not None and x.is_nonnegative and not x.is_positive:
        points.append(low_bound)
    roots = [r for r in sympy.real_roots(top.sqf_part()) if _within(r, low_bound, high_bound, x)]
    return list(dict.fromkeys(points + roots)), complete


def _inside(low: sympy.Rational | None, high: sympy.Rational | None) -> sympy.Rational:
    """The simplest rational strictly between ``low`` and ``high`` (either may be unbounded): an integer when one fits."""
    if low is None and high is None:
        return sympy.Integer(0)
    if low is None:
        return sympy.Integer(math.ceil(high) - 1)
    if high is None:
        return sympy.Integer(math.floor(low) + 1)
    if math.floor(low) + 1 < high:
        return sympy.Integer(math.floor(low) + 1)
    return (low + high) / 2


def _within(root: sympy.Expr, low: sympy.Rational | None, high: sympy.Rational | None, x: sympy.Symbol) -> bool:
    if x.is_integer and not root.is_Integer:
        return False
    if x.is_positive and not root > 0 or x.is_negative and not root < 0:
        return False
    return (low is None or root >= low) and (high is None or root <= high)


def refute(difference: sympy.Expr, relation: str, x: sympy.Symbol) -> tuple[sympy.Expr, sympy.Expr] | None | bool:
    """A point of ``x``'s domain where ``difference relation 0`` fails, with the exact value there.

    ``difference`` must be a rational function of ``x`` alone.  ``True`` when
    no point fails and the sample points are complete (the relation holds
    wherever ``difference`` is defined); ``None`` when this method says nothing.
    """
    found = sign_points(difference, x)
    if found is None:
        return None
    points, complete = found
    allowed = domain(x)
    for point in sorted(points, key=_simplicity):
        if point.is_Rational and allowed.contains(point) is not sympy.true:
            continue
        value = _exact_value(difference, x, point)
        if value is not None and not holds(relation, _sign(value)):
            return point, value
    return True if complete else None


def _simplicity(point: sympy.Expr) -> tuple[int, int, int]:
    """Rationals first, smaller denominators first, then closer to 0."""
    if point.is_Rational:
        return (0, point.q, abs(point.p))
    return (1, 0, 0)


def _exact_value(expr: sympy.Expr, x: sympy.Symbol, point: sympy.Expr) -> sympy.Expr | None:
    """``expr`` at ``point``: a rational, or 0 at a root; ``None`` where undefined."""
    numerator, denominator = sympy.fraction(sympy.together(expr))
    if point.is_Rational:
        bottom = denominator.xreplace({x: point})
        return None if bottom == 0 else numerator.xreplace({x: point}) / bottom
    # an irrational point is a root of the numerator (sign_points made it so)
    return sympy.Integer(0) if denominator.xreplace({x: point}).evalf(30) != 0 else None


def _sign(value: sympy.Expr) -> int:
    return int(bool(value > 0)) - int(bool(value < 0))


def truth_set(lhs: sympy.Expr, relation: str, rhs: sympy.Expr, x: sympy.Symbol) -> sympy.Set | None:
    """Where ``lhs relation rhs`` holds in ``x``'s domain, as a sympy set; ``None`` when sympy cannot say."""
    try:
        found = sympy.solveset(RELATIONAL[relation](lhs, rhs, evaluate=False), x, domain(x))
    except (NotImplementedError, ValueError, TypeError):
        return None
    if isinstance(found, (sympy.ConditionSet, sympy.ImageSet)) or found.has(sympy.ConditionSet):
        return None
    return found


def element(region: sympy.Set) -> sympy.Expr | None:
    """A simple exact element of a nonempty set (a finite set's least element, a rational inside an interval)."""
    if region is sympy.S.EmptySet:
        return None
    if isinstance(region, sympy.FiniteSet):
        return min(region.args, key=lambda v: (sympy.count_ops(v), abs(float(v))))
    if isinstance(region, sympy.Union):
        return next((e for e in map(element, region.args) if e is not None), None)
    if isinstance(region, sympy.Intersection) and sympy.S.Integers in region.args:
        interval = next((a for a in region.args if isinstance(a, sympy.Interval)), None)
        if interval is not None:
            return _integer_in(interval)
    if region is sympy.S.Reals:
        return sympy.Integer(0)
    if isinstance(region, sympy.Range) or region.is_subset(sympy.S.Integers) is True:
        try:
            return sympy.Integer(next(iter(region)))
        except (TypeError, ValueError, StopIteration):
            return None
    if isinstance(region, sympy.Interval):
        return _rational_in(region)
    return None


def _integer_in(interval: sympy.Interval) -> sympy.Integer | None:
    start = interval.start if interval.start.is_finite else interval.end - 1
    for candidate in range(math.floor(start) - 1, math.floor(start) + 3):
        if interval.contains(candidate) is sympy.true:
            return sympy.Integer(candidate)
    return None


def _rational_in(interval: sympy.Interval) -> sympy.Rational | None:
    low, high = interval.start, interval.end
    if low.is_infinite and high.is_infinite:
        return sympy.Integer(0)
    if low.is_infinite:
        return sympy.Integer(math.floor(high) - 1)
    if high.is_infinite:
        return sympy.Integer(math.floor(low) + 1)
    if low == high:
        return low
    candidates = [sympy.Integer(math.floor(low) + 1)]
    middle = (low + high) / 2
    candidates += [sympy.Rational(math.floor(middle * 2**k), 2**k) for k in range(1, 64, 7)]
    return next((c for c in candidates if interval.contains(c) is sympy.true), None)
