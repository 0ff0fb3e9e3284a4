r"""FAVOR+ against exact softmax attention: wall time and peak memory as the sequence grows.

Both run in the same process on the same float32 inputs (numpy on the CPU):

* exact: :math:`\operatorname{softmax}(QK^\top)V` with the full :math:`L\times L` score matrix in
  float32 (4 GiB would be needed in float64 at :math:`L = 16384`; float32 needs 1 GiB), shifted and
  exponentiated in place (``twofold.numerics.favor.softmax_attention``);
* FAVOR+: positive random features, :math:`D^{-1}Q'(K'^\top V)` (``twofold.numerics.favor.favor_attention``).

Time is the best of ``repeats`` runs (``time.perf_counter``); peak memory is measured in a separate
run under ``tracemalloc`` (numpy reports its buffers to it), counting only what the attention call
allocates.  FLOPs count multiply-adds of the matrix products as 2 and every elementwise operation
as 1.

Run ``python -m benchmarks --only favor`` (a section of ``docs/benchmarks.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.targets import Section, Target, best_seconds, peak_memory
from twofold.numerics.favor import favor_attention, softmax_attention

LENGTHS = (512, 1024, 2048, 4096, 8192, 16384)
DIM = 64
FEATURES = 256
VALUE_DIM = 64
REPEATS = 5
FASTER_FROM = 4096
FULL = {"lengths": LENGTHS, "dim": DIM, "features": FEATURES, "value_dim": VALUE_DIM, "repeats": REPEATS}
QUICK = {"lengths": (256, 512), "dim": 8, "features": 16, "value_dim": 4, "repeats": 1}
MIB = 2**20


@dataclass(frozen=True)
class Row:
    """One sequence length: times (s), peak memory (bytes), FLOPs, and FAVOR+'s RMS error."""

    length: int
    exact_seconds: float
    favor_seconds: float
    exact_peak: int
    favor_peak: int
    exact_flops: int
    favor_flops: int
    rms_error: float

    @property
    def time_ratio(self) -> float:
        return self.exact_seconds / self.favor_seconds

    @property
    def flop_ratio(self) -> float:
        return self.exact_flops / self.favor_flops

    @property
    def memory_ratio(self) -> float:
        return self.exact_peak / self.favor_peak


def exact_flops(length: int, dim: int, value_dim: int) -> int:
    r""":math:`QK^\top` and :math:`AV` (:math:`2L^2(d + d_v)`), plus max, subtract, exp, sum on :math:`L^2` scores."""
    return 2 * length**2 * (dim + value_dim) + 4 * length**2 + length * value_dim


def favor_flops(length: int, dim: int, features: int, value_dim: int) -> int:
    r"""Projections :math:`Q\Omega^\top, K\Omega^\top` and the products :math:`K'^\top V`, :math:`Q'(\cdot)`
    (:math:`4Lm(d + d_v)`), features (subtract, exp, scale on :math:`2Lm`), normaliser (:math:`3Lm`), division."""
    return 4 * length * features * (dim + value_dim) + 9 * length * features + length * value_dim


def inputs(length: int, dim: int, features: int, value_dim: int, seed: int) -> tuple[np.ndarray, ...]:
    r"""float32 :math:`Q, K` with entries :math:`N(0, 1)/d^{1/4}` (so :math:`QK^\top` is the usual scaled
    score), :math:`V \sim N(0,1)`, frequencies :math:`\Omega \sim N(0, I_d)`."""
    rng = np.random.default_rng(seed)
    queries, keys = (rng.standard_normal((length, dim), dtype=np.float32) / np.float32(dim**0.25) for _ in range(2))
    values = rng.standard_normal((length, value_dim), dtype=np.float32)
    omega = rng.standard_normal((features, dim), dtype=np.float32)
    return queries, keys, values, omega


