r"""Search by sampling (kexue.fm posts 8062, 8084), exactly.

A target :math:`\pi = \rho/Z` known up to its normaliser :math:`Z`, on a finite
or continuous space.  Each function returns a :class:`~twofold.model.Derivation`
whose steps sympy checked when they were built.  Each claim is derived twice
over: *in general* (symbolic weights and proposals on a small space, or a
symbolic density) and *on the concrete instance* that :mod:`twofold.numerics.sampling`
samples from, with exact rationals.

The instances (implemented independently in :mod:`twofold.numerics.sampling`):

* finite target :math:`\rho_i = (i+1)^2`, :math:`i = 0..n-1`, proposal
  :math:`q_i \propto i+1` (for importance sampling: on :math:`i < n - h`,
  :math:`h` = ``hole``), envelope :math:`M = c \max_i \rho_i/q_i` (``slack`` c);
* continuous rejection: :math:`\rho(x) = e^{-x^2/2}`, Laplace proposal of scale s;
* ring chain: :math:`\rho_x = (x+1)^{\mathrm{skew}}` on :math:`\mathbb{Z}_n`;
  propose :math:`x+1` w.p. ``lean``, :math:`x-1` otherwise; the two *bridge*
  edges :math:`\{h-1, h\}` and :math:`\{n-1, 0\}` (:math:`h = \lfloor n/2\rfloor`)
  are crossed only w.p. ``bridge`` (else the proposal stays at :math:`x`);
* continuous MH: :math:`\rho(x) = e^{-x^4/4}`, Gaussian random walk with ``drift``;
* Gibbs: :math:`x \in \{0..k-1\}^d`,
  :math:`\rho(x) = \prod_i (x_i+1)\cdot 2^{\#\{i:\,x_i = x_{i+1}\}}`; random scan,
  new value proposed :math:`\propto \rho^{\mathrm{power}}`;
* CGMH: sentences of length :math:`1..L` over words :math:`0..v-1`,
  :math:`\rho(s) = (1 + 3[0 \in s])\prod_j 1/(s_j + 2)`; action uniform among the
  allowed ones (no insert at length L, no delete at length 1), position uniform,
  word proposed :math:`\propto w + 1`.

States are ordered as :func:`itertools.product` lists them (sentences by length
first); laws are returned in that order.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from fractions import Fraction
from collections.abc import Callable, Sequence
from functools import cache

import sympy
from sympy import Abs, Function, Integer, Integral, Matrix, Min, Rational, SparseMatrix, Symbol, Tuple, exp, oo, pi, sqrt, symbols
from sympy.polys.matrices import DomainMatrix

from twofold.derivation import Proof, is_zero
from twofold.model import Derivation

a, b = symbols("a b", positive=True)
x = Symbol("x", real=True)
y = Symbol("y", real=True)
t = Symbol("t", nonnegative=True)
k = Symbol("k", integer=True, positive=True)
v = Symbol("v", nonnegative=True)
reject = Symbol("r", nonnegative=True)
"""Probability of one rejection, :math:`1 - a`."""
N = Symbol("N", integer=True, positive=True)
sigma = Symbol("sigma", positive=True)
rho_x, rho_y, S = symbols("rho_x rho_y S", positive=True)
envelope_M = Symbol("M", positive=True)
normaliser_Z = Symbol("Z", positive=True)
ell, mult = symbols("ell m", positive=True)
a_ins, a_del, a_rep, g_w, g_u = symbols("a_ins a_del a_rep g_w g_u", positive=True)

GENERAL_STATES = 3
"""Size of the finite space on which M1 and M2 are derived with symbolic weights and proposals."""

Kernel = dict[tuple[int, int], sympy.Expr]
"""A sparse transition or proposal matrix: ``(from, to) -> probability``."""


# ---------------------------------------------------------------- shared steps


@cache
def _zero_after_abs_rewrite(expr: sympy.Expr) -> str | None:
    return is_zero(expr.rewrite(Abs))


def equal_given(
    proof: Proof, description: str, lhs: sympy.Expr, rhs: sympy.Expr, given: dict[Symbol, sympy.Expr], rule: str
) -> sympy.Expr:
    """Record ``lhs = rhs`` checked like :meth:`Proof.equal` after substituting the constraint ``given``; returns ``rhs``."""
    how = is_zero((lhs - rhs).subs(given))
    constraint = ", ".join(f"{sympy.sstr(key)} = {sympy.sstr(value)}" for key, value in given.items())
    proof.certify(description, lhs, "=", rhs, rule=rule, holds=how is not None, check=f"{how}(lhs - rhs) = 0 given {constraint}")
    return rhs


def flow_lemma(proof: Proof) -> sympy.Expr:
    r"""The MH flow lemma :math:`a\min(1, b/a) = \min(a, b)` for :math:`a, b > 0`; returns its left side."""
    lhs = a * Min(1, b / a)
    how = _zero_after_abs_rewrite(lhs - Min(a, b))
    proof.certify(
        "MH flow lemma",
        lhs,
        "=",
        Min(a, b),
        rule=r"$a > 0$ moves inside the $\min$",
        holds=how is not None,
        check=f"{how}(rewrite(lhs - rhs, Abs)) = 0 with min(p, q) = (p + q - |p - q|)/2",
        kind="general",
    )
    return lhs


def certify_instances(
    proof: Proof, description: str, lemma: sympy.Expr, flows: Sequence[tuple[sympy.Expr, sympy.Expr, sympy.Expr]]
) -> None:
    r"""Certify that each ``flow`` is the lemma's left side at :math:`(a, b)` = its pair, so it equals :math:`\min(a, b)`."""
    matches = [flow == lemma.xreplace({a: left, b: right}) for flow, left, right in flows]
    flow, left, right = flows[0]
    proof.certify(
        description,
        flow,
        "=",
        Min(left, right),
        rule="flow lemma",
        holds=all(matches),
        check=f"structural match with a*Min(1, b/a) at each pair (a, b): {sum(matches)}/{len(matches)} flows",
        kind="general",
    )


def hastings_ratio(backward: sympy.Expr, forward: sympy.Expr) -> sympy.Expr:
    r""":math:`\rho_y q(x|y) / (\rho_x q(y|x))`, left unevaluated so that a sheet shows what cancels."""
    return sympy.Mul(rho_y, backward, sympy.Pow(sympy.Mul(rho_x, forward, evaluate=False), -1, evaluate=False), evaluate=False)


