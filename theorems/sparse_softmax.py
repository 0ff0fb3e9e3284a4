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


SYMBOLIC_LOGITS = 12
"""Up to this many logits the claims are also checked with one symbol per logit (a second layer);
beyond it (the BERT vocabulary, n = 21128) the general steps carry the claim and the
instance is checked in exact rationals."""

# general symbols: the sizes, an index, the target's logit and the two partial sums of e^{s_j}
N_SYM, K_SYM = sympy.symbols("n k", integer=True, positive=True)
INDEX = Symbol("i", integer=True, positive=True)
S_INDEXED = sympy.IndexedBase("s", real=True)
S_T, S_I = sympy.symbols("s_t s_i", real=True)
A_SUM = Symbol("A", positive=True)  # sum of e^{s_j} over Omega_k, j != t, i (or over Omega_k)
B_SUM = Symbol("B", positive=True)  # sum of e^{s_j} outside Omega_k


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


def _instance_weights(n: int) -> list[int]:
    """:math:`e^{s_r} = n + 1 - r` for r = 1..n (Python integers: exact, and fast at n = 21128)."""
    return list(range(n, 0, -1))


def instance_probabilities(n: int, k: int) -> list[Rational]:
    r"""Sparse softmax at the instance, by rank: :math:`(n + 1 - r)/\sum_{j \le k}(n + 1 - j)` on the top k, else 0."""
    weights = _instance_weights(n)
    kept = sum(weights[:k])
    return [Rational(weight, kept) if rank < k else Integer(0) for rank, weight in enumerate(weights)]


def _instance_label(n: int) -> Symbol:
    return Symbol(rf"s_r = \log({n} + 1 - r)")


def _target_exists(proof: Proof, n: int, t_rank: int) -> None:
    proof.certify(
        "the target is one of the $n$ logits",
        Symbol("t"),
        "<=",
        Integer(n),
        rule=r"$1 \le t \le n$",
        holds=t_rank <= n,
        check=f"t_rank = {t_rank}, n = {n}",
    )


def _top_k_exists(proof: Proof, n: int, k: int) -> None:
    proof.certify(
        "the top-$k$ set has $k$ elements",
        sympy.Function("card")(Symbol(r"\Omega_k")),
        "=",
        Integer(k),
        rule=r"$k \le n$",
        holds=k <= n,
        check=f"|Omega_k| = min(k, n) = {min(k, n)} for k = {k}, n = {n}",
    )


def _general_definition_steps(proof: Proof) -> None:
    """S1 for symbolic n, k and logits: the sum is one, and k = 1 keeps only the argmax."""
    i, k = INDEX, K_SYM
    normaliser = sympy.Sum(exp(S_INDEXED[i]), (i, 1, k))
    proof.equal(
        r"the probabilities on $\Omega_k$ sum to one, for every $n$, $k$ and $s$",
        sympy.Sum(exp(S_INDEXED[i]) / normaliser, (i, 1, k)),
        Integer(1),
        rule=r"the normaliser $\sum_{j \in \Omega_k} e^{s_j}$ does not depend on $i$",
        kind="general",
    )
    proof.equal(
        r"$k = 1$: the largest logit gets probability one",
        exp(S_INDEXED[1]) / sympy.Sum(exp(S_INDEXED[i]), (i, 1, 1)),
        Integer(1),
        rule=r"$\Omega_1 = \{1\}$; every other $p_i$ is cut to 0",
        kind="general",
    )


