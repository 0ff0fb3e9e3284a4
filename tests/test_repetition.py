"""Family 8 (repetition, R1–R5): reference values, cross-checks, counterexamples, validation, properties.

CLAIMS.md states R1–R5 without numbers; the reference values below are worked
out by hand (uniform chain, a 2-state chain, small greedy maps).

False-failure rates: the only statistical check is the Monte Carlo z-test of
``repetition.repeated_walks`` at 5 sigma (<= 5.7e-7 under the normal
approximation) plus its step cap (a pair of runs outliving it: <= 1e-6), so
< 2e-6 per verdict; the default run makes 3 such verdicts (< 5e-6) and the
slow 20-seed run 20 (< 4e-5).  Seeds are fixed, so every outcome is
deterministic.  The surveys (random Dirichlet chains) search for
counterexamples to theorems; they cannot fail except by a bug.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import twofold
from twofold.numerics import repetition as numeric
from twofold.theorems import repetition as exact
from twofold.contract import DerivationError, HypothesisError, NumericError, ParameterError

CLAIMS = [claim.id for claim in twofold.select(["repetition"])]
INSTANCE_CLAIMS = [c for c in CLAIMS if any(p.name == "chain" for p in twofold.get_claim(c).parameters)]
TWO_STATE = [[1, 1], [1, 3]]  # P = [[1/2, 1/2], [1/4, 3/4]]
THREE_CYCLE = [[0, 1, 0], [0, 0, 1], [1, 0, 0]]
TEMPERATURE_COUNTEREXAMPLE = [[1, 8, 2], [6, 2, 7], [6, 7, 7]]  # integer_weights(3, 340)


def claim(claim_id: str) -> twofold.Claim:
    return twofold.get_claim(claim_id)


def exact_chain(weights: list[list[int]]) -> tuple[sympy.Matrix, sympy.Poly]:
    _, Q, chi = exact.chain(weights)
    return Q, chi


# ---------------------------------------------------------------- registry and quick profile


def test_family_has_every_claim_of_claims_md() -> None:
    titles = " ".join(claim(c).title for c in CLAIMS)
    assert [f"(R{i})" in titles for i in range(1, 6)] == [True] * 5
    assert all(c.startswith("repetition.") for c in CLAIMS)


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_quick_profile_passes(claim_id: str) -> None:
    verdict = claim(claim_id).verify(seed=0)
    assert verdict.passed, verdict.summary()


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("claim_id", ["repetition.repeated_walks", "repetition.spectral_bound", "repetition.flattening"])
def test_random_claims_pass_for_other_seeds(claim_id: str, seed: int) -> None:
    verdict = claim(claim_id).verify(seed=seed)
    assert verdict.passed, verdict.summary()


@pytest.mark.parametrize("chain", [1, 7, 123])
def test_other_instances_pass(chain: int) -> None:
    for claim_id in INSTANCE_CLAIMS:
        overrides = {"chain": chain, "n": 3}
        verdict = claim(claim_id).verify(seed=0, **overrides)
        assert verdict.passed, (claim_id, verdict.summary())


@pytest.mark.slow
def test_twenty_seeds_never_flake() -> None:
    """Every claim, quick profile, seeds 0..19; the Monte Carlo |z| stay below 5 (false-failure rate < 4e-5)."""
    failures, z_scores = [], []
    for claim_id in CLAIMS:
        for seed in range(20):
            verdict = claim(claim_id).verify(seed=seed)
            if not verdict.passed:
                failures.append((claim_id, seed, verdict.summary()))
            if claim_id == "repetition.repeated_walks":
                z_scores.append(verdict.comparison.statistic)
    assert failures == []
    assert max(z_scores) < 5
    print("repeated_walks |z| over seeds 0..19:", [round(z, 2) for z in z_scores])


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", CLAIMS)
def test_full_profile_passes(claim_id: str) -> None:
    verdict = claim(claim_id).verify(seed=0, profile="full")
    assert verdict.passed, verdict.summary()


# ---------------------------------------------------------------- reference values (by hand)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_uniform_chain_reference(n: int) -> None:
    """P = J/n: Q = J/n^2 has eigenvalues 1/n, 0, ...: R = 1/(n-1), rho = 1/n, ratio = 1/n."""
    weights = [[1] * n for _ in range(n)]
    Q, chi = exact_chain(weights)
    assert exact.resolvent_trace(Q) == sympy.Rational(1, n - 1)
    assert exact.perron_root(chi) == sympy.Rational(1, n)
    assert exact.spectral_bound(weights).result == sympy.Rational(1, n)
    assert exact.row_sum_bounds(weights).result[0] == sympy.Rational(1, n)
    estimate = numeric.eigen(numeric.transition_matrix(weights))
    assert estimate.value == pytest.approx(1 / (n - 1), rel=1e-13)
    assert estimate.details["ratio"] == pytest.approx(1 / n, rel=1e-13)


def test_two_state_reference() -> None:
    """P = [[1/2, 1/2], [1/4, 3/4]]: chi_Q = x^2 - 13x/16 + 1/8, R = chi'(1)/chi(1) - 2 = 9/5,
    rho = (13 + sqrt 41)/32, row sums 1/2 and 5/8."""
    Q, chi = exact_chain(TWO_STATE)
    assert chi.as_expr() == exact.x**2 - sympy.Rational(13, 16) * exact.x + sympy.Rational(1, 8)
    assert exact.series_identity(TWO_STATE).result == sympy.Rational(9, 5)
    rho = exact.row_sum_bounds(TWO_STATE).result[0]
    assert sympy.simplify(rho - (13 + sympy.sqrt(41)) / 32) == 0
    assert sympy.Rational(1, 2) < rho < sympy.Rational(5, 8)
    P = numeric.transition_matrix(TWO_STATE)
    assert numeric.series(P).value == pytest.approx(9 / 5, rel=1e-12)
    low, high = numeric.collatz_wielandt(P, chains=1, seed=0).interval
    assert low <= (13 + 41**0.5) / 32 <= high


def test_three_cycle_reference() -> None:
    """f = (0 1 2): chi_Q = x^3 - 1, one cycle, tr(Q^k) = 3 [3 | k], S_3M = 3M."""
    derivation = exact.greedy_cycle(THREE_CYCLE, periods=5)
    assert derivation.result == (1, 1)
    assert "S_15 = 15" in derivation.steps[-1].check
    estimate = numeric.greedy_cycles(numeric.transition_matrix(THREE_CYCLE))
    assert estimate.details["cycles"] == [[0, 1, 2]]
    assert estimate.details["growth_rate"] == pytest.approx(1.0)
    assert estimate.details["rho"] == pytest.approx(1.0, abs=1e-12)


def test_default_instance_has_complex_eigenvalues() -> None:
    """R2's default instance exercises the complex case: 2 of the 4 eigenvalues of Q are not real."""
    weights = numeric.integer_weights(4, 0).tolist()
    derivation = exact.spectral_bound(weights)
    assert "non-real eigenvalues: 2" in derivation.steps[-1].check
    assert numeric.eigen(numeric.transition_matrix(weights)).details["complex_eigenvalues"] == 2


