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


@dataclass(frozen=True)
class Book:
    pdf: Path
    text: str
    log: str
    pages: int


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
    return Book(pdf, _pdf_text(pdf), result.log, _pdfinfo_pages(pdf))


@pytest.mark.tex
def test_book_names_every_claim_and_family(book: Book) -> None:
    flat = " ".join(book.text.split())
    missing = [claim.id for claim in twofold.all_claims() if claim.id not in flat]
    assert not missing, f"claim ids missing from the book: {missing}"
    for family in families():
        assert family.title in flat, family.title
    for heading in ("Contents", "Summary of verdicts", "statistic vs threshold", "Numeric evidence"):
        assert heading in flat


@pytest.mark.tex
def test_book_has_a_sane_page_count_and_no_overfull_boxes(book: Book) -> None:
    assert PAGES[0] <= book.pages <= PAGES[1]
    assert overfull_boxes(book.log) == []
    assert "Figure 1" in book.text and "Figure 3" in book.text


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
    for part in (r"\begin{titlepage}", r"\tableofcontents", r"\begin{longtable}", r"\section{", r"\subsection{"):
        assert source.count(part) == 1, part
    assert r"\twofoldfigure" not in source.split(r"\begin{document}")[1]


def test_sections_follow_the_registry_families() -> None:
    pairs = [(claim, None) for claim in twofold.select(["favor", "taylor.even_positive", "taylor.critical_value"])]
    grouped = sections(pairs)
    assert [s.name for s in grouped] == ["favor", "taylor"]
    assert grouped[1].title == next(f.title for f in families() if f.name == "taylor")
    assert [item.anchor for item in grouped[1].items] == [f"claim{len(grouped[0].items) + i}" for i in (1, 2)]


def test_figures_depend_on_numerics_and_land_in_their_family(tmp_path: Path) -> None:
    declaring = [family for family in families() if family.figures]
    figures = draw_figures(declaring, tmp_path, seed=0)
    assert [figure.family for figure in figures] == [f.name for f in declaring for _ in f.figures]
    for figure in figures:
        assert (tmp_path / figure.file).read_bytes().startswith(b"%PDF")
    slope = re.search(r"slope is \$([0-9.]+) \\pm", figures[-1].caption)
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
