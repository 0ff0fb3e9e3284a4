r"""Taylor certification: exact python-flint certificates against sympy's Sturm ``count_roots``, same run.

For :math:`f_n(x) = \sum_{k \le n} x^k/k!` both methods decide the number of real roots exactly:

* sympy: ``Poly(n! f_n).count_roots()`` (Sturm sequence) on the integer polynomial, built before
  the clock starts, so only the root counting is timed;
* twofold, one order: ``twofold.numerics.taylor_certify.certify_order(n)`` — exact identities, a dyadic
  bracket of the root of :math:`f_n` (odd) or :math:`f_{n-1}` (even) with exact integer signs, and
  the certified :math:`\min f_n \ge b^n/n! > 0`; the premise :math:`f_{n-2} > 0` comes from the
  induction lemma (the issue's "smarter exact argument");
* twofold, chain: ``certify_up_to(n)``, which re-certifies every order :math:`0..n` from the previous
  record (no lemma taken on trust) — the conservative ratio, reported beside the target;
* python-flint ``fmpz_poly.complex_roots()`` (rigorous isolation of all :math:`n` complex roots,
  real ones returned with imaginary part exactly 0) in the scaling table, for small :math:`n`.

Every timing is one run (``time.perf_counter``) in this process, except the one-order certificate
(best of 5); every count is compared and a disagreement raises.  ``section(quick=True)`` uses
:math:`n \le 60` (same code, targets not meaningful).  Run with ``python -m benchmarks --only taylor``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy

from benchmarks.targets import Section, Target, fitted_exponent
from twofold.numerics.taylor_certify import certify_order, certify_up_to, integer_truncation

HEAD_TO_HEAD = (400, 800)
SCALING = (100, 200, 400, 600, 800, 1000)  # the last size is the "certify every n <= N" target
SYMPY_SCALING_MAX = 800
COMPLEX_ROOTS_MAX = 200
QUICK_HEAD_TO_HEAD = (30, 60)
QUICK_SCALING = (10, 20, 40, 60)
ORDER_REPEATS = 5
RATIO_REQUIRED = 20.0
CHAIN_SECONDS_REQUIRED = 60.0


def timed(run: Callable[[], Any]) -> tuple[Any, float]:
    """The result of ``run()`` and its wall time in seconds."""
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def sympy_count(n: int) -> tuple[int, float]:
    """sympy's Sturm count of the real roots of :math:`n!\\,f_n` and the seconds ``count_roots`` took."""
    poly = sympy.Poly([int(c) for c in reversed(integer_truncation(n).coeffs())], sympy.Symbol("x"), domain="ZZ")
    return timed(poly.count_roots)


def chain_count(n: int) -> tuple[int, float]:
    """The chain's count for :math:`f_n` and the seconds for the whole chain :math:`0..n`."""
    chain, seconds = timed(lambda: certify_up_to(n))
    return chain[-1].real_roots, seconds


def order_count(n: int, repeats: int = ORDER_REPEATS) -> tuple[int, float]:
    """The single-order certificate's count for :math:`f_n` and its best time of ``repeats`` runs (it takes
    milliseconds, so one run is at the mercy of the scheduler on a shared machine)."""
    runs = [timed(lambda: certify_order(n)) for _ in range(repeats)]
    return runs[0][0].real_roots, min(seconds for _, seconds in runs)


def complex_roots_count(n: int) -> tuple[int, float]:
    """Real roots of :math:`n!\\,f_n` among flint's rigorously isolated complex roots, and the seconds taken."""
    poly = integer_truncation(n)
    roots, seconds = timed(poly.complex_roots)
    return sum(multiplicity for root, multiplicity in roots if root.imag == 0), seconds


@dataclass(frozen=True)
class Measurement:
    """One order n: the certified count and each method's seconds (``None``: not run at this n)."""

    n: int
    count: int
    order_seconds: float
    chain_seconds: float
    sympy_seconds: float | None
    flint_seconds: float | None


def measure(n: int, with_sympy: bool, with_complex_roots: bool) -> Measurement:
    """Time one order, the chain (and sympy, flint's complex_roots when asked) at n; raise if counts disagree."""
    count, order_seconds = order_count(n)
    chained, chain_seconds = chain_count(n)
    counts, sympy_seconds, flint_seconds = [count, chained], None, None
    if with_sympy:
        exact, sympy_seconds = sympy_count(n)
        counts.append(exact)
    if with_complex_roots:
        found, flint_seconds = complex_roots_count(n)
        counts.append(found)
    if len(set(counts)) != 1:
        raise RuntimeError(f"real-root counts of f_{n} disagree (one order, chain, sympy, complex_roots): {counts}")
    return Measurement(n, count, order_seconds, chain_seconds, sympy_seconds, flint_seconds)


