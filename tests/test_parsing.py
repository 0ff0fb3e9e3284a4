"""The safe math parser: what it reads, what it refuses, and that refusing is quick and executes nothing."""

from __future__ import annotations

import ast
import builtins
import time
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy.parsing import sympy_parser

import twofold
from twofold.contract import InputError, ParseError, ResourceLimitError
from twofold.parsing import (
    MAX_LENGTH,
    IndexedFunction,
    ParsedStep,
    parse_expression,
    parse_relation,
    symbol_table,
)
from twofold.theorems.taylor import truncation

X = sympy.Symbol("x", real=True)
K = sympy.Symbol("k", integer=True, positive=True)
SYMBOLS = symbol_table([X, K, sympy.Symbol("x^*", real=True)])
TAYLOR = (IndexedFunction("f", truncation, max_index=50),)
SECONDS = 2.0

HOSTILE = [
    "__import__('os')",
    "__import__('os').system('touch /tmp/twofold-pwned')",
    "lambda: 0",
    "lambda x: x",
    "x.__class__",
    "().__class__.__bases__",
    "().__class__.__bases__[0].__subclasses__()",
    "x.real",
    "exp.__globals__",
    "9**9**9",
    "10**10**10",
    "2**(2**(2**9))",
    "x**(10**10)",
    "(10**1000)**1000",
    "factorial(10**6)",
    "factorial(factorial(7))",
    "Sum(k, (k, 0, 10**6))",
    "Sum(k, (k, 5, 0))",
    "Sum(k, (k, 0, x))",
    "(" * 100000,
    "(" * 60 + "x" + ")" * 60,
    "-" * 1999 + "x",
    "x**" * 600 + "x",
    "+".join(["x"] * 999),
    "x" * 10**6,
    "1" * 10**6,
    "1" * 101,
    "1e100000",
    "x\x00",
    "\x00",
    "x + \x07",
    "x\u202e + 1",
    "\ud800",
    "ｅｘｐ(x)",
    "é",
    r"\input{/etc/passwd}",
    r"\include{/etc/shadow}",
    r"\write18{rm -rf /}",
    r"\immediate\write18{id}",
    r"\def\x{1}",
    r"\catcode`\^=7",
    r"\openout",
    "x[0]",
    "x[1:2]",
    "[x for x in (1, 2)]",
    "(x for x in (1, 2))",
    "{x: 1}",
    "{x, 1}",
    "f'{x}'",
    "'x'",
    '"x"',
    "b'x'",
    "exp(x=1)",
    "exp(*x)",
    "exp(**x)",
    "Max(*[x, 1])",
    "x if x else 1",
    "x and 1",
    "not x",
    "x @ x",
    "x % 2",
    "x // 2",
    "x << 2",
    "x & 1",
    "x := 1",
    "x; import os",
    "x # comment",
    "yield x",
    "await x",
    "print(x)",
    "open('/etc/passwd')",
    "getattr(x, 'real')",
    "sin x",
    "exp",
    "1/0",
    "0**-1",
    "x = 1",
    "",
    "   ",
    r"\frac{1}",
    r"\sqrt",
    r"\left( x",
    "(x",
    "x)",
    "k!!",
    "\\",
    "x_",
    "f_4(x, x)",
    "f_100(x)",
    "f_n(x)",
]


