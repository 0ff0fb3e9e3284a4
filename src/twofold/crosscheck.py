r"""Cross-checks: how an exact value and an independent estimate are compared.

Each function returns a :class:`~twofold.model.Comparison` that states its
method, the statistic, the threshold and both numbers.

* :func:`z_score` — Monte Carlo: :math:`|\hat v - v| / \mathrm{se} \le k`.
  At :math:`k = 5` a correct claim fails with probability
  :math:`\le 5.7\times10^{-7}` under a normal approximation.
* :func:`contains` — rigorous or confidence intervals: the exact value must lie
  in the estimate's interval.
* :func:`relative_error` / :func:`absolute_error` — floating-point computations
  with a tolerance justified at the call site.
* :func:`same_count` — integer facts (numbers of roots, collisions, cycles).
* :func:`at_most` — one-sided: a bound, a tolerance, a count of counterexamples found.
* :func:`all_of` — several conditions that must all hold.
"""

from __future__ import annotations

import math
from typing import Any

import sympy

from twofold.model import Comparison, Estimate

FIVE_SIGMA = 5.0


def exact_float(value: Any) -> float:
    """The exact sympy value (or a plain number) as the nearest float, evaluated with 30 digits."""
    if isinstance(value, sympy.Basic):
        return float(sympy.N(value, 30))
    return float(value)


def z_score(exact: Any, estimate: Estimate, max_sigma: float = FIVE_SIGMA) -> Comparison:
    """Agree when the estimate is within ``max_sigma`` standard errors of the exact value."""
    v = exact_float(exact)
    if estimate.stderr is None:
        raise ValueError("z_score needs an estimate with a standard error")
    if estimate.stderr == 0:
        z = 0.0 if estimate.value == v else math.inf
    else:
        z = abs(estimate.value - v) / estimate.stderr
    return Comparison(
        method=f"|z| = |estimate - exact| / s.e. <= {max_sigma:g}",
        statistic=z,
        threshold=max_sigma,
        exact=v,
        estimate=estimate.value,
        agree=bool(z <= max_sigma),
        detail=f"s.e. {estimate.stderr:.3g}, n = {estimate.n}",
    )


def contains(exact: Any, estimate: Estimate) -> Comparison:
    """Agree when the exact value lies in the estimate's interval; statistic = distance outside it."""
    v = exact_float(exact)
    if estimate.interval is None:
        raise ValueError("contains needs an estimate with an interval")
    lo, hi = estimate.interval
    outside = max(lo - v, v - hi, 0.0)
    return Comparison(
        method="exact value inside the estimate's interval",
        statistic=outside,
        threshold=0.0,
        exact=v,
        estimate=estimate.value,
        agree=bool(outside == 0.0),
        detail=f"interval [{lo:.15g}, {hi:.15g}]",
    )


def relative_error(exact: Any, estimate: Estimate, rtol: float) -> Comparison:
    """Agree when ``|estimate - exact| <= rtol * |exact|``."""
    v = exact_float(exact)
    err = abs(estimate.value - v) / abs(v) if v != 0 else abs(estimate.value)
    return Comparison(
        method=f"relative error <= {rtol:.1e}",
        statistic=err,
        threshold=rtol,
        exact=v,
        estimate=estimate.value,
        agree=bool(err <= rtol),
    )


def absolute_error(exact: Any, estimate: Estimate, atol: float) -> Comparison:
    """Agree when ``|estimate - exact| <= atol``."""
    v = exact_float(exact)
    err = abs(estimate.value - v)
    return Comparison(
        method=f"absolute error <= {atol:.1e}",
        statistic=err,
        threshold=atol,
        exact=v,
        estimate=estimate.value,
        agree=bool(err <= atol),
    )


def same_count(exact: Any, estimate: Estimate) -> Comparison:
    """Agree when an exact integer (a count) equals the estimator's count."""
    v = int(exact)
    diff = abs(int(round(estimate.value)) - v)
    return Comparison(
        method="exact count equals numeric count",
        statistic=float(diff),
        threshold=0.0,
        exact=float(v),
        estimate=estimate.value,
        agree=bool(diff == 0),
    )


def at_most(
    statistic: float,
    threshold: float,
    method: str,
    *,
    exact: float = 0.0,
    estimate: float | None = None,
    detail: str = "",
) -> Comparison:
    """Agree when ``statistic <= threshold``; ``method`` says what the statistic is.

    ``estimate`` defaults to the statistic itself (a residual, a count found);
    ``exact`` is the claimed value the statistic is measured against.
    """
    return Comparison(
        method=method,
        statistic=float(statistic),
        threshold=float(threshold),
        exact=float(exact),
        estimate=float(statistic if estimate is None else estimate),
        agree=bool(statistic <= threshold),
        detail=detail,
    )


def all_of(*comparisons: Comparison) -> Comparison:
    """Comparisons that must all agree.

    The headline statistic, threshold and values are those of the first
    comparison that disagrees (or of the first one when all agree), so a
    failed verdict shows the numbers that failed; ``detail`` lists the others.
    """
    if not comparisons:
        raise ValueError("all_of needs at least one comparison")
    lead = next((c for c in comparisons if not c.agree), comparisons[0])
    others = [
        f"{c.method}: statistic {c.statistic:.3g} vs {c.threshold:.3g} (exact {c.exact:.12g}, estimate {c.estimate:.12g})"
        + (f", {c.detail}" if c.detail else "")
        for c in comparisons
        if c is not lead
    ]
    return Comparison(
        method="; and ".join(c.method for c in comparisons),
        statistic=lead.statistic,
        threshold=lead.threshold,
        exact=lead.exact,
        estimate=lead.estimate,
        agree=all(c.agree for c in comparisons),
        detail="; ".join(part for part in (lead.detail, *others) if part),
    )
