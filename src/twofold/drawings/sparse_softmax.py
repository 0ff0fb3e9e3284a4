"""Figure of the sparse_softmax family for the proof book (declared by ``Family.figures``), drawn from ``twofold.numerics`` alone."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from twofold.figures import Figure, canvas, save
from twofold.numerics import sparse_softmax

VOCABULARY, TOP_K = 21128, 10


def loss_against_margin(directory: Path, seed: int) -> Figure:
    r"""Cross-entropy and sparse loss against the margin :math:`m = s_t - \max_{j \ne t} s_j` at the BERT
    vocabulary size: the tied curves :math:`\log(1 + r e^{-m})` for :math:`r = n - 1, k - 1, 1` evaluated
    by :func:`twofold.numerics.sparse_softmax.sparse_loss` on actual logit vectors, random competitors
    (``seed``) as dots, and the ``brentq`` thresholds at :math:`\varepsilon = \log 2`."""
    rng = np.random.default_rng(seed)
    margins = np.linspace(-2.0, 16.0, 181)
    figure = canvas()
    axes = figure.add_subplot()
    curves = (
        (VOCABULARY - 1, f"CE, ${VOCABULARY - 1}$ tied competitors", "tab:blue"),
        (TOP_K - 1, f"sparse loss, $k = {TOP_K}$ tied", "tab:orange"),
        (1, "one competitor (necessary bound)", "tab:green"),
    )
    eps = math.log(2)
    for competitors, label, colour in curves:
        losses = [
            float(sparse_softmax.sparse_loss(np.concatenate([[0.0], np.full(competitors, -m)]), np.array(0), competitors + 1))
            for m in margins
        ]
        axes.plot(margins, losses, color=colour, lw=1.4, label=label)
        axes.axvline(sparse_softmax.tied_threshold(competitors, eps), color=colour, lw=0.7, ls=":")
    # random competitors: N(0, 4) logits below the largest, target lifted to margin m
    rows = 60
    competitors = 2.0 * rng.standard_normal((rows, VOCABULARY - 1))
    spread_margins = rng.uniform(-1.0, 15.0, rows)
    logits = np.concatenate([(competitors.max(axis=1) + spread_margins)[:, None], competitors], axis=1)
    losses = sparse_softmax.sparse_loss(logits, np.zeros(rows, dtype=int), VOCABULARY)
    axes.plot(spread_margins, losses, ".", color="tab:blue", alpha=0.5, ms=4, label="CE, random competitors")
    sparse_sparse = sparse_softmax.sparse_loss(logits, np.zeros(rows, dtype=int), TOP_K)
    axes.plot(spread_margins, sparse_sparse, ".", color="tab:orange", alpha=0.5, ms=4, label="sparse loss, random")
    axes.axhline(eps, color="black", lw=0.6)
    axes.set(yscale="log", ylim=(1e-4, 3e3), xlim=(margins[0], margins[-1]), xlabel="margin $m$", ylabel="loss")
    axes.legend(fontsize="x-small", loc="upper center", ncol=2)
    caption = (
        rf"Loss against the margin $m = s_t - \max_{{j \ne t}} s_j$ at $n = {VOCABULARY}$. Solid: tied competitors, "
        r"$\log(1 + r e^{-m})$ for $r = n - 1$ (cross-entropy), $r = k - 1$ (sparse loss, $k = 10$) and $r = 1$. "
        r"Dotted verticals: the margins where each reaches $\varepsilon = \log 2$ (brentq), "
        rf"${sparse_softmax.tied_threshold(VOCABULARY - 1, eps):.3f}$, ${sparse_softmax.tied_threshold(TOP_K - 1, eps):.3f}$ "
        rf"and ${abs(sparse_softmax.tied_threshold(1, eps)):.3f}$. Dots: random competitor logits; "
        r"every dot lies between the $r = 1$ and the tied curve of its loss, and the sparse loss is never above the cross-entropy."
    )
    return Figure(save(figure, directory, "twofold-fig-sparse_softmax.pdf"), caption, "sparse_softmax")
