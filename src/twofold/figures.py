r"""Figures of the proof book: matplotlib drawings of what a reader would rather look at than read.

Each figure is drawn from ``numerics/`` alone (never from ``theorems/``), with
matplotlib's object-oriented API (a :class:`matplotlib.figure.Figure` on the
non-interactive Agg canvas, no ``pyplot`` state), and saved as a PDF in a
directory the caller chooses: the LaTeX build directory, or beside a ``.tex``.
A drawing function returns a :class:`Figure` record; the sheet includes the
figures of a family in that family's section.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as Canvas

from twofold.numerics import favor, path_kernel, taylor

SIZE = (6.4, 3.6)  # inches; the sheet scales a figure to 85% of the text width


@dataclass(frozen=True)
class Figure:
    """A figure file (a PDF name relative to the LaTeX source), its caption (LaTeX) and its family."""

    file: str
    caption: str
    family: str


Draw = Callable[[Path, int], Figure]


def _canvas() -> Canvas:
    figure = Canvas(figsize=SIZE, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Canvas, directory: Path, name: str) -> str:
    """Write ``figure`` as ``directory/name`` (a reproducible PDF: no creation date) and return ``name``."""
    figure.savefig(directory / name, format="pdf", metadata={"CreationDate": None})
    return name


def taylor_truncations(directory: Path, seed: int) -> Figure:
    r""":math:`f_n(x) = \sum_{k=0}^n x^k/k!` for :math:`n = 2, \dots, 10` (Horner, float64), the minimum of
    every even :math:`f_n` marked where :func:`twofold.numerics.taylor.minimum_enclosure` certifies it.
    Nothing is random: ``seed`` is unused."""
    x = np.linspace(-7.0, 2.5, 1201)
    figure = _canvas()
    axes = figure.add_subplot()
    shades = colormaps["viridis"]
    for n in range(2, 11):
        values = taylor.horner(taylor.coefficients(n), x)
        axes.plot(x, values, "-" if n % 2 == 0 else "--", color=shades((n - 2) / 9), lw=1.2, label=f"$f_{{{n}}}$")
    evens = range(2, 11, 2)
    minima = [taylor.minimum_enclosure(n) for n in evens]
    where = [float(np.mean(m.details["argmin_interval"])) for m in minima]
    axes.plot(where, [m.value for m in minima], "o", color="crimson", ms=5, zorder=3, label="minimum, $n$ even")
    axes.axhline(0.0, color="black", lw=0.6)
    axes.set(xlim=(x[0], x[-1]), ylim=(-2.0, 4.0), xlabel="$x$", ylabel="$f_n(x)$")
    axes.legend(ncol=3, fontsize="small", loc="lower right")
    listed = ", ".join(rf"$f_{{{n}}}({p:.3f}) = {m.value:.4f}$" for n, p, m in zip(evens, where, minima))
    caption = (
        r"Taylor truncations $f_n(x)=\sum_{k\le n}x^k/k!$ for $n=2,\dots,10$ (solid: even $n$, dashed: odd $n$). "
        rf"Dots: the minima of the even ones, certified by interval arithmetic: {listed}. "
        r"Every even truncation stays above $0$; every odd one crosses it."
    )
    return Figure(_save(figure, directory, "twofold-fig-taylor.pdf"), caption, "taylor")


def favor_mse_ratio(directory: Path, seed: int) -> Figure:
    r""":math:`\mathrm{MSE_{trig}}/\mathrm{MSE_{pos}}` of one-frequency estimators of :math:`e^{x\cdot y}` over the
    angle :math:`\theta` between :math:`x` and :math:`y` (:math:`|x| = |y| = r`), both MSEs by the Gauss–Hermite
    quadrature of :func:`twofold.numerics.favor.single_feature_mse`.  With iid frequencies an :math:`m`-feature MSE
    is the one-frequency MSE over :math:`m`, so the ratio holds for every :math:`m`.  The endpoints, where one
    MSE is exactly 0, are left out.  Nothing is random: ``seed`` is unused."""
    angles = np.linspace(1.0, 179.0, 179)
    figure = _canvas()
    axes = figure.add_subplot()
    for norm in (0.5, 1.0, 1.5):
        pairs = [favor.pair(norm, norm, angle, 2) for angle in angles]
        xs, ys = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        (trig, _), (positive, _) = (favor.single_feature_mse(kind, xs, ys) for kind in ("trigonometric", "positive"))
        axes.semilogy(angles, trig / positive, lw=1.4, label=f"$|x| = |y| = {norm:g}$")
    axes.axhline(1.0, color="black", lw=0.6)
    axes.set(xlim=(0.0, 180.0), xticks=range(0, 181, 30), xlabel=r"angle between $x$ and $y$ (degrees)",
             ylabel=r"$\mathrm{MSE}_{\mathrm{trig}} / \mathrm{MSE}_{\mathrm{pos}}$")
    axes.legend(fontsize="small", loc="upper left")
    caption = (
        r"Mean squared error of trigonometric over positive random features for $e^{x\cdot y}$, against the angle "
        r"between $x$ and $y$, by Gauss--Hermite quadrature of the one-frequency MSEs (the ratio is the same for any "
        r"number $m$ of iid features). Below the line trigonometric features are better (small angles); above it "
        r"positive ones are, at the large angles where $x\cdot y < 0$ and $e^{x\cdot y}$ is small, and there the "
        r"trigonometric error grows by orders of magnitude."
    )
    return Figure(_save(figure, directory, "twofold-fig-favor.pdf"), caption, "favor")


def path_kernel_descent(directory: Path, seed: int) -> Figure:
    r"""Gradient descent against the gradient flow: :math:`\|\theta^{GD}_{T/\eta} - \theta(T)\|` over the step
    :math:`\eta` for a 4-unit tanh net on 5 points (:func:`twofold.numerics.path_kernel.random_net_problem` with
    ``seed``), :math:`T = 1`, eight halving steps from :math:`\eta\,c\lambda_{\max}(K_0) \le 1`
    (:func:`twofold.numerics.path_kernel.descent_gaps`), with the fitted log-log slope."""
    problem, start = path_kernel.random_net_problem(4, 5, seed)
    gaps = path_kernel.descent_gaps(problem, start, horizon=1.0, ratio=1.0, levels=8, query=0.0)
    slope, stderr = gaps.slope()
    figure = _canvas()
    axes = figure.add_subplot()
    axes.loglog(gaps.rates, gaps.parameter_gaps, "o-", lw=1.2, label="gradient descent, $T = 1$")
    reference = gaps.parameter_gaps[-1] * gaps.rates / gaps.rates[-1]
    axes.loglog(gaps.rates, reference, "--", color="gray", lw=1.0, label=r"slope 1: error $\propto \eta$")
    axes.set(xlabel=r"learning rate $\eta$", ylabel=r"$\|\theta^{\mathrm{GD}}_{T/\eta} - \theta(T)\|$")
    axes.legend(fontsize="small", loc="upper left")
    caption = (
        rf"Gradient descent with step $\eta$ against the gradient flow it discretises, for a 4-unit tanh network "
        rf"on 5 training points (seed {seed}), at time $T = 1$; the flow $\theta(T)$ by \texttt{{solve\_ivp}} at "
        rf"tolerance $10^{{-13}}$. The fitted log-log slope is ${slope:.3f} \pm {stderr:.3f}$: the error is "
        r"$O(\eta)$, so for small steps gradient descent is the flow, and the flow is a kernel machine."
    )
    return Figure(_save(figure, directory, "twofold-fig-path_kernel.pdf"), caption, "path_kernel")


DRAWINGS: dict[str, tuple[Draw, ...]] = {
    "taylor": (taylor_truncations,),
    "favor": (favor_mse_ratio,),
    "path_kernel": (path_kernel_descent,),
}


def draw_figures(families: Iterable[str], directory: Path, seed: int) -> tuple[Figure, ...]:
    """The figures of these families (those that have any), drawn into ``directory``, in the given order."""
    return tuple(draw(directory, seed) for family in families for draw in DRAWINGS.get(family, ()))
