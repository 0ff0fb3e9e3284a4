r"""Even Taylor truncations of :math:`e^x`, numerically (kexue.fm post 7919).

Independent of :mod:`twofold.theorems.taylor`: coefficients :math:`1/k!` in floating
point, Horner evaluation with its a-priori rounding bound, sign changes on a
grid, ``scipy.optimize`` for minimisers, complex-step derivatives, and
``mpmath`` (arbitrary precision and interval arithmetic) where float64 is not
enough.

Where float64 breaks down: Horner's rule computes :math:`f_n(x)` with error at
most :math:`\gamma_{2n} \sum_k |x|^k/k! = \gamma_{2n} f_n(|x|)`,
:math:`\gamma_m = mu/(1-mu)`, :math:`u = 2^{-53}`.  At the minimiser
:math:`|x^*_n| \approx 0.28\,n` the value :math:`f_n(x^*_n)` decays like
:math:`e^{-0.28 n}` while :math:`f_n(|x^*_n|) \approx e^{0.28 n}`, so the
relative error grows like :math:`n\,u\,e^{0.56 n}`: about :math:`10^{-9}` at
:math:`n = 30` and :math:`> 1` beyond :math:`n \approx 60`.  Signs and minima
are therefore certified with ``mpmath.iv``, and :func:`float64_relative_error`
measures the breakdown.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import mpmath
import numpy as np
from scipy import optimize

from twofold.contract import Estimate, NumericError

UNIT_ROUNDOFF = 2.0**-53
GRID_POINTS = 200_001


def coefficients(n: int) -> np.ndarray:
    """Float64 coefficients :math:`1/k!`, :math:`k = 0..n` (lowest degree first)."""
    return np.array([1 / math.factorial(j) for j in range(n + 1)])  # int / int: correctly rounded, 0.0 beyond 170!


def derivative_coefficients(coeffs: np.ndarray) -> np.ndarray:
    """Coefficients of the derivative of a polynomial given lowest degree first."""
    return np.polynomial.polynomial.polyder(coeffs)


def horner(coeffs: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Vectorised Horner evaluation (real or complex points)."""
    result = np.zeros_like(points, dtype=np.result_type(points, coeffs))
    for c in coeffs[::-1]:
        result = result * points + c
    return result


def horner_error_bound(coeffs: np.ndarray, points: np.ndarray) -> np.ndarray:
    r"""A-priori bound :math:`\gamma_{2n}\,\sum_k |c_k| |x|^k` on Horner's rounding error."""
    degree = len(coeffs) - 1
    gamma = 2 * degree * UNIT_ROUNDOFF / (1 - 2 * degree * UNIT_ROUNDOFF)
    return gamma * horner(np.abs(coeffs), np.abs(points)) * (1 + 1e-12)


def root_radius(n: int) -> float:
    r"""Fujiwara's bound: every root of :math:`f_n` has modulus :math:`\le 2\max_k (n!/(n-k)!)^{1/k}`."""
    return 2.0 * max((math.factorial(n) / math.factorial(n - j)) ** (1.0 / j) for j in range(1, n + 1))


@contextmanager
def interval_precision(dps: int) -> Iterator[None]:
    """Set ``mpmath.iv`` to ``dps`` decimal digits for the block (it has no ``workdps``)."""
    saved = mpmath.iv.dps
    mpmath.iv.dps = dps
    try:
        yield
    finally:
        mpmath.iv.dps = saved


def _mp_horner(coeffs: list, point):
    value = 0
    for c in reversed(coeffs):
        value = value * point + c
    return value


def _mp_coefficients(n: int, ctx) -> list:
    return [ctx.mpf(1) / ctx.factorial(j) for j in range(n + 1)]


def certified_signs(coeffs: np.ndarray, points: np.ndarray, n: int, derivative: bool = False) -> tuple[np.ndarray, int]:
    """Signs of the polynomial at ``points``: float64 where Horner's bound certifies them,
    ``mpmath.iv`` interval evaluation at the others (0 only for an exact zero, NaN if undecided).
    Returns (signs, number re-evaluated)."""
    values = horner(coeffs, points)
    trusted = np.abs(values) > horner_error_bound(coeffs, points)
    signs = np.sign(values)
    suspicious = np.flatnonzero(~trusted)
    if suspicious.size:
        with interval_precision(60):
            exact = _mp_coefficients(n, mpmath.iv)
            if derivative:
                exact = [j * c for j, c in enumerate(exact)][1:]
            for i in suspicious:
                enclosure = _mp_horner(exact, mpmath.iv.mpf(float(points[i])))
                signs[i] = 1.0 if enclosure.a > 0 else -1.0 if enclosure.b < 0 else 0.0 if enclosure.a == enclosure.b else np.nan
    return signs, int(suspicious.size)


