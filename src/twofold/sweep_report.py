r"""The report of a sweep store: one section per claim, as a PDF (matplotlib's PdfPages) or an HTML page.

A section shows the summary and calibration numbers (:mod:`twofold.sweep_stats`),
a histogram of the signed z-scores over the :math:`N(0,1)` density and their QQ
plot against :math:`N(0,1)` with the KS p-value, the pass rate per grid point
(bars for a 1-D grid, a heat map for a 2-D grid, where also the exact value and
the mean estimate are drawn side by side), and the failing points with the
command that reproduces each.  Figures are drawn with matplotlib's
object-oriented API on the Agg canvas; the HTML embeds them as SVG and escapes
every text.  It renders stored records only: nothing is verified here.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
import scipy

from twofold import sweep_stats
from twofold.contract import InputError
from twofold.store import Record, Store

PAGE = (8.27, 11.69)  # A4 portrait, inches
MAX_FAILURES = 40  # failing points listed per claim (the rest counted)


def write_report(store: Store, output: Path, claims: Sequence[str] = ()) -> int:
    """Write the report of ``claims`` (default: all) in ``store`` to ``output`` (.pdf or .html); the number of claims."""
    chosen = list(claims) or store.claims()
    missing = [c for c in chosen if c not in store.claims()]
    if missing:
        raise InputError(f"the store has no verdicts of {', '.join(missing)[:120]}")
    if not chosen:
        raise InputError("the store holds no verdicts yet")
    sections = [(claim, store.records(claim)) for claim in chosen]
    if output.suffix.lower() == ".pdf":
        with PdfPages(output, metadata={"Title": "twofold sweep report", "CreationDate": None}) as pdf:
            for claim, records in sections:
                for figure in section_figures(claim, records):
                    pdf.savefig(figure)
    else:
        output.write_text(html_report(sections), encoding="utf-8")
    return len(sections)


def _figure(size: tuple[float, float] = PAGE) -> Figure:
    figure = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def section_figures(claim: str, records: Sequence[Record]) -> list[Figure]:
    """The figures of one claim: an overview page (text, z-scores), and a grid page when there is a grid."""
    pages = [overview(claim, records)]
    axes = sweep_stats.grid_axes(records)
    if axes:
        pages.append(grid_page(claim, records, axes))
    return pages


def summary_lines(claim: str, records: Sequence[Record]) -> list[str]:
    """The section's text: totals, calibration, and the failing points with their reproduction commands."""
    s = sweep_stats.summary(records, sum(r.seconds for r in records))
    profiles = sorted({r.profile for r in records})
    versions = sorted({r.version for r in records})
    lines = [
        f"{claim}: {s['passed']} of {s['total']} verdicts passed"
        + (f" ({s['pass_rate']:.1%})" if s["pass_rate"] is not None else ""),
        f"profile {', '.join(profiles)}; twofold {', '.join(versions)}; {len({r.seed for r in records})} seeds;"
        f" {s['seconds']:.1f} s of verification",
    ]
    c = sweep_stats.calibration(records)
    if c is None:
        lines.append("no z-scores or p-values: this claim's checks are exact or deterministic, nothing to calibrate")
    else:
        extreme = f", max |z| = {c['max_abs_z']:.2f}" if c["max_abs_z"] is not None else ""
        lines.append(f"{c['count']} {c['statistic']}s: KS p-value {c['ks_pvalue']:.3g}{extreme}")
        lines.append(
            f"failures at the claim's level ({c['level']:.1e} per verdict): expected {c['expected_failures']:.2g},"
            f" observed {c['observed_failures']}"
        )
    failing = sweep_stats.failures(records)
    lines.append(f"{len(failing)} failing verdicts" + (":" if failing else ""))
    for f in failing[:MAX_FAILURES]:
        lines.append(f"  seed {f['seed']} {f['params']}: {(f['failure'] or 'statistic beyond threshold')[:90]}")
        lines.append(f"    {f['command']}")
    if len(failing) > MAX_FAILURES:
        lines.append(f"  ... and {len(failing) - MAX_FAILURES} more (twofold sweep export)")
    return lines


