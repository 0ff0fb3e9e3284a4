r"""LaTeX text (math in ``$...$``) as readable Unicode, for the terminal.

Every human-readable string of a claim (titles, statements' descriptions, step
descriptions and rules, :attr:`~twofold.model.Comparison.method`, pitfalls,
hypothesis and parameter ``latex``) is LaTeX text mode with mathematics in
``$...$`` (docs/architecture.md).  The proof sheet typesets it; the terminal
(``twofold list``, ``verify``, ``explain``) shows :func:`to_unicode` of it:
``$|z| = |\hat v - v|/\mathrm{se} \le 5$`` becomes ``|z| = |v̂ - v|/se ≤ 5``,
``$\Lambda^{-1/2}$`` becomes ``Λ⁻¹ᐟ²``.  JSON keeps the LaTeX.

The parsing is pylatexenc's (:class:`~pylatexenc.latex2text.LatexNodes2Text`);
this module adds what its defaults lack for our subset: superscripts and
subscripts (Unicode when every character has a form, else ``^(...)``),
fractions, ``\texttt`` and a few relations.  Plain text without LaTeX passes
through unchanged, apart from runs of spaces.
"""

from __future__ import annotations

import re
from functools import cache

from pylatexenc import latexwalker, macrospec
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, SpecialsTextSpec, get_default_latex_context_db

_SUPERSCRIPTS = str.maketrans("0123456789+-=()abcdefghijklmnoprstuvwxyzT⊤", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵀᵀ")
_SUPERSCRIPT_CHARS = frozenset("0123456789+-=()abcdefghijklmnoprstuvwxyzT⊤")
_SUBSCRIPTS = str.maketrans("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUBSCRIPT_CHARS = frozenset("0123456789+-=()aehijklmnoprstuvx")

_RELATIONS = {
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "sim": "~",
    "to": "→", "mapsto": "↦", "Rightarrow": "⇒", "Longrightarrow": "⟹", "iff": "⟺", "Longleftrightarrow": "⟺",
    "in": "∈", "notin": "∉", "subseteq": "⊆", "times": "×", "cdot": "·", "pm": "±", "mid": "|", "equiv": "≡",
}
_SPACES = {",": " ", ";": " ", ":": " ", "!": "", "quad": "  ", "qquad": "   ", "displaystyle": "", "left": "", "right": ""}


def _script(marker: str, table: dict[int, int], chars: frozenset[str]):
    """A ``simplify_repl`` for ``^`` / ``_``: the argument in Unicode super/subscripts when it can be, else marked."""

    def repl(node: latexwalker.LatexSpecialsNode, l2tobj: LatexNodes2Text) -> str:
        argument = node.nodeargd.argnlist[0] if node.nodeargd and node.nodeargd.argnlist else None
        text = l2tobj.nodelist_to_text([argument]).strip() if argument is not None else ""
        if text and set(text) <= chars:
            return text.translate(table)
        if len(text) == 1:
            return marker + text
        return f"{marker}({text})"

    return repl


def _fraction(node: latexwalker.LatexMacroNode, l2tobj: LatexNodes2Text) -> str:
    top, bottom = (l2tobj.nodelist_to_text([arg]).strip() for arg in node.nodeargd.argnlist[-2:])
    wrap = lambda part: part if re.fullmatch(r"[\w.!′]+|\(.*\)", part) else f"({part})"  # noqa: E731
    return f"{wrap(top)}/{wrap(bottom)}"


def _argument(node: latexwalker.LatexMacroNode, l2tobj: LatexNodes2Text) -> str:
    return l2tobj.nodelist_to_text([node.nodeargd.argnlist[-1]])


@cache
def _converter() -> tuple[LatexNodes2Text, macrospec.LatexContextDb]:
    walker_db = latexwalker.get_default_latex_context_db()
    walker_db.add_context_category(
        "twofold",
        prepend=True,
        macros=[
            macrospec.MacroSpec("frac", "{{"), macrospec.MacroSpec("tfrac", "{{"), macrospec.MacroSpec("dfrac", "{{"),
            macrospec.MacroSpec("texttt", "{"), macrospec.MacroSpec("allowbreak", ""),
        ],
        specials=[macrospec.SpecialsSpec("^", args_parser=macrospec.MacroStandardArgsParser("{")),
                  macrospec.SpecialsSpec("_", args_parser=macrospec.MacroStandardArgsParser("{"))],
    )
    text_db = get_default_latex_context_db()
    text_db.add_context_category(
        "twofold",
        prepend=True,
        macros=[MacroTextSpec(name, simplify_repl=f" {symbol} ") for name, symbol in _RELATIONS.items()]
        + [MacroTextSpec(name, simplify_repl=space) for name, space in _SPACES.items()]
        + [MacroTextSpec(name, simplify_repl=_fraction) for name in ("frac", "tfrac", "dfrac")]
        + [MacroTextSpec("texttt", simplify_repl=_argument), MacroTextSpec("allowbreak", simplify_repl="")],
        specials=[SpecialsTextSpec("^", simplify_repl=_script("^", _SUPERSCRIPTS, _SUPERSCRIPT_CHARS)),
                  SpecialsTextSpec("_", simplify_repl=_script("_", _SUBSCRIPTS, _SUBSCRIPT_CHARS))],
    )
    return LatexNodes2Text(latex_context=text_db, math_mode="text", strict_latex_spaces=False), walker_db


def math_to_unicode(latex: str) -> str:
    """A math-mode formula (a statement, a conclusion: LaTeX without ``$``) as readable Unicode."""
    return to_unicode(f"${latex}$")


def to_unicode(latex: str) -> str:
    """``latex`` (LaTeX text, math in ``$...$``) as one line of readable Unicode; unparsable text is returned as given."""
    if not any(char in latex for char in "\\$^_{}"):
        return " ".join(latex.split())
    converter, walker_db = _converter()
    try:
        nodes, _, _ = latexwalker.LatexWalker(latex, latex_context=walker_db, tolerant_parsing=False).get_latex_nodes()
        text = converter.nodelist_to_text(nodes)
    except latexwalker.LatexWalkerError:
        return " ".join(latex.split())
    text = re.sub(r"\s+([,;.)\]])", r"\1", " ".join(text.split()))
    return re.sub(r"([(\[])\s+", r"\1", text)
