"""pytest plugin: cross-check twofold claims inside your own test suite.

Installed with twofold (entry point ``pytest11``).  Mark a test with
``@pytest.mark.claim("taylor.even_positive", n=6, seed=0)`` (also ``profile=``
and ``drop=(hypothesis names)``) and request the
``claim_verdict`` fixture: the claim is verified first and the test fails,
with the verdict's one-line summary, when the cross-check fails::

    @pytest.mark.claim("favor.positive_unbiased", m=512)
    def test_my_features(claim_verdict):
        assert claim_verdict.estimate.n == 512
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claim(id, **params): verify a twofold claim; see the claim_verdict fixture")


@pytest.fixture
def claim_verdict(request: pytest.FixtureRequest) -> Any:
    """The :class:`twofold.Verdict` of the claim named by the test's ``claim`` marker (must pass)."""
    from twofold.registry import get_claim

    marker = request.node.get_closest_marker("claim")
    if marker is None or not marker.args:
        raise pytest.UsageError("claim_verdict needs @pytest.mark.claim('family.name', **params)")
    params = dict(marker.kwargs)
    seed = params.pop("seed", 0)
    profile = params.pop("profile", "quick")
    drop = tuple(params.pop("drop", ()))
    verdict = get_claim(marker.args[0]).verify(seed=seed, profile=profile, drop=drop, **params)
    if not verdict.passed:
        pytest.fail(f"{verdict.claim_id}: {verdict.summary()}", pytrace=False)
    return verdict
