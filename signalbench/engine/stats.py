"""Performance statistics: pure functions of a returns series, plus the table :func:`backtest` reports.

Conventions (each function states them too)
-------------------------------------------
- ``returns`` is (n,) or (n, m), simple (not log) returns per period; pandas input gives pandas output.
- NaN returns mean "no observation": they are skipped by means and standard deviations, and count as a zero
  return (flat, time still passes) in compounded totals, drawdowns and the number of periods used to
  annualize. This is exactly empyrical's treatment, so its published values for its ``mixed_returns`` fixture
  (which starts with a NaN) are reproduced to the last digit. ``backtest`` itself never produces NaN returns.
- Fewer than two non-NaN returns: standard-deviation based figures (volatility, Sharpe, Sortino) are NaN.
- Zero variance (all non-NaN returns equal): volatility is 0; Sharpe is +inf / -inf for a positive / negative
  mean and NaN for a zero mean (empyrical does the same). Sortino likewise when no return is negative.
- Annualization: ``sqrt(periods_per_year)`` for volatility, Sharpe and Sortino; annual return compounds
  ``(1 + total) ** (periods_per_year / n_periods) - 1`` (``mode="compound"``) or scales the arithmetic mean,
  ``total / n_periods * periods_per_year`` (``mode="additive"``). Where ``1 + total <= 0`` (ruin) the compounded
  annual return is -1. ``periods_per_year=None`` gives NaN for every annualized figure.
- Max drawdown: ``min(equity / peak - 1)`` with the starting capital 1 as the first peak, so it is <= 0.
  Calmar is annual return / |max drawdown|, NaN when there was no drawdown.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from signalbench.engine.kernels import COLUMN_STATS, column_stats_nb

_ROW = {name: i for i, name in enumerate(COLUMN_STATS)}

#: Rows of ``BacktestResult.stats``, in order.
STAT_ROWS = (
    "total_return",
    "ann_return",
    "ann_volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "n_trades",
    "turnover",
    "exposure_time",
    "cost_paid",
    "hit_rate",
    "profit_factor",
    "breakeven_cost_bps",
    "oracle_return",
    "signal_efficiency",
    "periods_per_year",
)


def _as_returns_2d(returns: Any) -> tuple[np.ndarray, Any]:
    """Returns as a float64 (n, m) array (a view where possible) and a hint for the output's shape."""
    if isinstance(returns, pd.DataFrame):
        arr = returns.to_numpy(dtype=np.float64)
        return (arr if arr.flags.f_contiguous else np.asfortranarray(arr)), returns.columns
    arr = np.asarray(returns, dtype=np.float64)
    if arr.ndim == 1:
        return arr.reshape(-1, 1), None
    if arr.ndim != 2:
        raise ValueError(f"returns: expected a 1-D or 2-D array, got {arr.ndim} dimensions")
    return np.asfortranarray(arr), "2d"


def _shape_output(values: np.ndarray, hint: Any) -> Any:
    if hint is None:
        return float(values[0])
    if isinstance(hint, pd.Index):
        return pd.Series(values, index=hint)
    return values


def _check_ppy(periods_per_year: float | None) -> float:
    if periods_per_year is None:
        return np.nan
    ppy = float(periods_per_year)
    if not np.isfinite(ppy) or ppy <= 0:
        raise ValueError(f"periods_per_year: expected a positive finite number, got {periods_per_year!r}")
    return ppy


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Num / den with den == 0 giving +-inf (num != 0) or NaN (num == 0), as empyrical does."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(num, den)


def summarize(col: np.ndarray, periods_per_year: float | None, mode: str = "compound") -> dict[str, np.ndarray]:
    """Annualized figures from the output of :func:`column_stats_nb`; one value per column.

    ``periods_per_year`` None or NaN makes every annualized figure NaN.
    """
    ppy = np.nan if periods_per_year is None else float(periods_per_year)
    n_obs = col[_ROW["n_obs"]]
    n_periods = col[_ROW["n_periods"]]
    mean = col[_ROW["mean"]]
    std = np.where(n_obs >= 2, col[_ROW["std"]], np.nan)
    downside = np.where(n_obs >= 2, col[_ROW["downside"]], np.nan)
    if mode == "compound":
        total = col[_ROW["compound_total"]]
        growth = 1.0 + total
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ann_return = np.where(growth > 0, np.power(np.maximum(growth, 0.0), ppy / n_periods) - 1.0, -1.0)
        mdd = col[_ROW["max_drawdown"]]
    else:
        total = col[_ROW["additive_total"]]
        with np.errstate(divide="ignore", invalid="ignore"):
            ann_return = total / n_periods * ppy
        mdd = col[_ROW["max_drawdown_additive"]]
    ann_return = np.where(np.isnan(ppy) | (n_periods < 1), np.nan, ann_return)
    sqrt_ppy = np.sqrt(ppy)
    with np.errstate(invalid="ignore", divide="ignore"):
        calmar = np.where(mdd < 0, ann_return / np.abs(mdd), np.nan)
    return {
        "total_return": total,
        "ann_return": ann_return,
        "ann_volatility": std * sqrt_ppy,
        "sharpe": _ratio(mean, std) * sqrt_ppy,
        "sortino": _ratio(mean * ppy, downside * sqrt_ppy),
        "calmar": calmar,
        "max_drawdown": mdd,
    }


