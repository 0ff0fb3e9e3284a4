"""Chain checking: relations between lines, verdicts, diagnosis of declared mistakes, reference steps, hints."""

from __future__ import annotations

import dataclasses

import pytest
import sympy

from twofold import learn, registry
from twofold.chain import EQUIVALENT, IMPLIED_BY, IMPLIES, UNRELATED, Context, check_chain
from twofold.diagnosis import mistakes_for
from twofold.model import Mistake
from twofold.parsing import symbol_table
from twofold.stepcheck import INVALID, UNDECIDED, VALID, check_step

GENEROUS = 10.0
X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", positive=True)
CONTEXT = Context("test", symbol_table([X, Y]))


def chain(*lines: str):
    return check_chain(list(lines), CONTEXT, timeout=GENEROUS, budget=60)


def test_a_lost_root_is_implied_by_with_the_lost_root_as_counterexample() -> None:
    first, second = chain("x**2 = 4", "x = 2").lines
    assert first.relation is None
    assert second.relation is not None and second.relation.kind == IMPLIED_BY and second.relation.proved
    assert second.verdict == INVALID and second.counterexample == {"x": "-2"}
    document = second.to_dict()
    assert document["relation_to_previous"] == "implied_by"
    assert document["direction_counterexamples"] == {"implies": {"x": "-2"}, "implied_by": None}


@pytest.mark.parametrize(
    ("lines", "kind", "verdict"),
    [
        (("x**2 - 5x + 6 = 0", "(x - 2)(x - 3) = 0"), EQUIVALENT, VALID),
        (("x = 2", "x**2 = 4"), IMPLIES, VALID),
        (("x > 1", "x < 0"), UNRELATED, INVALID),
        (("x > 1", "x**2 > 1"), IMPLIES, VALID),
        (("y**2 = 4", "y = 2"), EQUIVALENT, VALID),  # y > 0: the root -2 is not in the domain
        (("2x < 6", "x < 3"), EQUIVALENT, VALID),
        (("x + y = 3", "x = 3 - y"), EQUIVALENT, VALID),
    ],
)
def test_relations_between_consecutive_lines(lines: tuple[str, str], kind: str, verdict: str) -> None:
    second = chain(*lines).lines[1]
    assert second.relation is not None and second.relation.kind == kind, second.summary()
    assert second.verdict == verdict, second.summary()


def test_every_counterexample_is_a_real_point() -> None:
    second = chain("x > 1", "x < 0").lines[1]
    ahead, back = (dict(d.counterexample) for d in (second.relation.forward, second.relation.backward))
    assert sympy.Rational(ahead["x"]) > 1 and not sympy.Rational(ahead["x"]) < 0
    assert sympy.Rational(back["x"]) < 0 and not sympy.Rational(back["x"]) > 1


def test_an_identity_chain_with_continuations_is_valid_and_equivalent() -> None:
    report = chain("(x + 1)**2 = x**2 + 2x + 1", "= (x**2 + 1) + 2x", ">= 2x")
    assert [line.verdict for line in report.lines] == [VALID, VALID, VALID]
    assert [line.relation.kind for line in report.lines[1:]] == [EQUIVALENT, EQUIVALENT]
    assert report.exit_code == 0 and report.outcome == VALID


def test_exit_codes_follow_the_worst_line() -> None:
    assert chain("exp(x) >= 1 + x").exit_code == 4
    assert chain("exp(x) >= 1 + x", "x = x + 1").exit_code == 1


TAYLOR = registry.get_claim("taylor.critical_value")
FORGOT_FACTORIAL = Mistake(
    "forgotten factorial", "f_4(x) = f_3(x) + x**4/4", "you divide x^4 by 4 instead of by 4! = 24"
)


def _taylor_context(mistakes: tuple[Mistake, ...] | None = None) -> Context:
    return dataclasses.replace(learn.context(TAYLOR), mistakes=mistakes_for(TAYLOR, mistakes))


def test_a_line_equivalent_to_a_declared_mistake_is_diagnosed() -> None:
    context = _taylor_context((FORGOT_FACTORIAL,))
    (line,) = check_chain(["f_4(x) - f_3(x) = x^4/4"], context, timeout=GENEROUS).lines
    assert line.verdict == INVALID and line.diagnosis is not None
    assert line.to_dict()["diagnosis"]["message"] == "this is what you get if you divide x^4 by 4 instead of by 4! = 24"
    (other,) = check_chain(["f_4(x) - f_3(x) = x^4/4 + x"], context, timeout=GENEROUS).lines
    assert other.verdict == INVALID and other.diagnosis is None
    (right,) = check_chain(["f_4(x) - f_3(x) = x^4/24"], context, timeout=GENEROUS).lines
    assert right.verdict == VALID and right.diagnosis is None


def test_the_family_declaration_is_what_check_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    family = registry.family("taylor")
    patched = dataclasses.replace(family, mistakes=(dataclasses.replace(FORGOT_FACTORIAL, claims=(TAYLOR.id,)),))
    monkeypatch.setattr(registry, "family", lambda name: patched if name == "taylor" else None)
    report = learn.check(TAYLOR.id, ["4 (f_4(x) - f_3(x)) = x^4"], timeout=GENEROUS)
    assert report.lines[0].diagnosis is not None and report.lines[0].diagnosis.name == "forgotten factorial"
    other = dataclasses.replace(FORGOT_FACTORIAL, claims=("taylor.even_positive",))
    assert mistakes_for(TAYLOR, (other,)) == ()


def test_a_line_reproducing_a_reference_step_is_marked() -> None:
    report = learn.check("taylor.derivative_identity", ["f_8'(x) = f_7(x)", "x = x"], timeout=GENEROUS)
    steps = learn.hints("taylor.derivative_identity", 100)
    number = report.lines[0].reference_step
    assert number is not None and "derivative" in steps[number - 1]["description"]
    assert report.lines[1].reference_step is None


def test_hints_are_the_first_steps_of_the_claims_own_derivation() -> None:
    claim = registry.get_claim("taylor.critical_value")
    derivation = claim.derive(claim.resolve())
    hints = learn.hints(claim.id, 2)
    assert [h["description"] for h in hints] == [s.description for s in derivation.steps[:2]]
    assert hints[0]["latex"] == derivation.steps[0].latex()


def test_from_statement_relates_line_one_to_the_premise() -> None:
    report = learn.check("taylor.critical_value", ["f_8(x) = f_7(x) + x^8/40320"], from_statement=True, timeout=GENEROUS)
    assert report.premise is not None and report.lines[0].relation is not None
    assert report.lines[0].verdict == VALID


def test_declared_mistakes_parse_and_are_wrong() -> None:
    """Every family's mistakes are in check's grammar for each claim they apply to, and really are wrong steps."""
    for family in registry.families():
        for claim in family.claims:
            for known in mistakes_for(claim):
                verdict = check_step(known.statement.lhs, known.statement.relation, known.statement.rhs, timeout=GENEROUS)
                assert verdict.outcome in (INVALID, UNDECIDED), f"{claim.id}: mistake {known.name!r} is a valid step"
