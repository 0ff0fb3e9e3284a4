"""Figures of the favor family for the proof book (declared by ``Family.figures``), drawn from ``twofold.numerics`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twofold.figures import Figure, canvas, save
from twofold.numerics import favor


def mse_ratio(directory: Path, seed: int) -> Figure:
    r""":math:`\mathrm{MSE_{trig}}/\mathrm{MSE_{pos}}` of one-frequency estimators of :math:`e^{x\cdot y}` over the
    angle :math:`\theta` between :math:`x` and :math:`y` (:math:`|x| = |y| = r`), both MSEs by the Gauss–Hermite
    quadrature of :func:`twofold.numerics.favor.single_feature_mse`.  With iid frequencies an :math:`m`-feature MSE
    is the one-frequency MSE over :math:`m`, so the ratio holds for every :math:`m`.  The endpoints, where one
    MSE is exactly 0, are left out.  Nothing is random: ``seed`` is unused."""
    angles = np.linspace(1.0, 179.0, 179)
    figure = canvas()
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
    return Figure(save(figure, directory, "twofold-fig-favor.pdf"), caption, "favor")
