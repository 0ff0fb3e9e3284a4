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
from scipy import stats
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


def flow_rate(problem: Problem, theta0: np.ndarray, queries: np.ndarray, horizon: float, times: int = 6, step: float = 1e-3) -> Estimate:
    r"""K1: :math:`df(q)/dt` along the computed flow versus :math:`\sum_i \alpha_i K_t(q, x_i)`.

    The derivative is the Richardson extrapolation :math:`(4D(h/2) - D(h))/3` of central
    differences :math:`D(h)` of :math:`f(q;\theta(t \pm h))`, :math:`h = 10^{-3}` (truncation
    :math:`O(h^4) \approx 10^{-12}`), from dense solutions run forwards and backwards from
    :math:`t = 0` at the tight tolerance (solver error :math:`\approx 10^{-13}/h = 10^{-10}`).
    ``value``: the derivative at :math:`t = 0` and the first query; ``details``: the largest gap to
    the kernel sum (relative to :math:`\max(|\cdot|, 1)`) over ``times`` instants in
    :math:`[0, T]` and all queries.
    """
    forward = trajectory(problem, theta0, horizon + step, TIGHT)
    backward = trajectory(problem, theta0, -step, TIGHT)
    instants = np.linspace(0.0, horizon, times)
    offsets = np.array([-step, step, -step / 2, step / 2])
    shifted = (offsets[:, None] + instants[None, :]).ravel()
    values = problem.model.value(_states(forward, backward, shifted), queries).reshape(len(queries), 4, times)
    far = (values[:, 1] - values[:, 0]) / (2 * step)
    near = (values[:, 3] - values[:, 2]) / step
    rates = (4 * near - far) / 3
    predicted = np.stack([kernel_rate(problem, forward.sol(s), queries) for s in instants], axis=1)
    gaps = np.abs(rates - predicted) / np.maximum(np.abs(predicted), 1.0)
    return Estimate(
        value=float(rates[0, 0]),
        method="Richardson central difference of f(x*; theta(t)) along the solve_ivp trajectory",
        n=int(rates.size),
        details={
            "kernel_sum_at_start": float(predicted[0, 0]),
            "max_relative_gap": float(gaps.max()),
            "instants": instants,
            "step": step,
        },
    )


def reconstruction(problem: Problem, theta0: np.ndarray, horizon: float, queries: np.ndarray, seed: int | None = None) -> Estimate:
    r"""K2: :math:`\max_q |f_T(q) - f_0(q) - \sum_i \int_0^T \alpha_i K_t(q, x_i)\,dt|` and the weights :math:`a_i(q)`.

    :math:`f_T` is the model at the integrated :math:`\theta(T)`; the sum comes from the
    augmented integrals, so the residual measures the identity up to solver error.
    :math:`a_i(q) = \int \alpha_i K_t / K^p(q, x_i)` is reported where :math:`K_t(q, x_i)` keeps one
    sign (:math:`|K^p| \ge (1 - 10^{-8})\int|K_t|`): there it is a true weighted average and must lie
    in the range of :math:`\alpha_i(t)`.  ``details["spread"]``: the largest
    :math:`\max_q a_i - \min_q a_i` over :math:`i`.
    """
    run = path_integrals(problem, theta0, horizon, queries)
    q = len(queries)
    moved = problem.model.value(run.theta, queries) - problem.model.value(theta0, queries)
    residual = np.abs(moved - run.weighted.sum(axis=1))
    path_kernel = run.path_kernel[:q]
    one_sign = np.abs(path_kernel) >= (1.0 - 1e-8) * run.absolute
    weights = np.where(one_sign, run.weighted / np.where(one_sign, path_kernel, 1.0), np.nan)
    spread = np.nanmax(weights, axis=0) - np.nanmin(weights, axis=0)
    slack = 1e-8 * (1.0 + np.abs(run.alpha_high - run.alpha_low))
    outside = (weights < run.alpha_low - slack) | (weights > run.alpha_high + slack)
    return Estimate(
        value=float(residual.max()),
        method="solve_ivp (DOP853) flow augmented with int alpha_i K_t dt; |f_T - f_0 - sum| over queries",
        n=q,
        seed=seed,
        details={
            "largest_change": float(np.abs(moved).max()),
            "spread": float(np.nanmax(spread)),
            "alpha_range": float(np.max(run.alpha_high - run.alpha_low)),
            "sign_changing_pairs": int((~one_sign).sum()),
            "pairs": int(one_sign.size),
            "weights_outside_alpha_range": int(np.sum(outside & one_sign)),
            "evaluations": run.evaluations,
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
    is a small difference of :math:`O(1)` weights.  ``details["richardson_change"]``: the change when the finest level is added.
    """
    def quotient(end: float) -> float:
        run = path_integrals(problem, theta0, end, np.asarray(pair, dtype=float), tolerances=TIGHT)
        weights = run.weighted[:, index] / run.path_kernel[: len(pair), index]
        return float((weights[0] - weights[1]) / end**2)

    quotients = np.array([quotient(horizon / 2**j) for j in range(levels)])
    limit = richardson(quotients)
    return Estimate(
        value=limit,
        method="Richardson-extrapolated [a_i(z_a; T) - a_i(z_b; T)]/T^2 from augmented solve_ivp runs",
        n=levels,
        details={"richardson_change": abs(limit - richardson(quotients[:-1])), "horizon": horizon},
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
    r"""K3: :math:`f_T` by ``solve_ivp`` against the closed form, per problem.

    ``value``: the integrated :math:`f_T(q_0)` of the first problem; ``details``: the integrated
    :math:`f_T(q_0)` of every problem, the largest |closed form - flow| over ``queries`` per problem,
    and the rank of each tangent kernel.
    """
    flows, gaps, ranks = [], [], []
    for problem, theta0 in zip(problems, thetas0):
        end = trajectory(problem, theta0, horizon).y[:, -1]
        flow = problem.model.value(end, queries)
        gaps.append(float(np.abs(flow - closed_form(problem, theta0, horizon, queries)).max()))
        flows.append(float(flow[0]))
        train = problem.model.jacobian(theta0, problem.x)
        ranks.append(int(np.linalg.matrix_rank(train @ train.T)))
    return Estimate(
        value=flows[0],
        method="solve_ivp (DOP853, rtol 1e-10) gradient flow versus the eigh closed form",
        n=len(queries),
        details={"flow_values": flows, "closed_form_gaps": gaps, "kernel_ranks": ranks},
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
        fit = stats.linregress(np.log(self.rates), np.log(self.parameter_gaps))
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
