"""Known-false variants: every family ships at least five, and every one of them FAILS.

Generic over the registry, like tests/test_claims_generic.py: a family adds
variants to ``Family.false_variants`` and nothing here changes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import twofold
from twofold.audit import audit_variant
from twofold.model import FalseVariant

FAMILIES = twofold.families()
VARIANTS = [(family, variant) for family in FAMILIES for variant in family.false_variants]
MINIMUM_PER_FAMILY = 5


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.name)
def test_every_family_ships_known_false_variants(family: twofold.Family) -> None:
    assert len(family.false_variants) >= MINIMUM_PER_FAMILY
    names = [(v.claim, v.name) for v in family.false_variants]
    assert len(names) == len(set(names))
    assert all(v.pitfall and (v.derive or v.estimate or v.compare) for v in family.false_variants)


@pytest.mark.parametrize(("family", "variant"), VARIANTS, ids=lambda x: getattr(x, "name", ""))
def test_variant_is_caught(family: twofold.Family, variant: FalseVariant) -> None:
    row = audit_variant(family, variant)
    assert row.caught, f"{variant.claim} / {variant.name} passed: {row.how}"
    assert not row.how.startswith("variant is invalid"), row.how


def test_a_harmless_variant_is_reported_as_missed() -> None:
    """The audit has power of its own: a 'variant' that changes nothing is not caught."""
    family = twofold.registry.family("taylor")
    claim = family.claims[0]
    row = audit_variant(family, FalseVariant(claim.id, "no change", "nothing is wrong", estimate=claim.estimate))
    assert not row.caught and row.how.startswith("ACCEPTED")


def test_cli_audit_json_one_family() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "twofold", "audit", "position", "--json"], capture_output=True, text=True, timeout=600
    )
    record = json.loads(out.stdout)
    assert record["summary"]["variants"] == len(twofold.registry.family("position").false_variants)
    assert out.returncode == (0 if record["summary"]["missed"] == 0 and record["summary"]["variants"] else 1)


def test_cli_audit_unknown_family_is_exit_2() -> None:
    out = subprocess.run([sys.executable, "-m", "twofold", "audit", "nosuch"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "unknown family" in out.stderr
