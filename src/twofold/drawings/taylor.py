"""Figures of the taylor family for the proof book (declared by ``Family.figures``), drawn from ``twofold.numerics`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps

from twofold.figures import Figure, canvas, save
from twofold.numerics import taylor


def truncations(directory: Path, seed: int) -> Figure:
    r""":math:`f_n(x) = \sum_{k=0}^n x^k/k!` for :math:`n = 2, \dots, 10` (Horner, float64), the minimum of
    every even :math:`f_n` marked where :func:`twofold.numerics.taylor.minimum_enclosure` certifies it.
    Nothing is random: ``seed`` is unused."""
    x = np.linspace(-7.0, 2.5, 1201)
    figure = canvas()
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
    return Figure(save(figure, directory, "twofold-fig-taylor.pdf"), caption, "taylor")
