r"""Seq2Seq repetition as a Markov chain (kexue.fm post 8128), numerically.

Independent of :mod:`twofold.theorems.repetition`.  A decoder is a row-stochastic
:math:`P \in \mathbb{R}^{n\times n}` (:math:`P_{ij}` = probability of token
:math:`j` after token :math:`i`) and :math:`Q = P\circ P`.  Here the expected
number of repeated closed walks

.. math:: R = \sum_{k\ge1} \operatorname{tr}(Q^k)

is computed three ways: from the eigenvalues of :math:`Q` (with a first-order
error bound from eigenvalue condition numbers), by a truncated series with a
rigorous tail bound, and by Monte Carlo over pairs of decoding runs.  Greedy
(one-hot) chains are analysed with ``networkx`` cycle search, and flattening
(mixing with the uniform row, or a temperature) is measured on grids.

The random variable behind the Monte Carlo estimator: start two independent
decoding runs :math:`X, Y` at the same token :math:`i` and let
:math:`N_i = \#\{k \ge 1 : X_1 = Y_1, \dots, X_k = Y_k,\ X_k = i\}`, the number of
returns to :math:`i` while the two runs still agree.  A closed path
:math:`i \to j_1 \to \dots \to j_{k-1} \to i` is followed by both runs with
probability :math:`\prod P^2`, so :math:`E[N_i] = \sum_k (Q^k)_{ii}` and

.. math:: R = \sum_{i=1}^{n} E[N_i].

By the Markov property this is also the expected number of :math:`k` for which a
single run from :math:`i` closes a loop at step :math:`k` and then repeats it
token for token — the repetition of the post.  The estimator is unbiased: the
simulation runs until every pair has separated (no truncation).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import networkx as nx
import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

from twofold.contract import Estimate, NumericError
from twofold.numerics.stats import BATCHES

UNIT_ROUNDOFF = 2.0**-53
MAX_WEIGHT = 9
ONE_HOT_TOLERANCE = 1e-12  # ||Q^m||_inf >= 1 - this counts as a one-hot cycle (rho(Q) = 1 to working precision)
SURVIVAL_BUDGET = 1e-6  # probability that some pair of runs outlives the simulation
SERIES_TOLERANCE = 1e-13  # relative size of the truncated series' tail
MAX_TERMS = 100_000
CONCENTRATIONS = (0.1, 0.3, 1.0, 3.0, 10.0)


def integer_weights(n: int, chain: int, greedy: bool = False) -> np.ndarray:
    """Instance number ``chain``: an :math:`n\\times n` matrix of integer weights in ``1..9``.

    With ``greedy`` every row is replaced by the indicator of its argmax (ties:
    the lowest index) — greedy decoding of that chain.  Both encodings build
    their own :math:`P` from these integers.
    """
    weights = np.random.default_rng(chain).integers(1, MAX_WEIGHT + 1, size=(n, n))
    if greedy:
        weights = np.eye(n, dtype=weights.dtype)[weights.argmax(axis=1)]
    return weights


def lead_in_weights(lead_in: int, block: int) -> np.ndarray:
    r"""A deterministic phrase feeding a flat block: rows :math:`k < m` (``lead_in``) are one-hot
    :math:`k \to k+1`; the last ``block`` rows are uniform over the block.  Nothing returns to the
    phrase, so :math:`\rho(Q) = 1/\mathrm{block}`; mixing with the uniform row opens a way back."""
    n = lead_in + block
    weights = np.zeros((n, n), dtype=np.int64)
    weights[np.arange(lead_in), np.arange(1, lead_in + 1)] = 1
    weights[lead_in:, lead_in:] = 1
    return weights


def transition_matrix(weights: Sequence[Sequence[int]] | np.ndarray) -> np.ndarray:
    """Row-normalised float64 :math:`P_{ij} = w_{ij}/\\sum_k w_{ik}`."""
    w = np.asarray(weights, dtype=float)
    return w / w.sum(axis=-1, keepdims=True)


def hadamard_square(P: np.ndarray) -> np.ndarray:
    """:math:`Q = P\\circ P`."""
    return P * P


def spectral_radius(Q: np.ndarray) -> np.ndarray:
    """:math:`\\rho(Q) = \\max|\\lambda|` by ``numpy.linalg.eigvals`` (stacks of matrices too)."""
    return np.abs(np.linalg.eigvals(Q)).max(axis=-1)


def one_hot_cycles(P: np.ndarray) -> list[list[int]]:
    """Cycles of the graph :math:`i \\to j` with :math:`P_{ij} = 1` (``networkx.simple_cycles``).

    Rows that are one-hot are deterministic (greedy) steps; two runs that enter
    such a cycle never separate, so :math:`\\rho(Q) = 1` exactly when this list is not empty.
    """
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(P)))
    graph.add_edges_from((int(i), int(j)) for i, j in zip(*np.nonzero(P == 1.0)))
    return sorted(sorted(cycle) for cycle in nx.simple_cycles(graph))


def _power_norms(Q: np.ndarray) -> np.ndarray:
    """:math:`a_m = \\|Q^m\\|_\\infty` (max row sum) for :math:`m = 1..n`."""
    norms, power = [], np.eye(len(Q))
    for _ in range(len(Q)):
        power = power @ Q
        norms.append(power.sum(axis=1).max())
    return np.array(norms)


def decay(P: np.ndarray) -> tuple[int, float]:
    r"""A block length :math:`m` and :math:`c = \|Q^m\|_\infty < 1` minimising :math:`m/(1-c)`.

    :math:`(Q^m\mathbf 1)_i` is the probability that two runs from :math:`i` agree for
    :math:`m` steps, so :math:`\|Q^k\|_\infty \le c^{\lfloor k/m\rfloor}`.  For :math:`m = n`
    it is below 1 unless the one-hot rows contain a cycle; then raise, naming the cycle.
    """
    norms = _power_norms(hadamard_square(P))
    if norms[-1] >= 1.0 - ONE_HOT_TOLERANCE:
        raise NumericError(
            f"rho(Q) = 1: ||Q^{len(P)}||_inf = {norms[-1]:.15g}; runs entering the one-hot cycle(s) "
            f"{one_hot_cycles(P)} never separate, tr(Q^k) does not decay and R diverges"
        )
    blocks = np.arange(1, len(P) + 1)
    usable = norms < 1.0 - ONE_HOT_TOLERANCE
    cost = np.full(len(P), np.inf)
    cost[usable] = blocks[usable] / (1.0 - norms[usable])
    best = int(np.argmin(cost))
    return int(blocks[best]), float(norms[best])


def series(P: np.ndarray) -> Estimate:
    r"""R1: partial sums :math:`S_K = \sum_{k\le K}\operatorname{tr}(Q^k)` with a rigorous tail bound.

    Tail: :math:`\sum_{k>K}\operatorname{tr}(Q^k) \le n\sum_{k>K}\|Q^k\|_\infty
    \le n\,\|Q^{K+1}\|_\infty\, m/(1-c)` with :math:`(m, c)` from :func:`decay`; :math:`K` grows until
    the tail is below ``SERIES_TOLERANCE`` :math:`\cdot S_K`.  Rounding: products of
    non-negative matrices lose at most :math:`n u` relative per factor, so :math:`S_K` is
    off by at most :math:`2Knu\,S_K`; the interval is widened by that.  If the one-hot
    rows contain a cycle the series diverges and :class:`NumericError` reports it.
    ``details`` also carries the eigenvalue route (:func:`eigen`): ``eigen_value``, ``eigen_error``.
    """
    Q = hadamard_square(P)
    n = len(Q)
    block, c = decay(P)
    power, total, traces = Q.copy(), 0.0, []
    for terms in range(1, MAX_TERMS + 1):
        traces.append(float(np.trace(power)))
        total += traces[-1]
        power = power @ Q
        tail = float(n * power.sum(axis=1).max() * block / (1.0 - c))
        if tail <= SERIES_TOLERANCE * total:
            break
    else:
        raise NumericError(f"the series has not converged after {MAX_TERMS} terms: S_K = {total!r}, tail bound {tail!r}")
    rounding = 2 * terms * n * UNIT_ROUNDOFF * total
    spectral = eigen(P)
    return Estimate(
        value=total,
        interval=(total - rounding, total + tail + rounding),
        method="truncated series Σ_{k ≤ K} tr(Qᵏ) + rigorous tail bound n ‖Qᴷ⁺¹‖_∞ m/(1 − ‖Qᵐ‖_∞)",
        n=terms,
        details={
            "terms": terms,
            "tail_bound": tail,
            "block": block,
            "block_norm": c,
            "first_traces": traces[:5],
            "eigen_value": spectral.value,
            "eigen_error": spectral.details["error"],
        },
    )


def _spectrum(Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Eigenvalues of :math:`Q` (``scipy.linalg.eig``, LAPACK geev) and how far each may have moved.

    The QR algorithm is backward stable, so each eigenvalue moves by at most
    :math:`\delta_\lambda \approx \kappa_\lambda\, n u \|Q\|_2` to first order, with
    :math:`\kappa_\lambda = 1/|y^H x|` for unit left/right eigenvectors (infinite for a
    defective eigenvalue, where the first-order bound does not apply).
    """
    values, left, right = scipy.linalg.eig(Q, left=True, right=True)
    with np.errstate(divide="ignore"):
        kappa = 1.0 / np.abs(np.sum(left.conj() * right, axis=0))
    return values, kappa * len(Q) * UNIT_ROUNDOFF * np.linalg.norm(Q, 2)


