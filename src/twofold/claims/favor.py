"""Family 2 — Performer / FAVOR+: random features for the softmax kernel and linear attention (claims F1–F4)."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy
import scipy

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
from twofold.numerics import favor as numeric
from twofold.theorems import favor as exact

SOURCE = "Su Jianlin, kexue.fm post 7921 (Dec 2020); Choromanski et al., Rethinking Attention with Performers (2020)"
# Two-sided tail of a single 5-sigma check; grids of N entries share it (Bonferroni).
FAMILY_WISE_RATE = crosscheck.FIVE_SIGMA_RATE
SYMBOLS = (exact.a, exact.b, exact.c, exact.d, exact.m, exact.t, exact.w, exact.s, exact.theta)
DEFINED = r",\quad a = |x|,\ b = |y|,\ c = x\cdot y"

# Resolution of every 5-sigma z-test: moved by s standard errors, |z0 +- s| must exceed 5 for both signs
# although the seed-0 estimate may itself be up to 4 s.e. off (probability 6e-5).
Z_PROBE = Probe("sigma", 9.0, r"5-sigma test; the seed-0 estimate may itself be up to 4 s.e. off")


def _pair_parameters(norm: float, norm_y: float, angle: float, high: float, full_norm: float | None = None,
                     full_angle: float | None = None) -> tuple[Parameter, ...]:
    """|x|, |y| in [0, high] and the angle between x and y in degrees."""
    return (
        Parameter("norm_x", float, quick=norm, full=full_norm, low=0.0, high=high, doc="|x|"),
        Parameter("norm_y", float, quick=norm_y, full=full_norm, low=0.0, high=high, doc="|y|"),
        Parameter("angle", float, quick=angle, full=full_angle, low=0.0, high=180.0, doc="angle between x and y, degrees"),
    )


# iid features: exponential tilting (numerics.favor.TILT) keeps the weighted terms log-normal with log-s.d.
# <= 0.5 at any norm, so means and MSEs are trustworthy up to practitioners' norms (|x|, |y| <= 3, |x+y| <= 6).
NORM_HIGH = 3.0
# Orthogonal features reach the same norms: the mean by importance sampling of the sampler itself (one frequency
# tilted, its block completed by a reflection; numerics.favor._tilted_orthogonal_replicates), the MSE by quadrature
# over the laws of one and of two Haar directions (numerics.favor.orthogonal_mse_quadrature), the sampler's Haar law
# checked by Monte Carlo, which does not depend on the norm.
ORTHOGONAL_MEAN_NORM = ORTHOGONAL_MSE_NORM = NORM_HIGH


def _monte_carlo(
    dim: int = 4,
    features: int = 16,
    samples: int = 20_000,
    full_dim: int = 64,
    full_features: int = 256,
    full_samples: int = 2_000,
    high_features: int = 512,
    samples_doc: str = "independent m-feature estimators (cut into batches for the batch-means s.e.)",
) -> tuple[Parameter, ...]:
    return (
        Parameter("d", int, quick=dim, full=full_dim, low=2, high=128, doc="dimension of x, y, omega"),
        Parameter("m", int, quick=features, full=full_features, low=1, high=high_features, doc="random features"),
        Parameter(
            "samples", int, quick=samples, full=full_samples, low=2 * numeric.BATCHES, high=200_000,
            doc=samples_doc,
        ),
    )


SIGN_FIX = Parameter("sign_fix", bool, quick=True, doc="QR with Q diag(sign R_ii) (Haar); false: raw numpy QR")

HAAR = Hypothesis(
    "Haar directions",
    lambda p: p["sign_fix"],
    "orthogonal blocks must be Haar: numpy's QR needs the sign fix Q diag(sign R_ii)",
    witness={"sign_fix": False},
)
NOT_BOTH_ZERO = Hypothesis(
    "x, y not both 0",
    lambda p: p["norm_x"] > 0 or p["norm_y"] > 0,
    "x and y must not both be 0 (then both MSEs vanish and their share is undefined)",
    witness={"norm_x": 0.0, "norm_y": 0.0},
    latex=r"$x \ne 0$ or $y \ne 0$",
)


def _values(p: dict[str, Any]) -> dict:
    return exact.pair_values(p["norm_x"], p["norm_y"], p["angle"])


def _vectors(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    return numeric.pair(p["norm_x"], p["norm_y"], p["angle"], p["d"])


def _z(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    return crosscheck.z_score(derivation.result, estimate)


def _stderrs_agree(means: np.ndarray, stderrs: np.ndarray, batch: np.ndarray, batches: int, level: float) -> Comparison:
    """Every entry's reported s.e. against its batch-means s.e.: (B-1)(se_B/se)^2 in the central 1 - level/N range
    of chi^2_{B-1} (Bonferroni over the N entries).  An entry whose s.e. is at float64 rounding of its mean
    (no variance, e.g. a normalised first causal row) is not tested."""
    dof = batches - 1
    stderrs, batch = np.asarray(stderrs, dtype=float), np.asarray(batch, dtype=float)
    resolution = crosscheck.ROUNDING * crosscheck.EPSILON * np.abs(np.asarray(means, dtype=float))
    constant = (stderrs <= resolution) & (batch <= resolution)
    ratio = np.where(constant, float(dof), dof * (batch / np.where(stderrs > 0, stderrs, 1.0)) ** 2)
    low, high = scipy.stats.chi2.ppf(level / 2 / ratio.size, dof), scipy.stats.chi2.isf(level / 2 / ratio.size, dof)
    statistic = float(max(np.max(low / ratio), np.max(ratio / high)))
    return crosscheck.at_most(
        statistic,
        1.0,
        rf"entrywise s.e. agree with batch means (chi-square, {dof} dof, level {level:g} over {ratio.size} entries)",
        exact=1.0,
        estimate=float(np.median(np.sqrt(ratio / dof))),
    )


def _entrywise_z(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    """Every entry within its Bonferroni-corrected z threshold (family-wise false-failure rate 5.7e-7), and every
    entry's s.e. confirmed by its batch means."""
    target = np.array(sympy.N(derivation.result, 30).tolist(), dtype=float)
    means, stderrs = np.asarray(estimate.details["means"]), np.asarray(estimate.details["stderrs"])
    signed = (means - target) / stderrs
    scores = np.abs(signed)
    worst = np.unravel_index(int(np.argmax(scores)), scores.shape)
    threshold = float(scipy.stats.norm.isf(FAMILY_WISE_RATE / (2 * scores.size)))
    entries = crosscheck.at_most(
        float(scores[worst]),
        threshold,
        rf"max $|z|$ over {scores.size} entries at most {threshold:.3g} (Bonferroni, family-wise rate {FAMILY_WISE_RATE:.1e})",
        exact=float(target[worst]),
        estimate=float(means[worst]),
        detail=f"worst entry {tuple(int(i) for i in worst)}, s.e. {stderrs[worst]:.3g}, n = {estimate.n}",
        zscores=tuple(signed.ravel()),
    )
    checked = _stderrs_agree(means, stderrs, estimate.details["batch_stderrs"], estimate.details["batches"], crosscheck.STDERR_LEVEL)
    return crosscheck.all_of(entries, checked)


