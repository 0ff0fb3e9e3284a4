"""Records of the core: claims, parameters, hypotheses, derivations, estimates, verdicts.

A :class:`Claim` pairs an exact derivation (a function of ``theorems/`` returning a
:class:`Derivation`) with an independent estimator (a function of ``numerics/``
returning an :class:`Estimate`) and a cross-check that turns the two into a
:class:`Comparison`.  :meth:`Claim.verify` runs all three and returns a
:class:`Verdict`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy

from twofold.contract import DerivationError, Estimate, HypothesisError, NumericError, ParameterError, jsonable
from twofold.parsing import IndexedFunction

Params = Mapping[str, Any]
PROFILES = ("quick", "full")


@dataclass(frozen=True)
class Parameter:
    """A named, typed, bounded parameter with a value per profile.

    ``kind`` is ``int`` or ``float``; ``low``/``high`` are inclusive bounds
    (``None`` for unbounded).  ``quick`` and ``full`` are the values used by
    the two profiles; ``full`` defaults to ``quick``.
    """

    name: str
    kind: type
    quick: Any
    full: Any = None
    low: float | None = None
    high: float | None = None
    doc: str = ""

    def value_for(self, profile: str) -> Any:
        if profile not in PROFILES:
            raise ParameterError(f"unknown profile '{profile}' (choose from {', '.join(PROFILES)})")
        return self.quick if profile == "quick" or self.full is None else self.full

    def coerce(self, raw: Any) -> Any:
        """Convert ``raw`` (a string from the command line, or a number) and check its domain."""
        value = self._convert(raw)
        if self.low is not None and value < self.low:
            raise ParameterError(f"parameter {self.name}={value} is below its lower bound {self.low}")
        if self.high is not None and value > self.high:
            raise ParameterError(f"parameter {self.name}={value} is above its upper bound {self.high}")
        return value

    def _convert(self, raw: Any) -> Any:
        if isinstance(raw, bool):
            raise ParameterError(f"parameter {self.name} must be {self.kind.__name__}, got a boolean")
        try:
            if self.kind is int:
                if isinstance(raw, float):
                    if not raw.is_integer():
                        raise ValueError
                    return int(raw)
                return int(str(raw).strip(), 10) if isinstance(raw, str) else int(raw)
            value = float(raw)
        except (TypeError, ValueError, OverflowError):
            raise ParameterError(
                f"parameter {self.name} must be {self.kind.__name__}, got {str(raw)[:40]!r}"
            ) from None
        if not math.isfinite(value):
            raise ParameterError(f"parameter {self.name} must be finite, got {raw!r}")
        return value


@dataclass(frozen=True)
class Hypothesis:
    """A named predicate on the parameters, with the message shown when it fails.

    ``witness`` holds parameter values that violate the hypothesis; ``twofold
    explain ID --drop NAME`` runs the claim there to show what breaks.
    """

    name: str
    holds: Callable[[Params], bool]
    message: str
    witness: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One checked step of a derivation: ``lhs relation rhs`` by ``rule``.

    ``check`` says how sympy verified it (e.g. ``"expand(lhs - rhs) = 0"`` or
    ``"Poly.count_roots() = 0 (Sturm)"``).  Steps are built only through
    :class:`twofold.derivation.Proof`, which refuses a step that does not check.
    """

    description: str
    lhs: Any
    relation: str
    rhs: Any
    rule: str
    check: str

    def latex(self) -> str:
        return f"{_latex(self.lhs)} {RELATION_LATEX[self.relation]} {_latex(self.rhs)}"

    def text(self) -> str:
        return f"{sympy.sstr(self.lhs)}  {self.relation}  {sympy.sstr(self.rhs)}"


RELATION_LATEX = {
    "=": "=",
    "<": "<",
    "<=": r"\le",
    ">": ">",
    ">=": r"\ge",
    "==>": r"\;\Longrightarrow\;",
    "<=>": r"\;\Longleftrightarrow\;",
    ":": r"\;:\;",
}


