r"""A safe parser for mathematics typed by a learner: text in, unevaluated sympy out.

Nothing the user types is executed or handed to sympy's own string parser.
The text passes four stages; each refuses bad input with a one-line
:class:`~twofold.contract.ParseError` (or :class:`~twofold.contract.ResourceLimitError`
for a size limit) that names the column:

1. **characters** — at most :data:`MAX_LENGTH` characters of printable ASCII
   plus a few mathematical signs (``· × ÷ − ≤ ≥ π ² ³``); NUL bytes and
   other control characters are refused.
2. **tokens** — numbers, names, operators and LaTeX commands.  Quotes, a dot
   outside a number, ``:``, ``;``, ``@``, ``[`` and the like stop here, so
   attribute access, strings, lambdas, subscripts and comprehensions never
   get further.  Python keywords and names with ``__`` are refused.
3. **translation** — LaTeX (``\frac{a}{b}``, ``\sqrt{x}``, ``\sqrt[n]{x}``,
   ``^{...}``, ``\cdot``, ``\times``, ``\left( \right)``, ``\left| \right|``,
   ``\exp``, ``\log``, ``\ln``, ``\sin`` ..., ``\pi``, ``\le``, ``\ge``,
   ``\sum_{k=0}^{5}``), ``^`` as power, ``k!`` as ``factorial(k)`` and implicit
   products (``2x``, ``(x+1)(x-1)``, ``x y``) are rewritten into a small
   Python-syntax language: numbers, names, ``+ - * / **``, parentheses, commas.
4. **whitelist** — that text is read by :func:`ast.parse` and walked; only
   numbers, known names, the five operators, unary signs and calls of a fixed
   function list (:data:`FUNCTIONS`, plus ``Sum(body, (k, a, b))`` with integer
   literal limits) become sympy objects, built with sympy's constructors while
   evaluation is switched off.

Conventions: decimals are exact (``0.1`` is ``1/10``, ``1e-3`` is
``1/1000``); ``pi``, ``E`` and ``e`` are the constants π and Euler's number
unless the claim declares a symbol with that name; ``x^2`` and ``x**2`` are
the same power.

The result is **unevaluated** (``x + x`` stays ``x + x``): building it cannot
be made slow by the input, because every number the parser folds is bounded
(:data:`MAX_EXPONENT`, :data:`MAX_CONSTANT_BITS`, :data:`MAX_FACTORIAL`,
:data:`MAX_SUM_TERMS`).  Evaluate it (``doit()``) only under a time limit, as
:func:`twofold.stepcheck.check_step` does in a child process.
"""

from __future__ import annotations

import ast
import bisect
import keyword
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

import sympy
from sympy.core.parameters import evaluate

from twofold.contract import ParseError, ResourceLimitError

MAX_LENGTH = 2000
"""Characters in one expression or step."""
MAX_NESTING = 50
"""Brackets (and LaTeX groups, function arguments) inside each other."""
MAX_DEPTH = 100
"""Depth of the expression tree; a chain ``a + b - c`` or ``a * b / c`` counts as one level."""
MAX_NODES = 1000
"""Nodes of the expression tree."""
MAX_DIGITS = 100
"""Digits of one number literal."""
MAX_EXPONENT = 1000
"""Bound on ``|p|`` and ``q`` of a constant exponent ``p/q``, and on the exponent of ``1e-5``."""
MAX_CONSTANT_BITS = 10_000
"""Bits of a rational constant the parser folds (about 3000 decimal digits)."""
MAX_FACTORIAL = 1000
"""Largest integer literal allowed inside ``factorial``."""
MAX_SUM_TERMS = 1000
"""Terms of a ``Sum``."""
MAX_ARGUMENTS = 16
"""Arguments of ``Max`` and ``Min``."""

RELATIONS = ("=", "<", "<=", ">", ">=")
"""The relations a step may state."""
CONSTANTS: Mapping[str, sympy.Expr] = {"pi": sympy.pi, "E": sympy.E, "e": sympy.E}
"""Names of constants; a claim symbol with the same name takes precedence."""
MAX_DERIVATIVE = 10
"""Highest order of a derivative (``f_4''(x)``, ``\\frac{d^2}{dx^2}``, ``diff(e, x, 2)``)."""

GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau"
    " upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
).split()
"""Greek letters typed as ``\\alpha`` or ``α``: each becomes the name ``alpha`` (``\\pi`` and ``π`` stay the constant π
unless the claim declares a symbol ``pi``)."""
_GREEK_VARIANTS: Mapping[str, str] = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho",
                                      "varsigma": "sigma", "varpi": "pi", "ell": "ell"}
_GREEK_UNICODE: Mapping[str, str] = {
    **{chr(0x3B1 + i): name for i, name in enumerate(
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma sigma tau"
        " upsilon phi chi psi omega".split())},
    **{chr(0x391 + i): name for i, name in enumerate(
        "Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi Omicron Pi Rho _ Sigma Tau"
        " Upsilon Phi Chi Psi Omega".split()) if name != "_"},
    "ϵ": "epsilon", "ϑ": "theta", "ϕ": "phi", "ℓ": "ell",
}
_SUPERSCRIPTS: Mapping[str, str] = {**{c: str(i) for i, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}, "⁻": "-"}
_STAR = "__star"
_KEYWORD = "__kw"
_PRIME = "__d"


class _Function(NamedTuple):
    least: int
    most: int
    build: Callable[..., sympy.Expr]


FUNCTIONS: Mapping[str, _Function] = {
    "exp": _Function(1, 1, sympy.exp),
    "log": _Function(1, 2, sympy.log),
    "ln": _Function(1, 1, sympy.log),
    "sqrt": _Function(1, 1, sympy.sqrt),
    "sin": _Function(1, 1, sympy.sin),
    "cos": _Function(1, 1, sympy.cos),
    "tan": _Function(1, 1, sympy.tan),
    "sinh": _Function(1, 1, sympy.sinh),
    "cosh": _Function(1, 1, sympy.cosh),
    "tanh": _Function(1, 1, sympy.tanh),
    "factorial": _Function(1, 1, sympy.factorial),
    "Abs": _Function(1, 1, sympy.Abs),
    "abs": _Function(1, 1, sympy.Abs),
    "Max": _Function(2, MAX_ARGUMENTS, sympy.Max),
    "Min": _Function(2, MAX_ARGUMENTS, sympy.Min),
}
"""The callable functions: name -> (fewest arguments, most arguments, sympy constructor).  ``Sum`` is extra."""


@dataclass(frozen=True)
class IndexedFunction:
    """A claim's own family of functions a learner may call, e.g. ``f_4(x)`` for the Taylor truncation.

    ``build(n, arg)`` returns the sympy expression of ``name_n(arg)``; it is
    trusted claim code, called with ``0 <= n <= max_index``.  LaTeX ``f_{4}(x)``
    is the same call.
    """

    name: str
    build: Callable[[int, sympy.Expr], sympy.Expr]
    max_index: int = 100


