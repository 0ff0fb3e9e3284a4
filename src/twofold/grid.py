"""Parameter grids and seed lists of a sweep, validated against a claim before anything runs.

``--grid NAME=START:STOP:NUM`` is ``NUM`` evenly spaced values from ``START`` to
``STOP`` inclusive (``numpy.linspace``; for an integer parameter every value
must come out whole); ``--grid NAME=V1,V2,...`` lists values (any kind:
``features=positive,trigonometric``, ``sign_fix=true,false``).  The grid is the
Cartesian product of the axes, in the order given.  Each point is coerced by the
claim's parameters and checked against its hypotheses (:meth:`Claim.resolve`),
so a bad grid fails at once with one line.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from twofold.contract import ParameterError
from twofold.model import Claim
from twofold.store import canonical

MAX_POINTS = 1_000_000
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class Point:
    """One grid point: the overrides it gives (``point``) and the claim's full parameters there (``params``)."""

    point: tuple[tuple[str, Any], ...]
    params: tuple[tuple[str, Any], ...]

    def key(self) -> str:
        """The full parameters as canonical JSON (sorted keys, no spaces): the point's identity in a store."""
        return canonical(dict(self.params))


def parse_axis(spec: str) -> tuple[str, str]:
    """``"n=2:20:10"`` → ``("n", "2:20:10")``."""
    name, sep, values = spec.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier() or not values.strip():
        raise ParameterError(f"--grid expects NAME=START:STOP:NUM or NAME=V1,V2,..., got {spec[:60]!r}")
    return name, values.strip()


def axis_values(claim: Claim, name: str, text: str) -> tuple[Any, ...]:
    """The values of one axis, coerced by the claim's parameter ``name``."""
    parameter = claim.parameter(name)
    parts = text.split(":")
    if len(parts) == 3 and parameter.kind in (int, float):
        start, stop, num = parts
        try:
            low, high, count = float(start), float(stop), int(num)
        except ValueError:
            raise ParameterError(f"--grid {name}={text[:40]}: START and STOP must be numbers and NUM an integer") from None
        if not 1 <= count <= MAX_POINTS or not (math.isfinite(low) and math.isfinite(high)):
            raise ParameterError(f"--grid {name}={text[:40]}: NUM must be from 1 to {MAX_POINTS} and the ends finite")
        raw = np.linspace(low, high, count).tolist()
        if parameter.kind is int:
            whole = [round(v) for v in raw]
            if any(abs(v - w) > 1e-9 for v, w in zip(raw, whole)):
                raise ParameterError(
                    f"--grid {name}={text[:40]}: {name} is an integer and these {count} evenly spaced values are not whole"
                    f" (choose NUM so that (STOP - START) / (NUM - 1) is whole)"
                )
            raw = whole
        values = [parameter.coerce(v) for v in raw]
    else:
        values = [parameter.coerce(v) for v in text.split(",")]
    if len(set(values)) != len(values):
        raise ParameterError(f"--grid {name}={text[:40]} repeats a value")
    return tuple(values)


def build_points(claim: Claim, axes: Mapping[str, Sequence[Any]], profile: str) -> tuple[Point, ...]:
    """Every point of the grid ``axes`` (name → coerced values), resolved and hypothesis-checked."""
    names = list(axes)
    values = [list(axes[name]) for name in names]
    count = math.prod(len(v) for v in values)
    if count > MAX_POINTS:
        raise ParameterError(f"the grid has {count} points; at most {MAX_POINTS}")
    if count == 0:
        raise ParameterError("the grid has no points")
    points = []
    for combination in itertools.product(*values):
        point = tuple(zip(names, combination))
        params = claim.resolve(profile, **dict(point))
        points.append(Point(point, tuple(params.items())))
    return tuple(points)


def parse_grid(claim: Claim, specs: Iterable[str]) -> dict[str, tuple[Any, ...]]:
    """``--grid`` options → ordered axes (name → coerced values); an axis named twice is an error."""
    axes: dict[str, tuple[Any, ...]] = {}
    for spec in specs:
        name, text = parse_axis(spec)
        if name in axes:
            raise ParameterError(f"--grid {name} given twice")
        axes[name] = axis_values(claim, name, text)
    return axes


def seed_list(seeds: int | Sequence[int] | None = None, seed_range: str | None = None) -> tuple[int, ...]:
    """Seeds from ``--seeds N`` (0..N-1), ``--seed-range A:B`` (A..B-1) or an explicit sequence; default ``(0,)``."""
    if seeds is not None and seed_range is not None:
        raise ParameterError("give --seeds or --seed-range, not both")
    if seed_range is not None:
        start, sep, stop = seed_range.partition(":")
        try:
            low, high = int(start), int(stop)
        except ValueError:
            raise ParameterError(f"--seed-range expects A:B (seeds A to B-1), got {seed_range[:40]!r}") from None
        if not sep or not 0 <= low < high <= MAX_SEED + 1:
            raise ParameterError(f"--seed-range expects A:B with 0 <= A < B <= 2^32, got {seed_range[:40]!r}")
        chosen: Sequence[int] = range(low, high)
    elif seeds is None:
        chosen = (0,)
    elif isinstance(seeds, int) and not isinstance(seeds, bool):
        if not 1 <= seeds <= MAX_POINTS:
            raise ParameterError(f"--seeds must be from 1 to {MAX_POINTS}, got {seeds}")
        chosen = range(seeds)
    else:
        chosen = list(seeds)
        if not chosen or any(isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_SEED for s in chosen):
            raise ParameterError("seeds must be integers from 0 to 2^32 - 1")
    if len(chosen) > MAX_POINTS:
        raise ParameterError(f"at most {MAX_POINTS} seeds")
    return tuple(dict.fromkeys(chosen))