def _cell(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.3g}"


def section(quick: bool) -> Section:
    """Head-to-head ratios at n = 400 and 800, the chain to 1000, and a scaling table with fitted exponents."""
    head_sizes = QUICK_HEAD_TO_HEAD if quick else HEAD_TO_HEAD
    scaling_sizes = QUICK_SCALING if quick else SCALING
    sympy_max = max(scaling_sizes) if quick else SYMPY_SCALING_MAX
    rows = {
        n: measure(n, with_sympy=n <= sympy_max or n in head_sizes, with_complex_roots=n <= COMPLEX_ROOTS_MAX)
        for n in sorted({*head_sizes, *scaling_sizes})
    }
    ratios = {n: rows[n].sympy_seconds / rows[n].order_seconds for n in head_sizes}
    head_table = "\n".join(
        f"| {n} | {r.count} | {r.sympy_seconds:.3g} | {r.order_seconds:.3g} | **{ratios[n]:.0f}** "
        f"| {r.chain_seconds:.3g} | {r.sympy_seconds / r.chain_seconds:.1f} |"
        for n, r in ((n, rows[n]) for n in head_sizes)
    )
    scaling = [rows[n] for n in scaling_sizes]
    scaling_table = "\n".join(
        f"| {r.n} | {_cell(r.sympy_seconds)} | {_cell(r.flint_seconds)} | {r.order_seconds:.3g} | {r.chain_seconds:.3g} |"
        for r in scaling
    )
    timed_sympy = [r for r in scaling if r.sympy_seconds is not None]
    timed_flint = [r for r in scaling if r.flint_seconds is not None]
    exponents = [
        fitted_exponent([r.n for r in timed_sympy], [r.sympy_seconds for r in timed_sympy]),
        fitted_exponent([r.n for r in timed_flint], [r.flint_seconds for r in timed_flint]),
        fitted_exponent([r.n for r in scaling], [r.order_seconds for r in scaling]),
        fitted_exponent([r.n for r in scaling], [r.chain_seconds for r in scaling]),
    ]
    exponent_cells = " | ".join(f"{p:.2f} ± {se:.2f}" for p, se in exponents)
    top, last = max(head_sizes), scaling[-1]
    body = f"""
Exact real-root counts of $f_n(x) = \\sum_{{k \\le n}} x^k/k!$ ($n!\\,f_n$ as an integer polynomial).
**sympy**: `Poly(n! f_n).count_roots()` (Sturm), polynomial built before timing. **one order**:
`twofold.numerics.taylor_certify.certify_order(n)` — exact identities $P_n' = nP_{{n-1}}$, a dyadic bracket
$(a, b)$ of the root of $f_n$ ($n$ odd) or of $f_{{n-1}}$ ($n$ even) decided by exact integer signs
(`arb` Newton only proposes it), and $\\min f_n \\ge b^n/n! > 0$; the premise $f_{{n-2}} > 0$ is the
induction lemma. **chain**: `certify_up_to(n)`, every order $0..n$ re-certified from the record
below it (nothing on trust; the conservative ratio). **flint complex_roots**:
`fmpz_poly.complex_roots()`, rigorous isolation of all $n$ complex roots, real ones counted
(imaginary part exactly 0), run for $n \\le {COMPLEX_ROOTS_MAX}$. All counts agree (a mismatch raises).
Same process; one run each, except one order: best of {ORDER_REPEATS}; times in seconds.

| n | real roots | sympy count_roots (s) | one order (s) | sympy / one order | chain 0..n (s) | sympy / chain |
|---:|---:|---:|---:|---:|---:|---:|
{head_table}

Certifying every $n \\le {last.n}$ with the chain (no real root for even $n$, with a certified positive
lower bound of $\\min f_n$; exactly one for odd $n$, enclosed in a rational interval of width about
$2^{{-50}}|r_n|$): **{last.chain_seconds:.3g} s**.

Scaling (fitted exponent $p$ in $t \\propto n^p$, least squares on log-log over the rows that ran):

| n | sympy count_roots (s) | flint complex_roots (s) | one order (s) | chain 0..n (s) |
|---:|---:|---:|---:|---:|
{scaling_table}
| **p** | {exponent_cells} |
"""
    return Section(
        title="Taylor certification: exact flint certificates vs sympy count_roots",
        body=body,
        targets=(
            Target(f"sympy count_roots / one-order certificate at n = {top}", ratios[top], RATIO_REQUIRED),
            Target(
                f"certify every n <= {last.n}", last.chain_seconds, CHAIN_SECONDS_REQUIRED, unit="s", higher_is_better=False
            ),
        ),
    )
