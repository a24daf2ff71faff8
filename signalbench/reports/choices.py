"""What a run chose and did, for report.html: the tuned columns' picks and every column's exposure.

:func:`tuned_picks` reads ``metrics.json``'s ``chosen`` (per walk-forward fold: the parameters tuning picked, or
"flat") and ``tuning`` (per fold: the validation table of every candidate, ``net_return`` its objective, ``chosen``
the pick) of each tuned column. :func:`exposure_rows` reads ``positions.parquet`` (the target position of every
tested row) with the column's ``exposure_time`` and ``turnover`` from ``metrics.json``. See ``docs/architecture.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["exposure_rows", "tuned_picks"]


def _pct(v: Any, fmt: str = ".2%") -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "—"
    return format(f, fmt) if np.isfinite(f) else "—"


def _picked(choice: Any) -> str:
    if choice == "flat" or choice is None:
        return "flat"
    if isinstance(choice, dict):
        return ", ".join(f"{k}={v}" for k, v in choice.items())
    return str(choice)


def _fold(choice: Any, table: dict[str, list]) -> dict[str, Any]:
    picks = [i for i, c in enumerate(table.get("chosen", [])) if c]
    net = table["net_return"][picks[0]] if picks and "net_return" in table else None
    return {"picked": _picked(choice), "val_net": _pct(net, ".4%"), "candidates": len(table.get("candidate", []))}


def tuned_picks(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Per tuned column, per fold: the parameters picked ("flat" when none earned), their validation net return."""
    out = []
    for col, m in metrics.get("columns", {}).items():
        if not m.get("tuned"):
            continue
        tables = m.get("tuning") or [{} for _ in m.get("chosen") or []]
        folds = [_fold(c, t) for c, t in zip(m.get("chosen") or [], tables)]
        out.append({"column": col, "folds": folds})
    return out


def _days(timestamps: pd.Series | None) -> int | None:
    if timestamps is None:
        return None
    return int(pd.to_datetime(timestamps).dt.normalize().nunique())


def exposure_rows(positions: pd.DataFrame, metrics: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    """Per column: time in market (metrics.json), long / short / flat shares of the tested rows, turnover per day.

    A multi-piece run's ``positions.parquet`` holds daily means, not rows: its shares come from metrics.json (counted
    on every tested row of every piece) and its turnover is per symbol-day (``unit``).
    """
    pieces = (metrics.get("pieces") or {}).get("tested")
    if pieces is not None:
        days, unit = len(pieces), "symbol-day"
    else:
        days, unit = (_days(positions["timestamp"]) if "timestamp" in positions else None), "calendar day"
    rows = []
    for col in columns:
        m = metrics["columns"].get(col, {})
        if pieces is not None:
            shares = [m.get(f"{k}_share") for k in ("long", "short", "flat")]
        elif col in positions:
            p = positions[col].to_numpy(dtype=float)
            shares = [np.mean(p > 0), np.mean(p < 0), np.mean(p == 0)]
        else:
            continue
        turnover = m.get("turnover")
        per_day = float(turnover) / days if days and isinstance(turnover, int | float) else None
        rows.append(
            {
                "column": col,
                "in_market": _pct(m.get("exposure_time"), ".1%"),
                **{k: _pct(v, ".1%") for k, v in zip(("long", "short", "flat"), shares)},
                "turnover_per_day": _pct(per_day, ".2f"),
            }
        )
    return {"days": days, "unit": unit, "rows": rows}
