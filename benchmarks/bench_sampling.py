r"""MCMC chains vectorised across chains against a Python loop over chains: MH on a ring and random-scan Gibbs.

The workloads are the instances of ``sampling.mh_stationary`` (ring of :math:`n = 12` states,
:math:`\rho_x = (x+1)^2`, proposal :math:`x+1` w.p. 0.7, Hastings ratio) and ``sampling.gibbs_acceptance``
(:math:`\{0..3\}^4`, proposal the full conditional), chains started i.i.d. from :math:`\pi`.

* **vectorised** — :func:`twofold.numerics.sampling.run_chains`: the :math:`C` chains are one state array, updated
  by one array operation per time step (the only Python loop is over the :math:`T` steps);
* **loop** — the obvious alternative, written here only: the chains one after another, each a Python loop
  over its steps with scalar arithmetic on the *same* transition tables (the MH acceptance and bridge
  tables, the Gibbs move tables, turned into Python lists — faster than indexing numpy arrays one element
  at a time), the uniforms of one chain drawn in a single call.

Both make :math:`C \times T` transitions and average the state over each chain's :math:`T` steps; the
tables show both grand means (with the between-chain standard error) next to the exact :math:`E_\pi x`
so the two runs are seen to compute the same thing.  Times are CPU times of the process
(``time.process_time``: the machine is shared, and time spent descheduled is not the code's), the best
of ``repeats`` runs (``timeit``) in the same process; speed-up = loop time / vectorised time.  The
scaling tables time the vectorised runs as :math:`C` and :math:`T` grow; the exponent :math:`p` is the
least-squares slope of :math:`\log t` on :math:`\log(\text{size})` (``scipy.stats.linregress``),
:math:`t \propto \text{size}^p`.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
import itertools
from functools import partial

import numpy as np

from benchmarks.targets import Section, Target, best_seconds, fitted_exponent
from twofold.numerics import sampling as numeric

MH_SPEEDUP, GIBBS_SPEEDUP = 7.0, 7.0
"""Required speed-ups of the vectorised chains over the loop.  Measured 8.5-14x (MH) on the shared 2-core machine,
the low end under a load of 6-8.  Gibbs: 10-16x since the chain computes its local weights on the fly (it is never
tabulated, so that d = k = 10, 10^10 states, runs); the earlier move tables gave 20-59x at 4^4 states only."""

RING = {"n": 12, "skew": 2, "lean": 0.7, "bridge": 1.0}
GIBBS = {"dims": 4, "values": 4, "power": 1}


@dataclass(frozen=True)
class Sizes:
    """Chains and steps of the head-to-head run; chain counts and chain lengths of the scaling runs."""

    chains: int
    steps: int
    scaling_chains: tuple[int, ...]
    scaling_steps: tuple[int, ...]
    repeats: int


FULL = Sizes(20_000, 50, (1_000, 4_000, 16_000, 64_000, 256_000), (10, 40, 160, 640), 5)
QUICK = Sizes(200, 10, (100, 200, 400), (5, 10, 20), 1)


@dataclass(frozen=True)
class Kernel:
    """A benchmarked chain: its vectorised transition, its scalar loop, its stationary law, a start sampler."""

    name: str
    transition: numeric.Transition
    loop: Callable[[np.random.Generator, np.ndarray, int], np.ndarray]
    law: np.ndarray
    required_speedup: float

    def start(self, rng: np.random.Generator, chains: int) -> np.ndarray:
        return rng.choice(self.law.size, size=chains, p=self.law)

    def vectorised(self, rng: np.random.Generator, start: np.ndarray, steps: int) -> np.ndarray:
        """Per-chain time averages of the state from :func:`twofold.numerics.sampling.run_chains`."""
        return numeric.run_chains(rng, start, self.transition, steps, observe=lambda states: states).means


def ring_loop(n: int, lean: float, bridge: float, acceptance: np.ndarray) -> Callable[[np.random.Generator, np.ndarray, int], np.ndarray]:
    """The ring MH chain in scalar Python, chain after chain: same proposal mechanism, same acceptance table."""
    accept, bridges = acceptance.tolist(), numeric.ring_bridges(n).tolist()

    def run(rng: np.random.Generator, start: np.ndarray, steps: int) -> np.ndarray:
        means = []
        for x in start.tolist():
            total = 0
            for u_step, u_gate, u_accept in rng.random((steps, 3)).tolist():
                y = (x + 1) % n if u_step < lean else (x - 1) % n
                if bridges[x][y] and u_gate >= bridge:
                    y = x
                if u_accept < accept[x][y]:
                    x = y
                total += x
            means.append(total / steps)
        return np.array(means)

    return run


def gibbs_indexed(dims: int, values: int, power: int) -> numeric.Transition:
    """:func:`twofold.numerics.sampling.gibbs_chain` on states numbered in ``itertools.product`` order (first coordinate most significant)."""
    step = numeric.gibbs_chain(dims, values, power)
    place = values ** np.arange(dims - 1, -1, -1)

    def transition(rng: np.random.Generator, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        moved, accepted = step(rng, (index[:, None] // place) % values)
        return moved @ place, accepted

    return transition


def gibbs_loop(dims: int, values: int, power: int) -> Callable[[np.random.Generator, np.ndarray, int], np.ndarray]:
    """Random-scan Gibbs-as-MH in scalar Python, chain after chain: local weights, value by bisection, the MH test."""
    place = [values ** (dims - 1 - i) for i in range(dims)]

    def run(rng: np.random.Generator, start: np.ndarray, steps: int) -> np.ndarray:
        means = []
        for index in start.tolist():
            x = [(index // p) % values for p in place]
            total = 0
            for u_coordinate, u_value, u_accept in rng.random((steps, 3)).tolist():
                i = int(u_coordinate * dims)
                left = x[i - 1] if i > 0 else -1
                right = x[i + 1] if i < dims - 1 else -1
                local = [(u + 1) * 2.0 ** ((u == left) + (u == right)) for u in range(values)]
                proposal = [w**power for w in local]
                total_weight = sum(proposal)
                cumulative, running = [], 0.0
                for w in proposal:
                    running += w / total_weight
                    cumulative.append(running)
                new, old = min(bisect_left(cumulative, u_value), values - 1), x[i]
                if u_accept < local[new] / local[old] * proposal[old] / proposal[new]:
                    x[i] = new
                total += sum(v * p for v, p in zip(x, place))
            means.append(total / steps)
        return np.array(means)

    return run


def kernels() -> tuple[Kernel, Kernel]:
    """The MH ring kernel and the Gibbs kernel of the two claims' quick-profile instances."""
    weights = numeric.ring_weights(RING["n"], RING["skew"])
    acceptance = numeric.mh_acceptance(weights, numeric.ring_proposal(RING["n"], RING["lean"], RING["bridge"]))
    mh = Kernel(
        "MH (ring, n = 12)",
        numeric.ring_chain(RING["n"], RING["skew"], RING["lean"], RING["bridge"], True),
        ring_loop(RING["n"], RING["lean"], RING["bridge"], acceptance),
        weights / weights.sum(),
        MH_SPEEDUP,
    )
    dims, values, power = GIBBS["dims"], GIBBS["values"], GIBBS["power"]
    states = np.array(list(itertools.product(range(values), repeat=dims)))
    gibbs_weights = np.prod(states + 1, axis=1) * 2.0 ** (states[:, 1:] == states[:, :-1]).sum(axis=1)
    gibbs = Kernel(
        "Gibbs (4 x 4 values)", gibbs_indexed(dims, values, power), gibbs_loop(dims, values, power),
        gibbs_weights / gibbs_weights.sum(), GIBBS_SPEEDUP,
    )
    return mh, gibbs