def definition(n: int, k: int) -> Derivation:
    r"""S1: sparse softmax sums to one, is softmax for :math:`k = n` and the one-hot argmax for :math:`k = 1`.

    General steps (symbolic :math:`n, k, s`); for :math:`n \le` :data:`SYMBOLIC_LOGITS` also one
    symbol per logit; at every size the exact rational probabilities at the instance.
    Result: those probabilities, by rank (a column ``Matrix`` of rationals).
    """
    proof = Proof()
    _top_k_exists(proof, n, k)
    _general_definition_steps(proof)
    exact = instance_probabilities(n, k)
    if n <= SYMBOLIC_LOGITS:
        s = logits(n)
        p = sparse_softmax(s, k)
        proof.equal(rf"the {n} probabilities sum to one", sum(p), Integer(1), rule=r"common denominator over $\Omega_k$")
        proof.equal(
            rf"$k = n$ is softmax ($n = {n}$)",
            sparse_softmax(s, n),
            softmax(s),
            rule=r"$\Omega_n = \{1, \dots, n\}$",
            shown=(sympy.Function(r"p^{(n)}")(*s), sympy.Function(r"\mathrm{softmax}")(*s)),
        )
        proof.equal(
            rf"$k = 1$ is the one-hot argmax ($n = {n}$)",
            sparse_softmax(s, 1),
            Matrix([Integer(1 if i == 0 else 0) for i in range(n)]),
            rule=r"$e^{s_1}/e^{s_1} = 1$, the rest are cut",
            shown=(sympy.Function(r"p^{(1)}")(*s), Symbol("e_1")),
        )
        proof.equal(
            r"at the instance $e^{s_r} = n + 1 - r$",
            p.subs(instance(n)),
            Matrix(exact),
            rule=r"direct weights $(n + 1 - r)/\sum_{j \le k}(n + 1 - j)$",
            shown=(sympy.Function(rf"p^{{({k})}}")(_instance_label(n)), Matrix(exact).T),
        )
    else:
        total = sum(exact)
        proof.certify(
            rf"the {n} exact probabilities at the instance sum to one",
            sympy.Sum(sympy.Indexed("p", INDEX), (INDEX, 1, n)),
            "=",
            Integer(1),
            rule=r"exact rationals $(n + 1 - r)/\sum_{j \le k}(n + 1 - j)$",
            holds=total == 1,
            check=f"sum of {n} sympy Rationals = {total}",
            kind="instance",
        )
        weights = _instance_weights(n)
        everything = sum(weights)
        full = [Rational(weight, everything) for weight in weights]
        proof.certify(
            rf"$k = n$ is softmax at the instance ($n = {n}$)",
            sympy.Function(r"p^{(n)}")(_instance_label(n)),
            "=",
            sympy.Function(r"\mathrm{softmax}")(_instance_label(n)),
            rule=r"both are $(n + 1 - r)/\sum_j (n + 1 - j)$ in exact rationals",
            holds=instance_probabilities(n, n) == full and sum(full) == 1,
            check=f"{n} exact rationals compared entry by entry",
            kind="instance",
        )
    return proof.finish(
        result=sympy.ImmutableMatrix(exact),
        conclusion=rf"p^{{({k})}} \text{{ is a distribution on }} \Omega_{{{k}}}",
        proved_for=r"all $n$, $1 \le k \le n$ and real logits (sum and $k = 1$)",
    )


def _general_loss_steps(proof: Proof) -> sympy.Expr:
    r"""S2 for symbolic logits: with :math:`A = \sum_{\Omega_k} e^{s_j}` (which contains :math:`e^{s_t}`, as
    :math:`t \in \Omega_k`) and :math:`B = \sum_{j \notin \Omega_k} e^{s_j}`; returns the gap :math:`\log(1 + B/A)`."""
    top = exp(S_T) + A_SUM
    proof.equal(
        r"$t \in \Omega_k$: the sparse NLL is $\log\sum_{\Omega_k} e^{s_j} - s_t$",
        -log(exp(S_T) / top),
        log(top) - S_T,
        rule=r"$p^{(k)}_t = e^{s_t}/(e^{s_t} + A) > 0$ because $e^{s_t}$ is in the sum over $\Omega_k$",
        kind="general",
    )
    cross_entropy = log(top + B_SUM) - S_T
    gap = proof.equal(
        "cross-entropy minus the sparse loss",
        sympy.Add(cross_entropy, -(log(top) - S_T), evaluate=False),
        log(1 + B_SUM / top),
        rule=r"$\log(a + B) - \log a = \log(1 + B/a)$; $s_t$ cancels",
        kind="general",
    )
    proof.compare(
        "the gap is non-negative", gap, ">=", Integer(0), rule=r"$1 + B/(e^{s_t} + A) \ge 1$", kind="general"
    )
    return gap


