"""sparse_softmax family: CLAIMS.md reference values, the S3 wording, properties, counterexamples.

Every numeric check here is deterministic (fixed seeds, float64 with stated
tolerances); nothing is Monte Carlo, so the false-failure rate is 0 for a
given platform.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import twofold
from twofold.numerics import sparse_softmax as numeric
from twofold.theorems import sparse_softmax as exact
from twofold.claims.sparse_softmax import EXAMPLE_SOURCE, EXAMPLE_SUMMARY
from twofold.contract import HypothesisError, ParameterError

LN2 = math.log(2)
SPACES_VOCABULARY = 21128
# CLAIMS.md S3: eps = ln 2 -> margins 9.958 (n = 21128) and 2.197 (k = 10), three decimals.
REFERENCE_MARGINS = {SPACES_VOCABULARY: 9.958, 10: 2.197}
# CLAIMS.md S4: "我 真的 非常 热爱 我 的 祖国" / "我 爱 我 的 祖国" -> B O B I I.
REFERENCE_LABELS = "B O B I I"
LABEL_CODES = {"O": 0, "B": 1, "I": 2}

FAMILY = twofold.select(["sparse_softmax"])


def _claim(name: str) -> twofold.Claim:
    return twofold.get_claim(f"sparse_softmax.{name}")


# --- every claim, quick profile, a few seeds ---------------------------------------------


# bio_labels and weighted_rouge are deterministic, and margin_bound with tied competitors does not
# depend on the seed: they run once; the claims drawing random logits run for three seeds.
RANDOM_INPUTS = ("sparse_softmax.definition", "sparse_softmax.loss_bound", "sparse_softmax.gradient")
SEEDED = [(claim, seed) for claim in FAMILY for seed in ((0, 1, 2) if claim.id in RANDOM_INPUTS else (0,))]


@pytest.mark.parametrize(("claim", "seed"), SEEDED, ids=lambda x: getattr(x, "id", str(x)))
def test_quick_profile_passes(claim: twofold.Claim, seed: int) -> None:
    verdict = claim.verify(seed=seed)
    assert verdict.passed, verdict.summary()


@pytest.mark.slow
@pytest.mark.parametrize("claim", FAMILY, ids=lambda c: c.id)
def test_full_profile_passes(claim: twofold.Claim) -> None:
    assert claim.verify(profile="full").passed


# --- S3: reference values and what the margin bound really says --------------------------


def test_margin_reference_values_exact() -> None:
    full, sparse, necessary = exact.margin_bound(SPACES_VOCABULARY, 10, sympy.log(2)).result
    assert full == sympy.log(SPACES_VOCABULARY - 1) and sparse == sympy.log(9) and necessary == 0
    assert float(full) == pytest.approx(REFERENCE_MARGINS[SPACES_VOCABULARY], abs=5e-4)
    assert float(sparse) == pytest.approx(REFERENCE_MARGINS[10], abs=5e-4)


@pytest.mark.parametrize("candidates", sorted(REFERENCE_MARGINS))
def test_margin_reference_values_numeric(candidates: int) -> None:
    assert numeric.tied_threshold(candidates - 1, LN2) == pytest.approx(REFERENCE_MARGINS[candidates], abs=5e-4)


def test_gradient_descent_from_ties_crosses_at_the_threshold() -> None:
    estimate = numeric.margin_descent(SPACES_VOCABULARY, 10, LN2, eta=0.02, spread=0.0, rows=1, seed=0)
    low, high = estimate.interval
    assert low <= REFERENCE_MARGINS[SPACES_VOCABULARY] + 5e-4 and REFERENCE_MARGINS[SPACES_VOCABULARY] - 5e-4 <= high
    assert high - low < 0.021  # one step moves the margin by eta (1 - p_t + p_j) <= eta (1 + 1/n)
    low, high = estimate.details["sparse_interval"]
    assert low <= REFERENCE_MARGINS[10] + 5e-4 and REFERENCE_MARGINS[10] - 5e-4 <= high


def test_gradient_descent_needs_less_margin_when_competitors_differ() -> None:
    """The S3 finding: log(n-1) - log(e^eps - 1) is not necessary; GD from spread logits stops far below it."""
    estimate = numeric.margin_descent(SPACES_VOCABULARY, 10, LN2, eta=0.05, spread=1.0, rows=4, seed=0)
    margins, sparse = estimate.details["full_margins"], estimate.details["sparse_margins"]
    assert margins.max() < REFERENCE_MARGINS[SPACES_VOCABULARY] - 3
    assert sparse.max() < REFERENCE_MARGINS[10]
    assert margins.min() >= estimate.details["brentq_necessary"] and sparse.min() >= estimate.details["brentq_necessary"]


@given(
    logits=hnp.arrays(np.float64, st.integers(2, 40), elements=st.floats(-20, 20)),
    eps=st.floats(0.05, 5.0),
)
def test_margin_is_sufficient_and_the_single_competitor_bound_is_necessary(logits: np.ndarray, eps: float) -> None:
    n = logits.size
    loss = float(numeric.sparse_loss(logits, np.array(0), n))
    gap = float(numeric.margin(logits))
    sufficient = math.log(n - 1) - math.log(math.expm1(eps))
    necessary = -math.log(math.expm1(eps))
    slack = 1e-9  # float64 rounding of a logsumexp of <= 40 terms of size <= 40
    if gap >= sufficient + slack:
        assert loss <= eps
    if loss <= eps - slack:
        assert gap >= necessary


def test_margin_parameters_are_validated() -> None:
    claim = _claim("margin_bound")
    with pytest.raises(ParameterError, match="eta"):
        claim.resolve(eta=0.001)
    with pytest.raises(HypothesisError, match="k <= n"):
        claim.resolve(n=5, k=6)
    with pytest.raises(HypothesisError, match="competitors tie"):
        claim.resolve(spread=0.5)


def test_dropping_ties_shows_the_smaller_margin() -> None:
    claim = _claim("margin_bound")
    verdict = claim.verify(drop=("competitors tie",), **claim.hypothesis("competitors tie").witness)
    assert not verdict.passed and verdict.failure is None
    assert verdict.comparison.exact == pytest.approx(REFERENCE_MARGINS[SPACES_VOCABULARY], abs=5e-4)
    assert verdict.comparison.statistic > 3  # the GD bracket ends more than 3 nats below the threshold


# --- S1: definition -------------------------------------------------------------------------


# half-integer logits: frequent ties (exercising the tie-break) and exact shifts
logit_rows = hnp.arrays(
    np.float64, st.tuples(st.integers(1, 5), st.integers(1, 12)), elements=st.integers(-60, 60).map(lambda v: v / 2)
)


@given(logits=logit_rows, data=st.data())
def test_sparse_softmax_is_a_distribution_on_the_top_k(logits: np.ndarray, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, logits.shape[-1]))
    p = numeric.sparse_softmax(logits, k)
    mask = numeric.top_k_mask(logits, k)
    assert np.allclose(p.sum(axis=-1), 1, atol=1e-12)
    assert (mask.sum(axis=-1) == k).all() and (p[~mask] == 0).all()
    kth = -np.sort(-logits, axis=-1)[:, k - 1 : k]
    assert (logits[mask] >= np.broadcast_to(kth, logits.shape)[mask]).all()
    assert np.allclose(numeric.sparse_softmax(logits + 7.5, k), p, atol=1e-12)


@given(logits=logit_rows)
def test_k_equal_n_is_softmax_and_k_equal_one_is_argmax(logits: np.ndarray) -> None:
    n = logits.shape[-1]
    assert np.allclose(numeric.sparse_softmax(logits, n), np.exp(logits) / np.exp(logits).sum(-1, keepdims=True), atol=1e-12)
    assert (numeric.sparse_softmax(logits, 1) == (np.arange(n) == logits.argmax(-1)[:, None])).all()


def test_ties_go_to_the_lower_index() -> None:
    assert numeric.top_k_mask(np.zeros(5), 2).tolist() == [True, True, False, False, False]


def test_definition_exact_instance() -> None:
    assert list(exact.definition(4, 2).result) == [sympy.Rational(4, 7), sympy.Rational(3, 7), 0, 0]


@pytest.mark.parametrize(("n", "k"), [(12, 3), (13, 3), (SPACES_VOCABULARY, 10)])
def test_definition_instance_matches_the_symbolic_layer(n: int, k: int) -> None:
    """Below the symbolic cap the rationals come out of sympy's substitution; above it they are built
    directly: both are (n + 1 - r) / sum_{j <= k} (n + 1 - j) on the top k, 0 elsewhere, and sum to one."""
    p = exact.definition(n, k).result
    kept = sum(range(n, n - k, -1))
    assert p[0] == sympy.Rational(n, kept) and p[k - 1] == sympy.Rational(n + 1 - k, kept)
    assert all(v == 0 for v in p[k:]) and sum(p) == 1


# --- S2: loss and gradient ----------------------------------------------------------------


@given(logits=logit_rows, data=st.data())
def test_sparse_loss_formula_never_exceeds_cross_entropy(logits: np.ndarray, data: st.DataObject) -> None:
    """Holds for every target, even outside the top-k: the hypothesis t in Omega_k is not what makes it true."""
    n = logits.shape[-1]
    k = data.draw(st.integers(1, n))
    target = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=logits.shape[0], max_size=logits.shape[0])))
    gap = numeric.sparse_loss(logits, target, n) - numeric.sparse_loss(logits, target, k)
    assert (gap >= -1e-12).all()
    inside = numeric.top_k_mask(logits, k)[np.arange(len(target)), target]
    nll = numeric.sparse_nll(logits, target, k)
    assert np.isinf(nll[~inside]).all()
    assert np.allclose(nll[inside], numeric.sparse_loss(logits, target, k)[inside], atol=1e-9)


def test_loss_gap_exact_value() -> None:
    # e^{s} = (6, 5, 4, 3, 2, 1), top 3: CE - L_3 = log(21/15).
    assert exact.loss_bound(6, 3, 2).result == sympy.log(sympy.Rational(7, 5))


def test_target_outside_top_k_breaks_the_sparse_loss() -> None:
    claim = _claim("loss_bound")
    witness = claim.hypothesis("target in top-k").witness
    verdict = claim.verify(drop=("target in top-k",), **witness)
    assert not verdict.passed
    assert "positive sparse probability" in verdict.failure
    assert verdict.estimate.value == -math.inf  # CE - (-log 0)
    assert verdict.estimate.details["min_gap_formula"] >= 0  # the bare formula stays below CE


def test_target_outside_top_k_breaks_the_gradient_formula() -> None:
    claim = _claim("gradient")
    verdict = claim.verify(drop=("target in top-k",), **claim.hypothesis("target in top-k").witness)
    assert not verdict.passed
    assert "-1 - (0)" in verdict.failure
    assert verdict.estimate.value == pytest.approx(1.0, abs=1e-8)  # the missing -1 at s_t


def test_gradient_check_error_is_small() -> None:
    estimate = numeric.gradient_check(8, 3, 2, batch=500, seed=3)
    assert estimate.value < 1e-9


def test_gradient_at_a_large_vocabulary_differences_top_k_and_a_sample() -> None:
    """Beyond 64 logits the estimator differences Omega_k, the first coordinate outside and 64 others;
    the formula still agrees to the central-difference bound, and the outside entries are exactly 0."""
    estimate = numeric.gradient_check(2000, 10, 3, batch=2, seed=0)
    assert estimate.details["differenced"] == 10 + 1 + numeric.FD_SAMPLE
    assert estimate.value < numeric.fd_tolerance(10, estimate.details["scale"])
    instance = estimate.details["instance"]
    assert np.isfinite(instance[:11]).all() and np.abs(instance[10:][np.isfinite(instance[10:])]).max() < 1e-9


def test_gradient_exact_instance_sums_to_zero() -> None:
    gradient = exact.gradient(5, 3, 1).result
    assert sum(gradient) == 0 and gradient[0] == sympy.Rational(5, 12) - 1


# --- S4: BIO labels ------------------------------------------------------------------------


def _codes(text: str) -> list[int]:
    return [LABEL_CODES[label] for label in text.split()]


def test_claims_example_labels() -> None:
    expected = _codes(REFERENCE_LABELS)
    alignment = exact.canonical_alignment(tuple(EXAMPLE_SOURCE), tuple(EXAMPLE_SUMMARY))
    assert list(exact.labels(alignment, len(EXAMPLE_SUMMARY))) == expected
    assert numeric.bio_labels(EXAMPLE_SOURCE, EXAMPLE_SUMMARY).tolist() == expected


strings = st.lists(st.integers(0, 2), max_size=7)


@given(source=strings, summary=strings)
def test_dynamic_programme_matches_brute_force(source: list[int], summary: list[int]) -> None:
    alignment = exact.canonical_alignment(tuple(source), tuple(summary))
    assert numeric.lcs_length(source, summary) == len(alignment) == exact.lcs_length(tuple(source), tuple(summary))
    for contiguity in (True, False):
        expected = list(exact.labels(alignment, len(summary), contiguity))
        assert numeric.bio_labels(source, summary, contiguity).tolist() == expected


@given(source=strings, summary=strings)
def test_each_span_is_copied_contiguously(source: list[int], summary: list[int]) -> None:
    codes = numeric.bio_labels(source, summary)
    for start, end in _spans(codes):
        assert summary[start:end] in [source[i : i + end - start] for i in range(len(source))]


def _spans(codes: np.ndarray) -> list[tuple[int, int]]:
    starts = [j for j, c in enumerate(codes) if c == LABEL_CODES["B"]]
    ends = [next((e for e in range(s + 1, len(codes)) if codes[e] != LABEL_CODES["I"]), len(codes)) for s in starts]
    return list(zip(starts, ends))


def _spaces_alignment(source: list[object], target: list[object]) -> tuple[tuple[int, int], ...]:
    """The alignment of ``bert4keras.snippets.longest_common_subsequence`` (used by the SPACES code)."""
    c: dict[tuple[int, int], int] = defaultdict(int)
    for i, si in enumerate(source, 1):
        for j, tj in enumerate(target, 1):
            c[i, j] = c[i - 1, j - 1] + 1 if si == tj else max(c[i, j - 1], c[i - 1, j])
    mapping, i, j = [], len(source) - 1, len(target) - 1
    while len(mapping) < c[len(source), len(target)]:
        if source[i] == target[j]:
            mapping.append((i, j))
            i, j = i - 1, j - 1
        elif c[i + 1, j] > c[i, j + 1]:
            j -= 1
        else:
            i -= 1
    return tuple(reversed(mapping))


def test_spaces_reference_code_can_split_a_span() -> None:
    """The convention matters: bert4keras' backtrack copies 'b' from the later position."""
    source, summary = list("abb"), list("ab")
    assert exact.labels(_spaces_alignment(source, summary), 2) == tuple(_codes("B B"))
    assert numeric.bio_labels(source, summary).tolist() == _codes("B I")
    assert exact.labels(_spaces_alignment(EXAMPLE_SOURCE, EXAMPLE_SUMMARY), 5) == tuple(_codes(REFERENCE_LABELS))


