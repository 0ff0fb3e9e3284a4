"""The runner: --jobs is checked, worker processes give the serial verdicts, verdicts cross processes intact, progress."""

from __future__ import annotations

import dataclasses
import io
import json
import pickle
from typing import Any

import numpy as np
import pytest
import sympy
from rich.console import Console
from test_cli import run

import twofold
from twofold import runner
from twofold.cli import _verify_all
from twofold.contract import InputError, ParameterError
from twofold.runner import (
    MAX_JOBS,
    available_cpus,
    dumps,
    resolve_jobs,
    verify_claims,
    without_wall_times,
)

# different kinds of cross-check: Monte Carlo z-score, rigorous interval, exact count, unevaluated derivation steps
IDS = (
    "favor.positive_unbiased",
    "taylor.minimum_table",
    "position.first_block",
    "sparse_softmax.definition",
    "sampling.cgmh_balance",
    "repetition.greedy_cycle",
)


@pytest.fixture(scope="module")
def claims() -> tuple[twofold.Claim, ...]:
    return twofold.select(IDS)


@pytest.fixture(scope="module")
def serial(claims: tuple[twofold.Claim, ...]) -> list[twofold.Verdict]:
    return verify_claims(claims, seed=3, jobs=1)


def _steps(verdict: twofold.Verdict) -> list[tuple[str, str, str]]:
    return [(sympy.srepr(s.lhs), s.relation, sympy.srepr(s.rhs)) for s in verdict.derivation.steps]


def test_resolve_jobs() -> None:
    assert resolve_jobs(0) == available_cpus() >= 1
    assert resolve_jobs(3) == 3 and resolve_jobs(MAX_JOBS) == MAX_JOBS
    for bad in (-1, MAX_JOBS + 1, True, 2.0, "2"):
        with pytest.raises(ParameterError, match="jobs must be an integer"):
            resolve_jobs(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [("-1", "-1 is not in the range 0<=x<=64"), ("65", "65 is not in the range"), ("two", "'two' is not a valid integer")],
)
def test_cli_rejects_bad_jobs_in_one_line(capsys: pytest.CaptureFixture[str], value: str, message: str) -> None:
    code, out, err = run(capsys, "verify", "position.first_block", "--jobs", value)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_jobs_two_gives_the_serial_json_and_verdicts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, serial: list[twofold.Verdict]
) -> None:
    """One parallel CLI run; a spy on the runner also keeps its verdicts, to compare derivations and arrays too."""
    kept: list[twofold.Verdict] = []

    def spy(*args: Any, **kwargs: Any) -> list[twofold.Verdict]:
        kept.extend(verify_claims(*args, **kwargs))
        return kept

    code1, out1, _ = run(capsys, "verify", *IDS, "--json", "--seed", "3")
    monkeypatch.setattr(runner, "verify_claims", spy)
    code2, out2, _ = run(capsys, "verify", *IDS, "--json", "--seed", "3", "--jobs", "2")
    one, two = json.loads(out1), json.loads(out2)
    assert code1 == code2 == 0 and (one["jobs"], two["jobs"]) == (1, 2)
    assert without_wall_times({**one, "jobs": None}) == without_wall_times({**two, "jobs": None})
    assert [v.claim_id for v in kept] == list(IDS)
    assert [v.derivation for v in kept] == [v.derivation for v in serial]
    assert [_steps(v) for v in kept] == [_steps(v) for v in serial]
    assert [hash(v.derivation.result) for v in kept] == [hash(v.derivation.result) for v in serial]  # no hash cached in a worker
    for p, s in zip(kept, serial, strict=True):
        np.testing.assert_equal(dataclasses.asdict(p.estimate), dataclasses.asdict(s.estimate))  # every number, every array entry


def test_pickled_verdicts_keep_unevaluated_steps(serial: list[twofold.Verdict]) -> None:
    """sympy's own pickling re-evaluates: a step such as ``rho_y (a m/(l+1)) / ... = ...`` would come back as ``X = X``."""
    for verdict in serial:
        back = pickle.loads(dumps(verdict))
        assert back.derivation == verdict.derivation and back.comparison == verdict.comparison
        np.testing.assert_equal(dataclasses.asdict(back.estimate), dataclasses.asdict(verdict.estimate))
        assert _steps(back) == _steps(verdict)
        assert [s.latex() for s in back.derivation.steps] == [s.latex() for s in verdict.derivation.steps]
        assert hash(back.derivation.result) == hash(verdict.derivation.result)
    steps = next(v for v in serial if v.claim_id == "sampling.cgmh_balance").derivation.steps
    assert any(sympy.srepr(s.lhs) != sympy.srepr(s.rhs) for s in steps)


def test_progress_reports_each_claim_in_order(claims: tuple[twofold.Claim, ...]) -> None:
    calls: list[tuple[int, tuple[str, ...]]] = []
    verify_claims(claims[2:4], seed=0, progress=lambda done, running: calls.append((done, running)))
    assert calls == [(0, (IDS[2],)), (1, (IDS[3],)), (2, ())]


def test_progress_bar_only_on_a_terminal() -> None:
    claims = twofold.select(["position.first_block"])
    shown, quiet = io.StringIO(), io.StringIO()
    _verify_all(claims, 0, "quick", Console(file=shown, force_terminal=True, width=120))
    _verify_all(claims, 0, "quick", Console(file=quiet, force_terminal=False, width=120))
    assert "position.first_block" in shown.getvalue() and "0/1" in shown.getvalue()
    assert quiet.getvalue() == ""


def test_json_run_prints_nothing_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "verify", "position.first_block", "--json")
    assert code == 0 and err == "" and json.loads(out)["summary"] == {"claims": 1, "passed": 1, "failed": 0}


def test_bad_input_fails_before_any_work(claims: tuple[twofold.Claim, ...]) -> None:
    with pytest.raises(ParameterError, match="unknown profile"):
        verify_claims(claims, profile="slow", jobs=2)
    copy = dataclasses.replace(claims[0], title="a look-alike")
    with pytest.raises(InputError, match="only registered claims run in worker processes"):
        verify_claims((copy, claims[1]), jobs=2)


def test_every_error_survives_pickling() -> None:
    """Errors raised in a worker cross the process boundary intact: same type, message and fields."""
    from twofold import contract as errors

    samples = [
        errors.ParameterError("n must be even"),
        errors.HypothesisError("taylor.even_positive", "n even", "n = 5 is odd"),
        errors.DerivationError("differentiate", "sympy says 1 != 0", completed=("step one",)),
        errors.NumericError("diverged"),
    ]
    for error in samples:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert vars(copy) == vars(error)
