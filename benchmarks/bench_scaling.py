r"""How the cost of verifying a claim grows with its size parameter, one representative claim per family.

Each size is timed through the Python API, ``twofold.get_claim(id).verify(seed=0, **{parameter: size})``
(derivation, estimator and cross-check), other parameters at their quick-profile values.  One untimed
call at a size outside the table first pays for imports.  The *first* call at a size is what
``twofold verify`` pays; repeats are faster where sympy's cache or a cached derivation is hit, so
the table shows the first call and the best of ``REPEATS``.  The fitted exponent :math:`p` is the
least-squares slope of :math:`\log t` against :math:`\log(\text{size})` (``scipy.stats.linregress``,
with its standard error): :math:`t \propto \text{size}^p` over the measured range.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import twofold
from benchmarks.targets import Section, Target, fitted_exponent

REPEATS, QUICK_REPEATS = 2, 1


@dataclass(frozen=True)
class Case:
    """A claim, the parameter that sets its size, the sizes (full and quick) and an untimed warm-up size."""

    claim: str
    parameter: str
    meaning: str
    sizes: tuple[int, ...]
    quick_sizes: tuple[int, ...]
    warm: int


CASES = (
    Case("taylor.even_positive", "n", "order of the truncation", (12, 24, 36, 48, 60), (6, 12), 4),
    Case("favor.numerator_unbiased", "L", "sequence length", (2, 4, 6, 8, 12), (1, 3), 5),
    Case("position.capacity", "n", "positions", (32, 64, 128, 256, 512), (8, 32), 4),
    Case("sparse_softmax.margin_bound", "n", "vocabulary size", (1500, 3000, 6000, 12500, 25000), (100, 400), 50),
    Case("path_kernel.gram_psd", "hidden", "network width", (1, 2, 4, 8, 12), (8, 12), 3),
    Case("sampling.mh_convergence", "n", "states of the chain", (3, 5, 8, 10, 12), (3, 5), 6),
    Case("whitening.whitens", "d", "embedding dimension", (16, 32, 64, 128, 256), (4, 16), 2),
    Case("repetition.spectral_bound", "n", "states of the decoding chain", (2, 4, 6, 8, 10), (2, 4), 3),
)


@dataclass(frozen=True)
class Scaling:
    """Times per size (first call, best of the repeats), whether every verdict passed, and both fits."""

    case: Case
    sizes: tuple[int, ...]
    first: tuple[float, ...]
    best: tuple[float, ...]
    passed: bool


def measure(case: Case, sizes: Sequence[int], repeats: int, warm_up: bool = True) -> Scaling:
    """Time ``case.claim`` at each size, ``repeats`` calls each, after one warm-up call (if ``warm_up``)."""
    claim = twofold.get_claim(case.claim)
    if warm_up:
        claim.verify(seed=0, **{case.parameter: case.warm})
    first, best, passed = [], [], True
    for size in sizes:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            verdict = claim.verify(seed=0, **{case.parameter: size})
            times.append(time.perf_counter() - start)
            passed &= verdict.passed
        first.append(times[0])
        best.append(min(times))
    return Scaling(case, tuple(sizes), tuple(first), tuple(best), passed)


def row(scaling: Scaling) -> str:
    case = scaling.case
    times = ", ".join(
        f"{size}: {1e3 * first:.0f} / {1e3 * best:.0f}"
        for size, first, best in zip(scaling.sizes, scaling.first, scaling.best, strict=True)
    )
    fits = " | ".join(
        f"{p:.2f} ± {se:.2f}" for p, se in (fitted_exponent(scaling.sizes, t) for t in (scaling.first, scaling.best))
    )
    return (
        f"| {case.claim.split('.')[0]} | `{case.claim}` | `{case.parameter}` ({case.meaning}) | {times} | {fits} "
        f"| {'yes' if scaling.passed else 'NO'} |\n"
    )


def section(quick: bool = False) -> Section:
    repeats = QUICK_REPEATS if quick else REPEATS
    results = [measure(case, case.quick_sizes if quick else case.sizes, repeats, warm_up=not quick) for case in CASES]
    body = (
        "Each size is timed through the Python API, `twofold.get_claim(id).verify(seed=0, **{parameter: size})` "
        "(derivation, estimator and cross-check), other parameters at their quick-profile values, after one "
        f"untimed call at another size (imports){'' if not quick else ', skipped in quick mode'}. "
        "The first call at a size is what `twofold verify` pays; "
        f"the best of {repeats} is lower where sympy's cache or a cached derivation is hit. The exponent p is "
        "the least-squares slope of log time on log size (scipy.stats.linregress, ± its standard error): "
        "time ~ size^p over the measured range.\n\n"
        "| family | claim | size parameter | size: first / best time (ms) | exponent, first call | exponent, best "
        "| all passed |\n|---|---|---|---|---:|---:|---|\n" + "".join(row(result) for result in results)
    )
    failing = sum(not result.passed for result in results)
    target = Target("families with a verdict that did not pass at some size", failing, 0, "", higher_is_better=False)
    return Section("Scaling of verification cost with size", body, (target,))