def _settings(examples: int) -> settings:
    """At least ``examples`` examples (more under a bigger profile), no per-example deadline: time is asserted."""
    return settings(
        max_examples=max(examples, settings.default.max_examples),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def _timed(function, *args, **kwargs):
    """``(outcome, seconds)`` where outcome is the result or the InputError raised."""
    start = time.perf_counter()
    try:
        outcome = function(*args, **kwargs)
    except InputError as exc:
        outcome = exc
    return outcome, time.perf_counter() - start


def parse(text: str) -> sympy.Expr:
    return parse_expression(text, SYMBOLS, TAYLOR)


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_is_refused_quickly_with_one_line(text: str) -> None:
    outcome, seconds = _timed(parse, text)
    assert isinstance(outcome, (ParseError, ResourceLimitError)), f"{text[:60]!r} was accepted: {outcome}"
    assert seconds < SECONDS
    message = str(outcome)
    assert message and "\n" not in message and len(message) < 600


def test_nothing_is_compiled_or_executed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """eval/exec/sympy's string parsers are never reached; compile() is only used to build an AST."""
    only_ast = ast.PyCF_ONLY_AST
    real_compile = builtins.compile

    def guarded_compile(source, filename, mode, flags=0, *args, **kwargs):
        assert flags & only_ast, "compile() called to produce code"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def forbidden(*args, **kwargs):
        raise AssertionError("untrusted text reached an evaluator")

    monkeypatch.setattr(builtins, "compile", guarded_compile)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(sympy, "sympify", forbidden)
    monkeypatch.setattr(sympy_parser, "parse_expr", forbidden)
    canary = tmp_path / "pwned"
    for text in [*HOSTILE, f"__import__('os').system('touch {canary}')", "x**2 + 2*x + 1", r"\frac{x^{2}}{2}"]:
        _timed(parse, text)
    assert not canary.exists()


def _calls_to(tree: ast.AST, names: set[str]) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                name = func.id
            elif isinstance(func, ast.Attribute):
                # a method such as Poly.eval(1) is not the builtin; builtins.eval / sympy.sympify are
                owner = func.value.id if isinstance(func.value, ast.Name) else ""
                name = func.attr if func.attr not in ("eval", "exec") or owner == "builtins" else ""
            else:
                name = ""
            if name in names:
                found.append(f"{name} at line {node.lineno}")
    return found


def test_package_never_calls_evaluators() -> None:
    """No module of the twofold package calls eval, exec, sympify or parse_expr at all."""
    import twofold.numerics
    import twofold.theorems

    offenders = {}
    for module in (twofold, twofold.theorems, twofold.numerics):
        for path in sorted(Path(module.__file__).parent.rglob("*.py")):
            calls = _calls_to(ast.parse(path.read_text(encoding="utf-8")), {"eval", "exec", "sympify", "parse_expr"})
            if calls:
                offenders[str(path)] = calls
    assert offenders == {}
    assert _calls_to(ast.parse("builtins.eval('1'); sympy.sympify('x'); poly.eval(1)"), {"eval", "sympify"}) == [
        "eval at line 1", "sympify at line 1"
    ]


TOKENS = [
    *"0123456789", "x", "k", "e", "E", "pi", "y", "+", "-", "*", "/", "**", "^", "(", ")", "{", "}", "[", "]",
    ",", "!", "=", "<=", ">", ".", "_", " ", "'", ":", "|", "\\", "\\frac", "\\sqrt", "\\left(", "\\right)",
    "\\left|", "\\right|", "\\cdot", "\\exp", "\\pi", "\\sum_{k=0}^{3}", "\\le", "\\input", "exp(", "log(",
    "sqrt(", "Sum(", "(k, 0, 3))", "factorial(", "Max(", "f_4(", "f_{3}", "9**9**9", "__", "lambda", "for",
    "1e5", "0.5", "\x00", "\u00e9", "·", "π", "²",
]
SOUP = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)


def _accept_or_refuse(function, text: str) -> None:
    outcome, seconds = _timed(function, text)
    assert seconds < SECONDS, f"{text[:80]!r} took {seconds:.2f} s"
    if isinstance(outcome, InputError):
        assert str(outcome) and "\n" not in str(outcome)
    else:
        assert isinstance(outcome, (sympy.Basic, ParsedStep))


@_settings(400)
@given(st.text(max_size=200))
def test_fuzz_random_text(text: str) -> None:
    _accept_or_refuse(parse, text)


@_settings(500)
@given(SOUP)
def test_fuzz_token_soup(text: str) -> None:
    _accept_or_refuse(parse, text)


@_settings(300)
@given(SOUP, st.sampled_from(["=", "<=", ">", " \\le ", "==", "!="]), SOUP)
def test_fuzz_relations(left: str, relation: str, right: str) -> None:
    _accept_or_refuse(lambda text: parse_relation(text, SYMBOLS, TAYLOR, continuation=True), left + relation + right)


