"""Figure of the whitening family for the proof book (declared by ``Family.figures``), drawn from ``twofold.numerics`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twofold.figures import Figure, canvas, save
from twofold.numerics import whitening

N, D, ALPHA, MEAN_NORM, PAIRS = 2000, 128, 2.0, 3.0, 400


def spectrum_and_cosines(directory: Path, seed: int) -> Figure:
    r"""Left: the eigenvalues of the sample covariance of synthetic cone embeddings (:math:`\lambda_i = i^{-2}`,
    :math:`\kappa \approx 1.6\times10^4`) and of the whitened embeddings.  Right: the pairwise cosines of
    ``PAIRS`` embeddings before and after whitening (:func:`twofold.numerics.whitening.whitening`)."""
    data = whitening.cone_embeddings(N, D, ALPHA, MEAN_NORM, seed)
    fitted = whitening.whitening(data)
    whitened = fitted.apply(data)
    after = np.sort(np.linalg.eigvalsh(whitened.T @ whitened / N))[::-1]
    figure = canvas()
    left, right = figure.subplots(1, 2)
    ranks = np.arange(1, D + 1)
    left.loglog(ranks, fitted.eigenvalues, color="tab:blue", lw=1.4, label=r"$\Sigma$ (raw)")
    left.loglog(ranks, after, color="tab:orange", lw=1.4, label=r"$\mathrm{Cov}(\tilde x)$ (whitened)")
    left.set(xlabel="index $i$", ylabel=r"eigenvalue $\lambda_i$")
    left.legend(fontsize="small")
    upper = np.triu_indices(PAIRS, k=1)
    raw = whitening.cosines(data[:PAIRS])[upper]
    white = whitening.cosines(whitened[:PAIRS])[upper]
    bins = np.linspace(-1.0, 1.0, 81)
    right.hist(raw, bins=bins, color="tab:blue", alpha=0.6, label="raw", density=True)
    right.hist(white, bins=bins, color="tab:orange", alpha=0.6, label="whitened", density=True)
    right.set(xlabel="cosine of a pair", ylabel="density")
    right.legend(fontsize="small")
    kappa = fitted.eigenvalues.max() / fitted.eigenvalues.min()
    caption = (
        rf"BERT-whitening on {N} synthetic cone embeddings in $d = {D}$ (mean norm ${MEAN_NORM:g}\sqrt{{\mathrm{{tr}}\,\Sigma}}$, "
        rf"spectrum $i^{{-{ALPHA:g}}}$, sample condition number ${kappa / 10 ** int(np.log10(kappa)):.1f} \times 10^{{{int(np.log10(kappa))}}}$). Left: the spectrum before and after "
        r"$\tilde x = (x - \mu)U\Lambda^{-1/2}$, which is flat at 1. Right: the cosines of "
        rf"{PAIRS * (PAIRS - 1) // 2} pairs; raw embeddings all point the same way "
        rf"(mean cosine {raw.mean():.3f}), whitened ones are spread around 0 (mean {white.mean():.3f})."
    )
    return Figure(save(figure, directory, "twofold-fig-whitening.pdf"), caption, "whitening")