def _haar(estimate: Estimate) -> Comparison:
    """The first coordinate of the first direction has mean 0 (Haar), 5-sigma z-test with batch means."""
    return crosscheck.z_score(0, estimate.details["first_entry"])


# Quadrature against the exact values: |numeric - exact| <= ORTHOGONAL_RTOL |exact| + the quadrature's own error
# estimate (the last change of the doubled rules plus the rounding bound; numerics raises when it exceeds 1e-11 of
# the size of the terms).  Over norms 0.3..3, angles 0..150 and d = 2..128 the differences to the exact 30-digit
# values are below 1.3e-12 of the value (tests), the error estimates at the quick point about 8e-12 (MSE) and 7e-11
# (reduction); where the compared value is itself tiny against the terms (|x + y| -> 0) the rounding part of the
# estimate takes over.  ORTHOGONAL_RTOL = 1e-9 is the allowance for the error estimate being an estimate (about
# 1000 times the differences met); the probes move the values by 2e-9, and with the estimate added the statistic
# still exceeds 1.8.
ORTHOGONAL_RTOL = 1e-9


def _quadrature_agrees(exact_value: Any, value: float, error: float, what: str) -> Comparison:
    v = crosscheck.exact_float(exact_value)
    tolerance = ORTHOGONAL_RTOL * abs(v) + error
    statistic = abs(value - v) / tolerance if tolerance > 0 else (0.0 if value == v else float("inf"))
    return crosscheck.at_most(
        statistic,
        1.0,
        rf"{what}: $|\hat v - v|$ at most ${crosscheck.tex_number(ORTHOGONAL_RTOL)}\,|v|$ plus the quadrature error estimate",
        exact=v,
        estimate=value,
        detail=f"quadrature error estimate {error:.3g}",
    )


