r"""Calibration over seeds: a true Monte Carlo claim's z-scores follow N(0, 1), its p-values U(0, 1).

Generic over the registry.  A claim is statistical when its comparison carries
signed z-scores or p-values (``Comparison.zscores`` / ``pvalues``).  For the
cheapest statistical claim of each family the default suite runs 50 seeds; the
``slow`` marker runs every statistical claim over 200 seeds.  Two tests at
:math:`\alpha = 10^{-3}` each decide: Kolmogorov–Smirnov against the reference
law, and for z-scores the variance test :math:`\sum z^2 \sim \chi^2_N`, which is
what catches a standard error off by a factor of 2 (:math:`\sum z^2` four
times too large or too small) at these sample sizes.

False-failure budget: two tests at 1e-3 per claim, so at most 2e-3 per claim
and about 2e-2 for the default selection of 8 families (the suite is
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


def _scores(claim: twofold.Claim, seeds: int) -> tuple[np.ndarray, np.ndarray]:
    """The first z-score and p-value of the comparison at each seed 1..seeds (seed 0 is the quick verdict's)."""
    zs, ps = [], []
    for seed in range(1, seeds + 1):
        comparison = claim.verify(seed=seed).comparison
        assert comparison is not None
        zs.extend(comparison.zscores[:1])
        ps.extend(comparison.pvalues[:1])
    return np.asarray(zs), np.asarray(ps)


def _cheapest_per_family(quick_verdicts: dict[str, twofold.Verdict]) -> list[str]:
    chosen: dict[str, str] = {}
    for claim_id in sorted(_statistical(quick_verdicts), key=lambda c: quick_verdicts[c].seconds):
        chosen.setdefault(claim_id.split(".")[0], claim_id)
    return sorted(chosen.values())


def test_calibration_detects_a_stderr_off_by_two() -> None:
    """The detector has power: z-scores of a standard error half the true one (z doubled) are rejected."""
    z = np.random.default_rng(7).standard_normal(QUICK_SEEDS)
    assert calibration_failures(z, np.array([])) == []
    assert calibration_failures(2 * z, np.array([]))
    assert calibration_failures(z / 2, np.array([]))


def test_each_statistical_family_is_calibrated(quick_verdicts: dict[str, twofold.Verdict]) -> None:
    chosen = _cheapest_per_family(quick_verdicts)
    statistical_families = {c.split(".")[0] for c in _statistical(quick_verdicts)}
    assert {c.split(".")[0] for c in chosen} == statistical_families
    assert {"favor", "sampling"} <= statistical_families
    problems = {}
    for claim_id in chosen:
        failures = calibration_failures(*_scores(twofold.get_claim(claim_id), QUICK_SEEDS))
        if failures:
            problems[claim_id] = failures
    assert not problems


@pytest.mark.slow
def test_every_statistical_claim_is_calibrated_over_200_seeds(quick_verdicts: dict[str, twofold.Verdict]) -> None:
    problems = {}
    for claim_id in _statistical(quick_verdicts):
        failures = calibration_failures(*_scores(twofold.get_claim(claim_id), SLOW_SEEDS))
        if failures:
            problems[claim_id] = failures
    assert not problems
