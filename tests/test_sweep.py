"""``twofold sweep`` in process: grids and seeds validated before anything runs, the store, resuming,
the JSON document against its schema, calibration, export and the report."""

from __future__ import annotations

import csv
import dataclasses
import json
import sqlite3
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from scipy import stats
from test_cli import run

import twofold
from twofold import sweep_stats
from twofold.contract import HypothesisError, InputError, ParameterError
from twofold.grid import axis_values, build_points, parse_grid, seed_list
from twofold.model import Claim, Hypothesis, Parameter
from twofold.store import Store, export
from twofold.sweep_report import html_report, write_report

CHEAP = "position.first_block"  # ~0.02 s a verdict, a z-free deterministic check
MONTE_CARLO = "favor.positive_unbiased"  # a z-test: calibrated


def toy() -> Claim:
    """A claim with parameters of every kind, for the grid parser alone (it never runs)."""
    return Claim(
        id="toy.kinds",
        title="toy",
        statement="",
        derive=lambda p: None,
        estimate=lambda p, s: None,
        compare=lambda d, e, p: None,
        parameters=(
            Parameter("n", int, quick=4, low=2, high=100),
            Parameter("x", float, quick=0.5, low=0.0, high=1.0),
            Parameter("flag", bool, quick=True),
            Parameter("features", str, quick="positive", choices=("positive", "hyperbolic", "trigonometric")),
        ),
        hypotheses=(Hypothesis("n even", lambda p: p["n"] % 2 == 0, "n must be even", witness={"n": 3}),),
    )


def test_axes_of_every_kind() -> None:
    claim = toy()
    assert axis_values(claim, "n", "2:20:10") == (2, 4, 6, 8, 10, 12, 14, 16, 18, 20)
    assert axis_values(claim, "x", "0:1:5") == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert axis_values(claim, "x", "0.1,0.9") == (0.1, 0.9)
    assert axis_values(claim, "flag", "true,false") == (True, False)
    assert axis_values(claim, "features", "positive,trigonometric") == ("positive", "trigonometric")
    axes = parse_grid(claim, ["n=2,4", "features=positive,hyperbolic"])
    points = build_points(claim, axes, "quick")
    assert [dict(p.point) for p in points] == [
        {"n": 2, "features": "positive"}, {"n": 2, "features": "hyperbolic"},
        {"n": 4, "features": "positive"}, {"n": 4, "features": "hyperbolic"},
    ]
    assert dict(points[1].params) == {"n": 2, "x": 0.5, "flag": True, "features": "hyperbolic"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("n=2:20:5", "not whole"),
        ("n=2:200:3", "above its upper bound"),
        ("x=a:b:3", "START and STOP must be numbers"),
        ("x=0:1:0", "NUM must be from 1"),
        ("features=positive,sine", "must be one of positive|hyperbolic|trigonometric"),
        ("flag=maybe", "must be bool"),
        ("n=4,4", "repeats a value"),
        ("nope=1", "has no parameter 'nope'"),
        ("n", "expects NAME=START:STOP:NUM"),
    ],
)
def test_bad_axes_are_refused(spec: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        parse_grid(toy(), [spec])


def test_a_point_violating_a_hypothesis_is_refused() -> None:
    claim = toy()
    with pytest.raises(HypothesisError, match="n must be even"):
        build_points(claim, parse_grid(claim, ["n=2:5:4"]), "quick")


def test_seeds() -> None:
    assert seed_list() == (0,) and seed_list(3) == (0, 1, 2) and seed_list(seed_range="5:8") == (5, 6, 7)
    assert seed_list([4, 2, 4]) == (4, 2)
    for bad in ({"seeds": 0}, {"seed_range": "8:5"}, {"seed_range": "x"}, {"seeds": 2, "seed_range": "0:2"}, {"seeds": [-1]}):
        with pytest.raises(ParameterError):
            seed_list(**bad)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--grid", "alpha=1.0,0.5"], "hypothesis 'alpha != 1' violated"),
        (["--grid", "n=2:600:3"], "above its upper bound"),
        (["--grid", "alpha=0.1", "--grid", "alpha=0.2"], "--grid alpha given twice"),
        (["--seeds", "0"], "0 is not in the range"),
        (["--seed-range", "3:1"], "--seed-range expects A:B"),
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --executor dask"),
    ],
)
def test_bad_sweeps_exit_2_in_one_line_before_any_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    store = tmp_path / "s.sqlite"
    code, out, err = run(capsys, "sweep", CHEAP, "--store", str(store), *argv)
    assert code == 2 and out == "" and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not store.exists()


