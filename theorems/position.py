r"""Hierarchical position encoding (kexue.fm post 7947), exactly.

Trained absolute encodings :math:`p_1,\dots,p_n \in \mathbb{R}^d` are extended to
:math:`n^2` positions by

.. math:: q_{(i-1)n+j} = \alpha u_i + (1-\alpha) u_j,\qquad u_i = \frac{p_i - \alpha p_1}{1-\alpha},

defined for :math:`\alpha \ne 1`.  Every identity below is linear in the vectors, so it
holds in :math:`\mathbb{R}^d` iff it holds in each coordinate: the symbols
:math:`p_1, p_i, p_j, p_k, p_l` stand for one (arbitrary) coordinate and sympy checks the
identities for symbolic :math:`\alpha`; a last step specialises to the claim's
:math:`\alpha` and needs :math:`1-\alpha \ne 0`.

Collisions.  Two rows satisfy :math:`(1-\alpha)(q_{(i,j)} - q_{(k,l)}) = \sum_m c_m p_m` with
:math:`c = \alpha(e_i - e_k) + (1-\alpha)(e_j - e_l)`, and :math:`\sum_m c_m = 0`.  The vector
:math:`c` depends only on which of :math:`i, j, k, l` coincide, one of the 15 set partitions
("patterns") of the four slots, realised by :math:`n^{\underline{m}}` index tuples when the
pattern has :math:`m` blocks.  The genericity assumption is

    (G)  :math:`\sum_m c_m p_m \ne 0` for every coefficient vector :math:`c \ne 0` of this form,

i.e. rows collide only when the pattern forces it (:math:`c = 0`).  (G) holds for every
:math:`\alpha` when :math:`p_1,\dots,p_n` are affinely independent (the :math:`p_i - p_1`,
equivalently the :math:`u_i - u_1`, linearly independent: :math:`c` sums to zero, so
:math:`\sum c_m p_m = \sum_{m \ge 2} c_m (p_m - p_1)`); that needs :math:`d \ge n-1` and holds
for Lebesgue-almost every :math:`p` then.  In any dimension :math:`d \ge 1`, (G) holds for
almost every :math:`p` at a fixed :math:`\alpha` (finitely many proper linear conditions).
Under (G) the patterns decide everything: a non-trivial pattern's :math:`c` vanishes only at
:math:`\alpha = 1/2` (the swap :math:`(i,j) \leftrightarrow (j,i)`), at :math:`\alpha = 0`
(:math:`j = l`) or at :math:`\alpha = 1` (excluded), so the map is injective exactly for
:math:`\alpha \notin \{0, \tfrac12, 1\}`.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import sympy
from sympy import FiniteSet, Integer, Matrix, Rational, S, Symbol

from twofold.derivation import Proof
from twofold.model import Derivation

alpha = Symbol("alpha", real=True)
n = Symbol("n", integer=True, positive=True)
p_1, p_i, p_j, p_k, p_l = sympy.symbols("p_1 p_i p_j p_k p_l", real=True)
u_i, u_j = sympy.symbols("u_i u_j", real=True)
EXACT_SIZE = 5  # largest n of the exact instance: realises every pattern (needs n >= 4)


def base(p_m: sympy.Expr, a: sympy.Expr = alpha) -> sympy.Expr:
    r""":math:`u_m = (p_m - \alpha p_1)/(1-\alpha)`."""
    return (p_m - a * p_1) / (1 - a)


def row(p_first: sympy.Expr, p_second: sympy.Expr, a: sympy.Expr = alpha) -> sympy.Expr:
    r""":math:`q_{(i-1)n+j} = \alpha u_i + (1-\alpha) u_j` for :math:`p_i` = ``p_first``, :math:`p_j` = ``p_second``."""
    return a * base(p_first, a) + (1 - a) * base(p_second, a)


@dataclass(frozen=True)
class Pattern:
    """Which of the slots ``(i, j, k, l)`` coincide: ``labels[s]`` is the block of slot ``s``."""

    labels: tuple[int, int, int, int]

    @property
    def blocks(self) -> int:
        return max(self.labels) + 1

    @property
    def trivial(self) -> bool:
        """Same position on both sides: ``(i, j) = (k, l)``."""
        return self.labels[:2] == self.labels[2:]

    def coefficients(self, a: sympy.Expr = alpha) -> Matrix:
        r""":math:`c = a(e_i - e_k) + (1-a)(e_j - e_l)` on the pattern's blocks."""
        c = [Integer(0)] * self.blocks
        i, j, k, l = self.labels
        for slot, weight in ((i, a), (k, -a), (j, 1 - a), (l, a - 1)):
            c[slot] += weight
        return Matrix([sympy.expand(entry) for entry in c])

    def vanishing_set(self) -> sympy.Set:
        r"""The real :math:`\alpha` at which :math:`c(\alpha) = 0`."""
        return sympy.Intersection(*(sympy.solveset(entry, alpha, S.Reals) for entry in self.coefficients()))

    def name(self) -> str:
        letters = "abcd"
        return "(" + ",".join(letters[b] for b in self.labels) + ")"


