"""The ``twofold`` command: list, verify, explain, sheet, audit; check and serve live in :mod:`twofold.cli_learn`.

Errors of the user's making become one line on stderr and exit code 2; a
failed claim exits 1; nothing prints a traceback unless ``TWOFOLD_DEBUG=1``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from twofold import cli_learn, learn, registry
from twofold.cli_sweep import sweep as sweep_group
from twofold.contract import ParameterError, TwofoldError
from twofold.executors import stop_on_first_interrupt
from twofold.model import PROFILES, Claim, Verdict
from twofold.runner import MAX_JOBS

EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3
WIDE = 140  # columns from which the verdict table is readable; narrower consoles get one block per claim


def parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    """``("n=4", "m=256")`` → ``{"n": "4", "m": "256"}``; values are validated by the claim."""
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() or not value.strip():
            raise ParameterError(f"--param expects NAME=VALUE, got {pair[:60]!r}")
        if name in params:
            raise ParameterError(f"--param {name} given twice")
        params[name] = value.strip()
    return params


def _verify_all(claims: tuple[Claim, ...], seed: int, profile: str, console: Console, jobs: int = 1) -> list[Verdict]:
    """Verdicts in claim order from ``jobs`` processes, with a progress bar on ``console`` when it is a terminal and not quiet."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from twofold.runner import verify_claims

    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=console, transient=True, disable=console.quiet or not console.is_terminal) as bar:
        task = bar.add_task("", total=len(claims))

        def show(done: int, running: tuple[str, ...]) -> None:
            bar.update(task, completed=done, description=", ".join(running), refresh=True)

        return verify_claims(claims, seed=seed, profile=profile, jobs=jobs, progress=show)


PROFILE = click.option("--profile", type=click.Choice(PROFILES), default="quick", show_default=True)
SEED = click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True, help="seed of every random estimator")
JOBS = click.option(
    "--jobs", "-j", type=click.IntRange(0, MAX_JOBS), default=1, show_default=True,
    help="worker processes (0: one per CPU); results are identical to a serial run",
)


def console(stderr: bool = False, quiet: bool = False) -> Console:
    """A rich console that never hard-wraps: lines too long for a terminal fold softly, and piped output keeps its lines whole."""
    return Console(stderr=stderr, quiet=quiet, soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(package_name="twofold", prog_name="twofold", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Verify machine-learning theory twice: exact sympy derivations and independent numerics, cross-checked."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@cli.command("list")
@click.argument("tokens", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="print one JSON document (twofold/schemas/list.schema.json)")
def list_claims(tokens: tuple[str, ...], as_json: bool) -> None:
    """List claims (all, or those of the given families/ids) with source and statement."""
    from twofold.report import print_claims

    if as_json:
        click.echo(json.dumps(learn.list_record(registry.select(tokens)), indent=2, allow_nan=False))
        return
    print_claims(console(), registry.select(tokens))


@cli.command()
@click.argument("tokens", nargs=-1)
@PROFILE
@SEED
@JOBS
@click.option("--json", "as_json", is_flag=True, help="print one JSON document (docs/json.md) instead of a table")
def verify(tokens: tuple[str, ...], profile: str, seed: int, jobs: int, as_json: bool) -> None:
    """Cross-check claims (ids or family names; default: all). Exit 1 if any fails."""
    from twofold.report import verdict_lines, verdict_table
    from twofold.runner import resolve_jobs, run_record

    claims = registry.select(tokens)
    out = console(stderr=as_json, quiet=as_json)
    start = time.perf_counter()
    verdicts = _verify_all(claims, seed, profile, out, jobs)
    if as_json:
        record = run_record(verdicts, profile=profile, seed=seed, jobs=resolve_jobs(jobs), seconds=time.perf_counter() - start)
        click.echo(json.dumps(record, indent=2, allow_nan=False))
    else:
        out.print(verdict_table(verdicts) if out.is_terminal and out.width >= WIDE else verdict_lines(verdicts))
        failed = [v.claim_id for v in verdicts if not v.passed]
        out.print(f"{len(verdicts) - len(failed)} passed, {len(failed)} failed ({profile} profile, seed {seed})")
        if failed:
            out.print("failed: " + " ".join(failed), style="bold red", highlight=False)
    if any(not v.passed for v in verdicts):
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("families", nargs=-1)
@SEED
@click.option("--json", "as_json", is_flag=True, help="print one JSON document instead of a table")
def audit(families: tuple[str, ...], seed: int, as_json: bool) -> None:
    """Run every family's known-false variants (default: all families); exit 1 if any is not caught."""
    from twofold.audit import audit_record, run_audit
    from twofold.report import audit_table

    chosen = registry.families() if not families else tuple(_family(name) for name in families)
    rows = run_audit(chosen, seed)
    if as_json:
        click.echo(json.dumps(audit_record(rows, seed), indent=2, allow_nan=False))
    else:
        out = console()
        out.print(audit_table(rows))
        missed = [row for row in rows if not row.caught]
        out.print(f"{len(rows) - len(missed)} of {len(rows)} known-false variants caught")
        for row in missed:
            out.print(f"MISSED: {row.claim} / {row.name}: {row.how}")
    if not rows or any(not row.caught for row in rows):
        sys.exit(EXIT_FAILED)


def _family(name: str) -> Any:
    found = registry.family(name)
    if found is None:
        raise ParameterError(f"unknown family '{name[:80]}' (families: {', '.join(f.name for f in registry.families())})")
    return found


@cli.command()
@click.argument("claim_id")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="override a parameter (repeatable)")
@click.option("--drop", "dropped", multiple=True, metavar="HYPOTHESIS", help="drop a hypothesis and show what breaks")
@PROFILE
@SEED
@click.option("--json", "as_json", is_flag=True, help="print one JSON document (twofold/schemas/explain.schema.json)")
def explain(claim_id: str, params: tuple[str, ...], dropped: tuple[str, ...], profile: str, seed: int, as_json: bool) -> None:
    """Show the derivation step by step, the numeric evidence and the verdict.

    With --drop, the claim runs at the hypothesis's witness (parameters that
    violate it, overridable with --param) to show the counterexample.
    """
    from twofold.report import print_explanation

    claim = registry.get_claim(claim_id)
    overrides: dict[str, Any] = {}
    for name in dropped:
        overrides.update(claim.hypothesis(name).witness)
    overrides.update(parse_params(params))
    verdict = claim.verify(seed=seed, profile=profile, drop=dropped, **overrides)
    if as_json:
        click.echo(json.dumps(learn.explain_record(claim, verdict), indent=2, allow_nan=False))
    else:
        print_explanation(console(), claim, verdict)
    if dropped and not verdict.passed and not as_json:
        console().print(f"without {', '.join(repr(d) for d in dropped)} the claim fails, as it should.", style="bold")
    if not verdict.passed and not dropped:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("tokens", nargs=-1)
@click.option("--all", "every", is_flag=True, help="every registered claim: the proof book")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="out.pdf or out.tex")
@PROFILE
@SEED
@JOBS
def sheet(tokens: tuple[str, ...], every: bool, output: Path, profile: str, seed: int, jobs: int) -> None:
    """Write a LaTeX proof sheet of claims (ids or families), or with --all the proof book of every claim.

    A name ending in .pdf is compiled with latexmk; a .tex gets its figures written beside it.
    """
    from twofold.api import families_for
    from twofold.sheet import validate_output, write_sheet

    if every == bool(tokens):
        raise click.UsageError("name claims or families, or give --all for every claim (not both)")
    validate_output(output)
    claims = registry.select(tokens)
    err = console(stderr=True)
    verdicts = _verify_all(claims, seed, profile, err, jobs)
    pairs = list(zip(claims, verdicts, strict=True))
    result = write_sheet(pairs, output, families=families_for(claims), seed=seed, profile=profile)
    err.print(result.message)
    if any(not v.passed for v in verdicts):
        sys.exit(EXIT_FAILED)


