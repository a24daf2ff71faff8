"""What the API and the page show of runs: a run's record, its metrics, its histories' steps, the params that differ.

A comparison of several runs puts the metrics of each column side by side and keeps only the params that differ.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from signalbench.service import db, runfolder
from signalbench.service.importer import BENCHMARK, flatten


def run_row(conn: Connection, run_id: str):
    """The database row of run ``run_id`` (None when there is none)."""
    return conn.execute(select(db.runs).where(db.runs.c.id == run_id)).first()


def column_metrics(conn: Connection, pk: int) -> tuple[dict[str, dict[str, float | None]], set[str]]:
    """``{column: {metric: value}}`` of one run (the best-of row ``"*"`` left out), and its benchmark columns."""
    m = db.run_metrics
    out: dict[str, dict[str, float | None]] = {}
    benchmarks = set()
    for column, name, value in conn.execute(select(m.c.column, m.c.name, m.c.value).where(m.c.run_pk == pk)):
        if name == BENCHMARK:
            benchmarks.add(column)
        elif column != "*":
            out.setdefault(column, {})[name] = value
    return out, benchmarks


def run_detail(conn: Connection, row) -> dict[str, Any]:
    """Everything the database holds of one run."""
    pk = row.pk
    params = {
        r.key: (r.number if r.number is not None and r.text is None else r.text)
        for r in conn.execute(select(db.run_params).where(db.run_params.c.run_pk == pk))
    }
    symbols = list(conn.execute(select(db.run_symbols.c.symbol).where(db.run_symbols.c.run_pk == pk)).scalars())
    models = [
        {"name": m.name, "model": m.model, "features": m.features, "params": m.params}
        for m in conn.execute(select(db.models).where(db.models.c.run_pk == pk))
    ]
    summary = {
        c: getattr(row, c)
        for c in (
            "id",
            "name",
            "status",
            "data",
            "data_kind",
            "data_version",
            "code_version",
            "config_hash",
            "submitted_by",
            "created_at",
        )
    }
    return {**summary, "symbols": symbols, "params": params, "models": models, "config": row.config}


def _steps(epochs: list[dict]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    names = dict.fromkeys(k for e in epochs for k in e if k != "epoch")
    for name in names:
        values = [e.get(name) for e in epochs]
        finite = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
        out[name] = {
            "min": min(finite) if finite else None,
            "max": max(finite) if finite else None,
            "last": values[-1] if values else None,
            "steps": len(values),
        }
    return out


def histories(run_dir: Path) -> dict[str, Any]:
    """Per model (and per fold of a walk-forward), min/max/last of each metric it logged per epoch."""
    out: dict[str, Any] = {}
    for model, value in runfolder.histories(run_dir).items():
        if not value:
            continue
        if isinstance(value[0], dict):
            out[model] = _steps(value)
        else:
            out[model] = [_steps(fold) if fold else None for fold in value]
    return out


def stated_dsr(run_dir: Path, columns: list[str], n_trials: int) -> dict[str, float | None]:
    """The deflated Sharpe of each model column of one run over ``n_trials`` stated trials.

    From the net returns of the tested rows (``returns.parquet``); None for every column without that table.
    """
    from signalbench.engine.selection import deflated_sharpe_row

    returns = runfolder.net_returns(run_dir, columns) if columns else None
    if returns is None:
        return dict.fromkeys(columns)
    returns = returns.dropna()
    values = deflated_sharpe_row(returns.to_numpy(), n_trials=n_trials)
    return {c: (None if math.isnan(v) else float(v)) for c, v in zip(columns, values)}


def differing_params(configs: dict[str, dict]) -> dict[str, dict[str, Any]]:
    """``{param: {run: value}}`` of the params whose values are not the same in every run."""
    flat = {run: {k: v for k, v in flatten(cfg).items() if k != "base_dir"} for run, cfg in configs.items()}
    keys = dict.fromkeys(k for f in flat.values() for k in f)
    out = {}
    for key in keys:
        values = {run: f.get(key) for run, f in flat.items()}
        if len({repr(v) for v in values.values()}) > 1:
            out[key] = values
    return out
