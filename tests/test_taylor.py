"""taylor family: reference values (CLAIMS.md T5), certificates, properties, counterexamples."""

from __future__ import annotations

import pytest
import sympy
from flint import fmpz_poly
from hypothesis import given
from hypothesis import strategies as st

import twofold
from twofold.numerics import taylor as numeric
from twofold.numerics import taylor_certify
from twofold.contract import Estimate
from twofold.theorems import taylor as exact

# CLAIMS.md T5: n -> (x*_n, f_n(x*_n)), 12 significant digits.
MINIMUM_TABLE = {
    2: (-1.0, 0.5),
    4: (-1.59607163798, 0.270394765205),
    6: (-2.18060712404, 0.149324841731),
    8: (-2.75900270996, 0.0832715201641),
    10: (-3.33355148527, 0.0466991135903),
    20: (-6.17753407829, 0.00269264054095),
}
TEN_DIGITS = 5e-11  # relative: the table's 12 digits agree with ours to >= 10 significant digits


@pytest.mark.parametrize("n", sorted(MINIMUM_TABLE))
def test_minimum_table_exact(n: int) -> None:
    root, value = exact.minimum(n).result
    x_ref, f_ref = MINIMUM_TABLE[n]
    assert float(sympy.N(root, 20)) == pytest.approx(x_ref, rel=TEN_DIGITS)
    assert float(sympy.N(value, 20)) == pytest.approx(f_ref, rel=TEN_DIGITS)


@pytest.mark.parametrize("n", sorted(MINIMUM_TABLE))
def test_minimum_table_numeric(n: int) -> None:
    estimate = numeric.minimum_enclosure(n)
    x_ref, f_ref = MINIMUM_TABLE[n]
    low, high = estimate.interval
    assert high - low <= 1e-15 * high
    assert estimate.value == pytest.approx(f_ref, rel=TEN_DIGITS)
    assert sum(estimate.details["argmin_interval"]) / 2 == pytest.approx(x_ref, rel=TEN_DIGITS)


def _sturm_checks(derivation) -> list[str]:
    return [step.check for step in derivation.steps if "(Sturm)" in step.check]


@pytest.mark.parametrize("n", range(2, 42, 2))
def test_even_truncations_have_no_real_root(n: int) -> None:
    """The instance layer's Sturm count (computed, not the proved constant) and the grid agree on 0."""
    (check,) = _sturm_checks(exact.positivity(n))
    assert check.endswith("count_roots() = 0 (Sturm)")
    assert numeric.sign_change_roots(n)[0] == []


@pytest.mark.parametrize("n", range(1, 42, 2))
def test_odd_truncations_have_one_negative_simple_root(n: int) -> None:
    checks = _sturm_checks(exact.critical_structure(n))
    assert any(c.endswith(f"Poly({n}! f_{n}).count_roots() = 1 (Sturm)") for c in checks)
    roots, _ = numeric.sign_change_roots(n)
    assert len(roots) == 1 and roots[0] < 0


def test_general_steps_hold_for_symbolic_even_n() -> None:
    derivation = exact.positivity(10)
    assert derivation.proved_for == r"all even $n \ge 2$"
    general = [step for step in derivation.steps if step.kind == "general"]
    assert any(exact.m_sym in sympy.sympify(step.lhs).free_symbols for step in general if not isinstance(step.lhs, str))
    assert "value at a critical point" in " ".join(step.description for step in general)


def test_critical_value_step_uses_its_hypothesis() -> None:
    """Substituting a wrong hypothesis (x* a root of f_n, not of f_n') leaves a residual: the step is refused."""
    from twofold.derivation import Proof

    exact.general_critical_value(Proof(), exact.critical_point)
    with pytest.raises(twofold.DerivationError, match="value at a critical point"):
        exact.general_critical_value(Proof(), lambda point: {exact.named(exact.n_sym, point): 0})
    with pytest.raises(twofold.DerivationError, match="value at a critical point"):
        exact.general_critical_value(Proof(), lambda point: {exact.named(exact.n_sym - 1, point): 1})


