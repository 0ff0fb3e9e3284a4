"""The bundled pytest plugin: ``@pytest.mark.twofold``, the ``twofold_claim`` fixture, ``--twofold-profile``.

The ``pytester`` tests write a user's own test file into a temporary directory
and run pytest on it, as a user of twofold would.
"""

from __future__ import annotations

import pytest

import twofold.registry

pytest_plugins = ["pytester"]

USER_TESTS = """
import pytest

@pytest.mark.twofold("taylor.minimum_table", n=6, seed=3)
def test_uses_the_minimum(twofold_claim):
    assert twofold_claim.passed
    assert twofold_claim.estimate.interval[0] > 0

@pytest.mark.twofold("favor.positive_unbiased", m=64)
def test_features(twofold_claim):
    assert dict(twofold_claim.params)["m"] == 64

@pytest.mark.twofold("taylor.critical_structure")
def test_without_the_fixture():
    pass

@pytest.mark.twofold("taylor.even_positive", n=5, drop="n even", expect="fail")
def test_odd_order_breaks_the_derivation(twofold_claim):
    assert not twofold_claim.passed
    assert twofold_claim.failure.startswith("derivation:")
    assert twofold_claim.dropped == ("n even",)
"""


@pytest.mark.twofold("taylor.minimum_table", n=6, seed=3)
def test_marker_verifies_the_claim_first(twofold_claim) -> None:
    assert twofold_claim.passed
    assert dict(twofold_claim.params) == {"n": 6}
    assert twofold_claim.estimate.interval[0] > 0


def test_a_users_own_suite_passes(pytester: pytest.Pytester) -> None:
    """The inner pytest finds the plugin as a user's would, through its ``pytest11`` entry point."""
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=4)
    assert "twofold_claim" in pytester.runpytest("--fixtures").stdout.str()
    assert "fixture 'twofold_claim' not found" in pytester.runpytest("-p", "no:twofold").stdout.str()


def test_a_failing_claim_fails_with_its_summary(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.twofold("taylor.even_positive", n=5, drop=("n even",))
        def test_odd_order():
            pass

        @pytest.mark.twofold("taylor.even_positive", n=5, drop=("n even",))
        def test_odd_order_with_fixture(twofold_claim):
            pass

        @pytest.mark.twofold("taylor.critical_structure", expect="fail")
        def test_expected_failure_that_passes():
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "*twofold taylor.even_positive: FAIL: derivation: step 'f₅ grows without bound*",
            "*twofold taylor.critical_structure: PASS: *(expected FAIL)",
        ]
    )
    assert "Traceback" not in result.stdout.str()


PROFILE_TESTS = """
import pytest

@pytest.mark.twofold("taylor.critical_structure")
def test_default(twofold_claim):
    print("n =", dict(twofold_claim.params)["n"])

@pytest.mark.twofold("taylor.critical_structure", profile="quick")
def test_marker_wins(twofold_claim):
    assert dict(twofold_claim.params)["n"] == 9
"""


@pytest.mark.parametrize(("option", "profile"), [((), "quick"), (("--twofold-profile", "full"), "full"), (("--twofold-profile=quick",), "quick")])
def test_profile_option_reaches_the_verdict(pytester: pytest.Pytester, option: tuple[str, ...], profile: str) -> None:
    order = twofold.registry.get_claim("taylor.critical_structure").parameter("n")
    n = getattr(order, profile)
    assert order.quick != order.full  # else the test could not tell the profiles apart
    pytester.makepyfile(PROFILE_TESTS)
    result = pytester.runpytest("-s", *option)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*n = {n}*"])


def test_bad_profile_option_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PROFILE_TESTS)
    result = pytester.runpytest("--twofold-profile", "fast")
    result.stdout.fnmatch_lines(["*unknown profile 'fast' (choose from quick, full)*"])


def test_bad_markers_give_one_line_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.twofold("taylor.even_positiv")
        def test_typo_in_id():
            pass

        @pytest.mark.twofold("taylor.even_positiv")
        def test_typo_in_id_with_fixture(twofold_claim):
            pass

        @pytest.mark.twofold("taylor.even_positive", m=3)
        def test_unknown_parameter():
            pass

        @pytest.mark.twofold("taylor.even_positive", n=5)
        def test_violated_hypothesis():
            pass

        @pytest.mark.twofold("taylor.even_positive", seed="one")
        def test_bad_seed():
            pass

        @pytest.mark.twofold("taylor.even_positive", drop=1)
        def test_bad_drop():
            pass

        @pytest.mark.twofold("taylor.even_positive", expect="maybe")
        def test_bad_expectation():
            pass

        @pytest.mark.twofold()
        def test_no_id():
            pass

        def test_fixture_without_marker(twofold_claim):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=7, errors=2)
    result.stdout.fnmatch_lines_random(
        [
            "*@pytest.mark.twofold('taylor.even_positiv'): unknown claim or family 'taylor.even_positiv'; did you mean taylor.even_positive*",
            "*taylor.even_positive has no parameter 'm' (parameters: n)*",
            "*hypothesis 'n even'*",
            "*seed must be a non-negative integer, got 'one'*",
            "*drop must be a hypothesis name or a tuple of them, got 1*",
            "*expect must be 'pass' or 'fail', got 'maybe'*",
            "*use @pytest.mark.twofold('family.name', **params) with one claim id*",
            "*twofold_claim needs @pytest.mark.twofold('family.name', **params) on the test*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
