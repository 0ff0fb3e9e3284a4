"""The FAVOR+ benchmarks stay correct: tiny sizes by default, the full runs only with --runslow.

Also the chunked Monte Carlo they measure: chunking changes neither the iid estimate nor, beyond one
chunk, the memory.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from benchmarks import bench_favor, bench_favor_throughput
import twofold
from twofold.numerics import favor as numeric


def test_tiny_section_renders_a_table_and_targets() -> None:
    section = bench_favor.section(quick=True)
    assert section.title == "FAVOR+ vs exact softmax attention"
    assert section.body.count("\n| 256 |") == 1 and section.body.count("\n| 512 |") == 1
    assert len(section.targets) == 3 and all(np.isfinite(target.measured) for target in section.targets)
    assert "Targets:" in section.markdown()


def test_rows_are_measured() -> None:
    rows = bench_favor.measure((32, 64), dim=8, features=16, value_dim=4, repeats=1)
    assert [row.length for row in rows] == [32, 64]
    assert all(row.exact_seconds > 0 and row.favor_seconds > 0 and row.favor_peak > 0 for row in rows)
    assert all(np.isfinite(row.rms_error) and row.rms_error < 1 for row in rows)


def test_exact_peak_grows_quadratically() -> None:
    small, large = bench_favor.measure((128, 512), dim=8, features=16, value_dim=4, repeats=1)
    assert large.exact_peak / small.exact_peak > 8  # 16x more scores
    assert large.favor_peak / small.favor_peak < 8  # linear: 4x


def test_flop_counts() -> None:
    assert bench_favor.exact_flops(16384, 64, 64) / bench_favor.favor_flops(16384, 64, 256, 64) == pytest.approx(
        31.9, abs=0.1
    )
    assert bench_favor.exact_flops(512, 64, 64) / bench_favor.favor_flops(512, 64, 256, 64) == pytest.approx(
        1.0, abs=0.01
    )


def test_targets_read_the_rows() -> None:
    def row(length: int, favor_seconds: float, favor_peak: int) -> bench_favor.Row:
        flops = bench_favor.exact_flops(length, 64, 64), bench_favor.favor_flops(length, 64, 256, 64)
        return bench_favor.Row(length, 1.0, favor_seconds, 10 * length, favor_peak, *flops, 0.1)

    faster, linear, flops = bench_favor.targets([row(2048, 2.0, 2048), row(4096, 0.5, 4096 * 3)], 4096)
    assert faster.measured == 2.0 and faster.met  # time ratio 1 / 0.5 at L = 4096; L = 2048 is not judged
    assert linear.measured == 3.0 and not linear.met  # 1 vs 3 bytes per token
    assert flops.measured == pytest.approx(7.98 / 2, rel=1e-3) and not flops.met


def test_chunking_keeps_the_iid_estimate() -> None:
    x, y = numeric.pair(0.5, 0.5, 60.0, 4)
    whole = numeric.kernel_mean("positive", x, y, 16, 5000, 3, chunk=10**9, tilt=None)
    for chunk in (1, 100, 16 * 777):
        chunked = numeric.kernel_mean("positive", x, y, 16, 5000, 3, chunk=chunk, tilt=None)
        assert chunked.value == pytest.approx(whole.value, rel=1e-13)
        assert chunked.stderr == pytest.approx(whole.stderr, rel=1e-9)
    assert bench_favor_throughput.unchunked(x, y, 16, 5000, 3) == pytest.approx((whole.value, whole.stderr), rel=1e-9)


def test_moments_pool_like_one_array() -> None:
    samples = np.random.default_rng(0).standard_normal(1001) * 3 + 7
    pooled = sum((numeric.Moments.of(part) for part in np.array_split(samples, 7)), numeric.Moments())
    assert pooled.count == 1001
    assert pooled.mean == pytest.approx(samples.mean(), rel=1e-14)
    assert pooled.stderr == pytest.approx(samples.std(ddof=1) / np.sqrt(1001), rel=1e-12)


def test_chunked_memory_does_not_grow_with_samples() -> None:
    x, y = numeric.pair(0.5, 0.5, 60.0, 4)

    def peak(replicates: int) -> int:
        tracemalloc.start()
        try:
            numeric.kernel_mean("positive", x, y, 16, replicates, 0, chunk=4096, tilt=None)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert peak(40_000) < 1.25 * peak(10_000)


def test_throughput_section_compares_three_implementations() -> None:
    section = bench_favor_throughput.section(quick=True)
    names = ("chunked (twofold)", "chunked, 1/4 of the samples", "unchunked, two feature maps", "Python loop")
    assert all(section.body.count(f"\n| {name} |") == 1 for name in names)
    assert [target.unit for target in section.targets] == ["samples/s", "x", "x", "x"]
    assert section.targets[2].measured > 5  # vectorised beats the Python loop even at tiny sizes


@pytest.mark.slow
def test_full_benchmark() -> None:
    rows = bench_favor.measure()
    assert rows[-1].length == 16384
    assert rows[-1].time_ratio > 4 and rows[-1].memory_ratio > 8


@pytest.mark.slow
def test_full_throughput_meets_its_targets() -> None:
    assert bench_favor_throughput.section().met


def test_regimes_section_lists_every_claim() -> None:
    from benchmarks import bench_favor_regimes

    section = bench_favor_regimes.section(quick=True)
    assert section.body.count("| `favor.") == len(twofold.select(["favor"]))
    passing = next(target for target in section.targets if target.name == "claims passing (quick)")
    assert passing.met and passing.measured == len(twofold.select(["favor"]))
