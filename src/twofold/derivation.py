"""Building derivations out of steps that sympy checks as they are written.

A :class:`Proof` collects :class:`~twofold.model.Step` records.  Every method
verifies its step before recording it and raises
:class:`~twofold.contract.DerivationError` otherwise, so a finished
:class:`~twofold.model.Derivation` contains only checked steps::

    proof = Proof()
    proof.equal("differentiate termwise", sympy.diff(f5, x), f4, rule="d/dx x^k/k! = x^(k-1)/(k-1)!")
    proof.positive("even power over a factorial", x**4 / 24, rule="x^n >= 0 for n even", given=...)
    derivation = proof.finish(result=sympy.Integer(0), conclusion="f_4 has no real root")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy

from twofold.contract import DerivationError
from twofold.model import STEP_KINDS, Derivation, Step

_SIMPLIFIERS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("expand", sympy.expand),
    ("cancel", sympy.cancel),
    ("simplify", sympy.simplify),
)


def is_zero(expr: Any) -> str | None:
    """Name of the first simplifier that reduces ``expr`` (scalar or matrix) to exactly 0, else ``None``."""
    for name, simplifier in _SIMPLIFIERS:
        if isinstance(expr, sympy.MatrixBase):
            if expr.applyfunc(simplifier).is_zero_matrix:
                return name
        elif simplifier(expr) == 0:
            return name
    return None


def _brief(expr: Any, limit: int = 300) -> str:
    """``sympy.sstr`` cut to ``limit`` characters, so a failing matrix step stays a readable message."""
    text = sympy.sstr(expr)
    return text if len(text) <= limit else text[:limit] + " ..."


class Proof:
    """Accumulates checked steps; ``finish`` returns the :class:`Derivation`."""

    def __init__(self) -> None:
        self._steps: list[Step] = []

    def equal(
        self,
        description: str,
        lhs: Any,
        rhs: Any,
        rule: str,
        *,
        shown: tuple[Any, Any] | None = None,
        kind: str = "instance",
    ) -> Any:
        """Record ``lhs = rhs`` after checking that ``lhs - rhs`` simplifies to 0; returns ``rhs``.

        Unevaluated operators (``Derivative``, ``Integral``, ``Sum``, ``Limit``)
        may appear on either side for display; the check evaluates them (``doit``).
        ``shown``, a pair of compact expressions (``W^T Sigma W``, ``I``), is what
        the step displays instead of large explicit sides; the check always runs
        on ``lhs`` and ``rhs`` and says so.
        """
        self._kind_fits(description, kind, lhs, rhs)
        how = is_zero((lhs - rhs).doit())
        if how is None:
            self._refuse(description, f"{_brief(lhs)} - ({_brief(rhs)}) does not simplify to 0")
        check = f"{how}(lhs - rhs) = 0"
        if shown is not None:
            size = f"all {lhs.rows}x{lhs.cols} entries" if isinstance(lhs, sympy.MatrixBase) else "the explicit expressions"
            check += f" on {size} ({sympy.count_ops(lhs)} operations)"
        left, right = shown if shown is not None else (lhs, rhs)
        self._steps.append(Step(description, left, "=", right, rule, check, kind=kind))
        return rhs

    def compare(self, description: str, lhs: Any, relation: str, rhs: Any, rule: str, *, kind: str = "instance") -> None:
        """Record ``lhs relation rhs`` (one of ``< <= > >=``), decided by sympy's assumptions on ``lhs - rhs``.

        sympy must answer *True*; *False* or *undecided* both refuse the step,
        with the reason, so a dropped hypothesis (an odd exponent, a negative
        variance) surfaces here.
        """
        self._kind_fits(description, kind, lhs, rhs)
        difference = sympy.simplify(lhs - rhs)
        query = {"<": "is_negative", "<=": "is_nonpositive", ">": "is_positive", ">=": "is_nonnegative"}[relation]
        answer = getattr(difference, query)
        if answer is not True:
            said = "false" if answer is False else "not decidable from the assumptions"
            self._refuse(description, f"{sympy.sstr(lhs)} {relation} {sympy.sstr(rhs)} is {said}")
        self._steps.append(
            Step(description, lhs, relation, rhs, rule, f"sympy: ({sympy.sstr(difference)}).{query}", kind=kind)
        )

    def certify(
        self,
        description: str,
        lhs: Any,
        relation: str,
        rhs: Any,
        rule: str,
        *,
        holds: bool,
        check: str,
        kind: str = "certificate",
    ) -> None:
        """Record a fact established by an exact computation of the caller (root counts, ranks, gcds).

        ``holds`` is the outcome of that computation and ``check`` names it,
        e.g. ``"Poly(n!*f_n).count_roots() = 0 (Sturm)"``; a false outcome refuses the step.
        The step says it was certified by the caller, not decided by sympy.
        """
        self._kind_fits(description, kind, lhs, rhs)
        if not holds:
            self._refuse(description, f"{check} contradicts {sympy.sstr(lhs)} {relation} {sympy.sstr(rhs)}")
        self._steps.append(Step(description, lhs, relation, rhs, rule, check, kind=kind, checked_by="caller"))

    def _kind_fits(self, description: str, kind: str, lhs: Any, rhs: Any) -> None:
        """A step's kind is one of :data:`~twofold.model.STEP_KINDS`; a ``general`` step has free symbols."""
        if kind not in STEP_KINDS:
            raise ValueError(f"step kind must be one of {STEP_KINDS}, not {kind!r}")
        if kind == "general" and not any(getattr(side, "free_symbols", None) for side in (lhs, rhs)):
            self._refuse(description, "a general step must hold for symbolic parameters, but both sides are numbers")

    def _refuse(self, description: str, reason: str) -> None:
        raise DerivationError(description, reason, completed=tuple(self._steps))

    def finish(self, result: Any, conclusion: str, *, proved_for: str = "") -> Derivation:
        """The derivation; ``proved_for`` (LaTeX, e.g. ``r"all even $n \\ge 2$"``) when general steps carry the claim.

        Claiming generality needs at least one ``general`` step; the result is part of a frozen record, so it
        must be hashable (an ``ImmutableMatrix``, not a ``Matrix``).
        """
        try:
            hash(result)
        except TypeError:
            raise TypeError(f"a derivation's result must be immutable (e.g. sympy.ImmutableMatrix), got {type(result).__name__}") from None
        if proved_for and not any(step.kind == "general" for step in self._steps):
            raise ValueError(f"a derivation proved for {proved_for} needs at least one general step")
        return Derivation(steps=tuple(self._steps), result=result, conclusion=conclusion, proved_for=proved_for)
