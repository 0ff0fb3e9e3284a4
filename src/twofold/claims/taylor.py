"""Family 1 — even Taylor truncations of exp are positive; Taylor-softmax (claims T1–T6)."""

from __future__ import annotations

import itertools
import math

import sympy

from twofold.numerics import taylor as numeric
from twofold.numerics import taylor_certify
from twofold.contract import Estimate
from twofold.theorems import taylor as exact
from twofold import crosscheck
from twofold.model import Claim, Comparison, Drawing, Family, Hypothesis, Parameter
from twofold.parsing import IndexedFunction

SOURCE = "Su Jianlin, kexue.fm post 7919 (Nov 2020): even-order Taylor expansions of exp are positive"

N_MAX = 60  # beyond this, certifying grid signs needs mpmath at most points (seconds per claim)
TABLE_MAX = 200  # sympy's Sturm counts for every n <= 200 take ~40 s here; the flint chain to 200 takes ~0.1 s


def _order(quick: int, full: int, low: int = 2) -> Parameter:
    return Parameter("n", int, quick=quick, full=full, low=low, high=N_MAX, doc="truncation order")


EVEN = Hypothesis(
    "n even",
    lambda p: p["n"] % 2 == 0,
    "the truncation order n must be even",
    witness={"n": 5},
)

X = sympy.Symbol("x", real=True)
TRUNCATION = IndexedFunction("f", lambda n, arg: exact.truncation(n, arg), max_index=N_MAX)
N = sympy.Symbol("n", integer=True, positive=True)


def _positive_minimum(estimate: Estimate) -> Comparison:
    low, high = estimate.details["minimum_interval"]
    return crosscheck.at_most(
        -low, 0.0, "rigorous lower bound of min f_n > 0", estimate=low, detail=f"min f_n in [{low:.15g}, {high:.15g}]"
    )


def _minimum_and_argmin(derivation, estimate: Estimate, params) -> Comparison:
    root, value = derivation.result
    return crosscheck.all_of(crosscheck.contains(value, estimate), crosscheck.contains(root, estimate.part_interval("argmin_interval")))


def _same_root_counts(derivation, estimate: Estimate, params) -> Comparison:
    exact_counts = [int(count) for count in derivation.result]
    numeric_counts = estimate.details["counts"]
    differ = [n for n, (sturm, flint) in enumerate(itertools.zip_longest(exact_counts, numeric_counts)) if sturm != flint]
    lower = estimate.details["smallest_minimum_lower_bound"]
    return crosscheck.all_of(
        crosscheck.at_most(
            len(differ),
            0,
            "orders n <= n_max where the Sturm count and the flint certificate differ",
            exact=sum(exact_counts),
            estimate=estimate.value,
            detail=f"first differing n: {differ[0]}" if differ else f"{len(exact_counts)} orders compared",
        ),
        crosscheck.at_most(-lower, 0.0, "smallest certified lower bound of min f_n over even n > 0", estimate=lower),
    )


def _softmax_bound(derivation, estimate: Estimate, params) -> Comparison:
    bound = crosscheck.exact_float(derivation.result)
    # float64 computes each probability with relative error <= (n + 3) u; the l1 sum of
    # 2K such terms adds at most 2K (n + 3) u on top of the true distance.
    rounding = 2 * params["classes"] * (params["n"] + 3) * 2.0**-53
    return crosscheck.at_most(
        estimate.value,
        bound + rounding,
        "largest observed l1 distance <= exact bound 2 eps_n / (1 - eps_n) + float64 rounding",
        exact=bound,
        detail=f"mean distance {estimate.details['mean_distance']:.3g} over {estimate.n} logit vectors",
    )


