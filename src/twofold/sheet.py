"""LaTeX proof sheets and the proof book: jinja2 with LaTeX-safe delimiters, compiled by latexmk without shell escape.

One template serves every sheet, one claim or all of them (``twofold sheet
--all``): a title page, a table of contents, a longtable summary of the
verdicts, then one section per family (its figures from
:mod:`twofold.figures`, then a subsection per claim: statement, hypotheses,
checked derivation steps, numeric evidence, verdict), hyperlinked both ways.

The claims' own strings (titles, step descriptions and rules, methods,
hypothesis and parameter ``latex``, ``proved_for``) are LaTeX text with math in
``$...$`` and go in as written (:func:`twofold.texescape.tex_text`, which still
escapes a string that would break the build); everything else (sources, checks,
details, failure messages, parameter values, which may come from a user) passes
through :func:`tex_escape`; math comes from ``sympy.latex``.  The sheet renders
what it is given: claims, verdicts and their families' records.  Compilation runs
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

from twofold.contract import InputError, TexError
from twofold.plaintext import to_unicode
from twofold.texescape import is_latex_text, pdf_string, tex_breakable, tex_escape, tex_identifier, tex_text
from twofold.model import Claim, Comparison, Derivation, Family, Step, Verdict

if TYPE_CHECKING:  # figures import matplotlib: only a sheet that draws them pays for it
    from twofold.figures import Figure

COMPILE_SECONDS = 180

def _step_latex(step: Step) -> str:
    return step.latex()


def heading(value: str) -> str:
    """A section title: the claim's LaTeX text typeset (:func:`tex_text`), readable Unicode in the PDF bookmarks."""
    shown = to_unicode(value) if is_latex_text(value) else value
    return rf"\texorpdfstring{{{tex_text(value)}}}{{{pdf_string(shown)}}}"


def step_kind(step: Step) -> str:
    """The step's kind and checker in words: ``general, checked by sympy``, ``instance, certified by the caller``."""
    who = "checked by sympy" if step.checked_by == "sympy" else "certified by the caller"
    return f"{step.kind}, {who}"


def kinds_sentence(derivation: Derivation) -> str:
    """How many steps of each kind, and how many the caller certified: ``2 general, 5 at the parameter point, 1 certificate``."""
    words = {"general": "general", "instance": "at the parameter point", "certificate": "certificate"}
    counts = [f"{count} {words[kind]}" for kind, count in derivation.kinds().items() if count]
    certified = sum(step.checked_by == "caller" for step in derivation.steps)
    return ", ".join(counts) + (f"; {certified} certified by the caller, the others checked by sympy" if certified else "; all checked by sympy")


def value_latex(value: object) -> str:
    """A parameter value (possibly given on the command line) as text: numbers in math, words escaped."""
    if isinstance(value, bool) or isinstance(value, str):
        return rf"\texttt{{{tex_escape(str(value).lower() if isinstance(value, bool) else value)}}}"
    if isinstance(value, float):
        return f"${value:.6g}$".replace("e-0", "e-").replace("e+", "e")
    return f"${tex_escape(value)}$"


def parameter_latex(claim: Claim, name: str) -> str:
    """A parameter's name as typeset: its ``latex`` when it declares one, else the name in typewriter."""
    declared = next((p.latex for p in claim.parameters if p.name == name), "")
    return tex_text(declared) if declared else rf"\texttt{{{tex_escape(name)}}}"


def evidence(comparison: Comparison) -> str:
    """The numbers a verdict rests on, as LaTeX: ``$0.372 \\le 5$`` for a statistic under a threshold; for an
    exact match (threshold 0: a count, an interval, no counterexample) the exact and numeric values instead of ``0 vs 0``."""
    c = comparison
    if c.threshold == 0:
        return f"exact {_number(c.exact)}, numeric {_number(c.estimate)}"
    relation = r"\le" if c.statistic <= c.threshold else ">"
    return f"{_number(c.statistic, 3)} ${relation}$ {_number(c.threshold, 3)}"


def _number(value: float, digits: int = 6) -> str:
    return tex_escape(f"{value:.{digits}g}")


def resolution_lines(claim: Claim) -> tuple[str, ...]:
    """Each :class:`~twofold.model.Probe` of the claim in words (LaTeX): the error the cross-check must reject and why."""
    return tuple(tex_text(probe.latex()) for probe in claim.resolution)


@dataclass(frozen=True)
class SheetItem:
    """One claim with its verdict; ``anchor`` is its LaTeX label (``claim1``, ``claim2``, ... in the order given)."""

    claim: Claim
    verdict: Verdict
    anchor: str

    @property
    def params(self) -> str:
        """The parameter point as LaTeX (``$n$ = $8$, ...``; names by their ``latex``, values escaped)."""
        shown = [f"{parameter_latex(self.claim, k)} $=$ {value_latex(v)}" for k, v in self.verdict.params]
        return ", ".join(shown) or "none"

    @property
    def resolution(self) -> tuple[str, ...]:
        return resolution_lines(self.claim)

    @property
    def scope(self) -> str:
        """``Proved for all ...`` (LaTeX text) when a general argument carries the claim, else ``Checked at`` its parameters."""
        derivation = self.verdict.derivation
        if derivation is not None and derivation.proved_for:
            return f"Proved for {tex_text(derivation.proved_for)}."
        return f"Checked at {self.params}." if self.verdict.params else "Checked as stated (no parameters)."


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
    env.filters["text"] = tex_text
    env.filters["heading"] = heading
    env.filters["stepkind"] = step_kind
    env.filters["kinds"] = kinds_sentence
    env.filters["evidence"] = evidence
    env.filters["steplatex"] = _step_latex
    env.filters["claimid"] = tex_identifier
    env.filters["texbreak"] = tex_breakable
    return env


