r"""Statistics shared by the Monte Carlo families (sampling, repetition): one copy, not one per family.

* :func:`mean_with_batches` — the mean of :math:`m` i.i.d. values, its standard error
  :math:`s/\sqrt m`, and the same standard error measured a second way from
  :math:`B` batch means (:math:`s_B/\sqrt B`), as an :class:`~twofold.contract.Estimate`.
  ``twofold.crosscheck.z_score`` tests the two against each other
  (:math:`(B-1)s_{\mathrm{rep}}^2/\mathrm{se}^2 \sim \chi^2_{B-1}`), so a standard error
  off by a factor 2 either way is itself a failed check.
* :func:`law_fit` — counts of :math:`N` i.i.d. draws against a claimed law: Pearson's
  chi-square (cells expecting fewer than 5 pooled) and a distribution-free bound on
  the total variation distance, each at level ``alpha``; the chi-square p-value is
  kept for calibration over seeds.
* :func:`proportion` — a binomial proportion with its standard error and batch-means twin.

Sympy-free (numerics never import the exact side).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy

from twofold.contract import Estimate, NumericError

BATCHES = 100
"""Default number of batch means: with 99 degrees of freedom the chi-square check of the
standard error rejects a factor 2 (statistic 4x or 1/4x its mean) far beyond its 1e-6 level."""

MIN_EXPECTED = 5.0
"""Chi-square cells with a smaller expected count are pooled."""


def batch_means(values: np.ndarray, batches: int = BATCHES) -> tuple[float, float, float, int]:
    r"""``(mean, s.e., batch-means s.e., B)`` of i.i.d. ``values``.

    The values are cut into :math:`B` equal consecutive batches (a remainder of
    fewer than :math:`B` values is left out of the batch means only); the batch
    means are i.i.d. with variance :math:`\sigma^2/b`, so :math:`s_B/\sqrt B`
    estimates the standard error :math:`\sigma/\sqrt m` of the full mean
    (up to the factor :math:`\sqrt{Bb/m} \le 1 + B/m`).
    """
    values = np.asarray(values, dtype=float).ravel()
    m = values.size
    if m < 2 * batches:
        raise NumericError(f"{m} values are too few for {batches} batch means")
    mean = float(values.mean())
    stderr = float(values.std(ddof=1) / math.sqrt(m))
    size = m // batches
    means = values[: size * batches].reshape(batches, size).mean(axis=1)
    replicate = float(means.std(ddof=1) / math.sqrt(batches) * math.sqrt(size * batches / m))
    return mean, stderr, replicate, batches


def mean_with_batches(values: np.ndarray, method: str, seed: int | None, batches: int = BATCHES, **details) -> Estimate:
    """An :class:`Estimate` of the mean of i.i.d. ``values`` with its standard error checked by batch means."""
    mean, stderr, replicate, count = batch_means(values, batches)
    return Estimate(
        value=mean,
        stderr=stderr,
        method=f"{method}; s.e. s/√m, checked by {count} batch means",
        n=int(np.size(values)),
        seed=seed,
        details=details,
        replicate_stderr=replicate,
        replicates=count,
    )


def proportion(flags: np.ndarray, method: str, seed: int | None, batches: int = BATCHES, **details) -> Estimate:
    """A proportion of i.i.d. 0/1 ``flags``: :func:`mean_with_batches` of the flags (s.e. :math:`\\sqrt{p(1-p)/m}`)."""
    return mean_with_batches(np.asarray(flags, dtype=float), method, seed, batches, **details)


@dataclass(frozen=True)
class LawFit:
    """Outcome of :func:`law_fit`: chi-square against its critical value, TV against its bound, and the p-value."""

    chi2: float
    dof: int
    critical: float
    p_value: float
    tv: float
    tv_bound: float
    samples: int

    @property
    def passed(self) -> bool:
        return self.chi2 <= self.critical and self.tv <= self.tv_bound


def _pooled(observed: np.ndarray, expected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge the cells with the smallest expected counts until every cell expects at least :data:`MIN_EXPECTED`."""
    small = int(np.sum(expected < MIN_EXPECTED))
    if small == 0:
        return observed, expected
    order = np.argsort(expected, kind="stable")
    cut = max(small, int(np.searchsorted(np.cumsum(expected[order]), MIN_EXPECTED)) + 1)
    kept, pooled = order[cut:], order[:cut]
    return np.append(observed[kept], observed[pooled].sum()), np.append(expected[kept], expected[pooled].sum())


def law_fit(counts: np.ndarray, probabilities: np.ndarray, alpha: float) -> LawFit:
    r"""Test that ``counts`` (:math:`N` i.i.d. draws) come from ``probabilities``, by chi-square and by TV, each at ``alpha``.

    TV bound: :math:`\tfrac12\sqrt{(k-1)/N} + \sqrt{\ln(1/\alpha)/(2N)}` — the first term bounds
    :math:`E\,\mathrm{TV}` (Cauchy–Schwarz), the second is McDiarmid's inequality (one draw
    moves TV by at most :math:`1/N`).  The law is used as given (not renormalised):
    a law that does not sum to 1 is the caller's to reject.
    """
    observed = np.asarray(counts, dtype=float)
    law = np.asarray(probabilities, dtype=float)
    total = observed.sum()
    if total == 0:
        raise NumericError("no draws to test")
    support = int(np.sum(law > 0))
    tv = 0.5 * float(np.abs(observed / total - law).sum())
    tv_bound = 0.5 * math.sqrt(max(support - 1, 1) / total) + math.sqrt(math.log(1 / alpha) / (2 * total))
    impossible = bool(np.any((law <= 0) & (observed > 0)))
    cells, expected = _pooled(observed[law > 0], total * law[law > 0])
    dof = cells.size - 1
    if impossible:
        chi2, p_value = math.inf, 0.0
    elif dof == 0:
        chi2, p_value = 0.0, 1.0
    else:
        chi2 = float(np.sum((cells - expected) ** 2 / expected))
        p_value = float(scipy.stats.chi2.sf(chi2, dof))
    critical = float(scipy.stats.chi2.isf(alpha, dof)) if dof else 0.0
    return LawFit(chi2, dof, critical, p_value, tv, tv_bound, int(total))
