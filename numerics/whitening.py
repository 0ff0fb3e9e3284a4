r"""BERT-whitening (kexue.fm post 8069; Su et al. 2021), numerically.

Independent of :mod:`twofold.theorems.whitening`: float64 linear algebra on synthetic
sentence-embedding-like data.  The data form a *cone*, as raw BERT embeddings
do: a large common mean :math:`\mu` (norm ``mean_norm`` times the spread
:math:`\sqrt{\operatorname{tr}\Sigma}`) plus anisotropic noise with a skewed
power-law spectrum :math:`\lambda_i = i^{-\alpha}` in a Haar-random basis, so
raw cosines are all close to 1.

Conventions: :math:`\hat\mu = \frac1N\sum_i x_i`,
:math:`\hat\Sigma = \frac1N\sum_i (x_i-\hat\mu)(x_i-\hat\mu)^\top` (two-pass),
rows are samples, whitened rows are :math:`\tilde x = (x - \hat\mu) W`.

Rounding scale.  Every residual below is a float64 computation of something that
is exactly 0 in exact arithmetic; its error is bounded by
:math:`c\,u\,s` with :math:`u = 2^{-53}` and the *rounding scale*
:math:`s = d\,\kappa + N + \sqrt{d}\,\|x\|_\infty/\sqrt{\lambda_{\min}}` — the
three terms are the eigensolver's backward error amplified by
:math:`\kappa = \lambda_{\max}/\lambda_{\min}`, summation over :math:`N`
samples, and the cancellation in :math:`x - \hat\mu` (large for a cone)
amplified by :math:`\lambda_{\min}^{-1/2}`.  Each estimate reports ``scale``
in its ``details``; the claims set their tolerance from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import linalg

from twofold.contract import Estimate, NumericError

UNIT_ROUNDOFF = 2.0**-53


@dataclass(frozen=True)
class Whitening:
    r"""A whitening map :math:`x \mapsto (x - \mu) W` fitted to data.

    ``covariance`` is :math:`\hat\Sigma`; ``eigenvalues`` are its eigenvalues in
    the order of the columns of ``transform`` before truncation; ``ridge`` is the
    :math:`\varepsilon'` added to every eigenvalue (0 unless regularised).
    """

    mean: np.ndarray
    covariance: np.ndarray
    transform: np.ndarray
    eigenvalues: np.ndarray
    ridge: float

    def apply(self, data: np.ndarray) -> np.ndarray:
        return (data - self.mean) @ self.transform


def power_spectrum(d: int, alpha: float) -> np.ndarray:
    r"""The skewed spectrum :math:`\lambda_i = i^{-\alpha}`, :math:`i = 1..d` (decreasing for :math:`\alpha > 0`)."""
    return np.arange(1, d + 1, dtype=float) ** -alpha


def haar_orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    r"""A Haar-random orthogonal :math:`d \times d` matrix: QR of a Gaussian matrix with the signs of
    :math:`\mathrm{diag}(R)` moved into :math:`Q` (Mezzadri 2007); :math:`O(d^3)` in LAPACK, unlike
    ``scipy.stats.ortho_group``'s Python loop of Householder steps."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def cone_embeddings(
    n: int, d: int, alpha: float, mean_norm: float, seed: int, exact_moments: bool = False
) -> np.ndarray:
    r"""``n`` synthetic embeddings in :math:`\mathbb{R}^d`: :math:`x = \mu + z\,\Lambda^{1/2} Q^\top`.

    :math:`Q` is Haar-random (:func:`haar_orthogonal`), :math:`\Lambda` the
    power spectrum, :math:`\|\mu\| = \texttt{mean\_norm}\sqrt{\operatorname{tr}\Lambda}`
    in a random direction, :math:`z` standard normal.  With ``exact_moments`` the
    rows of :math:`z` are re-centred and orthonormalised (QR) so that the
    *sample* mean is :math:`\mu` and the sample covariance is exactly
    :math:`Q\Lambda Q^\top` up to rounding (needs :math:`n > d`).
    """
    if exact_moments and n <= d:
        raise NumericError(f"exact sample moments need N > d centred directions, got N = {n}, d = {d}")
    rng = np.random.default_rng(seed)
    spectrum = power_spectrum(d, alpha)
    basis = haar_orthogonal(d, rng)
    direction = rng.standard_normal(d)
    mean = mean_norm * np.sqrt(spectrum.sum()) * direction / np.linalg.norm(direction)
    noise = rng.standard_normal((n, d))
    if exact_moments:
        orthonormal, _ = np.linalg.qr(noise - noise.mean(axis=0))
        noise = np.sqrt(n) * orthonormal
    return mean + (noise * np.sqrt(spectrum)) @ basis.T