def normalise(weights: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    total = sum(weights, Integer(0))
    return [w / total for w in weights]


def metropolis_hastings(weights: Sequence[sympy.Expr], proposal: Kernel, hastings: bool = True) -> Kernel:
    r"""The MH kernel: :math:`P(x,y) = q(y|x)\min\bigl(1, \tfrac{\rho_y q(x|y)}{\rho_x q(y|x)}\bigr)`, rest on the diagonal.

    With ``hastings=False`` the proposal ratio is left out (the Metropolis ratio
    :math:`\rho_y/\rho_x`), which is only right for a symmetric proposal.
    """
    kernel: Kernel = {}
    leaving = [Integer(0)] * len(weights)
    for (i, j), q_ij in proposal.items():
        if i != j and q_ij != 0:
            ratio = weights[j] * proposal.get((j, i), Integer(0)) / (weights[i] * q_ij) if hastings else weights[j] / weights[i]
            kernel[(i, j)] = q_ij * Min(1, ratio)
            leaving[i] += kernel[(i, j)]
    kernel.update({(i, i): 1 - out for i, out in enumerate(leaving)})
    return kernel


def support_symmetric(proof: Proof, proposal: Kernel, size: int) -> None:
    r"""Certify :math:`q(y|x) > 0 \Leftrightarrow q(x|y) > 0`, so every move has a reverse move and the ratio is defined."""
    one_way = [(i, j) for (i, j), p in proposal.items() if p != 0 and proposal.get((j, i), 0) == 0]
    proof.certify(
        "every proposed move can be proposed back",
        Function("one_way")(Symbol("q")),
        "=",
        Integer(0),
        rule="support of the proposal is symmetric",
        holds=not one_way,
        check=f"exact scan of {size}^2 pairs: {len(one_way)} one-way moves{'' if not one_way else f', e.g. {one_way[0]}'}",
    )


def detailed_balance(proof: Proof, weights: Sequence[sympy.Expr], kernel: Kernel, label: Callable[[int], str]) -> None:
    r"""Certify :math:`\rho_x P(x,y) = \rho_y P(y,x)` on every pair of the instance (exact rationals)."""
    gaps = {
        (i, j): weights[i] * p - weights[j] * kernel.get((j, i), Integer(0)) for (i, j), p in kernel.items() if i != j
    }
    worst = max(gaps, key=lambda pair: abs(gaps[pair]), default=None)
    size = Integer(0) if worst is None else abs(gaps[worst])
    where = "" if size == 0 else f" at x = {label(worst[0])}, y = {label(worst[1])}"
    proof.certify(
        "detailed balance on the instance (largest gap over all pairs)",
        Abs(rho_x * Symbol("P_xy") - rho_y * Symbol("P_yx")),
        "=",
        Integer(0),
        rule="MH acceptance with the Hastings ratio",
        holds=size == 0,
        check=f"exact over {len(gaps)} ordered pairs: max gap {size}{where}",
    )


def stationarity(proof: Proof, weights: Sequence[sympy.Expr], kernel: Kernel) -> list[sympy.Expr]:
    r"""Record :math:`\pi P = \pi` for :math:`\pi = \rho/Z` (exact) and return :math:`\pi`."""
    law = normalise(weights)
    size = len(weights)
    row = Matrix([law])
    pi_, P_ = sympy.MatrixSymbol("pi", 1, size), sympy.MatrixSymbol("P", size, size)
    proof.equal(
        "stationarity on the instance",
        row * SparseMatrix(size, size, kernel),
        row,
        rule=r"sum detailed balance over $x$",
        shown=(pi_ * P_, pi_),
    )
    return law


def law_mean(law: Sequence[sympy.Expr], values: Sequence[int]) -> sympy.Expr:
    return sum((p * value for p, value in zip(law, values)), Integer(0))


# ---------------------------------------------------------------- M1 rejection sampling


def finite_target(n: int) -> list[sympy.Expr]:
    r""":math:`\rho_i = (i+1)^2`, :math:`i = 0..n-1`."""
    return [Integer(i + 1) ** 2 for i in range(n)]


def finite_proposal(n: int, hole: int = 0) -> list[sympy.Expr]:
    r""":math:`q_i \propto i + 1` on :math:`i < n - \mathrm{hole}`, zero beyond."""
    return normalise([Integer(i + 1) if i < n - hole else Integer(0) for i in range(n)])


def _general_rejection(proof: Proof, n: int) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr]:
    r"""Rejection sampling for every finite target with an envelope, on :math:`n` symbolic states.

    Every :math:`(\rho, q, M)` with :math:`q > 0`, :math:`\sum q = 1` and
    :math:`M q \ge \rho > 0` is :math:`q_i = \rho_i(1+u_i)/M` with
    :math:`u_i = Mq_i/\rho_i - 1 \ge 0`, and then :math:`M = \sum_i \rho_i(1 + u_i)`.
    Returns the acceptance probability :math:`a = Z/M`, the mass
    :math:`q_1 \rho_1/(Mq_1)` of "propose 1 and accept it", and :math:`\rho_1/Z`.
    """
    rho = symbols(f"rho_1:{n + 1}", positive=True)
    u = symbols(f"u_1:{n + 1}", nonnegative=True)
    normaliser = {envelope_M: sum((r * (1 + ui) for r, ui in zip(rho, u)), Integer(0))}
    q = [r * (1 + ui) / envelope_M for r, ui in zip(rho, u)]
    Z = sum(rho, Integer(0))
    equal_given(proof, "the proposal is a law", sum(q, Integer(0)), Integer(1), normaliser, rule=r"$q_i = \rho_i (1 + u_i)/M$")
    accept = [r / (envelope_M * qi) for r, qi in zip(rho, q)]
    proof.equal(
        r"accept a proposed $i$ with probability $\rho_i/(M q_i)$", Matrix(accept), Matrix([1 / (1 + ui) for ui in u]), rule="cancel", kind="general",
        shown=(
            sympy.Mul(rho[0], sympy.Pow(sympy.Mul(envelope_M, Symbol("q_1"), evaluate=False), -1, evaluate=False), evaluate=False),
            1 / (1 + u[0]),
        ),
    )
    proof.compare(
        "the envelope makes it a probability", 1 / (1 + u[0]), "<=", Integer(1), rule=r"$u_i \ge 0$, i.e. $M q_i \ge \rho_i$", kind="general"
    )
    joint = [qi * ai for qi, ai in zip(q, accept)]
    acceptance = proof.equal(
        r"$P(\mathrm{accept}) = \sum_i q_i \rho_i/(M q_i)$", sum(joint, Integer(0)), Z / envelope_M, rule="total probability", kind="general"
    )
    proof.equal(
        "law of an accepted sample", Matrix(joint) / acceptance, Matrix(rho) / Z, rule="Bayes", kind="general",
        shown=(Function("P")(Symbol("X = i") , Symbol("accept")) / Function("P")(Symbol("accept")), rho[0] / Z),
    )
    return acceptance, joint[0], rho[0] / Z


def _instance_acceptance(proof: Proof, n: int, slack: Rational) -> tuple[sympy.Expr, list[sympy.Expr]]:
    """The concrete finite instance: envelope checked exactly; returns the acceptance Z/M and the accepted law."""
    rho, q = finite_target(n), finite_proposal(n)
    envelope = slack * max(r / qi for r, qi in zip(rho, q))
    tightest = min(range(n), key=lambda i: envelope * q[i] / rho[i])
    proof.compare(
        f"envelope on the instance, tightest at i = {tightest}",
        envelope * q[tightest],
        ">=",
        rho[tightest],
        rule=r"$M = c \max_i \rho_i/q_i$, $c \ge 1$",
    )
    i = Symbol("i", integer=True)
    acceptance = proof.equal(
        "acceptance probability on the instance",
        sum((qi * Min(1, r / (envelope * qi)) for r, qi in zip(rho, q)), Integer(0)),
        sum(rho, Integer(0)) / envelope,
        rule=r"$P(\mathrm{accept}) = Z/M$",
        shown=(
            sympy.Sum(Function("q")(i) * Min(1, Function("rho")(i) / (envelope_M * Function("q")(i))), (i, 0, n - 1)),
            sum(rho, Integer(0)) / envelope,
        ),
    )
    accepted = [qi * Min(1, r / (envelope * qi)) / acceptance for r, qi in zip(rho, q)]
    law = normalise(rho)
    proof.equal(
        "accepted law on the instance",
        Matrix(accepted),
        Matrix(law),
        rule=r"$\rho/Z$",
        shown=(sympy.MatrixSymbol("p_accepted", n, 1), sympy.MatrixSymbol("rho", n, 1) / normaliser_Z),
    )
    return acceptance, law


@cache
def rejection_law(n: int, slack: Rational) -> Derivation:
    r"""M1: accepted samples have law :math:`\rho/Z`; acceptance probability :math:`Z/M`.

    Result: ``Tuple(Z/M, Tuple(rho_0/Z, ..., rho_{n-1}/Z))`` on the instance.
    """
    proof = Proof()
    _general_rejection(proof, GENERAL_STATES)
    acceptance, law = _instance_acceptance(proof, n, slack)
    return proof.finish(
        result=Tuple(acceptance, Matrix(law)), conclusion=r"X \mid \text{accept} \sim \rho/Z,\ P(\text{accept}) = Z/M"
    )


