"""The one place that knows every claim.

Families are the modules of :mod:`twofold.claims` (each exposes ``FAMILY``, a
:class:`~twofold.model.Family`) plus any object registered under the
entry-point group ``twofold.claims`` by a third-party distribution.  Adding a
family is adding a module there; nothing else changes.  A third-party family that
fails to import, is not a :class:`~twofold.model.Family` or reuses a name is skipped
with one :class:`PluginWarning`.

Families load lazily: ``get_claim("taylor.even_positive")`` imports only the
taylor modules, so a command about one claim starts quickly.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import warnings
from functools import cache
from importlib.metadata import EntryPoint, entry_points

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


class PluginWarning(UserWarning):
    """A third-party family was skipped: its entry point failed to load, is not a Family, or reuses a name."""


@cache
def _plugins() -> tuple[Family, ...]:
    """The entry-point families that load, are :class:`Family` records and have a new name, by entry-point name.

    Each one that does not is skipped with one :class:`PluginWarning` naming the entry point and the
    reason, so a broken third-party distribution never stops the built-in families from working."""
    taken = set(_builtin_names())
    found = []
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        reason, family = _load(point)
        if family is not None and family.name in taken:
            reason = f"its family name '{family.name}' is already registered"
        if reason is not None:
            where = f"{point.name} = {point.value}"
            warnings.warn(f"skipped plugin family '{where}' (group {ENTRY_POINT_GROUP}): {reason}", PluginWarning, stacklevel=2)
            continue
        taken.add(family.name)
        found.append(family)
    return tuple(found)


def _load(point: EntryPoint) -> tuple[str | None, Family | None]:
    """``(None, family)``, or ``(reason, None)`` when the entry point does not give a Family."""
    try:
        loaded = point.load()
    except Exception as exc:  # noqa: BLE001 - any failure of third-party code is that plugin's
        return f"it fails to import: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}", None
    if not isinstance(loaded, Family):
        return f"it is a {type(loaded).__name__}, not a twofold Family", None
    return None, loaded


@cache
def families() -> tuple[Family, ...]:
    """Every family, in the order of CLAIMS.md (built-in first, then entry points by name)."""
    found = sorted((_builtin(name) for name in _builtin_names()), key=lambda family: family.number)
    return (*found, *_plugins())


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