def _largest(values: np.ndarray, moved: np.ndarray) -> tuple[float, float]:
    top = int(np.argmax(np.abs(values)))
    return float(abs(values[top])), float(moved[top])


def perron(P: np.ndarray) -> tuple[float, float]:
    r""":math:`\rho(Q)` as the largest eigenvalue modulus, and its first-order error bound (:func:`_spectrum`)."""
    return _largest(*_spectrum(hadamard_square(P)))


def eigen(P: np.ndarray) -> Estimate:
    r"""R1/R2: :math:`R = \sum_\lambda \operatorname{Re}\,\lambda/(1-\lambda)`, :math:`\rho`, and the ratio
    :math:`R/(n\rho/(1-\rho))`, from the eigenvalues of :math:`Q`.

    Error, to first order (:func:`_spectrum`): :math:`|\delta R| \le \sum \delta_\lambda/|1-\lambda|^2`.
    ``details`` carries these bounds (``error``, ``rho_error``, ``ratio_error``); the
    claims compare within a stated multiple of them.  :func:`decay` first rules out
    :math:`\rho(Q) = 1`, so every :math:`1 - \lambda` is bounded away from 0.
    """
    decay(P)
    Q = hadamard_square(P)
    n = len(Q)
    values, moved = _spectrum(Q)
    total = float(np.sum(values / (1.0 - values)).real)
    error = float(np.sum(moved / np.abs(1.0 - values) ** 2))
    rho, rho_error = _largest(values, moved)
    ratio = total * (1.0 - rho) / (n * rho)
    ratio_error = abs(ratio) * (error / abs(total) + rho_error * (1.0 / (1.0 - rho) + 1.0 / rho))
    return Estimate(
        value=total,
        method="sum of Re lambda/(1 - lambda) over the eigenvalues of Q (scipy.linalg.eig)",
        n=n,
        details={
            "error": error,
            "rho": rho,
            "rho_error": rho_error,
            "bound": n * rho / (1.0 - rho),
            "ratio": ratio,
            "ratio_error": ratio_error,
            "complex_eigenvalues": int(np.sum(np.abs(values.imag) > moved)),
            "imaginary_part": float(np.sum(values / (1.0 - values)).imag),
        },
    )