def _series_step(proof: Proof, description: str, term: sympy.Expr, value: sympy.Expr, closed: sympy.Expr) -> None:
    r"""Certify :math:`\sum_{k\ge1}` ``term`` = ``closed`` at :math:`r = 1 - a = v/(1+v)`.

    ``value`` is the sum computed by sympy as a function of :math:`r`.
    """
    ratio = v / (1 + v)
    how = is_zero(value.subs(reject, ratio) - closed)
    proof.certify(
        description,
        sympy.Sum(term.subs(reject, ratio), (k, 1, oo)),
        "=",
        closed,
        rule=r"geometric series and its termwise derivative, $0 \le r < 1$",
        holds=how is not None,
        check=f"sympy Sum.doit() in r (derivative d/dr r*sum r^(k-1) for k r^(k-1)), at r = v/(1+v): {how}(value - rhs) = 0",
    )


@cache
def rejection_trials(n: int, slack: Rational) -> Derivation:
    r"""M1: the number of trials :math:`T` is geometric with parameter :math:`a = Z/M`, independent of the sample.

    With :math:`a = 1/(1+v)`, :math:`v = M/Z - 1 \ge 0`:
    :math:`P(T = k) = (1-a)^{k-1}a`, :math:`\sum_k P(T=k) = 1`, :math:`E[T] = M/Z`,
    and :math:`P(X = i, T = k) = P(T = k)\,\rho_i/Z`.  Result: ``Tuple(M/Z, Z/M)`` on the instance.
    """
    proof = Proof()
    acceptance_symbolic, joint, target = _general_rejection(proof, GENERAL_STATES)
    geometric = 1 / (1 + v)
    series = sympy.Sum(reject ** (k - 1), (k, 1, oo)).doit()
    _series_step(proof, r"$P(T = k) = (1 - a)^{k-1} a$ sums to one", reject ** (k - 1) * geometric, geometric * series, Integer(1))
    termwise = geometric * sympy.diff(reject * series, reject)
    _series_step(proof, "E[T] = 1/a = M/Z", k * reject ** (k - 1) * geometric, termwise, 1 + v)
    rejections = (1 - acceptance_symbolic) ** (k - 1)
    proof.equal(
        r"$P(X = 1, T = k) = P(T = k)\, \rho_1/Z$: $T$ is independent of the sample",
        rejections * joint,
        rejections * acceptance_symbolic * target,
        rule=r"$k - 1$ rejections, then propose 1 and accept it",
        shown=(Function("P")(Symbol("X = 1"), Symbol("T = k")), Function("P")(Symbol("T = k")) * target),
    )
    acceptance, _ = _instance_acceptance(proof, n, slack)
    mean = proof.equal(
        r"$E[T]$ on the instance", (1 + v).subs(v, 1 / acceptance - 1), 1 / acceptance, rule=r"$v = M/Z - 1$",
        shown=(sympy.Add(1, Symbol("v"), evaluate=False), 1 / acceptance),
    )
    return proof.finish(result=Tuple(mean, acceptance), conclusion=r"T \sim \mathrm{Geometric}(Z/M),\ E[T] = M/Z")


def _variant_trials_mean_inverted(n: int, slack: Rational) -> Derivation:
    """Known-false: :math:`E[T] = Z/M` (the acceptance probability) in place of :math:`M/Z`."""
    right = rejection_trials(n, slack)
    mean, acceptance = right.result
    return Derivation(right.steps, Tuple(acceptance, acceptance), right.conclusion)


def geometric_law(acceptance: sympy.Expr, cells: int) -> list[sympy.Expr]:
    r"""Exact :math:`P(T = k)`, :math:`k = 1..c-1`, and the tail :math:`P(T \ge c) = (1-a)^{c-1}`, :math:`c` = ``cells``."""
    body = [(1 - acceptance) ** (j - 1) * acceptance for j in range(1, cells)]
    return [*body, (1 - acceptance) ** (cells - 1)]


@cache
def rejection_continuous(scale: Rational, slack: Rational) -> Derivation:
    r"""M1 on :math:`\mathbb{R}`: :math:`\rho = e^{-x^2/2}`, Laplace proposal :math:`q = e^{-|x|/s}/(2s)`.

    :math:`\log(\rho/q) = \log 2s - |x|^2/2 + |x|/s = \log 2s + \frac{1}{2s^2} - \frac12(|x| - 1/s)^2`,
    so :math:`\sup \rho/q = 2s\,e^{1/(2s^2)}`, attained at :math:`|x| = 1/s`.  With
    :math:`M = c \sup\rho/q`: acceptance :math:`Z/M = \sqrt{2\pi}/M` and accepted density :math:`\rho/Z`.
    Result: the acceptance probability.
    """
    proof = Proof()
    rho = exp(-(x**2) / 2)
    q = exp(-Abs(x) / scale) / (2 * scale)
    proof.equal(
        "the proposal is a density", 2 * Integral(q.subs(Abs(x), t), (t, 0, oo)), Integer(1), rule=r"$q$ even: twice the integral over $t = |x|$"
    )
    proof.equal(
        "complete the square in |x| = t",
        -(t**2) / 2 + t / scale,
        1 / (2 * scale**2) - (t - 1 / scale) ** 2 / 2,
        rule=r"$\log(\rho/q) - \log(2s)$",
    )
    proof.compare("the square is non-negative", (t - 1 / scale) ** 2 / 2, ">=", Integer(0), rule=r"$t$ real")
    at_best = sympy.Subs(2 * scale * exp(-(t**2) / 2 + t / scale), t, 1 / scale)
    supremum = proof.equal(r"$\sup \rho/q$ at $|x| = 1/s$", at_best, 2 * scale * exp(1 / (2 * scale**2)), rule="substitute")
    envelope = slack * supremum
    proof.compare(
        r"envelope: $M \ge \sup \rho/q$", sympy.Mul(slack, supremum, evaluate=False), ">=", supremum, rule=r"$M = c \sup \rho/q$, $c \ge 1$"
    )
    Z = proof.equal("normaliser", Integral(rho, (x, -oo, oo)), sqrt(2 * pi), rule="Gaussian integral")
    accepted_mass = Integral(q * (rho / (envelope * q)), (x, -oo, oo))
    acceptance = proof.equal("P(accept) = int q rho/(M q)", accepted_mass, Z / envelope, rule=r"$\rho \le M q$")
    proof.equal(
        "accepted density", q * (rho / (envelope * q)) / acceptance, rho / Z, rule="Bayes",
        shown=(Function("q")(x) * Function("alpha")(x) / Function("P")(Symbol("accept")), rho / Z),
    )
    return proof.finish(
        result=acceptance, conclusion=r"X \mid \text{accept} \sim \mathcal{N}(0,1),\ P(\text{accept}) = \sqrt{2\pi}/M"
    )


# ---------------------------------------------------------------- M2 importance sampling


def _snis_mean(rho: Sequence[sympy.Expr], q: Sequence[sympy.Expr], f: Sequence[int], draws: int) -> sympy.Expr:
    r"""Exact :math:`E[\hat\mu_N]` of self-normalised IS with ``draws`` samples, by enumerating all outcomes."""
    support = [i for i, qi in enumerate(q) if qi != 0]
    total = Integer(0)
    for outcome in itertools.product(support, repeat=draws):
        weights = [rho[i] / q[i] for i in outcome]
        probability = sympy.Mul(*(q[i] for i in outcome))
        total += probability * sum((w * f[i] for w, i in zip(weights, outcome)), Integer(0)) / sum(weights, Integer(0))
    return total


