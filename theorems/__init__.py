"""Exact encodings: sympy derivations, one module per claim family.

Each public function takes plain parameters and returns a
:class:`twofold.model.Derivation` whose steps sympy checked as they were built.
"""
