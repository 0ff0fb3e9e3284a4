"""LaTeX proof sheets and the proof book: jinja2 with LaTeX-safe delimiters, compiled by latexmk without shell escape.

One template serves every sheet, one claim or all of them (``twofold sheet
--all``): a title page, a table of contents, a longtable summary of the
verdicts, then one section per family (its figures from
:mod:`twofold.figures`, then a subsection per claim: statement, hypotheses,
checked derivation steps, numeric evidence, verdict), hyperlinked both ways.

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
from typing import TYPE_CHECKING

import jinja2

from twofold import registry
from twofold.contract import InputError, TexError
from twofold.model import Claim, Family, Step, Verdict

if TYPE_CHECKING:  # figures import matplotlib: only a sheet that draws them pays for it
    from twofold.figures import Figure

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


def tex_breakable(value: object) -> str:
    """:func:`tex_escape`, then a line-break opportunity after every ``* / ( ) , =``: formulas
    printed as text (``sqrt(2)*exp(-(x - y)**2/2)``) wrap in a narrow table cell."""
    return re.sub(r"([*/(),=])", r"\1\\allowbreak{}", tex_escape(value))


def _claim_id(claim_id: str) -> str:
    """A claim id in typewriter type that may break after its dots and underscores (for narrow table cells)."""
    escaped = tex_escape(claim_id).replace(".", r".\allowbreak{}").replace(r"\_", r"\_\allowbreak{}")
    return rf"\texttt{{{escaped}}}"


@dataclass(frozen=True)
class SheetItem:
    """One claim with its verdict; ``anchor`` is its LaTeX label (``claim1``, ``claim2``, ... in the order given)."""

    claim: Claim
    verdict: Verdict
    anchor: str

    @property
    def params(self) -> str:
        return ", ".join(f"{k} = {v}" for k, v in self.verdict.params) or "none"


@dataclass(frozen=True)
class SheetSection:
    """The claims of one family, in the order given, with the family's record (when registered) and figures."""

    name: str
    title: str
    source: str
    number: int | None
    items: tuple[SheetItem, ...]
    figures: tuple[Figure, ...]


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
    env.filters["claimid"] = _claim_id
    env.filters["texbreak"] = tex_breakable
    return env


def families_of(pairs: Sequence[tuple[Claim, Verdict]]) -> tuple[str, ...]:
    """Family names of the claims, each once, in order of first appearance."""
    return tuple(dict.fromkeys(claim.family for claim, _ in pairs))


def _declaring(pairs: Sequence[tuple[Claim, Verdict]]) -> tuple[Family, ...]:
    """The registered families of these claims, whose declared figures the sheet draws."""
    return tuple(found for name in families_of(pairs) if (found := registry.family(name)) is not None)


def sections(pairs: Sequence[tuple[Claim, Verdict]], figures: Sequence[Figure] = ()) -> tuple[SheetSection, ...]:
    """The claims grouped by family (titles from the registry's :class:`~twofold.model.Family` records)."""
    items = [SheetItem(claim, verdict, f"claim{number}") for number, (claim, verdict) in enumerate(pairs, start=1)]
    grouped = []
    for name in families_of(pairs):
        family = registry.family(name)
        grouped.append(
            SheetSection(
                name=name,
                title=family.title if family else name,
                source=family.source if family else "",
                number=family.number if family else None,
                items=tuple(item for item in items if item.claim.family == name),
                figures=tuple(figure for figure in figures if figure.family == name),
            )
        )
    return tuple(grouped)


def render_tex(
    pairs: Sequence[tuple[Claim, Verdict]],
    figures: Sequence[Figure] = (),
    profile: str | None = None,
    seed: int | None = None,
    generator: str = "twofold",
) -> str:
    """The LaTeX source of a proof sheet (or book) for these claims and their verdicts.

    ``figures`` are included (when their file exists beside the source) in their family's section;
    ``profile`` and ``seed``, when given, are stated on the title page.
    """
    template = _environment().get_template("sheet.tex.j2")
    verdicts = [verdict for _, verdict in pairs]
    return template.render(
        sections=sections(pairs, figures),
        claims=len(pairs),
        passed=sum(verdict.passed for verdict in verdicts),
        profile=profile,
        seed=seed,
        generator=generator,
        date=date.today().isoformat(),
    )