def overview(claim: str, records: Sequence[Record]) -> Figure:
    """Text, then the histogram and QQ plot of the z-scores (or the p-value histogram)."""
    figure = _figure()
    text_area, plots = figure.subfigures(2, 1, height_ratios=(1, 1.1))
    text_axes = text_area.add_subplot()
    text_axes.axis("off")
    text_axes.text(0, 1, "\n".join(summary_lines(claim, records)), va="top", ha="left", family="monospace", fontsize=7,
                   wrap=True, transform=text_axes.transAxes)
    left, right = plots.subplots(1, 2)
    z, p = sweep_stats.zscores(records), sweep_stats.pvalues(records)
    if z:
        draw_histogram(left, z)
        draw_qq(right, z)
    elif p:
        left.hist(p, bins=20, range=(0, 1), density=True, color="tab:blue", alpha=0.7)
        left.axhline(1.0, color="black", lw=1)
        left.set(title=f"p-values (KS vs U(0,1): p = {scipy.stats.kstest(p, 'uniform').pvalue:.3g})", xlabel="p")
        right.axis("off")
    else:
        left.axis("off")
        right.axis("off")
    return figure


def draw_histogram(axes: Any, z: Sequence[float]) -> None:
    """Histogram of the z-scores (density) over the N(0,1) density."""
    grid = np.linspace(min(-4.0, min(z)), max(4.0, max(z)), 200)
    axes.hist(z, bins=max(10, min(60, int(math.sqrt(len(z))) * 2)), density=True, color="tab:blue", alpha=0.7)
    axes.plot(grid, scipy.stats.norm.pdf(grid), color="black", lw=1, label="N(0,1)")
    axes.set(title=f"{len(z)} z-scores", xlabel="z")
    axes.legend(fontsize=7)


def draw_qq(axes: Any, z: Sequence[float]) -> None:
    """QQ plot of the z-scores against N(0,1), the identity line, and the KS p-value in the title."""
    ordered = np.sort(np.asarray(z))
    quantiles = scipy.stats.norm.ppf((np.arange(1, len(ordered) + 1) - 0.5) / len(ordered))
    limit = float(max(np.max(np.abs(ordered)), np.max(np.abs(quantiles)), 3.0))
    axes.plot([-limit, limit], [-limit, limit], color="black", lw=1)
    axes.plot(quantiles, ordered, ".", color="tab:blue", ms=3)
    axes.set(title=f"QQ vs N(0,1): KS p = {scipy.stats.kstest(z, 'norm').pvalue:.3g}", xlabel="N(0,1) quantile",
             ylabel="z-score", aspect="equal")


def grid_page(claim: str, records: Sequence[Record], axes_names: Sequence[str]) -> Figure:
    """Pass rate per grid point: bars over the first axis, or for two axes heat maps of pass rate, exact, estimate."""
    rows = sweep_stats.points(records)
    figure = _figure((PAGE[0], PAGE[1] / 2 if len(axes_names) != 2 else PAGE[1] * 0.6))
    if len(axes_names) == 2:
        draw_heatmaps(figure, claim, rows, axes_names)
        return figure
    axes = figure.add_subplot()
    labels = [", ".join(f"{k}={v}" for k, v in row["params"].items()) for row in rows]
    axes.bar(range(len(rows)), [row["pass_rate"] for row in rows], color="tab:green")
    axes.set_xticks(range(len(rows)), labels, rotation=60, ha="right", fontsize=6)
    axes.set(ylim=(0, 1.05), ylabel="pass rate", title=f"{claim}: pass rate per grid point")
    return figure