@_settings(100)
@given(st.sampled_from(HOSTILE), st.text(max_size=20), st.sampled_from(HOSTILE))
def test_fuzz_spliced_hostile(first: str, glue: str, second: str) -> None:
    _accept_or_refuse(parse, first[:1000] + glue + second[:1000])


# --- what the parser reads ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ascii", "latex"),
    [
        ("x**2/2 + x + 1", r"\frac{x^{2}}{2} + x + 1"),
        ("x**2/2 + x + 1", "x^2/2 + x + 1"),
        ("exp(x)*(x + 1)", r"\exp\left(x\right) \cdot \left( x + 1 \right)"),
        ("sqrt(x + 1)", r"\sqrt{x + 1}"),
        ("(x + 1)**(1/(3))", r"\sqrt[3]{x + 1}"),
        ("Abs(x)", r"\left| x \right|"),
        ("log(x)", r"\ln x"),
        ("pi*x", r"\pi x"),
        ("Sum(x**k/factorial(k), (k, 0, 5))", r"\sum_{k=0}^{5} \frac{x^{k}}{k!}"),
        ("f_4(x)", "f_{4}(x)"),
        ("2*x*(x + 1)", "2x(x+1)"),
        ("(x + 1)*(x - 1)", "(x+1)(x-1)"),
        ("x*k", "x k"),
        ("E**x", r"\mathrm{e}^{x}"),
        ("factorial(k + 1)", "(k+1)!"),
        ("pi*x**2", "π x²"),
        ("x*2", "x × 2"),
    ],
)
def test_latex_and_ascii_agree(ascii: str, latex: str) -> None:
    assert parse(ascii) == parse(latex)


def test_results_are_unevaluated_and_exact() -> None:
    assert parse("x + x").args == (X, X)
    assert parse("0.1").doit() == sympy.Rational(1, 10)
    assert parse("1e-3").doit() == sympy.Rational(1, 1000)
    assert parse("2**1000").doit() == 2**1000
    assert parse("-3") == sympy.Integer(-3)


def test_sums_factorials_and_taylor_truncations() -> None:
    expected = sum(X**j / sympy.factorial(j) for j in range(6))
    assert sympy.expand(parse("Sum(x**k/factorial(k), (k, 0, 5))").doit() - expected) == 0
    assert sympy.expand(parse("f_5(x)").doit() - expected) == 0
    assert parse("3!").doit() == 6
    assert parse("Sum(k, (k, 1, 4))").doit() == 10


def test_names_and_constants() -> None:
    assert parse("e").doit() == sympy.E
    assert parse("pi").doit() == sympy.pi
    shadow = sympy.Symbol("e")
    assert parse_expression("e + 1", {"e": shadow}) == sympy.Add(shadow, 1, evaluate=False)
    assert set(SYMBOLS) == {"x", "k", "x__star"} and parse("x^* + x^{*}") == sympy.Add(*[sympy.Symbol("x^*", real=True)] * 2, evaluate=False)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("x + y", ["unknown name 'y'", "column 5", "symbols: k, x"]),
        ("x + __y", ["column 5", "'_'"]),
        ("sin x", ["'sin' at column 1 is a function"]),
        ("x.y", ["'.'", "column 2"]),
        ("9**9**9", ["exponent 387420489", "column 4"]),
        ("exp(x, x)", ["exp", "1 argument"]),
        (r"\input{x}", ["\\input", "column 1"]),
        ("x \x00", ["NUL", "column 3"]),
        ("x" * (MAX_LENGTH + 1), [f"{MAX_LENGTH + 1} characters"]),
    ],
)
def test_errors_say_what_and_where(text: str, words: list[str]) -> None:
    with pytest.raises(InputError) as caught:
        parse(text)
    for word in words:
        assert word in str(caught.value)


def test_relations() -> None:
    step = parse_relation("x**2 + 2*x + 1 == (x + 1)**2", SYMBOLS)
    assert step.relation == "=" and step.lhs is not None
    assert parse_relation(r"x \le 1", SYMBOLS).relation == "<="
    assert parse_relation("x ≥ 1", SYMBOLS).relation == ">="
    assert parse_relation("< x + 1", SYMBOLS, continuation=True) == ParsedStep(None, "<", parse("x + 1"))
    for bad in ["x", "x = 1 = 2", "= x", "x != 1", "(x = 1)", "x = "]:
        with pytest.raises(ParseError):
            parse_relation(bad, SYMBOLS)
    with pytest.raises(ParseError):
        parse("x = 1")