@dataclass(frozen=True)
class ParsedStep:
    """``lhs relation rhs``; ``lhs`` is ``None`` for a continuation line such as ``= x + 1``."""

    lhs: sympy.Expr | None
    relation: str
    rhs: sympy.Expr


def symbol_table(symbols: Iterable[sympy.Symbol]) -> dict[str, sympy.Symbol]:
    """Typed name -> symbol for every symbol a learner can type.

    Plain identifiers are typed as they are; ``lambda`` (a Python keyword) as
    ``lambda``, ``\\lambda`` or ``λ`` (sympy's spelling ``lamda`` too); a starred
    name such as ``x^*`` as ``x^*`` or ``x^{*}``.  The keys are the parser's
    internal spellings; error messages show the symbols' own names.
    """
    table = {}
    for symbol in symbols:
        key = _typing_key(symbol.name)
        if key is not None:
            table[key] = symbol
    return table


def _typing_key(name: str) -> str | None:
    """The parser's spelling of a symbol name, or ``None`` when it cannot be typed."""
    if name == "lamda":
        name = "lambda"
    key = name.replace("^{*}", _STAR).replace("^*", _STAR).replace("{", "").replace("}", "")
    if keyword.iskeyword(key):
        key += _KEYWORD
    plain = key.isascii() and key.isidentifier() and not keyword.iskeyword(key)
    return key if plain and not key.startswith("_") and "__" not in key.replace(_STAR, "").removesuffix(_KEYWORD) else None


def _shown_name(key: str) -> str:
    """A parser-internal name as the learner would type it."""
    name, _, primes = key.partition(_PRIME)
    return name.removesuffix(_KEYWORD).replace(_STAR, "^*") + "'" * int(primes or 0)


def parse_expression(
    text: str, symbols: Mapping[str, sympy.Symbol], functions: Sequence[IndexedFunction] = ()
) -> sympy.Expr:
    """The unevaluated sympy expression of ``text`` (ASCII or simple LaTeX); no relation allowed."""
    vocabulary, tokens = _translated(text, symbols, functions)
    for token in tokens:
        if token.kind == "rel":
            raise ParseError(f"'{token.text}' at column {token.column}: an expression has no relation")
    return _expression(tokens, vocabulary, "expression", 1)


def parse_relation(
    text: str,
    symbols: Mapping[str, sympy.Symbol],
    functions: Sequence[IndexedFunction] = (),
    *,
    continuation: bool = False,
) -> ParsedStep:
    """The step ``LHS rel RHS`` with exactly one relation among :data:`RELATIONS` (``==`` means ``=``).

    With ``continuation=True`` the left-hand side may be missing (``<= x + 1``)
    and is then ``None``: the previous step's right-hand side.
    """
    vocabulary, tokens = _translated(text, symbols, functions)
    relations = [i for i, token in enumerate(tokens) if token.kind == "rel"]
    if not relations:
        raise ParseError("a step needs one relation: =, <, <=, > or >= (e.g. 'x**2 + 2*x + 1 = (x + 1)**2')")
    if len(relations) > 1:
        extra = tokens[relations[1]]
        raise ParseError(
            f"second relation '{extra.text}' at column {extra.column}: a step has one relation"
            " (write a chain one step per line)"
        )
    at = relations[0]
    relation = tokens[at]
    if at == 0 and continuation:
        lhs = None
    else:
        lhs = _expression(tokens[:at], vocabulary, "left-hand side", relation.column)
    rhs = _expression(tokens[at + 1 :], vocabulary, "right-hand side", relation.column)
    return ParsedStep(lhs, relation.text, rhs)


def _translated(
    text: str, symbols: Mapping[str, sympy.Symbol], functions: Sequence[IndexedFunction]
) -> tuple[_Vocabulary, list[_Token]]:
    """Stages 1 to 3: the vocabulary of the claim and ``text`` as tokens of the Python-syntax language."""
    vocabulary = _Vocabulary(symbols, {f.name: f for f in functions})
    return vocabulary, _Translator(_tokens(text), vocabulary.is_function).translate()


# --- stage 1 and 2: characters and tokens ------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    """A lexed or translated token: kind is num, name, cmd (LaTeX), op or rel; column is 1-based."""

    kind: str
    text: str
    column: int


_DIGITS = frozenset("0123456789")
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_BLANKS = frozenset(" \t\r\n\u00a0$~")
_UNICODE: Mapping[str, tuple[tuple[str, str], ...]] = {
    "·": (("op", "*"),),
    "⋅": (("op", "*"),),
    "×": (("op", "*"),),
    "÷": (("op", "/"),),
    "−": (("op", "-"),),
    "≤": (("rel", "<="),),
    "≥": (("rel", ">="),),
}
_PAIRS: Mapping[str, str] = {"**": "op", "<=": "rel", ">=": "rel", "==": "rel", "!=": "rel"}
_SINGLES: Mapping[str, str] = {
    **{c: "op" for c in "+-*/^(){}[],!|"},
    **{c: "rel" for c in "=<>"},
}


def _tokens(text: str) -> list[_Token]:
    """Lex ``text`` after checking its length and characters."""
    _check_characters(text)
    tokens: list[_Token] = []
    at = 0
    while at < len(text):
        at = _next_token(text, at, tokens)
    if not tokens:
        raise ParseError("the input is empty")
    return tokens


def _check_characters(text: str) -> None:
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ResourceLimitError(f"the input has {len(text)} characters; the limit is {MAX_LENGTH}")
    for at, char in enumerate(text):
        if char in _BLANKS or char in _UNICODE or char in _GREEK_UNICODE or char in _SUPERSCRIPTS:
            continue
        if char.isascii() and char.isprintable():
            continue
        if char == "\0":
            raise ParseError(f"NUL character at column {at + 1}")
        if not char.isprintable():
            raise ParseError(f"non-printable character U+{ord(char):04X} at column {at + 1}")
        raise ParseError(f"unsupported character {char!r} (U+{ord(char):04X}) at column {at + 1}")


