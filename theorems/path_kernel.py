r"""Gradient descent is a kernel machine (kexue.fm post 8009; Domingos 2020), exactly.

Setting.  Parameters :math:`\theta \in \mathbb{R}^p`, a model :math:`f(x;\theta)`, training pairs
:math:`(x_i, y_i)_{i=1}^n`, :math:`L(\theta) = \sum_i l(f(x_i;\theta), y_i)`, gradient flow
:math:`\theta' = -\nabla L`.  :math:`\alpha_i = -\partial l/\partial f` at :math:`f_i = f(x_i;\theta)`,
:math:`K_t(x, x') = \nabla_\theta f(x;\theta(t)) \cdot \nabla_\theta f(x';\theta(t))` (tangent kernel),
:math:`K^p = \int_0^T K_t\,dt` (path kernel).

Loss convention.  The squared loss is :math:`l(f, y) = \tfrac{c}{2}(f - y)^2`, so
:math:`\alpha_i = -c(f_i - y_i)`.  CLAIMS.md's closed form (K3) is :math:`c = 1`
(:math:`L = \sum \tfrac12 (f-y)^2`); :math:`L = \sum (f - y)^2` is :math:`c = 2` and turns
:math:`e^{-TK}` into :math:`e^{-2TK}`.

What is general and what is concrete.  sympy proves the chain-rule identity (K1) and the
integral identity (K2) for an *arbitrary* differentiable model and *arbitrary* per-point losses,
at fixed sizes (p = 3 parameters, n = 2 points: undefined functions ``f``, ``ell_i``), plus the
two models of the post (:math:`\theta_1\tanh(\theta_2 x)` and :math:`\theta\cdot\varphi(x)`).
The matrix statements (K3–K5) are derived in general where sympy can (symbolic feature matrices,
the scalar spectral identities) and checked exactly on small concrete instances with rational
data, where ``Matrix.exp`` is exact.  Everything beyond the instances rests on the spectral
theorem for the symmetric matrix K, named in the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import sympy
from sympy import Expr, Function, Integer, Integral, Matrix, Rational, Symbol, Tuple, exp, tanh

from twofold.derivation import Proof
from twofold.model import Derivation

t = Symbol("t", real=True)
T = Symbol("T", positive=True)
x = Symbol("x", real=True)
c = Symbol("c", positive=True)
lam = Symbol("lamda", positive=True)  # sympy prints "lamda" as \lambda; "lambda" is a Python keyword
eta = Symbol("eta", positive=True)
k = Symbol("k", integer=True, nonnegative=True)
u = Symbol("u", real=True)

Model = Callable[[Expr, Sequence[Expr]], Expr]
Loss = Callable[[int, Expr], Expr]
Point = dict[Symbol, Expr] | None
DIGITS = 30
GUARD = 10


def _at(expr: Expr, point: Point) -> Expr:
    return expr if point is None else expr.xreplace(point)


@dataclass(frozen=True)
class Learning:
    r"""A model with its parameter symbols, training inputs and per-point losses ``loss(i, f_i)``.

    Methods taking ``at`` (a substitution :math:`\theta \mapsto \theta_0`) substitute into each
    derivative before combining, so values at a concrete point stay small.
    """

    model: Model
    params: tuple[Symbol, ...]
    inputs: tuple[Expr, ...]
    loss: Loss

    def f(self, point: Expr) -> Expr:
        return self.model(point, self.params)

    def gradient(self, expr: Expr, at: Point = None) -> list[Expr]:
        return [_at(sympy.diff(expr, p), at) for p in self.params]

    @cached_property
    def flow(self) -> tuple[Expr, ...]:
        r"""The velocity field :math:`-\nabla L` of gradient flow."""
        total = sum((self.loss(i, self.f(xi)) for i, xi in enumerate(self.inputs)), Integer(0))
        return tuple(-g for g in self.gradient(total))

    def alphas(self, at: Point = None) -> list[Expr]:
        r""":math:`\alpha_i = -\partial l(u, y_i)/\partial u` at :math:`u = f(x_i;\theta)`."""
        return [_at(-sympy.diff(self.loss(i, u), u).subs(u, self.f(xi)), at) for i, xi in enumerate(self.inputs)]

    def kernel(self, a: Expr, b: Expr, at: Point = None) -> Expr:
        r"""Tangent kernel :math:`\nabla_\theta f(a) \cdot \nabla_\theta f(b)`."""
        pairs = zip(self.gradient(self.f(a), at), self.gradient(self.f(b), at))
        return sum((ga * gb for ga, gb in pairs), Integer(0))

    def kernel_sum(self, point: Expr, at: Point = None) -> Expr:
        r""":math:`\sum_i \alpha_i K(x, x_i)`: the rate K1 predicts."""
        terms = zip(self.alphas(at), self.inputs)
        return sum((a * self.kernel(point, xi, at) for a, xi in terms), Integer(0))

    def path(self, time: Expr) -> dict[Symbol, Expr]:
        r"""Parameters as unknown functions of time, :math:`\theta_j \mapsto \vartheta_j(\mathit{time})`."""
        return {p: Function(f"vartheta_{j + 1}")(time) for j, p in enumerate(self.params)}

    def substitute_flow(self, expr: Expr, time: Expr) -> Expr:
        r"""Replace every :math:`\vartheta_j'(\mathit{time})` in ``expr`` by the flow :math:`-\partial_j L(\vartheta)`."""
        path = self.path(time)
        velocity = {
            sympy.Derivative(path[p], time): v.subs(path, simultaneous=True) for p, v in zip(self.params, self.flow)
        }
        return expr.subs(velocity).doit()

    def rate_along_flow(self, expr: Expr, time: Expr) -> Expr:
        r""":math:`\frac{d}{d\,\mathit{time}}\, g(\vartheta(\mathit{time}))` by sympy's chain rule, along the flow."""
        return self.substitute_flow(sympy.diff(expr.subs(self.path(time), simultaneous=True), time), time)

    def on_path(self, expr: Expr, time: Expr) -> Expr:
        return expr.subs(self.path(time), simultaneous=True).doit()