@cache
def importance(n: int, hole: int) -> Derivation:
    r"""M2: :math:`\hat Z_N = \frac1N\sum_k \rho(x_k)/q(x_k)` is unbiased for :math:`Z` at every :math:`N`;
    self-normalised :math:`\hat\mu_N = \sum_k w_k f(x_k)/\sum_k w_k \to E_\pi f` almost surely.

    Needs :math:`q > 0` wherever :math:`\rho > 0`.  Consistency: the strong law
    for numerator and denominator, then continuity of the ratio (denominator
    limit :math:`Z > 0`).  :math:`\hat\mu_N` is biased at finite :math:`N`
    (shown exactly at :math:`N = 2`).  Result: ``Tuple(Z, E_pi f)`` on the
    instance, with :math:`f(i) = i`.
    """
    proof = Proof()
    rho_s = symbols(f"rho_1:{GENERAL_STATES + 1}", positive=True)
    q_s = symbols(f"q_1:{GENERAL_STATES + 1}", positive=True)
    f_s = symbols(f"f_1:{GENERAL_STATES + 1}", real=True)
    is_law = {q_s[-1]: 1 - sum(q_s[:-1], Integer(0))}
    Z_s = sum(rho_s, Integer(0))
    weights = sum((qi * r / qi for r, qi in zip(rho_s, q_s)), Integer(0))
    shown_weights = sympy.Add(
        *[sympy.Mul(qi, sympy.Mul(r, sympy.Pow(qi, -1, evaluate=False), evaluate=False), evaluate=False) for r, qi in zip(rho_s, q_s)],
        evaluate=False,
    )
    mean_weight = proof.equal(r"$E_q[w] = Z$", weights, Z_s, rule=r"$w = \rho/q$, $q > 0$ on $\mathrm{supp}\,\rho$", shown=(shown_weights, Z_s), kind="general")
    proof.equal(
        r"$E[Z_N] = E_q[w]$ for every $N$", sympy.Sum(mean_weight, (k, 1, N)).doit() / N, Z_s, rule="linearity, i.i.d. draws",
        shown=(sympy.Sum(Function("E_q")(Symbol("w")), (k, 1, N)) / N, Z_s), kind="general",
    )
    equal_given(
        proof,
        r"$\mathrm{Var}(Z_N) = (\sum \rho^2/q - Z^2)/N$",
        sum((qi * (r / qi - normaliser_Z) ** 2 for r, qi in zip(rho_s, q_s)), Integer(0)) / N,
        (sum((r**2 / qi for r, qi in zip(rho_s, q_s)), Integer(0)) - normaliser_Z**2) / N,
        {normaliser_Z: Z_s, **is_law},
        rule=r"expand the square, $\sum q = 1$",
    )
    numerator = sum((qi * (r / qi) * fi for r, qi, fi in zip(rho_s, q_s, f_s)), Integer(0))
    proof.equal(
        r"SNIS limit: $E_q[w f]/E_q[w] = E_\pi f$",
        numerator / mean_weight,
        sum((r * fi for r, fi in zip(rho_s, f_s)), Integer(0)) / Z_s,
        rule="strong law + continuous mapping",
        shown=(Function("E_q")(Symbol("w") * Symbol("f")) / Function("E_q")(Symbol("w")), sum((r * fi for r, fi in zip(rho_s, f_s)), Integer(0)) / Z_s),
        kind="general",
    )
    rho, q = finite_target(n), finite_proposal(n, hole)
    Z = sum(rho, Integer(0))
    covered = sum((qi * r / qi for r, qi in zip(rho, q) if qi != 0), Integer(0))
    proof.equal(r"the proposal covers the target: $E_q[w] = Z$", covered, Z, rule=r"$q > 0$ on $\mathrm{supp}\,\rho$", shown=(Function("E_q")(Symbol("w")), Z))
    target_mean = law_mean(normalise(rho), range(n))
    bias = _snis_mean(rho, q, list(range(n)), 2) - target_mean
    proof.certify(
        "SNIS is biased at N = 2 (consistent, not unbiased)",
        Function("E")(Symbol("muhat_2")) - Function("E_pi")(Symbol("f")),
        "=",
        bias,
        rule=r"exact enumeration of the $n^2$ outcomes",
        holds=bias != 0,
        check=f"sum over {n}^2 pairs: bias {bias} != 0",
    )
    return proof.finish(result=Tuple(Z, target_mean), conclusion=r"E[\hat Z_N] = Z,\ \hat\mu_N \xrightarrow{a.s.} E_\pi f")


# ---------------------------------------------------------------- M3 Metropolis–Hastings


def _symbolic_chain(proof: Proof, states: int) -> None:
    r"""Detailed balance and stationarity of the MH kernel on ``states`` states, weights and proposal symbolic."""
    rho = symbols(f"rho_1:{states + 1}", positive=True)
    q = {(i, j): Symbol(f"q_{i + 1}{j + 1}", positive=True) for i, j in itertools.permutations(range(states), 2)}
    kernel = metropolis_hastings(rho, q)
    lemma = flow_lemma(proof)
    certify_instances(
        proof,
        r"every flow $\rho_i P_{ij}$ is $\min(\rho_i q_{ij}, \rho_j q_{ji})$",
        lemma,
        [(rho[i] * kernel[(i, j)], rho[i] * q[(i, j)], rho[j] * q[(j, i)]) for i, j in q],
    )
    flows = Matrix(states, states, lambda i, j: Min(rho[i] * q[(i, j)], rho[j] * q[(j, i)]) if i != j else Integer(0))
    F_ = sympy.MatrixSymbol("F", states, states)
    proof.equal(
        r"detailed balance: $F_{ij} = \min(\rho_i q_{ij}, \rho_j q_{ji})$ is symmetric",
        flows,
        flows.T,
        rule=r"$\min$ is symmetric",
        shown=(F_, F_.T),
        kind="general",
    )
    by_flows = {(i, j): flows[i, j] / rho[i] for i, j in q}
    by_flows.update({(i, i): 1 - sum((flows[i, j] for j in range(states) if j != i), Integer(0)) / rho[i] for i in range(states)})
    rho_, P_ = sympy.MatrixSymbol("rho", 1, states), sympy.MatrixSymbol("P", states, states)
    proof.equal(
        r"stationarity: $\sum_i \rho_i P_{ij} = \rho_j$",
        Matrix([rho]) * SparseMatrix(states, states, by_flows),
        Matrix([rho]),
        rule=r"sum detailed balance over $i$",
        shown=(rho_ * P_, rho_),
        kind="general",
    )


def ring_weights(n: int, skew: int) -> list[sympy.Expr]:
    return [Integer(i + 1) ** skew for i in range(n)]


def ring_proposal(n: int, lean: Rational, bridge: Rational) -> Kernel:
    r"""Propose :math:`x \pm 1` w.p. ``lean`` / ``1 - lean``; a bridge edge is crossed w.p. ``bridge``, else stay."""
    half = n // 2
    bridges = ({half - 1, half}, {0, n - 1})
    proposal: Kernel = {}
    for state in range(n):
        for step, prob in ((1, lean), (-1, 1 - lean)):
            target = (state + step) % n
            gate = bridge if {state, target} in bridges else Integer(1)
            proposal[(state, target)] = proposal.get((state, target), Integer(0)) + prob * gate
            proposal[(state, state)] = proposal.get((state, state), Integer(0)) + prob * (1 - gate)
    return proposal


