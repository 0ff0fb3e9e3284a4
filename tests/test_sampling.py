"""Family 6 (sampling, M1–M5): reference values, cross-checks, counterexamples, validation, properties.

Reference values are worked out by hand from the instances described in
``theorems/sampling.py`` (CLAIMS.md states M1–M5 without numbers).

False-failure rates: each verdict combines at most three tests at alpha = 1e-7
or 5 sigma (<= 5.7e-7 each), so one claim fails wrongly with probability
< 2e-6; the default run below makes 9 claims x 3 seeds = 27 verdicts
(< 5e-5), the slow 20-seed run 180 verdicts (< 3.6e-4).  Everything uses
fixed seeds, so the outcome is deterministic.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
import math

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import twofold
from benchmarks import bench_sampling
from twofold.numerics import sampling as numeric
from twofold.theorems import sampling as exact
from twofold.derivation import Proof
from twofold.contract import HypothesisError, ParameterError

CLAIMS = [claim.id for claim in twofold.select(["sampling"])]


def claim(claim_id: str) -> twofold.Claim:
    return twofold.get_claim(claim_id)


# ---------------------------------------------------------------- registry and quick profile


def test_family_has_every_claim_of_claims_md() -> None:
    titles = " ".join(claim(c).title for c in CLAIMS)
    assert [f"(M{i})" in titles for i in range(1, 6)] == [True] * 5
    assert all(c.startswith("sampling.") for c in CLAIMS)
    assert len(CLAIMS) == 9


@pytest.mark.parametrize("claim_id", CLAIMS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_profile_passes(claim_id: str, seed: int) -> None:
    verdict = claim(claim_id).verify(seed=seed)
    assert verdict.passed, verdict.summary()


@pytest.mark.slow
def test_twenty_seeds_never_flake() -> None:
    """Every sampling claim, quick profile, seeds 0..19: all 180 verdicts pass (false-failure rate < 3.6e-4)."""
    failures = [
        (claim_id, seed, verdict.summary())
        for claim_id in CLAIMS
        for seed in range(20)
        if not (verdict := claim(claim_id).verify(seed=seed)).passed
    ]
    assert failures == []


# ---------------------------------------------------------------- reference values (by hand)


def test_rejection_reference_values() -> None:
    acceptance, law = exact.rejection_law(6, sympy.Rational(5, 4)).result
    # Z = sum (i+1)^2 = 91, q_i = (i+1)/21, M = 5/4 * max rho/q = 5/4 * 126: Z/M = (2n+1)/(3nc) = 26/45
    assert acceptance == sympy.Rational(26, 45)
    assert list(law) == [sympy.Rational((i + 1) ** 2, 91) for i in range(6)]
    mean, a = exact.rejection_trials(6, sympy.Rational(5, 4)).result
    assert (mean, a) == (sympy.Rational(45, 26), sympy.Rational(26, 45))


def test_continuous_rejection_reference_value() -> None:
    # s = 1, c = 1: M = 2 e^(1/2), acceptance sqrt(2 pi)/M = sqrt(pi/(2e)) ~ 0.7602
    result = exact.rejection_continuous(sympy.Integer(1), sympy.Integer(1)).result
    assert sympy.simplify(result - sympy.sqrt(sympy.pi / (2 * sympy.E))) == 0
    assert float(result) == pytest.approx(0.760173450533, rel=1e-11)


def test_importance_reference_values() -> None:
    Z, mean = exact.importance(6, 0).result
    assert (Z, mean) == (91, sympy.Rational(sum(i * (i + 1) ** 2 for i in range(6)), 91))


def test_quartic_moments() -> None:
    value = exact.mh_continuous(sympy.Integer(0)).result
    assert float(value) == pytest.approx(2 * math.gamma(0.75) / math.gamma(0.25), rel=1e-14)
    assert float(value) == pytest.approx(0.675978240067, rel=1e-11)


def test_gibbs_acceptance_is_exactly_one() -> None:
    """Transfer matrices against brute force (written here): E_pi A and the law of (x_0, x_1) on {0,1,2}^3."""
    mean, acceptance, law = exact.gibbs(3, 3, 1).result
    states = list(itertools.product(range(3), repeat=3))
    weight = {s: math.prod(v + 1 for v in s) * 2 ** sum(a == b for a, b in zip(s, s[1:])) for s in states}
    Z = sum(weight.values())
    assert acceptance == 1 and sum(law) == 1
    assert mean == sympy.Rational(sum(w * sum(a == b for a, b in zip(s, s[1:])) for s, w in weight.items()), Z)
    assert law[3 * 2 + 1] == sympy.Rational(sum(w for s, w in weight.items() if s[:2] == (2, 1)), Z)


def test_gibbs_at_scale_is_exact_without_enumeration() -> None:
    """d = k = 10 (10^10 states): the pair law and E_pi A by transfer matrices, the ratio certificate over all local configurations."""
    derivation = exact.gibbs(10, 10, 1)
    mean, acceptance, law = derivation.result
    assert acceptance == 1 and sum(law) == 1 and len(law) == 100 and 0 < mean < 9
    assert any("121" in step.check or "12100" in step.check for step in derivation.steps)


def test_cgmh_space_and_law() -> None:
    """The closed-form law of (length, keyword) against brute force over the 14 sentences (written here)."""
    space = exact.sentences(3, 2)
    assert len(space) == 2 + 4 + 8
    mean, law = exact.cgmh(3, 2, 1).result
    weights = [exact.sentence_weight(s) for s in space]
    cells = [sum(w for s, w in zip(space, weights) if (len(s), 0 in s) == (size, key)) / sum(weights) for size in (1, 2, 3) for key in (False, True)]
    assert list(law) == cells
    assert mean == sympy.Rational(747, 377)


def test_cgmh_at_scale_draws_and_chains_keep_the_law() -> None:
    """Vocabulary 50, length 5 (3 * 10^8 sentences): i.i.d. draws and chains after 10 steps both pass the exact cell law."""
    _, law = exact.cgmh(5, 50, 1).result
    probabilities = np.array([float(p) for p in law])
    rng = np.random.default_rng(5)
    draws = numeric.sentence_draws(rng, 5, 50, 50_000)
    assert numeric.law_fit(np.bincount(numeric.sentence_cells(draws), minlength=10), probabilities).passed
    run = numeric.run_chains(rng, draws, numeric.cgmh_chain(5, 50, True), 10, observe=lambda t: (t >= 0).sum(axis=1))
    assert numeric.law_fit(np.bincount(numeric.sentence_cells(run.final), minlength=10), probabilities).passed
    wrong = numeric.run_chains(rng, draws, numeric.cgmh_chain(5, 50, False), 10, observe=lambda t: (t >= 0).sum(axis=1))
    assert not numeric.law_fit(np.bincount(numeric.sentence_cells(wrong.final), minlength=10), probabilities).passed


def test_convergence_result_and_mixing() -> None:
    classes, period, law, sampled = exact.mh_convergence(6, 2, sympy.Rational(1, 2), 50).result
    assert (classes, period) == (1, 1) and sum(law) == 1 and abs(sum(sampled) - 1) < 1e-28
    estimate = numeric.mh_convergence(6, 2, 0.5, 2000, 50, 4096, seed=0)
    assert estimate.details["tv_after_steps"] <= numeric.MIXED_TV / 2
    assert estimate.details["steps"] & (estimate.details["steps"] - 1) == 0  # a power of two (repeated squaring)


def _exact_ring_kernel(n: int, skew: int, bridge: Fraction) -> list[list[Fraction]]:
    """The ring MH kernel (lean 1/2) in exact fractions, written here from the definition."""
    weights = [Fraction(x + 1) ** skew for x in range(n)]
    bridges = ({n // 2 - 1, n // 2}, {0, n - 1})
    gate = lambda x, y: bridge if {x, y} in bridges else Fraction(1)  # noqa: E731
    kernel = [[Fraction(0)] * n for _ in range(n)]
    for x in range(n):
        for y in ((x + 1) % n, (x - 1) % n):
            q = Fraction(1, 2) * gate(x, y)
            if q:
                kernel[x][y] += q * min(Fraction(1), weights[y] / weights[x])
        kernel[x][x] = 1 - sum(kernel[x])
    return kernel


@pytest.mark.parametrize(("n", "skew", "bridge"), [(5, 2, Fraction(1, 2)), (8, 0, Fraction(1, 3)), (7, 4, Fraction(1))])
def test_certified_power_bound_holds_against_exact_powers(n: int, skew: int, bridge: Fraction) -> None:
    """The float squares stay within their rigorous row error of the exact rational P^t, and the sparse kernel is the dense one."""
    _, sparse = numeric.ring_kernel(n, skew, 0.5, float(bridge))
    dense = numeric.mh_matrix(numeric.ring_weights(n, skew), numeric.ring_proposal(n, 0.5, float(bridge)))
    np.testing.assert_allclose(sparse.toarray(), dense, rtol=0, atol=1e-15)
    kernel = _exact_ring_kernel(n, skew, bridge)
    assert np.abs(np.array(kernel, dtype=float) - sparse.toarray()).sum(axis=1).max() <= numeric.KERNEL_ROW_ERROR
    powers, _ = numeric.certified_power(sparse.toarray(), np.eye(n)[0], 0.0, 2**7, 1e-9)  # a point mass: never reached
    exact_power = kernel
    for _ in range(powers.steps.bit_length() - 1):
        exact_power = [[sum(exact_power[i][k] * exact_power[k][j] for k in range(n)) for j in range(n)] for i in range(n)]
    deviation = max(sum(abs(Fraction(powers.matrix[i, j]) - exact_power[i][j]) for j in range(n)) for i in range(n))
    assert powers.steps == 2**7 and 0 < powers.row_error < 1e-12
    assert deviation <= powers.row_error


def test_structure_of_split_periodic_and_odd_rings() -> None:
    """csgraph classes and networkx period on the sparse kernel, and the exact union-find / closed-walk steps where they hold."""
    from scipy.sparse import csgraph

    for n, skew, bridge, classes, period in ((6, 2, 0.0, 2, 1), (6, 0, 1.0, 1, 2), (7, 0, 1.0, 1, 1), (1000, 3, 0.25, 1, 1), (1000, 0, 1.0, 1, 2)):
        proposal, kernel = numeric.ring_kernel(n, skew, 0.5, bridge)
        assert csgraph.connected_components(proposal, directed=True, connection="strong")[0] == classes
        assert numeric.graph_structure(kernel).period == period
        if classes == 1 and period == 1:
            exact_classes, exact_period, _, _ = exact.mh_convergence(n, skew, sympy.Rational(str(bridge)), 1).result
            assert (exact_classes, exact_period) == (classes, period)


# ---------------------------------------------------------------- dropped hypotheses: visible failures with numbers


@pytest.mark.parametrize(
    ("claim_id", "hypothesis", "evidence"),
    [
        ("sampling.rejection_law", "envelope M q >= rho", "18 >= 36 is false"),
        ("sampling.rejection_trials", "envelope M q >= rho", "18 >= 36 is false"),
        ("sampling.rejection_continuous", "envelope M q >= rho", ">= 2*exp(1/2) is false"),
        ("sampling.importance", "proposal covers target", "55 - (91)"),
        ("sampling.mh_stationary", "Hastings correction", "max gap 10 at x = 4, y = 5"),
        ("sampling.mh_convergence", "proposal irreducible", "{0, 1, 2} | {3, 4, 5}"),
        ("sampling.mh_convergence", "aperiodic", "gcd 2"),
        ("sampling.mh_continuous", "symmetric proposal", "does not simplify to 0"),
        ("sampling.gibbs_acceptance", "proposal is the full conditional", "worst ratio"),
        ("sampling.cgmh_balance", "Hastings correction", "max gap 7/36"),
    ],
)
def test_dropped_hypothesis_fails_with_numbers(claim_id: str, hypothesis: str, evidence: str) -> None:
    c = claim(claim_id)
    witness = c.hypothesis(hypothesis).witness
    with pytest.raises(HypothesisError, match=hypothesis):
        c.verify(seed=0, **witness)
    verdict = c.verify(seed=0, drop=(hypothesis,), **witness)
    assert not verdict.passed
    assert evidence in verdict.summary()


def test_reducible_chain_reports_its_components() -> None:
    c = claim("sampling.mh_convergence")
    verdict = c.verify(seed=0, drop=("proposal irreducible",), bridge=0.0, max_steps=50)
    assert "2 communicating class(es): {0, 1, 2} | {3, 4, 5}" in verdict.summary()
    assert verdict.estimate.details["components"] == [[0, 1, 2], [3, 4, 5]]
    counts = verdict.estimate.details["counts"]
    assert counts[3:].sum() == 0  # chains started at 0 never leave their class


def test_unmixed_chain_is_reported_not_misjudged() -> None:
    """An irreducible, aperiodic chain cut off before it mixes: a numerics failure naming the cause, not a chi-square verdict."""
    verdict = claim("sampling.mh_convergence").verify(seed=0, max_steps=5)
    assert not verdict.passed and "raise max_steps" in verdict.summary()


@pytest.mark.parametrize(
    ("claim_id", "broken"),
    [
        ("sampling.mh_stationary", {"hastings": 0}),
        ("sampling.cgmh_balance", {"hastings": 0}),
        ("sampling.mh_continuous", {"drift": 0.5}),
        ("sampling.rejection_law", {"slack": 0.5}),
        ("sampling.importance", {"hole": 1}),
        ("sampling.gibbs_acceptance", {"power": 0}),
        ("sampling.mh_convergence", {"bridge": 0.0, "max_steps": 50}),
    ],
)
def test_numerics_alone_detect_the_counterexample(claim_id: str, broken: dict) -> None:
    """The exact result of the valid claim against the estimator run on the broken instance: the cross-check rejects it."""
    c = claim(claim_id)
    derivation = c.derive(c.resolve())
    params = c.resolve(drop=tuple(h.name for h in c.hypotheses), **broken)
    comparison = c.compare(derivation, c.estimate(params, 0), params)
    assert not comparison.agree, comparison


# ---------------------------------------------------------------- parameter validation


@pytest.mark.parametrize(
    ("claim_id", "overrides"),
    [
        ("sampling.rejection_law", {"n": 1}),
        ("sampling.rejection_law", {"samples": 10**9}),
        ("sampling.rejection_continuous", {"scale": 0.01}),
        ("sampling.importance", {"hole": 2}),
        ("sampling.mh_stationary", {"lean": 1.0}),
        ("sampling.mh_stationary", {"symbolic": 9}),
        ("sampling.mh_convergence", {"bridge": 1.5}),
        ("sampling.mh_convergence", {"max_steps": 2**40}),
        ("sampling.mh_convergence", {"n": 5000}),
        ("sampling.gibbs_acceptance", {"dims": 40}),
        ("sampling.cgmh_balance", {"length": 9}),
        ("sampling.cgmh_balance", {"vocab": "three"}),
        ("sampling.mh_continuous", {"step": float("nan")}),
    ],
)
def test_bad_parameters_are_rejected(claim_id: str, overrides: dict) -> None:
    with pytest.raises(ParameterError):
        claim(claim_id).resolve(**overrides)


def test_unknown_parameter_is_rejected() -> None:
    with pytest.raises(ParameterError, match="no parameter"):
        claim("sampling.gibbs_acceptance").resolve(temperature=2)


# ---------------------------------------------------------------- statistical machinery


def test_law_fit_accepts_exact_counts_and_rejects_a_shift() -> None:
    law = np.array([0.1, 0.2, 0.3, 0.4])
    assert numeric.law_fit(law * 10_000, law).passed
    shifted = numeric.law_fit(np.array([0.15, 0.15, 0.3, 0.4]) * 10_000, law)
    assert not shifted.passed and shifted.tv == pytest.approx(0.05)


def test_law_fit_pools_small_cells_and_flags_impossible_outcomes() -> None:
    law = np.array([0.5, 0.4999, 0.0001])
    fit = numeric.law_fit(np.array([500, 500, 0]), law)
    assert fit.dof == 1 and fit.passed
    assert not numeric.law_fit(np.array([500, 499, 1]), np.array([0.5, 0.5, 0.0])).passed


def test_law_fit_false_rejection_rate_is_tiny() -> None:
    """500 multinomial samples of size 2000 from a fixed law: none rejected (expected 500 * 2e-7)."""
    rng = np.random.default_rng(7)
    law = np.array([0.05, 0.15, 0.3, 0.5])
    rejected = sum(not numeric.law_fit(counts, law).passed for counts in rng.multinomial(2000, law, size=500))
    assert rejected == 0


def test_clopper_pearson_covers_the_edges() -> None:
    low, high = numeric.proportion_interval(1000, 1000)
    assert high == 1.0 and 0.98 < low < 1.0
    low, high = numeric.proportion_interval(500, 1000)
    assert low < 0.5 < high


# ---------------------------------------------------------------- the two encodings agree structurally


@given(
    n=st.integers(3, 9),
    skew=st.integers(0, 3),
    lean=st.sampled_from([0.2, 0.5, 0.7]),
    bridge=st.sampled_from([0.0, 0.25, 1.0]),
    hastings=st.booleans(),
)
def test_exact_and_float_ring_kernels_agree(n: int, skew: int, lean: float, bridge: float, hastings: bool) -> None:
    weights = exact.ring_weights(n, skew)
    proposal = exact.ring_proposal(n, sympy.Rational(str(lean)), sympy.Rational(str(bridge)))
    kernel = exact.metropolis_hastings(weights, proposal, hastings)
    dense = np.zeros((n, n))
    for (i, j), p in kernel.items():
        dense[i, j] = float(p)
    floats = numeric.mh_matrix(numeric.ring_weights(n, skew), numeric.ring_proposal(n, lean, bridge), hastings)
    np.testing.assert_allclose(floats, dense, atol=1e-14)  # a few float operations per entry
    assert np.allclose(floats.sum(axis=1), 1.0)


@given(length=st.integers(1, 3), vocab=st.integers(2, 3))
def test_exact_and_float_cgmh_proposals_agree(length: int, vocab: int) -> None:
    space = numeric.sentence_space(length, vocab)
    assert space == exact.sentences(length, vocab)
    floats = numeric.cgmh_proposal(space, length, vocab)
    dense = np.zeros_like(floats)
    for (i, j), prob in exact.cgmh_proposal(length, vocab)[1].items():
        dense[i, j] = float(prob)
    np.testing.assert_allclose(floats, dense, atol=1e-15)
    np.testing.assert_allclose(floats.sum(axis=1), 1.0)


LEMMA = exact.flow_lemma(Proof())


@given(st.integers(1, 10**6), st.integers(1, 10**6))
def test_flow_lemma_on_numbers(left: int, right: int) -> None:
    assert LEMMA.xreplace({exact.a: sympy.Integer(left), exact.b: sympy.Integer(right)}) == min(left, right)


def test_cgmh_sampler_matches_its_proposal_matrix() -> None:
    """One proposal step from every sentence: empirical move frequencies against the enumerated proposal (law_fit)."""
    length, vocab = 3, 2
    space = numeric.sentence_space(length, vocab)
    table = numeric.sentence_table(space, length, vocab)
    moves = numeric.sentence_moves(table, length, vocab)
    proposal = numeric.cgmh_proposal(space, length, vocab)
    rng = np.random.default_rng(3)
    for start in range(len(space)):
        moved = numeric.cgmh_propose(rng, table, moves, np.full(20_000, start))
        assert numeric.law_fit(np.bincount(moved, minlength=len(space)), proposal[start]).passed


def test_graph_structure_on_a_split_and_a_periodic_ring() -> None:
    split = numeric.graph_structure(numeric.ring_proposal(6, 0.5, 0.0))
    assert split.components == ((0, 1, 2), (3, 4, 5))
    periodic = numeric.graph_structure(numeric.mh_matrix(numeric.ring_weights(6, 0), numeric.ring_proposal(6, 0.5, 1.0)))
    assert periodic.period == 2 and not periodic.aperiodic
    odd = numeric.graph_structure(numeric.mh_matrix(numeric.ring_weights(5, 0), numeric.ring_proposal(5, 0.5, 1.0)))
    assert odd.period == 1 and odd.aperiodic


def test_snis_is_biased_at_two_draws() -> None:
    step = next(s for s in exact.importance(6, 0).steps if "biased" in s.description)
    assert step.rhs != 0


# ---------------------------------------------------------------- chains vectorised across chains
#
# run_chains holds all chains in one array.  Law tests below start every chain at one state (not
# from pi), run until the float matrix power is within TV 1e-9 of pi, and test the final states
# (i.i.d. across chains) with law_fit at alpha = 1e-7 (chi-square and TV).  Calibration tests use
# sum of z^2 over K seeds against chi2(K) at alpha = 1e-7 (two-sided).

MIXED = 1e-9


def gibbs_case_parts(dims: int, values: int, power: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Brute force, written here: states in product order, their weights, and the random-scan MH kernel with proposal ~ rho^power."""
    states = np.array(list(itertools.product(range(values), repeat=dims)))
    weights = np.prod(states + 1, axis=1) * 2.0 ** (states[:, 1:] == states[:, :-1]).sum(axis=1)
    place = values ** np.arange(dims - 1, -1, -1)
    kernel = np.zeros((len(states), len(states)))
    for x, state in enumerate(states):
        for i in range(dims):
            moves = np.repeat(state[None, :], values, axis=0)
            moves[:, i] = np.arange(values)
            targets = moves @ place
            proposal = weights[targets] ** power / np.sum(weights[targets] ** power)
            back = proposal[state[i]]
            kernel[x, targets] += proposal / dims * np.minimum(1.0, weights[targets] * back / (weights[x] * proposal))
    kernel[np.diag_indices(len(states))] += 1.0 - kernel.sum(axis=1)
    return states, weights, kernel