def test_softmax_constant_comes_from_the_steps() -> None:
    from twofold.derivation import Proof

    bound = exact.normalisation_bound(Proof())
    assert sympy.simplify(bound - 2 * exact.eps / (1 - exact.eps)) == 0
    for variant in (exact._variant_bound_constant, exact._variant_bound_weaker):
        with pytest.raises(twofold.DerivationError):
            variant(12, sympy.Integer(3))


@pytest.mark.parametrize("n", [100, 200])
def test_certified_regime_minimum_agrees_with_exact_bisection(n: int) -> None:
    root, value = exact.minimum(n).result
    estimate = numeric.minimum_enclosure(n)
    low, high = estimate.interval
    assert low <= float(value) <= high and 0 < low
    a, b = estimate.details["argmin_interval"]
    assert a <= float(root) <= b


def test_large_orders_are_certified_not_gridded() -> None:
    estimate = numeric.real_root_count(1000)
    assert estimate.value == 0 and estimate.details["minimum_interval"][0] > 0
    assert numeric.critical_point_count(999).details["all_roots_negative"]


@given(n=st.integers(1, 15).map(lambda m: 2 * m), p=st.integers(-10**6, 10**6), q=st.integers(1, 10**4))
def test_even_truncation_positive_at_rationals(n: int, p: int, q: int) -> None:
    value = exact.truncation(n).subs(exact.x, sympy.Rational(p, q))
    assert value.is_Rational and value > 0


@given(n=st.integers(1, 30), p=st.integers(-10**4, 10**4), q=st.integers(1, 100))
def test_derivative_identity_at_rationals(n: int, p: int, q: int) -> None:
    point = sympy.Rational(p, q)
    assert sympy.diff(exact.truncation(n), exact.x).subs(exact.x, point) == exact.truncation(n - 1).subs(exact.x, point)


def test_float64_breaks_down_where_documented() -> None:
    assert numeric.float64_relative_error(20) < 1e-12
    assert numeric.float64_relative_error(40) > 1e-9
    assert numeric.float64_relative_error(60) > 1e-4


def test_dropping_even_reports_the_root() -> None:
    claim = twofold.get_claim("taylor.even_positive")
    verdict = claim.verify(drop=("n even",), **claim.hypothesis("n even").witness)
    assert not verdict.passed
    assert "grows without bound" in verdict.failure
    assert verdict.derivation.steps == ()
    (root,) = verdict.estimate.details["roots"]
    assert root == pytest.approx(-2.18060712404, rel=1e-10)


def test_odd_n_is_rejected_by_name() -> None:
    with pytest.raises(twofold.HypothesisError, match="'n even'"):
        twofold.get_claim("taylor.minimum_table").verify(n=7)


def test_positivity_derivation_stops_at_the_even_power_step_for_odd_n() -> None:
    with pytest.raises(twofold.DerivationError) as info:
        exact.positivity(5)
    assert info.value.completed == ()


def test_softmax_shift_counterexample_is_exact_and_nonzero() -> None:
    delta = exact.softmax_not_shift_invariant(4, sympy.Integer(1)).result
    assert delta.is_Rational and delta != 0
    assert numeric.shift_change(4, 1.0, 1000, seed=0).value == pytest.approx(float(delta), rel=1e-12)


def test_softmax_distance_shrinks_with_n() -> None:
    distances = [numeric.softmax_distance(n, 3.0, 8, 2000, seed=1).value for n in (4, 8, 12, 16)]
    assert distances == sorted(distances, reverse=True)


@pytest.mark.slow
@pytest.mark.parametrize("claim", twofold.select(["taylor"]), ids=lambda c: c.id)
def test_full_profile_passes(claim: twofold.Claim) -> None:
    assert claim.verify(profile="full").passed


def _rational(value) -> sympy.Rational:
    return sympy.Rational(int(value.p), int(value.q))


def _certified_counts_agree_with_sturm(n_max: int) -> None:
    chain = taylor_certify.certify_up_to(n_max)
    assert [record.n for record in chain] == list(range(n_max + 1))
    assert [record.real_roots for record in chain] == list(exact.root_count_table(n_max).result)