# ---------------------------------------------------------------- the three numeric routes to R


def test_series_eigen_and_monte_carlo_agree() -> None:
    P = numeric.transition_matrix(numeric.integer_weights(5, 3))
    series, eigen = numeric.series(P), numeric.eigen(P)
    low, high = series.interval
    assert low <= eigen.value <= high
    walks = numeric.repeated_walks(P, 100_000, seed=4)
    assert abs(walks.value - eigen.value) <= 5 * walks.stderr  # 5 sigma: false failure <= 5.7e-7


def test_monte_carlo_uniform_chain() -> None:
    """Uniform chain, n = 3: R = 1/2; per start, N_i is geometric-like with mean 1/6."""
    estimate = numeric.repeated_walks(numeric.transition_matrix([[1] * 3] * 3), 90_000, seed=0)
    assert abs(estimate.value - 0.5) <= 5 * estimate.stderr
    assert estimate.details["pairs_per_start"] == 30_000


def test_series_tail_bound_is_rigorous_even_with_a_one_hot_row() -> None:
    """Row 0 one-hot into a non-deterministic rest: ||Q||_inf = 1 but ||Q^2||_inf < 1; the tail bound uses m = 2."""
    weights = [[0, 1, 0], [2, 1, 3], [1, 1, 1]]
    estimate = numeric.series(numeric.transition_matrix(weights))
    assert estimate.details["block"] == 2
    Q, _ = exact_chain(weights)
    low, high = estimate.interval
    assert low <= float(exact.resolvent_trace(Q)) <= high


# ---------------------------------------------------------------- counterexamples (dropped hypotheses)


