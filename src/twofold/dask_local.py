"""A Dask ``LocalCluster`` in a process group of its own: ``python -m twofold.dask_local WORKERS``.

:class:`twofold.executors.DaskExecutor` starts this helper when no scheduler
address is given.  It starts a ``LocalCluster`` of ``WORKERS`` single-threaded
worker processes, prints the scheduler's address on one line, and closes the
cluster when its standard input ends (the parent closed it, or died).  Being in
its own process group, the helper and its workers never see the Ctrl-C a
terminal sends to the parent's group: the parent decides, and on an interrupt
kills the whole group at once.
"""

from __future__ import annotations

import logging
import sys


def main(argv: list[str]) -> int:
    from dask.distributed import LocalCluster

    workers = int(argv[0]) if argv else 2
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
    )
    try:
        print(cluster.scheduler_address, flush=True)
        sys.stdin.read()
    finally:
        cluster.close(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
