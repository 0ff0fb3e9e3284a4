r"""The power of a cross-check: does it reject a compared quantity moved by its resolution?

Each claim declares :class:`~twofold.model.Probe` records (``Claim.resolution``):
the quantities its comparison reads and the smallest error in each that it must
reject.  :func:`challenges` turns one verified claim into the wrong inputs its
comparison must refuse:

* the estimate moved by the resolution, up and down (:func:`shift_estimate`);
* the exact result moved the same way (:func:`shift_exact`), which catches a
  comparison that ignores the exact side or compares a value with itself;
* for Monte Carlo (``sigma``) probes, the reported standard error inflated
  tenfold (:func:`inflate_stderr`), which catches a z-test whose standard
  error nobody checks.

A comparison that ignores a part, or whose tolerance is far looser than the
resolution it declares, accepts one of these and fails ``tests/test_power.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sympy

from twofold.contract import Estimate
from twofold.model import Claim, Derivation, Probe, Verdict

INFLATION = 10.0


@dataclass(frozen=True)
class Challenge:
    """A wrong input for a claim's comparison: what was changed, and the changed derivation and estimate."""

    label: str
    derivation: Derivation
    estimate: Estimate


def challenges(claim: Claim, verdict: Verdict) -> Iterator[Challenge]:
    """Every challenge of every probe of ``claim``, built from a passing verdict of it."""
    assert verdict.derivation is not None and verdict.estimate is not None
    for number, probe in enumerate(claim.resolution):
        where = f"probe {number} ({probe.unit} {probe.size:g} on {probe.key or 'value'})"
        for direction in probe.directions:
            sign = "+" if direction > 0 else "-"
            yield Challenge(
                f"{where}: estimate moved {sign}",
                verdict.derivation,
                shift_estimate(verdict.estimate, probe, direction),
            )
            if probe.exact_side:
                yield Challenge(
                    f"{where}: exact result moved {sign}",
                    shift_exact(verdict.derivation, verdict.estimate, probe, direction),
                    verdict.estimate,
                )
        if probe.unit == "sigma":
            yield Challenge(f"{where}: s.e. inflated x{INFLATION:g}", verdict.derivation, inflate_stderr(verdict.estimate, probe))


def _part(estimate: Estimate, probe: Probe) -> Any:
    return estimate.value if probe.key is None else estimate.details[probe.key]


def _with_part(estimate: Estimate, probe: Probe, value: Any) -> Estimate:
    if probe.key is None:
        return replace(estimate, value=value)
    return replace(estimate, details={**estimate.details, probe.key: value})


def _stderr(estimate: Estimate, probe: Probe) -> Any:
    """The standard error of the probed part (a number, or an array for an array part)."""
    part = _part(estimate, probe)
    if isinstance(part, Estimate):
        return part.stderr
    if probe.stderr_key is not None:
        return np.asarray(estimate.details[probe.stderr_key], dtype=float)
    if probe.key is None:
        return estimate.stderr
    raise ValueError(f"sigma probe on details[{probe.key!r}] needs stderr_key (or an Estimate there)")


def _step(value: Any, probe: Probe, direction: int, stderr: Any) -> Any:
    """``value`` moved by the probe's resolution: works on floats, numpy arrays and sympy numbers alike."""
    size = probe.size * direction
    if probe.unit == "relative":
        return value * (1 + size) if np.all(np.asarray(_floats(value)) != 0) else value + size
    if probe.unit == "sigma":
        return value + size * stderr
    return value + size


def _floats(value: Any) -> Any:
    if isinstance(value, sympy.MatrixBase):
        return np.array(value.evalf(30).tolist(), dtype=float)
    if isinstance(value, sympy.Basic):
        return float(sympy.N(value, 30))
    return value


def shift_estimate(estimate: Estimate, probe: Probe, direction: int) -> Estimate:
    """The estimate with the probed part moved by ``direction`` times the resolution."""
    part = _part(estimate, probe)
    if isinstance(part, Estimate):
        moved = replace(part, value=float(_step(part.value, probe, direction, part.stderr)))
        if part.interval is not None:
            moved = replace(moved, interval=tuple(float(_step(end, probe, direction, part.stderr)) for end in part.interval))
        return _with_part(estimate, probe, moved)
    stderr = _stderr(estimate, probe) if probe.unit == "sigma" else None
    if isinstance(part, (list, tuple, np.ndarray)):
        return _with_part(estimate, probe, _step(np.asarray(part, dtype=float), probe, direction, stderr))
    moved = _with_part(estimate, probe, float(_step(float(part), probe, direction, stderr)))
    if probe.key is None and estimate.interval is not None:
        moved = replace(moved, interval=tuple(float(_step(end, probe, direction, stderr)) for end in estimate.interval))
    return moved


def shift_exact(derivation: Derivation, estimate: Estimate, probe: Probe, direction: int) -> Derivation:
    """The derivation with its (indexed) result moved by ``direction`` times the resolution."""
    stderr = _stderr(estimate, probe) if probe.unit == "sigma" else None
    result = derivation.result
    target = result if probe.index is None else result[probe.index]
    moved = _move_exact(target, probe, direction, stderr)
    if probe.index is not None:
        items = list(result)
        items[probe.index] = moved
        moved = sympy.Tuple(*items) if isinstance(result, sympy.Basic) else type(result)(items)
    return replace(derivation, result=moved)


def _move_exact(value: Any, probe: Probe, direction: int, stderr: Any) -> Any:
    if isinstance(value, sympy.MatrixBase):
        steps = np.broadcast_to(np.asarray(stderr if stderr is not None else 0.0, dtype=float), value.shape)
        return sympy.Matrix(
            value.rows, value.cols, lambda i, j: _move_exact(value[i, j], probe, direction, float(steps[i, j]))
        )
    if isinstance(value, sympy.Basic):
        number = sympy.Float(float(sympy.N(value, 30)), 30)
        moved = _step(number, probe, direction, sympy.Float(stderr, 30) if stderr is not None else None)
        return sympy.Float(moved, 30)
    if isinstance(value, (list, tuple, np.ndarray)):
        return _step(np.asarray(value, dtype=float), probe, direction, stderr)
    return _step(value, probe, direction, stderr)


def inflate_stderr(estimate: Estimate, probe: Probe, factor: float = INFLATION) -> Estimate:
    """The estimate with the probed part's standard error multiplied by ``factor`` (its batch-means twin untouched)."""
    part = _part(estimate, probe)
    if isinstance(part, Estimate):
        return _with_part(estimate, probe, replace(part, stderr=part.stderr * factor))
    if probe.stderr_key is not None:
        inflated = np.asarray(estimate.details[probe.stderr_key], dtype=float) * factor
        return replace(estimate, details={**estimate.details, probe.stderr_key: inflated})
    if estimate.stderr is None:
        raise ValueError("a sigma probe needs a standard error to inflate")
    return replace(estimate, stderr=estimate.stderr * factor)