def _sampler_moments(estimate: Estimate) -> Comparison:
    """The sampler has the laws the quadrature integrates: the mean of $t_i^2 t_j^2$ over the pairs of one block
    against the same moment of the disc law, and the mean of $t_i^4$ against $E R^4 E a^4$ (5-sigma z-tests with
    batch means; the quadrature values are exact to 1e-13)."""
    details = estimate.details
    return crosscheck.all_of(
        crosscheck.z_score(details["pair_moment_reference"], details["pair_moment"]),
        crosscheck.z_score(details["fourth_moment_reference"], details["fourth_moment"]),
    )


def _orthogonal_mse(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    """MSE_ort and the two reductions below MSE_pos (the exact one and the claimed one) against the quadrature; the
    claim itself, reduction >= claimed reduction, on the quadrature values; the sampler's Haar law (Q_11 and the pair
    moment) by Monte Carlo."""
    mse_ort, _, _, reduction, bound_reduction = derivation.result
    details = estimate.details
    slack = details["reduction_error"] + details["bound_reduction_error"]
    return crosscheck.all_of(
        _quadrature_agrees(mse_ort, estimate.value, details["error"], r"$\mathrm{MSE_{ort}}$"),
        _quadrature_agrees(reduction, details["reduction"], details["reduction_error"],
                           r"reduction $\mathrm{MSE_{pos}} - \mathrm{MSE_{ort}}$"),
        _quadrature_agrees(bound_reduction, details["bound_reduction"], details["bound_reduction_error"],
                           r"claimed reduction $\frac{2(m-1)}{m(d+2)}(\mathrm{SM} - \exp(-(|x|^2+|y|^2)/2))^2$"),
        crosscheck.at_most(
            details["bound_reduction"] - details["reduction"],
            slack,
            r"the bound: claimed reduction minus quadrature reduction at most their error estimates",
            exact=details["bound_reduction"],
            estimate=details["reduction"],
        ),
        _haar(estimate),
        _sampler_moments(estimate),
    )


def _orthogonal_mse_estimate(p: dict[str, Any], seed: int, disc=None, fixed_norms: bool = False) -> Estimate:
    constant = crosscheck.exact_float(exact.CLAIMED_CONSTANT.subs({exact.m: p["m"], exact.d: p["d"]}))
    return numeric.orthogonal_mse_quadrature(
        *_vectors(p), p["m"], constant, p["samples"], seed, sign_fix=p["sign_fix"], disc=disc, fixed_norms=fixed_norms
    )


def _haar_unbiased(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    return crosscheck.all_of(crosscheck.z_score(derivation.result, estimate), _haar(estimate))


# Gauss-Hermite errors are < 1e-13 relative here and float64 integrands lose < 1e-11 for |x - y| >= 0.01;
# at x = -y (MSE_pos = 0) rounding leaves ~1e-32 SM^2, hence the absolute 1e-20 SM^2.  1e-8 is a margin of
# 1000 over that analysis; the probes move the values by 2e-8.
GRID_RTOL = 1e-8


def _grid(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    """Same number of winning points, the proved sign regions hold for the quadrature values, and those
    values match the F2 formulas (which this way are checked far beyond the Monte Carlo range of norms)."""
    wins, threshold, values = derivation.result
    sm = np.asarray(estimate.details["sm"])
    trig, pos = np.asarray(estimate.details["mse_trigonometric"]), np.asarray(estimate.details["mse_positive"])
    small = sm < crosscheck.exact_float(threshold)
    violations = int(np.sum(small & (trig <= pos)) + np.sum((sm >= 1) & (trig > pos / 2)))
    regions = crosscheck.at_most(
        violations,
        0,
        r"grid points violating $\mathrm{SM} < s^* \Rightarrow \mathrm{MSE_{trig}} > \mathrm{MSE_{pos}}$ or "
        r"$\mathrm{SM} \ge 1 \Rightarrow \mathrm{MSE_{trig}} \le \mathrm{MSE_{pos}}/2$",
        detail=f"{int(small.sum())} points with SM < s*, {int(np.sum(sm >= 1))} with SM ≥ 1",
    )
    exact_values = np.array(values.tolist(), dtype=float)
    numeric_values = np.column_stack([trig, pos])
    scale = np.abs(exact_values) + 1e-20 * sm[:, None] ** 2
    relative = float(np.max(np.abs(numeric_values - exact_values) / scale))
    formulas = crosscheck.at_most(
        relative, GRID_RTOL, rf"max relative error of quadrature MSEs against the F2 formulas at most {GRID_RTOL:g}"
    )
    return crosscheck.all_of(crosscheck.same_count(wins, estimate), regions, formulas)


# The numeric infimum (numerics.favor.factor_infimum) is within 1e-15 of the true one; 1e-12 leaves rounding room.
INFIMUM_ATOL = 1e-12


def _nonnegative_weights(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    """The exact infimum of the weight factor equals the numeric one and is >= 0, and no sampled weight is negative."""
    infimum = crosscheck.exact_float(derivation.result)
    numeric_infimum = Estimate(value=estimate.details["infimum"], method="numeric infimum", n=1)
    return crosscheck.all_of(
        crosscheck.absolute_error(infimum, numeric_infimum, INFIMUM_ATOL),
        crosscheck.at_most(-infimum, 0.0, r"$-\inf_s g(s)$ of the exact weight factor at most 0", exact=infimum),
        crosscheck.at_most(
            estimate.details["negative_count"],
            0,
            "negative sampled weights",
            detail=(
                f"{estimate.details['fraction_negative']:.1%} negative weights, "
                f"{estimate.details['fraction_rows_not_probability']:.1%} rows of D^-1 W not probability vectors; "
                f"smallest normalised weight {estimate.value:.3g}"
            ),
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
    return exact.attention_target(queries, keys, values, normalise=p["normalise"])


def _numerator(p: dict[str, Any], seed: int) -> Estimate:
    return numeric.numerator_moments(*_attention_inputs(p), p["m"], p["samples"], seed, normalise=p["normalise"])


def _attention_parameters(scale: float, scale_high: float, samples: int) -> tuple[Parameter, ...]:
    return (
        Parameter("L", int, quick=6, full=16, low=1, high=32, doc="sequence length"),
        Parameter("d", int, quick=4, full=16, low=1, high=64, doc="query/key dimension"),
        Parameter("dv", int, quick=2, full=4, low=1, high=8, doc="value dimension"),
        Parameter("m", int, quick=8, full=64, low=1, high=256, doc="random features"),
        Parameter(
            "samples", int, quick=samples, full=4_000, low=2 * numeric.BATCHES, high=50_000,
            doc="independent draws of the features",
        ),
        Parameter("scale", float, quick=scale, low=0.0, high=scale_high, doc="largest norm of a query/key row"),
        Parameter("inputs", int, quick=0, low=0, high=2**31 - 1, doc="seed of the fixed inputs Q, K, V"),
    )


def _kernel_claims(kind: str) -> tuple[Claim, Claim]:
    """F1 (unbiased) and F2 (MSE formula) for one feature kind."""
    tag = exact.LABELS[kind]
    unbiased = Claim(
        id=f"favor.{kind}_unbiased",
        title=rf"{kind.capitalize()} random features are unbiased for $e^{{x\cdot y}}$ (F1)",
        statement=rf"E\big[\widehat{{\mathrm{{SM}}}}^{{\mathrm{{{tag}}}}}_m(x,y)\big] = e^{{x\cdot y}}",
        parameters=_pair_parameters(0.5, 0.5, 60.0, NORM_HIGH, full_norm=3.0) + _monte_carlo(),
        derive=lambda p: exact.unbiased(kind, p["d"], _values(p)),
        estimate=lambda p, seed: numeric.kernel_mean(kind, *_vectors(p), p["m"], p["samples"], seed),
        compare=_z,
        resolution=(Z_PROBE,),
    )
    mse = Claim(
        id=f"favor.{kind}_mse",
        title=f"MSE of {kind} random features (F2)",
        source=SOURCE + ", Lemma 2",
        statement=rf"\mathrm{{MSE}}\big(\widehat{{\mathrm{{SM}}}}^{{\mathrm{{{tag}}}}}_m\big) = "
        + sympy.latex(exact.claimed_mse(kind))
        + DEFINED,
        parameters=_pair_parameters(0.3, 0.3, 60.0, NORM_HIGH, full_norm=3.0) + _monte_carlo(samples=10_000),
        derive=lambda p: exact.mse(kind, _values(p), p["m"]),
        estimate=lambda p, seed: numeric.kernel_mse(kind, *_vectors(p), p["m"], p["samples"], seed),
        compare=_z,
        resolution=(Z_PROBE,),
    )
    return unbiased, mse


# --- known-false variants: each replaces one part by a realistic wrong formula and must FAIL -----------------------


def _with_vectors(function):
    return lambda p, seed: function(*_vectors(p), p["m"], p["samples"], seed)


def _compare_with_one_feature_mse(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    """Wrong: the Monte Carlo MSE of m features against the one-frequency MSE (the exact side times m)."""
    return crosscheck.z_score(derivation.result * params["m"], estimate)


VARIANTS = (
    FalseVariant(
        "favor.orthogonal_mse", "m instead of m-1",
        r"$2m/(m(d+2))$ instead of $2(m-1)/(m(d+2))$ in the orthogonal correction",
        derive=lambda p: exact._variant_orthogonal_m_for_m_minus_1(p["d"], p["m"], _values(p)),
    ),
    FalseVariant(
        "favor.positive_unbiased", "missing norm factor",
        r"positive features $e^{\omega\cdot x}$ without the factor $e^{-|x|^2/2}$",
        estimate=lambda p, seed: numeric._variant_positive_without_norm_factor(*_vectors(p), p["m"], p["samples"], seed),
    ),
    FalseVariant(
        "favor.trigonometric_unbiased", "wrong sign in the trigonometric product",
        r"$\cos p\cos q - \sin p \sin q$: the estimator of $\cos(\omega\cdot(x+y))$ instead of $\cos(\omega\cdot(x-y))$",
        estimate=lambda p, seed: numeric._variant_trigonometric_wrong_sign(*_vectors(p), p["m"], p["samples"], seed),
    ),
    FalseVariant(
        "favor.orthogonal_unbiased", "raw QR treated as Haar",
        r"numpy's QR without the sign fix $Q\,\mathrm{diag}(\mathrm{sign}\,R_{ii})$ used as if it were Haar",
        estimate=lambda p, seed: numeric.kernel_mean(
            "positive", *_vectors(p), p["m"], p["samples"], seed, orthogonal=True, sign_fix=False
        ),
    ),
    FalseVariant(
        "favor.orthogonal_unbiased", "fixed norms instead of chi",
        r"orthogonal directions scaled to $\sqrt d$ instead of independent $\chi_d$ norms",
        estimate=lambda p, seed: numeric._variant_orthogonal_fixed_norms(*_vectors(p), p["m"], p["samples"], seed),
        params={"norm_x": 2.0, "norm_y": 2.0},
    ),
    FalseVariant(
        "favor.orthogonal_unbiased", "orthogonal features without the norm factor",
        r"orthogonal positive features $e^{\omega\cdot x}$ without the factor $e^{-|x|^2/2}$",
        estimate=lambda p, seed: numeric._variant_orthogonal_without_norm_factor(*_vectors(p), p["m"], p["samples"], seed),
    ),
    FalseVariant(
        "favor.orthogonal_mse", "one-direction exponent for the pair law",
        r"the pair of orthogonal directions with density $(1-a^2-b^2)^{(d-3)/2}$ instead of $(1-a^2-b^2)^{(d-4)/2}$",
        estimate=lambda p, seed: _orthogonal_mse_estimate(p, seed, disc=numeric._variant_disc_rule_single_exponent),
    ),
    FalseVariant(
        "favor.orthogonal_mse", "fixed norms instead of chi",
        r"the sampler scales its orthogonal directions to $\sqrt d$ instead of independent $\chi_d$ norms",
        estimate=lambda p, seed: _orthogonal_mse_estimate(p, seed, fixed_norms=True),
    ),
    FalseVariant(
        "favor.positive_unbiased", "s.e. without square root of n",
        r"standard error $\mathrm{sd}$ instead of $\mathrm{sd}/\sqrt n$",
        estimate=lambda p, seed: numeric._variant_stderr_without_root_n(
            numeric.kernel_mean("positive", *_vectors(p), p["m"], p["samples"], seed)
        ),
    ),
    FalseVariant(
        "favor.positive_mse", "MSE missing the 1/m",
        r"the MSE of $m$ features equal to the one-frequency variance (no $1/m$)",
        derive=lambda p: exact._variant_mse_without_one_over_m("positive", _values(p), p["m"]),
    ),
    FalseVariant(
        "favor.hyperbolic_mse", "hyperbolic MSE missing the half",
        r"$\mathrm{MSE_{hyp}} = (1 - e^{-|x+y|^2})\,\mathrm{MSE_{pos}}$ without the factor $\tfrac12$",
        derive=lambda p: exact._variant_hyperbolic_without_half(_values(p), p["m"]),
    ),
    FalseVariant(
        "favor.hyperbolic_unbiased", "Gaussian moment without the half",
        r"$E e^{tw} = e^{t^2}$ instead of $e^{t^2/2}$",
        derive=lambda p: exact._variant_mgf_without_half("hyperbolic", p["d"], _values(p)),
    ),
    FalseVariant(
        "favor.trigonometric_mse", "compared with the one-frequency MSE",
        r"the Monte Carlo MSE of $m$ features compared with the MSE of one frequency",
        compare=_compare_with_one_feature_mse,
    ),
    FalseVariant(
        "favor.numerator_unbiased", "causal mask transposed",
        r"the causal target $\mathrm{triu}(e^{QK^\top})V$ instead of $\mathrm{tril}(e^{QK^\top})V$",
        derive=lambda p: exact._variant_causal_transposed(*(_exact_matrix(a) for a in _attention_inputs(p))),
    ),
)

MISTAKES = (
    Mistake(
        "Gaussian moment without the half",
        "exp(-(a^2 + b^2)/2) * exp(a^2 + b^2 + 2*c) = exp(c)",
        r"you take $E e^{\omega\cdot u} = e^{|u|^2}$, forgetting the $\tfrac12$ of the Gaussian moment generating function",
        claims=("favor.positive_unbiased", "favor.hyperbolic_unbiased", "favor.orthogonal_unbiased"),
    ),
    Mistake(
        "trigonometric product with the wrong sign",
        "cos(s)*cos(t) + sin(s)*sin(t) = cos(s + t)",
        r"you combine $\cos p\cos q + \sin p\sin q$ into $\cos(p+q)$ instead of $\cos(p-q)$",
        claims=("favor.trigonometric_unbiased", "favor.trigonometric_mse"),
    ),
    Mistake(
        "MSE of a mean without the 1/m",
        "exp(a^2 + b^2 + 2*c) * exp(2*c) * (1 - exp(-(a^2 + b^2 + 2*c))) / m = "
        "exp(a^2 + b^2 + 2*c) * exp(2*c) * (1 - exp(-(a^2 + b^2 + 2*c)))",
        r"you forget that averaging $m$ iid features divides the variance by $m$",
        claims=("favor.positive_mse",),
    ),
    Mistake(
        "m instead of m - 1 orthogonal pairs",
        "m*(m - 1)/m^2 * 2/(d + 2) = 2/(d + 2)",
        r"you count $m^2$ instead of $m(m-1)$ ordered pairs of distinct orthogonal frequencies",
        claims=("favor.orthogonal_mse",),
    ),
)


FAMILY = Family(
    name="favor",
    number=2,
    title="Performer / FAVOR+: random features for softmax attention",
    source=SOURCE,
    symbols=SYMBOLS,
    figures=(Drawing("twofold.drawings.favor", "mse_ratio"),),
    false_variants=VARIANTS,
    mistakes=MISTAKES,
    claims=(
        *(claim for kind in exact.KINDS for claim in _kernel_claims(kind)),
        Claim(
            id="favor.mse_ratio",
            title="Ratio of trigonometric to positive MSE, and its limits (F2)",
            source=SOURCE + ", Lemma 2 and Theorem 1",
            statement=(
                r"r = \frac{\mathrm{MSE_{trig}}}{\mathrm{MSE_{pos}}} = \frac{(1-e^{-|x-y|^2})^2}{2\,\mathrm{SM}^4(1-e^{-|x+y|^2})}"
                r"\xrightarrow[\mathrm{SM}\to 0]{} \infty,\quad \xrightarrow[x \to y]{} 0;\quad"
                r"\text{compared as } q = \frac{r}{1+r} = \frac{\mathrm{MSE_{trig}}}{\mathrm{MSE_{trig}}+\mathrm{MSE_{pos}}} \in [0, 1],"
                r"\quad \mathrm{SM} = e^{x\cdot y}"
            ),
            parameters=_pair_parameters(1.0, 1.0, 120.0, NORM_HIGH, full_angle=150.0)
            + _monte_carlo(samples=4_000, full_samples=1_000),
            hypotheses=(NOT_BOTH_ZERO,),
            derive=lambda p: exact.mse_ratio(_values(p)),
            estimate=lambda p, seed: numeric.mse_ratio(*_vectors(p), p["m"], p["samples"], seed),
            compare=_z,
            resolution=(Z_PROBE,),
        ),
        Claim(
            id="favor.positive_wins",
            title="Positive features beat trigonometric ones exactly where attention is small (F2)",
            source=SOURCE + ", Theorem 1 and the discussion after it",
            statement=(
                r"\mathrm{SM}(x,y) < \sqrt{\sqrt2-1} \Rightarrow \mathrm{MSE_{pos}} < \mathrm{MSE_{trig}};\quad"
                r"\mathrm{SM}(x,y) \ge 1 \Rightarrow \mathrm{MSE_{trig}} \le \tfrac12\,\mathrm{MSE_{pos}},"
                r"\quad \mathrm{SM}(x,y) = e^{x\cdot y}"
            ),
            parameters=(
                Parameter("max_norm", float, quick=1.5, full=3.0, low=0.05, high=3.0, doc="largest |x|, |y| on the grid"),
                Parameter("norm_steps", int, quick=4, full=8, low=1, high=10, doc="norm levels"),
                Parameter("angle_steps", int, quick=12, full=36, low=1, high=72, doc="angle levels in [0, 180]"),
            ),
            derive=lambda p: exact.positive_wins(p["max_norm"], p["norm_steps"], p["angle_steps"]),
            estimate=lambda p, seed: numeric.grid_comparison(p["max_norm"], p["norm_steps"], p["angle_steps"]),
            compare=_grid,
            resolution=(
                Probe("count", 1, "the number of grid points where positive features win is an integer", index=0),
                Probe("relative", 2 * GRID_RTOL, "twice the 1e-8 relative tolerance of the quadrature MSEs",
                      key="mse_trigonometric", index=2),
                Probe("relative", 2 * GRID_RTOL, "twice the 1e-8 relative tolerance of the quadrature MSEs",
                      key="mse_positive", exact_side=False),
            ),
        ),
        Claim(
            id="favor.orthogonal_unbiased",
            title="Orthogonal positive features are unbiased when the blocks are Haar (F3)",
            source=SOURCE + ", Section 2.4",
            statement=(
                r"\omega_i = R_i q_i,\ Q \sim \mathrm{Haar},\ R_i \sim \chi_d"
                r"\Rightarrow E\big[\widehat{\mathrm{SM}}^{\mathrm{ort}+}_m\big] = e^{x\cdot y}"
            ),
            parameters=_pair_parameters(0.5, 0.5, 60.0, ORTHOGONAL_MEAN_NORM, full_norm=3.0)
            + _monte_carlo(dim=8, features=8, samples=10_000, full_samples=2_000)
            + (SIGN_FIX,),
            hypotheses=(HAAR,),
            derive=lambda p: exact.orthogonal_unbiased(p["d"], _values(p)),
            estimate=lambda p, seed: numeric.kernel_mean(
                "positive", *_vectors(p), p["m"], p["samples"], seed, orthogonal=True, sign_fix=p["sign_fix"]
            ),
            compare=_haar_unbiased,
            resolution=(
                Z_PROBE,
                Probe("sigma", 9.0, r"5-sigma test of $E Q_{11} = 0$ (Haar); seed noise up to 4 s.e.",
                      key="first_entry", exact_side=False),
            ),
        ),
        Claim(
            id="favor.orthogonal_mse",
            title="Orthogonal features lower the MSE (F3)",
            source=SOURCE + ", Theorem 2",
            statement=(
                r"m \le d:\ \mathrm{MSE_{ort}} \le \mathrm{MSE_{pos}} - \frac{2(m-1)}{m(d+2)}"
                r"\Big(\mathrm{SM}(x,y) - e^{-\frac{|x|^2+|y|^2}{2}}\Big)^2,\quad \mathrm{SM}(x,y) = e^{x\cdot y}"
            ),
            parameters=_pair_parameters(0.3, 0.3, 30.0, ORTHOGONAL_MSE_NORM, full_norm=3.0)
            + _monte_carlo(dim=8, features=8, samples=20_000, full_dim=64, full_features=64, full_samples=2_000,
                           samples_doc="sampled orthogonal blocks for the sampler checks (the MSE itself is a quadrature)")
            + (SIGN_FIX,),
            hypotheses=(
                HAAR,
                Hypothesis(
                    "m <= d",
                    lambda p: p["m"] <= p["d"],
                    "all m frequencies must be mutually orthogonal (one block): m ≤ d",
                    witness={"d": 2, "m": 8},
                    latex=r"$m \le d$",
                ),
            ),
            derive=lambda p: exact.orthogonal_mse(p["d"], p["m"], _values(p)),
            estimate=_orthogonal_mse_estimate,
            compare=_orthogonal_mse,
            resolution=(
                Probe("relative", 2 * ORTHOGONAL_RTOL, r"twice the $10^{-9}$ relative tolerance of the quadrature MSE",
                      index=0),
                Probe("relative", 2 * ORTHOGONAL_RTOL, r"twice the $10^{-9}$ relative tolerance of the quadrature reduction",
                      key="reduction", index=3),
                Probe("relative", 2 * ORTHOGONAL_RTOL, r"twice the $10^{-9}$ relative tolerance of the claimed reduction",
                      key="bound_reduction", index=4),
                Probe("sigma", 9.0, r"5-sigma test of $E Q_{11} = 0$ (Haar); seed noise up to 4 s.e.",
                      key="first_entry", exact_side=False),
                Probe("sigma", 9.0, r"5-sigma test of the pair moment $E t_i^2 t_j^2$ of the sampler; seed noise up to 4 s.e.",
                      key="pair_moment", exact_side=False),
                Probe("sigma", 9.0, r"5-sigma test of the fourth moment $E t_i^4$ of the sampler; seed noise up to 4 s.e.",
                      key="fourth_moment", exact_side=False),
            ),
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
                Parameter("L", int, quick=4, full=64, low=1, high=4096, doc="sequence length"),
                Parameter("m", int, quick=3, full=16, low=1, high=256, doc="random features"),
                Parameter("dv", int, quick=2, full=8, low=1, high=64, doc="value dimension"),
                Parameter("d", int, quick=4, full=16, low=1, high=128, doc="query/key dimension (numerics)"),
            ),
            derive=lambda p: exact.attention_identity(p["L"], p["m"], p["dv"]),
            estimate=lambda p, seed: numeric.attention_identity_residual(p["L"], p["m"], p["d"], p["dv"], seed),
            compare=lambda d, e, p: crosscheck.absolute_error(d.result, e, atol=_identity_tolerance(p)),
            resolution=(
                Probe("absolute", 6e-15, r"twice the rounding bound $2(2L+m+2)u$ at the quick sizes ($2.9 \cdot 10^{-15}$)"),
            ),
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
            + (Parameter("normalise", bool, quick=False, doc="average D^-1 Q'(K'^T V) instead of the numerator"),),
            hypotheses=(
                Hypothesis(
                    "unnormalised numerator",
                    lambda p: not p["normalise"],
                    "only the numerator (and D) are unbiased; the normalised ratio D^-1 Q'(K'^T V) is biased",
                    witness={"normalise": True, "m": 1},
                ),
            ),
            derive=_attention_target,
            estimate=_numerator,
            compare=_entrywise_z,
            resolution=(
                Probe("sigma", 10.0, r"Bonferroni threshold about 5.6 for the 24 quick entries, plus up to 4 s.e. of seed noise",
                      key="means", stderr_key="stderrs"),
            ),
        ),
        Claim(
            id="favor.attention_weights",
            title="FAVOR+ attention weights are positive; trigonometric ones are not (F1, F4)",
            source=SOURCE + ", Section 2.3",
            statement=r"\varphi_+(q)\cdot\varphi_+(k) > 0 \Rightarrow D^{-1}Q'K'^{\top} \text{ is row-stochastic}",
            parameters=(
                Parameter("features", str, quick="positive", choices=exact.KINDS, doc="feature map"),
            )
            + _attention_parameters(2.0, 3.0, 2_000),
            hypotheses=(
                Hypothesis(
                    "non-negative features",
                    lambda p: p["features"] != "trigonometric",
                    "attention weights must come from non-negative features (positive or hyperbolic)",
                    witness={"features": "trigonometric"},
                ),
            ),
            derive=lambda p: exact.weight_infimum(p["features"]),
            estimate=lambda p, seed: numeric.weight_signs(
                p["features"], *_attention_inputs(p)[:2], p["m"], p["samples"], seed
            ),
            compare=_nonnegative_weights,
            resolution=(
                Probe("absolute", 2 * INFIMUM_ATOL, "twice the 1e-12 tolerance on the infimum of the weight factor",
                      key="infimum"),
                Probe("count", 1, "one negative weight is a counterexample", key="negative_count",
                      exact_side=False, directions=(1,)),
            ),
        ),
    ),
)
