"""Results across pieces: the per-symbol, per-day and pooled blocks of ``metrics.json``, on a daily clock.

Each piece (one symbol, one day) is priced on its own (:mod:`signalbench.experiment.piecerun`). Its net return per
column is the sum of its additive per-row net returns. The daily PnL of a column is the sum over symbols of that
symbol-day's net return: equal notional per symbol. The pooled Sharpe, maximum drawdown (additive equity) and
deflated Sharpe are computed on that daily series with ``periods_per_year = 252`` by the engine's functions. With fewer
than :data:`~signalbench.engine.periods.MIN_SAMPLE_DAYS` tested days the Sharpe and deflated Sharpe are null and a
note says why; below :data:`~signalbench.engine.periods.MIN_CLOCK_BARS` days they are kept with their standard error
in a note (the engine's short-sample rule, on the daily clock). Signal efficiency is the net return over the
cost-aware oracle's net return on the same rows (null when the oracle earns nothing there); macro-F1 is computed on
the labelled tested rows of the pieces a figure rests on (null for benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from signalbench.engine import deflated_sharpe_row, max_drawdown, sharpe_ratio
from signalbench.engine.periods import MIN_CLOCK_BARS, MIN_SAMPLE_DAYS
from signalbench.experiment.results import CLASSES

__all__ = ["DAILY_PERIODS", "NOTE", "PieceResult", "combine"]

#: Periods per year of the daily series.
DAILY_PERIODS = 252.0
#: What the pooled figures rest on (written beside each of them).
NOTE = "daily clock: sum of additive returns per symbol-day, equal notional per symbol"


@dataclass
class PieceResult:
    """One backtested piece: its symbol, day and the ``backtest`` task's result."""

    symbol: str
    day: str
    result: dict[str, Any]

    @property
    def summary(self) -> dict[str, Any]:
        """The piece's summary (rows, net return per column, macro-F1 per model, column descriptions)."""
        return self.result["summary"]


def _num(v: Any) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def _macro_f1(parts: list[PieceResult], model: str | None) -> float | None:
    from signalbench.reports.metrics import classification_metrics

    if model is None:
        return None
    names = [f"{model}:p{c}" for c in CLASSES]
    if any(n not in parts[0].result["outputs"].columns for n in names):
        return None  # a regressor: no classes
    y = np.concatenate([p.result["labels"] for p in parts])
    proba = np.vstack([p.result["outputs"][names].to_numpy() for p in parts])
    return _num(classification_metrics(y, proba, CLASSES)["macro_f1"])


def _oracle(parts: list[PieceResult], col: str) -> float:
    """The best possible net return of ``col`` over ``parts``.

    Under book costs the exact book oracle of each piece (one per column: its size and fees), else the cost-aware
    oracle column's net return.
    """
    book = [p.summary.get("oracle_return", {}) for p in parts]
    return float(sum(b[col] if col in b else p.summary["net_return"]["oracle"] for b, p in zip(book, parts)))


def _block(parts: list[PieceResult], columns: list[str], info: dict, rests_on: dict) -> dict[str, dict[str, Any]]:
    """Net return, signal efficiency and macro-F1 of every column over ``parts`` (a symbol's or a day's pieces).

    Under book costs also ``rows_short_of_depth``, summed over the pieces.
    """
    out = {}
    for col in columns:
        net = sum(p.summary["net_return"][col] for p in parts)
        oracle = _oracle(parts, col)
        out[col] = {
            "net_return": float(net),
            "signal_efficiency": float(net / oracle) if oracle > 0 else None,
            "macro_f1": _macro_f1(parts, info.get(col, {}).get("model")),
            "rests_on": rests_on,
        }
        if "rows_short_of_depth" in parts[0].summary:
            out[col]["rows_short_of_depth"] = int(sum(p.summary["rows_short_of_depth"][col] for p in parts))
        out[col].update(_exposure(parts, col))
    return out


def _exposure(parts: list[PieceResult], col: str) -> dict[str, float]:
    """Shares of the tested rows with a long, short or flat target, in the market (executed), and summed turnover."""
    rows = sum(p.summary["rows"] for p in parts)
    if rows == 0 or "exposure" not in parts[0].summary:
        return {}
    total = {k: sum(p.summary["exposure"][col][k] for p in parts) for k in ("long", "short", "flat", "in_market")}
    out = {f"{k}_share": total[k] / rows for k in ("long", "short", "flat")}
    out["exposure_time"] = total["in_market"] / rows
    out["turnover"] = float(sum(p.summary["exposure"][col]["turnover"] for p in parts))
    return out


