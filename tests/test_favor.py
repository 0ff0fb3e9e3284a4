"""favor family: CLAIMS.md F1–F4 formulas, Monte Carlo cross-checks over seeds, the Haar pitfall,
linear attention, counterexamples and parameter validation.

Statistical tests use 5-sigma (or Bonferroni-corrected) z-scores: at most 5.7e-7 false failures per
check for normal statistics; every standard error is also checked against batch means.  Positive and
hyperbolic moments are estimated with an exponential tilt (importance sampling), which keeps the weighted
terms near-normal up to |x| = |y| = 3 (docs/families/favor.md).  All seeds are fixed, so every run of this
file is deterministic.
"""

from __future__ import annotations

import dataclasses
import math
import re
from functools import cache

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import twofold
import twofold.registry
from twofold.numerics import favor as numeric
from twofold.theorems import favor as exact

FAMILY = twofold.select(["favor"])


def claims_f2(norm_x: float, norm_y: float, cos_angle: float, m: int) -> dict[str, float]:
    """CLAIMS.md F2, typed in independently of theorems/ (reference formulas)."""
    dot = norm_x * norm_y * cos_angle
    plus, minus, sm = norm_x**2 + norm_y**2 + 2 * dot, norm_x**2 + norm_y**2 - 2 * dot, math.exp(dot)
    positive = math.exp(plus) * sm**2 * (1 - math.exp(-plus)) / m
    return {
        "positive": positive,
        "hyperbolic": 0.5 * (1 - math.exp(-plus)) * positive,
        "trigonometric": math.exp(plus) * sm**-2 * (1 - math.exp(-minus)) ** 2 / (2 * m),
    }


@cache
def derivation_of(claim_id: str) -> twofold.Derivation:
    claim = twofold.get_claim(claim_id)
    return claim.derive(claim.resolve())


# --- every claim, quick profile, several seeds (derivation once, estimator per seed) -----------------


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("claim", FAMILY, ids=lambda c: c.id)
def test_quick_profile_passes_for_several_seeds(claim: twofold.Claim, seed: int) -> None:
    params = claim.resolve()
    comparison = claim.compare(derivation_of(claim.id), claim.estimate(params, seed), params)
    assert comparison.agree, comparison


def test_verify_runs_the_whole_claim() -> None:
    verdict = twofold.get_claim("favor.positive_unbiased").verify(seed=0, m=8)
    assert verdict.passed and verdict.derivation.steps and verdict.estimate.stderr > 0


# --- F1/F2: exact formulas against CLAIMS.md and against quadrature ------------------------------


@given(
    norm_x=st.floats(0.0, 1.5),
    norm_y=st.floats(0.0, 1.5),
    angle=st.integers(0, 180),
    m=st.integers(1, 64),
)
def test_exact_mse_matches_claims_md(norm_x: float, norm_y: float, angle: int, m: int) -> None:
    values = exact.pair_values(round(norm_x, 3), round(norm_y, 3), angle)
    reference = claims_f2(round(norm_x, 3), round(norm_y, 3), math.cos(math.radians(angle)), m)
    for kind in exact.KINDS:
        derived = float(sympy.N(exact.claimed_mse(kind).subs(values).subs(exact.m, m), 20))
        assert derived == pytest.approx(reference[kind], rel=1e-9, abs=1e-300)


@given(norm_x=st.floats(0.05, 2.5), norm_y=st.floats(0.05, 2.5), angle=st.floats(0.0, 180.0))
def test_quadrature_mse_matches_claims_md(norm_x: float, norm_y: float, angle: float) -> None:
    x, y = numeric.pair(norm_x, norm_y, angle, 2)
    reference = claims_f2(norm_x, norm_y, math.cos(math.radians(angle)), 1)
    for kind in exact.KINDS:
        value, _ = numeric.single_feature_mse(kind, x[None], y[None])
        assert value[0] == pytest.approx(reference[kind], rel=1e-7, abs=1e-12 * math.exp(2 * float(x @ y)))


def test_ratio_threshold_is_sqrt_of_sqrt2_minus_1() -> None:
    assert float(exact.sign_threshold()) == pytest.approx(math.sqrt(math.sqrt(2) - 1), rel=1e-15)