def _next_token(text: str, at: int, tokens: list[_Token]) -> int:
    """Append the token starting at ``at`` (if any) and return where the next one starts."""
    char = text[at]
    if char in _BLANKS:
        return at + 1
    if char in _DIGITS or (char == "." and _digit_at(text, at + 1)):
        return _number(text, at, tokens)
    if char.isascii() and char.isalpha():
        return _name(text, at, tokens)
    if char in _GREEK_UNICODE:
        return _greek(_GREEK_UNICODE[char], text, at, at + 1, tokens)
    if char in _SUPERSCRIPTS:
        return _superscript(text, at, tokens)
    if char == "'":
        tokens.append(_Token("op", "'", at + 1))
        return at + 1
    if char == "_":
        if text[at + 1 : at + 2] != "{":
            raise ParseError(f"'_' at column {at + 1}: names cannot start with '_'; a subscript is x_1 or x_{{1}}")
        tokens.append(_Token("op", "_", at + 1))
        return at + 1
    if char == "\\":
        return _command(text, at, tokens)
    if text[at : at + 2] in _PAIRS:
        tokens.append(_Token(_PAIRS[text[at : at + 2]], text[at : at + 2], at + 1))
        return at + 2
    if char in _SINGLES:
        tokens.append(_Token(_SINGLES[char], char, at + 1))
        return at + 1
    if char in _UNICODE:
        tokens.extend(_Token(kind, value, at + 1) for kind, value in _UNICODE[char])
        return at + 1
    hint = "; a dot belongs in a number such as 0.5" if char == "." else ""
    raise ParseError(f"character {char!r} at column {at + 1} is not allowed{hint}")


def _digit_at(text: str, at: int) -> bool:
    return at < len(text) and text[at] in _DIGITS


def _skip_digits(text: str, at: int) -> int:
    while _digit_at(text, at):
        at += 1
    return at


def _number(text: str, start: int, tokens: list[_Token]) -> int:
    """A literal ``12``, ``0.5``, ``.5`` or ``2e-3``, within :data:`MAX_DIGITS` and :data:`MAX_EXPONENT`."""
    end = _skip_digits(text, start)
    if end < len(text) and text[end] == ".":
        end = _skip_digits(text, end + 1)
    digits = end - start - ("." in text[start:end])
    if digits > MAX_DIGITS:
        raise ResourceLimitError(f"number at column {start + 1} has {digits} digits; the limit is {MAX_DIGITS}")
    marker = end
    if marker < len(text) and text[marker] in "eE":
        sign = marker + 1 if text[marker + 1 : marker + 2] in ("+", "-") else marker
        if _digit_at(text, sign + 1):
            end = _skip_digits(text, sign + 1)
            if end - sign - 1 > len(str(MAX_EXPONENT)) or int(text[sign + 1 : end]) > MAX_EXPONENT:
                raise ResourceLimitError(
                    f"decimal exponent at column {marker + 1} exceeds the limit of {MAX_EXPONENT}"
                )
    tokens.append(_Token("num", text[start:end], start + 1))
    return end


def _name(text: str, start: int, tokens: list[_Token]) -> int:
    end = start
    while end < len(text) and text[end] in _NAME_CHARACTERS:
        if text[end] == "_" and text[end + 1 : end + 2] == "{":
            break
        end += 1
    name = text[start:end]
    if "__" in name:
        raise ParseError(f"name '{name[:40]}' at column {start + 1}: '__' is not allowed in names")
    if keyword.iskeyword(name) and name != "lambda":
        raise ParseError(f"'{name}' at column {start + 1} is a Python keyword, not mathematics")
    tokens.append(_Token("name", _internal(name), start + 1))
    return end


def _internal(name: str) -> str:
    """The parser's spelling of a typed name: ``lambda`` (a Python keyword; also sympy's spelling ``lamda``)
    gets a suffix no typed name can have."""
    if name == "lamda":
        name = "lambda"
    return name + _KEYWORD if keyword.iskeyword(name) else name


def _greek(letter: str, text: str, start: int, end: int, tokens: list[_Token]) -> int:
    """``\\rho`` or ``ρ`` at ``start`` (ending at ``end``), with a plain subscript ``_x``, ``_12`` joined to the name."""
    if text[end : end + 1] == "_" and end + 1 < len(text) and text[end + 1] in _NAME_CHARACTERS:
        tail = end + 1
        while tail < len(text) and text[tail] in _NAME_CHARACTERS and text[tail] != "_":
            tail += 1
        letter, end = f"{letter}_{text[end + 1 : tail]}", tail
    tokens.append(_Token("name", _internal(letter), start + 1))
    return end


def _superscript(text: str, start: int, tokens: list[_Token]) -> int:
    """A run of superscript characters ``²³`` or ``⁻¹`` is one exponent: ``^(23)``, ``^(-1)``."""
    end = start
    while end < len(text) and text[end] in _SUPERSCRIPTS:
        end += 1
    exponent = "".join(_SUPERSCRIPTS[c] for c in text[start:end])
    sign, digits = ("-", exponent[1:]) if exponent.startswith("-") else ("", exponent)
    if not digits or not digits.isdigit():
        raise ParseError(f"superscript at column {start + 1} must be digits, optionally after ⁻ (x², x⁻¹)")
    if len(digits) > len(str(MAX_EXPONENT)):
        raise ResourceLimitError(f"exponent at column {start + 1} exceeds the limit of {MAX_EXPONENT}")
    c = start + 1
    signed = [_Token("op", "-", c)] if sign else []
    tokens.extend([_Token("op", "^", c), _Token("op", "(", c), *signed, _Token("num", digits, c), _Token("op", ")", c)])
    return end


def _command(text: str, start: int, tokens: list[_Token]) -> int:
    end = start + 1
    while end < len(text) and text[end].isascii() and text[end].isalpha():
        end += 1
    if end == start + 1:
        if end == len(text):
            raise ParseError(f"lone backslash at column {start + 1}")
        end += 1
    word = text[start + 1 : end]
    if word in GREEK or word in _GREEK_VARIANTS:
        return _greek(_GREEK_VARIANTS.get(word, word), text, start, end, tokens)
    tokens.append(_Token("cmd", text[start:end], start + 1))
    return end


# --- stage 3: LaTeX and shorthand into the small Python-syntax language --------------------------

_LATEX_FUNCTIONS: Mapping[str, str] = {
    "\\exp": "exp",
    "\\log": "log",
    "\\ln": "log",
    "\\sin": "sin",
    "\\cos": "cos",
    "\\tan": "tan",
    "\\sinh": "sinh",
    "\\cosh": "cosh",
    "\\tanh": "tanh",
}
_LATEX_OPERATORS: Mapping[str, _Token] = {
    "\\cdot": _Token("op", "*", 0),
    "\\times": _Token("op", "*", 0),
    "\\div": _Token("op", "/", 0),
    "\\le": _Token("rel", "<=", 0),
    "\\leq": _Token("rel", "<=", 0),
    "\\leqslant": _Token("rel", "<=", 0),
    "\\ge": _Token("rel", ">=", 0),
    "\\geq": _Token("rel", ">=", 0),
    "\\geqslant": _Token("rel", ">=", 0),
    "\\lt": _Token("rel", "<", 0),
    "\\gt": _Token("rel", ">", 0),
}
_FRACTIONS = frozenset({"\\frac", "\\dfrac", "\\tfrac"})
_ROMAN = frozenset({"\\mathrm", "\\operatorname", "\\text", "\\textrm", "\\mathit"})
_IGNORED = frozenset(
    {"\\,", "\\;", "\\:", "\\!", "\\ ", "\\quad", "\\qquad", "\\displaystyle"}
    | {f"\\{size}{side}" for size in ("big", "Big", "bigg", "Bigg") for side in ("", "l", "r")}
)
_LEFT_CLOSERS: Mapping[str, str] = {"(": "\\right)", "[": "\\right]", "|": "\\right|"}
_SUPPORTED_LATEX = (
    "\\frac \\frac{d}{dx} \\sqrt ^{} _{} \\cdot \\times \\div \\left \\right \\exp \\log \\ln \\sin \\cos \\tan "
    "\\sinh \\cosh \\tanh \\sum \\le \\ge \\lt \\gt \\mathrm \\operatorname, Greek letters \\alpha ... \\Omega"
)