def sign_change_roots(n: int, derivative: bool = False) -> tuple[list[float], int]:
    """Real roots of :math:`f_n` (or of its derivative): exact zeros at grid points plus sign
    changes on a grid over the Fujiwara disc, refined by ``scipy.optimize.brentq``.  Returns (roots, points re-evaluated in mpmath)."""
    coeffs = coefficients(n)
    if derivative:
        coeffs = derivative_coefficients(coeffs)
    radius = root_radius(n)
    grid = np.linspace(-radius, radius, GRID_POINTS)
    signs, reevaluated = certified_signs(coeffs, grid, n, derivative)
    if np.any(np.isnan(signs)):
        raise NumericError(f"interval arithmetic could not fix the sign at x = {grid[np.isnan(signs)][0]!r}")
    exact_zeros = [float(v) for v in grid[signs == 0]]
    changes = np.flatnonzero(signs[:-1] * signs[1:] < 0)
    bracketed = [_bracketed_root(coeffs, n, derivative, grid[i], grid[i + 1]) for i in changes]
    return sorted(exact_zeros + bracketed), reevaluated


def _bracketed_root(coeffs: np.ndarray, n: int, derivative: bool, low: float, high: float) -> float:
    """The root in a certified sign-change bracket: ``brentq`` in float64 when float64 sees the
    sign change, else ``mpmath.findroot`` (Anderson–Björck) at ``30 + n`` digits."""
    def value(v: float) -> float:
        return float(horner(coeffs, np.array(v)))

    if value(low) * value(high) < 0:
        return optimize.brentq(value, low, high, xtol=1e-15)
    with mpmath.workdps(30 + n):
        exact = _mp_coefficients(n, mpmath.mp)
        if derivative:
            exact = [j * c for j, c in enumerate(exact)][1:]
        return float(mpmath.findroot(lambda v: _mp_horner(exact, v), (mpmath.mpf(low), mpmath.mpf(high)), solver="anderson"))


def complex_step_residual(n: int, points: int, seed: int, spread: float = 6.0) -> Estimate:
    r"""T1: max over random :math:`x` of :math:`|\mathrm{Im}\,f_n(x + ih)/h - f_{n-1}(x)| / f_{n-1}(|x|)`.

    The complex-step derivative (:math:`h = 10^{-200}`) has no cancellation, so
    both sides are accurate to :math:`\approx (n+2)u` relative to :math:`f_{n-1}(|x|)`.
    """
    rng = np.random.default_rng(seed)
    xs = rng.uniform(-spread, spread, size=points)
    h = 1e-200
    derivative = horner(coefficients(n).astype(complex), xs + 1j * h).imag / h
    previous = horner(coefficients(n - 1), xs)
    scale = horner(coefficients(n - 1), np.abs(xs))
    residual = np.abs(derivative - previous) / scale
    return Estimate(
        value=float(residual.max()),
        method=f"complex-step derivative vs Horner f_(n-1) at {points} uniform points in [-{spread}, {spread}]",
        n=points,
        seed=seed,
        details={"mean_residual": float(residual.mean())},
    )


GRID_MAX = 60
"""Largest order handled by float64 grids and mpmath; beyond it the exact-sign certificates of
:mod:`twofold.numerics.taylor_certify` (python-flint) take over (module text: float64 fails near 60)."""
ROOTS_MAX = 200
"""Largest order whose complex critical points are all isolated (``fmpz_poly.complex_roots``: 0.5 s at
100, 1 s at 200, about a minute at 500)."""


def critical_value_residual(n: int, dps: int = 50) -> Estimate:
    """T2 at every complex critical point: mpmath up to :data:`GRID_MAX`, python-flint beyond."""
    if n > GRID_MAX:
        return _critical_value_residual_flint(n)
    return _critical_value_residual_mpmath(n, dps)


def _critical_value_residual_flint(n: int) -> Estimate:
    r"""Critical points from ``fmpz_poly.complex_roots`` (certified isolating balls), refined by Newton
    steps in ``acb`` at :math:`2n + 160` bits; relative residual :math:`|n!f_n(z) - z^n| / |z^n|` at each."""
    from flint import acb, ctx

    from twofold.numerics import taylor_certify

    if n > ROOTS_MAX:
        raise NumericError(f"n = {n}: isolating all {n - 1} complex critical points is too slow above n = {ROOTS_MAX}")
    previous = taylor_certify.integer_truncation(n - 1)
    current = taylor_certify.next_truncation(previous, n)
    derivative = previous.derivative()
    worst = 0.0
    with ctx.workprec(2 * n + 160):
        for ball, _ in previous.complex_roots():
            z = ball.mid()
            for _ in range(3):
                z = (z - previous(z) / derivative(z)).mid()
            power = z**n
            worst = max(worst, float(abs((current(z) - power) / power).mid()))
    return Estimate(
        value=worst,
        method=f"python-flint complex_roots of (n-1)! f_(n-1), Newton-refined at {2 * n + 160} bits; relative residual at every complex critical point",
        n=n - 1,
        details={"critical_points": n - 1},
    )


