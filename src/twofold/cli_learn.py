"""The learner's commands: ``twofold check`` and ``twofold serve`` (registered on the main group in cli.py).

Exit codes of ``check``: 0 every line valid, 1 some line invalid, 4 some line
undecided and none invalid, 2 bad input (one line on stderr, never a traceback).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from twofold import learn
from twofold.chain import ChainReport
from twofold.contract import InputError
from twofold.stepcheck import read_steps


def _timeout(_: click.Context, __: click.Parameter, value: float) -> float:
    try:
        return learn.checked_timeout(value)
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@click.argument("claim_id")
@click.option("--step", "step", metavar='"LHS = RHS"', help="one step: LHS rel RHS with rel one of = < <= > >=")
@click.option("--steps", "steps_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="a file, one line per step")
@click.option("--from-statement", is_flag=True, help="line 1 must follow from the claim's premise (its derivation's first step)")
@click.option("--hint", type=click.IntRange(0, 1000), default=0, metavar="K", help="show the first K steps of the claim's own derivation")
@click.option("--json", "as_json", is_flag=True, help="print one JSON document (twofold/schemas/check.schema.json)")
@click.option("--timeout", type=float, default=1.0, show_default=True, callback=_timeout, help="seconds of algebra per step (0.1 to 30)")
def check(
    claim_id: str, step: str | None, steps_file: Path | None, from_statement: bool, hint: int, as_json: bool, timeout: float
) -> None:
    """Check your own derivation with the claim's symbols, line by line (docs/learning.md).

    Each line is valid, invalid (with a point) or undecided, and is related to
    the line before it (⇔ ⇒ ⇐). Exit 0 all valid, 1 some invalid, 4 some
    undecided (none invalid), 2 bad input.
    """
    if step is not None and steps_file is not None:
        raise click.UsageError("give one of --step or --steps, not both")
    if step is None and steps_file is None and not hint:
        raise click.UsageError("give exactly one of --step or --steps (or --hint K)")
    claim = learn.find_claim(claim_id)
    hints = learn.hints(claim.id, hint) if hint else []
    lines = [step] if step is not None else read_steps(steps_file.read_bytes()) if steps_file is not None else []
    report = learn.check(claim.id, lines, from_statement=from_statement, timeout=timeout) if lines else None
    if as_json:
        document = report.to_dict() if report else {"claim": claim.id, "outcome": "valid", "exit_code": 0, "premise": None, "seconds": 0.0, "lines": []}
        if hint:
            document["hints"] = hints
        click.echo(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        for item in hints:
            click.echo(f"hint {item['step']}: {item['description']}: {item['text']}")
        if report is not None and step is not None:
            click.echo(_single(report))
        elif report is not None:
            for line in report.lines:
                click.echo(line.summary())
            click.echo(report.summary())
    if report is not None and report.exit_code:
        sys.exit(report.exit_code)


def _single(report: ChainReport) -> str:
    """One step: its verdict line, then what diagnosis and the reference derivation add."""
    (line,) = report.lines
    text = line.step.summary() if line.verdict == line.step.outcome else f"{line.verdict}: {line.step.reason}"
    if line.diagnosis is not None:
        text += f"\nthis is what you get if {line.diagnosis.explanation}"
    if line.reference_step is not None:
        text += f"\nthis is step {line.reference_step} of the reference derivation"
    return text


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind (the default is this machine only)")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers", type=click.IntRange(1, 64), default=4, show_default=True,
    help="sandboxed worker processes checking lines (a long check drops to low CPU priority, so more than the cores helps)",
)
def serve(host: str, port: int, workers: int) -> None:
    """A local web page for learners: claims, reference derivations, and line-by-line checking."""
    import uvicorn

    from twofold.serve import create_app

    uvicorn.run(create_app(workers=workers), host=host, port=port, log_level="warning")
