r"""Even Taylor truncations of :math:`e^x` are positive (kexue.fm post 7919), exactly.

:math:`f_n(x) = \sum_{k=0}^{n} x^k / k!`.  Every function returns a
:class:`~twofold.model.Derivation` whose steps sympy checked when they were
built; facts about real roots are certified by Sturm sequences
(``Poly.count_roots``) on the integer polynomial :math:`n!\,f_n`.
"""

from __future__ import annotations

import sympy
from sympy import CRootOf, Integer, Poly, Rational, Symbol, exp, factorial, limit, oo

from twofold.derivation import Proof
from twofold.model import Derivation

x = Symbol("x", real=True)
t = Symbol("t", real=True)
k = Symbol("k", integer=True, positive=True)
x_star = Symbol("x^*", real=True, nonzero=True)


def truncation(n: int, var: sympy.Expr = x) -> sympy.Expr:
    r""":math:`f_n(\mathit{var}) = \sum_{k=0}^{n} \mathit{var}^k/k!` as an explicit polynomial."""
    return sum((var**j / factorial(j) for j in range(n + 1)), Integer(0))


def _difference(n: int, point: sympy.Expr) -> sympy.Expr:
    r""":math:`f_n(p) - f_{n-1}(p)` kept unevaluated, so a step shows both sums before they cancel."""
    return sympy.Add(truncation(n, point), sympy.Mul(-1, truncation(n - 1, point), evaluate=False), evaluate=False)


def integer_poly(n: int) -> Poly:
    r"""The integer polynomial :math:`n!\,f_n(x)` on which roots are certified."""
    return Poly(sympy.expand(factorial(n) * truncation(n)), x, domain="ZZ")


N_REAL = sympy.Function("N_real")


def _certify_root_count(
    proof: Proof,
    description: str,
    order: int,
    expected: int,
    rule: str,
    low: sympy.Rational | None = None,
    compact: bool = False,
) -> int:
    r"""Certify by Sturm sequences that :math:`m!\,f_m` (:math:`m` = ``order``) has ``expected`` real
    roots — in :math:`(\mathit{low}, \infty)` when ``low`` is given.  Returns the count.

    ``compact`` shows the step as :math:`N_\mathrm{real}(f_m(x))` instead of the explicit polynomial."""
    poly = integer_poly(order)
    if low is None:
        shown = sympy.Function(f"f_{order}")(x) if compact else poly.as_expr()
        counted, lhs, call = poly.count_roots(), N_REAL(shown), "count_roots()"
    else:
        on_end = 1 if poly.as_expr().subs(x, low) == 0 else 0
        counted = poly.count_roots(low, None) - on_end
        lhs, call = N_REAL(poly.as_expr(), sympy.Interval.open(low, oo)), f"count_roots({low}, oo) - {on_end}"
    proof.certify(
        description,
        lhs,
        "=",
        Integer(expected),
        rule=rule,
        holds=counted == expected,
        check=f"Poly({order}! f_{order}).{call} = {counted} (Sturm)",
    )
    return counted


def derivative_identity(n: int) -> Derivation:
    r"""T1: :math:`f_n' = f_{n-1}` and :math:`f_n = f_{n-1} + x^n/n!`; result: the residual :math:`f_n' - f_{n-1}`."""
    proof = Proof()
    proof.equal(
        "differentiate one term",
        sympy.Derivative(x**k / factorial(k), x),
        x ** (k - 1) / factorial(k - 1),
        rule="d/dx x^k/k! = k x^(k-1)/k! = x^(k-1)/(k-1)!, k >= 1",
    )
    proof.equal("the constant term vanishes", sympy.Derivative(Integer(1), x), Integer(0), rule="d/dx 1 = 0")
    proof.equal(
        f"termwise derivative of f_{n}", sympy.Derivative(truncation(n), x), truncation(n - 1), rule="reindex j = k - 1"
    )
    proof.equal(
        f"f_{n} splits off its top term",
        truncation(n),
        truncation(n - 1) + x**n / factorial(n),
        rule="definition of the partial sum",
    )
    return proof.finish(
        result=sympy.expand(sympy.diff(truncation(n), x) - truncation(n - 1)),
        conclusion=rf"f_{{{n}}}' = f_{{{n - 1}}},\; f_{{{n}}} = f_{{{n - 1}}} + x^{{{n}}}/{n}!",
    )