def test_ratio_limits_are_derived() -> None:
    steps = {step.description: step for step in exact.mse_ratio(exact.pair_values(0.5, 0.3, 120)).steps}
    assert steps[r"equal norms: $r \to 0$ as the angle $\to 0$"].rhs == 0
    assert steps[r"$r \to \infty$ as $\mathrm{SM} \to 0$"].rhs == sympy.oo


def test_positive_features_are_exact_when_x_equals_minus_y() -> None:
    x, y = numeric.pair(0.7, 0.7, 180.0, 2)
    spread = np.linalg.norm(x + y)
    assert spread < 1e-15
    assert numeric.single_feature_mse("positive", x[None], y[None])[0][0] < 1e-30


def test_positive_wins_grid_reports_both_regions() -> None:
    estimate = numeric.grid_comparison(2.0, 4, 12)
    sm, trig, pos = (np.asarray(estimate.details[k]) for k in ("sm", "mse_trigonometric", "mse_positive"))
    assert np.all(trig[sm < 0.6436] > pos[sm < 0.6436])
    assert np.all(trig[sm >= 1] <= pos[sm >= 1] / 2)
    assert 0 < estimate.value < sm.size


# --- F3: Haar-correct orthogonal blocks ---------------------------------------------------------------


def test_haar_blocks_are_orthogonal() -> None:
    q = numeric.haar_blocks(np.random.default_rng(0), (50,), 6)
    assert np.allclose(np.swapaxes(q, -1, -2) @ q, np.eye(6), atol=1e-12)


def test_numpy_qr_without_sign_fix_is_not_haar() -> None:
    rng = np.random.default_rng(0)
    raw = numeric.haar_blocks(rng, (4000,), 8, sign_fix=False)
    fixed = numeric.haar_blocks(rng, (4000,), 8, sign_fix=True)
    assert np.all(raw[:, 0, 0] < 0)  # Householder QR: Q_11 = -|A_11|/|A_:1|
    assert abs(fixed[:, 0, 0].mean()) < 5 * fixed[:, 0, 0].std() / np.sqrt(4000)
    assert 0.4 < np.mean(fixed[:, 0, 0] < 0) < 0.6


def test_estimate_without_sign_fix_is_biased() -> None:
    x, y = numeric.pair(0.5, 0.5, 60.0, 8)
    fixed = numeric.kernel_mean("positive", x, y, 8, 20_000, 0, orthogonal=True, sign_fix=True)
    raw = numeric.kernel_mean("positive", x, y, 8, 20_000, 0, orthogonal=True, sign_fix=False)
    target = math.exp(x @ y)
    assert abs(fixed.value - target) / fixed.stderr < 5
    assert (target - raw.value) / raw.stderr > 20


def test_orthogonal_mse_is_below_bound_and_below_iid() -> None:
    mse_ort, bound, mse_pos, reduction, bound_reduction = (
        float(v) for v in exact.orthogonal_mse(8, 8, exact.pair_values(0.3, 0.3, 30)).result
    )
    assert mse_ort < bound < mse_pos
    assert reduction == pytest.approx(mse_pos - mse_ort, rel=1e-9) and bound_reduction == pytest.approx(mse_pos - bound, rel=1e-9)


def test_kummer_closed_form_for_odd_dimension() -> None:
    mse_ort, bound, *_ = (float(v) for v in exact.orthogonal_mse(5, 3, exact.pair_values(0.3, 0.2, 45)).result)
    assert 0 < mse_ort < bound


# --- F3 numerics at practitioners' norms: importance sampling of the sampler, quadrature of the Haar laws -------------


@pytest.mark.parametrize("dim", [2, 3, 8, 64])
def test_chi_moment_generating_function_against_kummer(dim: int) -> None:
    """E e^{sR}, R ~ chi_d, against 1F1(d/2; 1/2; s^2/2) + s sqrt2 G((d+1)/2)/G(d/2) 1F1((d+1)/2; 3/2; s^2/2) at 150 digits."""
    import mpmath

    s = np.array([-6.0, -0.5, 0.0, 0.7, 4.0, 12.0])
    log_m, error, _ = numeric.log_chi_mgf(dim, s)
    with mpmath.workdps(150):  # the two terms cancel to e^{-110} of their size at d = 64, s = -6
        reference = [
            float(mpmath.log(mpmath.hyp1f1(mpmath.mpf(dim) / 2, 0.5, mpmath.mpf(v) ** 2 / 2)
                             + mpmath.mpf(v) * mpmath.sqrt(2) * mpmath.gamma(mpmath.mpf(dim + 1) / 2) / mpmath.gamma(mpmath.mpf(dim) / 2)
                             * mpmath.hyp1f1(mpmath.mpf(dim + 1) / 2, 1.5, mpmath.mpf(v) ** 2 / 2)))
            for v in s
        ]
    assert np.allclose(log_m, reference, rtol=0, atol=1e-12)
    assert np.all(error < 1e-11)


