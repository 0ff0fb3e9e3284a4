"""Family 7 — BERT-whitening: whitening maps, their class, cosines, PCA truncation, streaming, rank (claims W1–W5).

Every float64 check compares a quantity that is exactly 0 (or an exact
fraction) with its float64 evaluation.  The tolerance is :math:`u\\,s`,
:math:`u = 2^{-53}`, with the rounding scale
:math:`s = d\\kappa + N + \\sqrt d\\,\\|x\\|_\\infty/\\sqrt{\\lambda_{\\min}}` of
:mod:`twofold.numerics.whitening` (eigensolver backward error times the condition
number, summation over N samples, and the cancellation in :math:`x - \\mu` on a
cone).  Measured residuals sit at 0.1–3 % of it (seeds 0–2, d = 64–256), so the
checks are deterministic, not statistical: no false-failure rate to quote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy

from twofold.numerics import whitening as numeric
from twofold.contract import Estimate
from twofold.theorems import whitening as exact
from twofold import crosscheck
from twofold.model import Claim, Comparison, Derivation, Family, Hypothesis, Parameter

SOURCE = (
    "Su Jianlin, kexue.fm post 8069 (Jan 2021); Su et al. 2021, 'Whitening Sentence Representations' (BERT-whitening)"
)


def _samples(quick: int = 2000, full: int = 4096, low: int = 2, high: int = 10_000) -> Parameter:
    return Parameter("n", int, quick=quick, full=full, low=low, high=high, doc="number of embeddings N")


def _dim(quick: int = 64, full: int = 128, high: int = 256) -> Parameter:
    return Parameter("d", int, quick=quick, full=full, low=2, high=high, doc="embedding dimension d")


ALPHA = Parameter("alpha", float, quick=1.0, low=0.0, high=3.0, doc="spectrum decay: lambda_i = i^(-alpha)")
MEAN_NORM = Parameter(
    "mean_norm", float, quick=3.0, low=0.0, high=1000.0, doc="|mu| / sqrt(tr Sigma): how narrow the cone is"
)
SHEAR = Parameter(
    "shear", float, quick=0.0, low=-10.0, high=10.0, doc="R S with S = I + shear e_1 e_2^T (0: R orthogonal)"
)

FULL_RANK = Hypothesis(
    "N > d",
    lambda p: p["n"] > p["d"],
    "the sample covariance has rank <= N - 1, so it is invertible only if N > d",
    witness={"n": 32},
)
ORTHOGONAL = Hypothesis(
    "R orthogonal",
    lambda p: p["shear"] == 0,
    "the extra factor R must be orthogonal (shear = 0)",
    witness={"shear": 0.5},
)

T, S1, S2 = exact.t, exact.s1, exact.s2


def _rounding(estimate: Estimate) -> float:
    """The tolerance u * s of the module docstring."""
    return numeric.UNIT_ROUNDOFF * estimate.details["scale"]


def _zero_residual(derivation: Derivation, estimate: Estimate, params: Mapping[str, Any]) -> Comparison:
    # exact residual 0 vs its float64 evaluation, within u * s (see the module docstring)
    return crosscheck.absolute_error(derivation.result, estimate, atol=_rounding(estimate))


def _truncation(derivation: Derivation, estimate: Estimate, params: Mapping[str, Any]) -> Comparison:
    # the kept-variance fraction is a ratio of sums of eigenvalues, each perturbed by <= d u kappa
    # relative; the PCA identity is a zero residual.  Both within u * s.
    identity = Estimate(value=estimate.details["residual_pca"], method="max |x W_k - scaled PCA scores|", n=estimate.n)
    return crosscheck.all_of(
        crosscheck.relative_error(derivation.result, estimate, rtol=_rounding(estimate)),
        crosscheck.absolute_error(0, identity, atol=_rounding(estimate)),
    )


def _reported(estimate: Estimate, params: Mapping[str, Any]) -> Comparison:
    """W5's second half: a deficient covariance is reported (strict raises) and the ridge path is finite."""
    deficient = estimate.value > 0
    raised = bool(estimate.details["strict_error"])
    regularised_ok = params["eps"] == 0 or (
        estimate.details["regularised_finite"] and estimate.details["suppressed"] == round(estimate.value)
    )
    failures = int(deficient != raised) + int(not regularised_ok)
    return Comparison(
        method="raises iff deficient; eps > 0: finite, null directions off",
        statistic=float(failures),
        threshold=0.0,
        exact=0.0,
        estimate=float(failures),
        agree=failures == 0,
        detail=f"strict: {estimate.details['strict_error'] or 'no error'}",
    )


