"""The one place that knows every claim.

Families are the modules of :mod:`twofold.claims` (each exposes ``FAMILY``, a
:class:`~twofold.model.Family`) plus any object registered under the
entry-point group ``twofold.claims`` by a third-party distribution.  Adding a
family is adding a module there; nothing else changes.

Families load lazily: ``get_claim("taylor.even_positive")`` imports only the
taylor modules, so a command about one claim starts quickly.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points

from twofold import claims as _claims_package
from twofold.contract import UnknownClaimError
from twofold.model import Claim, Family

ENTRY_POINT_GROUP = "twofold.claims"


@cache
def _builtin_names() -> tuple[str, ...]:
    return tuple(info.name for info in pkgutil.iter_modules(_claims_package.__path__) if not info.name.startswith("_"))


@cache
def _builtin(name: str) -> Family:
    return importlib.import_module(f"{_claims_package.__name__}.{name}").FAMILY


@cache
def _plugins() -> tuple[Family, ...]:
    found = []
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        family = point.load()
        if not isinstance(family, Family):
            raise TypeError(f"entry point {point.name!r} of group {ENTRY_POINT_GROUP} is not a twofold Family")
        found.append(family)
    return tuple(found)


@cache
def families() -> tuple[Family, ...]:
    """Every family, in the order of CLAIMS.md (built-in first, then entry points by name)."""
    found = sorted((_builtin(name) for name in _builtin_names()), key=lambda family: family.number)
    found.extend(_plugins())
    names = [family.name for family in found]
    duplicated = {name for name in names if names.count(name) > 1}
    if duplicated:
        raise ValueError(f"families registered twice: {sorted(duplicated)}")
    return tuple(found)


def family(name: str) -> Family | None:
    """The family called ``name``, importing only it when it is built in; ``None`` if there is none."""
    if name in _builtin_names():
        return _builtin(name)
    return next((f for f in _plugins() if f.name == name), None)


def all_claims() -> tuple[Claim, ...]:
    return tuple(claim for family in families() for claim in family.claims)


def get_claim(claim_id: str) -> Claim:
    """The claim with this id (``family.name``); unknown ids get close matches in the message."""
    owner = family(claim_id.partition(".")[0])
    if owner is not None:
        for claim in owner.claims:
            if claim.id == claim_id:
                return claim
    raise UnknownClaimError(_unknown(claim_id, owner))


def select(tokens: tuple[str, ...] | list[str]) -> tuple[Claim, ...]:
    """Claims named by ids or family names, in registry order; no tokens means every claim."""
    if not tokens:
        return all_claims()
    chosen: list[Claim] = []
    for token in tokens:
        named = family(token)
        picked = named.claims if named is not None else (get_claim(token),)
        chosen.extend(claim for claim in picked if claim not in chosen)
    return tuple(chosen)


def _unknown(token: str, owner: Family | None) -> str:
    if owner is not None:
        names = [claim.id for claim in owner.claims]
    else:
        names = list(_builtin_names()) + [f.name for f in _plugins()]
    close = difflib.get_close_matches(token[:200], names, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; run 'twofold list' to see all claims"
    return f"unknown claim or family '{token[:80]}'{hint}"