class _Translator:
    """Rewrites lexed tokens (ASCII or LaTeX) into numbers, names, ``+ - * / ** ( ) ,`` and relations."""

    def __init__(self, tokens: list[_Token], is_function: Callable[[str], bool]) -> None:
        self._tokens = tokens
        self._at = 0
        self._is_function = is_function

    def translate(self) -> list[_Token]:
        return _with_products(self._sequence(0, None, 0), self._is_function)

    def _peek(self, ahead: int = 0) -> _Token | None:
        at = self._at + ahead
        return self._tokens[at] if at < len(self._tokens) else None

    def _take(self) -> _Token:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def _skip_ignored(self) -> None:
        while (token := self._peek()) is not None and token.kind == "cmd" and token.text in _IGNORED:
            self._at += 1

    def _sequence(self, depth: int, closer: str | None, opened: int, summand: bool = False) -> list[_Token]:
        """Tokens up to ``closer`` (consumed) or, for a ``\\sum`` summand, up to the next top-level + or -."""
        out: list[_Token] = []
        while True:
            self._skip_ignored()
            token = self._peek()
            if token is None:
                if closer is not None:
                    raise ParseError(f"bracket opened at column {opened} is never closed (expected '{closer}')")
                return out
            found = self._closer_here()
            if summand and (found is not None or _ends_summand(token, out)):
                return out
            if found is not None:
                return self._close(found, closer, opened, out)
            self._take()
            if token.kind == "op" and token.text == "!":
                self._factorial(out, token)
            else:
                out.extend(self._translate(token, depth))

    def _close(self, found: tuple[str, int], closer: str | None, opened: int, out: list[_Token]) -> list[_Token]:
        """Consume the closing bracket ``found`` if it is the expected ``closer``; return ``out``."""
        text, width = found
        token = self._tokens[self._at]
        if closer is None:
            raise ParseError(f"unmatched '{text}' at column {token.column}")
        if text != closer:
            raise ParseError(
                f"'{text}' at column {token.column} does not close the bracket opened at column {opened}"
                f" (expected '{closer}')"
            )
        self._at += width
        return out

    def _closer_here(self) -> tuple[str, int] | None:
        """The closing bracket at the current position and how many tokens it spans, if any."""
        token = self._tokens[self._at]
        if token.kind == "op" and token.text in ")}]":
            return token.text, 1
        if token.text == "\\right":
            following = self._peek(1)
            if following is None or following.text not in ")]|":
                raise ParseError(f"\\right at column {token.column} must be followed by ), ] or |")
            return "\\right" + following.text, 2
        return None

    def _translate(self, token: _Token, depth: int) -> list[_Token]:
        if token.kind == "num":
            return [token]
        if token.kind == "name":
            return [self._subscripted(token)]
        if token.kind == "rel":
            return [_relation(token, depth)]
        if token.kind == "cmd":
            return self._command(token, depth)
        return self._operator(token, depth)

    def _operator(self, token: _Token, depth: int) -> list[_Token]:
        if token.text in "({":
            return self._group(token, ")" if token.text == "(" else "}", depth)
        if token.text in ("^", "**"):
            return [_Token("op", "**", token.column)]
        if token.text in "+-*/,":
            return [token]
        if token.text == "[":
            raise ParseError(f"'[' at column {token.column}: use parentheses ( ) for grouping")
        if token.text == "'":
            raise ParseError(f"a prime ' at column {token.column} must follow a function's name, as in f_4'(x)")
        if token.text == "|":
            raise ParseError(f"'|' at column {token.column}: write Abs(x) or \\left| x \\right|")
        raise ParseError(f"'{token.text}' at column {token.column}: a subscript '_' must follow a name")

    def _group(self, opener: _Token, closer: str, depth: int) -> list[_Token]:
        if depth + 1 > MAX_NESTING:
            raise ResourceLimitError(f"brackets nested deeper than {MAX_NESTING} at column {opener.column}")
        inner = self._sequence(depth + 1, closer, opener.column)
        if not inner:
            raise ParseError(f"empty brackets at column {opener.column}")
        return [_Token("op", "(", opener.column), *inner, _Token("op", ")", opener.column)]

    def _subscripted(self, token: _Token) -> _Token:
        """``x_{12}``, ``x^*``, ``m^{*}_r`` and ``f_{4}''`` become the names ``x_12``, ``x__star``, ``m__star_r``, ``f_4__d2``."""
        token = self._starred(token)
        following = self._peek()
        if following is None or following.text != "_":
            return self._primed(token)
        self._take()
        self._expect("{", token)
        parts = []
        while (part := self._peek()) is not None and part.kind in ("num", "name"):
            parts.append(self._take().text)
        self._expect("}", token)
        if not parts:
            raise ParseError(f"empty subscript after '{token.text}' at column {token.column}")
        return self._primed(_Token("name", f"{token.text}_{''.join(parts)}", token.column))

    def _starred(self, token: _Token) -> _Token:
        """``x^*`` or ``x^{*}``: the name of a starred symbol (``x__star``)."""
        ahead = [t.text if t is not None else "" for t in (self._peek(), self._peek(1), self._peek(2), self._peek(3))]
        if ahead[:2] == ["^", "*"] or ahead[:2] == ["**", "*"]:
            self._at += 2
        elif ahead == ["^", "{", "*", "}"]:
            self._at += 4
        else:
            return token
        return _Token("name", token.text + _STAR, token.column)

    def _primed(self, token: _Token) -> _Token:
        """``f_4'`` (one prime per derivative) becomes the name ``f_4__d1``."""
        primes = 0
        while (following := self._peek()) is not None and following.text == "'":
            self._take()
            primes += 1
        if primes > MAX_DERIVATIVE:
            raise ResourceLimitError(f"more than {MAX_DERIVATIVE} primes after '{token.text}' at column {token.column}")
        return _Token("name", f"{token.text}{_PRIME}{primes}", token.column) if primes else token

    def _expect(self, text: str, owner: _Token) -> _Token:
        token = self._peek()
        if token is None or token.text != text:
            where = f"column {token.column}" if token is not None else "the end"
            raise ParseError(f"expected '{text}' at {where} (for '{owner.text}' at column {owner.column})")
        return self._take()

    def _factorial(self, out: list[_Token], bang: _Token) -> None:
        """``n!`` becomes ``factorial(n)``: wraps the number, name or bracket just before ``!``."""
        following = self._peek()
        if following is not None and following.text == "!":
            raise ParseError(f"'!!' at column {bang.column}: double factorials are not supported")
        if not out or not _ends_operand(out[-1]):
            raise ParseError(f"'!' at column {bang.column} must follow a number, a name or a bracket")
        start = len(out) - 1
        if out[start].text == ")":
            start = _opening(out, start)
            if start > 0 and out[start - 1].kind == "name" and self._is_function(out[start - 1].text):
                start -= 1
        out[start:] = [
            _Token("name", "factorial", bang.column),
            _Token("op", "(", bang.column),
            *out[start:],
            _Token("op", ")", bang.column),
        ]

    def _command(self, token: _Token, depth: int) -> list[_Token]:
        name = token.text
        if name in _LATEX_FUNCTIONS:
            return self._function(token, depth)
        if name in _FRACTIONS:
            numerator = self._braced(token, depth, "numerator")
            denominator = self._braced(token, depth, "denominator")
            derivative = _derivative_order(numerator, denominator)
            if derivative is not None:
                return self._derivative(token, depth, *derivative)
            return _parenthesised([*numerator, _Token("op", "/", token.column), *denominator], token.column)
        if name == "\\sqrt":
            return self._root(token, depth)
        if name == "\\sum":
            return self._sum(token, depth)
        if name == "\\left":
            return self._left(token, depth)
        if name in _ROMAN:
            return [self._roman(token)]
        if name in _LATEX_OPERATORS:
            replacement = _LATEX_OPERATORS[name]
            translated = _Token(replacement.kind, replacement.text, token.column)
            return [_relation(translated, depth) if translated.kind == "rel" else translated]
        if name in ("\\ne", "\\neq"):
            raise ParseError(f"{name} at column {token.column}: '≠' is not a step relation")
        raise ParseError(
            f"unsupported LaTeX command '{name[:30]}' at column {token.column} (supported: {_SUPPORTED_LATEX})"
        )

    def _roman(self, token: _Token) -> _Token:
        """``\\mathrm{e}``, ``\\operatorname{Abs}``: a plain name in braces."""
        self._expect("{", token)
        word = self._peek()
        if word is None or word.kind != "name":
            raise ParseError(f"{token.text} at column {token.column} must hold a plain name, e.g. \\mathrm{{e}}")
        self._take()
        self._expect("}", token)
        return word

    def _function(self, token: _Token, depth: int) -> list[_Token]:
        """``\\sin x^2`` is sin(x²) as in textbooks; ``\\sin^2 x`` is (sin x)²."""
        call = _Token("name", _LATEX_FUNCTIONS[token.text], token.column)
        following = self._peek()
        if following is None or following.text != "^":
            return [call, *self._argument(token, depth)]
        self._take()
        exponent = self._exponent(token, depth)
        applied = [call, *self._argument(token, depth)]
        return _parenthesised([*_parenthesised(applied, token.column), _Token("op", "**", token.column), *exponent], token.column)

    def _exponent(self, owner: _Token, depth: int) -> list[_Token]:
        """The exponent after ``^``: a brace or bracket group, or one number or name."""
        token = self._peek()
        if token is not None and token.kind == "op" and token.text in "({":
            self._take()
            return self._group(token, ")" if token.text == "(" else "}", depth)
        if token is not None and token.kind in ("num", "name"):
            self._take()
            return _parenthesised([self._subscripted(token) if token.kind == "name" else token], token.column)
        raise ParseError(f"'^' after {owner.text} at column {owner.column} needs an exponent, e.g. {owner.text}^2 x")

    def _derivative(self, token: _Token, depth: int, variable: _Token, order: str) -> list[_Token]:
        """``\\frac{d}{dx} operand`` (or ``\\frac{d^2}{dx^2}``) becomes ``diff(operand, x, order)``."""
        self._skip_ignored()
        operand = self._peek()
        if operand is not None and operand.kind == "cmd" and operand.text in _LATEX_FUNCTIONS:
            translated = self._translate(self._take(), depth)
        elif operand is not None and operand.kind == "name" and self._peek(1) is not None and self._peek(1).text in ("(", "'", "_"):
            translated = [self._subscripted(self._take())]
            opener = self._peek()
            if opener is None or opener.text != "(":
                raise ParseError(f"{translated[0].text} at column {operand.column} needs its argument in parentheses")
            translated += self._group(self._take(), ")", depth)
        else:
            translated = self._argument(token, depth)
        c = token.column
        arguments = [*translated, _Token("op", ",", c), variable, _Token("op", ",", c), _Token("num", order, c)]
        return [_Token("name", "diff", c), *_parenthesised(arguments, c)]

    def _argument(self, function: _Token, depth: int) -> list[_Token]:
        """The argument of ``\\exp``: a bracket or brace group, or a single number or name (with its power: ``x^2``)."""
        self._skip_ignored()
        token = self._peek()
        if token is not None and token.kind == "op" and token.text in "({":
            self._take()
            return self._group(token, ")" if token.text == "(" else "}", depth)
        if token is not None and token.text == "\\left":
            self._take()
            return _parenthesised(self._left(token, depth), function.column)
        if token is not None and token.kind in ("num", "name"):
            self._take()
            atom = [self._subscripted(token) if token.kind == "name" else token]
            following = self._peek()
            if following is not None and following.text == "^":
                self._take()
                atom += [_Token("op", "**", following.column), *self._exponent(function, depth)]
            return _parenthesised(atom, function.column)
        raise ParseError(
            f"{function.text} at column {function.column} needs its argument in parentheses or braces,"
            f" e.g. {function.text}(x)"
        )

    def _braced(self, owner: _Token, depth: int, what: str) -> list[_Token]:
        self._skip_ignored()
        token = self._peek()
        if token is None or token.text != "{":
            raise ParseError(f"{owner.text} at column {owner.column} needs its {what} in braces {{...}}")
        self._take()
        return self._group(token, "}", depth)

    def _root(self, token: _Token, depth: int) -> list[_Token]:
        """``\\sqrt{x}`` is ``sqrt(x)``; ``\\sqrt[n]{x}`` is ``x**(1/n)``."""
        opener = self._peek()
        if opener is None or opener.text != "[":
            return [_Token("name", "sqrt", token.column), *self._braced(token, depth, "radicand")]
        self._take()
        index = self._group(opener, "]", depth)
        radicand = self._braced(token, depth, "radicand")
        c = token.column
        power = _parenthesised([_Token("num", "1", c), _Token("op", "/", c), *index], c)
        return _parenthesised([*radicand, _Token("op", "**", c), *power], c)

    def _left(self, token: _Token, depth: int) -> list[_Token]:
        opener = self._peek()
        if opener is None or opener.text not in _LEFT_CLOSERS:
            raise ParseError(f"\\left at column {token.column} must be followed by (, [ or |")
        self._take()
        group = self._group(opener, _LEFT_CLOSERS[opener.text], depth)
        return [_Token("name", "Abs", token.column), *group] if opener.text == "|" else group

    def _sum(self, token: _Token, depth: int) -> list[_Token]:
        """``\\sum_{k=a}^{b} summand`` becomes ``Sum(summand, (k, a, b))``; the summand ends at a top-level + or -."""
        if depth + 1 > MAX_NESTING:
            raise ResourceLimitError(f"brackets nested deeper than {MAX_NESTING} at column {token.column}")
        self._expect("_", token)
        self._expect("{", token)
        variable = self._peek()
        if variable is None or variable.kind != "name":
            raise ParseError(f"\\sum at column {token.column} needs an index: \\sum_{{k=0}}^{{5}}")
        self._take()
        self._expect("=", token)
        lower = self._limit(token)
        self._expect("}", token)
        self._expect("^", token)
        braced = self._peek() is not None and self._peek().text == "{"
        if braced:
            self._take()
        upper = self._limit(token)
        if braced:
            self._expect("}", token)
        summand = self._sequence(depth + 1, None, token.column, summand=True)
        if not summand:
            raise ParseError(f"\\sum at column {token.column} has no summand")
        c = token.column
        limits = _parenthesised([variable, _Token("op", ",", c), *lower, _Token("op", ",", c), *upper], c)
        return [_Token("name", "Sum", c), *_parenthesised([*summand, _Token("op", ",", c), *limits], c)]

    def _limit(self, owner: _Token) -> list[_Token]:
        sign = [self._take()] if (self._peek() is not None and self._peek().text == "-") else []
        number = self._peek()
        if number is None or number.kind != "num":
            raise ParseError(f"the limits of \\sum at column {owner.column} must be integer literals")
        return [*sign, self._take()]