def critical_value(n: int) -> Derivation:
    r"""T2: at every (complex) critical point :math:`x^*` of :math:`f_n`, :math:`f_n(x^*) = x^{*n}/n!`.

    Exactly: the remainder of :math:`f_n - x^n/n!` on division by
    :math:`f_n' = f_{n-1}` is zero, so the identity holds at every root of
    :math:`f_{n-1}`, real or complex.  Result: that remainder.
    """
    proof = Proof()
    fn, fprev = truncation(n), truncation(n - 1)
    proof.equal("split off the top term", fn, fprev + x**n / factorial(n), rule="T1")
    proof.equal("the derivative is the previous truncation", sympy.Derivative(fn, x), fprev, rule="T1")
    remainder = sympy.rem(sympy.expand(fn - x**n / factorial(n)), fprev, x)
    proof.certify(
        "f_n - x^n/n! vanishes wherever f_n' does",
        sympy.Function("rem")(fn - x**n / factorial(n), fprev),
        "=",
        Integer(0),
        rule="polynomial division: f_n - x^n/n! = 1 * f_{n-1} + 0",
        holds=remainder == 0,
        check=f"sympy.rem(f_{n} - x^{n}/{n}!, f_{n - 1}) = {sympy.sstr(remainder)}",
    )
    return proof.finish(result=remainder, conclusion=rf"f_{{{n}}}'(x^*) = 0 \Rightarrow f_{{{n}}}(x^*) = x^{{*{n}}}/{n}!")


def positivity(n: int) -> Derivation:
    r"""T3: for even :math:`n`, :math:`f_n(x) > 0` for all real :math:`x`; result: the number of real roots.

    The argument: :math:`f_n \to +\infty` at both ends, so a global minimum is
    attained at a critical point :math:`x^*`; there :math:`f_n(x^*) = x^{*n}/n!`
    (T2), :math:`x^* \ne 0` because :math:`f_{n-1}(0) = 1`, and an even power of
    a non-zero real is positive.  The Sturm count on :math:`n!\,f_n` certifies
    the conclusion independently of the argument.  For odd :math:`n` the first
    step already fails (:math:`f_n \to -\infty`).
    """
    proof = Proof()
    fn = truncation(n)
    for end in (-oo, oo):
        at_end = limit(fn, x, end)
        proof.certify(
            f"f_n grows without bound as x -> {end}",
            sympy.Limit(fn, x, end),
            "=",
            oo,
            rule="leading term x^n/n! with n even",
            holds=at_end == oo,
            check=f"sympy.limit(f_{n}, x, {end}) = {at_end}",
        )
    proof.equal(
        "value at a critical point",
        _difference(n, x_star),
        x_star**n / factorial(n),
        rule="T2 with f_{n-1}(x*) = 0",
    )
    proof.certify(
        "the critical point is not 0",
        truncation(n - 1).subs(x, 0),
        "=",
        Integer(1),
        rule="f_{n-1}(0) = 1 != 0",
        holds=truncation(n - 1).subs(x, 0) == 1,
        check=f"f_{n - 1}(0) = {truncation(n - 1).subs(x, 0)}",
    )
    proof.compare("even power of a non-zero real", x_star**n / factorial(n), ">", Integer(0), rule="n even, x* != 0")
    real_roots = _certify_root_count(proof, "no real root (certificate)", n, 0, rule="Sturm sequence")
    return proof.finish(result=Integer(real_roots), conclusion=rf"f_{{{n}}}(x) > 0 \;\forall x \in \mathbb{{R}}")


def critical_structure(n: int) -> Derivation:
    r"""T4: even :math:`n` — one simple real critical point, a strict global minimum;
    odd :math:`n` — strictly increasing, exactly one simple real root, negative.

    Result: the number of real critical points (even n) or real roots (odd n), i.e. 1.
    """
    proof = Proof()
    if n % 2 == 0:
        counted = _certify_root_count(
            proof, "f_n' = f_{n-1} has exactly one real root", n - 1, 1, rule="Sturm sequence on (n-1)! f_{n-1}"
        )
        _certify_root_count(
            proof, "f_n'' = f_{n-2} > 0, so f_n is strictly convex", n - 2, 0, rule="T3 for the even n-2; f_{n-2}(0) = 1 > 0"
        )
        return proof.finish(result=Integer(counted), conclusion=rf"f_{{{n}}} \text{{ has a unique global minimiser}}")
    _certify_root_count(
        proof, "f_n' = f_{n-1} > 0, so f_n is strictly increasing", n - 1, 0, rule="T3 for the even n-1; f_{n-1}(0) = 1 > 0"
    )
    counted = _certify_root_count(proof, "exactly one real root", n, 1, rule="odd degree and strictly increasing")
    _certify_root_count(proof, "the root is negative", n, 0, rule="all coefficients positive", low=Integer(0))
    fn, fprev = integer_poly(n), integer_poly(n - 1)
    simple = sympy.gcd(fn, fprev) == 1
    proof.certify(
        "the root is simple",
        sympy.Function("gcd")(fn.as_expr(), fprev.as_expr()),
        "=",
        Integer(1),
        rule="f_n and f_n' share no root",
        holds=simple,
        check=f"sympy.gcd({n}! f_{n}, {n - 1}! f_{n - 1}) = 1",
    )
    return proof.finish(result=Integer(counted), conclusion=rf"f_{{{n}}} \text{{ is increasing with one simple negative root}}")