def squared_loss(targets: Sequence[Expr]) -> Loss:
    r""":math:`l(u, y_i) = \tfrac12(u - y_i)^2`."""
    return lambda i, prediction: (prediction - targets[i]) ** 2 / 2


def generic_loss(i: int, prediction: Expr) -> Expr:
    r"""An arbitrary differentiable per-point loss :math:`\ell_i(u)` (an undefined sympy function)."""
    return Function(f"ell_{i + 1}")(prediction)


def generic_learning(model: Model, n_params: int, n_points: int = 2) -> Learning:
    """Symbolic parameters and inputs, arbitrary per-point losses."""
    return Learning(
        model=model,
        params=sympy.symbols(f"theta_1:{n_params + 1}", real=True),
        inputs=sympy.symbols(f"x_1:{n_points + 1}", real=True),
        loss=generic_loss,
    )


def any_model(point: Expr, theta: Sequence[Expr]) -> Expr:
    """An arbitrary differentiable model: the undefined function ``f(x, theta_1, ..., theta_p)``."""
    return Function("f")(point, *theta)


def tanh_unit(point: Expr, theta: Sequence[Expr]) -> Expr:
    r""":math:`f(x;\theta) = \theta_1 \tanh(\theta_2 x)`."""
    return theta[0] * tanh(theta[1] * point)


def feature_model(point: Expr, theta: Sequence[Expr]) -> Expr:
    r""":math:`f(x;\theta) = \sum_j \theta_j \varphi_j(x)` with arbitrary features :math:`\varphi_j`."""
    return sum((th * Function(f"phi_{j + 1}")(point) for j, th in enumerate(theta)), Integer(0))


def tanh_net(hidden: int) -> Model:
    r""":math:`f(x;\theta) = \sum_{j=1}^m v_j \tanh(w_j x + b_j)`, :math:`\theta = (w_1..w_m, b_1..b_m, v_1..v_m)`."""

    def model(point: Expr, theta: Sequence[Expr]) -> Expr:
        w, b, v = theta[:hidden], theta[hidden : 2 * hidden], theta[2 * hidden :]
        return sum((v[j] * tanh(w[j] * point + b[j]) for j in range(hidden)), Integer(0))

    return model


@dataclass(frozen=True)
class NetInstance:
    """A concrete tanh net with rational initial parameters and data, half-squared loss."""

    hidden: int
    theta0: tuple[Rational, ...]
    x_train: tuple[Rational, ...]
    y_train: tuple[Rational, ...]

    @cached_property
    def learning(self) -> Learning:
        return Learning(
            model=tanh_net(self.hidden),
            params=sympy.symbols(f"theta_1:{3 * self.hidden + 1}", real=True),
            inputs=self.x_train,
            loss=squared_loss(self.y_train),
        )

    @cached_property
    def velocity(self) -> tuple[Expr, ...]:
        r"""The flow :math:`-\nabla L(\theta_0)` at the start."""
        return tuple(v.xreplace(self.start) for v in self.learning.flow)

    def rate(self, expr: Expr) -> Expr:
        r""":math:`\frac{d}{dt} g(\theta(t))` at :math:`t = 0`: :math:`\nabla_\theta g(\theta_0) \cdot (-\nabla L(\theta_0))`."""
        return sum((g * v for g, v in zip(self.learning.gradient(expr, self.start), self.velocity)), Integer(0))

    @property
    def start(self) -> dict[Symbol, Expr]:
        """The substitution :math:`\\theta \\mapsto \\theta_0`."""
        return dict(zip(self.learning.params, self.theta0))


@dataclass(frozen=True)
class LinearInstance:
    """A concrete polynomial-feature model with rational data, initial parameters and loss scale c."""

    degree: int
    x_train: tuple[Rational, ...]
    y_train: tuple[Rational, ...]
    theta0: tuple[Rational, ...]

    def features(self, point: Expr) -> Matrix:
        return Matrix([[point**j for j in range(self.degree + 1)]])

    def design(self) -> Matrix:
        return Matrix.vstack(*(self.features(xi) for xi in self.x_train))

    def gram(self) -> Matrix:
        return self.design() * self.design().T

    def initial_residual(self) -> Matrix:
        r""":math:`r_0 = f_0(X) - y`."""
        return self.design() * Matrix(self.theta0) - Matrix(self.y_train)

    def f0(self, point: Expr) -> Expr:
        return (self.features(point) * Matrix(self.theta0))[0]

    def kernel_row(self, point: Expr) -> Matrix:
        r""":math:`k(x) = (K(x, x_i))_i = \Phi\,\varphi(x)` as a row."""
        return self.features(point) * self.design().T


def _kernel_sum_shown(n_points: int) -> Expr:
    r""":math:`\sum_{i=1}^n \alpha_i K_t(x, x_i)` as an unevaluated sum, for display."""
    i = Symbol("i", integer=True, positive=True)
    return sympy.Sum(sympy.IndexedBase("alpha")[i] * Function("K_t")(x, sympy.IndexedBase("x")[i]), (i, 1, n_points))


def _chain_rule_identity(proof: Proof, name: str, learning: Learning) -> None:
    proof.equal(
        rf"K1 for {name}: along the flow, $df(x)/dt = \sum_i \alpha_i K_t(x, x_i)$",
        learning.rate_along_flow(learning.f(x), t),
        learning.on_path(learning.kernel_sum(x), t),
        rule=(
            r"chain rule $\frac{d}{dt} f(x;\theta(t)) = \nabla_\theta f \cdot \theta'$ with "
            r"$\theta' = -\nabla L = \sum_i \alpha_i \nabla_\theta f(x_i)$"
        ),
        shown=(
            sympy.Derivative(learning.f(x).subs(learning.path(t), simultaneous=True), t),
            _kernel_sum_shown(len(learning.inputs)),
        ),
        kind="general",
    )