def _derivative_order(numerator: list[_Token], denominator: list[_Token]) -> tuple[_Token, str] | None:
    """``({d}, {dx})`` → ``(x, "1")``, ``({d^2}, {dx^2})`` → ``(x, "2")``; ``None`` for an ordinary fraction."""
    top = [t.text for t in numerator[1:-1]]
    bottom = denominator[1:-1]
    if not bottom or bottom[0].kind != "name" or not bottom[0].text.startswith("d") or len(bottom[0].text) < 2:
        return None
    order = "1"
    if top[:1] != ["d"]:
        return None
    if len(top) == 3 and top[1] == "**" and top[2].isdigit():
        order = top[2]
    elif len(top) != 1:
        return None
    rest = [t.text for t in bottom[1:]]
    if rest not in ([], ["**", order]):
        return None
    variable = bottom[0].text[1:]
    return _Token("name", variable, bottom[0].column), order


def _relation(token: _Token, depth: int) -> _Token:
    if token.text == "!=":
        raise ParseError(
            f"'!=' at column {token.column}: '≠' is not a step relation (for k! = ..., put a space after '!')"
        )
    if depth > 0:
        raise ParseError(f"relation '{token.text}' at column {token.column} is inside brackets")
    return _Token("rel", "=" if token.text == "==" else token.text, token.column)