@cache
def mh_stationary(symbolic: int, n: int, skew: int, lean: Rational, hastings: int) -> Derivation:
    r"""M3: the MH kernel satisfies detailed balance, so :math:`\pi = \rho/Z` is stationary.

    In general on ``symbolic`` states (symbolic weights and proposal), then on
    the ring instance.  Result: ``Tuple(E_pi[x], Tuple(pi))`` on the ring.
    """
    proof = Proof()
    _symbolic_chain(proof, symbolic)
    weights, proposal = ring_weights(n, skew), ring_proposal(n, lean, Integer(1))
    support_symmetric(proof, proposal, n)
    kernel = metropolis_hastings(weights, proposal, hastings=bool(hastings))
    detailed_balance(proof, weights, kernel, str)
    law = stationarity(proof, weights, kernel)
    return proof.finish(
        result=Tuple(law_mean(law, range(n)), Matrix(law)), conclusion=r"\rho_x P(x,y) = \rho_y P(y,x),\ \pi P = \pi"
    )


def _support(kernel: Kernel) -> set[tuple[int, int]]:
    """The off-diagonal moves with non-zero probability."""
    return {(i, j) for (i, j), p in kernel.items() if i != j and p != 0}


def _show_class(members: list[int]) -> str:
    shown = members if len(members) <= 8 else [*members[:3], "...", *members[-2:]]
    return "{" + ", ".join(map(str, shown)) + "}"


def communicating_classes(proof: Proof, kernel: Kernel, proposal: Kernel, size: int) -> list[list[int]]:
    r"""Certify that the MH kernel keeps the proposal's moves and count its communicating classes; returns them.

    * :math:`\rho > 0` and a symmetric proposal support make every acceptance :math:`\min(1, r) > 0`,
      so :math:`P` and :math:`q` have the same off-diagonal support (exact comparison of the two sets);
    * with a symmetric support every move :math:`x \to y` comes with :math:`y \to x`, so "reach each
      other" is the connectivity of the undirected graph: the classes are its components (union-find over
      the :math:`O(n)` moves, exact; no :math:`n \times n` power).
    """
    moves, proposed = _support(kernel), _support(proposal)
    proof.certify(
        "MH keeps every proposed move",
        Function("supp")(Symbol("P")),
        "=",
        Function("supp")(Symbol("q")),
        rule=r"$\rho > 0$ and a symmetric proposal support give $\min(1, r) > 0$",
        holds=moves == proposed,
        check=f"exact comparison of the off-diagonal supports: {len(moves)} vs {len(proposed)} moves",
    )
    parent = list(range(size))

    def root(state: int) -> int:
        while parent[state] != state:
            parent[state] = parent[parent[state]]
            state = parent[state]
        return state

    for i, j in moves:
        parent[root(i)] = root(j)
    grouped: dict[int, list[int]] = {}
    for state in range(size):
        grouped.setdefault(root(state), []).append(state)
    classes = sorted(grouped.values())
    proof.certify(
        "the proposal graph is strongly connected",
        Function("classes")(Symbol("P")),
        "=",
        Integer(1),
        rule="symmetric support: the communicating classes are the components of the undirected move graph",
        holds=len(classes) == 1,
        check=f"union-find over {len(moves)} moves: {len(classes)} communicating class(es): " + " | ".join(map(_show_class, classes)),
    )
    return classes


winding, ups, downs = symbols("k u d", integer=True)


def ring_period(proof: Proof, kernel: Kernel, size: int) -> int:
    r"""Certify the period of the ring chain (for every :math:`n`, then at this :math:`n`); returns it.

    A self-loop :math:`P(x,x) > 0` is a closed walk of length 1: period 1.  Without one, every move is a
    step :math:`\pm 1` on :math:`\mathbb{Z}_n`; a closed walk with :math:`u` steps up and :math:`d` down
    winds :math:`k` times, :math:`u - d = kn`, so its length is :math:`u + d = 2d + kn` (general step); the
    2-cycles :math:`x \to x+1 \to x` and the ring itself (length :math:`n`) are closed walks, so the
    period is :math:`\gcd(2, n)`.
    """
    loops = sorted(i for (i, j), p in kernel.items() if i == j and p != 0)
    ring = all(kernel.get((i, (i + 1) % size), 0) != 0 for i in range(size))
    equal_given(
        proof,
        "a closed walk on the ring with $u$ steps up, $d$ down and winding $k$ has length $2d + kn$",
        ups + downs,
        2 * downs + winding * Symbol("n", integer=True, positive=True),
        {ups: downs + winding * Symbol("n", integer=True, positive=True)},
        rule="$u - d = kn$",
    )
    if loops:
        period, walks = 1, f"self-loops at {len(loops)} state(s), first x = {loops[0]}: closed walks of length 1"
    elif ring:
        period, walks = math.gcd(2, size), f"no self-loop; closed walks of lengths 2 and {size} (the ring)"
    else:
        period, walks = 0, "no self-loop and the ring is cut: no closed walk through every state"
    proof.certify(
        "the chain is aperiodic",
        Function("period")(Symbol("P")),
        "=",
        Integer(1),
        rule=r"period $= \gcd$ of closed-walk lengths; every length is $2d + kn$",
        holds=period == 1,
        check=f"{walks}: gcd {period}",
    )
    return period


LAW_DIGITS = 30
"""Significant digits of the reported finite-time law (computed exactly, see :func:`law_after`)."""


def law_after(proof: Proof, kernel: Kernel, size: int, start: int, steps: int) -> list[sympy.Expr]:
    r""":math:`\delta_{\mathrm{start}} P^{\mathrm{steps}}` exactly (sparse rows over :math:`\mathbb{Q}`, DomainMatrix); certified to add up to 1.

    The exact rationals have denominators of thousands of digits at :math:`n = 2000` (the lcm of many
    :math:`(x+1)^{2\,\mathrm{skew}}`), too long to display or even to print as integers; the law is returned
    rounded to :data:`LAW_DIGITS` significant digits (relative error :math:`10^{-30}`, far below the
    comparison's :math:`4nu` mass check and its chi-square), after the exact checks."""
    rows: dict[int, dict[int, sympy.Expr]] = {i: {} for i in range(size)}
    for (i, j), p in kernel.items():
        if p != 0:
            rows[i][j] = sympy.QQ.from_sympy(p)
    matrix = DomainMatrix.from_dod(rows, (size, size), sympy.QQ)
    law = DomainMatrix.from_dod({0: {start: sympy.QQ(1)}}, (1, size), sympy.QQ)
    for _ in range(steps):
        law = law * matrix
    values = law.to_Matrix()
    total = sum(values, Integer(0))
    proof.certify(
        f"the law after ${steps}$ steps from state ${start}$ is a probability vector",
        Function("sum")(sympy.MatrixSymbol("delta", 1, size) * sympy.MatrixSymbol("P", size, size) ** steps),
        "=",
        Integer(1),
        rule="rows of $P$ add up to 1",
        holds=total == 1 and all(value >= 0 for value in values),
        check=f"exact rational sum over {size} states: {total}",
    )
    return [sympy.Float(sympy.N(value, LAW_DIGITS), LAW_DIGITS) if value != 0 else Integer(0) for value in values]


