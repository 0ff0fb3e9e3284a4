"""``twofold check`` (exit codes 0/1/4/2, --json, --hint), ``list --json`` and ``explain --json`` against their schemas."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from twofold.cli import main


def _schema(name: str) -> dict[str, Any]:
    return json.loads(files("twofold").joinpath(f"schemas/{name}.schema.json").read_text(encoding="utf-8"))


REGISTRY = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema)) for schema in map(_schema, ("verdict", "list", "check", "explain"))
)


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(_schema(name), registry=REGISTRY)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("step", "code", "start"),
    [
        ("f_4(x) = f_3(x) + x**4/24", 0, "valid"),
        ("f_41(x) > 0", 1, "invalid"),
        ("exp(x) >= 1 + x", 4, "undecided"),
        (r"\sin x^2 = sin(x^2)", 0, "valid"),
        ("x²³ = x^23", 0, "valid"),
        ("f_4'(x) = f_3(x)", 0, "valid"),
    ],
)
def test_check_exit_codes(capsys: pytest.CaptureFixture[str], step: str, code: int, start: str) -> None:
    got, out, err = run(capsys, "check", "taylor.even_positive", "--step", step)
    assert (got, err) == (code, "") and out.startswith(start.split(":")[0]), out
    if code == 1:  # f_41's only real root is near -12.4: the certified point is next to it
        assert re.search(r"fails at x = -1[2-4] \(exact root isolation\)", out), out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "taylor.even_positive", "--step", "x = 1", "--timeout", "nan"], "finite"),
        (["check", "taylor.even_positive", "--step", "x = 1", "--timeout", "inf"], "finite"),
        (["check", "taylor.even_positive", "--step", "x = 1", "--timeout", "0"], "between"),
        (["check", "taylor", "--step", "x = 1"], "is a family, not a claim; name one of its claims: taylor."),
        (["check", "taylor.even_positive", "--step", "lambda = 1"], "symbols: x;"),
        (["check", "taylor.even_positive"], "--step or --steps"),
    ],
)
def test_check_bad_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1, err


def test_check_json_follows_its_schema_and_the_chain_example(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    steps = tmp_path / "steps.txt"
    steps.write_text("# solve\nx**2 = 4\nx = 2\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", "taylor.even_positive", "--steps", str(steps), "--json", "--hint", "2")
    document = json.loads(out)
    validator("check").validate(document)
    assert code == 1 == document["exit_code"] and document["outcome"] == "invalid"
    assert [line["line"] for line in document["lines"]] == [2, 3]
    assert document["lines"][1]["relation_to_previous"] == "implied_by"
    assert document["lines"][1]["counterexample"] == {"x": "-2"}
    assert len(document["hints"]) == 2


def test_check_steps_text_output(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    steps = tmp_path / "steps.txt"
    steps.write_text("f_2(x) = 1 + x + x**2/2\n= (x + 1)**2/2 + 1/2\n> 0\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", "taylor.even_positive", "--steps", str(steps))
    lines = out.splitlines()
    assert code == 0 and lines[-1].startswith("valid: 3 steps")
    assert "⇔ equivalent to the previous line" in lines[1]


def test_hint_alone_shows_the_reference_steps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "taylor.critical_value", "--hint", "2")
    assert code == 0 and [line.split(":")[0] for line in out.splitlines()] == ["hint 1", "hint 2"]


def test_list_json_follows_its_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "taylor", "--json")
    document = json.loads(out)
    validator("list").validate(document)
    assert code == 0 and document["claims"][0]["id"].startswith("taylor.") and "x" in document["claims"][0]["symbols"]


def test_explain_json_follows_its_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "taylor.critical_value", "--json")
    document = json.loads(out)
    validator("explain").validate(document)
    assert code == 0 and document["verdict"]["passed"] and len(document["steps"]) >= 2