def _matrix(rows: Sequence[dict[str, Any]], names: Sequence[str], field: str) -> tuple[list[Any], list[Any], np.ndarray]:
    xs = list(dict.fromkeys(row["params"][names[0]] for row in rows))
    ys = list(dict.fromkeys(row["params"][names[1]] for row in rows))
    matrix = np.full((len(ys), len(xs)), np.nan)
    for row in rows:
        value = row[field]
        if value is not None:
            matrix[ys.index(row["params"][names[1]]), xs.index(row["params"][names[0]])] = value
    return xs, ys, matrix


def draw_heatmaps(figure: Figure, claim: str, rows: Sequence[dict[str, Any]], names: Sequence[str]) -> None:
    """Three heat maps over the 2-D grid: pass rate, the exact value, and the mean estimate (same colour scale)."""
    top, bottom = figure.subfigures(2, 1)
    rate_axes = top.add_subplot()
    exact_axes, estimate_axes = bottom.subplots(1, 2)
    xs, ys, rate = _matrix(rows, names, "pass_rate")
    _, _, exact = _matrix(rows, names, "exact")
    _, _, estimate = _matrix(rows, names, "estimate")
    _heatmap(top, rate_axes, xs, ys, rate, names, f"{claim}: pass rate", vmin=0.0, vmax=1.0, cmap="RdYlGn")
    finite = np.concatenate([exact[np.isfinite(exact)], estimate[np.isfinite(estimate)]])
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    _heatmap(bottom, exact_axes, xs, ys, exact, names, "exact value", vmin=low, vmax=high, cmap="viridis")
    _heatmap(bottom, estimate_axes, xs, ys, estimate, names, "mean estimate", vmin=low, vmax=high, cmap="viridis")


def _heatmap(figure: Any, axes: Any, xs: list[Any], ys: list[Any], matrix: np.ndarray, names: Sequence[str], title: str,
             **style: Any) -> None:
    image = axes.imshow(matrix, origin="lower", aspect="auto", **style)
    axes.set_xticks(range(len(xs)), [f"{x:g}" if isinstance(x, float) else str(x) for x in xs], fontsize=6, rotation=45)
    axes.set_yticks(range(len(ys)), [f"{y:g}" if isinstance(y, float) else str(y) for y in ys], fontsize=6)
    axes.set(xlabel=names[0], ylabel=names[1], title=title)
    figure.colorbar(image, ax=axes, shrink=0.8)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def html_report(sections: Sequence[tuple[str, Sequence[Record]]]) -> str:
    """One self-contained HTML page: per claim, the text (escaped) and the figures as inline SVG."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>twofold sweep report</title>',
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto} pre{white-space:pre-wrap} svg{max-width:100%;height:auto}</style>",
        "</head><body><h1>twofold sweep report</h1>",
    ]
    for claim, records in sections:
        parts.append(f"<section><h2>{html.escape(claim)}</h2>")
        parts.append(f"<pre>{html.escape(chr(10).join(summary_lines(claim, records)))}</pre>")
        z = sweep_stats.zscores(records)
        if z:
            figure = _figure((8, 3.6))
            left, right = figure.subplots(1, 2)
            draw_histogram(left, z)
            draw_qq(right, z)
            parts.append(_svg(figure))
        names = sweep_stats.grid_axes(records)
        if names:
            parts.append(_svg(grid_page(claim, records, names)))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def book_figure(records: Sequence[Record], directory: Path, name: str, caption: str) -> Any:
    """A sweep's grid page (heat maps for a 2-D grid) as a proof-book figure: ``directory/name`` (PDF).

    A family declares it like any figure: a :class:`twofold.model.Drawing` whose function runs
    ``twofold.sweep(...)`` serially over a small grid and returns ``book_figure(result.records, ...)``.
    """
    from twofold.figures import Figure as BookFigure, save

    if not records:
        raise InputError("a sweep figure needs at least one record")
    figure = grid_page(records[0].claim, records, sweep_stats.grid_axes(records) or list(records[0].point))
    return BookFigure(file=save(figure, directory, name), caption=caption, family=records[0].claim.split(".")[0])
