"""Wall time of the whole suite: ``twofold verify`` (quick profile, every claim) as a subprocess.

Serial, then ``--jobs 2`` (claims in worker processes); both with ``--json`` so
the verdicts can be compared: apart from the per-claim wall times they must be identical (same seeds).
The quick mode verifies one cheap claim instead of all of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.targets import Section, Target
from twofold.runner import without_wall_times

ROOT = Path(__file__).resolve().parents[1]
JOBS = 2
TARGET_SECONDS = 30.0
QUICK_CLAIMS = ("taylor.derivative_identity",)
TIMEOUT = 600


@dataclass(frozen=True)
class SuiteRun:
    """One ``twofold verify`` subprocess: its options, wall time, exit code and verdicts (wall times removed)."""

    options: tuple[str, ...]
    seconds: float
    returncode: int
    verdicts: tuple[Any, ...]

    @property
    def passed(self) -> int:
        return sum(bool(verdict.get("passed")) for verdict in self.verdicts)

    @property
    def not_passed(self) -> float:
        """Verdicts that did not pass; infinite when the run crashed or printed no verdicts."""
        if not self.verdicts or self.returncode not in (0, 1):
            return float("inf")
        return float(len(self.verdicts) - self.passed)

    def differences(self, other: SuiteRun) -> float:
        """Claims whose verdict records differ from ``other``'s (infinite if the claim lists differ)."""
        if len(self.verdicts) != len(other.verdicts) or not self.verdicts:
            return float("inf")
        return float(sum(mine != theirs for mine, theirs in zip(self.verdicts, other.verdicts, strict=True)))


def verify(options: tuple[str, ...], claims: tuple[str, ...]) -> SuiteRun:
    """Run ``python -m twofold verify --json [options] [claims]`` in the repository and time it; the verdicts are
    the ``verdicts`` list of the JSON document (none if the run printed no such document)."""
    command = [sys.executable, "-m", "twofold", "verify", "--json", *options, *claims]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    seconds = time.perf_counter() - start
    try:
        verdicts = tuple(without_wall_times(json.loads(result.stdout)["verdicts"]))
    except (json.JSONDecodeError, KeyError, TypeError):
        verdicts = ()
    return SuiteRun(options, seconds, result.returncode, verdicts)


def section(quick: bool = False) -> Section:
    claims = QUICK_CLAIMS if quick else ()
    serial, jobs = verify((), claims), verify(("--jobs", str(JOBS)), claims)
    what = "one claim (quick mode)" if quick else "every claim, quick profile, seed 0"
    body = (
        f"`python -m twofold verify --json [--jobs {JOBS}]`: {what}, run as a subprocess from the repository "
        "(wall time includes interpreter start-up and imports; workers are spawned interpreters, so "
        f"`--jobs {JOBS}` pays their imports too).\n\n"
        "| command | wall time (s) | claims passed | exit code |\n|---|---:|---:|---:|\n"
        + "".join(
            f"| `{' '.join(('twofold verify', *run.options))}` | {run.seconds:.1f} "
            f"| {run.passed} / {len(run.verdicts)} "
            f"| {run.returncode} |\n"
            for run in (serial, jobs)
        )
        + f"\nSpeed-up of `--jobs {JOBS}` over serial: {serial.seconds / jobs.seconds:.2f}x (reported, not a target: "
        "on a loaded machine the workers' start-up can outweigh the gain).\n"
    )
    targets = (
        Target("claims not passed in the serial run", serial.not_passed, 0, unit="claims", higher_is_better=False),
        Target("whole suite, serial, wall time", serial.seconds, TARGET_SECONDS, "s", higher_is_better=False),
        Target(f"whole suite with --jobs {JOBS}, wall time", jobs.seconds, TARGET_SECONDS, "s", higher_is_better=False),
        Target(f"--jobs {JOBS} verdicts differing from serial", jobs.differences(serial), 0, "claims", False),
    )
    return Section("Whole suite: twofold verify", body, targets)
