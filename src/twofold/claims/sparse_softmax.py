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
from twofold.model import Claim, Comparison, Derivation, Drawing, FalseVariant, Family, Hypothesis, Mistake, Parameter, Probe

SOURCE = "Su Jianlin, kexue.fm post 8046 (Jan 2021): SPACES, extract-then-generate summarisation with sparse softmax"

UNIT_ROUNDOFF = 2.0**-53
# Weighted ROUGE: three F1 scores from exact integers (<= 6 float operations each), three products and
# two sums: at most ~20 roundings of relative size u, so 64 u leaves a factor 3 of room.
ROUGE_RTOL = 64 * UNIT_ROUNDOFF
# S3 thresholds by brentq: the loss log(1 + r e^{-m}) is computed to a few u and has slope of size
# |dL/dm| >= (1 - e^{-eps}) ~ 0.5 at the root, so the root is within ~1e-15 of the threshold (|m*| <= 20).
THRESHOLD_ATOL = 1e-12
# The descent bracket: one gradient step moves the margin by at most 2 eta (the target rises by
# eta (1 - p_t) <= eta, the largest competitor falls by eta p_j <= eta).
BRACKET = 2.0

EXAMPLE_SOURCE = "我 真的 非常 热爱 我 的 祖国".split()
EXAMPLE_SUMMARY = "我 爱 我 的 祖国".split()

LOGITS = exact.logits(4)
QUICK_N, QUICK_K = 5, 3  # S1's quick point
LOSS_QUICK = {"n": 6, "k": 3, "t_rank": 2}
FD_SCALE_QUICK = 20.0  # |logit| + log k at the quick point (N(0, 9) logits: 3 x 6.5 sigma)
QUICK_ETA = 0.05


def _probability_tolerance(n: int) -> float:
    """float64 probabilities exp(s_i - logsumexp): the exponent (|.| <= 30 for N(0, 9) logits) carries
    relative error <= 30u and the sum of n terms <= n u; 64 (n + 4) u covers both with room."""
    return 64 * (n + 4) * UNIT_ROUNDOFF


def _loss_tolerance(n: int) -> float:
    """A loss is a logsumexp of at most n terms (relative error of the sum <= n u, so <= n u after the log)
    plus O(1) roundings on terms of size <= 32: 8 (n + 32) u bounds CE - L_k and the identity residual."""
    return 8 * (n + 32) * UNIT_ROUNDOFF


def _as_float(value: Any) -> float:
    """An exact entry as a float: ``float`` for a rational (fast at 21128 entries), 30 digits otherwise."""
    if isinstance(value, sympy.Rational):
        return float(value)
    return crosscheck.exact_float(value)


def _vector_agreement(
    exact_values: Sequence[Any], numeric_values: Sequence[float], atol: float, what: str, minimum: int = 1
) -> Comparison:
    """Largest absolute difference between an exact vector and a float vector, over the finite numeric
    entries (an estimator may skip coordinates: NaN), of which there must be at least ``minimum``."""
    wanted = np.array([_as_float(v) for v in exact_values])
    got = np.asarray(numeric_values, dtype=float)
    compared = np.isfinite(got)
    if wanted.shape != got.shape or compared.sum() < minimum:
        return Comparison(
            method=rf"$\max|\text{{exact}} - \text{{numeric}}|$ over {what} $\le$ {atol:.1e}",
            statistic=math.inf,
            threshold=atol,
            exact=float(len(wanted)),
            estimate=float(compared.sum()),
            agree=False,
            detail=f"{compared.sum()} comparable entries, {minimum} needed (shapes {wanted.shape}, {got.shape})",
        )
    gaps = np.where(compared, np.abs(wanted - np.where(compared, got, 0.0)), -1.0)
    worst = int(np.argmax(gaps))
    error = float(gaps[worst])
    return Comparison(
        method=rf"$\max|\text{{exact}} - \text{{numeric}}|$ over {what} $\le$ {atol:.1e}",
        statistic=error,
        threshold=atol,
        exact=float(wanted[worst]),
        estimate=float(got[worst]),
        agree=error <= atol,
        detail=f"worst entry: rank {worst + 1}; {int(compared.sum())} of {len(wanted)} entries compared",
    )


