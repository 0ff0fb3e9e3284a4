"""Family 2 — Performer / FAVOR+: random features for the softmax kernel and linear attention (claims F1–F4)."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy
from scipy import stats

from twofold.numerics import favor as numeric
from twofold.contract import Estimate
from twofold.theorems import favor as exact
from twofold import crosscheck
from twofold.model import Claim, Comparison, Derivation, Drawing, Family, Hypothesis, Parameter

SOURCE = "Su Jianlin, kexue.fm post 7921 (Dec 2020); Choromanski et al., Rethinking Attention with Performers (2020)"
FEATURE_KIND_DOC = "0 positive, 1 hyperbolic, 2 trigonometric features"
# Two-sided tail of a single 5-sigma check; grids of N entries share it (Bonferroni).
FAMILY_WISE_RATE = 2 * stats.norm.sf(crosscheck.FIVE_SIGMA)
SYMBOLS = (exact.a, exact.b, exact.c, exact.m, exact.t, exact.w, exact.s, exact.theta)


def _pair_parameters(norm_x: float, norm_y: float, angle: float, high: float) -> tuple[Parameter, ...]:
    """|x|, |y| in [0, high] and the angle between x and y in degrees."""
    return (
        Parameter("norm_x", float, quick=norm_x, low=0.0, high=high, doc="|x|"),
        Parameter("norm_y", float, quick=norm_y, low=0.0, high=high, doc="|y|"),
        Parameter("angle", float, quick=angle, low=0.0, high=180.0, doc="angle between x and y, degrees"),
    )


# Monte Carlo averages log-normal variables e^{w.(x+y)}; their means have well-behaved z-scores for
# |x+y|^2 <= 1.44 (norms <= 0.6).  MSEs average their squares, far heavier-tailed (skewed z-scores):
# norms <= 0.3 and m >= 8 keep them near normal -- 1000 seeds at the worst corner (|x| = |y| = 0.3,
# angle 0, m = 8) gave min z = -3.7, none beyond 4; with m = 1 the same corner reached -4.6.
MEAN_NORM, MSE_NORM, MSE_MIN_FEATURES = 0.6, 0.3, 8


def _mean_point() -> tuple[Parameter, ...]:
    return _pair_parameters(0.5, 0.5, 60.0, MEAN_NORM)


def _mse_point(angle: float = 60.0, norm_y: float = 0.3) -> tuple[Parameter, ...]:
    return _pair_parameters(0.3, norm_y, angle, MSE_NORM)


def _monte_carlo(
    dim: int = 4,
    features: int = 16,
    samples: int = 20_000,
    full_dim: int = 16,
    min_features: int = 1,
    full_features: int = 32,
) -> tuple[Parameter, ...]:
    return (
        Parameter("d", int, quick=dim, full=full_dim, low=2, high=16, doc="dimension of x, y, omega"),
        Parameter("m", int, quick=features, full=full_features, low=min_features, high=64, doc="random features"),
        Parameter("samples", int, quick=samples, full=50_000, low=100, high=50_000, doc="independent estimators"),
    )


SIGN_FIX = Parameter(
    "sign_fix", int, quick=1, low=0, high=1, doc="1: QR with Q diag(sign R_ii) (Haar), 0: raw numpy QR"
)


HAAR = Hypothesis(
    "Haar directions",
    lambda p: p["sign_fix"] == 1,
    "orthogonal blocks must be Haar: numpy's QR needs the sign fix Q diag(sign R_ii)",
    witness={"sign_fix": 0},
)
X_PLUS_Y = Hypothesis(
    "x + y != 0",
    lambda p: not (p["norm_x"] == p["norm_y"] and (p["angle"] == 180.0 or p["norm_x"] == 0.0)),
    "x + y must be non-zero (otherwise positive features are exact and the ratio is undefined)",
    witness={"norm_x": 0.25, "norm_y": 0.25, "angle": 180.0},
)


def _values(p: dict[str, Any]) -> dict:
    return exact.pair_values(p["norm_x"], p["norm_y"], p["angle"])


def _vectors(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    return numeric.pair(p["norm_x"], p["norm_y"], p["angle"], p["d"])


def _z(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    return crosscheck.z_score(derivation.result, estimate)


def _entrywise_z(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    """Every entry within its Bonferroni-corrected z threshold (family-wise false-failure rate 5.7e-7)."""
    target = np.array(sympy.N(derivation.result, 30).tolist(), dtype=float)
    means, stderrs = np.asarray(estimate.details["means"]), np.asarray(estimate.details["stderrs"])
    scores = np.abs(means - target) / stderrs
    worst = np.unravel_index(int(np.argmax(scores)), scores.shape)
    threshold = float(stats.norm.isf(FAMILY_WISE_RATE / (2 * scores.size)))
    return Comparison(
        method=f"max |z| over {scores.size} entries <= {threshold:.3g} (Bonferroni, family-wise rate {FAMILY_WISE_RATE:.1e})",
        statistic=float(scores[worst]),
        threshold=threshold,
        exact=float(target[worst]),
        estimate=float(means[worst]),
        agree=bool(scores.max() <= threshold),
        detail=f"worst entry {tuple(int(i) for i in worst)}, s.e. {stderrs[worst]:.3g}, n = {estimate.n}",
    )


def _below_bound(bound: float, estimate: Estimate) -> Comparison:
    """One-sided: the Monte Carlo MSE is not significantly above the bound (5 s.e.)."""
    return crosscheck.at_most(
        (estimate.value - bound) / estimate.stderr,
        crosscheck.FIVE_SIGMA,
        "(MSE estimate - bound) / s.e. <= 5",
        exact=bound,
        estimate=estimate.value,
    )


def _haar(estimate: Estimate) -> Comparison:
    """The first coordinate of the first direction has mean 0 (Haar), 5-sigma z-test."""
    first = Estimate(
        value=estimate.details["first_entry_mean"],
        method="mean of Q_11",
        n=estimate.n,
        stderr=estimate.details["first_entry_stderr"],
    )
    return crosscheck.z_score(0, first)


def _orthogonal_mse(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    mse_ort, bound, _ = (crosscheck.exact_float(v) for v in derivation.result)
    return crosscheck.all_of(
        crosscheck.z_score(mse_ort, estimate),
        _below_bound(bound, estimate),
        _haar(estimate),
    )


def _haar_unbiased(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    return crosscheck.all_of(crosscheck.z_score(derivation.result, estimate), _haar(estimate))


def _grid(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    """Same number of winning points, the proved sign regions hold for the quadrature values, and those
    values match the F2 formulas (which this way are checked far beyond the Monte Carlo range of norms)."""
    wins, threshold, values = derivation.result
    sm = np.asarray(estimate.details["sm"])
    trig, pos = np.asarray(estimate.details["mse_trigonometric"]), np.asarray(estimate.details["mse_positive"])
    small = sm < crosscheck.exact_float(threshold)
    violations = int(np.sum(small & (trig <= pos)) + np.sum((sm >= 1) & (trig > pos / 2)))
    regions = Comparison(
        method="grid points violating SM < s* => MSE_trig > MSE_pos or SM >= 1 => MSE_trig <= MSE_pos/2",
        statistic=float(violations),
        threshold=0.0,
        exact=0.0,
        estimate=float(violations),
        agree=violations == 0,
        detail=f"{int(small.sum())} points with SM < s*, {int(np.sum(sm >= 1))} with SM >= 1",
    )
    exact_values = np.array(values.tolist(), dtype=float)
    numeric_values = np.column_stack([trig, pos])
    # Gauss-Hermite errors are < 1e-13 relative here and float64 integrands lose < 1e-11 for |x - y| >= 0.01;
    # at x = -y (MSE_pos = 0) rounding leaves ~1e-32 SM^2, hence the absolute 1e-20 SM^2.
    scale = np.abs(exact_values) + 1e-20 * sm[:, None] ** 2
    relative = float(np.max(np.abs(numeric_values - exact_values) / scale))
    formulas = Comparison(
        method="max relative error of quadrature MSEs against the F2 formulas <= 1e-8",
        statistic=relative,
        threshold=1e-8,
        exact=0.0,
        estimate=relative,
        agree=relative <= 1e-8,
    )
    return crosscheck.all_of(
        crosscheck.same_count(wins, estimate),
        regions,
        formulas,
    )


def _nonnegative_weights(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    """Weights are non-negative: the exact infimum of the random factor and the smallest sampled weight are >= 0."""
    infimum = crosscheck.exact_float(derivation.result)
    worst = min(infimum, estimate.value)
    return Comparison(
        method="-min(exact infimum of the weight factor, smallest sampled weight) <= 0",
        statistic=-worst,
        threshold=0.0,
        exact=infimum,
        estimate=estimate.value,
        agree=worst >= 0,
        detail=(
            f"{estimate.details['fraction_negative']:.1%} negative weights, "
            f"{estimate.details['fraction_rows_not_probability']:.1%} rows of D^-1 W not probability vectors"
        ),
    )


def _identity_tolerance(p: dict[str, Any]) -> float:
    # Each order sums <= L m + L products of non-negative features times |v| (prefix sums add L more):
    # both are within gamma_{2L+m+2} ~ (2L+m+2)u of the |.|-product, so they differ by <= 2(2L+m+2)u of it.
    return 2 * (2 * p["L"] + p["m"] + 2) * 2.0**-53


def _attention_inputs(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return numeric.attention_inputs(p["L"], p["d"], p["dv"], p["scale"], p["inputs"])


def _exact_matrix(array: np.ndarray) -> sympy.Matrix:
    """Inputs on the grid 2^-6 Z as exact rationals."""
    return sympy.Matrix(array.tolist()).applyfunc(sympy.Rational)


def _attention_target(p: dict[str, Any]) -> Derivation:
    queries, keys, values = (_exact_matrix(array) for array in _attention_inputs(p))
    return exact.attention_target(queries, keys, values, normalise=bool(p["normalise"]))


def _numerator(p: dict[str, Any], seed: int) -> Estimate:
    return numeric.numerator_moments(*_attention_inputs(p), p["m"], p["samples"], seed, normalise=bool(p["normalise"]))


def _attention_parameters(scale: float, scale_high: float, samples: int) -> tuple[Parameter, ...]:
    return (
        Parameter("L", int, quick=6, full=10, low=1, high=12, doc="sequence length"),
        Parameter("d", int, quick=4, full=8, low=1, high=16, doc="query/key dimension"),
        Parameter("dv", int, quick=2, full=4, low=1, high=4, doc="value dimension"),
        Parameter("m", int, quick=8, full=32, low=1, high=32, doc="random features"),
        Parameter(
            "samples", int, quick=samples, full=20_000, low=100, high=20_000, doc="independent draws of the features"
        ),
        Parameter("scale", float, quick=scale, low=0.0, high=scale_high, doc="largest norm of a query/key row"),
        Parameter("inputs", int, quick=0, low=0, high=2**31 - 1, doc="seed of the fixed inputs Q, K, V"),
    )


def _kernel_claims(kind: str) -> tuple[Claim, Claim]:
    """F1 (unbiased) and F2 (MSE formula) for one feature kind."""
    tag = exact.LABELS[kind]
    unbiased = Claim(
        id=f"favor.{kind}_unbiased",
        title=f"{kind.capitalize()} random features are unbiased for exp(x·y) (F1)",
        source=SOURCE,
        statement=rf"E\big[\widehat{{\mathrm{{SM}}}}^{{\mathrm{{{tag}}}}}_m(x,y)\big] = e^{{x\cdot y}}",
        parameters=_mean_point() + _monte_carlo(),
        derive=lambda p: exact.unbiased(kind, p["d"], _values(p)),
        estimate=lambda p, seed: numeric.kernel_mean(kind, *_vectors(p), p["m"], p["samples"], seed),
        compare=_z,
        symbols=SYMBOLS,
    )
    mse = Claim(
        id=f"favor.{kind}_mse",
        title=f"MSE of {kind} random features (F2)",
        source=SOURCE + ", Lemma 2",
        statement=rf"\mathrm{{MSE}}\big(\widehat{{\mathrm{{SM}}}}^{{\mathrm{{{tag}}}}}_m\big) = {sympy.latex(exact.claimed_mse(kind))}",
        parameters=_mse_point() + _monte_carlo(samples=40_000, min_features=MSE_MIN_FEATURES),
        derive=lambda p: exact.mse(kind, _values(p), p["m"]),
        estimate=lambda p, seed: numeric.kernel_mse(kind, *_vectors(p), p["m"], p["samples"], seed),
        compare=_z,
        symbols=SYMBOLS,
    )
    return unbiased, mse


FAMILY = Family(
    name="favor",
    number=2,
    title="Performer / FAVOR+: random features for softmax attention",
    source=SOURCE,
    figures=(Drawing("twofold.drawings.favor", "mse_ratio"),),
    claims=(
        *(claim for kind in exact.KINDS for claim in _kernel_claims(kind)),
        Claim(
            id="favor.mse_ratio",
            title="Ratio of trigonometric to positive MSE, and its limits (F2)",
            source=SOURCE + ", Lemma 2 and Theorem 1",
            statement=(
                r"\frac{\mathrm{MSE_{trig}}}{\mathrm{MSE_{pos}}} = \frac{(1-e^{-|x-y|^2})^2}{2\,\mathrm{SM}^4(1-e^{-|x+y|^2})}"
                r"\xrightarrow[\mathrm{SM}\to 0]{} \infty,\quad \xrightarrow[x \to y]{} 0"
            ),
            parameters=_mse_point(120.0, 0.25) + _monte_carlo(samples=40_000, min_features=MSE_MIN_FEATURES),
            hypotheses=(X_PLUS_Y,),
            derive=lambda p: exact.mse_ratio(_values(p)),
            estimate=lambda p, seed: numeric.mse_ratio(*_vectors(p), p["m"], p["samples"], seed),
            compare=_z,
            symbols=SYMBOLS,
        ),
        Claim(
            id="favor.positive_wins",
            title="Positive features beat trigonometric ones exactly where attention is small (F2)",
            source=SOURCE + ", Theorem 1 and the discussion after it",
            statement=(
                r"\mathrm{SM}(x,y) < \sqrt{\sqrt2-1} \Rightarrow \mathrm{MSE_{pos}} < \mathrm{MSE_{trig}};\quad"
                r"\mathrm{SM}(x,y) \ge 1 \Rightarrow \mathrm{MSE_{trig}} \le \tfrac12\,\mathrm{MSE_{pos}}"
            ),
            parameters=(
                Parameter("max_norm", float, quick=1.5, low=0.05, high=3.0, doc="largest |x|, |y| on the grid"),
                Parameter("norm_steps", int, quick=4, full=8, low=1, high=10, doc="norm levels"),
                Parameter("angle_steps", int, quick=12, full=36, low=1, high=72, doc="angle levels in [0, 180]"),
            ),
            derive=lambda p: exact.positive_wins(p["max_norm"], p["norm_steps"], p["angle_steps"]),
            estimate=lambda p, seed: numeric.grid_comparison(p["max_norm"], p["norm_steps"], p["angle_steps"]),
            compare=_grid,
            symbols=SYMBOLS,
        ),
        Claim(
            id="favor.orthogonal_unbiased",
            title="Orthogonal positive features are unbiased when the blocks are Haar (F3)",
            source=SOURCE + ", Section 2.4",
            statement=(
                r"\omega_i = R_i q_i,\ Q \sim \mathrm{Haar},\ R_i \sim \chi_d"
                r"\Rightarrow E\big[\widehat{\mathrm{SM}}^{\mathrm{ort}+}_m\big] = e^{x\cdot y}"
            ),
            parameters=_mean_point() + _monte_carlo(dim=8, features=8, full_dim=16) + (SIGN_FIX,),
            hypotheses=(HAAR,),
            derive=lambda p: exact.orthogonal_unbiased(p["d"], _values(p)),
            estimate=lambda p, seed: numeric.kernel_mean(
                "positive", *_vectors(p), p["m"], p["samples"], seed, orthogonal=True, sign_fix=bool(p["sign_fix"])
            ),
            compare=_haar_unbiased,
            symbols=SYMBOLS,
        ),
        Claim(
            id="favor.orthogonal_mse",
            title="Orthogonal features lower the MSE (F3)",
            source=SOURCE + ", Theorem 2",
            statement=(
                r"m \le d:\ \mathrm{MSE_{ort}} \le \mathrm{MSE_{pos}} - \frac{2(m-1)}{m(d+2)}"
                r"\Big(\mathrm{SM}(x,y) - e^{-\frac{|x|^2+|y|^2}{2}}\Big)^2"
            ),
            parameters=_mse_point(30.0)
            + _monte_carlo(
                dim=8, features=8, samples=40_000, full_dim=16, min_features=MSE_MIN_FEATURES, full_features=16
            )
            + (SIGN_FIX,),
            hypotheses=(
                HAAR,
                Hypothesis(
                    "m <= d",
                    lambda p: p["m"] <= p["d"],
                    "all m frequencies must be mutually orthogonal (one block): m <= d",
                    witness={"d": 2, "m": 8},
                ),
            ),
            derive=lambda p: exact.orthogonal_mse(p["d"], p["m"], _values(p)),
            estimate=lambda p, seed: numeric.kernel_mse(
                "positive", *_vectors(p), p["m"], p["samples"], seed, orthogonal=True, sign_fix=bool(p["sign_fix"])
            ),
            compare=_orthogonal_mse,
            symbols=SYMBOLS,
        ),
        Claim(
            id="favor.attention_identity",
            title="Linear attention by associativity, bidirectional and causal (F4)",
            source=SOURCE + ", Section 2.2",
            statement=(
                r"D^{-1}\big(Q'(K'^{\top}V)\big) = D^{-1}\big((Q'K'^{\top})V\big),\ D = \mathrm{diag}(Q'(K'^{\top}1));\ "
                r"\text{causal: } S_i = S_{i-1} + k'_i v_i^{\top},\ \text{row}_i = q_i'^{\top} S_i"
            ),
            parameters=(
                Parameter("L", int, quick=4, full=6, low=1, high=6, doc="sequence length"),
                Parameter("m", int, quick=3, full=4, low=1, high=4, doc="random features"),
                Parameter("dv", int, quick=2, full=3, low=1, high=3, doc="value dimension"),
                Parameter("d", int, quick=4, low=1, high=16, doc="query/key dimension (numerics)"),
            ),
            derive=lambda p: exact.attention_identity(p["L"], p["m"], p["dv"]),
            estimate=lambda p, seed: numeric.attention_identity_residual(p["L"], p["m"], p["d"], p["dv"], seed),
            compare=lambda d, e, p: crosscheck.absolute_error(d.result, e, atol=_identity_tolerance(p)),
            symbols=SYMBOLS,
        ),
        Claim(
            id="favor.numerator_unbiased",
            title="The FAVOR+ numerator is unbiased, bidirectional and causal (F4)",
            source=SOURCE + ", Section 2.2 and Lemma 1",
            statement=(
                r"E\big[Q'(K'^{\top}V)\big] = e^{QK^{\top}}V,\quad "
                r"E\big[\text{causal}\big] = \mathrm{tril}\big(e^{QK^{\top}}\big)V"
            ),
            parameters=_attention_parameters(0.5, 0.6, 10_000)
            + (Parameter("normalise", int, quick=0, low=0, high=1, doc="1: average D^-1 Q'(K'^T V) instead"),),
            hypotheses=(
                Hypothesis(
                    "unnormalised numerator",
                    lambda p: p["normalise"] == 0,
                    "only the numerator (and D) are unbiased; the normalised ratio D^-1 Q'(K'^T V) is biased",
                    witness={"normalise": 1, "m": 1},
                ),
            ),
            derive=_attention_target,
            estimate=_numerator,
            compare=_entrywise_z,
            symbols=SYMBOLS,
        ),
        Claim(
            id="favor.attention_weights",
            title="FAVOR+ attention weights are positive; trigonometric ones are not (F1, F4)",
            source=SOURCE + ", Section 2.3",
            statement=r"\varphi_+(q)\cdot\varphi_+(k) > 0 \Rightarrow D^{-1}Q'K'^{\top} \text{ is row-stochastic}",
            parameters=(Parameter("features", int, quick=0, low=0, high=2, doc=FEATURE_KIND_DOC),)
            + _attention_parameters(2.0, 3.0, 2_000),
            hypotheses=(
                Hypothesis(
                    "non-negative features",
                    lambda p: p["features"] != 2,
                    "attention weights must come from non-negative features (positive or hyperbolic)",
                    witness={"features": 2},
                ),
            ),
            derive=lambda p: exact.weight_infimum(exact.KINDS[p["features"]]),
            estimate=lambda p, seed: numeric.weight_signs(
                exact.KINDS[p["features"]], *_attention_inputs(p)[:2], p["m"], p["samples"], seed
            ),
            compare=_nonnegative_weights,
            symbols=SYMBOLS,
        ),
    ),
)