@pytest.mark.parametrize("dim", [2, 3, 5, 64])
def test_disc_law_gives_the_haar_pair_moment(dim: int) -> None:
    """E[a^2 b^2] for two orthonormal Haar columns is 1/(d(d+2)), so E t_i^2 t_j^2 = d/(d+2) (iid: 1)."""
    value, error = numeric.pair_fourth_moment(dim)
    assert value == pytest.approx(dim / (dim + 2), rel=1e-12) and error < 1e-10


@pytest.mark.parametrize(("norm", "angle", "dim", "features"), [(0.3, 30.0, 8, 8), (3.0, 30.0, 64, 64), (1.0, 90.0, 3, 3), (2.0, 60.0, 2, 2)])
def test_orthogonal_mse_quadrature_matches_the_kummer_formula(norm: float, angle: float, dim: int, features: int) -> None:
    import sympy

    result = exact.orthogonal_mse(dim, features, exact.pair_values(norm, norm, angle)).result
    constant = 2 * (features - 1) / (features * (dim + 2))
    estimate = numeric.orthogonal_mse_quadrature(*numeric.pair(norm, norm, angle, dim), features, constant, 200, 0)
    assert estimate.value == pytest.approx(float(sympy.N(result[0], 30)), rel=1e-11)
    assert estimate.details["reduction"] == pytest.approx(float(sympy.N(result[3], 30)), rel=1e-11)
    assert estimate.details["bound_reduction"] == pytest.approx(float(sympy.N(result[4], 30)), rel=1e-12)
    assert estimate.details["error"] < 1e-8 * estimate.value


def test_orthogonal_mse_quadrature_agrees_with_plain_monte_carlo_at_small_norm() -> None:
    """Where plain Monte Carlo of the sampler is trustworthy (|x + y| = 0.58) it agrees with the quadrature."""
    x, y = numeric.pair(0.3, 0.3, 30.0, 8)
    quadrature = numeric.orthogonal_mse_quadrature(x, y, 8, 0.0, 100, 0)
    direct = numeric.kernel_mse("positive", x, y, 8, 40_000, 1, orthogonal=True)
    assert abs(direct.value - quadrature.value) < 5 * direct.stderr
    iid = quadrature.details["mse_iid"]
    assert (iid - quadrature.value) > 10 * direct.stderr  # the orthogonal reduction is resolved by the sampler


def test_iid_directions_fail_the_pair_moment() -> None:
    """The pair-moment check has power against a sampler whose directions are not orthogonal (iid Gaussian frequencies)."""
    rng = np.random.default_rng(0)
    omega = numeric.gaussian_frequencies(rng, 4000, 8, 8)
    squares = omega[..., 0] ** 2
    stream = numeric.BatchStream.of((np.sum(squares, -1) ** 2 - np.sum(squares**2, -1)) / 56)
    estimate = numeric.mean_estimate(stream, "iid", 0)
    reference, _ = numeric.pair_fourth_moment(8)
    assert abs(estimate.value - reference) / estimate.stderr > 9


@pytest.mark.parametrize(("norm", "angle", "dim", "features"), [(3.0, 60.0, 64, 256), (3.0, 0.0, 16, 40), (2.0, 120.0, 8, 8)])
def test_tilted_orthogonal_mean_is_unbiased_at_large_norms(norm: float, angle: float, dim: int, features: int) -> None:
    x, y = numeric.pair(norm, norm, angle, dim)
    estimate = numeric.kernel_mean("positive", x, y, features, 1000, 3, orthogonal=True)
    target = math.exp(x @ y)
    assert abs(estimate.value - target) < 5 * estimate.stderr
    assert estimate.stderr < 0.05 * target  # log-s.d. 0.5 after the tilt: about 0.5/sqrt(n) relative
    assert 0.5 < estimate.replicate_stderr / estimate.stderr < 2


