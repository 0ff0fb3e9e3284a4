r"""What a sweep's records say: pass rates per grid point, calibration of the statistics, failing points.

Calibration is for claims whose comparisons carry signed z-scores or p-values
(``Comparison.zscores`` / ``pvalues``).  Under a correct claim the z-scores of
independent seeds are close to :math:`N(0,1)` and the p-values to
:math:`U(0,1)`; the Kolmogorov--Smirnov test (``scipy.stats.kstest``) measures
how close.  A claim's level is the false-failure rate of one verdict: the
two-sided 5-sigma tail, :math:`2\,\Phi(-5) \approx 5.7\times10^{-7}` per point
(the family-wise rate of Bonferroni-corrected multi-entry checks is the same),
so ``expected_failures`` is the number of calibrated verdicts times that level.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Sequence
from typing import Any

import scipy

from twofold.contract import jsonable
from twofold.crosscheck import FIVE_SIGMA_RATE
from twofold.store import Record, canonical

LEVEL = FIVE_SIGMA_RATE


def summary(records: Sequence[Record], seconds: float, skipped: int = 0) -> dict[str, Any]:
    """``total``, ``passed``, ``failed``, ``pass_rate``, ``skipped`` (found in the store) and wall ``seconds``."""
    passed = sum(r.passed for r in records)
    return {
        "total": len(records),
        "passed": passed,
        "failed": len(records) - passed,
        "pass_rate": passed / len(records) if records else None,
        "skipped": skipped,
        "seconds": round(seconds, 3),
    }


def zscores(records: Sequence[Record]) -> list[float]:
    return [z for r in records for z in r.zscores if math.isfinite(z)]


def pvalues(records: Sequence[Record]) -> list[float]:
    return [p for r in records for p in r.pvalues if math.isfinite(p)]


def calibration(records: Sequence[Record]) -> dict[str, Any] | None:
    """KS p-value of the z-scores against N(0,1) (else of the p-values against U(0,1)), max |z|, and the
    expected and observed failures at the claim's level; ``None`` when no record carries either."""
    z, p = zscores(records), pvalues(records)
    if not z and not p:
        return None
    calibrated = [r for r in records if r.zscores or r.pvalues]
    if z:
        statistic, sample, ks = "z-score", z, scipy.stats.kstest(z, "norm").pvalue
    else:
        statistic, sample, ks = "p-value", p, scipy.stats.kstest(p, "uniform").pvalue
    return {
        "statistic": statistic,
        "count": len(sample),
        "ks_pvalue": float(ks),
        "max_abs_z": max(abs(v) for v in z) if z else None,
        "min_pvalue": min(p) if p else None,
        "level": LEVEL,
        "expected_failures": len(calibrated) * LEVEL,
        "observed_failures": sum(not r.passed for r in calibrated),
    }


def grid_axes(records: Sequence[Record]) -> list[str]:
    """The grid's axes: the overridden parameters that take more than one value, in the order first given."""
    values: dict[str, set[str]] = {}
    for r in records:
        for name, value in r.point.items():
            values.setdefault(name, set()).add(repr(value))
    return [name for name, seen in values.items() if len(seen) > 1]


def points(records: Sequence[Record]) -> list[dict[str, Any]]:
    """Per grid point, in first-seen order: its overrides, verdicts, passes, pass rate and mean exact/estimate."""
    groups: dict[str, list[Record]] = {}
    for r in records:
        groups.setdefault(canonical(r.point), []).append(r)
    rows = []
    for group in groups.values():
        passed = sum(r.passed for r in group)
        rows.append({
            "params": jsonable(group[0].point),
            "total": len(group),
            "passed": passed,
            "pass_rate": passed / len(group),
            "exact": _mean([r.exact for r in group]),
            "estimate": _mean([r.estimate for r in group]),
        })
    return rows


def _mean(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def failures(records: Sequence[Record]) -> list[dict[str, Any]]:
    """Each failing verdict: its grid point, seed, numbers, reason and the command that reproduces it."""
    return [
        {
            "claim": r.claim,
            "params": jsonable(r.point),
            "seed": r.seed,
            "profile": r.profile,
            "statistic": jsonable(r.statistic),
            "threshold": jsonable(r.threshold),
            "failure": r.failure,
            "command": reproduce(r),
        }
        for r in records
        if not r.passed
    ]


def reproduce(record: Record) -> str:
    """``twofold explain ID --param NAME=VALUE ... --seed S --profile P`` for this verdict."""
    parts = ["twofold", "explain", record.claim]
    for name, value in record.point.items():
        parts += ["--param", f"{name}={_text(value)}"]
    parts += ["--seed", str(record.seed), "--profile", record.profile]
    return shlex.join(parts)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
