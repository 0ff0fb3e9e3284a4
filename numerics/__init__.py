"""Independent encodings: numpy/scipy/networkx/mpmath estimators, one module per family.

Never imports sympy or :mod:`theorems` (``tests/test_independence.py`` checks the
import graph).  Each public function returns a :class:`twofold.contract.Estimate`
record (sympy-free, shared with the core).
"""