def patterns() -> tuple[Pattern, ...]:
    """The 15 set partitions of the slots ``(i, j, k, l)``, as restricted growth strings."""
    return tuple(
        Pattern(labels)
        for labels in itertools.product(range(4), repeat=4)
        if labels[0] == 0 and all(labels[t] <= max(labels[:t]) + 1 for t in range(1, 4))
    )


def _defined(proof: Proof, a: Rational) -> None:
    """The step every claim needs: the base vectors exist, :math:`1 - \\alpha \\ne 0`."""
    proof.certify(
        rf"$u_i$ is defined at $\alpha = {sympy.latex(a)}$",
        sympy.Abs(1 - a, evaluate=False),
        ">",
        Integer(0),
        rule=r"$u_i = (p_i - \alpha p_1)/(1 - \alpha)$ divides by $1 - \alpha$",
        holds=1 - a != 0,
        check=f"1 - alpha = {1 - a}",
    )


def _specialise(proof: Proof, description: str, lhs: sympy.Expr, rhs: sympy.Expr, a: Rational) -> sympy.Expr:
    """Record the symbolic identity, then its instance at ``alpha = a``; returns the instance's residual."""
    proof.equal(description, lhs, rhs, rule=r"cancel the factor $1 - \alpha$ ($\alpha \ne 1$)", kind="general")
    _defined(proof, a)
    instance = proof.equal(
        rf"{description}, at $\alpha = {sympy.latex(a)}$",
        lhs.subs(alpha, a),
        rhs.subs(alpha, a),
        rule=rf"$\alpha = {sympy.latex(a)}$",
        shown=(sympy.Subs(lhs, alpha, a), rhs.subs(alpha, a)),
    )
    return sympy.simplify(lhs.subs(alpha, a) - instance)


def first_block(a: Rational) -> Derivation:
    r"""P1: :math:`u_1 = p_1` and :math:`q_j = \alpha u_1 + (1-\alpha)u_j = p_j` for :math:`j \le n`.

    Result: the residual :math:`q_j - p_j` at :math:`\alpha` = ``a`` (exactly 0).
    """
    proof = Proof()
    proof.equal(
        "the first base vector is $p_1$", base(p_1), p_1, rule=r"$(p_1 - \alpha p_1)/(1 - \alpha) = p_1$", kind="general"
    )
    residual = _specialise(proof, r"$q_j = \alpha u_1 + (1 - \alpha) u_j = p_j$", row(p_1, p_j), p_j, a)
    return proof.finish(result=residual, conclusion=r"q_j = p_j \quad (1 \le j \le n)", proved_for=r"every $\alpha \ne 1$")


def block_shift(a: Rational) -> Derivation:
    r"""P2: :math:`q_{(i-1)n+j} - q_j = \frac{\alpha}{1-\alpha}(p_i - p_1)`: block :math:`i` is block 1 translated.

    Result: the residual of the identity at :math:`\alpha` = ``a`` (exactly 0).
    """
    proof = Proof()
    proof.equal(
        "within a block only $u_i$ changes",
        row(p_i, p_j) - row(p_1, p_j),
        alpha * (base(p_i) - base(p_1)),
        rule=r"$q_{(i-1)n+j} - q_j = \alpha (u_i - u_1)$",
        kind="general",
    )
    residual = _specialise(proof, "block shift", row(p_i, p_j) - row(p_1, p_j), shift_coefficient() * (p_i - p_1), a)
    return proof.finish(
        result=residual,
        conclusion=r"q_{(i-1)n+j} - q_j = \tfrac{\alpha}{1-\alpha}(p_i - p_1)",
        proved_for=r"every $\alpha \ne 1$",
    )


