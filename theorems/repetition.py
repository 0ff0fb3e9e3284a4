r"""Seq2Seq repetition as a Markov chain (kexue.fm post 8128), exactly.

A decoder is a row-stochastic :math:`P` (:math:`P_{ij}` = probability of token
:math:`j` after :math:`i`), :math:`Q = P\circ P`, and

.. math:: R = \sum_{k\ge1}\operatorname{tr}(Q^k)
          = \operatorname{tr}\bigl(Q(I-Q)^{-1}\bigr)
          = \sum_{\lambda}\frac{\lambda}{1-\lambda}\qquad(\rho(Q) < 1)

weights every closed walk by the probability of walking it twice in a row.

Each derivation has a generic part — identities checked symbolically (a
:math:`2\times2` matrix with symbolic entries, a symbolic eigenvalue
:math:`\lambda = x_\lambda + i y_\lambda`, an induction step with an undefined
polynomial, a symbolic probability row) — and a concrete part on an exact
rational chain built from integer weights (:math:`P_{ij} = w_{ij}/\sum_l w_{il}`),
where spectral facts are certified by Sturm sequences (``Poly.count_roots``) and
real-root isolation (``Poly.intervals``) of :math:`\chi_Q(x) = \det(xI - Q)`.

Assumed, not re-derived: the Perron–Frobenius theorem for non-negative
matrices (:math:`\rho(Q)` is itself an eigenvalue, hence the largest real root of
:math:`\chi_Q`) and the Collatz–Wielandt bounds
:math:`\min_i (Qx)_i/x_i \le \rho(Q) \le \max_i (Qx)_i/x_i` for :math:`x > 0`; the
concrete certificates check their consequences exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import sympy
from sympy import CRootOf, I, Integer, Matrix, Poly, Rational, Symbol, Tuple, oo

from twofold.derivation import Proof
from twofold.model import Derivation

x = Symbol("x")
k = Symbol("k", integer=True, positive=True)
q = Symbol("q")
lam = Symbol("lambda")
a, b, c, d = sympy.symbols("a b c d", nonnegative=True)
x_lam, y_lam = sympy.symbols("x_lambda y_lambda", real=True)
r, rho = sympy.symbols("r rho", positive=True)
u, w = sympy.symbols("u w", positive=True)
v = Symbol("v", nonnegative=True)
v_pos = Symbol("v", positive=True)
t = Symbol("t", real=True)
SYMBOLIC_Q = Matrix([[a, b], [c, d]])
SEPARATION_DIGITS = (10, 20, 40)

Weights = Sequence[Sequence[int]]


def transition_matrix(weights: Weights) -> Matrix:
    r"""Exact :math:`P_{ij} = w_{ij}/\sum_l w_{il}`."""
    return Matrix([[Rational(int(entry), sum(int(e) for e in row)) for entry in row] for row in weights])


def hadamard_square(P: Matrix) -> Matrix:
    r""":math:`Q = P\circ P`."""
    return P.multiply_elementwise(P)


def charpoly(Q: Matrix) -> Poly:
    r""":math:`\chi_Q(x) = \det(xI - Q)` as a polynomial in :math:`x` (coefficients rational or symbolic)."""
    return Poly(Q.charpoly(x).as_expr(), x)


def perron_root(chi: Poly) -> CRootOf:
    r"""The largest real root of ``chi``: :math:`\rho(Q)` by Perron–Frobenius.

    ``CRootOf`` lists real roots first, ascending, repeated by multiplicity;
    ``Poly.intervals`` gives each distinct real root with its multiplicity.
    """
    return CRootOf(chi, sum(multiplicity for _, multiplicity in chi.intervals()) - 1)


def perron_interval(chi: Poly, digits: int) -> tuple[Rational, Rational]:
    r"""An exact rational isolating interval of the largest real root, of width :math:`\le 10^{-\mathrm{digits}}`."""
    (low, high), _ = chi.intervals()[-1]
    return chi.refine_root(low, high, eps=Rational(1, 10**digits))


def resolvent_trace(Q: Matrix) -> sympy.Expr:
    r""":math:`\operatorname{tr}(Q(I-Q)^{-1})`, exactly."""
    return (Q * (sympy.eye(Q.rows) - Q).inv()).trace()


def log_derivative_sum(chi: Poly) -> sympy.Expr:
    r""":math:`\sum_\lambda \lambda/(1-\lambda) = \chi'(1)/\chi(1) - n` (eigenvalues with multiplicity)."""
    return chi.diff(x).eval(1) / chi.eval(1) - chi.degree()


def chain(weights: Weights) -> tuple[Matrix, Matrix, Poly]:
    """The exact :math:`P`, :math:`Q = P\\circ P` and :math:`\\chi_Q` of an integer-weight instance."""
    P = transition_matrix(weights)
    Q = hadamard_square(P)
    return P, Q, charpoly(Q)


def _rho_below_one(proof: Proof, chi: Poly) -> None:
    r"""Certify :math:`\rho(Q) < 1`: :math:`\chi_Q` has no real root in :math:`[1,\infty)`, and :math:`\rho(Q)` is a real root."""
    count = chi.count_roots(1, None)
    proof.certify(
        r"$\rho(Q) < 1$: $\chi_Q$ has no real root $\ge 1$",
        sympy.Function("N_real")(chi.as_expr(), sympy.Interval(1, oo)),
        "=",
        Integer(0),
        rule=r"Sturm count; $\rho(Q)$ is a real eigenvalue (Perron--Frobenius)",
        holds=count == 0,
        check=f"Poly(chi_Q).count_roots(1, oo) = {count}; chi_Q(1) = {chi.eval(1)}; rho(Q) = {sympy.N(perron_root(chi), 15)}",
    )


def _geometric_series(proof: Proof) -> None:
    total = sympy.summation(lam**k, (k, 1, oo))
    value, condition = total.args[0] if isinstance(total, sympy.Piecewise) else (total, sympy.true)
    proof.certify(
        "geometric series of one eigenvalue",
        sympy.Sum(lam**k, (k, 1, oo)),
        "=",
        lam / (1 - lam),
        rule=r"converges iff $|\lambda| < 1$: for every eigenvalue iff $\rho(Q) < 1$",
        holds=sympy.cancel(value - lam / (1 - lam)) == 0 and condition == (sympy.Abs(lam) < 1),
        check=f"sympy.summation(lambda**k, (k, 1, oo)) = {sympy.sstr(value)} if {sympy.sstr(condition)}",
        kind="general",
    )


def neumann(proof: Proof) -> tuple[sympy.Expr, sympy.Expr]:
    r"""The Neumann series for a symbolic :math:`\rho \in (0, 1)`, written :math:`\rho = 1/(1+v)`, :math:`v > 0`:
    :math:`\sum_{k\ge0}\rho^k = 1/(1-\rho)` and :math:`\sum_{k\ge0} k\rho^k = \rho/(1-\rho)^2`, so
    :math:`\sum_{k\ge1}\rho^k = \rho/(1-\rho)`: the constant of :math:`R \le n\rho/(1-\rho)` comes from here."""
    k0 = Symbol("k", integer=True, nonnegative=True)
    point = {rho: 1 / (1 + v_pos)}
    total = proof.equal(
        "Neumann series, $\\rho = 1/(1+v)$ covers every $\\rho \\in (0, 1)$",
        sympy.Sum((rho**k0).subs(point), (k0, 0, oo)),
        (1 / (1 - rho)).subs(point),
        rule="geometric series, ratio $1/(1+v) < 1$",
        shown=(sympy.Sum(rho**k0, (k0, 0, oo)), 1 / (1 - rho)),
        kind="general",
    )
    proof.equal(
        "its derivative series",
        sympy.Sum((k0 * rho**k0).subs(point), (k0, 0, oo)),
        (rho / (1 - rho) ** 2).subs(point),
        rule="$\\rho\\, d/d\\rho$ of the geometric series",
        shown=(sympy.Sum(k0 * rho**k0, (k0, 0, oo)), rho / (1 - rho) ** 2),
        kind="general",
    )
    from_one = proof.equal(
        "drop the $k = 0$ term",
        sympy.Add(1 / (1 - rho), -1, evaluate=False),
        rho / (1 - rho),
        rule="$\\sum_{k \\ge 1} \\rho^k = \\sum_{k \\ge 0} \\rho^k - 1$",
        kind="general",
    )
    return total, from_one


def _telescoping(proof: Proof) -> None:
    r""":math:`(1-q)q^k = q^k - q^{k+1}`; summed over :math:`k = 1..K` it telescopes to :math:`q - q^{K+1}`, an
    identity of polynomials in one variable, so it holds for :math:`q = Q` (polynomials in :math:`Q` commute)."""
    proof.equal(
        "partial sums telescope, term by term",
        (1 - q) * q**k,
        q**k - q ** (k + 1),
        rule=r"sum over $k = 1..K$: $(I - Q)\sum_{k \le K} Q^k = Q - Q^{K+1}$; the remainder $Q^{K+1} \to 0$ iff $\rho(Q) < 1$",
        kind="general",
    )


def _log_derivative(proof: Proof) -> None:
    f = sympy.Function("chi")
    proof.equal(
        r"log-derivative $\chi'/\chi = \sum_i 1/(x - \lambda_i)$, induction step",
        sympy.diff((x - lam) * f(x), x) / ((x - lam) * f(x)),
        1 / (x - lam) + sympy.diff(f(x), x) / f(x),
        rule=r"$\chi_n = (x - \lambda_n) \chi_{n-1}$; so $\chi'(1)/\chi(1) = \sum_i 1/(1 - \lambda_i)$",
        kind="general",
    )
    proof.equal(
        "one term", sympy.Add(1 / (1 - lam), -1, evaluate=False), lam / (1 - lam),
        rule=r"so $\sum_i \lambda_i/(1-\lambda_i) = \chi'(1)/\chi(1) - n$", kind="general",
    )


def _two_by_two(proof: Proof) -> None:
    disc = sympy.sqrt((a - d) ** 2 + 4 * b * c)
    eigen_sum = sum(e / (1 - e) for e in ((a + d - disc) / 2, (a + d + disc) / 2))
    proof.equal(
        r"symbolic $2\times 2$ $Q$: resolvent trace $=$ eigenvalue sum",
        resolvent_trace(SYMBOLIC_Q),
        eigen_sum,
        rule=r"eigenvalues $(a + d \mp \sqrt{(a - d)^2 + 4bc})/2$",
        kind="general",
    )
    proof.equal(
        r"symbolic $2\times 2$ $Q$: eigenvalue sum $= \chi'(1)/\chi(1) - 2$",
        eigen_sum,
        log_derivative_sum(charpoly(SYMBOLIC_Q)),
        rule="log-derivative",
        kind="general",
    )


def series_identity(weights: Weights) -> Derivation:
    r"""R1: :math:`\sum_{k\ge1}\operatorname{tr}(Q^k) = \operatorname{tr}(Q(I-Q)^{-1}) = \sum_\lambda \lambda/(1-\lambda)`
    when :math:`\rho(Q) < 1`; result: the exact :math:`R` of the instance (a rational).

    Generic: the geometric series of each eigenvalue (and its convergence
    condition), telescoping partial sums, the log-derivative identity
    :math:`\chi'(1)/\chi(1) = \sum 1/(1-\lambda)`, all on a symbolic :math:`2\times2` matrix
    or symbolic eigenvalue.  Instance: :math:`\rho(Q) < 1` by a Sturm count; the
    resolvent trace (matrix inversion) equals the eigenvalue sum (characteristic
    polynomial); partial sum plus exact remainder :math:`\operatorname{tr}(Q^{K+1}(I-Q)^{-1})`
    equals :math:`R`.  Without :math:`\rho(Q) < 1` (a one-hot cycle) the Sturm step fails.
    """
    proof = Proof()
    _geometric_series(proof)
    neumann(proof)
    _telescoping(proof)
    _log_derivative(proof)
    _two_by_two(proof)
    _, Q, chi = chain(weights)
    _rho_below_one(proof, chi)
    total = resolvent_trace(Q)
    eigen_sum = log_derivative_sum(chi)
    proof.certify(
        "instance: resolvent trace = sum over the eigenvalues",
        sympy.Function("tr")(Symbol("Q(I-Q)^{-1}")),
        "=",
        eigen_sum,
        rule="inverse over Q (Gauss-Jordan) vs characteristic polynomial",
        holds=total == eigen_sum,
        check=f"tr(Q (I - Q)^-1) = {total}; chi'(1)/chi(1) - n = {eigen_sum}",
    )
    terms = Q.rows
    partial = sum((Q**j).trace() for j in range(1, terms + 1))
    proof.equal(
        f"instance: partial sum to $K = {terms}$ plus exact remainder",
        partial + (Q ** (terms + 1) * (sympy.eye(Q.rows) - Q).inv()).trace(),
        total,
        rule=r"$\sum_{k > K} Q^k = Q^{K+1} (I - Q)^{-1}$",
        shown=(
            sympy.Add(Symbol(f"S_{terms}"), sympy.Function("tr")(Symbol(f"Q^{terms + 1}(I-Q)^(-1)")), evaluate=False),
            total,
        ),
    )
    return proof.finish(
        result=total,
        conclusion=rf"R = \sum_{{k\ge1}}\operatorname{{tr}}(Q^k) = {sympy.latex(total)}",
        proved_for=r"every non-negative $Q$ with $\rho(Q) < 1$ (series, resolvent and eigenvalue sum agree)",
    )


def _real_part_bound(proof: Proof) -> None:
    r"""For :math:`|\lambda| = r \le \rho < 1`: :math:`\operatorname{Re}\frac{\lambda}{1-\lambda} \le \frac{r}{1-r} \le \frac{\rho}{1-\rho}`."""
    eigenvalue = x_lam + I * y_lam
    real_part = proof.equal(
        r"real part of $\lambda/(1 - \lambda)$, $\lambda = x + iy$",
        sympy.re(eigenvalue / (1 - eigenvalue)),
        (x_lam - x_lam**2 - y_lam**2) / ((1 - x_lam) ** 2 + y_lam**2),
        rule=r"multiply by the conjugate of $1 - \lambda$",
        kind="general",
    )
    on_circle = proof.equal(
        r"in terms of $r = |\lambda|$",
        real_part.subs(y_lam, sympy.sqrt(r**2 - x_lam**2)),
        (x_lam - r**2) / (1 - 2 * x_lam + r**2),
        rule="x^2 + y^2 = r^2",
        kind="general",
    )
    gap = proof.equal(
        r"gap to $r/(1 - r)$",
        r / (1 - r) - on_circle,
        (1 + r) * (r - x_lam) / ((1 - r) * ((1 - r) ** 2 + 2 * (r - x_lam))),
        rule="common denominator",
        kind="general",
    )
    proof.compare(
        "the gap is non-negative",
        (1 + r) * v / (u * (u**2 + 2 * v)),
        ">=",
        Integer(0),
        rule=rf"the gap ${sympy.latex(gap)}$ with $u = 1 - r > 0$ ($r \le \rho < 1$), $v = r - x \ge 0$ ($\operatorname{{Re}} \lambda \le |\lambda|$)",
        kind="general",
    )
    monotone = proof.equal(
        r"$r/(1 - r)$ is increasing",
        rho / (1 - rho) - r / (1 - r),
        (rho - r) / ((1 - rho) * (1 - r)),
        rule="common denominator",
        kind="general",
    )
    proof.compare(
        r"so $r \le \rho$ gives $r/(1 - r) \le \rho/(1 - \rho)$",
        v / (u * w),
        ">=",
        Integer(0),
        rule=rf"${sympy.latex(monotone)}$ with $v = \rho - r \ge 0$, $u = 1 - \rho > 0$, $w = 1 - r > 0$",
        kind="general",
    )


def spectral_bound(weights: Weights) -> Derivation:
    r"""R2: :math:`R \le n\rho/(1-\rho)` with :math:`\rho = \rho(Q) < 1`, complex eigenvalues included;
    result: the tightness ratio :math:`R/(n\rho/(1-\rho))` of the instance (exact, with ``CRootOf``).

    :math:`R` is real (each :math:`\operatorname{tr}(Q^k)` is), so
    :math:`R = \sum_\lambda \operatorname{Re}\frac{\lambda}{1-\lambda} \le \sum_\lambda \frac{|\lambda|}{1-|\lambda|}
    \le n\frac{\rho}{1-\rho}`; the termwise inequality is derived for a symbolic complex
    :math:`\lambda`.  Instance: with :math:`R` exact and :math:`\rho` the largest real root,
    :math:`R \le n\rho/(1-\rho) \iff \rho \ge R/(n+R)`, certified by a Sturm count on
    :math:`[R/(n+R), \infty)`.
    """
    proof = Proof()
    neumann(proof)
    _real_part_bound(proof)
    _, Q, chi = chain(weights)
    _rho_below_one(proof, chi)
    n = Q.rows
    total = resolvent_trace(Q)
    threshold = total / (n + total)
    above = chi.count_roots(threshold, None)
    perron = perron_root(chi)
    proof.certify(
        r"instance: $R \le n \rho/(1 - \rho)$, i.e. $\rho \ge R/(n + R)$",
        Symbol("R"),
        "<=",
        n * perron / (1 - perron),
        rule=r"Sturm count of $\chi_Q$ on $[R/(n+R), \infty)$; $\rho$ is its largest real root",
        holds=above >= 1,
        check=f"R = {total}; Poly(chi_Q).count_roots({threshold}, oo) = {above}; "
        f"non-real eigenvalues: {n - chi.count_roots()}",
    )
    ratio = total * (1 - perron) / (n * perron)
    return proof.finish(
        result=ratio,
        conclusion=rf"R \le n\rho/(1-\rho),\ \text{{ratio }} {sympy.N(ratio, 6)}",
        proved_for=r"every chain with $\rho(Q) < 1$, complex eigenvalues included",
    )


def _variant_bound_without_rho(weights: Weights) -> Derivation:
    r"""Known-false: the bound :math:`n/(1-\rho)` (the :math:`k = 0` term kept): the ratio is :math:`R(1-\rho)/n`."""
    right = spectral_bound(weights)
    _, Q, chi = chain(weights)
    perron = perron_root(chi)
    return Derivation(right.steps, resolvent_trace(Q) * (1 - perron) / Q.rows, right.conclusion)


def _variant_series_from_zero(weights: Weights) -> Derivation:
    r"""Known-false: :math:`R = \operatorname{tr}((I-Q)^{-1})`, the Neumann series from :math:`k = 0` (:math:`n` too large)."""
    right = series_identity(weights)
    return Derivation(right.steps, right.result + len(weights), right.conclusion)


def _two_by_two_row_sums(proof: Proof) -> None:
    r"""A monic quadratic is :math:`\le 0` between its roots: :math:`\chi(s_{\min}) \le 0 \le \chi(s_{\max})` puts :math:`\rho` in between."""
    chi = SYMBOLIC_Q.charpoly(x).as_expr()
    low, high = a + b, c + d
    proof.equal(
        r"$2\times 2$: $\chi$ at the first row sum",
        chi.subs(x, low),
        -b * (high - low),
        rule="chi(x) = (x - a)(x - d) - bc",
        kind="general",
    )
    proof.equal("2x2: chi at the second row sum", chi.subs(x, high), c * (high - low), rule="same", kind="general")
    proof.compare(
        r"with $a + b \le c + d$: $\chi(s_{\min}) \le 0$",
        -b * v,
        "<=",
        Integer(0),
        rule=r"$v = s_{\max} - s_{\min} \ge 0$; so $s_{\min}$ lies between the roots and $\rho \ge s_{\min}$",
        kind="general",
    )
    proof.compare(
        r"and $\chi(s_{\max}) \ge 0$",
        c * v,
        ">=",
        Integer(0),
        rule=r"$s_{\max} \ge s_{\min} \ge$ the smaller root, so $s_{\max} \ge \rho$",
        kind="general",
    )


def row_sum_bounds(weights: Weights) -> Derivation:
    r"""R3: :math:`\min_i \sum_j P_{ij}^2 \le \rho(Q) \le \max_i \sum_j P_{ij}^2`; result: the exact :math:`\rho(Q)` (``CRootOf``).

    Generic: the :math:`2\times2` symbolic case from the sign of :math:`\chi` at the row
    sums.  General :math:`n` is Collatz–Wielandt with :math:`x = \mathbf 1` (assumed); the
    instance is certified by Sturm counts: a real root :math:`\ge s_{\min}` exists, and
    none lies strictly above :math:`s_{\max}`.
    """
    proof = Proof()
    _two_by_two_row_sums(proof)
    _, Q, chi = chain(weights)
    sums = [sum(Q.row(i)) for i in range(Q.rows)]
    low, high = min(sums), max(sums)
    from_low = chi.count_roots(low, None)
    perron = perron_root(chi)
    proof.certify(
        r"instance: $\rho(Q) \ge$ the least row sum",
        perron,
        ">=",
        low,
        rule=r"Sturm count: a real root in $[s_{\min}, \infty)$, and $\rho$ is the largest",
        holds=from_low >= 1,
        check=f"Poly(chi_Q).count_roots({low}, oo) = {from_low}",
    )
    strictly_above = chi.count_roots(high, None) - (1 if chi.eval(high) == 0 else 0)
    proof.certify(
        r"instance: $\rho(Q) \le$ the largest row sum",
        perron,
        "<=",
        high,
        rule="Sturm count: no real root in (s_max, oo)",
        holds=strictly_above == 0,
        check=f"Poly(chi_Q).count_roots({high}, oo) - [chi_Q(s_max) = 0] = {strictly_above}",
    )
    return proof.finish(
        result=Tuple(perron, Integer(0)),
        conclusion=rf"{sympy.N(low, 6)} \le \rho(Q) = {sympy.N(perron, 12)} \le {sympy.N(high, 6)}",
    )


SparseRows = Sequence[Sequence[tuple[int, int]]]
"""A sparse integer-weight chain: row ``i`` lists its ``(token j, weight w_ij)`` pairs."""


def _perron_vector(rows: list[list[tuple[int, Fraction]]], n: int, iterations: int = 2000) -> list[float]:
    r"""A positive float approximation of the Perron vector of :math:`Q` by power iteration (any :math:`x > 0` is sound
    for Collatz–Wielandt; a good one makes the enclosure tight).  Every row has an entry, so :math:`x` stays positive."""
    import numpy as np
    import scipy.sparse

    data = [(i, j, float(q)) for i, row in enumerate(rows) for j, q in row]
    Q = scipy.sparse.csr_matrix(([d[2] for d in data], ([d[0] for d in data], [d[1] for d in data])), shape=(n, n))
    x = np.ones(n)
    for _ in range(iterations):
        y = Q @ x
        y /= y.max()
        if np.abs(y - x).max() <= 4e-16:
            x = y
            break
        x = y
    return [float(e) for e in x]


def row_sum_bounds_sparse(rows: SparseRows) -> Derivation:
    r"""R3 at scale (sparse chain, :math:`n` in the thousands): no characteristic polynomial; exact rational arithmetic.

    * the row sums :math:`s_i = \sum_j P_{ij}^2 = \sum_j w_{ij}^2/(\sum_j w_{ij})^2`, exactly;
    * Collatz–Wielandt with :math:`x = \mathbf 1` is the claim (the :math:`2\times2` case is derived symbolically above);
    * the instance: with a positive rational :math:`x` (a float power iteration, converted exactly), the exact ratios
      :math:`(Qx)_i/x_i` enclose :math:`\rho(Q)` in :math:`[\ell, h]`, and :math:`s_{\min} \le \ell`, :math:`h \le s_{\max}` are checked exactly.

    Result: ``Tuple(centre, radius)`` of the exact enclosure :math:`[\ell, h]`.
    """
    proof = Proof()
    _two_by_two_row_sums(proof)
    _, lower, upper, low, high = _sparse_enclosure(proof, rows)
    proof.certify(
        "instance: $\\rho(Q) \\ge$ the least row sum",
        Symbol("ell"),
        ">=",
        Symbol("s_min"),
        rule="exact comparison of rationals",
        holds=low <= lower,
        check=f"s_min = {float(low)!r} <= ell = {float(lower)!r}",
    )
    proof.certify(
        "instance: $\\rho(Q) \\le$ the largest row sum",
        Symbol("h"),
        "<=",
        Symbol("s_max"),
        rule="exact comparison of rationals",
        holds=upper <= high,
        check=f"h = {float(upper)!r} <= s_max = {float(high)!r}",
    )
    centre, radius = (lower + upper) / 2, (upper - lower) / 2
    return proof.finish(
        result=Tuple(Rational(centre.numerator, centre.denominator), Rational(radius.numerator, radius.denominator)),
        conclusion=rf"{float(low):.6g} \le \rho(Q) \in [{float(lower):.15g}, {float(upper):.15g}] \le {float(high):.6g}",
    )


def _sparse_enclosure(proof: Proof, rows: SparseRows) -> tuple[list, Fraction, Fraction, Fraction, Fraction]:
    """Exact rational Q of a sparse chain, and the certified Collatz-Wielandt enclosure [ell, h] of rho(Q); also s_min, s_max."""
    n = len(rows)
    exact_rows = [[(j, Fraction(w * w, sum(e for _, e in row) ** 2)) for j, w in row] for row in rows]
    sums = [sum((q for _, q in row), Fraction(0)) for row in exact_rows]
    low, high = min(sums), max(sums)
    x = [Fraction(e) for e in _perron_vector(exact_rows, n)]
    ratios = [sum((q * x[j] for j, q in row), Fraction(0)) / x[i] for i, row in enumerate(exact_rows)]
    lower, upper = min(ratios), max(ratios)
    nonzeros = sum(len(row) for row in rows)
    proof.certify(
        "instance: Collatz-Wielandt enclosure at a positive rational $x$",
        Symbol("ell"),
        "<=",
        Symbol("h"),
        rule="$\\min_i (Qx)_i/x_i \\le \\rho(Q) \\le \\max_i (Qx)_i/x_i$ for every $x > 0$",
        holds=all(e > 0 for e in x) and lower <= upper,
        check=f"exact rational arithmetic over {nonzeros} nonzeros of Q (n = {n}): "
        f"ell = {float(lower)!r}, h = {float(upper)!r}, width {float(upper - lower):.3g}",
    )
    return exact_rows, lower, upper, low, high


def spectral_bound_sparse(rows: SparseRows) -> Derivation:
    r"""R2 at scale (sparse chain, :math:`n` in the thousands): the bound in general, the instance by exact enclosures.

    General: the Neumann series and :math:`\operatorname{Re}\frac{\lambda}{1-\lambda} \le \frac{\rho}{1-\rho}` (as for
    small :math:`n`).  Instance, exact rationals: :math:`\rho(Q) \in [\ell, h]` (Collatz–Wielandt), :math:`h < 1` so the
    series converges, and :math:`R \in [\operatorname{tr} Q,\ n h/(1-h)]` — the lower end because every
    :math:`\operatorname{tr}(Q^k) \ge 0`, the upper end the bound itself at the top of the enclosure
    (:math:`r/(1-r)` is increasing).  Result: ``Tuple(rho centre, rho radius, R low, R high)``.
    """
    proof = Proof()
    neumann(proof)
    _real_part_bound(proof)
    exact_rows, lower, upper, _, _ = _sparse_enclosure(proof, rows)
    n = len(rows)
    proof.certify(
        "instance: $\\rho(Q) \\le h < 1$, so the series converges",
        Symbol("h"),
        "<",
        Integer(1),
        rule="Collatz-Wielandt upper end, exact",
        holds=upper < 1,
        check=f"h = {float(upper)!r}",
    )
    trace = sum((q for i, row in enumerate(exact_rows) for j, q in row if j == i), Fraction(0))
    top = n * upper / (1 - upper)
    proof.certify(
        "instance: $\\operatorname{tr} Q \\le R \\le n h/(1-h)$",
        sympy.Function("tr")(Symbol("Q")),
        "<=",
        n * Symbol("h") / (1 - Symbol("h")),
        rule="$\\operatorname{tr}(Q^k) \\ge 0$; $R \\le n\\rho/(1-\\rho) \\le n h/(1-h)$",
        holds=trace <= top,
        check=f"tr Q = {float(trace)!r}, n h/(1 - h) = {float(top)!r}",
    )
    as_rational = lambda f: Rational(f.numerator, f.denominator)  # noqa: E731
    return proof.finish(
        result=Tuple(as_rational((lower + upper) / 2), as_rational((upper - lower) / 2), as_rational(trace), as_rational(top)),
        conclusion=rf"R \le n\rho/(1-\rho) \le {float(top):.6g},\ \rho \in [{float(lower):.15g}, {float(upper):.15g}]",
        proved_for=r"every chain with $\rho(Q) < 1$, complex eigenvalues included",
    )


def multiplicity_of_one(chi: Poly) -> int:
    """How many times :math:`x - 1` divides ``chi`` (exact polynomial division)."""
    count, rest = 0, chi
    while rest.degree() > 0 and rest.eval(1) == 0:
        rest = sympy.quo(rest, Poly(x - 1, x))
        count += 1
    return count


def _power_diagonals(Q: Matrix, count: int) -> list[list[sympy.Expr]]:
    r"""The diagonals of :math:`Q, Q^2, \dots, Q^{\mathrm{count}}`."""
    power, diagonals = sympy.eye(Q.rows), []
    for _ in range(count):
        power = power * Q
        diagonals.append([power[i, i] for i in range(Q.rows)])
    return diagonals


def greedy_cycle(weights: Weights, periods: int) -> Derivation:
    r"""R4: a greedy (one-hot) chain has :math:`\rho(Q) = 1` and :math:`R = \infty`; result: the
    multiplicity of the eigenvalue 1 of :math:`Q`, which is the number of its cycles.

    A one-hot :math:`P` is a map :math:`f` (every map of a finite set has a cycle);
    :math:`Q = P`; in an order that lists each cycle's states together and then the
    others, :math:`P` is block triangular with cyclic-permutation blocks
    (:math:`\chi = x^L - 1`, a simple root 1 each) and a nilpotent rest, so the
    multiplicity of 1 counts the cycles.  All row sums are 1 (so
    :math:`\rho \le 1`, R3) and 1 is a root, so :math:`\rho = 1`.  Divergence: with
    :math:`L` the shortest cycle, the :math:`L` states on it are fixed by :math:`f^{jL}`,
    so :math:`\operatorname{tr}(Q^{jL}) \ge L` and :math:`S_{ML} \ge ML \to \infty`; certified for
    :math:`j \le M` = ``periods``.
    """
    proof = Proof()
    P, Q, chi = chain(weights)
    n = Q.rows
    multiplicity = multiplicity_of_one(chi)
    proof.certify(
        r"1 is an eigenvalue of $Q$",
        sympy.Function("chi_Q")(Integer(1)),
        "=",
        Integer(0),
        rule="multiplicity of the root 1 of chi_Q",
        holds=multiplicity >= 1,
        check=f"chi_Q(1) = {chi.eval(1)}; multiplicity of x - 1 in chi_Q: {multiplicity}; rho(Q) = {sympy.N(perron_root(chi), 15)}",
    )
    proof.equal(
        r"one-hot rows: $Q = P \circ P = P$", Q, P, rule=r"$0^2 = 0$, $1^2 = 1$",
        shown=(sympy.MatrixSymbol("Q", n, n), sympy.MatrixSymbol("P", n, n)),
    )
    sums = [sum(Q.row(i)) for i in range(n)]
    proof.certify(
        r"every row sum of $Q$ is 1, so $\rho(Q) \le 1$ and $\rho(Q) = 1$",
        sympy.Function("max_i")(Symbol("s_i")),
        "=",
        Integer(1),
        rule="R3 upper bound; 1 is an eigenvalue",
        holds=all(s == 1 for s in sums),
        check=f"row sums {sums}",
    )
    diagonals = _power_diagonals(Q, n)
    traces = [sum(diagonal) for diagonal in diagonals]
    shortest = next(j for j, trace in enumerate(traces, start=1) if trace > 0)
    horizon = periods * shortest
    diagonals = _power_diagonals(Q, max(n, horizon))
    partial = sum(sum(diagonal) for diagonal in diagonals[:horizon])
    base = diagonals[shortest - 1]
    proof.certify(
        rf"a cycle of length $L = {shortest}$ keeps repeating: $\operatorname{{diag}}(Q^{{jL}}) \ge \operatorname{{diag}}(Q^L)$, $\operatorname{{tr}}(Q^L) \ge L$",
        sympy.Sum(sympy.Function("tr")(Symbol("Q") ** k), (k, 1, horizon)),
        ">=",
        Integer(horizon),
        rule=r"fixed points of $f^L$ are fixed by $f^{jL}$; $S_{ML} \ge ML \to \infty$, so $R = \infty$",
        holds=traces[shortest - 1] >= shortest
        and all(e >= f for j in range(1, periods + 1) for e, f in zip(diagonals[j * shortest - 1], base))
        and partial >= horizon,
        check=f"tr(Q^k), k = 1..{n}: {traces[:n]}; S_{horizon} = {partial} (j <= {periods})",
    )
    return proof.finish(
        result=Tuple(Integer(multiplicity), Integer(1)),
        conclusion=rf"\rho(Q) = 1,\ R = \infty;\ {multiplicity} \text{{ cycle(s) (multiplicity of the eigenvalue 1)}}",
    )


def ladder(weights: Weights, scheme: int, step: int, grid: int) -> Matrix:
    r"""R5: step ``step`` of ``grid`` from sharp to flat.  ``scheme`` 0: :math:`(1-s/G)P + (s/G)U`,
    :math:`U = \mathbf 1\mathbf 1^T/n`; ``scheme`` 1: :math:`P \propto w^{G-s}` entrywise."""
    if scheme == 0:
        P = transition_matrix(weights)
        mix = Rational(step, grid)
        return (1 - mix) * P + mix * sympy.ones(P.rows, P.cols) / P.rows
    return transition_matrix([[int(entry) ** (grid - step) for entry in row] for row in weights])


def _row_flattening(proof: Proof, n: int) -> None:
    r"""Mixing a probability row with the uniform row: :math:`s(t) - 1/n = (1-t)^2 (s - 1/n)`, and :math:`s \ge 1/n`."""
    p = sympy.symbols(f"p_1:{n + 1}", real=True)
    row = list(p[:-1]) + [1 - sum(p[:-1])]
    square_sum = sum(e**2 for e in row)
    proof.equal(
        f"row sum of squares under mixing ($n = {n}$)",
        sum(((1 - t) * e + t / n) ** 2 for e in row) - Rational(1, n),
        (1 - t) ** 2 * (square_sum - Rational(1, n)),
        rule=r"$\sum p = 1$: both R3 bounds of $\rho(Q_t)$ shrink to $1/n$ like $(1-t)^2$",
    )
    proof.compare(
        r"a row's sum of squares is at least $1/n$",
        sum((e - Rational(1, n)) ** 2 for e in row),
        ">=",
        Integer(0),
        rule=r"$\sum p^2 - 1/n = \sum (p - 1/n)^2$ (Cauchy-Schwarz), so $\rho(Q) \ge 1/n$ for every chain",
    )
    uniform = charpoly(sympy.ones(n, n) / n**2)
    proof.certify(
        r"the uniform chain attains $\rho = 1/n$, the global minimum",
        sympy.Function("rho")(Symbol("J") / n**2),
        "=",
        Rational(1, n),
        rule="Q = J/n^2 has eigenvalues 1/n and 0",
        holds=perron_root(uniform) == Rational(1, n),
        check=f"chi(J/n^2) = {sympy.factor(uniform.as_expr())}",
    )


def _compare_perron(first: Poly, second: Poly) -> tuple[bool, tuple[Rational, Rational], tuple[Rational, Rational]]:
    """Whether the largest real root of ``first`` is below that of ``second``, decided by disjoint
    exact isolating intervals (refined to 10, 20, 40 digits; overlapping intervals decide "no")."""
    for digits in SEPARATION_DIGITS:
        one, two = perron_interval(first, digits), perron_interval(second, digits)
        if one[1] < two[0] or one[0] > two[1]:
            break
    return one[1] < two[0], one, two


def flattening(weights: Weights, scheme: int, grid: int) -> Derivation:
    r"""R5: along a ladder from sharp to flat, :math:`\rho(Q)` strictly decreases at every step;
    result: the number of certified decreasing steps (all ``grid`` of them).

    Scheme 0 (mixing with the uniform row, the claim's setting): generic facts —
    every row's :math:`\sum_j P_{ij}^2` decreases to :math:`1/n` like :math:`(1-t)^2`, so the R3
    bounds of :math:`\rho` decrease, and the endpoint :math:`\rho = 1/n` is the global
    minimum; on the instance, each step :math:`\rho(Q_{s+1}) < \rho(Q_s)` is certified
    with disjoint exact isolating intervals.  Monotonicity of :math:`\rho` itself is
    false for general :math:`P` (:func:`mixing_raises_rho`), though no random
    Dirichlet chain shows a rise (``numerics``).  Scheme 1 (temperature
    :math:`P \propto w^{\beta}`) fails more often, and the certificate fails at the step that rises.
    """
    proof = Proof()
    n = len(weights)
    if scheme == 0:
        _row_flattening(proof, n)
    polys = [charpoly(hadamard_square(ladder(weights, scheme, s, grid))) for s in range(grid + 1)]
    decreasing = 0
    for s in range(grid):
        lower, new, old = _compare_perron(polys[s + 1], polys[s])
        proof.certify(
            f"$\\rho$ decreases from step {s} to {s + 1}",
            Symbol(f"rho_{s + 1}"),
            "<",
            Symbol(f"rho_{s}"),
            rule="disjoint exact isolating intervals of the largest real roots",
            holds=lower,
            check=f"rho_{s + 1} in [{sympy.N(new[0], 12)}, {sympy.N(new[1], 12)}], "
            f"rho_{s} in [{sympy.N(old[0], 12)}, {sympy.N(old[1], 12)}]",
        )
        decreasing += 1
    return proof.finish(result=Integer(decreasing), conclusion=r"\rho(Q_0) > \rho(Q_1) > \dots > \rho(Q_G) = 1/n")


def mixing_raises_rho(weights: Weights, lead_in: int, mix: Rational) -> Derivation:
    r"""R5 fails in general: mixing with the uniform row, :math:`P_t = (1-t)P + tU`, can *raise*
    :math:`\rho(Q)` while the R3 bound :math:`\max_i \sum_j P_{ij}^2` falls; result: the exact rise
    :math:`\rho(Q_t) - \rho(Q_0)` (``CRootOf`` expressions).

    The chain: a deterministic phrase :math:`0 \to 1 \to \dots \to m` (:math:`m` = ``lead_in``) into a
    block of :math:`r` states with uniform rows, which never returns, so
    :math:`\rho(Q_0) = 1/r`.  Mixing opens the cycle :math:`m \to 0 \to \dots \to m-1 \to m`, all of whose
    factors but one are close to 1.  Sufficient condition (the hypothesis): its
    :math:`Q_t`-weight exceeds :math:`r^{-(m+1)}`, since :math:`\rho(A) \ge (\prod_{\text{cycle}} A)^{1/L}` for
    :math:`A \ge 0` (:math:`\operatorname{tr}(A^{jL}) \ge (\prod)^j`).  Independently, disjoint exact isolating
    intervals certify :math:`\rho(Q_t) > \rho(Q_0)`.
    """
    proof = Proof()
    start, mixed = ladder(weights, 0, 0, 1), ladder(weights, 0, mix.p, mix.q)
    squares = [hadamard_square(start), hadamard_square(mixed)]
    bounds = [max(sum(Q.row(i)) for i in range(Q.rows)) for Q in squares]
    proof.certify(
        f"the R3 bound falls under mixing ($t = {mix}$)",
        Symbol("s_max(t)"),
        "<",
        Symbol("s_max(0)"),
        rule="exact row sums of Q",
        holds=bounds[1] < bounds[0],
        check=f"max row sum of Q: {bounds[0]} at t = 0, {bounds[1]} at t = {mix}",
    )
    polys = [charpoly(Q) for Q in squares]
    block = squares[0].rows - lead_in
    proof.certify(
        r"without mixing, $\rho = 1/r$ (the flat block; the phrase is transient)",
        sympy.Function("rho")(Symbol("Q_0")),
        "=",
        Rational(1, block),
        rule="largest real root of chi_Q",
        holds=perron_root(polys[0]) == Rational(1, block),
        check=f"chi_Q0 = {sympy.factor(polys[0].as_expr())}",
    )
    rises, before, after = _compare_perron(polys[0], polys[1])
    proof.certify(
        f"but mixing raises rho (t = {mix})",
        Symbol("rho(Q_t)"),
        ">",
        Symbol("rho(Q_0)"),
        rule="disjoint exact isolating intervals of the largest real roots",
        holds=rises,
        check=f"rho(Q_0) in [{sympy.N(before[0], 12)}, {sympy.N(before[1], 12)}], "
        f"rho(Q_t) in [{sympy.N(after[0], 12)}, {sympy.N(after[1], 12)}]",
    )
    cycle = [lead_in, *range(lead_in)]
    weight = sympy.Mul(*(squares[1][i, j] for i, j in zip(cycle, cycle[1:] + cycle[:1])))
    proof.certify(
        "why: the cycle through the phrase outweighs the block",
        weight,
        ">",
        Rational(1, block) ** (lead_in + 1),
        rule=r"$\rho(Q_t) \ge (\text{cycle weight})^{1/(m+1)} > 1/r$",
        holds=weight > Rational(1, block) ** (lead_in + 1),
        check=f"Q_t-weight of the cycle {cycle + cycle[:1]}: {sympy.N(weight, 6)}; r^-(m+1) = {sympy.N(Rational(1, block) ** (lead_in + 1), 6)}",
    )
    rise = perron_root(polys[1]) - perron_root(polys[0])
    return proof.finish(result=rise, conclusion=rf"\rho(Q_{{{mix}}}) - \rho(Q_0) = {sympy.N(rise, 6)} > 0")
