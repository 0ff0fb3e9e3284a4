r"""Hierarchical position encoding (kexue.fm post 7947), numerically.

Independent of :mod:`twofold.theorems.position`.  Stand-ins for trained encodings are random:
:math:`p_m \sim N(0, I_d/d)`, so :math:`|p_m| \approx 1`.  The extended table

.. math:: q_{(i-1)n+j} = \alpha u_i + (1-\alpha) u_j,\qquad u_i = (p_i - \alpha p_1)/(1-\alpha)

is never materialised (:math:`n = 512`, :math:`d = 768` would be 1.6 GB of float64): it is
held as its :math:`n` base vectors and produced block by block (:meth:`PositionTable.blocks`)
or row by row for given index pairs (:meth:`PositionTable.rows`).

* Identities (P1–P3) are measured as the largest entrywise residual over the whole table,
  relative to :math:`M = \max|p|`; :func:`entry_error` is the a-priori float64 bound.
* Collisions (P3, P4) are counted without comparing :math:`n^4/2` pairs: every row is
  projected on one random unit direction, the :math:`n^2` projections are sorted, and runs of
  projections closer than a bound are the only candidates (rows within the collision tolerance
  have projections within that bound, so no collision is missed).  Each candidate is then
  compared with its run's first row in full dimension; a run that is not one class is
  resolved by all its pairwise distances and ``scipy.sparse.csgraph.connected_components``.
* The nearest distinct pair uses the structure: two rows differ by :math:`\sum_m c_m u_m` with
  :math:`c = \alpha(e_i - e_k) + (1-\alpha)(e_j - e_l)`, which depends only on which indices
  coincide.  Where :math:`c` has two non-zero entries, :math:`c = \gamma(e_a - e_b)` and the
  closest such pair is :math:`|\gamma|\min_{a \ne b}|u_a - u_b|` exactly; where it has three or
  more, the centred Gram matrix :math:`G` of the :math:`u`'s bounds
  :math:`|\sum c_m u_m|^2 \ge \max(\lambda_{\min}|c|^2,\; g_{\min}|c|^2 - e_{\max}(|c|_1^2 - |c|^2))`
  (smallest eigenvalue on sum-zero vectors; Gershgorin-type with the smallest diagonal and
  largest off-diagonal entry).  If that bound exceeds the best two-entry distance, the nearest
  distinct pair is certified.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csgraph, csr_matrix
from scipy.spatial.distance import pdist, squareform

from twofold.contract import Estimate, NumericError

UNIT_ROUNDOFF = 2.0**-53
CHUNK_BYTES = 2**21  # 2 MiB of float64 rows per chunk: stays in cache, bounds memory


def entry_error(alpha: float) -> float:
    r"""A-priori bound on the float64 error of one table entry, relative to :math:`M = \max|p|`.

    :math:`u_i` costs four roundings (:math:`1-\alpha`, :math:`\alpha p_1`, the difference, the
    quotient): :math:`|\delta u_i| \le 4u\,M(1+|\alpha|)/|1-\alpha|`.  The row
    :math:`\alpha u_i + (1-\alpha)u_j` carries that error and adds three roundings of terms no
    larger than :math:`M(1+|\alpha|)/|1-\alpha|`: seven units in all, rounded up to eight
    (second-order terms).
    """
    return 8 * UNIT_ROUNDOFF * (1 + abs(alpha)) / abs(1 - alpha)


def trained_positions(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Random stand-ins for trained encodings: rows :math:`N(0, I_d/d)`."""
    return rng.standard_normal((n, d)) / math.sqrt(d)