def gibbs_case(dims: int, values: int, power: int) -> tuple[numeric.Transition, np.ndarray, np.ndarray]:
    """The vectorised Gibbs chain on numbered states, its brute-force kernel and stationary law."""
    _, weights, kernel = gibbs_case_parts(dims, values, power)
    step = numeric.gibbs_chain(dims, values, power)
    place = values ** np.arange(dims - 1, -1, -1)

    def transition(rng: np.random.Generator, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        moved, accepted = step(rng, (index[:, None] // place) % values)
        return moved @ place, accepted

    return transition, kernel, weights / weights.sum()


def steps_to_mix(kernel: np.ndarray, law: np.ndarray, start: int = 0) -> int:
    """Smallest power (doubling) with TV(P^t(start, .), pi) <= MIXED."""
    steps = 1
    while 0.5 * np.abs(np.linalg.matrix_power(kernel, steps)[start] - law).sum() > MIXED:
        steps *= 2
        assert steps <= 4096, "the chain does not mix"
    return steps


def final_law_fit(transition: numeric.Transition, law: np.ndarray, steps: int, chains: int, seed: int) -> numeric.LawFit:
    rng = np.random.default_rng(seed)
    run = numeric.run_chains(rng, np.zeros(chains, dtype=int), transition, steps, observe=lambda states: states)
    assert run.final.shape == (chains,) and run.accepted.max() <= steps
    return numeric.law_fit(np.bincount(run.final, minlength=law.size), law)


def ring_case(n: int, skew: int, lean: float, bridge: float, hastings: bool) -> tuple[numeric.Transition, np.ndarray, np.ndarray]:
    weights = numeric.ring_weights(n, skew)
    kernel = numeric.mh_matrix(weights, numeric.ring_proposal(n, lean, bridge), hastings)
    return numeric.ring_chain(n, skew, lean, bridge, hastings), kernel, weights / weights.sum()


def test_gibbs_kernels_keep_pi_and_the_local_ratio_is_one() -> None:
    """For every power the MH correction makes pi invariant (brute-force kernel); at power 1 every float ratio is 1."""
    for power in range(4):
        _, kernel, law = gibbs_case(3, 3, power)
        np.testing.assert_allclose(kernel.sum(axis=1), 1.0, atol=1e-15)
        np.testing.assert_allclose(law @ kernel, law, atol=1e-15)
    states = numeric.gibbs_draws(np.random.default_rng(0), 10, 10, 5000)
    for i in range(10):
        local = numeric.local_weights(states, np.full(5000, i), 10)
        ratio = local[:, :, None] / local[:, None, :] * local[:, None, :] / local[:, :, None]
        assert np.abs(ratio - 1).max() <= 4.5e-16


def test_gibbs_draws_follow_the_exact_pair_law() -> None:
    """The numeric sampler of pi (backward messages) against the exact transfer-matrix law of (x_0, x_1) at d = k = 10."""
    _, _, law = exact.gibbs(10, 10, 1).result
    draws = numeric.gibbs_draws(np.random.default_rng(3), 10, 10, 100_000)
    fit = numeric.law_fit(np.bincount(draws[:, 0] * 10 + draws[:, 1], minlength=100), np.array([float(p) for p in law]))
    assert fit.passed, fit


@pytest.mark.parametrize(
    "case", [ring_case(6, 2, 0.7, 1.0, True), ring_case(7, 1, 0.5, 0.5, True), gibbs_case(3, 3, 1)], ids=["ring", "ring-bridged", "gibbs"]
)
def test_vectorised_chains_reach_the_stationary_law(case: tuple) -> None:
    """20 000 chains from state 0, run until mixed (float TV <= 1e-9): final states pass chi-square and TV at 1e-7."""
    transition, kernel, law = case
    fit = final_law_fit(transition, law, steps_to_mix(kernel, law), chains=20_000, seed=11)
    assert fit.passed, fit


def test_a_chain_without_the_hastings_factor_is_rejected() -> None:
    """Power of the same test: the Metropolis ratio with an asymmetric proposal converges elsewhere (TV 0.27)."""
    transition, _, law = ring_case(6, 2, 0.7, 1.0, False)
    fit = final_law_fit(transition, law, 128, chains=20_000, seed=11)
    assert not fit.passed and fit.tv > 0.2


def z_squares(n: int, chains: int, steps: int, seeds: range) -> tuple[float, float]:
    r"""Sum over seeds of :math:`z^2` for :math:`E_\pi x` on the ring (n, skew 2, lean 0.7): between-chain s.e., and i.i.d. s.e."""
    transition, _, law = ring_case(n, 2, 0.7, 1.0, True)
    states = np.arange(n)
    mean, variance = law @ states, law @ states**2 - (law @ states) ** 2
    between = naive = 0.0
    for seed in seeds:
        rng = np.random.default_rng(seed)
        run = numeric.run_chains(rng, rng.choice(n, size=chains, p=law), transition, steps, observe=lambda x: x)
        estimate, error = run.mean_and_error()
        between += ((estimate - mean) / error) ** 2
        naive += (estimate - mean) ** 2 * chains * steps / variance
    return between, naive


def test_between_chain_standard_error_is_calibrated() -> None:
    """200 seeds of 1000 chains x 20 steps: sum z^2 within the chi2(200) interval at alpha 1e-7; the i.i.d. s.e. is not.

    Autocorrelation inflates the variance of a chain average ~6-fold here, so the i.i.d.
    formula sigma/sqrt(C T) would be ~2.5 times too small.
    """
    seeds = range(200)
    low, high = stats.chi2.ppf(5e-8, len(seeds)), stats.chi2.isf(5e-8, len(seeds))
    between, naive = z_squares(6, 1000, 20, seeds)
    assert low <= between <= high
    assert naive > 2 * high


@pytest.mark.slow
def test_between_chain_standard_error_is_calibrated_exhaustively() -> None:
    """1000 seeds per estimator (ring n = 12, and the claims' own ring, quartic and CGMH estimators); chi2(1000) at 1e-7."""
    seeds = range(1000)
    low, high = stats.chi2.ppf(5e-8, len(seeds)), stats.chi2.isf(5e-8, len(seeds))
    between, _ = z_squares(12, 1000, 40, seeds)
    assert low <= between <= high
    cases = [
        (lambda seed: numeric.mh_continuous(1.5, 0.0, 1000, 20, seed), 2 * math.gamma(0.75) / math.gamma(0.25)),
        (lambda seed: numeric.cgmh(3, 2, 1, 1000, 20, seed), 747 / 377),
        (lambda seed: numeric.mh_stationary(6, 2, 0.7, 1, 1000, 20, seed), 50 / 13),
    ]
    for run, exact_value in cases:
        z2 = sum(((e := run(seed)).value - exact_value) ** 2 / e.stderr**2 for seed in seeds)
        assert low <= z2 <= high, z2


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        ring_case(12, 2, 0.7, 1.0, True),
        ring_case(9, 3, 0.3, 0.25, True),
        ring_case(5, 0, 0.5, 1.0, False),
        gibbs_case(4, 4, 1),
        gibbs_case(3, 4, 0),
        gibbs_case(2, 3, 3),
    ],
)
def test_vectorised_chains_reach_the_stationary_law_exhaustively(case: tuple) -> None:
    """100 000 chains per instance, including non-Gibbs proposals (power 0, 3) and a symmetric Metropolis ring."""
    transition, kernel, law = case
    fit = final_law_fit(transition, law, steps_to_mix(kernel, law), chains=100_000, seed=5)
    assert fit.passed, fit


@pytest.mark.slow
def test_full_profile_ten_seeds() -> None:
    """Every sampling claim, full profile, seeds 0..9 (90 verdicts, false-failure rate < 1.8e-4)."""
    failures = [
        (claim_id, seed)
        for claim_id in CLAIMS
        for seed in range(10)
        if not claim(claim_id).verify(seed=seed, profile="full").passed
    ]
    assert failures == []


def test_benchmark_quick_section() -> None:
    """benchmarks/bench_sampling.py at tiny sizes: both kernels, both tables, one speed-up target each."""
    section = bench_sampling.section(quick=True)
    page = section.markdown()
    assert page.startswith("## Sampling chains") and page.count("| **p** |") == 2
    assert [target.name.split(":")[0] for target in section.targets] == ["MH (ring, n = 12)", "Gibbs (4 x 4 values)"]


# ---------------------------------------------------------------- calibration over seeds, comparisons that report what failed


STATISTICAL = [
    "sampling.rejection_law", "sampling.rejection_trials", "sampling.rejection_continuous", "sampling.importance",
    "sampling.mh_stationary", "sampling.mh_continuous", "sampling.gibbs_acceptance", "sampling.cgmh_balance",
    "sampling.mh_convergence",
]


def _seed_scores(claim_id: str, seeds: range) -> tuple[np.ndarray, np.ndarray]:
    zs, ps = [], []
    for seed in seeds:
        comparison = claim(claim_id).verify(seed=seed).comparison
        zs.extend(comparison.zscores[:1])
        ps.extend(comparison.pvalues[:1])
    return np.asarray(zs), np.asarray(ps)


def test_rejection_law_is_calibrated_over_50_seeds() -> None:
    """The cheapest claim's z-scores ~ N(0,1) (KS and sum z^2 at 1e-3) and chi-square p-values ~ U(0,1); z doubled is rejected."""
    from tests.test_calibration import calibration_failures

    zs, ps = _seed_scores("sampling.rejection_law", range(1, 51))
    assert zs.size == ps.size == 50
    assert calibration_failures(zs, ps) == []
    assert calibration_failures(2 * zs, np.array([]))


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", STATISTICAL)
def test_every_statistical_claim_is_calibrated_over_200_seeds(claim_id: str) -> None:
    """KS of 200 z-scores against N(0,1), sum z^2 against chi2(200), KS of 200 p-values against U(0,1), each at 1e-3."""
    from tests.test_calibration import calibration_failures

    zs, ps = _seed_scores(claim_id, range(1, 201))
    print(claim_id, "KS z", stats.kstest(zs, "norm").pvalue if zs.size else None, "KS p", stats.kstest(ps, "uniform").pvalue if ps.size else None)
    assert calibration_failures(zs, ps) == []


def test_a_failing_law_check_reports_its_own_statistic() -> None:
    """all_of reports the first failing check: a law that does not add up to 1 shows that mass, not the chi-square."""
    from twofold.claims import sampling as claims_sampling

    counts = np.array([2500, 2500, 2500, 2500])
    right = claims_sampling.law_comparison([sympy.Rational(1, 4)] * 4, counts, 10_000)
    assert right.agree and right.pvalues and 0 < right.pvalues[0] <= 1
    wrong = claims_sampling.law_comparison([sympy.Rational(3, 10)] * 4, counts, 10_000)
    assert not wrong.agree and wrong.statistic == pytest.approx(0.2) and "adds up to 1" in wrong.method.split(";")[0]
    lost = claims_sampling.law_comparison([sympy.Rational(1, 4)] * 4, counts, 10_001)
    assert not lost.agree and lost.statistic == 1.0
    skewed = claims_sampling.law_comparison([sympy.Rational(1, 4)] * 4, np.array([2000, 3000, 2500, 2500]), 10_000)
    assert not skewed.agree and skewed.statistic > skewed.threshold > 30
