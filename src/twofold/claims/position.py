r"""Family 3 — hierarchical position encoding: n trained positions extended to n² (claims P1–P4).

:math:`q_{(i-1)n+j} = \alpha u_i + (1-\alpha) u_j`, :math:`u_i = (p_i - \alpha p_1)/(1-\alpha)`.
The exact side (:mod:`twofold.theorems.position`) proves the identities for symbolic :math:`\alpha` and
counts collisions from the coincidence patterns of the indices; the numeric side
(:mod:`twofold.numerics.position`) builds the table from random :math:`p` block by block and counts
equal rows by projection, sorting and full-dimension verification.
"""

from __future__ import annotations

import sympy

from twofold.numerics import position as numeric
from twofold.theorems import position as exact
from twofold import crosscheck
from twofold.model import Claim, Drawing, FalseVariant, Family, Hypothesis, Mistake, Parameter, Probe

SOURCE = "Su Jianlin, kexue.fm post 7947 (Dec 2020): hierarchical decomposition of position encodings"

N_MAX = 512  # n^2 = 262144 rows; the full-table residuals take a few seconds at n = 512, d = 768
D_MAX = 1024

SYMBOLS = (
    exact.alpha,
    exact.n,
    exact.p_1,
    exact.p_i,
    exact.p_j,
    exact.p_k,
    exact.p_l,
    exact.u_i,
    exact.u_j,
)


def _size(quick: int, full: int) -> Parameter:
    return Parameter("n", int, quick=quick, full=full, low=2, high=N_MAX, doc="number of trained positions")


def _dimension(quick: int, full: int) -> Parameter:
    return Parameter("d", int, quick=quick, full=full, low=1, high=D_MAX, doc="dimension of the random stand-in encodings")


def _weight(quick: float) -> Parameter:
    return Parameter("alpha", float, quick=quick, low=0.0, high=1.0, doc="mixing weight alpha (the post uses 0.4)", latex=r"$\alpha$")


def _exact_alpha(params) -> sympy.Rational:
    return sympy.Rational(str(params["alpha"]))


DEFINED = Hypothesis(
    "alpha != 1",
    lambda p: p["alpha"] != 1,
    "u_i = (p_i - alpha p_1)/(1 - alpha) divides by 1 - alpha, so alpha must differ from 1",
    witness={"alpha": 1.0},
    latex=r"$\alpha \ne 1$",
)
NOT_HALF = Hypothesis(
    "alpha != 1/2",
    lambda p: p["alpha"] != 0.5,
    "at alpha = 1/2 positions (i, j) and (j, i) get the same vector",
    witness={"alpha": 0.5},
    latex=r"$\alpha \ne 1/2$",
)
NOT_ZERO = Hypothesis(
    "alpha != 0",
    lambda p: p["alpha"] != 0,
    "at alpha = 0 every block repeats p_1..p_n",
    witness={"alpha": 0.0},
    latex=r"$\alpha \ne 0$",
)

# The identities are compared at 4 entry_error(alpha); at the quick alpha = 0.4 that is
# 4 * 8u * 1.4/0.6 = 8.3e-15 relative to max|p|.  A probe of twice that must be rejected.
IDENTITY_PROBE = Probe("absolute", 1.7e-14, "twice the rounding tolerance $4\\varepsilon(\\alpha) = 8.3 \\cdot 10^{-15}$ at $\\alpha = 0.4$")
COUNT_PROBE = Probe("count", 1, "one colliding pair (or distinct position) more or less")


def _identity(claim_id: str, title: str, statement: str, derive, estimate) -> Claim:
    """P1–P3 identities: exact residual 0 against the largest float64 residual over the whole table."""
    return Claim(
        id=claim_id,
        title=title,
        statement=statement,
        parameters=(_size(64, 512), _dimension(64, 768), _weight(0.4)),
        hypotheses=(DEFINED,),
        derive=lambda p: derive(_exact_alpha(p)),
        estimate=lambda p, seed: estimate(p["n"], p["d"], p["alpha"], seed),
        # a residual adds or subtracts at most four quantities each within entry_error * max|p|
        # of its exact value (numeric.entry_error derives that per-entry bound).
        compare=lambda d, e, p: crosscheck.absolute_error(d.result, e, atol=4 * numeric.entry_error(p["alpha"])),
        resolution=(IDENTITY_PROBE,),
    )


