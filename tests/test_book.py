"""The proof book (``twofold sheet --all``): compiled once per session, then read back and looked at.

The book is built through the CLI (every registered claim's quick-profile verdict, shared with
the generic checks through the ``quick_verdicts`` fixture; figures drawn; latexmk run), then checked with poppler: ``pdftotext`` for claim ids and family
titles, ``pdfinfo`` for the page count, ``pdftoppm`` for page images; the LaTeX log for
overfull boxes.  Without TeX these tests skip, unless ``TWOFOLD_REQUIRE_TEX=1``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from xml.etree import ElementTree
from pathlib import Path

import pytest
from test_sheet import _need_tex, _pdf_text

import twofold
from twofold.cli import main
from twofold.figures import draw_figures
from twofold.registry import families
from twofold.sheet import SheetResult, overfull_boxes, render_tex, sections, write_sheet

# The quick-profile book of 60 claims in 8 families has 86 pages (measured 2026-11); the range leaves
# room for claims and families to come without letting a broken layout (a page per line, or nothing) pass.
PAGES = (40, 200)


# ASCII stand-ins for mathematics that typeset text must not contain (issue 18): the book says ≤, not <=.
PSEUDO_MATH = ("<=", ">=", "!=", "**", "^(", "sqrt(", "->", "|z| =")
TT_OPEN, TT_CLOSE = "\x02", "\x03"  # around typewriter runs (ids, code) in the text of typeset_lines


def typeset_lines(pdf: Path) -> str:
    """The PDF's text line by line (poppler's ``pdftohtml -xml``), typewriter runs (an ``LMMono`` font:
    claim ids, sympy checks) wrapped in :data:`TT_OPEN`/:data:`TT_CLOSE`, pages separated by form feeds."""
    xml = subprocess.run(["pdftohtml", "-xml", "-i", "-stdout", "-q", str(pdf)], check=True, capture_output=True).stdout
    root = ElementTree.fromstring(xml.decode("utf-8", "replace").split("\n", 1)[1].replace("<!DOCTYPE pdf2xml SYSTEM \"pdf2xml.dtd\">", ""))
    pages, mono = [], set()
    for page in root.iter("page"):  # a font is declared on the first page that uses it, and kept
        mono |= {spec.get("id") for spec in page.iter("fontspec") if "Mono" in spec.get("family", "")}
        rows: dict[int, list[tuple[int, str]]] = {}
        for text in page.iter("text"):
            content = "".join(text.itertext())
            if text.get("font") in mono:
                content = TT_OPEN + content + TT_CLOSE
            rows.setdefault(round(int(text.get("top")) / 4), []).append((int(text.get("left")), content))
        pages.append("\n".join(" ".join(part for _, part in sorted(row)) for _, row in sorted(rows.items())))
    return "\f".join(pages)


@dataclass(frozen=True)
class Book:
    pdf: Path
    text: str
    log: str
    pages: int
    figures: tuple


def _pdfinfo_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def _page_of(text: str, needle: str) -> int:
    """1-based number of the first page (pages split by form feeds) whose text contains ``needle``."""
    for number, page in enumerate(text.split("\f"), start=1):
        if needle in " ".join(page.split()):
            return number
    raise AssertionError(f"{needle!r} is on no page")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory, quick_verdicts: dict[str, twofold.Verdict]) -> Book:
    """``twofold sheet --all -o twofold.pdf`` run through the CLI, its :class:`SheetResult` kept for the log.

    The CLI's verification step hands over the session's ``quick_verdicts`` (the same quick profile and
    seed 0 the command uses), so the suite verifies every claim once, not twice."""
    _need_tex()
    if shutil.which("pdfinfo") is None or shutil.which("pdftoppm") is None:
        pytest.skip("poppler's pdfinfo/pdftoppm are missing")
    pdf = tmp_path_factory.mktemp("book") / "twofold.pdf"
    results: list[SheetResult] = []

    def keep(*args, **kwargs) -> SheetResult:
        results.append(write_sheet(*args, **kwargs))
        return results[-1]

    def verified(claims, seed, profile, console, jobs=1) -> list[twofold.Verdict]:
        assert (seed, profile) == (0, "quick")
        return [quick_verdicts[claim.id] for claim in claims]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("twofold.sheet.write_sheet", keep)
        patch.setattr("twofold.cli._verify_all", verified)
        try:
            main(["sheet", "--all", "-o", str(pdf)])
        except SystemExit as exc:
            assert exc.code in (0, None), f"twofold sheet --all exited {exc.code}"
    (result,) = results
    assert result.pdf == pdf and result.log is not None
    return Book(pdf, _pdf_text(pdf), result.log, _pdfinfo_pages(pdf), result.figures)


@pytest.mark.tex
def test_book_names_every_claim_and_family(book: Book) -> None:
    flat = " ".join(book.text.split())
    missing = [claim.id for claim in twofold.all_claims() if claim.id not in flat]
    assert not missing, f"claim ids missing from the book: {missing}"
    for family in families():
        assert family.title in flat, family.title
    for heading in ("Contents", "Summary of verdicts", "evidence", "Numeric evidence", "test level", "resolution"):
        assert heading in flat


@pytest.mark.tex
def test_book_has_a_sane_page_count_and_no_overfull_boxes(book: Book) -> None:
    assert PAGES[0] <= book.pages <= PAGES[1]
    assert overfull_boxes(book.log) == []
    assert "Figure 1" in book.text and "Figure 3" in book.text


def pseudo_math(text: str) -> dict[str, dict[str, int]]:
    """Occurrences of :data:`PSEUDO_MATH` in the book's text (:func:`typeset_lines`) outside typewriter runs
    (claim ids, code), counted per family and pattern.

    A line belongs to the family whose claim it describes: in the body, from a ``Claim <id>.`` line to the
    next; before it, in the contents by its section number and in the summary from a row's id to the next row.  Lines
    of no family (title page, headings, explanations) are the core's (``core``)."""
    names = [family.name for family in families()]
    ids = sorted((claim.id for claim in twofold.all_claims()), key=len, reverse=True)
    found: dict[str, dict[str, int]] = {}
    owner, body = "core", False
    for line in text.splitlines():
        stripped = line.replace(TT_OPEN, "").replace(TT_CLOSE, "").strip()
        if stripped.startswith(("Contents", "Summary of verdicts")):
            owner = "core"
        claim = re.match(r"Claim (\S+)\.", stripped)
        section = re.match(r"(\d+)(\.\d+)?\s", stripped)
        row = re.match(r"([a-z_]+)\.", stripped)
        if claim and claim.group(1) in ids:
            owner, body = claim.group(1).split(".")[0], True
        elif section and not body and 1 <= int(section.group(1)) <= len(names):
            owner = names[int(section.group(1)) - 1]
        elif row and row.group(1) in names:
            owner = row.group(1)
        line = re.sub(f"{TT_OPEN}[^{TT_CLOSE}]*{TT_CLOSE}", " ", line)
        for pattern in PSEUDO_MATH:
            if pattern in line:
                found.setdefault(owner, {}).setdefault(pattern, 0)
                found[owner][pattern] += line.count(pattern)
    return found


