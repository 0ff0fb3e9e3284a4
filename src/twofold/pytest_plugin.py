"""pytest plugin: cross-check twofold claims inside your own test suite.

Installed with twofold (entry point ``pytest11``), so any pytest run in an
environment with twofold knows the marker, the fixture and the option::

    @pytest.mark.twofold("favor.positive_unbiased", m=64)
    def test_my_features(twofold_claim):
        assert twofold_claim.estimate.n == 20000

* ``@pytest.mark.twofold(ID, **params)`` verifies claim ``ID`` at ``params``
  before the test body runs.  Reserved keywords: ``seed=`` (default 0),
  ``profile=`` (``quick``/``full``; default: the ``--twofold-profile`` option),
  ``drop=`` (a hypothesis name or a tuple of them, not checked for this run)
  and ``expect=`` (``"pass"``, the default, or ``"fail"``).
* The test **fails** with the verdict's one-line summary when the verdict is
  not the expected one: a failing cross-check by default, a passing one under
  ``expect="fail"``.  This holds whether or not the test requests the fixture:
  a marked test with an empty body is a complete claim check.
* The ``twofold_claim`` fixture returns the :class:`twofold.Verdict` (computed
  once per test) for further assertions, e.g. on the failure of a dropped
  hypothesis under ``expect="fail"``.
* ``--twofold-profile quick|full`` sets the profile of marked tests that do not
  pass ``profile=`` themselves (default ``quick``).
* A bad marker (unknown claim id, parameter or hypothesis, a value out of its
  domain, a violated hypothesis that was not dropped) fails the test with the
  one-line :mod:`twofold.contract` message.

twofold itself is imported only when a marked test runs, so the plugin costs
nothing in suites that do not use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from twofold.model import Verdict

MARKER = "twofold"
EXPECTATIONS = ("pass", "fail")
_VERDICT = pytest.StashKey["Verdict"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("twofold").addoption(
        "--twofold-profile",
        default="quick",
        help="profile (quick or full) of tests marked twofold that do not set profile= (default: quick)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(id, seed=0, profile=None, drop=(), expect='pass', **params): "
        "verify a twofold claim before the test; see the twofold_claim fixture",
    )


def _verdict(item: pytest.Item) -> Verdict:
    """The verdict of ``item``'s twofold marker, computed on first use and kept in the item's stash."""
    if _VERDICT not in item.stash:
        item.stash[_VERDICT] = _verify(item)
    return item.stash[_VERDICT]


def _verify(item: pytest.Item) -> Verdict:
    from twofold.contract import TwofoldError
    from twofold.registry import get_claim

    marker = item.get_closest_marker(MARKER)
    if marker is None or len(marker.args) != 1 or not isinstance(marker.args[0], str):
        pytest.fail(f"{item.nodeid}: use @pytest.mark.{MARKER}('family.name', **params) with one claim id", pytrace=False)
    claim_id = marker.args[0]
    params = dict(marker.kwargs)
    seed = params.pop("seed", 0)
    profile = params.pop("profile", None) or item.config.getoption("--twofold-profile")
    drop = params.pop("drop", ())
    drop = (drop,) if isinstance(drop, str) else drop
    params.pop("expect", None)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        _fail(claim_id, f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(drop, (tuple, list)) or not all(isinstance(name, str) for name in drop):
        _fail(claim_id, f"drop must be a hypothesis name or a tuple of them, got {drop!r}")
    try:
        return get_claim(claim_id).verify(seed=seed, profile=profile, drop=tuple(drop), **params)
    except TwofoldError as exc:
        _fail(claim_id, str(exc))


def _fail(claim_id: str, message: str) -> NoReturn:
    pytest.fail(f"@pytest.mark.{MARKER}({claim_id!r}): {message}", pytrace=False)


def _expectation(item: pytest.Item) -> str:
    marker = item.get_closest_marker(MARKER)
    expect = marker.kwargs.get("expect", "pass") if marker is not None else "pass"
    if expect not in EXPECTATIONS:
        pytest.fail(f"@pytest.mark.{MARKER}: expect must be 'pass' or 'fail', got {expect!r}", pytrace=False)
    return expect


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Before the test body: verify the marked claim and fail unless the verdict is the expected one."""
    if item.get_closest_marker(MARKER) is None:
        return
    expect = _expectation(item)
    verdict = _verdict(item)
    if verdict.passed != (expect == "pass"):
        unexpected = "" if expect == "pass" else " (expected FAIL)"
        from twofold.report import verdict_summary  # the method as readable Unicode, as the CLI shows it

        pytest.fail(f"twofold {verdict.claim_id}: {verdict_summary(verdict)}{unexpected}", pytrace=False)


@pytest.fixture
def twofold_claim(request: pytest.FixtureRequest) -> Verdict:
    """The :class:`twofold.Verdict` of the claim named by the test's ``@pytest.mark.twofold`` marker."""
    if request.node.get_closest_marker(MARKER) is None:
        pytest.fail(f"twofold_claim needs @pytest.mark.{MARKER}('family.name', **params) on the test", pytrace=False)
    return _verdict(request.node)