FAMILY = Family(
    name="position",
    number=3,
    title="Hierarchical position encoding",
    source=SOURCE,
    symbols=SYMBOLS,
    figures=(Drawing("twofold.drawings.position", "collisions_against_alpha"),),
    claims=(
        _identity(
            "position.first_block",
            "The first n positions are unchanged (P1)",
            r"q_j = \alpha u_1 + (1-\alpha) u_j = p_j \quad (1 \le j \le n)",
            exact.first_block,
            numeric.first_block_residual,
        ),
        _identity(
            "position.block_shift",
            "Each block is the first block translated (P2)",
            r"q_{(i-1)n+j} - q_j = \frac{\alpha}{1-\alpha}\,(p_i - p_1)",
            exact.block_shift,
            numeric.block_shift_residual,
        ),
        _identity(
            "position.swap_difference",
            "Swapping the two indices (P3)",
            r"q_{(i-1)n+j} - q_{(j-1)n+i} = (2\alpha-1)(u_i - u_j)",
            exact.swap_difference,
            numeric.swap_residual,
        ),
        Claim(
            id="position.collision_count",
            title=r"Colliding positions: $n(n-1)/2$ at $\alpha = 1/2$, none for generic $\alpha$ (P3)",
            statement=(
                r"\#\{s < t : q_s = q_t\} = \binom{n}{2}[\alpha = \tfrac12] + n\binom{n}{2}[\alpha = 0]"
                r"\quad \text{for generic } p"
            ),
            parameters=(_size(128, 512), _dimension(192, 768), _weight(0.5)),
            hypotheses=(DEFINED,),
            derive=lambda p: exact.collision_count(p["n"], _exact_alpha(p)),
            estimate=lambda p, seed: numeric.colliding_pairs(p["n"], p["d"], p["alpha"], seed),
            compare=lambda d, e, p: crosscheck.same_count(d.result, e),
            resolution=(COUNT_PROBE,),
        ),
        Claim(
            id="position.capacity",
            title=r"Capacity: $n^2$ distinct positions, $512 \to 262144$ (P4)",
            statement=r"\alpha \notin \{0, \tfrac12, 1\} \;\Longrightarrow\; \#\{q_1, \dots, q_{n^2}\} = n^2",
            parameters=(_size(512, 512), _dimension(768, 768), _weight(0.4)),
            hypotheses=(NOT_ZERO, NOT_HALF, DEFINED),
            derive=lambda p: exact.capacity(p["n"], _exact_alpha(p)),
            estimate=lambda p, seed: numeric.distinct_positions(p["n"], p["d"], p["alpha"], seed),
            compare=lambda d, e, p: crosscheck.same_count(d.result, e),
            resolution=(COUNT_PROBE,),
        ),
    ),
    false_variants=(
        FalseVariant(
            "position.first_block", "u without 1/(1 - alpha)",
            r"$u_i = p_i - \alpha p_1$: the division by $1 - \alpha$ forgotten, so $q_j \ne p_j$",
            estimate=lambda p, seed: numeric._variant_undivided_first_block(p["n"], p["d"], p["alpha"], seed),
        ),
        FalseVariant(
            "position.block_shift", "shift without 1/(1 - alpha)",
            r"block shift $\alpha(p_i - p_1)$ instead of $\frac{\alpha}{1-\alpha}(p_i - p_1)$",
            derive=lambda p: exact._variant_shift_without_denominator(_exact_alpha(p)),
        ),
        FalseVariant(
            "position.block_shift", "weights transposed",
            r"rows built as $(1-\alpha)u_i + \alpha u_j$ (the two weights swapped)",
            estimate=lambda p, seed: numeric._variant_rows_swapped_weights(p["n"], p["d"], p["alpha"], seed),
        ),
        FalseVariant(
            "position.swap_difference", "swap sign",
            r"$(1 - 2\alpha)(u_i - u_j)$ instead of $(2\alpha - 1)(u_i - u_j)$",
            derive=lambda p: exact._variant_swap_sign(_exact_alpha(p)),
        ),
        FalseVariant(
            "position.collision_count", "ordered pairs (exact side)",
            r"$n(n-1)$ colliding pairs at $\alpha = 1/2$: ordered pairs not halved",
            derive=lambda p: exact._variant_ordered_pairs(p["n"], _exact_alpha(p)),
        ),
        FalseVariant(
            "position.collision_count", "ordered pairs (numeric side)",
            r"each colliding pair counted twice by the estimator",
            estimate=lambda p, seed: numeric._variant_ordered_collisions(p["n"], p["d"], p["alpha"], seed),
        ),
        FalseVariant(
            "position.capacity", "index map off by one block",
            r"position $i n + j$ instead of $(i-1) n + j$: indices run past $n^2$",
            derive=lambda p: exact._variant_index_map(p["n"], _exact_alpha(p)),
            params={"n": 64, "d": 64},
        ),
    ),
    mistakes=(
        Mistake(
            "swap sign",
            "alpha*u_i + (1 - alpha)*u_j - (alpha*u_j + (1 - alpha)*u_i) = (1 - 2*alpha)*(u_i - u_j)",
            r"you collect $u_i - u_j$ with the sign of $1 - 2\alpha$ instead of $2\alpha - 1$",
        ),
        Mistake(
            "forgetting 1/(1 - alpha)",
            "alpha*(p_i - alpha*p_1)/(1 - alpha) - alpha*(p_1 - alpha*p_1)/(1 - alpha) = alpha*(p_i - p_1)",
            r"you drop the $1/(1-\alpha)$ of $u_i$ when you write a block shift",
        ),
        Mistake(
            "u_1 is not p_1",
            "(p_1 - alpha*p_1)/(1 - alpha) = (1 - alpha)*p_1",
            r"you cancel $1 - \alpha$ the wrong way: $u_1 = p_1$, not $(1-\alpha)p_1$",
        ),
    ),
)
