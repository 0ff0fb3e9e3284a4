"""``twofold verify --json`` matches its published JSON Schema (twofold/schemas/verdict.schema.json, docs/json.md)."""

from __future__ import annotations

import dataclasses
import json
from importlib.metadata import version
from importlib.resources import files
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import twofold
from twofold.cli import main
from twofold.runner import SCHEMA_ID, run_record

# Monte Carlo z-score (seeded), rigorous interval, exact identity, integer facts, a graph search
IDS = ("favor.positive_unbiased", "taylor.minimum_table", "position.first_block", "sparse_softmax.definition", "repetition.greedy_cycle")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(files("twofold").joinpath("schemas/verdict.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)


def verify_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(SystemExit) as info:
        main(["verify", *argv, "--json"])
        raise SystemExit(0)
    out, err = capsys.readouterr()
    assert err == ""
    return int(info.value.code or 0), json.loads(out)


def test_schema_is_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID == schema["properties"]["schema"]["const"]


def test_real_output_validates(capsys: pytest.CaptureFixture[str], validator: Draft202012Validator) -> None:
    code, doc = verify_json(capsys, *IDS, "--seed", "11")
    validator.validate(doc)
    assert code == 0 and doc["summary"] == {"claims": len(IDS), "passed": len(IDS), "failed": 0}
    assert [v["claim"] for v in doc["verdicts"]] == list(IDS)
    assert doc["seed"] == 11 and doc["profile"] == "quick" and doc["versions"]["sympy"] == version("sympy")
    by_id = {v["claim"]: v for v in doc["verdicts"]}
    monte_carlo = by_id["favor.positive_unbiased"]
    assert monte_carlo["verdict"] == "PASS" and monte_carlo["estimate"]["seed"] == 11
    assert monte_carlo["estimate"]["stderr"] > 0 and monte_carlo["comparison"]["threshold"] == 5.0
    low, high = by_id["taylor.minimum_table"]["estimate"]["interval"]
    assert low <= by_id["taylor.minimum_table"]["comparison"]["exact"] <= high
    assert by_id["taylor.minimum_table"]["estimate"]["seed"] is None


def test_failing_runs_validate(validator: Draft202012Validator) -> None:
    """A dropped hypothesis makes a claim fail two ways: the derivation refuses (failure), or the numbers disagree."""
    refused = _dropped("position.first_block", "alpha != 1")
    disagrees = _dropped("favor.attention_weights", "non-negative features")
    doc = json.loads(json.dumps(run_record([refused, disagrees], profile="quick", seed=0, jobs=1, seconds=1.0), allow_nan=False))
    validator.validate(doc)
    first, second = doc["verdicts"]
    assert doc["summary"] == {"claims": 2, "passed": 0, "failed": 2}
    assert first["verdict"] == "FAIL" and first["failure"] and first["comparison"] is None and first["dropped"] == ["alpha != 1"]
    assert second["verdict"] == "FAIL" and second["failure"] is None and second["comparison"]["agree"] is False


def test_non_finite_numbers_become_strings(validator: Draft202012Validator) -> None:
    verdict = twofold.get_claim("position.first_block").verify(seed=0)
    comparison = dataclasses.replace(verdict.comparison, statistic=float("inf"), agree=False)
    broken = dataclasses.replace(verdict, comparison=comparison, passed=False)
    doc = json.loads(json.dumps(run_record([broken], profile="quick", seed=0, jobs=1, seconds=0.5), allow_nan=False))
    validator.validate(doc)
    assert doc["verdicts"][0]["comparison"]["statistic"] == "inf"


def test_schema_rejects_a_renamed_field(capsys: pytest.CaptureFixture[str], validator: Draft202012Validator) -> None:
    _, doc = verify_json(capsys, "repetition.greedy_cycle")
    doc["verdicts"][0]["result"] = doc["verdicts"][0].pop("verdict")
    assert not validator.is_valid(doc)


def _dropped(claim_id: str, hypothesis: str) -> twofold.Verdict:
    claim = twofold.get_claim(claim_id)
    return claim.verify(seed=0, drop=(hypothesis,), **claim.hypothesis(hypothesis).witness)


def test_bool_and_choice_parameters_validate(validator: Draft202012Validator) -> None:
    """A verdict at a bool and a choice parameter: the JSON carries them as true/false and the chosen word."""
    verdict = twofold.get_claim("position.first_block").verify(seed=0)
    extended = dataclasses.replace(verdict, params=(*verdict.params, ("features", "hyperbolic"), ("orthogonal", True)))
    doc = json.loads(json.dumps(run_record([extended], profile="quick", seed=0, jobs=1, seconds=0.5), allow_nan=False))
    validator.validate(doc)
    assert doc["verdicts"][0]["params"]["features"] == "hyperbolic" and doc["verdicts"][0]["params"]["orthogonal"] is True
    nested = json.loads(json.dumps(doc))
    nested["verdicts"][0]["params"]["features"] = ["not", "a", "value"]
    assert not validator.is_valid(nested)


def test_step_kinds_and_level_are_published(capsys: pytest.CaptureFixture[str], validator: Draft202012Validator) -> None:
    _, doc = verify_json(capsys, "favor.positive_unbiased", "taylor.minimum_table")
    validator.validate(doc)
    monte_carlo, interval = doc["verdicts"]
    # the z-test's level, then the level of the standard-error check (its own test) when the estimate has batches
    assert monte_carlo["comparison"]["level"].split(", ")[0] == r"$5\sigma$" and interval["comparison"]["level"] == ""
    for record in doc["verdicts"]:
        derivation = record["derivation"]
        assert len(derivation["step_kinds"]) == derivation["steps"]
        counted = {kind: sum(s["kind"] == kind for s in derivation["step_kinds"]) for kind in derivation["kinds"]}
        assert counted == derivation["kinds"]


def test_profiles_in_the_schema_are_not_a_second_list(schema: dict[str, Any]) -> None:
    """The profile field takes any name of twofold.model.PROFILES: adding a profile is one line there."""
    assert "enum" not in schema["properties"]["profile"]
