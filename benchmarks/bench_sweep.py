r"""Throughput of the sweep executors (verdicts/s) and their per-task overhead, on this machine.

Two workloads, the same tasks on every executor (:mod:`twofold.executors`), in this process:

* *long* tasks: ``favor.mse_ratio`` at its quick parameters (a Monte Carlo claim, 0.3 s a verdict on an
  idle machine, more under load), one task per seed -- the case the local pool must not lose on 2 cores;
* *short* tasks: ``position.first_block`` (about 20 ms a verdict), to expose the cost of shipping a task
  and its verdict.

Executors: serial (this process), the local pool with ``JOBS`` processes (this one works too, ``JOBS - 1``
warm spawned workers) and a Dask ``LocalCluster`` of ``JOBS`` single-threaded worker processes.  Start-up
(spawning and warming the workers, or starting the cluster) is timed apart from the run; throughput is
given with and without it.  The per-task overhead is the process time an executor spends per task beyond
the serial computation if it parallelised perfectly: :math:`(J\,T_{\text{run}} - T_{\text{serial}})/N`
for :math:`N` short tasks on :math:`J` processes.  Verdicts must be identical across executors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from benchmarks.targets import Section, Target
from twofold.executors import DaskExecutor, Executor, LocalExecutor, SerialExecutor, Task, available_cpus, run_all
from twofold.runner import without_wall_times

JOBS = 2
LONG, SHORT = "favor.mse_ratio", "position.first_block"
SIZES = {False: (24, 200), True: (3, 20)}  # (long tasks, short tasks), full and quick


@dataclass(frozen=True)
class Timing:
    """Start-up and run wall time of one executor on ``tasks`` tasks, and its verdicts without wall times."""

    executor: str
    tasks: int
    startup: float
    run: float
    verdicts: tuple

    @property
    def rate(self) -> float:
        return self.tasks / self.run

    @property
    def rate_with_startup(self) -> float:
        return self.tasks / (self.startup + self.run)


def timed(name: str, make: type[Executor] | object, tasks: list[Task]) -> Timing:
    start = time.perf_counter()
    with make() as executor:  # type: ignore[operator]
        ready = time.perf_counter()
        verdicts = run_all(executor, tasks)
        done = time.perf_counter()
    return Timing(name, len(tasks), ready - start, done - ready, tuple(without_wall_times(v.to_dict()) for v in verdicts))


def executors(claim: str, dask: bool) -> dict[str, object]:
    """The executors measured; the quick mode leaves out Dask, whose cluster start-up (5-7 s) would dominate a
    smoke run and which tests/test_executors.py already runs on a real LocalCluster."""
    found = {
        "serial": SerialExecutor,
        f"local pool, {JOBS} processes": lambda: LocalExecutor(JOBS, preload=[claim]),
        f"dask LocalCluster, {JOBS} workers": lambda: DaskExecutor(JOBS, preload=[claim]),
    }
    return found if dask else dict(list(found.items())[:2])


def measure(claim: str, tasks: list[Task], dask: bool = True) -> list[Timing]:
    timed("warm-up", SerialExecutor, tasks[:1])  # imports and caches of this process, as a warm worker has them
    return [timed(name, make, tasks) for name, make in executors(claim, dask).items()]


def table(timings: list[Timing], serial: Timing) -> str:
    rows = "".join(
        f"| {t.executor} | {t.tasks} | {t.startup:.2f} | {t.run:.2f} | {t.rate:.2f} | {t.rate_with_startup:.2f} "
        f"| {serial.run / t.run:.2f}x | {serial.run / (t.startup + t.run):.2f}x |\n"
        for t in timings
    )
    return (
        "| executor | tasks | start-up (s) | run (s) | verdicts/s | verdicts/s with start-up | speed-up | with start-up |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n" + rows
    )


def section(quick: bool = False) -> Section:
    long_count, short_count = SIZES[quick]
    long_tasks = [Task(LONG, seed, "quick") for seed in range(long_count)]
    short_tasks = [Task(SHORT, seed, "quick") for seed in range(short_count)]
    long_timings, short_timings = measure(LONG, long_tasks, dask=not quick), measure(SHORT, short_tasks, dask=not quick)
    serial_long, serial_short = long_timings[0], short_timings[0]
    overheads = [
        (t.executor, (JOBS * t.run - serial_short.run) / t.tasks * 1e3) for t in short_timings[1:]
    ]
    differing = sum(t.verdicts != serial_long.verdicts for t in long_timings) + sum(
        t.verdicts != serial_short.verdicts for t in short_timings
    )
    body = (
        f"{available_cpus()} CPUs available to this process; the machine is shared with other jobs, so "
        "absolute numbers vary from run to run.\n\n"
        f"Long tasks (`{LONG}`, about {serial_long.run / serial_long.tasks:.2f} s a verdict):\n\n"
        + table(long_timings, serial_long)
        + f"\nShort tasks (`{SHORT}`, about {serial_short.run / serial_short.tasks * 1e3:.0f} ms a verdict):\n\n"
        + table(short_timings, serial_short)
        + "\nPer-task overhead, (J T_run - T_serial) / N on the short tasks: "
        + "; ".join(f"{name}: {ms:.1f} ms" for name, ms in overheads)
        + ".\n"
    )
    local_long = long_timings[1]
    targets = (
        Target(
            f"local pool ({JOBS} processes) over serial, long tasks, start-up included",
            serial_long.run / (local_long.startup + local_long.run), 1.0,
        ),
        Target("verdicts differing between executors", float(differing), 0, "tasks", higher_is_better=False),
    )
    return Section("Sweep executors: throughput and per-task overhead", body, targets)


if __name__ == "__main__":
    print(section().markdown())
