"""Run sympy work on untrusted input in a child process, under a wall-clock and a memory limit.

Simplifying a parseable but hostile expression (``expand((x + y + 1)**1000)``)
can take minutes or gigabytes, and sympy cannot be interrupted from the
inside.  :func:`run_limited` runs a generator in a child process, collects
what it yields as it goes, and kills the child when the time is up, so the
caller keeps every partial result produced before the limit.

On Linux the child is forked from the running interpreter (about 10 ms: sympy
is already imported); elsewhere it is spawned, which re-imports the modules
and so spends part of the time limit on start-up.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
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
    exception that stopped it (one line).
    """

    items: tuple[T, ...]
    finished: bool
    failure: str = ""
    timed_out: bool = False


DEMOTE_AFTER = 0.25
"""Seconds after which a child still working runs at the lowest CPU priority, so that short checks
started later are not slowed down by a long (possibly hostile) one."""


def run_limited(
    work: Callable[..., Iterator[T]], *args: Any, timeout: float, memory: int = MAX_MEMORY_BYTES
) -> Run[T]:
    """Iterate ``work(*args)`` in a child process for at most ``timeout`` seconds of wall-clock time.

    ``work`` must be a module-level generator function and its items picklable;
    with the spawn start method, ``args`` must be picklable too.  A child still
    running after :data:`DEMOTE_AFTER` seconds is moved to the lowest CPU priority.
    """
    context = multiprocessing.get_context(_START_METHOD)
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(writer, work, args, memory), daemon=True)
    start = time.monotonic()
    deadline = start + timeout
    demoted = False
    child.start()
    writer.close()
    items: list[T] = []
    try:
        while True:
            now = time.monotonic()
            remaining = deadline - now
            if not demoted and now - start >= DEMOTE_AFTER:
                demoted = _demote(child.pid)
            wait = remaining if demoted else min(remaining, start + DEMOTE_AFTER - now)
            if remaining <= 0:
                return Run(tuple(items), False, f"time limit of {timeout:g} s reached", timed_out=True)
            if not reader.poll(max(wait, 0)):
                continue
            try:
                kind, payload = reader.recv()
            except EOFError:
                child.join(1)
                return Run(tuple(items), False, f"the worker stopped (exit code {child.exitcode})")
            if kind == "item":
                items.append(payload)
            elif kind == "done":
                return Run(tuple(items), True)
            else:
                return Run(tuple(items), False, payload)
    finally:
        reader.close()
        if child.is_alive():
            child.kill()
        child.join()


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
    """At most ``size`` limited runs at once, shared by the threads of a server: the others wait their turn."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = threading.BoundedSemaphore(size)

    def run(self, work: Callable[..., Iterator[T]], *args: Any, timeout: float) -> Run[T]:
        """:func:`run_limited` once a slot is free; the time limit starts when the child starts."""
        with self._slots:
            return run_limited(work, *args, timeout=timeout)


def _child(connection: Connection, work: Callable[..., Iterator[Any]], args: tuple[Any, ...], memory: int) -> None:
    """Body of the child: send ``("item", x)`` per item, then ``("done", None)`` or ``("failed", why)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(memory)
    # exact arithmetic may meet integers of more than 4300 digits; time and memory are limited here instead
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    try:
        for item in work(*args):
            connection.send(("item", item))
        connection.send(("done", None))
    except MemoryError:
        connection.send(("failed", f"memory limit of {memory >> 20} MiB reached"))
    except RecursionError:
        connection.send(("failed", "the expression is too deeply nested for sympy"))
    except Exception as exc:  # sympy's failure modes are open-ended; the caller reports them as one line
        message = " ".join(f"the computation raised {type(exc).__name__}: {exc}".split())
        connection.send(("failed", message[:_MESSAGE_LIMIT]))
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
