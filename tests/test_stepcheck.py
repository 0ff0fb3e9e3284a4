"""The step checker: valid, invalid with a confirmed counterexample, undecided with spot checks; time limits."""

from __future__ import annotations

import json
import time

import pytest
import sympy

from twofold.contract import ParseError, ResourceLimitError
from twofold.parsing import IndexedFunction, parse_relation, symbol_table
from twofold.chain import Context, check_chain
from twofold.sandbox import Pool, run_limited
from twofold.stepcheck import (
    INVALID,
    MAX_FILE_BYTES,
    MAX_STEPS,
    UNDECIDED,
    VALID,
    check_step,
    parse_lines,
    check_text,
    read_steps,
)
from twofold.theorems.taylor import truncation

X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", positive=True)
K = sympy.Symbol("k", integer=True, positive=True)
SYMBOLS = symbol_table([X, Y, K])
TAYLOR = (IndexedFunction("f", truncation, max_index=50),)
GENEROUS = 20.0  # seconds: a loaded 2-core machine must not turn a proof into a time-limit verdict


def check(text: str, timeout: float = GENEROUS):
    return check_text(text, SYMBOLS, TAYLOR, timeout=timeout)


@pytest.mark.parametrize(
    "text",
    [
        "x**2/2 + x + 1 = (x+1)**2/2 + 1/2",
        "f_4(x) = f_3(x) + x**4/24",
        "Sum(x**k/factorial(k), (k, 0, 5)) = f_5(x)",
        "sqrt(y**2) = y",
        "sin(x)**2 + cos(x)**2 = 1",
        "tanh(x) = (exp(2*x) - 1)/(exp(2*x) + 1)",
        "x**2 >= 0",
        "f_4(x) > 0",
        "(x + 1)**2 >= 4*x",
        "exp(1) > 2718281828/10**9",
        "y + 1/y >= 2",
        "f_40(x) > 0",
        r"\sin x^2 = sin(x^2)",
        "f_4'(x) = f_3(x)",
        "(10**900*x)**6 = (10**900)**3*(10**900)**3*x**6",
    ],
)
def test_right_steps_are_valid(text: str) -> None:
    verdict = check(text)
    assert verdict.outcome == VALID, verdict.summary()
    assert verdict.counterexample == ()


@pytest.mark.parametrize(
    ("text", "relation"),
    [
        ("f_4(x) = f_3(x) + x**4/12", "="),
        ("(x + 1)**2 = x**2 + 1", "="),
        ("sqrt(x**2) = x", "="),
        ("f_3(x) > 0", ">"),
        ("exp(x) >= 1 + x + x**2/2", ">="),
        ("x**3 >= 0", ">="),
        ("k**2 = k", "="),
        ("x = x + 10**(-40)", "="),
    ],
)
def test_wrong_steps_are_invalid_at_a_confirmed_point(text: str, relation: str) -> None:
    verdict = check(text)
    assert verdict.outcome == INVALID, verdict.summary()
    point = verdict.point
    assert point and all(value.is_Rational for value in point.values())
    for symbol, value in point.items():
        assert all(getattr(value, f"is_{fact}") == holds for fact, holds in symbol.assumptions0.items())
    step = parse_relation(text, SYMBOLS, TAYLOR)
    left, right = (side.doit().xreplace(point) for side in (step.lhs, step.rhs))
    holds = {"=": sympy.Eq, ">": sympy.Gt, ">=": sympy.Ge}[relation](left, right)
    assert holds is sympy.false
    assert all(verdict.values) and "fails at" in verdict.reason


def test_false_polynomial_inequalities_are_refuted_away_from_the_spot_points() -> None:
    """f_41 has one real root, near -12.4: the spot points (|x| <= 13 only as simple values) are not needed."""
    verdict = check("f_41(x) > 0")
    assert verdict.outcome == INVALID and "root isolation" in verdict.reason
    ((symbol, value),) = verdict.counterexample
    assert symbol.name == "x" and -15 <= value <= -12
    exact = sum(value**k / sympy.factorial(k) for k in range(42))
    assert exact < 0  # the point is a fact, recomputed here independently
    assert check("x**2 > 0").point == {X: 0}
    assert check("(x**2 - 2)**2 > 0").outcome == INVALID  # fails only at the irrational roots ±sqrt(2)


def test_undecided_answers_show_the_residual_not_an_internal_message() -> None:
    verdict = check("exp(x) >= 1 + x")
    assert "could not reduce lhs - rhs = -x + exp(x) - 1" in verdict.reason
    assert "raised" not in verdict.reason and "Error" not in verdict.reason


def test_counterexample_respects_integer_assumptions() -> None:
    verdict = check("k**2 = k")
    assert verdict.point == {K: 2}
    assert verdict.values == ("4", "2")