def shift_coefficient() -> sympy.Expr:
    r"""P2's coefficient :math:`\alpha/(1-\alpha)`."""
    return alpha / (1 - alpha)


def swap_coefficient() -> sympy.Expr:
    r"""P3's coefficient :math:`2\alpha - 1` of :math:`u_i - u_j`."""
    return 2 * alpha - 1


def swap_difference(a: Rational) -> Derivation:
    r"""P3: :math:`q_{(i-1)n+j} - q_{(j-1)n+i} = (2\alpha-1)(u_i - u_j) = \frac{2\alpha-1}{1-\alpha}(p_i - p_j)`.

    The difference vanishes for :math:`p_i \ne p_j` exactly when :math:`\alpha = 1/2`.
    Result: the residual of the identity at :math:`\alpha` = ``a`` (exactly 0).
    """
    proof = Proof()
    swapped = row(p_i, p_j) - row(p_j, p_i)
    proof.equal(
        "swap the two indices",
        alpha * u_i + (1 - alpha) * u_j - (alpha * u_j + (1 - alpha) * u_i),
        swap_coefficient() * (u_i - u_j),
        rule="collect $u_i$ and $u_j$",
        kind="general",
    )
    proof.equal(
        "in terms of $p$",
        swap_coefficient() * (base(p_i) - base(p_j)),
        swap_coefficient() / (1 - alpha) * (p_i - p_j),
        rule=r"$u_i - u_j = (p_i - p_j)/(1 - \alpha)$",
        kind="general",
    )
    zeros = sympy.solveset(2 * alpha - 1, alpha, S.Reals)
    proof.certify(
        r"the swap difference vanishes only at $\alpha = 1/2$",
        sympy.Function("Z")(2 * alpha - 1),
        "=",
        zeros,
        rule=r"$p_i \ne p_j$",
        holds=zeros == FiniteSet(Rational(1, 2)),
        kind="general",
        check=f"solveset(2 alpha - 1, alpha, Reals) = {zeros}",
    )
    residual = _specialise(proof, "swap difference", swapped, swap_coefficient() / (1 - alpha) * (p_i - p_j), a)
    return proof.finish(
        result=residual,
        conclusion=r"q_{(i-1)n+j} - q_{(j-1)n+i} = (2\alpha-1)(u_i - u_j)",
        proved_for=r"every $\alpha \ne 1$",
    )


def colliding_patterns(a: Rational) -> tuple[Pattern, ...]:
    """The non-trivial patterns whose coefficient vector vanishes at ``alpha = a``."""
    return tuple(pt for pt in patterns() if not pt.trivial and pt.coefficients(a).is_zero_matrix)


def pair_sum(colliding: tuple[Pattern, ...]) -> sympy.Expr:
    r"""Unordered colliding pairs of positions, :math:`\tfrac12\sum_\pi n^{\underline{m_\pi}}`, unevaluated:
    a pattern with :math:`m` blocks is realised by :math:`n^{\underline m}` index tuples (ordered pairs, halved)."""
    return sum((sympy.FallingFactorial(n, pt.blocks, evaluate=False) for pt in colliding), Integer(0)) / 2


def moment_curve(size: int) -> list[list[Rational]]:
    r"""Exact points :math:`p_m = (m, m^2, \dots, m^{\mathit{size}-1})`, :math:`m = 1..\mathit{size}`:
    affinely independent (the differences form a Vandermonde-type matrix of full rank)."""
    return [[Integer(m) ** power for power in range(1, size)] for m in range(1, size + 1)]


