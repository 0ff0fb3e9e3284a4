"""Family 8 — repetition in Seq2Seq decoding as a Markov chain (claims R1–R5).

Every claim runs on an instance: ``n`` tokens and integer weights ``1..9`` drawn
from ``numpy.random.default_rng(chain)`` (optionally made greedy: each row
replaced by its argmax).  The exact side builds the rational chain
:math:`P_{ij} = w_{ij}/\\sum_l w_{il}` from those integers, the numeric side its own
float64 chain.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse
import sympy

from twofold.numerics import repetition as numeric
from twofold.contract import Estimate
from twofold.theorems import repetition as exact
from twofold import crosscheck
from twofold.model import Claim, Comparison, Derivation, Drawing, FalseVariant, Family, Hypothesis, Mistake, Parameter, Probe

SOURCE = "Su Jianlin, kexue.fm post 8128 (Jan 2021): a theoretical analysis of repetition in Seq2Seq decoding"

# eigen(): the error bounds are first order in the backward error n u ||Q||; LAPACK's
# actual backward error constant is a small multiple of n, so 100x covers both.
EIGEN_SAFETY = 100.0
# A 0/1 functional matrix is block triangular: permutation blocks (the cycles) and a nilpotent
# tree part; eigenvalues != 0 are therefore semisimple and move by O(cond * u), not u^(1/k).
# Observed |rho - 1| <= 4.5e-16 over 1800 greedy chains (n = 2..10); 1e-9 leaves a margin > 10^6.
UNIT_ROOT_ATOL = 1e-9

SIZE = Parameter("n", int, quick=4, full=8, low=2, high=10, doc="number of tokens (states of the chain)")
CHAIN = Parameter("chain", int, quick=0, low=0, high=2**32 - 1, doc="instance number: seed of the integer weights 1..9")
SURVEY = Parameter(
    "chains", int, quick=200, full=2000, low=1, high=20_000, doc="random Dirichlet chains per concentration"
)


def _greedy(quick: int) -> Parameter:
    return Parameter(
        "greedy", int, quick=quick, low=0, high=1, doc="1: replace every row by its argmax (greedy decoding)"
    )


RHO_BELOW_ONE = Hypothesis(
    "rho < 1",
    lambda p: p["greedy"] == 0,
    "the series needs rho(Q) < 1, i.e. no cycle of one-hot rows; greedy=1 makes every row one-hot, "
    "and a map of a finite set always has a cycle",
    witness={"greedy": 1},
    latex=r"$\rho(Q) < 1$",
)
ONE_HOT = Hypothesis(
    "greedy one-hot chain",
    lambda p: p["greedy"] == 1,
    "the chain must be greedy (every row one-hot); with greedy=0 every row has two or more tokens and rho(Q) < 1",
    witness={"greedy": 0},
)
MIXING = Hypothesis(
    "flattening mixes with the uniform row",
    lambda p: p["scheme"] == 0,
    "the general facts (row sums of Q shrink to 1/n like (1-t)^2, the uniform end is the global minimum) are about "
    "mixing with the uniform row (scheme=0); temperature scaling (scheme=1) is not covered and raises rho on some chains",
    witness={"scheme": 1, "n": 3, "chain": 340, "grid": 6},
)

SYMBOLS = (exact.x, exact.lam, exact.k, exact.a, exact.b, exact.c, exact.d, exact.r, exact.rho, exact.t)


def _cycle_outweighs_block(p: dict[str, Any]) -> bool:
    """(t/n)^2 ((1-t) + t/n)^(2m) > r^-(m+1): the Q_t-weight of the cycle through the phrase beats the block."""
    m, r, t = p["lead_in"], p["block"], p["mix"]
    n = m + r
    return (t / n) ** 2 * ((1 - t) + t / n) ** (2 * m) > r ** -(m + 1)


PHRASE_CYCLE = Hypothesis(
    "phrase cycle outweighs the block",
    _cycle_outweighs_block,
    "sufficient for the rise: the Q_t-weight (t/n)² ((1 − t) + t/n)²ᵐ of the cycle through the phrase must exceed "
    "r⁻⁽ᵐ⁺¹⁾, i.e. its geometric mean must beat rho(Q_0) = 1/r",
    witness={"lead_in": 3, "block": 4, "mix": 0.2},
)


def _weights(p: dict[str, Any]) -> np.ndarray:
    return numeric.integer_weights(p["n"], p["chain"], bool(p.get("greedy", 0)))


def _exact_weights(p: dict[str, Any]) -> list[list[int]]:
    return _weights(p).tolist()


def _chain(p: dict[str, Any]) -> np.ndarray:
    return numeric.transition_matrix(_weights(p))


def _series_and_eigen(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    atol = EIGEN_SAFETY * estimate.details["eigen_error"] + 4 * 2.0**-53 * abs(estimate.value)
    return crosscheck.all_of(
        crosscheck.contains(derivation.result, estimate),
        crosscheck.absolute_error(derivation.result, estimate.part("eigen_value"), atol=atol),
    )


def _meets(what: str, exact: tuple[float, float], estimate: tuple[float, float], value: float) -> Comparison:
    """Two intervals, an exact enclosure and a rigorous numeric one, intersect; statistic = the gap between them."""
    gap = max(estimate[0] - exact[1], exact[0] - estimate[1], 0.0)
    return Comparison(
        method=f"the exact enclosure of {what} meets the estimate's interval",
        statistic=gap, threshold=0.0, exact=(exact[0] + exact[1]) / 2, estimate=value, agree=gap == 0.0,
        detail=f"exact [{exact[0]:.17g}, {exact[1]:.17g}], estimate [{estimate[0]:.17g}, {estimate[1]:.17g}]",
    )


def _tightness_at_scale(derivation: Derivation, estimate: Estimate) -> Comparison:
    centre, radius, low, high = (crosscheck.exact_float(part) for part in derivation.result)
    return crosscheck.all_of(
        _meets(r"$\rho(Q)$", (centre - radius, centre + radius), estimate.details["rho_interval"], estimate.details["rho"]),
        _meets(r"$R$ (from $\operatorname{tr} Q$ to the bound $nh/(1-h)$)", (low, high), estimate.interval, estimate.value),
        crosscheck.at_most(
            estimate.details["bound_violations"], 0,
            r"counterexamples found among random chains ($R > n\rho/(1-\rho)$) = 0",
        ),
    )


def _tightness(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    if isinstance(derivation.result, sympy.Tuple):
        return _tightness_at_scale(derivation, estimate)
    survey = estimate.details["survey"]
    medians = ", ".join(f"{alpha:g}: {m:.3f}" for alpha, m in survey["median_ratio"].items())
    return crosscheck.all_of(
        crosscheck.absolute_error(derivation.result, estimate, atol=EIGEN_SAFETY * estimate.details["ratio_error"]),
        crosscheck.at_most(
            estimate.details["bound_violations"],
            0,
            "counterexamples found among random chains (R > n rho/(1 - rho)) = 0",
            detail=f"median R/(n rho/(1-rho)) by Dirichlet concentration {{{medians}}}; {survey['excluded']} chains with rho ~ 1 set aside",
        ),
    )


DENSE_EXACT = 12
"""Up to this many tokens (dense weights) the exact side of R3 finds rho(Q) as a root of the characteristic polynomial."""


def _row_sum_instance(p: dict[str, Any]) -> Any:
    """R3's instance: dense integer weights (``width = 0``) or a sparse chain with ``width`` tokens per row."""
    if p["width"] == 0:
        return numeric.integer_weights(p["n"], p["chain"])
    return numeric.sparse_weights(p["n"], p["width"], p["chain"])


