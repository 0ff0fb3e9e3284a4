r"""FAVOR+ random features and linear attention, exactly (kexue.fm post 7921; Choromanski et al. 2020).

The softmax kernel is :math:`\mathrm{SM}(x, y) = e^{x\cdot y}` and :math:`\omega \sim N(0, I_d)`.
Three single-frequency estimators of it (``KINDS``):

* positive: :math:`Z = e^{\omega\cdot x - |x|^2/2}\,e^{\omega\cdot y - |y|^2/2}`;
* hyperbolic: :math:`Z = e^{-(|x|^2+|y|^2)/2}\cosh(\omega\cdot(x+y))` (average of :math:`\pm\omega`);
* trigonometric: :math:`Z = e^{(|x|^2+|y|^2)/2}\cos(\omega\cdot(x-y))`.

With :math:`m` frequencies the estimator is the mean of :math:`m` copies of :math:`Z`.
Scalar formulas are written in :math:`a = |x|`, :math:`b = |y|`, :math:`c = x\cdot y`, so
:math:`|x+y|^2 = a^2+b^2+2c` and :math:`|x-y|^2 = a^2+b^2-2c`.  A parameter point is
:math:`x = a e_1`, :math:`y = b(\cos\theta\, e_1 + \sin\theta\, e_2)` (``pair_values``).

Every expectation rests on two one-dimensional integrals that sympy evaluates:
the Gaussian MGF :math:`E e^{tw} = e^{t^2/2}` and characteristic function
:math:`E\cos(tw) = e^{-t^2/2}`, :math:`w \sim N(0,1)`.  What is *assumed* rather than
computed is said in each docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import mpmath
import sympy
from sympy import (
    Integer,
    Integral,
    Matrix,
    Rational,
    Symbol,
    cos,
    cosh,
    exp,
    gamma,
    gammasimp,
    hyper,
    hyperexpand,
    limit,
    oo,
    pi,
    rf,
    sqrt,
)

from twofold.derivation import Proof, is_zero
from twofold.model import Derivation

KINDS = ("positive", "hyperbolic", "trigonometric")
LABELS = {"positive": "+", "hyperbolic": "hyp", "trigonometric": "trig"}  # superscripts in formulas
DIGITS = 30  # working precision where exact expressions are compared numerically

w = Symbol("w", real=True)
t = Symbol("t", real=True)
s = Symbol("s", real=True)
a, b = sympy.symbols("a b", nonnegative=True)
c = Symbol("c", real=True)
m = Symbol("m", positive=True, integer=True)
d = Symbol("d", positive=True)
k = Symbol("k", integer=True, positive=True)
theta = Symbol("theta", real=True)
rho = Symbol("rho", positive=True)
alpha, beta, eta, gap = sympy.symbols("alpha beta eta epsilon", positive=True)

STANDARD_NORMAL = exp(-(w**2) / 2) / sqrt(2 * pi)
PLUS = a**2 + b**2 + 2 * c  # |x + y|^2
MINUS = a**2 + b**2 - 2 * c  # |x - y|^2
KERNEL = exp(c)  # SM(x, y)

Values = Mapping[Symbol, sympy.Expr]


def pair_values(norm_x: float, norm_y: float, angle_degrees: float) -> dict[Symbol, sympy.Expr]:
    r"""Exact :math:`a, b, c` for decimal norms and an angle in degrees: :math:`c = ab\cos\theta`."""
    exact_a, exact_b = Rational(str(norm_x)), Rational(str(norm_y))
    angle = Rational(str(angle_degrees)) * pi / 180
    return {a: exact_a, b: exact_b, c: exact_a * exact_b * cos(angle), theta: angle}


def claimed_mse(kind: str) -> sympy.Expr:
    r"""The MSE with :math:`m` iid frequencies as CLAIMS.md F2 states it (Lemma 2 of the paper)."""
    positive = exp(PLUS) * KERNEL**2 * (1 - exp(-PLUS)) / m
    return {
        "positive": positive,
        "hyperbolic": (1 - exp(-PLUS)) * positive / 2,
        "trigonometric": exp(PLUS) * KERNEL**-2 * (1 - exp(-MINUS)) ** 2 / (2 * m),
    }[kind]


def ratio_closed_form() -> sympy.Expr:
    r""":math:`r = \mathrm{MSE_{trig}}/\mathrm{MSE_{pos}} = (1-e^{-|x-y|^2})^2 / (2\,\mathrm{SM}^4 (1-e^{-|x+y|^2}))`."""
    return (1 - exp(-MINUS)) ** 2 / (2 * KERNEL**4 * (1 - exp(-PLUS)))


def sign_threshold() -> sympy.Expr:
    r""":math:`s^* = \sqrt{\sqrt2 - 1}`, the root of :math:`(1-s^2)^2 = 2s^4` in :math:`(0, 1)`."""
    (root,) = sympy.solveset(sympy.Eq((1 - s**2) ** 2, 2 * s**4), s, sympy.Interval.open(0, 1))
    return root


@cache
def _integral(integrand: sympy.Expr) -> sympy.Expr:
    """``integrand`` integrated over the real line in ``w`` by sympy, simplified (cached: it is slow)."""
    return sympy.simplify(sympy.integrate(integrand, (w, -oo, oo)))


def _gaussian_lemma(proof: Proof, kind: str) -> sympy.Expr:
    r"""Record :math:`E e^{tw} = e^{t^2/2}` (``mgf``) or :math:`E\cos tw = e^{-t^2/2}` (``cf``); return it.

    The MGF by completing the square (the shifted density integrates to 1); the
    characteristic function by sympy's definite integral.
    """
    if kind == "mgf":
        shifted = STANDARD_NORMAL.subs(w, w - t)
        proof.equal(
            "complete the square",
            exp(t * w) * STANDARD_NORMAL,
            exp(t**2 / 2) * shifted,
            rule=r"$tw - w^2/2 = -(w-t)^2/2 + t^2/2$",
            kind="general",
        )
        mass = _integral(shifted)
        proof.certify(
            r"Gaussian MGF: $E e^{tw} = e^{t^2/2} \times$ (mass of the shifted density)",
            Integral(shifted, (w, -oo, oo)),
            "=",
            Integer(1),
            rule="integrate over the real line",
            holds=mass == 1,
            check=f"sympy.integrate(...) = {mass}",
        )
        return exp(t**2 / 2)
    closed = exp(-(t**2) / 2)
    computed = _integral(cos(t * w) * STANDARD_NORMAL)
    proof.certify(
        "Gaussian characteristic function",
        Integral(cos(t * w) * STANDARD_NORMAL, (w, -oo, oo)),
        "=",
        closed,
        rule="integrate over the real line",
        holds=sympy.simplify(computed - closed) == 0,
        check="sympy.integrate over the real line, simplified: equal to the closed form",
    )
    return closed


def _vectors(dimension: int) -> tuple[Matrix, Matrix]:
    """Generic real vectors :math:`x, y \\in R^d`."""
    xs = sympy.symbols(f"x_1:{dimension + 1}", real=True)
    ys = sympy.symbols(f"y_1:{dimension + 1}", real=True)
    return Matrix(xs), Matrix(ys)


def _point_vectors(dimension: int, values: Values) -> tuple[Matrix, Matrix]:
    """:math:`x = a e_1`, :math:`y = b(\\cos\\theta e_1 + \\sin\\theta e_2)` in :math:`R^d` (``dimension >= 2``)."""
    x = sympy.zeros(dimension, 1)
    y = sympy.zeros(dimension, 1)
    x[0] = values[a]
    y[0], y[1] = values[b] * cos(values[theta]), values[b] * sympy.sin(values[theta])
    return x, y


def _kernel_identity(proof: Proof, kind: str, dimension: int, lemma: sympy.Expr | None = None) -> None:
    r"""F1 in :math:`d` dimensions: :math:`E[Z] = e^{x\cdot y}` for generic symbolic :math:`x, y \in R^d`
    (``lemma``: the Gaussian MGF or characteristic function already recorded, else derived here)."""
    x, y = _vectors(dimension)
    if kind == "trigonometric":
        characteristic = lemma if lemma is not None else _gaussian_lemma(proof, "cf")
        p, q = sympy.symbols("p q", real=True)
        proof.equal(
            "product of trigonometric features",
            cos(p) * cos(q) + sympy.sin(p) * sympy.sin(q),
            cos(p - q),
            rule=r"$p = \omega\cdot x$, $q = \omega\cdot y$",
        )
        v = x - y
        proof.equal(
            "independent coordinates",
            sympy.Mul(*(characteristic.subs(t, vi) for vi in v)),
            exp(-v.dot(v) / 2),
            rule=r"$E\cos(\omega\cdot v) = \mathrm{Re}\prod_i E e^{i\omega_i v_i}$, every factor real",
        )
        proof.equal(
            r"$E[Z] = e^{(|x|^2+|y|^2)/2}\, E\cos(\omega\cdot(x-y))$ in coordinates",
            exp((x.dot(x) + y.dot(y)) / 2) * exp(-v.dot(v) / 2),
            exp(x.dot(y)),
            rule=r"$|x-y|^2 = |x|^2 - 2x\cdot y + |y|^2$",
        )
        return
    mgf = lemma if lemma is not None else _gaussian_lemma(proof, "mgf")
    u = x + y
    proof.equal(
        "independent coordinates",
        sympy.Mul(*(mgf.subs(t, ui) for ui in u)),
        exp(u.dot(u) / 2),
        rule=r"$E\prod_i e^{\omega_i u_i} = \prod_i E e^{\omega_i u_i}$",
    )
    if kind == "hyperbolic":
        proof.equal(
            r"$E\cosh(\omega\cdot u) = (E e^{\omega\cdot u} + E e^{-\omega\cdot u})/2$ in coordinates",
            (mgf.subs(t, sqrt(u.dot(u))) + mgf.subs(t, sqrt((-u).dot(-u)))) / 2,
            exp(u.dot(u) / 2),
            rule=r"$-\omega$ has the law of $\omega$",
        )
    proof.equal(
        r"$E[Z] = e^{-(|x|^2+|y|^2)/2}\, E e^{\omega\cdot(x+y)}$ in coordinates",
        exp(-(x.dot(x) + y.dot(y)) / 2) * exp(u.dot(u) / 2),
        exp(x.dot(y)),
        rule=r"complete the square: $|x+y|^2 = |x|^2 + 2x\cdot y + |y|^2$",
    )


def _at_point(proof: Proof, dimension: int, values: Values) -> sympy.Expr:
    """Record :math:`c = x\\cdot y = ab\\cos\\theta` at the parameter point; return :math:`\\mathrm{SM}` there."""
    x, y = _point_vectors(dimension, values)
    proof.equal(
        r"$c = x \cdot y$ at the parameter point",
        x.dot(y),
        values[c],
        rule=r"$x = a e_1$, $y = b(\cos\theta\, e_1 + \sin\theta\, e_2)$",
        shown=(c, values[c]),
    )
    return KERNEL.subs(values)


def _general_unbiased(proof: Proof, kind: str, lemma: sympy.Expr) -> sympy.Expr:
    r"""F1 for every :math:`d` and all :math:`x, y` (symbols :math:`a = |x|`, :math:`b = |y|`, :math:`c = x\cdot y`):
    :math:`\omega\cdot u \sim N(0, |u|^2)` (rotation invariance), so :math:`E e^{\omega\cdot u} = M(|u|)` with the
    Gaussian moment generating function :math:`M(t) = e^{t^2/2}` (or the characteristic function for cosines).
    Returns :math:`E[Z]` as derived (a function of :math:`a, b, c`)."""
    if kind == "trigonometric":
        characteristic = lemma
        spread = proof.equal(
            r"$E\cos(\omega\cdot(x-y)) = E\cos(|x-y|\, w)$ with $|x-y|^2 = a^2+b^2-2c$",
            characteristic.subs(t, sqrt(MINUS)),
            exp(-MINUS / 2),
            rule=r"$\omega\cdot v \sim N(0, |v|^2)$ for every $d$ (rotation invariance)",
            kind="general",
            shown=(sympy.Function("E_cos")(sqrt(MINUS)), exp(-MINUS / 2)),
        )
        return proof.equal(
            r"$E[Z] = e^{(a^2+b^2)/2}\, E\cos(\omega\cdot(x-y))$",
            exp((a**2 + b**2) / 2) * spread,
            KERNEL,
            rule=r"$|x-y|^2 = a^2 - 2c + b^2$",
            kind="general",
            shown=(sympy.Mul(exp((a**2 + b**2) / 2), exp(-MINUS / 2), evaluate=False), KERNEL),
        )
    mgf = lemma
    moment = proof.equal(
        r"$E e^{\omega\cdot u} = M(|u|)$ with $|u|^2 = |x+y|^2 = a^2+b^2+2c$",
        mgf.subs(t, sqrt(PLUS)),
        exp(PLUS / 2),
        rule=r"$\omega\cdot u \sim N(0, |u|^2)$ for every $d$ (rotation invariance)",
        kind="general",
        shown=(sympy.Function("M")(sqrt(PLUS)), exp(PLUS / 2)),
    )
    if kind == "hyperbolic":
        moment = proof.equal(
            r"$E\cosh(\omega\cdot u) = (M(|u|) + M(|-u|))/2$",
            (mgf.subs(t, sqrt(PLUS)) + mgf.subs(t, sqrt(PLUS))) / 2,
            exp(PLUS / 2),
            rule=r"$-\omega$ has the law of $\omega$",
            kind="general",
            shown=((sympy.Function("M")(sqrt(PLUS)) + sympy.Function("M")(sqrt(PLUS))) / 2, exp(PLUS / 2)),
        )
    return proof.equal(
        r"$E[Z] = e^{-(a^2+b^2)/2}\, E e^{\omega\cdot(x+y)}$",
        exp(-(a**2 + b**2) / 2) * moment,
        KERNEL,
        rule=r"complete the square: $|x+y|^2 = a^2 + 2c + b^2$",
        kind="general",
        shown=(sympy.Mul(exp(-(a**2 + b**2) / 2), exp(PLUS / 2), evaluate=False), KERNEL),
    )


INSTANCE_DIMENSION = 8  # the second layer, explicit coordinates, stops here (general steps cover every d)
PROVED_FOR_ALL_D = r"every dimension $d$ and all $x, y \in \mathbb{R}^d$"


def unbiased(kind: str, dimension: int, values: Values) -> Derivation:
    r"""F1: :math:`E[Z] = e^{x\cdot y}` for the positive, hyperbolic or trigonometric estimator.

    General layer: for every :math:`d`, in :math:`a, b, c` (:func:`_general_unbiased`).  Instance layer: generic
    symbolic vectors in :math:`\min(d, 8)` dimensions, coordinate by coordinate.  The 1-d integrals are
    evaluated by sympy; independence of the coordinates of :math:`\omega`, rotation invariance and
    :math:`-\omega \sim \omega` are the assumed facts about :math:`N(0, I_d)`.  Result: :math:`E[Z]` as derived,
    at the parameter point.
    """
    proof = Proof()
    lemma = _gaussian_lemma(proof, "cf" if kind == "trigonometric" else "mgf")
    derived = _general_unbiased(proof, kind, lemma)
    _kernel_identity(proof, kind, min(dimension, INSTANCE_DIMENSION), lemma)
    _at_point(proof, dimension, values)
    return proof.finish(
        result=derived.subs(values),
        conclusion=rf"E[\widehat{{\mathrm{{SM}}}}_{{\mathrm{{{LABELS[kind]}}}}}(x,y)] = e^{{x\cdot y}}",
        proved_for=PROVED_FOR_ALL_D,
    )


def _variant_mgf_without_half(kind: str, dimension: int, values: Values) -> Derivation:
    r"""Known-false: the Gaussian moment generating function taken as :math:`e^{t^2}` (the missing :math:`\tfrac12`);
    :math:`E[Z]` is computed from it, without the checks that would refuse it."""
    proof = Proof()
    _at_point(proof, dimension, values)
    wrong = exp(t**2)
    moment = wrong.subs(t, sqrt(PLUS))
    if kind == "hyperbolic":
        moment = (moment + wrong.subs(t, sqrt(PLUS))) / 2
    return proof.finish(result=(exp(-(a**2 + b**2) / 2) * moment).subs(values), conclusion="(wrong moment)")


def _variance_steps(proof: Proof, kind: str) -> sympy.Expr:
    """Second moment of one frequency via the MGF (or CF) at doubled argument, for every :math:`d` (general
    steps in :math:`a, b, c`); returns :math:`\\mathrm{Var}\\,Z`."""
    if kind == "trigonometric":
        characteristic = _gaussian_lemma(proof, "cf")
        proof.equal("double angle", cos(s) ** 2, (1 + cos(2 * s)) / 2, rule=r"$\cos^2 s = (1 + \cos 2s)/2$",
                    kind="general")
        doubled = proof.equal(
            r"$E\cos(2\omega\cdot(x-y))$",
            characteristic.subs(t, 2 * sqrt(MINUS)),
            exp(-2 * MINUS),
            rule=r"characteristic function at $2|x-y|$",
            kind="general",
            shown=(sympy.Function("E_cos")(2 * sqrt(MINUS)), exp(-2 * MINUS)),
        )
        second = exp(a**2 + b**2) * (1 + doubled) / 2
    else:
        mgf = _gaussian_lemma(proof, "mgf")
        doubled = proof.equal(
            r"$E e^{2\omega\cdot(x+y)}$",
            mgf.subs(t, 2 * sqrt(PLUS)),
            exp(2 * PLUS),
            rule=r"moment generating function at $2|x+y|$",
            kind="general",
            shown=(sympy.Function("M")(2 * sqrt(PLUS)), exp(2 * PLUS)),
        )
        if kind == "positive":
            second = exp(-(a**2) - b**2) * doubled
        else:
            proof.equal(
                r"double angle: $\cosh^2 s = (1 + \cosh 2s)/2$",
                cosh(s) ** 2,
                ((1 + cosh(2 * s)) / 2).rewrite(exp),
                rule=r"$\cosh s = (e^s + e^{-s})/2$",
                kind="general",
            )
            second = exp(-(a**2) - b**2) * (1 + doubled) / 2
    return second - KERNEL**2


PROVED_FOR_MSE = r"every dimension $d$, all $x, y \in \mathbb{R}^d$ and every number $m \ge 1$ of iid frequencies"


def mse(kind: str, values: Values, features: int) -> Derivation:
    r"""F2: the MSE of the :math:`m`-frequency estimator equals the formula of CLAIMS.md.

    :math:`\mathrm{MSE}_m = \mathrm{Var}(Z)/m` (iid frequencies, unbiased by F1) and
    :math:`\mathrm{Var}(Z) = E Z^2 - \mathrm{SM}^2`, with :math:`E Z^2` from the MGF (CF)
    at the doubled argument.  Result: the MSE at the parameter point with ``features`` frequencies.
    """
    proof = Proof()
    variance = _variance_steps(proof, kind)
    formula = proof.equal(
        r"mean of $m$ iid frequencies",
        sympy.Mul(variance, 1 / m, evaluate=False),
        claimed_mse(kind),
        rule=r"$\mathrm{Var}(\bar Z_m) = \mathrm{Var}(Z)/m$",
        kind="general",
    )
    if kind == "hyperbolic":
        proof.equal(
            r"hyperbolic $= \tfrac12(1 - e^{-|x+y|^2})\cdot$ positive",
            formula,
            (1 - exp(-PLUS)) * claimed_mse("positive") / 2,
            rule="CLAIMS F2",
            kind="general",
            shown=(sympy.Symbol(r"\mathrm{MSE_{hyp}}"), (1 - exp(-PLUS)) * sympy.Symbol(r"\mathrm{MSE_{pos}}") / 2),
        )
    return proof.finish(
        result=formula.subs(values).subs(m, features),
        conclusion=rf"\mathrm{{MSE}}_{{\mathrm{{{LABELS[kind]}}}}} = {sympy.latex(formula)}",
        proved_for=PROVED_FOR_MSE,
    )


def _variant_mse_without_one_over_m(kind: str, values: Values, features: int) -> Derivation:
    """Known-false: the MSE of the mean of m features taken as the one-frequency variance (the 1/m forgotten)."""
    proof = Proof()
    variance = _variance_steps(proof, kind)
    return proof.finish(result=variance.subs(values).subs(m, features), conclusion="(no 1/m)")


def _variant_hyperbolic_without_half(values: Values, features: int) -> Derivation:
    """Known-false: the hyperbolic MSE as (1 - exp(-|x+y|^2)) MSE_pos, the factor 1/2 of cosh^2 forgotten."""
    proof = Proof()
    _variance_steps(proof, "positive")
    wrong = (1 - exp(-PLUS)) * claimed_mse("positive")
    return proof.finish(result=wrong.subs(values).subs(m, features), conclusion="(no 1/2)")


def _ratio_limits(proof: Proof) -> sympy.Expr:
    r"""Limits of :math:`r` (and its sign regions, :func:`_sign_regions`); returns :math:`s^*`.

    * :math:`|x| = |y| = \rho`, :math:`\theta \to 0`: :math:`r \to 0`.
    * :math:`|x| \ne |y|`: the :math:`\theta \to 0` limit is :math:`r(a, b, 0) > 0` (CLAIMS.md's
      "→ 0 as the angle → 0" needs equal norms).
    * :math:`\mathrm{SM} \to 0`: :math:`r \ge (1-\mathrm{SM}^2)^2/(2\mathrm{SM}^4) \to \infty`.
    """
    ratio = ratio_closed_form()
    equal_norms = ratio.subs({a: rho, b: rho, c: rho**2 * cos(theta)})
    value = limit(equal_norms, theta, 0)
    proof.certify(
        r"equal norms: $r \to 0$ as the angle $\to 0$",
        sympy.Limit(equal_norms, theta, 0),
        "=",
        Integer(0),
        rule=r"$|x - y| \to 0$",
        holds=value == 0,
        check=f"sympy.limit(r, theta, 0) = {value}",
    )
    unequal = ratio.subs({a: 1, b: Rational(1, 2), c: Rational(1, 2)})
    proof.certify(
        r"unequal norms: the limit as the angle $\to 0$ is positive ($|x| = 1$, $|y| = 1/2$)",
        unequal,
        ">",
        Integer(0),
        rule=r"$|x - y| \to ||x| - |y|| > 0$",
        holds=bool(unequal.is_positive),
        check=f"r(1, 1/2, 0) = {sympy.N(unequal, 6)}",
    )
    threshold = _sign_regions(proof)
    bound = (1 - s**2) ** 2 / (2 * s**4)
    at_zero = limit(bound, s, 0, "+")
    proof.certify(
        r"$r \to \infty$ as $\mathrm{SM} \to 0$",
        sympy.Limit(bound, s, 0, "+"),
        "=",
        oo,
        rule=r"$r \ge (1 - \mathrm{SM}^2)^2/(2\,\mathrm{SM}^4)$",
        holds=at_zero == oo,
        check=f"sympy.limit of (1-s²)²/(2s⁴) as s decreases to 0: {at_zero}",
    )
    return threshold


def _sign_regions(proof: Proof) -> sympy.Expr:
    r"""Where each feature kind wins; returns :math:`s^* = \sqrt{\sqrt2-1}`.

    * :math:`\mathrm{SM} \le 1`: :math:`2\mathrm{SM}^4 r \ge (1-\mathrm{SM}^2)^2`, so :math:`r > 1` for
      :math:`\mathrm{SM} < s^*`.  Written with :math:`\mathrm{SM}^2 = 1/(1+\beta)`,
      :math:`e^{-(a^2+b^2)} = 1/(1+\alpha)` (so :math:`e^{-|x-y|^2} = \mathrm{SM}^2/(1+\alpha)`) and
      :math:`e^{-|x+y|^2} = 1/(1+\eta)`; proved for all :math:`\alpha, \beta, \eta > 0` (boundaries by continuity).
    * :math:`\mathrm{SM} \ge 1`: :math:`r \le 1/(2\mathrm{SM}^4) \le 1/2`, written with
      :math:`e^{-|x-y|^2} = 1/(1+\alpha)`, :math:`e^{-4x\cdot y} = 1/(1+\beta)`.
    """
    sm_squared = 1 / (1 + beta)
    proof.compare(
        r"$\mathrm{SM} \le 1$: $1 - e^{-|x-y|^2} \ge 1 - \mathrm{SM}^2 \ge 0$",
        1 - sm_squared / (1 + alpha),
        ">=",
        1 - sm_squared,
        rule=r"$|x-y|^2 = |x|^2 + |y|^2 - 2x\cdot y \ge -2x\cdot y$",
    )
    proof.compare(
        r"$0 < 1 - e^{-|x+y|^2} \le 1$",
        1 - 1 / (1 + eta),
        "<=",
        Integer(1),
        rule=r"so $2\,\mathrm{SM}^4 r = (1 - e^{-|x-y|^2})^2/(1 - e^{-|x+y|^2}) \ge (1 - \mathrm{SM}^2)^2$",
    )
    bound = (1 - s**2) ** 2 / (2 * s**4)
    threshold = sign_threshold()
    region = sympy.solveset(bound > 1, s, sympy.Interval.open(0, 1))
    proof.certify(
        r"positive features win where $\mathrm{SM} < s^*$",
        r"\{s \in (0, 1) : (1 - s^2)^2 > 2 s^4\}",
        "=",
        sympy.Interval.open(0, threshold),
        rule="solve the quartic inequality",
        holds=region == sympy.Interval.open(0, threshold),
        check=f"sympy.solveset(...) = {region}",
    )
    proof.compare(
        r"$\mathrm{SM} \ge 1$: $2\,\mathrm{SM}^4 r \le 1$",
        (1 - 1 / (1 + alpha)) ** 2 / (1 - 1 / ((1 + alpha) * (1 + beta))),
        "<=",
        Integer(1),
        rule=r"$|x+y|^2 = |x-y|^2 + 4x\cdot y \ge |x-y|^2$, and $p^2 \le p$ for $p \in [0,1]$",
    )
    return threshold


def mse_ratio(values: Values) -> Derivation:
    r"""F2: :math:`r = \mathrm{MSE_{trig}}/\mathrm{MSE_{pos}}` in closed form, with its limits and sign regions.

    Compared as the share :math:`q = r/(1+r) = \mathrm{MSE_{trig}}/(\mathrm{MSE_{trig}}+\mathrm{MSE_{pos}})`,
    which is finite on the whole angle range: :math:`q = 0` at :math:`x = y`, :math:`q = 1` at :math:`x = -y`
    (positive features exact).  Needs :math:`x, y` not both 0 (then both MSEs vanish).
    Result: :math:`q` at the parameter point.
    """
    proof = Proof()
    ratio = proof.equal(
        "ratio of the F2 formulas",
        claimed_mse("trigonometric") / claimed_mse("positive"),
        ratio_closed_form(),
        rule=r"$e^{|x+y|^2}$ and $m$ cancel",
        kind="general",
        shown=(sympy.Symbol(r"\mathrm{MSE_{trig}}") / sympy.Symbol(r"\mathrm{MSE_{pos}}"), ratio_closed_form()),
    )
    trig, positive = (claimed_mse(kind).subs(m, 1) for kind in ("trigonometric", "positive"))
    proof.equal(
        r"share $q = r/(1+r)$",
        trig / (trig + positive),
        ratio / (1 + ratio),
        rule=r"divide by $\mathrm{MSE_{pos}}$ where it is positive",
        kind="general",
        shown=(sympy.Symbol(r"\mathrm{MSE_{trig}}") / (sympy.Symbol(r"\mathrm{MSE_{trig}}") + sympy.Symbol(r"\mathrm{MSE_{pos}}")),
               sympy.Symbol("r") / (1 + sympy.Symbol("r"))),
    )
    total = (trig + positive).subs(values)
    proof.certify(
        "the two MSEs do not both vanish at this point",
        r"\mathrm{MSE_{trig}} + \mathrm{MSE_{pos}}",
        ">",
        Integer(0),
        rule=r"$x \ne 0$ or $y \ne 0$",
        holds=bool(sympy.N(total, DIGITS) > 0),
        check=f"m (MSE_trig + MSE_pos) = {sympy.N(total, 12)}",
    )
    _ratio_limits(proof)
    share = trig.subs(values) / total
    return proof.finish(
        result=share,
        conclusion=r"\frac{\mathrm{MSE_{trig}}}{\mathrm{MSE_{pos}}} = " + sympy.latex(ratio) + r",\quad q = \frac{r}{1+r}",
    )


def grid(max_norm: float, norm_steps: int, angle_steps: int) -> list[dict[Symbol, sympy.Expr]]:
    r"""Grid points :math:`a \le b \in \{\,i\,a_{\max}/n\,\}`, :math:`\theta = j\pi/n_\theta`.

    Same points in the same order as ``twofold.numerics.favor.grid``."""
    top = Rational(str(max_norm))
    norms = [top * i / norm_steps for i in range(1, norm_steps + 1)]
    return [
        {a: na, b: nb, c: na * nb * cos(pi * j / angle_steps), theta: pi * j / angle_steps}
        for i, na in enumerate(norms)
        for nb in norms[i:]
        for j in range(angle_steps + 1)
    ]


def positive_wins(max_norm: float, norm_steps: int, angle_steps: int) -> Derivation:
    r"""F2: where attention is small positive features win; where it is large they lose.

    Proved: :math:`\mathrm{SM} < s^* = \sqrt{\sqrt2-1} \Rightarrow \mathrm{MSE_{trig}} > \mathrm{MSE_{pos}}`;
    :math:`\mathrm{SM} \ge 1 \Rightarrow \mathrm{MSE_{trig}} \le \mathrm{MSE_{pos}}/2`.  Then, on the grid,
    the sign of :math:`\mathrm{MSE_{trig}} - \mathrm{MSE_{pos}}` is evaluated at 30 significant digits (mpmath)
    and the theorem checked point by point.  Result: ``Tuple(number of points where positive wins, s*,
    matrix of (MSE_trig, MSE_pos) with one frequency per grid point, to 30 digits)``.
    """
    proof = Proof()
    threshold = _sign_regions(proof)
    points = grid(max_norm, norm_steps, angle_steps)
    trig, positive = (
        sympy.lambdify((a, b, c), claimed_mse(kind).subs(m, 1), "mpmath") for kind in ("trigonometric", "positive")
    )
    ratio = sympy.lambdify((a, b, c), ratio_closed_form(), "mpmath")
    rows = []
    violations = 0
    with mpmath.workdps(DIGITS):
        cutoff = mpmath.mpf(sympy.N(threshold, DIGITS + 5))
        for point in points:
            args = [mpmath.mpf(sympy.N(point[v], DIGITS + 5)) for v in (a, b, c)]
            rows.append((trig(*args), positive(*args)))
            wins_here = rows[-1][0] > rows[-1][1]
            small, large = mpmath.exp(args[2]) < cutoff, args[2] >= 0
            violations += (small and not wins_here) or (large and ratio(*args) > 0.5)
    wins = sum(trig_value > positive_value for trig_value, positive_value in rows)
    proof.certify(
        "the sign regions hold on every grid point",
        r"\#\text{violations}",
        "=",
        Integer(0),
        rule=f"evaluation at {DIGITS} significant digits (mpmath)",
        holds=violations == 0,
        check=f"{len(points)} grid points, {wins} where MSE_trig > MSE_pos, {violations} violations",
    )
    values = sympy.ImmutableMatrix([[sympy.Float(v, DIGITS) for v in row] for row in rows])
    return proof.finish(
        result=sympy.Tuple(Integer(wins), threshold, values),
        conclusion=r"\mathrm{SM} < \sqrt{\sqrt2-1} \Rightarrow \mathrm{MSE_{pos}} < \mathrm{MSE_{trig}};\ "
        r"\mathrm{SM} \ge 1 \Rightarrow \mathrm{MSE_{trig}} \le \tfrac12 \mathrm{MSE_{pos}}",
    )


def orthogonal_unbiased(dimension: int, values: Values) -> Derivation:
    r"""F3: orthogonal positive features stay unbiased when each :math:`\omega_i` is :math:`N(0, I_d)`.

    :math:`\omega_i = R_i q_i` with :math:`q_i` a column of a Haar orthogonal matrix (uniform on
    :math:`S^{d-1}`) and :math:`R_i \sim \chi_d` independent.  Checked: the Gaussian density in polar
    coordinates is the :math:`\chi_d` density times the uniform law on the sphere (so
    :math:`\omega_i \sim N(0, I_d)`), and the :math:`\chi_d` density integrates to one at this
    :math:`d`.  Assumed: the columns of Haar :math:`Q` are uniform on the sphere (true for Haar
    :math:`Q`; numpy's QR is Haar only after the sign fix :math:`Q \operatorname{diag}(\operatorname{sign} R_{ii})`,
    which ``numerics`` checks).  Unbiasedness of the mean of :math:`m` features is then linearity
    plus F1.  Result: :math:`\mathrm{SM}` at the parameter point.
    """
    proof = Proof()
    r = Symbol("r", positive=True)
    chi = 2 ** (1 - d / 2) * r ** (d - 1) * exp(-(r**2) / 2) / gamma(d / 2)
    sphere = 2 * pi ** (d / 2) / gamma(d / 2)
    proof.equal(
        r"Gaussian density in polar coordinates $= \chi_d$ density $\times$ uniform direction",
        (2 * pi) ** (-d / 2) * exp(-(r**2) / 2) * r ** (d - 1) * sphere,
        chi,
        rule=r"$|S^{d-1}| = 2\pi^{d/2}/\Gamma(d/2)$",
        kind="general",
    )
    total = sympy.integrate(chi.subs(d, dimension), (r, 0, oo))
    proof.certify(
        rf"the $\chi_{{{dimension}}}$ density integrates to 1",
        Integral(chi.subs(d, dimension), (r, 0, oo)),
        "=",
        Integer(1),
        rule="integrate",
        holds=sympy.simplify(total - 1) == 0,
        check=f"sympy.integrate(...) = {total}",
    )
    lemma = _gaussian_lemma(proof, "mgf")
    derived = _general_unbiased(proof, "positive", lemma)
    _kernel_identity(proof, "positive", min(dimension, INSTANCE_DIMENSION), lemma)
    _at_point(proof, dimension, values)
    return proof.finish(
        result=derived.subs(values), conclusion=r"E[\widehat{\mathrm{SM}}^{\mathrm{ort}+}_m(x,y)] = e^{x\cdot y}"
    )


def ordered_orthogonal_pairs(features: int, dimension: int) -> int:
    """Ordered pairs of distinct frequencies in the same orthogonal block (blocks of size ``dimension``)."""
    full, rest = divmod(features, dimension)
    return full * dimension * (dimension - 1) + rest * (rest - 1)


@cache
def _chi_square_moment(dof: sympy.Expr) -> sympy.Expr:
    r""":math:`E X^k`, :math:`X \sim \chi^2_{\mathrm{dof}}`, by integrating the density (symbolic :math:`k`; cached)."""
    x = Symbol("x", positive=True)
    density = x ** (dof / 2 - 1) * exp(-x / 2)
    return gammasimp(sympy.integrate(x**k * density, (x, 0, oo)) / sympy.integrate(density, (x, 0, oo)))


def _moment_steps(proof: Proof) -> sympy.Expr:
    r"""Taylor coefficients of :math:`E e^{s\cdot u}`, :math:`s = \omega_1 + \omega_2`: orthogonal over iid.

    :math:`s` has a uniform direction independent of :math:`|s|` in both cases; :math:`|s|^2 \sim \chi^2_{2d}`
    (orthogonal) or :math:`2\chi^2_d` (iid).  So the :math:`k`-th coefficients differ only by the radial
    moments, and their ratio is :math:`P_k = (d)_k / (2^k (d/2)_k) = \prod_{i<k} (d+i)/(d+2i)`.
    Returns :math:`P_k`.
    """
    half = Symbol("h", positive=True)

    orthogonal = _chi_square_moment(2 * d)
    iid = 2**k * _chi_square_moment(d)
    proof.certify(
        r"radial moments, orthogonal pair: $|s|^2 \sim \chi^2_{2d}$",
        r"E\,|s|^{2k}",
        "=",
        2**k * gamma(d + k) / gamma(d),
        rule="integrate the chi-square density",
        holds=sympy.simplify(orthogonal - 2**k * gamma(d + k) / gamma(d)) == 0,
        check="sympy integrates the density with symbolic k and d; gammasimp equals the stated moment",
    )
    proof.certify(
        r"radial moments, iid pair: $|s|^2 \sim 2\chi^2_d$",
        r"E\,|s|^{2k}_{\mathrm{iid}}",
        "=",
        4**k * gamma(d / 2 + k) / gamma(d / 2),
        rule="integrate the chi-square density",
        holds=sympy.simplify(iid - 4**k * gamma(d / 2 + k) / gamma(d / 2)) == 0,
        check="sympy integrates the density with symbolic k and d; gammasimp equals the stated moment",
    )
    ratio = proof.equal(
        r"ratio of the $k$-th Taylor coefficients, orthogonal over iid",
        (2**k * gamma(d + k) / gamma(d)) / (4**k * gamma(d / 2 + k) / gamma(d / 2)),
        rf(d, k) / (2**k * rf(d / 2, k)),
        rule=r"$\Gamma(d+k)/\Gamma(d) = (d)_k$",
    )
    proof.compare(
        r"each factor $(d+i)/(d+2i)$ of $P_k$ is below 1",
        (d + half) / (d + 2 * half),
        "<",
        Integer(1),
        rule=r"$i \ge 1$, so $P_k$ decreases in $k$",
    )
    return ratio


def _kummer_closed_form(proof: Proof, dimension: int, z: Symbol) -> sympy.Expr:
    r"""Closed form :math:`F` of :math:`{}_1F_1(d; d/2; z)`, certified independently: :math:`F` solves
    Kummer's equation :math:`zF'' + (d/2 - z)F' - dF = 0` with :math:`F(0) = 1`, :math:`F'(0) = 2`,
    which determines the solution analytic at 0.

    Even :math:`d`: Kummer's transformation :math:`{}_1F_1(a; b; z) = e^z\,{}_1F_1(b - a; b; -z)` gives
    :math:`F = e^z P(z)` with :math:`P` the terminating series of :math:`{}_1F_1(-d/2; d/2; -z)` (degree
    :math:`d/2`), and the equation becomes the polynomial identity
    :math:`z(P'' + 2P' + P) + (d/2 - z)(P' + P) - dP = 0`, decided exactly (milliseconds at :math:`d = 64`).
    Odd :math:`d`: sympy's ``hyperexpand`` proposes :math:`F` (it has error-function terms) and the
    equation is reduced by the simplifiers, the initial values taken as limits.
    """
    half = Rational(dimension, 2)
    if dimension % 2 == 0:
        polynomial = sympy.Poly(
            sum(rf(-half, j) / (rf(half, j) * sympy.factorial(j)) * (-z) ** j for j in range(dimension // 2 + 1)), z
        )
        slope = polynomial.diff(z)
        residual = z * (slope.diff(z) + 2 * slope + polynomial) + (half - z) * (slope + polynomial) - dimension * polynomial
        solved = "exact polynomial arithmetic" if residual.is_zero else None
        start = (polynomial.eval(0), slope.eval(0) + polynomial.eval(0))
        closed = exp(z) * polynomial.as_expr()
        rule = r"Kummer's transformation $e^z\,{}_1F_1(-d/2; d/2; -z)$, a polynomial times $e^z$; checked by Kummer's equation and initial values"
    else:
        closed = hyperexpand(hyper([dimension], [half], z))
        kummer = z * closed.diff(z, 2) + (half - z) * closed.diff(z) - dimension * closed
        solved = is_zero(kummer)
        start = (limit(closed, z, 0, "+"), limit(closed.diff(z), z, 0, "+"))
        rule = "hyperexpand; checked by Kummer's equation and initial values"
    proof.certify(
        rf"closed form of ${{}}_1F_1({dimension}; {half}; z)$",
        hyper([dimension], [half], z),
        "=",
        closed,
        rule=rule,
        holds=solved is not None and start == (1, 2),
        check=f"{solved}: z F'' + (d/2 - z) F' - d F = 0; F(0), F'(0) = {start}",
    )
    return closed


def _coefficient_comparison(proof: Proof) -> None:
    r"""Termwise: :math:`1 - P_k \ge \frac{2}{d+2}(1 - 2^{1-k})` for :math:`k \ge 2`, :math:`d \ge 2`.

    :math:`k = 2` is an equality; for :math:`k \ge 3`, :math:`1 - P_k \ge 1 - P_3 = 3/(d+4) \ge 2/(d+2)`
    (write :math:`d = 2 + \varepsilon`) while the right side is below :math:`2/(d+2)`.
    """
    p2 = rf(d, 2) / (4 * rf(d / 2, 2))
    proof.equal(r"$k = 2$: equality", 1 - p2, 2 / (d + 2) * (1 - Rational(1, 2)), rule=r"$1 - (d+1)/(d+2)$")
    p3 = proof.equal(r"$P_3$", rf(d, 3) / (8 * rf(d / 2, 3)), (d + 1) / (d + 4), rule="cancel")
    proof.compare(
        r"$k \ge 3$: $1 - P_k \ge 1 - P_3 \ge 2/(d+2)$ for $d = 2 + \varepsilon \ge 2$",
        (1 - p3).subs(d, 2 + gap),
        ">=",
        (2 / (d + 2)).subs(d, 2 + gap),
        rule=r"$3/(d+4) - 2/(d+2) = (d-2)/((d+2)(d+4))$",
    )
    proof.compare(
        r"the coefficient of the bound is below $2/(d+2)$",
        2 / (d + 2) * (1 - 2 ** (1 - (k + 1))),
        "<",
        2 / (d + 2),
        rule=r"$2^{1-k} > 0$",
    )
    proof.equal(
        r"$\sum_{k \ge 2} t^k (1 - 2^{1-k})/k! = (e^t - 1 - t) - 2(e^{t/2} - 1 - t/2) = (e^{t/2} - 1)^2$",
        (exp(t) - 1 - t) - 2 * (exp(t / 2) - 1 - t / 2),
        (exp(t / 2) - 1) ** 2,
        rule="exponential series without its first two terms",
    )


CLAIMED_CONSTANT = 2 * (m - 1) / (m * (d + 2))  # the constant of F3 as the claim states it


def orthogonal_mse(
    dimension: int,
    features: int,
    values: Values,
    pair_formula: sympy.Expr = m * (m - 1),
    constant: sympy.Expr = CLAIMED_CONSTANT,
) -> Derivation:
    r"""F3: :math:`\mathrm{MSE_{ort}} \le \mathrm{MSE_{pos}} - \frac{2(m-1)}{m(d+2)}(\mathrm{SM} - e^{-(|x|^2+|y|^2)/2})^2`.

    Exact: with :math:`P` ordered pairs of frequencies in the same orthogonal block,
    :math:`\mathrm{MSE_{ort}} = \mathrm{MSE_{pos}} + \frac{P}{m^2}\mathrm{Cov}(Z_1, Z_2)`,
    :math:`\mathrm{Cov} = e^{-(a^2+b^2)}\left({}_1F_1(d; d/2; |x+y|^2/2) - e^{|x+y|^2}\right)`, and
    termwise :math:`\mathrm{Cov} \le -\frac{2}{d+2} e^{-(a^2+b^2)} (e^{|x+y|^2/2}-1)^2`.  For
    :math:`m \le d`, :math:`P = m(m-1)` gives the bound; stacked blocks (:math:`m > d`) have fewer
    orthogonal pairs and the final certified step fails.

    Assumed (standard, not re-derived): the marginal law of each :math:`\omega_i` is
    :math:`N(0, I_d)` (see :func:`orthogonal_unbiased`); :math:`s = \omega_1 + \omega_2` has a uniform
    direction independent of :math:`|s|`, with :math:`|s|^2 = R_1^2 + R_2^2`; Taylor series and
    expectation may be exchanged (all moments finite).  Result: ``Tuple(MSE_ort, bound, MSE_pos, reduction,
    bound reduction)``, the reductions :math:`\mathrm{MSE_{pos}} - \mathrm{MSE_{ort}} = -\frac{P}{m^2}\mathrm{Cov}` and
    :math:`\frac{2(m-1)}{m(d+2)}(\mathrm{SM} - e^{-(|x|^2+|y|^2)/2})^2`.
    """
    proof = Proof()
    variance, covariance = sympy.symbols("V C", real=True)
    pairs = ordered_orthogonal_pairs(features, dimension) if pair_formula == m * (m - 1) else int(pair_formula.subs(m, features))
    proof.equal(
        r"MSE of a mean of $m$ features with $P$ orthogonal ordered pairs",
        (m * variance + pairs * covariance) / m**2,
        variance / m + Rational(pairs) / m**2 * covariance,
        rule=f"P = {pairs} (blocks of {dimension}); other pairs independent",
    )
    mgf = _gaussian_lemma(proof, "mgf")
    z = Symbol("z", nonnegative=True)
    proof.equal(
        r"$E e^{s\cdot u}$, iid pair: $s \sim N(0, 2I)$, Taylor coefficients $(2z)^k/k!$",
        mgf.subs(t, sqrt(2) * sqrt(2 * z)),
        exp(2 * z),
        rule=r"moment generating function at $\sqrt2|u|$, $z = |u|^2/2$",
        shown=(sympy.Function("M")(sqrt(2) * sqrt(2 * z)), exp(2 * z)),
        kind="general",
    )
    ratio = _moment_steps(proof)
    proof.equal(
        "the k-th term of the orthogonal series is the k-th term of 1F1(d; d/2; z)",
        ratio * (2 * z) ** k / sympy.factorial(k),
        rf(d, k) / rf(d / 2, k) * z**k / sympy.factorial(k),
        rule="definition of 1F1",
    )
    series = _kummer_closed_form(proof, dimension, z)
    _coefficient_comparison(proof)
    orthogonal_mgf = series.subs(z, PLUS / 2)
    cov = exp(-(a**2) - b**2) * orthogonal_mgf - KERNEL**2
    exact = (claimed_mse("positive") + Rational(pairs) / m**2 * cov).subs(m, features)
    one_block = Symbol("P", positive=True)
    proof.certify(
        r"ordered pairs of distinct frequencies in one orthogonal block ($m \le d$)",
        one_block,
        "=",
        pair_formula,
        rule=r"$m$ choices of the first, $m - 1$ of the second",
        holds=features > dimension or pairs == int(pair_formula.subs(m, features)),
        check=f"P = {pairs} at m = {features}" if features <= dimension else f"stacked blocks: P = {pairs} at m = {features}, d = {dimension}",
        kind="instance",
    )
    pair_share = Rational(pairs, features**2) if features > dimension else pair_formula / m**2
    derived = proof.equal(
        r"constant of the bound: $\frac{P}{m^2}\cdot\frac{2}{d+2}$ with $P = m(m-1)$",
        sympy.Mul(pair_share, 2 / (d + 2), evaluate=False),
        constant,
        rule=r"$\mathrm{Cov} \le -\frac{2}{d+2}(\mathrm{SM} - e^{-(|x|^2+|y|^2)/2})^2$, times the share of orthogonal pairs",
        kind="general" if features <= dimension else "instance",
    )
    bound = (claimed_mse("positive") - derived * (KERNEL - exp(-(a**2 + b**2) / 2)) ** 2).subs(
        {m: features, d: dimension}
    )
    proof.equal(
        "(SM - exp(-(|x|²+|y|²)/2))² = exp(-(|x|²+|y|²)) (exp(|x+y|²/2) - 1)²",
        (KERNEL - exp(-(a**2 + b**2) / 2)) ** 2,
        exp(-(a**2) - b**2) * (exp(PLUS / 2) - 1) ** 2,
        rule="SM = exp(c)",
    )
    exact_value, bound_value = exact.subs(values), bound.subs(values)
    gap_value = sympy.N(bound_value - exact_value, DIGITS)
    proof.certify(
        "the bound at the parameter point",
        r"\mathrm{MSE_{ort}}",
        "<=",
        r"\text{bound}",
        rule="termwise comparison, P = m(m-1)",
        holds=bool(gap_value >= 0),
        check=f"MSE_ort = {sympy.N(exact_value, 12)}, bound = {sympy.N(bound_value, 12)}, gap = {sympy.N(gap_value, 6)}",
    )
    # The two reductions below MSE_pos, free of the cancellation in MSE_pos - MSE_ort (at |x + y| = 5 they are
    # 1e-13 of MSE_pos): the exact one, -(P/m^2) Cov, and the one the bound claims.
    reduction = (-Rational(pairs) / m**2 * cov).subs(m, features).subs(values)
    bound_reduction = (derived * (KERNEL - exp(-(a**2 + b**2) / 2)) ** 2).subs({m: features, d: dimension}).subs(values)
    return proof.finish(
        result=sympy.Tuple(
            exact_value, bound_value, claimed_mse("positive").subs(values).subs(m, features), reduction, bound_reduction
        ),
        conclusion=r"\mathrm{MSE_{ort}} \le \mathrm{MSE_{pos}} - \frac{2(m-1)}{m(d+2)}"
        r"\left(\mathrm{SM} - e^{-\frac{|x|^2+|y|^2}{2}}\right)^2",
    )


def _variant_orthogonal_m_for_m_minus_1(dimension: int, features: int, values: Values) -> Derivation:
    """Known-false: the claim's constant stated as 2m/(m(d+2)) (m instead of m - 1); the derivation, which counts
    the m(m - 1) orthogonal pairs, must refuse it."""
    return orthogonal_mse(dimension, features, values, constant=2 * m / (m * (d + 2)))


def _symbolic_matrix(name: str, rows: int, cols: int) -> Matrix:
    return Matrix(rows, cols, lambda i, j: Symbol(f"{name}_{i + 1}{j + 1}", positive=name != "v"))


def _lower(matrix: Matrix) -> Matrix:
    """Causal mask: keep entries with column <= row."""
    return Matrix(matrix.rows, matrix.cols, lambda i, j: matrix[i, j] if j <= i else 0)


def _prefix_form(queries: Matrix, keys: Matrix, values_matrix: Matrix) -> Matrix:
    r"""Row :math:`i` is :math:`q_i'^{\top} S_i`, :math:`S_i = S_{i-1} + k_i' v_i^{\top}` (prefix sums)."""
    state = sympy.zeros(keys.cols, values_matrix.cols)
    rows = []
    for i in range(queries.rows):
        state = state + keys[i, :].T * values_matrix[i, :]
        rows.append(queries[i, :] * state)
    return Matrix.vstack(*rows)


def _multiplications(entries: Matrix) -> int:
    """Multiplications sympy counts in the entries of one stage (fresh symbols for earlier stages)."""
    return int(sympy.count_ops(list(entries), visual=True).coeff(Symbol("MUL")))


def _stage_cost(proof: Proof, label: str, left: Matrix, right: Matrix, formula: int) -> None:
    counted = _multiplications(left * right)
    proof.certify(
        rf"multiplications in ${label}$",
        rf"\#\mathrm{{mul}}\left({label}\right)",
        "=",
        Integer(formula),
        rule="count_ops of the stage",
        holds=counted == formula,
        check=f"sympy.count_ops(...) = {counted} MUL",
    )


INSTANCE_SIZES = (6, 4, 3)  # largest L, m, d_v of the explicit symbolic matrices (the general step covers all sizes)


def attention_identity(length: int, features: int, value_dim: int) -> Derivation:
    r"""F4: :math:`D^{-1}(Q'(K'^{\top}V)) = D^{-1}((Q'K'^{\top})V)`, and the causal prefix-sum form.

    General: associativity for matrix symbols of symbolic sizes :math:`L\times m`, :math:`m\times L`,
    :math:`L\times d_v` (sympy's canonical matrix products).  Instance: explicit symbolic
    :math:`Q', K' \in R^{L\times m}_{>0}`, :math:`V \in R^{L\times d_v}` of the given sizes capped at
    ``INSTANCE_SIZES`` (entrywise, with the causal prefix sums).  Costs are counted (multiplications) stage by
    stage: :math:`2Lmd_v` for the linear order, :math:`L^2(m + d_v)` for the quadratic one.  Result: the
    residual of the identities, 0.
    """
    proof = Proof()
    size_l, size_m, size_v = sympy.symbols("L m d_v", positive=True, integer=True)
    q_sym, k_sym = sympy.MatrixSymbol("Q'", size_l, size_m), sympy.MatrixSymbol("K'", size_l, size_m)
    v_sym = sympy.MatrixSymbol("V", size_l, size_v)
    difference = (q_sym * (k_sym.T * v_sym) - (q_sym * k_sym.T) * v_sym).doit()
    proof.certify(
        r"associativity for all sizes $L, m, d_v$",
        sympy.MatMul(q_sym, k_sym.T * v_sym, evaluate=False),
        "=",
        r"(Q'K'^{\top})V",
        rule="matrix products are associative",
        holds=isinstance(difference, sympy.ZeroMatrix),
        check=f"sympy MatMul canonical form: difference = {difference}",
        kind="general",
    )
    length, features, value_dim = (min(n, cap) for n, cap in zip((length, features, value_dim), INSTANCE_SIZES))
    queries = _symbolic_matrix("q", length, features)
    keys = _symbolic_matrix("k", length, features)
    values_matrix = _symbolic_matrix("v", length, value_dim)
    ones = sympy.ones(length, 1)
    linear = queries * (keys.T * values_matrix)
    proof.equal("associativity", linear, (queries * keys.T) * values_matrix, rule=r"$(Q'K'^{\top})V = Q'(K'^{\top} V)$")
    normaliser = proof.equal(r"normaliser $D$", queries * (keys.T * ones), (queries * keys.T) * ones, rule=r"$V = 1$")
    weights = queries * keys.T
    row_normalised = Matrix(
        length, value_dim, lambda i, j: sum(weights[i, l] / normaliser[i] * values_matrix[l, j] for l in range(length))
    )
    proof.equal(
        r"$D^{-1} Q'(K'^{\top} V)$ is attention with weights $W/\mathrm{rowsum}(W)$, $W = Q'K'^{\top}$",
        Matrix(length, value_dim, lambda i, j: linear[i, j] / normaliser[i]),
        row_normalised,
        rule=r"divide row $i$ by $D_{ii}$",
    )
    proof.equal(
        r"causal: prefix sums $S_i = S_{i-1} + k'_i v_i^{\top}$ give the masked product",
        _prefix_form(queries, keys, values_matrix),
        _lower(weights) * values_matrix,
        rule=r"$q_i'^{\top} S_i = \sum_{j \le i} (q'_i\cdot k'_j)\, v_j$",
    )
    proof.equal(
        r"causal normaliser: $z_i = z_{i-1} + k'_i$",
        _prefix_form(queries, keys, ones),
        _lower(weights) * ones,
        rule=r"$V = 1$",
    )
    inner = _symbolic_matrix("g", features, value_dim)
    scores = _symbolic_matrix("a", length, length)
    _stage_cost(proof, r"K'^{\top} V", keys.T, values_matrix, length * features * value_dim)
    _stage_cost(proof, r"Q'(K'^{\top} V)", queries, inner, length * features * value_dim)
    _stage_cost(proof, r"Q'K'^{\top}", queries, keys.T, length**2 * features)
    _stage_cost(proof, r"(Q'K'^{\top})V", scores, values_matrix, length**2 * value_dim)
    return proof.finish(
        result=Integer(0),
        conclusion=r"D^{-1}(Q'(K'^{\top}V)) = D^{-1}((Q'K'^{\top})V):\ 2Lmd_v \text{ vs } L^2(m+d_v) \text{ multiplications}",
        proved_for=r"associativity for all sizes; the causal form and the counts at the instance sizes",
    )


def _row_normalised(weights: Matrix, values_matrix: Matrix) -> Matrix:
    r""":math:`\operatorname{diag}(W1)^{-1} W V`, row by row."""
    numerator, sums = weights * values_matrix, weights * sympy.ones(weights.cols, 1)
    return Matrix(numerator.rows, numerator.cols, lambda i, j: numerator[i, j] / sums[i])


def attention_target(
    queries: Matrix, keys: Matrix, values_matrix: Matrix, normalise: bool, mask=None
) -> Derivation:
    r"""F4: the exact expectation of the FAVOR+ numerator, bidirectional and causal.

    :math:`E[Q'(K'^{\top}V)] = E[Q'K'^{\top}]V = \exp(QK^{\top})V` (linearity, and F1 entrywise);
    causal: :math:`\mathrm{tril}(\exp(QK^{\top}))V`.  With ``normalise`` the result is instead the
    exact softmax attention :math:`\operatorname{diag}(\exp(QK^\top)1)^{-1}\exp(QK^\top)V` — the
    target the *normalised* estimator would need to be unbiased for (it is not: a ratio of
    unbiased estimators is biased).  Result: the :math:`2L \times d_v` matrix, bidirectional rows
    first, then causal.
    """
    proof = Proof()
    lemma = _gaussian_lemma(proof, "mgf")
    _general_unbiased(proof, "positive", lemma)
    _kernel_identity(proof, "positive", min(queries.cols, INSTANCE_DIMENSION), lemma)
    length, value_dim = values_matrix.shape
    features = _symbolic_matrix("phi", length, 2)
    keys_features = _symbolic_matrix("psi", length, 2)
    proof.equal(
        r"the numerator is linear in the weights $W = Q'K'^{\top}$, so $E$ commutes with it",
        features * (keys_features.T * values_matrix),
        (features * keys_features.T) * values_matrix,
        rule=r"associativity, $m = 2$ shown",
    )
    proof.equal(
        r"causal numerator is linear in $\mathrm{tril}(W)$",
        _prefix_form(features, keys_features, values_matrix),
        _lower(features * keys_features.T) * values_matrix,
        rule="prefix sums",
    )
    kernel = (queries * keys.T).applyfunc(exp)
    causal = (mask or _lower)(kernel)
    if normalise:
        bidirectional, causal_rows = (_row_normalised(weights, values_matrix) for weights in (kernel, causal))
        conclusion = r"\text{target } \operatorname{softmax}(QK^\top)V \text{ (the normalised estimator is biased)}"
    else:
        bidirectional, causal_rows = kernel * values_matrix, causal * values_matrix
        conclusion = r"E[Q'(K'^\top V)] = e^{QK^\top}V,\quad E[\text{causal}] = \operatorname{tril}(e^{QK^\top})V"
    return proof.finish(result=sympy.ImmutableMatrix(Matrix.vstack(bidirectional, causal_rows)), conclusion=conclusion)


def _variant_causal_transposed(queries: Matrix, keys: Matrix, values_matrix: Matrix) -> Derivation:
    """Known-false: the causal target with the mask transposed, triu(exp(QK^T))V instead of tril."""
    upper = lambda matrix: _lower(matrix.T).T  # noqa: E731
    return attention_target(queries, keys, values_matrix, normalise=False, mask=upper)


FACTORS = {"positive": exp(s), "hyperbolic": cosh(s), "trigonometric": cos(s)}
APPROACHED_AT = {"positive": -oo, "hyperbolic": Integer(0), "trigonometric": pi}


def weight_infimum(kind: str) -> Derivation:
    r"""F1/F4: the sign of the attention weights :math:`\varphi(q)\cdot\varphi(k)`.

    A weight is a positive scale times the mean over frequencies of :math:`g(s_r)` with
    :math:`g = \exp` (positive; :math:`s_r = \omega_r\cdot(q+k)`), :math:`\cosh` (hyperbolic) or
    :math:`\cos` (trigonometric, :math:`s_r = \omega_r\cdot(q-k)`).  Result: :math:`\inf_s g(s)` —
    0 or 1 for the positive kinds (weights > 0, rows of :math:`D^{-1}W` are probability vectors),
    −1 for trigonometric features (attained at :math:`s = \pi`: negative weights).
    """
    proof = Proof()
    factor = FACTORS[kind]
    sign = 1 if kind == "trigonometric" else -1
    proof.compare(
        r"the scale $e^{\pm(|q|^2+|k|^2)/2}/m$ is positive",
        exp(sign * (a**2 + b**2) / 2) / m,
        ">",
        Integer(0),
        rule=r"$e^{z} > 0$",
    )
    infimum = sympy.calculus.util.minimum(factor, s, sympy.S.Reals)
    where = APPROACHED_AT[kind]
    approached = limit(factor, s, where)
    proof.certify(
        "infimum of the random factor over the real line",
        rf"\inf_{{s \in \mathbb{{R}}}} {sympy.latex(factor)}",
        "=",
        infimum,
        rule=rf"sympy.calculus.util.minimum, approached as $s \to {sympy.latex(where)}$",
        holds=approached == infimum,
        check=f"minimum({factor}, s, Reals) = {infimum}; limit at s = {where}: {approached}",
    )
    if kind == "trigonometric":
        proof.compare(
            r"a negative weight: $\omega_r\cdot(q-k) = \pi$ for every $r$",
            exp((a**2 + b**2) / 2) * infimum,
            "<",
            Integer(0),
            rule=r"$\cos\pi = -1$",
        )
        conclusion = r"\varphi_{\mathrm{trig}}(q)\cdot\varphi_{\mathrm{trig}}(k) < 0 \text{ is possible}"
    else:
        proof.compare("the random factor is positive", factor, ">", Integer(0), rule=rf"${sympy.latex(factor)} > 0$ on the reals")
        conclusion = r"\varphi(q)\cdot\varphi(k) > 0:\ D^{-1}Q'K'^{\top} \text{ is row-stochastic}"
    return proof.finish(result=infimum, conclusion=conclusion)