def exact_collisions(points: list[list[Rational]], a: Rational) -> int:
    """Unordered pairs of equal rows of the exact table built from ``points`` at ``alpha = a``."""
    bases = [[(x - a * y) / (1 - a) for x, y in zip(point, points[0])] for point in points]
    rows = Counter(tuple(a * x + (1 - a) * y for x, y in zip(first, second)) for first in bases for second in bases)
    return sum(m * (m - 1) // 2 for m in rows.values())


def _collision_steps(proof: Proof, size: int, a: Rational) -> sympy.Expr:
    """The steps shared by P3 (count) and P4 (capacity); returns the exact number of colliding pairs."""
    _defined(proof, a)
    proof.equal(
        "two rows differ by an affine combination of the $p$'s",
        (1 - alpha) * (row(p_i, p_j) - row(p_k, p_l)),
        alpha * (p_i - p_k) + (1 - alpha) * (p_j - p_l),
        rule="definition of $q$ and $u$",
        kind="general",
    )
    every = patterns()
    sums = [sum(pt.coefficients()) for pt in every]
    proof.certify(
        "every coefficient vector sums to zero, so (G) makes c = 0 the only way to collide",
        sympy.Function("sum")(sympy.Symbol("c_pi")),
        "=",
        Integer(0),
        rule=r"affinely independent $p$ (or generic $p$ at fixed $\alpha$): $\sum_m c_m p_m = 0$ with $\sum_m c_m = 0$ forces $c = 0$",
        holds=all(sympy.expand(total) == 0 for total in sums),
        kind="general",
        check=f"expand(sum c) = 0 for all {len(every)} patterns of (i, j, k, l)",
    )
    vanishing = {pt.name(): pt.vanishing_set() for pt in every if not pt.trivial}
    union = sympy.Union(*vanishing.values())
    proof.certify(
        r"a non-trivial pattern collides only at $\alpha \in \{0, 1/2, 1\}$",
        sympy.Function("Z")(sympy.Symbol("c_pi")),
        "=",
        union,
        rule=r"solve $c_\pi(\alpha) = 0$ for the 14 non-trivial patterns",
        holds=union.is_subset(FiniteSet(0, Rational(1, 2), 1)),
        kind="general",
        check="; ".join(f"{name}: {zeros}" for name, zeros in vanishing.items() if zeros != S.EmptySet),
    )
    colliding = colliding_patterns(a)
    realised = pair_sum(colliding)
    count = proof.equal(
        rf"colliding pairs at $\alpha = {sympy.latex(a)}$: patterns {', '.join(pt.name() for pt in colliding) or 'none'}",
        realised,
        sympy.factor(realised.doit()),
        rule=r"a pattern with $m$ blocks is realised by $n(n-1)\cdots(n-m+1)$ index tuples; halve ordered pairs",
        kind="general",
    ) if colliding else Integer(0)
    small = min(size, EXACT_SIZE)
    points = moment_curve(small)
    rank = Matrix([[x - y for x, y in zip(point, points[0])] for point in points[1:]]).rank() if small > 1 else 0
    counted = exact_collisions(points, a)
    proof.certify(
        f"exact instance: $n = {small}$ affinely independent rational points",
        sympy.Function("N_coll")(Integer(small)),
        "=",
        count.subs(n, small),
        rule=r"moment curve $p_m = (m, \dots, m^{n-1})$; exact table, rows grouped by equality",
        holds=rank == small - 1 and counted == count.subs(n, small),
        check=f"rank(p_m - p_1) = {rank}, equal-row pairs counted = {counted}",
    )
    return count.subs(n, size)


def collision_count(size: int, a: Rational) -> Derivation:
    r"""P3: under (G), the number of unordered pairs of equal rows is
    :math:`\binom n2` at :math:`\alpha = \tfrac12`, :math:`n\binom n2` at :math:`\alpha = 0`, else 0.

    Result: that number for ``size`` trained positions at :math:`\alpha` = ``a``.
    """
    proof = Proof()
    count = _collision_steps(proof, size, a)
    return proof.finish(result=count, conclusion=rf"N_{{\mathrm{{coll}}}}(n = {size}, \alpha = {sympy.latex(a)}) = {count}")


def capacity(size: int, a: Rational) -> Derivation:
    r"""P4: for :math:`\alpha \notin \{0, \tfrac12, 1\}` and (G), the :math:`n^2` positions get
    :math:`n^2` distinct vectors.

    The index map :math:`(i, j) \mapsto (i-1)n + j` is a bijection onto :math:`\{1..n^2\}`
    (checked by enumeration for ``size``) and no two rows collide.  At
    :math:`\alpha \in \{0, \tfrac12\}` the step "no two positions collide" fails and names the
    count.  Result: the number of distinct positions, :math:`n^2`.
    """
    proof = Proof()
    count = _collision_steps(proof, size, a)
    flat = {(i - 1) * size + j for i in range(1, size + 1) for j in range(1, size + 1)}
    proof.certify(
        r"$(i, j) \mapsto (i - 1) n + j$ enumerates the positions $1, \dots, n^2$ once each",
        sympy.Function("card")(sympy.Symbol("positions")),
        "=",
        Integer(len(flat)),
        rule=r"base-$n$ digits $(i - 1, j - 1)$",
        holds=len(flat) == size * size and min(flat) == 1 and max(flat) == size * size,
        check=f"exact enumeration for n = {size}: {len(flat)} distinct indices in [{min(flat)}, {max(flat)}]",
    )
    proof.certify(
        "no two positions collide",
        sympy.Function("N_coll")(Integer(size)),
        "=",
        Integer(0),
        rule=r"$\alpha \notin \{0, 1/2, 1\}$",
        holds=count == 0,
        check=f"pattern count at alpha = {a}: {count} colliding pairs",
    )
    return proof.finish(result=Integer(len(flat)), conclusion=rf"\#\{{q_s\}} = n^2 = {len(flat)}")


# --- known-false variants (twofold audit) ------------------------------------------------------


def _variant_shift_without_denominator(a: Rational) -> Derivation:
    r"""Wrong: block shift :math:`\alpha(p_i - p_1)` (the :math:`1/(1-\alpha)` of :math:`u` forgotten)."""
    proof = Proof()
    residual = _specialise(proof, "block shift", row(p_i, p_j) - row(p_1, p_j), alpha * (p_i - p_1), a)
    return proof.finish(result=residual, conclusion=r"q_{(i-1)n+j} - q_j = \alpha (p_i - p_1)")


def _variant_swap_sign(a: Rational) -> Derivation:
    r"""Wrong: swap coefficient :math:`1 - 2\alpha` for :math:`2\alpha - 1`."""
    proof = Proof()
    proof.equal(
        "swap the two indices",
        alpha * u_i + (1 - alpha) * u_j - (alpha * u_j + (1 - alpha) * u_i),
        (1 - 2 * alpha) * (u_i - u_j),
        rule="(wrong sign)",
        kind="general",
    )
    return proof.finish(result=Integer(0), conclusion=r"(1 - 2\alpha)(u_i - u_j)")


def _variant_ordered_pairs(size: int, a: Rational) -> Derivation:
    r"""Wrong: ordered pairs counted, :math:`\sum_\pi n^{\underline{m_\pi}}` not halved (:math:`n(n-1)` at :math:`\alpha = 1/2`)."""
    proof = Proof()
    count = 2 * _collision_steps(proof, size, a)
    return proof.finish(result=count, conclusion="ordered pairs")


def _variant_index_map(size: int, a: Rational) -> Derivation:
    r"""Wrong: positions indexed :math:`i n + j` instead of :math:`(i-1) n + j` (off by one block)."""
    proof = Proof()
    _collision_steps(proof, size, a)
    flat = {i * size + j for i in range(1, size + 1) for j in range(1, size + 1)}
    proof.certify(
        r"$(i, j) \mapsto i n + j$ enumerates the positions $1, \dots, n^2$ once each",
        sympy.Function("card")(sympy.Symbol("positions")),
        "=",
        Integer(len(flat)),
        rule="(wrong) $i n + j$",
        holds=len(flat) == size * size and min(flat) == 1 and max(flat) == size * size,
        check=f"indices in [{min(flat)}, {max(flat)}]",
    )
    return proof.finish(result=Integer(len(flat)), conclusion="n^2")