def test_spaces_convention_disagrees_often_on_the_small_universe() -> None:
    words = exact.universe(2, 4)
    """Per pair: both conventions copy an LCS (same number of copied tokens); ours never uses more spans
    (it minimises them); and where they differ, theirs either uses more spans or copies later."""
    words = exact.universe(2, 4)
    differ = 0
    for source, summary in itertools.product(words, repeat=2):
        their_alignment = _spaces_alignment(list(source), list(summary))
        theirs = exact.labels(their_alignment, len(summary))
        ours = tuple(numeric.bio_labels(source, summary).tolist())
        copied = len(summary) - ours.count(LABEL_CODES["O"])
        assert copied == len(summary) - theirs.count(LABEL_CODES["O"]) == exact.lcs_length(source, summary)
        assert ours.count(LABEL_CODES["B"]) <= theirs.count(LABEL_CODES["B"])
        if theirs != ours:
            differ += 1
            mine = exact.canonical_alignment(source, summary)
            later = sorted((j, i) for i, j in their_alignment) > sorted((j, i) for i, j in mine)
            assert theirs.count(LABEL_CODES["B"]) > ours.count(LABEL_CODES["B"]) or later
    assert differ > 0  # the conventions are not the same (e.g. "abb" / "ab" above)


def test_summary_only_contiguity_is_the_counterexample() -> None:
    assert numeric.bio_labels(list("axb"), list("ab"), source_contiguity=False).tolist() == _codes("B I")
    claim = _claim("bio_labels")
    verdict = claim.verify(drop=("I continues a source span",), **claim.hypothesis("I continues a source span").witness)
    assert not verdict.passed
    assert "52 I labels not adjacent in the source" in verdict.failure
    assert verdict.estimate.details["i_not_adjacent_in_source"] == 52


