"""Figures of the favor family for the proof book (declared by ``Family.figures``), drawn from ``twofold.numerics`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twofold.figures import Figure, canvas, save
from twofold.numerics import favor


def mse_ratio(directory: Path, seed: int) -> Figure:
    r"""The trigonometric share :math:`q = \mathrm{MSE_{trig}}/(\mathrm{MSE_{trig}}+\mathrm{MSE_{pos}}) = r/(1+r)` of
    one-frequency estimators of :math:`e^{x\cdot y}` over the whole angle range :math:`[0°, 180°]` between :math:`x`
    and :math:`y` (:math:`|x| = |y| = \rho`), both MSEs by the Gauss–Hermite quadrature of
    :func:`twofold.numerics.favor.single_feature_mse`.  With iid frequencies an :math:`m`-feature MSE is the
    one-frequency MSE over :math:`m`, so :math:`q` holds for every :math:`m`; unlike :math:`r` it is finite at both
    ends (:math:`q = 0` at :math:`x = y`, :math:`q = 1` at :math:`x = -y`).  Nothing is random: ``seed`` is unused."""
    angles = np.linspace(0.0, 180.0, 181)
    figure = canvas()
    axes = figure.add_subplot()
    for norm in (0.5, 1.0, 1.5, 3.0):
        pairs = [favor.pair(norm, norm, angle, 2) for angle in angles]
        xs, ys = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        (trig, _), (positive, _) = (favor.single_feature_mse(kind, xs, ys) for kind in ("trigonometric", "positive"))
        axes.plot(angles, trig / (trig + positive), lw=1.4, label=rf"$|x| = |y| = {norm:g}$")
    axes.axhline(0.5, color="black", lw=0.6)
    axes.set(xlim=(0.0, 180.0), ylim=(-0.02, 1.02), xticks=range(0, 181, 30),
             xlabel=r"angle between $x$ and $y$ (degrees)",
             ylabel=r"$q = \mathrm{MSE}_{\mathrm{trig}} / (\mathrm{MSE}_{\mathrm{trig}} + \mathrm{MSE}_{\mathrm{pos}})$")
    axes.legend(fontsize="small", loc="upper left")
    caption = (
        r"Share of the trigonometric features in the mean squared error of random features for $e^{x\cdot y}$, "
        r"$q = r/(1+r)$ with $r = \mathrm{MSE_{trig}}/\mathrm{MSE_{pos}}$, over the whole angle range between $x$ and "
        r"$y$, by Gauss--Hermite quadrature of the one-frequency MSEs (the same for any number $m$ of iid features). "
        r"Below the line trigonometric features are better (small angles; $q = 0$ at $x = y$, where they are exact); "
        r"above it positive ones are, at the large angles where $x\cdot y < 0$ and $e^{x\cdot y}$ is small "
        r"($q = 1$ at $x = -y$, where positive features are exact)."
    )
    return Figure(save(figure, directory, "twofold-fig-favor.pdf"), caption, "favor")