def test_rho_one_counterexample_series_diverges() -> None:
    verdict = claim("repetition.series_identity").verify(drop=("rho < 1",), greedy=1)
    assert not verdict.passed
    assert "count_roots(1, oo) = 1" in verdict.failure
    assert "never separate" in verdict.failure and "[[0], [2, 3]]" in verdict.failure


def test_rho_one_counterexample_monte_carlo() -> None:
    verdict = claim("repetition.repeated_walks").verify(drop=("rho < 1",), greedy=1)
    assert not verdict.passed and "||Q^4||_inf = 1" in verdict.failure


def test_rho_one_counterexample_bound() -> None:
    verdict = claim("repetition.spectral_bound").verify(drop=("rho < 1",), greedy=1)
    assert not verdict.passed and "rho(Q) = 1.00000000000000" in verdict.failure


def test_not_greedy_counterexample() -> None:
    verdict = claim("repetition.greedy_cycle").verify(drop=("greedy one-hot chain",), greedy=0)
    assert not verdict.passed
    assert "multiplicity of x - 1 in chi_Q: 0" in verdict.failure


def test_temperature_is_not_monotone() -> None:
    """Temperature flattening P ~ w^beta, beta = 6 -> 5 -> 4 -> 3, raises rho(Q) (certified exactly)."""
    with pytest.raises(DerivationError, match=r"\\rho\$ decreases from step 0 to 1"):
        exact.flattening(TEMPERATURE_COUNTEREXAMPLE, scheme=1, grid=6)
    rho = numeric.spectral_radius(numeric.hadamard_square(numeric.ladder(TEMPERATURE_COUNTEREXAMPLE, 1, np.arange(7), 6)))
    assert np.all(np.diff(rho[:4]) > 1e-3)
    assert np.all(np.diff(rho[3:]) < 0)
    witness = claim("repetition.flattening").hypothesis("flattening mixes with the uniform row").witness
    assert numeric.integer_weights(witness["n"], witness["chain"]).tolist() == TEMPERATURE_COUNTEREXAMPLE


def test_mixing_can_raise_rho_reference() -> None:
    """Phrase of m = 6 into a flat block of r = 5, t = 3/20: rho(Q_0) = 1/5; at t the phrase rows have
    sum of squares (19/22)^2 + 10 (3/220)^2 = 3619/4840 = 329/440 < 1 (the R3 bound falls from 1), yet rho rises."""
    weights = numeric.lead_in_weights(6, 5)
    derivation = exact.mixing_raises_rho(weights.tolist(), 6, sympy.Rational(3, 20))
    assert "1 at t = 0, 329/440 at t = 3/20" in derivation.steps[0].check
    assert derivation.steps[1].rhs == sympy.Rational(1, 5)
    assert derivation.result > 0
    estimate = numeric.mixing_rise(weights, 0.15, 201)
    assert estimate.details["rho_start"] == pytest.approx(0.2, rel=1e-13)
    assert estimate.details["row_sum_bound_mixed"] == pytest.approx(329 / 440, rel=1e-14)
    assert estimate.value == pytest.approx(float(derivation.result), abs=1e-12)


def test_mixing_rise_without_the_sufficient_condition() -> None:
    """m = 4, r = 4, t = 1/5 violates the cycle condition, yet rho still rises (the condition is only sufficient);
    m = 3 gives no rise: dropping the hypothesis there fails at the certificate."""
    assert numeric.mixing_rise(numeric.lead_in_weights(4, 4), 0.2, 11).value > 0.006
    verdict = claim("repetition.mixing_can_raise_rho").verify(
        drop=("phrase cycle outweighs the block",), lead_in=3, block=4, mix=0.2
    )
    assert not verdict.passed and "but mixing raises rho" in verdict.failure


@settings(max_examples=30)
@given(lead_in=st.integers(1, 10), block=st.integers(2, 8), mix=st.floats(0.01, 0.99))
def test_phrase_cycle_condition_implies_a_rise(lead_in: int, block: int, mix: float) -> None:
    params = {"lead_in": lead_in, "block": block, "mix": mix}
    hypothesis = claim("repetition.mixing_can_raise_rho").hypothesis("phrase cycle outweighs the block")
    if hypothesis.holds(params):
        assert numeric.mixing_rise(numeric.lead_in_weights(lead_in, block), mix, 2).value > 0


# ---------------------------------------------------------------- validation


