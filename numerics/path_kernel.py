r"""Gradient descent is a kernel machine (kexue.fm post 8009; Domingos 2020), numerically.

Independent of :mod:`twofold.theorems.path_kernel`: models with hand-written Jacobians in numpy,
gradient flow :math:`\theta' = -\nabla L` integrated by ``scipy.integrate.solve_ivp`` (DOP853)
and *augmented* with the kernel integrals
:math:`\int_0^T K_t(z, z')\,dt` and :math:`\int_0^T \alpha_i K_t(z, x_i)\,dt`, so the path kernel
is computed by the same adaptive integrator as the trajectory.  Time derivatives are taken by
Richardson-extrapolated central differences *along the computed trajectory* (no Jacobian of the
query point involved), discrete gradient descent by plain iteration, spectra by
``numpy.linalg.eigvalsh``, slopes by ``scipy.stats.linregress``.

Loss convention: :math:`l(f, y) = \tfrac{c}{2}(f - y)^2`, :math:`\alpha_i = -c(f_i - y_i)`;
``flow_sign = -1`` runs gradient *ascent* (the counterexample to K1/K2).

Tolerances.  Trajectories use ``rtol = 1e-10``, ``atol = 1e-12`` (:data:`RTOL`, :data:`ATOL`);
the time-derivative and gradient-descent references use the tighter :data:`TIGHT` pair, because
finite differences divide the solver error by the step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy
from scipy.integrate import solve_ivp

from twofold.contract import Estimate, NumericError

RTOL, ATOL = 1e-10, 1e-12
TIGHT = (1e-13, 1e-15)
METHOD = "DOP853"
DIVERGED = 1e3
BUDGET = 100_000


class Model(Protocol):
    """``value(theta, x)`` (``theta`` of shape ``(p,)`` or ``(p, k)``) and ``jacobian(theta, x)`` of shape ``(len(x), p)``."""

    def value(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray: ...

    def jacobian(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class TanhNet:
    r""":math:`f(x;\theta) = \sum_{j=1}^m v_j \tanh(w_j x + b_j)`, :math:`\theta = (w, b, v)`."""

    hidden: int

    def _parts(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w, b, v = np.reshape(theta, (3, self.hidden) + np.shape(theta)[1:])
        return w, b, v

    def value(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        w, b, v = self._parts(theta)
        return (np.tanh(np.multiply.outer(x, w) + b) * v).sum(axis=1)

    def jacobian(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        w, b, v = self._parts(theta)
        h = np.tanh(np.outer(x, w) + b)
        slope = v * (1.0 - h**2)
        return np.hstack([slope * x[:, None], slope, h])

    def initial(self, rng: np.random.Generator) -> np.ndarray:
        """Standard initialisation: :math:`w, b \\sim N(0, 1)`, :math:`v \\sim N(0, 1/m)`."""
        w, b = rng.standard_normal((2, self.hidden))
        v = rng.standard_normal(self.hidden) / np.sqrt(self.hidden)
        return np.concatenate([w, b, v])


@dataclass(frozen=True)
class PolynomialModel:
    r""":math:`f(x;\theta) = u + \tfrac{\gamma}{2}u^2`, :math:`u = \theta\cdot(1, x, \dots, x^d)`;
    linear in :math:`\theta` exactly when the curvature :math:`\gamma = 0`."""

    degree: int
    curvature: float = 0.0

    def features(self, x: np.ndarray) -> np.ndarray:
        return np.vander(np.asarray(x, dtype=float), self.degree + 1, increasing=True)

    def value(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        linear = self.features(x) @ theta
        return linear + self.curvature * linear**2 / 2

    def jacobian(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        features = self.features(x)
        return (1.0 + self.curvature * (features @ theta))[:, None] * features


@dataclass(frozen=True, eq=False)
class Problem:
    """A model, its training set and the squared loss :math:`\\tfrac{c}{2}(f - y)^2`; ``flow_sign = -1`` ascends."""

    model: Model
    x: np.ndarray
    y: np.ndarray
    loss_scale: float = 1.0
    flow_sign: float = 1.0

    def alpha(self, theta: np.ndarray) -> np.ndarray:
        r""":math:`\alpha_i = -\partial l/\partial f_i = -c(f_i - y_i)` (batched over trailing axes of ``theta``)."""
        residual = self.model.value(theta, self.x) - (self.y if np.ndim(theta) == 1 else self.y[:, None])
        return -self.loss_scale * residual

    def velocity(self, theta: np.ndarray) -> np.ndarray:
        r""":math:`\theta' = \mp\nabla L = \pm J(X)^T \alpha`."""
        return self.flow_sign * self.model.jacobian(theta, self.x).T @ self.alpha(theta)


@dataclass(frozen=True, eq=False)
class PathRun:
    """End state of a gradient flow run with its kernel integrals; ``points = (queries, x_train)``.

    ``path_kernel[a, i] = int_0^T K_t(points_a, x_i) dt``; ``gram`` (all pairs of points) only when requested.
    """

    theta: np.ndarray
    path_kernel: np.ndarray
    gram: np.ndarray | None
    weighted: np.ndarray
    absolute: np.ndarray
    alpha_low: np.ndarray
    alpha_high: np.ndarray
    evaluations: int


def _integrate(rhs, end: float, start: np.ndarray, watched: int, tolerances: tuple[float, float] = (RTOL, ATOL)):
    """``solve_ivp`` on ``[0, end]`` with dense output.  Raises :class:`NumericError` when the first
    ``watched`` components leave the ball of radius :data:`DIVERGED` (gradient ascent blows up) or
    after :data:`BUDGET` right-hand-side evaluations, so no run hangs."""
    calls = 0

    def counted(time: float, state: np.ndarray) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls > BUDGET:
            raise NumericError(f"the flow needed more than {BUDGET} evaluations by t = {time:.3g} (stiff or diverging)")
        return rhs(time, state)

    def diverged(_: float, state: np.ndarray) -> float:
        return DIVERGED - np.abs(state[:watched]).max()

    diverged.terminal = True
    rtol, atol = tolerances
    solution = solve_ivp(counted, (0.0, end), start, method=METHOD, rtol=rtol, atol=atol, dense_output=True, events=diverged)
    if solution.status == 1:
        raise NumericError(f"the flow diverged: |theta| reached {DIVERGED:g} at t = {solution.t[-1]:.3g}")
    if not solution.success:
        raise NumericError(f"solve_ivp failed on the gradient flow: {solution.message}")
    return solution


def trajectory(problem: Problem, theta0: np.ndarray, end: float, tolerances: tuple[float, float] = (RTOL, ATOL)):
    """Dense solution of the flow on ``[0, end]`` (``end < 0`` integrates backwards)."""
    return _integrate(lambda _, theta: problem.velocity(theta), end, theta0, len(theta0), tolerances)


def path_integrals(
    problem: Problem,
    theta0: np.ndarray,
    horizon: float,
    queries: np.ndarray,
    gram: bool = False,
    tolerances: tuple[float, float] = (RTOL, ATOL),
    grid: int = 2001,
) -> PathRun:
    r"""Integrate the flow together with :math:`\int_0^T K_t(z, x_i)\,dt` (every point against the
    training points; every pair of points if ``gram``), :math:`\int_0^T \alpha_i K_t(q, x_i)\,dt`
    and :math:`\int_0^T |K_t(q, x_i)|\,dt` (queries × training points).

    The range of each :math:`\alpha_i(t)` is taken on ``grid`` times of the dense output.
    """
    points = np.concatenate([queries, problem.x])
    q, p, size, n = len(queries), len(theta0), len(queries) + len(problem.x), len(problem.x)
    columns = size if gram else n
    blocks = np.cumsum([p, size * columns, q * n])

    def rhs(_: float, state: np.ndarray) -> np.ndarray:
        theta = state[:p]
        jac = problem.model.jacobian(theta, points)
        kernel = jac @ jac[size - columns :].T
        alpha = problem.alpha(theta)
        cross = kernel[:q, columns - n :]
        velocity = problem.flow_sign * jac[q:].T @ alpha
        return np.concatenate([velocity, kernel.ravel(), (cross * alpha).ravel(), np.abs(cross).ravel()])

    start = np.concatenate([theta0, np.zeros(size * columns + 2 * q * n)])
    solution = _integrate(rhs, horizon, start, p, tolerances)
    alphas = problem.alpha(solution.sol(np.linspace(0.0, horizon, grid))[:p])
    theta, kernels, weighted, absolute = np.split(solution.y[:, -1], blocks)
    kernels = kernels.reshape(size, columns)
    return PathRun(
        theta=theta,
        path_kernel=kernels[:, columns - n :],
        gram=kernels if gram else None,
        weighted=weighted.reshape(q, n),
        absolute=absolute.reshape(q, n),
        alpha_low=alphas.min(axis=1),
        alpha_high=alphas.max(axis=1),
        evaluations=int(solution.nfev),
    )


def random_net_problem(hidden: int, points: int, seed: int, flow_sign: float = 1.0) -> tuple[Problem, np.ndarray]:
    r"""A tanh net with standard initialisation, inputs uniform on :math:`[-1.5, 1.5]`, targets :math:`\sin 2x`."""
    rng = np.random.default_rng(seed)
    net = TanhNet(hidden)
    x = np.sort(rng.uniform(-1.5, 1.5, points))
    return Problem(net, x, np.sin(2.0 * x), flow_sign=flow_sign), net.initial(rng)


def kernel_rate(problem: Problem, theta: np.ndarray, queries: np.ndarray) -> np.ndarray:
    r""":math:`\sum_i \alpha_i K(q, x_i)` from the Jacobians (the rate K1 predicts)."""
    return problem.model.jacobian(theta, queries) @ problem.model.jacobian(theta, problem.x).T @ problem.alpha(theta)


def _states(forward, backward, times: np.ndarray) -> np.ndarray:
    """Parameters at ``times`` (shape ``(p, len(times))``) from the forward and backward dense solutions."""
    ahead = times >= 0
    states = np.empty((forward.y.shape[0], times.size))
    states[:, ahead] = forward.sol(times[ahead])
    states[:, ~ahead] = backward.sol(times[~ahead])
    return states


EPS = float(np.finfo(float).eps)
SAFETY = 10.0
"""Factor between an error *estimate* (a Richardson difference, a two-tolerance difference) and the
tolerance built on it: the estimate is the leading term of the error, the factor covers its remainder."""


def _rk4_hop(problem: Problem, theta: np.ndarray, h: float) -> np.ndarray:
    r"""One classical Runge--Kutta step of the flow from ``theta`` over time ``h`` (``h`` may be negative).

    :math:`\theta_{RK}(h)` is an analytic function of :math:`h` that agrees with the flow to
    :math:`O(h^5)`; in particular :math:`\frac{d}{dh}f(q;\theta_{RK}(h))|_{h=0} = \frac{d}{dt}f(q;\theta(t))`."""
    k1 = problem.velocity(theta)
    k2 = problem.velocity(theta + h / 2 * k1)
    k3 = problem.velocity(theta + h / 2 * k2)
    k4 = problem.velocity(theta + h * k3)
    return theta + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def richardson_table(values: np.ndarray, ratio: float = 4.0) -> np.ndarray:
    r"""The diagonal of the Richardson table of ``values`` (along axis 0) taken at :math:`h, h/2, h/4, \dots`
    for an expansion in powers of :math:`h^2` (``ratio`` :math:`= 4`): entry :math:`k` has removed
    :math:`h^2, \dots, h^{2k}`."""
    row = np.asarray(values, dtype=float)
    diagonal = [row[0]]
    for order in range(1, len(row)):
        factor = ratio**order
        row = (factor * row[1:] - row[:-1]) / (factor - 1)
        diagonal.append(row[0])
    return np.array(diagonal)


def _value_rounding(problem: Problem, theta: np.ndarray, queries: np.ndarray) -> np.ndarray:
    r"""A bound on the float64 rounding error of :math:`f(q;\theta)` for the tanh net:
    :math:`\gamma_m \sum_j |v_j|` with :math:`\gamma_m = (m + 4)\varepsilon` (m products, tanh and
    their sum); for other models :math:`(p + 4)\varepsilon(1 + |f|)`."""
    model = problem.model
    if isinstance(model, TanhNet):
        _, _, v = model._parts(theta)
        return np.full(len(queries), (model.hidden + 4) * EPS * np.abs(v).sum())
    return (len(theta) + 4) * EPS * (1.0 + np.abs(model.value(theta, queries)))


def flow_rate(problem: Problem, theta0: np.ndarray, queries: np.ndarray, horizon: float, times: int = 6, levels: int = 5) -> Estimate:
    r"""K1: :math:`df(q)/dt` along the computed flow versus :math:`\sum_i \alpha_i K_t(q, x_i)`, with an error bound.

    At ``times`` instants of the ``solve_ivp`` trajectory, the flow is continued from the state
    :math:`\theta(t)` by one RK4 step over :math:`\pm h` (:func:`_rk4_hop`), and the central differences
    :math:`D(h) = [f(q;\theta_{RK}(h)) - f(q;\theta_{RK}(-h))]/2h` at :math:`h = h_0/2^k`, :math:`k < ` ``levels``,
    are extrapolated (:func:`richardson_table`; :math:`D` is even in :math:`h`).  The step starts at
    :math:`h_0 = 1/(4\rho)` with :math:`\rho = c\lambda_{\max}(K_t) + 1` the fastest rate of the flow,
    so :math:`(\rho h)^{2k}` decays along the table.  No Jacobian of the query is used.

    Error bound per instant and query (``details["bounds"]``):
    :data:`SAFETY` :math:`\times` (the last Richardson correction :math:`|R_L - R_{L-1}|`, the estimate of
    the truncation error, plus the rounding :math:`2u_f/h_{\min}` of the differences, :math:`u_f` the
    rounding bound of one :math:`f` value (:func:`_value_rounding`), the table's absolute weights summing to
    at most 2) plus the rounding of the kernel sum, :math:`(p + n + 2)\varepsilon\sum_i|\alpha_i|\sum_j|J_{qj}J_{ij}|`.
    ``value``: the derivative at :math:`t = 0` and the first query; ``details["bound"]`` its bound;
    ``details["gap_in_bounds"]``: the largest :math:`|df/dt - \sum_i\alpha_iK_t|` over instants and
    queries in units of its bound (the identity holds when it is at most 1).
    """
    forward = trajectory(problem, theta0, horizon)
    instants = np.linspace(0.0, horizon, times)
    model = problem.model
    rates = np.empty((len(queries), times))
    bounds = np.empty((len(queries), times))
    predicted = np.empty((len(queries), times))
    for column, theta in enumerate(forward.sol(instants).T):
        train = model.jacobian(theta, problem.x)
        rho = problem.loss_scale * np.linalg.eigvalsh(train @ train.T)[-1] + 1.0
        steps = 1.0 / (4.0 * rho) / 2.0 ** np.arange(levels)
        differences = np.array(
            [
                (model.value(_rk4_hop(problem, theta, h), queries) - model.value(_rk4_hop(problem, theta, -h), queries)) / (2 * h)
                for h in steps
            ]
        )
        table = richardson_table(differences)
        rates[:, column] = table[-1]
        truncation = np.abs(table[-1] - table[-2])
        rounding = 2.0 * _value_rounding(problem, theta, queries) / steps[-1]
        alpha = problem.alpha(theta)
        jq = model.jacobian(theta, queries)
        predicted[:, column] = jq @ train.T @ alpha
        summed = (len(theta) + len(problem.x) + 2) * EPS * (np.abs(jq) @ np.abs(train).T @ np.abs(alpha))
        bounds[:, column] = SAFETY * (truncation + rounding) + summed
    gaps = np.abs(rates - predicted)
    return Estimate(
        value=float(rates[0, 0]),
        method="Richardson-extrapolated central differences of f(x*; theta) over RK4 hops from the solve_ivp trajectory",
        n=int(rates.size),
        details={
            "bound": float(bounds[0, 0]),
            "relative_bound": float(bounds[0, 0] / max(abs(rates[0, 0]), np.finfo(float).tiny)),
            "kernel_sum_at_start": float(predicted[0, 0]),
            "gap_in_bounds": float((gaps / bounds).max()),
            "max_relative_gap": float((gaps / np.maximum(np.abs(predicted), 1.0)).max()),
            "instants": instants,
            "levels": levels,
        },
    )


def _variant_averaged(run: PathRun, horizon: float) -> PathRun:
    """Known-false: the path integrals divided by :math:`T` (an average over the path instead of the integral)."""
    return PathRun(
        run.theta, run.path_kernel / horizon, None, run.weighted / horizon, run.absolute / horizon,
        run.alpha_low, run.alpha_high, run.evaluations,
    )


REFERENCE = 1e-2
"""The reference run of a two-tolerance error estimate uses the tolerances times this factor: DOP853's
global error is proportional to the tolerance, so the reference is about 100 times more accurate and
the difference of the two runs estimates the error of the first with a relative error of about 1/100."""


def reconstruction(
    problem: Problem, theta0: np.ndarray, horizon: float, queries: np.ndarray, seed: int | None = None, averaged: bool = False
) -> Estimate:
    r"""K2: :math:`\max_q |f_T(q) - f_0(q) - \sum_i \int_0^T \alpha_i K_t(q, x_i)\,dt|` and the weights :math:`a_i(q)`.

    :math:`f_T` is the model at the integrated :math:`\theta(T)`; the sum comes from the augmented
    integrals :math:`I_q = \int_0^T \sum_i\alpha_iK_t(q, x_i)\,dt`, so the residual measures the identity up to
    the solver's error.  Error bound per query (``details["bounds"]``, a two-tolerance estimate): the run is
    repeated at :data:`REFERENCE` times the tolerances; the residual of the first run is at most
    :math:`|\nabla_\theta f(q;\theta_T)|\,\|\theta_T - \theta_T^{ref}\| + |I_q - I_q^{ref}|` (first order; where the
    identity holds, the residual is the error of :math:`f_T` minus that of :math:`I_q`), taken times :data:`SAFETY`,
    plus the float64 rounding of the three terms.  The reference run's own residual is reported
    (``details["reference_residual"]``), never added to the bound: that would let a false identity pass.
    ``details["residual_in_bounds"]``: the largest residual in units of its bound.

    :math:`a_i(q) = \int \alpha_i K_t / K^p(q, x_i)` is reported where :math:`K_t(q, x_i)` keeps one
    sign (:math:`|K^p| \ge (1 - 10^{-8})\int|K_t|`): there it is a true weighted average and must lie
    in the range of :math:`\alpha_i(t)`.  ``details["spread"]``: the largest
    :math:`\max_q a_i - \min_q a_i` over :math:`i`.  ``averaged=True`` is the known-false variant that
    divides the path integrals by :math:`T` (the path kernel averaged over :math:`[0, T]`, not integrated).
    """
    run = path_integrals(problem, theta0, horizon, queries)
    reference = path_integrals(problem, theta0, horizon, queries, tolerances=(RTOL * REFERENCE, ATOL * REFERENCE))
    if averaged:
        run = _variant_averaged(run, horizon)
        reference = _variant_averaged(reference, horizon)
    q = len(queries)
    model = problem.model
    moved = model.value(run.theta, queries) - model.value(theta0, queries)
    summed = run.weighted.sum(axis=1)
    residual = np.abs(moved - summed)
    reference_residual = np.abs(
        model.value(reference.theta, queries) - model.value(theta0, queries) - reference.weighted.sum(axis=1)
    )
    slope = np.linalg.norm(model.jacobian(run.theta, queries), axis=1)
    estimated = slope * np.linalg.norm(run.theta - reference.theta) + np.abs(summed - reference.weighted.sum(axis=1))
    rounding = (
        _value_rounding(problem, run.theta, queries)
        + _value_rounding(problem, theta0, queries)
        + (len(problem.x) + 2) * EPS * np.abs(run.weighted).sum(axis=1)
    )
    bounds = SAFETY * estimated + 2 * rounding
    path_kernel = run.path_kernel[:q]
    one_sign = np.abs(path_kernel) >= (1.0 - 1e-8) * run.absolute
    weights = np.where(one_sign, run.weighted / np.where(one_sign, path_kernel, 1.0), np.nan)
    spread = np.nanmax(weights, axis=0) - np.nanmin(weights, axis=0)
    slack = 1e-8 * (1.0 + np.abs(run.alpha_high - run.alpha_low))
    outside = (weights < run.alpha_low - slack) | (weights > run.alpha_high + slack)
    worst = int(np.argmax(residual / bounds))
    return Estimate(
        value=float(residual.max()),
        method="solve_ivp (DOP853) flow augmented with the integral of alpha_i K_t; |f_T - f_0 - sum| over queries",
        n=q,
        seed=seed,
        details={
            "bound": float(bounds.max()),
            "residual_in_bounds": float(residual[worst] / bounds[worst]),
            "reference_residual": float(reference_residual.max()),
            "largest_change": float(np.abs(moved).max()),
            "spread": float(np.nanmax(spread)),
            "alpha_range": float(np.max(run.alpha_high - run.alpha_low)),
            "sign_changing_pairs": int((~one_sign).sum()),
            "pairs": int(one_sign.size),
            "weights_outside_alpha_range": int(np.sum(outside & one_sign)),
            "evaluations": run.evaluations + reference.evaluations,
        },
    )


def richardson(values: np.ndarray) -> float:
    r"""Limit at :math:`h \to 0` of ``values`` taken at :math:`h, h/2, h/4, \dots`, for an expansion
    :math:`v_0 + v_1 h + v_2 h^2 + \dots`: repeated Richardson extrapolation removes one power per
    column of the table."""
    table = np.asarray(values, dtype=float)
    for order in range(1, len(table)):
        table = (2**order * table[1:] - table[:-1]) / (2**order - 1)
    return float(table[0])


def weight_dependence(
    problem: Problem, theta0: np.ndarray, pair: tuple[float, float], index: int, horizon: float, levels: int = 4
) -> Estimate:
    r"""K2, small :math:`T`: :math:`d_2 = \lim_{T\to0} [a_i(z_a; T) - a_i(z_b; T)]/T^2`.

    :math:`g(T) = [a_i(z_a) - a_i(z_b)]/T^2 = d_2 + d_3 T + d_4 T^2 + \dots` (the :math:`\alpha_i`
    terms common to both inputs cancel), evaluated at :math:`T, T/2, \dots` and extrapolated by
    :func:`richardson`; the runs use the tight tolerance because :math:`a_i(z_a) - a_i(z_b) = O(T^2)`
    is a small difference of :math:`O(1)` weights.

    Error bound (``details["bound"]``): :data:`SAFETY` :math:`\times` the change when the finest level is
    added (the truncation estimate), plus the solver noise: each weight carries a relative error of at
    most ``TIGHT`` rtol :math:`\times` :data:`SAFETY` (measured by the two-tolerance difference of the
    weights at the coarsest level), divided by :math:`T_j^2` and amplified by the absolute weights of the
    Richardson combination.
    """
    def weights(end: float, tolerances: tuple[float, float]) -> np.ndarray:
        run = path_integrals(problem, theta0, end, np.asarray(pair, dtype=float), tolerances=tolerances)
        return run.weighted[:, index] / run.path_kernel[: len(pair), index]

    ends = horizon / 2.0 ** np.arange(levels)
    runs = [weights(end, TIGHT) for end in ends]
    quotients = np.array([(w[0] - w[1]) / end**2 for w, end in zip(runs, ends)])
    limit = richardson(quotients)
    truncation = abs(limit - richardson(quotients[:-1]))
    coarse = weights(ends[0], (TIGHT[0] / REFERENCE, TIGHT[1] / REFERENCE))
    weight_error = np.abs(coarse - runs[0]).max() * REFERENCE
    amplification = sum(abs(richardson(np.eye(levels)[j])) / ends[j] ** 2 for j in range(levels))
    noise = 2 * (weight_error + 4 * EPS * np.abs(runs[-1]).max()) * amplification
    return Estimate(
        value=limit,
        method="Richardson-extrapolated [a_i(z_a; T) - a_i(z_b; T)]/T^2 from augmented solve_ivp runs",
        n=levels,
        details={"richardson_change": truncation, "bound": SAFETY * (truncation + noise), "horizon": horizon},
    )


def closed_form(problem: Problem, theta0: np.ndarray, horizon: float, queries: np.ndarray) -> np.ndarray:
    r""":math:`f_0(q) + k(q)^T g(K)(y - f_0(X))` with the tangent kernel :math:`K` at :math:`\theta_0`,
    :math:`g(\lambda) = (1 - e^{-cT\lambda})/\lambda` (``-expm1``; :math:`g(0) = cT`) applied on the
    eigenvectors of ``numpy.linalg.eigh``.

    :math:`g(K) = K^{+}(I - e^{-cTK}) + cT P_0` is the entire-function form of the closed form: it needs
    no inverse and no rank cut-off, and the :math:`P_0` term is annihilated by :math:`k(q)^T`
    (:math:`k(q) \in \operatorname{range} K`).  Exact for linear models, a linearisation otherwise.
    """
    model = problem.model
    train = model.jacobian(theta0, problem.x)
    eigenvalues, basis = np.linalg.eigh(train @ train.T)
    rate = problem.loss_scale * horizon
    safe = np.where(np.abs(eigenvalues) > 0, eigenvalues, 1.0)
    spectral = np.where(np.abs(eigenvalues) > 0, -np.expm1(-rate * eigenvalues) / safe, rate)
    move = basis @ (spectral * (basis.T @ (problem.y - model.value(theta0, problem.x))))
    return model.value(theta0, queries) + model.jacobian(theta0, queries) @ train.T @ move


def closed_form_versus_flow(problems: Sequence[Problem], thetas0: Sequence[np.ndarray], horizon: float, queries: np.ndarray) -> Estimate:
    r"""K3: :math:`f_T` by ``solve_ivp`` against the closed form, per problem, with an error bound.

    The bound on :math:`f_T(q)` of the flow is :data:`SAFETY` times the two-tolerance estimate
    :math:`|f_T - f_T^{ref}|` (reference run at :data:`REFERENCE` times the tolerances) plus the float64
    rounding of the closed form, :math:`(n + p + 8)\varepsilon(|f_0(q)| + cT\|k(q)\|\,\|r_0\|)`
    (:math:`\|g(K)\| \le cT`; the eigendecomposition is backward stable).
    ``value``: the integrated :math:`f_T(q_0)` of the first problem; ``details``: the integrated
    :math:`f_T(q_0)` and its bound for every problem, the largest |closed form - flow| over ``queries``
    in units of the bound, and the rank of each tangent kernel.
    """
    flows, bounds, ratios, gaps, ranks = [], [], [], [], []
    for problem, theta0 in zip(problems, thetas0):
        end = trajectory(problem, theta0, horizon).y[:, -1]
        reference = trajectory(problem, theta0, horizon, (RTOL * REFERENCE, ATOL * REFERENCE)).y[:, -1]
        flow = problem.model.value(end, queries)
        closed = closed_form(problem, theta0, horizon, queries)
        train = problem.model.jacobian(theta0, problem.x)
        kq = problem.model.jacobian(theta0, queries) @ train.T
        residual0 = np.linalg.norm(problem.model.value(theta0, problem.x) - problem.y)
        rounding = (len(problem.x) + len(theta0) + 8) * EPS * (
            np.abs(problem.model.value(theta0, queries)) + problem.loss_scale * horizon * np.linalg.norm(kq, axis=1) * residual0
        )
        bound = SAFETY * np.abs(flow - problem.model.value(reference, queries)) + rounding
        gaps.append(float(np.abs(flow - closed).max()))
        ratios.append(float((np.abs(flow - closed) / bound).max()))
        flows.append(float(flow[0]))
        bounds.append(float(bound[0]))
        ranks.append(int(np.linalg.matrix_rank(train @ train.T)))
    return Estimate(
        value=flows[0],
        method="solve_ivp (DOP853, rtol 1e-10) gradient flow versus the eigh closed form",
        n=len(queries),
        details={
            "flow_values": flows,
            "flow_bounds": bounds,
            "closed_form_gaps": gaps,
            "gaps_in_bounds": float(max(ratios)),
            "kernel_ranks": ranks,
        },
    )


def path_gram_spectrum(problem: Problem, theta0: np.ndarray, horizon: float, queries: np.ndarray, seed: int | None = None) -> Estimate:
    r"""K4: eigenvalues of the path-kernel Gram matrix on queries and training points.

    An entry of :math:`K^p` is integrated with global error :math:`\lesssim 10^{2}` rtol
    :math:`\cdot \max|K^p|`, so an eigenvalue moves by at most :math:`N` times that
    (:math:`\|E\|_2 \le N \max|E_{ij}|`); eigenvalues below
    :math:`-10^{-8} N \max|K^p|` are counted as negative.  ``value``: that count.
    """
    gram = path_integrals(problem, theta0, horizon, queries, gram=True).gram
    size = len(gram)
    scale = np.abs(gram).max()
    eigenvalues = np.linalg.eigvalsh((gram + gram.T) / 2)
    floor = 1e-8 * size * scale
    return Estimate(
        value=float(np.sum(eigenvalues < -floor)),
        method="numpy.linalg.eigvalsh of the solve_ivp-integrated path kernel",
        n=size,
        seed=seed,
        details={
            "min_eigenvalue": float(eigenvalues[0]),
            "max_eigenvalue": float(eigenvalues[-1]),
            "negative_floor": float(floor),
            "asymmetry": float(np.abs(gram - gram.T).max()),
        },
    )


def _variant_gram_floor_sign(problem: Problem, theta0: np.ndarray, horizon: float, queries: np.ndarray, seed: int | None = None) -> Estimate:
    """Known-false: eigenvalues below :math:`+` the rounding floor counted as negative, so the zero eigenvalues of a
    rank-deficient path kernel (more points than parameters) are counted too."""
    estimate = path_gram_spectrum(problem, theta0, horizon, queries, seed)
    gram = path_integrals(problem, theta0, horizon, queries, gram=True).gram
    eigenvalues = np.linalg.eigvalsh((gram + gram.T) / 2)
    return Estimate(
        value=float(np.sum(eigenvalues < estimate.details["negative_floor"])),
        method=estimate.method, n=estimate.n, seed=seed, details=estimate.details,
    )


def gradient_descent(problem: Problem, theta0: np.ndarray, rate: float, steps: int) -> np.ndarray:
    r""":math:`\theta_{k+1} = \theta_k - \eta\nabla L(\theta_k)`, ``steps`` times."""
    theta = np.array(theta0, dtype=float)
    for _ in range(steps):
        theta = theta + rate * problem.velocity(theta)
    return theta


@dataclass(frozen=True, eq=False)
class DescentGaps:
    """Gradient descent against the flow at :math:`T` for step sizes ``rates``."""

    rates: np.ndarray
    parameter_gaps: np.ndarray
    value_gaps: np.ndarray

    def slope(self) -> tuple[float, float]:
        r"""Least-squares slope of :math:`\log\|\theta^{GD} - \theta(T)\|` on :math:`\log\eta`, and its standard error."""
        fit = scipy.stats.linregress(np.log(self.rates), np.log(self.parameter_gaps))
        return float(fit.slope), float(fit.stderr)

    def leading_constant(self) -> float:
        r"""Limit of :math:`(f^{GD}(q) - f_T(q))/\eta` as :math:`\eta \to 0` by :func:`richardson` over the ladder."""
        return richardson(self.value_gaps / self.rates)


def stiffness(problem: Problem, theta0: np.ndarray) -> float:
    r""":math:`c\,\lambda_{\max}(K_0)`, the largest rate of the linearised flow at :math:`\theta_0` (GD is stable on it iff :math:`\eta` times this is < 2)."""
    train = problem.model.jacobian(theta0, problem.x)
    return float(problem.loss_scale * np.linalg.eigvalsh(train @ train.T)[-1])


def descent_gaps(problem: Problem, theta0: np.ndarray, horizon: float, ratio: float, levels: int, query: float) -> DescentGaps:
    r"""Gradient descent against the flow at :math:`T` on a ladder of halving steps.

    The coarsest step is the largest :math:`\eta = T/N \le` ``ratio`` / :func:`stiffness`; then
    :math:`N, 2N, \dots, 2^{\mathrm{levels}-1}N` steps.  The flow reference is integrated at the tight
    tolerance (error :math:`\approx 10^{-13}`, far below the smallest gap).
    """
    exact = trajectory(problem, theta0, horizon, TIGHT).y[:, -1]
    coarsest = max(1, int(np.ceil(horizon * stiffness(problem, theta0) / ratio)))
    counts = coarsest * 2 ** np.arange(levels)
    finals = [gradient_descent(problem, theta0, horizon / steps, int(steps)) for steps in counts]
    point = np.array([query])
    return DescentGaps(
        rates=horizon / counts,
        parameter_gaps=np.array([np.linalg.norm(end - exact) for end in finals]),
        value_gaps=np.array([problem.model.value(end, point)[0] - problem.model.value(exact, point)[0] for end in finals]),
    )


def descent_order(net: DescentGaps, linear: DescentGaps, seed: int | None = None) -> Estimate:
    r"""K5: the log-log slope of the gradient-descent error of a tanh net (``value``, with the
    regression's standard error) and, on a linear model, the slope and the leading constant
    :math:`\lim (f^{GD} - f_T)/\eta`."""
    (slope, stderr), (linear_slope, _) = net.slope(), linear.slope()
    return Estimate(
        value=slope,
        stderr=stderr,
        method="scipy.stats.linregress of log |theta_GD - theta_flow| on log eta",
        n=len(net.rates),
        seed=seed,
        details={
            "rates": net.rates,
            "net_gaps": net.parameter_gaps,
            "linear_slope": linear_slope,
            "linear_gaps": linear.parameter_gaps,
            "linear_leading_constant": linear.leading_constant(),
        },
    )
