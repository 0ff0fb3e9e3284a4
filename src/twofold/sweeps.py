"""``twofold.sweep``: one claim over a parameter grid and many seeds, into a resumable store.

>>> result = twofold.sweep("taylor.even_positive", grid={"n": [2, 4, 6]}, seeds=3)   # doctest: +SKIP
>>> result.summary()["passed"], result.to_pandas().shape                                # doctest: +SKIP

Every grid point is validated (parameter domains, hypotheses) before anything
runs.  Verdicts already in the store for the same claim, parameters, seed,
profile and twofold version are not recomputed; each new verdict is committed as
it completes, so an interrupted sweep resumes where it stopped.  The verdicts
are the same on every executor (:mod:`twofold.executors`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from twofold import registry, sweep_stats
from twofold.contract import ParameterError
from twofold.executors import Executor, Task, make_executor
from twofold.grid import Point, build_points, seed_list
from twofold.model import PROFILES
from twofold.store import MEMORY, Record, Store, to_pandas

SCHEMA_ID = "urn:twofold:sweep:1"

Progress = Callable[[int, int], None]
"""``progress(done, total)``: verdicts of this run finished so far, out of those it has to compute."""


def twofold_version() -> str:
    try:
        return version("twofold")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class SweepResult:
    """The records of one sweep (grid order, then seeds), how many were found already stored, and its settings."""

    claim: str
    profile: str
    axes: dict[str, tuple[Any, ...]]
    seeds: tuple[int, ...]
    records: tuple[Record, ...]
    skipped: int
    seconds: float
    executor: str
    jobs: int
    store: str | None

    def summary(self) -> dict[str, Any]:
        return sweep_stats.summary(self.records, self.seconds, self.skipped)

    def calibration(self) -> dict[str, Any] | None:
        return sweep_stats.calibration(self.records)

    def failures(self) -> list[dict[str, Any]]:
        return sweep_stats.failures(self.records)

    def to_pandas(self) -> Any:
        """A pandas DataFrame of the records (pandas is optional)."""
        return to_pandas(self.records)

    def to_dict(self) -> dict[str, Any]:
        """The ``twofold sweep --json`` document (schema ``twofold/schemas/sweep.schema.json``, docs/sweep.md)."""
        return {
            "schema": SCHEMA_ID,
            "claim": self.claim,
            "profile": self.profile,
            "version": self.records[0].version if self.records else twofold_version(),
            "executor": self.executor,
            "jobs": self.jobs,
            "store": self.store,
            "grid": {name: list(values) for name, values in self.axes.items()},
            "seeds": {"count": len(self.seeds), "first": self.seeds[0], "last": self.seeds[-1]},
            "summary": self.summary(),
            "calibration": self.calibration(),
            "points": sweep_stats.points(self.records),
            "failures": self.failures(),
        }


@dataclass(frozen=True)
class Plan:
    """A validated sweep: its tasks (grid order, then seeds) with each task's grid point."""

    claim: str
    profile: str
    axes: dict[str, tuple[Any, ...]]
    seeds: tuple[int, ...]
    points: tuple[Point, ...]

    def tasks(self) -> list[tuple[Task, Point]]:
        return [(Task(self.claim, seed, self.profile, point.point), point) for point in self.points for seed in self.seeds]


def plan(
    claim_id: str, grid: Mapping[str, Sequence[Any]] | None = None, seeds: int | Sequence[int] | None = None,
    profile: str = "quick",
) -> Plan:
    """Validate a sweep before it runs: the claim, every grid point (domains, hypotheses) and the seeds."""
    if profile not in PROFILES:
        raise ParameterError(f"unknown profile '{profile[:40]}' (choose from {', '.join(PROFILES)})")
    claim = registry.get_claim(claim_id)
    axes = {name: tuple(claim.parameter(name).coerce(v) for v in values) for name, values in (grid or {}).items()}
    return Plan(claim.id, profile, axes, seed_list(seeds), build_points(claim, axes, profile))


def run(
    chosen: Plan, store: Store, executor: Executor, progress: Progress | None = None
) -> SweepResult:
    """Compute the plan's verdicts not yet in ``store`` on ``executor``, committing each as it completes."""
    start = time.perf_counter()
    release = twofold_version()
    done = store.done(chosen.claim, chosen.profile, release)
    todo = [(task, point) for task, point in chosen.tasks() if (point.key(), task.seed) not in done]
    total = len(chosen.points) * len(chosen.seeds)
    if progress is not None:
        progress(0, len(todo))
    finished = 0
    if todo:
        with executor:
            for index, verdict in executor.imap([task for task, _ in todo]):
                task, point = todo[index]
                store.add(verdict, seed=task.seed, profile=task.profile, version=release, point=dict(point.point))
                finished += 1
                if progress is not None:
                    progress(finished, len(todo))
    wanted = {(point.key(), seed): n for n, (point, seed) in enumerate((p, s) for p in chosen.points for s in chosen.seeds)}
    found = [r for r in store.records(chosen.claim) if r.profile == chosen.profile and r.version == release]
    records = sorted((r for r in found if r.key()[1:3] in wanted), key=lambda r: wanted[r.key()[1:3]])
    return SweepResult(
        claim=chosen.claim,
        profile=chosen.profile,
        axes=chosen.axes,
        seeds=chosen.seeds,
        records=tuple(records),
        skipped=total - len(todo),
        seconds=time.perf_counter() - start,
        executor=executor.name,
        jobs=executor.jobs,
        store=None if store.path == MEMORY else store.path,
    )


def sweep(
    claim_id: str,
    grid: Mapping[str, Sequence[Any]] | None = None,
    seeds: int | Sequence[int] | None = None,
    *,
    profile: str = "quick",
    store: str | Path | None = None,
    executor: str = "local",
    jobs: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Verify ``claim_id`` at every point of ``grid`` (name → values) for every seed; see :mod:`twofold.sweeps`.

    ``seeds``: a count (seeds 0..N-1) or the seeds; ``store``: an SQLite file
    (resumed when it exists) or ``None`` for an in-memory store; ``executor``:
    ``"serial"``, ``"local"`` (``jobs`` processes, this one included) or
    ``"dask"`` (``scheduler`` address, else a LocalCluster of ``jobs`` workers).
    A script using ``"local"`` or ``"dask"`` must guard its entry point with
    ``if __name__ == "__main__":`` (workers are spawned).
    """
    chosen = plan(claim_id, grid, seeds, profile)
    pool = make_executor(executor, jobs, scheduler, preload=(chosen.claim,))
    with Store(MEMORY if store is None else store) as opened:
        return run(chosen, opened, pool, progress)
