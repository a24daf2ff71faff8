"""Run folders into the database (``signalbench db import RUNS_DIR``): idempotent, each run in one transaction.

Every file is read through the checked readers of the run folder (:mod:`signalbench.service.runfolder`), so a
damaged folder is reported with the file and the key, and skipped; the others are imported.
A run already in the database (same id: the folder's name) is left as it is, so importing twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from signalbench.service import db, runfolder
from signalbench.service.paths import RUN_ID

_STAMP = re.compile(r"-(\d{8}T\d{6}Z)(?:-\d+)?$")
_SYMBOL = re.compile(r"([A-Z][A-Z0-9.]{0,9})_\d{4}-\d{2}-\d{2}")
_SKIPPED_PARAMS = ("base_dir",)
BENCHMARK = "benchmark"
#: Runs inserted per transaction by :func:`import_runs`.
BATCH = 200


@dataclass
class ImportSummary:
    """What an import did: the runs added, those already there, and the folders refused (with the reason)."""

    imported: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{len(self.imported)} imported, {len(self.present)} already there, {len(self.refused)} refused"]
        lines += [f"  refused {name}: {why}" for name, why in self.refused]
        return "\n".join(lines)


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _finite_or_inf(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def flatten(value: Any, key: str = "") -> dict[str, Any]:
    """The config as ``{"labels.horizon": 1, "models[0].seq_len": 4, ...}``; a list of plain values stays one value."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, entry in value.items():
            out.update(flatten(entry, f"{key}.{name}" if key else str(name)))
        return out
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        out = {}
        for k, entry in enumerate(value):
            out.update(flatten(entry, f"{key}[{k}]"))
        return out
    return {key: value}


def param_row(key: str, value: Any) -> dict[str, Any]:
    """A typed param: numbers in ``number`` (booleans as 0/1 and their text), everything else in ``text``."""
    if isinstance(value, bool):
        return {"key": key, "number": float(value), "text": "true" if value else "false"}
    if isinstance(value, int | float):
        return {"key": key, "number": _finite_or_inf(value), "text": None}
    if value is None:
        return {"key": key, "number": None, "text": None}
    return {"key": key, "number": None, "text": value if isinstance(value, str) else json.dumps(value)}


def symbols_of(data: dict) -> list[str]:
    """The symbols a run's data hold: a ``symbol(s)`` key, else the LOBSTER file names (``AMZN_2012-06-21``)."""
    named = data.get("symbols", data.get("symbol"))
    if named:
        return sorted({str(s) for s in (named if isinstance(named, list) else [named])})
    paths = data.get("path") or []
    found = {m.group(1) for p in (paths if isinstance(paths, list) else [paths]) for m in _SYMBOL.finditer(str(p))}
    return sorted(found)


def metric_rows(columns: dict[str, dict]) -> list[dict[str, Any]]:
    """One row per column x numeric metric, and per metric the best (highest) over the model columns as ``"*"``.

    A benchmark column (an oracle, buy-and-hold) also gets ``benchmark`` = 1, so a comparison can tell it apart.
    """
    rows, best = [], {}
    for column, values in columns.items():
        trial = not values.get("benchmark", False)
        if not trial:
            rows.append({"column": column, "name": BENCHMARK, "value": 1.0})
        for name, value in values.items():
            if isinstance(value, bool) or not (value is None or isinstance(value, int | float)):
                continue
            number = _finite_or_inf(value)
            rows.append({"column": column, "name": name, "value": number})
            if trial and number is not None and (name not in best or number > best[name]):
                best[name] = number
    rows += [{"column": "*", "name": name, "value": value} for name, value in best.items()]
    return rows


def _created(run_dir: Path) -> float:
    match = _STAMP.search(run_dir.name)
    if match:
        return dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC).timestamp()
    return (run_dir / "metrics.json").stat().st_mtime


