"""The executors: serial, the local pool and a real Dask LocalCluster give identical verdicts; workers are
warm, share the CPUs and never outlive an interrupted command."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import sympy

from twofold import executors
from twofold.contract import InputError
from twofold.executors import (
    THREAD_ENV,
    DaskExecutor,
    ExecutorError,
    LocalExecutor,
    SerialExecutor,
    Task,
    available_cpus,
    make_executor,
    run_all,
    stop_on_first_interrupt,
)
from twofold.runner import without_wall_times

# a Monte Carlo z-test, an exact count with unevaluated derivation steps, a rigorous interval
TASKS = [
    Task("favor.positive_unbiased", 0, "quick", (("angle", 30.0),)),
    Task("sampling.cgmh_balance", 1, "quick"),
    Task("favor.positive_unbiased", 2, "quick", (("angle", 90.0),)),
    Task("taylor.minimum_table", 0, "quick"),
    Task("position.first_block", 5, "quick", (("alpha", 0.25),)),
]


def same(one: list, two: list) -> None:
    """Verdicts equal in every recorded number and every derivation step, wall times aside."""
    assert [without_wall_times(v.to_dict()) for v in one] == [without_wall_times(v.to_dict()) for v in two]
    for a, b in zip(one, two, strict=True):
        assert a.derivation == b.derivation and a.comparison == b.comparison
        assert [(sympy.srepr(s.lhs), sympy.srepr(s.rhs)) for s in a.derivation.steps] == [
            (sympy.srepr(s.lhs), sympy.srepr(s.rhs)) for s in b.derivation.steps
        ]
        np.testing.assert_equal(dataclasses.asdict(a.estimate), dataclasses.asdict(b.estimate))


@pytest.fixture(scope="module")
def serial() -> list:
    with SerialExecutor() as executor:
        return run_all(executor, TASKS)


def test_local_pool_gives_the_serial_verdicts_and_tells_what_runs(serial: list) -> None:
    seen: list[tuple[int, tuple[int, ...]]] = []
    with LocalExecutor(2, preload=[t.claim for t in TASKS]) as executor:
        local = run_all(executor, TASKS, lambda done, running: seen.append((done, running)))
    same(serial, local)
    assert [done for done, _ in seen] == list(range(len(TASKS) + 1))
    assert all(set(running) <= set(range(len(TASKS))) and len(running) <= 2 for _, running in seen)


def test_dask_local_cluster_gives_the_serial_verdicts(serial: list) -> None:
    """A real LocalCluster of 2 single-threaded worker processes."""
    with DaskExecutor(2, preload=[t.claim for t in TASKS]) as executor:
        workers = executor._client.scheduler_info()["workers"]
        pids = executor._client.run(os.getpid)
        verdicts = run_all(executor, TASKS)
    assert len(workers) == 2 and all(w["nthreads"] == 1 for w in workers.values())
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    same(serial, verdicts)
    for _ in range(50):
        if not any(map(alive, pids.values())):
            break
        time.sleep(0.1)
    assert not any(map(alive, pids.values()))


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (/proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def test_the_parent_works_too_and_a_slow_worker_holds_nothing_back() -> None:
    """Tasks run in this process while the worker is still importing; with 3 short tasks the worker may do none."""
    tasks = [Task("position.first_block", seed, "quick") for seed in range(3)]
    start = time.perf_counter()
    with LocalExecutor(2) as executor:
        order = [index for index, _ in executor.imap(tasks)]
    assert sorted(order) == [0, 1, 2]
    assert time.perf_counter() - start < 10


def test_workers_get_a_share_of_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in THREAD_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # a value the user set is kept
    with executors._thread_share(2):
        seen = {name: os.environ.get(name) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    assert seen == {"OPENBLAS_NUM_THREADS": str(max(1, available_cpus() // 2)), "OMP_NUM_THREADS": "7"}
    assert os.environ.get("OPENBLAS_NUM_THREADS") is None and os.environ["OMP_NUM_THREADS"] == "7"
    code = "import os; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    with executors._thread_share(2):
        inherited = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
    assert inherited == str(max(1, available_cpus() // 2))


def test_a_dead_worker_is_an_error_not_a_hang() -> None:
    tasks = [Task("position.first_block", seed, "quick") for seed in range(200)]
    with pytest.raises(ExecutorError, match="worker process .* died"):
        with LocalExecutor(2) as executor:
            executor._workers[0].process.kill()
            list(executor.imap(tasks))


def test_executor_choice_is_checked() -> None:
    assert isinstance(make_executor("local", 1), SerialExecutor)
    assert isinstance(make_executor("local", 2), LocalExecutor)
    with pytest.raises(InputError, match="unknown executor"):
        make_executor("threads", 2)
    with pytest.raises(InputError, match="--scheduler needs --executor dask"):
        make_executor("local", 2, scheduler="tcp://127.0.0.1:8786")


def test_an_unreachable_scheduler_is_one_line() -> None:
    with pytest.raises(InputError, match="cannot reach the dask scheduler"):
        with DaskExecutor(1, scheduler="tcp://127.0.0.1:9", connect_timeout=1):
            pass


def test_a_command_stops_on_the_first_interrupt_and_ignores_the_next() -> None:
    before = signal.getsignal(signal.SIGINT)
    try:
        with stop_on_first_interrupt():
            assert signal.getsignal(signal.SIGINT) is not before
        assert signal.getsignal(signal.SIGINT) is before  # no interrupt: the handler is back
        with pytest.raises(KeyboardInterrupt), stop_on_first_interrupt():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # a second Ctrl-C cannot break the exit
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_stalled_worker_holds_nothing_back() -> None:
    """A worker that stops answering (SIGSTOP) keeps its task; this process recomputes it and finishes."""
    tasks = [Task("position.first_block", seed, "quick") for seed in range(12)]
    with LocalExecutor(2) as executor:
        worker = executor._workers[0]
        worker.conn.recv()  # its "ready": it takes a task as soon as imap starts
        worker.ready = True
        os.kill(worker.process.pid, signal.SIGSTOP)
        try:
            done = sorted(index for index, _ in executor.imap(tasks))
        finally:
            os.kill(worker.process.pid, signal.SIGCONT)
    assert done == list(range(12))