def families_of(pairs: Sequence[tuple[Claim, Verdict]]) -> tuple[str, ...]:
    """Family names of the claims, each once, in order of first appearance."""
    return tuple(dict.fromkeys(claim.family for claim, _ in pairs))


def _declaring(pairs: Sequence[tuple[Claim, Verdict]], families: Sequence[Family]) -> tuple[Family, ...]:
    """The given families that own one of these claims, in the claims' order: whose figures the sheet draws."""
    by_name = {family.name: family for family in families}
    return tuple(by_name[name] for name in families_of(pairs) if name in by_name)


def sections(
    pairs: Sequence[tuple[Claim, Verdict]], families: Sequence[Family] = (), figures: Sequence[Figure] = ()
) -> tuple[SheetSection, ...]:
    """The claims grouped by family; titles, sources and numbers from the given :class:`~twofold.model.Family`
    records (a claim whose family is not among them gets a section named after its family)."""
    by_name = {family.name: family for family in families}
    items = [SheetItem(claim, verdict, f"claim{number}") for number, (claim, verdict) in enumerate(pairs, start=1)]
    grouped = []
    for name in families_of(pairs):
        family = by_name.get(name)
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
    families: Sequence[Family] = (),
    figures: Sequence[Figure] = (),
    profile: str | None = None,
    seed: int | None = None,
    generator: str = "twofold",
) -> str:
    """The LaTeX source of a proof sheet (or book) for these claims and their verdicts.

    ``families`` are the records of the claims' families (section titles, sources);
    ``figures`` are included (when their file exists beside the source) in their family's section;
    ``profile`` and ``seed``, when given, are stated on the title page.
    """
    template = _environment().get_template("sheet.tex.j2")
    verdicts = [verdict for _, verdict in pairs]
    return template.render(
        sections=sections(pairs, families, figures),
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
    """The output's suffix (``.pdf`` or ``.tex``), checked before any work: a bad name, a missing or
    unwritable directory, or an unwritable file (the output or the ``.tex`` beside it) is an :class:`InputError`."""
    suffix = output.suffix.lower()
    if suffix not in (".pdf", ".tex"):
        raise InputError(f"sheet output must end in .pdf or .tex, got '{output.name}'")
    if not output.parent.is_dir():
        raise InputError(f"sheet output directory '{output.parent}' does not exist")
    for path in dict.fromkeys((output, output.with_suffix(".tex"))):
        if path.is_dir():
            raise InputError(f"sheet output '{path}' is a directory")
        if path.exists() and not os.access(path, os.W_OK):
            raise InputError(f"sheet output '{path}' is not writable")
    if not os.access(output.parent, os.W_OK | os.X_OK):
        raise InputError(f"sheet output directory '{output.parent}' is not writable")
    return suffix


def write_sheet(
    pairs: Sequence[tuple[Claim, Verdict]],
    output: Path,
    families: Sequence[Family] = (),
    seed: int = 0,
    profile: str | None = None,
) -> SheetResult:
    """Write ``output``: a .tex (its figures, drawn with ``seed``, beside it), or a .pdf compiled in a private
    directory holding the source and the figures, with a copy of the source beside the PDF.

    ``families`` are the records of the claims' families: section titles, and the figures they declare.
    Without TeX a .pdf request still writes the .tex (without figures) and raises :class:`TexError`
    saying that no PDF was made.
    """
    from twofold.figures import draw_figures

    suffix = validate_output(output)
    tex_path = output.with_suffix(".tex")
    declaring = _declaring(pairs, families)
    if suffix == ".tex":
        figures = draw_figures(declaring, output.parent, seed)
        tex_path.write_text(render_tex(pairs, families, figures, profile, seed), encoding="utf-8")
        drawn = ", ".join(figure.file for figure in figures)
        return SheetResult(tex_path, None, f"wrote {tex_path}" + (f" (figures {drawn} beside it)" if drawn else ""), None, figures)
    if tex_engine() is None:
        tex_path.write_text(render_tex(pairs, families, (), profile, seed), encoding="utf-8")
        raise TexError(f"no PDF made: no TeX engine (latexmk/pdflatex) found; the LaTeX source is in {tex_path}")
    with tempfile.TemporaryDirectory(prefix="twofold-sheet-") as workdir:
        figures = draw_figures(declaring, Path(workdir), seed)
        source = render_tex(pairs, families, figures, profile, seed)
        tex_path.write_text(source, encoding="utf-8")
        log = compile_in(Path(workdir), source, output)
    return SheetResult(tex_path, output, f"wrote {output} (source {tex_path})", log, figures)