def test_fixed_norms_fail_the_fourth_moment_not_the_pair_moment() -> None:
    """Norms sqrt(d) keep E t_i^2 t_j^2 = d/(d+2) but give E t^4 = 3d/(d+2) instead of 3: the fourth moment sees them."""
    rng = np.random.default_rng(0)
    pairs, fourth, _ = numeric.pair_moment_samples(rng, 8, 20_000, fixed_norms=True)
    reference, _ = numeric.pair_fourth_moment(8)
    assert abs(pairs.moments.mean - reference) < 5 * pairs.moments.stderr
    assert numeric.single_fourth_moment(8)[0] == pytest.approx(3.0, rel=1e-12)
    assert (3.0 - fourth.moments.mean) / fourth.moments.stderr > 20


def test_reflection_completes_a_haar_block() -> None:
    """The reflected blocks stay orthogonal and carry the tilted direction in the chosen column."""
    rng = np.random.default_rng(0)
    q = numeric.haar_blocks(rng, (20,), 6)
    target = rng.standard_normal((20, 6))
    target /= np.linalg.norm(target, axis=-1, keepdims=True)
    column = rng.integers(6, size=20)
    reflected = numeric._reflect_onto(q, column, target)
    assert np.allclose(np.swapaxes(reflected, -1, -2) @ reflected, np.eye(6), atol=1e-12)
    assert np.allclose(reflected[np.arange(20), :, column], target, atol=1e-12)


def test_stacked_blocks_need_m_at_most_d() -> None:
    assert exact.ordered_orthogonal_pairs(4, 4) == 12
    assert exact.ordered_orthogonal_pairs(8, 2) == 8
    with pytest.raises(twofold.DerivationError, match="constant of the bound"):  # 8 of 56 pairs orthogonal
        exact.orthogonal_mse(2, 8, exact.pair_values(0.3, 0.3, 30))


# --- F4: linear attention -------------------------------------------------------------------------------