def _definition(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    tolerance = _probability_tolerance(params["n"])
    return crosscheck.all_of(
        _vector_agreement(derivation.result, estimate.details["instance"], tolerance, "probabilities at $s_i = \\log i$",
                          minimum=params["n"]),
        crosscheck.absolute_error(0, estimate, atol=tolerance),
    )


def _loss(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    tolerance = _loss_tolerance(params["n"])
    identity = Estimate(value=estimate.details["identity_residual"], method="max |CE - L_k + log P(Omega_k)|", n=estimate.n)
    return crosscheck.all_of(
        crosscheck.absolute_error(derivation.result, estimate, atol=tolerance),
        crosscheck.absolute_error(0, identity, atol=tolerance),
    )


def _gradient(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    tolerance = numeric.fd_tolerance(params["k"], estimate.details["scale"])
    return crosscheck.all_of(
        _vector_agreement(derivation.result, estimate.details["instance"], tolerance, "the gradient at $s_i = \\log i$",
                          minimum=min(params["n"], params["k"] + 1)),
        crosscheck.absolute_error(0, estimate, atol=tolerance),
    )


def _margins(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    full, sparse, necessary = derivation.result
    roots = [
        Estimate(value=estimate.details[key], method="brentq on the tied loss", n=params["n"])
        for key in ("brentq_full", "brentq_sparse", "brentq_necessary")
    ]
    return crosscheck.all_of(
        crosscheck.contains(full, estimate),
        crosscheck.contains(sparse, estimate.part_interval("sparse_interval")),
        *(crosscheck.absolute_error(value, root, atol=THRESHOLD_ATOL) for value, root in zip((full, sparse, necessary), roots)),
    )


def _labels_agree(derivation: Derivation, estimate: Estimate, params: dict[str, Any]) -> Comparison:
    example, totals = derivation.result
    got_example = np.asarray(estimate.details["example"], dtype=float).ravel()
    got_totals = np.asarray(estimate.details["totals"], dtype=float).ravel()
    want_example = np.array([float(v) for v in example])
    want_totals = np.array([float(v) for v in totals])
    wrong_labels = (
        int(np.sum(want_example != got_example)) if len(want_example) == len(got_example) else max(len(want_example), len(got_example))
    )
    total_gap = float(np.abs(want_totals - got_totals).sum()) if len(want_totals) == len(got_totals) else math.inf
    inconsistent = abs(estimate.details["length_mismatches"]) + abs(estimate.details["i_not_adjacent_in_source"])
    statistic = wrong_labels + total_gap + inconsistent
    return Comparison(
        method=r"example labels, universe totals (sum of LCS, \#B, \#I, \#O) and DP consistency all agree",
        statistic=float(statistic),
        threshold=0.0,
        exact=float(want_totals[1]),
        estimate=estimate.value,
        agree=statistic == 0,
        detail=(
            f"example exact {want_example.astype(int).tolist()} vs DP {got_example.tolist()}; totals exact "
            f"{want_totals.astype(int).tolist()} vs DP {got_totals.tolist()}; DP inconsistencies {inconsistent}"
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
        latex=r"$k \le n$",
    )


VOCABULARY = 21128  # BERT's Chinese vocabulary: the practitioner's n
K_AT_MOST_N = _k_at_most_n(4)
TARGET_IN_TOP_K = Hypothesis(
    "target in top-k",
    lambda p: p["t_rank"] <= p["k"],
    "the target's rank t_rank must be at most k (t in Omega_k)",
    witness={"n": 6, "k": 3, "t_rank": 4},
    latex=r"$t \in \Omega_k$",
)


def _loss_parameters(batch_quick: int, batch_full: int) -> tuple[Parameter, ...]:
    return (
        _size("n", LOSS_QUICK["n"], VOCABULARY, low=2, high=25_000, doc="number of logits"),
        _size("k", LOSS_QUICK["k"], 10, high=25_000, doc="top-k size"),
        _size("t_rank", LOSS_QUICK["t_rank"], 3, high=25_000, doc="rank of the target logit (1 = largest)"),
        _batch(batch_quick, batch_full),
    )


LOSS_HYPOTHESES = (K_AT_MOST_N, TARGET_IN_TOP_K)


def _tied(params: dict[str, Any]) -> bool:
    return params["spread"] == 0


MISTAKES = (
    Mistake(
        "sparse loss above the cross-entropy",
        "log(exp(s_1) + exp(s_2)) - s_1 >= log(exp(s_1) + exp(s_2) + exp(s_3) + exp(s_4)) - s_1",
        "you compare the log-sums the wrong way round: dropping the terms outside the top k makes the log-sum smaller, "
        "so the sparse loss is at most the cross-entropy",
        claims=("sparse_softmax.loss_bound",),
    ),
    Mistake(
        "normaliser over all n logits",
        "exp(s_1)/(exp(s_1) + exp(s_2)) = exp(s_1)/(exp(s_1) + exp(s_2) + exp(s_3) + exp(s_4))",
        "you keep softmax's normaliser: sparse softmax divides by the sum over the top k only, so its k "
        "probabilities sum to one",
        claims=("sparse_softmax.definition", "sparse_softmax.gradient"),
    ),
    Mistake(
        "gradient without the target term",
        "-exp(s_2)/(exp(s_1) + exp(s_2)) = exp(s_1)/(exp(s_1) + exp(s_2))",
        "you differentiate the log-sum but forget that the loss also subtracts s_t: with k = 2 and t = 1 the "
        "partial derivative in s_1 of log(e^(s_1) + e^(s_2)) - s_1 is p_1 - 1 = -p_2, not p_1",
        claims=("sparse_softmax.gradient",),
    ),
    Mistake(
        "margin threshold without log r",
        "log(1 + r*exp(-m)) = log(1 + exp(-m))",
        "you treat r tied competitors like one: each contributes e^(-m), so the threshold margin grows by log r",
        claims=("sparse_softmax.margin_bound",),
    ),
)


FAMILY = Family(
    name="sparse_softmax",
    number=4,
    title="Sparse softmax and copy labels for summarisation (SPACES)",
    source=SOURCE,
    symbols=LOGITS,
    figures=(Drawing("twofold.drawings.sparse_softmax", "loss_against_margin"),),
    mistakes=MISTAKES,
    false_variants=(
        FalseVariant(
            "sparse_softmax.definition",
            "softmax normaliser",
            "the top-$k$ probabilities divided by the sum over all $n$ logits (they no longer sum to one)",
            estimate=lambda p, seed: numeric._variant_definition_full_normaliser(p["n"], p["k"], p["batch"], seed),
        ),
        FalseVariant(
            "sparse_softmax.definition",
            "softmax normaliser, exact side",
            "the exact probabilities $e^{s_i}/\\sum_{j \\le n} e^{s_j}$ on $\\Omega_k$",
            derive=lambda p: exact._variant_definition_full_normaliser(p["n"], p["k"]),
        ),
        FalseVariant(
            "sparse_softmax.loss_bound",
            "gap sign",
            r"$\mathrm{CE} - L_k = +\log P(\Omega_k)$: the sign of the gap flipped (so $L_k \ge \mathrm{CE}$)",
            derive=lambda p: exact._variant_gap_sign(p["n"], p["k"], p["t_rank"]),
        ),
        FalseVariant(
            "sparse_softmax.loss_bound",
            "NLL of the full softmax",
            "the sparse NLL read from the full softmax: the top-$k$ restriction forgotten, gap 0",
            estimate=lambda p, seed: numeric._variant_nll_of_softmax(p["n"], p["k"], p["t_rank"], p["batch"], seed),
        ),
        FalseVariant(
            "sparse_softmax.gradient",
            "full softmax gradient",
            r"$\mathrm{softmax}(s) - e_t$ on every coordinate instead of $(p^{(k)} - e_t)\mathbb{1}_{\Omega_k}$",
            derive=lambda p: exact._variant_gradient_full_softmax(p["n"], p["k"], p["t_rank"]),
        ),
        FalseVariant(
            "sparse_softmax.gradient",
            "target term forgotten",
            r"the gradient taken as $p^{(k)}$, without $-e_t$",
            estimate=lambda p, seed: numeric._variant_gradient_without_target(p["n"], p["k"], p["t_rank"], p["batch"], seed),
        ),
        FalseVariant(
            "sparse_softmax.margin_bound",
            "log n instead of log(n - 1)",
            r"the target counted among its own competitors: $\log n - \log(e^\varepsilon - 1)$",
            derive=lambda p: exact._variant_margin_all_logits(p["n"], p["k"], _exact_level(p["eps"])),
        ),
        FalseVariant(
            "sparse_softmax.margin_bound",
            "k competitors in the top k",
            r"$\log k$ instead of $\log(k - 1)$ in the sparse threshold",
            derive=lambda p: exact._variant_margin_sparse_k(p["n"], p["k"], _exact_level(p["eps"])),
        ),
        FalseVariant(
            "sparse_softmax.weighted_rouge",
            "unclipped n-gram counts",
            r"ROUGE-$N$ overlap counted without clipping, $\sum_g c_g [r_g > 0]$ instead of $\sum_g \min(c_g, r_g)$",
            estimate=lambda p, seed: numeric._variant_unclipped_rouge(*_texts(p)),
            params={"text_seed": 1},
        ),
    ),
    claims=(
        Claim(
            id="sparse_softmax.definition",
            title="Sparse softmax: $k = n$ is softmax, $k = 1$ is the one-hot argmax (S1)",
            statement=(
                r"s \in \mathbb{R}^n,\ \Omega_k = \text{indices of the } k \text{ largest } s_i:\ "
                r"p_i = \frac{e^{s_i}}{\sum_{j\in\Omega_k} e^{s_j}}\,[i \in \Omega_k],\quad "
                r"p^{(n)} = \mathrm{softmax}(s),\quad p^{(1)} = e_{\arg\max s}"
            ),
            parameters=(
                _size("n", QUICK_N, VOCABULARY, high=25_000, doc="number of logits"),
                _size("k", QUICK_K, 10, high=25_000, doc="top-k size"),
                _batch(2000, 256),
            ),
            hypotheses=(K_AT_MOST_N,),
            derive=lambda p: exact.definition(p["n"], p["k"]),
            estimate=lambda p, seed: numeric.definition_check(p["n"], p["k"], p["batch"], seed),
            compare=_definition,
            resolution=(
                Probe(
                    "absolute",
                    2 * _probability_tolerance(QUICK_N),
                    "twice the tolerance $64(n + 4)u$ at the quick $n$ (rounding of $n$ exponentials and their sum)",
                    key="instance",
                ),
                Probe(
                    "absolute",
                    2 * _probability_tolerance(QUICK_N),
                    "the batch residuals (exactly 0) with the same tolerance",
                    exact_side=False,
                ),
            ),
        ),
        Claim(
            id="sparse_softmax.loss_bound",
            title=r"Sparse loss is at most the cross-entropy (S2)",
            statement=(
                r"t \in \Omega_k:\ L_k = -\log p^{(k)}_t = \log\sum_{j\in\Omega_k} e^{s_j} - s_t"
                r" = \mathrm{CE} + \log\sum_{j \in \Omega_k}\mathrm{softmax}(s)_j \le \mathrm{CE}"
            ),
            parameters=_loss_parameters(2000, 256),
            hypotheses=LOSS_HYPOTHESES,
            derive=lambda p: exact.loss_bound(p["n"], p["k"], p["t_rank"]),
            estimate=lambda p, seed: numeric.loss_gap_check(p["n"], p["k"], p["t_rank"], p["batch"], seed),
            compare=_loss,
            resolution=(
                Probe(
                    "absolute",
                    2 * _loss_tolerance(LOSS_QUICK["n"]),
                    r"twice the tolerance $8(n + 32)u$ of a difference of two log-sums at the quick $n$",
                ),
                Probe(
                    "absolute",
                    2 * _loss_tolerance(LOSS_QUICK["n"]),
                    r"the batch identity $\mathrm{CE} - L_k + \log P(\Omega_k) = 0$, same tolerance",
                    key="identity_residual",
                    exact_side=False,
                ),
            ),
        ),
        Claim(
            id="sparse_softmax.gradient",
            title=r"Gradient of the sparse loss is $p - e_t$ on the top $k$ (S2)",
            statement=r"t \in \Omega_k,\ s_k > s_{k+1}:\ \nabla_s L_k = \left(p^{(k)} - e_t\right)\mathbb{1}_{\Omega_k}",
            parameters=_loss_parameters(500, 16),
            hypotheses=LOSS_HYPOTHESES,
            derive=lambda p: exact.gradient(p["n"], p["k"], p["t_rank"]),
            estimate=lambda p, seed: numeric.gradient_check(p["n"], p["k"], p["t_rank"], p["batch"], seed),
            compare=_gradient,
            resolution=(
                Probe(
                    "absolute",
                    2 * numeric.fd_tolerance(LOSS_QUICK["k"], FD_SCALE_QUICK),
                    r"twice the central-difference bound $h^2/6 + 8(k + 4)u\,S/h$ at the quick $k$, $S = 20$",
                    key="instance",
                ),
                Probe(
                    "absolute",
                    2 * numeric.fd_tolerance(LOSS_QUICK["k"], FD_SCALE_QUICK),
                    "the batch's largest difference (exactly 0) with the same bound",
                    exact_side=False,
                ),
            ),
        ),
        Claim(
            id="sparse_softmax.margin_bound",
            title="Margin needed for loss $\\varepsilon$: sufficient in general, exact when competitors tie (S3)",
            statement=(
                r"m = s_t - \max_{j\ne t} s_j \ge \log(n-1) - \log(e^{\varepsilon}-1) \Rightarrow \mathrm{CE} \le \varepsilon"
                r"\ (\Leftrightarrow \text{ if the competitors tie});\quad"
                r"\mathrm{CE} \le \varepsilon \Rightarrow m \ge -\log(e^{\varepsilon}-1);\quad \text{top-}k:\ n-1 \to k-1"
            ),
            parameters=(
                _size("n", VOCABULARY, high=25_000, low=2, doc="vocabulary size"),
                _size("k", 10, high=25_000, low=2, doc="top-k size"),
                Parameter("eps", float, quick=math.log(2), low=0.2, high=10.0, doc="target loss level", latex=r"$\varepsilon$"),
                Parameter(
                    "eta", float, quick=QUICK_ETA, full=0.03, low=0.03, high=2.0, doc="gradient-descent step on the logits",
                    latex=r"$\eta$",
                ),
                Parameter("spread", float, quick=0.0, low=0.0, high=5.0, doc="std of the initial competitor logits",
                          latex=r"$\sigma$"),
                _size("rows", 2, 4, high=4, doc="independent descents"),
            ),
            hypotheses=(
                _k_at_most_n(100),
                Hypothesis(
                    "competitors tie",
                    _tied,
                    "the threshold is necessary only when all competitor logits are equal (spread = 0)",
                    witness={"spread": 1.0},
                    latex=r"competitors tie ($\sigma = 0$)",
                ),
            ),
            derive=lambda p: exact.margin_bound(p["n"], p["k"], _exact_level(p["eps"])),
            estimate=lambda p, seed: numeric.margin_descent(
                p["n"], p["k"], p["eps"], p["eta"], p["spread"], p["rows"], seed
            ),
            compare=_margins,
            symbols=(exact.m, exact.epsilon, exact.r),
            resolution=(
                Probe("absolute", 2 * BRACKET * QUICK_ETA,
                      r"twice the widest descent bracket, $2\eta$ at the quick $\eta$: the full threshold", index=0),
                Probe("absolute", 2 * BRACKET * QUICK_ETA, r"the sparse threshold's bracket, likewise",
                      key="sparse_interval", index=1),
                Probe("absolute", 2 * THRESHOLD_ATOL, "twice the brentq tolerance: the full threshold",
                      key="brentq_full", index=0),
                Probe("absolute", 2 * THRESHOLD_ATOL, "twice the brentq tolerance: the sparse threshold",
                      key="brentq_sparse", index=1),
                Probe("absolute", 2 * THRESHOLD_ATOL, "twice the brentq tolerance: the necessary margin",
                      key="brentq_necessary", index=2),
            ),
        ),
        Claim(
            id="sparse_softmax.bio_labels",
            title="BIO copy labels from the longest common subsequence (S4)",
            statement=(
                r"a = \text{LCS alignment (fewest spans, earliest copy)},\ y_j = "
                r"\begin{cases} O & a(j) = \varnothing \\ I & a(j) = a(j-1) + 1 \\ B & \text{otherwise}\end{cases}"
            ),
            parameters=(
                _size("alphabet", 2, 3, high=3, doc="letters of the exhaustive universe"),
                _size("length", 4, 4, low=0, high=4, doc="longest string of the exhaustive universe"),
                Parameter("source_contiguity", bool, quick=True, doc="I needs adjacency in the source too"),
            ),
            hypotheses=(
                Hypothesis(
                    "I continues a source span",
                    lambda p: p["source_contiguity"],
                    "I must require the copied source position to follow the previous one",
                    witness={"source_contiguity": False},
                ),
            ),
            derive=lambda p: exact.bio_labels(
                p["alphabet"], p["length"], p["source_contiguity"], EXAMPLE_SOURCE, EXAMPLE_SUMMARY
            ),
            estimate=lambda p, seed: numeric.bio_universe(
                p["alphabet"], p["length"], p["source_contiguity"], EXAMPLE_SOURCE, EXAMPLE_SUMMARY
            ),
            compare=_labels_agree,
            symbols=(),
            resolution=(
                Probe("count", 1, "one label of the example off", key="example", index=0),
                Probe("count", 1, "one unit in each universe total", key="totals", index=1),
                Probe("count", 1, "one DP inconsistency (copied-token count)", key="length_mismatches", exact_side=False),
                Probe("count", 1, "one DP inconsistency (I not adjacent)", key="i_not_adjacent_in_source",
                      exact_side=False),
            ),
        ),
        Claim(
            id="sparse_softmax.weighted_rouge",
            title="Weighted ROUGE $0.2 R_1 + 0.4 R_2 + 0.4 R_L$ (S5)",
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
            compare=lambda d, e, p: crosscheck.relative_error(d.result, e, rtol=ROUGE_RTOL),
            symbols=tuple(sympy.symbols("o a b", positive=True)),
            resolution=(Probe("relative", 2 * ROUGE_RTOL, "twice the tolerance $64u$ (about 20 roundings)"),),
        ),
    ),
)
