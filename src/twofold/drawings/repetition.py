"""Figures of the repetition family for the proof book (declared by ``Family.figures``), drawn from ``twofold.numerics`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps

from twofold.figures import Figure, canvas, save
from twofold.numerics import repetition


def bound_survey(directory: Path, seed: int) -> Figure:
    r""":math:`R = \sum_k \operatorname{tr}(Q^k)` against the bound :math:`n\rho/(1-\rho)` for 300 random Dirichlet chains
    of :math:`n = 8` tokens per concentration (batched ``numpy.linalg.eigvals``), on log axes with the diagonal."""
    rng = np.random.default_rng(seed)
    n, chains = 8, 300
    figure = canvas()
    axes = figure.add_subplot()
    shades = colormaps["viridis"]
    concentrations = repetition.CONCENTRATIONS
    for number, alpha in enumerate(concentrations):
        stats = repetition.tightness(repetition.dirichlet_chains(n, alpha, chains, rng))
        kept = stats["rho"] < 1 - 1e-6
        bound = n * stats["rho"][kept] / (1 - stats["rho"][kept])
        axes.loglog(bound, stats["R"][kept], ".", ms=3, color=shades(number / (len(concentrations) - 1)),
                    label=rf"Dirichlet $\alpha = {alpha:g}$")
    limits = np.array(axes.get_xlim())
    axes.loglog(limits, limits, "k-", lw=0.8, label=r"$R = n\rho/(1-\rho)$")
    axes.set(xlabel=r"bound $n\rho/(1-\rho)$", ylabel=r"$R = \sum_{k\geq 1}\mathrm{tr}(Q^k)$")
    axes.legend(fontsize="small", loc="upper left")
    caption = (
        rf"Repetition $R$ against the spectral bound $n\rho/(1-\rho)$, $\rho = \rho(P\circ P)$, for ${chains}$ random "
        rf"decoding chains of $n = {n}$ tokens per Dirichlet concentration: every point lies below the diagonal; "
        r"sharp chains (small $\alpha$) come close to it, flat ones stay far below."
    )
    return Figure(save(figure, directory, "twofold-fig-repetition.pdf"), caption, "repetition")
