r"""Monte Carlo throughput of the positive random features estimator (``twofold.numerics.favor.kernel_mean``).

A *sample* is one random feature evaluated at the pair:
:math:`\omega \mapsto e^{\omega\cdot x - |x|^2/2}\,e^{\omega\cdot y - |y|^2/2}`, :math:`\omega \sim N(0, I_d)`;
an estimate with ``replicates`` replicates of ``m`` features costs ``replicates * m`` samples.  The shape is
the quick profile's ``favor.positive_unbiased`` (d = 4, m = 16, |x| = |y| = 0.5 at 60 degrees) with many
more replicates.  Three implementations run in the same process, on the same seed:

* chunked (twofold): ``kernel_mean`` draws ``CHUNK`` samples' frequencies at a time and needs one
  projection :math:`\omega\cdot(x + y)` and one exponential per sample; the mean and standard error are
  pooled chunk by chunk, so peak memory does not grow with the number of samples;
* unchunked: the obvious vectorised code (twofold's own before this benchmark) -- all frequencies at
  once, the two feature maps :math:`\varphi(x)`, :math:`\varphi(y)` evaluated separately
  (``twofold.numerics.favor.feature_map``) and multiplied;
* Python loop: one frequency vector per iteration, ``math.exp`` per factor.

Samples/s are from the best of ``REPEATS`` runs; peak memory (tracemalloc) from separate runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmarks.targets import Section, Target, best_seconds, peak_memory
from twofold.numerics.favor import CHUNK, feature_map, kernel_mean, mean_estimate, pair

DIM, FEATURES, SEED = 4, 16, 0
NORM, ANGLE = 0.5, 60.0  # |x| = |y| and the angle between them (degrees)
REPLICATES = 1_000_000  # 1.6e7 samples
LOOP_REPLICATES = 2_000  # the Python loop is timed on fewer samples
REPEATS = 3
QUICK_REPLICATES, QUICK_LOOP_REPLICATES, QUICK_REPEATS = 20_000, 200, 1
TARGET_RATE = 1e7
MIB = 2**20


@dataclass(frozen=True)
class Timing:
    """Best wall time of an estimator over ``samples`` samples, its peak memory, and its estimate."""

    name: str
    samples: int
    seconds: float
    peak: int
    value: float
    stderr: float

    @property
    def rate(self) -> float:
        return self.samples / self.seconds


def unchunked(x: np.ndarray, y: np.ndarray, features: int, replicates: int, seed: int) -> tuple[float, float]:
    """All frequencies at once, :math:`\\varphi(x)\\cdot\\varphi(y)` from the two feature maps: (mean, s.e.)."""
    omega = np.random.default_rng(seed).standard_normal((replicates, features, x.size))
    estimates = np.sum(
        feature_map("positive", x[None], omega)[:, 0] * feature_map("positive", y[None], omega)[:, 0], -1
    )
    estimate = mean_estimate(estimates, "unchunked", seed)
    return estimate.value, estimate.stderr


def python_loop(x: np.ndarray, y: np.ndarray, features: int, replicates: int, seed: int) -> tuple[float, float]:
    """One frequency per iteration, ``math.exp`` per factor: (mean, s.e.)."""
    rng = np.random.default_rng(seed)
    half_x, half_y = float(x @ x) / 2, float(y @ y) / 2
    estimates = np.empty(replicates)
    for replicate in range(replicates):
        total = 0.0
        for _ in range(features):
            omega = rng.standard_normal(x.size)
            total += math.exp(float(omega @ x) - half_x) * math.exp(float(omega @ y) - half_y)
        estimates[replicate] = total / features
    estimate = mean_estimate(estimates, "loop", seed)
    return estimate.value, estimate.stderr


def chunked(x: np.ndarray, y: np.ndarray, features: int, replicates: int, seed: int) -> tuple[float, float]:
    estimate = kernel_mean("positive", x, y, features, replicates, seed, tilt=None)  # plain features, as timed below
    return estimate.value, estimate.stderr


def timing(name: str, estimator: Callable[..., tuple[float, float]], replicates: int, repeats: int) -> Timing:
    """Best of ``repeats`` timed calls after one untimed call (which gives the estimate), then peak memory."""
    x, y = pair(NORM, NORM, ANGLE, DIM)

    def run() -> tuple[float, float]:
        return estimator(x, y, FEATURES, replicates, SEED)

    value, stderr = run()
    return Timing(name, replicates * FEATURES, best_seconds(run, repeats), peak_memory(run), value, stderr)


def section(quick: bool = False) -> Section:
    replicates, loop_replicates, repeats = (
        (QUICK_REPLICATES, QUICK_LOOP_REPLICATES, QUICK_REPEATS) if quick else (REPLICATES, LOOP_REPLICATES, REPEATS)
    )
    fast = timing("chunked (twofold)", chunked, replicates, repeats)
    quarter = timing("chunked, 1/4 of the samples", chunked, replicates // 4, 1)
    rows = (
        fast,
        quarter,
        timing("unchunked, two feature maps", unchunked, replicates, repeats),
        timing("Python loop", python_loop, loop_replicates, 1),
    )
    body = (
        f"d = {DIM}, m = {FEATURES}, |x| = |y| = {NORM} at {ANGLE:g} degrees, seed {SEED}; chunk = {CHUNK} samples; "
        f"exact value e^(x.y) = {math.exp(NORM**2 * math.cos(math.radians(ANGLE))):.6f}. Same seed, so the chunked "
        "and unchunked estimates use the same frequencies and agree to rounding.\n\n"
        "| implementation | samples | best time (s) | samples/s | peak memory (MiB) | estimate | s.e. |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n"
        + "".join(
            f"| {r.name} | {r.samples:.3g} | {r.seconds:.3g} | {r.rate:.3g} | {r.peak / MIB:.2f} "
            f"| {r.value:.6f} | {r.stderr:.2g} |\n"
            for r in rows
        )
    )
    unchunked_row, loop_row = rows[2], rows[3]
    return Section(
        "Monte Carlo throughput of positive random features",
        body,
        (
            Target("chunked samples/s", fast.rate, TARGET_RATE, unit="samples/s"),
            Target("speed-up over the unchunked two-feature-map code", fast.rate / unchunked_row.rate, 1.0),
            Target("speed-up over the Python loop", fast.rate / loop_row.rate, 20.0),
            Target(
                "chunked peak memory, 4x the samples / 1x (bounded memory)",
                fast.peak / quarter.peak,
                1.5,
                higher_is_better=False,
            ),
        ),
    )
