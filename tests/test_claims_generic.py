"""Generic checks driven by the registry: every claim of every family, one table.

In the spirit of scipy.stats' generic distribution tests: whatever a family
defines, its claims must verify in the quick profile, validate parameters,
name their hypotheses, and fail visibly (not crash) when one is dropped.
"""

from __future__ import annotations

import json
import re

import pytest

import twofold
from twofold.contract import HypothesisError, ParameterError
from twofold.model import _latex as model_latex

CLAIMS = twofold.all_claims()
HYPOTHESES = [(claim, h) for claim in CLAIMS for h in claim.hypotheses]


def _claim_id(claim: twofold.Claim) -> str:
    return claim.id


def test_ids_are_unique_and_namespaced() -> None:
    ids = [claim.id for claim in CLAIMS]
    assert len(ids) == len(set(ids))
    families = {family.name for family in twofold.families()}
    assert all(claim.family in families for claim in CLAIMS)
    assert [f.number for f in twofold.families()] == sorted(f.number for f in twofold.families())


@pytest.mark.parametrize("claim", CLAIMS, ids=_claim_id)
def test_quick_profile_passes(claim: twofold.Claim, quick_verdicts: dict[str, twofold.Verdict]) -> None:
    verdict = quick_verdicts[claim.id]
    assert verdict.passed, verdict.summary()
    assert verdict.derivation.steps, "a derivation needs at least one checked step"
    assert verdict.comparison.method and verdict.estimate.method
    json.dumps(verdict.to_dict())


@pytest.mark.parametrize("claim", CLAIMS, ids=_claim_id)
def test_declared_values_respect_bounds(claim: twofold.Claim) -> None:
    for parameter in claim.parameters:
        for profile in ("quick", "full"):
            value = parameter.value_for(profile)
            assert parameter.coerce(value) == value
    assert claim.title and claim.source and claim.statement


@pytest.mark.parametrize("claim", CLAIMS, ids=_claim_id)
def test_bad_parameters_are_rejected(claim: twofold.Claim) -> None:
    with pytest.raises(ParameterError, match="has no parameter"):
        claim.resolve(no_such_parameter=1)
    for parameter in claim.parameters:
        with pytest.raises(ParameterError, match=parameter.name):
            claim.resolve(**{parameter.name: "not-a-number"})
        if parameter.high is not None:
            with pytest.raises(ParameterError, match="above its upper bound"):
                claim.resolve(**{parameter.name: parameter.high * 2 + 1})


@pytest.mark.parametrize(("claim", "hypothesis"), HYPOTHESES, ids=lambda x: getattr(x, "id", getattr(x, "name", "")))
def test_witness_violates_its_hypothesis(claim: twofold.Claim, hypothesis: twofold.Hypothesis) -> None:
    assert hypothesis.witness, f"{claim.id}: hypothesis '{hypothesis.name}' needs a witness"
    with pytest.raises(HypothesisError, match=re.escape(hypothesis.name)):
        claim.resolve(**hypothesis.witness)


@pytest.mark.parametrize(("claim", "hypothesis"), HYPOTHESES, ids=lambda x: getattr(x, "id", getattr(x, "name", "")))
def test_dropping_a_hypothesis_fails_visibly(claim: twofold.Claim, hypothesis: twofold.Hypothesis) -> None:
    verdict = claim.verify(seed=0, drop=(hypothesis.name,), **hypothesis.witness)
    assert not verdict.passed
    assert verdict.summary().startswith("FAIL")


@pytest.mark.parametrize("family", twofold.families(), ids=lambda family: family.name)
def test_every_family_has_a_general_step(family: twofold.Family, quick_verdicts: dict[str, twofold.Verdict]) -> None:
    """At least one step of the family's quick derivations holds for symbolic parameters (issue: general derivations)."""
    kinds = [step.kind for claim in family.claims for step in quick_verdicts[claim.id].derivation.steps]
    assert "general" in kinds, f"{family.name}: no general step among {len(kinds)}"


@pytest.mark.parametrize("claim", CLAIMS, ids=_claim_id)
def test_no_step_displays_identical_sides(claim: twofold.Claim, quick_verdicts: dict[str, twofold.Verdict]) -> None:
    """Every step shows what it asserts: its two displayed sides differ (never X = X)."""
    same = [
        step.description for step in quick_verdicts[claim.id].derivation.steps
        if model_latex(step.lhs) == model_latex(step.rhs)
    ]
    assert not same, f"{claim.id}: steps displayed as X = X: {same}"


@pytest.mark.parametrize("family", twofold.families(), ids=lambda family: family.name)
def test_every_family_declares_a_figure(family: twofold.Family) -> None:
    assert family.figures, f"{family.name} declares no figure (Family.figures)"
