"""Records of the core: claims, parameters, hypotheses, derivations, estimates, verdicts.

A :class:`Claim` pairs an exact derivation (a function of ``theorems/`` returning a
:class:`Derivation`) with an independent estimator (a function of ``numerics/``
returning an :class:`Estimate`) and a cross-check that turns the two into a
:class:`Comparison`.  :meth:`Claim.verify` runs all three and returns a
:class:`Verdict`.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sympy

from twofold.contract import DerivationError, Estimate, HypothesisError, NumericError, ParameterError, jsonable
from twofold.parsing import IndexedFunction
from twofold.plaintext import to_unicode

Params = Mapping[str, Any]

PROFILES: dict[str, str | None] = {"quick": None, "full": "quick"}
"""Every profile, and the profile whose value a parameter falls back to when it declares none.

Adding a profile is one line here (e.g. ``"huge": "full"``); a parameter gives
its value for it with ``Parameter(..., values={"huge": ...})``."""


@dataclass(frozen=True)
class Parameter:
    """A named, typed, bounded parameter with a value per profile.

    ``kind`` is ``int``, ``float``, ``bool`` or ``str``; a ``str`` parameter
    takes one of ``choices`` (e.g. ``features=positive|hyperbolic|trigonometric``).
    ``low``/``high`` are inclusive bounds of a number (``None`` for unbounded).
    ``quick`` and ``full`` are the values of the two standard profiles; ``values``
    gives values for further profiles of :data:`PROFILES`; a profile without a
    value falls back along :data:`PROFILES` (``full`` to ``quick``).  ``latex``
    is the name as typeset math (``$\\alpha$``; default: the name in typewriter).
    """

    name: str
    kind: type
    quick: Any
    full: Any = None
    low: float | None = None
    high: float | None = None
    doc: str = ""
    choices: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    latex: str = ""

    def __post_init__(self) -> None:
        if self.kind not in (int, float, bool, str):
            raise TypeError(f"parameter {self.name}: kind must be int, float, bool or str, not {self.kind!r}")
        if (self.kind is str) != bool(self.choices):
            raise TypeError(f"parameter {self.name}: a str parameter needs choices, and only a str parameter has them")
        unknown = set(self.values) - set(PROFILES)
        if unknown:
            raise TypeError(f"parameter {self.name}: values for unknown profiles {sorted(unknown)}")

    def value_for(self, profile: str) -> Any:
        if profile not in PROFILES:
            raise ParameterError(f"unknown profile '{profile}' (choose from {', '.join(PROFILES)})")
        chain: str | None = profile
        while chain is not None:
            declared = {"quick": self.quick, "full": self.full, **self.values}.get(chain)
            if declared is not None:
                return declared
            chain = PROFILES[chain]
        return self.quick

    def coerce(self, raw: Any) -> Any:
        """Convert ``raw`` (a string from the command line, or a value) and check its domain."""
        value = self._convert(raw)
        if self.kind in (int, float):
            if self.low is not None and value < self.low:
                raise ParameterError(f"parameter {self.name}={value} is below its lower bound {self.low}")
            if self.high is not None and value > self.high:
                raise ParameterError(f"parameter {self.name}={value} is above its upper bound {self.high}")
        return value

    def domain(self) -> str:
        """The domain in words: ``int in [1, 64]``, ``one of positive|hyperbolic``, ``bool``."""
        if self.kind is str:
            return "one of " + "|".join(self.choices)
        if self.kind is bool:
            return "bool (true|false)"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{self.kind.__name__} in [{low}, {high}]"

    def _convert(self, raw: Any) -> Any:
        if self.kind is bool:
            return self._boolean(raw)
        if self.kind is str:
            text = str(raw).strip()
            if text not in self.choices:
                raise ParameterError(f"parameter {self.name} must be one of {'|'.join(self.choices)}, got {text[:40]!r}")
            return text
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

    def _boolean(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        words = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
        answer = words.get(str(raw).strip().lower())
        if answer is None or (not isinstance(raw, str) and raw not in (0, 1)):
            raise ParameterError(f"parameter {self.name} must be bool (true|false), got {str(raw)[:40]!r}")
        return answer


@dataclass(frozen=True)
class Hypothesis:
    """A named predicate on the parameters, with the message shown when it fails.

    ``witness`` holds parameter values that violate the hypothesis; ``twofold
    explain ID --drop NAME`` runs the claim there to show what breaks.
    ``latex`` is the name as typeset text when it holds mathematics
    (``"$N \\le d$"`` for the handle ``"N <= d"``).
    """

    name: str
    holds: Callable[[Params], bool]
    message: str
    witness: Mapping[str, Any] = field(default_factory=dict)
    latex: str = ""

    def shown(self) -> str:
        """The hypothesis as typeset text (LaTeX text mode, math in ``$...$``); ``name`` stays the ``--drop`` handle."""
        return self.latex or self.name


STEP_KINDS = ("general", "instance", "certificate")
"""``general``: holds for symbolic parameters of the claim (symbolic n, d, m, rho, ...);
``instance``: checked at the parameter point; ``certificate``: an exact computation
(a Sturm count, a rank, a finite enumeration)."""

CHECKERS = ("sympy", "caller")
"""``sympy``: sympy decided the step itself; ``caller``: the code building the
proof computed the fact exactly and certified it (``Proof.certify``)."""


@dataclass(frozen=True)
class Step:
    """One checked step of a derivation: ``lhs relation rhs`` by ``rule``.

    ``check`` says how it was verified (e.g. ``"expand(lhs - rhs) = 0"`` or
    ``"Poly.count_roots() = 0 (Sturm)"``); ``kind`` is one of :data:`STEP_KINDS`
    and ``checked_by`` one of :data:`CHECKERS`.  Steps are built only through
    :class:`twofold.derivation.Proof`, which refuses a step that does not check.
    """

    description: str
    lhs: Any
    relation: str
    rhs: Any
    rule: str
    check: str
    kind: str = "instance"
    checked_by: str = "sympy"

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
    proved_for: str = ""

    def kinds(self) -> dict[str, int]:
        """How many steps of each kind (:data:`STEP_KINDS`)."""
        return {kind: sum(step.kind == kind for step in self.steps) for kind in STEP_KINDS}

    def scope(self) -> str:
        """``proved for all ...`` when a general argument carries the claim, else ``checked at the parameter point``."""
        return f"proved for {self.proved_for}" if self.proved_for else "checked at the parameter point"

    def _repr_latex_(self) -> str:
        from twofold.display import derivation_latex  # display imports this module

        return derivation_latex(self)


@dataclass(frozen=True)
class Comparison:
    """How a cross-check decided: ``statistic`` against ``threshold`` by ``method``.

    ``agree`` is true when ``statistic <= threshold`` (the method says what the
    statistic is: a \\|z\\|-score, a distance outside an interval, a relative error).
    ``method`` is LaTeX text (math in ``$...$``), ``detail`` plain text; ``level`` is the
    test level as LaTeX text when the decision is a statistical test (``$5\\sigma$``,
    ``$\\alpha = 10^{-6}$``), empty otherwise.
    """

    method: str
    statistic: float
    threshold: float
    exact: float
    estimate: float
    agree: bool
    detail: str = ""
    zscores: tuple[float, ...] = ()
    pvalues: tuple[float, ...] = ()
    level: str = ""


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
                "zscores": [jsonable(z) for z in c.zscores],
                "pvalues": [jsonable(p) for p in c.pvalues],
                "level": c.level,
            },
            "estimate": jsonable(self.estimate.to_dict()) if self.estimate else None,
            "derivation": None if d is None else {
                "steps": len(d.steps),
                "conclusion": d.conclusion,
                "proved_for": d.proved_for,
                "kinds": d.kinds(),
                "step_kinds": [{"kind": step.kind, "checked_by": step.checked_by} for step in d.steps],
            },
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

RESOLUTION_UNITS = ("relative", "absolute", "sigma", "count")


@dataclass(frozen=True)
class Probe:
    r"""One compared quantity and its *resolution*: the smallest error in it the cross-check must reject.

    The generic power test (``tests/test_power.py``, :mod:`twofold.power`) moves the
    quantity by ``size`` in ``unit`` in each of ``directions`` and requires a FAIL
    every time, once on each side:

    * the estimate side: ``estimate.value`` (``key=None``) or ``estimate.details[key]``,
      a float, a numpy array (every entry moved) or an :class:`Estimate`;
    * the exact side: ``derivation.result`` (``index=None``) or ``derivation.result[index]``
      (skipped when ``exact_side`` is false, e.g. a certificate with no number).

    Units: ``relative`` multiplies by :math:`1 \pm s`; ``absolute`` and ``count`` add
    :math:`\pm s`; ``sigma`` adds :math:`\pm s` standard errors of the estimate part
    (``stderr``, or ``details[stderr_key]`` entrywise for an array).  For ``sigma``
    probes the test also inflates that standard error tenfold and requires a FAIL:
    a z-test whose standard error nobody checks can be made to pass anything.
    ``reason`` (LaTeX text) says where the size comes from (an error bound, a test level).
    """

    unit: str
    size: float
    reason: str
    key: str | None = None
    index: int | None = None
    stderr_key: str | None = None
    directions: tuple[int, ...] = (1, -1)
    exact_side: bool = True

    def __post_init__(self) -> None:
        if self.unit not in RESOLUTION_UNITS:
            raise TypeError(f"probe unit must be one of {RESOLUTION_UNITS}, not {self.unit!r}")
        if not self.size > 0 or not self.directions or set(self.directions) - {1, -1}:
            raise TypeError("a probe needs a positive size and directions among +1, -1")

    def latex(self) -> str:
        r"""The probe in words, as LaTeX text: ``9 standard errors ($\sigma$) on \texttt{first\_entry}: <reason>``."""
        where = "the value" if self.key is None else r"\texttt{" + self.key.replace("_", r"\_") + "}"
        if self.index is not None:
            where += f" (entry {self.index})"
        return f"{self.size:.3g} {_PROBE_UNITS[self.unit]} on {where}: {self.reason}"


_PROBE_UNITS = {"relative": "relative", "absolute": "absolute", "sigma": r"standard errors ($\sigma$)", "count": "in a count"}


@dataclass(frozen=True)
class Claim:
    """A claim from the literature, encoded twice and cross-checked.

    ``derive(params)`` is exact (``theorems/``), ``estimate(params, seed)`` is
    numerical (``numerics/``), ``compare(derivation, estimate, params)`` decides.
    ``symbols`` (with their sympy assumptions) and ``functions`` (indexed
    families such as ``f_4(x)``) are the names a learner may use in
    ``twofold check`` for this claim; ``source``, ``symbols`` and ``functions``
    default to the family's.  ``resolution`` lists the compared quantities with
    the error each must reject (:class:`Probe`).
    """

    id: str
    title: str
    statement: str
    derive: Deriver
    estimate: Estimator
    compare: CrossCheck
    source: str = ""
    parameters: tuple[Parameter, ...] = ()
    hypotheses: tuple[Hypothesis, ...] = ()
    symbols: tuple[sympy.Symbol, ...] = ()
    functions: tuple[IndexedFunction, ...] = ()
    resolution: tuple[Probe, ...] = ()

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
        """Derive, estimate, cross-check.

        A step that does not check, an estimator that refuses, and any unexpected
        exception inside one of the three parts (an internal error, named with its
        type) all become a failed verdict, never an aborted run.
        """
        params = self.resolve(profile, drop, **overrides)
        start = time.perf_counter()
        derivation: Derivation | None = None
        estimate: Estimate | None = None
        comparison: Comparison | None = None
        failures = []
        try:
            derivation = self.derive(params)
        except DerivationError as exc:
            said = f"step '{to_unicode(exc.step_description)}' does not check: {exc.reason}"
            failures.append(f"derivation: {said}")
            derivation = Derivation(steps=exc.completed, result=None, conclusion=f"does not go through: {said}")
        except Exception as exc:  # noqa: BLE001 - one claim's bug is that claim's FAIL
            failures.append(_internal("derivation", exc))
        try:
            estimate = self.estimate(params, seed)
        except NumericError as exc:
            failures.append(f"numerics: {exc}")
        except Exception as exc:  # noqa: BLE001
            failures.append(_internal("numerics", exc))
        if not failures:
            try:
                comparison = self.compare(derivation, estimate, params)
            except Exception as exc:  # noqa: BLE001
                failures.append(_internal("cross-check", exc))
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

    def with_variant(self, variant: FalseVariant) -> Claim:
        """This claim with the parts a known-false variant replaces (same id, parameters, hypotheses)."""
        return replace(
            self,
            derive=variant.derive or self.derive,
            estimate=variant.estimate or self.estimate,
            compare=variant.compare or self.compare,
        )

    def _repr_latex_(self) -> str:
        from twofold.display import claim_latex  # display imports this module

        return claim_latex(self)


def _internal(part: str, exc: Exception) -> str:
    message = " ".join(str(exc).split())[:300]
    return f"internal error in the {part}: {type(exc).__name__}: {message}"


@dataclass(frozen=True)
class FalseVariant:
    """A known-false version of a claim: one of its parts replaced by a realistic wrong formula.

    ``twofold audit`` runs the claim with ``derive``, ``estimate`` or ``compare``
    replaced (whichever are given) at its quick parameters updated by ``params``,
    and the variant must FAIL.  ``pitfall`` says what is wrong, as a reader
    would put it ("m instead of m - 1 in the orthogonal correction").
    """

    claim: str
    name: str
    pitfall: str
    derive: Deriver | None = None
    estimate: Estimator | None = None
    compare: CrossCheck | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Mistake:
    """A typical wrong step in a family's derivations, recognised by ``twofold check``.

    ``wrong`` is the wrong equation or inequality in ``twofold check``'s grammar
    with the claim's symbols (``"f_n'(x) = f_n(x)"``); a learner's invalid line
    equivalent to it is diagnosed as "this is what you get if ``explanation``".
    ``claims`` lists the claim ids it applies to (empty: every claim of the family).
    """

    name: str
    wrong: str
    explanation: str
    claims: tuple[str, ...] = ()


@dataclass(frozen=True)
class Drawing:
    """A figure of the proof book declared by a family: ``module.function(directory, seed)``.

    The module is imported only when the figure is drawn, so declaring a figure
    costs a family nothing at start-up (matplotlib loads with the book).  The
    function returns a :class:`twofold.figures.Figure`.
    """

    module: str
    function: str

    def __call__(self, directory: Any, seed: int) -> Any:
        return getattr(importlib.import_module(self.module), self.function)(directory, seed)


@dataclass(frozen=True)
class Family:
    """A claim family: one research post, one ``theorems``/``numerics`` module pair.

    ``source``, ``symbols`` and ``functions`` are the defaults of its claims;
    ``figures`` its drawings for the proof book, ``false_variants`` what
    ``twofold audit`` runs, ``mistakes`` what ``twofold check`` diagnoses.
    """

    name: str
    number: int
    title: str
    source: str
    claims: tuple[Claim, ...]
    symbols: tuple[sympy.Symbol, ...] = ()
    functions: tuple[IndexedFunction, ...] = ()
    figures: tuple[Drawing, ...] = ()
    false_variants: tuple[FalseVariant, ...] = ()
    mistakes: tuple[Mistake, ...] = ()

    def __post_init__(self) -> None:
        filled = tuple(
            replace(
                claim,
                source=claim.source or self.source,
                symbols=claim.symbols or self.symbols,
                functions=claim.functions or self.functions,
            )
            for claim in self.claims
        )
        object.__setattr__(self, "claims", filled)
        ids = {claim.id for claim in filled}
        strays = [v.claim for v in self.false_variants if v.claim not in ids]
        strays += [c for m in self.mistakes for c in m.claims if c not in ids]
        if strays:
            raise TypeError(f"family {self.name}: variants or mistakes name claims it does not have: {sorted(set(strays))}")

    def claim(self, claim_id: str) -> Claim:
        return next(claim for claim in self.claims if claim.id == claim_id)