def _row_sum_derive(p: dict[str, Any]) -> Derivation:
    weights = _row_sum_instance(p)
    if p["width"] == 0 and p["n"] <= DENSE_EXACT:
        return exact.row_sum_bounds(weights.tolist())
    return exact.row_sum_bounds_sparse(_sparse_rows(weights))


def _row_sum_estimate(p: dict[str, Any], seed: int, dense: Any = None, sparse: Any = None) -> Estimate:
    weights = _row_sum_instance(p)
    if p["width"] == 0 and p["n"] <= DENSE_EXACT:
        return (dense or numeric.collatz_wielandt)(numeric.transition_matrix(weights), p["chains"], seed)
    return (sparse or numeric.collatz_sparse)(numeric.sparse_chain(scipy.sparse.csr_matrix(weights)), p["chains"], seed)


def _bound_derive(p: dict[str, Any]) -> Derivation:
    if p["width"] == 0 and p["n"] <= DENSE_EXACT:
        return exact.spectral_bound(_exact_weights(p))
    return exact.spectral_bound_sparse(_sparse_rows(_row_sum_instance({**p, "width": p["width"] or p["n"]})))


def _bound_estimate(p: dict[str, Any], seed: int) -> Estimate:
    if p["width"] == 0 and p["n"] <= DENSE_EXACT:
        return numeric.bound_tightness(_chain(p), p["chains"], seed)
    weights = _row_sum_instance({**p, "width": p["width"] or p["n"]})
    return numeric.bound_sparse(numeric.sparse_chain(scipy.sparse.csr_matrix(weights)), p["chains"], seed)


