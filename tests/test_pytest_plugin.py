"""The bundled pytest plugin: ``@pytest.mark.claim`` and the ``claim_verdict`` fixture."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.mark.claim("taylor.minimum_table", n=8, seed=3)
def test_marker_verifies_the_claim_first(claim_verdict) -> None:
    assert claim_verdict.passed
    assert dict(claim_verdict.params) == {"n": 8}
    assert claim_verdict.estimate.interval[0] > 0


def test_a_failing_claim_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.claim("taylor.even_positive", n=5, drop=("n even",))
        def test_odd_order(claim_verdict):
            pass

        @pytest.mark.claim("taylor.derivative_identity", n=3)
        def test_passes(claim_verdict):
            assert claim_verdict.passed
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*taylor.even_positive: FAIL: derivation*"])