def _ends_operand(token: _Token) -> bool:
    return token.kind in ("num", "name") or token.text == ")"


def _ends_summand(token: _Token, out: list[_Token]) -> bool:
    if token.kind == "rel" or token.text == ",":
        return True
    return token.kind == "op" and token.text in "+-" and bool(out) and _ends_operand(out[-1])


def _opening(out: list[_Token], closing: int) -> int:
    """Index of the ``(`` matching the ``)`` at ``closing``."""
    level = 0
    for at in range(closing, -1, -1):
        level += {")": 1, "(": -1}.get(out[at].text, 0) if out[at].kind == "op" else 0
        if level == 0:
            return at
    raise AssertionError("unbalanced translation")


def _parenthesised(tokens: list[_Token], column: int) -> list[_Token]:
    return [_Token("op", "(", column), *tokens, _Token("op", ")", column)]


def _with_products(tokens: list[_Token], is_function: Callable[[str], bool]) -> list[_Token]:
    """Insert ``*`` for implicit products: ``2x``, ``x y``, ``(a)(b)``, ``2(x+1)``, ``x(x+1)`` for a symbol x."""
    result: list[_Token] = []
    for token in tokens:
        if result and _ends_operand(result[-1]) and (token.kind == "name" or token.text == "("):
            previous = result[-1]
            call = previous.kind == "name" and token.text == "(" and is_function(previous.text)
            if not call:
                result.append(_Token("op", "*", token.column))
        result.append(token)
    return result


# --- stage 4: ast whitelist into sympy -----------------------------------------------------------


@dataclass(frozen=True)
class _Vocabulary:
    symbols: Mapping[str, sympy.Symbol]
    indexed: Mapping[str, IndexedFunction]

    def is_function(self, name: str) -> bool:
        special = name in FUNCTIONS or name in ("Sum", "diff")
        return name not in self.symbols and (special or self.family(name) is not None)

    def family(self, name: str) -> tuple[IndexedFunction, int, int] | None:
        """``(f, 4, 0)`` for ``f_4`` and ``(f, 4, 2)`` for ``f_4''`` when ``f`` is an indexed function of the claim."""
        name, _, primes = name.partition(_PRIME)
        stem, _, index = name.rpartition("_")
        if stem in self.indexed and _small_number(index) and (not primes or _small_number(primes)):
            return self.indexed[stem], int(index), int(primes or 0)
        return None

    def symbol(self, name: str) -> sympy.Symbol | None:
        """The claim's symbol typed as ``name`` (``lambda`` also finds a symbol sympy calls ``lamda``)."""
        return self.symbols.get(name)

    def describe(self) -> str:
        symbols = ", ".join(sorted(_shown_name(key) for key in self.symbols)) or "none"
        functions = ", ".join([*FUNCTIONS, "Sum", "diff", *(f"{name}_<n>" for name in self.indexed)])
        return f"symbols: {symbols}; constants: pi, E, e; functions: {functions}"


def _small_number(text: str) -> bool:
    return text.isdigit() and text.isascii() and len(text) <= 6


class _Built(NamedTuple):
    """A sympy expression and, when it is a rational constant, its exact value."""

    expr: sympy.Expr
    value: Fraction | None


def _expression(tokens: list[_Token], vocabulary: _Vocabulary, what: str, column: int) -> sympy.Expr:
    if not tokens:
        raise ParseError(f"the {what} is empty (column {column})")
    code, offsets, columns = _source(tokens)
    _check_nesting(code, offsets, columns)
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        offset = (exc.offset or 1) - 1
        at = _column(offsets, columns, offset)
        raise ParseError(f"cannot read the {what} near column {at}") from None
    except (RecursionError, MemoryError):
        raise ResourceLimitError(f"the {what} is too complex to read") from None
    _check_size(tree.body, offsets, columns)
    with evaluate(False):
        return _Builder(vocabulary, code, offsets, columns).build(tree.body).expr