@cache
def mh_convergence(n: int, skew: int, bridge: Rational, steps: int, symbolic: int = 3) -> Derivation:
    r"""M3: irreducible + aperiodic MH chain on the ring converges to :math:`\pi = \rho/Z` from every start.

    Detailed balance and stationarity in general (``symbolic`` states, symbolic weights and proposal), then on
    the ring: the classes (:func:`communicating_classes`), the period (:func:`ring_period`, for every :math:`n`),
    detailed balance and :math:`\pi P = \pi` exactly; "irreducible, aperiodic :math:`\Rightarrow P^t(x,\cdot) \to \pi`"
    is the Perron-Frobenius / convergence theorem, cited.  The law :math:`\delta_0 P^{\mathrm{steps}}` of the
    sampled chains is computed exactly.

    Result: ``Tuple(classes, period, Tuple(pi), Tuple(delta_0 P^steps))`` = ``(1, 1, pi, law)``.
    """
    proof = Proof()
    _symbolic_chain(proof, symbolic)
    weights, proposal = ring_weights(n, skew), ring_proposal(n, Rational(1, 2), bridge)
    support_symmetric(proof, proposal, n)
    kernel = metropolis_hastings(weights, proposal)
    classes = communicating_classes(proof, kernel, proposal, n)
    period = ring_period(proof, kernel, n)
    detailed_balance(proof, weights, kernel, str)
    law = stationarity(proof, weights, kernel)
    sampled = law_after(proof, kernel, n, 0, steps)
    return proof.finish(
        result=Tuple(len(classes), period, Matrix(law), Matrix(sampled)),
        conclusion=r"P^t(x, \cdot) \to \pi \text{ for every } x",
    )


def _variant_convergence_proposal_law(n: int, skew: int, bridge: Rational, steps: int) -> Derivation:
    r"""Known-false: the limit taken to be the proposal's stationary law (uniform: the ring proposal is doubly stochastic), not :math:`\rho/Z`."""
    right = mh_convergence(n, skew, bridge, steps)
    classes, period, _, sampled = right.result
    return dataclasses.replace(right, result=Tuple(classes, period, Matrix(normalise([Integer(1)] * n)), sampled))


@cache
def mh_continuous(drift: Rational) -> Derivation:
    r"""M3 on :math:`\mathbb{R}`: random-walk MH for :math:`\rho = e^{-x^4/4}` with the Metropolis ratio.

    The off-diagonal flow :math:`\rho(x)q(y-x)\min(1,\rho(y)/\rho(x)) = q(y-x)\min(\rho(x),\rho(y))`
    is symmetric when :math:`q` is; integrating it over :math:`A\times\mathbb{R}`
    gives :math:`\pi K = \pi` (the finite argument of :func:`mh_stationary` with
    sums replaced by integrals).  :math:`Z = \Gamma(1/4)/\sqrt2`,
    :math:`E_\pi x^2 = 2\Gamma(3/4)/\Gamma(1/4)`, :math:`E_\pi x^4 = 1`.  Result: :math:`E_\pi x^2`.
    """
    proof = Proof()
    z = Symbol("z", real=True)
    proposal = exp(-((z - drift) ** 2) / (2 * sigma**2)) / sqrt(2 * pi * sigma**2)
    proof.equal("the proposal is symmetric", proposal.subs(z, y - x), proposal.subs(z, x - y), rule=r"$q(y - x) = q(x - y)$")
    rho = exp(-(z**4) / 4)
    rho_at_x, rho_at_y = rho.subs(z, x), rho.subs(z, y)
    proof.compare("the target is positive", rho_at_x, ">", Integer(0), rule=r"$\exp > 0$")
    lemma = flow_lemma(proof)
    certify_instances(
        proof, "flow rho(x) min(1, rho(y)/rho(x))", lemma, [(rho_at_x * Min(1, rho_at_y / rho_at_x), rho_at_x, rho_at_y)]
    )
    flow = proposal.subs(z, y - x) * Min(rho_at_x, rho_at_y)
    proof.equal("detailed balance", flow, flow.xreplace({x: y, y: x}), rule=r"symmetric $q$ and $\min$")
    moments = [Integral(x**power * rho.subs(z, x), (x, -oo, oo)) for power in (0, 2, 4)]
    Z = proof.equal("normaliser", moments[0], sympy.gamma(Rational(1, 4)) / sqrt(2), rule=r"$t = x^4/4$")
    second = proof.equal(
        r"$E_\pi[x^2]$", moments[1] / Z, 2 * sympy.gamma(Rational(3, 4)) / sympy.gamma(Rational(1, 4)), rule=r"$t = x^4/4$"
    )
    proof.equal(r"$E_\pi[x^4]$", moments[2] / Z, Integer(1), rule="integrate by parts")
    return proof.finish(result=second, conclusion=r"\pi K = \pi,\ E_\pi x^2 = 2\Gamma(3/4)/\Gamma(1/4)")


# ---------------------------------------------------------------- M4 Gibbs


def gibbs_states(dims: int, values: int) -> list[tuple[int, ...]]:
    return list(itertools.product(range(values), repeat=dims))


def gibbs_weight(state: tuple[int, ...]) -> sympy.Expr:
    r""":math:`\rho(x) = \prod_i (x_i + 1) \cdot 2^{\#\{i: x_i = x_{i+1}\}}`."""
    agreements = sum(1 for left, right in zip(state, state[1:]) if left == right)
    return Integer(math.prod(s + 1 for s in state)) * 2**agreements


def _local(value: int, left: int | None, right: int | None) -> Fraction:
    r""":math:`\ell(u) = (u+1)\,2^{[u = x_{i-1}] + [u = x_{i+1}]}`: the factors of :math:`\rho` that involve coordinate :math:`i`."""
    return Fraction((value + 1) * 2 ** ((value == left) + (value == right)))


GIBBS_ENUMERATED = 1000
"""Up to this many states the Gibbs instance is also checked by enumerating every state and the full kernel."""


def gibbs_pair_law(dims: int, values: int) -> tuple[list[list[Fraction]], Fraction]:
    r"""Exact law of :math:`(x_0, x_1)` and :math:`E_\pi A`, :math:`A = \#\{i: x_i = x_{i+1}\}`, by transfer matrices.

    :math:`T[u,w] = 2^{[u=w]}(w+1)`; forward :math:`\alpha_0(u) = u+1`, :math:`\alpha_{i+1} = \alpha_i T`;
    backward :math:`\beta_{d-1} = 1`, :math:`\beta_i = T\beta_{i+1}`; :math:`Z = \sum_u \alpha_{d-1}(u)`,
    :math:`P(x_i = u, x_{i+1} = w) = \alpha_i(u)T[u,w]\beta_{i+1}(w)/Z`.  Exact integers throughout.
    """
    T = [[(2 if u == w else 1) * (w + 1) for w in range(values)] for u in range(values)]
    forward = [[u + 1 for u in range(values)]]
    for _ in range(dims - 1):
        forward.append([sum(forward[-1][u] * T[u][w] for u in range(values)) for w in range(values)])
    backward = [[1] * values]
    for _ in range(dims - 1):
        backward.insert(0, [sum(T[u][w] * backward[0][w] for w in range(values)) for u in range(values)])
    Z = sum(forward[-1])
    pair = [[Fraction(forward[0][u] * T[u][w] * backward[1][w], Z) for w in range(values)] for u in range(values)]
    mean = sum(
        (Fraction(forward[i][u] * T[u][u] * backward[i + 1][u], Z) for i in range(dims - 1) for u in range(values)),
        Fraction(0),
    )
    return pair, mean


