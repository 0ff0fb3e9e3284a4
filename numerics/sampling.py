r"""Search by sampling (kexue.fm posts 8062, 8084), numerically.

Independent of :mod:`twofold.theorems.sampling`: the same instances (see that module's
docstring) are rebuilt here in float64 and *sampled* — rejection and
importance sampling vectorised over draws, Metropolis–Hastings and Gibbs
vectorised over many independent chains (a chain is sequential, so the loop is
over steps, never over samples), CGMH on sentences stored as padded token
arrays.  Graph facts come from networkx and ``scipy.sparse.csgraph``; the convergence of
the ring chain from every start is certified by float repeated squaring with a rigorous
error bound (:func:`certified_power`).

Statistical decisions are made at :data:`ALPHA` each:

* :func:`law_fit` — an empirical law against a claimed law: Pearson's
  chi-square (``scipy.stats.chisquare``; cells with expected count below 5
  pooled) *and* a distribution-free total-variation bound
  :math:`\mathrm{TV} \le \tfrac12\sqrt{(k-1)/N} + \sqrt{\ln(1/\alpha)/(2N)}`
  (the first term bounds :math:`E\,\mathrm{TV}` by Cauchy–Schwarz, the second
  is McDiarmid's inequality: one sample moves TV by at most :math:`1/N`);
* :func:`proportion_interval` — Clopper–Pearson interval at level :math:`1-\alpha`
  (``scipy.stats.binomtest(...).proportion_ci``);
* :func:`ks_fit` — Kolmogorov–Smirnov (``scipy.stats.kstest``), critical value
  ``scipy.stats.kstwo.isf(alpha, m)``.

Chains that start from the target law itself (drawn i.i.d. here) give i.i.d.
final states whose law is :math:`\pi P^T`; that equals :math:`\pi` exactly when
:math:`\pi` is stationary, so those tests carry no mixing-time approximation.

Chain estimators (:func:`run_chains`) hold :math:`C` chains in one state array
of shape ``(C, ...)`` and update all of them with one vectorised step per time
step, from one ``np.random.default_rng(seed)``.  A mean :math:`E_\pi f` is the
average of the per-chain time averages :math:`\bar f_c` over :math:`t = 1..T`;
its standard error is the **between-chain** one, :math:`s(\bar f_c)/\sqrt C`
(:meth:`ChainRun.mean_and_error`), honest under any autocorrelation inside a
chain because the :math:`\bar f_c` are i.i.d.  Law tests use only the final
states, one per chain.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse
from scipy.sparse import csgraph
from scipy import optimize, special

from twofold.contract import Estimate, NumericError
from twofold.numerics.stats import LawFit, mean_with_batches, proportion
from twofold.numerics.stats import law_fit as stats_law_fit

ALPHA = 1e-7
"""Significance level of every test here: a correct claim fails one test with probability <= 1e-7."""

MIXED_TV = 1e-5
r"""Tolerance on the certified :math:`\max_x \mathrm{TV}(P^t(x,\cdot), \pi)` of the convergence claim.

The certificate's float part grows like :math:`t\,\gamma_n` (:func:`square_error`): about :math:`2\cdot 10^{-6}` at
:math:`n = 2000`, :math:`t = 2^{23}`, the horizon that ring needs; the estimator stops at half this tolerance.
Submultiplicativity (:math:`\bar d(s + t) \le \bar d(s)\bar d(t)`, :math:`\bar d \le 2d`) turns
:math:`d(t) \le 10^{-5}` at one :math:`t` into :math:`d(mt) \le (2\cdot 10^{-5})^m \to 0`: convergence, not one snapshot."""


# ---------------------------------------------------------------- statistical tests


def law_fit(counts: np.ndarray, probabilities: np.ndarray, alpha: float = ALPHA) -> LawFit:
    r"""Test that ``counts`` (N i.i.d. draws) come from ``probabilities``: :func:`twofold.numerics.stats.law_fit` at ``alpha``."""
    return stats_law_fit(counts, probabilities, alpha)


def proportion_interval(successes: int, trials: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Clopper–Pearson interval for a binomial proportion at confidence ``1 - alpha``."""
    interval = scipy.stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=1 - alpha, method="exact")
    return float(interval.low), float(interval.high)


@dataclass(frozen=True)
class KsFit:
    """Kolmogorov–Smirnov statistic against its critical value at ``alpha``."""

    statistic: float
    critical: float
    p_value: float
    samples: int


def ks_fit(samples: np.ndarray, cdf: Callable[[np.ndarray], np.ndarray], alpha: float = ALPHA) -> dict[str, float]:
    """``scipy.stats.kstest`` against ``cdf``, with the exact critical value; returned as a JSON-friendly dict."""
    result = scipy.stats.kstest(samples, cdf)
    fit = KsFit(float(result.statistic), float(scipy.stats.kstwo.isf(alpha, samples.size)), float(result.pvalue), int(samples.size))
    return dataclasses.asdict(fit)


def mean_and_error(values: np.ndarray) -> tuple[float, float]:
    r"""Sample mean and its standard error :math:`s/\sqrt{m}` of ``m`` i.i.d. values."""
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size))


# ---------------------------------------------------------------- M1 rejection sampling


def finite_target(n: int) -> np.ndarray:
    r""":math:`\rho_i = (i+1)^2`."""
    return np.arange(1, n + 1, dtype=float) ** 2


def finite_proposal(n: int, hole: int = 0) -> np.ndarray:
    r""":math:`q_i \propto i+1` on :math:`i < n - \mathrm{hole}`, zero beyond."""
    weights = np.arange(1, n + 1, dtype=float)
    weights[n - hole :] = 0.0
    return weights / weights.sum()


def _rejection_setup(n: int, slack: float) -> tuple[np.ndarray, np.ndarray, float]:
    rho, q = finite_target(n), finite_proposal(n)
    return rho, q, slack * float(np.max(rho / q))