def minimum(n: int, digits: int = 30) -> Derivation:
    r"""T5: the minimiser :math:`x^*_n` (the real root of :math:`f_{n-1}`) and :math:`f_n(x^*_n) = x^{*n}_n/n!`.

    Result: ``Tuple(x_star, f_min)`` with ``x_star`` a ``CRootOf`` (exact) and
    ``f_min`` its exact image; the step records a certified isolating interval
    of width :math:`\le 10^{-\mathrm{digits}}`.
    """
    proof = Proof()
    fprev = integer_poly(n - 1)
    _certify_root_count(proof, "f_n' = f_{n-1} has exactly one real root", n - 1, 1, rule="T4 (n even)")
    (low, high), multiplicity = fprev.intervals(eps=Rational(1, 10**digits))[0]
    proof.certify(
        "isolating interval of the minimiser",
        CRootOf(fprev, 0),
        ":",
        sympy.Interval(low, high),
        rule="real-root isolation (continued fractions), refined",
        holds=multiplicity == 1 and high - low <= Rational(1, 10**digits),
        check=f"Poly({n - 1}! f_{n - 1}).intervals(eps=1e-{digits}): one simple root, width {sympy.N(high - low, 3)}",
    )
    root = CRootOf(fprev, 0)
    value = proof.equal(
        "value at the minimiser",
        _difference(n, root),
        root**n / factorial(n),
        rule="T2",
    )
    return proof.finish(result=sympy.Tuple(root, value), conclusion=rf"\min f_{{{n}}} = f_{{{n}}}(x^*_{{{n}}}) = x^{{*{n}}}_{{{n}}}/{n}!")


