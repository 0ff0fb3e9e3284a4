"""Where verdicts are computed: in this process, in a local pool of warm workers, or on a Dask cluster.

One parallel path serves ``twofold verify --jobs`` and ``twofold sweep``.  A
:class:`Task` names a registered claim, a seed, a profile and parameter
overrides; a verdict depends on these only, never on the process that computed
it, so every executor returns the same verdicts (wall times aside).  An
executor is a context manager whose :meth:`imap` yields ``(index, verdict)``
pairs as tasks finish, in any order:

* :class:`SerialExecutor` -- this process, in task order.
* :class:`LocalExecutor` -- ``jobs`` processes in all: this one works too, and
  ``jobs - 1`` spawned workers import twofold and the claims' families once,
  before they ask for work.  Each consumer (this process or a worker) takes the
  next task when it is free, so the load balances itself, and a worker still
  starting up never holds a task back.
* :class:`DaskExecutor` -- ``dask.distributed``: ``Client(ADDRESS)`` for a
  running scheduler, else a ``LocalCluster`` of ``jobs`` worker processes.

Interrupts: a Ctrl-C, which a terminal sends to the whole foreground process
group, is this process's alone to handle.  Local workers are started with SIGINT
ignored; the Dask LocalCluster runs in a process group of its own.  The
KeyboardInterrupt stops the executor (local workers terminated, killed after
:data:`GRACE` seconds; Dask futures cancelled and the LocalCluster's group
killed), further SIGINTs are ignored while that happens, then the interrupt
propagates.  :func:`stop_on_first_interrupt` makes a command ignore every
SIGINT after the first.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import FrameType, TracebackType
from typing import Any, Protocol

from twofold import registry
from twofold.contract import InputError, TwofoldError
from twofold.model import Verdict
from twofold.transfer import dumps

THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
GRACE = 0.5  # seconds a terminated worker gets before it is killed
CLUSTER_GRACE = 2.0  # seconds the LocalCluster gets to close before its process group is killed
WORKER_NICE = 10  # workers' niceness above this process's (see _lower_priority)
POLL = 0.2  # seconds between checks while this process waits for a worker's verdict
EXECUTORS = ("serial", "local", "dask")


class ExecutorError(TwofoldError):
    """A worker died or a task raised outside the claim's own error handling (exit code 3)."""

    exit_code = 3


@dataclass(frozen=True)
class Task:
    """One verdict to compute: ``get_claim(claim).verify(seed=seed, profile=profile, **dict(params))``."""

    claim: str
    seed: int
    profile: str
    params: tuple[tuple[str, Any], ...] = ()

    def run(self) -> Verdict:
        return registry.get_claim(self.claim).verify(seed=self.seed, profile=self.profile, **dict(self.params))


def run_pickled(task: Task) -> bytes:
    """Worker side: the task's verdict, pickled faithfully (:mod:`twofold.transfer`)."""
    return dumps(task.run())


def preload(claim_ids: Sequence[str]) -> None:
    """Import the families of these claims (and with them sympy, numpy, scipy): a warm worker."""
    for claim_id in claim_ids:
        registry.get_claim(claim_id)


class Executor(Protocol):
    """What :func:`run_all`, ``verify --jobs`` and ``sweep`` need of an executor."""

    name: str
    jobs: int

    def __enter__(self) -> Executor: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None: ...

    def imap(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Verdict]]: ...

    def running(self) -> tuple[int, ...]: ...


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def make_executor(name: str, jobs: int = 1, scheduler: str | None = None, preload: Sequence[str] = ()) -> Executor:
    """The executor called ``name`` (one of :data:`EXECUTORS`); ``local`` with one job is serial."""
    if name not in EXECUTORS:
        raise InputError(f"unknown executor '{name[:40]}' (choose from {', '.join(EXECUTORS)})")
    if scheduler is not None and name != "dask":
        raise InputError("--scheduler needs --executor dask")
    if name == "dask":
        return DaskExecutor(jobs, scheduler, preload)
    if name == "local" and jobs > 1:
        return LocalExecutor(jobs, preload)
    return SerialExecutor()