def _unit_kernel(proof: Proof) -> None:
    r"""General steps for the tanh net: the gradient of one unit :math:`v\tanh(wx + b)` and the kernel of a
    sum of units with disjoint parameters, :math:`K(x, x') = \sum_j [v_j^2 s_j(x) s_j(x')(xx' + 1) + h_j(x)h_j(x')]`,
    :math:`h_j = \tanh(w_jx + b_j)`, :math:`s_j = 1 - h_j^2` (symbolic weights and inputs)."""
    w, b, v, xx = sympy.symbols("w b v x", real=True)
    unit = v * tanh(w * xx + b)
    h = tanh(w * xx + b)
    proof.equal(
        r"one unit: $\nabla_{(w, b, v)}\, v\tanh(wx + b) = (v(1 - h^2)x,\ v(1 - h^2),\ h)$, $h = \tanh(wx + b)$",
        Matrix([sympy.diff(unit, q) for q in (w, b, v)]),
        Matrix([v * (1 - h**2) * xx, v * (1 - h**2), h]),
        rule=r"$\tanh' = 1 - \tanh^2$",
        shown=(Matrix([sympy.Derivative(unit, q) for q in (w, b, v)]), Matrix([v * (1 - h**2) * xx, v * (1 - h**2), h])),
        kind="general",
    )
    model = tanh_net(2)
    params = sympy.symbols("w_1 w_2 b_1 b_2 v_1 v_2", real=True)
    a, z = sympy.symbols("x x'", real=True)
    defined = sum((sympy.diff(model(a, params), q) * sympy.diff(model(z, params), q) for q in params), Integer(0))

    def per_unit(j: int) -> Expr:
        wj, bj, vj = params[j], params[2 + j], params[4 + j]
        ha, hz = tanh(wj * a + bj), tanh(wj * z + bj)
        return vj**2 * (1 - ha**2) * (1 - hz**2) * (a * z + 1) + ha * hz

    j = Symbol("j", integer=True, positive=True)
    proof.equal(
        r"tanh net: $K(x, x') = \sum_j [v_j^2 s_j(x)s_j(x')(xx' + 1) + h_j(x)h_j(x')]$, $s_j = 1 - h_j^2$ (shown for 2 units)",
        defined,
        per_unit(0) + per_unit(1),
        rule="units have disjoint parameters, so the gradient splits into per-unit blocks; the same holds for every $m$",
        shown=(
            Function("K")(a, z),
            sympy.Sum(Function("k_j")(a, z), (j, 1, Symbol("m", integer=True, positive=True))),
        ),
        kind="general",
    )


def _interval(value: Rational, mp) -> object:
    return mp.mpf(int(value.p)) / int(value.q)


def certified_rate(instance: NetInstance, query: Rational, weighted: bool = True) -> tuple[sympy.Float, sympy.Float]:
    r""":math:`\sum_i \alpha_i K_0(x^*, x_i)` on the rational tanh net by the per-unit kernel formula in
    interval arithmetic (``mpmath.iv``, :data:`DIGITS` + :data:`GUARD` digits; :math:`\tanh z = 1 - 2/(e^{2z}+1)`).
    Returns the midpoint and the half-width of the enclosure.  ``weighted=False`` (the known-false variant)
    drops the loss-derivative weights :math:`\alpha_i`."""
    import mpmath
    from mpmath import iv

    iv.dps = DIGITS + GUARD
    m = instance.hidden
    theta = [_interval(q, iv) for q in instance.theta0]
    w, b, v = theta[:m], theta[m : 2 * m], theta[2 * m :]

    def units(point):
        hs = [1 - 2 / (iv.exp(2 * (w[j] * point + b[j])) + 1) for j in range(m)]
        return hs

    q = _interval(query, iv)
    hq = units(q)
    total = iv.mpf(0)
    for xi, yi in zip(instance.x_train, instance.y_train):
        point = _interval(xi, iv)
        hi = units(point)
        f = sum((v[j] * hi[j] for j in range(m)), iv.mpf(0))
        alpha = -(f - _interval(yi, iv)) if weighted else iv.mpf(1)
        kernel = sum(
            (v[j] ** 2 * (1 - hq[j] ** 2) * (1 - hi[j] ** 2) * (q * point + 1) + hq[j] * hi[j] for j in range(m)),
            iv.mpf(0),
        )
        total += alpha * kernel
    with mpmath.workdps(DIGITS + GUARD):
        low, high = (sympy.Float(mpmath.mpf(end), DIGITS + GUARD) for end in total._mpi_)
    return sympy.Float((low + high) / 2, DIGITS), sympy.Float((high - low) / 2, 5)


SYMBOLIC_INSTANCE = 40
r"""The symbolic flow check :math:`-\nabla L(\theta_0) = \sum_i\alpha_i\nabla f(x_i)` runs on the rational net when
parameters times points is at most this (sympy differentiates the whole loss: its cost grows like that product squared)."""