def cpu_seconds(run: Callable[[], object], repeats: int) -> float:
    """Smallest CPU time of ``repeats`` calls: CPU time resists the shared machine's load better than wall time."""
    return best_seconds(run, repeats, timer=time.process_time)


@dataclass(frozen=True)
class HeadToHead:
    """One kernel, vectorised against the loop on the same start states and number of transitions."""

    kernel: str
    chains: int
    steps: int
    vectorised_seconds: float
    loop_seconds: float
    vectorised_mean: tuple[float, float]
    loop_mean: tuple[float, float]
    exact_mean: float

    @property
    def speedup(self) -> float:
        return self.loop_seconds / self.vectorised_seconds

    def rate(self, seconds: float) -> float:
        return self.chains * self.steps / seconds


def head_to_head(kernel: Kernel, sizes: Sizes, seed: int = 0) -> HeadToHead:
    """Both ways from the same start states: one run each for the estimates, then ``sizes.repeats`` timed runs each."""
    rng = np.random.default_rng(seed)
    start = kernel.start(rng, sizes.chains)
    vectorised = kernel.vectorised(rng, start, sizes.steps)
    looped = kernel.loop(rng, start, sizes.steps)
    return HeadToHead(
        kernel=kernel.name,
        chains=sizes.chains,
        steps=sizes.steps,
        vectorised_seconds=cpu_seconds(partial(kernel.vectorised, rng, start, sizes.steps), sizes.repeats),
        loop_seconds=cpu_seconds(partial(kernel.loop, rng, start, sizes.steps), sizes.repeats),
        vectorised_mean=numeric.mean_and_error(vectorised),
        loop_mean=numeric.mean_and_error(looped),
        exact_mean=float(np.arange(kernel.law.size) @ kernel.law),
    )


