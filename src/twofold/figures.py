r"""Figures of the proof book: matplotlib drawings of what a reader would rather look at than read.

Each figure is drawn from ``numerics/`` alone (never from ``theorems/``), with
matplotlib's object-oriented API (a :class:`matplotlib.figure.Figure` on the
non-interactive Agg canvas, no ``pyplot`` state), and saved as a PDF in a
directory the caller chooses: the LaTeX build directory, or beside a ``.tex``.
A drawing function returns a :class:`Figure` record; a family declares its
drawings (``Family.figures``, :class:`twofold.model.Drawing`; the built-in ones
live in :mod:`twofold.drawings`), and the sheet includes the figures of a
family in that family's section.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as Canvas

if TYPE_CHECKING:
    from twofold.model import Family

SIZE = (6.4, 3.6)  # inches; the sheet scales a figure to 85% of the text width


@dataclass(frozen=True)
class Figure:
    """A figure file (a PDF name relative to the LaTeX source), its caption (LaTeX) and its family."""

    file: str
    caption: str
    family: str



def canvas() -> Canvas:
    figure = Canvas(figsize=SIZE, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save(figure: Canvas, directory: Path, name: str) -> str:
    """Write ``figure`` as ``directory/name`` (a reproducible PDF: no creation date) and return ``name``."""
    figure.savefig(directory / name, format="pdf", metadata={"CreationDate": None})
    return name


def draw_figures(families: Iterable[Family], directory: Path, seed: int) -> tuple[Figure, ...]:
    """The figures these families declare, drawn into ``directory``, in the given order."""
    return tuple(draw(directory, seed) for family in families for draw in family.figures)