def tangent_kernel_rate(instance: NetInstance, query: Rational, weighted: bool = True) -> Derivation:
    r"""K1: :math:`\frac{d f(x)}{dt} = \sum_i \alpha_i(t) K_t(x, x_i)` under :math:`\theta' = -\nabla L`.

    Proven (general steps) by sympy's chain rule for an arbitrary model with three parameters and
    arbitrary losses on two points, for :math:`\theta_1\tanh(\theta_2 x)` and for :math:`\theta\cdot\varphi(x)`;
    for the tanh net the per-unit kernel formula is derived for symbolic weights.  On the rational
    ``instance`` (when small, :data:`SYMBOLIC_INSTANCE`) the flow :math:`-\nabla L(\theta_0) = \sum_i \alpha_i\nabla f(x_i)`
    is checked component by component.  Result: the rate :math:`\sum_i \alpha_i(0) K_0(x^*, x_i)` at
    ``query``, enclosed by interval arithmetic in the per-unit formula (:func:`certified_rate`); on small
    instances the symbolic kernel sum is certified to lie in that enclosure.
    """
    proof = Proof()
    _chain_rule_identity(proof, r"an arbitrary model $f(x; \theta_1, \theta_2, \theta_3)$", generic_learning(any_model, 3))
    _chain_rule_identity(proof, r"$f = \theta_1 \tanh(\theta_2 x)$", generic_learning(tanh_unit, 2))
    _chain_rule_identity(proof, r"$f = \theta \cdot \varphi(x)$ (linear in $\theta$)", generic_learning(feature_model, 3))
    _unit_kernel(proof)
    value, radius = certified_rate(instance, query, weighted)
    size = 3 * instance.hidden * len(instance.x_train)
    if size <= SYMBOLIC_INSTANCE:
        learning, start = instance.learning, instance.start
        descent = sum(
            (
                a * Matrix(learning.gradient(learning.f(xi), start))
                for a, xi in zip(learning.alphas(start), learning.inputs)
            ),
            sympy.zeros(len(learning.params), 1),
        )
        theta, i = Symbol("theta", real=True), Symbol("i", integer=True, positive=True)
        shown = (
            -sympy.Derivative(Function("L")(theta), theta),
            sympy.Sum(
                sympy.IndexedBase("alpha")[i] * sympy.Derivative(Function("f")(sympy.IndexedBase("x")[i], theta), theta),
                (i, 1, len(learning.inputs)),
            ),
        )
        proof.equal(
            rf"on the {instance.hidden}-unit tanh net at $\theta_0$: $-\nabla L = \sum_i \alpha_i \nabla f(x_i)$, all {len(learning.params)} components",
            Matrix(instance.velocity),
            descent,
            rule=r"half-squared loss, rational $\theta_0$ and data",
            shown=shown,
        )
        symbolic = decimal(learning.kernel_sum(query, at=start))
        proof.certify(
            r"the kernel sum by differentiation lies in the interval enclosure of the per-unit formula",
            Symbol("r_sym"),
            "=",
            symbolic,
            rule=rf"sympy gradients at $\theta_0$, {DIGITS} digits",
            holds=abs(symbolic - value) <= radius + Rational(1, 10 ** (DIGITS - 3)) * (1 + abs(value)),
            check=f"{symbolic} minus {value} is within {radius} + 1e-{DIGITS - 3}",
        )
    rate_symbol = Symbol("r", real=True)
    proof.certify(
        rf"the rate at $x^* = {sympy.latex(query)}$, $t = 0$: $r = \sum_i \alpha_i K_0(x^*, x_i)$ on the {instance.hidden}-unit net, {len(instance.x_train)} points",
        rate_symbol,
        "=",
        value,
        rule=rf"interval arithmetic (mpmath.iv, {DIGITS + GUARD} digits) in the per-unit kernel formula",
        holds=bool(radius <= Rational(1, 10 ** (DIGITS - 8)) * (1 + abs(value))),
        check=f"enclosure half-width {radius}",
    )
    return proof.finish(
        result=value,
        conclusion=r"\frac{df(x)}{dt} = \sum_i \alpha_i(t)\,K_t(x, x_i)",
        proved_for=r"every differentiable model and every differentiable loss (chain rule, shown with three parameters and two points)",
    )


def _short_time_weight_coefficient(proof: Proof) -> Callable[[Expr, Expr, Expr], Expr]:
    r"""Record :math:`a(T) = \alpha_0 + \tfrac{\alpha_1}{2}T + (\tfrac{\alpha_2}{6} + \tfrac{\alpha_1 K_1}{12 K_0})T^2 + O(T^3)`;
    returns :math:`(\alpha_1, K_0, K_1) \mapsto` that coefficient, :math:`\alpha_2` left symbolic."""
    a0, a1, a2, k1, k2 = sympy.symbols("alpha_0 alpha_1 alpha_2 K_1 K_2", real=True)
    k0 = Symbol("K_0", positive=True)
    alpha_t = a0 + a1 * t + a2 * t**2 / 2
    kernel_t = k0 + k1 * t + k2 * t**2 / 2
    ratio = sympy.integrate(alpha_t * kernel_t, (t, 0, T)) / sympy.integrate(kernel_t, (t, 0, T))
    second = sympy.series(ratio, T, 0, 3).removeO().coeff(T, 2)
    coefficient = a2 / 6 + a1 * k1 / (12 * k0)
    proof.equal(
        r"$T^2$ coefficient of $a_i(x) = \int_0^T \alpha_i K_t\,dt / \int_0^T K_t\,dt$",
        second,
        coefficient,
        rule=r"Taylor: $\alpha_i = \alpha_0 + \alpha_1 t + \dots$, $K_t(x, x_i) = K_0 + K_1 t + \dots$; terms $O(t^3)$ do not reach $T^2$",
        kind="general",
    )
    return lambda d_alpha, kernel, d_kernel: coefficient.xreplace({a1: d_alpha, k0: kernel, k1: d_kernel})