def scaling(kernel: Kernel, chains: Sequence[int], steps: Sequence[int], repeats: int, seed: int = 0) -> list[float]:
    """Vectorised run times for every (chains, steps) pair, in the order given."""
    rng = np.random.default_rng(seed)
    times = []
    for count, length in zip(chains, steps):
        start = kernel.start(rng, count)
        times.append(cpu_seconds(partial(kernel.vectorised, rng, start, length), repeats))
    return times


def _head_table(rows: Sequence[HeadToHead]) -> str:
    lines = [
        (
            "| kernel | C x T | vectorised (s) | loop (s) | vectorised samples/s | loop samples/s | speed-up "
            "| E x, vectorised | E x, loop | E x, exact |"
        ),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.kernel} | {r.chains} x {r.steps} | {r.vectorised_seconds:.3g} | {r.loop_seconds:.3g} "
            f"| {r.rate(r.vectorised_seconds):.3g} | {r.rate(r.loop_seconds):.3g} | **{r.speedup:.1f}x** "
            f"| {r.vectorised_mean[0]:.4f} ± {r.vectorised_mean[1]:.4f} | {r.loop_mean[0]:.4f} ± {r.loop_mean[1]:.4f} "
            f"| {r.exact_mean:.4f} |"
        )
    return "\n".join(lines)


def _scaling_table(label: str, sizes: Sequence[int], other: str, times: dict[str, list[float]]) -> str:
    names = list(times)
    lines = [
        f"| {label} | " + " | ".join(f"{name} (ms)" for name in names) + " |",
        "|---:|" + "---:|" * len(names),
    ]
    lines += [f"| {size} | " + " | ".join(f"{1e3 * times[name][i]:.3g}" for name in names) + " |" for i, size in enumerate(sizes)]
    fits = [fitted_exponent(sizes, times[name]) for name in names]
    lines.append("| **p** | " + " | ".join(f"**{slope:.2f}** ± {error:.2f}" for slope, error in fits) + " |")
    return f"Vectorised time against {label} ({other}):\n\n" + "\n".join(lines)


def section(quick: bool) -> Section:
    """Head-to-head table, scaling tables and the speed-up targets (``quick``: tiny sizes, < 5 s)."""
    sizes = QUICK if quick else FULL
    mh, gibbs = kernels()
    rows = [head_to_head(kernel, sizes) for kernel in (mh, gibbs)]
    fixed_steps, fixed_chains = sizes.scaling_steps[1], sizes.scaling_chains[1]
    by_chains = {
        k.name: scaling(k, sizes.scaling_chains, [fixed_steps] * len(sizes.scaling_chains), sizes.repeats) for k in (mh, gibbs)
    }
    by_steps = {
        k.name: scaling(k, [fixed_chains] * len(sizes.scaling_steps), sizes.scaling_steps, sizes.repeats) for k in (mh, gibbs)
    }
    body = "\n\n".join(
        [
            (
                "`twofold.numerics.sampling` runs C independent chains as one state array with one vectorised update "
                "per time step (`run_chains`); the alternative runs the chains one after another in a scalar "
                "Python loop on the same transition tables (written in `benchmarks/bench_sampling.py` only). "
                f"Same start states, same C x T transitions; times are process CPU times, best of {sizes.repeats} "
                "run(s). E x is the grand mean of the per-chain time averages ± its between-chain standard error."
            ),
            _head_table(rows),
            _scaling_table("chains C", sizes.scaling_chains, f"T = {fixed_steps} steps", by_chains),
            _scaling_table("steps T", sizes.scaling_steps, f"C = {fixed_chains} chains", by_steps),
        ]
    )
    targets = tuple(
        Target(f"{row.kernel}: vectorised chains vs Python loop over chains", row.speedup, kernel.required_speedup)
        for kernel, row in zip((mh, gibbs), rows)
    )
    return Section(title="Sampling chains: vectorised across chains", body=body, targets=targets)