@cache
def gibbs(dims: int, values: int, power: int) -> Derivation:
    r"""M4: a Gibbs update is an MH move whose acceptance ratio is exactly 1, so the chain keeps :math:`\pi`.

    General: with :math:`\rho(x) = C\,\ell_x`, :math:`\rho(y) = C\,\ell_y` (:math:`C` the factors not involving
    coordinate :math:`i`) and the proposal :math:`q(y|x) = \ell_y^{p}/S`, :math:`q(x|y) = \ell_x^{p}/S` (the
    same normaliser :math:`S`: :math:`x` and :math:`y` differ only in coordinate :math:`i`), the ratio is
    :math:`(\ell_y/\ell_x)^{1-p}`, which is 1 for the full conditional :math:`p = 1` — for every target.
    Instance: every local configuration (neighbours, old and new value) has ratio 1, exactly; the law of
    :math:`(x_0, x_1)` and :math:`E_\pi A` by exact transfer matrices, cross-checked by enumeration
    (and the full kernel's stationarity) when :math:`k^d \le` :data:`GIBBS_ENUMERATED`.
    Result: ``Tuple(E_pi A, 1, Matrix(law of (x_0, x_1)))``.
    """
    proof = Proof()
    C, l_x, l_y, p_ = Symbol("C", positive=True), Symbol("ell_x", positive=True), Symbol("ell_y", positive=True), Symbol("p", positive=True)
    general = sympy.Mul(
        C * l_y, l_x**p_ / S, sympy.Pow(sympy.Mul(C * l_x, l_y**p_ / S, evaluate=False), -1, evaluate=False), evaluate=False
    )
    proof.equal(
        r"MH ratio of a coordinate proposal proportional to $\rho^p$",
        general,
        (l_y / l_x) ** (1 - p_),
        rule=r"the factor $C$ and the coordinate's normaliser $S$ cancel",
        kind="general",
    )
    proof.equal(
        "Gibbs acceptance ratio (p = 1, the full conditional)",
        hastings_ratio(rho_x / S, rho_y / S),
        Integer(1),
        rule=r"$q(y|x) = \pi(y_i \mid x_{-i}) = \rho_y/S$",
        kind="general",
    )
    ends = [None, *range(values)]
    ratios = []
    for left, right in itertools.product(ends, ends):
        local = [_local(u, left, right) for u in range(values)]
        law = [w**power / sum(l**power for l in local) for w in local]
        ratios += [(local[new] * law[old] / (local[old] * law[new]), left, right, old, new)
                   for old in range(values) for new in range(values)]
    worst = max(ratios, key=lambda item: abs(item[0] - 1))
    proof.certify(
        "every acceptance ratio on the instance is 1 (largest $|r - 1|$)",
        Abs(Symbol("r") - 1),
        "=",
        Integer(0),
        rule="$\\rho(x^{i \\leftarrow u}) \\propto \\ell(u)$: only the local factors change",
        holds=worst[0] == 1,
        check=(
            f"exact over {len(ratios)} (left neighbour, right neighbour, old, new) configurations, ends included:"
            f" worst ratio {worst[0]} at neighbours {worst[1]}, {worst[2]}, values {worst[3]} -> {worst[4]}"
        ),
    )
    pair, mean = gibbs_pair_law(dims, values)
    law = Matrix(values * values, 1, [Rational(p.numerator, p.denominator) for row in pair for p in row])
    E_A = Rational(mean.numerator, mean.denominator)
    if values**dims <= GIBBS_ENUMERATED:
        states = gibbs_states(dims, values)
        weights = [gibbs_weight(state) for state in states]
        Z = sum(weights, Integer(0))
        enumerated = [Integer(0)] * (values * values)
        for state, weight in zip(states, weights):
            enumerated[state[0] * values + state[1]] += weight / Z
        proof.equal(
            "law of $(x_0, x_1)$: transfer matrices = enumeration",
            law,
            Matrix(enumerated),
            rule="sum-product over the chain $x_0 - x_1 - \\dots - x_{d-1}$",
            shown=(sympy.MatrixSymbol("p_T", values * values, 1), sympy.MatrixSymbol("p_enum", values * values, 1)),
        )
        proof.equal(
            "$E_\\pi A$: transfer matrices = enumeration",
            E_A,
            sympy.Add(*[w * sum(1 for l, r in zip(s, s[1:]) if l == r) for s, w in zip(states, weights)]) / Z,
            rule="linearity over the $d - 1$ neighbour pairs",
            shown=(Symbol("E_T"), Symbol("E_enum")),
        )
        index = {state: i for i, state in enumerate(states)}
        proposal: Kernel = {}
        for state, coordinate in itertools.product(states, range(dims)):
            conditional = normalise([gibbs_weight(state[:coordinate] + (u,) + state[coordinate + 1 :]) ** power for u in range(values)])
            for u, prob in enumerate(conditional):
                key = (index[state], index[state[:coordinate] + (u,) + state[coordinate + 1 :]])
                proposal[key] = proposal.get(key, Integer(0)) + prob / dims
        stationarity(proof, weights, metropolis_hastings(weights, proposal))
    else:
        proof.certify(
            "law of $(x_0, x_1)$ and $E_\\pi A$ by exact transfer matrices",
            Function("sum")(sympy.MatrixSymbol("p", values * values, 1)),
            "=",
            Integer(1),
            rule="sum-product over the chain $x_0 - x_1 - \\dots - x_{d-1}$ (exact integers)",
            holds=sum(law) == 1,
            check=f"{values}^{dims} states never enumerated; the {values * values} pair probabilities add up to exactly 1",
            kind="certificate",
        )
    return proof.finish(
        result=Tuple(E_A, Integer(1), law),
        conclusion=r"\alpha_{\mathrm{Gibbs}}(x, y) = 1,\ \pi P = \pi",
        proved_for=r"every target $\rho > 0$ and coordinate proposal $q(y|x) = \pi(y_i \mid x_{-i})$ (acceptance ratio 1)",
    )


# ---------------------------------------------------------------- M5 CGMH


def sentences(length: int, vocab: int) -> list[tuple[int, ...]]:
    return [s for size in range(1, length + 1) for s in itertools.product(range(vocab), repeat=size)]


def sentence_weight(sentence: tuple[int, ...]) -> sympy.Expr:
    r""":math:`\rho(s) = (1 + 3[0 \in s]) \prod_j 1/(s_j + 2)`: a keyword constraint times a unigram score."""
    return (1 + 3 * (0 in sentence)) / Integer(math.prod(w + 2 for w in sentence))


def _actions(size: int, length: int) -> list[str]:
    return ["replace"] + (["insert"] if size < length else []) + (["delete"] if size > 1 else [])


def _moves(sentence: tuple[int, ...], length: int, vocab: int) -> list[tuple[str, tuple[int, ...], sympy.Expr]]:
    """Every (action, result, probability) the CGMH proposal can make from ``sentence``."""
    words = normalise([Integer(w + 1) for w in range(vocab)])
    actions = _actions(len(sentence), length)
    moves = []
    for action in actions:
        slots = len(sentence) + (action == "insert")
        for pos in range(slots):
            if action == "delete":
                moves.append((action, sentence[:pos] + sentence[pos + 1 :], Rational(1, len(actions) * slots)))
                continue
            for w in range(vocab):
                tail = sentence[pos + (action == "replace") :]
                moves.append((action, sentence[:pos] + (w,) + tail, words[w] / (len(actions) * slots)))
    return moves


def _general_cgmh(proof: Proof) -> dict[str, sympy.Expr]:
    r"""The acceptance ratio of each CGMH move, for symbolic action probabilities, length :math:`\ell`, words, multiplicity."""
    ratios = {
        "insert": (a_ins * mult / (ell + 1) * g_w, a_del * mult / (ell + 1), rho_y * a_del / (rho_x * a_ins * g_w)),
        "delete": (a_del * mult / (ell + 1), a_ins * mult / (ell + 1) * g_w, rho_y * a_ins * g_w / (rho_x * a_del)),
        "replace": (a_rep / ell * g_u, a_rep / ell * g_w, rho_y * g_w / (rho_x * g_u)),
    }
    for action, (forward, backward, closed) in ratios.items():
        proof.equal(
            f"{action} acceptance ratio",
            hastings_ratio(backward, forward),
            closed,
            rule=r"$q(x|y)/q(y|x)$, equal multiplicities",
            kind="general",
        )
    return {action: closed for action, (_, _, closed) in ratios.items()}


