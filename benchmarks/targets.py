"""Records every benchmark returns: measured ratios against their targets, and a section of the report.

Each ``benchmarks/bench_<topic>.py`` exposes ``section(quick: bool) -> Section``.  ``python -m
benchmarks`` runs them, writes ``docs/benchmarks.md`` and exits 1 when a target is missed (the
regression guard).  ``quick=True`` means tiny sizes for the test suite: the same code path, with
targets still reported but not meaningful.
"""

from __future__ import annotations

import time
import timeit
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import linregress


@dataclass(frozen=True)
class Target:
    """One measured number against its required value, e.g. a speed-up ratio measured in one run.

    ``met`` is ``measured >= required`` when ``higher_is_better``, else ``measured <= required``.
    """

    name: str
    measured: float
    required: float
    unit: str = "x"
    higher_is_better: bool = True

    @property
    def met(self) -> bool:
        return self.measured >= self.required if self.higher_is_better else self.measured <= self.required

    def line(self) -> str:
        """Markdown bullet: ``met: name: 23.4x (target >= 20x)``."""
        relation = ">=" if self.higher_is_better else "<="
        status = "met" if self.met else "MISSED"
        unit = f" {self.unit}" if self.unit else ""
        return f"- {status}: {self.name}: {self.measured:.3g}{unit} (target {relation} {self.required:g}{unit})"


@dataclass(frozen=True)
class Section:
    """A titled part of ``docs/benchmarks.md``: Markdown body (tables, method) and its targets."""

    title: str
    body: str
    targets: tuple[Target, ...] = ()

    @property
    def met(self) -> bool:
        return all(target.met for target in self.targets)

    def markdown(self) -> str:
        targets = "\n".join(target.line() for target in self.targets)
        return f"## {self.title}\n\n{self.body.strip()}\n" + (f"\nTargets:\n\n{targets}\n" if targets else "")


def best_seconds(run: Callable[[], object], repeats: int, timer: Callable[[], float] = time.perf_counter) -> float:
    """Smallest time of ``repeats`` calls of ``run``: wall time by default, CPU time with ``timer=time.process_time``."""
    return min(timeit.repeat(run, timer=timer, number=1, repeat=repeats))


def peak_memory(run: Callable[[], object]) -> int:
    """Peak bytes allocated during one call of ``run``, as ``tracemalloc`` counts them (numpy reports its buffers)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def fitted_exponent(sizes: Sequence[float], seconds: Sequence[float]) -> tuple[float, float]:
    r"""Least-squares slope :math:`p` of :math:`\log t = p \log n + c` and its standard error
    (``scipy.stats.linregress``): :math:`t \propto n^p` over the measured range."""
    fit = linregress(np.log(sizes), np.log(seconds))
    return float(fit.slope), float(fit.stderr)
