"""twofold: verify machine-learning theory twice, exactly and numerically, and cross-check.

>>> import twofold
>>> verdict = twofold.get_claim("taylor.even_positive").verify(seed=0, n=6)
>>> verdict.passed
True

Attributes load lazily (PEP 562), so ``twofold.numerics`` can import
:mod:`twofold.contract` without pulling in sympy through the core.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Estimate": "twofold.contract",
    "Claim": "twofold.model",
    "Comparison": "twofold.model",
    "Derivation": "twofold.model",
    "Family": "twofold.model",
    "Hypothesis": "twofold.model",
    "Parameter": "twofold.model",
    "Step": "twofold.model",
    "Verdict": "twofold.model",
    "TwofoldError": "twofold.contract",
    "InputError": "twofold.contract",
    "UnknownClaimError": "twofold.contract",
    "ParameterError": "twofold.contract",
    "HypothesisError": "twofold.contract",
    "ParseError": "twofold.contract",
    "DerivationError": "twofold.contract",
    "NumericError": "twofold.contract",
    "all_claims": "twofold.registry",
    "families": "twofold.registry",
    "get_claim": "twofold.registry",
    "select": "twofold.registry",
    "VerdictTable": "twofold.api",
    "verify_all": "twofold.api",
    "sweep": "twofold.sweeps",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'twofold' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__