def _latex(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    return sympy.latex(obj)


@dataclass(frozen=True)
class Derivation:
    """An ordered tuple of checked steps ending in an exact ``result``."""

    steps: tuple[Step, ...]
    result: Any
    conclusion: str

    def _repr_latex_(self) -> str:
        from twofold.display import derivation_latex  # display imports this module

        return derivation_latex(self)


@dataclass(frozen=True)
class Comparison:
    """How a cross-check decided: ``statistic`` against ``threshold`` by ``method``.

    ``agree`` is true when ``statistic <= threshold`` (the method says what the
    statistic is: a \\|z\\|-score, a distance outside an interval, a relative error).
    """

    method: str
    statistic: float
    threshold: float
    exact: float
    estimate: float
    agree: bool
    detail: str = ""


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying one claim at one parameter point."""

    claim_id: str
    params: tuple[tuple[str, Any], ...]
    passed: bool
    seconds: float
    derivation: Derivation | None
    estimate: Estimate | None
    comparison: Comparison | None
    failure: str | None = None
    dropped: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line: the decision, the numbers, and how it was decided."""
        if self.failure is not None:
            numeric = f"; numerics meanwhile: {self.estimate.value:.12g} ({self.estimate.method})" if self.estimate else ""
            return f"FAIL: {self.failure}{numeric}"
        assert self.comparison is not None
        c = self.comparison
        word = "PASS" if self.passed else "FAIL"
        return (
            f"{word}: {c.method}: statistic {c.statistic:.3g} vs threshold {c.threshold:.3g}"
            f" (exact {c.exact:.12g}, estimate {c.estimate:.12g}){'; ' + c.detail if c.detail else ''}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe record, described by ``twofold/schemas/verdict.schema.json`` (``$defs/verdict``) and docs/json.md.

        Non-finite numbers become the strings ``"inf"``, ``"-inf"``, ``"nan"``.
        """
        c = self.comparison
        d = self.derivation
        return {
            "claim": self.claim_id,
            "verdict": "PASS" if self.passed else "FAIL",
            "passed": bool(self.passed),
            "failure": self.failure,
            "params": {k: jsonable(v) for k, v in self.params},
            "dropped": list(self.dropped),
            "seconds": round(self.seconds, 4),
            "comparison": None if c is None else {
                "method": c.method,
                "statistic": jsonable(c.statistic),
                "threshold": jsonable(c.threshold),
                "exact": jsonable(c.exact),
                "estimate": jsonable(c.estimate),
                "agree": bool(c.agree),
                "detail": c.detail,
            },
            "estimate": jsonable(self.estimate.to_dict()) if self.estimate else None,
            "derivation": None if d is None else {"steps": len(d.steps), "conclusion": d.conclusion},
        }

    def _repr_latex_(self) -> str:
        from twofold.display import verdict_latex  # display imports this module

        return verdict_latex(self)

    def _repr_html_(self) -> str:
        from twofold.display import verdicts_html

        return verdicts_html([self])


Deriver = Callable[[Params], Derivation]
Estimator = Callable[[Params, int], Estimate]
CrossCheck = Callable[[Derivation, Estimate, Params], Comparison]


@dataclass(frozen=True)
class Claim:
    """A claim from the literature, encoded twice and cross-checked.

    ``derive(params)`` is exact (``theorems/``), ``estimate(params, seed)`` is
    numerical (``numerics/``), ``compare(derivation, estimate, params)`` decides.
    ``symbols`` (with their sympy assumptions) and ``functions`` (indexed
    families such as ``f_4(x)``) are the names a learner may use in
    ``twofold check`` for this claim.
    """

    id: str
    title: str
    source: str
    statement: str
    derive: Deriver
    estimate: Estimator
    compare: CrossCheck
    parameters: tuple[Parameter, ...] = ()
    hypotheses: tuple[Hypothesis, ...] = ()
    symbols: tuple[sympy.Symbol, ...] = ()
    functions: tuple[IndexedFunction, ...] = ()

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.parameters) or "none"
        raise ParameterError(f"{self.id} has no parameter '{name}' (parameters: {known})")

    def hypothesis(self, name: str) -> Hypothesis:
        for h in self.hypotheses:
            if h.name == name:
                return h
        known = ", ".join(repr(h.name) for h in self.hypotheses) or "none"
        raise ParameterError(f"{self.id} has no hypothesis '{name}' (hypotheses: {known})")

    def resolve(self, profile: str = "quick", drop: tuple[str, ...] = (), **overrides: Any) -> dict[str, Any]:
        """Profile values, overridden and validated; every hypothesis not in ``drop`` checked."""
        for name in overrides:
            self.parameter(name)
        params = {
            p.name: p.coerce(overrides[p.name]) if p.name in overrides else p.value_for(profile)
            for p in self.parameters
        }
        for name in drop:
            self.hypothesis(name)
        for h in self.hypotheses:
            if h.name not in drop and not h.holds(params):
                shown = ", ".join(f"{k}={v}" for k, v in params.items())
                raise HypothesisError(self.id, h.name, f"{h.message} (got {shown})")
        return params

    def verify(
        self, seed: int = 0, profile: str = "quick", drop: tuple[str, ...] = (), **overrides: Any
    ) -> Verdict:
        """Derive, estimate, cross-check; a broken step or estimator becomes a failed verdict."""
        params = self.resolve(profile, drop, **overrides)
        start = time.perf_counter()
        derivation: Derivation | None = None
        estimate: Estimate | None = None
        comparison: Comparison | None = None
        failures = []
        try:
            derivation = self.derive(params)
        except DerivationError as exc:
            failures.append(f"derivation: {exc}")
            derivation = Derivation(steps=exc.completed, result=None, conclusion=f"does not go through: {exc}")
        try:
            estimate = self.estimate(params, seed)
        except NumericError as exc:
            failures.append(f"numerics: {exc}")
        if not failures:
            comparison = self.compare(derivation, estimate, params)
        passed = not failures and comparison is not None and comparison.agree
        return Verdict(
            claim_id=self.id,
            params=tuple(params.items()),
            passed=passed,
            seconds=time.perf_counter() - start,
            derivation=derivation,
            estimate=estimate,
            comparison=comparison,
            failure="; ".join(failures) if failures else None,
            dropped=tuple(drop),
        )

    def _repr_latex_(self) -> str:
        from twofold.display import claim_latex  # display imports this module

        return claim_latex(self)


@dataclass(frozen=True)
class Family:
    """A claim family: one research post, one ``theorems``/``numerics`` module pair."""

    name: str
    number: int
    title: str
    source: str
    claims: tuple[Claim, ...]