def softmax_not_shift_invariant(n: int, shift: Rational) -> Derivation:
    r"""T6: Taylor-softmax :math:`p_i = f_n(x_i)/\sum_j f_n(x_j)` sums to 1, is positive for even n,
    and is not shift-invariant: at :math:`x = (0, 1)` adding ``shift`` changes :math:`p_1`.

    Result: the exact change :math:`\Delta = p_1(x + c) - p_1(x)`, a non-zero rational.
    """
    proof = Proof()
    x1, x2, x3 = sympy.symbols("x_1 x_2 x_3", real=True)
    terms = [truncation(n, v) for v in (x1, x2, x3)]
    proof.equal("probabilities sum to one", sum(term / sum(terms) for term in terms), Integer(1), rule="common denominator")
    _certify_root_count(proof, "every probability is positive", n, 0, rule="T3 (n even): numerators and denominator positive")

    def first_probability(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
        return truncation(n, a) / (truncation(n, a) + truncation(n, b))

    before = first_probability(Integer(0), Integer(1))
    after = first_probability(shift, 1 + shift)
    delta = sympy.nsimplify(after - before)
    proof.certify(
        "shifting both logits changes p_1",
        sympy.Symbol(r"p_1(x + c) - p_1(x)"),
        "=",
        delta,
        rule=f"exact rational evaluation at x = (0, 1), c = {shift}",
        holds=delta != 0,
        check=f"{sympy.sstr(after)} - {sympy.sstr(before)} = {sympy.sstr(delta)} != 0",
    )
    return proof.finish(result=delta, conclusion=r"\mathrm{TS}_n(x + c) \ne \mathrm{TS}_n(x)\text{ in general}")


def softmax_limit_bound(n: int, a: Rational) -> Derivation:
    r"""T6: Taylor-softmax tends to softmax; for logits in :math:`[-a, a]^K`,

    .. math:: \|\mathrm{TS}_n(x) - \mathrm{softmax}(x)\|_1 \le \frac{2\varepsilon_n}{1-\varepsilon_n},\qquad
              \varepsilon_n = \frac{a^{n+1}}{(n+1)!}\,e^{a} \to 0.

    From the integral remainder :math:`e^x - f_n(x) = \int_0^x \frac{(x-t)^n}{n!} e^t\,dt`,
    whose size is at most :math:`\varepsilon_n e^x` for :math:`|x| \le a`; with
    :math:`f_n(x_i) = e^{x_i}(1+\delta_i)`, :math:`|\delta_i| \le \varepsilon_n`, normalising costs at most
    :math:`2\varepsilon_n/(1-\varepsilon_n)` in :math:`\ell_1`.  Result: the bound (exact).
    Parity is not needed here: :math:`\varepsilon_n < 1` already forces :math:`f_n > 0` on :math:`[-a, a]`.
    """
    proof = Proof()
    proof.equal(
        "integral form of the remainder",
        sympy.Integral((x - t) ** n / factorial(n) * exp(t), (t, 0, x)),
        exp(x) - truncation(n),
        rule="Taylor's theorem, checked by integrating",
    )
    s = Symbol("s", positive=True)
    proof.equal(
        "size of the remainder: bound e^t by e^{max(x,0)}, integrate the rest",
        sympy.Integral((s - t) ** n / factorial(n), (t, 0, s)),
        s ** (n + 1) / factorial(n + 1),
        rule="|e^x - f_n(x)| <= e^{max(x,0)} |x|^{n+1}/(n+1)!, s = |x|; relative to e^x: <= e^{|x|} |x|^{n+1}/(n+1)!",
    )
    eps = a ** (n + 1) / factorial(n + 1) * exp(a)
    proof.certify(
        "eps_n < 1 so normalising is safe",
        eps,
        "<",
        Integer(1),
        rule="exact comparison",
        holds=bool(eps < 1),
        check=f"eps_{n} = {sympy.N(eps, 6)} < 1",
    )
    bound = 2 * eps / (1 - eps)
    return proof.finish(result=bound, conclusion=r"\|\mathrm{TS}_n - \mathrm{softmax}\|_1 \le 2\varepsilon_n/(1-\varepsilon_n)")


def monotone_variant(n: int) -> Derivation:
    r"""T6: for even :math:`n`, :math:`g_n(x) = f_n(\max(x, x^*_n))` is non-decreasing and
    :math:`g_n \ge f_n(x^*_n) > 0`.

    On :math:`x \le x^*_n`, :math:`g_n` is the constant :math:`f_n(x^*_n)`; on
    :math:`x > x^*_n`, :math:`g_n' = f_{n-1}`, which has no root there (the only
    real root is :math:`x^*_n`, certified by Sturm counts on an isolating interval)
    and a positive leading coefficient, so :math:`g_n' > 0`.  Result: :math:`\min g_n = f_n(x^*_n)`.
    """
    proof = Proof()
    fprev = integer_poly(n - 1)
    _certify_root_count(proof, "the minimiser x*_n exists: f_{n-1} has exactly one real root", n - 1, 1, rule="T4 (n even)")
    (_, high), _ = fprev.intervals()[0]
    _certify_root_count(
        proof, "g_n' = f_{n-1} has no root right of the minimiser", n - 1, 0, rule="x*_n <= high, the isolating interval's right end", low=high
    )
    proof.compare("so g_n' > 0 there: leading coefficient", fprev.LC(), ">", Integer(0), rule="degree n-1 odd, LC > 0")
    root = CRootOf(fprev, 0)
    value = proof.equal("the floor of g_n", _difference(n, root), root**n / factorial(n), rule="T2")
    proof.compare("the floor is positive", root**n / factorial(n), ">", Integer(0), rule="n even, x*_n != 0")
    return proof.finish(result=value, conclusion=rf"g_{{{n}}} \text{{ non-decreasing}},\ g_{{{n}}} \ge f_{{{n}}}(x^*_{{{n}}}) > 0")


def root_count_table(n_max: int) -> Derivation:
    r"""Sturm counts of the real roots of :math:`n!\,f_n` for every :math:`0 \le n \le n_{\max}`.

    One certified step per order: ``Poly(n! f_n).count_roots()`` equals :math:`n \bmod 2` (0 for
    even :math:`n`, T3; 1 for odd :math:`n`, T4).  Result: the ``Tuple`` of counts, index :math:`n`.
    sympy's cost grows like :math:`n^3` (``benchmarks/bench_taylor.py``: 10–55 s at :math:`n = 800` on a
    shared machine), which is why the certification to :math:`n = 1000` is ``twofold.numerics.taylor_certify``'s.
    """
    proof = Proof()
    counts = [
        _certify_root_count(
            proof, f"real roots of f_{order}", order, order % 2, rule="Sturm sequence on n! f_n", compact=True
        )
        for order in range(n_max + 1)
    ]
    return proof.finish(
        result=sympy.Tuple(*counts),
        conclusion=rf"\#\{{x \in \mathbb{{R}} : f_n(x) = 0\}} = n \bmod 2 \quad (0 \le n \le {n_max})",
    )