def test_certified_counts_agree_with_sturm_to_40() -> None:
    _certified_counts_agree_with_sturm(40)


@pytest.mark.slow
def test_certified_counts_agree_with_sturm_to_200() -> None:
    _certified_counts_agree_with_sturm(200)


@pytest.mark.parametrize("n", sorted(MINIMUM_TABLE))
def test_certified_minimum_matches_table_and_sympy_root(n: int) -> None:
    record = taylor_certify.certify_up_to(n)[n]
    low, high = record.minimum
    assert 0 < low < high and sum(record.minimum_floats()) / 2 == pytest.approx(MINIMUM_TABLE[n][1], rel=TEN_DIGITS)
    root = exact.minimum(n).result[0]
    assert _rational(record.bracket[0]) < root < _rational(record.bracket[1])
    assert float(high - low) <= 1e-13 * float(high)


def test_odd_brackets_hold_sympy_roots_and_are_tight() -> None:
    for record in taylor_certify.certify_up_to(25)[1::2]:
        low, high = (_rational(end) for end in record.bracket)
        assert sympy.CRootOf(exact.integer_poly(record.n), 0) - low > 0 > sympy.CRootOf(exact.integer_poly(record.n), 0) - high
        assert high - low <= sympy.Rational(1, 2**47) * abs(high)


@pytest.mark.parametrize("bad", [-1, taylor_certify.MAX_ORDER + 1, 2.5, True, "10"])
def test_certifier_rejects_bad_orders(bad) -> None:
    with pytest.raises(twofold.NumericError, match="n_max must be an integer"):
        taylor_certify.certify_up_to(bad)


def test_root_bracket_refuses_a_polynomial_without_real_root() -> None:
    with pytest.raises(twofold.NumericError, match="sign change|diverged"):
        taylor_certify.root_bracket(fmpz_poly([1, 0, 1]), 0.5)


def test_next_truncation_refuses_a_polynomial_that_is_not_a_truncation() -> None:
    assert taylor_certify.next_truncation(taylor_certify.integer_truncation(5), 6) == taylor_certify.integer_truncation(6)
    with pytest.raises(twofold.NumericError, match="not a Taylor truncation"):
        taylor_certify.next_truncation(fmpz_poly([1, 2]), 2)


def test_single_order_certificates_match_the_chain_to_300() -> None:
    chain = taylor_certify.certify_up_to(300)
    for n in range(301):
        record = taylor_certify.certify_order(n)
        assert (record.n, record.real_roots, record.bracket) == (n, chain[n].real_roots, chain[n].bracket)


@pytest.mark.slow
def test_single_order_certificates_match_the_chain_to_1000() -> None:
    chain = taylor_certify.certify_up_to(1000)
    assert all(taylor_certify.certify_order(n).bracket == chain[n].bracket for n in range(1, 1001))


def test_root_count_comparison_catches_a_single_disagreement() -> None:
    claim = twofold.get_claim("taylor.root_count_certificate")
    derivation = exact.root_count_table(6)
    estimate = taylor_certify.root_count_certificates(6)
    assert claim.compare(derivation, estimate, {"n_max": 6}).agree
    counts = list(estimate.details["counts"])
    counts[4] = 1
    wrong = Estimate(value=estimate.value + 1, method=estimate.method, n=6, details={**estimate.details, "counts": counts})
    comparison = claim.compare(derivation, wrong, {"n_max": 6})
    assert not comparison.agree and "first differing n: 4" in comparison.detail


@pytest.mark.slow
def test_certification_to_1000_within_a_minute() -> None:
    chain = taylor_certify.certify_up_to(1000)
    assert [record.real_roots for record in chain] == [n % 2 for n in range(1001)]
    assert all(record.minimum[0] > 0 for record in chain[::2])
    assert sum(record.seconds for record in chain) < 60  # measured 1-6 s on 2 shared cores


def test_integer_coefficients_are_n_factorial_over_k_factorial() -> None:
    assert [int(c) for c in taylor_certify.integer_truncation(4).coeffs()] == [24, 24, 12, 4, 1]