def _instance_gap(n: int, k: int) -> Rational:
    weights = _instance_weights(n)
    return Rational(sum(weights), sum(weights[:k]))


def loss_bound(n: int, k: int, t_rank: int) -> Derivation:
    r"""S2: for :math:`t \in \Omega_k`,
    :math:`L_k = -\log p^{(k)}_t = \operatorname{logsumexp}_{\Omega_k} s - s_t \le \mathrm{CE}`.

    The gap is :math:`\mathrm{CE} - L_k = -\log \sum_{j \in \Omega_k} \mathrm{softmax}(s)_j \ge 0`,
    independent of :math:`t`: proved for symbolic logits (general steps).  For
    :math:`t \notin \Omega_k`, :math:`p^{(k)}_t = 0` and :math:`L_k = +\infty`: the
    instance step fails.  Result: the exact gap at the instance.
    """
    proof = Proof()
    _top_k_exists(proof, n, k)
    _target_exists(proof, n, t_rank)
    _general_loss_steps(proof)
    weights = _instance_weights(n)
    kept = sum(weights[:k])
    target_probability = Rational(weights[t_rank - 1], kept) if t_rank <= k else Integer(0)
    proof.equal(
        rf"at the instance the target (rank {t_rank}) has positive sparse probability",
        -log(target_probability),
        log(Integer(kept)) - log(Integer(weights[t_rank - 1])),
        rule=r"$t \in \Omega_k$; $-\log(w_t/W_k) = \log W_k - \log w_t$",
        shown=(-log(sympy.Function(r"p^{(k)}_t")(_instance_label(n))), log(Integer(kept)) - log(Integer(weights[t_rank - 1]))),
    )
    if n <= SYMBOLIC_LOGITS:
        s = logits(n)
        t = t_rank - 1
        top = sum(exp(x) for x in s[:k])
        proof.equal(
            rf"the sparse NLL with {n} symbolic logits",
            -log(sparse_softmax(s, k)[t]),
            log(top) - s[t],
            rule=r"$t \in \Omega_k$",
        )
        gap = proof.equal(
            rf"the gap with {n} symbolic logits",
            sympy.Add(-log(softmax(s)[t]), -(log(top) - s[t]), evaluate=False),
            -log(top / sum(exp(x) for x in s)),
            rule=r"$s_t$ cancels",
        )
        exact = proof.equal(
            r"at the instance $e^{s_r} = n + 1 - r$",
            gap.subs(instance(n)),
            log(_instance_gap(n, k)),
            rule="exact evaluation",
            shown=(sympy.Function(r"\mathrm{CE} - L_k")(_instance_label(n)), log(_instance_gap(n, k))),
        )
    else:
        exact = proof.equal(
            r"at the instance: $\log(B/A + 1)$ with $A = \sum_{r \le k}(n + 1 - r)$, $B$ the rest",
            log(1 + Rational(sum(weights[k:]), kept)),
            log(_instance_gap(n, k)),
            rule=r"$A + B = n(n + 1)/2$",
        )
    return proof.finish(
        result=exact,
        conclusion=r"L_k = \mathrm{CE} + \log P_{\mathrm{softmax}}(\Omega_k) \le \mathrm{CE}",
        proved_for=r"all $n$, $k$ and real logits with $t \in \Omega_k$",
    )


