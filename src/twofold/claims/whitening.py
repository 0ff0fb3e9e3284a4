r"""Family 7 — BERT-whitening: whitening maps, their class, cosines, PCA truncation, streaming, rank (claims W1–W5).

Every float64 check compares a quantity that is exactly 0 (or an exact fraction) with its
float64 evaluation, expressed in units of a rounding bound :math:`u\,s`, :math:`u = 2^{-53}`:

* W1–W3: :math:`s = d\kappa + N + \sqrt d\,\|x\|_\infty/\sqrt{\lambda_{\min}}` (:mod:`twofold.numerics.whitening`):
  a backward-stable symmetric eigensolver returns :math:`U\Lambda U^\top = \Sigma + E` with
  :math:`\|E\| \lesssim d\,u\,\|\Sigma\|`; through :math:`\Lambda^{-1/2}` on both sides that is a
  residual :math:`\lesssim d\,u\,\kappa` in :math:`W^\top\Sigma W - I`; summing :math:`N` samples adds
  :math:`N u`, and centring a cone of norm :math:`\|x\|_\infty` loses
  :math:`\sqrt d\,\|x\|_\infty u` absolutely, amplified by :math:`\lambda_{\min}^{-1/2}`.
  The tolerance grows with :math:`d`, :math:`\kappa` and :math:`N`: at :math:`d = 768`,
  :math:`\kappa = 1.3\times10^6`, :math:`N = 20000` it is :math:`u\,s \approx 1.1\times10^{-7}`
  (measured residuals :math:`3\times10^{-11}`, 0.03 % of it).
* W4: :math:`s = N + B + d` (sums and :math:`B` merges, nothing inverted).

The estimates report the residual in these units, the tolerance is 1 unit and the
resolution 2 units.  The checks are deterministic: no false-failure rate to quote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy

from twofold import crosscheck
from twofold.contract import Estimate
from twofold.model import (
    Claim,
    Comparison,
    Derivation,
    Drawing,
    FalseVariant,
    Family,
    Hypothesis,
    Mistake,
    Parameter,
    Probe,
)
from twofold.numerics import whitening as numeric
from twofold.theorems import whitening as exact

SOURCE = (
    "Su Jianlin, kexue.fm post 8069 (Jan 2021); Su et al. 2021, 'Whitening Sentence Representations' (BERT-whitening)"
)

# The practitioner's regime (issue 14): BERT-base width, a corpus of 20000 sentences, and the spectrum
# lambda_i = i^(-alpha) with alpha = 2.1, whose condition number 768^2.1 = 1.15e6 (1.3e6 for the sample).
PRACTICAL_N, PRACTICAL_D, PRACTICAL_ALPHA = 20_000, 768, 2.1
UNITS = 1.0  # tolerance, in units of the rounding bound u s
RESOLUTION_UNITS = 2.0  # the smallest error every comparison must reject, in the same units


def _samples(quick: int = 2000, full: int = PRACTICAL_N, low: int = 2, high: int = 50_000) -> Parameter:
    return Parameter("n", int, quick=quick, full=full, low=low, high=high, doc="number of embeddings N")


def _dim(quick: int = 64, full: int = PRACTICAL_D, high: int = 1024) -> Parameter:
    return Parameter("d", int, quick=quick, full=full, low=2, high=high, doc="embedding dimension d")


ALPHA = Parameter(
    "alpha", float, quick=1.0, full=PRACTICAL_ALPHA, low=0.0, high=3.0,
    doc="spectrum decay: lambda_i = i^(-alpha), condition number d^alpha", latex=r"$\alpha$",
)
MEAN_NORM = Parameter(
    "mean_norm", float, quick=3.0, low=0.0, high=1000.0, doc="|mu| / sqrt(tr Sigma): how narrow the cone is"
)
SHEAR = Parameter(
    "shear", float, quick=0.0, low=-10.0, high=10.0, doc="R S with S = I + shear e_1 e_2^T (0: R orthogonal)"
)

FULL_RANK = Hypothesis(
    "N > d",
    lambda p: p["n"] > p["d"],
    "the sample covariance has rank ≤ N − 1, so it is invertible only if N > d",
    witness={"n": 32},
    latex=r"$N > d$",
)
ORTHOGONAL = Hypothesis(
    "R orthogonal",
    lambda p: p["shear"] == 0,
    "the extra factor R must be orthogonal (shear = 0)",
    witness={"shear": 0.5},
    latex=r"$R$ orthogonal",
)

T, S1, S2 = exact.t, exact.s1, exact.s2
UNITS_PROBE = Probe(
    "absolute",
    RESOLUTION_UNITS,
    r"two units of the rounding bound $u\,s$ (eigensolver backward error $d u \kappa$, $N$-term sums, cone "
    r"cancellation); the tolerance is one unit",
)


def _zero_units(derivation: Derivation, estimate: Estimate, params: Mapping[str, Any]) -> Comparison:
    """Exact residual 0 against the float64 residual in units of u s, at most one unit apart."""
    comparison = crosscheck.absolute_error(derivation.result, estimate, atol=UNITS)
    return Comparison(
        method=r"$|$float64 residual $-$ exact residual$|$ in units of $u\,s$ $\le 1$",
        statistic=comparison.statistic,
        threshold=comparison.threshold,
        exact=comparison.exact,
        estimate=comparison.estimate,
        agree=comparison.agree,
        detail=f"u s = {estimate.details.get('tolerance', float('nan')):.3g}",
    )


def _truncation(derivation: Derivation, estimate: Estimate, params: Mapping[str, Any]) -> Comparison:
    # the kept-variance fraction is a ratio of sums of eigenvalues, each perturbed by <= d u kappa
    # relative: within u s relative; the PCA identity is a zero residual, in units of u s.
    identity = Estimate(value=estimate.details["residual_pca_units"], method="PCA identity residual", n=estimate.n)
    return crosscheck.all_of(
        crosscheck.relative_error(derivation.result, estimate, rtol=numeric.UNIT_ROUNDOFF * estimate.details["scale"]),
        crosscheck.absolute_error(0, identity, atol=UNITS),
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
        method=r"raises iff deficient; $\varepsilon > 0$: finite, null directions off",
        statistic=float(failures),
        threshold=0.0,
        exact=0.0,
        estimate=float(failures),
        agree=failures == 0,
        detail=f"strict: {estimate.details['strict_error'] or 'no error'}",
    )


# quick-point scale of W3 (d = 64, N = 1000, alpha = 1, seed 0): s = 5.3e3, u s = 5.9e-13
TRUNCATION_RTOL_QUICK = 5.9e-13

MISTAKES = (
    Mistake(
        "inverse instead of inverse square root",
        "s_1^(-2) * s_1^2 * s_1^(-2) = 1",
        "you whiten with W = U Lambda^(-1) instead of U Lambda^(-1/2): the sandwich W^T Sigma W is then "
        "Lambda^(-1), whose diagonal entries are 1/s_i^2, not 1",
        claims=("whitening.whitens", "whitening.whitening_class", "whitening.truncation_pca"),
    ),
    Mistake(
        "rotation without its normaliser",
        "(1 - t^2)^2 + (2*t)^2 = 1",
        "you drop the factor 1/(1 + t^2) of the rational rotation U(t): its columns then have squared length "
        "(1 + t^2)^2, so U is no longer orthogonal",
        claims=("whitening.whitens", "whitening.whitening_class", "whitening.cosine_invariant"),
    ),
    Mistake(
        "N - 1 in the merge coefficient",
        "n_a*(n_b/(n_a + n_b))^2 + n_b*(n_a/(n_a + n_b))^2 = n_a*n_b/(n_a + n_b - 1)",
        "you divide the between-batch term by n - 1 (the unbiased normaliser) instead of n: the scatter "
        "M_2 has no normaliser, its between-batch weight is n_a n_b / n",
        claims=("whitening.streaming",),
    ),
    Mistake(
        "averaging the batch covariances",
        "n_a*(n_b/(n_a + n_b))^2 + n_b*(n_a/(n_a + n_b))^2 = 0",
        "you merge batches by averaging their scatters and forget the spread of the batch means around the "
        "overall mean, n_a n_b / n times delta delta^T",
        claims=("whitening.streaming",),
    ),
)


def _whitens_params(p: Mapping[str, Any]) -> tuple:
    return p["n"], p["d"], p["alpha"], p["mean_norm"]


FAMILY = Family(
    name="whitening",
    number=7,
    title="BERT-whitening",
    source=SOURCE,
    symbols=(T, S1, S2),
    figures=(Drawing("twofold.drawings.whitening", "spectrum_and_cosines"),),
    mistakes=MISTAKES,
    false_variants=(
        FalseVariant(
            "whitening.whitens",
            "inverse instead of inverse square root",
            r"$W = U\Lambda^{-1}$ instead of $U\Lambda^{-1/2}$",
            estimate=lambda p, seed: numeric._variant_inverse_not_root(*_whitens_params(p), seed),
        ),
        FalseVariant(
            "whitening.whitens",
            "inverse instead of inverse square root, exact side",
            r"the exact sandwich computed with $W = U\Lambda^{-1}$",
            derive=lambda p: exact._variant_inverse_not_root(p["n"], p["d"]),
        ),
        FalseVariant(
            "whitening.whitens",
            "N - 1 and N mixed",
            r"$W$ fitted to the $1/(N-1)$ covariance, the whitened covariance taken with $1/N$",
            estimate=lambda p, seed: numeric._variant_unbiased_covariance(*_whitens_params(p), seed),
        ),
        FalseVariant(
            "whitening.whitens",
            "transposed eigenvectors",
            r"$W = U^\top\Lambda^{-1/2}$: the eigenvectors read as rows",
            estimate=lambda p, seed: numeric._variant_transposed_eigenvectors(*_whitens_params(p), seed),
        ),
        FalseVariant(
            "whitening.whitening_class",
            "ZCA not inverted",
            r"ZCA taken as $\Sigma^{1/2} = U\Lambda^{1/2}U^\top$ instead of $\Sigma^{-1/2}$",
            estimate=lambda p, seed: numeric.class_residual(
                *_whitens_params(p), p["shear"], seed, zca_map=numeric._variant_zca_not_inverted
            ),
        ),
        FalseVariant(
            "whitening.cosine_invariant",
            "Sigma-cosine",
            r"the reference cosine in the $\Sigma$ inner product instead of $\Sigma^{-1}$",
            estimate=lambda p, seed: numeric.cosine_spread(
                *_whitens_params(p), p["shear"], p["points"], seed, reference_map=numeric._variant_sigma_cosines
            ),
        ),
        FalseVariant(
            "whitening.truncation_pca",
            "eigh's increasing order",
            r"the first $k$ columns of \texttt{eigh}'s output kept: the bottom $k$ components",
            estimate=lambda p, seed: numeric.truncation_vs_pca(
                p["n"], p["d"], p["k"], p["alpha"], p["mean_norm"], False, seed
            ),
        ),
        FalseVariant(
            "whitening.truncation_pca",
            "fraction of standard deviations",
            r"the kept fraction of $\sum_i \sqrt{\lambda_i}$ instead of $\sum_i \lambda_i$",
            derive=lambda p: exact._variant_fraction_of_roots(
                p["d"], p["k"], sympy.Rational(str(p["alpha"])), p["descending"]
            ),
        ),
        FalseVariant(
            "whitening.streaming",
            "N - 1 in the merge",
            r"between-batch weight $n_a n_b/(n - 1)$ instead of $n_a n_b/n$",
            estimate=lambda p, seed: numeric.streaming_residual(
                p["n"], p["d"], p["batches"], p["alpha"], p["mean_norm"], p["between"], seed,
                coefficient=lambda a, b: a * b / (a + b - 1),
            ),
        ),
        FalseVariant(
            "whitening.rank_deficient",
            "rank N instead of N - 1",
            r"$\operatorname{rank}\Sigma = N$: the centring constraint $\mathbb{1}^\top X_c = 0$ forgotten",
            derive=lambda p: exact._variant_rank_n(p["n"], p["d"], p["repeats"]),
        ),
    ),
    claims=(
        Claim(
            id="whitening.whitens",
            title=r"$W = U\Lambda^{-1/2}$ whitens (W1)",
            statement=(
                r"\Sigma = U\Lambda U^\top \succ 0,\ W = U\Lambda^{-1/2} \;\Longrightarrow\; W^\top\Sigma W = I,\ "
                r"\tilde x = (x-\mu)W:\ \overline{\tilde x} = 0,\ \mathrm{Cov}(\tilde x) = I"
            ),
            parameters=(_samples(), _dim(), ALPHA, MEAN_NORM),
            hypotheses=(FULL_RANK,),
            derive=lambda p: exact.whitens(p["n"], p["d"]),
            estimate=lambda p, seed: numeric.whitening_residual(*_whitens_params(p), seed),
            compare=_zero_units,
            resolution=(UNITS_PROBE,),
        ),
        Claim(
            id="whitening.whitening_class",
            title=r"The whitening maps are exactly $\{WR : R \text{ orthogonal}\}$ (W2)",
            statement=(
                r"W_1^\top\Sigma W_1 = I:\quad W_2^\top\Sigma W_2 = I \iff R = W_1^{-1}W_2 \text{ satisfies } R^\top R = I;"
                r"\quad \text{ZCA } \Sigma^{-1/2} = WU^\top"
            ),
            parameters=(_samples(), _dim(), ALPHA, MEAN_NORM, SHEAR),
            hypotheses=(FULL_RANK, ORTHOGONAL),
            derive=lambda p: exact.whitening_class(p["n"], p["d"], sympy.Rational(str(p["shear"]))),
            estimate=lambda p, seed: numeric.class_residual(*_whitens_params(p), p["shear"], seed),
            compare=_zero_units,
            resolution=(UNITS_PROBE,),
        ),
        Claim(
            id="whitening.cosine_invariant",
            title=r"Every whitening map gives the same cosine: the $\Sigma^{-1}$-cosine (W2)",
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
                    "points", int, quick=256, full=1000, low=2, high=2000,
                    doc="embeddings whose pairwise cosines are compared",
                ),
            ),
            hypotheses=(FULL_RANK, ORTHOGONAL),
            derive=lambda p: exact.cosine_invariance(p["n"], p["d"], sympy.Rational(str(p["shear"]))),
            estimate=lambda p, seed: numeric.cosine_spread(*_whitens_params(p), p["shear"], p["points"], seed),
            compare=_zero_units,
            resolution=(UNITS_PROBE,),
        ),
        Claim(
            id="whitening.truncation_pca",
            title="Keeping the top-$k$ columns of $W$ is PCA followed by scaling (W3)",
            statement=(
                r"(x-\mu)W_{:,1:k} = \big((x-\mu)U_k\big)\Lambda_k^{-1/2},\ W_k^\top\Sigma W_k = I_k,\ "
                r"\text{kept variance } \textstyle\sum_{i\le k}\lambda_i / \sum_{i\le d}\lambda_i"
            ),
            parameters=(
                _samples(quick=1000, full=2 * PRACTICAL_D),  # exact sample moments need N > d; QR and SVD cost N d^2
                _dim(),
                Parameter("k", int, quick=8, full=32, low=1, high=1024, doc="number of kept columns"),
                ALPHA,
                MEAN_NORM,
                Parameter(
                    "descending", bool, quick=True,
                    doc="true: columns by decreasing eigenvalue; false: numpy.linalg.eigh's increasing order",
                ),
            ),
            hypotheses=(
                FULL_RANK,
                Hypothesis("k <= d", lambda p: p["k"] <= p["d"], "at most d columns can be kept", witness={"k": 100},
                           latex=r"$k \le d$"),
                Hypothesis(
                    "distinct eigenvalues",
                    lambda p: p["alpha"] > 0,
                    "the top-k subspace is unique only if lambda_k > lambda_(k+1) (alpha > 0)",
                    witness={"alpha": 0.0},
                    latex=r"distinct eigenvalues ($\alpha > 0$)",
                ),
                Hypothesis(
                    "decreasing order",
                    lambda p: p["descending"],
                    "the columns of W must be sorted by decreasing eigenvalue (eigh returns them increasing)",
                    witness={"descending": False},
                ),
            ),
            derive=lambda p: exact.truncation(p["d"], p["k"], sympy.Rational(str(p["alpha"])), p["descending"]),
            estimate=lambda p, seed: numeric.truncation_vs_pca(
                p["n"], p["d"], p["k"], p["alpha"], p["mean_norm"], p["descending"], seed
            ),
            compare=_truncation,
            symbols=(T, S1, S2),
            resolution=(
                Probe(
                    "relative",
                    2 * TRUNCATION_RTOL_QUICK,
                    r"twice the tolerance $u\,s$ at the quick point ($s = 5.3\times10^3$): the kept fraction",
                ),
                Probe(
                    "absolute",
                    RESOLUTION_UNITS,
                    r"two units of $u\,s$ in the PCA identity (its exact value is 0)",
                    key="residual_pca_units",
                    exact_side=False,
                ),
            ),
        ),
        Claim(
            id="whitening.streaming",
            title="Mean and covariance accumulate exactly over batches (W4)",
            statement=(
                r"n = n_a + n_b,\ \delta = \mu_b - \mu_a:\ \mu = \mu_a + \delta\,\frac{n_b}{n},\ "
                r"M_2 = M_{2,a} + M_{2,b} + \delta\delta^\top\frac{n_a n_b}{n},\ \Sigma = \frac{M_2}{n}"
            ),
            parameters=(
                _samples(quick=4096, full=PRACTICAL_N, low=64),
                _dim(),
                Parameter("batches", int, quick=8, full=64, low=1, high=1000, doc="number of (unequal, random) batches"),
                ALPHA,
                MEAN_NORM,
                Parameter(
                    "between", bool, quick=True,
                    doc="true: include the between-batch term of the merge; false: average the batch scatters",
                ),
            ),
            hypotheses=(
                Hypothesis(
                    "between-batch term",
                    lambda p: p["between"],
                    "merging must add delta delta^T n_a n_b / n (averaging batch covariances is not the covariance)",
                    witness={"between": False},
                ),
            ),
            derive=lambda p: exact.streaming(p["batches"], p["between"]),
            estimate=lambda p, seed: numeric.streaming_residual(
                p["n"], p["d"], p["batches"], p["alpha"], p["mean_norm"], p["between"], seed
            ),
            compare=_zero_units,
            symbols=tuple(sympy.symbols("n_a n_b", positive=True)),
            resolution=(
                Probe("absolute", RESOLUTION_UNITS, r"two units of $u(N + B + d)$; the tolerance is one unit"),
            ),
        ),
        Claim(
            id="whitening.rank_deficient",
            title=r"$N \le d$: the covariance is singular, and whitening must say so (W5)",
            statement=(
                r"\operatorname{rank}\Sigma = \operatorname{rank}X_c \le N-1;\ N \le d \Rightarrow \Sigma \text{ singular},\ "
                r"\Lambda^{-1/2} \text{ undefined: raise, or whiten } \Sigma + \varepsilon I \text{ and report } \varepsilon"
            ),
            parameters=(
                _samples(quick=16, full=64, low=10, high=128),  # exact integer rank over ZZ
                _dim(full=PRACTICAL_D),
                Parameter("repeats", int, quick=0, low=0, high=8, doc="the last `repeats` points copy the first"),
                Parameter(
                    "eps", float, quick=1e-6, low=0.0, high=1.0, doc="ridge, relative to tr(Sigma)/d (0: strict only)",
                    latex=r"$\varepsilon$",
                ),
                ALPHA,
                MEAN_NORM,
            ),
            hypotheses=(
                Hypothesis(
                    "N <= d",
                    lambda p: p["n"] <= p["d"],
                    "the claim is about N ≤ d samples",
                    witness={"n": 40, "d": 32},
                    latex=r"$N \le d$",
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
            resolution=(Probe("count", 1, "the rank deficiency is an integer: one off must fail"),),
        ),
    ),
)
