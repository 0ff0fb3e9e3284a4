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
from twofold.model import Claim, Comparison, Drawing, FalseVariant, Family, Hypothesis, Mistake, Parameter, Probe
from twofold.parsing import IndexedFunction

SOURCE = "Su Jianlin, kexue.fm post 7919 (Nov 2020): even-order Taylor expansions of exp are positive"

N_MAX = 1000  # the python-flint certificates (numerics/taylor_certify.py) decide signs exactly to 2000
GRID_MAX = 60  # float64 grids (monotone_variant) break down near n = 60: Horner's error grows like n u e^(0.56 n)
ROOTS_MAX = 200  # all complex critical points (critical_value): 1 s at 200, about a minute at 500
TABLE_MAX = 2000  # the flint chain: ~1 s to 1000, ~40 s to 2000; the exact table rests on the general proof
UNIT = 2.0**-53


def _order(quick: int, full: int, low: int = 2, high: int = N_MAX) -> Parameter:
    return Parameter("n", int, quick=quick, full=full, low=low, high=high, doc="truncation order")


EVEN = Hypothesis(
    "n even",
    lambda p: p["n"] % 2 == 0,
    "the truncation order n must be even",
    witness={"n": 5},
    latex="$n$ even",
)

X = sympy.Symbol("x", real=True)
TRUNCATION = IndexedFunction("f", lambda n, arg: exact.truncation(n, arg), max_index=GRID_MAX)
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
            r"orders $n \le n_{\max}$ where the proved count and the flint certificate differ",
            exact=sum(exact_counts),
            estimate=estimate.value,
            detail=f"first differing n: {differ[0]}" if differ else f"{len(exact_counts)} orders compared",
        ),
        crosscheck.at_most(-lower, 0.0, r"smallest certified lower bound of $\min f_n$ over even $n$ is $> 0$", estimate=lower),
    )


def _shift_change(derivation, estimate: Estimate, params) -> Comparison:
    # each float64 probability f_n(a)/(f_n(a) + f_n(b)) has relative error <= (n + 3) u (Horner, one
    # addition, one division); their difference, two such numbers <= 1, errs by <= 2 (n + 3) u.
    # The relative part 1e-9 keeps the test sharp where Delta is large (n small); where Delta
    # falls below float64 resolution (n >= 20 at c = 1) only the rounding allowance remains.
    delta = crosscheck.exact_float(derivation.result)
    allowance = 2 * (params["n"] + 3) * UNIT
    return crosscheck.at_most(
        abs(estimate.value - delta),
        1e-9 * abs(delta) + allowance,
        "$|\\Delta_{\\mathrm{float}} - \\Delta| \\le 10^{-9}|\\Delta| + 2(n+3)u$",
        exact=delta,
        estimate=estimate.value,
    )


def _softmax_bound(derivation, estimate: Estimate, params) -> Comparison:
    bound = crosscheck.exact_float(derivation.result)
    # float64 computes each probability with relative error <= (n + 3) u; the l1 sum of
    # 2K such terms adds at most 2K (n + 3) u on top of the true distance.
    rounding = 2 * params["classes"] * (params["n"] + 3) * 2.0**-53
    return crosscheck.at_most(
        estimate.value,
        bound + rounding,
        r"largest observed $\ell_1$ distance $\le 2\varepsilon_n/(1-\varepsilon_n)$ + float64 rounding",
        exact=bound,
        detail=f"mean distance {estimate.details['mean_distance']:.3g} over {estimate.n} logit vectors",
    )


