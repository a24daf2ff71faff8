"""The results of a multi-piece run in report.html: per symbol, per day, pooled, the daily equity, the missing pieces.

A run over many symbols x days adds five blocks to ``metrics.json`` (``pieces``, ``per_symbol``, ``per_day``,
``pooled``, ``daily``; written by the experiment pipeline, their shapes checked by :mod:`signalbench._runfiles`).
:func:`across_pieces` turns them into what the template ``pieces.html.j2`` shows: a symbol x column and a day x
column table for each of :data:`FIGURES` (net return, signal efficiency, macro-F1), each with its pooled row and each
cell saying what it rests on; the pooled table (:data:`POOLED`); and the pieces that are missing with their errors.
:func:`daily_chart` is the daily pooled equity for :mod:`signalbench.reports.charts`. A single-piece run has none of
these blocks: both return None and the report is unchanged. See ``docs/architecture.md``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from signalbench._runfiles import RunFolderError
from signalbench._validation import expected
from signalbench.reports import charts

__all__ = ["FIGURES", "MAX_SYMBOL_CHARTS", "POOLED", "across_pieces", "daily_chart", "rests_on", "symbol_charts"]

#: (key, title, format) of the symbol x column and day x column tables.
FIGURES = (
    ("net_return", "net return", ".4%"),
    ("signal_efficiency", "signal efficiency", ".3f"),
    ("macro_f1", "macro-F1", ".4f"),
)
#: The symbols whose intraday equity gets a chart (the first, by name; the tables hold every symbol).
MAX_SYMBOL_CHARTS = 8
#: (key, format) of the pooled table's rows.
POOLED = (
    ("net_return", ".4%"),
    ("sharpe", ".2f"),
    ("max_drawdown", ".3%"),
    ("deflated_sharpe", ".3f"),
    ("signal_efficiency", ".3f"),
    ("macro_f1", ".4f"),
)
_BLOCKS = ("pieces", "per_symbol", "per_day", "pooled", "daily")


def rests_on(counts: dict[str, int] | None) -> str:
    """``{"days": 1, "rows": 1234}`` as ``"1 day, 1,234 rows"`` (empty when nothing is recorded)."""
    parts = []
    for unit, k in (counts or {}).items():
        name = unit[:-1] if k == 1 and unit.endswith("s") else unit
        parts.append(f"{k:,} {name}")
    return ", ".join(parts)


def _cell(figure: dict[str, Any] | None, key: str, fmt: str) -> dict[str, str]:
    """One cell: the figure as text, its value to sort by, and what it rests on (its tooltip)."""
    value = (figure or {}).get(key)
    v = math.nan if value is None else float(value)
    if math.isnan(v):
        text = "—"
    elif math.isinf(v):
        text = "∞" if v > 0 else "-∞"
    else:
        text = format(v, fmt)
    basis = rests_on((figure or {}).get("rests_on"))
    return {"text": text, "sort": "" if math.isnan(v) else repr(v), "rests_on": basis}


def _common(cells: list[dict[str, str]]) -> str:
    """What a row's figures rest on, when they all rest on the same (else a pointer to the cells' tooltips)."""
    bases = {c["rests_on"] for c in cells if c["rests_on"]}
    if not bases:
        return "not recorded"
    return bases.pop() if len(bases) == 1 else "varies by column (hover a cell)"


def _table(block: dict[str, dict], pooled: dict[str, dict], columns: list[str], key: str, fmt: str) -> dict:
    rows = []
    for name, figures in block.items():
        cells = [_cell(figures.get(c), key, fmt) for c in columns]
        rows.append({"name": name, "cells": cells, "rests_on": _common(cells)})
    pooled_cells = [_cell(pooled.get(c), key, fmt) for c in columns]
    foot = {"name": "pooled", "cells": pooled_cells, "rests_on": _common(pooled_cells)} if pooled else None
    return {"key": key, "rows": rows, "pooled": foot}


def _order(metrics: dict[str, Any], order: list[str]) -> list[str]:
    """The columns in the comparison table's order, then any the blocks hold that the table does not."""
    held = [*(metrics.get("pooled") or {})]
    for block in ("per_symbol", "per_day"):
        for figures in (metrics.get(block) or {}).values():
            held += list(figures)
    return list(order) + [c for c in dict.fromkeys(held) if c not in order]


def across_pieces(metrics: dict[str, Any], order: list[str]) -> dict[str, Any] | None:
    """The multi-piece section of the report, or None when ``metrics`` has none of its blocks.

    Parameters
    ----------
    metrics : dict
        ``metrics.json``, its shapes already checked.
    order : list of str
        The comparison table's columns (models first, then the benchmarks); the tables follow it.
    """
    if not any(metrics.get(b) for b in _BLOCKS):
        return None
    bench = set(metrics.get("benchmarks", []))
    columns = _order(metrics, order)
    pooled = metrics.get("pooled") or {}
    dims = []
    for block, title, what in (("per_symbol", "symbol", "symbols"), ("per_day", "day", "days")):
        if metrics.get(block):
            tables = [(t, _table(metrics[block], pooled, columns, k, f)) for k, t, f in FIGURES]
            dims.append({"id": block, "title": title, "what": what, "tables": tables})
    pieces = metrics.get("pieces") or {}
    return {
        "columns": [{"name": c, "bench": c in bench} for c in columns],
        "dims": dims,
        "pooled": _pooled(pooled, columns),
        "tested": _tested(pieces.get("tested") or []),
        "missing": [_missing(m) for m in pieces.get("missing") or []],
    }


