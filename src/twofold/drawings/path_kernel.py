"""Figures of the path_kernel family for the proof book (declared by ``Family.figures``), drawn from ``twofold.numerics`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twofold.figures import Figure, canvas, save
from twofold.numerics import path_kernel


def descent(directory: Path, seed: int) -> Figure:
    r"""Gradient descent against the gradient flow: :math:`\|\theta^{GD}_{T/\eta} - \theta(T)\|` over the step
    :math:`\eta` for a 4-unit tanh net on 5 points (:func:`twofold.numerics.path_kernel.random_net_problem` with
    ``seed``), :math:`T = 1`, eight halving steps from :math:`\eta\,c\lambda_{\max}(K_0) \le 1`
    (:func:`twofold.numerics.path_kernel.descent_gaps`), with the fitted log-log slope."""
    problem, start = path_kernel.random_net_problem(4, 5, seed)
    gaps = path_kernel.descent_gaps(problem, start, horizon=1.0, ratio=1.0, levels=8, query=0.0)
    slope, stderr = gaps.slope()
    figure = canvas()
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
    return Figure(save(figure, directory, "twofold-fig-path_kernel.pdf"), caption, "path_kernel")