def test_the_pseudo_math_reader_finds_what_it_looks_for() -> None:
    text = "Summary |z| = 3\nClaim \x02taylor.even_positive\x03.\nn <= 8 and x**2 -> 0 \x02x**2 -> 0\x03\nClaim favor.positive_mse.\nsqrt(2) >= 1"
    assert pseudo_math(text) == {"core": {"|z| =": 1}, "taylor": {"<=": 1, "**": 1, "->": 1}, "favor": {"sqrt(": 1, ">=": 1}}
    contents = "Contents\n1.2 Value x**2\nSummary of verdicts\nfavor. 3 PASS a <= b\n   continued >= c"
    assert pseudo_math(contents) == {"taylor": {"**": 1}, "favor": {"<=": 1, ">=": 1}}


@pytest.mark.tex
def test_book_typesets_mathematics_as_mathematics(book: Book) -> None:
    """The book's text holds none of the ASCII stand-ins (<=, **, sqrt(, ...) outside typewriter (ids, code)."""
    found = pseudo_math(typeset_lines(book.pdf))
    assert not found, "ASCII pseudo-maths in the book, per family and pattern: " + "; ".join(
        f"{owner}: " + ", ".join(f"{pattern!r} x{count}" for pattern, count in sorted(counts.items()))
        for owner, counts in sorted(found.items())
    )


@pytest.mark.tex
def test_every_family_has_a_figure(book: Book) -> None:
    drawn = {figure.family for figure in book.figures}
    missing = [family.name for family in families() if family.name not in drawn]
    assert not missing, f"families without a figure in the book: {missing}"
    captions = set(re.findall(r"Figure (\d+):", book.text))
    assert len(captions) >= max(8, len(families())), sorted(captions, key=int)