def _general_gradient_steps(proof: Proof) -> None:
    r"""S2's gradient for symbolic logits: :math:`L = \log(e^{s_t} + e^{s_i} + A) - s_t` for :math:`i \in \Omega_k`,
    :math:`i \ne t` (:math:`A` the other terms of :math:`\Omega_k`), and :math:`s_i` absent from :math:`L` outside."""
    loss = log(exp(S_T) + exp(S_I) + A_SUM) - S_T
    normaliser = exp(S_T) + exp(S_I) + A_SUM
    proof.equal(
        r"the target coordinate: $\partial L_k/\partial s_t = p_t - 1$",
        sympy.Derivative(loss, S_T),
        exp(S_T) / normaliser - 1,
        rule=r"$t \in \Omega_k$ keeps $e^{s_t}$ inside the log-sum",
        kind="general",
    )
    proof.equal(
        r"$i \in \Omega_k$, $i \ne t$: $\partial L_k/\partial s_i = p_i$",
        sympy.Derivative(loss, S_I),
        exp(S_I) / normaliser,
        rule=r"$\partial_{s_i} \log\sum_{\Omega_k} e^{s_j} = p^{(k)}_i$",
        kind="general",
    )
    proof.equal(
        r"$i \notin \Omega_k$ (and $s_k > s_{k+1}$): $\partial L_k/\partial s_i = 0$",
        sympy.Derivative(log(exp(S_T) + A_SUM) - S_T, S_I),
        Integer(0),
        rule=r"$s_i$ does not enter $L_k$ while $\Omega_k$ is fixed",
        kind="general",
    )
    proof.equal(
        "the gradient sums to zero",
        sympy.Add(exp(S_T) / normaliser - 1, exp(S_I) / normaliser, A_SUM / normaliser, evaluate=False),
        Integer(0),
        rule=r"$L_k(s + c\mathbb{1}) = L_k(s)$",
        kind="general",
    )


def instance_gradient(n: int, k: int, t_rank: int) -> list[Rational]:
    r""":math:`(p^{(k)} - e_t)\mathbb 1_{\Omega_k}` at the instance, by rank, in exact rationals."""
    p = instance_probabilities(n, k)
    return [p[i] - (1 if i == t_rank - 1 else 0) if i < k else Integer(0) for i in range(n)]


def gradient(n: int, k: int, t_rank: int) -> Derivation:
    r"""S2: :math:`\nabla_s L_k = (p^{(k)} - e_t)\,\mathbb 1_{\Omega_k}` where :math:`s_k > s_{k+1}`.

    Proved for symbolic logits (general steps); for :math:`n \le` :data:`SYMBOLIC_LOGITS`
    also by differentiating with one symbol per logit.  For :math:`t \notin \Omega_k`
    the derivative in :math:`s_t` is :math:`-1` while the restricted formula says 0, and
    the instance step fails.  Result: the exact gradient at the instance, by rank.
    """
    proof = Proof()
    _top_k_exists(proof, n, k)
    _target_exists(proof, n, t_rank)
    _general_gradient_steps(proof)
    exact = instance_gradient(n, k, t_rank)
    t = t_rank - 1
    weights = _instance_weights(n)
    inside = t_rank <= k
    others = sum(weights[:k]) - (weights[t] if inside else 0)
    at_instance = sympy.Derivative(log(Integer(others) + (exp(S_T) if inside else 0)) - S_T, S_T)
    proof.equal(
        rf"at the instance, the target coordinate (rank {t_rank})",
        at_instance.doit().subs(S_T, log(Integer(weights[t]))),
        exact[t],
        rule=r"$\partial_{s_t}(\log(e^{s_t} + A) - s_t)$ at $e^{s_t} = n + 1 - t$; $t \in \Omega_k$ puts $e^{s_t}$ in the sum",
        shown=(sympy.Subs(at_instance, S_T, log(Integer(weights[t]))), exact[t]),
    )
    if n <= SYMBOLIC_LOGITS:
        s = logits(n)
        loss = log(sum(exp(x) for x in s[:k])) - s[t]
        claimed = Matrix([sparse_softmax(s, k)[i] - (1 if i == t else 0) if i < k else Integer(0) for i in range(n)])
        proof.equal(
            rf"$\partial L_k/\partial s_i = p_i - [i = t]$ on $\Omega_k$ and 0 outside ($n = {n}$ symbols)",
            Matrix([sympy.diff(loss, x) for x in s]),
            claimed,
            rule=r"$\partial_{s_i} \operatorname{logsumexp} = \mathrm{softmax}_i$; $t \in \Omega_k$",
            shown=(sympy.Function(r"\nabla L_k")(*s), sympy.Function(r"(p^{(k)} - e_t)\mathbb{1}_{\Omega_k}")(*s)),
        )
    return proof.finish(
        result=sympy.ImmutableMatrix(exact),
        conclusion=r"\nabla_s L_k = (p^{(k)} - e_t)\,\mathbb{1}_{\Omega_k}",
        proved_for=r"all $n$, $k$ and real logits with $t \in \Omega_k$, $s_k > s_{k+1}$",
    )