FAMILY = Family(
    name="whitening",
    number=7,
    title="BERT-whitening",
    source=SOURCE,
    claims=(
        Claim(
            id="whitening.whitens",
            title="W = U Lambda^(-1/2) whitens (W1)",
            source=SOURCE,
            statement=(
                r"\Sigma = U\Lambda U^\top \succ 0,\ W = U\Lambda^{-1/2} \;\Longrightarrow\; W^\top\Sigma W = I,\ "
                r"\tilde x = (x-\mu)W:\ \overline{\tilde x} = 0,\ \mathrm{Cov}(\tilde x) = I"
            ),
            parameters=(_samples(), _dim(), ALPHA, MEAN_NORM),
            hypotheses=(FULL_RANK,),
            derive=lambda p: exact.whitens(p["n"], p["d"]),
            estimate=lambda p, seed: numeric.whitening_residual(p["n"], p["d"], p["alpha"], p["mean_norm"], seed),
            compare=_zero_residual,
            symbols=(T, S1, S2),
        ),
        Claim(
            id="whitening.whitening_class",
            title="The whitening maps are exactly {W R : R orthogonal} (W2)",
            source=SOURCE,
            statement=(
                r"W_1^\top\Sigma W_1 = I:\quad W_2^\top\Sigma W_2 = I \iff R = W_1^{-1}W_2 \text{ satisfies } R^\top R = I;"
                r"\quad \text{ZCA } \Sigma^{-1/2} = WU^\top"
            ),
            parameters=(_samples(), _dim(), ALPHA, MEAN_NORM, SHEAR),
            hypotheses=(FULL_RANK, ORTHOGONAL),
            derive=lambda p: exact.whitening_class(p["n"], p["d"], sympy.Rational(str(p["shear"]))),
            estimate=lambda p, seed: numeric.class_residual(
                p["n"], p["d"], p["alpha"], p["mean_norm"], p["shear"], seed
            ),
            compare=_zero_residual,
            symbols=(T, S1, S2),
        ),
        Claim(
            id="whitening.cosine_invariant",
            title="Every whitening map gives the same cosine: the Sigma^(-1)-cosine (W2)",
            source=SOURCE,
            statement=(
                r"W^\top\Sigma W = I \;\Longrightarrow\; \cos\big((a-\mu)W, (b-\mu)W\big) = "
                r"\frac{(a-\mu)\Sigma^{-1}(b-\mu)^\top}{\|a-\mu\|_{\Sigma^{-1}}\,\|b-\mu\|_{\Sigma^{-1}}}"
                r"\ \text{(unique across the class; not an optimality statement)}"
            ),
            parameters=(
                _samples(),
                _dim(),
                ALPHA,
                MEAN_NORM,
                SHEAR,
                Parameter(
                    "points",
                    int,
                    quick=256,
                    full=1000,
                    low=2,
                    high=2000,
                    doc="embeddings whose pairwise cosines are compared",
                ),
            ),
            hypotheses=(FULL_RANK, ORTHOGONAL),
            derive=lambda p: exact.cosine_invariance(p["n"], p["d"], sympy.Rational(str(p["shear"]))),
            estimate=lambda p, seed: numeric.cosine_spread(
                p["n"], p["d"], p["alpha"], p["mean_norm"], p["shear"], p["points"], seed
            ),
            compare=_zero_residual,
            symbols=(T, S1, S2),
        ),
        Claim(
            id="whitening.truncation_pca",
            title="Keeping the top-k columns of W is PCA followed by scaling (W3)",
            source=SOURCE,
            statement=(
                r"(x-\mu)W_{:,1:k} = \big((x-\mu)U_k\big)\Lambda_k^{-1/2},\ W_k^\top\Sigma W_k = I_k,\ "
                r"\text{kept variance } \textstyle\sum_{i\le k}\lambda_i / \sum_{i\le d}\lambda_i"
            ),
            parameters=(
                _samples(quick=1000),
                _dim(),
                Parameter("k", int, quick=8, full=32, low=1, high=256, doc="number of kept columns"),
                ALPHA,
                MEAN_NORM,
                Parameter(
                    "descending",
                    int,
                    quick=1,
                    low=0,
                    high=1,
                    doc="1: columns by decreasing eigenvalue; 0: numpy.linalg.eigh's increasing order",
                ),
            ),
            hypotheses=(
                FULL_RANK,
                Hypothesis("k <= d", lambda p: p["k"] <= p["d"], "at most d columns can be kept", witness={"k": 100}),
                Hypothesis(
                    "distinct eigenvalues",
                    lambda p: p["alpha"] > 0,
                    "the top-k subspace is unique only if lambda_k > lambda_(k+1) (alpha > 0)",
                    witness={"alpha": 0.0},
                ),
                Hypothesis(
                    "decreasing order",
                    lambda p: p["descending"] == 1,
                    "the columns of W must be sorted by decreasing eigenvalue (eigh returns them increasing)",
                    witness={"descending": 0},
                ),
            ),
            derive=lambda p: exact.truncation(p["d"], p["k"], sympy.Rational(str(p["alpha"])), bool(p["descending"])),
            estimate=lambda p, seed: numeric.truncation_vs_pca(
                p["n"], p["d"], p["k"], p["alpha"], p["mean_norm"], bool(p["descending"]), seed
            ),
            compare=_truncation,
            symbols=(T, S1, S2),
        ),
        Claim(
            id="whitening.streaming",
            title="Mean and covariance accumulate exactly over batches (W4)",
            source=SOURCE,
            statement=(
                r"n = n_a + n_b,\ \delta = \mu_b - \mu_a:\ \mu = \mu_a + \delta\,\frac{n_b}{n},\ "
                r"M_2 = M_{2,a} + M_{2,b} + \delta\delta^\top\frac{n_a n_b}{n},\ \Sigma = \frac{M_2}{n}"
            ),
            parameters=(
                _samples(quick=4096, full=10_000, low=64),
                _dim(),
                Parameter("batches", int, quick=8, full=64, low=1, high=64, doc="number of (unequal, random) batches"),
                ALPHA,
                MEAN_NORM,
                Parameter(
                    "between",
                    int,
                    quick=1,
                    low=0,
                    high=1,
                    doc="1: include the between-batch term of the merge; 0: average the batch scatters",
                ),
            ),
            hypotheses=(
                Hypothesis(
                    "between-batch term",
                    lambda p: p["between"] == 1,
                    "merging must add delta delta^T n_a n_b / n (averaging batch covariances is not the covariance)",
                    witness={"between": 0},
                ),
            ),
            derive=lambda p: exact.streaming(p["batches"], bool(p["between"])),
            estimate=lambda p, seed: numeric.streaming_residual(
                p["n"], p["d"], p["batches"], p["alpha"], p["mean_norm"], bool(p["between"]), seed
            ),
            compare=_zero_residual,
            symbols=tuple(sympy.symbols("n_a n_b", positive=True)),
        ),
        Claim(
            id="whitening.rank_deficient",
            title="N <= d: the covariance is singular, and whitening must say so (W5)",
            source=SOURCE,
            statement=(
                r"\operatorname{rank}\Sigma = \operatorname{rank}X_c \le N-1;\ N \le d \Rightarrow \Sigma \text{ singular},\ "
                r"\Lambda^{-1/2} \text{ undefined: raise, or whiten } \Sigma + \varepsilon I \text{ and report } \varepsilon"
            ),
            parameters=(
                _samples(quick=16, full=48, low=10, high=64),  # exact integer rank: ~1.5 s at 64 x 256
                _dim(),
                Parameter("repeats", int, quick=0, low=0, high=8, doc="the last `repeats` points copy the first"),
                Parameter(
                    "eps", float, quick=1e-6, low=0.0, high=1.0, doc="ridge, relative to tr(Sigma)/d (0: strict only)"
                ),
                ALPHA,
                MEAN_NORM,
            ),
            hypotheses=(
                Hypothesis(
                    "N <= d",
                    lambda p: p["n"] <= p["d"],
                    "the claim is about N <= d samples",
                    witness={"n": 40, "d": 32},
                ),
                Hypothesis(
                    "general position",
                    lambda p: p["repeats"] == 0,
                    "rank = N - 1 exactly needs points in general position (no repeats)",
                    witness={"repeats": 2},
                ),
            ),
            derive=lambda p: exact.rank_deficiency(p["n"], p["d"], p["repeats"]),
            estimate=lambda p, seed: numeric.rank_deficiency(
                p["n"], p["d"], p["repeats"], p["eps"], p["alpha"], p["mean_norm"], seed
            ),
            compare=lambda d, e, p: crosscheck.all_of(crosscheck.same_count(d.result, e), _reported(e, p)),
            symbols=tuple(sympy.symbols("N d", positive=True, integer=True)),
        ),
    ),
)