@given(length=st.integers(1, 20), features=st.integers(1, 12), value_dim=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_linear_and_quadratic_orders_agree(length: int, features: int, value_dim: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    qf, kf = rng.uniform(0.1, 2.0, (2, length, features))
    values = rng.standard_normal((length, value_dim))
    for causal in (False, True):
        pairs = zip(
            numeric.linear_terms(qf, kf, values, causal), numeric.quadratic_terms(qf, kf, values, causal), strict=True
        )
        for linear, quadratic in pairs:
            np.testing.assert_allclose(linear, quadratic, rtol=1e-12, atol=1e-12)


def test_causal_softmax_attention_is_masked() -> None:
    queries, keys, values = numeric.attention_inputs(5, 3, 2, 1.0, 0)
    causal = numeric.softmax_attention(queries, keys, values, causal=True)
    assert np.allclose(causal[0], values[0])
    assert np.allclose(causal[-1], numeric.softmax_attention(queries, keys, values)[-1])


def test_favor_attention_keeps_float32() -> None:
    queries, keys, values = (a.astype(np.float32) for a in numeric.attention_inputs(16, 4, 2, 0.5, 0))
    omega = np.random.default_rng(0).standard_normal((32, 4), dtype=np.float32)
    assert numeric.favor_attention(queries, keys, values, omega).dtype == np.float32


def test_attention_error_shrinks_like_inverse_sqrt_m() -> None:
    errors = numeric.attention_error_by_features(*numeric.attention_inputs(8, 4, 2, 0.5, 0), (16, 256), 400, 0)
    assert 0.15 < errors[256] / errors[16] < 0.4  # m^{-1/2} predicts 0.25


def test_attention_target_is_exact() -> None:
    queries, keys, values = (sympy.Matrix(a) for a in ([[0, 1], [1, 0]], [[1, 0], [1, 1]], [[1], [2]]))
    stacked = exact.attention_target(queries, keys, values, normalise=False).result
    assert stacked[0] - (1 + 2 * sympy.E) == 0  # e^{q_1.k_1} v_1 + e^{q_1.k_2} v_2 = e^0 + 2e
    assert stacked[2] == 1  # the causal first row sees only the first key


def test_attention_identity_counts_multiplications() -> None:
    steps = exact.attention_identity(5, 3, 2).steps
    counts = {step.description: step.rhs for step in steps if step.description.startswith("multiplications")}
    assert counts[r"multiplications in $K'^{\top} V$"] == 5 * 3 * 2
    assert counts[r"multiplications in $Q'K'^{\top}$"] == 25 * 3


# --- counterexamples: every hypothesis dropped at its witness fails visibly ----------------------------


def dropped(claim_id: str, name: str) -> twofold.Verdict:
    claim = twofold.get_claim(claim_id)
    return claim.verify(drop=(name,), **claim.hypothesis(name).witness)


def test_trigonometric_weights_are_negative() -> None:
    verdict = dropped("favor.attention_weights", "non-negative features")
    assert not verdict.passed
    assert verdict.derivation.result == -1 and verdict.estimate.value < 0
    assert verdict.estimate.details["infimum"] == pytest.approx(-1.0, abs=1e-15)
    assert verdict.estimate.details["fraction_negative"] > 0.05
    assert verdict.estimate.details["fraction_rows_not_probability"] > 0.1


def test_raw_qr_fails_orthogonal_unbiasedness() -> None:
    verdict = dropped("favor.orthogonal_unbiased", "Haar directions")
    assert not verdict.passed
    assert verdict.comparison.statistic > 20
    assert verdict.estimate.details["first_entry"].value < -0.2


def test_raw_qr_fails_orthogonal_mse() -> None:
    verdict = dropped("favor.orthogonal_mse", "Haar directions")
    assert not verdict.passed and verdict.failure is None


def test_stacked_blocks_break_the_orthogonal_bound() -> None:
    verdict = dropped("favor.orthogonal_mse", "m <= d")
    assert not verdict.passed
    assert "constant of the bound" in verdict.failure and "does not simplify to 0" in verdict.failure


def test_normalised_attention_is_biased() -> None:
    verdict = dropped("favor.numerator_unbiased", "unnormalised numerator")
    assert not verdict.passed
    assert verdict.comparison.statistic > 2 * verdict.comparison.threshold


def test_share_undefined_at_x_equals_y_equals_0() -> None:
    verdict = dropped("favor.mse_ratio", "x, y not both 0")
    assert not verdict.passed
    assert "MSE_trig + MSE_pos" in verdict.failure


@pytest.mark.parametrize("claim", FAMILY, ids=lambda c: c.id)
def test_every_witness_violates_its_hypothesis(claim: twofold.Claim) -> None:
    for hypothesis in claim.hypotheses:
        with pytest.raises(twofold.HypothesisError, match=re.escape(hypothesis.name)):
            claim.resolve(**hypothesis.witness)


# --- parameter validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim_id", "override"),
    [
        ("favor.positive_mse", {"norm_x": 3.5}),
        ("favor.orthogonal_mse", {"norm_x": 3.5}),
        ("favor.positive_unbiased", {"m": 0}),
        ("favor.positive_unbiased", {"samples": 10**9}),
        ("favor.orthogonal_unbiased", {"sign_fix": 2}),
        ("favor.orthogonal_mse", {"d": 256}),
        ("favor.numerator_unbiased", {"L": 1000}),
        ("favor.attention_weights", {"features": "cosine"}),
        ("favor.numerator_unbiased", {"normalise": "maybe"}),
        ("favor.positive_unbiased", {"samples": 10}),
        ("favor.positive_wins", {"angle_steps": 10**6}),
        ("favor.mse_ratio", {"angle": 270.0}),
    ],
)
def test_out_of_bounds_parameters_are_rejected(claim_id: str, override: dict) -> None:
    with pytest.raises(twofold.ParameterError):
        twofold.get_claim(claim_id).resolve(**override)


# --- full profile --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("claim", FAMILY, ids=lambda c: c.id)
def test_full_profile_passes(claim: twofold.Claim) -> None:
    assert claim.verify(profile="full").passed


# --- trustworthy verdicts (issue 14): zero variance, whole angle range, large norms, batch means ---------------


@pytest.mark.parametrize("claim_id", ["favor.positive_unbiased", "favor.hyperbolic_unbiased", "favor.orthogonal_unbiased"])
def test_zero_variance_at_180_degrees_passes(claim_id: str) -> None:
    """At x = -y (equal norms, 180 degrees) positive and hyperbolic estimators are exact: zero variance."""
    verdict = twofold.get_claim(claim_id).verify(angle=180.0)
    assert verdict.passed, verdict.summary()
    assert verdict.estimate.value == pytest.approx(math.exp(-0.25), rel=1e-13)


def test_zero_variance_estimate_off_by_more_than_rounding_fails() -> None:
    claim = twofold.get_claim("favor.positive_unbiased")
    verdict = claim.verify(angle=180.0)
    moved = dataclasses.replace(verdict.estimate, value=verdict.estimate.value * (1 + 1e-9))
    assert not claim.compare(verdict.derivation, moved, dict(verdict.params)).agree


@pytest.mark.parametrize("angle", [0.0, 45.0, 90.0, 135.0, 180.0])
def test_mse_share_over_the_whole_angle_range(angle: float) -> None:
    verdict = twofold.get_claim("favor.mse_ratio").verify(angle=angle)
    assert verdict.passed, verdict.summary()
    if angle in (0.0, 180.0):  # q = 0 (trigonometric exact at x = y) and 1 (positive exact at x = -y)
        assert float(verdict.derivation.result) == (0.0 if angle == 0.0 else 1.0)


@pytest.mark.parametrize("claim_id", [f"favor.{kind}_{what}" for kind in exact.KINDS for what in ("unbiased", "mse")])
@pytest.mark.parametrize("angle", [0.0, 100.0])
def test_large_norms_pass_with_tilted_estimators(claim_id: str, angle: float) -> None:
    """|x| = |y| = 3 (|x + y| up to 6): plain Monte Carlo of e^{omega.(x+y)} would need ~e^36 samples."""
    verdict = twofold.get_claim(claim_id).verify(seed=5, norm_x=3.0, norm_y=2.5, angle=angle, d=16, m=64, samples=1000)
    assert verdict.passed, verdict.summary()


def test_untilted_positive_mse_at_large_norm_is_untrustworthy() -> None:
    """Without the tilt the same estimator underestimates the MSE by orders of magnitude at |x| = |y| = 3."""
    x, y = numeric.pair(3.0, 3.0, 60.0, 8)
    exact_mse = claims_f2(3.0, 3.0, 0.5, 16)["positive"]
    plain = numeric.iid_mse(np.random.default_rng(0), "positive", x, y, 16, 2000, tilt=None)
    tilted = numeric.iid_mse(np.random.default_rng(0), "positive", x, y, 16, 2000)
    assert plain.value < 1e-3 * exact_mse
    assert abs(tilted.value - exact_mse) < 5 * tilted.stderr


def test_tilt_factor_leaves_small_spreads_untilted() -> None:
    assert numeric.tilt_factor(1, 0.4) == 0.0
    assert numeric.tilt_factor(1, 6.0) == pytest.approx(1 - 0.5 / 6)
    assert numeric.tilt_factor(2, 6.0) == pytest.approx(1 - 0.5 / 12)
    assert numeric.tilt_factor(1, 6.0, tilt=None) == 0.0


def test_batch_means_measure_the_standard_error() -> None:
    rng = np.random.default_rng(3)
    ratios = [numeric.batch_stderr(sample) / (sample.std(ddof=1) / np.sqrt(sample.size))
              for sample in rng.standard_normal((200, 3200))]
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.05)  # E s_B/se = c_4(32) ~ 0.992
    with pytest.raises(twofold.NumericError):
        numeric.batch_stderr(np.ones(10))