def run_all(
    executor: Executor, tasks: Sequence[Task], progress: Callable[[int, tuple[int, ...]], None] | None = None
) -> list[Verdict]:
    """Verdicts of ``tasks`` in task order; ``progress(done, running task indices)`` after each one."""
    verdicts: dict[int, Verdict] = {}
    if progress is not None:
        progress(0, executor.running())
    for index, verdict in executor.imap(tasks):
        verdicts[index] = verdict
        if progress is not None:
            progress(len(verdicts), executor.running())
    return [verdicts[i] for i in range(len(tasks))]


@contextlib.contextmanager
def stop_on_first_interrupt() -> Iterator[None]:
    """In this block (a command) the first SIGINT raises KeyboardInterrupt and every later one is ignored.

    A block left without an interrupt restores the previous handler; after an interrupt SIGINT stays
    ignored, so a second Ctrl-C cannot break into the clean-up and exit of the command.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _interrupt_once)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGINT) is _interrupt_once:
            signal.signal(signal.SIGINT, previous)


def _interrupt_once(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored in this block (then the previous handler is back); does nothing outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _children_ignore_sigint() -> Iterator[None]:
    """Processes started in this block ignore SIGINT for life (an ignored signal stays ignored across exec),
    while a SIGINT arriving meanwhile is held (blocked, not lost) and delivered to this process afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        with _sigint_ignored():
            yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextlib.contextmanager