def cgmh_proposal(length: int, vocab: int) -> tuple[list[tuple[int, ...]], Kernel, dict[tuple[int, int], int]]:
    """Sentences, the exact CGMH proposal, and for each move the number of insert/delete choices that make it."""
    space = sentences(length, vocab)
    index = {s: i for i, s in enumerate(space)}
    proposal: Kernel = {}
    ways: dict[tuple[int, int], int] = {}
    for s in space:
        for action, moved, prob in _moves(s, length, vocab):
            key = (index[s], index[moved])
            proposal[key] = proposal.get(key, Integer(0)) + prob
            ways[key] = ways.get(key, 0) + (action != "replace")
    return space, proposal, ways


def closed_form(
    closed: dict[str, sympy.Expr], before: tuple[int, ...], after: tuple[int, ...], length: int, vocab: int
) -> sympy.Expr:
    """The closed-form acceptance ratio of the move ``before -> after``, evaluated on the instance."""
    words = normalise([Integer(w + 1) for w in range(vocab)])
    values = {rho_x: sentence_weight(before), rho_y: sentence_weight(after)}
    if len(before) == len(after):
        changed = next(p for p, (old, new) in enumerate(zip(before, after)) if old != new)
        values.update({g_w: words[before[changed]], g_u: words[after[changed]]})
        return closed["replace"].xreplace(values)
    action = "insert" if len(after) > len(before) else "delete"
    short, long_ = (before, after) if action == "insert" else (after, before)
    dropped = next(long_[p] for p in range(len(long_)) if long_[:p] + long_[p + 1 :] == short)
    values.update(
        {
            a_ins: Rational(1, len(_actions(len(short), length))),
            a_del: Rational(1, len(_actions(len(long_), length))),
            g_w: words[dropped],
        }
    )
    return closed[action].xreplace(values)


CGMH_ENUMERATED = 2000
"""Up to this many sentences the CGMH instance is also checked by enumerating every sentence and move."""


def sentence_cell_law(length: int, vocab: int) -> tuple[list[sympy.Expr], sympy.Expr]:
    r"""Exact law of the cell :math:`(\ell, [0 \in s])` of :math:`s \sim \pi` and :math:`E_\pi \ell`, in closed form.

    With :math:`A = \sum_{w<v} 1/(w+2)` and :math:`B = \sum_{1\le w<v} 1/(w+2)`: sentences of length :math:`\ell`
    without the keyword carry :math:`B^\ell`, those with it :math:`4(A^\ell - B^\ell)` (the product expands over words).
    Cells are ordered :math:`2(\ell-1) + [0 \in s]`.
    """
    A = sum((Rational(1, w + 2) for w in range(vocab)), Integer(0))
    B = A - Rational(1, 2)
    masses = [m for size in range(1, length + 1) for m in (B**size, 4 * (A**size - B**size))]
    Z = sum(masses, Integer(0))
    law = [m / Z for m in masses]
    return law, sum((law[2 * (size - 1)] + law[2 * size - 1]) * size for size in range(1, length + 1))


@cache
def cgmh(length: int, vocab: int, hastings: int) -> Derivation:
    r"""M5: CGMH insert/delete/replace with acceptance :math:`\min(1, \rho(y)q(x|y)/(\rho(x)q(y|x)))` keeps detailed balance.

    General: each action's ratio in closed form (symbolic action probabilities, length, word probabilities,
    multiplicity :math:`m`), and the multiplicity lemma: inserting :math:`w` into a run of :math:`r` copies of
    :math:`w` gives the same sentence from :math:`r + 1` slots, and deleting from the resulting run of
    :math:`r + 1` copies gives back :math:`x` from :math:`r + 1` positions, so :math:`m` cancels.  With the MH
    flow lemma (M3) this is detailed balance for every target.  Instance: up to :data:`CGMH_ENUMERATED`
    sentences, the proposal counted exactly, every ratio against the closed forms, detailed balance on all
    pairs, stationarity; at every size, the law of (length, keyword) and :math:`E_\pi[\text{length}]` in closed
    form (:func:`sentence_cell_law`), cross-checked against enumeration when enumerated.
    Result: ``Tuple(E_pi[length], Matrix(law of the cells))``.
    """
    proof = Proof()
    closed = _general_cgmh(proof)
    runs = Symbol("r", integer=True, nonnegative=True)
    proof.equal(
        "insertion slots giving y = deletion positions of y giving x",
        runs + 1,
        (runs + 1) * (1 + 0 * runs),
        rule="a run of $r$ copies of $w$ has $r + 1$ slots that insert $w$ into it; the new run of $r + 1$ copies has $r + 1$ positions",
        shown=(Symbol("m_ins"), Symbol("m_del")),
        kind="general",
    )
    cells, mean = sentence_cell_law(length, vocab)
    space_size = sum(vocab**size for size in range(1, length + 1))
    if space_size <= CGMH_ENUMERATED:
        space, proposal, ways = cgmh_proposal(length, vocab)
        weights = [sentence_weight(s) for s in space]
        unequal = [(i, j) for (i, j), m in ways.items() if m and ways.get((j, i)) != m]
        proof.certify(
            "instance: insertion slots giving y = deletion positions of y giving x",
            Function("mismatches")(Symbol("m_ins"), Symbol("m_del")),
            "=",
            Integer(0),
            rule=r"inserting at slot $j$ and deleting position $j$ are inverse",
            holds=not unequal,
            check=f"exact count over {sum(1 for m in ways.values() if m)} insert/delete pairs: {len(unequal)} mismatches",
        )
        support_symmetric(proof, proposal, len(space))
        mismatched = [
            (space[i], space[j])
            for (i, j), prob in proposal.items()
            if i != j
            and closed_form(closed, space[i], space[j], length, vocab) != weights[j] * proposal[(j, i)] / (weights[i] * prob)
        ]
        proof.certify(
            "the instance's ratios have the closed forms",
            Function("mismatches")(Symbol("ratio"), Symbol("closed_form")),
            "=",
            Integer(0),
            rule=r"action probabilities $1/\#\mathrm{allowed}$, words $g_w = (w+1)/\sum$",
            holds=not mismatched,
            check=f"exact over {sum(1 for i, j in proposal if i != j)} moves: {len(mismatched)} mismatches",
        )
        kernel = metropolis_hastings(weights, proposal, hastings=bool(hastings))
        detailed_balance(proof, weights, kernel, lambda i: str(space[i]))
        law = stationarity(proof, weights, kernel)
        enumerated = [Integer(0)] * (2 * length)
        for sentence, p in zip(space, law):
            enumerated[2 * (len(sentence) - 1) + (0 in sentence)] += p
        proof.equal(
            "law of (length, keyword): closed form = enumeration",
            Matrix(cells),
            Matrix(enumerated),
            rule="$\\sum_{|s| = \\ell} \\prod_j 1/(s_j+2) = A^\\ell$, without the keyword $B^\\ell$",
            shown=(sympy.MatrixSymbol("p_closed", 2 * length, 1), sympy.MatrixSymbol("p_enum", 2 * length, 1)),
        )
    else:
        proof.certify(
            "law of (length, keyword) in closed form",
            Function("sum")(sympy.MatrixSymbol("p", 2 * length, 1)),
            "=",
            Integer(1),
            rule="$\\sum_{|s| = \\ell} \\prod_j 1/(s_j+2) = A^\\ell$, without the keyword $B^\\ell$",
            holds=sum(cells) == 1,
            check=f"{space_size} sentences never enumerated; the {2 * length} cell probabilities add up to exactly 1",
        )
    return proof.finish(
        result=Tuple(mean, Matrix(cells)),
        conclusion=r"\rho(x)P(x,y) = \rho(y)P(y,x) \text{ on sentences}",
        proved_for=r"every target on sentences: insert, delete and replace with the Hastings ratio",
    )
