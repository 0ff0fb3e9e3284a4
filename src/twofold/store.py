"""The results store of ``twofold sweep``: one SQLite row per verdict, written as each verdict completes.

A row is keyed by (claim, parameters, seed, profile, twofold version): the
parameters are the claim's full resolved parameters as canonical JSON, so the
same point reached through different overrides is the same row.  The database
runs in WAL mode and every completed verdict is its own transaction: a sweep
killed with ``kill -9`` keeps every verdict it finished, and rerunning the same
sweep skips them (:meth:`Store.done`).  ``synchronous=NORMAL``: safe against a
killed process; a power cut may lose the last few commits (never corrupt the file).

Floats are stored as REAL; SQLite has no NaN (it becomes NULL) and keeps ±inf.
"""

from __future__ import annotations

import csv
import json
import math
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from twofold.contract import InputError, jsonable
from twofold.model import Verdict

FORMAT = 1  # PRAGMA user_version of a twofold store
MEMORY = ":memory:"

SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    claim TEXT NOT NULL,
    params TEXT NOT NULL,
    seed INTEGER NOT NULL,
    profile TEXT NOT NULL,
    version TEXT NOT NULL,
    point TEXT NOT NULL,
    passed INTEGER NOT NULL,
    statistic REAL,
    threshold REAL,
    exact REAL,
    estimate REAL,
    stderr REAL,
    seconds REAL NOT NULL,
    failure TEXT,
    method TEXT,
    zscores TEXT NOT NULL,
    pvalues TEXT NOT NULL,
    finished REAL NOT NULL,
    PRIMARY KEY (claim, params, seed, profile, version)
)
"""


@dataclass(frozen=True)
class Record:
    """One stored verdict.  ``params``: the claim's full parameters; ``point``: the grid overrides that gave them."""

    claim: str
    params: dict[str, Any]
    seed: int
    profile: str
    version: str
    point: dict[str, Any]
    passed: bool
    statistic: float | None
    threshold: float | None
    exact: float | None
    estimate: float | None
    stderr: float | None
    seconds: float
    failure: str | None
    method: str | None
    zscores: tuple[float, ...]
    pvalues: tuple[float, ...]
    finished: float

    def key(self) -> tuple[str, str, int, str, str]:
        return (self.claim, canonical(self.params), self.seed, self.profile, self.version)

    def flat(self) -> dict[str, Any]:
        """One table row: each parameter as a column ``param_<name>``, z-scores and p-values as lists."""
        row = {name: value for name, value in asdict(self).items() if name not in ("params", "point")}
        row.update({f"param_{name}": value for name, value in self.params.items()})
        row["grid"] = ",".join(self.point)
        row["zscores"], row["pvalues"] = list(self.zscores), list(self.pvalues)
        return row


COLUMNS = tuple(f.name for f in fields(Record))


def canonical(values: dict[str, Any]) -> str:
    """``values`` as canonical JSON (sorted keys, no spaces): a point's identity in the store."""
    return json.dumps({k: jsonable(v) for k, v in values.items()}, sort_keys=True, separators=(",", ":"))