def _thread_share(workers: int) -> Iterator[None]:
    """BLAS/OpenMP pools of processes started in this block get ``cpus // workers`` threads (user values kept)."""
    threads = str(max(1, available_cpus() // workers))
    saved = {name: os.environ.get(name) for name in THREAD_ENV}
    for name in THREAD_ENV:
        os.environ.setdefault(name, threads)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class SerialExecutor:
    """Every task in this process, in order."""

    name = "serial"
    jobs = 1

    def __init__(self) -> None:
        self._current: tuple[int, ...] = ()

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._current = ()

    def imap(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Verdict]]:
        for index, task in enumerate(tasks):
            self._current = (index,)
            yield index, task.run()
        self._current = ()

    def running(self) -> tuple[int, ...]:
        return self._current


@dataclass
class _Worker:
    process: Any
    conn: Connection
    ready: bool = False
    task: int | None = None


class LocalExecutor:
    """``jobs`` processes: this one and ``jobs - 1`` spawned, warm workers, each taking the next task when free.

    Workers are *spawned* (fresh interpreters: nothing of this process's threads
    or locks is inherited), get a share of the CPUs for their BLAS pools, import
    the families of ``preload`` and then say they are ready; only a ready worker
    is handed a task.  Results come back through one pipe per worker, pickled by
    :class:`twofold.transfer.VerdictPickler`.
    """

    name = "local"

    def __init__(self, jobs: int, preload: Sequence[str] = ()) -> None:
        if jobs < 2:
            raise ValueError("a local pool needs at least 2 jobs (this process and a worker)")
        self.jobs = jobs
        self._preload = tuple(dict.fromkeys(preload))
        self._workers: list[_Worker] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._queue: deque[int] = deque()
        self._finished: set[int] = set()
        self._own: int | None = None

    def __enter__(self) -> LocalExecutor:
        context = multiprocessing.get_context("spawn")
        try:
            with _children_ignore_sigint(), _thread_share(self.jobs):
                for _ in range(self.jobs - 1):
                    mine, theirs = context.Pipe()
                    process = context.Process(target=_worker_main, args=(theirs, self._preload), daemon=True)
                    process.start()
                    theirs.close()
                    _lower_priority(process.pid)
                    self._workers.append(_Worker(process, mine))
        except BaseException:
            self._shutdown(graceful=False)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self._shutdown(graceful=True)
            return
        with _sigint_ignored():
            self._shutdown(graceful=False)

    def running(self) -> tuple[int, ...]:
        with self._lock:
            busy = [w.task for w in self._workers if w.task is not None]
            return tuple(sorted(busy + ([] if self._own is None else [self._own])))

    def imap(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Verdict]]:
        """Verdicts as they finish.  This process takes the next task in the queue; when the queue is
        empty it recomputes a task a worker still holds (a worker's first task also builds its caches,
        and on a busy machine a worker can be slow) and keeps whichever verdict comes first -- they are
        identical -- so it never waits idle for a straggler."""
        self._queue = deque(range(len(tasks)))
        self._finished: set[int] = set()
        results: queue.SimpleQueue[tuple[int | None, str, Any]] = queue.SimpleQueue()
        for worker in self._workers:
            threading.Thread(target=self._feed, args=(worker, tasks, results), daemon=True).start()
        duplicated: set[int] = set()
        while len(self._finished) < len(tasks):
            try:
                item: tuple[int | None, str, Any] | None = results.get_nowait()
            except queue.Empty:
                item = None
            if item is None:
                index = self._take(None) if self._queue else self._straggler(duplicated)
                if index is None:
                    item = self._wait_for(results)
                else:
                    verdict = tasks[index].run()
                    self._own = None
                    if index not in self._finished:
                        self._finished.add(index)
                        yield index, verdict
                    continue
            index, verdict = _unpack(item, tasks)
            if index not in self._finished:
                self._finished.add(index)
                yield index, verdict

    def _straggler(self, duplicated: set[int]) -> int | None:
        """The earliest task a worker holds that is neither finished nor already recomputed here."""
        with self._lock:
            held = sorted(w.task for w in self._workers if w.task is not None)
            index = next((i for i in held if i not in self._finished and i not in duplicated), None)
            if index is not None:
                duplicated.add(index)
                self._own = index
            return index

    def _take(self, worker: _Worker | None) -> int | None:
        """The next task's index (``None``: none left), recorded as the worker's (``None``: this process's)."""
        with self._lock:
            index = self._queue.popleft() if self._queue else None
            if worker is None:
                self._own = index
            else:
                worker.task = index
            return index

    def _wait_for(self, results: queue.SimpleQueue[tuple[int | None, str, Any]]) -> tuple[int | None, str, Any]:
        while True:
            with contextlib.suppress(queue.Empty):
                return results.get(timeout=POLL)

    def _feed(self, worker: _Worker, tasks: Sequence[Task], results: queue.SimpleQueue[tuple[int | None, str, Any]]) -> None:
        """Feeder thread of one worker: once it is ready, hand it one task at a time until none is left.

        It blocks in ``recv`` (no polling: a thread waking up to poll would take the GIL from this
        process's own computation, which on a loaded machine costs a scheduling delay each time);
        stopping the worker ends the wait with EOFError.
        """
        index: int | None = None
        try:
            if not worker.ready:
                worker.conn.recv()
                worker.ready = True
            while not self._stop.is_set():
                index = self._take(worker)
                if index is None:
                    return
                worker.conn.send(tasks[index])
                kind, payload = worker.conn.recv()
                with self._lock:
                    worker.task = None
                results.put((index, kind, payload))
        except (EOFError, OSError) as exc:
            if not self._stop.is_set():
                claim = "" if index is None else f" while verifying {tasks[index].claim} (seed {tasks[index].seed})"
                results.put((index, "died", f"worker process {worker.process.pid} died{claim}: {type(exc).__name__}"))

    def _shutdown(self, graceful: bool) -> None:
        self._stop.set()
        for worker in self._workers:
            if graceful and worker.ready and worker.task is None:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
            else:
                worker.process.terminate()
        for worker in self._workers:
            worker.process.join(GRACE)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers = []


def _lower_priority(pid: int) -> None:
    """Make a worker yield the CPU to this process when they compete for it (``nice`` :data:`WORKER_NICE`).

    This process computes too, at the speed of a serial run; a worker should only add.  On a busy
    machine, where the processes of one session share one slice of the CPUs (Linux's autogroups), a
    worker at the same priority takes from this process's share, starting up or computing (measured
    on a loaded 2-CPU machine: this process's verdicts took 2.3x longer beside such a worker, and
    the run was slower than serial); at a lower priority it mostly uses what this process leaves.
    On an idle machine each process has a core and priorities change nothing.
    """
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICE))


def _unpack(item: tuple[int | None, str, Any], tasks: Sequence[Task]) -> tuple[int, Verdict]:
    index, kind, payload = item
    if kind == "ok" and index is not None:
        return index, pickle.loads(payload)
    if kind == "error" and index is not None:
        raise ExecutorError(f"{tasks[index].claim} (seed {tasks[index].seed}) raised in a worker: {payload}")
    raise ExecutorError(str(payload))


