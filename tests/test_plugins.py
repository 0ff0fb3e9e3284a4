"""Third-party families through the ``twofold.claims`` entry-point group, in real processes.

A temporary directory on ``PYTHONPATH`` holds a ``.dist-info`` with an ``entry_points.txt``
(what ``pip install`` of a plugin leaves behind) and the plugin modules: one good family
(one claim that passes, one that fails), one that fails to import, one object that is not a
Family and one Family that reuses the built-in name ``taylor``.  Each broken one is skipped with
one warning naming its entry point and the reason; every built-in command still works.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = '''
import sympy
from twofold import crosscheck
from twofold.contract import Estimate
from twofold.model import Claim, Derivation, Family


def derive(params):
    return Derivation(steps=(), result=sympy.Integer(1), conclusion="1")


def constant(value):
    return lambda params, seed: Estimate(value=value, method="a constant", n=1)


def claim(name, value):
    return Claim(
        id=f"plugdemo.{name}", title=f"One is {value:g}", statement=f"1 = {value:g}", derive=derive,
        estimate=constant(value), compare=lambda d, e, p: crosscheck.absolute_error(d.result, e, atol=1e-9),
    )


FAMILY = Family(name="plugdemo", number=90, title="A plugin family", source="tests/test_plugins.py",
                claims=(claim("right", 1.0), claim("wrong", 2.0)))
NOT_A_FAMILY = 42
DUPLICATE = Family(name="taylor", number=91, title="Not the taylor family", source="", claims=())
'''

ENTRY_POINTS = """\
[twofold.claims]
plugdemo = plugdemo_family:FAMILY
broken = plugdemo_missing_module:FAMILY
notfamily = plugdemo_family:NOT_A_FAMILY
dupe = plugdemo_family:DUPLICATE
"""


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("plugins")
    (root / "plugdemo_family.py").write_text(GOOD, encoding="utf-8")
    info = root / "plugdemo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugdemo\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))


def twofold(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "twofold", *argv], capture_output=True, text=True, env=env, timeout=300)


def test_broken_plugins_are_skipped_with_one_warning_each(plugin_env: dict[str, str]) -> None:
    done = twofold(plugin_env, "list")
    assert done.returncode == 0, done.stderr
    warnings = done.stderr.strip().splitlines()
    assert len(warnings) == 3, warnings
    assert all(line.startswith("twofold: warning: skipped plugin family") for line in warnings)
    by_name = {name: next(line for line in warnings if f"'{name} = " in line) for name in ("broken", "notfamily", "dupe")}
    assert "fails to import: ModuleNotFoundError" in by_name["broken"] and "plugdemo_missing_module" in by_name["broken"]
    assert "it is a int, not a twofold Family" in by_name["notfamily"]
    assert "'taylor' is already registered" in by_name["dupe"]
    assert "taylor.even_positive" in done.stdout and "plugdemo.right" in done.stdout
    assert "Not the taylor family" not in done.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ("verify", "taylor.critical_structure"),
        ("explain", "taylor.critical_structure"),
        ("verify", "plugdemo.right", "--json"),
        ("check", "taylor.critical_value", "--step", "f_4(x) = f_3(x) + x**4/24"),
    ],
)
def test_built_in_commands_still_work(plugin_env: dict[str, str], argv: tuple[str, ...]) -> None:
    done = twofold(plugin_env, *argv)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_failing_ids_are_repeated_at_the_end(plugin_env: dict[str, str]) -> None:
    done = twofold(plugin_env, "verify", "plugdemo")
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert lines[-2].startswith("1 passed, 1 failed")
    assert lines[-1] == "failed: plugdemo.wrong"


def test_a_plugin_family_without_broken_neighbours_is_silent(tmp_path: Path) -> None:
    (tmp_path / "plugdemo_family.py").write_text(GOOD, encoding="utf-8")
    info = tmp_path / "plugdemo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugdemo\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[twofold.claims]\nplugdemo = plugdemo_family:FAMILY\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    done = twofold(env, "verify", "plugdemo.right")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.strip().splitlines()[-1].startswith("1 passed, 0 failed")
