"""Records every benchmark returns: measured ratios against their targets, and a section of the report.

Each ``benchmarks/bench_<topic>.py`` exposes ``section(quick: bool) -> Section``.  ``python -m
benchmarks`` runs them, writes ``docs/benchmarks.md`` and exits 1 when a target is missed (the
regression guard).  ``quick=True`` means tiny sizes for the test suite: the same code path, with
targets still reported but not meaningful.
"""

from __future__ import annotations

from dataclasses import dataclass


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
        return f"- {status}: {self.name}: {self.measured:.3g} {self.unit} (target {relation} {self.required:g} {self.unit})"


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