def test_parameters_are_validated() -> None:
    with pytest.raises(ParameterError, match="below its lower bound"):
        claim("repetition.series_identity").resolve(n=1)
    with pytest.raises(ParameterError, match="above its upper bound"):
        claim("repetition.series_identity").resolve(greedy=2)
    with pytest.raises(ParameterError, match="above its upper bound"):
        claim("repetition.repeated_walks").resolve(walks=10**8)
    with pytest.raises(HypothesisError, match="rho < 1"):
        claim("repetition.series_identity").resolve(greedy=1)
    with pytest.raises(HypothesisError, match="greedy"):
        claim("repetition.greedy_cycle").resolve(greedy=0)
    with pytest.raises(HypothesisError, match="uniform"):
        claim("repetition.flattening").resolve(scheme=1)


# ---------------------------------------------------------------- properties


weight_matrices = st.integers(2, 4).flatmap(
    lambda n: st.lists(st.lists(st.integers(1, 30), min_size=n, max_size=n), min_size=n, max_size=n)
)


@settings(max_examples=30)
@given(weights=weight_matrices)
def test_exact_and_numeric_R_agree(weights: list[list[int]]) -> None:
    Q, chi = exact_chain(weights)
    total = exact.resolvent_trace(Q)
    assert total == exact.log_derivative_sum(chi)
    assert chi.count_roots(1, None) == 0
    low, high = numeric.series(numeric.transition_matrix(weights)).interval
    assert low <= float(total) <= high


@settings(max_examples=30)
@given(weights=weight_matrices)
def test_bound_and_row_sums_hold_exactly(weights: list[list[int]]) -> None:
    Q, chi = exact_chain(weights)
    n, total = Q.rows, exact.resolvent_trace(Q)
    assert chi.count_roots(total / (n + total), None) >= 1  # rho >= R/(n+R) <=> R <= n rho/(1-rho)
    sums = [sum(Q.row(i)) for i in range(n)]
    assert chi.count_roots(min(sums), None) >= 1
    assert chi.count_roots(max(sums), None) - (1 if chi.eval(max(sums)) == 0 else 0) == 0


@settings(max_examples=40)
@given(
    weights=st.integers(2, 5).flatmap(
        lambda n: st.lists(st.lists(st.integers(0, 4), min_size=n, max_size=n).filter(any), min_size=n, max_size=n)
    )
)
def test_multiplicity_of_eigenvalue_one_counts_one_hot_cycles(weights: list[list[int]]) -> None:
    """rho(Q) = 1 exactly when the one-hot rows contain a cycle; the multiplicity of 1 counts those cycles."""
    _, chi = exact_chain(weights)
    P = numeric.transition_matrix(weights)
    cycles = numeric.one_hot_cycles(P)
    assert exact.multiplicity_of_one(chi) == len(cycles)
    assert (chi.count_roots(1, None) > 0) == bool(cycles)
    if cycles:
        with pytest.raises(NumericError, match="never separate"):
            numeric.decay(P)


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 6), t=st.floats(0, 1))
def test_mixing_shrinks_row_sums_like_one_minus_t_squared(seed: int, n: int, t: float) -> None:
    P = numeric.dirichlet_chains(n, 0.5, 1, np.random.default_rng(seed))[0]
    mixed = numeric.ladder(P, 0, np.array([t]), 1)[0]
    rows, mixed_rows = (P * P).sum(axis=1), (mixed * mixed).sum(axis=1)
    assert np.allclose(mixed_rows - 1 / n, (1 - t) ** 2 * (rows - 1 / n), atol=1e-14)


# ---------------------------------------------------------------- bound tightness (R2) and flattening (R5)


def test_tightness_survey_medians_near_one_over_n() -> None:
    """Typical chains have one eigenvalue near rho and the rest small, so R ~ rho/(1-rho): ratio ~ 1/n."""
    survey = numeric.tightness_survey(6, chains=300, seed=0)
    assert survey["violations"] == {"bound": 0, "row_sums": 0}
    assert all(0.1 < m < 0.3 for m in survey["median_ratio"].values())
    assert max(survey["max_ratio"].values()) <= 1.0


def test_bound_is_asymptotically_sharp() -> None:
    """P = (1-e) I + e C (C a cyclic shift): all eigenvalues of Q crowd at rho -> 1, ratio -> 1 (never reached)."""
    n = 5
    shift = np.roll(np.eye(n), 1, axis=1)
    ratios = [numeric.eigen((1 - e) * np.eye(n) + e * shift).details["ratio"] for e in (0.3, 0.1, 0.01)]
    assert ratios == sorted(ratios) and ratios[-1] > 0.99 and ratios[-1] < 1


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_surveys_find_no_counterexample(seed: int) -> None:
    for n in (3, 8):
        assert numeric.tightness_survey(n, chains=1000, seed=seed)["violations"] == {"bound": 0, "row_sums": 0}
    estimate = numeric.flattening(numeric.integer_weights(4, seed), 0, 8, 201, 50, seed)
    assert estimate.details["survey_increasing"] == 0 and estimate.value == 8