def path_kernel_reconstruction(instance: NetInstance, pair: tuple[Rational, Rational], index: int) -> Derivation:
    r"""K2: :math:`f_T(x) = f_0(x) + \sum_i \int_0^T \alpha_i K_t(x, x_i)\,dt = f_0(x) + \sum_i a_i(x) K^p(x, x_i)`.

    1. :math:`G(T) = f(x;\theta(T)) - f(x;\theta(0)) - \sum_i\int_0^T \alpha_i K_t\,dt` has
       :math:`G(0) = 0` and :math:`G'(T) = 0` (K1) for an arbitrary model and losses, so :math:`G \equiv 0`.
    2. With :math:`a_i(x) = \int \alpha_i K_t(x, x_i)\,dt / K^p(x, x_i)` (defined where
       :math:`K^p(x, x_i) \ne 0`) the sum is :math:`\sum_i a_i(x) K^p(x, x_i)`.  It is a weighted
       *average* of :math:`\alpha_i(t)` (weights :math:`\ge 0`) only where :math:`K_t(x, x_i)` keeps
       one sign on :math:`[0, T]`.
    3. Linear in :math:`\theta`: :math:`K_t` is constant, so :math:`a_i = \frac1T\int_0^T \alpha_i\,dt`
       does not depend on :math:`x`.
    4. Nonlinear: for small :math:`T`, :math:`a_i(x) = \alpha_i + \tfrac{\dot\alpha_i}{2} T + c_2(x) T^2 + O(T^3)`
       with :math:`c_2(x) = \ddot\alpha_i/6 + \dot\alpha_i\,\dot K(x, x_i)/(12 K(x, x_i))`; on the
       rational tanh net :math:`d_2 = c_2(z_a) - c_2(z_b) \ne 0` (evaluated to 30 digits), so
       :math:`a_i` depends on :math:`x`.

    Result: ``Tuple(G, d_2)`` with :math:`G = 0` the exact reconstruction residual.
    """
    proof = Proof()
    learning = generic_learning(any_model, 3)
    integral = Integral(learning.on_path(learning.kernel_sum(x), t), (t, 0, T))
    gap = learning.on_path(learning.f(x), T) - learning.on_path(learning.f(x), Integer(0)) - integral
    proof.equal(
        r"$G'(T) = 0$ for $G(T) = f_T(x) - f_0(x) - \sum_i \int_0^T \alpha_i K_t(x, x_i)\,dt$ (arbitrary model and losses)",
        learning.substitute_flow(sympy.diff(gap, T), T),
        Integer(0),
        rule=r"$\frac{d}{dT}\int_0^T g\,dt = g(T)$ (fundamental theorem of calculus), chain rule along the flow, K1",
        shown=(sympy.Derivative(Function("G")(T), T), Integer(0)),
        kind="general",
    )
    proof.equal(
        r"$G(0) = 0$",
        gap.subs(T, 0).doit(),
        Integer(0),
        rule="empty integral (for an arbitrary model; both sides reduce to 0)",
        shown=(Function("G")(Integer(0)), Integer(0)),
    )
    linear = generic_learning(feature_model, 3)
    kernel = linear.kernel(x, linear.inputs[0])
    proof.equal(
        r"linear in $\theta$: the tangent kernel does not move ($\nabla_\theta K = 0$)",
        Matrix([sympy.Derivative(kernel, q) for q in linear.params]),
        sympy.zeros(3, 1),
        rule=f"$K(x, x_1) = {sympy.latex(kernel)}$ is free of $\\theta$",
        shown=(sympy.Derivative(Function("K")(x, linear.inputs[0]), Symbol("theta", real=True)), Integer(0)),
        kind="general",
    )
    alpha_path, kappa = Function("alpha")(t), Symbol("kappa", positive=True)
    average = Integral(alpha_path, (t, 0, T)) / T
    proof.equal(
        r"linear in $\theta$: $a_i = \frac{1}{T}\int_0^T \alpha_i\,dt$, the same for every $x$",
        sympy.integrate(alpha_path * kappa, (t, 0, T)) / sympy.integrate(kappa, (t, 0, T)),
        average,
        rule=r"constant $K_t(x, x_i) = \kappa$ cancels",
        shown=(Integral(alpha_path * kappa, (t, 0, T)) / Integral(kappa, (t, 0, T)), average),
        kind="general",
    )
    coefficient = _short_time_weight_coefficient(proof)
    d2 = _instance_weight_dependence(proof, instance, pair, index, coefficient)
    return proof.finish(
        result=Tuple(Integer(0), d2),
        conclusion=r"f_T(x) = f_0(x) + \sum_i a_i(x) K^p(x, x_i),\ a_i \text{ depends on } x \text{ for nonlinear } f",
    )


def _instance_weight_dependence(
    proof: Proof,
    instance: NetInstance,
    pair: tuple[Rational, Rational],
    index: int,
    coefficient: Callable[[Expr, Expr, Expr], Expr],
) -> Expr:
    r""":math:`d_2 = c_2(z_a) - c_2(z_b)` on the rational net; the (symbolic) :math:`\ddot\alpha_i/6` term cancels."""
    learning, start = instance.learning, instance.start
    d_alpha = instance.rate(learning.alphas()[index])
    anchor = learning.inputs[index]
    kernels = [learning.kernel(point, anchor) for point in pair]
    first, second = (coefficient(d_alpha, kernel.xreplace(start), instance.rate(kernel)) for kernel in kernels)
    numeric = decimal(first - second)
    proof.certify(
        f"$a_{index + 1}(x)$ depends on $x$: $c_2({sympy.latex(pair[0])}) - c_2({sympy.latex(pair[1])}) \\ne 0$",
        Symbol("d_2"),
        "=",
        numeric,
        rule=f"exact time derivatives at $t = 0$ on the {instance.hidden}-unit tanh net, evaluated with {DIGITS} digits",
        holds=abs(numeric) > Rational(1, 10 ** (DIGITS - 5)),
        check=f"d_2 = {numeric} ({DIGITS + GUARD}-digit atoms)",
    )
    return numeric


def decimal(expr: Expr) -> sympy.Float:
    r"""``expr`` to :data:`DIGITS` digits, evaluating each function atom (:math:`\tanh q`) once with
    :data:`GUARD` extra digits and then the arithmetic in sympy Floats (fast where ``sympy.N`` on a
    large tree is slow)."""
    atoms = {a: a.evalf(DIGITS + GUARD) for a in expr.atoms(sympy.Function)}
    return sympy.Float(expr.xreplace(atoms).evalf(DIGITS + GUARD), DIGITS)


