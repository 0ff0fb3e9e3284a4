"""Family 4 — sparse softmax and the SPACES summariser (claims S1–S5)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

from twofold.numerics import sparse_softmax as numeric
from twofold.contract import Estimate
from twofold.theorems import sparse_softmax as exact
from twofold import crosscheck
from twofold.model import Claim, Comparison, Derivation, Family, Hypothesis, Parameter

SOURCE = "Su Jianlin, kexue.fm post 8046 (Jan 2021): SPACES, extract-then-generate summarisation with sparse softmax"

UNIT_ROUNDOFF = 2.0**-53
# Central differences with h = 1e-5: truncation h^2/6 * max|L'''| <= 2e-11 (third derivatives of
# logsumexp are below 1) plus rounding 2u * |L| / (2h) <= 1e-10 for |L| <= 10; 1e-8 leaves 100x room.
FD_TOLERANCE = 1e-8
# Two O(1) losses, each a logsumexp of <= 10 terms of size <= 30: rounding <= 1e-13 per loss.
LOSS_TOLERANCE = 1e-12

EXAMPLE_SOURCE = "我 真的 非常 热爱 我 的 祖国".split()
EXAMPLE_SUMMARY = "我 爱 我 的 祖国".split()

LOGITS = exact.logits(4)


def _probability_tolerance(n: int) -> float:
    """float64 probabilities exp(s_i - logsumexp): the exponent (|.| <= 30 for N(0, 9) logits) carries
    relative error <= 30u and the sum of n terms <= n u; 64 (n + 4) u covers both with room."""
    return 64 * (n + 4) * UNIT_ROUNDOFF


def _vector_agreement(
    exact_values: Sequence[Any], numeric_values: Sequence[float], atol: float, what: str
) -> Comparison:
    """Largest absolute difference between an exact vector and a float vector."""
    wanted = np.array([crosscheck.exact_float(v) for v in exact_values])
    got = np.asarray(numeric_values, dtype=float)
    worst = int(np.argmax(np.abs(wanted - got)))
    error = float(abs(wanted[worst] - got[worst]))
    return Comparison(
        method=f"max |exact - numeric| over {what} <= {atol:.1e}",
        statistic=error,
        threshold=atol,
        exact=float(wanted[worst]),
        estimate=float(got[worst]),
        agree=error <= atol,
        detail=f"worst entry: rank {worst + 1}",
    )


def _margins(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    full, sparse, _ = derivation.result
    root = Estimate(value=estimate.details["brentq_full"], method="brentq on the tied loss", n=params["n"])
    return crosscheck.all_of(
        crosscheck.contains(full, estimate),
        crosscheck.contains(sparse, estimate.part_interval("sparse_interval")),
        crosscheck.relative_error(full, root, rtol=1e-12),
    )


def _labels_agree(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    example, totals = derivation.result
    got_example = [int(v) for v in estimate.details["example"]]
    got_totals = [int(v) for v in estimate.details["totals"]]
    wrong_labels = sum(int(a) != b for a, b in zip(example, got_example)) + abs(len(example) - len(got_example))
    total_gap = sum(abs(int(a) - b) for a, b in zip(totals, got_totals))
    inconsistent = estimate.details["length_mismatches"] + estimate.details["i_not_adjacent_in_source"]
    return Comparison(
        method="example labels, universe totals (sum LCS, #B, #I, #O) and DP consistency all agree",
        statistic=float(wrong_labels + total_gap + inconsistent),
        threshold=0.0,
        exact=float(totals[1]),
        estimate=estimate.value,
        agree=wrong_labels + total_gap + inconsistent == 0,
        detail=(
            f"example exact {list(map(int, example))} vs DP {got_example}; totals exact {list(map(int, totals))}"
            f" vs DP {got_totals}; DP inconsistencies {inconsistent}"
        ),
    )


def _exact_level(eps: float) -> sympy.Expr:
    """The float ``eps`` as an exact number: ln 2 when it is ln 2 to float precision, else its rational value."""
    return sympy.nsimplify(eps, [sympy.log(2)], tolerance=1e-15)


def _texts(params: dict[str, Any]) -> tuple[list[int], list[int]]:
    """Candidate and reference token ids drawn from ``text_seed`` (the inputs, shared by both sides)."""
    rng = np.random.default_rng(params["text_seed"])
    return (
        rng.integers(params["vocab"], size=params["cand_length"]).tolist(),
        rng.integers(params["vocab"], size=params["ref_length"]).tolist(),
    )


def _size(name: str, quick: int, full: int | None = None, low: int = 1, high: int = 10, doc: str = "") -> Parameter:
    return Parameter(name, int, quick=quick, full=full, low=low, high=high, doc=doc)


def _batch(quick: int, full: int) -> Parameter:
    return _size("batch", quick, full, high=10**6, doc="random logit vectors")


def _k_at_most_n(witness_n: int) -> Hypothesis:
    return Hypothesis(
        "k <= n",
        lambda p: p["k"] <= p["n"],
        "the top-k set needs at least k logits",
        witness={"n": witness_n, "k": witness_n + 1},
    )


K_AT_MOST_N = _k_at_most_n(4)
TARGET_IN_TOP_K = Hypothesis(
    "target in top-k",
    lambda p: p["t_rank"] <= p["k"],
    "the target's rank t_rank must be at most k (t in Omega_k)",
    witness={"n": 6, "k": 3, "t_rank": 4},
)
LOSS_PARAMETERS = (
    _size("n", 6, 10, low=2, doc="number of logits"),
    _size("k", 3, 4, doc="top-k size"),
    _size("t_rank", 2, 3, doc="rank of the target logit (1 = largest)"),
)
LOSS_HYPOTHESES = (K_AT_MOST_N, TARGET_IN_TOP_K)


FAMILY = Family(
    name="sparse_softmax",
    number=4,
    title="Sparse softmax and copy labels for summarisation (SPACES)",
    source=SOURCE,
    claims=(
        Claim(
            id="sparse_softmax.definition",
            title="Sparse softmax: k = n is softmax, k = 1 is the one-hot argmax (S1)",
            source=SOURCE,
            statement=(
                r"p_i = \frac{e^{s_i}}{\sum_{j\in\Omega_k} e^{s_j}}\,[i \in \Omega_k],\quad "
                r"p^{(n)} = \mathrm{softmax}(s),\quad p^{(1)} = e_{\arg\max s}"
            ),
            parameters=(
                _size("n", 5, 8, doc="number of logits"),
                _size("k", 3, 4, doc="top-k size"),
                _batch(2000, 100_000),
            ),
            hypotheses=(K_AT_MOST_N,),
            derive=lambda p: exact.definition(p["n"], p["k"]),
            estimate=lambda p, seed: numeric.definition_check(p["n"], p["k"], p["batch"], seed),
            compare=lambda d, e, p: crosscheck.all_of(
                _vector_agreement(
                    d.result, e.details["instance"], _probability_tolerance(p["n"]), "probabilities at s_i = log i"
                ),
                crosscheck.absolute_error(0, e, atol=_probability_tolerance(p["n"])),
            ),
            symbols=LOGITS,
        ),
        Claim(
            id="sparse_softmax.loss_bound",
            title="Sparse loss is at most the cross-entropy (S2)",
            source=SOURCE,
            statement=(
                r"t \in \Omega_k:\ L_k = -\log p^{(k)}_t = \log\sum_{j\in\Omega_k} e^{s_j} - s_t"
                r" = \mathrm{CE} + \log\sum_{j \in \Omega_k}\mathrm{softmax}(s)_j \le \mathrm{CE}"
            ),
            parameters=(*LOSS_PARAMETERS, _batch(2000, 100_000)),
            hypotheses=LOSS_HYPOTHESES,
            derive=lambda p: exact.loss_bound(p["n"], p["k"], p["t_rank"]),
            estimate=lambda p, seed: numeric.loss_gap_check(p["n"], p["k"], p["t_rank"], p["batch"], seed),
            compare=lambda d, e, p: crosscheck.all_of(
                crosscheck.relative_error(d.result, e, rtol=LOSS_TOLERANCE),
                crosscheck.at_most(
                    -(e.details["min_gap_nll"]),
                    LOSS_TOLERANCE,
                    f"smallest CE - L_k over the batch >= -{LOSS_TOLERANCE:.1e}",
                    estimate=e.details["min_gap_nll"],
                ),
            ),
            symbols=LOGITS,
        ),
        Claim(
            id="sparse_softmax.gradient",
            title="Gradient of the sparse loss is p - onehot(t) on the top-k (S2)",
            source=SOURCE,
            statement=r"t \in \Omega_k,\ s_k > s_{k+1}:\ \nabla_s L_k = \left(p^{(k)} - e_t\right)\mathbb{1}_{\Omega_k}",
            parameters=(*LOSS_PARAMETERS, _batch(500, 20_000)),
            hypotheses=LOSS_HYPOTHESES,
            derive=lambda p: exact.gradient(p["n"], p["k"], p["t_rank"]),
            estimate=lambda p, seed: numeric.gradient_check(p["n"], p["k"], p["t_rank"], p["batch"], seed),
            compare=lambda d, e, p: crosscheck.all_of(
                _vector_agreement(d.result, e.details["instance"], FD_TOLERANCE, "the gradient at s_i = log i"),
                crosscheck.absolute_error(0, e, atol=FD_TOLERANCE),
            ),
            symbols=LOGITS,
        ),
        Claim(
            id="sparse_softmax.margin_bound",
            title="Margin needed for loss eps: sufficient in general, exact when competitors tie (S3)",
            source=SOURCE,
            statement=(
                r"m = s_t - \max_{j\ne t} s_j \ge \log(n-1) - \log(e^{\varepsilon}-1) \Rightarrow \mathrm{CE} \le \varepsilon"
                r"\ (\Leftrightarrow \text{ if the competitors tie});\quad"
                r"\mathrm{CE} \le \varepsilon \Rightarrow m \ge -\log(e^{\varepsilon}-1);\quad \text{top-}k:\ n-1 \to k-1"
            ),
            parameters=(
                _size("n", 21128, high=25_000, low=2, doc="vocabulary size"),
                _size("k", 10, high=25_000, low=2, doc="top-k size"),
                Parameter("eps", float, quick=math.log(2), low=0.2, high=10.0, doc="target loss level"),
                Parameter(
                    "eta", float, quick=0.05, full=0.03, low=0.03, high=2.0, doc="gradient-descent step on the logits"
                ),
                Parameter("spread", float, quick=0.0, low=0.0, high=5.0, doc="std of the initial competitor logits"),
                _size("rows", 2, 4, high=4, doc="independent descents"),
            ),
            hypotheses=(
                _k_at_most_n(100),
                Hypothesis(
                    "competitors tie",
                    lambda p: p["spread"] == 0,
                    "the threshold is necessary only when all competitor logits are equal (spread = 0)",
                    witness={"spread": 1.0},
                ),
            ),
            derive=lambda p: exact.margin_bound(p["n"], p["k"], _exact_level(p["eps"])),
            estimate=lambda p, seed: numeric.margin_descent(
                p["n"], p["k"], p["eps"], p["eta"], p["spread"], p["rows"], seed
            ),
            compare=_margins,
            symbols=(exact.m, exact.epsilon, exact.r),
        ),
        Claim(
            id="sparse_softmax.bio_labels",
            title="BIO copy labels from the longest common subsequence (S4)",
            source=SOURCE,
            statement=(
                r"a = \text{LCS alignment (fewest spans, earliest copy)},\ y_j = "
                r"\begin{cases} O & a(j) = \varnothing \\ I & a(j) = a(j-1) + 1 \\ B & \text{otherwise}\end{cases}"
            ),
            parameters=(
                _size("alphabet", 2, 3, high=3, doc="letters of the exhaustive universe"),
                _size("length", 4, 4, low=0, high=4, doc="longest string of the exhaustive universe"),
                _size("source_contiguity", 1, low=0, high=1, doc="1: I needs adjacency in the source too"),
            ),
            hypotheses=(
                Hypothesis(
                    "I continues a source span",
                    lambda p: p["source_contiguity"] == 1,
                    "I must require the copied source position to follow the previous one",
                    witness={"source_contiguity": 0},
                ),
            ),
            derive=lambda p: exact.bio_labels(
                p["alphabet"], p["length"], bool(p["source_contiguity"]), EXAMPLE_SOURCE, EXAMPLE_SUMMARY
            ),
            estimate=lambda p, seed: numeric.bio_universe(
                p["alphabet"], p["length"], bool(p["source_contiguity"]), EXAMPLE_SOURCE, EXAMPLE_SUMMARY
            ),
            compare=_labels_agree,
        ),
        Claim(
            id="sparse_softmax.weighted_rouge",
            title="Weighted ROUGE 0.2 R1 + 0.4 R2 + 0.4 RL (S5)",
            source=SOURCE,
            statement=(
                r"\mathrm{score} = 0.2\,F(R_1) + 0.4\,F(R_2) + 0.4\,F(R_L) \in [0, 1],\quad "
                r"F = \frac{2PR}{P + R} = \frac{2\,o}{|c| + |r|}"
            ),
            parameters=(
                _size("cand_length", 12, 60, high=200, doc="candidate tokens"),
                _size("ref_length", 8, 40, high=200, doc="reference tokens"),
                _size("vocab", 6, 20, high=1000, doc="vocabulary of the random texts"),
                _size("text_seed", 0, low=0, high=2**31, doc="seed of the random texts"),
            ),
            hypotheses=(
                Hypothesis(
                    "both texts have a bigram",
                    lambda p: min(p["cand_length"], p["ref_length"]) >= 2,
                    "ROUGE-2 needs at least two tokens on each side",
                    witness={"cand_length": 1},
                ),
            ),
            derive=lambda p: exact.weighted_rouge(*_texts(p)),
            estimate=lambda p, seed: numeric.weighted_rouge(*_texts(p)),
            # three F1 scores from exact integers, <= 6 float operations each, then 3 products and 2 sums.
            compare=lambda d, e, p: crosscheck.relative_error(d.result, e, rtol=1e-12),
            symbols=tuple(sympy.symbols("o a b", positive=True)),
        ),
    ),
)
