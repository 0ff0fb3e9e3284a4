r"""favor at practitioners' sizes: ``twofold verify favor`` per claim, quick and full profile, with the regime table.

Each claim is verified in this process (seed 0) in the quick and the full profile; the table lists the full
profile's parameters, the verdict and the wall and CPU seconds.  The full profile runs the unbiasedness and
MSE claims at :math:`|x| = |y| = 3`, :math:`d = 64`, :math:`m = 256` (exponentially tilted estimators), the
MSE share at :math:`|x| = |y| = 1` (the tests add 0 and 180 degrees), ``attention_identity`` at
:math:`L = 64`, :math:`m = 16`.  Targets: every claim passes, quick total at most 4 s, full total at most 60 s of CPU time (wall time is shown
too; on a shared machine it measures the other processes as much as this one).

Run ``python -m benchmarks --only favor_regimes``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import twofold
from benchmarks.targets import Section, Target

QUICK_SECONDS, FULL_SECONDS = 4.0, 60.0
SHOWN = ("norm_x", "norm_y", "angle", "d", "m", "samples", "L", "dv", "max_norm", "norm_steps", "angle_steps")


@dataclass(frozen=True)
class Timing:
    claim: str
    profile: str
    passed: bool
    seconds: float
    cpu: float
    params: dict


def timing(claim: twofold.Claim, profile: str) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    verdict = claim.verify(seed=0, profile=profile)
    return Timing(
        claim.id, profile, verdict.passed, time.perf_counter() - wall, time.process_time() - cpu, dict(verdict.params)
    )


def section(quick: bool = False) -> Section:
    claims = twofold.select(["favor"])
    rows = {profile: [timing(claim, profile) for claim in claims] for profile in (("quick",) if quick else ("quick", "full"))}
    shown = rows.get("full", rows["quick"])
    body = (
        "| claim | parameters (" + ("full" if "full" in rows else "quick") + " profile) | verdict | wall (s) | CPU (s) |\n"
        "|---|---|---|---:|---:|\n"
        + "".join(
            f"| `{row.claim}` | "
            + ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in row.params.items() if k in SHOWN)
            + f" | {'PASS' if row.passed else 'FAIL'} | {row.seconds:.2f} | {row.cpu:.2f} |\n"
            for row in shown
        )
    )
    targets = [Target("claims passing (quick)", sum(r.passed for r in rows["quick"]), len(claims), unit="")]
    # CPU seconds: the machine is shared, wall time measures the other processes as much as this one.
    targets.append(Target("quick profile, total CPU time", sum(r.cpu for r in rows["quick"]), QUICK_SECONDS,
                          unit="s", higher_is_better=False))
    if "full" in rows:
        targets.append(Target("claims passing (full)", sum(r.passed for r in rows["full"]), len(claims), unit=""))
        targets.append(Target("full profile, total CPU time", sum(r.cpu for r in rows["full"]), FULL_SECONDS,
                              unit="s", higher_is_better=False))
    return Section("favor at practitioners' sizes (issue 14)", body, tuple(targets))