def split_ids(text: str) -> list[str]:
    """Pieces of claim ids in ``text`` that end mid-word: an id may break only after a dot or an underscore."""
    ids = [claim.id for claim in twofold.all_claims()]
    return [
        token for token in text.split()
        if "." in token and not token.endswith((".", "_")) and any(i.startswith(token) and i != token for i in ids)
    ]


def test_the_split_id_reader_finds_what_it_looks_for() -> None:
    assert split_ids("taylor.deriva 3 PASS tive_identity taylor.derivative_ taylor.even_positive") == ["taylor.deriva"]


@pytest.mark.tex
def test_summary_ids_are_whole_and_counts_are_informative(book: Book, quick_verdicts: dict[str, twofold.Verdict]) -> None:
    """In the summary table ids break only at a dot or an underscore, and count claims show their numbers, not "0 vs 0"."""
    after_heading = book.text.split("Summary of verdicts")[2]
    summary = re.split(r"Family \d+ of the registry", after_heading)[0]
    assert split_ids(summary) == []
    flat = " ".join(summary.split())
    assert " vs 0" not in flat and "0 ≤ 0" not in flat
    exact_matches = [v.comparison for v in quick_verdicts.values() if v.comparison is not None and v.comparison.threshold == 0]
    assert exact_matches
    for c in exact_matches:
        assert f"exact {c.exact:.6g}," in flat  # "numeric ..." may wrap into the next line of the cell


@pytest.mark.tex
def test_title_page_and_a_family_page_render(book: Book, tmp_path: Path) -> None:
    """Page 1 and the first page of the favor section (with its figure) as 50-dpi PNGs."""
    favor = next(family for family in families() if family.name == "favor")
    page = _page_of(book.text, f"Family {favor.number} of the registry")
    assert page > 2
    for number in (1, page):
        stem = tmp_path / f"page{number}"
        subprocess.run(
            ["pdftoppm", "-r", "50", "-png", "-f", str(number), "-l", str(number), "-singlefile", str(book.pdf), str(stem)],
            check=True, capture_output=True,
        )
        png = stem.with_suffix(".png")
        assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5_000


def test_one_template_for_every_sheet() -> None:
    """A one-claim sheet has the book's parts: title page, contents, summary, a section and a subsection."""
    claim = twofold.get_claim("taylor.derivative_identity")
    source = render_tex([(claim, claim.verify(seed=0))])
    for part in (r"\begin{titlepage}", r"\tableofcontents", r"\section*{Summary of verdicts}", r"\section{", r"\subsection{"):
        assert source.count(part) == 1, part
    assert source.count(r"\begin{longtable}") == 2  # the summary, and the claim's evidence (breaks across pages)
    assert r"\twofoldfigure" not in source.split(r"\begin{document}")[1]


def test_sections_follow_the_registry_families() -> None:
    pairs = [(claim, None) for claim in twofold.select(["favor", "taylor.even_positive", "taylor.critical_value"])]
    grouped = sections(pairs, families())
    assert [s.name for s in grouped] == ["favor", "taylor"]
    assert grouped[1].title == next(f.title for f in families() if f.name == "taylor")
    assert [item.anchor for item in grouped[1].items] == [f"claim{len(grouped[0].items) + i}" for i in (1, 2)]


def test_figures_depend_on_numerics_and_land_in_their_family(tmp_path: Path) -> None:
    declaring = [family for family in families() if family.figures]
    figures = draw_figures(declaring, tmp_path, seed=0)
    assert [figure.family for figure in figures] == [f.name for f in declaring for _ in f.figures]
    for figure in figures:
        assert (tmp_path / figure.file).read_bytes().startswith(b"%PDF")
    (descent,) = [figure for figure in figures if figure.family == "path_kernel"]
    slope = re.search(r"slope is \$([0-9.]+) \\pm", descent.caption)
    assert slope and abs(float(slope.group(1)) - 1.0) < 0.1


def test_figures_import_neither_theorems_nor_sympy() -> None:
    code = "import sys, pkgutil, importlib, twofold.figures, twofold.drawings as d; [importlib.import_module(f'twofold.drawings.{m.name}') for m in pkgutil.iter_modules(d.__path__)]; print(sorted({m for m in sys.modules if m == 'sympy' or m.startswith('twofold.theorems')}))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sheet", "-o", "book.pdf"], "give --all"),
        (["sheet", "--all", "taylor", "-o", "book.pdf"], "not both"),
    ],
)
def test_all_is_explicit_and_exclusive(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