def _variant_gap_sign(n: int, k: int, t_rank: int) -> Derivation:
    """Known-false: the gap with the wrong sign, CE - L_k = + log P(Omega_k) (so L_k >= CE)."""
    right = loss_bound(n, k, t_rank)
    return Derivation(right.steps, -right.result, right.conclusion)


def _variant_gradient_full_softmax(n: int, k: int, t_rank: int) -> Derivation:
    """Known-false: the gradient of the *full* cross-entropy, softmax(s) - e_t, on every coordinate."""
    right = gradient(n, k, t_rank)
    weights = _instance_weights(n)
    total = sum(weights)
    wrong = [Rational(w, total) - (1 if i == t_rank - 1 else 0) for i, w in enumerate(weights)]
    return Derivation(right.steps, sympy.ImmutableMatrix(wrong), right.conclusion)


def _variant_definition_full_normaliser(n: int, k: int) -> Derivation:
    """Known-false: the top-k probabilities normalised by the sum over all n logits (they no longer sum to one)."""
    right = definition(n, k)
    weights = _instance_weights(n)
    total = sum(weights)
    wrong = [Rational(w, total) if i < k else Integer(0) for i, w in enumerate(weights)]
    return Derivation(right.steps, sympy.ImmutableMatrix(wrong), right.conclusion)


def competitor_counts(n: int, k: int) -> tuple[int, int, int]:
    """Competitors of the full loss, of the sparse loss and of the necessary bound: n - 1, k - 1, 1."""
    return n - 1, k - 1, 1


def _variant_margin_all_logits(n: int, k: int, eps: Rational) -> Derivation:
    """Known-false: log n instead of log(n - 1), the target counted among its own competitors."""
    right = margin_bound(n, k, eps)
    wrong = Tuple(*(sympy.log(count + 1) - sympy.log(sympy.exp(eps) - 1) for count in competitor_counts(n, k)))
    return Derivation(right.steps, wrong, right.conclusion)


