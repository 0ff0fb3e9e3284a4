"""LaTeX proof sheets: jinja2 with LaTeX-safe delimiters, compiled by latexmk without shell escape.

Every string that is not LaTeX written by twofold itself passes through
:func:`tex_escape`; math comes from ``sympy.latex``.  Compilation runs
``latexmk -pdf`` in a private temporary directory with ``-no-shell-escape``
and kpathsea's paranoid file access (``openin_any=p``, ``openout_any=p``), so
even a sheet carrying ``\\input{/etc/passwd}`` or ``\\write18`` could neither
read outside its directory nor run a program.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2

from twofold.errors import InputError, TexError
from twofold.model import Claim, Step, Verdict

COMPILE_SECONDS = 180

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


def tex_escape(value: object) -> str:
    """Text safe to typeset: LaTeX specials escaped, known Unicode mapped, other non-ASCII as U+XXXX."""
    out = []
    for char in str(value):
        if char in _SPECIALS:
            out.append(_SPECIALS[char])
        elif char in _UNICODE:
            out.append(_UNICODE[char])
        elif char == "\n" or char == "\t":
            out.append(" ")
        elif not char.isprintable():
            out.append("?")
        elif ord(char) > 126:
            out.append(rf"\texttt{{[U+{ord(char):04X}]}}")
        else:
            out.append(char)
    return "".join(out)


def _step_latex(step: Step) -> str:
    return step.latex()


@dataclass(frozen=True)
class SheetItem:
    claim: Claim
    verdict: Verdict

    @property
    def params(self) -> str:
        return ", ".join(f"{k} = {v}" for k, v in self.verdict.params) or "none"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("twofold", "templates"),
        block_start_string="((*",
        block_end_string="*))",
        variable_start_string="(((",
        variable_end_string=")))",
        comment_start_string="((=",
        comment_end_string="=))",
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["tex"] = tex_escape
    env.filters["steplatex"] = _step_latex
    return env


def render_tex(pairs: Sequence[tuple[Claim, Verdict]], generator: str = "twofold") -> str:
    """The LaTeX source of a proof sheet for these claims and their verdicts."""
    template = _environment().get_template("sheet.tex.j2")
    items = [SheetItem(claim, verdict) for claim, verdict in pairs]
    return template.render(items=items, generator=generator, date=date.today().isoformat())


def tex_engine() -> str | None:
    """Path of latexmk, or ``None`` when no TeX is installed."""
    return shutil.which("latexmk") if shutil.which("pdflatex") else None


def compile_pdf(source: str, output: Path) -> Path:
    """Compile ``source`` with latexmk (no shell escape, paranoid file access) into ``output``."""
    latexmk = tex_engine()
    if latexmk is None:
        raise TexError("no TeX engine found (latexmk and pdflatex are needed)")
    with tempfile.TemporaryDirectory(prefix="twofold-sheet-") as workdir:
        (Path(workdir) / "sheet.tex").write_text(source, encoding="utf-8")
        env = dict(os.environ, openin_any="p", openout_any="p", shell_escape="f")
        command = [
            latexmk,
            "-pdf",
            "-pdflatex=pdflatex -no-shell-escape -interaction=nonstopmode -halt-on-error -file-line-error %O %S",
            "-interaction=nonstopmode",
            "-halt-on-error",
            "sheet.tex",
        ]
        try:
            result = subprocess.run(
                command, cwd=workdir, env=env, capture_output=True, text=True, timeout=COMPILE_SECONDS, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise TexError(f"latexmk did not finish within {COMPILE_SECONDS} s") from None
        pdf = Path(workdir) / "sheet.pdf"
        if result.returncode != 0 or not pdf.exists():
            raise TexError(f"latexmk failed: {_first_tex_error(Path(workdir) / 'sheet.log')}")
        shutil.copyfile(pdf, output)
    return output


def _first_tex_error(log: Path) -> str:
    """The first error line of a LaTeX log (``! ...`` or ``file:line: ...``), with its successor."""
    if not log.exists():
        return "no log written"
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^\./[^:]+:\d+: ", line):
            return " ".join(lines[number : number + 2]).strip()[:300]
    return "see the LaTeX log"


@dataclass(frozen=True)
class SheetResult:
    tex: Path
    pdf: Path | None
    message: str


def validate_output(output: Path) -> str:
    """The output's suffix (``.pdf`` or ``.tex``); a bad name or a missing directory is an :class:`InputError`."""
    suffix = output.suffix.lower()
    if suffix not in (".pdf", ".tex"):
        raise InputError(f"sheet output must end in .pdf or .tex, got '{output.name}'")
    if not output.parent.is_dir():
        raise InputError(f"sheet output directory '{output.parent}' does not exist")
    return suffix


def write_sheet(pairs: Sequence[tuple[Claim, Verdict]], output: Path) -> SheetResult:
    """Write ``output`` (.tex, or .pdf compiled from a .tex written beside it).

    Without TeX a .pdf request still writes the .tex and raises :class:`TexError`
    saying that no PDF was made.
    """
    suffix = validate_output(output)
    source = render_tex(pairs)
    tex_path = output.with_suffix(".tex")
    tex_path.write_text(source, encoding="utf-8")
    if suffix == ".tex":
        return SheetResult(tex_path, None, f"wrote {tex_path}")
    if tex_engine() is None:
        raise TexError(f"no PDF made: no TeX engine (latexmk/pdflatex) found; the LaTeX source is in {tex_path}")
    compile_pdf(source, output)
    return SheetResult(tex_path, output, f"wrote {output} (source {tex_path})")
