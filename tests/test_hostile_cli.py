"""Hostile input through every command: a one-line error, a non-zero exit, within 2 s, nothing run.

The corpus is the parser's (``tests/test_parsing.py``: code injection, huge
exponents, deep nesting, 10^6 characters, NUL bytes, TeX primitives), sent
through ``check --step``, ``explain --param``, ``explain --drop``, ``verify``
and ``sheet``; hypothesis adds random text.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_parsing import HOSTILE

import twofold
from twofold.cli import main

SECONDS = 2.0
CANARY = Path("/tmp/twofold-pwned")


@pytest.fixture(autouse=True, scope="module")
def _registry_loaded() -> None:
    """Import every family once: the 2 s budget is for handling input, not interpreter start-up."""
    twofold.all_claims()


def _argvs(text: str, out: Path) -> list[list[str]]:
    return [
        ["check", "taylor.critical_value", "--step", text],
        ["explain", "taylor.even_positive", "--param", f"n={text}"],
        ["explain", "taylor.even_positive", "--drop", text],
        ["verify", text],
        ["sheet", text, "-o", str(out)],
    ]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, float]:
    start = time.perf_counter()
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    seconds = time.perf_counter() - start
    _, err = capsys.readouterr()
    return code, err, seconds


def _assert_refused(code: int, err: str, seconds: float) -> None:
    assert code != 0
    assert "Traceback" not in err and "internal error" not in err
    assert len(err.strip().splitlines()) <= 1
    assert seconds < SECONDS


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_corpus_through_every_command(text: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "sheet.pdf"
    for argv in _argvs(text, out):
        _assert_refused(*_run(argv, capsys))
    assert not out.exists() and not out.with_suffix(".tex").exists()
    assert not CANARY.exists()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_random_text_never_crashes_a_command(text: str, capsys: pytest.CaptureFixture[str], tmp_path_factory) -> None:
    out = tmp_path_factory.mktemp("fuzz") / "sheet.pdf"
    for argv in _argvs(text, out):
        code, err, seconds = _run(argv, capsys)
        assert code in (0, 1, 2) and seconds < SECONDS
        assert "Traceback" not in err and "internal error" not in err
