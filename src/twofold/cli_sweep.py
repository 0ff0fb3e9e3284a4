"""``twofold sweep``: ``sweep ID [options]`` runs a sweep, ``sweep export STORE -o FILE``, ``sweep report STORE -o FILE``.

``sweep ID ...`` is short for ``sweep run ID ...``: a first argument that is not
a subcommand is a claim id.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from twofold.executors import EXECUTORS
from twofold.model import PROFILES
from twofold.runner import MAX_JOBS

DEFAULT_STORE = "twofold-sweep.sqlite"
EXIT_FAILED = 1


class SweepGroup(click.Group):
    """A group whose first argument may be a claim id instead of a subcommand (then ``run`` is meant)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("sweep", cls=SweepGroup)
def sweep() -> None:
    """Verify a claim over parameter grids and seeds into a resumable store; export it; report on it.

    'twofold sweep ID [OPTIONS]' is short for 'twofold sweep run ID [OPTIONS]' (docs/sweep.md).
    """


@sweep.command("run")
@click.argument("claim_id")
@click.option("--grid", "grid", multiple=True, metavar="NAME=START:STOP:NUM|NAME=V1,V2,...", help="an axis of the grid (repeatable)")
@click.option("--seeds", type=click.IntRange(1), help="seeds 0..N-1 [default: one seed, 0]")
@click.option("--seed-range", metavar="A:B", help="seeds A..B-1")
@click.option("--profile", type=click.Choice(PROFILES), default="quick", show_default=True)
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_STORE, show_default=True,
              help="SQLite file; an existing one is resumed (finished points are skipped)")
@click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True)
@click.option("--scheduler", metavar="ADDRESS", help="address of a running dask scheduler (with --executor dask)")
@click.option("--jobs", "-j", type=click.IntRange(0, MAX_JOBS), default=1, show_default=True,
              help="processes (0: one per CPU); local: this one included; dask: LocalCluster workers")
@click.option("--json", "as_json", is_flag=True, help="print one JSON document (docs/sweep.md)")
def run(
    claim_id: str, grid: tuple[str, ...], seeds: int | None, seed_range: str | None, profile: str, store: Path,
    executor: str, scheduler: str | None, jobs: int, as_json: bool,
) -> None:
    """Verify CLAIM_ID at every grid point for every seed; exit 1 if any verdict fails."""
    from twofold import registry
    from twofold.executors import make_executor
    from twofold.grid import parse_grid, seed_list
    from twofold.runner import resolve_jobs
    from twofold.store import Store
    from twofold.sweeps import plan
    from twofold.sweeps import run as run_sweep

    claim = registry.get_claim(claim_id)
    chosen = plan(claim.id, parse_grid(claim, grid), seed_list(seeds, seed_range), profile)
    pool = make_executor(executor, resolve_jobs(jobs), scheduler, preload=(claim.id,))
    console = Console(stderr=True)
    with Store(store) as opened:
        result = _with_progress(console, lambda show: run_sweep(chosen, opened, pool, show))
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, allow_nan=False))
    else:
        _print_summary(result)
    if result.summary()["failed"]:
        sys.exit(EXIT_FAILED)


def _with_progress(console: Console, work: Any) -> Any:
    """Run ``work(progress)`` with a bar over its tasks on a terminal (stderr), nothing otherwise."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    with Progress(BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                  transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("", total=None)

        def show(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return work(show)


def _print_summary(result: Any) -> None:
    """Plain lines (no wrapping, no markup): the totals, the calibration and every failing point."""
    s = result.summary()
    rate = "-" if s["pass_rate"] is None else f"{s['pass_rate']:.1%}"
    jobs = f"{result.jobs} job" + ("s" if result.jobs > 1 else "")
    click.echo(
        f"{result.claim}: {s['passed']} of {s['total']} verdicts passed ({rate}); "
        f"{s['skipped']} already in the store; {s['seconds']:.1f} s on {result.executor} ({jobs})"
    )
    c = result.calibration()
    if c is not None:
        extreme = f", max |z| {c['max_abs_z']:.2f}" if c["max_abs_z"] is not None else ""
        click.echo(
            f"calibration of {c['count']} {c['statistic']}s: KS p-value {c['ks_pvalue']:.3g}{extreme}; "
            f"failures expected {c['expected_failures']:.2g}, observed {c['observed_failures']}"
        )
    for failure in result.failures():
        click.echo(f"FAIL seed {failure['seed']} {failure['params']}: {failure['failure'] or 'statistic beyond threshold'}")
        click.echo(f"  reproduce: {failure['command']}")


@sweep.command("export")
@click.argument("store", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="out.csv or out.parquet")
def export(store: Path, output: Path) -> None:
    """Write every verdict of STORE as a table: CSV, or parquet (needs pyarrow: the 'parquet' extra)."""
    from twofold.store import export as write, open_existing

    _check_output(output, (".csv", ".parquet"))
    with open_existing(store) as opened:
        count = write(opened.records(), output)
    click.echo(f"wrote {count} rows to {output}", err=True)


@sweep.command("report")
@click.argument("store", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="report.pdf or report.html")
@click.option("--claim", "claims", multiple=True, metavar="ID", help="only these claims (default: every claim in the store)")
def report(store: Path, output: Path, claims: tuple[str, ...]) -> None:
    """Calibration report of STORE: pass rates per grid point, z-score histogram and QQ plot, heat maps, failures."""
    from twofold.store import open_existing
    from twofold.sweep_report import write_report

    _check_output(output, (".pdf", ".html"))
    with open_existing(store) as opened:
        pages = write_report(opened, output, claims)
    click.echo(f"wrote {output} ({pages} claims)", err=True)


def _check_output(output: Path, suffixes: tuple[str, ...]) -> None:
    """Before any work: the output has a known suffix and its directory exists and is writable."""
    import os

    from twofold.contract import InputError

    if output.suffix.lower() not in suffixes:
        raise InputError(f"-o must end in {' or '.join(suffixes)}, got {output.name[:80]!r}")
    parent = output.parent if str(output.parent) else Path(".")
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise InputError(f"cannot write {str(output)[:120]}: {parent} is not a writable directory")
