"""The benchmark runner: ``python -m benchmarks --quick`` writes every section, and its exit code is the guard."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from benchmarks import __main__ as runner
from benchmarks import bench_suite
from benchmarks.targets import Section, Target, fitted_exponent
from twofold.runner import without_wall_times

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    """Exit code and page of one ``python -m benchmarks --quick`` subprocess."""
    out = tmp_path_factory.mktemp("bench") / "benchmarks.md"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "-o", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    return result.returncode, out.read_text(encoding="utf-8")


def test_quick_run_writes_every_section(quick_run: tuple[int, str]) -> None:
    _, page = quick_run
    assert page.startswith("# Benchmarks\n") and "## Machine\n" in page and "- CPU: " in page
    headings = re.findall(r"^## (.+)$", page, flags=re.MULTILINE)
    assert len(headings) == 1 + len(runner.topics()) and not any(h.endswith("(failed)") for h in headings)
    for title in (
        "FAVOR+ vs exact softmax attention",
        "Monte Carlo throughput of positive random features",
        "Scaling of verification cost with size",
        "Whole suite: twofold verify",
    ):
        assert f"## {title}\n" in page
    assert re.search(r"^- (met|MISSED): .+ \(target [<>]= ", page, flags=re.MULTILINE)


def test_quick_run_exit_code_follows_the_targets(quick_run: tuple[int, str]) -> None:
    returncode, page = quick_run
    assert returncode == (1 if "- MISSED: " in page else 0)


def fake(name: str, section: Section | Exception) -> ModuleType:
    """A stand-in ``benchmarks.bench_<name>`` whose ``section`` returns (or raises) ``section``."""
    module = ModuleType(f"benchmarks.bench_{name}")

    def make(quick: bool) -> Section:
        if isinstance(section, Exception):
            raise section
        return section

    module.section = make
    return module


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three fake benchmarks: one meets its target, one misses it, one raises."""
    sections = {
        "met": Section("All good", "body", (Target("speed-up", 25.0, 20.0),)),
        "missed": Section("Too slow", "body", (Target("wall time", 31.0, 30.0, "s", higher_is_better=False),)),
        "broken": RuntimeError("no such workload"),
    }
    for name, section in sections.items():
        monkeypatch.setitem(sys.modules, f"benchmarks.bench_{name}", fake(name, section))
    monkeypatch.setattr(runner, "topics", lambda: sorted(sections))


@pytest.mark.parametrize(
    ("only", "code"), [(["met"], 0), (["missed"], 1), (["broken"], 1), (["met", "missed", "broken"], 1)]
)
def test_guard_fails_on_a_missed_target_or_an_error(fakes: None, tmp_path: Path, only: list[str], code: int) -> None:
    out = tmp_path / "page.md"
    assert runner.main(["--only", *only, "-o", str(out)]) == code
    page = out.read_text(encoding="utf-8")
    assert ("- MISSED: wall time: 31 s (target <= 30 s)" in page) == ("missed" in only)
    assert ("## broken (failed)" in page and "RuntimeError: no such workload" in page) == ("broken" in only)
    assert ("- met: speed-up: 25 x (target >= 20 x)" in page) == ("met" in only)
    assert ("Every target met." in page) == (code == 0)


def test_partial_run_leaves_the_page_alone(fakes: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "OUTPUT", tmp_path / "benchmarks.md")
    assert runner.main(["--only", "met"]) == 0
    assert not (tmp_path / "benchmarks.md").exists()


def test_unknown_benchmark_is_a_usage_error(fakes: None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["--only", "nonsense"])
    assert exit_info.value.code == 2
    assert "unknown benchmark(s) nonsense (choose from broken, met, missed)" in capsys.readouterr().err


def test_topics_are_the_bench_modules() -> None:
    assert {"favor", "favor_throughput", "scaling", "suite"} <= set(runner.topics())


def test_fitted_exponent_recovers_a_power_law() -> None:
    sizes = [10, 20, 40, 80, 160]
    slope, stderr = fitted_exponent(sizes, [3e-6 * n**2.5 for n in sizes])
    assert slope == pytest.approx(2.5) and stderr < 1e-9


def test_suite_comparison_ignores_wall_times() -> None:
    record = [{"claim": "a", "passed": True, "seconds": 1.0, "estimate": {"value": 1.0, "seconds": 2.0}}]
    serial = bench_suite.SuiteRun((), 9.0, 0, tuple(without_wall_times(record)))
    parallel = bench_suite.SuiteRun(
        ("--jobs", "2"), 5.0, 0, tuple(without_wall_times([dict(record[0], seconds=3.0)]))
    )
    assert parallel.differences(serial) == 0 and serial.not_passed == 0
    crashed = bench_suite.SuiteRun((), 1.0, 2, ())
    assert crashed.not_passed == float("inf") and crashed.differences(serial) == float("inf")
