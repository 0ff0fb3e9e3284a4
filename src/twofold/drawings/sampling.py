"""Figures of the sampling family for the proof book (declared by ``Family.figures``), drawn from ``twofold.numerics`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twofold.figures import Figure, canvas, save
from twofold.numerics import sampling


def empirical_law(directory: Path, seed: int) -> Figure:
    r"""Final states of 10000 Metropolis–Hastings chains on a ring of 40 states (:math:`\rho_x = (x+1)^2`,
    asymmetric proposal, Hastings ratio, 20 steps from :math:`\pi`) against the exact law :math:`\rho/Z`,
    and the same for the chain without the Hastings ratio."""
    n, chains, steps = 40, 10_000, 20
    weights = sampling.ring_weights(n, 2)
    law = weights / weights.sum()
    figure = canvas()
    axes = figure.add_subplot()
    states = np.arange(n)
    for hastings, colour, label in ((True, "tab:blue", "with the Hastings ratio"), (False, "tab:orange", "without it")):
        estimate = sampling.mh_stationary(n, 2, 0.7, hastings, chains, steps, seed)
        frequencies = estimate.details["counts"] / chains
        axes.step(states, frequencies, where="mid", color=colour, lw=1.2, label=f"empirical, {label}")
    axes.plot(states, law, "k.", ms=4, label=r"exact $\rho_x/Z$")
    axes.set(xlabel="state $x$", ylabel="probability")
    axes.legend(fontsize="small", loc="upper left")
    caption = (
        rf"Metropolis--Hastings on a ring of ${n}$ states, $\rho_x = (x+1)^2$, proposing $x+1$ with probability $0.7$: "
        rf"the law of the final states of ${chains}$ chains started from $\pi$ after ${steps}$ steps, "
        r"with the Hastings ratio (it stays on the exact law $\rho/Z$, dots) and without it (it drifts along the proposal's lean)."
    )
    return Figure(save(figure, directory, "twofold-fig-sampling.pdf"), caption, "sampling")