def _pooled(pooled: dict[str, dict], columns: list[str]) -> dict[str, Any] | None:
    if not pooled:
        return None
    rows = [{"name": k, "cells": [_cell(pooled.get(c), k, f) for c in columns]} for k, f in POOLED]
    absent = [r["name"] for r in rows if not any(c["sort"] for c in r["cells"])]
    rows = [r for r in rows if r["name"] not in absent]
    notes = sorted({p["note"] for p in pooled.values() if p.get("note")})
    basis = [_cell(pooled.get(c), "net_return", ".4%")["rests_on"] for c in columns]
    same = len(set(basis)) == 1 and basis[0]
    return {"rows": rows, "absent": absent, "rests_on": basis[0] if same else basis, "notes": notes}


def _tested(tested: list[dict[str, Any]]) -> dict[str, Any]:
    symbols = sorted({t["symbol"] for t in tested})
    days = sorted({t["day"] for t in tested})
    rows = sum(int(t.get("rows", 0)) for t in tested)
    return {"pieces": len(tested), "symbols": symbols, "days": days, "rows": rows}


def _missing(entry: dict[str, Any]) -> dict[str, str]:
    keys = ("symbol", "day", "task", "model", "fold", "error")
    return {k: "—" if entry.get(k) is None else str(entry[k]) for k in keys}


def daily_chart(metrics: dict[str, Any], order: list[str]) -> dict[str, Any] | None:
    """The daily pooled equity (1 + the running sum of each column's daily return), or None without ``daily``.

    Raises
    ------
    signalbench.RunFolderError
        A column's daily returns do not have one value per day of ``daily.index``, or a day is not a date.
    """
    daily = metrics.get("daily")
    if not daily or len(daily.get("index") or []) < 2:  # one day is a point, not a curve: the tables give its figure
        return None
    index = daily["index"]
    try:
        x = pd.to_datetime(pd.Series(index), format="ISO8601").to_numpy()
    except (ValueError, TypeError):
        bad = next(d for d in index if pd.isna(pd.to_datetime(d, errors="coerce", format="ISO8601")))
        message = expected("metrics.json daily.index", "ISO dates (YYYY-MM-DD)", repr(bad), raw=True)
        raise RunFolderError(message, "metrics.json", "daily.index") from None
    returns = daily.get("returns") or {}
    columns = [c for c in order if c in returns] + [c for c in returns if c not in order]
    lines = {}
    for c in columns:
        if len(returns[c]) != len(index):
            found = f"{len(returns[c])} values for {len(index)} days"
            key = f"metrics.json daily.returns[{c!r}]"
            raise RunFolderError(
                expected(key, "one return per day of daily.index", found, raw=True), "metrics.json", key
            )
        r = np.array([math.nan if v is None else v for v in returns[c]], dtype=float)
        lines[c] = 1.0 + np.cumsum(np.nan_to_num(r, nan=0.0))
    if not lines:
        return None
    styles = charts.styles_of(columns)
    title = "Daily pooled equity (1 + running sum of each day's return across symbols)"
    chart = charts.line_chart("equity-daily", title, "equity", x, lines, [styles[c] for c in lines])
    return {**chart, "unit": "tested days"}


def symbol_charts(pieces: pd.DataFrame, order: list[str]) -> tuple[list[dict[str, Any]], int]:
    """Each symbol's intraday equity over its tested rows, and how many symbols got no chart.

    ``pieces`` is ``piece_returns.parquet`` (``symbol``, ``day``, ``timestamp`` and each column's net return per
    tested row). A symbol's line of a column is 1 + the running sum of its net returns over its tested rows in time
    order, day after day (additive, as the daily pooled figures are; equal notional per symbol). The oracles are left
    out (their scale would flatten the models'; the tables give their figures). At most :data:`MAX_SYMBOL_CHARTS`
    symbols, the first by name; the second value counts the others.

    Raises
    ------
    signalbench.RunFolderError
        ``piece_returns.parquet`` lacks ``symbol``, ``day`` or ``timestamp``.
    """
    missing = [c for c in ("symbol", "day", "timestamp") if c not in pieces.columns]
    if missing:
        found = f"no column {', '.join(missing)}"
        message = expected("piece_returns.parquet", "columns symbol, day and timestamp", found, raw=True)
        raise RunFolderError(message, "piece_returns.parquet", missing[0])
    columns = [c for c in order if c in pieces.columns and c not in ("oracle", "naive_oracle")]
    symbols = sorted(pieces["symbol"].astype(str).unique())
    styles = charts.styles_of(columns)
    out = []
    for k, symbol in enumerate(symbols[:MAX_SYMBOL_CHARTS]):
        rows = pieces[pieces["symbol"].astype(str) == symbol].sort_values(["day", "timestamp"], kind="stable")
        if rows.empty or not columns:
            continue
        lines = {c: 1.0 + np.cumsum(np.nan_to_num(rows[c].to_numpy(dtype=float), nan=0.0)) for c in columns}
        days = rows["day"].nunique()
        title = (
            f"Intraday equity of {symbol} (1 + running sum of net returns over its tested rows, "
            f"{days} day{'s' if days != 1 else ''})"
        )
        x = pd.DatetimeIndex(rows["timestamp"]).to_numpy()
        chart = charts.line_chart(f"equity-symbol-{k}", title, "equity", x, lines, [styles[c] for c in lines])
        out.append({**chart, "unit": f"tested rows of {symbol}"})
    more = max(0, len(symbols) - MAX_SYMBOL_CHARTS)
    if out and more:
        out[-1]["after"] = f"{more} more symbol(s) have no intraday chart here; the tables above give their figures."
    return out, more
