r"""TeX escaping: plain text (user input, messages, numbers printed as text) made safe to typeset.

A leaf module (no twofold imports), shared by the proof sheet (:mod:`twofold.sheet`)
and the Jupyter display (:mod:`twofold.display`).  Strings twofold writes as LaTeX
(claim titles, statements, step descriptions, rules, methods; see
docs/architecture.md) are *not* escaped; everything that comes from a user or an
exception message, or is plain text, is.
"""

from __future__ import annotations

import re
import unicodedata

_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_UNICODE = {
    "±": r"\ensuremath{\pm}", "≤": r"\ensuremath{\le}", "≥": r"\ensuremath{\ge}", "≠": r"\ensuremath{\ne}",
    "−": "-", "–": "--", "—": "---", "×": r"\ensuremath{\times}", "·": r"\ensuremath{\cdot}",
    "→": r"\ensuremath{\to}", "⇒": r"\ensuremath{\Rightarrow}", "∞": r"\ensuremath{\infty}",
    "∈": r"\ensuremath{\in}", "∉": r"\ensuremath{\notin}", "√": r"\ensuremath{\surd}", "∘": r"\ensuremath{\circ}",
    "Σ": r"\ensuremath{\Sigma}", "Λ": r"\ensuremath{\Lambda}", "Ω": r"\ensuremath{\Omega}",
    "α": r"\ensuremath{\alpha}", "β": r"\ensuremath{\beta}", "γ": r"\ensuremath{\gamma}",
    "δ": r"\ensuremath{\delta}", "ε": r"\ensuremath{\varepsilon}", "η": r"\ensuremath{\eta}",
    "θ": r"\ensuremath{\theta}", "λ": r"\ensuremath{\lambda}", "μ": r"\ensuremath{\mu}",
    "ρ": r"\ensuremath{\rho}", "σ": r"\ensuremath{\sigma}", "φ": r"\ensuremath{\varphi}",
    "ω": r"\ensuremath{\omega}", "½": r"\ensuremath{\tfrac12}", "²": r"\ensuremath{^2}",
    "π": r"\ensuremath{\pi}", "Π": r"\ensuremath{\Pi}", "Γ": r"\ensuremath{\Gamma}", "Δ": r"\ensuremath{\Delta}",
    "χ": r"\ensuremath{\chi}", "κ": r"\ensuremath{\kappa}", "τ": r"\ensuremath{\tau}", "ξ": r"\ensuremath{\xi}",
    "³": r"\ensuremath{^3}", "¹": r"\ensuremath{^1}", "⁰": r"\ensuremath{^0}", "ⁿ": r"\ensuremath{^n}", "⁻": r"\ensuremath{^-}",
    "‖": r"\ensuremath{\|}", "∑": r"\ensuremath{\sum}", "∫": r"\ensuremath{\int}", "≈": r"\ensuremath{\approx}",
}


_ACCENTS = {"\u0302": "hat", "\u0303": "tilde", "\u0304": "bar", "\u0307": "dot", "\u0308": "ddot"}


def tex_escape(value: object) -> str:
    """Text safe to typeset: LaTeX specials escaped, known Unicode mapped (a letter with a combining accent,
    as in ``v̂``, becomes ``\\hat{v}`` in math), other non-ASCII as U+XXXX."""
    text = str(value)
    out = []
    for index, char in enumerate(text):
        accent = _ACCENTS.get(text[index + 1 : index + 2])
        if accent and char.isascii() and char.isalpha():
            out.append(rf"\ensuremath{{\{accent}{{{char}}}}}")
        elif char in _ACCENTS and index > 0 and text[index - 1].isascii() and text[index - 1].isalpha():
            continue
        elif char in _SPECIALS:
            out.append(_SPECIALS[char])
        elif char in _UNICODE:
            out.append(_UNICODE[char])
        elif char == "\n" or char == "\t":
            out.append(" ")
        elif not char.isprintable():
            out.append("?")
        elif script := _script(char):
            out.append(script)
        elif ord(char) > 126:
            out.append(rf"\texttt{{[U+{ord(char):04X}]}}")
        else:
            out.append(char)
    return "".join(out)


def _script(char: str) -> str:
    """A Unicode super- or subscript (``⁸``, ``ₙ``, ``ᵀ``) as math, from its compatibility decomposition; else ``""``."""
    kind, _, code = unicodedata.decomposition(char).partition(" ")
    if kind not in ("<super>", "<sub>") or not code:
        return ""
    base = chr(int(code, 16))
    if base in _SPECIALS or not base.isascii() or not base.isprintable():
        return ""
    return rf"\ensuremath{{{'^' if kind == '<super>' else '_'}{{\mathrm{{{base}}}}}}}"


def tex_breakable(value: object) -> str:
    """:func:`tex_escape`, then a line-break opportunity after every ``* / ( ) , =``: formulas
    printed as text (``sqrt(2)*exp(-(x - y)**2/2)``) wrap in a narrow table cell."""
    return re.sub(r"([*/(),=])", r"\1\\allowbreak{}", tex_escape(value))


def tex_identifier(name: str) -> str:
    """An identifier (a claim id) in typewriter type that a narrow cell may break only at its dots, or, when a
    part is still too long, after an underscore (a high penalty: the last resort); never inside a word."""
    escaped = tex_escape(name).replace(".", r".\penalty0{}").replace(r"\_", r"\_\penalty5000{}")
    return rf"\texttt{{{escaped}}}"


_FORBIDDEN = re.compile(
    r"\\(?:input|include|openin|openout|read|write|immediate|special|catcode|def|edef|gdef|xdef|let|futurelet|csname|"
    r"newcommand|renewcommand|providecommand|usepackage|documentclass|makeatletter|makeatother|begin|end|par|"
    r"section|subsection|item|newline|clearpage|newpage|vspace|hspace|input@path)(?![A-Za-z])|\\\\|\\@"
)


def tex_text(value: object) -> str:
    r"""A string twofold's claims write as LaTeX text (math in ``$...$``): kept as written when it is safe
    to typeset inline, else escaped with :func:`tex_escape` (so it shows its characters instead of breaking the build).

    Safe means: braces and ``$`` balanced, no ``% & #`` and no ``_ ^`` outside math, no line breaks, and none
    of the primitives that read or write files, define macros or change the page structure.  Non-ASCII
    characters are mapped as :func:`tex_escape` maps them (``ρ`` to ``\\ensuremath{\\rho}``).
    """
    text = str(value)
    if not is_latex_text(text):
        return tex_escape(text)
    return "".join(char if ord(char) < 128 else tex_escape(char) for char in text)


def is_latex_text(text: str) -> bool:
    """Whether :func:`tex_text` keeps ``text`` as written (else it escapes it)."""
    if _FORBIDDEN.search(text) or any(char in text for char in "\n\r\t\f\0"):
        return False
    depth, math, index = 0, False, 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
        elif char == "$":
            if text.startswith("$$", index):
                return False
            math = not math
        elif char in "%&#~" or (char in "_^" and not math):
            return False
        index += 1
    return depth == 0 and not math and not text.endswith("\\")


def pdf_string(text: str) -> str:
    """Unicode text for a PDF string (a bookmark, via hyperref's ``\\texorpdfstring``): TeX specials escaped,
    other characters as they are (hyperref writes them as UTF-16), control characters dropped."""
    return "".join(_SPECIALS.get(char, char) for char in text if char.isprintable())
