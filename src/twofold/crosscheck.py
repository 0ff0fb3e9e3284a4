r"""Cross-checks: how an exact value and an independent estimate are compared.

Each function returns a :class:`~twofold.model.Comparison` that states its
method, the statistic, the threshold and both numbers.  A method is LaTeX text
with its mathematics in ``$...$`` (the proof sheet typesets it, the terminal shows
:func:`twofold.plaintext.to_unicode` of it); :func:`tex_number` writes a number
for it.

* :func:`z_score` — Monte Carlo: :math:`|\hat v - v| / \mathrm{se} \le k`, with the
  standard error itself checked against batch means (:func:`stderr_agrees`).
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
import scipy

from twofold.model import Comparison, Estimate
from twofold.plaintext import to_unicode

FIVE_SIGMA = 5.0
# Two-sided tail of one 5-sigma test, P(|Z| > 5) = erfc(5/sqrt 2), about 5.7e-7.
FIVE_SIGMA_RATE = math.erfc(FIVE_SIGMA / math.sqrt(2))


def tex_number(value: float, spec: str = "g") -> str:
    r"""``value`` formatted with ``spec`` as math: ``1e-06`` becomes ``10^{-6}``, ``2.5e-08`` ``2.5 \cdot 10^{-8}``."""
    text = format(value, spec)
    mantissa, marker, exponent = text.partition("e")
    if not marker:
        return text.replace("inf", r"\infty")
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa in ("1", "1.0") else rf"{mantissa} \cdot {power}"


def exact_float(value: Any) -> float:
    """The exact sympy value (or a plain number) as the nearest float, evaluated with 30 digits."""
    if isinstance(value, sympy.Basic):
        return float(sympy.N(value, 30))
    return float(value)


def z_score(exact: Any, estimate: Estimate, max_sigma: float = FIVE_SIGMA) -> Comparison:
    r"""Agree when the estimate is within ``max_sigma`` standard errors of the exact value.

    Two guards make the test honest:

    * **the standard error is checked.**  When the estimate also measured its
      standard error from ``replicates`` independent batch means
      (``replicate_stderr``), :math:`(B-1)\,(\mathrm{se_{rep}}/\mathrm{se})^2` must lie in the
      central :math:`1 - 10^{-6}` range of :math:`\chi^2_{B-1}`
      (:func:`stderr_agrees`): an inflated standard error, which would let any
      value pass, or one too small, which would flake, is a failed check.
    * **zero variance is rounding-aware.**  A standard error below the float64
      resolution of the compared values (:data:`ROUNDING` ulps), e.g. an
      estimator that is exact at :math:`x = -y`, is replaced by that resolution,
      so an estimate equal to the exact value up to rounding passes and one
      that differs by more does not.
    """
    v = exact_float(exact)
    if estimate.stderr is None:
        raise ValueError("z_score needs an estimate with a standard error")
    floor = ROUNDING * EPSILON * max(abs(v), abs(estimate.value))
    scale = max(estimate.stderr, floor)
    signed = (estimate.value - v) / scale if scale > 0 else (0.0 if estimate.value == v else math.inf)
    z = abs(signed)
    detail = f"s.e. {estimate.stderr:.3g}, n = {estimate.n}"
    if scale > estimate.stderr:
        detail += f"; s.e. below float64 resolution, {ROUNDING} ulps used ({floor:.3g})"
    comparison = Comparison(
        method=rf"$z$-test: $|\hat v - v|/\mathrm{{se}} \le {tex_number(max_sigma)}$",
        statistic=z,
        threshold=max_sigma,
        exact=v,
        estimate=estimate.value,
        agree=bool(z <= max_sigma),
        detail=detail,
        zscores=(float(signed),),
        level=rf"${tex_number(max_sigma)}\sigma$",
    )
    if estimate.replicate_stderr is None:
        return comparison
    return all_of(comparison, stderr_agrees(estimate))


ROUNDING = 64
EPSILON = 2.0**-52
STDERR_LEVEL = 1e-6


def stderr_agrees(estimate: Estimate, level: float = STDERR_LEVEL) -> Comparison:
    r"""The reported standard error agrees with the one measured from batch means.

    With :math:`B` independent batch means, :math:`(B-1)\,s_B^2/\sigma^2 \sim \chi^2_{B-1}`
    (normal batch means), where :math:`s_B` is the batch-means standard error and
    :math:`\sigma` the true one.  Taking the reported ``stderr`` for :math:`\sigma`, the
    statistic must lie in the central :math:`1-\alpha` range; the comparison's
    statistic is :math:`\max(q_{lo}/Q,\ Q/q_{hi})`, which exceeds 1 exactly when it does not.
    """
    if estimate.replicate_stderr is None or estimate.replicates < 2 or not estimate.stderr:
        raise ValueError("stderr_agrees needs a standard error and one measured from >= 2 batch means")
    dof = estimate.replicates - 1
    q = dof * (estimate.replicate_stderr / estimate.stderr) ** 2
    low, high = scipy.stats.chi2.ppf(level / 2, dof), scipy.stats.chi2.isf(level / 2, dof)
    statistic = max(low / q if q > 0 else math.inf, q / high)
    return Comparison(
        method=rf"reported s.e. agrees with the batch-means s.e. ($\chi^2_{{{dof}}}$, $\alpha = {tex_number(level)}$)",
        statistic=float(statistic),
        threshold=1.0,
        exact=float(estimate.stderr),
        estimate=float(estimate.replicate_stderr),
        agree=bool(statistic <= 1.0),
        detail=f"{estimate.replicates} batch means, ratio {estimate.replicate_stderr / estimate.stderr:.3g}",
        level=rf"$\alpha = {tex_number(level)}$",
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
        method=rf"relative error $|\hat v - v|/|v| \le {tex_number(rtol, '.1e')}$",
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
        method=rf"absolute error $|\hat v - v| \le {tex_number(atol, '.1e')}$",
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
    zscores: tuple[float, ...] = (),
    pvalues: tuple[float, ...] = (),
    level: str = "",
) -> Comparison:
    """Agree when ``statistic <= threshold``; ``method`` says what the statistic is.

    ``estimate`` defaults to the statistic itself (a residual, a count found);
    ``exact`` is the claimed value the statistic is measured against.
    ``zscores``/``pvalues`` carry the signed z-scores or p-values behind the
    statistic, for calibration over seeds (``tests/test_calibration.py``, ``twofold sweep``);
    ``level`` the test level as LaTeX text when the statistic comes from a test (``$\alpha = 10^{-7}$``).
    """
    return Comparison(
        method=method,
        statistic=float(statistic),
        threshold=float(threshold),
        exact=float(exact),
        estimate=float(statistic if estimate is None else estimate),
        agree=bool(statistic <= threshold),
        detail=detail,
        zscores=tuple(float(z) for z in zscores),
        pvalues=tuple(float(q) for q in pvalues),
        level=level,
    )


def all_of(*comparisons: Comparison) -> Comparison:
    """Comparisons that must all agree.

    The headline statistic, threshold and values are those of the first
    comparison that disagrees (or of the first one when all agree), so a
    failed verdict shows the numbers that failed; ``detail`` (plain text, as
    every detail) lists the others.
    """
    if not comparisons:
        raise ValueError("all_of needs at least one comparison")
    lead = next((c for c in comparisons if not c.agree), comparisons[0])
    others = [
        f"{to_unicode(c.method)}: statistic {c.statistic:.3g} vs {c.threshold:.3g} (exact {c.exact:.12g}, estimate {c.estimate:.12g})"
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
        zscores=tuple(z for c in comparisons for z in c.zscores),
        pvalues=tuple(p for c in comparisons for p in c.pvalues),
        level=", ".join(dict.fromkeys(c.level for c in comparisons if c.level)),
    )