def _residual_dynamics(proof: Proof) -> None:
    """Linear model, symbolic 2x3 feature matrix: residual r = Phi theta - y obeys r' = -c K r."""
    phi = Matrix(2, 3, sympy.symbols("Phi_1:3_1:4", real=True))
    theta = Matrix(sympy.symbols("theta_1:4", real=True))
    targets = Matrix(sympy.symbols("y_1:3", real=True))
    feature = Matrix([sympy.symbols("phi_1:4", real=True)])
    residual = phi * theta - targets
    velocity = -c * phi.T * residual
    proof.equal(
        r"linear model: $r = \Phi\theta - y$ obeys $r' = -cKr$, $K = \Phi\Phi^T$ (symbolic $2 \times 3$ $\Phi$)",
        phi * velocity,
        -c * (phi * phi.T) * residual,
        rule=r"$\theta' = -\nabla \sum_i \frac{c}{2}(f_i - y_i)^2 = -c\Phi^T r$",
        kind="general",
    )
    proof.equal(
        r"and $f(x)$ moves by $\frac{d}{dt}f(x) = -c\,k(x)^T r$, $k(x) = \Phi\varphi(x)$",
        feature * velocity,
        -c * (phi * feature.T).T * residual,
        rule=r"K1 with $\alpha = -cr$",
        kind="general",
    )


def _spectral_integral(proof: Proof) -> Callable[[Expr], Expr]:
    r"""The scalar identities behind :math:`\int_0^T e^{-ctK}dt` on each eigenvalue of K; returns
    :math:`\lambda \mapsto \int_0^T e^{-c\lambda t}dt` as derived here."""
    integral = proof.equal(
        r"eigenvalue $\lambda > 0$: $\int_0^T e^{-c\lambda t}dt = (1 - e^{-c\lambda T})/(c\lambda)$",
        sympy.integrate(exp(-c * lam * t), (t, 0, T)),
        (1 - exp(-c * lam * T)) / (c * lam),
        rule="integrate",
        kind="general",
    )
    at_zero = proof.equal(
        "eigenvalue 0: the integral is $T$, the limit of the same formula",
        sympy.limit(integral, lam, 0),
        sympy.integrate(Integer(1), (t, 0, T)),
        rule="l'Hôpital",
        shown=(sympy.Limit(integral, lam, 0), Integral(Integer(1), (t, 0, T))),
        kind="general",
    )
    return lambda value: at_zero if value == 0 else integral.xreplace({lam: value})


@dataclass(frozen=True)
class Spectrum:
    r""":math:`K = P\,\mathrm{diag}(\lambda)\,P^{-1}` for a diagonalizable (here symmetric) matrix."""

    basis: Matrix
    values: tuple[Expr, ...]

    @classmethod
    def of(cls, matrix: Matrix) -> Spectrum:
        basis, diagonal = matrix.diagonalize()
        return cls(basis, tuple(diagonal[j, j] for j in range(matrix.rows)))

    def apply(self, function: Callable[[Expr], Expr]) -> Matrix:
        r""":math:`g(K) = P\,\mathrm{diag}(g(\lambda_j))\,P^{-1}`."""
        return self.basis * sympy.diag(*(function(v) for v in self.values)) * self.basis.inv()


def _closed_form_instance(
    proof: Proof, name: str, instance: LinearInstance, integral_of_decay: Callable[[Expr], Expr]
) -> Expr:
    r"""Solve the parameter ODE of ``instance`` exactly and show it equals the pseudo-inverse closed form.

    :math:`\theta(T) = \theta_0 - c\Phi^T\!\int_0^T e^{-ctK}dt\; r_0` solves
    :math:`\theta' = -c\Phi^T(\Phi\theta - y)`, :math:`\theta(0) = \theta_0` (the unique solution of
    a linear ODE); then :math:`\varphi(x)\cdot\theta(T) = f_0(x) - k(x)^T K^{+}(I - e^{-cTK}) r_0`
    for every :math:`x`, because :math:`k(x) = \Phi\varphi(x)` lies in the range of :math:`K`.
    Returns that closed form as an expression in ``T`` and ``x``.
    """
    phi, gram, r0 = instance.design(), instance.gram(), instance.initial_residual()
    n = gram.rows
    pinv = gram.pinv()
    rank = gram.rank()
    if rank == n:
        proof.equal(f"{name}: $K$ is invertible, $K^+ = K^{{-1}}$", pinv, gram.inv(), rule=f"$\\det K = {sympy.latex(gram.det())} \\ne 0$",
            shown=(sympy.MatrixSymbol("K^+", n, n), sympy.MatrixSymbol("K", n, n).inv()),)
    else:
        null = sympy.eye(n) - pinv * gram
        proof.certify(
            f"{name}: $K$ is singular",
            Symbol("rank K"),
            "=",
            Integer(rank),
            rule=r"$K = \Phi\Phi^T$ with more points than features",
            holds=rank < n,
            check=f"Matrix.rank(K) = {rank} < {n}",
        )
        proof.equal(
            f"{name}: $k(x)^T P_0 = 0$ for every $x$ ($P_0$ projects on $\\ker K$)",
            instance.kernel_row(x) * null,
            sympy.zeros(1, n),
            rule=r"$k(x) = \Phi\varphi(x)$ lies in $\operatorname{range}\Phi = \operatorname{range} K$",
            shown=(sympy.MatrixSymbol("k(x)", n, 1).T * sympy.MatrixSymbol("P_0", n, n), sympy.zeros(1, n)),
        )
    spectrum = Spectrum.of(gram)
    integral = spectrum.apply(integral_of_decay)
    theta_t = Matrix(instance.theta0) - c * phi.T * integral * r0
    proof.equal(
        f"{name}: $\\theta(T)$ solves $\\theta' = -c\\Phi^T(\\Phi\\theta - y)$",
        sympy.diff(theta_t, T),
        -c * phi.T * (phi * theta_t - Matrix(instance.y_train)),
        rule=r"$\frac{d}{dT}\int_0^T e^{-ctK}dt = e^{-cTK}$, and $K e^{-ctK} = -\frac{1}{c}\frac{d}{dt}e^{-ctK}$",
    )
    proof.equal(
        f"{name}: $\\theta(0) = \\theta_0$",
        theta_t.subs(T, 0),
        Matrix(instance.theta0),
        rule="empty integral",
        shown=(Function("theta")(Integer(0)), Symbol("theta_0")),
    )
    decay = spectrum.apply(lambda value: exp(-c * T * value))
    closed = instance.f0(x) - (instance.kernel_row(x) * pinv * (sympy.eye(n) - decay) * r0)[0]
    proof.equal(
        f"{name}: $f_T(x) = f_0(x) + k(x)^T K^+ (I - e^{{-cTK}}) (y - f_0(X))$",
        (instance.features(x) * theta_t)[0],
        closed,
        rule=r"spectral theorem: $\int_0^T e^{-ctK}dt = (cK)^+(I - e^{-cTK}) + TP_0$, and $k(x)^T P_0 = 0$",
    )
    return closed


