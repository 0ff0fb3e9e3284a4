"""Wall time of the whole suite: ``twofold verify`` (quick profile, every claim) as a subprocess,
then ``twofold verify --profile full`` (the practitioner regimes of issue 14) and ``twofold audit``
(every shipped false variant must be caught).

Serial, then ``--jobs 2`` (claims in worker processes); both with ``--json`` so
the verdicts can be compared: apart from the per-claim wall times they must be identical (same seeds).
The quick mode verifies one cheap claim instead of all of them and audits one family.
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
FULL_TARGET_SECONDS = 300.0
MIN_VARIANTS = 40
QUICK_CLAIMS = ("position.first_block",)
QUICK_FAMILIES = ("position",)
TIMEOUT = 900


@dataclass(frozen=True)
class SuiteRun:
    """One ``twofold verify`` subprocess: its options, wall time, exit code and verdicts (wall times removed)."""

    options: tuple[str, ...]
    seconds: float
    returncode: int
    verdicts: tuple[Any, ...]
    claim_seconds: tuple[tuple[str, float], ...] = ()

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


def _twofold_json(command: str, options: tuple[str, ...], names: tuple[str, ...], key: str) -> tuple[float, int, tuple[Any, ...]]:
    """Run ``python -m twofold COMMAND --json [options] [names]`` in the repository: wall time, exit code and the
    ``key`` list of its JSON document (empty if the run printed no such document)."""
    argv = [sys.executable, "-m", "twofold", command, "--json", *options, *names]
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    seconds = time.perf_counter() - start
    try:
        records = tuple(json.loads(result.stdout)[key])
    except (json.JSONDecodeError, KeyError, TypeError):
        records = ()
    return seconds, result.returncode, records


def verify(options: tuple[str, ...], claims: tuple[str, ...]) -> SuiteRun:
    """``twofold verify --json [options] [claims]``, timed; the verdicts without their wall times."""
    seconds, code, verdicts = _twofold_json("verify", options, claims, "verdicts")
    timed = tuple(sorted(((v["claim"], float(v["seconds"])) for v in verdicts), key=lambda pair: -pair[1]))
    return SuiteRun(options, seconds, code, tuple(without_wall_times(list(verdicts))), timed)


@dataclass(frozen=True)
class AuditRun:
    """One ``twofold audit --json`` subprocess: wall time, exit code and its variant records."""

    seconds: float
    returncode: int
    variants: tuple[dict[str, Any], ...]

    @property
    def missed(self) -> float:
        """False variants that passed; infinite when the run crashed or printed no variants."""
        if not self.variants or self.returncode not in (0, 1):
            return float("inf")
        return float(sum(not variant["caught"] for variant in self.variants))


def audit(families: tuple[str, ...]) -> AuditRun:
    return AuditRun(*_twofold_json("audit", (), families, "variants"))


def _slowest(run: SuiteRun, count: int = 8) -> str:
    """The ``count`` slowest claims of a run, with their wall times."""
    return ", ".join(f"`{claim}` {seconds:.1f} s" for claim, seconds in run.claim_seconds[:count])


def section(quick: bool = False) -> Section:
    claims = QUICK_CLAIMS if quick else ()
    serial, jobs = verify((), claims), verify(("--jobs", str(JOBS)), claims)
    full = verify(("--profile", "full"), claims)
    audited = audit(QUICK_FAMILIES if quick else ())
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
        "on a loaded machine the workers' start-up can outweigh the gain).\n\n"
        f"`python -m twofold verify --json --profile full`: the practitioner regimes, serial, {full.seconds:.1f} s, "
        f"{full.passed} / {len(full.verdicts)} passed, exit code {full.returncode}. Slowest claims: {_slowest(full)}.\n\n"
        f"`python -m twofold audit --json{' ' + ' '.join(QUICK_FAMILIES) if quick else ''}`: "
        f"{len(audited.variants)} shipped false variants, {len(audited.variants) - audited.missed:.0f} caught, "
        f"{audited.seconds:.1f} s, exit code {audited.returncode}.\n"
    )
    targets = (
        Target("claims not passed in the serial run", serial.not_passed, 0, unit="claims", higher_is_better=False),
        Target("whole suite, serial, wall time", serial.seconds, TARGET_SECONDS, "s", higher_is_better=False),
        Target(f"whole suite with --jobs {JOBS}, wall time", jobs.seconds, TARGET_SECONDS, "s", higher_is_better=False),
        Target(f"--jobs {JOBS} verdicts differing from serial", jobs.differences(serial), 0, "claims", False),
        Target("claims not passed under --profile full", full.not_passed, 0, unit="claims", higher_is_better=False),
        Target("whole suite, --profile full, serial, wall time", full.seconds, FULL_TARGET_SECONDS, "s", higher_is_better=False),
        Target("false variants that pass twofold audit", audited.missed, 0, unit="variants", higher_is_better=False),
        Target("false variants shipped", float(len(audited.variants)), 1 if quick else MIN_VARIANTS, unit="variants"),
    )
    return Section("Whole suite: twofold verify", body, targets)
