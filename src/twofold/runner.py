"""Verify a sequence of claims, serially or in worker processes, with the same verdicts either way.

Every claim is verified by ``claim.verify(seed=seed, profile=profile)``: its
estimator draws from ``numpy.random.default_rng(seed)``, so a verdict depends
on the claim, the seed and the profile only, never on which process ran it or
what ran there before.  :func:`verify_claims` returns verdicts in claim order.

With ``jobs > 1`` the claims run on the local executor of
:mod:`twofold.executors` (the one ``twofold sweep`` uses): this process works
too, and ``jobs - 1`` warm spawned workers take the next claim when free.
Verdicts come back pickled by :class:`VerdictPickler` (:mod:`twofold.transfer`),
which keeps every unevaluated derivation step as the worker built it.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from twofold import registry
from twofold.contract import InputError, ParameterError
from twofold.executors import LocalExecutor, Task, available_cpus, run_all
from twofold.model import Claim, Verdict
from twofold.transfer import VerdictPickler, dumps

__all__ = ["MAX_JOBS", "VerdictPickler", "dumps", "resolve_jobs", "run_record", "verify_claims", "versions", "without_wall_times"]

MAX_JOBS = 64
SCHEMA_ID = "urn:twofold:verify:1"
DISTRIBUTIONS = ("twofold", "numpy", "scipy", "sympy", "mpmath", "networkx", "python-flint")

Progress = Callable[[int, tuple[str, ...]], None]
"""``progress(done, running)``: claims finished so far, ids of the claims being verified now.

With worker processes, ``running`` is every claim in progress: this process's
and one per busy worker, in claim order."""


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
    tasks = [Task(claim.id, seed, profile) for claim in claims]

    def show(done: int, running: tuple[int, ...]) -> None:
        if progress is not None:
            progress(done, tuple(tasks[i].claim for i in running))

    with LocalExecutor(workers, preload=[task.claim for task in tasks]) as executor:
        return run_all(executor, tasks, show)


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
