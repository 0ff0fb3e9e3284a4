"""The record every estimator returns, shared with the core without importing sympy."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Estimate:
    """A number computed by ``numerics/``, with its uncertainty.

    Exactly how uncertain: ``stderr`` (Monte Carlo standard error) or
    ``interval`` (a confidence or rigorous interval, said in ``method``), or
    both.  ``n`` is the sample size or problem size, ``seed`` the seed of the
    ``numpy.random.Generator`` used (``None`` for deterministic methods).
    ``details`` carries extra named evidence (roots found, per-n values, ...).
    """

    value: float
    method: str
    n: int
    seed: int | None = None
    stderr: float | None = None
    interval: tuple[float, float] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def uncertainty(self) -> str:
        parts = []
        if self.stderr is not None:
            parts.append(f"± {self.stderr:.3g} (s.e.)")
        if self.interval is not None:
            parts.append(f"[{self.interval[0]:.12g}, {self.interval[1]:.12g}]")
        return " ".join(parts)

    def part(self, key: str, index: int | None = None) -> Estimate:
        """One number of ``details`` (``details[key]`` or ``details[key][index]``) as an estimate of its own."""
        value = self.details[key] if index is None else self.details[key][index]
        return Estimate(value=float(value), method=self.method, n=self.n, seed=self.seed)

    def part_interval(self, key: str) -> Estimate:
        """An interval ``(low, high)`` of ``details`` as an interval estimate at its midpoint."""
        low, high = (float(end) for end in self.details[key])
        return Estimate(value=(low + high) / 2, method=self.method, n=self.n, seed=self.seed, interval=(low, high))

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "method": self.method,
            "n": self.n,
            "seed": self.seed,
            "stderr": self.stderr,
            "interval": list(self.interval) if self.interval is not None else None,
            "details": {key: jsonable(val) for key, val in self.details.items()},
        }



def jsonable(value: Any) -> Any:
    """Turn numpy scalars/arrays, exact integers and non-finite floats into JSON-safe values."""
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, numbers.Integral):
        return int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else str(number)
