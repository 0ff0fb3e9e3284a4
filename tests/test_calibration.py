r"""Calibration over seeds: a true Monte Carlo claim's z-scores follow N(0, 1), its p-values U(0, 1).

Generic over the registry.  A claim is statistical when its comparison carries
signed z-scores or p-values (``Comparison.zscores`` / ``pvalues``).  For the
cheapest statistical claim of each family the default suite runs 50 seeds; the
``slow`` marker runs every statistical claim over 200 seeds.  Two tests at
:math:`\alpha = 10^{-3}` each decide: Kolmogorov–Smirnov against the reference
law, and for z-scores the variance test :math:`\sum z^2 \sim \chi^2_N`, which is
what catches a standard error off by a factor of 2 (:math:`\sum z^2` four
times too large or too small) at these sample sizes.

Every position of a comparison's statistics (orthogonal_mse has three z-scores:
the sampler's mean, pair moment and fourth moment) is a sample of its own.
Each position is tested at 1e-3 divided by the claim's number of positions
(Bonferroni; numerator_unbiased has 24), so the false-failure budget stays two
tests at 1e-3 per claim: at most 2e-3 per claim and about 2e-2 for the default selection (the suite is
derandomized: seeds 0..N-1 are fixed, so a run either always passes or always
fails; the budget says how likely a correct claim is to land on a failing seed set).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import twofold

LEVEL = 1e-3
QUICK_SEEDS = 50
SLOW_SEEDS = 200


def _statistical(quick_verdicts: dict[str, twofold.Verdict]) -> list[str]:
    return [
        claim_id for claim_id, verdict in quick_verdicts.items()
        if verdict.comparison is not None and (verdict.comparison.zscores or verdict.comparison.pvalues)
    ]


def calibration_failures(zscores: np.ndarray, pvalues: np.ndarray, level: float = LEVEL) -> list[str]:
    """Why a sample of z-scores (each N(0,1)) and p-values (each U(0,1)) is not what a true claim gives."""
    problems = []
    if zscores.size:
        ks = stats.kstest(zscores, "norm").pvalue
        if ks < level:
            problems.append(f"KS of {zscores.size} z-scores against N(0,1): p = {ks:.2g}")
        chi = float(np.sum(zscores**2))
        low, high = stats.chi2.ppf(level / 2, zscores.size), stats.chi2.isf(level / 2, zscores.size)
        if not low <= chi <= high:
            problems.append(f"sum z^2 = {chi:.4g} outside [{low:.4g}, {high:.4g}] (chi-square, {zscores.size} dof)")
    if pvalues.size:
        ks = stats.kstest(pvalues, "uniform").pvalue
        if ks < level:
            problems.append(f"KS of {pvalues.size} p-values against U(0,1): p = {ks:.2g}")
    return problems


def _scores(claim: twofold.Claim, seeds: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Per position k of the comparison's z-scores and p-values, the k-th one at each seed 1..seeds (seed 0
    is the quick verdict's): one sample per position, since positions within a seed may be correlated."""
    zs: dict[int, list[float]] = {}
    ps: dict[int, list[float]] = {}
    for seed in range(1, seeds + 1):
        comparison = claim.verify(seed=seed).comparison
        assert comparison is not None
        for k, z in enumerate(comparison.zscores):
            zs.setdefault(k, []).append(z)
        for k, p in enumerate(comparison.pvalues):
            ps.setdefault(k, []).append(p)
    assert all(len(v) == seeds for v in (*zs.values(), *ps.values())), "the number of statistics varies with the seed"
    empty = np.array([])
    return [(f"z[{k}]", np.asarray(v), empty) for k, v in zs.items()] + [(f"p[{k}]", empty, np.asarray(v)) for k, v in ps.items()]


def _problems(claim_ids: list[str], seeds: int) -> dict[str, list[str]]:
    """Calibration failures of each claim, every statistic position tested on its own at the level
    divided by the number of positions (Bonferroni), so each claim keeps its budget."""
    problems = {}
    for claim_id in claim_ids:
        samples = _scores(twofold.get_claim(claim_id), seeds)
        failures = [
            f"{position}: {failure}"
            for position, zscores, pvalues in samples
            for failure in calibration_failures(zscores, pvalues, LEVEL / len(samples))
        ]
        if failures:
            problems[claim_id] = failures
    return problems


def _cheapest_per_family(quick_verdicts: dict[str, twofold.Verdict]) -> list[str]:
    chosen: dict[str, str] = {}
    for claim_id in sorted(_statistical(quick_verdicts), key=lambda c: quick_verdicts[c].seconds):
        chosen.setdefault(claim_id.split(".")[0], claim_id)
    return sorted(chosen.values())


def test_calibration_detects_a_stderr_off_by_two(quick_verdicts: dict[str, twofold.Verdict]) -> None:
    """The detector has power: z-scores of a standard error half the true one (z doubled), or twice it, are
    rejected, also at the smallest per-position level the Bonferroni split uses (the claim with most statistics)."""
    positions = max(len(v.comparison.zscores) + len(v.comparison.pvalues) for v in quick_verdicts.values() if v.comparison)
    z = np.random.default_rng(7).standard_normal(QUICK_SEEDS)
    assert positions > 1
    for level in (LEVEL, LEVEL / positions):
        assert calibration_failures(z, np.array([]), level) == []
        assert calibration_failures(2 * z, np.array([]), level)
        assert calibration_failures(z / 2, np.array([]), level)


def test_each_statistical_family_is_calibrated(quick_verdicts: dict[str, twofold.Verdict]) -> None:
    chosen = _cheapest_per_family(quick_verdicts)
    statistical_families = {c.split(".")[0] for c in _statistical(quick_verdicts)}
    assert {c.split(".")[0] for c in chosen} == statistical_families
    assert {"favor", "sampling"} <= statistical_families
    assert not _problems(chosen, QUICK_SEEDS)


@pytest.mark.slow
def test_every_statistical_claim_is_calibrated_over_200_seeds(quick_verdicts: dict[str, twofold.Verdict]) -> None:
    assert not _problems(_statistical(quick_verdicts), SLOW_SEEDS)
