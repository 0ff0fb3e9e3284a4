"""How verdicts cross process boundaries: pickled node by node, so no sympy expression is re-evaluated.

sympy's own pickling rebuilds an expression by calling its constructor on its
arguments, which re-evaluates it, so an unevaluated derivation step such as
:math:`\\rho_y \\frac{a m}{\\ell+1} / \\ldots = \\ldots` would arrive collapsed to
``X = X``.  :class:`VerdictPickler` restores every non-atomic sympy node from its
stored state without running a constructor: the receiving process gets the very
derivation the sending one built.  Plain :func:`pickle.loads` reads it back.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from sympy import Basic
from sympy.core.singleton import Singleton


def dumps(obj: Any) -> bytes:
    """``obj`` pickled with :class:`VerdictPickler`; read back with plain :func:`pickle.loads`."""
    buffer = io.BytesIO()
    VerdictPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


class VerdictPickler(pickle.Pickler):
    """Pickles non-atomic sympy nodes by their stored state, so unpickling re-evaluates nothing.

    Atoms (symbols, numbers) and singletons keep sympy's own pickling, which
    preserves their identity (``S.One``) and assumptions.  The cached hash
    ``_mhash`` is dropped: string hashes differ between processes.
    """

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Basic) and not obj.is_Atom and not isinstance(type(obj), Singleton):
            return _rebuild, (type(obj), _state(obj))
        return NotImplemented


def _state(obj: Basic) -> dict[str, Any]:
    names: set[str] = set()
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names.update((slots,) if isinstance(slots, str) else slots)
    names -= {"_mhash", "__dict__", "__weakref__"}
    state = {name: getattr(obj, name) for name in sorted(names) if hasattr(obj, name)}
    state.update(getattr(obj, "__dict__", {}))
    return state


def _rebuild(cls: type[Basic], state: dict[str, Any]) -> Basic:
    obj = Basic.__new__(cls)
    for name, value in state.items():
        object.__setattr__(obj, name, value)
    return obj
