r"""Sparse softmax and the SPACES summariser (kexue.fm post 8046), numerically.

Independent of :mod:`twofold.theorems.sparse_softmax`: float64 numpy over batches of
logits in arbitrary order (top-k found by ``np.partition``), central finite
differences, gradient descent on the logits themselves, ``scipy.optimize.brentq``
for loss levels, and dynamic programming for the LCS, the BIO labels and ROUGE.

Conventions (the same as the exact side, stated once here):

* :math:`\Omega_k` = the indices of the k largest logits, ties broken toward the
  lower index (ties have probability 0 for random logits; they matter for gradient
  descent from equal logits, where the target, index 0, must stay in :math:`\Omega_k`).
* The sparse loss formula is :math:`L_k = \operatorname{logsumexp}_{\Omega_k}(s) - s_t`
  (:func:`sparse_loss`); the sparse negative log-likelihood is
  :math:`-\log p^{(k)}_t` (:func:`sparse_nll`, :math:`+\infty` when :math:`t \notin \Omega_k`).
* Labels: O = 0, B = 1, I = 2 (the codes of the SPACES code).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import optimize, special

from twofold.contract import Estimate, NumericError

O_LABEL, B_LABEL, I_LABEL = 0, 1, 2
ROUGE_WEIGHTS = (0.2, 0.4, 0.4)
FD_STEP = 1e-5  # ~ cube root of the float64 unit roundoff: balances O(h^2) truncation and O(u/h) rounding
TOP_K_SEPARATION = 1e-2  # batch logits outside Omega_k are lowered by this, so a step FD_STEP never changes Omega_k


# --- S1, S2: sparse softmax and its loss on batches -----------------------------------------


def top_k_mask(logits: np.ndarray, k: int) -> np.ndarray:
    r"""Boolean mask of :math:`\Omega_k` along the last axis; among equal logits the lower index wins."""
    n = logits.shape[-1]
    if not 1 <= k <= n:
        raise NumericError(f"top-k needs 1 <= k <= n, got k = {k}, n = {n}")
    kth = -np.partition(-logits, k - 1, axis=-1)[..., k - 1 : k]
    above, tied = logits > kth, logits == kth
    free = k - above.sum(axis=-1, keepdims=True)
    return above | (tied & (np.cumsum(tied, axis=-1) <= free))


def _restricted(logits: np.ndarray, k: int) -> np.ndarray:
    """The logits on Omega_k, -inf elsewhere."""
    if k == logits.shape[-1]:
        return logits
    return np.where(top_k_mask(logits, k), logits, -np.inf)


def _exp_normalised(kept: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r""":math:`e^{x - \max x}`, its sum and :math:`\max x` along the last axis (dims kept).

    logsumexp is then max + log(sum), written out because ``scipy.special.logsumexp``
    costs ~5x more per call here (array-API dispatch) and gradient descent needs it
    at every step."""
    top = kept.max(axis=-1, keepdims=True)
    weights = np.exp(kept - top)
    return weights, weights.sum(axis=-1, keepdims=True), top


def sparse_softmax(logits: np.ndarray, k: int) -> np.ndarray:
    r""":math:`p_i = e^{s_i}/\sum_{j \in \Omega_k} e^{s_j}` on :math:`\Omega_k`, 0 elsewhere."""
    weights, total, _ = _exp_normalised(_restricted(logits, k))
    return weights / total


def _index(target: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``target`` as an index array for ``take_along_axis`` on an array of ``shape``."""
    return np.broadcast_to(np.asarray(target)[..., None], shape[:-1] + (1,))