FAMILY = Family(
    name="taylor",
    number=1,
    title="Even Taylor truncations of exp",
    source=SOURCE,
    symbols=(X,),
    functions=(TRUNCATION,),
    figures=(Drawing("twofold.drawings.taylor", "truncations"),),
    claims=(
        Claim(
            id="taylor.derivative_identity",
            title="Derivative of a truncation is the previous truncation (T1)",
            statement=r"f_n'(x) = f_{n-1}(x),\quad f_n(x) = f_{n-1}(x) + \frac{x^n}{n!}",
            parameters=(_order(8, 1000, low=1), Parameter("points", int, quick=2000, full=100_000, low=1, high=10**7)),
            derive=lambda p: exact.derivative_identity(p["n"]),
            estimate=lambda p, seed: numeric.complex_step_residual(p["n"], p["points"], seed),
            # complex-step and Horner each err by <= (n+2) u relative to f_{n-1}(|x|); 4x margin.
            compare=lambda d, e, p: crosscheck.absolute_error(d.result, e, atol=4 * (p["n"] + 2) * UNIT),
            resolution=(
                Probe("absolute", 1e-14, "twice the tolerance $4(n+2)u = 4.4 \\cdot 10^{-15}$ at the quick $n = 8$"),
            ),
        ),
        Claim(
            id="taylor.critical_value",
            title="Value at a critical point (T2)",
            statement=r"f_n'(x^*) = 0 \;\Longrightarrow\; f_n(x^*) = \frac{x^{*n}}{n!}",
            parameters=(_order(8, 100, low=1, high=ROOTS_MAX),),
            derive=lambda p: exact.critical_value(p["n"]),
            estimate=lambda p, seed: numeric.critical_value_residual(p["n"]),
            # mpmath at 50 digits (n <= 60) or flint at 2n + 160 bits: residuals are below 1e-45;
            # 1e-30 leaves room for root conditioning.
            compare=lambda d, e, p: crosscheck.absolute_error(d.result, e, atol=1e-30),
            resolution=(Probe("absolute", 2e-30, "twice the tolerance $10^{-30}$"),),
        ),
        Claim(
            id="taylor.even_positive",
            title="Even truncations are positive (T3)",
            statement=r"n \text{ even} \;\Longrightarrow\; f_n(x) > 0 \quad \forall x \in \mathbb{R}",
            parameters=(_order(10, 1000),),
            hypotheses=(EVEN,),
            derive=lambda p: exact.positivity(p["n"]),
            estimate=lambda p, seed: numeric.real_root_count(p["n"]),
            compare=lambda d, e, p: crosscheck.all_of(crosscheck.same_count(d.result, e), _positive_minimum(e)),
            resolution=(
                Probe("count", 1, "one real root more or less"),
                Probe(
                    "absolute", 0.1, "a certified minimum lowered by 0.1 (more than $\\min f_{10} = 0.047$) is not positive",
                    key="minimum_interval", directions=(-1,), exact_side=False,
                ),
            ),
        ),
        Claim(
            id="taylor.critical_structure",
            title="Unique minimiser (even $n$); increasing with one negative root (odd $n$) (T4)",
            statement=(
                r"n \text{ even: } \exists!\, x^*_n,\ f_{n-1}(x^*_n) = 0,\ \text{global minimiser};\quad "
                r"n \text{ odd: } f_n' > 0,\ \text{one simple root } < 0"
            ),
            parameters=(_order(9, 999, low=1),),
            derive=lambda p: exact.critical_structure(p["n"]),
            estimate=lambda p, seed: numeric.critical_point_count(p["n"]),
            compare=lambda d, e, p: crosscheck.same_count(d.result, e),
            resolution=(Probe("count", 1, "one critical point (even $n$) or real root (odd $n$) more or less"),),
        ),
        Claim(
            id="taylor.minimum_table",
            title="The minimum of $f_n$ and its minimiser (T5)",
            statement=r"\min_x f_n(x) = f_n(x^*_n) = \frac{(x^*_n)^n}{n!},\quad f_{n-1}(x^*_n) = 0",
            parameters=(_order(10, 200),),
            hypotheses=(EVEN,),
            derive=lambda p: exact.minimum(p["n"]),
            estimate=lambda p, seed: numeric.minimum_enclosure(p["n"]),
            compare=_minimum_and_argmin,
            # the enclosures are 1e-15 wide (mpmath, n <= 60) or n 2^-50 (flint): 1e-12 relative
            # lies outside both at every n <= 200.
            resolution=(
                Probe("relative", 1e-12, "outside the value's enclosure (width at most $200 \\cdot 2^{-50}$ relative)", index=1),
                Probe("relative", 1e-12, "outside the minimiser's enclosure", key="argmin_interval", index=0),
            ),
        ),
        Claim(
            id="taylor.root_count_certificate",
            title=r"Real-root counts of every truncation up to $n_{\max}$, certified twice (T3, T4)",
            statement=r"\#\{x \in \mathbb{R} : f_n(x) = 0\} = n \bmod 2 \quad \forall\, 0 \le n \le n_{\max}",
            parameters=(Parameter("n_max", int, quick=24, full=1000, low=0, high=TABLE_MAX, doc="largest order n", latex="$n_{\\max}$"),),
            derive=lambda p: exact.root_count_table(p["n_max"]),
            estimate=lambda p, seed: taylor_certify.root_count_certificates(p["n_max"]),
            compare=_same_root_counts,
            resolution=(
                Probe("count", 1, "one root more or less at any order (exact side: at $n = 0$)", key="counts", index=0),
                Probe(
                    "absolute", 1.0, "a smallest certified minimum lowered by 1 is not positive",
                    key="smallest_minimum_lower_bound", directions=(-1,), exact_side=False,
                ),
            ),
        ),
        Claim(
            id="taylor.softmax_shift",
            title="Taylor-softmax is a probability vector but not shift-invariant (T6)",
            statement=(
                r"p_i = \frac{f_n(x_i)}{\sum_j f_n(x_j)} > 0,\ \sum_i p_i = 1,\ "
                r"p(x + c\mathbf{1}) \ne p(x) \text{ in general}"
            ),
            parameters=(
                _order(4, 10, high=N_MAX),
                Parameter("shift", float, quick=1.0, low=-100.0, high=100.0, doc="shift c added to every logit"),
                Parameter("samples", int, quick=10_000, full=1_000_000, low=1, high=10**7),
            ),
            hypotheses=(
                EVEN,
                Hypothesis("shift non-zero", lambda p: p["shift"] != 0, "a zero shift changes nothing", witness={"shift": 0.0}),
            ),
            derive=lambda p: exact.softmax_not_shift_invariant(p["n"], sympy.Rational(str(p["shift"]))),
            estimate=lambda p, seed: numeric.shift_change(p["n"], p["shift"], p["samples"], seed),
            compare=_shift_change,
            resolution=(Probe("relative", 2e-9, "twice the relative tolerance $10^{-9}$ (the rounding allowance is $7u$ at $n = 4$)"),),
            symbols=tuple(sympy.symbols("x x_1 x_2 x_3 c", real=True)),
            functions=(TRUNCATION,),
        ),
        Claim(
            id="taylor.monotone_variant",
            title=r"Monotone Taylor-softmax weight $f_n(\max(x, x^*_n))$ (T6)",
            statement=r"g_n(x) = f_n(\max(x, x^*_n)) \text{ is non-decreasing and } g_n \ge f_n(x^*_n) > 0",
            parameters=(_order(8, 30, high=GRID_MAX),),
            hypotheses=(EVEN,),
            derive=lambda p: exact.monotone_variant(p["n"]),
            estimate=lambda p, seed: numeric.monotone_variant(p["n"]),
            # Horner's a-priori bound covers the rounding; the minimiser's sqrt(u) error is second order.
            compare=lambda d, e, p: crosscheck.all_of(
                crosscheck.absolute_error(d.result, e, atol=e.details["error_bound"]),
                crosscheck.at_most(e.details["decreases"], 0, "grid steps where $g_n$ decreases"),
            ),
            resolution=(
                Probe("absolute", 6e-14, "twice Horner's bound ($2.8 \\cdot 10^{-14}$) at the quick $n = 8$"),
                Probe("count", 1, "one decreasing grid step", key="decreases", directions=(1,), exact_side=False),
            ),
        ),
        Claim(
            id="taylor.softmax_limit",
            title="Taylor-softmax tends to softmax (T6)",
            statement=(
                r"\|\mathrm{TS}_n(x) - \mathrm{softmax}(x)\|_1 \le \frac{2\varepsilon_n}{1-\varepsilon_n},\ "
                r"\varepsilon_n = \frac{a^{n+1} e^{a}}{(n+1)!} \xrightarrow[n\to\infty]{} 0,\ x \in [-a,a]^K"
            ),
            parameters=(
                _order(12, 30),
                Parameter("a", float, quick=3.0, full=8.0, low=0.01, high=20.0, doc="logit bound"),
                Parameter("classes", int, quick=8, full=1000, low=2, high=50_000),
                Parameter("samples", int, quick=20_000, full=2_000, low=1, high=10**7),
            ),
            hypotheses=(
                Hypothesis(
                    "eps_n < 1",
                    lambda p: (p["n"] + 1) * math.log(p["a"]) + p["a"] < math.lgamma(p["n"] + 2),  # in logs: no overflow at n = 1000
                    "the remainder bound eps_n = a^{n+1} e^a/(n+1)! must be below 1 (raise n or lower a)",
                    witness={"n": 2, "a": 3.0},
                    latex=r"$\varepsilon_n < 1$",
                ),
            ),
            derive=lambda p: exact.softmax_limit_bound(p["n"], sympy.Rational(str(p["a"]))),
            estimate=lambda p, seed: numeric.softmax_distance(p["n"], p["a"], p["classes"], p["samples"], seed),
            compare=_softmax_bound,
            # a one-sided bound: it rejects any observed distance above 2 eps/(1 - eps); at the quick
            # point the largest observation is 1/22 of the bound, so the smallest rejected move is x22.
            # A wrong constant on the exact side is caught by the derivation's checked steps
            # (theorems.taylor.normalisation_bound), not by moving the result.
            resolution=(
                Probe("relative", 25.0, "the observation moved above the bound (it sits at $1/22$ of it at the quick point)", directions=(1,), exact_side=False),
            ),
        ),
    ),
    false_variants=(
        FalseVariant(
            "taylor.derivative_identity", "derivative keeps the index",
            r"$\frac{d}{dx} x^k/k! = x^k/k!$: the index is not lowered, so $f_n' = f_n$",
            derive=lambda p: exact._variant_derivative_keeps_index(p["n"]),
        ),
        FalseVariant(
            "taylor.derivative_identity", "dropped factorial",
            r"coefficients $1$ instead of $1/k!$ in the numerical truncation",
            estimate=lambda p, seed: numeric._variant_dropped_factorial_residual(p["n"], p["points"], seed),
        ),
        FalseVariant(
            "taylor.critical_value", "(n-1)! for n!",
            r"the top term $x^n/(n-1)!$ instead of $x^n/n!$",
            derive=lambda p: exact._variant_factorial_of_previous(p["n"]),
        ),
        FalseVariant(
            "taylor.even_positive", "sign of the critical value",
            r"$f_n(x^*) = -x^{*n}/n!$: the sign of the critical value flipped",
            derive=lambda p: exact._variant_critical_value_sign(p["n"]),
        ),
        FalseVariant(
            "taylor.even_positive", "critical point read as a root",
            r"the hypothesis $f_n(x^*) = 0$ used instead of $f_n'(x^*) = f_{n-1}(x^*) = 0$",
            derive=lambda p: exact._variant_wrong_hypothesis(p["n"]),
        ),
        FalseVariant(
            "taylor.critical_structure", "roots for critical points",
            r"for even $n$ the real roots of $f_n$ counted instead of those of $f_n'$",
            estimate=lambda p, seed: numeric._variant_roots_not_critical_points(p["n"]),
            params={"n": 10},
        ),
        FalseVariant(
            "taylor.minimum_table", "off-by-one order",
            r"the minimiser of $f_n$ taken as the root of $f_{n+1}$ instead of $f_{n-1}$",
            derive=lambda p: exact._variant_minimiser_off_by_one(p["n"]),
        ),
        FalseVariant(
            "taylor.root_count_certificate", "counts off by one order",
            r"the certified counts indexed from 1: order $n$ reported with the parity of $n + 1$",
            estimate=lambda p, seed: taylor_certify._variant_counts_off_by_one(p["n_max"]),
        ),
        FalseVariant(
            "taylor.softmax_shift", "shift-invariant like softmax",
            r"$f_n(x + c) = f_n(x) f_n(c)$ assumed, so the shift cancels and $\Delta = 0$",
            derive=lambda p: exact._variant_shift_invariant(p["n"], sympy.Rational(str(p["shift"]))),
        ),
        FalseVariant(
            "taylor.softmax_limit", "wrong bound constant",
            r"$\varepsilon/(1-\varepsilon)$ instead of $2\varepsilon/(1-\varepsilon)$: the $|\bar\delta|$ term forgotten",
            derive=lambda p: exact._variant_bound_constant(p["n"], sympy.Rational(str(p["a"]))),
        ),
        FalseVariant(
            "taylor.softmax_limit", "weaker bound constant",
            r"$4\varepsilon/(1-\varepsilon)$: a true but weaker constant the steps do not produce",
            derive=lambda p: exact._variant_bound_weaker(p["n"], sympy.Rational(str(p["a"]))),
        ),
    ),
    mistakes=(
        Mistake(
            "derivative keeps the index", "1 + 2*x/2! + 3*x^2/3! + 4*x^3/4! = f_4(x)",
            r"you differentiate $x^k/k!$ to $x^k/k!$ instead of $x^{k-1}/(k-1)!$",
        ),
        Mistake(
            "derivative loses the factor k", "1 + 2*x/2! + 3*x^2/3! + 4*x^3/4! = 1 + x/2! + x^2/3! + x^3/4!",
            r"you differentiate $x^k/k!$ to $x^{k-1}/k!$, forgetting the factor $k$ that turns $k!$ into $(k-1)!$",
        ),
        Mistake(
            "forgetting the factorial", "f_4(x) = f_3(x) + x^4",
            r"you split off the top term without its factorial, $x^n$ instead of $x^n/n!$",
        ),
        Mistake(
            "k! for (k-1)!", "f_4(x) = f_3(x) + x^4/3!",
            r"you divide the top term by $(n-1)!$ instead of $n!$",
        ),
        Mistake(
            "sign of the critical value", "f_4(x) - f_3(x) = -x^4/24",
            r"you flip the sign of $x^n/n!$, which would make even truncations negative at their minimum",
        ),
    ),
)