FAMILY = Family(
    name="taylor",
    number=1,
    title="Even Taylor truncations of exp",
    source=SOURCE,
    figures=(Drawing("twofold.drawings.taylor", "truncations"),),
    claims=(
        Claim(
            id="taylor.derivative_identity",
            title="Derivative of a truncation is the previous truncation (T1)",
            source=SOURCE,
            statement=r"f_n'(x) = f_{n-1}(x),\quad f_n(x) = f_{n-1}(x) + \frac{x^n}{n!}",
            parameters=(_order(8, 40, low=1), Parameter("points", int, quick=2000, full=100_000, low=1, high=10**7)),
            derive=lambda p: exact.derivative_identity(p["n"]),
            estimate=lambda p, seed: numeric.complex_step_residual(p["n"], p["points"], seed),
            # complex-step and Horner each err by <= (n+2) u relative to f_{n-1}(|x|); 4x margin.
            compare=lambda d, e, p: crosscheck.absolute_error(d.result, e, atol=4 * (p["n"] + 2) * 2.0**-53),
            symbols=(X,),
            functions=(TRUNCATION,),
        ),
        Claim(
            id="taylor.critical_value",
            title="Value at a critical point (T2)",
            source=SOURCE,
            statement=r"f_n'(x^*) = 0 \;\Longrightarrow\; f_n(x^*) = \frac{x^{*n}}{n!}",
            parameters=(_order(8, 24, low=1),),
            derive=lambda p: exact.critical_value(p["n"]),
            estimate=lambda p, seed: numeric.critical_value_residual(p["n"]),
            # mpmath at 50 digits: residuals are ~1e-45; 1e-30 leaves room for root conditioning.
            compare=lambda d, e, p: crosscheck.absolute_error(d.result, e, atol=1e-30),
            symbols=(X,),
            functions=(TRUNCATION,),
        ),
        Claim(
            id="taylor.even_positive",
            title="Even truncations are positive (T3)",
            source=SOURCE,
            statement=r"n \text{ even} \;\Longrightarrow\; f_n(x) > 0 \quad \forall x \in \mathbb{R}",
            parameters=(_order(10, 40),),
            hypotheses=(EVEN,),
            derive=lambda p: exact.positivity(p["n"]),
            estimate=lambda p, seed: numeric.real_root_count(p["n"]),
            compare=lambda d, e, p: crosscheck.all_of(crosscheck.same_count(d.result, e), _positive_minimum(e)),
            symbols=(X,),
            functions=(TRUNCATION,),
        ),
        Claim(
            id="taylor.critical_structure",
            title="Unique minimiser (even n); increasing with one negative root (odd n) (T4)",
            source=SOURCE,
            statement=(
                r"n \text{ even: } \exists!\, x^*_n,\ f_{n-1}(x^*_n) = 0,\ \text{global minimiser};\quad "
                r"n \text{ odd: } f_n' > 0,\ \text{one simple root } < 0"
            ),
            parameters=(_order(9, 41, low=1),),
            derive=lambda p: exact.critical_structure(p["n"]),
            estimate=lambda p, seed: numeric.critical_point_count(p["n"]),
            compare=lambda d, e, p: crosscheck.same_count(d.result, e),
            symbols=(X,),
            functions=(TRUNCATION,),
        ),
        Claim(
            id="taylor.minimum_table",
            title="The minimum of f_n and its minimiser (T5)",
            source=SOURCE,
            statement=r"\min_x f_n(x) = f_n(x^*_n) = \frac{(x^*_n)^n}{n!},\quad f_{n-1}(x^*_n) = 0",
            parameters=(_order(10, 60),),
            hypotheses=(EVEN,),
            derive=lambda p: exact.minimum(p["n"]),
            estimate=lambda p, seed: numeric.minimum_enclosure(p["n"]),
            compare=_minimum_and_argmin,
            symbols=(X,),
            functions=(TRUNCATION,),
        ),
        Claim(
            id="taylor.root_count_certificate",
            title="Real-root counts of every truncation up to n_max, certified twice (T3, T4)",
            source=SOURCE,
            statement=r"\#\{x \in \mathbb{R} : f_n(x) = 0\} = n \bmod 2 \quad \forall\, 0 \le n \le n_{\max}",
            parameters=(Parameter("n_max", int, quick=24, full=TABLE_MAX, low=0, high=TABLE_MAX, doc="largest order n"),),
            derive=lambda p: exact.root_count_table(p["n_max"]),
            estimate=lambda p, seed: taylor_certify.root_count_certificates(p["n_max"]),
            compare=_same_root_counts,
            symbols=(X,),
            functions=(TRUNCATION,),
        ),
        Claim(
            id="taylor.softmax_shift",
            title="Taylor-softmax is a probability vector but not shift-invariant (T6)",
            source=SOURCE,
            statement=(
                r"p_i = \frac{f_n(x_i)}{\sum_j f_n(x_j)} > 0,\ \sum_i p_i = 1,\ "
                r"p(x + c\mathbf{1}) \ne p(x) \text{ in general}"
            ),
            parameters=(
                _order(4, 10),
                Parameter("shift", float, quick=1.0, low=-100.0, high=100.0, doc="shift c added to every logit"),
                Parameter("samples", int, quick=10_000, full=1_000_000, low=1, high=10**7),
            ),
            hypotheses=(
                EVEN,
                Hypothesis("shift non-zero", lambda p: p["shift"] != 0, "a zero shift changes nothing", witness={"shift": 0.0}),
            ),
            derive=lambda p: exact.softmax_not_shift_invariant(p["n"], sympy.Rational(str(p["shift"]))),
            estimate=lambda p, seed: numeric.shift_change(p["n"], p["shift"], p["samples"], seed),
            # a difference of two O(1) probabilities: float64 error <= 1e-15; rtol 1e-9 covers |delta| >= 1e-6.
            compare=lambda d, e, p: crosscheck.relative_error(d.result, e, rtol=1e-9),
            symbols=tuple(sympy.symbols("x_1 x_2 x_3 c", real=True)),
            functions=(TRUNCATION,),
        ),
        Claim(
            id="taylor.monotone_variant",
            title="Monotone Taylor-softmax weight f_n(max(x, x*_n)) (T6)",
            source=SOURCE,
            statement=r"g_n(x) = f_n(\max(x, x^*_n)) \text{ is non-decreasing and } g_n \ge f_n(x^*_n) > 0",
            parameters=(_order(8, 30),),
            hypotheses=(EVEN,),
            derive=lambda p: exact.monotone_variant(p["n"]),
            estimate=lambda p, seed: numeric.monotone_variant(p["n"]),
            # Horner's a-priori bound covers the rounding; the minimiser's sqrt(u) error is second order.
            compare=lambda d, e, p: crosscheck.all_of(
                crosscheck.absolute_error(d.result, e, atol=e.details["error_bound"]),
                crosscheck.at_most(e.details["decreases"], 0, "grid steps where g_n decreases"),
            ),
            symbols=(X,),
            functions=(TRUNCATION,),
        ),
        Claim(
            id="taylor.softmax_limit",
            title="Taylor-softmax tends to softmax (T6)",
            source=SOURCE,
            statement=(
                r"\|\mathrm{TS}_n(x) - \mathrm{softmax}(x)\|_1 \le \frac{2\varepsilon_n}{1-\varepsilon_n},\ "
                r"\varepsilon_n = \frac{a^{n+1} e^{a}}{(n+1)!} \xrightarrow[n\to\infty]{} 0,\ x \in [-a,a]^K"
            ),
            parameters=(
                _order(12, 30),
                Parameter("a", float, quick=3.0, low=0.01, high=20.0, doc="logit bound"),
                Parameter("classes", int, quick=8, low=2, high=1000),
                Parameter("samples", int, quick=20_000, full=200_000, low=1, high=10**7),
            ),
            hypotheses=(
                Hypothesis(
                    "eps_n < 1",
                    lambda p: p["a"] ** (p["n"] + 1) * math.exp(p["a"]) < math.factorial(p["n"] + 1),
                    "the remainder bound eps_n = a^(n+1) e^a/(n+1)! must be below 1 (raise n or lower a)",
                    witness={"n": 2, "a": 3.0},
                ),
            ),
            derive=lambda p: exact.softmax_limit_bound(p["n"], sympy.Rational(str(p["a"]))),
            estimate=lambda p, seed: numeric.softmax_distance(p["n"], p["a"], p["classes"], p["samples"], seed),
            compare=_softmax_bound,
            symbols=(X,),
            functions=(TRUNCATION,),
        ),
    ),
)