def _variant_margin_sparse_k(n: int, k: int, eps: Rational) -> Derivation:
    """Known-false: k competitors in the sparse threshold instead of k - 1."""
    right = margin_bound(n, k, eps)
    full, _, necessary = right.result
    return Derivation(right.steps, Tuple(full, sympy.log(k) - sympy.log(sympy.exp(eps) - 1), necessary), right.conclusion)


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
        rule=r"divide inside the log by $e^{s_t}$",
        kind="general",
    )
    tied = proof.equal(
        "$r$ competitors tied at margin $m$",
        log(1 + sympy.Sum(exp(-m), (term, 1, r))),
        tied_loss(r),
        rule="sum of $r$ equal terms",
        kind="general",
    )
    proof.compare(
        "the tied loss decreases strictly in $m$", sympy.diff(tied, m), "<", Integer(0), rule="$r > 0$", kind="general"
    )
    solutions = sympy.solve(sympy.Eq(tied, epsilon), m)
    proof.certify(
        r"tied loss $= \varepsilon$ has one solution",
        Symbol("m^*_r"),
        "=",
        solutions[0] if solutions else sympy.nan,
        rule=r"solve $\log(1 + r e^{-m}) = \varepsilon$",
        kind="general",
        holds=len(solutions) == 1,
        check=f"sympy.solve gives {solutions}",
    )
    threshold = solutions[0]
    proof.equal(
        r"the threshold reaches $\varepsilon$ exactly",
        sympy.Subs(tied, m, threshold),
        epsilon,
        rule="substitute",
        kind="general",
    )
    proof.compare(
        "each competitor contributes at most $e^{-m}$ (sufficiency)",
        u,
        ">=",
        u / (1 + q),
        rule=r"$u = e^{-m}$, $e^{s_j - s_t} = u/(1 + q_j)$ with $q_j = e^{d_j} - 1 \ge 0$; so $\mathrm{CE} \le \log(1 + r e^{-m})$",
        kind="general",
    )
    proof.compare(
        "the largest competitor alone gives $e^{-m}$ (necessity)",
        1 + u + w,
        ">=",
        1 + u,
        rule=r"other terms $w \ge 0$; $\log$ increasing; so $\mathrm{CE} \le \varepsilon$ forces $\log(1 + e^{-m}) \le \varepsilon$",
        kind="general",
    )
    necessary = threshold.subs(r, 1)
    proof.equal(
        "necessary margin in general ($r = 1$)",
        sympy.Subs(tied_loss(1), m, necessary),
        epsilon,
        rule="substitute",
        kind="general",
    )
    proof.compare(
        r"sufficient minus necessary margin is $\log r \ge 0$",
        threshold - necessary,
        ">=",
        Integer(0),
        rule=r"$r \ge 1$",
        kind="general",
    )
    proof.equal(
        r"sparse loss with $k$ tied logits in $\Omega_k$",
        log(exp(s[0]) + sympy.Sum(exp(s[0] - m), (term, 1, k - 1))) - s[0],
        tied_loss(k - 1),
        rule=r"S2: for $t \in \Omega_k$ the sparse loss is the full loss on $\Omega_k$, $r = k - 1$",
    )
    values = Tuple(*(threshold.subs({r: count, epsilon: eps}) for count in competitor_counts(n, k)))
    return proof.finish(
        proved_for=r"every number $r$ of competitors and every $\varepsilon > 0$",
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
        "the LCS recurrence holds on every pair",
        Symbol(r"\mathrm{LCS}(xa, yb)"),
        "=",
        Symbol(r"[a = b](\mathrm{LCS}(x, y) + 1) \vee \max(\mathrm{LCS}(xa, y), \mathrm{LCS}(x, yb))"),
        rule="brute-force LCS over all alignments",
        holds=broken == 0,
        check=f"{len(pairs)} pairs over {alphabet} letters, lengths up to {length}: {broken} violations",
    )
    codes = {pair: labels(alignment, len(pair[1]), source_contiguity) for pair, alignment in canonical.items()}
    not_contiguous = sum(_i_not_adjacent_in_source(canonical[pair], codes[pair]) for pair in pairs)
    proof.certify(
        r"every run B I$^*$ is a contiguous span of the source and of the summary",
        Symbol(r"\#\{\text{I not adjacent in the source}\}"),
        "=",
        Integer(0),
        rule=r"I requires $(i, j) = (i' + 1, j' + 1)$ for the previous pair $(i', j')$",
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
        result=Tuple(sympy.ImmutableMatrix(example_codes), sympy.ImmutableMatrix(totals)),
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
        rule="ROUGE-2 precision and recall are $0/0$ otherwise",
        holds=min(sizes) >= 1,
        check=f"bigram counts {sizes}",
    )
    o, a, b = sympy.symbols("o a b", positive=True)
    proof.equal(
        "$F_1$ of precision $o/a$ and recall $o/b$",
        2 * (o / a) * (o / b) / (o / a + o / b),
        2 * o / (a + b),
        rule="simplify",
        kind="general",
    )
    x, y = sympy.symbols("x y", nonnegative=True)
    proof.compare(
        r"$F_1 \le 1$ since $o \le a$ and $o \le b$",
        2 * o / (2 * o + x + y),
        "<=",
        Integer(1),
        rule=r"$a = o + x$, $b = o + y$ with $x, y \ge 0$",
        kind="general",
    )
    proof.equal(
        "the weights sum to one", sympy.Add(*ROUGE_WEIGHTS, evaluate=False), Integer(1), rule="$0.2 + 0.4 + 0.4$"
    )
    scores = rouge_scores(candidate, reference)
    proof.equal(
        "$F_1$ scores are symmetric in candidate and reference",
        Matrix(scores),
        Matrix(rouge_scores(reference, candidate)),
        rule="swapping the texts swaps $P$ and $R$",
        shown=(sympy.Function("F")(Symbol("c"), Symbol("r")), sympy.Function("F")(Symbol("r"), Symbol("c"))),
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