@dataclass(frozen=True)
class PositionTable:
    r"""The extended table of ``p`` at ``alpha``, held as its base vectors ``u`` (never materialised)."""

    p: np.ndarray
    alpha: float
    u: np.ndarray
    left: np.ndarray
    right: np.ndarray

    @property
    def n(self) -> int:
        return self.p.shape[0]

    @property
    def d(self) -> int:
        return self.p.shape[1]

    @property
    def scale(self) -> float:
        r""":math:`M = \max|p|`, the scale of every rounding bound."""
        return float(np.abs(self.p).max())

    def rows(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        r"""Rows :math:`q_{(i-1)n+j}` for 0-based index arrays ``i``, ``j`` (broadcast), shape ``(..., d)``.

        ``left`` :math:`= \alpha u` and ``right`` :math:`= (1-\alpha) u` are rounded once, so a row is
        one addition away from them; at :math:`\alpha = \tfrac12` the rows of :math:`(i, j)` and
        :math:`(j, i)` are bitwise equal.
        """
        return self.left[i] + self.right[j]

    def first_block(self) -> np.ndarray:
        r"""Rows :math:`q_1, \dots, q_n` (block :math:`i = 1`), shape ``(n, d)``."""
        return self.rows(np.zeros(self.n, dtype=int), np.arange(self.n))

    def block_chunks(self) -> Iterator[np.ndarray]:
        """0-based block indices ``i`` in chunks small enough that ``rows(i[:, None], all j)`` fits ``CHUNK_BYTES``."""
        per_chunk = max(1, CHUNK_BYTES // (8 * self.n * self.d))
        return iter(np.array_split(np.arange(self.n), math.ceil(self.n / per_chunk)))

    def row_tolerance(self) -> float:
        r"""Two rows closer than this (2-norm) are equal up to rounding: :math:`2\sqrt d\,M\,\varepsilon(\alpha)`."""
        return 2 * math.sqrt(self.d) * self.scale * entry_error(self.alpha)


def extend(p: np.ndarray, alpha: float) -> PositionTable:
    r"""Base vectors :math:`u_i = (p_i - \alpha p_1)/(1-\alpha)`; :math:`\alpha = 1` has none."""
    if alpha == 1:
        raise NumericError("alpha = 1: u_i = (p_i - alpha p_1)/(1 - alpha) divides by 1 - alpha = 0")
    u = (p - alpha * p[0]) / (1 - alpha)
    return PositionTable(p=p, alpha=alpha, u=u, left=alpha * u, right=(1 - alpha) * u)


def random_table(n: int, d: int, alpha: float, rng: np.random.Generator) -> PositionTable:
    return extend(trained_positions(n, d, rng), alpha)


def max_block_residual(table: PositionTable, residual: Callable[[np.ndarray, np.ndarray], None]) -> float:
    r"""Largest :math:`|\mathrm{residual}|` over the table, relative to :math:`M`; ``residual(i, block)``
    gets 0-based block indices ``i`` (shape ``(b, 1)``) and their rows (shape ``(b, n, d)``), and
    turns the rows into the residual in place."""
    j = np.arange(table.n)[None, :]
    largest = 0.0
    for chunk in table.block_chunks():
        i = chunk[:, None]
        block = table.rows(i, j)
        residual(i, block)
        largest = max(largest, float(block.max()), -float(block.min()))
    return largest / table.scale


def _residual_estimate(
    name: str, n: int, d: int, alpha: float, seed: int, residual: Callable[[PositionTable], float]
) -> Estimate:
    table = random_table(n, d, alpha, np.random.default_rng(seed))
    value = residual(table)
    return Estimate(
        value=value,
        method=f"float64 {name} over the whole table, max entrywise residual / max|p| (p ~ N(0, I/d))",
        n=n * n,
        seed=seed,
        details={"entry_error_bound": entry_error(alpha), "n": n, "d": d},
    )


def first_block_residual(n: int, d: int, alpha: float, seed: int) -> Estimate:
    r"""P1: :math:`\max_{j \le n} |q_j - p_j| / M`."""

    def residual(table: PositionTable) -> float:
        return float(np.abs(table.first_block() - table.p).max()) / table.scale

    return _residual_estimate("q_j - p_j", n, d, alpha, seed, residual)


def block_shift_residual(n: int, d: int, alpha: float, seed: int) -> Estimate:
    r"""P2: :math:`\max_{i,j} |q_{(i-1)n+j} - q_j - \frac{\alpha}{1-\alpha}(p_i - p_1)| / M`."""

    def residual(table: PositionTable) -> float:
        first = table.first_block()
        shift = table.alpha / (1 - table.alpha) * (table.p - table.p[0])

        def subtract(i: np.ndarray, block: np.ndarray) -> None:
            block -= first
            block -= shift[i]

        return max_block_residual(table, subtract)

    return _residual_estimate("block shift", n, d, alpha, seed, residual)


def swap_residual(n: int, d: int, alpha: float, seed: int) -> Estimate:
    r"""P3: :math:`\max_{i,j} |q_{(i-1)n+j} - q_{(j-1)n+i} - (2\alpha-1)(u_i - u_j)| / M`."""

    def residual(table: PositionTable) -> float:
        j = np.arange(table.n)[None, :]
        scaled = (2 * table.alpha - 1) * table.u

        def subtract(i: np.ndarray, block: np.ndarray) -> None:
            block -= table.rows(j, i)
            block -= scaled[i]
            block += scaled[j]

        return max_block_residual(table, subtract)

    return _residual_estimate("swap difference", n, d, alpha, seed, residual)


@dataclass(frozen=True)
class Collisions:
    """Equal rows of a table: classes of rows within ``tolerance`` of each other."""

    distinct: int
    colliding_pairs: int
    largest_class: int
    tolerance: float
    candidates: int
    example: tuple[int, int] | None


def _projection_slack(table: PositionTable, direction: np.ndarray, projections: np.ndarray) -> float:
    r"""Bound on how far a computed projection can be from the projection of the computed row.

    Both approximate :math:`w \cdot (\alpha \hat u_i + (1-\alpha)\hat u_j)`: the dot products
    :math:`u w` err by :math:`\le d\,u\,\max|u|\,|w|_1` (:math:`\gamma_d`), the combination adds
    three roundings, and the computed row itself is off by :math:`\le 3u\sqrt d\max|u|` in 2-norm.
    """
    weight = abs(table.alpha) + abs(1 - table.alpha)
    largest = float(np.abs(table.u).max())
    dots = (table.d + 1) * UNIT_ROUNDOFF * largest * float(np.abs(direction).sum()) * weight
    combination = 3 * UNIT_ROUNDOFF * float(np.abs(projections).max())
    row = 3 * UNIT_ROUNDOFF * math.sqrt(table.d) * largest * weight
    return 2 * (dots + combination + row)


def _distances(table: PositionTable, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """2-norm distances between rows at flat 0-based positions ``first[t]`` and ``second[t]``, in chunks."""
    per_chunk = max(1, CHUNK_BYTES // (8 * table.d))
    out = np.empty(first.size)
    for start in range(0, first.size, per_chunk):
        a, b = first[start : start + per_chunk], second[start : start + per_chunk]
        difference = table.rows(a // table.n, a % table.n)
        difference -= table.rows(b // table.n, b % table.n)
        out[start : start + per_chunk] = np.sqrt(np.einsum("td,td->t", difference, difference))
    return out


def _unambiguous(distances: np.ndarray, tolerance: float) -> None:
    """Rows are either equal (distance 0) or clearly apart; in between float64 cannot decide."""
    doubtful = (distances > 0) & (distances <= tolerance)
    if doubtful.any():
        raise NumericError(
            f"rows at distance {distances[doubtful].min():.3g} <= rounding tolerance {tolerance:.3g}:"
            " float64 cannot tell whether they are equal (alpha too close to a collision value)"
        )


def _split_run(table: PositionTable, members: np.ndarray, tolerance: float) -> np.ndarray:
    """Class sizes of one run whose rows are not all equal: components of the within-tolerance graph."""
    rows = table.rows(members // table.n, members % table.n)
    distances = pdist(rows)
    _unambiguous(distances, tolerance)
    _, labels = csgraph.connected_components(csr_matrix(squareform(distances <= tolerance)), directed=False)
    return np.bincount(labels)


def collisions(table: PositionTable, rng: np.random.Generator) -> Collisions:
    """Classes of equal rows by projection, sorting and verification (see the module docstring)."""
    tolerance = table.row_tolerance()
    direction = rng.standard_normal(table.d)
    direction /= np.linalg.norm(direction)
    along = table.u @ direction
    projections = (table.alpha * along[:, None] + (1 - table.alpha) * along[None, :]).ravel()
    order = np.argsort(projections, kind="stable")
    starts = np.r_[True, np.diff(projections[order]) > tolerance + _projection_slack(table, direction, projections)]
    run = np.cumsum(starts) - 1
    sizes = np.bincount(run)
    followers = ~starts
    members, representatives = order[followers], order[starts][run[followers]]
    distances = _distances(table, members, representatives)
    _unambiguous(distances, tolerance)
    mixed = np.unique(run[followers][distances > tolerance])
    clean = np.setdiff1d(np.flatnonzero(sizes > 1), mixed)
    class_sizes = np.concatenate(
        [sizes[sizes == 1], sizes[clean]] + [_split_run(table, order[run == r], tolerance) for r in mixed]
    ).astype(np.int64)
    equal = np.flatnonzero(distances <= tolerance)[:1]
    return Collisions(
        distinct=int(class_sizes.size),
        colliding_pairs=int((class_sizes * (class_sizes - 1) // 2).sum()),
        largest_class=int(class_sizes.max()),
        tolerance=tolerance,
        candidates=int(members.size),
        example=(int(representatives[equal[0]]) + 1, int(members[equal[0]]) + 1) if equal.size else None,
    )


def coincidence_patterns() -> list[tuple[int, int, int, int]]:
    """Which of the four indices ``(i, j, k, l)`` of a pair of rows coincide: the 15 set partitions, minus the 2 trivial ones."""
    return [
        labels
        for labels in itertools.product(range(4), repeat=4)
        if labels[0] == 0 and all(labels[t] <= max(labels[:t]) + 1 for t in range(1, 4)) and labels[:2] != labels[2:]
    ]


def pair_coefficients(labels: tuple[int, int, int, int], alpha: float) -> np.ndarray:
    r""":math:`c = \alpha(e_i - e_k) + (1-\alpha)(e_j - e_l)` over the distinct indices of a pattern."""
    c = np.zeros(max(labels) + 1)
    np.add.at(c, list(labels), [alpha, 1 - alpha, -alpha, alpha - 1])
    return c


@dataclass(frozen=True)
class NearestPair:
    """The closest two distinct rows: measured ``distance`` of an explicit pair, and a certified ``lower_bound``."""

    distance: float
    lower_bound: float
    positions: tuple[int, int]
    spacing: float

    @property
    def certified(self) -> bool:
        return self.lower_bound >= self.distance


@dataclass(frozen=True)
class GramBounds:
    r"""Rounding-safe facts about the centred Gram matrix :math:`G` of the :math:`u`'s: smallest diagonal
    entry, largest off-diagonal :math:`|G_{ab}|`, and a lower bound on the smallest eigenvalue on
    sum-zero vectors (0, always valid, until :func:`with_eigenvalue` computes it)."""

    diagonal: float
    off: float
    smallest: float = 0.0

    def pattern_bound(self, c: np.ndarray) -> float:
        r"""Lower bound on :math:`|\sum_m c_m u_m|` over distinct indices (see the module docstring)."""
        square, l1 = float(c @ c), float(np.abs(c).sum())
        return math.sqrt(max(self.smallest * square, self.diagonal * square - self.off * (l1**2 - square), 0.0))


def centred_gram(table: PositionTable) -> tuple[np.ndarray, float]:
    r"""The Gram matrix of :math:`u_a - \bar u` (rows of a pair differ by a sum-zero combination, so the
    centre is free) and the float64 error bound of each entry, :math:`\gamma_{d+2}\max_a|u_a - \bar u|^2`."""
    centred = table.u - table.u.mean(axis=0)
    return centred @ centred.T, (table.d + 2) * UNIT_ROUNDOFF * float((centred**2).sum(axis=1).max())


def gershgorin(gram: np.ndarray, entry: float) -> GramBounds:
    off = np.abs(gram - np.diag(np.diag(gram))).max() if gram.shape[0] > 1 else 0.0
    return GramBounds(diagonal=float(np.diag(gram).min()) - entry, off=float(off) + entry)


def with_eigenvalue(bounds: GramBounds, gram: np.ndarray, entry: float) -> GramBounds:
    """Add the smallest eigenvalue on sum-zero vectors, less the entry errors and ``eigh``'s backward error."""
    n = gram.shape[0]
    eigen = np.linalg.eigvalsh(gram + float(np.trace(gram)) / n)  # the ones-vector (eigenvalue 0) moves to trace(G)
    return GramBounds(bounds.diagonal, bounds.off, float(eigen[0]) - n * (entry + 4 * UNIT_ROUNDOFF * float(eigen[-1])))


def _realise(labels: tuple[int, ...], support: np.ndarray, a: int, b: int, n: int) -> list[int]:
    """Indices for a pattern: its two non-zero-coefficient labels get ``a`` and ``b``, the others fresh indices."""
    fresh = iter(x for x in range(n) if x not in (a, b))
    names = {int(support[0]): a, int(support[1]): b}
    names.update({x: next(fresh) for x in sorted(set(labels) - set(names))})
    return [names[x] for x in labels]


def nearest_distinct_pair(table: PositionTable) -> NearestPair:
    r"""The closest two rows that are not forced equal (:math:`c \ne 0`), with a certified lower bound."""
    if table.n < 2:
        raise NumericError("one trained position: no pair of rows")
    spacings = pdist(table.u)
    closest = int(np.argmin(spacings))
    a, b = (int(x[closest]) for x in np.triu_indices(table.n, 1))
    best, best_pattern, wide = math.inf, None, []
    for labels in coincidence_patterns():
        if max(labels) + 1 > table.n:
            continue
        c = pair_coefficients(labels, table.alpha)
        support = np.flatnonzero(c)
        if support.size == 2 and abs(c[support[0]]) * spacings.min() < best:
            best, best_pattern = abs(c[support[0]]) * spacings.min(), (labels, support)
        elif support.size > 2:
            wide.append(c)
    if best_pattern is None:
        raise NumericError("no pair of rows differs by two base vectors only")
    gram, entry = centred_gram(table)
    bounds = gershgorin(gram, entry)
    bound = min((bounds.pattern_bound(c) for c in wide), default=math.inf)
    if bound < best:
        bounds = with_eigenvalue(bounds, gram, entry)
        bound = min(bounds.pattern_bound(c) for c in wide)
    i, j, k, l = _realise(*best_pattern, a, b, table.n)
    flat = np.array([i * table.n + j]), np.array([k * table.n + l])
    measured = float(_distances(table, *flat)[0])
    return NearestPair(
        distance=measured,
        lower_bound=min(bound, measured),
        positions=(int(flat[0][0]) + 1, int(flat[1][0]) + 1),
        spacing=float(spacings.min()),
    )


def survey_details(table: PositionTable, found: Collisions, nearest: NearestPair) -> dict:
    """What a reader wants to see about a table: sizes, collisions, the nearest distinct pair and its scaling."""
    swap_scale = abs(2 * table.alpha - 1) * nearest.spacing
    return {
        "n": table.n,
        "d": table.d,
        "positions": table.n**2,
        "distinct_rows": found.distinct,
        "colliding_pairs": found.colliding_pairs,
        "largest_class": found.largest_class,
        "example_collision": found.example,
        "collision_tolerance": found.tolerance,
        "candidates_checked": found.candidates,
        "nearest_distinct_distance": nearest.distance,
        "nearest_lower_bound": nearest.lower_bound,
        "nearest_certified": nearest.certified,
        "nearest_positions": nearest.positions,
        "min_base_spacing": nearest.spacing,
        "nearest_over_swap_scale": nearest.distance / swap_scale if swap_scale > 0 else math.inf,
    }


def _survey(n: int, d: int, alpha: float, seed: int) -> tuple[Collisions, dict]:
    rng = np.random.default_rng(seed)
    table = random_table(n, d, alpha, rng)
    found = collisions(table, rng)
    return found, survey_details(table, found, nearest_distinct_pair(table))


SURVEY_METHOD = "random projection, sort, full-dimension verification of candidate runs (p ~ N(0, I/d))"


def colliding_pairs(n: int, d: int, alpha: float, seed: int) -> Estimate:
    """P3: unordered pairs of positions with equal rows."""
    found, details = _survey(n, d, alpha, seed)
    return Estimate(value=float(found.colliding_pairs), method=SURVEY_METHOD, n=n * n, seed=seed, details=details)


def distinct_positions(n: int, d: int, alpha: float, seed: int) -> Estimate:
    """P4: number of distinct rows among the :math:`n^2` positions."""
    found, details = _survey(n, d, alpha, seed)
    return Estimate(value=float(found.distinct), method=SURVEY_METHOD, n=n * n, seed=seed, details=details)


# --- known-false variants (twofold audit) ------------------------------------------------------


def _variant_undivided_first_block(n: int, d: int, alpha: float, seed: int) -> Estimate:
    r"""Wrong: :math:`u_i = p_i - \alpha p_1` (no division by :math:`1 - \alpha`), then P1's residual."""
    p = trained_positions(n, d, np.random.default_rng(seed))
    u = p - alpha * p[0]
    table = PositionTable(p=p, alpha=alpha, u=u, left=alpha * u, right=(1 - alpha) * u)
    value = float(np.abs(table.first_block() - table.p).max()) / table.scale
    return Estimate(value=value, method="u without 1/(1 - alpha)", n=n * n, seed=seed)


def _variant_rows_swapped_weights(n: int, d: int, alpha: float, seed: int) -> Estimate:
    r"""Wrong: rows built as :math:`(1-\alpha) u_i + \alpha u_j` (the weights transposed), then P2's residual."""
    p = trained_positions(n, d, np.random.default_rng(seed))
    u = (p - alpha * p[0]) / (1 - alpha)
    table = PositionTable(p=p, alpha=alpha, u=u, left=(1 - alpha) * u, right=alpha * u)
    first = table.first_block()
    shift = alpha / (1 - alpha) * (p - p[0])

    def subtract(i: np.ndarray, block: np.ndarray) -> None:
        block -= first
        block -= shift[i]

    return Estimate(value=max_block_residual(table, subtract), method="weights transposed", n=n * n, seed=seed)


def _variant_ordered_collisions(n: int, d: int, alpha: float, seed: int) -> Estimate:
    """Wrong: colliding pairs counted as ordered pairs (each pair twice)."""
    honest = colliding_pairs(n, d, alpha, seed)
    return Estimate(value=2 * honest.value, method=honest.method, n=honest.n, seed=seed, details=honest.details)