_CACHE: dict[tuple, object] = {}


def _cached(key: tuple, make):
    """One-entry memo shared by the claims of a run: at d = 768, N = 20000 the data and their moments cost
    ~5 s on a loaded machine, and every claim of the family draws the same cone for the same seed."""
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = make()
    return _CACHE[key]


def fitted_cone(n: int, d: int, alpha: float, mean_norm: float, seed: int) -> tuple[np.ndarray, Whitening]:
    """:func:`cone_embeddings` and their :func:`whitening`, memoised (read-only arrays: callers copy to change)."""

    def make() -> tuple[np.ndarray, Whitening]:
        data = cone_embeddings(n, d, alpha, mean_norm, seed)
        data.setflags(write=False)
        return data, whitening(data)

    return _cached(("cone", n, d, alpha, mean_norm, seed), make)


def moments(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""One-pass-over-memory, two-pass-in-arithmetic :math:`(\hat\mu, \hat\Sigma)` with the :math:`1/N` normaliser."""
    mean = data.mean(axis=0)
    centred = data - mean
    return mean, centred.T @ centred / data.shape[0]


def whitening(data: np.ndarray, k: int | None = None, eps: float = 0.0, descending: bool = True) -> Whitening:
    r"""W1/W3/W5: :math:`W = U_k(\Lambda_k + \varepsilon' I)^{-1/2}` from :math:`\hat\Sigma = U\Lambda U^\top`.

    ``k`` keeps the first ``k`` columns (all by default) of the eigenbasis in
    decreasing (``descending``) or ``numpy.linalg.eigh``'s increasing order.
    ``eps`` > 0 is the documented regularised path: the ridge
    :math:`\varepsilon' = \varepsilon\,\operatorname{tr}\hat\Sigma/d` is added to
    every kept eigenvalue and reported as ``ridge``.  With ``eps = 0`` a kept
    eigenvalue at or below the numerical-rank tolerance
    :math:`d\,u\,\lambda_{\max}` (numpy's ``matrix_rank`` rule) raises
    :class:`NumericError` naming the cause — never an inf or NaN.
    """
    n, d = data.shape
    mean, covariance = moments(data)
    eigenvalues, vectors = np.linalg.eigh(covariance)
    if descending:
        eigenvalues, vectors = eigenvalues[::-1], vectors[:, ::-1]
    kept = slice(0, d if k is None else k)
    ridge = eps * float(np.trace(covariance)) / d
    if eps == 0:
        _require_positive(eigenvalues, eigenvalues[kept], n, d)
    transform = vectors[:, kept] / np.sqrt(eigenvalues[kept] + ridge)
    return Whitening(mean=mean, covariance=covariance, transform=transform, eigenvalues=eigenvalues, ridge=ridge)


def rank_tolerance(eigenvalues: np.ndarray) -> float:
    r"""Eigenvalues of a covariance at or below :math:`d\,u\,\lambda_{\max}` are indistinguishable from 0:
    that is the absolute error of a backward-stable symmetric eigensolver."""
    return eigenvalues.size * UNIT_ROUNDOFF * max(float(eigenvalues.max()), 0.0)


def covariance_rank(eigenvalues: np.ndarray) -> int:
    """The numerical rank of a covariance from its eigenvalues (those above :func:`rank_tolerance`)."""
    return int(np.sum(eigenvalues > rank_tolerance(eigenvalues)))


def _require_positive(eigenvalues: np.ndarray, kept: np.ndarray, n: int, d: int) -> None:
    if kept.min() > rank_tolerance(eigenvalues):
        return
    rank = covariance_rank(eigenvalues)
    cause = (
        f"N = {n} samples ≤ d = {d} dimensions, so rank ≤ N − 1 = {n - 1}"
        if n <= d
        else "the centred data are linearly dependent (repeated or collinear points)"
    )
    raise NumericError(
        f"sample covariance is singular: numerical rank {rank} < {kept.size} kept components ({cause}); "
        f"Λ^-½ would be inf/NaN. Pass eps > 0 for the ridge Σ + eps·tr(Σ)/d·I, "
        f"or keep k ≤ {rank} components"
    )


SQRTM_LIMIT = 256  # scipy.linalg.sqrtm (Schur, blocked) takes ~30 s at d = 768 on a loaded 2-core machine


def zca(covariance: np.ndarray) -> np.ndarray:
    r"""W2: the ZCA (Mahalanobis) map :math:`\Sigma^{-1/2}`, independently of the eigensolver of :func:`whitening`
    (LAPACK ``syevd`` through numpy): ``scipy.linalg.sqrtm`` and inversion up to d = ``SQRTM_LIMIT``, beyond it
    :math:`V\Lambda^{-1/2}V^\top` from ``scipy.linalg.eigh(driver="evr")`` (MRRR, another algorithm)."""
    if covariance.shape[0] <= SQRTM_LIMIT:
        return np.real(linalg.inv(linalg.sqrtm(covariance)))
    values, vectors = linalg.eigh(covariance, driver="evr")
    return (vectors / np.sqrt(values)) @ vectors.T


def cholesky_whitening(covariance: np.ndarray) -> np.ndarray:
    r"""W2: another member of the class, :math:`W = L^{-\top}` with :math:`\Sigma = LL^\top`."""
    lower = linalg.cholesky(covariance, lower=True)
    return linalg.solve_triangular(lower, np.eye(lower.shape[0]), lower=True).T


def rotated(transform: np.ndarray, shear: float, seed: int) -> np.ndarray:
    r"""W2: :math:`W R S` with :math:`R` Haar-random orthogonal and :math:`S = I + \texttt{shear}\,e_1e_2^\top`
    (:math:`S = I`, so :math:`RS` orthogonal, exactly when ``shear`` = 0)."""
    d = transform.shape[1]
    rotation = haar_orthogonal(d, np.random.default_rng(seed))
    shearing = np.eye(d)
    shearing[0, 1] = shear
    return transform @ rotation @ shearing


def cosines(vectors: np.ndarray) -> np.ndarray:
    """Matrix of cosine similarities between the rows."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit @ unit.T


def mahalanobis_cosines(covariance: np.ndarray, centred: np.ndarray) -> np.ndarray:
    r"""W2: :math:`\langle a, b\rangle_{\Sigma^{-1}}/(\|a\|_{\Sigma^{-1}}\|b\|_{\Sigma^{-1}})` for the rows of
    ``centred``, with :math:`\Sigma^{-1}` applied by Cholesky solves (no whitening map at all)."""
    gram = centred @ linalg.cho_solve(linalg.cho_factor(covariance), centred.T)
    norms = np.sqrt(np.diag(gram))
    return gram / np.outer(norms, norms)


def mean_pair_cosine(vectors: np.ndarray) -> float:
    """Anisotropy: the mean cosine over all distinct pairs of rows."""
    matrix = cosines(vectors)
    m = matrix.shape[0]
    return float((matrix.sum() - np.trace(matrix)) / (m * (m - 1)))


def rounding_scale(data: np.ndarray, eigenvalues: np.ndarray) -> float:
    r"""The module's rounding scale :math:`d\kappa + N + \sqrt d\,\|x\|_\infty/\sqrt{\lambda_{\min}}`."""
    n, d = data.shape
    low, high = float(eigenvalues.min()), float(eigenvalues.max())
    return d * high / low + n + math.sqrt(d) * float(np.abs(data).max()) / math.sqrt(low)


def _max_abs(matrix: np.ndarray) -> float:
    return float(np.abs(matrix).max())


def rounding_units(residual: float, scale: float) -> float:
    r"""A residual in units of the rounding bound :math:`u\,s` of the module docstring (at most 1 when correct)."""
    return residual / (UNIT_ROUNDOFF * scale)


def _whitening_estimate(data: np.ndarray, fitted: Whitening, n: int, seed: int, method: str) -> Estimate:
    whitened = fitted.apply(data)
    d = fitted.transform.shape[1]
    residuals = {
        "mean": _max_abs(whitened.mean(axis=0)),
        "covariance": _max_abs(whitened.T @ whitened / n - np.eye(d)),
        "sandwich": _max_abs(fitted.transform.T @ fitted.covariance @ fitted.transform - np.eye(d)),
    }
    scale = rounding_scale(data, fitted.eigenvalues)
    sample = whitened[: min(n, 512)]
    return Estimate(
        value=rounding_units(max(residuals.values()), scale),
        method=method,
        n=n,
        seed=seed,
        details={
            **{f"residual_{name}": value for name, value in residuals.items()},
            "condition_number": float(fitted.eigenvalues.max() / fitted.eigenvalues.min()),
            "scale": scale,
            "tolerance": UNIT_ROUNDOFF * scale,
            "mean_cosine_raw": mean_pair_cosine(data[: min(n, 512)]),
            "mean_cosine_whitened": mean_pair_cosine(sample),
        },
    )


WHITENS_METHOD = (
    r"float64: eigh of the two-pass covariance; largest residual of the mean, $\mathrm{Cov}(\tilde x) - I$ and "
    r"$W^\top\Sigma W - I$ in units of $u\,s$"
)


def whitening_residual(n: int, d: int, alpha: float, mean_norm: float, seed: int) -> Estimate:
    r"""W1: :math:`\max(\|\overline{\tilde x}\|_\infty, \|\widehat{\mathrm{Cov}}(\tilde x) - I\|_\infty,
    \|W^\top\hat\Sigma W - I\|_\infty)` for :math:`W = U\Lambda^{-1/2}` on cone embeddings, in units of
    :math:`u\,s` (``value``; the raw residuals in ``details``).

    Raises :class:`NumericError` when :math:`\hat\Sigma` is singular (W5).
    """
    data, fitted = fitted_cone(n, d, alpha, mean_norm, seed)
    return _whitening_estimate(data, fitted, n, seed, WHITENS_METHOD)


def _variant_inverse_not_root(n: int, d: int, alpha: float, mean_norm: float, seed: int) -> Estimate:
    r"""Known-false estimator: :math:`W = U\Lambda^{-1}` (the inverse instead of the inverse square root)."""
    data, fitted = fitted_cone(n, d, alpha, mean_norm, seed)
    wrong = replace(fitted, transform=fitted.transform / np.sqrt(fitted.eigenvalues))
    return _whitening_estimate(data, wrong, n, seed, WHITENS_METHOD)


def _variant_unbiased_covariance(n: int, d: int, alpha: float, mean_norm: float, seed: int) -> Estimate:
    r"""Known-false estimator: :math:`W` fitted to the :math:`1/(N-1)` covariance, the whitened covariance
    measured with :math:`1/N` (two normalisers mixed)."""
    data, fitted = fitted_cone(n, d, alpha, mean_norm, seed)
    values, vectors = np.linalg.eigh(fitted.covariance * n / (n - 1))
    values, vectors = values[::-1], vectors[:, ::-1]
    wrong = replace(fitted, transform=vectors / np.sqrt(values), covariance=fitted.covariance * n / (n - 1))
    estimate = _whitening_estimate(data, wrong, n, seed, WHITENS_METHOD)
    return estimate


def _variant_transposed_eigenvectors(n: int, d: int, alpha: float, mean_norm: float, seed: int) -> Estimate:
    r"""Known-false estimator: :math:`W = U^\top\Lambda^{-1/2}` (eigenvectors read as rows)."""
    data, fitted = fitted_cone(n, d, alpha, mean_norm, seed)
    vectors = fitted.transform * np.sqrt(fitted.eigenvalues)
    wrong = replace(fitted, transform=vectors.T / np.sqrt(fitted.eigenvalues))
    return _whitening_estimate(data, wrong, n, seed, WHITENS_METHOD)


def class_members(fitted: Whitening, shear: float, seed: int, zca_map=None) -> dict[str, np.ndarray]:
    """Three maps besides ``fitted`` (PCA whitening) that whiten exactly when ``shear`` = 0."""
    return {
        "zca": (zca_map or zca)(fitted.covariance),
        "cholesky": cholesky_whitening(fitted.covariance),
        "haar": rotated(fitted.transform, shear, seed + 1),
    }


def class_residuals(
    data: np.ndarray, shear: float, seed: int, fitted: Whitening | None = None, zca_map=None
) -> tuple[Whitening, dict[str, float]]:
    r"""W2 (class) on any data: :math:`\|R^\top R - I\|_\infty`, :math:`R = W^{-1}W'` (``numpy.linalg.solve``),
    for :math:`W` = PCA whitening and each :func:`class_members` map :math:`W'`."""
    fitted = fitted or whitening(data)
    identity = np.eye(data.shape[1])
    relating = {
        name: np.linalg.solve(fitted.transform, other)
        for name, other in class_members(fitted, shear, seed, zca_map).items()
    }
    return fitted, {name: _max_abs(r.T @ r - identity) for name, r in relating.items()}


def cosine_spreads(
    data: np.ndarray, shear: float, points: int, seed: int, fitted: Whitening | None = None, reference_map=None
) -> tuple[Whitening, dict[str, float]]:
    r"""W2 (cosine) on any data: :math:`\max|\cos_W - \cos_{\Sigma^{-1}}|` over the first ``points`` rows, for
    PCA whitening and each :func:`class_members` map; the reference uses Cholesky solves only."""
    fitted = fitted or whitening(data)
    chosen = data[:points] - fitted.mean
    reference = (reference_map or mahalanobis_cosines)(fitted.covariance, chosen)
    maps = {"pca": fitted.transform, **class_members(fitted, shear, seed)}
    return fitted, {name: _max_abs(cosines(chosen @ transform) - reference) for name, transform in maps.items()}


def class_residual(
    n: int, d: int, alpha: float, mean_norm: float, shear: float, seed: int, zca_map=None
) -> Estimate:
    r"""W2 (class): :func:`class_residuals` on cone embeddings; ``value`` is the largest, in units of :math:`u\,s`."""
    data, fitted = fitted_cone(n, d, alpha, mean_norm, seed)
    _, residuals = class_residuals(data, shear, seed, fitted, zca_map)
    scale = rounding_scale(data, fitted.eigenvalues)
    return Estimate(
        value=rounding_units(max(residuals.values()), scale),
        method=r"float64: $R = W^{-1}W'$ for ZCA, Cholesky and $W R S$; largest entry of $R^\top R - I$ in units of $u\,s$",
        n=n,
        seed=seed,
        details={
            **{f"residual_{name}": value for name, value in residuals.items()},
            "scale": scale,
            "tolerance": UNIT_ROUNDOFF * scale,
        },
    )


def _variant_zca_not_inverted(covariance: np.ndarray) -> np.ndarray:
    r"""Known-false ZCA: :math:`\Sigma^{1/2} = U\Lambda^{1/2}U^\top` (the square root, not its inverse)."""
    values, vectors = np.linalg.eigh(covariance)
    return (vectors * np.sqrt(values)) @ vectors.T


def _variant_sigma_cosines(covariance: np.ndarray, centred: np.ndarray) -> np.ndarray:
    r"""Known-false reference: the :math:`\Sigma`-cosine instead of the :math:`\Sigma^{-1}`-cosine."""
    gram = centred @ covariance @ centred.T
    norms = np.sqrt(np.diag(gram))
    return gram / np.outer(norms, norms)


def cosine_spread(
    n: int, d: int, alpha: float, mean_norm: float, shear: float, points: int, seed: int, reference_map=None
) -> Estimate:
    r"""W2 (cosine): :func:`cosine_spreads` on cone embeddings; ``value`` is the largest, in units of :math:`u\,s`."""
    data, fitted = fitted_cone(n, d, alpha, mean_norm, seed)
    _, spreads = cosine_spreads(data, shear, points, seed, fitted, reference_map)
    chosen = data[:points]
    scale = rounding_scale(data, fitted.eigenvalues)
    return Estimate(
        value=rounding_units(max(spreads.values()), scale),
        method=(
            rf"float64: largest $|\cos_W - \cos_{{\Sigma^{{-1}}}}|$ over {len(chosen)} $\times$ {len(chosen)} pairs, "
            r"$W$ in PCA, ZCA, Cholesky, $W R S$, in units of $u\,s$"
        ),
        n=len(chosen),
        seed=seed,
        details={
            **{f"spread_{name}": value for name, value in spreads.items()},
            "scale": scale,
            "tolerance": UNIT_ROUNDOFF * scale,
            "mean_cosine_raw": mean_pair_cosine(chosen),
            "mean_cosine_whitened": mean_pair_cosine(fitted.apply(chosen)),
        },
    )


def _sign_aligned(columns: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Flip each column of ``columns`` to agree in sign with the same column of ``reference``
    (eigenvectors and singular vectors are defined up to sign)."""
    return columns * np.where(np.sum(columns * reference, axis=0) < 0, -1.0, 1.0)


def truncation_vs_pca(n: int, d: int, k: int, alpha: float, mean_norm: float, descending: bool, seed: int) -> Estimate:
    r"""W3: the first ``k`` columns of :math:`W` against PCA-then-scaling, on cone embeddings whose sample
    covariance has exactly the spectrum :math:`i^{-\alpha}`.

    PCA here is independent of the eigensolver: ``numpy.linalg.svd`` of the centred data
    :math:`X_c = P S V^\top`, scores :math:`X_c V_k`, scaled by :math:`\sqrt N / s_i`.
    ``value``: the fraction of the total variance carried by the kept directions,
    :math:`\|X_c U_k\|_F^2 / \|X_c\|_F^2`; ``details``: the largest entrywise difference
    between :math:`(x-\mu)W_{:,1:k}` and the scaled PCA scores (signs aligned), and
    :math:`\|\widehat{\mathrm{Cov}}(\tilde x_k) - I_k\|_\infty`.
    """
    data = cone_embeddings(n, d, alpha, mean_norm, seed, exact_moments=True)
    fitted = whitening(data, k=k, descending=descending)
    whitened = fitted.apply(data)
    centred = data - fitted.mean
    _, singular, right = np.linalg.svd(centred, full_matrices=False)
    pca = centred @ right[:k].T / (singular[:k] / np.sqrt(n))
    directions = fitted.transform / np.linalg.norm(fitted.transform, axis=0)
    kept = k if k <= d else d
    scale = rounding_scale(data, fitted.eigenvalues)
    return Estimate(
        value=float(np.sum((centred @ directions) ** 2) / np.sum(centred**2)),
        method="float64: variance fraction of the kept eigh directions; SVD-based PCA for the identity",
        n=n,
        seed=seed,
        details={
            "residual_pca": _max_abs(_sign_aligned(whitened, pca) - pca),
            "residual_pca_units": rounding_units(_max_abs(_sign_aligned(whitened, pca) - pca), scale),
            "residual_covariance": _max_abs(whitened.T @ whitened / n - np.eye(kept)),
            "pca_fraction": float(np.sum(singular[:k] ** 2) / np.sum(singular**2)),
            "scale": scale,
        },
    )


def batch_bounds(n: int, batches: int, seed: int) -> np.ndarray:
    """Random, unequal, non-empty batch boundaries ``0 = b_0 < b_1 < ... < b_B = n``."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, n), size=batches - 1, replace=False))
    return np.concatenate(([0], cuts, [n]))


@dataclass(frozen=True)
class Moments:
    r"""Streaming state: count :math:`n`, mean :math:`\mu`, scatter :math:`M_2 = \sum (x-\mu)(x-\mu)^\top`."""

    count: int
    mean: np.ndarray
    scatter: np.ndarray

    @classmethod
    def of(cls, batch: np.ndarray) -> Moments:
        mean = batch.mean(axis=0)
        centred = batch - mean
        return cls(batch.shape[0], mean, centred.T @ centred)

    def merge(self, other: Moments, between: bool = True, coefficient=None) -> Moments:
        r"""Chan, Golub & LeVeque (1979): :math:`\delta = \mu_b - \mu_a`, :math:`\mu = \mu_a + \delta n_b/n`,
        :math:`M_2 = M_{2,a} + M_{2,b} + \delta\delta^\top n_a n_b / n` (the last term only if ``between``;
        ``coefficient(n_a, n_b)`` replaces :math:`n_a n_b/n`, for known-false variants)."""
        count = self.count + other.count
        delta = other.mean - self.mean
        scatter = self.scatter + other.scatter
        if between:
            weight = coefficient(self.count, other.count) if coefficient else self.count * other.count / count
            scatter = scatter + np.outer(delta, delta) * weight
        return Moments(count, self.mean + delta * (other.count / count), scatter)


def streaming_moments(data: np.ndarray, bounds: np.ndarray, between: bool = True, coefficient=None) -> Moments:
    """Fold :meth:`Moments.merge` over the batches ``data[b_i:b_{i+1}]`` (vectorised within a batch)."""
    state = Moments.of(data[bounds[0] : bounds[1]])
    for start, stop in zip(bounds[1:-1], bounds[2:]):
        state = state.merge(Moments.of(data[start:stop]), between, coefficient)
    return state


NAIVE_LIMIT = 5000  # the one-pass contrast costs another N d^2 product; reported up to this N only


def streaming_scale(n: int, d: int, batches: int) -> float:
    r"""Rounding scale of W4's relative residuals: summing :math:`N` samples (:math:`N u`), :math:`B` merges
    (:math:`B u`) and :math:`d`-term updates; no condition number enters (nothing is inverted)."""
    return float(n + batches + d)


def streaming_residual(
    n: int, d: int, batches: int, alpha: float, mean_norm: float, between: bool, seed: int, coefficient=None
) -> Estimate:
    r"""W4: streaming (Chan merges over ``batches`` random unequal batches) against the one-pass moments.

    ``value``: :math:`\max(\|\mu_s - \hat\mu\|_\infty/\|x\|_\infty, \|\Sigma_s - \hat\Sigma\|_\infty/\|\hat\Sigma\|_\infty)`
    in units of :math:`u\,(N + B + d)` (:func:`streaming_scale`).
    ``details`` also reports the same residual of the textbook one-pass formula
    :math:`\frac1N\sum xx^\top - \hat\mu\hat\mu^\top`, which cancels catastrophically
    on a cone (large mean), for contrast (up to ``NAIVE_LIMIT`` samples).
    """
    data, fitted = fitted_cone(n, d, alpha, mean_norm, seed) if n > d else (cone_embeddings(n, d, alpha, mean_norm, seed), None)
    mean, covariance = (fitted.mean, fitted.covariance) if fitted is not None else moments(data)
    streamed = streaming_moments(data, batch_bounds(n, batches, seed + 1), between, coefficient)
    scale_x, scale_sigma = _max_abs(data), _max_abs(covariance)
    residuals = {
        "mean": _max_abs(streamed.mean - mean) / scale_x,
        "covariance": _max_abs(streamed.scatter / n - covariance) / scale_sigma,
    }
    naive = _max_abs(data.T @ data / n - np.outer(mean, mean) - covariance) / scale_sigma if n <= NAIVE_LIMIT else math.nan
    scale = streaming_scale(n, d, batches)
    return Estimate(
        value=rounding_units(max(residuals.values()), scale),
        method=rf"float64: Chan merges over {batches} batches vs two-pass moments, relative residual in units of $u(N + B + d)$",
        n=n,
        seed=seed,
        details={
            **{f"residual_{name}": value for name, value in residuals.items()},
            "residual_naive_sum_of_squares": naive,
            "scale": scale,
            "tolerance": UNIT_ROUNDOFF * scale,
        },
    )


def rank_deficiency(n: int, d: int, repeats: int, eps: float, alpha: float, mean_norm: float, seed: int) -> Estimate:
    r"""W5: what whitening does with :math:`N \le d` (or repeated points).

    ``value``: the numerical rank deficiency :math:`d - \operatorname{rank}(X_c)`
    (``numpy.linalg.matrix_rank``, SVD with numpy's default tolerance).  ``details``:
    the :class:`NumericError` message of strict whitening (``strict_error``, empty
    if it did not raise); what the unchecked formula :math:`U\Lambda^{-1/2}` would
    have produced (``unchecked_nonfinite`` entries, ``unchecked_max_abs``); and for
    ``eps`` > 0 the regularised path: its ``ridge``, whether every whitened entry is
    finite, and ``suppressed`` — how many eigenvalues :math:`\lambda/(\lambda+\varepsilon')`
    of the whitened covariance are below 1/2 (the null directions it switches off).
    The last ``repeats`` rows are copies of the first.
    """
    data = cone_embeddings(n, d, alpha, mean_norm, seed).copy()
    data[n - repeats :] = data[0]
    _, covariance = moments(data)
    eigenvalues, vectors = np.linalg.eigh(covariance)
    with np.errstate(divide="ignore", invalid="ignore"):
        unchecked = vectors / np.sqrt(eigenvalues)
    details: dict[str, object] = {
        "strict_error": _strict_error(data),
        "unchecked_nonfinite": int(np.sum(~np.isfinite(unchecked))),
        "unchecked_max_abs": float(np.nanmax(np.abs(unchecked[np.isfinite(unchecked)]))),
        "eps": eps,
    }
    if eps > 0:
        fitted = whitening(data, eps=eps)
        whitened = fitted.apply(data)
        details["ridge"] = fitted.ridge
        details["regularised_finite"] = bool(np.all(np.isfinite(whitened)))
        details["suppressed"] = int(np.sum(np.linalg.eigvalsh(whitened.T @ whitened / n) < 0.5))
    rank = int(np.linalg.matrix_rank(data - data.mean(axis=0)))
    return Estimate(
        value=float(d - rank),
        method="float64: numpy.linalg.matrix_rank of the centred data; strict and regularised whitening",
        n=n,
        seed=seed,
        details=details,
    )


def _strict_error(data: np.ndarray) -> str:
    """The message strict whitening raises on ``data``, or '' when it whitens."""
    try:
        whitening(data)
    except NumericError as error:
        return str(error)
    return ""