def measure_length(length: int, dim: int, features: int, value_dim: int, repeats: int, seed: int) -> Row:
    queries, keys, values, omega = inputs(length, dim, features, value_dim, seed)

    def exact() -> np.ndarray:
        return softmax_attention(queries, keys, values)

    def favor() -> np.ndarray:
        return favor_attention(queries, keys, values, omega)

    error = favor() - exact()
    return Row(
        length=length,
        exact_seconds=best_seconds(exact, repeats),
        favor_seconds=best_seconds(favor, repeats),
        exact_peak=peak_memory(exact),
        favor_peak=peak_memory(favor),
        exact_flops=exact_flops(length, dim, value_dim),
        favor_flops=favor_flops(length, dim, features, value_dim),
        rms_error=float(np.sqrt(np.mean(error.astype(np.float64) ** 2))),
    )


def measure(
    lengths: Sequence[int] = LENGTHS,
    dim: int = DIM,
    features: int = FEATURES,
    value_dim: int = VALUE_DIM,
    repeats: int = REPEATS,
    seed: int = 0,
) -> list[Row]:
    """One :class:`Row` per sequence length, all in this process."""
    return [measure_length(length, dim, features, value_dim, repeats, seed) for length in lengths]


def targets(rows: Sequence[Row], faster_from: int = FASTER_FROM) -> tuple[Target, ...]:
    """Issue 4's targets: FAVOR+ faster for L >= ``faster_from`` (smallest time ratio > 1); FAVOR+ memory
    linear in L (largest / smallest peak bytes per token <= 2); wherever FAVOR+ should be faster, the time
    ratio within 2x of the FLOP ratio (largest of ``time/FLOP`` and ``FLOP/time`` <= 2)."""
    per_token = [row.favor_peak / row.length for row in rows]
    faster = [row for row in rows if row.length >= faster_from]
    return (
        Target(f"smallest time ratio exact / FAVOR+ for L >= {faster_from}", min(r.time_ratio for r in faster), 1.0),
        Target(
            "FAVOR+ peak bytes per token, largest / smallest over L (linear memory)",
            max(per_token) / min(per_token),
            2.0,
            higher_is_better=False,
        ),
        Target(
            f"time ratio vs FLOP ratio for L >= {faster_from}, worst factor either way",
            max(max(row.time_ratio / row.flop_ratio, row.flop_ratio / row.time_ratio) for row in faster),
            2.0,
            higher_is_better=False,
        ),
    )


def table(rows: Sequence[Row]) -> str:
    """Markdown table, one line per sequence length."""
    header = (
        "| L | exact (ms) | FAVOR+ (ms) | time ratio | FLOP ratio | time / FLOP ratio "
        "| exact peak (MiB) | FAVOR+ peak (MiB) | memory ratio | FAVOR+ RMS error |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    return header + "".join(
        f"| {r.length} | {1e3 * r.exact_seconds:.1f} | {1e3 * r.favor_seconds:.1f} | {r.time_ratio:.2f} "
        f"| {r.flop_ratio:.2f} | {r.time_ratio / r.flop_ratio:.2f} | {r.exact_peak / MIB:.1f} "
        f"| {r.favor_peak / MIB:.1f} | {r.memory_ratio:.1f} | {r.rms_error:.3g} |\n"
        for r in rows
    )


def section(quick: bool = False) -> Section:
    """The benchmark as a section of ``docs/benchmarks.md``; ``quick`` uses two tiny lengths."""
    config = QUICK if quick else FULL
    rows = measure(**config)
    body = (
        f"d = {config['dim']}, m = {config['features']} random features, d_v = {config['value_dim']}, float32, "
        f"best of {config['repeats']} runs; both methods measured in the same run "
        "(`twofold.numerics.favor.softmax_attention` vs `twofold.numerics.favor.favor_attention`). "
        "Exact attention materialises the L x L score matrix in float32 (1 GiB at L = 16384) and "
        "exponentiates it in place; peak memory is what each call allocates (tracemalloc), inputs excluded. "
        "Ratios are exact / FAVOR+. FLOPs: matrix products 2 per multiply-add, elementwise ops 1.\n\n"
        + table(rows)
    )
    faster_from = config["lengths"][-1] if quick else FASTER_FROM
    return Section("FAVOR+ vs exact softmax attention", body, targets(rows, faster_from))
