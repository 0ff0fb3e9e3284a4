r"""FAVOR+ random features and linear attention, numerically (kexue.fm post 7921; Choromanski et al. 2020).

Independent of :mod:`twofold.theorems.favor`: random frequencies are drawn with
``numpy.random.default_rng(seed)``, feature maps are evaluated in float64, and
expectations are Monte Carlo means with standard errors (``std / sqrt(n)``
over independent replicates).  Where Monte Carlo cannot be trusted (squared
log-normal variables with large variance) one-dimensional Gaussian integrals
are computed by Gauss–Hermite quadrature instead.

Feature maps (rows of ``points`` are vectors, ``omega`` holds ``m`` frequencies):

* positive :math:`\varphi(x) = e^{\omega x - |x|^2/2}/\sqrt m`;
* hyperbolic :math:`\varphi(x) = e^{-|x|^2/2}(e^{\omega x}, e^{-\omega x})/\sqrt{2m}`;
* trigonometric :math:`\varphi(x) = e^{|x|^2/2}(\cos\omega x, \sin\omega x)/\sqrt m`;

so that :math:`\varphi(x)\cdot\varphi(y)` estimates :math:`\mathrm{SM}(x, y) = e^{x\cdot y}`.
Orthogonal frequencies: columns of a Haar matrix from ``numpy.linalg.qr`` *with the
sign fix* :math:`Q\,\operatorname{diag}(\operatorname{sign} R_{ii})` (Mezzadri 2007), times independent
:math:`\chi_d` norms; without the fix numpy's Householder QR returns
:math:`Q_{11} = -|A_{11}|/\|A_{:,1}\| < 0` always, which biases the estimator.  At large norms the orthogonal
mean is importance-sampled through the sampler itself (one frequency tilted, its block completed by a reflection)
and the orthogonal MSE is a quadrature over the laws of one and of two Haar directions, the sampler's law checked
by Monte Carlo moments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
from scipy import optimize, special

from twofold.contract import Estimate, NumericError

KINDS = ("positive", "hyperbolic", "trigonometric")
# An estimate and e^{x.y} are computed with relative error below ~50u (exp of a d-term dot product, sum of
# m terms); 1024u * exp((|x|^2+|y|^2)/2) bounds that rounding, and its square is added to the s.e. of an
# MSE so degenerate points (x = y for trigonometric, x = -y for positive features: MSE exactly 0) are
# not judged on rounding noise.  It is ~1e-25, far below any statistical s.e. here.
ROUNDING_FLOOR = 1024 * 2.0**-53
HERMITE_NODES = 160  # Gauss–Hermite nodes; the error estimate compares with half as many
# Monte Carlo runs in chunks of at most this many samples (replicates x frequencies): the frequencies of one
# chunk take CHUNK * d floats (2 MiB at d = 4), whatever the total number of samples.
CHUNK = 2**16


def pair(norm_x: float, norm_y: float, angle_degrees: float, dim: int) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`x = a e_1`, :math:`y = b(\cos\theta e_1 + \sin\theta e_2)` in :math:`R^d`."""
    angle = np.deg2rad(angle_degrees)
    x, y = np.zeros(dim), np.zeros(dim)
    x[0] = norm_x
    y[:2] = norm_y * np.cos(angle), norm_y * np.sin(angle)
    return x, y


def gaussian_frequencies(rng: np.random.Generator, replicates: int, features: int, dim: int) -> np.ndarray:
    """``replicates`` independent sets of ``features`` iid :math:`N(0, I_d)` frequencies: shape (n, m, d)."""
    return rng.standard_normal((replicates, features, dim))


def haar_blocks(rng: np.random.Generator, count: tuple[int, ...], dim: int, sign_fix: bool = True) -> np.ndarray:
    r"""Orthogonal :math:`d\times d` matrices from the QR decomposition of Gaussian matrices.

    With ``sign_fix`` the columns are multiplied by :math:`\operatorname{sign} R_{ii}`, which makes
    :math:`Q` Haar-distributed; without it, numpy's convention leaves :math:`Q_{11} < 0`.
    """
    q, r = np.linalg.qr(rng.standard_normal((*count, dim, dim)))
    if sign_fix:
        q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    return q


