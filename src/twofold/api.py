"""The Python API beside the CLI: verify claims by name into a table that Jupyter shows.

:func:`verify_all` selects claims as ``twofold verify`` does (ids and family
names, through :mod:`twofold.registry`), runs them with :mod:`twofold.runner`
and returns a :class:`VerdictTable`; :func:`families_for` hands renderers the
family records of the claims they render (renderers never reach the registry
themselves).  Both are exported as ``twofold.verify_all`` / ``twofold.VerdictTable``.
Like the records of :mod:`twofold.model`, the table reaches its renderer
(:mod:`twofold.display`) only when Jupyter shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from twofold import registry
from twofold.model import Claim, Family, Verdict
from twofold.runner import verify_claims


@dataclass(frozen=True, repr=False)
class VerdictTable:
    """Verdicts shown together: an HTML table in Jupyter, one summary line per verdict as text.

    >>> table = VerdictTable(verdicts)        # any iterable of Verdict
    >>> table.passed, len(table), table[0].claim_id
    """

    verdicts: tuple[Verdict, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdicts", tuple(self.verdicts))

    @property
    def passed(self) -> bool:
        """True when every verdict passed."""
        return all(v.passed for v in self.verdicts)

    def __len__(self) -> int:
        return len(self.verdicts)

    def __iter__(self) -> Iterator[Verdict]:
        return iter(self.verdicts)

    def __getitem__(self, index: int) -> Verdict:
        return self.verdicts[index]

    def __repr__(self) -> str:
        return "\n".join(f"{v.claim_id}: {v.summary()}" for v in self.verdicts)

    def _repr_html_(self) -> str:
        from twofold.display import verdicts_html  # a Jupyter hook: the renderer is bound when the table is shown

        return verdicts_html(self.verdicts)


def verify_all(*targets: str, seed: int = 0, profile: str = "quick", jobs: int = 1) -> VerdictTable:
    """Verify claims named by ids or family names (none: every claim), as ``twofold verify`` does, into a table.

    ``jobs`` worker processes as in :func:`twofold.runner.verify_claims` (``0``: one per CPU).
    """
    return VerdictTable(verify_claims(registry.select(list(targets)), seed=seed, profile=profile, jobs=jobs))


def families_for(claims: Iterable[Claim]) -> tuple[Family, ...]:
    """The registered families of these claims, each once, in the claims' order."""
    names = dict.fromkeys(claim.family for claim in claims)
    return tuple(found for name in names if (found := registry.family(name)) is not None)