def _real(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _numbers(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in json.loads(text))


class Store:
    """A sweep store at ``path`` (``":memory:"``: in memory, gone when closed).  Use as a context manager."""

    def __init__(self, path: str | Path = MEMORY) -> None:
        self.path = str(path)
        if self.path != MEMORY:
            target = Path(self.path)
            if target.is_dir() or not target.parent.is_dir():
                raise InputError(f"cannot use {self.path[:120]} as a store: not a file in an existing directory")
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            found = self._db.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and (found != FORMAT or "verdicts" not in tables):
                raise InputError(f"{self.path[:120]} is not a twofold sweep store (format {FORMAT})")
            self._db.execute(SCHEMA)
            self._db.execute(f"PRAGMA user_version={FORMAT}")
        except sqlite3.DatabaseError as exc:
            raise InputError(f"cannot open {self.path[:120]} as a sweep store: {exc}") from None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def add(self, verdict: Verdict, *, seed: int, profile: str, version: str, point: dict[str, Any]) -> Record:
        """Store one completed verdict in its own transaction (a row already there is kept) and return its record."""
        c, e = verdict.comparison, verdict.estimate
        record = Record(
            claim=verdict.claim_id,
            params=dict(verdict.params),
            seed=seed,
            profile=profile,
            version=version,
            point=point,
            passed=bool(verdict.passed),
            statistic=None if c is None else _real(c.statistic),
            threshold=None if c is None else _real(c.threshold),
            exact=None if c is None else _real(c.exact),
            estimate=_real(c.estimate) if c is not None else (_real(e.value) if e is not None else None),
            stderr=None if e is None else _real(e.stderr),
            seconds=float(verdict.seconds),
            failure=verdict.failure,
            method=None if c is None else c.method,
            zscores=() if c is None else tuple(float(z) for z in c.zscores),
            pvalues=() if c is None else tuple(float(p) for p in c.pvalues),
            finished=time.time(),
        )
        values = (
            record.claim, canonical(record.params), record.seed, record.profile, record.version,
            canonical(record.point), int(record.passed), record.statistic, record.threshold, record.exact,
            record.estimate, record.stderr, record.seconds, record.failure, record.method,
            json.dumps(jsonable(list(record.zscores))), json.dumps(jsonable(list(record.pvalues))), record.finished,
        )
        self._db.execute(f"INSERT OR IGNORE INTO verdicts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", values)
        return record

    def done(self, claim: str, profile: str, version: str) -> set[tuple[str, int]]:
        """(canonical parameters, seed) of every verdict stored for this claim, profile and version."""
        rows = self._db.execute(
            "SELECT params, seed FROM verdicts WHERE claim = ? AND profile = ? AND version = ?", (claim, profile, version)
        )
        return {(params, seed) for params, seed in rows}

    def records(self, claim: str | None = None) -> list[Record]:
        """Every stored record (of ``claim`` if given), in the order they were finished."""
        query = f"SELECT {', '.join(COLUMNS)} FROM verdicts"
        rows = self._db.execute(query + (" WHERE claim = ?" if claim else "") + " ORDER BY finished, rowid", (claim,) if claim else ())
        return [_record(row) for row in rows]

    def claims(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT DISTINCT claim FROM verdicts ORDER BY claim")]

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0])


def _record(row: Sequence[Any]) -> Record:
    values = dict(zip(COLUMNS, row))
    values["params"], values["point"] = json.loads(values["params"]), json.loads(values["point"])
    values["passed"] = bool(values["passed"])
    values["zscores"], values["pvalues"] = _numbers(values["zscores"]), _numbers(values["pvalues"])
    return Record(**values)


def open_existing(path: str | Path) -> Store:
    """A store that must already exist (for ``sweep export`` and ``sweep report``)."""
    if not Path(path).is_file():
        raise InputError(f"no sweep store at {str(path)[:120]}")
    return Store(path)


def table(records: Iterable[Record]) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and flat rows (:meth:`Record.flat`); parameter columns are the union over all records."""
    rows = [record.flat() for record in records]
    columns: dict[str, None] = {}
    for name in COLUMNS:
        if name not in ("params", "point"):
            columns[name] = None
    columns["grid"] = None
    for row in rows:
        columns.update(dict.fromkeys(k for k in row if k.startswith("param_")))
    return list(columns), rows


def export(records: Sequence[Record], output: Path) -> int:
    """Write ``records`` to ``output``: ``.csv`` (standard library) or ``.parquet`` (pyarrow); the number of rows."""
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"export writes .csv or .parquet, not {output.name[:80]!r}")
    columns, rows = table(records)
    if suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise InputError("exporting to parquet needs pyarrow: pip install 'twofold[parquet]'") from None
        pq.write_table(pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows]), output)
        return len(rows)
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: json.dumps(row[c]) if isinstance(row.get(c), list) else row.get(c) for c in columns})
    return len(rows)


def to_pandas(records: Sequence[Record]) -> Any:
    """The records as a pandas DataFrame (one row each, parameters as ``param_<name>`` columns)."""
    try:
        import pandas as pd
    except ImportError:
        raise InputError("to_pandas() needs pandas: pip install pandas") from None
    columns, rows = table(records)
    return pd.DataFrame(rows, columns=columns)