def test_unknown_claim_and_missing_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "sweep", "position.frist_block", "--store", str(tmp_path / "s.sqlite"))
    assert code == 2 and "did you mean position.first_block" in err
    for command in ("export", "report"):
        code, _, err = run(capsys, "sweep", command, str(tmp_path / "none.sqlite"), "-o", str(tmp_path / "x.csv"))
        assert code == 2 and len(err.strip().splitlines()) == 1
    bad = tmp_path / "not-a-store.sqlite"
    bad.write_text("hello")
    code, _, err = run(capsys, "sweep", "export", str(bad), "-o", str(tmp_path / "x.csv"))
    assert code == 2 and "sweep store" in err


def test_sweep_runs_stores_and_resumes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    args = ["sweep", CHEAP, "--grid", "alpha=0.2,0.4", "--grid", "n=32,64", "--seeds", "3", "--store", str(store), "--json"]
    code, out, _ = run(capsys, *args)
    first = json.loads(out)
    assert code == 0 and first["summary"]["total"] == 12 and first["summary"]["skipped"] == 0
    assert first["summary"]["passed"] == 12 and first["summary"]["pass_rate"] == 1.0
    assert first["grid"] == {"alpha": [0.2, 0.4], "n": [32, 64]} and len(first["points"]) == 4
    code, out, _ = run(capsys, *args[:-4], "4", "--store", str(store), "--json")  # one more seed
    second = json.loads(out)
    assert code == 0 and second["summary"]["total"] == 16 and second["summary"]["skipped"] == 12
    rows = sqlite3.connect(store).execute("SELECT claim, params, seed, COUNT(*) FROM verdicts GROUP BY 1, 2, 3").fetchall()
    assert len(rows) == 16 and {count for *_, count in rows} == {1}
    assert sqlite3.connect(store).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_api_records_and_pandas() -> None:
    result = twofold.sweep(CHEAP, grid={"alpha": [0.1, 0.3]}, seeds=[7, 8])
    assert [(dict(r.point), r.seed) for r in result.records] == [({"alpha": 0.1}, 7), ({"alpha": 0.1}, 8), ({"alpha": 0.3}, 7), ({"alpha": 0.3}, 8)]
    direct = twofold.get_claim(CHEAP).verify(seed=8, alpha=0.3)
    assert result.records[3].statistic == direct.comparison.statistic and result.records[3].params == dict(direct.params)
    frame = result.to_pandas()
    assert frame.shape[0] == 4 and list(frame["param_alpha"]) == [0.1, 0.1, 0.3, 0.3] and frame["passed"].all()
    assert result.to_dict()["store"] is None