def test_every_monte_carlo_estimate_has_batch_means() -> None:
    for claim in FAMILY:
        params = claim.resolve()
        estimate = claim.estimate(params, 0)
        if estimate.stderr is not None:
            assert estimate.replicate_stderr is not None and estimate.replicates == numeric.BATCHES, claim.id
    numerator = twofold.get_claim("favor.numerator_unbiased")
    details = numerator.estimate(numerator.resolve(), 0).details
    assert details["batch_stderrs"].shape == details["stderrs"].shape


def test_a_tenfold_stderr_fails_the_orthogonal_haar_check() -> None:
    claim = twofold.get_claim("favor.orthogonal_unbiased")
    verdict = claim.verify()
    first = verdict.estimate.details["first_entry"]
    inflated = dataclasses.replace(verdict.estimate, details={"first_entry": dataclasses.replace(first, stderr=10 * first.stderr)})
    assert not claim.compare(verdict.derivation, inflated, dict(verdict.params)).agree


def test_factor_infimum_numerically() -> None:
    assert numeric.factor_infimum("positive") == 0.0
    assert numeric.factor_infimum("hyperbolic") == 1.0
    assert numeric.factor_infimum("trigonometric") == pytest.approx(-1.0, abs=1e-15)


# --- exact side: general steps, constants from checked steps ------------------------------------------------


