"""Every comparison has proven power: it rejects its compared quantities moved by their resolution.

One generic test over all registered claims (no per-claim code): each claim's
declared :class:`~twofold.model.Probe` records say what is compared and the
smallest error it must reject; :func:`twofold.power.challenges` moves the
estimate, then the exact result, by that much in each direction, and inflates a
Monte Carlo standard error tenfold.  The claim's own ``compare`` must say FAIL
to every one, so a comparison that ignores a part, compares a value with
itself, or has a tolerance far looser than its resolution fails here.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import twofold
from twofold import crosscheck, power
from twofold.contract import Estimate
from twofold.model import Comparison, Derivation, Probe

CLAIMS = twofold.all_claims()


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda claim: claim.id)
def test_every_challenge_is_rejected(claim: twofold.Claim, quick_verdicts: dict[str, twofold.Verdict]) -> None:
    verdict = quick_verdicts[claim.id]
    assert claim.resolution, f"{claim.id} declares no resolution (Claim.resolution)"
    assert all(probe.reason for probe in claim.resolution)
    assert verdict.passed, verdict.summary()
    params = dict(verdict.params)
    accepted = []
    for challenge in power.challenges(claim, verdict):
        comparison = claim.compare(challenge.derivation, challenge.estimate, params)
        if comparison.agree:
            accepted.append(f"{challenge.label}: {comparison.method} statistic {comparison.statistic:.3g} <= {comparison.threshold:.3g}")
    assert not accepted, f"{claim.id} accepts wrong inputs:\n" + "\n".join(accepted)


def _claim(compare, probe: Probe) -> twofold.Claim:
    return twofold.Claim(
        id="demo.power", title="demo", statement="x", source="test",
        derive=lambda p: Derivation(steps=(), result=1.0, conclusion=""),
        estimate=lambda p, seed: Estimate(value=1.0, method="demo", n=1), compare=compare, resolution=(probe,),
    )


def _accepted(claim: twofold.Claim, derivation: Derivation, estimate: Estimate) -> list[str]:
    verdict = twofold.Verdict(claim.id, (), True, 0.0, derivation, estimate, None)
    return [c.label for c in power.challenges(claim, verdict) if claim.compare(c.derivation, c.estimate, {}).agree]


def test_a_comparison_with_itself_is_caught() -> None:
    """The detector has power of its own: a self-comparison passes the moved estimate's challenge only on the exact side."""
    probe = Probe("relative", 1e-6, reason="test")
    selfish = _claim(lambda d, e, p: crosscheck.relative_error(e.value, e, 1e-9), probe)
    honest = _claim(lambda d, e, p: crosscheck.relative_error(d.result, e, 1e-9), probe)
    derivation, estimate = Derivation((), 2.0, ""), Estimate(value=2.0, method="demo", n=1)
    assert _accepted(honest, derivation, estimate) == []
    assert len(_accepted(selfish, derivation, estimate)) == 4


def test_a_loose_tolerance_is_caught() -> None:
    probe = Probe("relative", 1e-6, reason="test")
    loose = _claim(lambda d, e, p: crosscheck.relative_error(d.result, e, 1e-3), probe)
    assert len(_accepted(loose, Derivation((), 2.0, ""), Estimate(value=2.0, method="demo", n=1))) == 4


def test_an_unchecked_standard_error_is_caught() -> None:
    """A z-test without batch means accepts a tenfold standard error; with them it does not."""
    probe = Probe("sigma", 6.0, reason="5-sigma test plus margin")
    claim = _claim(lambda d, e, p: crosscheck.z_score(d.result, e), probe)
    rng = np.random.default_rng(0)
    batches = rng.normal(1.0, 0.1, size=64)
    se = 0.1 / np.sqrt(64)
    bare = Estimate(value=float(batches.mean()), method="demo", n=64, stderr=se)
    checked = dataclasses.replace(bare, replicate_stderr=float(batches.std(ddof=1) / 8), replicates=64)
    derivation = Derivation((), 1.0, "")
    assert _accepted(claim, derivation, bare) == ["probe 0 (sigma 6 on value): s.e. inflated x10"]
    assert _accepted(claim, derivation, checked) == []


def test_array_parts_and_indexed_results_move_entrywise() -> None:
    probe = Probe("sigma", 6.0, reason="test", key="means", stderr_key="stderrs", index=1)
    estimate = Estimate(value=0.0, method="demo", n=1, details={"means": np.array([1.0, 2.0]), "stderrs": np.array([0.1, 0.2])})
    moved = power.shift_estimate(estimate, probe, 1)
    assert np.allclose(moved.details["means"], [1.6, 3.2])
    derivation = Derivation((), (0, np.array([1.0, 2.0])), "")
    assert np.allclose(power.shift_exact(derivation, estimate, probe, -1).result[1], [0.4, 0.8])
    assert np.allclose(power.inflate_stderr(estimate, probe).details["stderrs"], [1.0, 2.0])


def test_zero_variance_estimates_are_compared_at_rounding() -> None:
    exact = 0.7788007830714049
    estimate = Estimate(value=exact * (1 + 2**-52), method="demo", n=10, stderr=0.0)
    assert crosscheck.z_score(exact, estimate).agree
    assert not crosscheck.z_score(exact, dataclasses.replace(estimate, value=exact * (1 + 1e-12))).agree


def test_an_exception_inside_a_claim_is_that_claims_fail() -> None:
    def broken(p, seed):
        raise ZeroDivisionError("1/0 in the estimator")

    claim = dataclasses.replace(twofold.get_claim("taylor.even_positive"), estimate=broken)
    verdict = claim.verify(seed=0)
    assert not verdict.passed
    assert verdict.failure.startswith("internal error in the numerics: ZeroDivisionError")


def test_comparisons_carry_signed_z_scores() -> None:
    c = crosscheck.all_of(
        crosscheck.z_score(1.0, Estimate(value=1.2, method="d", n=1, stderr=0.1)),
        crosscheck.z_score(1.0, Estimate(value=0.9, method="d", n=1, stderr=0.1)),
    )
    assert isinstance(c, Comparison) and np.allclose(c.zscores, (2.0, -1.0))
