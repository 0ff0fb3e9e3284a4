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
from twofold.model import Claim, Family, Hypothesis, Parameter

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
    return Parameter("alpha", float, quick=quick, low=0.0, high=1.0, doc="mixing weight alpha (the post uses 0.4)")


def _exact_alpha(params) -> sympy.Rational:
    return sympy.Rational(str(params["alpha"]))


DEFINED = Hypothesis(
    "alpha != 1",
    lambda p: p["alpha"] != 1,
    "u_i = (p_i - alpha p_1)/(1 - alpha) needs alpha != 1",
    witness={"alpha": 1.0},
)
NOT_HALF = Hypothesis(
    "alpha != 1/2",
    lambda p: p["alpha"] != 0.5,
    "at alpha = 1/2 positions (i, j) and (j, i) get the same vector",
    witness={"alpha": 0.5},
)
NOT_ZERO = Hypothesis(
    "alpha != 0",
    lambda p: p["alpha"] != 0,
    "at alpha = 0 every block repeats p_1..p_n",
    witness={"alpha": 0.0},
)


def _identity(claim_id: str, title: str, statement: str, derive, estimate) -> Claim:
    """P1–P3 identities: exact residual 0 against the largest float64 residual over the whole table."""
    return Claim(
        id=claim_id,
        title=title,
        source=SOURCE,
        statement=statement,
        parameters=(_size(64, 512), _dimension(64, 768), _weight(0.4)),
        hypotheses=(DEFINED,),
        derive=lambda p: derive(_exact_alpha(p)),
        estimate=lambda p, seed: estimate(p["n"], p["d"], p["alpha"], seed),
        # a residual adds or subtracts at most four quantities each within entry_error * max|p|
        # of its exact value (numeric.entry_error derives that per-entry bound).
        compare=lambda d, e, p: crosscheck.absolute_error(d.result, e, atol=4 * numeric.entry_error(p["alpha"])),
        symbols=SYMBOLS,
    )


FAMILY = Family(
    name="position",
    number=3,
    title="Hierarchical position encoding",
    source=SOURCE,
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
            title="Colliding positions: n(n-1)/2 at alpha = 1/2, none for generic alpha (P3)",
            source=SOURCE,
            statement=(
                r"\#\{s < t : q_s = q_t\} = \binom{n}{2}[\alpha = \tfrac12] + n\binom{n}{2}[\alpha = 0]"
                r"\quad \text{for generic } p"
            ),
            parameters=(_size(128, 512), _dimension(192, 768), _weight(0.5)),
            hypotheses=(DEFINED,),
            derive=lambda p: exact.collision_count(p["n"], _exact_alpha(p)),
            estimate=lambda p, seed: numeric.colliding_pairs(p["n"], p["d"], p["alpha"], seed),
            compare=lambda d, e, p: crosscheck.same_count(d.result, e),
            symbols=SYMBOLS,
        ),
        Claim(
            id="position.capacity",
            title="Capacity: n^2 distinct positions, 512 -> 262144 (P4)",
            source=SOURCE,
            statement=r"\alpha \notin \{0, \tfrac12, 1\} \;\Longrightarrow\; \#\{q_1, \dots, q_{n^2}\} = n^2",
            parameters=(_size(512, 512), _dimension(768, 768), _weight(0.4)),
            hypotheses=(NOT_ZERO, NOT_HALF, DEFINED),
            derive=lambda p: exact.capacity(p["n"], _exact_alpha(p)),
            estimate=lambda p, seed: numeric.distinct_positions(p["n"], p["d"], p["alpha"], seed),
            compare=lambda d, e, p: crosscheck.same_count(d.result, e),
            symbols=SYMBOLS,
        ),
    ),
)
