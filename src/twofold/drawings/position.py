"""Figure of the position family for the proof book (declared by ``Family.figures``), drawn from ``twofold.numerics`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twofold.figures import Figure, canvas, save
from twofold.numerics import position


def collisions_against_alpha(directory: Path, seed: int) -> Figure:
    r"""The closest two distinct rows of the extended table against :math:`\alpha` (random :math:`p`, :math:`n = 16`,
    :math:`d = 32`), and the number of colliding pairs counted at :math:`\alpha = 0` and :math:`\tfrac12`.

    Same stand-in encodings :math:`p` at every :math:`\alpha` (drawn once from ``seed``)."""
    n, d = 16, 32
    p = position.trained_positions(n, d, np.random.default_rng(seed))
    alphas = np.concatenate([np.linspace(0.01, 0.49, 60), np.linspace(0.51, 0.95, 50)])
    nearest = [position.nearest_distinct_pair(position.extend(p, float(a))).distance for a in alphas]
    counts = {a: position.collisions(position.extend(p, a), np.random.default_rng(seed)).colliding_pairs for a in (0.0, 0.5, 0.4)}
    figure = canvas()
    axes = figure.add_subplot()
    axes.semilogy(alphas[alphas < 0.5], np.array(nearest)[alphas < 0.5], color="tab:blue", lw=1.4, label="closest distinct rows")
    axes.semilogy(alphas[alphas > 0.5], np.array(nearest)[alphas > 0.5], color="tab:blue", lw=1.4)
    for a, label in ((0.0, rf"$\alpha = 0$: {counts[0.0]}" + r" pairs $= n\binom{n}{2}$"), (0.5, rf"$\alpha = 1/2$: {counts[0.5]}" + r" pairs $= \binom{n}{2}$")):
        axes.axvline(a, color="crimson", lw=1.0, ls="--")
        axes.annotate(label, xy=(a, min(nearest)), xytext=(a + 0.02, max(nearest) / 3), fontsize="small", color="crimson")
    axes.axvline(0.4, color="gray", lw=0.8, ls=":")
    axes.annotate(rf"$\alpha = 0.4$ (the post): {counts[0.4]} collisions", xy=(0.4, min(nearest)), xytext=(0.6, min(nearest) * 2), fontsize="small")
    axes.set(xlim=(0.0, 1.0), xlabel=r"$\alpha$", ylabel=r"$\min_{s \neq t,\ q_s \neq q_t} |q_s - q_t|$")
    axes.legend(loc="upper right", fontsize="small")
    caption = (
        rf"Hierarchical position encoding: $n = {n}$ random encodings $p_m \sim N(0, I_{{{d}}}/{d})$ extended to $n^2 = {n * n}$ rows "
        r"$q_{(i-1)n+j} = \alpha u_i + (1-\alpha)u_j$. Blue: the distance of the closest two distinct rows against $\alpha$ "
        r"(it falls like $|2\alpha - 1|$ towards the swap collisions at $\alpha = \frac12$ and like $\alpha$ towards $\alpha = 0$). "
        rf"Dashed: the values of $\alpha$ where rows coincide, with the colliding pairs counted there ({counts[0.5]} $= \binom{{{n}}}{{2}}$ "
        rf"at $\frac12$, {counts[0.0]} $= n\binom{{{n}}}{{2}}$ at $0$); at the post's $\alpha = 0.4$ all ${n * n}$ rows are distinct."
    )
    return Figure(save(figure, directory, "twofold-fig-position.pdf"), caption, "position")