@pytest.mark.parametrize("text", ["exp(x) >= 1 + x", "log(x**2) = 2*log(x)"])
def test_undecidable_steps_report_spot_checks(text: str) -> None:
    verdict = check(text)
    assert verdict.outcome == UNDECIDED, verdict.summary()
    assert verdict.spot_checks > 0
    assert f"{verdict.spot_checks} spot checks" in verdict.reason


def test_time_limit_ends_in_undecided_quickly() -> None:
    start = time.perf_counter()
    verdict = check("(x+y+1)**400 = (x**2 + 2*x*y + y**2 + 2*x + 2*y + 1)**200", timeout=0.5)
    assert time.perf_counter() - start < 2.0
    assert verdict.outcome == UNDECIDED and verdict.timed_out
    assert "time limit of 0.5 s" in verdict.reason


def test_hostile_but_parseable_steps_end_within_three_seconds() -> None:
    """A 1 s limit counts CPU time, capped at WALL_FACTOR = 2 s of wall-clock time, plus start-up."""
    for text in ["((x+1)**1000)**1000 = 0", "(x**1000)**1000 = x", "Sum(Sum(x**k, (k, 0, 999)), (y0, 0, 999)) = 0"]:
        start = time.perf_counter()
        verdict = check(text, timeout=1.0)
        assert time.perf_counter() - start < 3.0, text
        assert verdict.outcome in (INVALID, UNDECIDED)


def test_check_step_on_sympy_objects_and_json() -> None:
    verdict = check_step(X**2 - 1, "=", (X - 1) * (X + 1), timeout=GENEROUS)
    assert verdict.outcome == VALID and verdict.seconds > 0
    json.dumps(verdict.to_dict())
    json.dumps(check("x > 1").to_dict())
    with pytest.raises(ParseError):
        check_step(X, "!=", X)


STEPS = """# the critical value of the Taylor truncation f_4
f_4(x) = f_3(x) + x**4/24
       = 1 + x + x^2/2 + x^3/6 + x^4/24

\\frac{x^4}{24} + \\frac{x^3}{6} + \\frac{x^2}{2} + x + 1 >= x^4/24 + x^3/6 + x^2/2 + x
       > x^4/24 + x^3/6 + x^2/2 + x - 1
"""


def test_a_steps_file_with_continuations_and_latex_is_checked_line_by_line() -> None:
    context = Context("test", SYMBOLS, TAYLOR)
    report = check_chain(read_steps(STEPS.encode()), context, timeout=GENEROUS, budget=120)
    assert [line.line for line in report.lines] == [2, 3, 5, 6]
    assert [line.verdict for line in report.lines] == [VALID] * 4 and report.exit_code == 0


def test_steps_files_are_strict_utf8_and_bounded() -> None:
    with pytest.raises(ParseError, match="line 2: byte 0xff at byte column 5"):
        read_steps(b"x = x\nx = \xff")
    assert read_steps(b"\xef\xbb\xbfx = x\r\n") == ["x = x", ""]
    with pytest.raises(ResourceLimitError):
        read_steps(b"x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ResourceLimitError):
        parse_lines(["x = x"] * (MAX_STEPS + 1), SYMBOLS, ())
    with pytest.raises(ParseError, match="line 3: unknown name 'z'"):
        parse_lines(["x = x", "# note", "= z"], SYMBOLS, ())
    with pytest.raises(ParseError, match="line 1: the left-hand side is empty"):
        parse_lines(["= x"], SYMBOLS, ())
    with pytest.raises(ParseError, match="no step"):
        parse_lines(["", "# nothing"], SYMBOLS, ())


def _fails_after_one_item():
    yield "partial"
    raise ValueError("bad\nthing")


def _sleeps_after_one_item():
    yield "partial"
    time.sleep(60)


def test_sandbox_keeps_partial_results_and_reports_one_line() -> None:
    failed = run_limited(_fails_after_one_item, timeout=GENEROUS)
    assert failed.items == ("partial",) and not failed.finished and not failed.timed_out
    assert failed.failure == "the computation raised ValueError: bad thing"
    start = time.perf_counter()
    slept = run_limited(_sleeps_after_one_item, timeout=0.3)
    assert time.perf_counter() - start < 2.0
    assert slept.items == ("partial",) and slept.timed_out and "time limit of 0.3 s" in slept.failure


def _counts(n):
    yield from range(n)


def test_pool_workers_survive_tasks_and_are_replaced_after_a_time_limit() -> None:
    pool = Pool(1)
    try:
        assert pool.run(_counts, 3, timeout=GENEROUS).items == (0, 1, 2)
        failed = pool.run(_fails_after_one_item, timeout=GENEROUS)
        assert failed.items == ("partial",) and failed.failure == "the computation raised ValueError: bad thing"
        start = time.perf_counter()
        slept = pool.run(_sleeps_after_one_item, timeout=0.3)
        assert time.perf_counter() - start < 2.0 and slept.timed_out and slept.items == ("partial",)
        assert pool.run(_counts, 2, timeout=GENEROUS).items == (0, 1)  # a fresh worker took the killed one's place
    finally:
        pool.close()
