r"""Sparse softmax and the SPACES summariser (kexue.fm post 8046), exactly.

Conventions shared by every derivation here:

* Logits are symbols :math:`s_1, \dots, s_n`, listed **by rank** (:math:`s_1` the
  largest).  Top-k selection commutes with permuting the coordinates, so this
  loses no generality for distinct logits; it makes
  :math:`\Omega_k = \{1, \dots, k\}` an explicit set.  Where the top-k set changes
  (ties :math:`s_k = s_{k+1}`) the sparse loss is not differentiable; the
  gradient step assumes :math:`s_k > s_{k+1}`.
* The *instance* used to cross-check numbers is :math:`e^{s_r} = n + 1 - r`
  (rank :math:`r`), so every probability is an exact rational.
* The sparse loss is :math:`L_k = -\log p^{(k)}_t`, the negative log-likelihood
  of the sparse softmax; CLAIMS.md's formula
  :math:`\operatorname{logsumexp}_{\Omega_k}(s) - s_t` equals it exactly when
  :math:`t \in \Omega_k` (:func:`loss_bound` proves it and shows what breaks otherwise).

S4 (BIO labels) and S5 (ROUGE) are about sequences, not formulas: their exact
side is exhaustive enumeration with exact integers and rationals, recorded as
certified steps (see :func:`bio_labels` and :func:`weighted_rouge`).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Sequence

import sympy
from sympy import Integer, Matrix, Rational, Symbol, Tuple, exp, log

from twofold.derivation import Proof
from twofold.model import Derivation

m = Symbol("m", real=True)
epsilon = Symbol("epsilon", positive=True)
r = Symbol("r", positive=True, integer=True)
term = Symbol("j", positive=True, integer=True)
u = Symbol("u", positive=True)
q = Symbol("q", nonnegative=True)
w = Symbol("w", nonnegative=True)

O_LABEL, B_LABEL, I_LABEL = 0, 1, 2
ROUGE_WEIGHTS = (Rational(1, 5), Rational(2, 5), Rational(2, 5))

Tokens = Sequence[object]
Alignment = tuple[tuple[int, int], ...]


def logits(n: int) -> tuple[Symbol, ...]:
    r"""Real symbols :math:`s_1, \dots, s_n`, by rank."""
    return sympy.symbols(f"s_1:{n + 1}", real=True)


def sparse_softmax(s: Sequence[sympy.Expr], k: int) -> Matrix:
    r"""S1 with :math:`\Omega_k = \{1..k\}`: :math:`p_i = e^{s_i}/\sum_{j \le k} e^{s_j}` for :math:`i \le k`, else 0."""
    normaliser = sum(exp(x) for x in s[:k])
    return Matrix([exp(x) / normaliser if i < k else Integer(0) for i, x in enumerate(s)])


def softmax(s: Sequence[sympy.Expr]) -> Matrix:
    r""":math:`e^{s_i}/\sum_j e^{s_j}`, written out independently of :func:`sparse_softmax`."""
    return Matrix([exp(x) for x in s]) / sum(exp(x) for x in s)


def instance(n: int) -> dict[Symbol, sympy.Expr]:
    r"""The cross-check point :math:`e^{s_r} = n + 1 - r`."""
    return {x: log(Integer(n - i)) for i, x in enumerate(logits(n))}


def _instance_weights(n: int) -> list[Integer]:
    return [Integer(n - i) for i in range(n)]


def _target_exists(proof: Proof, n: int, t_rank: int) -> None:
    proof.certify(
        "the target is one of the n logits",
        Symbol("t"),
        "<=",
        Integer(n),
        rule="1 <= t_rank <= n",
        holds=t_rank <= n,
        check=f"t_rank = {t_rank}, n = {n}",
    )


def _top_k_exists(proof: Proof, n: int, k: int) -> None:
    proof.certify(
        "the top-k set has k elements",
        sympy.Function("card")(Symbol(r"\Omega_k")),
        "=",
        Integer(k),
        rule="k <= n",
        holds=k <= n,
        check=f"|Omega_k| = min(k, n) = {min(k, n)} for k = {k}, n = {n}",
    )


def definition(n: int, k: int) -> Derivation:
    r"""S1: sparse softmax sums to one, is softmax for :math:`k = n` and the one-hot argmax for :math:`k = 1`.

    Result: the exact probabilities at the instance, by rank (a ``Tuple`` of rationals).
    """
    proof = Proof()
    _top_k_exists(proof, n, k)
    s = logits(n)
    p = sparse_softmax(s, k)
    proof.equal("the probabilities sum to one", sum(p), Integer(1), rule="common denominator over Omega_k")
    proof.equal("k = n is softmax", sparse_softmax(s, n), softmax(s), rule="Omega_n = {1..n}")
    proof.equal(
        "k = 1 is the one-hot argmax",
        sparse_softmax(s, 1),
        Matrix([Integer(1 if i == 0 else 0) for i in range(n)]),
        rule="e^{s_1}/e^{s_1} = 1, the rest are cut",
    )
    weights = _instance_weights(n)
    kept = sum(weights[:k])
    exact = proof.equal(
        "at the instance e^{s_r} = n + 1 - r",
        p.subs(instance(n)),
        Matrix([weight / kept if i < k else Integer(0) for i, weight in enumerate(weights)]),
        rule="direct weights (n + 1 - r) / sum over the top k",
    )
    return proof.finish(result=Tuple(*exact), conclusion=rf"p^{{({k})}} \text{{ is a distribution on }} \Omega_{{{k}}}")


def loss_bound(n: int, k: int, t_rank: int) -> Derivation:
    r"""S2: for :math:`t \in \Omega_k`,
    :math:`L_k = -\log p^{(k)}_t = \operatorname{logsumexp}_{\Omega_k} s - s_t \le \mathrm{CE}`.

    The gap is :math:`\mathrm{CE} - L_k = -\log \sum_{j \in \Omega_k} \mathrm{softmax}(s)_j \ge 0`,
    independent of :math:`t`.  For :math:`t \notin \Omega_k`, :math:`p^{(k)}_t = 0`
    and :math:`L_k = +\infty`: the first step fails.  (The bare formula
    :math:`\operatorname{logsumexp}_{\Omega_k} s - s_t` stays below CE for every
    :math:`t`, but is then no longer the sparse model's loss.)
    Result: the exact gap at the instance.
    """
    proof = Proof()
    _top_k_exists(proof, n, k)
    _target_exists(proof, n, t_rank)
    s = logits(n)
    t = t_rank - 1
    top = sum(exp(x) for x in s[:k])
    rest = sum(exp(x) for x in s[k:])
    sparse_nll = -log(sparse_softmax(s, k)[t])
    formula = log(top) - s[t]
    proof.equal("the sparse NLL is logsumexp over Omega_k minus s_t", sparse_nll, formula, rule="t in Omega_k")
    cross_entropy = -log(softmax(s)[t])
    gap = proof.equal(
        "cross-entropy minus the sparse loss",
        cross_entropy - formula,
        -log(top / (top + rest)),
        rule="log(a + b) - log(a) = -log(a / (a + b)); s_t cancels",
    )
    a_top, b_rest = sympy.symbols("A B", positive=True)
    proof.equal(
        "write A = sum over Omega_k, B = sum outside",
        -log(a_top / (a_top + b_rest)),
        log(1 + b_rest / a_top),
        rule="-log(A/(A+B)) = log(1 + B/A)",
    )
    proof.compare("the gap is non-negative", log(1 + b_rest / a_top), ">=", Integer(0), rule="1 + B/A >= 1")
    weights = _instance_weights(n)
    exact = proof.equal(
        "at the instance e^{s_r} = n + 1 - r",
        gap.subs(instance(n)),
        log(Rational(sum(weights), sum(weights[:k]))),
        rule="exact evaluation",
    )
    return proof.finish(result=exact, conclusion=r"L_k = \mathrm{CE} + \log P_{\mathrm{softmax}}(\Omega_k) \le \mathrm{CE}")


def gradient(n: int, k: int, t_rank: int) -> Derivation:
    r"""S2: :math:`\nabla_s L_k = (p^{(k)} - e_t)\,\mathbb 1_{\Omega_k}` where :math:`s_k > s_{k+1}`.

    Differentiates :math:`\operatorname{logsumexp}_{\Omega_k} s - s_t` in every
    coordinate.  For :math:`t \notin \Omega_k` the derivative in :math:`s_t` is
    :math:`-1` while the restricted formula says 0, and the step fails.
    Result: the exact gradient at the instance, by rank.
    """
    proof = Proof()
    _top_k_exists(proof, n, k)
    _target_exists(proof, n, t_rank)
    s = logits(n)
    t = t_rank - 1
    loss = log(sum(exp(x) for x in s[:k])) - s[t]
    p = sparse_softmax(s, k)
    derivative = Matrix([sympy.diff(loss, x) for x in s])
    claimed = Matrix([p[i] - (1 if i == t else 0) if i < k else Integer(0) for i in range(n)])
    proof.equal(
        "the target coordinate: dL/ds_t = p_t - 1",
        derivative[t],
        claimed[t],
        rule="d/ds_t (logsumexp - s_t); t in Omega_k keeps s_t inside the logsumexp",
    )
    proof.equal(
        "dL/ds_i = p_i - [i = t] on Omega_k and 0 outside",
        derivative,
        claimed,
        rule="d/ds_i logsumexp = softmax_i; t in Omega_k",
    )
    proof.equal("the gradient sums to zero", sum(claimed), Integer(0), rule="L_k is invariant to s + c 1")
    exact = claimed.subs(instance(n))
    return proof.finish(result=Tuple(*exact), conclusion=r"\nabla_s L_k = (p^{(k)} - e_t)\,\mathbb{1}_{\Omega_k}")


def tied_loss(competitors: sympy.Expr) -> sympy.Expr:
    r"""Full loss when ``competitors`` logits tie at :math:`s_t - m`: :math:`\log(1 + r e^{-m})`."""
    return log(1 + competitors * exp(-m))


def margin_bound(n: int, k: int, eps: Rational) -> Derivation:
    r"""S3: the margin :math:`m = s_t - \max_{j \ne t} s_j` and the loss level :math:`\varepsilon`.

    With :math:`r` competitors, :math:`\mathrm{CE} = \log(1 + \sum_{j \ne t} e^{s_j - s_t})`
    and every term lies in :math:`(0, e^{-m}]`, the largest equal to :math:`e^{-m}`. Hence

    * **sufficient**: :math:`m \ge m^*_r = \log r - \log(e^\varepsilon - 1) \Rightarrow \mathrm{CE} \le \varepsilon`;
    * **necessary and sufficient when the competitors tie** (equality in every term);
    * **necessary in general** only :math:`m \ge -\log(e^\varepsilon - 1) = m^*_1`;
      the two differ by :math:`\log r`.

    CLAIMS.md's "needs margin :math:`\ge m^*_{n-1}`" is therefore the tied (worst)
    case, not a necessary condition.  For the sparse loss with :math:`t \in \Omega_k`
    the same holds with :math:`r = k - 1`.  Result:
    ``Tuple(m*_{n-1}, m*_{k-1}, m*_1)`` at :math:`\varepsilon` = ``eps``.
    """
    proof = Proof()
    _top_k_exists(proof, n, k)
    s = logits(3)
    proof.equal(
        "the loss in logit differences (three logits shown)",
        log(sum(exp(x) for x in s)) - s[0],
        log(1 + sum(exp(x - s[0]) for x in s[1:])),
        rule="divide inside the log by e^{s_t}",
    )
    tied = proof.equal(
        "r competitors tied at margin m",
        log(1 + sympy.Sum(exp(-m), (term, 1, r))),
        tied_loss(r),
        rule="sum of r equal terms",
    )
    proof.compare("the tied loss decreases strictly in m", sympy.diff(tied, m), "<", Integer(0), rule="r > 0")
    solutions = sympy.solve(sympy.Eq(tied, epsilon), m)
    proof.certify(
        "tied loss = eps has one solution",
        Symbol("m^*_r"),
        "=",
        solutions[0] if solutions else sympy.nan,
        rule="solve log(1 + r e^{-m}) = eps",
        holds=len(solutions) == 1,
        check=f"sympy.solve gives {solutions}",
    )
    threshold = solutions[0]
    proof.equal("the threshold reaches eps exactly", tied.subs(m, threshold), epsilon, rule="substitute")
    proof.compare(
        "each competitor contributes at most e^{-m} (sufficiency)",
        u,
        ">=",
        u / (1 + q),
        rule="e^{s_j - s_t} = e^{-m}/(1 + q_j), q_j = e^{d_j} - 1 >= 0; so CE <= log(1 + r e^{-m})",
    )
    proof.compare(
        "the largest competitor alone gives e^{-m} (necessity)",
        1 + u + w,
        ">=",
        1 + u,
        rule="other terms w >= 0; log increasing; so CE <= eps forces log(1 + e^{-m}) <= eps",
    )
    necessary = threshold.subs(r, 1)
    proof.equal("necessary margin in general (r = 1)", tied_loss(1).subs(m, necessary), epsilon, rule="substitute")
    proof.compare(
        "sufficient minus necessary margin is log r >= 0",
        threshold - necessary,
        ">=",
        Integer(0),
        rule="r >= 1",
    )
    proof.equal(
        "sparse loss with k tied logits in Omega_k",
        log(exp(s[0]) + sympy.Sum(exp(s[0] - m), (term, 1, k - 1))) - s[0],
        tied_loss(k - 1),
        rule="S2: for t in Omega_k the sparse loss is the full loss on Omega_k, r = k - 1",
    )
    values = Tuple(*(threshold.subs({r: count, epsilon: eps}) for count in (n - 1, k - 1, 1)))
    return proof.finish(
        result=values,
        conclusion=(
            r"m \ge \log(n-1) - \log(e^\varepsilon - 1) \Rightarrow \mathrm{CE} \le \varepsilon"
            r"\;(\Leftrightarrow \text{ if competitors tie});\ "
            r"\mathrm{CE} \le \varepsilon \Rightarrow m \ge -\log(e^\varepsilon - 1)"
        ),
    )


# --- S4: BIO labels from the LCS, by exhaustive enumeration -------------------------------


def alignments(source: Tokens, summary: Tokens) -> Iterator[Alignment]:
    """Every common-subsequence alignment: pairs (i, j), increasing in both, with equal tokens."""

    def extend(i0: int, j0: int, prefix: Alignment) -> Iterator[Alignment]:
        yield prefix
        for i in range(i0, len(source)):
            for j in range(j0, len(summary)):
                if source[i] == summary[j]:
                    yield from extend(i + 1, j + 1, prefix + ((i, j),))

    return extend(0, 0, ())


def continues(previous: tuple[int, int] | None, pair: tuple[int, int], source_contiguity: bool) -> bool:
    """Whether ``pair`` continues the span of ``previous``: adjacent in the summary and (if asked) in the source."""
    if previous is None or pair[1] != previous[1] + 1:
        return False
    return pair[0] == previous[0] + 1 or not source_contiguity


def labels(alignment: Alignment, summary_length: int, source_contiguity: bool = True) -> tuple[int, ...]:
    """Summary labels: O unmatched, I when the pair continues the previous pair's span, else B."""
    codes = [O_LABEL] * summary_length
    previous = None
    for pair in alignment:
        codes[pair[1]] = I_LABEL if continues(previous, pair, source_contiguity) else B_LABEL
        previous = pair
    return tuple(codes)


def _decision_key(alignment: Alignment, summary_length: int) -> tuple:
    """Per summary token: (0, i) continue at i, (1, i) start a span at i, (2, 0) not copied."""
    by_summary = {j: i for i, j in alignment}
    key = []
    for j in range(summary_length):
        if j not in by_summary:
            key.append((2, 0))
        else:
            i = by_summary[j]
            key.append((0, i) if (i - 1, j - 1) in alignment else (1, i))
    return tuple(key)


def canonical_alignment(source: Tokens, summary: Tokens) -> Alignment:
    r"""The convention, by brute force: among all alignments take the one minimising

    (−length, number of spans, per-token decision key) lexicographically — a longest
    common subsequence, then the fewest copied spans, then copy as early as possible
    (continue a span before starting one; start at the earliest source position).
    """
    return min(
        alignments(source, summary),
        key=lambda a: (-len(a), labels(a, len(summary)).count(B_LABEL), _decision_key(a, len(summary))),
    )


def universe(alphabet: int, length: int) -> list[tuple[int, ...]]:
    """Every string over ``range(alphabet)`` of length 0..``length``."""
    return [word for size in range(length + 1) for word in itertools.product(range(alphabet), repeat=size)]


def _i_not_adjacent_in_source(alignment: Alignment, codes: tuple[int, ...]) -> int:
    source_of = {j: i for i, j in alignment}
    return sum(1 for j, code in enumerate(codes) if code == I_LABEL and source_of[j] != source_of[j - 1] + 1)


def bio_labels(alphabet: int, length: int, source_contiguity: bool, source: Tokens, summary: Tokens) -> Derivation:
    r"""S4 by exhaustive enumeration over all string pairs of length :math:`\le` ``length``.

    Certifies (1) the LCS recurrence the numerics use, against brute-force LCS;
    (2) every B I* run of the canonical labels is copied from one contiguous
    source span (this needs "I" to require adjacency in the source too);
    (3) the labels of the (``source``, ``summary``) example.
    Result: ``Tuple(example labels, Tuple(sum LCS, #B, #I, #O over the universe))``
    with codes O = 0, B = 1, I = 2.
    """
    proof = Proof()
    words = universe(alphabet, length)
    pairs = list(itertools.product(words, repeat=2))
    canonical = {(a, b): canonical_alignment(a, b) for a, b in pairs}
    lcs = {pair: len(alignment) for pair, alignment in canonical.items()}
    broken = sum(1 for a, b in pairs if a and b and lcs[a, b] != _recurrence(lcs, a, b))
    proof.certify(
        "LCS recurrence holds on every pair",
        Symbol(r"\mathrm{LCS}(xa, yb)"),
        "=",
        Symbol(r"[a = b](\mathrm{LCS}(x, y) + 1) \vee \max(\mathrm{LCS}(xa, y), \mathrm{LCS}(x, yb))"),
        rule="brute-force LCS over all alignments",
        holds=broken == 0,
        check=f"{len(pairs)} pairs over {alphabet} letters, lengths <= {length}: {broken} violations",
    )
    codes = {pair: labels(alignment, len(pair[1]), source_contiguity) for pair, alignment in canonical.items()}
    not_contiguous = sum(_i_not_adjacent_in_source(canonical[pair], codes[pair]) for pair in pairs)
    proof.certify(
        "every B I* run is a contiguous span of the source and of the summary",
        Symbol(r"\#\{\text{I not adjacent in the source}\}"),
        "=",
        Integer(0),
        rule="I requires (i, j) = (i' + 1, j' + 1) for the previous pair (i', j')",
        holds=not_contiguous == 0,
        check=f"enumeration over {len(pairs)} pairs: {not_contiguous} I labels not adjacent in the source",
    )
    example = canonical_alignment(tuple(source), tuple(summary))
    example_codes = labels(example, len(summary), source_contiguity)
    longest = {
        labels(alignment, len(summary), source_contiguity)
        for alignment in alignments(source, summary)
        if len(alignment) == len(example)
    }
    proof.certify(
        "labels of the example (every longest alignment gives the same)",
        Symbol(r"\mathrm{BIO}(\text{example})"),
        "=",
        Tuple(*example_codes),
        rule="all alignments enumerated",
        holds=longest == {example_codes},
        check=f"LCS length {len(example)}; label strings over all longest alignments: {sorted(longest)}",
    )
    totals = Tuple(
        Integer(sum(lcs.values())),
        *(Integer(sum(c.count(code) for c in codes.values())) for code in (B_LABEL, I_LABEL, O_LABEL)),
    )
    return proof.finish(
        result=Tuple(Tuple(*example_codes), totals),
        conclusion=r"\text{BIO labels mark copied spans, contiguous in source and summary}",
    )


def _recurrence(lcs: dict, a: tuple, b: tuple) -> int:
    if a[-1] == b[-1]:
        return lcs[a[:-1], b[:-1]] + 1
    return max(lcs[a, b[:-1]], lcs[a[:-1], b])


# --- S5: weighted ROUGE with exact rationals ------------------------------------------------


def lcs_length(first: Tokens, second: Tokens) -> int:
    """LCS length by the recurrence certified in :func:`bio_labels`, tabulated row by row (exact integers)."""
    previous = [0] * (len(second) + 1)
    for a in first:
        current = [0]
        for j, b in enumerate(second):
            current.append(previous[j] + 1 if a == b else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def f_measure(overlap: int, candidate_size: int, reference_size: int) -> Rational:
    r""":math:`F_1 = 2PR/(P + R)`, :math:`P = o/|c|`, :math:`R = o/|r|` (0 when :math:`o = 0`)."""
    if overlap == 0:
        return Integer(0)
    precision, recall = Rational(overlap, candidate_size), Rational(overlap, reference_size)
    return 2 * precision * recall / (precision + recall)


def ngrams(tokens: Tokens, size: int) -> Counter:
    """Multiset of the n-grams of ``tokens``."""
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def rouge_scores(candidate: Tokens, reference: Tokens) -> tuple[Rational, Rational, Rational]:
    """Exact ROUGE-1, ROUGE-2 (clipped n-gram counts) and ROUGE-L F1 scores."""
    scores = []
    for size in (1, 2):
        c, ref = ngrams(candidate, size), ngrams(reference, size)
        scores.append(f_measure(sum((c & ref).values()), sum(c.values()), sum(ref.values())))
    scores.append(f_measure(lcs_length(candidate, reference), len(candidate), len(reference)))
    return tuple(scores)


def weighted_rouge(candidate: Tokens, reference: Tokens) -> Derivation:
    r"""S5: :math:`0.2 R_1 + 0.4 R_2 + 0.4 R_L` (F1 scores), exactly.

    ROUGE-N uses clipped counts :math:`o = \sum_g \min(c_g, r_g)` (Lin 2004);
    ROUGE-L uses the LCS.  Both texts need a bigram for ROUGE-2 to be defined.
    Result: the exact rational objective.
    """
    proof = Proof()
    sizes = (len(candidate) - 1, len(reference) - 1)
    proof.certify(
        "both texts have a bigram",
        Symbol(r"\min(|c_2|, |r_2|)"),
        ">=",
        Integer(1),
        rule="ROUGE-2 precision and recall are 0/0 otherwise",
        holds=min(sizes) >= 1,
        check=f"bigram counts {sizes}",
    )
    o, a, b = sympy.symbols("o a b", positive=True)
    proof.equal("F1 of precision o/a and recall o/b", 2 * (o / a) * (o / b) / (o / a + o / b), 2 * o / (a + b), rule="simplify")
    x, y = sympy.symbols("x y", nonnegative=True)
    proof.compare("F1 <= 1 since o <= a and o <= b", 2 * o / (2 * o + x + y), "<=", Integer(1), rule="a = o + x, b = o + y")
    proof.equal("the weights sum to one", sum(ROUGE_WEIGHTS), Integer(1), rule="0.2 + 0.4 + 0.4")
    scores = rouge_scores(candidate, reference)
    proof.equal(
        "F1 scores are symmetric in candidate and reference",
        Matrix(scores),
        Matrix(rouge_scores(reference, candidate)),
        rule="swapping the texts swaps P and R",
    )
    objective = sum(weight * score for weight, score in zip(ROUGE_WEIGHTS, scores))
    proof.certify(
        "exact scores",
        Tuple(*scores),
        ":",
        objective,
        rule="clipped n-gram counts and LCS, exact rationals",
        holds=0 <= objective <= 1,
        check=f"R1, R2, RL = {', '.join(map(str, scores))}; objective in [0, 1]",
    )
    return proof.finish(result=objective, conclusion=r"0.2 R_1 + 0.4 R_2 + 0.4 R_L \in [0, 1]")