def _critical_value_residual_mpmath(n: int, dps: int = 50) -> Estimate:
    r"""T2: max over all complex critical points of :math:`|f_n(z) - z^n/n!| / |z^n/n!|`.

    Critical points from ``mpmath.polyroots`` at ``dps`` digits (float64
    ``numpy.roots`` would limit the check to about :math:`10^{-13}`; its
    residual is reported in ``details``).
    """
    with mpmath.workdps(dps):
        coeffs = _mp_coefficients(n, mpmath.mp)
        deriv = [j * c for j, c in enumerate(coeffs)][1:]
        roots = mpmath.polyroots(list(reversed(deriv)), maxsteps=200, extraprec=4 * dps)
        top = mpmath.mpf(1) / mpmath.factorial(n)
        residuals = [abs(_mp_horner(coeffs, z) - top * z**n) / abs(top * z**n) for z in roots]
        worst = float(max(residuals)) if residuals else 0.0
    float_roots = np.roots(derivative_coefficients(coefficients(n))[::-1])
    top_f = 1.0 / math.factorial(n)
    float_residual = np.abs(horner(coefficients(n), float_roots) - top_f * float_roots**n) / np.abs(top_f * float_roots**n)
    return Estimate(
        value=worst,
        method=f"mpmath.polyroots at {dps} digits; relative residual at every complex critical point",
        n=len(roots),
        details={"critical_points": len(roots), "float64_numpy_roots_residual": float(float_residual.max(initial=0.0))},
    )


def _certified(n: int):
    from twofold.numerics import taylor_certify

    return taylor_certify.certify_order(n)


def real_root_count(n: int) -> Estimate:
    """T3: number of real roots of :math:`f_n` (grid sign changes, certified signs), with the roots found;
    beyond :data:`GRID_MAX` the python-flint certificate (exact signs) with its bounds on :math:`\\min f_n`."""
    if n > GRID_MAX:
        record = _certified(n)
        details = {"roots": [], "certificate": "taylor_certify.certify_order"}
        if n % 2 == 0:
            details.update(minimum_interval=record.minimum_floats(), argmin_interval=record.bracket_floats())
        else:
            details.update(roots=[sum(record.bracket_floats()) / 2])
        return Estimate(
            value=float(record.real_roots),
            method="python-flint: exact signs of n! f_n at dyadic rationals, induction lemma f_(n-1) > 0 or f_(n-2) > 0",
            n=n,
            details=details,
        )
    roots, reevaluated = sign_change_roots(n)
    details = {"roots": roots, "grid_points": GRID_POINTS, "radius": root_radius(n), "mpmath_reevaluated_points": reevaluated}
    if n % 2 == 0:
        enclosure = minimum_enclosure(n)
        details.update(
            minimum_interval=enclosure.interval, minimum=enclosure.value, argmin_interval=enclosure.details["argmin_interval"]
        )
    return Estimate(
        value=float(len(roots)),
        method="sign changes on a grid over the Fujiwara root disc (float64 signs certified by Horner's bound, else mpmath.iv)",
        n=GRID_POINTS,
        details=details,
    )


def critical_point_count(n: int) -> Estimate:
    """T4: real critical points (even n) or real roots and monotonicity (odd n), counted on a grid;
    beyond :data:`GRID_MAX` from the python-flint certificate of the odd order :math:`n` or :math:`n - 1`."""
    if n > GRID_MAX:
        record = _certified(n if n % 2 == 1 else n - 1)
        low, high = record.bracket_floats()
        return Estimate(
            value=float(record.real_roots),
            method="python-flint certificate: exact sign change of the odd truncation at dyadic rationals a < b < 0",
            n=n,
            details={"bracket": (low, high), "all_roots_negative": high < 0},
        )
    critical, reevaluated = sign_change_roots(n, derivative=True)
    if n % 2 == 0:
        return Estimate(
            value=float(len(critical)),
            method="sign changes of f_n' on a grid over the Fujiwara disc",
            n=GRID_POINTS,
            details={"critical_points": critical, "mpmath_reevaluated_points": reevaluated},
        )
    roots, _ = sign_change_roots(n)
    return Estimate(
        value=float(len(roots)),
        method="sign changes of f_n on a grid; f_n' sign changes counted for monotonicity",
        n=GRID_POINTS,
        details={"roots": roots, "derivative_sign_changes": len(critical), "all_roots_negative": all(r < 0 for r in roots)},
    )