def _next_tokens(cumulative: np.ndarray, states: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling, vectorised: the first :math:`j` with :math:`\\sum_{l\\le j} P_{sl} > u`."""
    return np.minimum((cumulative[states] <= uniforms[:, None]).sum(axis=1), cumulative.shape[1] - 1)


def repeated_walks(P: np.ndarray, walks: int, seed: int) -> Estimate:
    r"""R1 by Monte Carlo: :math:`R = \sum_i E[N_i]` over pairs of decoding runs (module docstring).

    ``walks`` pairs, split equally over the :math:`n` start tokens (stratified):
    :math:`\hat R = \sum_i \bar N_i`, :math:`\mathrm{se}^2 = \sum_i s_i^2/m` with :math:`m` pairs per
    start.  Vectorised over pairs; the loop runs over time steps only, on the
    pairs that still agree.  The number of steps is capped at :math:`K` with
    :math:`n\,m\,c^{\lfloor K/b\rfloor} \le 10^{-6}` (:func:`decay`), so a pair outliving
    the cap is a :math:`10^{-6}` event and raises rather than biasing the estimate.
    """
    n = len(P)
    block, c = decay(P)
    per_start = max(walks // n, 2)
    cap = block * math.ceil(math.log(SURVIVAL_BUDGET / (n * per_start)) / math.log(c)) if c > 0 else block
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(P, axis=1)
    start = np.repeat(np.arange(n), per_start)
    returns = np.zeros(start.size)
    pairs, states = np.arange(start.size), start.copy()
    for _ in range(cap):
        uniforms = rng.random((2, pairs.size))
        first, second = _next_tokens(cumulative, states, uniforms[0]), _next_tokens(cumulative, states, uniforms[1])
        agree = first == second
        pairs, states = pairs[agree], first[agree]
        returns[pairs] += states == start[pairs]
        if pairs.size == 0:
            break
    else:
        raise NumericError(f"{pairs.size} pairs of runs still agree after {cap} steps (probability <= {SURVIVAL_BUDGET:g} if rho(Q) < 1)")
    by_start = returns.reshape(n, per_start)
    return _stratified(by_start, seed, cap)


def _stratified(by_start: np.ndarray, seed: int, cap: int, batches: int = BATCHES) -> Estimate:
    r""":math:`\hat R = \sum_i \bar N_i` with :math:`\mathrm{se}^2 = \sum_i s_i^2/m`, and the same s.e. from batch means:
    the pairs of every start are cut into :math:`B` batches, :math:`\hat R_b = \sum_i \bar N_{i,b}`, and
    :math:`s(\hat R_b)/\sqrt B` estimates the s.e. of :math:`\hat R` (each :math:`\hat R_b` is an independent copy on
    :math:`m/B` pairs per start)."""
    n, per_start = by_start.shape
    size = per_start // batches
    if size < 2:
        raise NumericError(f"{per_start} pairs per start are too few for {batches} batch means")
    parts = by_start[:, : size * batches].reshape(n, batches, size).mean(axis=2).sum(axis=0)
    return Estimate(
        value=float(by_start.mean(axis=1).sum()),
        stderr=float(math.sqrt(np.sum(by_start.var(axis=1, ddof=1)) / per_start)),
        method="Monte Carlo: returns to the start while two independent decoding runs agree, summed over starts",
        n=int(by_start.size),
        seed=seed,
        details={"pairs_per_start": per_start, "step_cap": cap, "mean_returns_per_start": by_start.mean(axis=1)},
        replicate_stderr=float(parts.std(ddof=1) / math.sqrt(batches) * math.sqrt(size * batches / per_start)),
        replicates=batches,
    )


def _variant_stderr_halved(P: np.ndarray, walks: int, seed: int) -> Estimate:
    """Known-false: the Monte Carlo standard error reported half as large as it is."""
    right = repeated_walks(P, walks, seed)
    return dataclasses.replace(right, stderr=right.stderr / 2)


def _variant_walks_transposed(P: np.ndarray, walks: int, seed: int) -> Estimate:
    """Known-false: runs drawn from the transposed matrix (columns read as next-token laws, renormalised)."""
    return repeated_walks(transition_matrix(P.T), walks, seed)


def _variant_matrix_product(P: np.ndarray) -> Estimate:
    r"""Known-false: :math:`Q = P P` (the matrix product) instead of :math:`P \circ P`; R by the truncated series."""
    return series(_product_chain(P))


def _product_chain(P: np.ndarray) -> np.ndarray:
    r"""The chain whose Hadamard square is :math:`PP`: entrywise :math:`\sqrt{(PP)_{ij}}` (so ``series`` sees :math:`Q = PP`)."""
    return np.sqrt(P @ P)


def dirichlet_chains(n: int, concentration: float, chains: int, rng: np.random.Generator) -> np.ndarray:
    """``chains`` random :math:`n\\times n` chains with iid Dirichlet(concentration) rows."""
    return rng.dirichlet(np.full(n, concentration), size=(chains, n))


def tightness(P: np.ndarray) -> dict[str, np.ndarray]:
    r"""For a stack of chains: :math:`R`, :math:`\rho`, the ratio :math:`R/(n\rho/(1-\rho))` and the row sums
    of :math:`Q`, via batched ``numpy.linalg.eigvals``."""
    Q = hadamard_square(P)
    n = P.shape[-1]
    values = np.linalg.eigvals(Q)
    rho = np.abs(values).max(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):  # rho = 1 chains give inf; callers set them aside
        total = np.sum(values / (1.0 - values), axis=-1).real
        ratio = total * (1.0 - rho) / (n * rho)
    rows = Q.sum(axis=-1)
    return {"R": total, "rho": rho, "ratio": ratio, "row_min": rows.min(axis=-1), "row_max": rows.max(axis=-1)}


def tightness_survey(n: int, chains: int, seed: int, slack: float = 1e-9) -> dict[str, object]:
    r"""R2/R3 over random chains, per Dirichlet concentration in ``CONCENTRATIONS``.

    Reports the median and maximum of :math:`R/(n\rho/(1-\rho))` and counts chains that
    break :math:`R \le n\rho/(1-\rho)` or :math:`\min_i s_i \le \rho \le \max_i s_i` by more than
    ``slack`` (relative): float64 eigenvalues of these well-conditioned positive
    matrices are accurate to :math:`\sim 10^{-14}`.  Chains with :math:`\rho > 1 - 10^{-6}`
    (rows that are one-hot to working precision) are set aside and counted; a
    concentration with no chain left has no median.
    """
    rng = np.random.default_rng(seed)
    medians, maxima, excluded, violations = {}, {}, 0, {"bound": 0, "row_sums": 0}
    for concentration in CONCENTRATIONS:
        stats = tightness(dirichlet_chains(n, concentration, chains, rng))
        kept = stats["rho"] < 1.0 - 1e-6
        excluded += int(np.sum(~kept))
        if not kept.any():
            continue
        ratio = stats["ratio"][kept]
        medians[concentration] = float(np.median(ratio))
        maxima[concentration] = float(ratio.max())
        violations["bound"] += int(np.sum(ratio > 1.0 + slack))
        rho, low, high = stats["rho"][kept], stats["row_min"][kept], stats["row_max"][kept]
        violations["row_sums"] += int(np.sum((rho < low * (1 - slack)) | (rho > high * (1 + slack))))
    return {"median_ratio": medians, "max_ratio": maxima, "violations": violations, "excluded": excluded, "chains": chains}


def bound_tightness(P: np.ndarray, chains: int, seed: int) -> Estimate:
    r"""R2: the ratio :math:`R/(n\rho/(1-\rho))` of one chain by :func:`eigen`, with a
    :func:`tightness_survey` of ``chains`` random chains per concentration in ``details``."""
    spectral = eigen(P)
    survey = tightness_survey(len(P), chains, seed)
    return Estimate(
        value=spectral.details["ratio"],
        method="R (1 - rho)/(n rho) from the eigenvalues of Q; Dirichlet survey of the bound",
        n=len(P),
        seed=seed,
        details={**spectral.details, "R": spectral.value, "survey": survey, "bound_violations": survey["violations"]["bound"]},
    )


SURVEY_MAX = 16
"""The random-chain survey of R2/R3 runs on chains of at most this many tokens (dense eigenvalues, thousands of chains)."""


def sparse_weights(n: int, width: int, chain: int) -> scipy.sparse.csr_matrix:
    """Instance number ``chain`` of a sparse decoder: each of the ``n`` rows has ``width`` tokens with integer weights 1..9."""
    rng = np.random.default_rng(chain)
    columns = np.argsort(rng.random((n, n)), axis=1)[:, :width]
    weights = rng.integers(1, MAX_WEIGHT + 1, size=(n, width))
    return scipy.sparse.csr_matrix((weights.ravel(), (np.repeat(np.arange(n), width), columns.ravel())), shape=(n, n))


def sparse_chain(weights: scipy.sparse.csr_matrix) -> scipy.sparse.csr_matrix:
    r"""Row-normalised sparse :math:`P` and :math:`Q = P\circ P`, returned as :math:`Q` (CSR)."""
    w = weights.astype(float)
    P = scipy.sparse.diags(1.0 / np.asarray(w.sum(axis=1)).ravel()) @ w
    return P.multiply(P).tocsr()


def collatz_sparse(Q: scipy.sparse.csr_matrix, chains: int, seed: int) -> Estimate:
    r"""R3 at scale: :math:`\rho(Q)` by ``scipy.sparse.linalg.eigs`` (ARPACK) and a rigorous Collatz–Wielandt enclosure.

    :math:`x` = the modulus of ARPACK's Perron vector (all entries positive for an irreducible :math:`Q`);
    :math:`\min_i (Qx)_i/x_i \le \rho \le \max_i (Qx)_i/x_i` for any :math:`x > 0`; each ratio has relative
    rounding error at most :math:`(w + 2)u` (:math:`w` nonzeros in the row), so the interval is widened by that.
    The survey of random chains runs on :math:`\min(n,` :data:`SURVEY_MAX`:math:`)` tokens.
    """
    n = Q.shape[0]
    values, vectors = scipy.sparse.linalg.eigs(Q, k=1, which="LM", v0=np.ones(n), tol=1e-15, maxiter=20 * n)
    x = np.abs(vectors[:, 0].real)
    if x.min() <= 0:
        raise NumericError(f"the Perron vector has a zero entry ({x.min()!r}); Q is reducible, use another positive x")
    ratios = (Q @ x) / x
    width = int(np.diff(Q.indptr).max())
    widen = (width + 2) * UNIT_ROUNDOFF
    rows = np.asarray(Q.sum(axis=1)).ravel()
    return Estimate(
        value=float(abs(values[0])),
        interval=(float(ratios.min() * (1 - widen)), float(ratios.max() * (1 + widen))),
        method="ARPACK (scipy.sparse.linalg.eigs) Perron pair; Collatz-Wielandt enclosure at its vector, widened for rounding",
        n=n,
        seed=seed,
        details={
            "row_min": float(rows.min()),
            "row_max": float(rows.max()),
            "nonzeros": int(Q.nnz),
            "survey": (survey := tightness_survey(min(n, SURVEY_MAX), chains, seed)),
            "row_sum_violations": survey["violations"]["row_sums"],
        },
    )


def bound_sparse(Q: scipy.sparse.csr_matrix, chains: int, seed: int) -> Estimate:
    r"""R2 at scale: :math:`R = \operatorname{tr}((I-Q)^{-1}Q)` by one LU solve with an a-posteriori error bound, and
    :math:`\rho(Q)` with its rigorous enclosure (:func:`collatz_sparse`).

    With :math:`A = I - Q`, :math:`X` the float solution of :math:`AX = Q` and :math:`E = AX - Q` its residual,
    :math:`\lvert\operatorname{tr}(X - X^*)\rvert \le n\,\|A^{-1}\|_\infty \max\lvert E\rvert` with
    :math:`\|A^{-1}\|_\infty \le 1/(1 - \|Q\|_\infty)`; the residual's own rounding :math:`(w+2)u\,|A||X|` and the
    trace's :math:`nu\sum|X_{ii}|` are added.  Value :math:`R`, interval :math:`R \pm` that bound.
    """
    enclosure = collatz_sparse(Q, chains, seed)
    n = Q.shape[0]
    A = (scipy.sparse.identity(n, format="csr") - Q).tocsr()
    dense = Q.toarray()
    X = scipy.linalg.solve(A.toarray(), dense)
    total = float(np.trace(X))
    residual = A @ X - dense
    width = int(np.diff(A.indptr).max())
    rounding = (width + 2) * UNIT_ROUNDOFF * (abs(A) @ np.abs(X))
    norm = float(np.asarray(Q.sum(axis=1)).max())
    error = n / (1.0 - norm) * float(np.abs(residual).max() + rounding.max()) + n * UNIT_ROUNDOFF * float(np.abs(np.diag(X)).sum())
    rho = enclosure.value
    survey = enclosure.details["survey"]
    return Estimate(
        value=total,
        interval=(total - error, total + error),
        method="R = tr((I - Q)^-1 Q) by an LU solve (LAPACK) with an a-posteriori bound; rho by ARPACK with a Collatz-Wielandt enclosure",
        n=n,
        seed=seed,
        details={
            "rho": rho,
            "rho_interval": enclosure.interval,
            "ratio": total * (1.0 - rho) / (n * rho),
            "error": error,
            "survey": survey,
            "bound_violations": survey["violations"]["bound"],
            "nonzeros": int(Q.nnz),
        },
    )


def _variant_collatz_matrix_product(P: np.ndarray, chains: int, seed: int) -> Estimate:
    r"""Known-false: the enclosure computed for :math:`PP` (matrix product) instead of :math:`P\circ P`."""
    return collatz_wielandt(_product_chain(P), chains, seed)


def _variant_collatz_columns(P: np.ndarray, chains: int, seed: int) -> Estimate:
    """Known-false: the estimator reports column sums of :math:`Q` as the bounds and their midpoint as rho."""
    right = collatz_wielandt(P, chains, seed)
    columns = hadamard_square(P).sum(axis=0)
    low, high = float(columns.min()), float(columns.max())
    return dataclasses.replace(right, value=(low + high) / 2, interval=(low, high))


def collatz_wielandt(P: np.ndarray, chains: int, seed: int) -> Estimate:
    r"""R3: an enclosure of :math:`\rho(Q)` from Collatz–Wielandt, plus the row-sum bounds.

    For :math:`Q \ge 0` and any :math:`x > 0`,
    :math:`\min_i (Qx)_i/x_i \le \rho(Q) \le \max_i (Qx)_i/x_i`.  With :math:`x = \mathbf 1` these
    are the row sums :math:`\sum_j P_{ij}^2`; with :math:`x` the float Perron vector the
    interval is tight.  Each ratio is computed with relative error
    :math:`\le (n+2)u`, and the interval is widened by that, so it is rigorous.
    """
    Q = hadamard_square(P)
    n = len(Q)
    values, vectors = np.linalg.eig(Q)
    x = np.abs(vectors[:, np.argmax(np.abs(values))].real)
    if x.min() <= 0:
        raise NumericError(f"the Perron vector has a zero entry ({x.min()!r}); Q is reducible, use another positive x")
    ratios, rows = (Q @ x) / x, Q.sum(axis=1)
    widen = (n + 2) * UNIT_ROUNDOFF
    low, high = ratios.min() * (1 - widen), ratios.max() * (1 + widen)
    return Estimate(
        value=float(spectral_radius(Q)),
        interval=(float(low), float(high)),
        method="Collatz-Wielandt enclosure min/max (Qx)_i/x_i at the float Perron vector, widened for rounding",
        n=n,
        seed=seed,
        details={
            "row_min": float(rows.min()),
            "row_max": float(rows.max()),
            "survey": (survey := tightness_survey(n, chains, seed)),
            "row_sum_violations": survey["violations"]["row_sums"],
        },
    )


def greedy_cycles(P: np.ndarray, periods: int = 200) -> Estimate:
    r"""R4: cycles of the greedy chain (``networkx.simple_cycles`` on the one-hot rows), :math:`\rho(Q)`,
    and the growth of :math:`S_K = \sum_{k\le K}\operatorname{tr}(Q^k)`.

    For a one-hot :math:`P` (a map :math:`f`), :math:`\operatorname{tr}(Q^k)` counts the fixed
    points of :math:`f^k`: a cycle of length :math:`L` adds :math:`L` whenever :math:`L \mid k`, so
    :math:`S_K/K \to` (number of cycles) and :math:`R = \infty`.  :math:`K` = ``periods`` :math:`\cdot n`;
    powers of a 0/1 matrix are exact in float64.
    """
    Q = hadamard_square(P)
    cycles = one_hot_cycles(P)
    horizon = periods * len(P)
    power, traces = np.eye(len(Q)), np.empty(horizon)
    for k in range(horizon):
        power = power @ Q
        traces[k] = np.trace(power)
    return Estimate(
        value=float(len(cycles)),
        method="networkx.simple_cycles on the graph of one-hot rows",
        n=len(P),
        details={
            "cycles": cycles,
            "rho": float(spectral_radius(Q)),
            "partial_sum": float(traces.sum()),
            "horizon": horizon,
            "growth_rate": float(traces.sum() / horizon),
        },
    )


def _variant_rise_is_bound(weights: np.ndarray, mix: float, fine: int) -> Estimate:
    """Known-false: the change of the R3 bound max_i sum_j P_ij^2 reported as the change of rho (the bound taken for rho)."""
    right = mixing_rise(weights, mix, fine)
    return dataclasses.replace(right, value=right.details["row_sum_bound_mixed"] - right.details["row_sum_bound_start"])


def ladder(weights: np.ndarray, scheme: int, steps: np.ndarray, grid: int) -> np.ndarray:
    r"""R5: chains from sharp to flat at (real) positions ``steps`` in :math:`[0, G]`, :math:`G` = ``grid``.

    ``scheme`` 0 mixes with the uniform row: :math:`P_s = (1-s/G)P + (s/G)\,\mathbf 1\mathbf 1^T/n`;
    ``scheme`` 1 lowers a temperature: :math:`P_s \propto w^{\,G-s}` entrywise.
    Both end at the uniform chain.  ``weights`` may be one matrix or a stack; the
    result has shape ``(len(steps), *weights.shape)``.
    """
    w = np.asarray(weights, dtype=float)
    s = np.asarray(steps, dtype=float).reshape(-1, *([1] * w.ndim))
    if scheme == 0:
        return (1 - s / grid) * transition_matrix(w) + (s / grid) / w.shape[0]
    return transition_matrix(w ** (grid - s))


def flattening(weights: np.ndarray, scheme: int, grid: int, fine: int, chains: int, seed: int) -> Estimate:
    r"""R5: :math:`\rho(Q)` along a flattening ladder, on the integer grid and on a fine grid.

    Value: the number of the :math:`G` integer steps where :math:`\rho` strictly decreases (by
    more than ``5e-13``: eigenvalues here are accurate to ~1e-15).  ``details``: the
    largest increase of :math:`\rho` between neighbours of the fine grid (``fine`` points),
    and a survey of ``chains`` random chains per Dirichlet concentration in
    ``CONCENTRATIONS`` on the same ladder and fine grid: how many show any increase.
    """
    coarse = spectral_radius(hadamard_square(ladder(weights, scheme, np.arange(grid + 1), grid)))
    positions = np.linspace(0.0, grid, fine)
    along = spectral_radius(hadamard_square(ladder(weights, scheme, positions, grid)))
    rng = np.random.default_rng(seed)
    n = np.asarray(weights).shape[0]
    survey = np.concatenate([dirichlet_chains(n, alpha, chains, rng) for alpha in CONCENTRATIONS])
    profiles = spectral_radius(hadamard_square(ladder(survey, scheme, positions, grid)))
    increases = np.diff(profiles, axis=0).max(axis=0)
    return Estimate(
        value=float(np.sum(np.diff(coarse) < -5e-13)),
        method="numpy eigvals of Q along the ladder; strict decreases counted on the integer grid",
        n=fine,
        seed=seed,
        details={
            "rho": coarse,
            "largest_increase": float(np.diff(along).max()),
            "survey_chains": chains,
            "survey_increasing": int(np.sum(increases > 5e-13)),
            "survey_largest_increase": float(increases.max()),
        },
    )


def mixing_rise(weights: np.ndarray, mix: float, fine: int) -> Estimate:
    r"""R5 counterexample: :math:`\rho(Q_t) - \rho(Q_0)` for :math:`P_t = (1-t)P + tU` at :math:`t` = ``mix``,
    both by :func:`perron` (``details``: the sum of their error bounds), plus the largest :math:`\rho(Q_t)` on a
    grid of ``fine`` points in :math:`[0, 1]` and the R3 bound :math:`\max_i\sum_j P_{ij}^2` at both ends."""
    start, mixed = ladder(weights, 0, np.array([0.0, mix]), 1)
    (before, before_error), (after, after_error) = perron(start), perron(mixed)
    positions = np.linspace(0.0, 1.0, fine)
    profile = spectral_radius(hadamard_square(ladder(weights, 0, positions, 1)))
    return Estimate(
        value=after - before,
        method="rho(Q_t) - rho(Q_0) from the eigenvalues of Q (scipy.linalg.eig)",
        n=fine,
        details={
            "rho_start": before,
            "rho_mixed": after,
            "error": before_error + after_error,
            "largest_rho": float(profile.max()),
            "at_mix": float(positions[np.argmax(profile)]),
            "row_sum_bound_start": float(hadamard_square(start).sum(axis=1).max()),
            "row_sum_bound_mixed": float(hadamard_square(mixed).sum(axis=1).max()),
        },
    )
