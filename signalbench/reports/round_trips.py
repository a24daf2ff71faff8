"""The round trips of report.html, rebuilt from a run folder by the engine's trade builder.

The run folder keeps each column's target position (``positions.parquet``), its net and gross returns and the traded
price (``returns.parquet``), and the execution delay in ``config.json``. The executed exposure is the target position
``delay`` rows later (flat at the last row when the run closed at the end); each bar's cost is gross minus net. The
rebuild is checked against the folder before it is shown: every gross return must equal the exposure held times the
price move (:func:`exposure`), else the report says why it shows no trades. The records are
:func:`signalbench.engine.trades.trade_records_nb`'s, the ones ``BacktestResult.trades`` holds. See
``docs/architecture.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from signalbench.engine.trades import RECORD_FIELDS, round_trip_stats_nb, trade_records_nb

__all__ = ["SHOWN", "exposure", "records", "round_trips", "window_marks"]

#: Trades shown per column (the rest are counted in a note).
SHOWN = 1000


def exposure(positions: pd.DataFrame, returns: pd.DataFrame, columns: list[str], costs: dict[str, Any]) -> Any:
    """The executed exposure ``(n, m)`` of ``columns``, or a string saying why it cannot be rebuilt."""
    delay = costs.get("delay", 0)
    if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
        return f"the execution delay {delay!r} is not a whole number of rows"
    if "price" not in returns or any(f"gross:{c}" not in returns for c in columns):
        return "returns.parquet lacks the price or the gross returns"
    pos = positions[columns].to_numpy(dtype=float)
    e = np.zeros_like(pos)
    e[delay:] = pos[: len(pos) - delay]
    if costs.get("close_at_end", True):
        e[-1] = 0.0
    move = returns["price"].pct_change().fillna(0.0).to_numpy()
    gross = returns[[f"gross:{c}" for c in columns]].fillna(0.0).to_numpy()
    held = np.vstack([np.zeros((1, e.shape[1])), e[:-1]]) * move[:, None]
    if not np.allclose(held, gross, rtol=1e-9, atol=1e-12):
        return "the positions, delayed, do not reproduce the run's gross returns"
    return e


def records(positions: pd.DataFrame, returns: pd.DataFrame, columns: list[str], costs: dict[str, Any]) -> Any:
    """Every round trip of ``columns`` (the engine's records, ``column`` indexing ``columns``), or why none."""
    e = exposure(positions, returns, columns, costs) if columns else "no model column"
    if isinstance(e, str):
        return e
    gross = returns[[f"gross:{c}" for c in columns]].fillna(0.0).to_numpy()
    cost = gross - returns[columns].fillna(0.0).to_numpy()
    price = returns["price"].to_numpy(dtype=float)[:, None]
    counts = round_trip_stats_nb(e, gross - cost, cost)[0]
    return pd.DataFrame(trade_records_nb(e, gross, cost, price, counts), columns=list(RECORD_FIELDS))


def round_trips(
    positions: pd.DataFrame, returns: pd.DataFrame, columns: list[str], costs: dict[str, Any], frame: Any = None
) -> dict[str, Any]:
    """Per column its first :data:`SHOWN` trades (entry and exit time, side, bars, prices, PnL) and its count.

    ``frame`` is what :func:`records` returned for these arguments, when the caller has it already.
    """
    frame = records(positions, returns, columns, costs) if frame is None else frame
    if isinstance(frame, str):
        return {"error": frame, "columns": []}
    times = _times(returns)
    out = []
    for j, col in enumerate(columns):
        rows = frame[frame["column"] == j]
        out.append({"column": col, "count": len(rows), "net": float(rows["net_pnl"].sum()), "rows": _rows(rows, times)})
    return {"error": None, "columns": out, "day": _day(returns)}


def window_marks(frame: Any, columns: list[str], shown: list[str], start: int, stop: int) -> pd.DataFrame | None:
    """The entries and exits of the ``shown`` columns inside rows ``[start, stop)``, for the zoomed price chart.

    ``frame`` is :func:`records` of ``columns`` (or its reason for none: then None). Rows are relative to ``start``;
    columns ``name``, ``row``, ``kind`` ("entry" or "exit"), ``side`` (+1 long, -1 short).
    """
    if isinstance(frame, str) or frame is None:
        return None
    parts = []
    for kind in ("entry", "exit"):
        rows = frame[f"{kind}_row"].to_numpy(dtype=int)
        inside = (rows >= start) & (rows < stop)
        if kind == "exit":  # a trade still open on the last row has no exit
            inside &= frame["is_open"].to_numpy() == 0
        names = np.asarray(columns, dtype=object)[frame["column"].to_numpy(dtype=int)[inside]]
        sides = np.sign(frame["side"].to_numpy()[inside]).astype(int)
        parts.append(pd.DataFrame({"name": names, "row": rows[inside] - start, "kind": kind, "side": sides}))
    marks = pd.concat(parts, ignore_index=True)
    return marks[marks["name"].isin(shown)].reset_index(drop=True)


def _day(returns: pd.DataFrame) -> str | None:
    """The one date of the tested rows (shown once, the trade times then omit it), or None."""
    if "timestamp" not in returns:
        return None
    days = pd.to_datetime(returns["timestamp"]).dt.normalize().unique()
    return str(days[0].date()) if len(days) == 1 else None


def _times(returns: pd.DataFrame) -> pd.Series:
    """Each row's time as text (to the millisecond; without the date when the run spans one day)."""
    if "timestamp" not in returns:
        return pd.Series(np.arange(len(returns)).astype(str))
    ts = pd.to_datetime(returns["timestamp"])
    one_day = ts.dt.normalize().nunique() == 1
    return ts.dt.strftime("%H:%M:%S.%f" if one_day else "%Y-%m-%d %H:%M:%S.%f").str[:-3]


def _rows(rows: pd.DataFrame, times: pd.Series) -> list[dict[str, str]]:
    shown = rows.iloc[:SHOWN]
    return [
        {
            "side": "long" if r.side > 0 else "short",
            "entry": times.iloc[int(r.entry_row)],
            "exit": times.iloc[int(r.exit_row)],
            "bars": f"{int(r.bars_held)}",
            "entry_price": f"{r.entry_price:.4f}",
            "exit_price": f"{r.exit_price:.4f}",
            "net": f"{r.net_pnl:.4%}",
            "sort": {"entry": int(r.entry_row), "exit": int(r.exit_row), "net": repr(float(r.net_pnl))},
        }
        for r in shown.itertuples()
    ]
