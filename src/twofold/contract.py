"""The sympy-free contract shared by both encodings and the core: the error hierarchy and :class:`Estimate`.

A leaf module: it imports only the standard library, so ``twofold.numerics`` can use it
without reaching sympy or ``twofold.theorems``.  The CLI turns every :class:`TwofoldError`
into a one-line message and a non-zero exit code (2 for bad input, 1 for a failed run);
anything else is a bug.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class TwofoldError(Exception):
    """Base class of every error twofold raises on purpose."""

    exit_code = 1


class InputError(TwofoldError):
    """The user asked for something malformed; exit code 2."""

    exit_code = 2


class UnknownClaimError(InputError):
    """No claim or family has this id."""


class ParameterError(InputError):
    """A parameter is missing, of the wrong type, or out of its domain."""


class HypothesisError(ParameterError):
    """The parameters violate a named hypothesis of the claim."""

    def __init__(self, claim_id: str, hypothesis: str, message: str) -> None:
        super().__init__(f"{claim_id}: hypothesis '{hypothesis}' violated: {message}")
        self.claim_id = claim_id
        self.hypothesis = hypothesis
        self.detail = message

    def __reduce__(self) -> tuple:
        """Pickle by the constructor's arguments, so the error crosses a process boundary (``--jobs``)."""
        return type(self), (self.claim_id, self.hypothesis, self.detail)


class ParseError(InputError):
    """User-typed mathematics was rejected by the safe parser."""


class ResourceLimitError(InputError):
    """A computation on user input exceeded its size or time budget."""


class DerivationError(TwofoldError):
    """A derivation step did not check: the exact encoding does not go through."""

    def __init__(self, step_description: str, reason: str, completed: tuple = ()) -> None:
        super().__init__(f"step '{step_description}' does not check: {reason}")
        self.step_description = step_description
        self.reason = reason
        self.completed = completed  # the steps that did check before this one

    def __reduce__(self) -> tuple:
        """Pickle by the constructor's arguments, so the error crosses a process boundary (``--jobs``)."""
        return type(self), (self.step_description, self.reason, self.completed)


class NumericError(TwofoldError):
    """An estimator could not produce a trustworthy number."""


class TexError(TwofoldError):
    """The LaTeX engine is missing or failed to compile a sheet."""

@dataclass(frozen=True)
class Estimate:
    """A number computed by ``numerics/``, with its uncertainty.

    Exactly how uncertain: ``stderr`` (Monte Carlo standard error) or
    ``interval`` (a confidence or rigorous interval, said in ``method``), or
    both.  ``n`` is the sample size or problem size, ``seed`` the seed of the
    ``numpy.random.Generator`` used (``None`` for deterministic methods).
    ``details`` carries extra named evidence (roots found, per-n values, ...);
    a value there may itself be an :class:`Estimate` (one compared part of a
    several-part claim, with its own uncertainty).

    ``replicate_stderr`` is the same standard error measured a second,
    independent way: from the spread of ``replicates`` independent batch
    means (or replicate runs).  :func:`twofold.crosscheck.z_score` tests the
    two against each other, so a standard error that is too large (a z-test
    that can never fail) or too small is itself a failed check.
    """

    value: float
    method: str
    n: int
    seed: int | None = None
    stderr: float | None = None
    interval: tuple[float, float] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    replicate_stderr: float | None = None
    replicates: int = 0

    def uncertainty(self) -> str:
        parts = []
        if self.stderr is not None:
            parts.append(f"± {self.stderr:.3g} (s.e.)")
        if self.interval is not None:
            parts.append(f"[{self.interval[0]:.12g}, {self.interval[1]:.12g}]")
        return " ".join(parts)

    def part(self, key: str, index: int | None = None) -> Estimate:
        """One entry of ``details`` (``details[key]`` or ``details[key][index]``) as an estimate of its own.

        An entry that already is an :class:`Estimate` is returned as it is.
        """
        value = self.details[key] if index is None else self.details[key][index]
        if isinstance(value, Estimate):
            return value
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
            "replicate_stderr": self.replicate_stderr,
            "replicates": self.replicates,
        }


def jsonable(value: Any) -> Any:
    """Turn numpy scalars/arrays, exact integers and non-finite floats into JSON-safe values."""
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, Estimate):
        return jsonable(value.to_dict())
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