def _worker_main(conn: Connection, claim_ids: tuple[str, ...]) -> None:
    """A local worker: warm up, say so, then verify each task received until told to stop (``None``) or orphaned."""
    try:
        preload(claim_ids)
        conn.send(("ready", os.getpid()))
        while (task := conn.recv()) is not None:
            try:
                reply = ("ok", run_pickled(task))
            except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it there
                reply = ("error", f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
            conn.send(reply)
    except (EOFError, OSError):  # the parent went away
        return


class DaskExecutor:
    """Tasks as ``dask.distributed`` futures: on the scheduler at ``scheduler``, else on a ``LocalCluster``
    of ``jobs`` single-threaded worker processes that :mod:`twofold.dask_local` runs for this executor
    in a process group of its own (closed with the executor, killed at once on an interrupt)."""

    name = "dask"

    def __init__(
        self, jobs: int = 2, scheduler: str | None = None, preload: Sequence[str] = (), connect_timeout: float = 10.0
    ) -> None:
        self.jobs = max(1, jobs)
        self.scheduler = scheduler
        self.connect_timeout = connect_timeout
        self._preload = tuple(dict.fromkeys(preload))
        self._client: Any = None
        self._cluster: subprocess.Popen[str] | None = None
        self._futures: dict[Any, int] = {}

    def __enter__(self) -> DaskExecutor:
        try:
            from dask.distributed import Client
        except ImportError:
            raise InputError("--executor dask needs dask.distributed: pip install 'twofold[dask]'") from None
        try:
            address = self.scheduler if self.scheduler is not None else self._start_cluster()
            self._client = _connect(Client, address, self.connect_timeout)
            if self._preload:
                self._client.run(preload, self._preload)
        except BaseException as exc:
            with _sigint_ignored():
                self._close(graceful=False)
            if isinstance(exc, OSError):
                raise ExecutorError(f"could not start a dask LocalCluster: {exc}") from None
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        with _sigint_ignored():
            self._close(graceful=kind is None)

    def running(self) -> tuple[int, ...]:
        return tuple(sorted(i for future, i in self._futures.items() if future.status == "pending"))[: self.jobs]

    def imap(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Verdict]]:
        from dask.distributed import as_completed

        batch = uuid.uuid4().hex[:12]
        self._futures = {
            self._client.submit(run_pickled, task, key=f"twofold-{batch}-{i}", pure=False): i for i, task in enumerate(tasks)
        }
        for future in as_completed(list(self._futures)):
            index = self._futures.pop(future)
            if future.status != "finished":
                raise ExecutorError(f"{tasks[index].claim} (seed {tasks[index].seed}) failed on dask: {future.exception()}")
            yield index, pickle.loads(future.result())

    def _start_cluster(self) -> str:
        """Start :mod:`twofold.dask_local` in a new process group and read the scheduler's address."""
        log = tempfile.TemporaryFile(mode="w+")
        with _thread_share(self.jobs):
            self._cluster = subprocess.Popen(
                [sys.executable, "-m", "twofold.dask_local", str(self.jobs)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True,
            )
        assert self._cluster.stdout is not None
        address = self._cluster.stdout.readline().strip()
        if not address:
            log.seek(0)
            tail = " ".join(log.read().split())[-300:]
            raise ExecutorError(f"the dask LocalCluster did not start (exit code {self._cluster.wait()}): {tail}")
        return address

    def _close(self, graceful: bool) -> None:
        if self._client is not None:
            if self._futures:
                with contextlib.suppress(Exception):
                    self._client.cancel(list(self._futures), force=True)
            self._futures = {}
            with contextlib.suppress(Exception):
                self._client.close(timeout=2)
        self._client = None
        cluster, self._cluster = self._cluster, None
        if cluster is None:
            return
        if graceful:
            with contextlib.suppress(OSError):
                cluster.stdin.close()  # type: ignore[union-attr]
            with contextlib.suppress(subprocess.TimeoutExpired):
                cluster.wait(CLUSTER_GRACE)
                return
        with contextlib.suppress(OSError):
            os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()


def _connect(client_class: Any, address: str, timeout: float) -> Any:
    try:
        return client_class(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the dask scheduler at {address[:80]}: {' '.join(str(exc).split())[:200]}") from None