def _metric(returns: Any, periods_per_year: float | None, name: str, mode: str = "compound") -> Any:
    arr, hint = _as_returns_2d(returns)
    col = column_stats_nb(arr)
    ppy = _check_ppy(periods_per_year) if periods_per_year is not None else np.nan
    return _shape_output(summarize(col, ppy, mode)[name], hint)


def sharpe_ratio(returns: Any, periods_per_year: float) -> Any:
    """Annualized Sharpe ratio ``mean(r) / std(r, ddof=1) * sqrt(periods_per_year)`` (no risk-free rate).

    Parameters
    ----------
    returns : array-like, Series or DataFrame, shape (n,) or (n, m)
        Simple returns per period. NaN values are skipped.
    periods_per_year : float
        Periods in a year (252 for daily US equities, 252 * 390 for 1-minute bars, ...).

    Returns
    -------
    float, numpy.ndarray or Series
        One value per column. NaN with fewer than two non-NaN returns; +-inf / NaN at zero variance.
    """
    return _metric(returns, periods_per_year, "sharpe")


def sortino_ratio(returns: Any, periods_per_year: float) -> Any:
    """Annualized Sortino ratio ``mean(r) * P / (sqrt(mean(min(r, 0)^2)) * sqrt(P))`` (target return 0).

    Parameters
    ----------
    returns : array-like, Series or DataFrame, shape (n,) or (n, m)
        Simple returns per period. NaN values are skipped.
    periods_per_year : float
        Periods in a year.

    Returns
    -------
    float, numpy.ndarray or Series
        NaN with fewer than two non-NaN returns; +inf for a positive mean with no negative return.
    """
    return _metric(returns, periods_per_year, "sortino")


def annual_volatility(returns: Any, periods_per_year: float) -> Any:
    """Annualized volatility ``std(r, ddof=1) * sqrt(periods_per_year)``; NaN with fewer than two returns.

    Parameters
    ----------
    returns : array-like, Series or DataFrame, shape (n,) or (n, m)
        Simple returns per period. NaN values are skipped.
    periods_per_year : float
        Periods in a year.

    Returns
    -------
    float, numpy.ndarray or Series
        One value per column.
    """
    return _metric(returns, periods_per_year, "ann_volatility")


def annual_return(returns: Any, periods_per_year: float, mode: str = "compound") -> Any:
    """Annualized return: compounded growth ``(1 + total) ** (P / n) - 1``, or ``total / n * P`` when additive.

    Parameters
    ----------
    returns : array-like, Series or DataFrame, shape (n,) or (n, m)
        Simple returns per period. NaN values count as 0 and ``n`` includes them (time passed).
    periods_per_year : float
        Periods in a year.
    mode : {"compound", "additive"}
        How returns accumulate (see :func:`signalbench.backtest`).

    Returns
    -------
    float, numpy.ndarray or Series
        -1 after ruin (``1 + total <= 0``) in compound mode; NaN for an empty series.
    """
    return _metric(returns, periods_per_year, "ann_return", mode)


def max_drawdown(returns: Any, mode: str = "compound") -> Any:
    """Largest peak-to-trough loss ``min(equity / peak - 1)`` (<= 0), the starting capital 1 being a peak.

    Parameters
    ----------
    returns : array-like, Series or DataFrame, shape (n,) or (n, m)
        Simple returns per period. NaN values count as 0.
    mode : {"compound", "additive"}
        Equity ``cumprod(1 + r)`` or ``1 + cumsum(r)``.

    Returns
    -------
    float, numpy.ndarray or Series
        NaN for an empty series.
    """
    return _metric(returns, None, "max_drawdown", mode)


def calmar_ratio(returns: Any, periods_per_year: float, mode: str = "compound") -> Any:
    """Annual return / |max drawdown|; NaN when the series never drew down.

    Parameters
    ----------
    returns : array-like, Series or DataFrame, shape (n,) or (n, m)
        Simple returns per period.
    periods_per_year : float
        Periods in a year.
    mode : {"compound", "additive"}
        How returns accumulate.

    Returns
    -------
    float, numpy.ndarray or Series
        One value per column.
    """
    return _metric(returns, periods_per_year, "calmar", mode)


__all__ = [
    "STAT_ROWS",
    "annual_return",
    "annual_volatility",
    "calmar_ratio",
    "max_drawdown",
    "sharpe_ratio",
    "sortino_ratio",
    "summarize",
]