def _outward(interval) -> tuple[float, float]:
    return (math.nextafter(float(interval.a), -math.inf), math.nextafter(float(interval.b), math.inf))


def minimum_enclosure(n: int, dps: int = 30) -> Estimate:
    r"""T5: the minimum of :math:`f_n` (n even) with a rigorous enclosure.

    1. certified signs of :math:`f_n'` on the grid locate its (single) zero;
    2. ``mpmath.findroot`` (Anderson–Björck on that bracket) refines it;
    3. interval arithmetic (``mpmath.iv``) shows :math:`f_n'` changes sign across
       :math:`[r-\delta, r+\delta]`, :math:`\delta = 10^{-\mathrm{dps}}`, and encloses :math:`f_n` there.
    With a unique critical point (T4, counted in :func:`critical_point_count`)
    the enclosure contains :math:`\min f_n`.  The working precision is
    ``dps + n`` digits: evaluating :math:`f_n` near :math:`x^*_n` cancels about
    :math:`0.25\,n` digits.  ``details`` also reports what plain float64 gives:
    ``scipy.optimize.minimize_scalar``'s minimiser and Horner's value there.
    """
    if n > GRID_MAX:
        record = _certified(n)
        low, high = record.minimum_floats()
        return Estimate(
            value=(low + high) / 2,
            interval=(low, high),
            method="python-flint certificate: minimiser bracket a < x* < b < 0 by exact signs, b^n/n! < min f_n < a^n/n!",
            n=n,
            details={"argmin_interval": record.bracket_floats()},
        )
    coeffs = coefficients(n)
    critical, _ = sign_change_roots(n, derivative=True)
    if len(critical) != 1:
        raise NumericError(f"f_{n}' has {len(critical)} real zeros on the grid; expected one minimiser")
    spacing = 2 * root_radius(n) / (GRID_POINTS - 1)
    bracket = (critical[0] - spacing, critical[0] + spacing)
    work = dps + n
    with mpmath.workdps(work):
        deriv = [j * c for j, c in enumerate(_mp_coefficients(n, mpmath.mp))][1:]
        root = mpmath.findroot(lambda v: _mp_horner(deriv, v), tuple(map(mpmath.mpf, bracket)), solver="anderson")
        delta = mpmath.mpf(10) ** (-dps)
        low, high = root - delta, root + delta
    with interval_precision(work):
        deriv_iv = [j * c for j, c in enumerate(_mp_coefficients(n, mpmath.iv))][1:]
        left, right = _mp_horner(deriv_iv, mpmath.iv.mpf(low)), _mp_horner(deriv_iv, mpmath.iv.mpf(high))
        if not (left.b < 0 < right.a):
            raise NumericError(f"f_{n}' does not change sign across the refined minimiser bracket [{low}, {high}]")
        value = _mp_horner(_mp_coefficients(n, mpmath.iv), mpmath.iv.mpf([low, high]))
    float_fit = optimize.minimize_scalar(
        lambda v: float(horner(coeffs, np.array(v))), bounds=bracket, method="bounded", options={"xatol": 1e-14}
    )
    return Estimate(
        value=float(value.mid),
        interval=_outward(value),
        method="certified grid bracket, mpmath.findroot refinement, rigorous mpmath.iv enclosure",
        n=GRID_POINTS,
        details={
            "argmin_interval": (math.nextafter(float(low), -math.inf), math.nextafter(float(high), math.inf)),
            "float64_scipy_argmin": float(float_fit.x),
            "float64_value": float(horner(coeffs, np.array(float(root)))),
            "float64_error_bound": float(horner_error_bound(coeffs, np.array(float(root)))),
        },
    )


def float64_relative_error(n: int) -> float:
    r"""Relative error of float64 Horner :math:`f_n(x^*_n)` against the rigorous mpmath enclosure."""
    enclosure = minimum_enclosure(n)
    return abs(enclosure.details["float64_value"] - enclosure.value) / enclosure.value