def _source(tokens: list[_Token]) -> tuple[str, list[int], list[int]]:
    """The code handed to :func:`ast.parse`, with the offset of every token and its column in the input."""
    offsets, columns, parts, at = [], [], [], 0
    for token in tokens:
        offsets.append(at)
        columns.append(token.column)
        parts.append(token.text)
        at += len(token.text) + 1
    return " ".join(parts), offsets, columns


def _column(offsets: list[int], columns: list[int], offset: int) -> int:
    return columns[max(bisect.bisect_right(offsets, offset) - 1, 0)]


def _check_nesting(code: str, offsets: list[int], columns: list[int]) -> None:
    level = 0
    for at, char in enumerate(code):
        level += {"(": 1, ")": -1}.get(char, 0)
        if level > MAX_NESTING:
            raise ResourceLimitError(
                f"brackets nested deeper than {MAX_NESTING} at column {_column(offsets, columns, at)}"
            )


_CHAINS: Mapping[type, str] = {ast.Add: "sum", ast.Sub: "sum", ast.Mult: "product", ast.Div: "product"}


def _check_size(root: ast.expr, offsets: list[int], columns: list[int]) -> None:
    """Refuse more than :data:`MAX_NODES` nodes or a tree deeper than :data:`MAX_DEPTH` (without recursion)."""
    nodes = 0
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, level = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ResourceLimitError(f"the expression has more than {MAX_NODES} parts")
        if level > MAX_DEPTH:
            at = _column(offsets, columns, getattr(node, "col_offset", 0))
            raise ResourceLimitError(f"the expression is nested deeper than {MAX_DEPTH} levels at column {at}")
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                stack.append((child, level if _same_chain(node, child) else level + 1))


def _same_chain(parent: ast.AST, child: ast.expr) -> bool:
    return (
        isinstance(parent, ast.BinOp)
        and isinstance(child, ast.BinOp)
        and child is parent.left
        and _CHAINS.get(type(parent.op)) is not None
        and _CHAINS.get(type(parent.op)) == _CHAINS.get(type(child.op))
    )