def linear_closed_form(
    instances: Sequence[LinearInstance], horizon: Rational, scale: Rational, query: Rational
) -> Derivation:
    r"""K3: for :math:`f` linear in :math:`\theta` and :math:`l = \tfrac{c}{2}(f-y)^2`,

    .. math:: f_T(x) = f_0(x) + k(x)^T K^{+}\big(I - e^{-cTK}\big)\big(y - f_0(X)\big),

    :math:`K^+ = K^{-1}` when K is invertible (CLAIMS.md: :math:`c = 1`).  The pseudo-inverse form
    holds for every :math:`x`, also when :math:`\varphi(x)` leaves the span of the training
    features: only the component of :math:`\varphi(x)` in the row space of :math:`\Phi` moves.
    Result: ``Tuple`` of the exact :math:`f_T(x^*)` on each instance at :math:`T` = ``horizon``,
    :math:`c` = ``scale``.
    """
    proof = Proof()
    integral_of_decay = _spectral_integral(proof)
    _residual_dynamics(proof)
    values = []
    for number, instance in enumerate(instances, start=1):
        closed = _closed_form_instance(proof, f"instance {number}", instance, integral_of_decay)
        values.append(closed.xreplace({T: horizon, c: scale, x: query}))
    return proof.finish(
        result=Tuple(*values),
        conclusion=r"f_T(x) = f_0(x) + k(x)^T K^{+}(I - e^{-cTK})(y - f_0(X))",
    )


def _path_kernel_instance_model(point: Expr, theta: Sequence[Expr]) -> Expr:
    r"""One quadratic unit :math:`f(x;\theta) = \theta_3 (\theta_1 x + \theta_2)^2` (polynomial: exact integrals)."""
    return theta[2] * (theta[0] * point + theta[1]) ** 2


def path_kernel_psd(
    horizon: Rational, points: Sequence[Rational], start: Sequence[Rational], direction: Sequence[Rational]
) -> Derivation:
    r"""K4: :math:`K^p = \int_0^T J_t J_t^T\,dt` is symmetric positive semidefinite for :math:`T \ge 0`.

    :math:`v^T K_t v = \|J_t^T v\|^2 \ge 0` (checked on a symbolic Jacobian), so
    :math:`v^T K^p v = \int_0^T \|J_t^T v\|^2 dt \ge 0` by monotonicity of the integral over a
    positive measure — this holds along *any* path :math:`\theta(t)`, gradient flow or not.
    Exactly: the path kernel of :math:`\theta_3(\theta_1 x + \theta_2)^2` along the straight path
    :math:`\theta(t) = \theta_0 + t\,d` on rational ``points``, certified PSD by sympy and by a Sturm
    count of negative eigenvalues.  Result: that count (0).
    """
    proof = Proof()
    jac = Matrix(2, 3, sympy.symbols("J_1:3_1:4", real=True))
    v = Matrix(sympy.symbols("v_1:3", real=True))
    image = sympy.symbols("w_1:4", real=True)
    squares = sum((w**2 for w in image), Integer(0))
    proof.equal(
        r"$v^T J J^T v = \|w\|^2$ with $w = J^T v$ (symbolic $2 \times 3$ $J$)",
        (v.T * jac * jac.T * v)[0],
        squares.xreplace(dict(zip(image, jac.T * v))),
        rule="associativity",
        kind="general",
    )
    proof.compare(
        r"$\|w\|^2 \ge 0$ for real $w$",
        squares,
        ">=",
        Integer(0),
        rule=r"then integrate over $[0, T]$, $T \ge 0$",
        kind="general",
    )
    params = sympy.symbols("theta_1:4", real=True)
    path = {p: a + t * d for p, a, d in zip(params, start, direction)}
    jacobian = Matrix(
        [[sympy.diff(_path_kernel_instance_model(point, params), p) for p in params] for point in points]
    ).subs(path, simultaneous=True)
    gram = (jacobian * jacobian.T).applyfunc(lambda entry: _definite_integral(entry, horizon))
    proof.equal("$K^p$ is symmetric", gram, gram.T, rule="$K_t = J_t J_t^T$", shown=(sympy.MatrixSymbol("K^p", gram.rows, gram.rows), sympy.MatrixSymbol("K^p", gram.rows, gram.rows).T))
    negative = negative_roots(gram.charpoly(lam).as_poly())
    psd = bool(gram.is_positive_semidefinite)
    proof.certify(
        f"$K^p$ on {len(points)} points at $T = {sympy.latex(horizon)}$ has no negative eigenvalue",
        Symbol("N_negative(K^p)"),
        "=",
        Integer(0),
        rule="Sturm count on the characteristic polynomial; Matrix.is_positive_semidefinite",
        holds=negative == 0 and psd,
        check=f"negative roots of charpoly(K^p), with multiplicity: {negative}; is_positive_semidefinite = {psd}",
    )
    return proof.finish(result=Integer(negative), conclusion=r"K^p = \int_0^T K_t\,dt \succeq 0")