def taylor_softmax(logits: np.ndarray, n: int) -> np.ndarray:
    r"""Taylor-softmax along the last axis: :math:`f_n(x_i) / \sum_j f_n(x_j)`."""
    weights = horner(coefficients(n), np.asarray(logits, dtype=float))
    return weights / weights.sum(axis=-1, keepdims=True)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def shift_change(n: int, shift: float, samples: int, seed: int) -> Estimate:
    r"""T6: :math:`p_1(x + c) - p_1(x)` at :math:`x = (0, 1)` in float64, plus a random search.

    ``details`` reports the largest sum-to-one residual and the fraction of
    random logit pairs (standard normal) whose first probability moves by more
    than :math:`10^{-8}` under the shift.
    """
    rng = np.random.default_rng(seed)
    point = np.array([0.0, 1.0])
    change = taylor_softmax(point + shift, n)[0] - taylor_softmax(point, n)[0]
    logits = rng.standard_normal((samples, 3))
    moved = np.abs(taylor_softmax(logits + shift, n) - taylor_softmax(logits, n)).max(axis=-1)
    sums = np.abs(taylor_softmax(logits, n).sum(axis=-1) - 1.0)
    return Estimate(
        value=float(change),
        method="float64 Taylor-softmax at x = (0, 1) and at random normal logits",
        n=samples,
        seed=seed,
        details={"fraction_moved": float(np.mean(moved > 1e-8)), "max_sum_residual": float(sums.max())},
    )


def softmax_distance(n: int, bound: float, classes: int, samples: int, seed: int) -> Estimate:
    r"""T6: largest :math:`\ell_1` distance between Taylor-softmax and softmax over random logits in
    :math:`[-a, a]^K` (uniform, plus the corners :math:`\pm a`)."""
    rng = np.random.default_rng(seed)
    logits = rng.uniform(-bound, bound, size=(samples, classes))
    logits[0] = bound * np.where(np.arange(classes) % 2 == 0, 1.0, -1.0)
    distance = np.abs(taylor_softmax(logits, n) - softmax(logits)).sum(axis=-1)
    return Estimate(
        value=float(distance.max()),
        method=f"max l1 distance over {samples} uniform logit vectors in [-a, a]^{classes}",
        n=samples,
        seed=seed,
        details={"mean_distance": float(distance.mean())},
    )


def monotone_variant(n: int, points: int = 100_001) -> Estimate:
    r"""T6: :math:`g_n(x) = f_n(\max(x, \hat x))` on a grid, :math:`\hat x` the numerical minimiser.

    ``value`` is the grid minimum of :math:`g_n` (float64 Horner) and
    ``details["error_bound"]`` Horner's a-priori rounding bound there (the
    minimiser's own error, about :math:`\sqrt{u}`, enters only to second order);
    ``details["decreases"]`` counts grid steps where :math:`g_n` falls by more
    than Horner's bound.
    """
    argmin = optimize.minimize_scalar(
        lambda v: float(horner(coefficients(n), np.array(v))), bounds=(-root_radius(n), 0.0), method="bounded", options={"xatol": 1e-10}
    )
    grid = np.linspace(-root_radius(n), root_radius(n), points)
    clipped = np.maximum(grid, argmin.x)
    values = horner(coefficients(n), clipped)
    slack = horner_error_bound(coefficients(n), clipped)
    decreases = int(np.count_nonzero(np.diff(values) < -(slack[:-1] + slack[1:])))
    return Estimate(
        value=float(values.min()),
        method="float64 grid over the Fujiwara disc, clipped at scipy's minimiser",
        n=points,
        details={
            "decreases": decreases,
            "scipy_argmin": float(argmin.x),
            "error_bound": float(slack[np.argmin(values)]),
        },
    )


# --- known-false variants (twofold audit) ------------------------------------------------------


def _variant_dropped_factorial_residual(n: int, points: int, seed: int, spread: float = 6.0) -> Estimate:
    r"""Wrong: coefficients :math:`1` instead of :math:`1/k!` (the factorial dropped), then the same complex-step check."""
    rng = np.random.default_rng(seed)
    xs = rng.uniform(-spread, spread, size=points)
    ones = np.ones(n + 1)
    derivative = horner(ones.astype(complex), xs + 1j * 1e-200).imag / 1e-200
    previous, scale = horner(ones[:-1], xs), horner(ones[:-1], np.abs(xs))
    residual = np.abs(derivative - previous) / scale
    return Estimate(value=float(residual.max()), method="complex step, coefficients without 1/k!", n=points, seed=seed)


def _variant_roots_not_critical_points(n: int) -> Estimate:
    """Wrong: for even n, the real roots of f_n counted instead of those of f_n' (0 instead of 1)."""
    roots, _ = sign_change_roots(n)
    return Estimate(value=float(len(roots)), method="sign changes of f_n (not f_n')", n=GRID_POINTS)