# ---------------------------------------------------------------- Monte Carlo calibration, sparse regime


def _walk_scores(seeds: range, halve: bool = False) -> np.ndarray:
    c = claim("repetition.repeated_walks")
    params = c.resolve()
    derivation = c.derive(params)
    zs = []
    for seed in seeds:
        estimate = c.estimate(params, seed)
        if halve:
            estimate = numeric._variant_stderr_halved(numeric.transition_matrix(numeric.integer_weights(params["n"], params["chain"])), params["walks"], seed)
        zs.append(c.compare(derivation, estimate, params).zscores[0])
    return np.asarray(zs)


def test_repeated_walks_stderr_is_checked_by_batch_means() -> None:
    """A standard error 2x too small is a failed verdict at seed 0 already (the batch-means chi-square test)."""
    c = claim("repetition.repeated_walks")
    params = c.resolve()
    right = c.verify(seed=0)
    assert right.passed and right.estimate.replicates == 100
    halved = numeric._variant_stderr_halved(numeric.transition_matrix(numeric.integer_weights(params["n"], params["chain"])), params["walks"], 0)
    comparison = c.compare(right.derivation, halved, params)
    assert not comparison.agree and "batch-means" in comparison.method


@pytest.mark.slow
def test_repeated_walks_is_calibrated_over_200_seeds() -> None:
    """KS of 200 z-scores against N(0,1) and sum z^2 against chi2(200), at 1e-3; the halved s.e. fails both."""
    from scipy import stats

    from tests.test_calibration import calibration_failures

    zs = _walk_scores(range(1, 201))
    print("repetition.repeated_walks KS z", stats.kstest(zs, "norm").pvalue, "sum z^2", float(np.sum(zs**2)))
    assert calibration_failures(zs, np.array([])) == []
    assert calibration_failures(2 * zs, np.array([]))


def test_sparse_row_sum_bounds_at_two_thousand_tokens() -> None:
    """n = 2000, 5 tokens per row: the exact rational enclosure is tight (< 1e-14 relative) and meets ARPACK's interval."""
    verdict = claim("repetition.row_sum_bounds").verify(seed=0, n=2000, width=5, chains=20)
    assert verdict.passed, verdict.summary()
    centre, radius = (float(part) for part in verdict.derivation.result)
    assert 0 < radius < 1e-14 * centre
    low, high = verdict.estimate.interval
    assert low <= centre <= high and verdict.estimate.details["nonzeros"] == 10_000


def test_sparse_enclosure_rejects_a_wrong_rho() -> None:
    """The same instance with the exact enclosure moved by 1e-12 relative: the comparison refuses it."""
    c = claim("repetition.row_sum_bounds")
    params = c.resolve(n=1000, width=5, chains=10)
    derivation, estimate = c.derive(params), c.estimate(params, 0)
    centre, radius = derivation.result
    moved = twofold.Derivation(derivation.steps, sympy.Tuple(centre * (1 + sympy.Rational(1, 10**12)), radius), "")
    assert c.compare(derivation, estimate, params).agree
    assert not c.compare(moved, estimate, params).agree


def test_sparse_spectral_bound_at_a_thousand_tokens() -> None:
    """n = 1000, 5 tokens per row: rho < 1 certified exactly, the LU value of R inside [tr Q, n h/(1-h)], rho enclosures meet;
    the same comparison refuses a numeric R moved beyond the exact bound."""
    import dataclasses

    c = claim("repetition.spectral_bound")
    params = c.resolve(n=1000, width=5, chains=10)
    verdict = c.verify(seed=0, n=1000, width=5, chains=10)
    assert verdict.passed, verdict.summary()
    assert verdict.derivation.proved_for and len(verdict.derivation.result) == 4
    low, high = (float(part) for part in verdict.derivation.result[2:])
    assert low <= verdict.estimate.value <= high
    beyond = dataclasses.replace(verdict.estimate, value=2 * high, interval=(2 * high, 2 * high))
    assert not c.compare(verdict.derivation, beyond, params).agree