def _at(values: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``values[..., target]`` with ``target`` broadcast over the leading axes."""
    return np.take_along_axis(values, _index(target, values.shape), axis=-1)[..., 0]


def sparse_loss(logits: np.ndarray, target: np.ndarray, k: int) -> np.ndarray:
    r""":math:`\operatorname{logsumexp}_{\Omega_k}(s) - s_t` (``k = n``: cross-entropy)."""
    _, total, top = _exp_normalised(_restricted(logits, k))
    return (top + np.log(total))[..., 0] - _at(logits, target)


def sparse_nll(logits: np.ndarray, target: np.ndarray, k: int) -> np.ndarray:
    r""":math:`-\log p^{(k)}_t`; :math:`+\infty` when the target is outside :math:`\Omega_k`."""
    with np.errstate(divide="ignore"):
        return -np.log(_at(sparse_softmax(logits, k), target))


def loss_and_gradient(logits: np.ndarray, target: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    r"""The sparse loss and the claimed gradient :math:`(p^{(k)} - e_t)\,\mathbb 1_{\Omega_k}`, from one top-k pass."""
    kept = _restricted(logits, k)
    weights, total, top = _exp_normalised(kept)
    gradient = weights / total
    index = _index(target, logits.shape)
    inside = np.isfinite(np.take_along_axis(kept, index, axis=-1))
    np.put_along_axis(gradient, index, np.take_along_axis(gradient, index, axis=-1) - inside, axis=-1)
    return (top + np.log(total))[..., 0] - _at(logits, target), gradient


def sparse_gradient(logits: np.ndarray, target: np.ndarray, k: int) -> np.ndarray:
    r"""The claimed gradient :math:`(p^{(k)} - e_t)\,\mathbb 1_{\Omega_k}`."""
    return loss_and_gradient(logits, target, k)[1]


def central_differences(loss: Callable[[np.ndarray], np.ndarray], logits: np.ndarray, h: float = FD_STEP) -> np.ndarray:
    r"""Gradient of ``loss`` (reducing the last axis) by :math:`(f(s + h e_i) - f(s - h e_i))/2h`, all i at once."""
    step = h * np.eye(logits.shape[-1])
    shifted = logits[..., None, :]
    return (loss(shifted + step) - loss(shifted - step)) / (2 * h)


def ranked_logits(n: int) -> np.ndarray:
    r"""The cross-check instance :math:`s_i = \log i`, :math:`i = 1..n` (rank r is index n - r)."""
    return np.log(np.arange(1, n + 1, dtype=float))


def by_rank(values: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """``values`` reordered by decreasing logit (rank 1 first)."""
    return values[np.argsort(-logits, kind="stable")]


def _index_of_rank(logits: np.ndarray, rank: int) -> np.ndarray:
    if not 1 <= rank <= logits.shape[-1]:
        raise NumericError(f"no logit of rank {rank} among {logits.shape[-1]}")
    return np.argsort(-logits, axis=-1, kind="stable")[..., rank - 1]


def _batch(n: int, batch: int, seed: int) -> np.ndarray:
    return 3.0 * np.random.default_rng(seed).standard_normal((batch, n))


def definition_check(n: int, k: int, batch: int, seed: int) -> Estimate:
    r"""S1: probabilities at the instance, and on a batch of N(0, 9) logits the largest residuals of
    :math:`\sum p = 1`, :math:`p^{(n)} = \mathrm{softmax}`, :math:`p^{(1)} = \mathrm{onehot}(\arg\max)`."""
    logits = _batch(n, batch, seed)
    onehot = np.arange(n) == logits.argmax(axis=-1)[:, None]
    residuals = {
        "sum_residual": np.abs(sparse_softmax(logits, k).sum(axis=-1) - 1).max(),
        "softmax_residual": np.abs(sparse_softmax(logits, n) - special.softmax(logits, axis=-1)).max(),
        "onehot_residual": np.abs(sparse_softmax(logits, 1) - onehot).max(),
    }
    point = ranked_logits(n)
    return Estimate(
        value=float(max(residuals.values())),
        method=f"float64 sparse softmax on {batch} random logit vectors and at s_i = log i",
        n=batch,
        seed=seed,
        details={**{key: float(v) for key, v in residuals.items()}, "instance": by_rank(sparse_softmax(point, k), point)},
    )


def loss_gap_check(n: int, k: int, t_rank: int, batch: int, seed: int) -> Estimate:
    r"""S2: :math:`\mathrm{CE} - L_k` (with :math:`L_k = -\log p^{(k)}_t`) at the instance, target of rank ``t_rank``.

    ``details``: on a batch (target of the same rank) the smallest gap measured
    with the NLL and with the bare formula, and the largest residual of the
    identity :math:`\mathrm{CE} - L_k = -\log \sum_{\Omega_k} \mathrm{softmax}(s)`.
    """
    logits = np.vstack([ranked_logits(n), _batch(n, batch, seed)])
    target = _index_of_rank(logits, t_rank)
    cross_entropy = sparse_loss(logits, target, n)
    gap = cross_entropy - sparse_nll(logits, target, k)
    top_mass = np.where(top_k_mask(logits, k), special.softmax(logits, axis=-1), 0.0).sum(axis=-1)
    return Estimate(
        value=float(gap[0]),
        method="float64 cross-entropy minus sparse NLL at s_i = log i; batch of N(0, 9) logits",
        n=batch,
        seed=seed,
        details={
            "min_gap_nll": float(gap[1:].min()),
            "min_gap_formula": float((cross_entropy - sparse_loss(logits, target, k))[1:].min()),
            "identity_residual": float(np.abs(gap + np.log(top_mass))[1:].max()),
            "instance_sparse_nll": float(sparse_nll(logits, target, k)[0]),
            "instance_cross_entropy": float(cross_entropy[0]),
        },
    )


FD_ALL_COORDINATES = 64  # up to this n every coordinate is differenced; beyond, Omega_k, rank k + 1 and a sample
FD_SAMPLE = 64  # coordinates outside Omega_k differenced per row when n > FD_ALL_COORDINATES


def fd_coordinates(logits: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    r"""The coordinates whose partial derivatives are differenced for one logit vector: all of them for
    small n; otherwise :math:`\Omega_k`, the coordinate of rank :math:`k + 1` (the first one outside) and
    ``FD_SAMPLE`` others drawn uniformly (an :math:`n \times n` difference table is 3.6 GB at n = 21128)."""
    n = logits.shape[-1]
    if n <= FD_ALL_COORDINATES:
        return np.arange(n)
    order = np.argsort(-logits, kind="stable")
    inside, rest = order[: k + 1], order[k + 1 :]
    return np.concatenate([inside, rng.choice(rest, size=min(FD_SAMPLE, rest.size), replace=False)])


def partial_differences(
    loss: Callable[[np.ndarray], np.ndarray], logits: np.ndarray, coordinates: np.ndarray, h: float = FD_STEP
) -> np.ndarray:
    r""":math:`(f(s + h e_i) - f(s - h e_i))/2h` for the given coordinates i of one logit vector; NaN elsewhere."""
    step = np.zeros((coordinates.size, logits.shape[-1]))
    step[np.arange(coordinates.size), coordinates] = h
    result = np.full(logits.shape[-1], np.nan)
    result[coordinates] = (loss(logits + step) - loss(logits - step)) / (2 * h)
    return result


def fd_tolerance(k: int, scale: float) -> float:
    r"""Error bound of a central difference of the top-k loss with :math:`h` = ``FD_STEP``:
    truncation :math:`h^2/6 \cdot \max|L^{(3)}| \le h^2/6` (third derivatives of a logsumexp are below 1)
    plus rounding: the loss sums :math:`k` exponentials of arguments up to ``scale``, so its float64
    error is at most :math:`(k + 4)\,u\,\texttt{scale}` per evaluation, two evaluations divided by
    :math:`2h`; a factor 8 of room."""
    return FD_STEP**2 / 6 + 8 * (k + 4) * 2.0**-53 * scale / FD_STEP


def gradient_check(n: int, k: int, t_rank: int, batch: int, seed: int) -> Estimate:
    r"""S2: central differences of :math:`\operatorname{logsumexp}_{\Omega_k}(s) - s_t` against
    :math:`(p^{(k)} - e_t)\mathbb 1_{\Omega_k}`; value = the largest absolute difference over the batch.

    Batch logits are N(0, 9) with the entries outside :math:`\Omega_k` lowered by
    ``TOP_K_SEPARATION``, so that no finite-difference step changes :math:`\Omega_k`.
    For :math:`n >` ``FD_ALL_COORDINATES`` only the coordinates of :func:`fd_coordinates` are
    differenced.  ``details["instance"]``: the finite-difference gradient at :math:`s_i = \log i`,
    by rank (NaN where not differenced); ``details["scale"]``: the largest logit magnitude plus log k.
    """
    rng = np.random.default_rng(seed)
    logits = 3.0 * rng.standard_normal((batch, n))
    logits = logits - TOP_K_SEPARATION * ~top_k_mask(logits, k)
    target = _index_of_rank(logits, t_rank)
    claimed = sparse_gradient(logits, target, k)
    error = 0.0
    for row in range(batch):
        where = fd_coordinates(logits[row], k, rng)
        numeric = partial_differences(lambda x: sparse_loss(x, target[row], k), logits[row], where)
        error = max(error, float(np.abs(numeric[where] - claimed[row, where]).max()))
    point = ranked_logits(n)
    point_target = _index_of_rank(point, t_rank)
    where = fd_coordinates(point, k, rng)
    at_point = partial_differences(lambda x: sparse_loss(x, point_target, k), point, where)
    formula = sparse_gradient(point, point_target, k)
    return Estimate(
        value=float(error),
        method=f"central differences (h = {FD_STEP:g}) vs (p - e_t) on Omega_k, {batch} random logit vectors",
        n=batch,
        seed=seed,
        details={
            "instance": by_rank(at_point, point),
            "instance_formula_error": float(np.abs(at_point[where] - formula[where]).max()),
            "differenced": int(where.size),
            "scale": float(max(np.abs(logits).max(), np.abs(point).max()) + math.log(k)),
        },
    )


def _variant_gradient_without_target(n: int, k: int, t_rank: int, batch: int, seed: int) -> Estimate:
    """Known-false estimator: the gradient taken as p^(k) alone, the -e_t term forgotten."""
    right = gradient_check(n, k, t_rank, batch, seed)
    logits = ranked_logits(n)
    wrong = by_rank(sparse_softmax(logits, k), logits)
    instance = right.details["instance"]
    return Estimate(
        value=right.value,
        method=right.method,
        n=right.n,
        seed=seed,
        details={**right.details, "instance": np.where(np.isfinite(instance), wrong, np.nan)},
    )


def _variant_definition_full_normaliser(n: int, k: int, batch: int, seed: int) -> Estimate:
    """Known-false estimator: the top-k probabilities divided by the sum over all n logits."""
    right = definition_check(n, k, batch, seed)
    point = ranked_logits(n)
    wrong = np.where(top_k_mask(point, k), special.softmax(point), 0.0)
    logits = _batch(n, batch, seed)
    masked = np.where(top_k_mask(logits, k), special.softmax(logits, axis=-1), 0.0)
    return Estimate(
        value=float(max(right.value, np.abs(masked.sum(axis=-1) - 1).max())),
        method=right.method,
        n=right.n,
        seed=seed,
        details={**right.details, "instance": by_rank(wrong, point)},
    )


def _variant_nll_of_softmax(n: int, k: int, t_rank: int, batch: int, seed: int) -> Estimate:
    """Known-false estimator: the 'sparse' NLL read from the full softmax (the top-k restriction forgotten)."""
    right = loss_gap_check(n, k, t_rank, batch, seed)
    return Estimate(value=0.0, method=right.method, n=right.n, seed=seed, details=right.details)


# --- S3: margins reached by gradient descent -------------------------------------------------


def margin(logits: np.ndarray) -> np.ndarray:
    r""":math:`s_0 - \max_{j \ne 0} s_j` per row (the target is index 0)."""
    return logits[..., 0] - logits[..., 1:].max(axis=-1)


def tied_threshold(competitors: int, eps: float) -> float:
    r"""The margin at which the cross-entropy of :math:`(0, -m, \dots, -m)` (``competitors`` copies)
    equals ``eps``, by ``brentq`` on the loss computed with ``logsumexp`` over the actual vector."""

    if competitors < 1:
        raise NumericError("a margin needs at least one competitor (k >= 2)")

    def excess(m: float) -> float:
        logits = np.concatenate([[0.0], np.full(competitors, -m)])
        return float(sparse_loss(logits, np.array(0), competitors + 1)) - eps

    low, high = -60.0, 60.0 + math.log(competitors)
    if not excess(low) > 0 > excess(high):
        raise NumericError(f"loss level eps = {eps} is not bracketed by margins [{low}, {high}]")
    return float(optimize.brentq(excess, low, high, xtol=1e-14, rtol=4 * np.finfo(float).eps))


def descend_to_loss(logits: np.ndarray, k: int, eps: float, eta: float, max_steps: int) -> tuple[np.ndarray, np.ndarray, int]:
    r"""Gradient descent :math:`s \leftarrow s - \eta (p^{(k)} - e_0)\mathbb 1_{\Omega_k}` on each row (target 0)
    until the sparse loss is :math:`\le \varepsilon`.

    Returns, per row, the margin one step before the loss first reached ε
    (:math:`-\infty` if it started there), the margin when it did, and the step count.
    """
    rows = logits.shape[0]
    target = np.zeros(rows, dtype=int)
    before = np.full(rows, -np.inf)
    after = np.full(rows, np.nan)
    done = np.zeros(rows, dtype=bool)
    previous = np.full(rows, -np.inf)
    for step in range(max_steps + 1):
        current = margin(logits)
        loss, gradient = loss_and_gradient(logits, target, k)
        reached = ~done & (loss <= eps)
        before[reached], after[reached] = previous[reached], current[reached]
        done |= reached
        if done.all():
            return before, after, step
        logits = logits - eta * gradient
        previous = current
    raise NumericError(f"gradient descent did not reach loss {eps} in {max_steps} steps")


def _step_cap(competitors: int, eps: float, eta: float) -> int:
    r"""Steps after which descent must have stopped: while :math:`L > \varepsilon`, :math:`p_t < e^{-\varepsilon}`,
    so each step raises the margin by at least :math:`\eta(1 - e^{-\varepsilon})` (competitors only fall); at
    margin :math:`\ge` the tied threshold the loss is :math:`\le \varepsilon`."""
    return math.ceil(max(tied_threshold(competitors, eps), 0.0) / (eta * -math.expm1(-eps))) + 1


def margin_descent(n: int, k: int, eps: float, eta: float, spread: float, rows: int, seed: int) -> Estimate:
    r"""S3: the margins at which gradient descent on the logits first reaches loss :math:`\le \varepsilon`.

    Start: competitors :math:`s_j = \sigma z_j` (:math:`z_j \sim N(0,1)`, :math:`\sigma` = ``spread``) and
    the target tied with the largest (margin 0).  Value and interval: the full
    cross-entropy run, interval = [margin one step before, margin at] the crossing, over
    all rows, widened by 1e-9 for float64 rounding of the loss (about 1e-14 in the margin).
    ``details``: the same for the sparse loss with top ``k``, and ``brentq`` thresholds.

    The sparse run keeps the initial top-k logits and sets the rest to :math:`-\infty`, so
    :math:`\Omega_k` never changes.  Otherwise, from equal logits, each step would lower
    the k - 1 competitors in :math:`\Omega_k` below the untouched ones, which then rotate
    in, and the competitors seen by the loss would stop being tied.  With
    :math:`\sigma = 0` gradient descent keeps the competitors exactly equal (identical
    float operations on identical values), so the bracket must contain the tied threshold.
    """
    rng = np.random.default_rng(seed)
    start = spread * rng.standard_normal((rows, n))
    start[:, 0] = start[:, 1:].max(axis=1)
    runs = {}
    for name, size in (("full", n), ("sparse", k)):
        cap = _step_cap(size - 1, eps, eta)
        before, after, steps = descend_to_loss(_restricted(start, size), size, eps, eta, cap)
        runs[name] = {
            "interval": (float(before.min()) - 1e-9, float(after.max()) + 1e-9),
            "margins": after,
            "steps": steps,
        }
    return Estimate(
        value=float(runs["full"]["margins"].mean()),
        method=f"gradient descent on logits, step {eta:g}, {rows} rows; margin bracket at the first step with loss ≤ eps",
        n=rows,
        seed=seed,
        interval=runs["full"]["interval"],
        details={
            "full_margins": runs["full"]["margins"],
            "full_steps": runs["full"]["steps"],
            "sparse_interval": runs["sparse"]["interval"],
            "sparse_margins": runs["sparse"]["margins"],
            "sparse_steps": runs["sparse"]["steps"],
            "brentq_full": tied_threshold(n - 1, eps),
            "brentq_sparse": tied_threshold(k - 1, eps),
            "brentq_necessary": tied_threshold(1, eps),
        },
    )


# --- S4: LCS and BIO labels by dynamic programming, batched over string pairs --------------


def _codes(*texts: Sequence[object]) -> list[np.ndarray]:
    """Integer codes for the tokens of several texts (one shared vocabulary)."""
    _, inverse = np.unique(np.concatenate([np.asarray(list(t), dtype=str) for t in texts]), return_inverse=True)
    return np.split(inverse.reshape(-1), np.cumsum([len(t) for t in texts])[:-1])


def lcs_lengths(firsts: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    r"""LCS lengths of the row pairs of two integer arrays (P, m) and (P, n), one source position at a time:
    :math:`c_i[j] = \max_{j' \le j} \max(c_{i-1}[j'],\ [a_i = b_{j'}](c_{i-1}[j'-1] + 1))`."""
    row = np.zeros((seconds.shape[0], seconds.shape[1] + 1), dtype=np.int64)
    for column in firsts.T:
        diagonal = np.where(seconds == column[:, None], row[:, :-1] + 1, 0)
        row[:, 1:] = np.maximum.accumulate(np.maximum(row[:, 1:], diagonal), axis=1)
    return row[:, -1]


def lcs_length(first: Sequence[object], second: Sequence[object]) -> int:
    """LCS length of two token sequences."""
    a, b = _codes(first, second)
    return int(lcs_lengths(a[None, :], b[None, :])[0])


def canonical_alignments(sources: np.ndarray, summaries: np.ndarray) -> np.ndarray:
    r"""For each summary token the source index it copies (−1: not copied), for P pairs at once
    (integer arrays (P, m) and (P, n)), by the convention: a longest common subsequence; among
    those the fewest spans (a span continues when the next pair is adjacent in source **and**
    summary); then, token by token, continue a span before starting one, start at the earliest
    source position, copy before skipping.

    Dynamic programme over suffixes: ``cost[j][p, i, c]`` is the best
    :math:`-\mathrm{length}\cdot M + \mathrm{spans}` (:math:`M = n + 2`) for summary[j:] and
    source[i:], ``c`` = the previous pair was (i-1, j-1); the alignment is then read off
    greedily from the front, choosing at each token the first option (in the order above)
    that keeps the optimal cost.
    """
    pairs, m = sources.shape
    n = summaries.shape[1]
    alignment = np.full((pairs, n), -1)
    if m == 0 or n == 0:
        return alignment
    scale, infinite = n + 2, np.iinfo(np.int64).max // 4
    equal = summaries[:, :, None] == sources[:, None, :]
    cost = np.zeros((n + 1, pairs, m + 1, 2), dtype=np.int64)
    for j in range(n - 1, -1, -1):
        copy_next = cost[j + 1, :, 1:, 1] - scale
        start = np.full((pairs, m + 1), infinite)
        start[:, :m] = np.where(equal[:, j], copy_next + 1, infinite)
        proceed = np.full((pairs, m + 1), infinite)
        proceed[:, :m] = np.where(equal[:, j], copy_next, infinite)
        cost[j, :, :, 0] = np.minimum(cost[j + 1, :, :, 0], np.minimum.accumulate(start[:, ::-1], axis=1)[:, ::-1])
        cost[j, :, :, 1] = np.minimum(cost[j, :, :, 0], proceed)
    rows, positions = np.arange(pairs), np.arange(m)
    i, contiguous = np.zeros(pairs, dtype=int), np.zeros(pairs, dtype=int)
    for j in range(n):
        goal = cost[j, rows, i, contiguous]
        copy_next = cost[j + 1, :, 1:, 1] - scale
        at = np.minimum(i, m - 1)
        proceeds = (contiguous == 1) & (i < m) & equal[rows, j, at] & (copy_next[rows, at] == goal)
        starts = (positions >= i[:, None]) & equal[:, j] & (copy_next + 1 == goal[:, None])
        chosen = np.where(proceeds, i, np.where(starts.any(axis=1), starts.argmax(axis=1), -1))
        alignment[:, j] = chosen
        i = np.where(chosen >= 0, chosen + 1, i)
        contiguous = (chosen >= 0).astype(int)
    return alignment


def alignment_labels(alignment: np.ndarray, source_contiguity: bool = True) -> np.ndarray:
    """O where not copied; I where the previous summary token is copied from the previous source
    position (or, if ``source_contiguity`` is false, merely copied); B otherwise.  Last axis = summary."""
    previous = np.concatenate([np.full(alignment.shape[:-1] + (1,), -2), alignment[..., :-1]], axis=-1)
    follows = (previous >= 0) & ((alignment == previous + 1) | (not source_contiguity))
    return np.where(alignment >= 0, np.where(follows, I_LABEL, B_LABEL), O_LABEL)


def bio_labels(source: Sequence[object], summary: Sequence[object], source_contiguity: bool = True) -> np.ndarray:
    """S4 labels of ``summary`` against ``source``."""
    a, b = _codes(source, summary)
    return alignment_labels(canonical_alignments(a[None, :], b[None, :])[0], source_contiguity)


def _words(alphabet: int, size: int) -> np.ndarray:
    """Every string of length ``size`` over ``range(alphabet)``, one per row."""
    return np.array(list(itertools.product(range(alphabet), repeat=size)), dtype=np.int64).reshape(alphabet**size, size)


def bio_universe(
    alphabet: int, length: int, source_contiguity: bool, source: Sequence[object], summary: Sequence[object]
) -> Estimate:
    r"""S4 by dynamic programming on every string pair over ``alphabet`` letters of length :math:`\le` ``length``
    (batched by the two lengths), and on the example.  Value: the number of B labels (copied spans).

    ``details``: totals (sum of LCS lengths, #B, #I, #O), the example labels, and two
    consistency counts that must be 0: pairs whose copied-token count differs from
    :func:`lcs_lengths`, and I labels whose source position does not follow the previous one.
    """
    totals = np.zeros(4, dtype=np.int64)
    length_mismatches = not_adjacent = pairs = 0
    for first_size, second_size in itertools.product(range(length + 1), repeat=2):
        firsts, seconds = _words(alphabet, first_size), _words(alphabet, second_size)
        sources = np.repeat(firsts, len(seconds), axis=0)
        summaries = np.tile(seconds, (len(firsts), 1))
        alignment = canonical_alignments(sources, summaries)
        codes = alignment_labels(alignment, source_contiguity)
        lcs = lcs_lengths(sources, summaries)
        totals += [lcs.sum(), *(np.count_nonzero(codes == code) for code in (B_LABEL, I_LABEL, O_LABEL))]
        length_mismatches += int(np.count_nonzero((alignment >= 0).sum(axis=1) != lcs))
        not_adjacent += int(np.count_nonzero((codes[:, 1:] == I_LABEL) & (alignment[:, 1:] != alignment[:, :-1] + 1)))
        pairs += len(sources)
    return Estimate(
        value=float(totals[1]),
        method=f"dynamic programming, batched, over all {pairs} string pairs and the example",
        n=pairs,
        details={
            "example": bio_labels(source, summary, source_contiguity),
            "totals": totals,
            "length_mismatches": length_mismatches,
            "i_not_adjacent_in_source": not_adjacent,
        },
    )


# --- S5: ROUGE ---------------------------------------------------------------------------


def _ngrams(codes: np.ndarray, size: int) -> np.ndarray:
    """The n-grams of a code array, one per row (none when the text is shorter than ``size``)."""
    if len(codes) < size:
        return np.empty((0, size), dtype=codes.dtype)
    return sliding_window_view(codes, size)


def ngram_overlap(candidate: Sequence[object], reference: Sequence[object], size: int) -> tuple[int, int, int]:
    r"""(clipped overlap :math:`\sum_g \min(c_g, r_g)`, #candidate n-grams, #reference n-grams)."""
    cand, ref = (_ngrams(codes, size) for codes in _codes(candidate, reference))
    if not len(cand) or not len(ref):
        return 0, len(cand), len(ref)
    _, inverse = np.unique(np.vstack([cand, ref]), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    classes = int(inverse.max()) + 1
    counts_c = np.bincount(inverse[: len(cand)], minlength=classes)
    counts_r = np.bincount(inverse[len(cand) :], minlength=classes)
    return int(np.minimum(counts_c, counts_r).sum()), len(cand), len(ref)


def f1(overlap: int, candidate_size: int, reference_size: int) -> float:
    """2PR/(P + R) in float64 from P = overlap/candidate_size, R = overlap/reference_size."""
    if candidate_size == 0 or reference_size == 0:
        raise NumericError(f"F1 undefined: empty side (sizes {candidate_size}, {reference_size})")
    precision, recall = overlap / candidate_size, overlap / reference_size
    return 0.0 if overlap == 0 else 2 * precision * recall / (precision + recall)


def rouge(candidate: Sequence[object], reference: Sequence[object]) -> tuple[float, float, float]:
    """ROUGE-1, ROUGE-2 (clipped counts) and ROUGE-L F1."""
    return (
        f1(*ngram_overlap(candidate, reference, 1)),
        f1(*ngram_overlap(candidate, reference, 2)),
        f1(lcs_length(candidate, reference), len(candidate), len(reference)),
    )


def weighted_rouge(candidate: Sequence[object], reference: Sequence[object]) -> Estimate:
    """S5: 0.2 R1 + 0.4 R2 + 0.4 RL in float64; ``details`` the three scores."""
    scores = rouge(candidate, reference)
    return Estimate(
        value=float(np.dot(ROUGE_WEIGHTS, scores)),
        method="float64 ROUGE F1 (n-gram counts by np.unique, LCS by row DP)",
        n=len(candidate) + len(reference),
        details={"rouge_1": scores[0], "rouge_2": scores[1], "rouge_l": scores[2]},
    )


def _variant_unclipped_rouge(candidate: Sequence[object], reference: Sequence[object]) -> Estimate:
    """Known-false estimator: ROUGE-N overlaps counted without clipping (every candidate n-gram found in the reference)."""

    def unclipped(size: int) -> tuple[int, int, int]:
        cand, ref = (_ngrams(codes, size) for codes in _codes(candidate, reference))
        present = {tuple(g) for g in ref}
        return min(sum(tuple(g) in present for g in cand), len(cand)), len(cand), len(ref)

    scores = (f1(*unclipped(1)), f1(*unclipped(2)), f1(lcs_length(candidate, reference), len(candidate), len(reference)))
    return Estimate(
        value=float(np.dot(ROUGE_WEIGHTS, scores)),
        method="float64 ROUGE F1 with unclipped n-gram overlaps",
        n=len(candidate) + len(reference),
        details={"rouge_1": scores[0], "rouge_2": scores[1], "rouge_l": scores[2]},
    )