def orthogonal_frequencies(
    rng: np.random.Generator, replicates: int, features: int, dim: int, sign_fix: bool = True
) -> np.ndarray:
    r"""Orthogonal frequencies: columns of Haar blocks times independent :math:`\chi_d` norms, shape (n, m, d).

    ``features > dim`` stacks :math:`\lceil m/d \rceil` independent blocks (the Performer's practice);
    only frequencies within one block are orthogonal.
    """
    blocks = -(-features // dim)
    q = haar_blocks(rng, (replicates, blocks), dim, sign_fix)
    directions = np.swapaxes(q, -1, -2).reshape(replicates, blocks * dim, dim)[:, :features]
    norms = np.sqrt(rng.chisquare(dim, size=(replicates, features)))
    return directions * norms[..., None]


def feature_map(kind: str, points: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """Features of the rows of ``points`` (L, d) for every replicate of ``omega`` (n, m, d): (n, L, m or 2m)."""
    projections = points @ np.swapaxes(omega, -1, -2)
    half_sq = 0.5 * np.sum(points**2, axis=-1)[:, None]
    root = omega.shape[-2] ** 0.5  # a Python float keeps float32 inputs in float32
    if kind == "positive":
        return np.exp(projections - half_sq) / root
    if kind == "hyperbolic":
        return np.concatenate([np.exp(projections - half_sq), np.exp(-projections - half_sq)], axis=-1) / (
            root * 2**0.5
        )
    if kind == "trigonometric":
        return np.exp(half_sq) * np.concatenate([np.cos(projections), np.sin(projections)], axis=-1) / root
    raise NumericError(f"unknown feature kind '{kind}' (choose from {', '.join(KINDS)})")


def kernel_estimates(kind: str, x: np.ndarray, y: np.ndarray, omega: np.ndarray) -> np.ndarray:
    r"""One estimate :math:`\varphi(x)\cdot\varphi(y)` of :math:`e^{x\cdot y}` per replicate of ``omega`` (n, m, d).

    The dot product of the two feature vectors is summed frequency by frequency, each term the
    one-frequency estimator :func:`single_feature` of :math:`s = \omega\cdot u`: the entries of
    :math:`\varphi(x)` and :math:`\varphi(y)` multiply as :math:`e^{\omega x}e^{\omega y} = e^{\omega(x+y)}`
    and :math:`\cos\omega x\cos\omega y + \sin\omega x\sin\omega y = \cos\omega(x-y)`, so one projection
    and one exponential (or cosine) per sample suffice.
    """
    if kind not in KINDS:
        raise NumericError(f"unknown feature kind '{kind}' (choose from {', '.join(KINDS)})")
    u = x - y if kind == "trigonometric" else x + y
    projections = (omega.reshape(-1, omega.shape[-1]) @ u).reshape(omega.shape[:-1])
    return np.mean(single_feature(kind, x @ x + y @ y, projections), axis=-1)


@dataclass(frozen=True)
class Moments:
    r"""Count, mean and sum of squared deviations :math:`M_2` of a stream of replicates.

    ``a + b`` pools two streams (Chan, Golub and LeVeque 1979):
    :math:`\delta = \bar b - \bar a`, :math:`M_2 = M_{2,a} + M_{2,b} + \delta^2 n_a n_b/(n_a + n_b)`.
    """

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    @classmethod
    def of(cls, samples: np.ndarray) -> Moments:
        mean = float(np.mean(samples)) if samples.size else 0.0
        return cls(int(samples.size), mean, float(np.sum((samples - mean) ** 2)))

    def __add__(self, other: Moments) -> Moments:
        count = self.count + other.count
        if not count:
            return self
        delta = other.mean - self.mean
        return Moments(
            count,
            self.mean + delta * other.count / count,
            self.m2 + other.m2 + delta**2 * self.count * other.count / count,
        )

    @property
    def stderr(self) -> float:
        """``std(ddof=1) / sqrt(n)`` (nan for fewer than two samples)."""
        return float(np.sqrt(self.m2 / (self.count - 1) / self.count)) if self.count > 1 else float("nan")


BATCHES = 32
"""Batch means: the replicates are cut into this many contiguous batches, and the standard error is measured a
second time from the spread of the batch means (``Estimate.replicate_stderr``; checked by a chi-square test
with ``BATCHES - 1`` degrees of freedom in :func:`twofold.crosscheck.z_score`)."""


class BatchStream:
    r"""Streaming :class:`Moments` of replicates plus the sums of ``batches`` contiguous batches of
    ``total // batches`` replicates each (the remainder joins the moments, not the batches): the mean, its
    standard error, and the batch-means standard error in :math:`O(B)` memory, chunk after chunk."""

    def __init__(self, total: int, batches: int = BATCHES) -> None:
        self.per_batch = total // batches
        self.batches = batches
        self.moments = Moments()
        self.sums = np.zeros(batches)
        self.seen = 0

    @classmethod
    def of(cls, samples: np.ndarray, batches: int = BATCHES) -> BatchStream:
        stream = cls(len(samples), batches)
        stream.add(samples)
        return stream

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=float).ravel()
        self.moments += Moments.of(values)
        if self.per_batch:
            index = (self.seen + np.arange(values.size)) // self.per_batch
            keep = index < self.batches
            self.sums += np.bincount(index[keep], weights=values[keep], minlength=self.batches)[: self.batches]
        self.seen += values.size

    @property
    def batch_means(self) -> np.ndarray:
        return self.sums / self.per_batch

    @property
    def batch_stderr(self) -> float:
        """:math:`s_B/\\sqrt B` of the batch means (needs at least two replicates per batch)."""
        if self.per_batch < 2:
            raise NumericError(f"batch means need at least {2 * self.batches} replicates, got {self.seen}")
        return float(np.std(self.batch_means, ddof=1) / np.sqrt(self.batches))


def batch_stderr(samples: np.ndarray, batches: int = BATCHES) -> float:
    r"""Standard error of the mean of ``samples`` (first axis) from ``batches`` contiguous batch means:
    :math:`s_B/\sqrt B`, :math:`s_B` the sample standard deviation of the batch means (a trailing
    remainder of fewer than ``batches`` samples is dropped).  Entrywise for a multi-dimensional array."""
    samples = np.asarray(samples, dtype=float)
    size = samples.shape[0] // batches * batches
    if size < 2 * batches:
        raise NumericError(f"batch means need at least {2 * batches} replicates, got {samples.shape[0]}")
    means = samples[:size].reshape(batches, size // batches, *samples.shape[1:]).mean(axis=1)
    return np.std(means, axis=0, ddof=1) / np.sqrt(batches)


def mean_estimate(
    samples: np.ndarray | Moments | BatchStream, method: str, seed: int | None, floor: float = 0.0, **details
) -> Estimate:
    r"""Sample mean with standard error ``std(ddof=1)/sqrt(n)`` of independent replicates.

    For an array or a :class:`BatchStream` of at least ``2 * BATCHES`` replicates the standard error is also
    measured from batch means (``replicate_stderr``, ``replicates = BATCHES``).  ``floor`` is the float64
    resolution of the estimate (rounding that averaging does not remove); it is added in quadrature to both
    standard errors, so an estimator that is exact up to rounding (zero variance) is judged at that resolution.
    """
    if isinstance(samples, np.ndarray):
        samples = BatchStream.of(samples)
    moments = samples.moments if isinstance(samples, BatchStream) else samples
    if moments.count < 2 or not np.isfinite(moments.mean + moments.m2):
        raise NumericError(f"{method}: need at least two finite replicates")
    replicate, batches = None, 0
    if isinstance(samples, BatchStream) and samples.per_batch >= 2:
        replicate, batches = float(np.hypot(samples.batch_stderr, floor)), samples.batches
    return Estimate(
        value=moments.mean,
        method=method,
        n=moments.count,
        seed=seed,
        stderr=float(np.hypot(moments.stderr, floor)),
        details=details,
        replicate_stderr=replicate,
        replicates=batches,
    )


def replicate_chunks(replicates: int, features: int, chunk: int) -> Iterator[int]:
    """Replicates per chunk, in order: at most ``max(1, chunk // features)`` each, ``replicates`` in all."""
    if chunk < 1:
        raise NumericError(f"chunk size must be a positive number of samples, got {chunk}")
    per_chunk = max(1, chunk // features)
    for start in range(0, replicates, per_chunk):
        yield min(per_chunk, replicates - start)


def frequencies(
    rng: np.random.Generator, replicates: int, features: int, dim: int, orthogonal: bool, sign_fix: bool
) -> np.ndarray:
    """iid Gaussian or orthogonal frequencies, shape (n, m, d)."""
    if orthogonal:
        return orthogonal_frequencies(rng, replicates, features, dim, sign_fix)
    return gaussian_frequencies(rng, replicates, features, dim)


def _layout(features: int, orthogonal: bool, sign_fix: bool) -> str:
    if not orthogonal:
        return f"{features} iid frequencies"
    return f"{features} orthogonal frequencies" + ("" if sign_fix else " (no QR sign fix)")


# --- exponential tilting (importance sampling) for the log-normal weights of positive and hyperbolic features ---
#
# A positive or hyperbolic Z (and Z^2) is e^{-p sq/2} times e^{p s} or cosh(s)^p of s = omega.u, u = x + y: a
# log-normal variable with log-s.d. p|u|, whose plain Monte Carlo mean is hopeless beyond |u| ~ 1 (relative
# variance e^{p^2 |u|^2}).  Drawing omega from the symmetric mixture q = (N(mu, I) + N(-mu, I))/2 with
# mu = lam p u and weighting by phi/q = e^{|mu|^2/2}/cosh(omega.mu) keeps the estimator unbiased for every lam;
# lam = 1 - TILT/(p|u|) leaves a log-normal of log-s.d. TILT in the weighted variable (its tail towards +s),
# lam = 0 (no tilt) when p|u| <= TILT.  Nothing here knows the value of the expectation.
TILT = 0.5


def tilt_factor(power: int, spread: float, tilt: float | None = TILT) -> float:
    r""":math:`\lambda = \max(0, 1 - \tau/(p|u|))` of the mixture proposal (0 without ``tilt``)."""
    if tilt is None or power * spread <= tilt:
        return 0.0
    return 1.0 - tilt / (power * spread)


def _logcosh(values: np.ndarray) -> np.ndarray:
    magnitude = np.abs(values)
    return magnitude + np.log1p(np.exp(-2 * magnitude)) - np.log(2.0)


def weighted_terms(
    kind: str, power: int, sq: float, x: np.ndarray, y: np.ndarray, omega: np.ndarray, signs: np.ndarray, lam: float
) -> np.ndarray:
    r"""Importance-weighted :math:`Z^p w` per frequency, ``omega`` of shape (n, m, d) drawn from
    :math:`N(0, I)` and shifted by ``signs`` :math:`\cdot\,\mu` (:math:`\mu = \lambda p u`); trigonometric
    features are bounded and never tilted (:math:`w = 1`)."""
    if kind == "trigonometric":
        s = (omega.reshape(-1, omega.shape[-1]) @ (x - y)).reshape(omega.shape[:-1])
        return single_feature(kind, sq, s) ** power
    u = x + y
    s = (omega.reshape(-1, omega.shape[-1]) @ u).reshape(omega.shape[:-1]) + signs * (lam * power * float(u @ u))
    tilted = lam * power * s
    log_weight = 0.5 * (lam * power) ** 2 * float(u @ u) - _logcosh(tilted)
    if kind == "positive":
        return np.exp(power * (s - sq / 2) + log_weight)
    if kind == "hyperbolic":
        return np.exp(power * (_logcosh(s) - sq / 2) + log_weight)
    raise NumericError(f"unknown feature kind '{kind}' (choose from {', '.join(KINDS)})")


def _tilted_replicates(
    rng: np.random.Generator,
    kind: str,
    power: int,
    x: np.ndarray,
    y: np.ndarray,
    features: int,
    replicates: int,
    tilt: float | None,
    chunk: int,
    sq: float | None = None,
) -> BatchStream:
    """Per replicate, the mean over ``features`` frequencies of :func:`weighted_terms`, streamed; ``sq`` is
    :math:`|x|^2 + |y|^2` (the normalisation of the features) unless given."""
    spread = float(np.linalg.norm(x + y))
    lam = 0.0 if kind == "trigonometric" else tilt_factor(power, spread, tilt)
    sq = float(x @ x + y @ y) if sq is None else sq
    stream = BatchStream(replicates)
    for count in replicate_chunks(replicates, features, chunk):
        omega = gaussian_frequencies(rng, count, features, x.size)
        signs = rng.choice((-1.0, 1.0), size=(count, features)) if lam > 0 else np.zeros((count, features))
        stream.add(np.mean(weighted_terms(kind, power, sq, x, y, omega, signs, lam), axis=-1))
    return stream


def _orthogonal_replicates(
    rng: np.random.Generator,
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    features: int,
    replicates: int,
    sign_fix: bool,
    chunk: int,
    transform: Callable[[np.ndarray], np.ndarray] = np.asarray,
) -> tuple[BatchStream, BatchStream]:
    """Per replicate, ``transform`` of the orthogonal-feature estimate of :math:`e^{x\\cdot y}`, and :math:`Q_{11}`
    (plain Monte Carlo), streamed."""
    estimates, first = BatchStream(replicates), BatchStream(replicates)
    for count in replicate_chunks(replicates, features, chunk):
        omega = orthogonal_frequencies(rng, count, features, x.size, sign_fix)
        estimates.add(transform(kernel_estimates(kind, x, y, omega)))
        first.add(first_entries(omega))
    return estimates, first


# --- importance sampling of the orthogonal sampler itself -------------------------------------------------------
#
# The orthogonal estimator (1/m) sum_i e^{omega_i.u - sq/2} is as heavy-tailed as the iid one (each omega_i is
# N(0, I) marginally).  Proposal: pick one of the m frequencies, j, uniformly; draw omega_j from N(mu, I),
# mu = lam u; complete its block from a block H of the sampler under test by the Householder reflection P that
# maps the column h_j to omega_j/|omega_j| (for Haar H the other columns, given h_j, are Haar in h_j^perp, so
# P h_k are Haar in omega_j^perp: the conditional law of the block given omega_j); all other norms chi_d and
# other blocks as sampled.  If the sampler is right, the proposal density over the whole draw is
# p(draw) * (1/m) sum_k c(omega_k), c(omega) = e^{mu.omega - |mu|^2/2} (the tilt of omega_k's N(0, I) marginal),
# so weighting by 1/((1/m) sum_k c(omega_k)) is unbiased for every lam.  By the mediant inequality the weighted
# estimate sum_i e^{s_i} / sum_k c_k is at most max_i e^{s_i}/c_i = e^{(1 - lam)|u| t_i + ...}: with
# lam = 1 - TILT/|u| a log-normal of log-s.d. TILT, at any norm.  lam = 1 would give zero variance whatever the
# sampler does; lam < 1 keeps the estimate honest.  The Haar check runs on the sampler's raw blocks.


def _reflect_onto(blocks: np.ndarray, column: np.ndarray, target: np.ndarray) -> np.ndarray:
    r"""Householder reflections :math:`P = I - 2vv^\top/|v|^2`, :math:`v = h - q`, applied to ``blocks`` (n, d, d):
    column ``column`` (n,) of each block, :math:`h`, is mapped to the unit vector ``target`` (n, d), :math:`q`."""
    h = np.take_along_axis(blocks, column[:, None, None], axis=-1)[..., 0]
    v = h - target
    norm = np.sum(v * v, axis=-1)
    scale = np.where(norm > 0, 2.0 / np.where(norm > 0, norm, 1.0), 0.0)
    return blocks - scale[:, None, None] * v[:, :, None] * np.einsum("nd,ndk->nk", v, blocks)[:, None, :]


def _tilted_orthogonal_replicates(
    rng: np.random.Generator,
    x: np.ndarray,
    y: np.ndarray,
    features: int,
    replicates: int,
    sign_fix: bool,
    chunk: int,
    tilt: float | None = TILT,
    sq: float | None = None,
    fixed_norms: bool = False,
) -> tuple[BatchStream, BatchStream, float]:
    """Per replicate the importance-weighted orthogonal positive estimate (see above) and :math:`Q_{11}` of the
    sampler's first raw block, streamed; and :math:`\\lambda`.  ``fixed_norms`` (known-false variant) gives every
    frequency the norm :math:`\\sqrt d` instead of a :math:`\\chi_d` one."""
    dim = x.size
    u = x + y
    spread = float(np.linalg.norm(u))
    lam = tilt_factor(1, spread, tilt)
    sq = float(x @ x + y @ y) if sq is None else sq
    blocks = -(-features // dim)
    estimates, first = BatchStream(replicates), BatchStream(replicates)
    for count in replicate_chunks(replicates, blocks * dim, chunk):  # a replicate holds blocks * d directions
        q = haar_blocks(rng, (count, blocks), dim, sign_fix)  # columns are the directions
        first.add(q[:, 0, 0, 0])
        norms = np.sqrt(rng.chisquare(dim, size=(count, features))) if not fixed_norms else np.full((count, features), dim**0.5)
        if lam > 0:
            rows = np.arange(count)
            index = rng.integers(features, size=count)
            block, column = np.divmod(index, dim)
            tilted = rng.standard_normal((count, dim)) + lam * u
            length = np.linalg.norm(tilted, axis=-1)
            q[rows, block] = _reflect_onto(q[rows, block], column, tilted / length[:, None])
            norms[rows, index] = dim**0.5 if fixed_norms else length
        directions = np.swapaxes(q, -1, -2).reshape(count, blocks * dim, dim)[:, :features]
        s = (directions @ u) * norms  # omega_i . u
        if lam > 0:
            log_c = lam * s - 0.5 * lam**2 * spread**2
            values = np.exp(special.logsumexp(s - sq / 2, axis=-1) - special.logsumexp(log_c, axis=-1))
        else:
            values = np.mean(np.exp(s - sq / 2), axis=-1)
        estimates.add(values)
    return estimates, first, lam


def _resolution(kind: str, x: np.ndarray, y: np.ndarray) -> float:
    r"""Float64 resolution of one estimate of :math:`e^{x\cdot y}`: ``ROUNDING_FLOOR`` times its scale
    (:math:`e^{(|x|^2+|y|^2)/2}` for trigonometric features, whose terms cancel; else the kernel times the size
    of the exponents summed in log space)."""
    sq, dot = float(x @ x + y @ y), float(x @ y)
    if kind == "trigonometric":
        return ROUNDING_FLOOR * float(np.exp(sq / 2))
    return ROUNDING_FLOOR * float(np.exp(dot)) * (1.0 + sq + float((x + y) @ (x + y)))


def kernel_mean(
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    features: int,
    replicates: int,
    seed: int,
    orthogonal: bool = False,
    sign_fix: bool = True,
    chunk: int = CHUNK,
    tilt: float | None = TILT,
) -> Estimate:
    r"""F1/F3: Monte Carlo mean of the :math:`m`-frequency estimator of :math:`e^{x\cdot y}`.

    ``replicates`` x ``features`` samples, ``chunk`` samples at a time.  iid frequencies: each term
    importance-weighted by the exponential tilt (``tilt=None``: plain Monte Carlo); orthogonal positive
    frequencies: one frequency tilted and its block completed by reflection (:func:`_tilted_orthogonal_replicates`),
    ``details`` carry the mean of :math:`Q_{11}` of the raw blocks (:func:`haar_check`) as an Estimate.
    Standard errors from the replicates, and again from batch means.
    """
    rng = np.random.default_rng(seed)
    floor = _resolution(kind, x, y)
    if orthogonal and kind == "positive":
        estimates, first, lam = _tilted_orthogonal_replicates(rng, x, y, features, replicates, sign_fix, chunk, tilt)
        how = f", one frequency tilted by lambda = {lam:.3g} (block completed by reflection)" if lam else ""
        method = f"mean of {replicates} {kind} estimates, {_layout(features, True, sign_fix)} each{how}"
        return mean_estimate(estimates, method, seed, floor, **haar_check(first))
    if orthogonal:
        estimates, first = _orthogonal_replicates(rng, kind, x, y, features, replicates, sign_fix, chunk)
        method = f"mean of {replicates} {kind} estimates, {_layout(features, True, sign_fix)} each"
        return mean_estimate(estimates, method, seed, floor, **haar_check(first))
    estimates = _tilted_replicates(rng, kind, 1, x, y, features, replicates, tilt, chunk)
    lam = 0.0 if kind == "trigonometric" else tilt_factor(1, float(np.linalg.norm(x + y)), tilt)
    how = f", tilted by lambda = {lam:.3g}" if lam else ""
    return mean_estimate(estimates, f"mean of {replicates} {kind} estimates, {features} iid frequencies each{how}", seed, floor)


def _variant_positive_without_norm_factor(
    x: np.ndarray, y: np.ndarray, features: int, replicates: int, seed: int
) -> Estimate:
    r"""Known-false: positive features of :math:`x` without their factor :math:`e^{-|x|^2/2}` (estimates
    :math:`e^{|x|^2/2}e^{x\cdot y}`)."""
    rng = np.random.default_rng(seed)
    estimates = _tilted_replicates(rng, "positive", 1, x, y, features, replicates, TILT, CHUNK, sq=float(y @ y))
    return mean_estimate(estimates, "positive features without e^{-|x|^2/2}", seed, _resolution("positive", x, y))


def _variant_trigonometric_wrong_sign(
    x: np.ndarray, y: np.ndarray, features: int, replicates: int, seed: int
) -> Estimate:
    r"""Known-false: :math:`\cos p\cos q - \sin p\sin q`, i.e. the trigonometric estimator of
    :math:`\cos(\omega\cdot(x+y))` (as if :math:`y` were :math:`-y` in the product)."""
    return kernel_mean("trigonometric", x, -y, features, replicates, seed)


def _variant_stderr_without_root_n(estimate: Estimate) -> Estimate:
    r"""Known-false: the standard deviation of the replicates reported as the standard error (no :math:`1/\sqrt n`)."""
    return replace(estimate, stderr=estimate.stderr * np.sqrt(estimate.n))


def first_entries(omega: np.ndarray) -> np.ndarray:
    """:math:`Q_{11}` of every replicate: the first coordinate of the first direction, shape (n,)."""
    return omega[:, 0, 0] / np.linalg.norm(omega[:, 0], axis=-1)


def haar_check(first: BatchStream) -> dict[str, Estimate]:
    r"""Mean of :math:`Q_{11}` (:func:`first_entries`) over replicates as an Estimate (with batch means).

    For Haar :math:`Q` the first column is uniform on the sphere, so the mean is 0; numpy's
    unfixed QR gives :math:`Q_{11} < 0` always (mean :math:`\approx -\sqrt{2/(\pi d)}`).
    """
    return {"first_entry": mean_estimate(first, "mean of Q_11 over replicates", None)}


def iid_mse(
    rng: np.random.Generator,
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    features: int,
    replicates: int,
    tilt: float | None = TILT,
    chunk: int = CHUNK,
) -> Estimate:
    r"""MSE :math:`E(\widehat{\mathrm{SM}}_m - S)^2` of the mean of :math:`m` iid one-frequency estimators :math:`Z`.

    For iid terms :math:`E(\bar Z_m - S)^2 = \frac1m E(Z-S)^2 + (1-\frac1m)(EZ - S)^2`; with :math:`A = EZ^2`,
    :math:`D = EZ - S`: :math:`\frac{A - S^2 - 2SD}{m} + (1-\frac1m)D^2`.  :math:`A` and :math:`EZ` are
    tilted Monte Carlo means from independent draws (``replicates`` x ``features`` terms each);
    :math:`D^2` is estimated without bias by :math:`\hat D^2 - \mathrm{se}_D^2`.  Standard error by the delta
    method; batch means of the linearised replicates give ``replicate_stderr``.
    """
    target = float(np.exp(x @ y))
    seconds = _tilted_replicates(rng, kind, 2, x, y, features, replicates, tilt, chunk)
    firsts = _tilted_replicates(rng, kind, 1, x, y, features, replicates, tilt, chunk)
    second, first = seconds.moments, firsts.moments
    bias = first.mean - target
    keep = 1.0 - 1.0 / features
    value = (second.mean - target**2 - 2 * target * bias) / features + keep * (bias**2 - first.stderr**2)
    slope = 2 * target / features - 2 * keep * bias
    quadratic = 2 * keep**2 * first.stderr**4
    floor = ROUNDING_FLOOR * (abs(second.mean) + target**2) * (1.0 + float(x @ x + y @ y)) / features
    linear = seconds.batch_means / features - slope * firsts.batch_means  # batch means of the linearised replicates
    batch = float(np.std(linear, ddof=1) / np.sqrt(linear.size))
    spread = np.hypot(second.stderr / features, slope * first.stderr)
    return Estimate(
        value=float(value),
        method=f"MSE of the mean of {features} iid {kind} features: tilted means of Z and Z^2 ({replicates} x {features} each)",
        n=replicates,
        stderr=float(np.sqrt(spread**2 + quadratic + floor**2)),
        replicate_stderr=float(np.sqrt(batch**2 + quadratic + floor**2)),
        replicates=BATCHES,
        details={"second_moment": second.mean, "mean": first.mean},
    )


def orthogonal_mse(
    rng: np.random.Generator,
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    features: int,
    replicates: int,
    sign_fix: bool = True,
    chunk: int = CHUNK,
) -> Estimate:
    """Mean squared error of orthogonal-feature estimators (plain Monte Carlo), with :func:`haar_check` in details."""
    target = float(np.exp(x @ y))
    errors, first = _orthogonal_replicates(
        rng, kind, x, y, features, replicates, sign_fix, chunk, lambda estimates: (estimates - target) ** 2
    )
    floor = (_resolution(kind, x, y) * (1.0 + float(np.exp(float(x @ x + y @ y) / 2)))) ** 2
    method = f"mean squared error of {replicates} {kind} estimators, {_layout(features, True, sign_fix)}"
    return mean_estimate(errors, method, None, floor, **haar_check(first))


def kernel_mse(
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    features: int,
    replicates: int,
    seed: int,
    orthogonal: bool = False,
    sign_fix: bool = True,
    chunk: int = CHUNK,
) -> Estimate:
    r"""F2/F3: the MSE :math:`E(\widehat{\mathrm{SM}}_m - e^{x\cdot y})^2` (:func:`iid_mse` or :func:`orthogonal_mse`)."""
    rng = np.random.default_rng(seed)
    if orthogonal:
        return replace(orthogonal_mse(rng, kind, x, y, features, replicates, sign_fix, chunk), seed=seed)
    return replace(iid_mse(rng, kind, x, y, features, replicates, chunk=chunk), seed=seed)


def mse_share(trig: Estimate, positive: Estimate, seed: int | None = None) -> Estimate:
    r""":math:`q = T/(T+P)` of two independent MSE estimates, delta-method s.e. (also for the batch-means s.e.):
    :math:`\partial q/\partial T = P/(T+P)^2`, :math:`\partial q/\partial P = -T/(T+P)^2`."""
    total = trig.value + positive.value
    if not total > 0:
        raise NumericError("both MSE estimates are 0 (x = y = 0): the share is undefined")

    def spread(se_t: float, se_p: float) -> float:
        return float(np.hypot(positive.value * se_t, trig.value * se_p) / total**2)

    return Estimate(
        value=trig.value / total,
        method="MSE_trig / (MSE_trig + MSE_pos) from independent Monte Carlo MSEs, delta-method s.e.",
        n=trig.n + positive.n,
        seed=seed,
        stderr=spread(trig.stderr, positive.stderr),
        replicate_stderr=spread(trig.replicate_stderr, positive.replicate_stderr),
        replicates=BATCHES,
        details={"mse_trigonometric": trig.value, "mse_positive": positive.value},
    )


def mse_ratio(x: np.ndarray, y: np.ndarray, features: int, replicates: int, seed: int) -> Estimate:
    r"""F2: the trigonometric share :math:`q = \mathrm{MSE_{trig}}/(\mathrm{MSE_{trig}}+\mathrm{MSE_{pos}})
    = r/(1+r)` of the two MSEs, each by :func:`iid_mse` (independent draws).  Unlike
    :math:`r = \mathrm{MSE_{trig}}/\mathrm{MSE_{pos}}` it stays finite at :math:`x = -y` (:math:`q = 1`)."""
    rng = np.random.default_rng(seed)
    trig, positive = (iid_mse(rng, kind, x, y, features, replicates) for kind in ("trigonometric", "positive"))
    return mse_share(trig, positive, seed)


def gaussian_expectation(function: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`E f(g)`, :math:`g \sim N(0,1)`, by Gauss–Hermite quadrature (probabilists' weight) with
    ``HERMITE_NODES`` nodes; the error estimate is the change from half as many nodes.

    ``function`` maps an array of nodes (shape (q,)) to values of shape (q, ...); the integrands here
    are entire functions of order 1 (:math:`e^{\lambda g}`, :math:`\cos\lambda g`) for which the rule
    converges super-exponentially.
    """
    results = []
    for count in (HERMITE_NODES // 2, HERMITE_NODES):
        nodes, weights = _hermite_rule(count)
        results.append(np.tensordot(weights, function(nodes), axes=(0, 0)))
    return results[1], np.abs(results[1] - results[0])


@cache
def _hermite_rule(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for :math:`E f(g)`, :math:`g \\sim N(0,1)` (weights sum to 1)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(count)
    return nodes, weights / np.sqrt(2 * np.pi)


def single_feature(kind: str, sq: np.ndarray | float, s: np.ndarray) -> np.ndarray:
    r"""One-frequency estimator :math:`Z` as a function of :math:`s = \omega\cdot u` (:math:`u = x + y`, or
    :math:`x - y` for trigonometric features) and :math:`|x|^2 + |y|^2` = ``sq`` (broadcasting):
    :math:`e^{s - sq/2}`, :math:`e^{-sq/2}\cosh s`, :math:`e^{sq/2}\cos s`.  Overwrites ``s``."""
    if kind == "positive":
        s -= sq / 2
        return np.exp(s, out=s)
    if kind == "hyperbolic":
        np.cosh(s, out=s)
        s *= np.exp(-sq / 2)
        return s
    np.cos(s, out=s)
    s *= np.exp(sq / 2)
    return s


def single_feature_mse(kind: str, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`E(Z - e^{x\cdot y})^2` for one frequency at each pair of rows of ``xs``, ``ys``, by quadrature.

    The 1-d reduction: :math:`\omega\cdot u \sim |u|\,g` with :math:`g \sim N(0,1)` (rotation
    invariance), :math:`u = x + y` (positive, hyperbolic) or :math:`x - y` (trigonometric).
    Returns (values, error estimates).
    """
    target = np.exp(np.sum(xs * ys, axis=-1))
    sq = np.sum(xs**2 + ys**2, axis=-1)
    spread = np.linalg.norm(xs - ys if kind == "trigonometric" else xs + ys, axis=-1)
    return gaussian_expectation(lambda g: (single_feature(kind, sq, spread * g[:, None]) - target) ** 2)


def grid(max_norm: float, norm_steps: int, angle_steps: int) -> list[tuple[float, float, float]]:
    r"""Grid points (a, b, θ in degrees): :math:`a \le b \in \{i\,a_{\max}/n\}`, :math:`\theta = 180 j / n_\theta`."""
    norms = [max_norm * i / norm_steps for i in range(1, norm_steps + 1)]
    return [
        (na, nb, 180.0 * j / angle_steps)
        for i, na in enumerate(norms)
        for nb in norms[i:]
        for j in range(angle_steps + 1)
    ]


def grid_comparison(max_norm: float, norm_steps: int, angle_steps: int) -> Estimate:
    r"""F2 on a grid: single-frequency MSEs (trigonometric, positive) by Gauss–Hermite quadrature.

    ``value`` = number of points where :math:`\mathrm{MSE_{trig}} > \mathrm{MSE_{pos}}`; ``details``
    list per point ``sm`` = :math:`e^{x\cdot y}` and both MSEs, and the smallest gap between the two MSEs
    in units of the quadrature error estimate (a point whose gap is below 10 raises ``NumericError``).
    """
    pairs = [pair(na, nb, angle, 2) for na, nb, angle in grid(max_norm, norm_steps, angle_steps)]
    xs, ys = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    (trig, trig_err), (pos, pos_err) = (single_feature_mse(kind, xs, ys) for kind in ("trigonometric", "positive"))
    with np.errstate(over="ignore"):
        margin = np.abs(trig - pos) / (trig_err + pos_err + np.finfo(float).tiny)
    if np.any(margin < 10):
        raise NumericError(f"quadrature cannot decide which MSE is larger at {int(np.sum(margin < 10))} grid point(s)")
    return Estimate(
        value=float(np.sum(trig > pos)),
        method=f"Gauss–Hermite quadrature ({HERMITE_NODES} nodes) of single-frequency MSEs on {len(pairs)} grid points",
        n=len(pairs),
        details={
            "sm": np.exp(np.sum(xs * ys, axis=-1)),
            "mse_trigonometric": trig,
            "mse_positive": pos,
            "min_margin_in_quadrature_errors": float(margin.min()),
        },
    )


def softmax_attention(queries: np.ndarray, keys: np.ndarray, values: np.ndarray, causal: bool = False) -> np.ndarray:
    r"""Exact :math:`\operatorname{softmax}(QK^\top)V` (row-wise, optionally causal), in the inputs' dtype.

    The :math:`L\times L` score matrix is the only large temporary: shifted by its row
    maxima and exponentiated in place.
    """
    scores = queries @ keys.T
    if causal:
        scores[np.triu_indices_from(scores, k=1)] = -np.inf
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    return (scores @ values) / scores.sum(axis=-1, keepdims=True)


def linear_terms(
    query_features: np.ndarray, key_features: np.ndarray, values: np.ndarray, causal: bool
) -> tuple[np.ndarray, np.ndarray]:
    r"""Numerator :math:`Q'(K'^\top V)` and normaliser :math:`Q'(K'^\top 1)` in :math:`O(Lm d_v)`.

    Causal: prefix sums :math:`S_i = \sum_{j\le i} k'_j v_j^\top`, :math:`z_i = \sum_{j\le i} k'_j`.
    Leading axes of the feature arrays are batch axes.
    """
    if causal:
        states = np.cumsum(key_features[..., :, :, None] * values[..., :, None, :], axis=-3)
        numerator = np.einsum("...lm,...lmv->...lv", query_features, states)
        normaliser = np.sum(query_features * np.cumsum(key_features, axis=-2), axis=-1)
    else:
        numerator = query_features @ (np.swapaxes(key_features, -1, -2) @ values)
        normaliser = np.einsum("...lm,...m->...l", query_features, key_features.sum(axis=-2))
    return numerator, normaliser


def quadratic_terms(
    query_features: np.ndarray, key_features: np.ndarray, values: np.ndarray, causal: bool
) -> tuple[np.ndarray, np.ndarray]:
    r"""The same numerator and normaliser through the :math:`L\times L` weight matrix :math:`W = Q'K'^\top`."""
    weights = query_features @ np.swapaxes(key_features, -1, -2)
    if causal:
        weights = np.tril(weights)
    return weights @ values, weights.sum(axis=-1)


def favor_attention(
    queries: np.ndarray, keys: np.ndarray, values: np.ndarray, omega: np.ndarray, causal: bool = False
) -> np.ndarray:
    r"""FAVOR+ attention :math:`D^{-1}Q'(K'^\top V)` with positive features of ``omega`` (m, d)."""
    numerator, normaliser = linear_terms(
        feature_map("positive", queries, omega[None])[0], feature_map("positive", keys, omega[None])[0], values, causal
    )
    return numerator / normaliser[..., None]


def attention_inputs(
    length: int, dim: int, value_dim: int, scale: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Fixed test inputs on the grid :math:`2^{-6}\mathbb Z` (exact in binary and as rationals).

    Rows of :math:`Q, K` have random directions and norms uniform in :math:`[0, \text{scale}]`;
    :math:`V` is standard normal.  Rounding keeps norms :math:`\le \text{scale} + \sqrt d/128`.
    """
    rng = np.random.default_rng(seed)

    def rows() -> np.ndarray:
        directions = rng.standard_normal((length, dim))
        directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
        return directions * rng.uniform(0.0, scale, size=(length, 1))

    queries, keys, values = rows(), rows(), rng.standard_normal((length, value_dim))
    return tuple(np.round(array * 64) / 64 for array in (queries, keys, values))


def attention_identity_residual(length: int, features: int, dim: int, value_dim: int, seed: int) -> Estimate:
    r"""F4: the linear and quadratic orders agree in float64, bidirectional and causal.

    ``value`` = the largest :math:`|{\rm linear} - {\rm quadratic}|` relative to the same product
    computed with absolute values (the scale of the rounding error; an entry whose scale is 0, e.g. a
    causal first row with :math:`v = 0`, is exactly 0 both ways), over numerator and normaliser, both modes.
    """
    rng = np.random.default_rng(seed)
    queries, keys, values = attention_inputs(length, dim, value_dim, 1.0, int(rng.integers(2**31)))
    omega = gaussian_frequencies(rng, 1, features, dim)
    query_features = feature_map("positive", queries, omega)[0]
    key_features = feature_map("positive", keys, omega)[0]
    worst = 0.0
    for causal in (False, True):
        scale_num, scale_den = quadratic_terms(query_features, key_features, np.abs(values), causal)
        for linear, quadratic, scale in zip(
            linear_terms(query_features, key_features, values, causal),
            quadratic_terms(query_features, key_features, values, causal),
            (scale_num, scale_den),
            strict=True,
        ):
            worst = max(worst, float(np.max(np.abs(linear - quadratic) / np.maximum(scale, np.finfo(float).tiny))))
    return Estimate(
        value=worst,
        method="max |Q'(K'^T V) - (Q'K'^T)V| / (|Q'||K'^T||V|), bidirectional and causal, float64",
        n=length,
        seed=seed,
    )


def numerator_moments(
    queries: np.ndarray,
    keys: np.ndarray,
    values: np.ndarray,
    features: int,
    replicates: int,
    seed: int,
    normalise: bool = False,
) -> Estimate:
    r"""F4: Monte Carlo means of the FAVOR+ numerator (or, with ``normalise``, of :math:`\widehat A`).

    Every entry of the bidirectional and the causal output (a :math:`2L\times d_v` array, bidirectional
    rows first) is averaged over ``replicates`` independent sets of ``features`` frequencies.
    ``value`` = the sum of all entries (with its own s.e.); ``details`` hold every entry's mean and s.e.
    """
    rng = np.random.default_rng(seed)
    omega = gaussian_frequencies(rng, replicates, features, queries.shape[-1])
    query_features = feature_map("positive", queries, omega)
    key_features = feature_map("positive", keys, omega)
    outputs = []
    for causal in (False, True):
        numerator, normaliser = linear_terms(query_features, key_features, values, causal)
        outputs.append(numerator / normaliser[..., None] if normalise else numerator)
    samples = np.concatenate(outputs, axis=-2)
    what = "normalised FAVOR+ attention" if normalise else "FAVOR+ numerator Q'(K'^T V)"
    total = mean_estimate(samples.sum(axis=(-2, -1)), f"mean of {replicates} {what} (sum of entries)", seed)
    return Estimate(
        value=total.value,
        method=f"Monte Carlo mean of the {what}, bidirectional and causal, {features} frequencies, {replicates} replicates",
        n=replicates,
        seed=seed,
        stderr=total.stderr,
        replicate_stderr=total.replicate_stderr,
        replicates=total.replicates,
        details={
            "means": samples.mean(axis=0),
            "stderrs": samples.std(axis=0, ddof=1) / np.sqrt(replicates),
            "batch_stderrs": batch_stderr(samples),
            "batches": BATCHES,
        },
    )


def attention_error_by_features(
    queries: np.ndarray,
    keys: np.ndarray,
    values: np.ndarray,
    feature_counts: tuple[int, ...],
    replicates: int,
    seed: int,
) -> dict[int, float]:
    r"""Root-mean-square entrywise error of FAVOR+ attention against exact softmax attention, per :math:`m`
    (bidirectional; averaged over ``replicates`` draws of the frequencies)."""
    rng = np.random.default_rng(seed)
    exact = softmax_attention(queries, keys, values)
    errors = {}
    for features in feature_counts:
        omega = gaussian_frequencies(rng, replicates, features, queries.shape[-1])
        numerator, normaliser = linear_terms(
            feature_map("positive", queries, omega), feature_map("positive", keys, omega), values, False
        )
        errors[features] = float(np.sqrt(np.mean((numerator / normaliser[..., None] - exact) ** 2)))
    return errors


def weight_signs(
    kind: str, queries: np.ndarray, keys: np.ndarray, features: int, replicates: int, seed: int
) -> Estimate:
    r"""F1/F4: signs of the attention weights :math:`\varphi(q_i)\cdot\varphi(k_l)`, and the infimum of their random factor.

    ``value`` = the smallest weight divided by its positive scale
    :math:`e^{\mp(|q|^2+|k|^2)/2}` (the mean over frequencies of :math:`e^{s}`, :math:`\cosh s` or
    :math:`\cos s`).  ``details``: fraction of negative weights, and fraction of rows of
    :math:`D^{-1}W` that are not probability vectors (a negative entry or a non-positive normaliser), the
    number of negative weights, and :func:`factor_infimum` of the kind's factor.
    """
    rng = np.random.default_rng(seed)
    omega = gaussian_frequencies(rng, replicates, features, queries.shape[-1])
    weights = feature_map(kind, queries, omega) @ np.swapaxes(feature_map(kind, keys, omega), -1, -2)
    sq = 0.5 * (np.sum(queries**2, axis=-1)[:, None] + np.sum(keys**2, axis=-1)[None, :])
    scale = np.exp(sq if kind == "trigonometric" else -sq)
    normaliser = weights.sum(axis=-1)
    not_probability = np.any(weights < 0, axis=-1) | (normaliser <= 0)
    return Estimate(
        value=float(np.min(weights / scale)),
        method=f"smallest normalised {kind} attention weight over {replicates} draws of {features} frequencies",
        n=int(weights.size),
        seed=seed,
        details={
            "infimum": factor_infimum(kind),
            "negative_count": int(np.sum(weights < 0)),
            "fraction_negative": float(np.mean(weights < 0)),
            "fraction_rows_not_probability": float(np.mean(not_probability)),
        },
    )


FACTORS = {"positive": np.exp, "hyperbolic": np.cosh, "trigonometric": np.cos}
INFIMUM_RANGE = 800.0  # e^{-800} underflows to 0 in float64


def factor_infimum(kind: str) -> float:
    r""":math:`\inf_s g(s)` of the weight factor :math:`g \in \{\exp, \cosh, \cos\}` numerically: the smallest value
    on a grid of :math:`[-800, 800]` (spacing 1/64), refined by bounded Brent minimisation around the best node.
    Its error is below :math:`10^{-15}` for these three functions (a grid node within 1/128 of the minimiser
    and the refinement to ``xatol`` 1e-12)."""
    function = FACTORS[kind]
    nodes = np.linspace(-INFIMUM_RANGE, INFIMUM_RANGE, int(2 * INFIMUM_RANGE * 64) + 1)
    with np.errstate(over="ignore"):
        values = function(nodes)
    best = int(np.argmin(values))
    low, high = nodes[max(best - 1, 0)], nodes[min(best + 1, nodes.size - 1)]
    refined = optimize.minimize_scalar(function, bounds=(low, high), method="bounded", options={"xatol": 1e-12})
    return float(min(values[best], refined.fun))


# --- F3 by quadrature: the MSE of orthogonal features from the laws of one and of two orthogonal directions ---------
#
# Everything depends on t_i = omega_i . u_hat (u = x + y): omega_i = R_i q_i with R_i ~ chi_d and, for q_i, q_j
# two columns of one Haar block, their components (a, b) along u_hat have the density prop. to
# (1 - a^2 - b^2)^{(d-4)/2} on the unit disc (one column: a with density prop. to (1 - a^2)^{(d-3)/2}).  With
# M(s) = E e^{sR}, R ~ chi_d (a 1-d radial integral):
#   E Z = e^{-sq/2} E M(|u| a),  E Z^2 = e^{-sq} E M(2|u| a),  E Z_i Z_j = e^{-sq} E M(|u| a) M(|u| b)  (i != j, one block).
# Rules: M by Gauss-Legendre on two panels [r* - 12, r*], [r* + 12] around the peak r* of the log-concave radial
# integrand (second log-derivative <= -1, so the mass left out is below e^{-72} of the total); a by Gauss-Jacobi
# with alpha = beta = (d-3)/2; the disc in polar form r = rho^2 (Gauss-Jacobi, weight (1 - r)^{(d-4)/2}) times
# phi (trapezoid, exponentially convergent for a periodic analytic integrand; its phi-average is entire in r).
# Every rule is run again with half the nodes; the change is the error estimate.  Rounding: each quadrature
# is a sum of positive terms exp(L - L*) whose exponents are computed with absolute error below 2 max|L| u, and
# numpy sums pairwise (blocks of at most 128 added 8-way, then halving: at most 16 + log2 n additions per term),
# so its relative rounding error is below (2 max |L| + 16 + log2 n + 4)u, n the number of terms.

RADIAL_NODES = 128  # per panel
DIRECTION_NODES = 160  # Gauss-Jacobi nodes for a and for rho^2
ANGLE_NODES = 256  # trapezoid nodes in phi (a multiple of 4: sin phi_j = cos phi_{j - N/4})
RADIAL_WIDTH = 12.0  # beyond r* +- 12 the log-integrand has dropped by at least 72 (curvature >= 1)
RADIAL_DROP = 80.0
UNIT = 2.0**-53


@cache
def _legendre(count: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(count)


@cache
def _jacobi(count: int, alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Jacobi nodes on [-1, 1] for the weight (1 - x)^alpha (1 + x)^beta, weights normalised to sum 1."""
    nodes, weights = special.roots_jacobi(count, alpha, beta)
    return nodes, weights / weights.sum()


def _log_radial(dim: int, s: np.ndarray, power: int, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`\log\int_0^\infty r^{d-1+p} e^{-r^2/2 + sr}\,dr` for every entry of ``s`` (Gauss-Legendre, two panels);
    returns (values, largest |exponent| met, for the rounding bound)."""
    shape = np.shape(s)
    s = np.asarray(s, dtype=float).ravel()
    k = dim - 1 + power
    peak = (s + np.sqrt(s**2 + 4 * k)) / 2
    x, w = _legendre(nodes)
    total, top = np.zeros(s.shape), np.zeros(s.shape)
    log_peak = k * np.log(peak) - peak**2 / 2 + s * peak
    def log_f(r: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return k * np.log(r) - r**2 / 2 + s * r

    # Panel widths: the smallest of RADIAL_WIDTH * 2^-j where the log-integrand has dropped by RADIAL_DROP; by
    # concavity it then keeps falling at least linearly, so the mass beyond is below e^{-RADIAL_DROP} of the peak's.
    widths = RADIAL_WIDTH * 2.0 ** -np.arange(10)[:, None]  # (10, 1) against s of shape (N,)
    right = np.min(np.where(log_peak - log_f(peak + widths) >= RADIAL_DROP, widths, RADIAL_WIDTH), axis=0)
    left_reach = np.where(peak - widths > 0, log_peak - log_f(np.maximum(peak - widths, 0.0)), np.inf)
    left = np.minimum(np.min(np.where(left_reach >= RADIAL_DROP, widths, RADIAL_WIDTH), axis=0), peak)
    for low, high in ((peak - left, peak), (peak, peak + right)):
        half = (high - low) / 2
        r = low[..., None] + half[..., None] * (x + 1)
        exponent = k * np.log(r) - r**2 / 2 + s[..., None] * r
        top = np.maximum(top, np.max(np.abs(exponent), axis=-1))
        total += half * np.sum(w * np.exp(exponent - log_peak[..., None]), axis=-1)
    return (log_peak + np.log(total)).reshape(shape), top.reshape(shape)


def log_chi_mgf(dim: int, s: np.ndarray, power: int = 0, nodes: int = RADIAL_NODES) -> tuple[np.ndarray, np.ndarray, float]:
    r""":math:`\log E[R^p e^{sR}]`, :math:`R \sim \chi_d`, as the ratio of two radial integrals (the normaliser by
    the same rule).  Returns (values, relative error estimate per entry, largest exponent)."""
    values, top = _log_radial(dim, s, power, nodes)
    coarse, _ = _log_radial(dim, s, power, nodes // 2)
    norm, norm_top = _log_radial(dim, np.zeros(1), 0, nodes)
    norm_coarse, _ = _log_radial(dim, np.zeros(1), 0, nodes // 2)
    error = np.abs(values - coarse) + abs(float(norm[0] - norm_coarse[0]))
    return values - norm[0], np.expm1(error), float(max(np.max(top, initial=0.0), norm_top[0]))


def _single_direction_mean(dim: int, spread: float, factor: float, count: int) -> tuple[float, float, float]:
    r""":math:`E M(c|u|a)`, :math:`a` the component of one Haar direction along :math:`\hat u`: (value, error
    estimate with the radial error, largest exponent)."""
    alpha = (dim - 3) / 2
    results, radial_error, top = [], 0.0, 0.0
    for n in (count, count // 2):
        a, w = _jacobi(n, alpha, alpha)
        log_m, error, top_n = log_chi_mgf(dim, factor * spread * a)
        results.append(float(np.sum(w * np.exp(log_m))))
        radial_error, top = max(radial_error, float(np.max(error))), max(top, top_n)
    return results[0], abs(results[0] - results[1]) + radial_error * results[0], top


def _disc_rule(dim: int, count: int, angles: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Nodes (a, b) and weights for the joint law of the components of two orthonormal Haar columns along one
    unit vector: density :math:`\propto (1-a^2-b^2)^{(d-4)/2}` on the disc (the unit circle for :math:`d = 2`).
    Shapes (count, angles); the columns of ``b`` are those of ``a`` rolled by a quarter turn."""
    phi = 2 * np.pi * (np.arange(angles) + 0.5) / angles
    if dim == 2:
        radius, weights = np.ones(1), np.ones(1)
    else:
        x, weights = _jacobi(count, (dim - 4) / 2, 0.0)
        radius = np.sqrt((1 + x) / 2)
    a = radius[:, None] * np.cos(phi)
    b = radius[:, None] * np.sin(phi)
    return a, b, np.broadcast_to(weights[:, None] / angles, a.shape)


PAIR_CONVERGED = 1e-13  # the disc rule is doubled until two successive values agree to this, relative


def _pair_mean(
    dim: int, spread: float, count: int, angles: int, disc: Callable | None = None
) -> tuple[float, float, float, tuple[int, int]]:
    r""":math:`E M(|u|a)M(|u|b)` over the disc law (``disc``, default :func:`_disc_rule`): (value, error estimate,
    largest exponent, nodes used).  The rule is doubled from :math:`(count, angles)/8` until two successive values agree to
    ``PAIR_CONVERGED`` or the full ``(count, angles)`` is reached; the last change is the error estimate."""
    disc = disc or _disc_rule
    results, radial_error, top = [], 0.0, 0.0
    n, k = max(count // 8, 4), max(angles // 8, 8)
    while True:
        a, b, w = disc(dim, n, k)
        half, error, top_n = log_chi_mgf(dim, spread * a[:, : k // 2])
        log_a = np.concatenate([half, half[:, ::-1]], axis=-1)  # cos phi_{N-1-j} = cos phi_j
        log_b = np.roll(log_a, k // 4, axis=-1)  # M(|u| sin phi_j) = M(|u| cos phi_{j - N/4})
        results.append(float(np.sum(w * np.exp(log_a + log_b))))
        radial_error, top = 2 * float(np.max(error)), max(top, 2 * top_n)
        converged = len(results) > 1 and abs(results[-1] - results[-2]) <= PAIR_CONVERGED * results[-1]
        if converged or n >= count:
            break
        n, k = 2 * n, 2 * k
    return results[-1], abs(results[-1] - results[-2]) + radial_error * results[-1], top, (n, k)


def pair_fourth_moment(dim: int, disc: Callable | None = None) -> tuple[float, float]:
    r""":math:`E[t_1^2 t_2^2]` for two frequencies of one orthogonal block, :math:`t_i = \omega_i\cdot e` (any unit
    :math:`e`): :math:`(E R^2)^2 E[a^2 b^2]` over the disc law, by the same rules.  (value, error estimate)."""
    disc = disc or _disc_rule
    log_r2, radial_error, _ = log_chi_mgf(dim, np.zeros(1), power=2)
    values = []
    for n, k in ((DIRECTION_NODES, ANGLE_NODES), (DIRECTION_NODES // 2, ANGLE_NODES // 2)):
        a, b, w = disc(dim, n, k)
        values.append(float(np.sum(w * a**2 * b**2)))
    value = float(np.exp(2 * log_r2[0])) * values[0]
    return value, abs(values[0] - values[1]) * value / values[0] + 2 * float(radial_error[0]) * value


def same_block_pairs(features: int, dim: int) -> int:
    """Ordered pairs of distinct frequencies that share an orthogonal block (blocks of ``dim`` columns)."""
    full, rest = divmod(features, dim)
    return full * dim * (dim - 1) + rest * (rest - 1)


def pair_moment_samples(rng: np.random.Generator, dim: int, replicates: int, sign_fix: bool = True,
                        chunk: int = CHUNK, fixed_norms: bool = False) -> tuple[BatchStream, BatchStream, BatchStream]:
    r"""The sampler under test: per replicate one block of :math:`d` orthogonal frequencies (Haar columns times
    :math:`\chi_d` norms; ``fixed_norms``, a known-false variant: :math:`\sqrt d`), with :math:`t = \omega\cdot e_1`
    the mean over its :math:`d(d-1)` ordered pairs of :math:`t_i^2 t_j^2`, the mean over its :math:`d` frequencies
    of :math:`t_i^4`, and :math:`Q_{11}`; streamed."""
    pairs, fourth, first = BatchStream(replicates), BatchStream(replicates), BatchStream(replicates)
    for count in replicate_chunks(replicates, dim, chunk):
        q = haar_blocks(rng, (count,), dim, sign_fix)
        norms = np.full((count, dim), dim**0.5) if fixed_norms else np.sqrt(rng.chisquare(dim, size=(count, dim)))
        squares = (q[:, 0, :] * norms) ** 2  # t_i^2: first coordinates of the columns times their norms
        pairs.add((np.sum(squares, axis=-1) ** 2 - np.sum(squares**2, axis=-1)) / (dim * (dim - 1)))
        fourth.add(np.mean(squares**2, axis=-1))
        first.add(q[:, 0, 0])
    return pairs, fourth, first


def single_fourth_moment(dim: int) -> tuple[float, float]:
    r""":math:`E t^4 = E R^4\,E a^4` for one orthogonal frequency (:math:`R \sim \chi_d`, :math:`a` one Haar
    direction's component), by the rules above: (value, error estimate)."""
    log_r4, radial_error, _ = log_chi_mgf(dim, np.zeros(1), power=4)
    alpha = (dim - 3) / 2
    values = [float(np.sum(w * a**4)) for a, w in (_jacobi(n, alpha, alpha) for n in (DIRECTION_NODES, DIRECTION_NODES // 2))]
    value = float(np.exp(log_r4[0])) * values[0]
    return value, abs(values[0] - values[1]) * value / values[0] + float(radial_error[0]) * value


ORTHOGONAL_QUADRATURE_RTOL = 1e-11  # the quadrature must reach this relative error estimate, else NumericError


def orthogonal_mse_quadrature(
    x: np.ndarray,
    y: np.ndarray,
    features: int,
    constant: float,
    replicates: int,
    seed: int,
    sign_fix: bool = True,
    count: int = DIRECTION_NODES,
    angles: int = ANGLE_NODES,
    disc: Callable[[int, int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
    fixed_norms: bool = False,
) -> Estimate:
    r"""F3: the MSE of :math:`m` orthogonal positive features by quadrature over the laws of one and two Haar
    directions (see above), the reduction :math:`\mathrm{MSE_{iid}} - \mathrm{MSE_{ort}} = -\frac{P}{m^2}\mathrm{Cov}`
    (:math:`P` ordered same-block pairs), and the claimed reduction ``constant`` :math:`\cdot(e^{x\cdot y} -
    e^{-(|x|^2+|y|^2)/2})^2`, each with an error estimate (quadrature change plus the rounding bound).

    The sampler itself is tested by Monte Carlo at any norm (its law does not depend on :math:`x, y`):
    ``first_entry`` (mean of :math:`Q_{11}`, 0 for Haar), ``pair_moment`` (mean of :math:`t_i^2t_j^2` over pairs of one
    block) against ``pair_moment_reference``, the same moment from the disc law, and ``fourth_moment``
    (:math:`E t^4`, which sees the radial law) against ``fourth_moment_reference``.  ``disc`` and ``fixed_norms``
    replace the pair law of the quadrature and the norms of the sampler (known-false variants).
    """
    dim = x.size
    u = x + y
    spread = float(np.linalg.norm(u))
    sq = float(x @ x + y @ y)
    target = float(np.exp(x @ y))
    g1, e1, t1 = _single_direction_mean(dim, spread, 1.0, count)
    g2, e2, t2 = _single_direction_mean(dim, spread, 2.0, count)
    g12, e12, t12, (radii, phis) = _pair_mean(dim, spread, count, angles, disc)
    reference, reference_error = pair_fourth_moment(dim, disc)
    rounding = (2 * max(t1, t2, t12) + 20 + np.log2(radii * phis * 2 * RADIAL_NODES)) * UNIT  # relative (see above)
    mean, second, cross = np.exp(-sq / 2) * g1, np.exp(-sq) * g2, np.exp(-sq) * g12
    mean_err = np.exp(-sq / 2) * (e1 + rounding * g1)
    second_err, cross_err = np.exp(-sq) * (e2 + rounding * g2), np.exp(-sq) * (e12 + rounding * g12)
    pairs = same_block_pairs(features, dim)
    share = pairs / features**2
    covariance = cross - mean**2
    mse_iid = (second - mean**2) / features + (mean - target) ** 2
    mse = mse_iid + share * covariance
    reduction = -share * covariance
    scale = second / features + share * cross + (1 + 1 / features + share) * mean**2 + target**2
    mse_err = (second_err / features + share * cross_err + 2 * (mean / features + share * mean + abs(mean - target)) * mean_err
               + 16 * UNIT * scale)
    reduction_err = share * (cross_err + 2 * mean * mean_err + 16 * UNIT * (cross + mean**2))
    if max(mse_err, reduction_err) > ORTHOGONAL_QUADRATURE_RTOL * scale:
        raise NumericError(
            f"orthogonal MSE quadrature did not converge: error estimate {max(mse_err, reduction_err) / scale:.2g} of the scale"
        )
    bound_reduction = constant * (target - np.exp(-sq / 2)) ** 2
    rng = np.random.default_rng(seed)
    moments, fourth, first = pair_moment_samples(rng, dim, replicates, sign_fix, fixed_norms=fixed_norms)
    single_reference, single_reference_error = single_fourth_moment(dim)
    return Estimate(
        value=float(mse),
        method=(
            f"MSE of {features} orthogonal positive features by quadrature of the one- and two-direction Haar laws "
            f"({count} Gauss-Jacobi nodes for one direction, {radii} x {phis} on the disc, chi_d moment generating "
            f"function by Gauss-Legendre); the sampler checked on {replicates} blocks"
        ),
        n=radii * phis,
        seed=seed,
        details={
            "error": float(mse_err),
            "reduction": float(reduction),
            "reduction_error": float(reduction_err),
            "bound_reduction": float(bound_reduction),
            "bound_reduction_error": float(16 * UNIT * bound_reduction + 8 * UNIT * abs(constant) * target**2),
            "mse_iid": float(mse_iid),
            "mean": float(mean),
            "same_block_pairs": pairs,
            "pair_moment": mean_estimate(moments, "mean of t_i^2 t_j^2 over the ordered pairs of one block", seed),
            "pair_moment_reference": reference,
            "pair_moment_reference_error": reference_error,
            "fourth_moment": mean_estimate(fourth, "mean of t_i^4 over the frequencies of one block", seed),
            "fourth_moment_reference": single_reference,
            "fourth_moment_reference_error": single_reference_error,
            **haar_check(first),
        },
    )


def _variant_disc_rule_single_exponent(dim: int, count: int, angles: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Known-false: the pair law on the disc with the one-direction exponent :math:`(d-3)/2` instead of
    :math:`(d-4)/2` (the Jacobian of the second direction forgotten)."""
    phi = 2 * np.pi * (np.arange(angles) + 0.5) / angles
    x, weights = _jacobi(count, (dim - 3) / 2, 0.0)
    radius = np.sqrt((1 + x) / 2)
    a, b = radius[:, None] * np.cos(phi), radius[:, None] * np.sin(phi)
    return a, b, np.broadcast_to(weights[:, None] / angles, a.shape)


def _variant_orthogonal_fixed_norms(
    x: np.ndarray, y: np.ndarray, features: int, replicates: int, seed: int, sign_fix: bool = True
) -> Estimate:
    r"""Known-false: orthogonal directions all scaled to :math:`\sqrt d` (the Performer's "scaling" option)
    instead of independent :math:`\chi_d` norms, so :math:`\omega_i` is not :math:`N(0, I_d)`."""
    rng = np.random.default_rng(seed)
    estimates, first, _ = _tilted_orthogonal_replicates(rng, x, y, features, replicates, sign_fix, CHUNK, fixed_norms=True)
    return mean_estimate(estimates, "orthogonal positive features with norms sqrt(d)", seed,
                         _resolution("positive", x, y), **haar_check(first))


def _variant_orthogonal_without_norm_factor(
    x: np.ndarray, y: np.ndarray, features: int, replicates: int, seed: int, sign_fix: bool = True
) -> Estimate:
    r"""Known-false: orthogonal positive features of :math:`x` without the factor :math:`e^{-|x|^2/2}`."""
    rng = np.random.default_rng(seed)
    estimates, first, _ = _tilted_orthogonal_replicates(rng, x, y, features, replicates, sign_fix, CHUNK, sq=float(y @ y))
    return mean_estimate(estimates, "orthogonal positive features without e^{-|x|^2/2}", seed,
                         _resolution("positive", x, y), **haar_check(first))
