"""Run sympy work on untrusted input in a child process, under a time limit and a memory limit.

Simplifying a parseable but hostile expression (``expand((x + y + 1)**1000)``)
can take minutes or gigabytes, and sympy cannot be interrupted from the
inside.  :func:`run_limited` runs a generator in a child process, collects
what it yields as it goes, and kills the child when the time is up, so the
caller keeps every partial result produced before the limit.  The time limit
counts the child's CPU time on Linux (a busy machine does not turn a quick
check into a time-out), with a wall-clock cap of :data:`WALL_FACTOR` times the
limit.  :class:`Pool` keeps long-lived workers for a server.

On Linux the child is forked from the running interpreter (about 10 ms: sympy
is already imported); elsewhere it is spawned, which re-imports the modules
and so spends part of the time limit on start-up.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

T = TypeVar("T")

MAX_MEMORY_BYTES = 1 << 30
"""Address space the child may add to what it inherits (1 GiB)."""
_START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"
_MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class Run(Generic[T]):
    """What a limited run produced: the items yielded in order, and whether the generator finished.

    ``failure`` says why it did not: the time limit, the memory limit, or the
    exception that stopped it (one line).  ``seconds`` is the wall-clock time
    from the start of the work (waiting for a pool worker excluded).
    """

    items: tuple[T, ...]
    finished: bool
    failure: str = ""
    timed_out: bool = False
    seconds: float = 0.0


DEMOTE_AFTER = 0.25
"""CPU seconds after which a task still working runs at the lowest CPU priority, so that short checks
started later are not slowed down by a long (possibly hostile) one."""


def run_limited(
    work: Callable[..., Iterator[T]], *args: Any, timeout: float, memory: int = MAX_MEMORY_BYTES
) -> Run[T]:
    """Iterate ``work(*args)`` in a child process for at most ``timeout`` seconds (see :func:`_collect`).

    ``work`` must be a module-level generator function and its items picklable;
    with the spawn start method, ``args`` must be picklable too.
    """
    context = multiprocessing.get_context(_START_METHOD)
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(writer, work, args, memory), daemon=True)
    child.start()
    writer.close()
    try:
        return _collect(reader, child, timeout)
    finally:
        reader.close()
        if child.is_alive():
            child.kill()
        child.join()


WALL_FACTOR = 2.0
"""A task may take this many times its time limit in wall-clock time while it waits for a CPU."""
_POLL = 0.05


def _collect(connection: Connection, process: BaseProcess, timeout: float) -> Run[Any]:
    """Gather what ``process`` sends until it is done, fails, or has used ``timeout`` seconds.

    The limit counts the process's own CPU time where Linux reports it (so a
    machine busy with other work does not turn a quick check into a time-out),
    and its wall-clock time elsewhere; a task is also stopped after
    :data:`WALL_FACTOR` times the limit in wall-clock time.  A process still
    working after :data:`DEMOTE_AFTER` seconds is moved to the lowest CPU
    priority.  The caller kills the process when the run did not finish.
    """
    start = time.monotonic()
    clock = _CpuClock(process.pid)
    demoted = False
    items: list[Any] = []
    while True:
        now = time.monotonic()
        used = clock.seconds(now - start)
        if not demoted and used >= DEMOTE_AFTER:
            demoted = _demote(process.pid)
        if used >= timeout or now - start >= WALL_FACTOR * timeout:
            return Run(tuple(items), False, f"time limit of {timeout:g} s reached", True, now - start)
        if not connection.poll(min(_POLL, max(timeout - used, 0.001))):
            continue
        try:
            kind, payload = connection.recv()
        except EOFError:
            process.join(1)
            return Run(tuple(items), False, f"the worker stopped (exit code {process.exitcode})", False, time.monotonic() - start)
        if kind == "item":
            items.append(payload)
            continue
        seconds = time.monotonic() - start
        if demoted and not _restore(process.pid):
            process.kill()  # a worker left at low priority would slow every later task
        return Run(tuple(items), True, seconds=seconds) if kind == "done" else Run(tuple(items), False, payload, False, seconds)


class _CpuClock:
    """CPU seconds a process has used since this clock was made (from /proc on Linux; else the wall time given)."""

    def __init__(self, pid: int | None) -> None:
        self._path = f"/proc/{pid}/stat"
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._start = self._read()

    def _read(self) -> float | None:
        try:
            with open(self._path, encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / self._tick
        except (OSError, IndexError, ValueError):
            return None

    def seconds(self, wall: float) -> float:
        now = self._read()
        return wall if now is None or self._start is None else now - self._start


def _demote(pid: int | None) -> bool:
    """Lower the child's CPU priority to the minimum (best effort); True once done or impossible."""
    if pid is None:
        return True
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 19)
    except (AttributeError, OSError):
        pass
    return True


