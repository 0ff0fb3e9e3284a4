"""The command line: tables, JSON, explain, exit codes, one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import twofold
from twofold.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_list_shows_every_family(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0 and "taylor.even_positive" in out


def test_verify_family_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", "taylor")
    assert code == 0
    assert f"{len(twofold.select(['taylor']))} passed, 0 failed" in out


def test_verify_json_has_one_record_per_claim(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", "taylor", "--json", "--seed", "3")
    records = json.loads(out)["verdicts"]
    assert code == 0 and len(records) == len(twofold.select(["taylor"]))
    assert {r["claim"] for r in records} >= {"taylor.even_positive", "taylor.minimum_table"}
    assert all(r["passed"] and r["comparison"]["method"] and r["comparison"]["threshold"] is not None for r in records)


def test_explain_shows_steps_then_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "taylor.minimum_table", "--param", "n=6")
    assert code == 0
    assert out.index("exact derivation") < out.index("numeric evidence") < out.index("PASS")
    assert "isolating interval" in out


def test_explain_drop_shows_the_counterexample(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "taylor.even_positive", "--drop", "n even")
    assert code == 0
    assert "-2.18060712" in out and "FAIL" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("verify", "no_such_claim"), "unknown claim or family 'no_such_claim'"),
        (("explain", "taylor.even_positive", "--param", "n=5"), "hypothesis 'n even' violated"),
        (("explain", "taylor.even_positive", "--param", "n=abc"), "parameter n must be int"),
        (("explain", "taylor.even_positive", "--param", "n"), "--param expects NAME=VALUE"),
        (("explain", "taylor.even_positive", "--param", "m=3"), "has no parameter 'm'"),
        (("explain", "taylor.even_positive", "--param", "n=100000"), "above its upper bound"),
        (("explain", "taylor.even_positive", "--drop", "nonsense"), "has no hypothesis 'nonsense'"),
        (("verify", "--profile", "slow"), "Invalid value for '--profile'"),
        (("sheet", "taylor", "-o", "sheet.docx"), "must end in .pdf or .tex"),
        (("sheet", "taylor", "-o", "/no/such/dir/taylor.pdf"), "does not exist"),
    ],
)
def test_bad_input_is_one_line_with_exit_code_2(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3


def test_module_entry_point_and_exit_code_in_a_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twofold", "explain", "taylor.even_positive", "--param", "n=7"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("twofold: error:") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_check_valid_invalid_and_hostile_steps(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    code, out, _ = run(capsys, "check", "taylor.critical_value", "--step", "f_4(x) = f_3(x) + x**4/24")
    assert code == 0 and out.startswith("valid")
    code, out, _ = run(capsys, "check", "taylor.critical_value", "--step", "f_4(x) = f_3(x) + x**4/12")
    assert code == 1 and out.startswith("invalid") and "x = " in out
    code, _, err = run(capsys, "check", "taylor.critical_value", "--step", "__import__('os').system('id')")
    assert code == 2 and err.startswith("twofold: error:") and "Traceback" not in err
    steps = tmp_path / "steps.txt"
    steps.write_bytes(b"f_2(x) = 1 + x + x**2/2\n= (x + 1)**2/2 + 1/2\n")
    code, out, _ = run(capsys, "check", "taylor.even_positive", "--steps", str(steps))
    assert code == 0 and out.splitlines()[-1].startswith("valid: 2 steps")
    steps.write_bytes(b"f_2(x) = 1\xff\n")
    code, _, err = run(capsys, "check", "taylor.even_positive", "--steps", str(steps))
    assert code == 2 and "not UTF-8" in err


def test_check_needs_exactly_one_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "taylor.critical_value")
    assert code == 2 and "exactly one of --step or --steps" in err


def _typed_claim() -> twofold.Claim:
    """A claim with a choice and a bool parameter, echoing them in its estimate (what a favor variant would take)."""
    import sympy

    from twofold import crosscheck
    from twofold.model import Derivation, Parameter

    def estimate(params, seed):
        return twofold.Estimate(value=1.0, method=f"features={params['features']}, exact={params['exact']}", n=1)

    return twofold.Claim(
        id="demo.typed", title="Typed parameters", statement="1 = 1",
        derive=lambda p: Derivation(steps=(), result=sympy.Integer(1), conclusion="1"),
        estimate=estimate, compare=lambda d, e, p: crosscheck.absolute_error(d.result, e, atol=0.5),
        parameters=(
            Parameter("features", str, quick="positive", choices=("positive", "hyperbolic", "trigonometric")),
            Parameter("exact", bool, quick=True),
        ),
    )


def test_choice_and_bool_parameters_on_the_command_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("twofold.registry.get_claim", lambda claim_id: _typed_claim())
    code, out, _ = run(capsys, "explain", "demo.typed", "--param", "features=hyperbolic", "--param", "exact=false")
    assert code == 0 and "features=hyperbolic, exact=false" in out
    code, _, err = run(capsys, "explain", "demo.typed", "--param", "features=spherical")
    assert code == 2 and "must be one of positive|hyperbolic|trigonometric" in err
    code, _, err = run(capsys, "explain", "demo.typed", "--param", "exact=maybe")
    assert code == 2 and "must be bool (true|false)" in err


def test_list_shows_choice_and_bool_domains(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("twofold.registry.select", lambda tokens: (_typed_claim(),))
    code, out, _ = run(capsys, "list", "demo")
    assert code == 0
    assert "features=positive (one of positive|hyperbolic|trigonometric); exact=true (bool (true|false))" in out


def test_profile_choices_come_from_the_one_table(capsys: pytest.CaptureFixture[str]) -> None:
    from twofold.model import PROFILES

    code, out, _ = run(capsys, "verify", "--help")
    assert code == 0 and f"[{'|'.join(PROFILES)}]" in " ".join(out.split())