class _Builder:
    """Walks the whitelisted tree into unevaluated sympy, folding and bounding rational constants."""

    def __init__(self, vocabulary: _Vocabulary, code: str, offsets: list[int], columns: list[int]) -> None:
        self._vocabulary = vocabulary
        self._code = code
        self._offsets = offsets
        self._columns = columns
        self._bound: list[dict[str, sympy.Symbol]] = []

    def _at(self, node: ast.AST) -> int:
        return _column(self._offsets, self._columns, getattr(node, "col_offset", 0))

    def build(self, node: ast.expr) -> _Built:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self._power(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _CHAINS:
            return self._chain(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            return self._sign(node)
        if isinstance(node, ast.Constant):
            return self._number(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Tuple):
            raise ParseError(f"a comma outside a function call at column {self._at(node)}")
        raise ParseError(f"{type(node).__name__} is not allowed (column {self._at(node)})")

    def _number(self, node: ast.Constant) -> _Built:
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ParseError(f"only numbers are allowed as literals (column {self._at(node)})")
        value = Fraction(self._code[node.col_offset : node.end_col_offset])
        return _Built(_rational(value), value)

    def _name(self, node: ast.Name) -> _Built:
        name = node.id
        for scope in reversed(self._bound):
            if name in scope:
                return _Built(scope[name], None)
        symbol = self._vocabulary.symbol(name)
        if symbol is not None:
            return _Built(symbol, None)
        if name in CONSTANTS:
            return _Built(CONSTANTS[name], None)
        shown = _shown_name(name)
        if self._vocabulary.is_function(name):
            raise ParseError(f"'{shown}' at column {self._at(node)} is a function; write {shown}(...)")
        if _PRIME in name:
            raise ParseError(f"a prime applies to the claim's functions (f_4'(x)), not to '{shown[:40]}' (column {self._at(node)})")
        raise ParseError(f"unknown name '{shown[:40]}' at column {self._at(node)} ({self._vocabulary.describe()})")

    def _sign(self, node: ast.UnaryOp) -> _Built:
        operand = self.build(node.operand)
        return operand if isinstance(node.op, ast.UAdd) else _negative(operand)

    def _chain(self, node: ast.BinOp) -> _Built:
        """``a + b - c`` (or ``a * b / c``) as one flat unevaluated Add (Mul), built without recursion on the chain."""
        kind = _CHAINS[type(node.op)]
        links: list[tuple[ast.operator | None, ast.expr]] = []
        current: ast.expr = node
        while isinstance(current, ast.BinOp) and _CHAINS.get(type(current.op)) == kind:
            links.append((current.op, current.right))
            current = current.left
        links.append((None, current))
        parts = [self._link(op, operand) for op, operand in reversed(links)]
        combined = (sympy.Add if kind == "sum" else sympy.Mul)(*(part.expr for part in parts))
        return _Built(combined, self._fold(kind, [part.value for part in parts], self._at(node)))

    @staticmethod
    def _fold(kind: str, values: list[Fraction | None], column: int) -> Fraction | None:
        """The exact value of a chain of constants, bounded after every operation; ``None`` if not constant."""
        if any(value is None for value in values):
            return None
        total = Fraction(0) if kind == "sum" else Fraction(1)
        for value in values:
            total = total + value if kind == "sum" else total * value
            _bounded(total, column)
        return total

    def _link(self, op: ast.operator | None, operand: ast.expr) -> _Built:
        part = self.build(operand)
        if isinstance(op, ast.Sub):
            return _negative(part)
        if isinstance(op, ast.Div):
            if part.value == 0:
                raise ParseError(f"division by zero at column {self._at(operand)}")
            return _Built(sympy.Pow(part.expr, sympy.S.NegativeOne), None if part.value is None else 1 / part.value)
        return part

    def _power(self, node: ast.BinOp) -> _Built:
        base, exponent = self.build(node.left), self.build(node.right)
        expr = sympy.Pow(base.expr, exponent.expr)
        if exponent.value is None:
            return _Built(expr, None)
        at = self._at(node.right)
        p, q = exponent.value.numerator, exponent.value.denominator
        if abs(p) > MAX_EXPONENT or q > MAX_EXPONENT:
            raise ResourceLimitError(
                f"exponent {_short(exponent.value)} at column {at} exceeds the limit of {MAX_EXPONENT}"
            )
        if base.value is None or q != 1:
            return _Built(expr, None)
        if base.value == 0 and p < 0:
            raise ParseError(f"division by zero: 0 to a negative power at column {at}")
        bits = max(base.value.numerator.bit_length(), base.value.denominator.bit_length()) * abs(p)
        if bits > MAX_CONSTANT_BITS:
            raise ResourceLimitError(
                f"the power at column {self._at(node)} has about {int(bits * 0.30103)} digits;"
                f" the limit is {int(MAX_CONSTANT_BITS * 0.30103)}"
            )
        return _Built(expr, base.value**p)

    def _call(self, node: ast.Call) -> _Built:
        if not isinstance(node.func, ast.Name):
            raise ParseError(f"only named functions can be called (column {self._at(node)})")
        if node.keywords:
            raise ParseError(f"keyword arguments are not allowed (column {self._at(node)})")
        name = node.func.id
        if not self._vocabulary.is_function(name):
            raise ParseError(
                f"'{_shown_name(name)[:40]}' at column {self._at(node)} is not a function ({self._vocabulary.describe()})"
            )
        if name == "Sum":
            return self._sum(node)
        if name == "diff":
            return self._diff(node)
        family = self._vocabulary.family(name)
        if family is not None:
            return self._indexed(node, name, *family)
        function = FUNCTIONS[name]
        arguments = self._arguments(node, name, function.least, function.most)
        return self._apply(node, name, function, arguments)

    def _arguments(self, node: ast.Call, name: str, least: int, most: int) -> list[_Built]:
        if not least <= len(node.args) <= most:
            wanted = str(least) if least == most else f"{least} to {most}"
            raise ParseError(f"{name} at column {self._at(node)} takes {wanted} argument(s), got {len(node.args)}")
        return [self.build(argument) for argument in node.args]

    def _apply(self, node: ast.Call, name: str, function: _Function, arguments: list[_Built]) -> _Built:
        expr = function.build(*(argument.expr for argument in arguments))
        value = arguments[0].value
        if name == "factorial" and value is not None and value.denominator == 1:
            if not 0 <= value <= MAX_FACTORIAL:
                raise ResourceLimitError(
                    f"factorial at column {self._at(node)} of {_short(value)}: integers from 0 to {MAX_FACTORIAL} only"
                )
            return _Built(expr, Fraction(math.factorial(int(value))))
        if name in ("Abs", "abs") and value is not None:
            return _Built(expr, abs(value))
        return _Built(expr, None)

    def _indexed(self, node: ast.Call, name: str, family: IndexedFunction, index: int, order: int) -> _Built:
        """``f_4(arg)``, or with ``order`` primes its derivative at ``arg``, built by the claim's trusted code."""
        shown = _shown_name(name)
        if index > family.max_index:
            raise ResourceLimitError(
                f"{shown} at column {self._at(node)}: the index of {family.name} is at most {family.max_index}"
            )
        if order > MAX_DERIVATIVE:
            raise ResourceLimitError(f"{shown} at column {self._at(node)}: at most {MAX_DERIVATIVE} primes")
        (argument,) = self._arguments(node, shown, 1, 1)
        placeholder = sympy.Dummy("argument")
        with evaluate(True):
            template = family.build(index, placeholder)
            if order:
                template = sympy.diff(template, placeholder, order)
        return _Built(template.xreplace({placeholder: argument.expr}), None)

    def _diff(self, node: ast.Call) -> _Built:
        """``diff(expr, x)`` or ``diff(expr, x, k)``: the unevaluated derivative, with ``1 <= k <= MAX_DERIVATIVE``."""
        at = self._at(node)
        if not 2 <= len(node.args) <= 3 or not isinstance(node.args[1], ast.Name):
            raise ParseError(f"diff at column {at} is written diff(expression, x) or diff(expression, x, order)")
        variable = self._vocabulary.symbol(node.args[1].id)
        if variable is None:
            raise ParseError(
                f"diff at column {at}: '{_shown_name(node.args[1].id)[:40]}' is not one of the claim's symbols"
                f" ({self._vocabulary.describe()})"
            )
        order = self.build(node.args[2]).value if len(node.args) == 3 else Fraction(1)
        if order is None or order.denominator != 1 or not 1 <= order <= MAX_DERIVATIVE:
            raise ParseError(f"the order of diff at column {at} must be an integer from 1 to {MAX_DERIVATIVE}")
        return _Built(sympy.Derivative(self.build(node.args[0]).expr, (variable, int(order))), None)

    def _sum(self, node: ast.Call) -> _Built:
        """``Sum(summand, (k, a, b))`` with integer literals ``a <= b`` and at most :data:`MAX_SUM_TERMS` terms."""
        at = self._at(node)
        limits = node.args[1] if len(node.args) == 2 else None
        if not isinstance(limits, ast.Tuple) or len(limits.elts) != 3 or not isinstance(limits.elts[0], ast.Name):
            raise ParseError(f"Sum at column {at} is written Sum(summand, (k, lower, upper))")
        index = limits.elts[0].id
        if index in CONSTANTS or self._vocabulary.is_function(index):
            raise ParseError(f"'{index}' at column {at} cannot be a summation index")
        lower, upper = (self.build(limit).value for limit in limits.elts[1:])
        if lower is None or upper is None or lower.denominator != 1 or upper.denominator != 1:
            raise ParseError(f"the limits of Sum at column {at} must be integer literals")
        if not lower <= upper:
            raise ParseError(f"the limits of Sum at column {at} must satisfy lower <= upper")
        if upper - lower + 1 > MAX_SUM_TERMS:
            raise ResourceLimitError(f"Sum at column {at} has {upper - lower + 1} terms; the limit is {MAX_SUM_TERMS}")
        variable = sympy.Symbol(index, integer=True)
        self._bound.append({index: variable})
        try:
            summand = self.build(node.args[0])
        finally:
            self._bound.pop()
        # Sum multiplies its summand by an orientation of 1; with evaluation on, that 1 is
        # dropped without touching the (unevaluated) summand, so no 1*(...) appears.
        with evaluate(True):
            return _Built(sympy.Sum(summand.expr, (variable, int(lower), int(upper))), None)


def _negative(part: _Built) -> _Built:
    """``-part``: a literal number stays a number, anything else becomes ``-1 * part``."""
    if part.value is None:
        return _Built(sympy.Mul(sympy.S.NegativeOne, part.expr), None)
    if isinstance(part.expr, sympy.Rational):
        return _Built(_rational(-part.value), -part.value)
    return _Built(sympy.Mul(sympy.S.NegativeOne, part.expr), -part.value)


def _rational(value: Fraction) -> sympy.Rational:
    return sympy.Rational(value.numerator, value.denominator)


def _bounded(value: Fraction, column: int) -> None:
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_CONSTANT_BITS:
        raise ResourceLimitError(
            f"the number at column {column} has more than {int(MAX_CONSTANT_BITS * 0.30103)} digits"
        )


def _short(value: Fraction) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:10]}...({len(text)} characters)"
