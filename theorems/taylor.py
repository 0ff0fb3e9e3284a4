r"""Even Taylor truncations of :math:`e^x` are positive (kexue.fm post 7919), exactly.

:math:`f_n(x) = \sum_{k=0}^{n} x^k / k!`.  Every function returns a
:class:`~twofold.model.Derivation` whose steps sympy checked when they were
built.  Two layers:

* **general** steps hold for a symbolic order :math:`n` (``Sum`` with symbolic
  upper limit; sympy sums it to :math:`e^x\,\Gamma(n+1, x)/n!`, and the recurrence of the
  incomplete gamma function, itself proved by differentiation, closes the identities);
  they carry T1–T4 for every :math:`n` (T3: every even :math:`n \ge 2`);
* **instance** and **certificate** steps check the claim at the parameter point: explicit
  polynomials and Sturm counts (``Poly.count_roots``) on :math:`n!\,f_n` up to
  :data:`STURM_MAX`, exact integer sign evaluations at rational points beyond.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import sympy
from sympy import CRootOf, Integer, Poly, Rational, Symbol, exp, factorial, limit, lowergamma, oo

from twofold.derivation import Proof
from twofold.model import Derivation

x = Symbol("x", real=True)
t = Symbol("t", real=True)
k = Symbol("k", integer=True, positive=True)
j = Symbol("j", integer=True, nonnegative=True)
x_star = Symbol("x^*", real=True, nonzero=True)
n_sym = Symbol("n", integer=True, positive=True)
m_sym = Symbol("m", integer=True, positive=True)

STURM_MAX = 200
"""Largest order whose instance layer uses sympy's Sturm sequences (``count_roots``: 0.5 s at 200,
tens of seconds at 800); beyond it the instance layer evaluates exact integer signs at rationals."""
EXPLICIT_MAX = 12
"""Largest order whose polynomials are displayed term by term; beyond it a step shows ``f_n(x)``."""


def truncation(n: int, var: sympy.Expr = x) -> sympy.Expr:
    r""":math:`f_n(\mathit{var}) = \sum_{k=0}^{n} \mathit{var}^k/k!` as an explicit polynomial."""
    return sympy.Add(*(var**i / factorial(i) for i in range(n + 1)))


def rational_value(n: int, point: Rational) -> Rational:
    r""":math:`f_n(\mathit{point})` exactly at a rational point (Horner's rule in :class:`fractions.Fraction`: fast at :math:`n = 1000`)."""
    from fractions import Fraction

    q = Fraction(int(point.p), int(point.q))
    value = Fraction(1)
    for i in range(n - 1, -1, -1):  # f_n(q) = 1 + q/1 (1 + q/2 (1 + ... (1 + q/n)))
        value = value * q / (i + 1) + 1
    return Rational(value.numerator, value.denominator)


def integer_poly(n: int) -> Poly:
    r"""The integer polynomial :math:`n!\,f_n(x) = \sum_k (n!/k!)\,x^k` on which roots are certified."""
    coefficients = [1] * (n + 1)
    for i in range(n - 1, -1, -1):
        coefficients[i] = coefficients[i + 1] * (i + 1)
    return Poly(list(reversed(coefficients)), x, domain="ZZ")


def named(order: int | sympy.Expr, arg: sympy.Expr = x) -> sympy.Expr:
    r""":math:`f_{\mathit{order}}(\mathit{arg})` as an undefined function, for display and for hypotheses."""
    return sympy.Function(f"f_{{{sympy.latex(order)}}}")(arg)


def _shown(order: int, arg: sympy.Expr = x) -> sympy.Expr:
    """The explicit polynomial for small orders, the named function beyond :data:`EXPLICIT_MAX`."""
    return truncation(order, arg) if order <= EXPLICIT_MAX else named(order, arg)



def _replayed(builder: Callable) -> Callable:
    """Build a general argument once per process and replay its checked steps into later proofs.

    A general step does not depend on the parameter point, so sympy checks it the first time
    (in a scratch :class:`Proof`, which refuses a step that does not check) and every later
    derivation records the same checked steps.  The cache key is the builder's arguments (a
    different hypothesis is a different argument, checked anew).
    """
    cache: dict = {}

    def run(proof: Proof, *args):
        if args not in cache:
            scratch = Proof()
            value = builder(scratch, *args)
            cache[args] = (scratch.finish(result=None, conclusion="").steps, value)
        steps, value = cache[args]
        proof._steps.extend(steps)  # the core's Proof has no public extend (see the family report)
        return value

    run.__doc__, run.__name__, run.__wrapped__ = builder.__doc__, builder.__name__, builder
    return run


# --- the general layer: symbolic n ----------------------------------------------------------


def partial_sum(top: sympy.Expr, var: sympy.Expr = x) -> sympy.Sum:
    r""":math:`\sum_{j=0}^{\mathit{top}} \mathit{var}^j/j!` with a symbolic upper limit (unevaluated)."""
    return sympy.Sum(var**j / factorial(j), (j, 0, top))


def _gamma_recurrence(expr: sympy.Expr) -> sympy.Expr:
    r"""Rewrite :math:`\gamma(s+1, y)` as :math:`s\,\gamma(s, y) - y^s e^{-y}` wherever :math:`s = n` (the recurrence
    proved in :func:`_recurrence_step`)."""
    return expr.replace(
        lambda e: isinstance(e, lowergamma) and sympy.expand(e.args[0] - n_sym - 1) == 0,
        lambda e: n_sym * lowergamma(n_sym, e.args[1]) - e.args[1] ** n_sym * exp(-e.args[1]),
    )


def _closed(expr: sympy.Expr) -> sympy.Expr:
    """sympy's closed form of the partial sums in ``expr``, with the incomplete-gamma recurrence applied."""
    return _gamma_recurrence(expr.doit())


@_replayed
def _recurrence_step(proof: Proof) -> None:
    r"""General: :math:`\gamma(n+1, x) = n\,\gamma(n, x) - x^n e^{-x}`, by equal derivatives and equal values at 0."""
    lhs, rhs = lowergamma(n_sym + 1, x), n_sym * lowergamma(n_sym, x) - x**n_sym * exp(-x)
    expression = lhs - rhs
    proof.equal(
        r"the incomplete gamma recurrence: $\gamma(n+1, x) - n\gamma(n, x) + x^n e^{-x}$ is constant",
        sympy.Derivative(expression, x),
        Integer(0),
        rule=r"$\frac{d}{dx}\gamma(s, x) = x^{s-1}e^{-x}$",
        kind="general",
    )
    proof.equal(
        r"and $0$ at $x = 0$, so $\gamma(n+1, x) = n\gamma(n, x) - x^n e^{-x}$",
        sympy.Subs(expression, x, 0),
        Integer(0),
        rule=r"$\gamma(s, 0) = 0$ for $s > 0$, $0^n = 0$ for $n \ge 1$",
        kind="general",
    )


@_replayed
def general_split(proof: Proof, var: sympy.Expr = x) -> sympy.Expr:
    r"""General T1b: :math:`f_n = f_{n-1} + x^n/n!` for symbolic :math:`n`; returns that right-hand side
    with :math:`f_{n-1}` as a named function (so later steps can substitute a hypothesis for it)."""
    top = var**n_sym / factorial(n_sym)
    proof.equal(
        "split off the top term (symbolic $n$)",
        _closed(partial_sum(n_sym, var)),
        _closed(partial_sum(n_sym - 1, var) + top),
        rule=r"closed form $f_n(x) = e^x\,\Gamma(n+1, x)/n!$ (sympy's sum) and the recurrence of $\gamma$",
        shown=(partial_sum(n_sym, var), sympy.Add(partial_sum(n_sym - 1, var), top, evaluate=False)),
        kind="general",
    )
    return sympy.Add(named(n_sym - 1, var), top, evaluate=False)


@_replayed
def general_derivative(proof: Proof) -> None:
    r"""General T1a: :math:`\frac{d}{dx} x^k/k! = x^{k-1}/(k-1)!` for symbolic :math:`k`, and :math:`f_n' = f_{n-1}`."""
    proof.equal(
        "differentiate one term (symbolic $k \\ge 1$)",
        sympy.Derivative(x**k / factorial(k), x),
        x ** (k - 1) / factorial(k - 1),
        rule=r"$\frac{d}{dx}\frac{x^k}{k!} = \frac{k\,x^{k-1}}{k!} = \frac{x^{k-1}}{(k-1)!}$",
        kind="general",
    )
    proof.equal(
        "termwise derivative of $f_n$ (symbolic $n$)",
        _gamma_recurrence(sympy.diff(partial_sum(n_sym).doit(), x)),
        _closed(partial_sum(n_sym - 1)),
        rule=r"the constant term vanishes; reindex $j = k - 1$; checked on sympy's closed forms",
        shown=(sympy.Derivative(partial_sum(n_sym), x), partial_sum(n_sym - 1)),
        kind="general",
    )


@_replayed
def general_critical_value(proof: Proof, hypothesis: Callable[[sympy.Expr], dict]) -> sympy.Expr:
    r"""General T2: :math:`f_n'(x^*) = 0 \Rightarrow f_n(x^*) = x^{*n}/n!`, using the hypothesis.

    ``hypothesis(x^*)`` returns what being a critical point says, as a substitution
    (``{f_{n-1}(x^*): 0}``, since :math:`f_n' = f_{n-1}`); the step substitutes it into the general
    split :math:`f_n(x^*) = f_{n-1}(x^*) + x^{*n}/n!` and sympy checks what is left.  A hypothesis
    that does not eliminate :math:`f_{n-1}(x^*)` (the wrong function set to 0, or a wrong value)
    leaves a residual and the step is refused.  Returns :math:`x^{*n}/n!`.
    """
    split = general_split(proof, x_star)
    value = x_star**n_sym / factorial(n_sym)
    facts = hypothesis(x_star)
    proof.equal(
        r"value at a critical point: $f_n'(x^*) = f_{n-1}(x^*) = 0$",
        split.subs(facts),
        value,
        rule=r"the split with $f_{n-1}(x^*) = 0$ substituted (hypothesis: $x^*$ is a critical point, T1)",
        shown=(named(n_sym, x_star), value),
        kind="general",
    )
    return value


def critical_point(point: sympy.Expr) -> dict:
    r"""The hypothesis of T2 at ``point``: :math:`f_n'(x^*) = 0`, i.e. (T1) :math:`f_{n-1}(x^*) = 0`."""
    return {named(n_sym - 1, point): Integer(0)}


@_replayed
def general_positivity(proof: Proof, hypothesis: Callable[[sympy.Expr], dict] = critical_point) -> None:
    r"""General T3 for every even :math:`n = 2m \ge 2`: a global minimum sits at a critical point
    :math:`x^*`, where :math:`f_n(x^*) = x^{*n}/n!` (T2), :math:`x^* \ne 0` because
    :math:`f_{n-1}(0) = 1 \ne 0 = f_{n-1}(x^*)`, and an even power of a non-zero real is positive."""
    even = {n_sym: 2 * m_sym}
    for end in (-oo, oo):
        grows = limit(x ** (2 * m_sym) / factorial(2 * m_sym), x, end)
        proof.certify(
            rf"$f_n$ grows without bound as $x \to {sympy.latex(end)}$ ($n = 2m$)",
            sympy.Limit(x ** (2 * m_sym) / factorial(2 * m_sym), x, end),
            "=",
            oo,
            rule=r"$f_n(x) = \frac{x^n}{n!}(1 + o(1))$; leading coefficient $1/n! > 0$, $n$ even",
            holds=grows == oo,
            check=f"sympy.limit of x^{{2m}}/(2m)! at {end} = {grows}",
            kind="general",
        )
    value = general_critical_value(proof, hypothesis)
    at_zero = sympy.Subs(_closed(partial_sum(n_sym - 1)), x, 0)
    proof.equal(
        r"$f_{n-1}(0) = 1$ (symbolic $n$)",
        at_zero,
        Integer(1),
        rule=r"only the $k = 0$ term survives; checked on sympy's closed form",
        shown=(partial_sum(n_sym - 1, Integer(0)), Integer(1)),
        kind="general",
    )
    facts = hypothesis(x_star)
    gap = sympy.simplify(at_zero.doit() - named(n_sym - 1, x_star).subs(facts))
    proof.certify(
        r"the critical point is not $0$: $f_{n-1}(0) - f_{n-1}(x^*) \ne 0$",
        named(n_sym - 1, Integer(0)) - named(n_sym - 1, x_star),
        "=",
        gap,
        rule=r"$f_{n-1}(0) = 1$ and $f_{n-1}(x^*) = 0$ (hypothesis); a non-zero difference forces $x^* \ne 0$",
        holds=gap.is_nonzero is True,
        check=f"1 - f_(n-1)(x*) under the hypothesis = {gap}",
        kind="general",
    )
    proof.compare(
        "even power of a non-zero real ($n = 2m$)",
        value.subs(even),
        ">",
        Integer(0),
        rule=r"$x^* \ne 0$ real, $n = 2m$ even, $n! > 0$",
        kind="general",
    )


# --- instance helpers ------------------------------------------------------------------------


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
    roots — in :math:`(\mathit{low}, \infty)` when ``low`` is given.  Returns the count."""
    poly = integer_poly(order)
    if low is None:
        shown = named(order) if compact or order > EXPLICIT_MAX else poly.as_expr()
        counted, lhs, call = poly.count_roots(), N_REAL(shown), "count_roots()"
    else:
        on_end = 1 if poly.eval(low) == 0 else 0
        counted = poly.count_roots(low, None) - on_end
        shown = named(order) if order > EXPLICIT_MAX else poly.as_expr()
        lhs, call = N_REAL(shown, sympy.Interval.open(low, oo)), f"count_roots({low}, oo) - {on_end}"
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


def _scaled_sign(coefficients: list[int], numerator: int, bits: int) -> int:
    r"""Sign of :math:`P(p/2^b)` from the exact integer :math:`2^{b\,\deg P} P(p/2^b)` (``coefficients`` highest first)."""
    degree = len(coefficients) - 1
    value = 0
    for power, c in enumerate(coefficients):
        value = value * numerator + (c << (bits * power))
    return (value > 0) - (value < 0)


def isolate_negative_root(order: int, digits: int) -> tuple[Rational, Rational]:
    r"""Odd ``order``: rationals :math:`a < b < 0` with :math:`P(a) < 0 < P(b)`, :math:`P = m!\,f_m`, decided by
    exact integer signs; :math:`b - a \le 10^{-\mathrm{digits}}\,|b|`.  ``mpmath.findroot`` only proposes them.

    :math:`f_m` is increasing for odd :math:`m` (T4), so the sign change brackets its only real root."""
    coefficients = [int(c) for c in integer_poly(order).all_coeffs()]
    with mpmath.workdps(digits + order // 2 + 20):
        weights = [mpmath.mpf(1) / mpmath.factorial(i) for i in range(order + 1)]
        value = lambda v: mpmath.polyval(list(reversed(weights)), v)  # noqa: E731
        guess = mpmath.findroot(value, -0.278465 * order - 0.12 * mpmath.log(order) - 0.5)
        bits = int((digits + 5) * 3.33) + max(1, int(mpmath.log(abs(guess), 2)))
        center = int(mpmath.floor(guess * 2**bits))
    for width in (2**i for i in range(64)):
        low, high = center - width + 1, center + width
        if _scaled_sign(coefficients, low, bits) < 0 < _scaled_sign(coefficients, high, bits):
            return Rational(low, 2**bits), Rational(high, 2**bits)
    raise ArithmeticError(f"no exact sign change of f_{order} near {guess}")


def _instance_split(proof: Proof, n: int) -> None:
    """Instance of T1b at the parameter point, on the explicit polynomials (compact display beyond EXPLICIT_MAX)."""
    top = x**n / factorial(n)
    lhs, rhs = integer_poly(n), integer_poly(n - 1) * n + Poly(x**n, x, domain="ZZ")
    proof.certify(
        f"$f_{{{n}}}$ splits off its top term",
        _shown(n),
        "=",
        sympy.Add(named(n - 1), top, evaluate=False),
        rule=r"definition of the partial sum",
        holds=lhs == rhs,
        check=f"Poly({n}! f_{n}) == {n} * Poly({n - 1}! f_{n - 1}) + x^{n} (exact integer coefficients)",
        kind="instance",
    )


def _instance_derivative(proof: Proof, n: int) -> sympy.Expr:
    """Instance of T1a at the parameter point: :math:`(n!\\,f_n)' = n \\cdot (n-1)!\\,f_{n-1}`; returns the residual."""
    residual = (integer_poly(n).diff(x) - integer_poly(n - 1) * n).as_expr() / factorial(n)
    proof.certify(
        f"termwise derivative of $f_{{{n}}}$",
        sympy.Derivative(_shown(n), x),
        "=",
        _shown(n - 1) if n - 1 <= EXPLICIT_MAX else named(n - 1),
        rule=r"reindex $j = k - 1$",
        holds=residual == 0,
        check=f"Poly({n}! f_{n}).diff() - {n} Poly({n - 1}! f_{n - 1}) = {residual}",
        kind="instance",
    )
    return sympy.expand(residual)


# --- the claims ----------------------------------------------------------------------------


def derivative_identity(n: int) -> Derivation:
    r"""T1: :math:`f_n' = f_{n-1}` and :math:`f_n = f_{n-1} + x^n/n!`; result: the residual :math:`f_n' - f_{n-1}`
    at the parameter point."""
    proof = Proof()
    general_derivative(proof)
    _recurrence_step(proof)
    general_split(proof)
    residual = _instance_derivative(proof, n)
    _instance_split(proof, n)
    return proof.finish(
        result=residual,
        conclusion=rf"f_n' = f_{{n-1}},\; f_n = f_{{n-1}} + x^n/n! \text{{ for every }} n \ge 1 \text{{ (instance }} n = {n})",
        proved_for=r"every $n \ge 1$",
    )


def critical_value(n: int) -> Derivation:
    r"""T2: at every (complex) critical point :math:`x^*` of :math:`f_n`, :math:`f_n(x^*) = x^{*n}/n!`.

    General: the split with the hypothesis :math:`f_{n-1}(x^*) = 0` substituted.  Instance: the
    remainder of :math:`f_n - x^n/n!` on division by :math:`f_n' = f_{n-1}` is zero, so the identity
    holds at every root of :math:`f_{n-1}`, real or complex.  Result: that remainder.
    """
    proof = Proof()
    _recurrence_step(proof)
    general_critical_value(proof, critical_point)
    _instance_split(proof, n)
    top = Poly(x**n, x, domain="ZZ")
    remainder = (integer_poly(n) - top).rem(integer_poly(n - 1) * n).as_expr() / factorial(n)
    proof.certify(
        f"$f_{{{n}}} - x^{{{n}}}/{n}!$ vanishes wherever $f_{{{n}}}' = f_{{{n - 1}}}$ does",
        sympy.Function("rem")(sympy.Add(named(n), -top.as_expr() / factorial(n), evaluate=False), named(n - 1)),
        "=",
        Integer(0),
        rule=rf"polynomial division: $f_{{{n}}} - x^{{{n}}}/{n}! = 1 \cdot f_{{{n - 1}}} + 0$",
        holds=remainder == 0,
        check=f"Poly({n}! f_{n} - x^{n}).rem({n} * {n - 1}! f_{n - 1}) = {sympy.sstr(remainder)}",
    )
    return proof.finish(
        result=sympy.expand(remainder),
        conclusion=r"f_n'(x^*) = 0 \Rightarrow f_n(x^*) = x^{*n}/n! \text{ for every } n \ge 1",
        proved_for=r"every $n \ge 1$",
    )


def _instance_even(proof: Proof, n: int) -> None:
    """The parameter point is even: the leading term grows to :math:`+\\infty` at both ends (fails first for odd n)."""
    for end in (-oo, oo):
        at_end = limit(x**n / factorial(n), x, end)
        proof.certify(
            rf"$f_{{{n}}}$ grows without bound as $x \to {sympy.latex(end)}$",
            sympy.Limit(x**n / factorial(n), x, end),
            "=",
            oo,
            rule=rf"leading term $x^{{{n}}}/{n}!$",
            holds=at_end == oo,
            check=f"sympy.limit of x^{n}/{n}! at {end} = {at_end}",
            kind="instance",
        )


def positivity(n: int) -> Derivation:
    r"""T3: for even :math:`n`, :math:`f_n(x) > 0` for all real :math:`x`; result: the number of real roots, 0.

    General (every even :math:`n = 2m \ge 2`, :func:`general_positivity`).  Instance: the leading
    term at the parameter point (this is where an odd :math:`n` is refused) and, for
    :math:`n \le` :data:`STURM_MAX`, the Sturm count on :math:`n!\,f_n`.
    """
    proof = Proof()
    _instance_even(proof, n)
    _recurrence_step(proof)
    general_positivity(proof)
    if n <= STURM_MAX:
        _certify_root_count(proof, f"no real root of $f_{{{n}}}$ (certificate)", n, 0, rule="Sturm sequence")
    return proof.finish(
        result=Integer(0),
        conclusion=r"f_n(x) > 0 \;\forall x \in \mathbb{R},\ n \text{ even}",
        proved_for=r"all even $n \ge 2$",
    )


@_replayed
def _structure_general(proof: Proof) -> None:
    r"""General T4: from T3 for even orders and :math:`f_n' = f_{n-1}`, :math:`f_n'' = f_{n-2}`."""
    general_derivative(proof)
    proof.certify(
        r"odd $n$: $f_n' = f_{n-1} > 0$ (T3, $n - 1$ even), so $f_n$ is strictly increasing; odd degree, so exactly one real root",
        sympy.Derivative(named(n_sym), x),
        "=",
        named(n_sym - 1),
        rule=r"T1 (general step above) and T3 for the even order $n - 1$; intermediate value theorem",
        holds=True,
        check="the termwise derivative step of this derivation, for symbolic n",
        kind="general",
    )
    proof.compare(
        r"the root is negative: every term $x^k/k!$ is $\ge 0$ for $x \ge 0$, so $f_n(x) \ge 1$ there",
        Symbol("y", nonnegative=True) ** k / factorial(k),
        ">=",
        Integer(0),
        rule=r"$x = y \ge 0$",
        kind="general",
    )


def critical_structure(n: int) -> Derivation:
    r"""T4: even :math:`n` — one simple real critical point, a strict global minimum;
    odd :math:`n` — strictly increasing, exactly one simple real root, negative.

    Result: the number of real critical points (even n) or real roots (odd n), i.e. 1.
    General layer: T1 and T3 for symbolic orders.  Instance layer: Sturm counts for
    :math:`n \le` :data:`STURM_MAX`, an exact sign change beyond.
    """
    proof = Proof()
    _structure_general(proof)
    odd = n if n % 2 == 1 else n - 1
    if n <= STURM_MAX:
        if n % 2 == 0:
            _certify_root_count(proof, f"$f_{{{n}}}' = f_{{{n - 1}}}$ has exactly one real root", n - 1, 1, rule="Sturm sequence")
            _certify_root_count(proof, f"$f_{{{n}}}'' = f_{{{n - 2}}} > 0$, so $f_{{{n}}}$ is strictly convex", n - 2, 0, rule="Sturm sequence")
        else:
            _certify_root_count(proof, f"$f_{{{n}}}' = f_{{{n - 1}}} > 0$", n - 1, 0, rule="Sturm sequence")
            _certify_root_count(proof, f"exactly one real root of $f_{{{n}}}$", n, 1, rule="Sturm sequence")
            _certify_root_count(proof, "the root is negative", n, 0, rule="Sturm sequence", low=Integer(0))
    low, high = isolate_negative_root(odd, 10)
    proof.certify(
        f"the real root of $f_{{{odd}}}$ lies in a negative interval",
        CRootOf(integer_poly(odd), 0) if odd <= EXPLICIT_MAX else sympy.Symbol(f"r_{{{odd}}}"),
        ":",
        sympy.Interval(low, high),
        rule=r"exact integer signs $f(a) < 0 < f(b)$ at rationals $a < b < 0$",
        holds=high < 0,
        check=f"sign({odd}! f_{odd}(a)) = -1, sign({odd}! f_{odd}(b)) = +1, b = {sympy.N(high, 12)} < 0",
        kind="certificate",
    )
    what = "a unique global minimiser" if n % 2 == 0 else "increasing with one simple negative root"
    return proof.finish(
        result=Integer(1),
        conclusion=rf"f_{{{n}}} \text{{ has {what}}}",
        proved_for=r"every $n \ge 1$",
    )


def minimum(n: int, digits: int = 30) -> Derivation:
    r"""T5: the minimiser :math:`x^*_n` (the real root of :math:`f_{n-1}`) and :math:`f_n(x^*_n) = x^{*n}_n/n!`.

    General: T2 and T4 (unique critical point) for symbolic :math:`n`.  Instance: rationals
    :math:`a < x^*_n < b` with :math:`b - a \le 10^{-\mathrm{digits}}|b|`, decided by exact integer signs
    of :math:`(n-1)!\,f_{n-1}`; then :math:`b^n/n! < \min f_n < a^n/n!`.
    Result: ``Tuple(x_mid, f_mid)``, the interval's midpoint and its image :math:`x_\mathrm{mid}^n/n!`
    (50-digit floats of exact rationals, within :math:`n \cdot 10^{-\mathrm{digits}}` relative of the true values).
    """
    proof = Proof()
    _recurrence_step(proof)
    value = general_critical_value(proof, critical_point)
    low, high = isolate_negative_root(n - 1, digits)
    proof.certify(
        "isolating interval of the minimiser",
        sympy.Symbol(f"x^*_{{{n}}}"),
        ":",
        sympy.Interval(low, high),
        rule=r"exact integer signs: $f_{n-1}(a) < 0 < f_{n-1}(b)$, and $f_{n-1}$ is increasing (T4)",
        holds=low < high < 0 and high - low <= abs(high) * Rational(1, 10**digits),
        check=f"signs of {n - 1}! f_{n - 1} at two rationals; relative width {sympy.N((high - low) / abs(high), 3)}",
    )
    floor, ceiling = high**n / factorial(n), low**n / factorial(n)
    proof.certify(
        rf"the minimum: $b^{{{n}}}/{n}! < f_{{{n}}}(x^*) = (x^*)^{{{n}}}/{n}! < a^{{{n}}}/{n}!$",
        sympy.Symbol(f"b^{{{n}}}/{n}!"),
        "<",
        sympy.Symbol(f"a^{{{n}}}/{n}!"),
        rule=r"$a < x^* < b < 0$ and $n$ even: $b^n < (x^*)^n < a^n$",
        holds=0 < floor < ceiling,
        check=f"exact rationals: 0 < b^{n}/{n}! ({sympy.N(floor, 6)}) < a^{n}/{n}! ({sympy.N(ceiling, 6)})",
    )
    middle = (low + high) / 2
    return proof.finish(
        result=sympy.Tuple(sympy.Float(middle, 50), sympy.Float(value.subs({x_star: middle, n_sym: n}), 50)),
        conclusion=rf"\min f_{{{n}}} = f_{{{n}}}(x^*_{{{n}}}) = x^{{*{n}}}_{{{n}}}/{n}!",
        proved_for=r"every even $n \ge 2$ (the value $x^{*n}/n!$)",
    )


def softmax_not_shift_invariant(n: int, shift: Rational) -> Derivation:
    r"""T6: Taylor-softmax :math:`p_i = f_n(x_i)/\sum_j f_n(x_j)` sums to 1, is positive for even n,
    and is not shift-invariant: at :math:`x = (0, 1)` adding ``shift`` changes :math:`p_1`.

    Result: the exact change :math:`\Delta = p_1(x + c) - p_1(x)`, a non-zero rational.
    """
    proof = Proof()
    x1, x2, x3 = sympy.symbols("x_1 x_2 x_3", real=True)
    weights = [named(n_sym, v) for v in (x1, x2, x3)]
    total = sympy.Add(*weights)
    proof.equal(
        "probabilities sum to one (any weights, any $n$)",
        sympy.Add(*(w / total for w in weights)),
        Integer(1),
        rule="common denominator",
        kind="general",
    )
    _instance_even(proof, n)
    _recurrence_step(proof)
    general_positivity(proof)

    def first_probability(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
        return rational_value(n, a) / (rational_value(n, a) + rational_value(n, b))

    before = first_probability(Integer(0), Integer(1))
    after = first_probability(shift, 1 + shift)
    delta = sympy.Rational(after - before)
    proof.certify(
        "shifting both logits changes $p_1$",
        sympy.Symbol(r"p_1(x + c) - p_1(x)"),
        "=",
        sympy.Float(delta, 12) if delta.q > 10**40 else delta,
        rule=f"exact rational evaluation at $x = (0, 1)$, $c = {sympy.latex(shift)}$",
        holds=delta != 0,
        check=f"Delta = {sympy.N(delta, 15)}, a nonzero exact rational",
    )
    return proof.finish(result=delta, conclusion=r"\mathrm{TS}_n(x + c) \ne \mathrm{TS}_n(x)\text{ in general}")


# symbols of the softmax_limit bound
eps, d_i, d_bar, e_i, e_sum = sympy.symbols(r"varepsilon delta_i \bar{delta} e_i E", real=True)
_slack_i, _slack_bar, _room = sympy.symbols("s_i s_bar c", nonnegative=True)


@_replayed
def normalisation_bound(proof: Proof) -> sympy.Expr:
    r"""The constant of the softmax limit, produced by checked steps; returns :math:`2\varepsilon/(1-\varepsilon)` in the symbol :data:`eps`.

    With :math:`f_n(x_i) = e^{x_i}(1 + \delta_i)`, :math:`|\delta_i| \le \varepsilon < 1`,
    :math:`p_i = e^{x_i}/E`, :math:`\bar\delta = \sum_i p_i\delta_i`:

    1. :math:`\tilde p_i - p_i = p_i(\delta_i - \bar\delta)/(1 + \bar\delta)` (identity);
    2. :math:`|\delta_i - \bar\delta| \le |\delta_i| + |\bar\delta| \le 2\varepsilon` and
       :math:`1 + \bar\delta \ge 1 - \varepsilon`;
    3. summing with :math:`\sum_i p_i = 1`: :math:`\|\tilde p - p\|_1 \le 2\varepsilon/(1-\varepsilon)`.
    """
    proof.equal(
        r"normalising perturbed weights: $\tilde p_i - p_i = p_i(\delta_i - \bar\delta)/(1 + \bar\delta)$",
        e_i * (1 + d_i) / (e_sum * (1 + d_bar)) - e_i / e_sum,
        (e_i / e_sum) * (d_i - d_bar) / (1 + d_bar),
        rule=r"$\tilde p_i = e^{x_i}(1+\delta_i)/\sum_j e^{x_j}(1+\delta_j)$, $\sum_j e^{x_j}(1+\delta_j) = E(1+\bar\delta)$",
        kind="general",
    )
    # |delta_i| = eps - s_i, |delta_bar| = eps - s_bar with s_i, s_bar in [0, eps]; 1 - eps = c > 0
    numerator = (eps - _slack_i) + (eps - _slack_bar)
    numerator_bound = 2 * eps
    proof.compare(
        r"numerator: $|\delta_i - \bar\delta| \le |\delta_i| + |\bar\delta| \le 2\varepsilon$",
        numerator,
        "<=",
        numerator_bound,
        rule=r"$|\delta_i| = \varepsilon - s_i$, $|\bar\delta| = \varepsilon - s$ with $s_i, s \ge 0$",
        kind="general",
    )
    proof.equal(
        r"and it is attained at $|\delta_i| = |\bar\delta| = \varepsilon$ with opposite signs (no smaller constant)",
        sympy.Subs(numerator, (_slack_i, _slack_bar), (0, 0)),
        numerator_bound,
        rule=r"$s_i = s = 0$",
        kind="general",
    )
    denominator = 1 - (eps - _slack_bar)
    denominator_bound = 1 - eps
    proof.compare(
        r"denominator: $1 + \bar\delta \ge 1 - |\bar\delta| \ge 1 - \varepsilon$",
        denominator,
        ">=",
        denominator_bound,
        rule=r"$|\bar\delta| = \varepsilon - s$, $s \ge 0$",
        kind="general",
    )
    proof.equal(
        r"attained at $\bar\delta = -\varepsilon$",
        sympy.Subs(denominator, _slack_bar, 0),
        denominator_bound,
        rule=r"$s = 0$",
        kind="general",
    )
    per_class = numerator_bound / denominator_bound
    positive_eps = _room / (1 + _room)  # eps = c/(1 + c) with c >= 0: any eps in [0, 1)
    proof.compare(
        r"each class: $|\tilde p_i - p_i| \le p_i \cdot 2\varepsilon/(1-\varepsilon)$",
        (numerator / denominator).subs(eps, positive_eps),
        "<=",
        per_class.subs(eps, positive_eps),
        rule=r"the numerator bound over the denominator bound; $\\varepsilon = c/(1+c)$, $c \\ge 0$, is any $\\varepsilon \\in [0, 1)$",
        kind="general",
    )
    p = sympy.IndexedBase("p")
    i = sympy.Symbol("i", integer=True, positive=True)
    classes = sympy.Symbol("K", integer=True, positive=True)
    summed = proof.equal(
        r"sum over the $K$ classes with $\sum_i p_i = 1$",
        sympy.factor_terms(sympy.Sum(p[i] * per_class, (i, 1, classes))).subs(sympy.Sum(p[i], (i, 1, classes)), 1),
        per_class,
        rule=r"$\|\tilde p - p\|_1 \le \sum_i p_i \cdot \frac{2\varepsilon}{1-\varepsilon}$",
        shown=(sympy.Sum(p[i] * per_class, (i, 1, classes)), per_class),
        kind="general",
    )
    return summed


def softmax_limit_bound(n: int, a: Rational) -> Derivation:
    r"""T6: Taylor-softmax tends to softmax; for logits in :math:`[-a, a]^K`,

    .. math:: \|\mathrm{TS}_n(x) - \mathrm{softmax}(x)\|_1 \le \frac{2\varepsilon_n}{1-\varepsilon_n},\qquad
              \varepsilon_n = \frac{a^{n+1}}{(n+1)!}\,e^{a} \to 0.

    From the integral remainder :math:`e^x - f_n(x) = \int_0^x \frac{(x-t)^n}{n!} e^t\,dt`,
    whose size is at most :math:`\varepsilon_n e^x` for :math:`|x| \le a`; with
    :math:`f_n(x_i) = e^{x_i}(1+\delta_i)`, :math:`|\delta_i| \le \varepsilon_n`, normalising costs at most
    :math:`2\varepsilon_n/(1-\varepsilon_n)` in :math:`\ell_1` (:func:`normalisation_bound`).  Result: the bound (exact).
    Parity is not needed here: :math:`\varepsilon_n < 1` already forces :math:`f_n > 0` on :math:`[-a, a]`.
    """
    proof = Proof()
    poly = integer_poly(n)
    proof.certify(
        rf"the remainder $R_{{{n}}} = e^x - f_{{{n}}}$ solves $R^{{({n + 1})}} = e^x$",
        sympy.Derivative(sympy.Add(exp(x), -named(n), evaluate=False), (x, n + 1)),
        "=",
        exp(x),
        rule=rf"$f_{{{n}}}$ has degree ${n}$",
        holds=poly.degree() == n,
        check=f"Poly({n}! f_{n}).degree() = {poly.degree()}",
        kind="instance",
    )
    coefficients = list(reversed(poly.all_coeffs()))  # lowest degree first: n!/k!
    derivatives_at_zero = [int(c) * sympy.factorial(order) for order, c in enumerate(coefficients)]
    proof.certify(
        rf"with $R_{{{n}}}^{{(k)}}(0) = 1 - f_{{{n}}}^{{(k)}}(0) = 0$ for $k \le {n}$, so $R_{{{n}}}(x) = \int_0^x \frac{{(x-t)^{{{n}}}}}{{{n}!}} e^t\,dt$",
        sympy.Function(f"R_{{{n}}}^{{(k)}}")(Integer(0)),
        "=",
        Integer(0),
        rule=r"Taylor's theorem: the integral solves the same initial value problem",
        holds=all(value == sympy.factorial(n) for value in derivatives_at_zero),
        check=f"k! [x^k] ({n}! f_{n}) = {n}! for k = 0..{n}, i.e. every derivative of f_{n} at 0 is 1, as for e^x",
    )
    s = Symbol("s", positive=True)
    proof.equal(
        r"size of the remainder: bound $e^t$ by $e^{\max(x,0)}$, integrate the rest",
        sympy.Integral((s - t) ** n_sym / factorial(n_sym), (t, 0, s)),
        s ** (n_sym + 1) / factorial(n_sym + 1),
        rule=r"$|e^x - f_n(x)| \le e^{\max(x,0)} |x|^{n+1}/(n+1)!$, $s = |x|$; relative to $e^x$: $\le e^{|x|} |x|^{n+1}/(n+1)!$",
        kind="general",
    )
    value = a ** (n + 1) / factorial(n + 1) * exp(a)
    proof.certify(
        r"$\varepsilon_n < 1$ so normalising is safe",
        sympy.Symbol(rf"\varepsilon_{{{n}}}"),
        "<",
        Integer(1),
        rule="exact comparison",
        holds=bool(value < 1),
        check=f"eps_{n} = {sympy.N(value, 6)} < 1",
    )
    bound = normalisation_bound(proof).subs(eps, value)
    return proof.finish(
        result=bound,
        conclusion=r"\|\mathrm{TS}_n - \mathrm{softmax}\|_1 \le 2\varepsilon_n/(1-\varepsilon_n)",
    )


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
    _certify_root_count(proof, "the minimiser $x^*_n$ exists: $f_{n-1}$ has exactly one real root", n - 1, 1, rule="T4 ($n$ even)")
    (_, high), _ = fprev.intervals()[0]
    _certify_root_count(
        proof, "$g_n' = f_{n-1}$ has no root right of the minimiser", n - 1, 0, rule=r"$x^*_n \le$ the isolating interval's right end", low=high
    )
    proof.compare("so $g_n' > 0$ there: leading coefficient", fprev.LC(), ">", Integer(0), rule="degree $n-1$ odd, leading coefficient $> 0$")
    _recurrence_step(proof)
    general_critical_value(proof, critical_point)
    root = CRootOf(fprev, 0)
    value = root**n / factorial(n)
    proof.compare("the floor is positive", value, ">", Integer(0), rule=r"$n$ even, $x^*_n \ne 0$")
    return proof.finish(result=value, conclusion=rf"g_{{{n}}} \text{{ non-decreasing}},\ g_{{{n}}} \ge f_{{{n}}}(x^*_{{{n}}}) > 0")


def root_count_table(n_max: int) -> Derivation:
    r"""Real-root counts of :math:`f_n` for every :math:`0 \le n \le n_{\max}`: :math:`n \bmod 2`.

    General layer: T3 (even :math:`n \ge 2`: no real root) and T4 (odd :math:`n`: exactly one),
    for symbolic :math:`n`; :math:`f_0 = 1`.  Instance layer: one Sturm count per order up to
    :math:`\min(n_{\max},` :data:`TABLE_STURM_MAX`:math:`)`; sympy's cost grows like :math:`n^3`
    (``benchmarks/bench_taylor.py``), so the table to :math:`n = 1000` rests on the general proof
    and on ``twofold.numerics.taylor_certify``'s independent chain.
    Result: the ``Tuple`` of counts, index :math:`n`.
    """
    proof = Proof()
    _recurrence_step(proof)
    general_positivity(proof)
    _structure_general(proof)
    counts = [order % 2 for order in range(n_max + 1)]
    for order in range(min(n_max, TABLE_STURM_MAX) + 1):
        _certify_root_count(proof, f"real roots of $f_{{{order}}}$", order, counts[order], rule="Sturm sequence on $n!\\,f_n$", compact=True)
    return proof.finish(
        result=sympy.Tuple(*counts),
        conclusion=rf"\#\{{x \in \mathbb{{R}} : f_n(x) = 0\}} = n \bmod 2 \quad (0 \le n \le {n_max})",
        proved_for=r"every $n \ge 0$",
    )


TABLE_STURM_MAX = 40
"""Orders whose real-root count the table also certifies by a Sturm sequence (about 0.3 s to 40)."""


# --- known-false variants (twofold audit): realistic wrong formulas, each must be refused ---------


def _variant_derivative_keeps_index(n: int) -> Derivation:
    r"""Wrong: :math:`\frac{d}{dx}\frac{x^k}{k!} = \frac{x^k}{k!}` (the index kept), so :math:`f_n' = f_n`."""
    proof = Proof()
    proof.equal(
        "differentiate one term (symbolic $k$)",
        sympy.Derivative(x**k / factorial(k), x),
        x**k / factorial(k),
        rule=r"(wrong) $\frac{d}{dx}\frac{x^k}{k!} = \frac{x^k}{k!}$",
        kind="general",
    )
    return proof.finish(result=sympy.expand(sympy.diff(truncation(n), x) - truncation(n)), conclusion="f_n' = f_n")


def _variant_factorial_of_previous(n: int) -> Derivation:
    r"""Wrong: the top term with :math:`(n-1)!` for :math:`n!` — :math:`f_n(x^*) = x^{*n}/(n-1)!`."""
    proof = Proof()
    _recurrence_step(proof)
    top = x_star**n_sym / factorial(n_sym - 1)
    proof.equal(
        "split off the top term (symbolic $n$)",
        _closed(partial_sum(n_sym, x_star)),
        _closed(partial_sum(n_sym - 1, x_star) + top),
        rule=r"(wrong) $f_n = f_{n-1} + x^n/(n-1)!$",
        shown=(partial_sum(n_sym, x_star), sympy.Add(partial_sum(n_sym - 1, x_star), top, evaluate=False)),
        kind="general",
    )
    return proof.finish(result=Integer(0), conclusion=r"f_n(x^*) = x^{*n}/(n-1)!")


def _variant_critical_value_sign(n: int) -> Derivation:
    r"""Wrong: the critical value with the sign flipped, :math:`f_n(x^*) = -x^{*n}/n!` (so T3 would say negative)."""
    proof = Proof()
    _recurrence_step(proof)
    split = general_split(proof, x_star)
    value = -(x_star**n_sym) / factorial(n_sym)
    proof.equal(
        "value at a critical point",
        split.subs(critical_point(x_star)),
        value,
        rule=r"(wrong sign)",
        shown=(named(n_sym, x_star), value),
        kind="general",
    )
    return proof.finish(result=Integer(0), conclusion=r"f_n(x^*) = -x^{*n}/n!")


def _variant_wrong_hypothesis(n: int) -> Derivation:
    r"""Wrong: a critical point read as a root of :math:`f_n` itself (:math:`f_n(x^*) = 0` instead of :math:`f_{n-1}(x^*) = 0`)."""
    proof = Proof()
    _recurrence_step(proof)
    general_positivity(proof, hypothesis=lambda point: {named(n_sym, point): Integer(0)})
    return proof.finish(result=Integer(0), conclusion=r"f_n > 0")


def _variant_minimiser_off_by_one(n: int, digits: int = 30) -> Derivation:
    r"""Wrong: the minimiser of :math:`f_n` taken as the root of :math:`f_{n+1}` (order off by one)."""
    proof = Proof()
    low, high = isolate_negative_root(n + 1, digits)
    proof.certify(
        "isolating interval of the minimiser",
        sympy.Symbol(f"x^*_{{{n}}}"),
        ":",
        sympy.Interval(low, high),
        rule="(wrong) the root of $f_{n+1}$",
        holds=True,
        check="signs of f_(n+1)",
    )
    middle = (low + high) / 2
    return proof.finish(
        result=sympy.Tuple(sympy.Float(middle, 50), sympy.Float(middle**n / factorial(n), 50)),
        conclusion=r"\min f_n = r_{n+1}^n/n!",
    )


def _variant_bound_constant(n: int, a: Rational) -> Derivation:
    r"""Wrong constant: :math:`\varepsilon/(1-\varepsilon)` for :math:`2\varepsilon/(1-\varepsilon)` (the :math:`|\bar\delta|` term forgotten)."""
    proof = Proof()
    numerator = (eps - _slack_i) + (eps - _slack_bar)
    proof.compare(
        r"numerator: $|\delta_i - \bar\delta| \le \varepsilon$",
        numerator,
        "<=",
        eps,
        rule="(wrong) only $|\\delta_i|$ counted",
        kind="general",
    )
    value = a ** (n + 1) / factorial(n + 1) * exp(a)
    return proof.finish(result=value / (1 - value), conclusion=r"\le \varepsilon_n/(1-\varepsilon_n)")


def _variant_bound_weaker(n: int, a: Rational) -> Derivation:
    r"""A weaker constant :math:`4\varepsilon/(1-\varepsilon)`: true but not what the steps produce; the tightness step refuses it."""
    proof = Proof()
    numerator = (eps - _slack_i) + (eps - _slack_bar)
    proof.equal(
        r"the numerator bound is attained at $|\delta_i| = |\bar\delta| = \varepsilon$",
        numerator.subs({_slack_i: 0, _slack_bar: 0}),
        4 * eps,
        rule="(weaker) $4\\varepsilon$",
        kind="general",
    )
    value = a ** (n + 1) / factorial(n + 1) * exp(a)
    return proof.finish(result=4 * value / (1 - value), conclusion=r"\le 4\varepsilon_n/(1-\varepsilon_n)")


def _variant_shift_invariant(n: int, shift: Rational) -> Derivation:
    r"""Wrong: Taylor-softmax treated like softmax, shift-invariant (:math:`\Delta = 0`)."""
    proof = Proof()
    x1, x2 = sympy.symbols("x_1 x_2", real=True)
    proof.equal(
        "a common shift cancels (as for $e^x$)",
        named(n_sym, x1 + Symbol("c")) / (named(n_sym, x1 + Symbol("c")) + named(n_sym, x2 + Symbol("c"))),
        named(n_sym, x1) / (named(n_sym, x1) + named(n_sym, x2)),
        rule=r"(wrong) $f_n(x + c) = f_n(x) f_n(c)$",
        kind="general",
    )
    return proof.finish(result=Integer(0), conclusion=r"\mathrm{TS}_n(x + c) = \mathrm{TS}_n(x)")
