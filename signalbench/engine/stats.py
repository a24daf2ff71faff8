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
  annual return is -1. ``periods_per_year=None`` gives NaN for every annualized figure. ``backtest`` reports
  both bases, each row named after its own (``total_return_compound``, ``ann_return_additive``, ...).
- Input: numbers only (datetimes, timedeltas, strings: ``TypeError``); a time index must be sorted. The
  mode is one of ``"compound"``, ``"additive"`` (anything else: ``ValueError``); ``periods_per_year`` a
  finite number > 0 (``docs/architecture.md``).
- Max drawdown: ``min(equity / peak - 1)`` with the starting capital 1 as the first peak, so it is <= 0.
  Calmar is annual return / |max drawdown|, NaN when there was no drawdown.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from signalbench._validation import choice
from signalbench.engine._inputs import MODES, as_2d, wrap_per_column
from signalbench.engine.kernels import COLUMN_STATS, column_stats_nb
from signalbench.engine.periods import checked_periods_per_year
from signalbench.engine.trades import TRADE_ROWS

_ROW = {name: i for i, name in enumerate(COLUMN_STATS)}

#: Rows of ``BacktestResult.stats``, in order. Every return row names its basis: ``_compound`` (equity
#: ``cumprod(1 + r)``) or ``_additive`` (``1 + cumsum(r)``, constant notional); ``signal_efficiency`` is
#: ``total_return_additive / oracle_return_additive`` and stands right after the two. ``max_drawdown`` and
#: ``calmar`` are measured on ``BacktestResult.equity``, i.e. in the backtest's ``mode``. The round-trip rows
#: (:data:`signalbench.engine.trades.TRADE_ROWS`) are documented in :mod:`signalbench.engine.trades`.
STAT_ROWS = (
    "total_return_compound",
    "total_return_additive",
    "oracle_return_additive",
    "signal_efficiency",
    "ann_return_compound",
    "ann_return_additive",
    "ann_volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "clock_bars",
    "n_trades",
    "turnover",
    "exposure_time",
    "cost_paid",
    "hit_rate",
    "profit_factor",
    "breakeven_cost_bps",
    *TRADE_ROWS,
    "periods_per_year",
)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Num / den with den == 0 giving +-inf (num != 0) or NaN (num == 0), as empyrical does."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(num, den)


def _annual_returns(col: np.ndarray, ppy: float) -> tuple[np.ndarray, np.ndarray]:
    """Compounded ``(1 + total) ** (P / n) - 1`` (-1 after ruin) and additive ``total / n * P`` annual returns."""
    n_periods = col[_ROW["n_periods"]]
    growth = 1.0 + col[_ROW["compound_total"]]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        compound = np.where(growth > 0, np.power(np.maximum(growth, 0.0), ppy / n_periods) - 1.0, -1.0)
        additive = col[_ROW["additive_total"]] / n_periods * ppy
    unknown = np.isnan(ppy) | (n_periods < 1)
    return np.where(unknown, np.nan, compound), np.where(unknown, np.nan, additive)


def summarize(
    col: np.ndarray, periods_per_year: float, mode: str = "compound", *, exact: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Return and risk figures from the output of :func:`column_stats_nb`; one value per column.

    ``col`` holds the statistics of the returns the annualized figures use (the clock's); ``exact``, when
    given, those of the original rows, from which the totals and the drawdown come (event time: the two
    differ). ``periods_per_year`` NaN makes every annualized figure NaN. ``max_drawdown`` and ``calmar`` follow
    ``mode``.
    """
    exact = col if exact is None else exact
    ppy = float(periods_per_year)
    n_obs = col[_ROW["n_obs"]]
    std = np.where(n_obs >= 2, col[_ROW["std"]], np.nan)
    downside = np.where(n_obs >= 2, col[_ROW["downside"]], np.nan)
    ann = dict(zip(("ann_return_compound", "ann_return_additive"), _annual_returns(col, ppy)))
    mdd = exact[_ROW["max_drawdown" if mode == "compound" else "max_drawdown_additive"]]
    with np.errstate(invalid="ignore", divide="ignore"):
        calmar = np.where(mdd < 0, ann[f"ann_return_{mode}"] / np.abs(mdd), np.nan)
    return {
        "total_return_compound": exact[_ROW["compound_total"]],
        "total_return_additive": exact[_ROW["additive_total"]],
        **ann,
        "ann_volatility": std * np.sqrt(ppy),
        "sharpe": _ratio(col[_ROW["mean"]], std) * np.sqrt(ppy),
        "sortino": _ratio(col[_ROW["mean"]] * ppy, downside * np.sqrt(ppy)),
        "calmar": calmar,
        "max_drawdown": mdd,
    }


def _metric(returns: Any, periods_per_year: float | None, row: str, mode: str = "compound") -> Any:
    """One row of :func:`summarize` for the public functions below, in the form of ``returns``."""
    mode = choice(mode, "mode", MODES)
    ppy = checked_periods_per_year(periods_per_year)
    arr, template = as_2d(returns, "returns", min_rows=0, allow_bool=False)
    values = summarize(column_stats_nb(arr), ppy, mode)[row.format(mode=mode)]
    return wrap_per_column(values, template)


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
        Simple returns per period; NaN values are skipped by the mean and the downside deviation alike.
    periods_per_year : float
        ``P``: the mean is scaled by ``P``, the downside deviation by ``sqrt(P)``.

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
        Simple returns per period, NaN skipped: the standard deviation is that of the observed returns.
    periods_per_year : float
        The per-period deviation is multiplied by its square root.

    Returns
    -------
    float, numpy.ndarray or Series
        One value per column (a float for one column, a Series for a DataFrame); 0 at zero variance.
    """
    return _metric(returns, periods_per_year, "ann_volatility")


def annual_return(returns: Any, periods_per_year: float, mode: str = "compound") -> Any:
    """Annualized return: compounded growth ``(1 + total) ** (P / n) - 1``, or ``total / n * P`` when additive.

    Parameters
    ----------
    returns : array-like, Series or DataFrame, shape (n,) or (n, m)
        Simple returns per period. NaN values count as 0 and ``n`` includes them (time passed).
    periods_per_year : float
        Periods in a year; ``P / n`` is the number of years the sample is raised to.
    mode : {"compound", "additive"}
        How returns accumulate (see :func:`signalbench.backtest`).

    Returns
    -------
    float, numpy.ndarray or Series
        -1 after ruin (``1 + total <= 0``) in compound mode; NaN for an empty series.
    """
    return _metric(returns, periods_per_year, "ann_return_{mode}", mode)


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
        Simple returns per period; NaN counts as a flat period, as in :func:`annual_return`.
    periods_per_year : float
        For the annual return in the numerator.
    mode : {"compound", "additive"}
        The equity both the annual return and the drawdown are measured on.

    Returns
    -------
    float, numpy.ndarray or Series
        The ratio per column; its sign is that of the annual return.
    """
    return _metric(returns, periods_per_year, "calmar", mode)


__all__ = [
    "MODES",
    "STAT_ROWS",
    "annual_return",
    "annual_volatility",
    "calmar_ratio",
    "max_drawdown",
    "sharpe_ratio",
    "sortino_ratio",
    "summarize",
]
