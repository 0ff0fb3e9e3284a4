"""The Taylor benchmark's quick section: same code path as the full run, tiny sizes."""

from __future__ import annotations

from benchmarks import bench_taylor


def test_quick_section_renders_tables_and_targets() -> None:
    section = bench_taylor.section(quick=True)
    page = section.markdown()
    assert page.startswith("## Taylor certification")
    assert "| 60 | 0 |" in page and "| **p** |" in page
    assert [target.unit for target in section.targets] == ["x", "s"]
    assert section.targets[1].met
