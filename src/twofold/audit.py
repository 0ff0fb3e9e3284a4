"""``twofold audit``: every family's known-false variants must FAIL through the claim's own machinery.

A :class:`~twofold.model.FalseVariant` replaces one part of a claim (its
derivation, estimator or comparison) by a realistic wrong formula: a dropped
factorial, ``m`` for ``m - 1``, a missing Hastings ratio.  The audit verifies
each variant at the claim's quick parameters (updated by the variant's own)
and records whether the verdict caught it, and how.  A variant that passes is
a hole in the claim's checks; a variant whose parameters are invalid is a bug
in the variant, reported as such, never counted as caught.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from twofold.contract import InputError
from twofold.model import FalseVariant, Family, Verdict


@dataclass(frozen=True)
class AuditRow:
    """One known-false variant and what verifying it gave."""

    family: str
    claim: str
    name: str
    pitfall: str
    caught: bool
    how: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "claim": self.claim,
            "variant": self.name,
            "pitfall": self.pitfall,
            "caught": self.caught,
            "how": self.how,
            "seconds": round(self.seconds, 4),
        }


def audit_variant(family: Family, variant: FalseVariant, seed: int = 0) -> AuditRow:
    """Verify one variant; ``caught`` when the verdict is a FAIL of the derivation, numerics or comparison."""
    claim = family.claim(variant.claim).with_variant(variant)
    try:
        verdict = claim.verify(seed=seed, **dict(variant.params))
    except InputError as exc:
        return AuditRow(family.name, variant.claim, variant.name, variant.pitfall, False, f"variant is invalid: {exc}", 0.0)
    return AuditRow(family.name, variant.claim, variant.name, variant.pitfall, not verdict.passed, _how(verdict), verdict.seconds)


def _how(verdict: Verdict) -> str:
    if verdict.failure is not None:
        return verdict.failure
    assert verdict.comparison is not None
    c = verdict.comparison
    word = "rejected" if not c.agree else "ACCEPTED"
    return f"{word}: {c.method}: statistic {c.statistic:.3g} vs threshold {c.threshold:.3g}"


def run_audit(families: Iterable[Family], seed: int = 0) -> list[AuditRow]:
    """Every variant of every family, in declaration order."""
    return [audit_variant(family, variant, seed) for family in families for variant in family.false_variants]


def audit_record(rows: list[AuditRow], seed: int) -> dict[str, Any]:
    """The JSON document of ``twofold audit --json``."""
    caught = sum(row.caught for row in rows)
    return {
        "schema": "urn:twofold:audit:1",
        "seed": seed,
        "summary": {"variants": len(rows), "caught": caught, "missed": len(rows) - caught},
        "variants": [row.to_dict() for row in rows],
    }