def validator() -> Draft202012Validator:
    schema = json.loads(files("twofold").joinpath("schemas/sweep.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_monte_carlo_sweep_is_calibrated_and_matches_its_schema(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "sweep", MONTE_CARLO, "--seeds", "8", "--grid", "samples=2000", "--store", str(tmp_path / "s.sqlite"), "--json")
    document = json.loads(out)
    validator().validate(document)
    calibration = document["calibration"]
    assert code == 0 and calibration["statistic"] == "z-score" and calibration["count"] == 8
    z = [twofold.get_claim(MONTE_CARLO).verify(seed=s, samples=2000).comparison.zscores[0] for s in range(8)]
    assert calibration["ks_pvalue"] == pytest.approx(stats.kstest(z, "norm").pvalue)
    assert calibration["max_abs_z"] == pytest.approx(max(map(abs, z)))
    assert calibration["expected_failures"] == pytest.approx(8 * 5.733e-7, rel=1e-3) and calibration["observed_failures"] == 0
    no_z = twofold.sweep(CHEAP, seeds=2).to_dict()
    validator().validate(no_z)
    assert no_z["calibration"] is None


def records_with_z(z: np.ndarray) -> list:
    base = twofold.sweep(MONTE_CARLO, seeds=1, grid={"samples": [500]}).records[0]
    return [dataclasses.replace(base, seed=i, zscores=(float(v),)) for i, v in enumerate(z)]


def test_calibration_tells_a_calibrated_statistic_from_an_overdispersed_one() -> None:
    rng = np.random.default_rng(1)
    good = sweep_stats.calibration(records_with_z(rng.standard_normal(400)))
    wide = sweep_stats.calibration(records_with_z(2 * rng.standard_normal(400)))
    assert good["ks_pvalue"] > 1e-3 and wide["ks_pvalue"] < 1e-6 and wide["max_abs_z"] > good["max_abs_z"]


def test_failures_name_the_point_and_the_command_that_reproduces_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    twofold.sweep(CHEAP, grid={"alpha": [0.25], "n": [32]}, seeds=[4], store=store)
    with sqlite3.connect(store) as db:
        db.execute("UPDATE verdicts SET passed = 0, failure = '<b>broken</b> & more'")
    with Store(store) as opened:
        records = opened.records()
    (failure,) = sweep_stats.failures(records)
    assert failure["params"] == {"alpha": 0.25, "n": 32} and failure["seed"] == 4
    assert failure["command"] == "twofold explain position.first_block --param alpha=0.25 --param n=32 --seed 4 --profile quick"
    argv = failure["command"].split()[1:]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and f"{records[0].statistic:.3g}" in out  # the same verdict, recomputed
    page = html_report([(CHEAP, records)])
    assert "&lt;b&gt;broken&lt;/b&gt; &amp; more" in page and "<b>broken" not in page


def test_export_csv_and_parquet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "s.sqlite"
    result = twofold.sweep(MONTE_CARLO, grid={"samples": [500, 1000]}, seeds=2, store=store)
    with Store(store) as opened:
        assert export(opened.records(), tmp_path / "out.csv") == 4
        rows = list(csv.DictReader((tmp_path / "out.csv").open()))
        assert [int(r["param_samples"]) for r in rows] == [500, 500, 1000, 1000]
        assert [json.loads(r["zscores"]) for r in rows] == [list(r.zscores) for r in result.records]
        import pyarrow.parquet as pq

        assert export(opened.records(), tmp_path / "out.parquet") == 4
        table = pq.read_table(tmp_path / "out.parquet").to_pylist()
        assert [r["statistic"] for r in table] == [r.statistic for r in result.records]
        monkeypatch.setitem(sys.modules, "pyarrow", None)
        with pytest.raises(InputError, match=r"pip install 'twofold\[parquet\]'"):
            export(opened.records(), tmp_path / "again.parquet")


def test_report_pdf_and_html_with_a_heat_map(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    twofold.sweep(MONTE_CARLO, grid={"angle": [0.0, 90.0], "norm_y": [0.2, 0.4], "samples": [500]}, seeds=2, store=store)
    twofold.sweep(CHEAP, grid={"alpha": [0.2, 0.4]}, seeds=1, store=store)
    code, _, err = run(capsys, "sweep", "report", str(store), "-o", str(tmp_path / "r.pdf"))
    pdf = (tmp_path / "r.pdf").read_bytes()
    assert code == 0 and pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 3
    code, _, _ = run(capsys, "sweep", "report", str(store), "-o", str(tmp_path / "r.html"), "--claim", MONTE_CARLO)
    page = (tmp_path / "r.html").read_text()
    assert code == 0 and page.count("<svg") == 2 and "QQ vs N(0,1)" in page and "pass rate" in page
    assert "exact value" in page and "mean estimate" in page  # the 2-D grid's heat maps
    code, _, err = run(capsys, "sweep", "report", str(store), "-o", str(tmp_path / "r.png"))
    assert code == 2 and ".pdf or .html" in err
    with Store(store) as opened, pytest.raises(InputError, match="no verdicts of taylor.even_positive"):
        write_report(opened, tmp_path / "x.pdf", ["taylor.even_positive"])


def test_a_family_can_draw_a_sweep_for_the_proof_book(tmp_path: Path) -> None:
    from twofold.sweep_report import book_figure

    result = twofold.sweep(CHEAP, grid={"alpha": [0.2, 0.4], "n": [32, 64]}, seeds=1)
    figure = book_figure(result.records, tmp_path, "sweep.pdf", "pass rate of position.first_block over alpha and n")
    assert figure.family == "position" and (tmp_path / figure.file).read_bytes().startswith(b"%PDF")