# --- S5: ROUGE -----------------------------------------------------------------------------


def test_rouge_by_hand_on_the_claims_example() -> None:
    # candidate = source (7 tokens), reference = summary (5 tokens).
    # unigrams: overlap 我 x2, 的, 祖国 = 4 -> F = 2*4/(7+5) = 2/3
    # bigrams: overlap 我的, 的祖国 = 2 of 6 and 4 -> F = 2*2/(6+4) = 2/5
    # LCS 我 我 的 祖国 = 4 -> F = 2*4/(7+5) = 2/3; objective 0.2*2/3 + 0.4*2/5 + 0.4*2/3 = 14/25
    hand = (sympy.Rational(2, 3), sympy.Rational(2, 5), sympy.Rational(2, 3))
    assert exact.rouge_scores(EXAMPLE_SOURCE, EXAMPLE_SUMMARY) == hand
    assert exact.weighted_rouge(EXAMPLE_SOURCE, EXAMPLE_SUMMARY).result == sympy.Rational(14, 25)
    assert numeric.weighted_rouge(EXAMPLE_SOURCE, EXAMPLE_SUMMARY).value == pytest.approx(14 / 25, rel=1e-15)


def test_rouge_extremes() -> None:
    text = "a b c a b".split()
    assert numeric.rouge(text, text) == (1.0, 1.0, 1.0)
    assert numeric.rouge(text, "x y z".split()) == (0.0, 0.0, 0.0)
    # clipped counts: "a a a" vs "a b": unigram overlap min(3, 1) = 1 -> F = 2/(3 + 2)
    assert numeric.rouge("a a a".split(), "a b".split())[0] == pytest.approx(0.4, rel=1e-15)