def capacity(parts: list[PieceResult]) -> dict[str, Any] | None:
    """The pooled capacity curve (``metrics.json`` ``capacity``): every figure per size summed over the pieces.

    A column's capacity is where its summed net return crosses zero
    (:func:`signalbench.engine.book_curve.capacity_of`); its signal efficiency at a size is its summed net return
    over the summed exact book oracle at that size.
    """
    from signalbench.engine.book_curve import capacity_of

    curves = [p.summary["capacity"] for p in parts if "capacity" in p.summary]
    if not curves:
        return None
    sizes = curves[0]["sizes"]
    total = {
        name: {c: np.sum([cv[name][c] for cv in curves], axis=0) for c in curves[0][name]}
        for name in ("net_return", "oracle_return", "rows_short_of_depth")
    }
    net = pd.DataFrame(total["net_return"], index=pd.Index(sizes, name="size"))
    cap = capacity_of(net)
    with np.errstate(divide="ignore", invalid="ignore"):
        eff = {
            c: [float(min(n / o, 1.0)) if o > 0 else None for n, o in zip(v, total["oracle_return"][c])]
            for c, v in total["net_return"].items()
        }
    return {
        "sizes": [int(s) for s in sizes],
        "net_return": {c: [float(x) for x in v] for c, v in total["net_return"].items()},
        "signal_efficiency": eff,
        "rows_short_of_depth": {c: [int(x) for x in v] for c, v in total["rows_short_of_depth"].items()},
        "capacity": {c: float(v) for c, v in cap.items()},
        "above_largest": [c for c, v in cap.items() if v == np.inf],
        "rests_on": {"pieces": len(curves), "rows": int(sum(p.summary["rows"] for p in parts))},
        "rule": "capacity: the size where the net return summed over the pieces crosses zero (0: <= 0 at the "
        "smallest size; null: positive at every size (listed in above_largest) or never trading)",
    }


def daily_returns(parts: list[PieceResult], columns: list[str]) -> pd.DataFrame:
    """Per tested day (rows, ISO dates) and column: the sum over symbols of each symbol-day's net return."""
    rows = [{"day": p.day, **{c: p.summary["net_return"][c] for c in columns}} for p in parts]
    return pd.DataFrame(rows).groupby("day", sort=True)[columns].sum()


def _pooled_stats(
    daily: pd.DataFrame, benchmarks: list[str], extra_trials: int = 0
) -> tuple[dict[str, dict[str, float | None]], str]:
    """Sharpe, max drawdown and deflated Sharpe of each daily column; the note on the sample's length.

    The deflated Sharpe counts every non-benchmark column and ``extra_trials`` (the candidates a tuned column tried
    beyond the one it is) as trials, as a single run does.
    """
    days = len(daily)
    dd = {c: _num(max_drawdown(daily[c].to_numpy(), mode="additive")) for c in daily.columns}
    if days < MIN_SAMPLE_DAYS:
        note = (
            f"sharpe and deflated_sharpe are null: they would rest on {days} tested day(s), fewer than "
            f"{MIN_SAMPLE_DAYS} (standard error about {np.sqrt(DAILY_PERIODS / max(days, 1)):.1f}); test more days"
        )
        return {c: {"sharpe": None, "max_drawdown": dd[c], "deflated_sharpe": None} for c in daily.columns}, note
    sharpe = {c: _num(sharpe_ratio(daily[c].to_numpy(), DAILY_PERIODS)) for c in daily.columns}
    trials = [c for c in daily.columns if c not in benchmarks]
    n_trials = len(trials) + extra_trials
    dsr = dict(zip(trials, deflated_sharpe_row(daily[trials].to_numpy(), n_trials=n_trials))) if trials else {}
    note = ""
    if days < MIN_CLOCK_BARS:
        se = np.sqrt(DAILY_PERIODS / days)
        note = f"sharpe rests on {days} tested days, fewer than {MIN_CLOCK_BARS}: its standard error is about {se:.1f}"
    stats = {c: {"sharpe": sharpe[c], "max_drawdown": dd[c], "deflated_sharpe": _num(dsr.get(c))} for c in daily}
    return stats, note


def combine(parts: list[PieceResult]) -> dict[str, Any]:
    """The ``per_symbol``, ``per_day``, ``pooled`` and ``daily`` blocks (and ``notes``) of the pieces ``parts``."""
    first = parts[0].summary
    columns = list(first["net_return"])
    info, benchmarks = first["info"], first["benchmarks"]
    by_symbol: dict[str, list[PieceResult]] = {}
    by_day: dict[str, list[PieceResult]] = {}
    for p in parts:
        by_symbol.setdefault(p.symbol, []).append(p)
        by_day.setdefault(p.day, []).append(p)
    rows = lambda ps: int(sum(p.summary["rows"] for p in ps))  # noqa: E731
    per_symbol = {
        s: _block(ps, columns, info, {"days": len(ps), "rows": rows(ps)}) for s, ps in sorted(by_symbol.items())
    }
    per_day = {d: _block(ps, columns, info, {"symbols": len(ps), "rows": rows(ps)}) for d, ps in sorted(by_day.items())}
    daily = daily_returns(parts, columns)
    stats, note = _pooled_stats(daily, benchmarks, max(int(p.summary.get("extra_trials", 0)) for p in parts))
    rests = {"days": len(by_day), "symbols": len(by_symbol), "rows": rows(parts)}
    pooled = _block(parts, columns, info, rests)
    for col in columns:
        pooled[col].update(stats[col])
        pooled[col]["note"] = NOTE
    return {
        "per_symbol": per_symbol,
        "per_day": per_day,
        "pooled": pooled,
        "daily": {"index": list(daily.index), "returns": {c: daily[c].tolist() for c in columns}},
        "notes": [note] if note else [],
        **({"capacity": curve} if (curve := capacity(parts)) is not None else {}),
    }