def _models(run_dir: Path, run_id: str) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{folder}@{run_id}",
            "model": str(saved.get("model", folder)),
            "params": saved.get("params") or {},
            "features": list(saved.get("feature_names") or []),
            "path": f"{run_id}/models/{folder}",
        }
        for folder, saved in runfolder.saved_models(run_dir).items()
    ]


def read_run(run_dir: Path, *, status: str = "done", submitted_by: str = "") -> dict[str, Any]:
    """Everything the database holds of one run folder, read through the checked reader."""
    run_id = run_dir.name
    metrics = runfolder.metrics(run_dir)
    config = runfolder.config(run_dir)
    env = runfolder.environment(run_dir)
    version = (env.get("packages") or {}).get("signalbench", "")
    data = config.get("data") or {}
    params = {k: v for k, v in flatten(config).items() if k not in _SKIPPED_PARAMS}
    return {
        "run": {
            "id": run_id,
            "name": str(config.get("name") or metrics.get("experiment") or run_id),
            "status": status,
            "data": str(metrics.get("data", "")),
            "data_kind": str(data.get("kind", "")),
            "data_version": _hash(data),
            "code_version": f"{version} {env.get('git_commit') or ''}".strip(),
            "config": config,
            "config_hash": _hash({k: v for k, v in config.items() if k not in _SKIPPED_PARAMS}),
            "submitted_by": submitted_by,
            "created_at": _created(run_dir),
            "imported_at": time.time(),
        },
        "metrics": metric_rows(metrics.get("columns") or {}),
        "params": [param_row(k, v) for k, v in params.items()],
        "symbols": symbols_of(data),
        "models": _models(run_dir, run_id),
    }


def insert_run(conn: Connection, record: dict[str, Any]) -> bool:
    """Insert one read run (False when its id is there already: nothing changes)."""
    run = record["run"]
    if conn.execute(select(db.runs.c.pk).where(db.runs.c.id == run["id"])).first() is not None:
        return False
    pk = conn.execute(insert(db.runs).values(**run)).inserted_primary_key[0]
    for table, rows in (
        (db.run_metrics, record["metrics"]),
        (db.run_params, record["params"]),
        (db.run_symbols, [{"symbol": s} for s in record["symbols"]]),
        (db.models, record["models"]),
    ):
        if rows:
            conn.execute(insert(table), [{**row, "run_pk": pk} for row in rows])
    return True


def run_folders(runs_dir: Path) -> list[Path]:
    """The finished run folders directly under ``runs_dir`` (hidden temporary folders of a run in progress left out)."""
    names = (p for p in runs_dir.iterdir() if RUN_ID.fullmatch(p.name) and not p.name.startswith("."))
    return sorted(p for p in names if p.is_dir() and not p.is_symlink())  # a link could lead out of the folder


def import_runs(engine: Engine, runs_dir: str | Path) -> ImportSummary:
    """Import every run folder under ``runs_dir`` that is not in the database yet."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"RUNS_DIR: expected a folder of run folders, got no such folder at {runs_dir}")
    with engine.connect() as conn:
        known = set(conn.execute(select(db.runs.c.id)).scalars())
    summary, batch = ImportSummary(), []
    for folder in run_folders(runs_dir):
        if folder.name in known:
            summary.present.append(folder.name)
            continue
        if not (folder / "metrics.json").is_file():
            continue  # not a run folder (or a run still being written elsewhere)
        try:
            batch.append(read_run(folder))
        except (ValueError, OSError) as exc:  # RunFolderError is a ValueError
            summary.refused.append((folder.name, str(exc)))
        if len(batch) == BATCH:
            _insert_batch(engine, batch, summary)
    _insert_batch(engine, batch, summary)
    return summary


def _insert_batch(engine: Engine, batch: list[dict[str, Any]], summary: ImportSummary) -> None:
    """Insert read runs in one transaction (a commit per run would cost a disk flush each) and empty ``batch``."""
    with engine.begin() as conn:
        for record in batch:
            name = record["run"]["id"]
            (summary.imported if insert_run(conn, record) else summary.present).append(name)
    batch.clear()