texts = st.lists(st.integers(0, 4), min_size=2, max_size=15)


@given(candidate=texts, reference=texts)
def test_rouge_float_matches_exact_and_is_symmetric(candidate: list[int], reference: list[int]) -> None:
    exact_value = sum(w * score for w, score in zip(exact.ROUGE_WEIGHTS, exact.rouge_scores(candidate, reference)))
    assert numeric.weighted_rouge(candidate, reference).value == pytest.approx(float(exact_value), rel=1e-12, abs=1e-15)
    assert numeric.rouge(candidate, reference) == pytest.approx(numeric.rouge(reference, candidate), rel=1e-15)


def test_single_token_text_has_no_rouge_2() -> None:
    claim = _claim("weighted_rouge")
    verdict = claim.verify(drop=("both texts have a bigram",), **claim.hypothesis("both texts have a bigram").witness)
    assert not verdict.passed and "bigram" in verdict.failure


# --- parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "overrides"),
    [("definition", {"n": 25_001}), ("gradient", {"k": 25_001}), ("bio_labels", {"length": 5}), ("weighted_rouge", {"vocab": 0})],
)
def test_out_of_bounds_parameters_are_rejected(name: str, overrides: dict[str, int]) -> None:
    with pytest.raises(ParameterError):
        _claim(name).resolve(**overrides)


def test_k_above_n_is_rejected_by_name() -> None:
    with pytest.raises(HypothesisError, match="'k <= n'"):
        _claim("definition").verify(n=3, k=4)