cli.add_command(cli_learn.check)
cli.add_command(cli_learn.serve)
cli.add_command(sweep_group)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the click group; turn twofold's errors into one-line messages.

    A closed pipe (``twofold list | head -1``) ends the program quietly with exit 0: stdout is
    guarded while the command runs and flushed before the exit code is given.  Ctrl-C stops
    the command (exit 130); a second one is ignored while it stops.
    """
    stdout = sys.stdout
    sys.stdout = _GuardedStdout(stdout)
    try:
        try:
            with stop_on_first_interrupt():
                _run(argv)
        finally:
            sys.stdout.flush()
    except StdoutClosed:
        _silence_stdout()
        sys.exit(0)
    finally:
        sys.stdout = stdout


def _run(argv: list[str] | None) -> None:
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warn_one_line
            cli.main(args=argv, prog_name="twofold", standalone_mode=False)
    except StdoutClosed:
        raise
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"twofold: error: {_one_line(exc.format_message())} (see 'twofold --help')", err=True)
        sys.exit(EXIT_INPUT)
    except click.exceptions.Abort:
        click.echo("twofold: aborted", err=True)
        sys.exit(130)
    except TwofoldError as exc:
        click.echo(f"twofold: error: {_one_line(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if os.environ.get("TWOFOLD_DEBUG") == "1":
            raise
        click.echo(f"twofold: internal error: {type(exc).__name__}: {_one_line(str(exc))} (TWOFOLD_DEBUG=1 shows the traceback)", err=True)
        sys.exit(EXIT_INTERNAL)


def _warn_one_line(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    """Warnings (a skipped plugin family) as one line on stderr, without the source line Python adds."""
    click.echo(f"twofold: warning: {_one_line(str(message))}", err=True)


class StdoutClosed(Exception):
    """The reader of stdout went away (``twofold list | head -1``): not an error, the end of the output.

    Deliberately not an :class:`OSError`: click turns EPIPE into exit 1 and rich into ``SystemExit(1)``,
    which would read as "a claim failed"."""


class _GuardedStdout:
    """``sys.stdout`` while a command runs: a closed pipe raises :class:`StdoutClosed`; everything else is the stream's."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise StdoutClosed from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise StdoutClosed from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _one_line(text: str, limit: int = 400) -> str:
    """Whitespace folded, unencodable characters (lone surrogates) escaped, length capped."""
    flat = " ".join(text.encode("utf-8", "backslashreplace").decode("utf-8").split())
    return flat if len(flat) <= limit else flat[:limit] + " ..."