def _definite_integral(polynomial: Expr, horizon: Rational) -> Rational:
    r""":math:`\int_0^{\mathit{horizon}} p(t)\,dt` of a polynomial, by its exact antiderivative."""
    antiderivative = sympy.Poly(polynomial, t).integrate()
    return antiderivative.eval(horizon) - antiderivative.eval(0)


def negative_roots(polynomial: sympy.Poly) -> int:
    """Number of negative real roots counted with multiplicity (Sturm counts on the square-free factors)."""
    return sum(
        multiplicity * (factor.count_roots(None, 0) - int(factor.eval(0) == 0))
        for factor, multiplicity in polynomial.sqf_list()[1]
    )


def gradient_descent_order(
    instance: LinearInstance, horizon: Rational, scale: Rational, query: Rational, half: int = 2
) -> Derivation:
    r"""K5: gradient descent :math:`\theta_{k+1} = \theta_k - \eta\nabla L(\theta_k)` stays within
    :math:`O(\eta)` of the flow at :math:`T = k\eta`, and not closer.

    Linear model, :math:`l = \tfrac c2 (f-y)^2`: :math:`r_{k+1} = (I - \eta cK) r_k`, so
    :math:`f_k(x) = f_0(x) - k(x)^T K^{-1}(I - (I - \eta cK)^k) r_0`, and on each eigenvalue
    :math:`(1 - \eta c\lambda)^{T/\eta} = e^{-c\lambda T}(1 - \tfrac{c^2\lambda^2 T}{2}\eta) + O(\eta^2)`.
    Hence :math:`f_{T/\eta}(x) - f_T(x) = C\eta + O(\eta^2)` with
    :math:`C = -\tfrac{c^2 T}{2} k(x)^T K e^{-cTK} r_0`, certified non-zero on the instance.
    (For a nonlinear model the same order follows from Euler's method's global error bound; the
    numerics measure it.)  Result: ``Tuple(1, C)`` — the order and the exact leading constant.
    """
    proof = Proof()
    phi = Matrix(2, 3, sympy.symbols("Phi_1:3_1:4", real=True))
    theta = Matrix(sympy.symbols("theta_1:4", real=True))
    targets = Matrix(sympy.symbols("y_1:3", real=True))
    proof.equal(
        r"one step: $r_{k+1} = (I - \eta cK) r_k$ (symbolic $\eta$, $c$, $2 \times 3$ $\Phi$)",
        phi * (theta - eta * c * phi.T * (phi * theta - targets)) - targets,
        (sympy.eye(2) - eta * c * phi * phi.T) * (phi * theta - targets),
        rule=r"$\theta_{k+1} = \theta_k - \eta c\Phi^T r_k$",
        kind="general",
    )
    design, gram, r0 = instance.design(), instance.gram(), instance.initial_residual()
    n = gram.rows
    step = sympy.eye(n) - eta * c * gram
    iterate = Matrix(instance.theta0) - design.T * gram.inv() * (sympy.eye(n) - step**k) * r0
    proof.equal(
        r"instance: $\theta_k = \theta_0 - \Phi^T K^{-1}(I - (I - \eta cK)^k) r_0$ satisfies the recursion",
        iterate.subs(k, k + 1),
        iterate - eta * c * design.T * (design * iterate - Matrix(instance.y_train)),
        rule=r"geometric sum of $(I - \eta cK)^j$",
    )
    proof.equal(
        r"... and starts at $\theta_0$",
        iterate.subs(k, 0),
        Matrix(instance.theta0),
        rule=r"$(I - \eta cK)^0 = I$",
        shown=(Function("theta")(Integer(0)), Symbol("theta_0")),
    )
    proof.equal(
        r"one eigenvalue: $(1 - \eta c\lambda)^{T/\eta} = e^{-c\lambda T}(1 - c^2\lambda^2 T\eta/2) + O(\eta^2)$",
        sympy.series((1 - eta * c * lam) ** (T / eta), eta, 0, 2).removeO(),
        exp(-c * lam * T) * (1 - c**2 * lam**2 * T * eta / 2),
        rule=r"$\log(1 - \eta c\lambda) = -\eta c\lambda - \eta^2c^2\lambda^2/2 + O(\eta^3)$",
        kind="general",
    )
    decay = Spectrum.of(gram).apply(lambda value: exp(-scale * horizon * value))
    k_query = instance.kernel_row(query)
    values = {c: scale, T: horizon}
    gap = (k_query * gram.inv() * (step**k - decay) * r0)[0].subs(values).subs(k, horizon / eta)
    leading = sympy.series(gap, eta, 0, 2).removeO().coeff(eta, 1)
    constant = (-(scale**2) * horizon / half * k_query * gram * decay * r0)[0]  # half = 1: the known-false variant
    proof.equal(
        f"$f_{{T/\\eta}}(x^*) - f_T(x^*) = C\\eta + O(\\eta^2)$ at $x^* = {sympy.latex(query)}$, $T = {sympy.latex(horizon)}$, $c = {sympy.latex(scale)}$",
        leading,
        constant,
        shown=(Symbol("C"), constant),
        rule=r"exact series in $\eta$ of $k(x^*)^T K^{-1}((I - \eta cK)^{T/\eta} - e^{-cTK}) r_0$ (flow: K3)",
    )
    numeric = sympy.N(constant, DIGITS)
    proof.certify(
        r"$C \ne 0$, so the error is of order exactly 1 in $\eta$",
        Symbol("C"),
        "=",
        numeric,
        rule="exact constant evaluated",
        holds=abs(numeric) > Rational(1, 10 ** (DIGITS - 5)),
        check=f"sympy.N(C, {DIGITS}) = {numeric}",
    )
    return proof.finish(
        result=Tuple(Integer(1), constant), conclusion=r"\|\theta^{GD}_{T/\eta} - \theta(T)\| = O(\eta)"
    )