@pytest.mark.parametrize("claim_id", ["favor.positive_unbiased", "favor.trigonometric_unbiased", "favor.positive_mse"])
def test_unbiasedness_and_mse_are_proved_for_every_dimension(claim_id: str) -> None:
    derivation = derivation_of(claim_id)
    assert derivation.proved_for and derivation.kinds()["general"] >= 2
    general = [step for step in derivation.steps if step.kind == "general"]
    assert any({exact.a, exact.b, exact.c} <= getattr(step.lhs, "free_symbols", set()) | getattr(step.rhs, "free_symbols", set())
               for step in general)


def test_orthogonal_constant_comes_from_the_pair_count() -> None:
    """The claim's 2(m-1)/(m(d+2)) is checked against P/m^2 * 2/(d+2) with P = m(m-1): m for m - 1 is refused."""
    values = exact.pair_values(0.3, 0.3, 30)
    steps = {step.description: step for step in exact.orthogonal_mse(8, 8, values).steps}
    assert any(description.startswith("constant of the bound") for description in steps)
    with pytest.raises(twofold.DerivationError, match="constant of the bound"):
        exact._variant_orthogonal_m_for_m_minus_1(8, 8, values)
    with pytest.raises(twofold.DerivationError, match="constant of the bound"):
        exact.orthogonal_mse(8, 8, values, constant=4 * (exact.m - 1) / (exact.m * (exact.d + 2)))


def test_mse_share_formula_matches_claims_md() -> None:
    for angle in (30, 120):
        reference = claims_f2(1.0, 0.5, math.cos(math.radians(angle)), 1)
        share = reference["trigonometric"] / (reference["trigonometric"] + reference["positive"])
        assert float(exact.mse_ratio(exact.pair_values(1.0, 0.5, angle)).result) == pytest.approx(share, rel=1e-12)


def test_attention_identity_at_practical_sizes() -> None:
    verdict = twofold.get_claim("favor.attention_identity").verify(profile="full")
    assert verdict.passed and dict(verdict.params)["L"] >= 64 and dict(verdict.params)["m"] >= 16
    assert verdict.derivation.kinds()["general"] >= 1


@pytest.mark.parametrize("mistake", twofold.registry.family("favor").mistakes, ids=lambda m: m.name)
def test_every_mistake_is_invalid(mistake) -> None:
    from twofold.parsing import symbol_table
    from twofold.stepcheck import check_text

    claim = twofold.get_claim(mistake.claims[0])
    symbols = symbol_table(claim.symbols)
    assert check_text(mistake.wrong, symbols, claim.functions, timeout=10).outcome == "invalid"


# --- calibration over 200 seeds (slow) -------------------------------------------------------------------------

STATISTICAL = [
    "favor.positive_unbiased", "favor.positive_mse", "favor.hyperbolic_unbiased", "favor.hyperbolic_mse",
    "favor.trigonometric_unbiased", "favor.trigonometric_mse", "favor.mse_ratio", "favor.orthogonal_unbiased",
    "favor.orthogonal_mse", "favor.numerator_unbiased",
]


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", STATISTICAL)
def test_z_scores_are_standard_normal_over_200_seeds(claim_id: str) -> None:
    from scipy import stats

    claim = twofold.get_claim(claim_id)
    z = np.array([claim.verify(seed=seed).comparison.zscores[0] for seed in range(1, 201)])
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert stats.chi2.ppf(5e-4, z.size) < np.sum(z**2) < stats.chi2.isf(5e-4, z.size)
