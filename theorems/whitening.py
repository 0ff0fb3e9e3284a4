r"""BERT-whitening (kexue.fm post 8069; Su et al. 2021), exactly.

Embeddings are the rows :math:`x_i \in \mathbb{R}^d` of :math:`X` (:math:`N \times d`),
:math:`\mu = \frac1N\sum_i x_i`, :math:`\Sigma = \frac1N\sum_i (x_i-\mu)(x_i-\mu)^\top
= U\Lambda U^\top` and the whitened rows are :math:`\tilde x = (x-\mu)W`.

Three kinds of exact evidence, each a sympy computation:

* **symbolic, d = 2** — every 2×2 covariance is :math:`U(t)\,\mathrm{diag}(s_1^2, s_2^2)\,U(t)^\top`
  with the rational (Cayley) rotation
  :math:`U(t) = \frac{1}{1+t^2}\begin{pmatrix}1-t^2 & -2t\\ 2t & 1-t^2\end{pmatrix}`
  (all rotations but the half-turn, which is not needed: :math:`U` and :math:`-U` give
  the same :math:`\Sigma`) and positive symbols :math:`s_i = \sqrt{\lambda_i}`, so an
  identity in :math:`t, s_1, s_2` (and general symbolic matrices) holds for *every*
  2×2 SPD covariance; the entries are rational functions, which ``cancel`` decides;
* **symbolic diagonal, any d** — once :math:`U^\top U = I`, what remains happens
  between diagonal matrices with positive symbols :math:`s_1..s_d`;
* **concrete rational, d_e = min(d, 16)** — an exactly orthogonal rational
  :math:`U` (two Householder reflections with integer vectors), the spectrum
  :math:`\lambda_k = 1/k^2` (so :math:`\Lambda^{-1/2} = \mathrm{diag}(k)` is rational)
  and integer data.  Rational arithmetic in sympy is :math:`O(d^3)`, hence the cap;
  beyond it we rely only on the identities being dimension-generic (each is an
  algebraic consequence of :math:`U^\top U = I`, which the concrete check exercises).

Matrix identities are recorded with their meaning (``MatrixSymbol`` expressions such
as :math:`W^\top\Sigma W = I`) and certified by checking the explicit matrices entry
by entry with :func:`twofold.derivation.is_zero`; the step says which matrices.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy
from sympy import Identity, Integer, Matrix, MatrixSymbol, Rational, Symbol, eye, zeros
from sympy.polys.matrices import DomainMatrix

from twofold.derivation import Proof, is_zero
from twofold.model import Derivation

t = Symbol("t", real=True)
s1, s2 = sympy.symbols("s_1 s_2", positive=True)
EXACT_DIM = 8
DATA_SEED = 8069

N_SYM, D_SYM, K_SYM = sympy.symbols("N d k", integer=True, positive=True)
U_, LAMBDA, SIGMA, W_, R_, S_ = (MatrixSymbol(name, D_SYM, D_SYM) for name in ("U", "Lambda", "Sigma", "W", "R", "S"))
W1, W2 = MatrixSymbol("W_1", D_SYM, D_SYM), MatrixSymbol("W_2", D_SYM, D_SYM)
X_C = MatrixSymbol("X_c", N_SYM, D_SYM)
INV_ROOT = LAMBDA ** Rational(-1, 2)
I_D = Identity(D_SYM)


def cayley_rotation(parameter: sympy.Expr = t) -> Matrix:
    r"""The rational rotation :math:`U(t)`, :math:`\cos = (1-t^2)/(1+t^2)`, :math:`\sin = 2t/(1+t^2)`."""
    return Matrix([[1 - parameter**2, -2 * parameter], [2 * parameter, 1 - parameter**2]]) / (1 + parameter**2)


def shear(size: int, amount: sympy.Expr) -> Matrix:
    r""":math:`S = I + \texttt{amount}\,e_1 e_2^\top`; orthogonal only for ``amount`` = 0."""
    matrix = eye(size)
    matrix[0, 1] = amount
    return matrix


def householder(vector: Sequence[int]) -> Matrix:
    r"""The reflection :math:`I - 2vv^\top/(v^\top v)`: rational and exactly orthogonal."""
    v = Matrix(vector)
    return eye(len(vector)) - 2 * v * v.T / v.dot(v)


def rational_orthogonal(d: int, offset: int = 0) -> Matrix:
    """A dense rational orthogonal matrix: two Householder reflections with deterministic integer vectors."""
    reflections = [householder([((i + 1) * (j + 2 + offset)) % 7 - 3 or 1 for i in range(d)]) for j in range(2)]
    return reflections[0] * reflections[1]


def exact_dim(d: int) -> int:
    return min(d, EXACT_DIM)


def inverse_root_spectrum(d: int) -> Matrix:
    r""":math:`\Lambda^{-1/2} = \mathrm{diag}(1, 2, \dots, d)` for the skewed spectrum :math:`\lambda_k = 1/k^2`."""
    return sympy.diag(*range(1, d + 1))


def integer_data(n: int, d: int, repeats: int = 0) -> Matrix:
    """Deterministic integer data in [-9, 9] (``sympy.randMatrix``, fixed seed); the last ``repeats`` rows copy the first."""
    data = sympy.randMatrix(n, d, -9, 9, seed=DATA_SEED)
    for row in range(n - repeats, n):
        data[row, :] = data[0, :]
    return data


def centred(data: Matrix) -> Matrix:
    r""":math:`X_c = X - \mathbf{1}\mu^\top`."""
    n = data.rows
    return data - Matrix.ones(n, 1) * (Matrix.ones(1, n) * data / n)


def scatter(rows: Matrix) -> tuple[Matrix, Matrix]:
    r"""Exact (mean, scatter :math:`M_2 = X_c^\top X_c`) of the rows."""
    c = centred(rows)
    return Matrix.ones(1, rows.rows) * rows / rows.rows, c.T * c


def symbolic_data(n: int, d: int, name: str = "x") -> Matrix:
    return Matrix(n, d, lambda i, j: Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def general_matrix(name: str) -> Matrix:
    """A general symbolic 2×2 matrix."""
    return Matrix(2, 2, sympy.symbols(f"{name}_11 {name}_12 {name}_21 {name}_22", real=True))


def symmetric_matrix(name: str) -> Matrix:
    """A general symbolic symmetric 2×2 matrix."""
    return Matrix(2, 2, lambda i, j: Symbol(f"{name}_{min(i, j) + 1}{max(i, j) + 1}", real=True))


def _matrix_identity(
    proof: Proof, description: str, shown: tuple, lhs: Matrix, rhs: Matrix, rule: str, on: str, kind: str = "certificate"
) -> None:
    """Record ``shown[0] = shown[1]``, certified by ``is_zero`` on the explicit matrices ``lhs - rhs``.

    ``on`` says what the explicit matrices are; a failure reports the simplified residual.
    """
    residual = lhs - rhs
    how = is_zero(residual)
    if how is None:
        check = f"explicit lhs - rhs on {on} = {sympy.sstr(residual.applyfunc(sympy.cancel))[:300]}, not 0"
    else:
        check = f"{how}(lhs - rhs) = 0 entrywise on {on}"
    proof.certify(description, shown[0], "=", shown[1], rule=rule, holds=how is not None, check=check, kind=kind)


def _orthogonal(proof: Proof, matrix: Matrix, symbol: MatrixSymbol, on: str) -> None:
    _matrix_identity(
        proof, rf"${symbol}$ is orthogonal", (symbol.T * symbol, I_D), matrix.T * matrix, eye(matrix.rows), r"$R^\top R = I$", on,
        kind="general" if matrix.free_symbols else "instance",
    )


def _max_abs(matrix: Matrix) -> sympy.Expr:
    return sympy.Max(*[abs(entry) for entry in matrix])


def _centring_step(proof: Proof, data: Matrix) -> Matrix:
    """Certify on ``data`` that the centred rows sum to zero (so rank X_c <= N - 1); returns N X_c (integer)."""
    n = data.rows
    scaled = data * n - Matrix.ones(n, 1) * (Matrix.ones(1, n) * data)
    i = Symbol("i", integer=True, positive=True)
    x, mu = sympy.IndexedBase("x"), Symbol("mu")
    proof.certify(
        "the centred rows sum to zero",
        sympy.Sum(x[i] - mu, (i, 1, N_SYM)),
        "=",
        Integer(0),
        rule=r"$\sum_i (x_i - \mu) = N\mu - N\mu$, so $\operatorname{rank} X_c \le N - 1$",
        holds=(Matrix.ones(1, n) * scaled).is_zero_matrix,
        check=f"1^T (N X_c) = 0 exactly for the {n}x{data.cols} integer data",
    )
    return scaled


def _full_rank_step(proof: Proof, n: int, d: int) -> None:
    """Necessary for positive definiteness: rank Sigma <= N - 1 must reach d."""
    size = exact_dim(d)
    _centring_step(proof, integer_data(min(n, size + 1), size))
    proof.compare(
        r"$\Sigma$ can be positive definite ($\Lambda^{-1/2}$ exists) only if $N - 1 \ge d$",
        Integer(n - 1),
        ">=",
        Integer(d),
        rule=r"$\operatorname{rank}\Sigma \le N - 1$",
    )


def _whitened_rows_step(proof: Proof) -> None:
    """The data side of W1: centring and the covariance sandwich, for symbolic 3×2 data and a general W."""
    data, transform = symbolic_data(3, 2), general_matrix("w")
    whitened = centred(data) * transform
    on = "symbolic 3x2 data and a general 2x2 W"
    one = sympy.OneMatrix(1, N_SYM)
    _matrix_identity(
        proof,
        "the whitened rows have zero mean",
        (one * X_C * W_, sympy.ZeroMatrix(1, D_SYM)),
        Matrix.ones(1, 3) * whitened,
        zeros(1, 2),
        r"$\mathbb{1}^\top X_c = 0$",
        on,
    )
    _matrix_identity(
        proof,
        r"the covariance of $(x - \mu)W$ is $W^\top\Sigma W$",
        ((X_C * W_).T * X_C * W_ / N_SYM, W_.T * SIGMA * W_),
        whitened.T * whitened / 3,
        transform.T * (centred(data).T * centred(data) / 3) * transform,
        r"bilinearity, $\Sigma = X_c^\top X_c/N$",
        on,
        kind="general",
    )


def whitens(n: int, d: int) -> Derivation:
    r"""W1: :math:`W = U\Lambda^{-1/2}` gives :math:`W^\top\Sigma W = I`; :math:`\tilde x` has mean 0, covariance :math:`I`.

    Needs :math:`\Sigma \succ 0`; since the centred rows sum to zero,
    :math:`\operatorname{rank}\Sigma \le N-1`, so :math:`N > d` is necessary (the
    step that fails for :math:`N \le d`).  That :math:`N > d` suffices for data
    in general position is W5's exact rank certificate.  Result: the largest
    entry of the concrete residual :math:`W^\top\Sigma W - I` (0).
    """
    proof = Proof()
    _full_rank_step(proof, n, d)
    rotation = cayley_rotation()
    _orthogonal(proof, rotation, U_, "U(t)")
    sandwich = (sympy.MatMul(INV_ROOT, U_.T, U_, LAMBDA, U_.T, U_, INV_ROOT), I_D)
    _matrix_identity(
        proof,
        r"$W^\top\Sigma W = I$ for every $2 \times 2$ SPD $\Sigma$ (all $t$, $s_1$, $s_2$)",
        sandwich,
        (rotation * sympy.diag(1 / s1, 1 / s2)).T
        * (rotation * sympy.diag(s1**2, s2**2) * rotation.T)
        * rotation
        * sympy.diag(1 / s1, 1 / s2),
        eye(2),
        r"$U^\top U = I$",
        "U(t), Lambda = diag(s_1^2, s_2^2)",
        kind="general",
    )
    roots = sympy.symbols(f"s_1:{d + 1}", positive=True)
    _matrix_identity(
        proof,
        rf"with $U^\top U = I$ the sandwich is diagonal and equals $I$ (all $s_k > 0$, $d = {d}$)",
        (sympy.MatMul(INV_ROOT, LAMBDA, INV_ROOT, evaluate=False), I_D),
        Matrix([s**-1 * s**2 * s**-1 for s in roots]),
        Matrix.ones(d, 1),
        r"diagonal matrices, $s_k > 0$",
        f"the diagonal, Lambda = diag(s_1^2..s_{d}^2)",
        kind="general",
    )
    size = exact_dim(d)
    basis = rational_orthogonal(size)
    on = f"the rational {size}x{size} U and Lambda = diag(1/k^2)"
    _orthogonal(proof, basis, U_, on)
    product = (
        (basis * inverse_root_spectrum(size)).T
        * basis
        * inverse_root_spectrum(size).inv() ** 2
        * basis.T
        * basis
        * inverse_root_spectrum(size)
    )
    _matrix_identity(
        proof,
        rf"$W^\top\Sigma W = I$ exactly ($d = {size}$)",
        (W_.T * SIGMA * W_, I_D),
        product,
        eye(size),
        r"$W = U\,\mathrm{diag}(k)$",
        on,
    )
    _whitened_rows_step(proof)
    return proof.finish(
        result=_max_abs(product - eye(size)),
        conclusion=r"W^\top\Sigma W = I,\ \overline{\tilde x} = 0,\ \mathrm{Cov}(\tilde x) = I",
        proved_for=r"every $2 \times 2$ SPD $\Sigma$ (symbolic $t$, $s_1$, $s_2$); larger $d$ at the parameter point",
    )


def _extra_factor_steps(proof: Proof, amount: Rational) -> Matrix:
    """R = U(t) S must be orthogonal; S (the shear by ``amount``) is, only for ``amount`` = 0.  Returns R."""
    _orthogonal(proof, shear(2, amount), S_, f"S = I + ({amount}) e_1 e_2^T")
    candidate = cayley_rotation() * shear(2, amount)
    _orthogonal(proof, candidate, R_, "R = U(t) S")
    return candidate


def whitening_class(n: int, d: int, amount: Rational) -> Derivation:
    r"""W2: the whitening maps of :math:`\Sigma` are exactly :math:`\{W R : R^\top R = I\}`.

    If :math:`W_1^\top\Sigma W_1 = I` with :math:`W_1` invertible then
    :math:`\Sigma = (W_1W_1^\top)^{-1}`, and for any :math:`W_2`,
    :math:`R = W_1^{-1}W_2` satisfies :math:`R^\top R = W_2^\top\Sigma W_2`: so
    :math:`W_2` whitens iff :math:`R` is orthogonal.  ZCA,
    :math:`\Sigma^{-1/2} = U\Lambda^{-1/2}U^\top = W U^\top`, is one member.
    The converse direction uses the same identity with :math:`W_2 = W_1R`, checked
    for :math:`R = U(t)\,S` (and a rational orthogonal times :math:`S` at :math:`d_e`),
    :math:`S` the shear by ``amount``: it fails unless ``amount`` = 0.
    Result: the largest entry of the concrete residual (0).
    """
    proof = Proof()
    _full_rank_step(proof, n, d)
    first, second = general_matrix("a"), general_matrix("b")
    general = symmetric_matrix("sigma")
    on = "general symbolic 2x2 W_1, W_2 and symmetric Sigma"
    _matrix_identity(
        proof,
        r"$W_1^\top\Sigma W_1 = I$ forces $\Sigma = (W_1W_1^\top)^{-1}$",
        (SIGMA, (W1 * W1.T).inverse()),
        first.inv().T * eye(2) * first.inv(),
        (first * first.T).inv(),
        r"$W_1$ invertible; multiply $W_1^\top\Sigma W_1 = I$ by $W_1^{-\top}$ and $W_1^{-1}$",
        on,
        kind="general",
    )
    sigma = (first * first.T).inv()
    relating = first.inv() * second
    _matrix_identity(
        proof,
        r"$R = W_1^{-1}W_2$ has $R^\top R = W_2^\top\Sigma W_2$: $W_2$ whitens iff $R$ is orthogonal",
        ((W1.inverse() * W2).T * W1.inverse() * W2, W2.T * SIGMA * W2),
        relating.T * relating,
        second.T * sigma * second,
        r"$\Sigma^{-1} = W_1W_1^\top$",
        on,
        kind="general",
    )
    _extra_factor_steps(proof, amount)
    basis = cayley_rotation()
    zca = basis * sympy.diag(1 / s1, 1 / s2) * basis.T
    _matrix_identity(
        proof,
        r"ZCA $\Sigma^{-1/2} = U\Lambda^{-1/2}U^\top = WU^\top$ whitens",
        (sympy.MatMul(U_, INV_ROOT, U_.T, SIGMA, U_, INV_ROOT, U_.T), I_D),
        zca.T * basis * sympy.diag(s1**2, s2**2) * basis.T * zca,
        eye(2),
        r"$R = U^\top$",
        "U(t), Lambda = diag(s_1^2, s_2^2)",
        kind="general",
    )
    size = exact_dim(d)
    basis_q = rational_orthogonal(size)
    transform = basis_q * inverse_root_spectrum(size) * rational_orthogonal(size, offset=3) * shear(size, amount)
    product = transform.T * basis_q * inverse_root_spectrum(size).inv() ** 2 * basis_q.T * transform
    _matrix_identity(
        proof,
        rf"$WR$ whitens exactly ($d = {size}$)",
        ((W_ * R_).T * SIGMA * W_ * R_, I_D),
        product,
        eye(size),
        r"$R^\top R = I$",
        f"rational U, R (times the shear) and Lambda = diag(1/k^2), {size}x{size}",
    )
    return proof.finish(
        result=_max_abs(product - eye(size)),
        conclusion=r"W^\top\Sigma W = I \iff W \in \{W_0 R : R^\top R = I\}",
        proved_for=r"every $2 \times 2$ SPD $\Sigma$ (symbolic $t$, $s_1$, $s_2$); larger $d$ at the parameter point",
    )


def cosine_invariance(n: int, d: int, amount: Rational) -> Derivation:
    r"""W2: every whitening map gives the same Gram matrix, hence the same cosines:

    .. math:: \langle (a-\mu)WR, (b-\mu)WR\rangle = (a-\mu)\,WW^\top (b-\mu)^\top
              = (a-\mu)\,\Sigma^{-1}(b-\mu)^\top,

    so the whitened cosine is the :math:`\Sigma^{-1}`-inner-product
    (Mahalanobis) cosine, unique across the class.  Symbolic for d = 2 (general
    :math:`W`, :math:`R = U(t)S`), exact for concrete rational data at
    :math:`d_e`, with :math:`\Sigma^{-1}` by exact inversion (no whitening map).
    Result: the largest difference between the concrete cosine matrices (0).
    """
    proof = Proof()
    _full_rank_step(proof, n, d)
    transform = general_matrix("w")
    turn = _extra_factor_steps(proof, amount)
    a, b = symbolic_data(1, 2, "a"), symbolic_data(1, 2, "b")
    row = MatrixSymbol("a", 1, D_SYM), MatrixSymbol("b", 1, D_SYM)
    _matrix_identity(
        proof,
        r"inner products of whitened vectors do not depend on $R$",
        (row[0] * W_ * R_ * (row[1] * W_ * R_).T, row[0] * W_ * W_.T * row[1].T),
        a * transform * turn * (b * transform * turn).T,
        a * transform * transform.T * b.T,
        r"$RR^\top = I$",
        "general symbolic 2x2 W, centred a, b and R = U(t) S",
        kind="general",
    )
    general = symmetric_matrix("sigma")
    _matrix_identity(
        proof,
        r"$WW^\top = \Sigma^{-1}$ for every whitening $W$",
        (W_ * W_.T, SIGMA.inverse()),
        transform * transform.T,
        (transform.inv().T * eye(2) * transform.inv()).inv(),
        r"$W$ invertible; $W^\top\Sigma W = I$ gives $\Sigma = W^{-\top}W^{-1}$",
        "general symbolic 2x2 W",
        kind="general",
    )
    size = exact_dim(d)
    basis = rational_orthogonal(size)
    sigma_q = basis * inverse_root_spectrum(size).inv() ** 2 * basis.T
    points = centred(integer_data(4, size))
    reference = _cosines(points * _exact_inverse(sigma_q) * points.T)
    maps = {
        "PCA $W$": (W_, basis * inverse_root_spectrum(size)),
        r"ZCA $WU^\top$": (W_ * U_.T, basis * inverse_root_spectrum(size) * basis.T),
        "$WR$": (
            W_ * R_,
            basis * inverse_root_spectrum(size) * rational_orthogonal(size, offset=3) * shear(size, amount),
        ),
    }
    cosine = sympy.Function("cos")
    spreads = []
    for name, (shown, member) in maps.items():
        whitened = points * member
        cosines = _cosines(whitened * whitened.T)
        _matrix_identity(
            proof,
            rf"{name}: the cosines are the $\Sigma^{{-1}}$-cosines ($d = {size}$)",
            (cosine(X_C * shown), cosine(X_C, SIGMA.inverse())),
            cosines,
            reference,
            "Gram invariance",
            f"4 centred integer points, rational Sigma, Sigma^(-1) by exact inversion, {size}x{size}",
        )
        spreads.append(_max_abs(cosines - reference))
    return proof.finish(
        result=sympy.Max(*spreads),
        conclusion=r"\cos(\tilde a, \tilde b) = \frac{\langle a-\mu, b-\mu\rangle_{\Sigma^{-1}}}{\|a-\mu\|_{\Sigma^{-1}}\|b-\mu\|_{\Sigma^{-1}}}",
    )


def _exact_inverse(matrix: Matrix) -> Matrix:
    """Exact inverse over the rationals (``DomainMatrix`` over QQ)."""
    return DomainMatrix.from_Matrix(matrix).to_field().inv().to_Matrix()


def _cosines(gram: Matrix) -> Matrix:
    return Matrix(gram.rows, gram.cols, lambda i, j: gram[i, j] / sympy.sqrt(gram[i, i] * gram[j, j]))


def power_spectrum(d: int, alpha: Rational) -> list[sympy.Expr]:
    r"""The skewed spectrum :math:`\lambda_i = i^{-\alpha}`, exactly."""
    return [Integer(i) ** -alpha for i in range(1, d + 1)]


def truncation(d: int, k: int, alpha: Rational, descending: bool) -> Derivation:
    r"""W3: keeping the first :math:`k` columns of :math:`W = U\Lambda^{-1/2}` is PCA followed by scaling.

    :math:`W_{:,1:k} = U_k\Lambda_k^{-1/2}`, so :math:`(x-\mu)W_{:,1:k} = \big((x-\mu)U_k\big)\Lambda_k^{-1/2}`
    — the PCA scores, each divided by its standard deviation — and
    :math:`W_k^\top\Sigma W_k = I_k`, :math:`U_k^\top\Sigma U_k = \Lambda_k`.  It is *the top-k*
    PCA only when the columns are ordered by decreasing eigenvalue (``numpy.linalg.eigh``
    returns them increasing: the first k columns are then the *bottom* k).
    Symbolic :math:`s_i` with the rational :math:`U` at :math:`d_e = \min(d, 16)` (and
    :math:`k_e = \min(k, d_e)`); the spectrum :math:`\lambda_i = i^{-\alpha}` at the full
    :math:`d`.  The optimality of the PCA subspace (Ky Fan) is not re-derived.
    Result: the exact variance fraction kept, :math:`\sum_{i\le k}\lambda_i/\sum_{i\le d}\lambda_i`.
    """
    proof = Proof()
    proof.compare(r"at most $d$ columns can be kept", Integer(k), "<=", Integer(d), rule=r"$W$ is $d \times d$")
    size = exact_dim(d)
    kept = min(k, size)
    roots = sympy.symbols(f"s_1:{size + 1}", positive=True)
    basis = rational_orthogonal(size)
    transform = basis * sympy.diag(*[1 / s for s in roots])
    scaling = sympy.diag(*[1 / s for s in roots[:kept]])
    on = f"the rational {size}x{size} U, Lambda = diag(s_1^2..s_{size}^2), k = {kept}"
    u_k, w_k = MatrixSymbol("U_k", D_SYM, K_SYM), MatrixSymbol("W_k", D_SYM, K_SYM)
    lambda_k = MatrixSymbol("Lambda_k", K_SYM, K_SYM)
    _matrix_identity(
        proof,
        r"the first $k$ columns of $W$",
        (w_k, u_k * lambda_k ** Rational(-1, 2)),
        transform[:, :kept],
        basis[:, :kept] * scaling,
        "column slicing",
        on,
    )
    point = symbolic_data(1, size, "y")
    y = MatrixSymbol("y", 1, D_SYM)
    _matrix_identity(
        proof,
        r"$(x - \mu)W_k$ = PCA scores $(x - \mu)U_k$, each scaled by $\lambda_i^{-1/2}$",
        (y * w_k, (y * u_k) * lambda_k ** Rational(-1, 2)),
        point * transform[:, :kept],
        (point * basis[:, :kept]) * scaling,
        "associativity",
        on,
    )
    selector = eye(size)[:kept, :]
    _matrix_identity(
        proof,
        r"$U_k^\top U = [I_k\ 0]$",
        (u_k.T * U_, sympy.MatrixSymbol("E_k", K_SYM, D_SYM)),
        basis[:, :kept].T * basis,
        selector,
        r"$U^\top U = I$",
        on,
    )
    captured = sympy.diag(*[s**2 for s in roots[:kept]])
    _matrix_identity(
        proof,
        r"$U_k^\top\Sigma U_k = \Lambda_k$: the PCA scores have variances $\lambda_1, \dots, \lambda_k$",
        (u_k.T * SIGMA * u_k, lambda_k),
        selector * sympy.diag(*[s**2 for s in roots]) * selector.T,
        captured,
        r"$\Sigma = U\Lambda U^\top$",
        on,
    )
    _matrix_identity(
        proof,
        r"$W_k^\top\Sigma W_k = I_k$",
        (w_k.T * SIGMA * w_k, Identity(K_SYM)),
        scaling * captured * scaling,
        eye(kept),
        r"$s_i > 0$",
        on,
    )
    spectrum = power_spectrum(d, alpha)
    order = spectrum if descending else spectrum[::-1]
    if k < d:
        proof.compare(
            r"the kept eigenvalues are the largest ($\lambda_k > \lambda_{k+1}$)",
            order[k - 1],
            ">",
            order[k],
            rule="columns sorted by decreasing eigenvalue",
        )
    fraction = sympy.Add(*order[:k]) / sympy.Add(*spectrum)
    return proof.finish(result=fraction, conclusion=r"(x-\mu)W_{:,1:k} = \mathrm{PCA}_k(x-\mu)\,\Lambda_k^{-1/2}")


def merge(
    first: tuple[int, Matrix, Matrix], second: tuple[int, Matrix, Matrix], between: bool
) -> tuple[int, Matrix, Matrix]:
    r"""Chan et al.: :math:`\delta = \mu_b-\mu_a`, :math:`\mu = \mu_a + \delta n_b/n`,
    :math:`M_2 = M_{2,a}+M_{2,b}+\delta^\top\delta\,n_an_b/n` (row vectors; the last term only if ``between``)."""
    (n_a, mean_a, m2_a), (n_b, mean_b, m2_b) = first, second
    n = n_a + n_b
    delta = mean_b - mean_a
    m2 = m2_a + m2_b + (delta.T * delta * n_a * n_b / n if between else zeros(m2_a.rows))
    return n, mean_a + delta * n_b / n, m2


def batch_sizes(batches: int) -> list[int]:
    """Unequal batch sizes 1, 2, 3, 1, 2, 3, ... for the concrete exact run."""
    return [1 + i % 3 for i in range(batches)]


def streaming(batches: int, between: bool) -> Derivation:
    r"""W4: mean and covariance merge exactly over batches (Chan, Golub & LeVeque 1979).

    With :math:`n = n_a+n_b`, :math:`\delta = \mu_b-\mu_a`:
    :math:`\mu = \mu_a + \delta\,n_b/n` and :math:`M_2 = M_{2,a}+M_{2,b}+\delta\delta^\top n_an_b/n`,
    :math:`\Sigma = M_2/n`.  The key identities are checked symbolically (general
    batch sizes for the scalar one; 2 + 3 symbolic vectors in d = 2 for the merge),
    then the merge is folded over ``batches`` integer batches of unequal sizes in
    exact rationals and compared with the one-pass moments.  Dropping the
    between-batch term (averaging the per-batch scatters) breaks it.
    Result: the largest entry of the concrete residual (0).
    """
    proof = Proof()
    n_a, n_b = sympy.symbols("n_a n_b", positive=True)
    proof.equal(
        r"between-batch weights add up to the merge coefficient $n_a n_b/n$ (all $n_a, n_b$)",
        n_a * (n_b / (n_a + n_b)) ** 2 + n_b * (n_a / (n_a + n_b)) ** 2,
        n_a * n_b / (n_a + n_b) if between else Integer(0),
        rule=r"$\mu_a - \mu = -\delta n_b/n$, $\mu_b - \mu = \delta n_a/n$",
        kind="general",
    )
    first, second = symbolic_data(2, 2, "a"), symbolic_data(3, 2, "b")
    merged = merge((2, *scatter(first)), (3, *scatter(second)), between)
    one_pass = scatter(first.col_join(second))
    on = "2 + 3 symbolic points in d = 2"
    mu, mu_merged = MatrixSymbol("mu", 1, D_SYM), MatrixSymbol("mu_merged", 1, D_SYM)
    _matrix_identity(
        proof, "merged mean = one-pass mean", (mu_merged, mu), merged[1], one_pass[0], "weighted average", on,
        kind="general",
    )
    _matrix_identity(
        proof,
        "merged scatter = one-pass scatter",
        (MatrixSymbol("M_merged", D_SYM, D_SYM), MatrixSymbol("M_2", D_SYM, D_SYM)),
        merged[2],
        one_pass[1],
        "parallel-axis theorem",
        on,
        kind="general",
    )
    sizes = batch_sizes(batches)
    data = integer_data(sum(sizes), 3)
    bounds = [sum(sizes[:i]) for i in range(batches + 1)]
    state = (sizes[0], *scatter(data[: bounds[1], :]))
    for start, stop in zip(bounds[1:-1], bounds[2:]):
        state = merge(state, (stop - start, *scatter(data[start:stop, :])), between)
    mean, m2 = scatter(data)
    on = f"{batches} integer batches of sizes {sizes[:6]}{'...' if batches > 6 else ''} in d = 3"
    _matrix_identity(
        proof,
        "streamed mean = one-pass mean",
        (MatrixSymbol("mu_stream", 1, D_SYM), mu),
        state[1],
        mean,
        "Chan et al. merge",
        on,
    )
    _matrix_identity(
        proof,
        "streamed covariance = one-pass covariance",
        (MatrixSymbol("Sigma_stream", D_SYM, D_SYM), SIGMA),
        state[2] / state[0],
        m2 / data.rows,
        "Chan et al. merge",
        on,
    )
    residual = (state[2] - m2).col_join(state[1] - mean)
    return proof.finish(
        result=_max_abs(residual),
        conclusion=r"(\mu, \Sigma) \text{ accumulate exactly over batches}",
        proved_for=r"all batch sizes $n_a, n_b$ (the merge coefficient); vectors checked in $d = 2, 3$",
    )


def rank_deficiency(n: int, d: int, repeats: int) -> Derivation:
    r"""W5: :math:`\operatorname{rank}\Sigma = \operatorname{rank} X_c \le N-1`; for :math:`N \le d`,
    :math:`\Sigma` is singular and :math:`\Lambda^{-1/2}` does not exist.

    The bound is structural (:math:`\mathbf 1^\top X_c = 0`); that it is attained,
    :math:`\operatorname{rank} = \min(N-1, d)`, holds for data in general position and is
    certified by the exact rank (``DomainMatrix`` over ZZ) of concrete integer data —
    repeated points break it.  Result: the rank deficiency :math:`d - \operatorname{rank}\Sigma`.
    """
    proof = Proof()
    proof.compare(r"$N \le d$: $\operatorname{rank}\Sigma \le N - 1 < d$", Integer(n - 1), "<", Integer(d), rule=r"$N \le d$")
    rank = DomainMatrix.from_Matrix(_centring_step(proof, integer_data(n, d, repeats))).rank()
    proof.certify(
        "in general position the bound is attained",
        sympy.Function("rank")(X_C),
        "=",
        Integer(min(n - 1, d)),
        rule=r"exact rank of $N X_c$ over the integers",
        holds=rank == min(n - 1, d),
        check=f"DomainMatrix(N X_c, ZZ).rank() = {rank} for the {n}x{d} integer data with {repeats} repeated rows",
    )
    return proof.finish(
        result=Integer(d - rank),
        conclusion=r"N \le d \Rightarrow \operatorname{rank}\Sigma = N - 1 < d:\ \Sigma \text{ singular}",
    )


def _variant_inverse_not_root(n: int, d: int) -> Derivation:
    r"""Known-false derivation: :math:`W = U\Lambda^{-1}` (the inverse, not the inverse square root):
    the :math:`2 \times 2` sandwich is :math:`\Lambda^{-1}`, not :math:`I`, and the step refuses."""
    proof = Proof()
    rotation = cayley_rotation()
    _matrix_identity(
        proof,
        r"$W^\top\Sigma W = I$ with $W = U\Lambda^{-1}$",
        (sympy.MatMul(LAMBDA.inverse(), U_.T, SIGMA, U_, LAMBDA.inverse()), I_D),
        (rotation * sympy.diag(s1**-2, s2**-2)).T
        * (rotation * sympy.diag(s1**2, s2**2) * rotation.T)
        * rotation
        * sympy.diag(s1**-2, s2**-2),
        eye(2),
        r"$U^\top U = I$",
        "U(t), Lambda = diag(s_1^2, s_2^2)",
        kind="general",
    )
    return proof.finish(result=Integer(0), conclusion="")


def _variant_rank_n(n: int, d: int, repeats: int) -> Derivation:
    r"""Known-false derivation: :math:`\operatorname{rank}\Sigma = N` (the centring constraint forgotten)."""
    right = rank_deficiency(n, d, repeats)
    return Derivation(right.steps, Integer(d - min(n, d)), right.conclusion)


def _variant_fraction_of_roots(d: int, k: int, alpha: Rational, descending: bool) -> Derivation:
    r"""Known-false derivation: the kept fraction of :math:`\sum\sqrt{\lambda_i}` (standard deviations, not variances)."""
    right = truncation(d, k, alpha, descending)
    spectrum = [sympy.sqrt(value) for value in power_spectrum(d, alpha)]
    return Derivation(right.steps, sympy.Add(*spectrum[:k]) / sympy.Add(*spectrum), right.conclusion)