def _propose_and_test(
    rng: np.random.Generator, rho: np.ndarray, q: np.ndarray, envelope: float, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """``size`` proposals from q and the accept flags :math:`U < \\rho/(Mq)`."""
    proposals = rng.choice(rho.size, size=size, p=q)
    return proposals, rng.random(size) * envelope * q[proposals] < rho[proposals]


def rejection_finite(n: int, slack: float, samples: int, seed: int) -> Estimate:
    r"""M1: acceptance rate of ``samples`` proposals (Clopper–Pearson interval) and the accepted values' counts."""
    rng = np.random.default_rng(seed)
    rho, q, envelope = _rejection_setup(n, slack)
    proposals, accepted = _propose_and_test(rng, rho, q, envelope, samples)
    kept = int(accepted.sum())
    if kept == 0:
        raise NumericError(f"none of {samples} proposals was accepted")
    return proportion(
        accepted,
        "acceptance rate of a vectorised rejection sampler",
        seed,
        accepted=kept,
        counts=np.bincount(proposals[accepted], minlength=n),
    )


def rejection_trials(n: int, slack: float, draws: int, seed: int) -> Estimate:
    r"""M1: trials needed for each of ``draws`` accepted samples (i.i.d. geometric), their mean and histogram.

    Proposals are made in batches until ``draws`` acceptances; the trial
    counts of the first ``draws`` acceptances are exactly i.i.d.
    """
    rng = np.random.default_rng(seed)
    rho, q, envelope = _rejection_setup(n, slack)
    flags, found = [], 0
    while found < draws:
        flags.append(_propose_and_test(rng, rho, q, envelope, draws)[1])
        found += int(flags[-1].sum())
    trials = np.diff(np.flatnonzero(np.concatenate(flags)), prepend=-1)[:draws]
    return mean_with_batches(
        trials,
        "trials until acceptance, vectorised over batches of proposals",
        seed,
        histogram=np.bincount(trials)[1:],
        max_trials=int(trials.max()),
    )


def _variant_trials_stderr_without_sqrt(n: int, slack: float, draws: int, seed: int) -> Estimate:
    r"""Known-false: the standard error of the mean trials reported as :math:`s`, without the :math:`1/\sqrt m`."""
    right = rejection_trials(n, slack, draws, seed)
    return dataclasses.replace(right, stderr=right.stderr * math.sqrt(right.n))


def _laplace_log_ratio(points: np.ndarray, scale: float) -> np.ndarray:
    r""":math:`\log(\rho/q)` for :math:`\rho = e^{-x^2/2}` and the Laplace density of scale ``scale``."""
    return -(points**2) / 2 + np.abs(points) / scale + math.log(2 * scale)


def rejection_continuous(scale: float, slack: float, samples: int, seed: int) -> Estimate:
    r"""M1 on :math:`\mathbb{R}`: Laplace proposals for :math:`\rho = e^{-x^2/2}`; acceptance rate and a KS test.

    The envelope :math:`\sup \rho/q` is found by ``scipy.optimize.minimize_scalar``
    (bounded, on :math:`|x| \in [0, 10\max(s, 1/s)]`); the accepted values are
    tested against ``scipy.stats.norm.cdf``.
    """
    rng = np.random.default_rng(seed)
    best = optimize.minimize_scalar(
        lambda point: -_laplace_log_ratio(np.array(point), scale),
        bounds=(0.0, 10 * max(scale, 1 / scale)),
        method="bounded",
        options={"xatol": 1e-12},
    )
    log_envelope = -float(best.fun) + math.log(slack)
    proposals = rng.laplace(0.0, scale, samples)
    accepted = np.log(rng.random(samples)) < _laplace_log_ratio(proposals, scale) - log_envelope
    kept = int(accepted.sum())
    if kept < 2:
        raise NumericError(f"only {kept} of {samples} proposals accepted")
    return proportion(
        accepted,
        "acceptance rate of Laplace proposals, envelope by scipy.optimize",
        seed,
        accepted=kept,
        envelope=math.exp(log_envelope),
        argmax=float(best.x),
        ks=ks_fit(proposals[accepted], scipy.stats.norm.cdf),
    )


# ---------------------------------------------------------------- M2 importance sampling


def importance(n: int, hole: int, batch: int, replications: int, samples: int, seed: int) -> Estimate:
    r"""M2: :math:`\hat Z_N` replicated (unbiasedness at :math:`N` = ``batch``) and SNIS of :math:`f(i) = i` on ``samples`` draws.

    Value: the mean of ``replications`` independent :math:`\hat Z_{\mathrm{batch}}`,
    with its standard error.  ``details``: the SNIS estimate and its
    delta-method standard error :math:`\sqrt{\sum w_k^2 (f_k - \hat\mu)^2}/\sum w_k`
    (its :math:`O(1/N)` bias is far below that at the sample sizes allowed).
    """
    rng = np.random.default_rng(seed)
    rho, q = finite_target(n), finite_proposal(n, hole)
    draws = rng.choice(n, size=(replications, batch), p=q)
    points = rng.choice(n, size=samples, p=q)
    weights = rho[points] / q[points]
    snis, snis_error, snis_replicate = snis_estimate(weights, points.astype(float))
    return mean_with_batches(
        (rho[draws] / q[draws]).mean(axis=1),
        f"mean of {replications} replications of Z_hat over {batch} draws",
        seed,
        snis=snis,
        snis_stderr=snis_error,
        snis_replicate_stderr=snis_replicate,
        snis_samples=samples,
        max_weight=float(weights.max()),
    )


def _variant_snis_unnormalised(n: int, hole: int, batch: int, replications: int, samples: int, seed: int) -> Estimate:
    r"""Known-false: :math:`\frac1N\sum_k w_k f(x_k)` reported as the self-normalised estimate (no division by :math:`\sum w/N`)."""
    right = importance(n, hole, batch, replications, samples, seed)
    rng = np.random.default_rng(seed + 1)
    rho, q = finite_target(n), finite_proposal(n, hole)
    points = rng.choice(n, size=samples, p=q)
    terms = rho[points] / q[points] * points
    mean, error, replicate = snis_estimate(np.ones(samples), terms)
    return dataclasses.replace(right, details={**right.details, "snis": mean, "snis_stderr": error, "snis_replicate_stderr": replicate})


def snis_estimate(weights: np.ndarray, values: np.ndarray, batches: int = 100) -> tuple[float, float, float]:
    r"""Self-normalised estimate :math:`\sum w f/\sum w`, its delta-method s.e., and the s.e. from ``batches`` batch estimates.

    Delta method: :math:`\sqrt{\sum_k w_k^2 (f_k - \hat\mu)^2}/\sum_k w_k`.  Batch means: the SNIS
    estimate of each of :math:`B` consecutive batches, :math:`s_B/\sqrt B`; each batch estimate has an
    :math:`O(B/N)` bias and the same delta-method variance times :math:`B`, so the two agree to :math:`O(B/N)`.
    """
    mean = float(np.sum(weights * values) / weights.sum())
    error = float(np.sqrt(np.sum(weights**2 * (values - mean) ** 2)) / weights.sum())
    size = weights.size // batches
    w, f = weights[: size * batches].reshape(batches, size), values[: size * batches].reshape(batches, size)
    parts = np.sum(w * f, axis=1) / w.sum(axis=1)
    return mean, error, float(parts.std(ddof=1) / math.sqrt(batches) * math.sqrt(size * batches / weights.size))


# ---------------------------------------------------------------- many chains at once


Transition = Callable[[np.random.Generator, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""One step of every chain at once: ``(rng, states) -> (next states, accepted flags)``, vectorised over axis 0."""


@dataclass(frozen=True)
class ChainRun:
    r""":math:`C` independent chains after :math:`T` = ``steps`` steps of :func:`run_chains`.

    ``final``: the states :math:`x_{c,T}`; ``means``: the per-chain time averages
    :math:`\bar f_c = \frac1T\sum_{t=1}^{T} f(x_{c,t})`; ``accepted``: accepted moves per chain.
    """

    final: np.ndarray
    means: np.ndarray
    accepted: np.ndarray
    steps: int

    def mean_and_error(self) -> tuple[float, float]:
        r""":math:`\hat\mu = \frac1C\sum_c \bar f_c` and its **between-chain** standard error :math:`s(\bar f_c)/\sqrt C`.

        The chains are independent and identically started, so the :math:`\bar f_c` are
        i.i.d.; their sample variance contains every autocorrelation inside a chain,
        so this standard error needs no autocorrelation-time estimate.
        """
        return mean_and_error(self.means)

    def estimate(self, chains: str, seed: int, details: dict[str, Any]) -> Estimate:
        """:meth:`mean_and_error` as an :class:`Estimate`; ``chains`` describes the chains for its method."""
        return mean_with_batches(self.means, f"{chains}; between-chain s.e. of per-chain means", seed, **details)

    def acceptance(self) -> tuple[float, float]:
        """Acceptance rate and its between-chain standard error (flags inside one chain are correlated; chains are not)."""
        return mean_and_error(self.accepted / self.steps)


def run_chains(
    rng: np.random.Generator,
    start: np.ndarray,
    transition: Transition,
    steps: int,
    observe: Callable[[np.ndarray], np.ndarray],
) -> ChainRun:
    r"""Run all chains side by side: ``steps`` vectorised calls of ``transition`` on the state array.

    The only Python loop is over time; each step updates every chain (axis 0 of
    ``start``) with one array operation.  ``observe`` maps states to the
    per-chain values :math:`f(x_{c,t})` that are averaged over :math:`t = 1..T`.
    """
    states = start
    totals = np.zeros(start.shape[0])
    accepted = np.zeros(start.shape[0], dtype=np.int64)
    for _ in range(steps):
        states, moved = transition(rng, states)
        totals += observe(states)
        accepted += moved
    return ChainRun(states, totals / steps, accepted, steps)


# ---------------------------------------------------------------- chains on a finite space


@dataclass(frozen=True)
class GraphStructure:
    """Strongly connected components of a transition graph; period of the start's component (networkx)."""

    components: tuple[tuple[int, ...], ...]
    period: int
    aperiodic: bool


def _period(graph: nx.DiGraph, root: int) -> int:
    r"""Period of a strongly connected digraph: :math:`\gcd` of :math:`\ell(u) + 1 - \ell(v)` over its edges (:math:`\ell` = BFS level)."""
    level = nx.single_source_shortest_path_length(graph, root)
    gaps = np.array([level[u] + 1 - level[w] for u, w in graph.edges], dtype=int)
    return int(np.gcd.reduce(np.abs(gaps))) if gaps.size else 0


def graph_structure(matrix: np.ndarray, start: int = 0) -> GraphStructure:
    """Components (``nx.strongly_connected_components``) and period (BFS levels, with ``nx.is_aperiodic``)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(range(matrix.shape[0]))
    entries = scipy.sparse.coo_array(matrix)
    positive = entries.data > 0
    graph.add_edges_from(zip(entries.row[positive].tolist(), entries.col[positive].tolist()))
    components = tuple(sorted(tuple(sorted(c)) for c in nx.strongly_connected_components(graph)))
    home = graph.subgraph(next(c for c in components if start in c))
    return GraphStructure(components, _period(home, start), nx.is_aperiodic(home))


def mh_acceptance(weights: np.ndarray, proposal: np.ndarray, hastings: bool = True) -> np.ndarray:
    r"""Acceptance table :math:`\alpha(x,y) = \min(1, \rho_y q(x|y)/(\rho_x q(y|x)))` where :math:`q(y|x) > 0`, else 0.

    Without ``hastings`` the ratio is Metropolis' :math:`\rho_y/\rho_x`.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = weights[None, :] / weights[:, None] * (proposal.T / proposal if hastings else 1.0)
    return np.where(proposal > 0, np.minimum(1.0, np.nan_to_num(ratio)), 0.0)


def mh_matrix(weights: np.ndarray, proposal: np.ndarray, hastings: bool = True) -> np.ndarray:
    r"""Float MH kernel :math:`P(x,y) = q(y|x)\,\alpha(x,y)` (:func:`mh_acceptance`), remainder on the diagonal."""
    kernel = proposal * mh_acceptance(weights, proposal, hastings)
    np.fill_diagonal(kernel, 0.0)
    np.fill_diagonal(kernel, 1.0 - kernel.sum(axis=1))
    return kernel


def _variant_acceptance_missing_hastings(weights: np.ndarray, proposal: np.ndarray, hastings: bool = True) -> np.ndarray:
    r"""Known-false: :math:`\min(1, \rho_y/\rho_x)` whatever the proposal (the Hastings factor dropped)."""
    return mh_acceptance(weights, proposal, hastings=False)


def _variant_acceptance_inverted(weights: np.ndarray, proposal: np.ndarray, hastings: bool = True) -> np.ndarray:
    r"""Known-false: :math:`\min(1, \rho_x q(y|x)/(\rho_y q(x|y)))`, the MH ratio upside down."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = weights[:, None] / weights[None, :] * (proposal / proposal.T)
    return np.where(proposal > 0, np.minimum(1.0, np.nan_to_num(ratio)), 0.0)


def mh_step(acceptance: np.ndarray, propose: Callable[[np.random.Generator, np.ndarray], np.ndarray]) -> Transition:
    r"""The MH transition on a finite space: ``propose`` a state for every chain, accept w.p. ``acceptance[x, y]``.

    The table is read flat at :math:`x\,|S| + y` (one gather instead of numpy's slower 2-d fancy indexing).
    """
    flat, size = acceptance.reshape(-1), acceptance.shape[1]

    def transition(rng: np.random.Generator, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        proposed = propose(rng, states)
        accept = rng.random(states.size) < flat[states * size + proposed]
        return np.where(accept, proposed, states), accept

    return transition


def flow_asymmetry(weights: np.ndarray, kernel: np.ndarray) -> float:
    r"""Largest :math:`|\rho_x P(x,y) - \rho_y P(y,x)|` relative to the largest flow (0 under detailed balance)."""
    flows = weights[:, None] * kernel
    return float(np.abs(flows - flows.T).max() / flows.max())


def ring_weights(n: int, skew: int) -> np.ndarray:
    return np.arange(1, n + 1, dtype=float) ** skew


def ring_bridges(n: int) -> np.ndarray:
    r"""``bridges[x, y]``: the step :math:`x \to y` crosses a bridge edge, :math:`\{h-1, h\}` or :math:`\{n-1, 0\}` (:math:`h = \lfloor n/2\rfloor`)."""
    states = np.arange(n)
    low, high = np.minimum.outer(states, states), np.maximum.outer(states, states)
    return ((low == n // 2 - 1) & (high == n // 2)) | ((low == 0) & (high == n - 1))


def ring_proposal(n: int, lean: float, bridge: float) -> np.ndarray:
    """The ring proposal as a float matrix (see :mod:`twofold.theorems.sampling` for the mechanism)."""
    states, bridges = np.arange(n), ring_bridges(n)
    matrix = np.zeros((n, n))
    for step, prob in ((1, lean), (-1, 1.0 - lean)):
        target = (states + step) % n
        gate = np.where(bridges[states, target], bridge, 1.0)
        np.add.at(matrix, (states, target), prob * gate)
        np.add.at(matrix, (states, states), prob * (1.0 - gate))
    return matrix


@dataclass(frozen=True)
class RingMoves:
    r"""The ring proposal's two moves from each state, flat: move :math:`m = 2x + s` (:math:`s = 0`: :math:`x+1`, :math:`s = 1`: :math:`x-1`).

    ``target[m]``: the neighbour; ``gate[m]``: the probability that the move goes through
    (``bridge`` on a bridge edge, :func:`ring_bridges`; 1 elsewhere).
    """

    target: np.ndarray
    gate: np.ndarray
    lean: float


def ring_moves(n: int, lean: float, bridge: float) -> RingMoves:
    """The :class:`RingMoves` of the ring with ``n`` states."""
    states = np.arange(n)
    target = np.stack([(states + 1) % n, (states - 1) % n], axis=1)
    gate = np.where(ring_bridges(n)[states[:, None], target], bridge, 1.0)
    return RingMoves(target.reshape(-1), gate.reshape(-1), lean)


def ring_propose(rng: np.random.Generator, states: np.ndarray, moves: RingMoves) -> np.ndarray:
    """Sample the ring proposal for every chain: +1 w.p. ``lean`` (else -1), blocked (stay) w.p. ``1 - gate``."""
    move = 2 * states + (rng.random(states.size) >= moves.lean)
    return np.where(rng.random(states.size) < moves.gate[move], moves.target[move], states)


def ring_chain(n: int, skew: int, lean: float, bridge: float, hastings: bool, acceptance_rule: Callable = None) -> Transition:
    """The ring MH transition: the proposal sampled move by move (:func:`ring_propose`), accepted by :func:`mh_acceptance`."""
    acceptance = (acceptance_rule or mh_acceptance)(ring_weights(n, skew), ring_proposal(n, lean, bridge), hastings)
    moves = ring_moves(n, lean, bridge)
    return mh_step(acceptance, lambda rng, states: ring_propose(rng, states, moves))


def mh_stationary(
    n: int, skew: int, lean: float, hastings: int, chains: int, steps: int, seed: int, acceptance: Callable | None = None
) -> Estimate:
    r"""M3: ``chains`` ring chains started i.i.d. from :math:`\pi`, ``steps`` MH steps each, all run at once.

    Value: :math:`E_\pi x` estimated by the mean of the per-chain time averages
    of :math:`x_1..x_T` (each :math:`x_t \sim \pi` under the claim), with the
    between-chain standard error (:meth:`ChainRun.mean_and_error`).
    ``details``: counts of the final states (i.i.d. across chains, law
    :math:`\pi P^T`), acceptance rate and the float kernel's flow asymmetry.
    """
    rng = np.random.default_rng(seed)
    weights, proposal = ring_weights(n, skew), ring_proposal(n, lean, 1.0)
    start = rng.choice(n, size=chains, p=weights / weights.sum())
    run = run_chains(rng, start, ring_chain(n, skew, lean, 1.0, bool(hastings), acceptance), steps, observe=lambda states: states)
    return run.estimate(
        f"{chains} independent MH chains from pi, {steps} steps each",
        seed,
        {
            "counts": np.bincount(run.final, minlength=n),
            "acceptance_rate": run.acceptance()[0],
            "flow_asymmetry": flow_asymmetry(weights, mh_matrix(weights, proposal, bool(hastings))),
        },
    )


UNIT = 2.0**-53
"""Unit roundoff of float64."""

TINY = 2.0**-1022
"""Smallest normal float64: an underflowing product loses at most this much (absolute), gradual underflow or flush-to-zero."""


def gamma(m: int) -> float:
    r""":math:`\gamma_m = m u/(1 - m u)`: a sum or product of :math:`m` rounded float operations has relative error at most this."""
    return m * UNIT / (1 - m * UNIT)


def ring_kernel(n: int, skew: int, lean: float, bridge: float) -> tuple[scipy.sparse.csr_array, scipy.sparse.csr_array]:
    r"""The ring proposal :math:`q` and MH kernel :math:`P` as sparse matrices, built move by move (no :math:`n \times n` array).

    From :math:`x` the proposal goes to :math:`x+1` w.p. ``lean`` and :math:`x-1` otherwise, a bridge edge
    (:func:`ring_bridges`) being crossed only w.p. ``bridge``; a move is accepted w.p.
    :math:`\min(1, \rho_y q(x|y)/(\rho_x q(y|x)))`, the rest of the row stays on the diagonal.
    Returns ``(q without its diagonal, P)``, explicit zeros removed.

    Rounding, against the exact kernel at these float parameters (its stationary law is :math:`\rho/Z` whatever
    ``bridge`` is, so the parameters' own rounding does not matter): :math:`q(y|x)` takes one rounding,
    :math:`q(x|y)` two, the ratio :math:`\rho_y q(x|y)/(\rho_x q(y|x))` three more (:math:`\rho` is exact,
    :math:`(x+1)^{\mathrm{skew}} < 2^{53}`), :math:`\min(1, \cdot)` adds none, the product with :math:`q(y|x)` one:
    an off-diagonal entry is within :math:`\gamma_8` relatively; the diagonal :math:`1 - (P_{x,x+1} + P_{x,x-1})` is within
    :math:`\gamma_9` of the off-diagonal mass plus :math:`u` — every row is within :data:`KERNEL_ROW_ERROR` in
    :math:`\ell_1`.  Floats keep :math:`P_{x,x\pm1} \le 1/2`, so the diagonal is never negative.
    """
    states = np.arange(n)
    weights = ring_weights(n, skew)
    half = n // 2

    def gate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        low, high = np.minimum(a, b), np.maximum(a, b)
        crossing = ((low == half - 1) & (high == half)) | ((low == 0) & (high == n - 1))
        return np.where(crossing, bridge, 1.0)

    up, down = (states + 1) % n, (states - 1) % n
    forward_up, forward_down = lean * gate(states, up), (1.0 - lean) * gate(states, down)
    back_up, back_down = (1.0 - lean) * gate(up, states), lean * gate(down, states)  # q(x | x+1), q(x | x-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        accept_up = np.where(forward_up > 0, np.minimum(1.0, weights[up] * back_up / (weights * forward_up)), 0.0)
        accept_down = np.where(forward_down > 0, np.minimum(1.0, weights[down] * back_down / (weights * forward_down)), 0.0)
    move_up, move_down = forward_up * accept_up, forward_down * accept_down
    rows = np.concatenate([states, states])
    proposal = scipy.sparse.csr_array((np.concatenate([forward_up, forward_down]), (rows, np.concatenate([up, down]))), shape=(n, n))
    kernel = scipy.sparse.csr_array(
        (np.concatenate([move_up, move_down, 1.0 - (move_up + move_down)]), (np.concatenate([rows, states]), np.concatenate([up, down, states]))),
        shape=(n, n),
    )
    proposal.eliminate_zeros()
    kernel.eliminate_zeros()
    return proposal, kernel


KERNEL_ROW_ERROR = gamma(8) + gamma(9) + UNIT
r"""Bound on :math:`\|\hat P(x,\cdot) - P(x,\cdot)\|_1` for the float kernel of :func:`ring_kernel` (off-diagonal mass at most 1)."""


@dataclass(frozen=True)
class Powers:
    r"""Certified float powers :math:`\hat A \approx P^t`, :math:`t = 2^K`, of a stochastic matrix.

    ``row_error`` bounds :math:`\max_x \|\hat A(x,\cdot) - P^t(x,\cdot)\|_1` rigorously (see :func:`certified_power`);
    ``matrix`` is :math:`\hat A`.
    """

    matrix: np.ndarray
    steps: int
    row_error: float


def square_error(error: float, n: int) -> float:
    r"""Row error of :math:`\mathrm{fl}(\hat A\hat A)` from that of :math:`\hat A` (:math:`\hat A = A + E`, :math:`A` stochastic).

    :math:`\hat A^2 - A^2 = E\hat A + AE`, so :math:`\|\cdot\|_\infty \le e(1 + e) + e`; the float product of
    non-negative matrices adds :math:`|\mathrm{fl}(BC) - BC| \le \gamma_n BC` entrywise (any summation order,
    with or without FMA), at most :math:`\gamma_n (1 + e)^2` per row, plus :math:`n^2` underflows of at most
    :data:`TINY` each.  The bound is evaluated in float64 and multiplied by :math:`1 + 8u` to cover its own roundings.
    """
    return (error * (2.0 + error) + gamma(n) * (1.0 + error) ** 2 + n * n * TINY) * (1.0 + 8 * UNIT)


def tv_rows(rows: np.ndarray, law: np.ndarray) -> np.ndarray:
    r""":math:`\tfrac12\|r - \pi\|_1` for every row :math:`r`; the float value is within :math:`\gamma_{n+1}` (relative) of the exact one."""
    return 0.5 * np.abs(rows - law).sum(axis=-1)


def certified_power(
    kernel: np.ndarray, law: np.ndarray, law_error: float, max_steps: int, tolerance: float
) -> tuple[Powers, float]:
    r"""Square :math:`\hat P` until every row is certified within ``tolerance`` of :math:`\pi` in TV, or :math:`2t` would pass ``max_steps``.

    ``law`` is a float :math:`\hat\pi` with :math:`\|\hat\pi - \pi\|_1 \le` ``law_error``.  Stops early when one more
    squaring would make the float error alone exceed ``tolerance``.  Certified distance
    :math:`\max_x \mathrm{TV}(P^t(x,\cdot), \pi) \le (1+\gamma_{n+1})\max_x \widehat{\mathrm{TV}}(\hat A(x,\cdot), \hat\pi) + (e_K + \text{law\_error})/2`
    (triangle inequality with the row error :math:`e_K` of :func:`square_error`).  Returns the powers and that bound.
    """
    n = kernel.shape[0]
    power, steps, error = kernel, 1, KERNEL_ROW_ERROR
    while True:
        bound = float(tv_rows(power, law).max()) * (1 + gamma(n + 1)) + (error + law_error) / 2
        if bound <= tolerance or 2 * steps > max_steps or square_error(error, n) / 2 > tolerance:
            return Powers(power, steps, error), bound
        power, steps, error = power @ power, 2 * steps, square_error(error, n)


def _class_list(labels: np.ndarray) -> list[list[int]]:
    classes: dict[int, list[int]] = {}
    for state, label in enumerate(labels.tolist()):
        classes.setdefault(label, []).append(state)
    return sorted(classes.values())


def mh_convergence(
    n: int, skew: int, bridge: float, chains: int, steps: int, max_steps: int, seed: int, jump: bool = False
) -> Estimate:
    r"""M3: structure of the ring chain, certified convergence of :math:`P^t` from every start, and chains from state 0.

    * value: the number of strongly connected components of the proposal graph
      (``scipy.sparse.csgraph.connected_components``, Tarjan, on the sparse :func:`ring_kernel`);
    * ``period``: the period of the transition graph on the start's component (BFS levels in networkx,
      with ``nx.is_aperiodic``);
    * ``limit``: the row :math:`\hat A(0,\cdot)` of the certified power :math:`\hat A \approx P^t`,
      :math:`t = 2^K` (:func:`certified_power`, dense repeated squaring, :math:`K` the first with every row
      within :data:`MIXED_TV`/2 of the float :math:`\rho/\sum\rho`, capped at ``max_steps``); ``spread``:
      :math:`\max_x \tfrac12\|\hat A(x,\cdot) - \hat A(0,\cdot)\|_1` (all starts), ``row_error``: the rigorous
      bound on :math:`\|\hat A(x,\cdot) - P^t(x,\cdot)\|_1`.  Then for every start :math:`x`,
      :math:`\mathrm{TV}(P^t(x,\cdot), \pi) \le \mathrm{TV}(\hat A(0,\cdot), \pi) + \mathrm{spread} + \mathrm{row\_error}/2`
      up to the rounding of the TV sums (factor :math:`1 + \gamma_{n+1}`);
    * ``counts``: the states of ``chains`` independent chains started at 0 after ``steps`` sampled MH steps
      (:func:`ring_chain`, proposal sampled move by move): i.i.d. draws of :math:`P^{\mathrm{steps}}(0,\cdot)`.

    ``jump`` (only for the known-false variant :func:`_variant_convergence_rejections_dropped`): rejections
    are not counted as steps.

    An irreducible aperiodic chain (by the graph facts above) not certified mixed by ``max_steps`` raises
    :class:`NumericError` (the horizon is too short; the claim is not refuted); a reducible or periodic one
    runs to the cap, so its distance to :math:`\pi` shows.
    """
    rng = np.random.default_rng(seed)
    weights = ring_weights(n, skew)
    proposal, kernel = ring_kernel(n, skew, 0.5, bridge)
    transition = ring_chain(n, skew, 0.5, bridge, True)
    if jump:
        kernel, transition = _jump_kernel(kernel), _until_moved(transition)
    count, labels = csgraph.connected_components(proposal, directed=True, connection="strong")
    transitions = graph_structure(kernel)
    law = weights / weights.sum()
    # rho is exact in float64 ((x+1)^skew < 2^53); the sum adds gamma(n - 1), the division u: gamma(n) per entry
    powers, bound = certified_power(kernel.toarray(), law, gamma(n), max_steps, MIXED_TV / 2)
    stuck = square_error(powers.row_error, n) / 2 > MIXED_TV / 2
    if count == 1 and transitions.aperiodic and bound > MIXED_TV / 2 and stuck and 2 * powers.steps <= max_steps:
        raise NumericError(
            f"the float error bound of repeated squaring ({powers.row_error:.3g} per row at t = {powers.steps}) leaves no room "
            f"below {MIXED_TV / 2:g}: n = {n} is beyond this certificate"
        )
    if count == 1 and transitions.aperiodic and bound > MIXED_TV / 2:
        raise NumericError(
            f"the chain is irreducible and aperiodic but the certified TV(P^{powers.steps}(x, .), pi) bound is "
            f"{bound:.3g} > {MIXED_TV / 2:g}: raise max_steps"
        )
    limit = powers.matrix[0]
    final = run_chains(rng, np.zeros(chains, dtype=int), transition, steps, observe=lambda s: s).final
    return Estimate(
        value=float(count),
        method="scipy csgraph strongly connected components of the proposal graph; certified $P^t$ by repeated squaring; chains from state 0",
        n=chains,
        seed=seed,
        details={
            "components": _class_list(labels),
            "period": transitions.period,
            "networkx_aperiodic": transitions.aperiodic,
            "steps": powers.steps,
            "limit": limit,
            "spread": float(tv_rows(powers.matrix, limit).max()),
            "row_error": powers.row_error,
            "tv_after_steps": bound,
            "chain_steps": steps,
            "counts": np.bincount(final, minlength=n),
        },
    )


def _jump_kernel(kernel: scipy.sparse.csr_array) -> scipy.sparse.csr_array:
    """The jump chain of ``kernel``: the diagonal (rejected) mass removed and every row renormalised over its moves."""
    moves = kernel - scipy.sparse.diags_array(kernel.diagonal())
    moves.eliminate_zeros()
    out = np.asarray(moves.sum(axis=1)).ravel()
    stuck = out == 0
    scaled = scipy.sparse.diags_array(np.where(stuck, 0.0, 1.0 / np.where(stuck, 1.0, out))) @ moves
    return scipy.sparse.csr_array(scaled + scipy.sparse.diags_array(stuck.astype(float)))


def _until_moved(transition: Transition, tries: int = 10_000) -> Transition:
    """The chain that proposes again after every rejection (up to ``tries`` times): a rejection is not a step."""

    def step(rng: np.random.Generator, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        current, moved = states.copy(), np.zeros(states.size, dtype=bool)
        for _ in range(tries):
            waiting = np.flatnonzero(~moved)
            if waiting.size == 0:
                break
            proposed, accepted = transition(rng, current[waiting])
            current[waiting], moved[waiting] = proposed, accepted
        return current, moved

    return step


def _variant_convergence_rejections_dropped(
    n: int, skew: int, bridge: float, chains: int, steps: int, max_steps: int, seed: int
) -> Estimate:
    """Known-false: a rejected proposal is not counted as a step (the chain proposes again): the jump chain, not MH."""
    return mh_convergence(n, skew, bridge, chains, steps, max_steps, seed, jump=True)


# ---------------------------------------------------------------- M3 on a continuous target


def quartic_cdf(points: np.ndarray) -> np.ndarray:
    r"""CDF of :math:`\rho \propto e^{-x^4/4}`: :math:`\tfrac12 + \tfrac12\operatorname{sign}(x)\,P(\tfrac14, x^4/4)`, P regularised."""
    return 0.5 + 0.5 * np.sign(points) * special.gammainc(0.25, points**4 / 4)


def quartic_draws(rng: np.random.Generator, size: int) -> np.ndarray:
    r"""I.i.d. draws from :math:`e^{-x^4/4}` by rejection from :math:`\mathcal{N}(0,1)`.

    :math:`\rho/\varphi \propto e^{x^2/2 - x^4/4} = e^{1/4 - (x^2-1)^2/4} \le e^{1/4}`,
    so accept w.p. :math:`e^{-(x^2-1)^2/4}` (about 0.8).
    """
    kept: list[np.ndarray] = []
    while sum(part.size for part in kept) < size:
        batch = rng.standard_normal(size)
        kept.append(batch[rng.random(size) < np.exp(-((batch**2 - 1) ** 2) / 4)])
    return np.concatenate(kept)[:size]


def quartic_chain(step: float, drift: float) -> Transition:
    r"""Random-walk Metropolis for :math:`e^{-x^4/4}`: :math:`y = x + \mathrm{drift} + \mathrm{step}\,\xi`, accepted w.p. :math:`\min(1, \rho(y)/\rho(x))`."""

    def transition(rng: np.random.Generator, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        proposed = states + drift + step * rng.standard_normal(states.size)
        accept = rng.random(states.size) < np.exp(np.minimum(0.0, (states**4 - proposed**4) / 4))
        return np.where(accept, proposed, states), accept

    return transition


def mh_continuous(step: float, drift: float, chains: int, steps: int, seed: int) -> Estimate:
    r"""M3 on :math:`\mathbb{R}`: :func:`quartic_chain` on ``chains`` chains started from :math:`\pi`, all run at once.

    Value: :math:`E_\pi x^2` estimated by the mean of the per-chain time averages
    of :math:`x_1^2..x_T^2`, with the between-chain standard error
    (:meth:`ChainRun.mean_and_error`); ``details``: a KS test of the final
    states (i.i.d. across chains) against :func:`quartic_cdf`.
    """
    rng = np.random.default_rng(seed)
    run = run_chains(rng, quartic_draws(rng, chains), quartic_chain(step, drift), steps, observe=np.square)
    return run.estimate(
        f"{chains} random-walk Metropolis chains from pi, {steps} steps each",
        seed,
        {
            "ks": ks_fit(run.final, quartic_cdf),
            "acceptance_rate": run.acceptance()[0],
            "mean": float(run.final.mean()),
        },
    )


# ---------------------------------------------------------------- M4 Gibbs


def gibbs_transfer(values: int) -> np.ndarray:
    r""":math:`T[u, w] = 2^{[u = w]}(w + 1)`: the weight a coordinate with value :math:`w` adds after its left neighbour :math:`u`."""
    grid = np.arange(values)
    return np.where(grid[:, None] == grid[None, :], 2.0, 1.0) * (grid[None, :] + 1.0)


def gibbs_draws(rng: np.random.Generator, dims: int, values: int, size: int) -> np.ndarray:
    r"""``size`` i.i.d. draws from :math:`\rho(x) = \prod_i (x_i+1)\, 2^{\#\{i: x_i = x_{i+1}\}}` on :math:`\{0..k-1\}^d`.

    Backward messages :math:`\beta_{d-1} = 1`, :math:`\beta_i = T\beta_{i+1}` (normalised), then
    :math:`x_0 \propto (u+1)\beta_0(u)` and :math:`x_{i+1} \mid x_i = u \propto T[u, \cdot]\,\beta_{i+1}`:
    exact sampling of a chain-structured law, vectorised over the draws.
    """
    T = gibbs_transfer(values)
    backward = [np.ones(values)]
    for _ in range(dims - 1):
        message = T @ backward[0]
        backward.insert(0, message / message.sum())
    states = np.empty((size, dims), dtype=int)
    first = (np.arange(values) + 1.0) * backward[0]
    states[:, 0] = rng.choice(values, size=size, p=first / first.sum())
    for i in range(1, dims):
        law = T * backward[i][None, :]
        cumulative = np.cumsum(law / law.sum(axis=1, keepdims=True), axis=1)
        uniforms = rng.random(size)
        states[:, i] = np.minimum((cumulative[states[:, i - 1]] <= uniforms[:, None]).sum(axis=1), values - 1)
    return states


def local_weights(states: np.ndarray, coordinate: np.ndarray, values: int) -> np.ndarray:
    r"""For each chain, :math:`\ell(u) = (u+1)\,2^{[u = x_{i-1}] + [u = x_{i+1}]}` for every value :math:`u` of coordinate :math:`i`:
    :math:`\rho(x^{i \leftarrow u}) = \ell(u)\cdot(\text{factors not involving } x_i)`."""
    rows = np.arange(states.shape[0])
    dims = states.shape[1]
    grid = np.arange(values)[None, :]
    left = np.where(coordinate > 0, states[rows, np.maximum(coordinate - 1, 0)], -1)
    right = np.where(coordinate < dims - 1, states[rows, np.minimum(coordinate + 1, dims - 1)], -1)
    agreements = (grid == left[:, None]).view(np.int8) + (grid == right[:, None]).view(np.int8)
    return (grid + 1.0) * _POWERS_OF_TWO[agreements]


_POWERS_OF_TWO = np.array([1.0, 2.0, 4.0])


def gibbs_chain(dims: int, values: int, power: int) -> Transition:
    r"""One random-scan MH step for every chain: a uniform coordinate, a value :math:`\propto \ell(u)^{p}`, the MH test.

    The ratio :math:`\rho(y)q(x|y)/(\rho(x)q(y|x)) = \frac{\ell(u')}{\ell(u)}\cdot\frac{\ell(u)^p}{\ell(u')^p}` is computed
    from the local weights (:func:`local_weights`; the coordinate's normaliser is shared by :math:`x` and :math:`y`).
    """

    def transition(rng: np.random.Generator, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(states.shape[0])
        coordinate = rng.integers(dims, size=rows.size)
        local = local_weights(states, coordinate, values)
        proposal = local if power == 1 else local**power
        cumulative = np.cumsum(proposal, axis=1)
        threshold = rng.random(rows.size) * cumulative[:, -1]
        new = np.minimum((cumulative <= threshold[:, None]).sum(axis=1), values - 1)
        old = states[rows, coordinate]
        ratio = (local[rows, new] / local[rows, old]) * (proposal[rows, old] / proposal[rows, new])
        accept = rng.random(rows.size) < ratio
        moved = states.copy()
        moved[rows, coordinate] = np.where(accept, new, old)
        return moved, accept

    return transition


def agreements(states: np.ndarray) -> np.ndarray:
    r""":math:`A(x) = \#\{i: x_i = x_{i+1}\}` per chain."""
    return (states[:, 1:] == states[:, :-1]).sum(axis=1).astype(float)


def _gibbs_run(transition: Transition, dims: int, values: int, chains: int, steps: int, seed: int, label: str) -> Estimate:
    rng = np.random.default_rng(seed)
    run = run_chains(rng, gibbs_draws(rng, dims, values, chains), transition, steps, observe=agreements)
    rejected = int(np.sum(steps - run.accepted))
    pairs = run.final[:, 0] * values + run.final[:, 1]
    return run.estimate(
        f"{chains} {label} chains on {{0..{values - 1}}}^{dims} from pi, {steps} steps each; mean number of agreements",
        seed,
        {
            "acceptance_rate": float(run.accepted.sum() / (chains * steps)),
            "rejected": rejected,
            "moves": chains * steps,
            "counts": np.bincount(pairs, minlength=values * values),
        },
    )


def gibbs(dims: int, values: int, power: int, chains: int, steps: int, seed: int) -> Estimate:
    r"""M4: random-scan Gibbs run as MH (:func:`gibbs_chain`) on ``chains`` chains from :math:`\pi`, all run at once.

    Value: :math:`E_\pi A`, :math:`A` the number of agreeing neighbours, by the mean of the per-chain time
    averages with the between-chain standard error (checked by batch means).  ``details``: the
    rejected moves (0 for the full conditional: every ratio is 1 up to rounding, and a uniform
    is below it), and the counts of :math:`(x_0, x_1)` of the final states (i.i.d. across chains),
    cell :math:`k x_0 + x_1`.  The chain is never enumerated: :math:`k^d` may be :math:`10^{10}`.
    """
    return _gibbs_run(gibbs_chain(dims, values, power), dims, values, chains, steps, seed, "random-scan Gibbs")


def _variant_gibbs_stale(dims: int, values: int, power: int, chains: int, steps: int, seed: int) -> Estimate:
    """Known-false: every coordinate redrawn from its conditional given the *old* state (a stale, synchronous sweep)."""

    def transition(rng: np.random.Generator, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        moved = states.copy()
        for i in range(dims):
            coordinate = np.full(states.shape[0], i)
            local = local_weights(states, coordinate, values)
            cumulative = np.cumsum(local / local.sum(axis=1, keepdims=True), axis=1)
            moved[:, i] = np.minimum((cumulative <= rng.random(states.shape[0])[:, None]).sum(axis=1), values - 1)
        return moved, np.ones(states.shape[0], dtype=bool)

    return _gibbs_run(transition, dims, values, chains, steps, seed, "stale synchronous Gibbs")


# ---------------------------------------------------------------- M5 CGMH


REPLACE, INSERT, DELETE = 0, 1, 2


def sentence_space(length: int, vocab: int) -> list[tuple[int, ...]]:
    """Sentences of length 1..``length``, shortest first, each length in ``itertools.product`` order."""
    return [s for size in range(1, length + 1) for s in itertools.product(range(vocab), repeat=size)]


def sentence_weights(space: list[tuple[int, ...]]) -> np.ndarray:
    r""":math:`\rho(s) = (1 + 3[0 \in s]) \prod_j 1/(s_j+2)`."""
    return np.array([(4.0 if 0 in s else 1.0) / math.prod(w + 2 for w in s) for s in space])


def word_law(vocab: int) -> np.ndarray:
    weights = np.arange(1, vocab + 1, dtype=float)
    return weights / weights.sum()


def allowed_actions(size: int, length: int) -> list[int]:
    return [REPLACE] + ([INSERT] if size < length else []) + ([DELETE] if size > 1 else [])


def cgmh_proposal(space: list[tuple[int, ...]], length: int, vocab: int) -> np.ndarray:
    """The CGMH proposal matrix, by adding up every (action, position, word) choice's probability."""
    index = {s: i for i, s in enumerate(space)}
    words = word_law(vocab)
    matrix = np.zeros((len(space), len(space)))
    for i, s in enumerate(space):
        actions = allowed_actions(len(s), length)
        for action in actions:
            if action == DELETE:
                for pos in range(len(s)):
                    matrix[i, index[s[:pos] + s[pos + 1 :]]] += 1 / (len(actions) * len(s))
                continue
            slots = len(s) + (action == INSERT)
            for pos, w in itertools.product(range(slots), range(vocab)):
                moved = s[:pos] + (w,) + s[pos + (action == REPLACE) :]
                matrix[i, index[moved]] += words[w] / (len(actions) * slots)
    return matrix


@dataclass(frozen=True)
class SentenceTable:
    """Sentences as padded token rows (-1 = empty), their lengths, and a code -> index lookup."""

    tokens: np.ndarray
    sizes: np.ndarray
    lookup: np.ndarray
    radix: np.ndarray

    def index(self, tokens: np.ndarray) -> np.ndarray:
        return self.lookup[(tokens + 1) @ self.radix]


def sentence_table(space: list[tuple[int, ...]], length: int, vocab: int) -> SentenceTable:
    tokens = np.full((len(space), length), -1, dtype=int)
    for i, s in enumerate(space):
        tokens[i, : len(s)] = s
    radix = (vocab + 1) ** np.arange(length)
    lookup = np.full((vocab + 1) ** length, -1, dtype=int)
    lookup[(tokens + 1) @ radix] = np.arange(len(space))
    return SentenceTable(tokens, (tokens >= 0).sum(axis=1), lookup, radix)


def edit_sentences(tokens: np.ndarray, action: np.ndarray, pos: np.ndarray, word: np.ndarray) -> np.ndarray:
    """Apply one replace/insert/delete at ``pos`` (with ``word``) to each padded token row, vectorised over rows."""
    rows, length = tokens.shape
    column, pos, word = np.arange(length)[None, :], pos[:, None], word[:, None]
    padding = np.full((rows, 1), -1)
    right = np.hstack([padding, tokens[:, :-1]])
    left = np.hstack([tokens[:, 1:], padding])
    replaced = np.where(column == pos, word, tokens)
    inserted = np.where(column < pos, tokens, np.where(column == pos, word, right))
    deleted = np.where(column < pos, tokens, left)
    return np.select([action[:, None] == REPLACE, action[:, None] == INSERT], [replaced, inserted], deleted)


def sentence_moves(table: SentenceTable, length: int, vocab: int) -> np.ndarray:
    """``moves[s, a, p, w]``: the sentence that action ``a`` at position ``p`` with word ``w`` makes of ``s`` (-1: not allowed).

    Every edit of every sentence, applied once by :func:`edit_sentences` on the token rows.
    """
    grid = np.meshgrid(np.arange(table.sizes.size), np.arange(3), np.arange(length + 1), np.arange(vocab), indexing="ij")
    sentence, action, pos, word = (axis.ravel() for axis in grid)
    size = table.sizes[sentence]
    allowed = ((action != INSERT) | (size < length)) & ((action != DELETE) | (size > 1)) & (pos < size + (action == INSERT))
    moved = table.index(edit_sentences(table.tokens[sentence], action, pos, word))
    return np.where(allowed, moved, -1).reshape(grid[0].shape)


def cgmh_propose(rng: np.random.Generator, table: SentenceTable, moves: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Draw one insert/delete/replace for every chain's sentence and look its result up in ``moves`` (:func:`sentence_moves`)."""
    _, actions, positions, vocab = moves.shape
    size = table.sizes[current]
    can_insert, can_delete = size < positions - 1, size > 1
    pick = np.floor(rng.random(current.size) * (1 + can_insert + can_delete)).astype(int)
    action = np.where(pick == 0, REPLACE, np.where((pick == 1) & can_insert, INSERT, DELETE))
    slots = size + (action == INSERT)
    pos = np.floor(rng.random(current.size) * slots).astype(int)
    word = rng.choice(vocab, size=current.size, p=word_law(vocab))
    return moves.reshape(-1)[((current * actions + action) * positions + pos) * vocab + word]


def sentence_log_weights(tokens: np.ndarray) -> np.ndarray:
    r""":math:`\log\rho(s) = \log(1 + 3[0 \in s]) - \sum_j \log(s_j + 2)` for padded token rows (-1 = empty)."""
    present = tokens >= 0
    keyword = np.any(tokens == 0, axis=1)
    return np.log1p(3.0 * keyword) - np.sum(np.where(present, np.log(np.maximum(tokens, 0) + 2.0), 0.0), axis=1)


def sentence_draws(rng: np.random.Generator, length: int, vocab: int, size: int) -> np.ndarray:
    r"""``size`` i.i.d. sentences from :math:`\pi \propto \rho` as padded token rows, by rejection.

    Proposal: a length :math:`\ell \propto A^\ell` (:math:`A = \sum_w 1/(w+2)`), then i.i.d. words
    :math:`\propto 1/(w+2)`, i.e. :math:`\propto \prod_j 1/(s_j+2)`; accepted w.p. :math:`(1 + 3[0 \in s])/4`.
    """
    h = 1.0 / (np.arange(vocab) + 2.0)
    lengths = np.arange(1, length + 1)
    length_law = h.sum() ** lengths
    kept: list[np.ndarray] = []
    while sum(part.shape[0] for part in kept) < size:
        sizes = rng.choice(lengths, size=size, p=length_law / length_law.sum())
        words = rng.choice(vocab, size=(size, length), p=h / h.sum())
        tokens = np.where(np.arange(length)[None, :] < sizes[:, None], words, -1)
        keyword = np.any(tokens == 0, axis=1)
        kept.append(tokens[rng.random(size) < (1.0 + 3.0 * keyword) / 4.0])
    return np.concatenate(kept)[:size]


def cgmh_chain(length: int, vocab: int, hastings: bool) -> Transition:
    r"""One CGMH step for every chain, the sentence space never enumerated (vocabularies of 50 and more).

    Action uniform among the allowed ones (:math:`a(x) = 1/\#\text{allowed}`), position uniform, word
    :math:`\propto w+1` (:math:`g_w`); the Hastings factor :math:`q(x|y)/q(y|x)` in closed form per action —
    replace :math:`g_{\text{old}}/g_{\text{new}}`; insert of :math:`w` :math:`a_{del}(y)/(a_{ins}(x) g_w)`; delete of
    :math:`w` :math:`a_{ins}(y) g_w/a_{del}(x)` — the number :math:`m` of slots (positions) giving the same
    sentence is the same both ways and cancels.  ``hastings=False`` uses :math:`\rho(y)/\rho(x)` alone.
    """
    words = word_law(vocab)

    def transition(rng: np.random.Generator, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(tokens.shape[0])
        size = (tokens >= 0).sum(axis=1)
        can_insert, can_delete = size < length, size > 1
        allowed = 1 + can_insert + can_delete
        pick = np.floor(rng.random(rows.size) * allowed).astype(int)
        action = np.where(pick == 0, REPLACE, np.where((pick == 1) & can_insert, INSERT, DELETE))
        pos = np.floor(rng.random(rows.size) * (size + (action == INSERT))).astype(int)
        word = rng.choice(vocab, size=rows.size, p=words)
        moved = edit_sentences(tokens, action, pos, word)
        moved_size = (moved >= 0).sum(axis=1)
        moved_allowed = 1 + (moved_size < length) + (moved_size > 1)
        ratio = np.exp(sentence_log_weights(moved) - sentence_log_weights(tokens))
        if hastings:
            old = tokens[rows, np.minimum(pos, length - 1)]
            factor = np.select(
                [action == REPLACE, action == INSERT],
                [words[np.maximum(old, 0)] / words[word], allowed / (moved_allowed * words[word])],
                allowed * words[np.maximum(old, 0)] / moved_allowed,
            )
            ratio = ratio * factor
        accept = rng.random(rows.size) < ratio
        return np.where(accept[:, None], moved, tokens), accept

    return transition


def sentence_cells(tokens: np.ndarray) -> np.ndarray:
    r"""Cell :math:`2(\ell - 1) + [0 \in s]` of each sentence: its length and whether it holds the keyword 0."""
    return 2 * ((tokens >= 0).sum(axis=1) - 1) + np.any(tokens == 0, axis=1)


def cgmh(length: int, vocab: int, hastings: int, chains: int, steps: int, seed: int) -> Estimate:
    r"""M5: CGMH chains on sentences (:func:`cgmh_chain`), started i.i.d. from :math:`\pi` (:func:`sentence_draws`), all run at once.

    Value: :math:`E_\pi[\text{length}]` by the mean of the per-chain time averages of the length, with
    the between-chain standard error (checked by batch means); ``details``: counts of the final states'
    cells (length, keyword present) (i.i.d. across chains), the acceptance rate.
    """
    rng = np.random.default_rng(seed)
    start = sentence_draws(rng, length, vocab, chains)
    run = run_chains(rng, start, cgmh_chain(length, vocab, bool(hastings)), steps, observe=lambda t: (t >= 0).sum(axis=1))
    return run.estimate(
        f"{chains} CGMH chains from pi ({vocab} words, length ≤ {length}), {steps} insert/delete/replace steps each",
        seed,
        {
            "counts": np.bincount(sentence_cells(run.final), minlength=2 * length),
            "acceptance_rate": run.acceptance()[0],
        },
    )
