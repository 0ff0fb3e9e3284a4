"""The FAVOR+ benchmark stays correct: tiny sizes by default, the full table only with --runslow."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_favor.py"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """The script as a module (benchmarks/ is not a package); registered while in use, as dataclasses need."""
    spec = importlib.util.spec_from_file_location("bench_favor", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_tiny_run_renders_a_table(bench: ModuleType) -> None:
    rows = bench.measure((32, 64), dim=8, features=16, value_dim=4, repeats=1)
    page = bench.render(rows, 8, 16, 4, 1)
    assert [row.length for row in rows] == [32, 64]
    assert page.count("\n| 32 |") == 1 and page.count("\n| 64 |") == 1
    assert all(row.exact_seconds > 0 and row.favor_seconds > 0 and row.favor_peak > 0 for row in rows)
    assert all(np.isfinite(row.rms_error) and row.rms_error < 1 for row in rows)


def test_exact_peak_grows_quadratically(bench: ModuleType) -> None:
    small, large = bench.measure((128, 512), dim=8, features=16, value_dim=4, repeats=1)
    assert large.exact_peak / small.exact_peak > 8  # 16x more scores
    assert large.favor_peak / small.favor_peak < 8  # linear: 4x


def test_flop_counts(bench: ModuleType) -> None:
    assert bench.exact_flops(16384, 64, 64) / bench.favor_flops(16384, 64, 256, 64) == pytest.approx(31.9, abs=0.1)
    assert bench.exact_flops(512, 64, 64) / bench.favor_flops(512, 64, 256, 64) == pytest.approx(1.0, abs=0.01)


def test_main_writes_the_page(bench: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "favor.md"
    bench.main(["--lengths", "16", "32", "--repeats", "1", "-o", str(out)])
    assert out.read_text(encoding="utf-8").startswith("# FAVOR+ vs exact softmax attention")


@pytest.mark.slow
def test_full_benchmark(bench: ModuleType) -> None:
    rows = bench.measure()
    assert rows[-1].length == 16384
    assert rows[-1].time_ratio > 4 and rows[-1].memory_ratio > 8
