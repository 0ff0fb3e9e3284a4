"""Verify a sequence of claims, serially or in worker processes, with the same verdicts either way.

Every claim is verified by ``claim.verify(seed=seed, profile=profile)``: its
estimator draws from ``numpy.random.default_rng(seed)``, so a verdict depends
on the claim, the seed and the profile only, never on which process ran it or
what ran there before.  :func:`verify_claims` returns verdicts in claim order.

Workers are **spawned** (fresh interpreters): nothing of the parent's threads
(OpenBLAS's pool, rich's refresh thread) or locks is inherited, which ``fork``
cannot promise, and no process-wide pre-load state is needed, as ``forkserver``
would.  A worker receives claim ids and imports only the families it is handed
(the registry loads families lazily).  Each worker's BLAS/OpenMP pool gets
:math:`\\max(1, \\lfloor \\text{cpus} / \\text{workers} \\rfloor)` threads through
the usual environment variables (set while the workers start; a value the user
already set is kept), so N processes do not oversubscribe the cores.

Verdicts come back pickled node by node (:class:`VerdictPickler`): sympy's own
pickling rebuilds an expression by calling its constructor on its arguments,
which re-evaluates it, so an unevaluated derivation step such as
:math:`\\rho_y \\frac{a m}{\\ell+1} / \\ldots = \\ldots` would arrive collapsed to
``X = X``.  Here every non-atomic sympy node is restored from its stored state
without running a constructor: the parent gets the very derivation the worker
built.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import pickle
import platform
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sympy import Basic
from sympy.core.singleton import Singleton

from twofold import registry
from twofold.contract import InputError, ParameterError
from twofold.model import Claim, Verdict

MAX_JOBS = 64
THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

SCHEMA_ID = "urn:twofold:verify:1"
DISTRIBUTIONS = ("twofold", "numpy", "scipy", "sympy", "mpmath", "networkx", "python-flint")

Progress = Callable[[int, tuple[str, ...]], None]
"""``progress(done, running)``: claims finished so far, ids of the claims being verified now.

With worker processes, ``running`` is the earliest claims handed to the pool
and not finished, at most one per worker (the pool does not say which worker
runs what)."""


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def resolve_jobs(jobs: int) -> int:
    """Number of worker processes for ``jobs``: ``0`` means one per available CPU; 1..MAX_JOBS as given."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 0 <= jobs <= MAX_JOBS:
        raise ParameterError(f"jobs must be an integer from 0 (one per CPU) to {MAX_JOBS}, got {jobs!r}")
    return jobs or available_cpus()


def verify_claims(
    claims: Sequence[Claim],
    seed: int = 0,
    profile: str = "quick",
    jobs: int = 1,
    progress: Progress | None = None,
) -> list[Verdict]:
    """Verdicts of ``claims`` in their order, from ``min(jobs, len(claims))`` processes (``jobs=0``: one per CPU).

    Parameters and hypotheses of every claim are checked before anything runs,
    so bad input fails at once.  With more than one worker, every claim must be
    registered (workers look claims up by id), and a script calling this must
    guard its entry point with ``if __name__ == "__main__":`` (spawned workers
    import the main module).
    """
    workers = min(resolve_jobs(jobs), len(claims))
    for claim in claims:
        claim.resolve(profile)
    if workers <= 1:
        return _serial(claims, seed, profile, progress)
    for claim in claims:
        if registry.get_claim(claim.id) is not claim:
            raise InputError(f"{claim.id} is not the registered claim of that id; only registered claims run in worker processes")
    return _parallel(claims, seed, profile, workers, progress)


def _serial(claims: Sequence[Claim], seed: int, profile: str, progress: Progress | None) -> list[Verdict]:
    verdicts = []
    for done, claim in enumerate(claims):
        if progress is not None:
            progress(done, (claim.id,))
        verdicts.append(claim.verify(seed=seed, profile=profile))
    if progress is not None:
        progress(len(claims), ())
    return verdicts


def _parallel(claims: Sequence[Claim], seed: int, profile: str, workers: int, progress: Progress | None) -> list[Verdict]:
    verdicts: dict[int, Verdict] = {}
    with worker_pool(workers) as pool:
        index = {pool.submit(_verify_by_id, claim.id, seed, profile): i for i, claim in enumerate(claims)}
        pending: set[Future[bytes]] = set(index)
        try:
            while pending:
                if progress is not None:
                    dispatched = [claims[index[f]].id for f in sorted(pending, key=index.__getitem__) if f.running()]
                    progress(len(claims) - len(pending), tuple(dispatched[:workers]))
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    verdicts[index[future]] = pickle.loads(future.result())
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    if progress is not None:
        progress(len(claims), ())
    return [verdicts[i] for i in range(len(claims))]


def run_record(verdicts: Sequence[Verdict], *, profile: str, seed: int, jobs: int, seconds: float) -> dict[str, Any]:
    """The JSON document of one ``twofold verify --json`` run (schema ``twofold/schemas/verdict.schema.json``)."""
    failed = sum(not v.passed for v in verdicts)
    return {
        "schema": SCHEMA_ID,
        "profile": profile,
        "seed": seed,
        "jobs": jobs,
        "seconds": round(seconds, 3),
        "versions": versions(),
        "summary": {"claims": len(verdicts), "passed": len(verdicts) - failed, "failed": failed},
        "verdicts": [v.to_dict() for v in verdicts],
    }


def without_wall_times(record: Any) -> Any:
    """A JSON record with every ``seconds`` entry (a wall time) dropped, recursively: what must be
    identical between two runs with the same seeds, serial or ``--jobs N``."""
    if isinstance(record, dict):
        return {key: without_wall_times(value) for key, value in record.items() if key != "seconds"}
    if isinstance(record, list):
        return [without_wall_times(value) for value in record]
    return record


def versions() -> dict[str, str | None]:
    """Python's version and the installed version of each distribution a verdict depends on (``None``: not installed)."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in DISTRIBUTIONS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` spawned processes whose BLAS/OpenMP pools share the CPUs instead of each taking all."""
    threads = str(max(1, available_cpus() // workers))
    saved = {name: os.environ.get(name) for name in THREAD_ENV}
    for name in THREAD_ENV:
        os.environ.setdefault(name, threads)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _verify_by_id(claim_id: str, seed: int, profile: str) -> bytes:
    """Worker side: look the claim up (importing only its family), verify it, pickle the verdict faithfully."""
    return dumps(registry.get_claim(claim_id).verify(seed=seed, profile=profile))


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