def tex_engine() -> str | None:
    """Path of latexmk, or ``None`` when no TeX is installed."""
    return shutil.which("latexmk") if shutil.which("pdflatex") else None


def compile_in(workdir: Path, source: str, output: Path) -> str:
    """Compile ``source`` as ``workdir/sheet.tex`` with latexmk (no shell escape, paranoid file access)
    into ``output``; returns the text of the LaTeX log.  Files the source includes must be in ``workdir``."""
    latexmk = tex_engine()
    if latexmk is None:
        raise TexError("no TeX engine found (latexmk and pdflatex are needed)")
    (workdir / "sheet.tex").write_text(source, encoding="utf-8")
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
            command, check=False, cwd=workdir, env=env, capture_output=True, text=True, timeout=COMPILE_SECONDS, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise TexError(f"latexmk did not finish within {COMPILE_SECONDS} s") from None
    pdf, log = workdir / "sheet.pdf", workdir / "sheet.log"
    if result.returncode != 0 or not pdf.exists():
        raise TexError(f"latexmk failed: {_first_tex_error(log)}")
    shutil.copyfile(pdf, output)
    return log.read_text(encoding="utf-8", errors="replace")


def compile_pdf(source: str, output: Path) -> Path:
    """Compile a self-contained ``source`` in a private temporary directory into ``output``."""
    with tempfile.TemporaryDirectory(prefix="twofold-sheet-") as workdir:
        compile_in(Path(workdir), source, output)
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


def overfull_boxes(log: str) -> list[str]:
    r"""The ``Overfull \hbox`` / ``\vbox`` warnings of a LaTeX log, one line each."""
    return [line for line in log.splitlines() if line.startswith(("Overfull \\hbox", "Overfull \\vbox"))]


@dataclass(frozen=True)
class SheetResult:
    """What :func:`write_sheet` wrote: the source, the PDF (if any), the LaTeX log text (if compiled), a message."""

    tex: Path
    pdf: Path | None
    message: str
    log: str | None = None
    figures: tuple[Figure, ...] = ()


def validate_output(output: Path) -> str:
    """The output's suffix (``.pdf`` or ``.tex``); a bad name or a missing directory is an :class:`InputError`."""
    suffix = output.suffix.lower()
    if suffix not in (".pdf", ".tex"):
        raise InputError(f"sheet output must end in .pdf or .tex, got '{output.name}'")
    if not output.parent.is_dir():
        raise InputError(f"sheet output directory '{output.parent}' does not exist")
    return suffix


def write_sheet(
    pairs: Sequence[tuple[Claim, Verdict]], output: Path, seed: int = 0, profile: str | None = None
) -> SheetResult:
    """Write ``output``: a .tex (its figures, drawn with ``seed``, beside it), or a .pdf compiled in a private
    directory holding the source and the figures, with a copy of the source beside the PDF.

    Without TeX a .pdf request still writes the .tex (without figures) and raises :class:`TexError`
    saying that no PDF was made.
    """
    from twofold.figures import draw_figures

    suffix = validate_output(output)
    tex_path = output.with_suffix(".tex")
    if suffix == ".tex":
        figures = draw_figures(_declaring(pairs), output.parent, seed)
        tex_path.write_text(render_tex(pairs, figures, profile, seed), encoding="utf-8")
        drawn = ", ".join(figure.file for figure in figures)
        return SheetResult(tex_path, None, f"wrote {tex_path}" + (f" (figures {drawn} beside it)" if drawn else ""), None, figures)
    if tex_engine() is None:
        tex_path.write_text(render_tex(pairs, (), profile, seed), encoding="utf-8")
        raise TexError(f"no PDF made: no TeX engine (latexmk/pdflatex) found; the LaTeX source is in {tex_path}")
    with tempfile.TemporaryDirectory(prefix="twofold-sheet-") as workdir:
        figures = draw_figures(_declaring(pairs), Path(workdir), seed)
        source = render_tex(pairs, figures, profile, seed)
        tex_path.write_text(source, encoding="utf-8")
        log = compile_in(Path(workdir), source, output)
    return SheetResult(tex_path, output, f"wrote {output} (source {tex_path})", log, figures)
