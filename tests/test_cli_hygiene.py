"""The CLI as a shell sees it, in real processes: --version, bare ``twofold``, pipes, output checks first."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest

import twofold

COMMAND = [sys.executable, "-m", "twofold"]


def run(*argv: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *argv], capture_output=True, text=True, timeout=300, **kwargs)


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"twofold {version('twofold')}"


def test_bare_twofold_prints_the_help() -> None:
    done = run()
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("Usage: twofold") and "Commands:" in done.stdout
    for command in ("list", "verify", "explain", "sheet", "check", "audit"):
        assert f"\n  {command} " in done.stdout


def _closed_pipe(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run with stdout a pipe whose reading end is already closed: every write gets EPIPE, deterministically."""
    read, write = os.pipe()
    os.close(read)
    try:
        process = subprocess.run([*COMMAND, *argv], stdout=write, stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        os.close(write)
    return process


@pytest.mark.parametrize("argv", [("list",), ("verify", "taylor"), ("verify", "taylor.critical_structure", "--json"), ("--help",)])
def test_a_closed_pipe_ends_quietly_with_exit_0(argv: tuple[str, ...]) -> None:
    done = _closed_pipe(*argv)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


@pytest.mark.skipif(not Path("/bin/bash").exists(), reason="needs bash for PIPESTATUS")
@pytest.mark.parametrize(("argv", "lines"), [("list", 1), ("verify taylor", 2)])
def test_head_in_a_shell_pipeline(argv: str, lines: int) -> None:
    script = f'"{sys.executable}" -m twofold {argv} | head -{lines}; echo "status ${{PIPESTATUS[0]}}" >&2'
    done = subprocess.run(["/bin/bash", "-c", script], capture_output=True, text=True, timeout=300)
    assert len(done.stdout.splitlines()) == lines
    assert done.stderr.strip() == "status 0"


def test_piped_output_is_not_hard_wrapped() -> None:
    """Each claim's parameters stay on one line, however long, when stdout is not a terminal."""
    done = run("list", env={k: v for k, v in os.environ.items() if k != "COLUMNS"})
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert max(map(len, lines)) > 120
    parameter_lines = [line for line in lines if line.startswith("    parameters: ")]
    assert len(parameter_lines) == len(twofold.all_claims())
    for claim, line in zip(twofold.all_claims(), parameter_lines, strict=True):
        assert all(f"{p.name}=" in line for p in claim.parameters), (claim.id, line)


def test_list_shows_parameter_domains() -> None:
    done = run("list", "taylor.even_positive")
    (line,) = [line for line in done.stdout.splitlines() if "parameters:" in line]
    parameter = twofold.get_claim("taylor.even_positive").parameter("n")
    assert f"n={parameter.quick} ({parameter.domain()})" in line


@pytest.mark.parametrize(
    ("output", "message"),
    [("{tmp}/a_directory.pdf", "is a directory"), ("/proc/1/sheet.pdf", "is not writable"), ("{tmp}/no/such/sheet.tex", "does not exist")],
)
def test_sheet_output_is_checked_before_any_work(tmp_path: Path, output: str, message: str) -> None:
    (tmp_path / "a_directory.pdf").mkdir()
    target = output.format(tmp=tmp_path)
    if message == "is not writable" and os.access(Path(target).parent, os.W_OK):
        pytest.skip("/proc/1 is writable here")
    start = time.perf_counter()
    done = run("sheet", "--all", "-o", target)
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert time.perf_counter() - start < 30  # the whole book would take minutes: nothing was verified