def _sparse_rows(weights: Any) -> list[list[tuple[int, int]]]:
    csr = scipy.sparse.csr_matrix(weights)
    return [list(zip(csr.indices[a:b].tolist(), csr.data[a:b].tolist())) for a, b in zip(csr.indptr[:-1], csr.indptr[1:])]


def _enclosure(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    r"""The exact enclosure :math:`[c - r, c + r]` of :math:`\rho(Q)` (radius 0 for a polynomial root) meets the
    estimate's rigorous interval; and no random chain breaks the row-sum bounds."""
    survey = estimate.details["survey"]
    centre, radius = (crosscheck.exact_float(part) for part in derivation.result)
    low, high = estimate.interval
    outside = max(low - (centre + radius), (centre - radius) - high, 0.0)
    return crosscheck.all_of(
        Comparison(
            method=r"the exact enclosure of $\rho(Q)$ meets the estimate's interval",
            statistic=outside,
            threshold=0.0,
            exact=centre,
            estimate=estimate.value,
            agree=outside == 0.0,
            detail=f"exact [{centre - radius:.17g}, {centre + radius:.17g}], estimate [{low:.17g}, {high:.17g}]",
        ),
        crosscheck.at_most(
            estimate.details["row_sum_violations"],
            0,
            "counterexamples found among random chains (rho below the least or above the largest row sum) = 0",
            detail=f"{survey['chains']} chains x {len(survey['median_ratio'])} concentrations, n = {params['n']}",
        ),
    )


def _cycles(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    return crosscheck.all_of(
        crosscheck.same_count(derivation.result[0], estimate),
        crosscheck.absolute_error(derivation.result[1], estimate.part("rho"), atol=UNIT_ROOT_ATOL),
    )


def _monotone(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    details = estimate.details
    return crosscheck.all_of(
        crosscheck.same_count(derivation.result, estimate),
        crosscheck.at_most(
            details["survey_increasing"],
            0,
            "counterexamples found among random chains (rho rises somewhere along the ladder) = 0",
            detail=f"largest rise on the instance's fine grid {details['largest_increase']:.3g}, "
            f"over {details['survey_chains']} random chains per concentration {details['survey_largest_increase']:.3g}",
        ),
    )


def _rise(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    details = estimate.details
    worst = max(details["row_sum_bound_mixed"] - details["row_sum_bound_start"], -estimate.value)
    return crosscheck.all_of(
        crosscheck.absolute_error(derivation.result, estimate, atol=EIGEN_SAFETY * details["error"]),
        Comparison(
            method="float rho rises and the R3 bound falls: max(change of the bound, -rise) < 0",
            statistic=worst,
            threshold=0.0,
            exact=0.0,
            estimate=estimate.value,
            agree=worst < 0,
            detail=f"largest rho on the grid {details['largest_rho']:.6g} at t = {details['at_mix']:.3g}",
        ),
    )


def _series_estimate(p: dict[str, Any], seed: int) -> Estimate:
    return numeric.series(_chain(p))


VARIANTS = (
    FalseVariant(
        "repetition.series_identity", "Neumann series from k = 0",
        r"$R = \operatorname{tr}((I - Q)^{-1})$: the series started at $k = 0$ counts the $n$ empty walks",
        derive=lambda p: exact._variant_series_from_zero(_exact_weights(p)),
    ),
    FalseVariant(
        "repetition.series_identity", "matrix product for the Hadamard square",
        r"$Q = PP$ (matrix product) instead of $P \circ P$: $PP$ is stochastic, $\rho = 1$ and the series diverges",
        estimate=lambda p, seed: numeric._variant_matrix_product(_chain(p)),
    ),
    FalseVariant(
        "repetition.row_sum_bounds", "matrix product for the Hadamard square",
        r"the enclosure computed for $PP$ instead of $P \circ P$: its row sums are all 1",
        estimate=lambda p, seed: _row_sum_estimate(p, seed, dense=numeric._variant_collatz_matrix_product),
    ),
    FalseVariant(
        "repetition.spectral_bound", "bound 1/(1 - rho)",
        r"the bound $n/(1-\rho)$ in place of $n\rho/(1-\rho)$ (the $k = 0$ term of the Neumann series kept)",
        derive=lambda p: exact._variant_bound_without_rho(_exact_weights(p)),
    ),
    FalseVariant(
        "repetition.repeated_walks", "standard error halved",
        r"the Monte Carlo standard error reported $2\times$ too small",
        estimate=lambda p, seed: numeric._variant_stderr_halved(_chain(p), p["walks"], seed),
    ),
    FalseVariant(
        "repetition.repeated_walks", "transposed transition matrix",
        r"runs drawn from $P^T$ (columns read as next-token laws) instead of the rows of $P$",
        estimate=lambda p, seed: numeric._variant_walks_transposed(_chain(p), p["walks"], seed),
    ),
    FalseVariant(
        "repetition.mixing_can_raise_rho", "the R3 bound taken for rho",
        r"the change of $\max_i \sum_j P_{ij}^2$ reported as the change of $\rho(Q)$",
        estimate=lambda p, seed: numeric._variant_rise_is_bound(
            numeric.lead_in_weights(p["lead_in"], p["block"]), p["mix"], p["fine"]
        ),
    ),
)

MISTAKES = (
    Mistake(
        "Neumann series from k = 0",
        "rho/(1 - rho) = 1/(1 - rho)",
        r"you keep the $k = 0$ term: $\sum_{k \ge 1}\rho^k = \rho/(1-\rho)$, while $1/(1-\rho)$ also counts $\rho^0 = 1$",
    ),
    Mistake(
        "matrix product for the Hadamard square",
        "a^2 + b*c = a^2",
        r"you square $P$ as a matrix ($(PP)_{11} = a^2 + bc$) where $Q = P \circ P$ squares it entrywise ($Q_{11} = a^2$)",
    ),
    Mistake(
        "bound in the wrong direction",
        "r/(1 - r) >= rho/(1 - rho)",
        r"you turn the monotonicity around: $r \le \rho < 1$ gives $r/(1-r) \le \rho/(1-\rho)$",
    ),
    Mistake(
        "row sums shrink linearly",
        "(1 - t)^2 = 1 - t",
        r"you forget that mixing with weight $t$ shrinks $\sum_j P_{ij}^2 - 1/n$ by $(1-t)^2$, not by $1 - t$",
    ),
)


def _relative(size: float, reason: str, **where: Any) -> Probe:
    return Probe("relative", size, reason, **where)


FAMILY = Family(
    name="repetition",
    number=8,
    title="Repetition in Seq2Seq decoding",
    source=SOURCE,
    symbols=SYMBOLS,
    figures=(Drawing("twofold.drawings.repetition", "bound_survey"),),
    false_variants=VARIANTS,
    mistakes=MISTAKES,
    claims=(
        Claim(
            id="repetition.series_identity",
            title="Repeated closed walks: series, resolvent and eigenvalues (R1)",
            statement=(
                r"\rho(Q) < 1 \;\Longrightarrow\; R = \sum_{k\ge1}\operatorname{tr}(Q^k)"
                r" = \operatorname{tr}\bigl(Q(I-Q)^{-1}\bigr) = \sum_{\lambda}\frac{\lambda}{1-\lambda},\quad Q = P\circ P"
            ),
            parameters=(SIZE, CHAIN, _greedy(0)),
            hypotheses=(RHO_BELOW_ONE,),
            derive=lambda p: exact.series_identity(_exact_weights(p)),
            estimate=lambda p, seed: numeric.series(_chain(p)),
            compare=_series_and_eigen,
            resolution=(
                _relative(
                    2e-13,
                    r"the interval is the truncated sum with a tail of at most $10^{-13} S_K$ and rounding $2Knu\,S_K$ "
                    r"($< 3\cdot 10^{-14} S_K$ at the quick instance): a relative move of $2\cdot 10^{-13}$ leaves it",
                ),
                _relative(
                    5e-13,
                    r"the eigenvalue route is compared within 100 first-order error bounds plus 4 ulps "
                    r"($8.5\cdot 10^{-14}$, i.e. $2\cdot 10^{-13}$ relative, at the quick instance)",
                    key="eigen_value",
                ),
            ),
        ),
        Claim(
            id="repetition.repeated_walks",
            title=r"$R$ is the expected number of repeated loops of a decoding run (R1)",
            statement=(
                r"R = \sum_{i} E_i\bigl[\#\{k \ge 1: X_{1..k} = Y_{1..k},\ X_k = i\}\bigr]"
                r" = \sum_{k\ge1}\operatorname{tr}(Q^k),\quad X, Y \text{ independent runs from } i"
            ),
            parameters=(
                SIZE,
                CHAIN,
                _greedy(0),
                Parameter(
                    "walks", int, quick=200_000, full=2_000_000, low=100, high=5_000_000, doc="pairs of decoding runs"
                ),
            ),
            hypotheses=(RHO_BELOW_ONE,),
            derive=lambda p: exact.series_identity(_exact_weights(p)),
            estimate=lambda p, seed: numeric.repeated_walks(_chain(p), p["walks"], seed),
            compare=lambda d, e, p: crosscheck.z_score(d.result, e),
            resolution=(Probe("sigma", 9.0, "5-sigma test; the seed-0 estimate may itself be up to 4 s.e. off"),),
        ),
        Claim(
            id="repetition.spectral_bound",
            title="Spectral bound on repetition, complex eigenvalues included (R2)",
            statement=r"R \le n\,\frac{\rho}{1-\rho},\quad \rho = \rho(Q) < 1",
            parameters=(
                Parameter("n", int, quick=4, full=1000, low=2, high=2000, doc="number of tokens (states of the chain)"),
                CHAIN,
                _greedy(0),
                Parameter(
                    "width", int, quick=0, full=5, low=0, high=64,
                    doc="0: dense integer weights; w > 0: a sparse chain with w tokens per row (scipy.sparse)",
                ),
                Parameter("chains", int, quick=200, full=500, low=1, high=20_000, doc="random Dirichlet chains per concentration"),
            ),
            hypotheses=(RHO_BELOW_ONE,),
            derive=_bound_derive,
            estimate=_bound_estimate,
            compare=_tightness,
            resolution=(
                _relative(
                    6e-13,
                    r"the ratio is compared within 100 first-order eigenvalue error bounds "
                    r"($7\cdot 10^{-14}$, i.e. $2.7\cdot 10^{-13}$ relative, at the quick instance)",
                ),
                Probe("count", 1, "one counterexample among the random chains", key="bound_violations", directions=(1,), exact_side=False),
            ),
        ),
        Claim(
            id="repetition.row_sum_bounds",
            title=r"Row sums of $P \circ P$ bound the spectral radius (R3)",
            statement=r"\min_i \sum_j P_{ij}^2 \;\le\; \rho(P\circ P) \;\le\; \max_i \sum_j P_{ij}^2",
            parameters=(
                Parameter("n", int, quick=4, full=2000, low=2, high=20_000, doc="number of tokens (states of the chain)"),
                CHAIN,
                Parameter(
                    "width", int, quick=0, full=5, low=0, high=64,
                    doc="0: dense integer weights; w > 0: a sparse chain with w tokens per row (scipy.sparse)",
                ),
                Parameter("chains", int, quick=200, full=500, low=1, high=20_000, doc="random Dirichlet chains per concentration"),
            ),
            derive=_row_sum_derive,
            estimate=_row_sum_estimate,
            compare=_enclosure,
            resolution=(
                _relative(
                    4e-15,
                    r"the rigorous interval is $(n+2)u$ (dense) or $(w+2)u$ (sparse) wide on each side plus the spread of the "
                    r"Collatz-Wielandt ratios, $< 2\cdot 10^{-15}$ relative at the quick and full instances",
                    index=0,
                ),
                Probe("count", 1, "one counterexample among the random chains", key="row_sum_violations", directions=(1,), exact_side=False),
            ),
        ),
        Claim(
            id="repetition.greedy_cycle",
            title=r"A greedy chain cycles: $\rho = 1$ and $R$ diverges (R4)",
            statement=(
                r"P \text{ one-hot} \;\Longrightarrow\; \rho(Q) = 1,\ R = \infty;\quad"
                r"\operatorname{mult}_{\lambda=1}\chi_Q = \#\text{cycles of the greedy map}"
            ),
            parameters=(
                SIZE,
                CHAIN,
                _greedy(1),
                Parameter(
                    "periods", int, quick=4, full=20, low=1, high=50, doc="repetitions of the shortest cycle certified"
                ),
            ),
            hypotheses=(ONE_HOT,),
            derive=lambda p: exact.greedy_cycle(_exact_weights(p), p["periods"]),
            estimate=lambda p, seed: numeric.greedy_cycles(_chain(p)),
            compare=_cycles,
            resolution=(
                Probe("count", 1, "one cycle more or less", index=0),
                Probe("absolute", 2 * UNIT_ROOT_ATOL, r"$\rho = 1$ is compared at absolute error $10^{-9}$", key="rho", index=1),
            ),
        ),
        Claim(
            id="repetition.flattening",
            title=r"Mixing with the uniform row lowers the row-sum bound, and $\rho$ along the instance's ladder (R5)",
            statement=(
                r"P_s = (1 - \tfrac{s}{G})P + \tfrac{s}{G}\tfrac{\mathbf 1\mathbf 1^T}{n}:\ "
                r"\textstyle\sum_j (P_s)_{ij}^2 - \tfrac1n = (1-\tfrac{s}{G})^2\bigl(\sum_j P_{ij}^2 - \tfrac1n\bigr),\ "
                r"\rho(Q_G) = \tfrac1n = \min_P \rho;\ \text{instance: } \rho(Q_0) > \rho(Q_1) > \dots > \rho(Q_G)"
            ),
            parameters=(
                SIZE,
                CHAIN,
                Parameter(
                    "scheme", int, quick=0, low=0, high=1, doc="0: mix with the uniform row; 1: temperature P ~ w^(G-s)"
                ),
                Parameter("grid", int, quick=6, full=12, low=1, high=24, doc="G, the number of flattening steps"),
                Parameter("fine", int, quick=101, full=201, low=2, high=201, doc="points of the fine numeric grid"),
                Parameter(
                    "chains",
                    int,
                    quick=20,
                    full=60,
                    low=1,
                    high=100,
                    doc="random chains surveyed per Dirichlet concentration",
                ),
            ),
            hypotheses=(MIXING,),
            derive=lambda p: exact.flattening(_exact_weights(p), p["scheme"], p["grid"]),
            estimate=lambda p, seed: numeric.flattening(
                _weights(p), p["scheme"], p["grid"], p["fine"], p["chains"], seed
            ),
            compare=_monotone,
            resolution=(
                Probe("count", 1, "one decreasing step more or less"),
                Probe("count", 1, "one rising chain among the random chains", key="survey_increasing", directions=(1,), exact_side=False),
            ),
        ),
        Claim(
            id="repetition.mixing_can_raise_rho",
            title=r"Mixing with the uniform row can raise $\rho$: R5 fails in general (R5)",
            statement=(
                r"P = \text{phrase } 0\to\dots\to m \text{ into a flat block of } r:\quad"
                r"\max_i \textstyle\sum_j (P_t)_{ij}^2 < \max_i \sum_j P_{ij}^2 \text{ but } \rho(Q_t) > \rho(Q_0) = \tfrac1r"
            ),
            parameters=(
                Parameter("lead_in", int, quick=6, full=8, low=1, high=10, doc="m, length of the deterministic phrase"),
                Parameter("block", int, quick=5, full=6, low=2, high=8, doc="r, size of the flat block"),
                Parameter("mix", float, quick=0.15, low=0.001, high=0.999, doc="t, weight of the uniform row"),
                Parameter(
                    "fine", int, quick=201, full=2001, low=2, high=10_001, doc="points of the numeric grid over t"
                ),
            ),
            hypotheses=(PHRASE_CYCLE,),
            derive=lambda p: exact.mixing_raises_rho(
                numeric.lead_in_weights(p["lead_in"], p["block"]).tolist(), p["lead_in"], sympy.Rational(str(p["mix"]))
            ),
            estimate=lambda p, seed: numeric.mixing_rise(
                numeric.lead_in_weights(p["lead_in"], p["block"]), p["mix"], p["fine"]
            ),
            compare=_rise,
            resolution=(
                Probe(
                    "absolute", 2e-9,
                    r"the rise is compared within 100 first-order eigenvalue error bounds ($8.8\cdot 10^{-10}$ at the quick instance)",
                ),
            ),
        ),
    ),
)