def _render(tree, latex: bool) -> str:
    if not isinstance(tree, tuple):
        return str(tree)
    op, *parts = tree
    a, b = (_render(part, latex) for part in parts) if len(parts) == 2 else (_render(parts[0], latex), "")
    if op == "/":
        return rf"\frac{{{a}}}{{{b}}}" if latex else f"({a})/({b})"
    if op == "**":
        return f"{{{a}}}^{{{b}}}" if latex else f"({a})**({b})"
    if op == "*":
        return rf"\left({a}\right) \cdot \left({b}\right)" if latex else f"({a})*({b})"
    if op in "+-":
        return rf"\left({a}\right) {op} \left({b}\right)" if latex else f"({a}) {op} ({b})"
    return rf"\{op}\left({a}\right)" if latex else f"{op}({a})"


LEAVES = st.sampled_from(["x", "k", "1", "2", "3", "0.5"])
TREES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(["+", "-", "*", "/"]), inner, inner),
        st.tuples(st.just("**"), inner, st.sampled_from(["2", "3", "-1"])),
        st.tuples(st.sampled_from(["exp", "sin", "log"]), inner),
    ),
    max_leaves=12,
)


@_settings(60)
@given(TREES)
def test_random_expressions_read_the_same_in_ascii_and_latex(tree) -> None:
    ascii, ascii_seconds = _timed(parse, _render(tree, latex=False))
    latex, latex_seconds = _timed(parse, _render(tree, latex=True))
    assert max(ascii_seconds, latex_seconds) < SECONDS
    if isinstance(ascii, InputError):
        assert type(latex) is type(ascii)
    else:
        assert ascii == latex


LAMBDA, ALPHA, RHO_X = sympy.Symbol("lambda", positive=True), sympy.Symbol("alpha"), sympy.Symbol("rho_x")
GREEK_SYMBOLS = symbol_table([X, LAMBDA, ALPHA, RHO_X])


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (r"\sin x^2", "sin(x**2)"),
        (r"\sin^2 x", "sin(x)**2"),
        ("x²³", "x**23"),
        ("x⁻¹", "x**(-1)"),
        (r"\left( x + 1 \right) \cdot 2", "(x + 1)*2"),
        (r"\operatorname{exp}(x)", "exp(x)"),
        ("f_4'(x)", "diff(f_4(x), x)"),
        ("f_{4}''(x)", "diff(f_4(x), x, 2)"),
        (r"\frac{d}{dx} f_4(x)", "diff(f_4(x), x)"),
        (r"\frac{d^2}{dx^2} (x^3)", "diff(x**3, x, 2)"),
        (r"\frac{d}{dx} x^2", "diff(x**2, x)"),
    ],
)
def test_notation_a_learner_pastes(typed: str, meant: str) -> None:
    assert parse(typed).doit() == parse(meant).doit()


@pytest.mark.parametrize("typed", [r"\lambda", "λ", "lambda"])
def test_greek_letters_and_keyword_names(typed: str) -> None:
    assert parse_expression(typed, GREEK_SYMBOLS) == LAMBDA
    assert parse_expression(r"\alpha + α + \rho_x + ρ_x", GREEK_SYMBOLS).doit() == 2 * ALPHA + 2 * RHO_X
    assert parse_expression(r"\lambda", symbol_table([sympy.Symbol("lamda")])) == sympy.Symbol("lamda")


def test_errors_list_the_claims_own_names() -> None:
    with pytest.raises(ParseError, match=r"symbols: alpha, lambda, rho_x, x;"):
        parse_expression("q", GREEK_SYMBOLS)
    with pytest.raises(ParseError, match="a prime applies to the claim's functions"):
        parse("x'")
    with pytest.raises(ParseError, match="must follow a function's name"):
        parse("'a'")
    with pytest.raises(ParseError, match="keyword"):
        parse_expression("for", GREEK_SYMBOLS)
