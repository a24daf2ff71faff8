"""The one wrapper around the kernels: validation, pandas in and out, statistics.

See :func:`backtest` for the conventions; :mod:`signalbench.engine.kernels` implements them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from signalbench.engine._inputs import (
    Template,
    as_2d,
    as_cost,
    as_price,
    check_delay,
    first_bad,
    scan_nb,
    where,
    wrap_like,
)
from signalbench.engine.kernels import COLUMN_STATS, TRADE_STATS, column_stats_nb, simulate_nb, trade_stats_nb
from signalbench.engine.oracle import oracle_nb
from signalbench.engine.periods import AnnualizationWarning, Clock, infer_clock, resample_to_clock
from signalbench.engine.selection import deflated_sharpe_row
from signalbench.engine.stats import STAT_ROWS, summarize

_TRADE = {name: i for i, name in enumerate(TRADE_STATS)}
_COL = {name: i for i, name in enumerate(COLUMN_STATS)}


@dataclass
class BacktestResult:
    """Everything :func:`backtest` computed; arrays are (n, m) Fortran-ordered, or pandas for pandas input.

    Attributes
    ----------
    returns, gross_returns, costs, exposure, equity, drawdown
        Net returns ``r``, gross returns ``g``, costs ``c``, executed exposure ``e`` (after ``delay``), equity
        and drawdown, per bar and column (see :mod:`signalbench.engine.kernels` for the formulas).
    stats : pandas.DataFrame
        One column per position column; rows :data:`signalbench.engine.stats.STAT_ROWS`.
    periods_per_year : float
        What the annualized statistics used (NaN if unknown).
    clock : str
        How ``periods_per_year`` was decided.
    mode : str
        "compound" or "additive".
    """

    returns: Any
    gross_returns: Any
    costs: Any
    exposure: Any
    equity: Any
    drawdown: Any
    stats: pd.DataFrame
    periods_per_year: float
    clock: str
    mode: str
    params: dict[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        n = len(self.stats.columns)
        return f"BacktestResult({n} column{'s' if n != 1 else ''}, mode={self.mode!r}, clock={self.clock!r})"


_MODES = ("compound", "additive")


def backtest(
    price: Any,
    position: Any,
    *,
    fee_bps: Any = 0.0,
    half_spread_bps: Any = 0.0,
    slippage_bps: Any = 0.0,
    delay: int = 0,
    mode: Literal["compound", "additive"] = "compound",
    periods_per_year: float | None = None,
    close_at_end: bool = False,
    max_leverage: float = 1.0,
) -> BacktestResult:
    """Mark target positions to market with costs and latency; return PnL series and statistics.

    Conventions (exact; ARCHITECTURE.md), per column, with per-unit cost
    ``k[t] = (fee_bps + half_spread_bps[t] + slippage_bps) / 1e4``:

    - executed exposure ``e[t] = position[t - delay]`` for ``t >= delay``, else 0 (``e[-1] = 0``);
    - gross return ``g[0] = 0``, ``g[t] = e[t-1] * (price[t] / price[t-1] - 1)``;
    - cost ``c[t] = |e[t] - e[t-1]| * k[t]`` (a reversal from +1 to -1 pays twice);
    - net return ``r[t] = g[t] - c[t]``;
    - equity ``cumprod(1 + r)`` (``mode="compound"``) or ``1 + cumsum(r)`` (``mode="additive"``: constant
      notional, "trade one unit");
    - drawdown ``equity / running_max(1, equity) - 1``;
    - the last position stays open unless ``close_at_end=True``, which makes the last bar flat (paying to close).

    Parameters
    ----------
    price : array-like, Series or DataFrame, shape (n,) or (n, m)
        Finite prices > 0. One column is shared by every position column.
    position : array-like, Series or DataFrame, shape (n,) or (n, m)
        Target exposure as a fraction of equity decided at bar t from information up to t; finite, with
        ``|position| <= max_leverage``. One column is applied to every price column.
    fee_bps, slippage_bps : float or sequence of length m
        Costs in basis points per unit of exposure traded: a scalar or one value per column.
    half_spread_bps : float, sequence of length m, array of length n, or (n, m) array
        Half the quoted spread in basis points: scalar, per column, per row (e.g. an order book's quoted
        half-spread, a Series on the price index) or per cell.
    delay : int, default 0
        Latency in bars between the decision and its execution.
    mode : {"compound", "additive"}, default "compound"
        How returns accumulate into equity.
    periods_per_year : float, optional
        Explicit annualization; otherwise inferred from a DatetimeIndex
        (:mod:`signalbench.engine.periods` documents the rule, event time included). Without either, the
        annualized statistics are NaN and an :class:`AnnualizationWarning` is issued.
    close_at_end : bool, default False
        Close the position on the last bar.
    max_leverage : float, default 1.0
        The largest |position| accepted.

    Returns
    -------
    BacktestResult
        Series and statistics; pandas objects (with the inputs' index and columns) when an input was pandas.

    Raises
    ------
    ValueError
        Non-finite or non-positive prices, non-finite positions, |position| above ``max_leverage``, shapes or
        pandas indexes that do not line up, negative or non-finite costs, negative delay, unknown mode.
    TypeError
        Non-numeric inputs, a non-integer delay.

    Notes
    -----
    ``stats`` rows: ``total_return`` (of the chosen mode), ``ann_return``, ``ann_volatility``, ``sharpe``,
    ``sortino``, ``calmar``, ``max_drawdown`` (see :mod:`signalbench.engine.stats`); ``n_trades`` (bars at which
    the executed exposure changed), ``turnover`` (sum of |e[t] - e[t-1]|), ``exposure_time`` (share of bars with
    e != 0), ``cost_paid`` (sum of c), ``hit_rate`` (share of bars holding an exposure whose net return was > 0),
    ``profit_factor`` (sum of positive r / -sum of negative r; inf without losses), ``breakeven_cost_bps``
    (the uniform all-in cost per unit traded, in bps, at which the total additive net return would be zero:
    ``1e4 * sum(g) / turnover``; negative when the signal loses before costs), ``oracle_return`` (the total
    additive net return of :func:`oracle_positions` under the same prices, costs, delay and close), and
    ``signal_efficiency`` (the column's total additive net return / ``oracle_return``: never above 1),
    ``periods_per_year``; and, when there is more than one column (several models or a parameter grid were
    tried), ``deflated_sharpe``: each column's probabilistic Sharpe ratio against the Sharpe the best of m
    skill-less columns would show (Bailey and Lopez de Prado 2014; see
    :func:`signalbench.engine.selection.deflated_sharpe_row`), NaN with fewer than 4 bars.
    """
    if mode not in _MODES:
        raise ValueError(f"mode: expected one of {_MODES}, got {mode!r}")
    delay = check_delay(delay)
    if not isinstance(close_at_end, bool | np.bool_):
        raise TypeError(f"close_at_end: expected a bool, got {close_at_end!r}")
    try:
        max_leverage = float(max_leverage)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"max_leverage: expected a positive number, got {max_leverage!r}") from exc
    if not max_leverage > 0:
        raise ValueError(f"max_leverage: expected a positive number, got {max_leverage!r}")
    if periods_per_year is not None:
        ppy_given = float(periods_per_year)
        if not np.isfinite(ppy_given) or ppy_given <= 0:
            raise ValueError(f"periods_per_year: expected a positive finite number, got {periods_per_year!r}")

    p2, ptmpl = as_price(price)
    pos, pos_index, pos_columns, pos_one_d, pos_label = as_2d(position, "position")
    n, mp = p2.shape
    if pos.shape[0] != n:
        raise ValueError(f"position: expected {n} rows to match price, got {pos.shape[0]}")
    mq = pos.shape[1]
    if mp != 1 and mq != 1 and mp != mq:
        raise ValueError(f"position: expected 1 or {mp} columns to match price, got {mq}")
    m = max(mp, mq)

    # labels: the index must agree when both carry one; columns come from position, else from price
    index = ptmpl.index if ptmpl.index is not None else pos_index
    if ptmpl.index is not None and pos_index is not None and not ptmpl.index.equals(pos_index):
        diff = np.flatnonzero(ptmpl.index != pos_index)  # same length: the row counts were checked above
        k = int(diff[0]) if diff.size else 0
        raise ValueError(
            f"position: its index does not match price's (first difference at row {k}: "
            f"{pos_index[k]!r} vs {ptmpl.index[k]!r}); align them (e.g. position.reindex(price.index))"
        )
    if pos_columns is not None and mq == m:
        columns = pos_columns
        if ptmpl.columns is not None and mp == m and not ptmpl.columns.equals(pos_columns):
            raise ValueError(
                f"position: its columns {list(pos_columns)[:5]} do not match price's {list(ptmpl.columns)[:5]}"
            )
    elif ptmpl.columns is not None and mp == m:
        columns = ptmpl.columns
    elif m == 1:
        label = pos_label if pos_label is not None else ptmpl.name
        columns = pd.Index([label if label is not None else 0])
    else:
        columns = pd.RangeIndex(m)
    one_d = ptmpl.one_d and pos_one_d
    template = Template(index, columns, one_d, pos_label if pos_label is not None else ptmpl.name)

    scan = scan_nb(pos, max_leverage + 1e-12)
    bad = first_bad(scan[0])
    if bad is not None:
        row, col = bad
        raise ValueError(
            f"position: expected finite values, got {float(pos[row, col])} at "
            f"{where(row, col, index, columns if mq == m else None, mq)}"
        )
    bad = first_bad(scan[1])
    if bad is not None:
        row, col = bad
        raise ValueError(
            f"position: |position| must be <= max_leverage={max_leverage:g}, got {float(pos[row, col])} at "
            f"{where(row, col, index, columns if mq == m else None, mq)}"
        )

    fee = as_cost(fee_bps, "fee_bps", n, m, False, index)
    hs = as_cost(half_spread_bps, "half_spread_bps", n, m, True, index)
    slip = as_cost(slippage_bps, "slippage_bps", n, m, False, index)

    outs = [np.empty((n, m), order="F") for _ in range(6)]
    returns, gross, costs, exposure, equity, drawdown = outs
    simulate_nb(p2, pos, fee, hs, slip, delay, bool(close_at_end), mode == "compound", *outs)

    ppy, clock = _annualization(periods_per_year, index)
    col = column_stats_nb(returns)
    if clock is not None and not clock.regular:
        ann = summarize(column_stats_nb(resample_to_clock(returns, index, mode)), ppy, mode)
        exact = summarize(col, np.nan, mode)
        for key in ("total_return", "max_drawdown"):
            ann[key] = exact[key]
        mdd = exact["max_drawdown"]
        with np.errstate(invalid="ignore", divide="ignore"):
            ann["calmar"] = np.where(mdd < 0, ann["ann_return"] / np.abs(mdd), np.nan)
    else:
        ann = summarize(col, ppy, mode)
    trade = trade_stats_nb(exposure, gross, costs, returns)
    oracle = _oracle_totals(p2, fee, hs, slip, delay, bool(close_at_end), m)
    additive_total = col[_COL["additive_total"]]
    turnover = trade[_TRADE["turnover"]]
    held = trade[_TRADE["held_bars"]]
    gp, gl = col[_COL["gross_profit"]], col[_COL["gross_loss"]]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rows = {
            **ann,
            "n_trades": trade[_TRADE["n_trades"]],
            "turnover": turnover,
            "exposure_time": trade[_TRADE["exposure_time"]],
            "cost_paid": trade[_TRADE["cost_paid"]],
            "hit_rate": np.where(held > 0, trade[_TRADE["hits"]] / held, np.nan),
            "profit_factor": np.where(gl > 0, gp / gl, np.where(gp > 0, np.inf, np.nan)),
            "breakeven_cost_bps": np.where(turnover > 0, 1e4 * trade[_TRADE["gross_total"]] / turnover, np.nan),
            "oracle_return": oracle,
            "signal_efficiency": np.where(oracle > 0, additive_total / oracle, np.nan),
            "periods_per_year": np.full(m, ppy),
        }
    names = list(STAT_ROWS)
    if m > 1:
        # several configurations were tried: each column's Sharpe, deflated for the selection among all m
        rows["deflated_sharpe"] = deflated_sharpe_row(returns)
        names.append("deflated_sharpe")
    stats = pd.DataFrame(np.vstack([rows[r] for r in names]), index=pd.Index(names), columns=columns)
    wrapped = [wrap_like(a, template) for a in outs]
    return BacktestResult(
        *wrapped,
        stats=stats,
        periods_per_year=ppy,
        clock=clock.rule if clock is not None else ("explicit" if periods_per_year is not None else "unknown"),
        mode=mode,
        params={
            "fee_bps": fee_bps,
            "half_spread_bps": half_spread_bps,
            "slippage_bps": slippage_bps,
            "delay": delay,
            "close_at_end": close_at_end,
        },
    )


def _annualization(periods_per_year: float | None, index: pd.Index | None) -> tuple[float, Clock | None]:
    """Decide periods per year: explicit wins, else the DatetimeIndex rule, else NaN with a warning."""
    if periods_per_year is not None:
        return float(periods_per_year), None
    if isinstance(index, pd.DatetimeIndex):
        if not index.is_monotonic_increasing:
            raise ValueError("price: its DatetimeIndex must be sorted in time (non-decreasing)")
        clock = infer_clock(index)
        if clock is not None:
            return clock.periods_per_year, clock
        warnings.warn(
            "periods_per_year could not be inferred from fewer than two distinct timestamps: annualized "
            "statistics are NaN; pass periods_per_year=",
            AnnualizationWarning,
            stacklevel=3,
        )
        return np.nan, None
    warnings.warn(
        "periods_per_year is unknown (no DatetimeIndex and no periods_per_year=): annualized statistics "
        "(ann_return, ann_volatility, sharpe, sortino, calmar) are NaN; the others are computed",
        AnnualizationWarning,
        stacklevel=3,
    )
    return np.nan, None


def _oracle_totals(
    p2: np.ndarray, fee: np.ndarray, hs: np.ndarray, slip: np.ndarray, delay: int, close: bool, m: int
) -> np.ndarray:
    """Optimal total additive net return per column; computed once when every column shares price and costs."""
    shared = p2.shape[1] == 1 and fee.shape[1] == 1 and hs.shape[1] == 1 and slip.shape[1] == 1
    k = 1 if shared else m
    scratch = np.empty((p2.shape[0], k), order="F")
    totals = oracle_nb(p2, fee, hs, slip, delay, close, scratch)
    return np.repeat(totals, m) if shared else totals
