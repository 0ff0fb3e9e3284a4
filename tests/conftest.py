"""Shared test settings: hypothesis profiles and the ``slow`` / ``tex`` markers.

Profiles (``HYPOTHESIS_PROFILE`` env var, default ``ci``):
``ci`` derandomized with a fixed example budget (reproducible, flake-free),
``dev`` random with a small budget, ``thorough`` random with many examples.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import twofold

settings.register_profile(
    "ci", derandomize=True, max_examples=60, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=30, deadline=2000)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def quick_verdicts() -> dict[str, twofold.Verdict]:
    """Every registered claim verified once per session (quick profile, seed 0): the generic checks and
    the proof book read the same verdicts instead of verifying all claims twice."""
    return {claim.id: claim.verify(seed=0) for claim in twofold.all_claims()}