class Pool:
    """``size`` long-lived sandboxed worker processes shared by the threads of a server.

    A task waits for a free worker, runs there under the same wall-clock limit
    as :func:`run_limited` (and is moved to the lowest CPU priority after
    :data:`DEMOTE_AFTER` seconds), and the worker is killed when the limit
    strikes or memory runs out; a fresh one is forked in its place.  Workers
    are forked from the process that creates the pool (warm sympy caches are
    inherited), so no task pays a process start unless the one before it on
    that worker was killed.  ``work`` must be a module-level generator
    function; its arguments and items must be picklable.
    """

    def __init__(self, size: int, memory: int = MAX_MEMORY_BYTES) -> None:
        self.size = size
        self._memory = memory
        self._idle: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        for _ in range(size):
            self._idle.put(_Worker(memory))

    def run(self, work: Callable[..., Iterator[T]], *args: Any, timeout: float) -> Run[T]:
        worker = self._idle.get()
        if worker is None or not worker.alive():
            worker = _Worker(self._memory)
        try:
            result = worker.run(work, args, timeout)
        except BaseException:
            worker.stop()
            self._idle.put(None)
            raise
        if not worker.alive():
            worker.stop()
            worker = None
        self._idle.put(worker)
        return result

    def close(self) -> None:
        """Stop every idle worker (workers busy now are stopped when their task ends)."""
        while not self._idle.empty():
            worker = self._idle.get()
            if worker is not None:
                worker.stop()


class _Worker:
    """One forked worker process and the pipe its tasks and results travel through."""

    def __init__(self, memory: int) -> None:
        context = multiprocessing.get_context(_START_METHOD)
        self._connection, child_end = context.Pipe(duplex=True)
        self._process = context.Process(target=_serve, args=(child_end, memory), daemon=True)
        self._process.start()
        child_end.close()

    def alive(self) -> bool:
        return self._process.is_alive()

    def stop(self) -> None:
        """Kill the process (if it still runs) and release its pipe; safe to call twice."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        if not self._connection.closed:
            self._connection.close()

    def run(self, work: Callable[..., Iterator[T]], args: tuple[Any, ...], timeout: float) -> Run[T]:
        self._connection.send((work, args))
        result = _collect(self._connection, self._process, timeout)
        if not result.finished and not result.failure.startswith("the computation raised"):
            self.stop()  # timed out, out of memory, or gone: a fresh worker takes its place
        return result


def _restore(pid: int | None) -> bool:
    """Put a demoted worker back to normal priority; False when not allowed (only root may raise priority)."""
    if pid is None:
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 0)
    except (AttributeError, OSError):
        return False
    return True


def _serve(connection: Connection, memory: int) -> None:
    """Body of a pool worker: run tasks until the pipe closes; a memory error ends the worker."""
    _prepare(memory)
    while True:
        try:
            work, args = connection.recv()
        except (EOFError, OSError):
            return
        if not _report(connection, work, args, memory):
            return


def _prepare(memory: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(memory)
    # exact arithmetic may meet integers of more than 4300 digits; time and memory are limited here instead
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)


def _report(connection: Connection, work: Callable[..., Iterator[Any]], args: tuple[Any, ...], memory: int) -> bool:
    """Send ``("item", x)`` per item, then ``("done", None)`` or ``("failed", why)``; False after a memory error."""
    try:
        for item in work(*args):
            connection.send(("item", item))
        connection.send(("done", None))
    except MemoryError:
        connection.send(("failed", f"memory limit of {memory >> 20} MiB reached"))
        return False
    except RecursionError:
        connection.send(("failed", "the expression is too deeply nested for sympy"))
    except Exception as exc:  # sympy's failure modes are open-ended; the caller reports them as one line
        message = " ".join(f"the computation raised {type(exc).__name__}: {exc}".split())
        connection.send(("failed", message[:_MESSAGE_LIMIT]))
    return True


def _child(connection: Connection, work: Callable[..., Iterator[Any]], args: tuple[Any, ...], memory: int) -> None:
    """Body of a one-task child: send ``("item", x)`` per item, then ``("done", None)`` or ``("failed", why)``."""
    _prepare(memory)
    try:
        _report(connection, work, args, memory)
    finally:
        connection.close()


def _limit_memory(extra: int) -> None:
    """Cap the child's address space at what it inherited plus ``extra`` bytes (Linux only)."""
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as statm:
            inherited = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = inherited + extra
        resource.setrlimit(resource.RLIMIT_AS, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))
    except (ImportError, OSError, ValueError):
        return
