"""The statistics table of a backtest (``BacktestResult.stats``) and the notes that explain its gaps.

One job: from the simulated series, the prices and costs, and the clock, build the table whose rows are
:data:`signalbench.engine.stats.STAT_ROWS` (plus ``deflated_sharpe`` when there is a selection to deflate), and
collect, as :class:`Notes`, every reason a figure is missing or weak: an unknown clock, a short sample, an empty
exposure (``docs/architecture.md``). :func:`signalbench.engine.backtest` issues the notes as warnings and keeps
them in ``BacktestResult.notes``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from signalbench._validation import EmptyResultWarning
from signalbench.engine._inputs import Costs, Options
from signalbench.engine.kernels import COLUMN_STATS, TRADE_STATS, column_stats_nb, trade_stats_nb
from signalbench.engine.oracle import oracle_nb
from signalbench.engine.periods import (
    MIN_CLOCK_BARS,
    Clock,
    ShortSampleWarning,
    calendar_days_per_year,
    resample_to_clock,
    short_sample_note,
)
from signalbench.engine.selection import dsr_values
from signalbench.engine.stats import STAT_ROWS, summarize
from signalbench.engine.trades import round_trip_rows, round_trip_stats_nb

_TRADE = {name: i for i, name in enumerate(TRADE_STATS)}
_COL = {name: i for i, name in enumerate(COLUMN_STATS)}


@dataclass
class Notes:
    """Warnings gathered while a backtest is summarized, issued together at the end."""

    items: list[tuple[type[Warning], str]] = field(default_factory=list)

    def add(self, category: type[Warning], message: str) -> None:
        """Record one warning."""
        self.items.append((category, message))

    def issue(self, stacklevel: int) -> list[str]:
        """Warn once per note (blaming the frame ``stacklevel`` up) and return the messages."""
        for category, message in self.items:
            warnings.warn(message, category, stacklevel=stacklevel + 1)
        return [message for _, message in self.items]


@dataclass(frozen=True)
class Simulation:
    """The six (n, m) series :func:`signalbench.engine.kernels.simulate_nb` fills."""

    returns: np.ndarray
    gross_returns: np.ndarray
    costs: np.ndarray
    exposure: np.ndarray
    equity: np.ndarray
    drawdown: np.ndarray


@dataclass(frozen=True)
class Selection:
    """Which columns are trials of the deflated Sharpe (the others are benchmarks) and how many were tried."""

    trials: np.ndarray  # (m,) bool
    n_trials: int | None  # explicit, else None (then: the number of trial columns)

    @property
    def dsr_trials(self) -> int | None:
        """The number of trials the deflated Sharpe accounts for; None when there is no row."""
        k = int(self.trials.sum())
        if self.n_trials is not None:
            return self.n_trials
        return k if k > 1 else None


def stats_table(
    sim: Simulation,
    price: np.ndarray,
    costs: Costs,
    opts: Options,
    clock: tuple[float, Clock | None, pd.DatetimeIndex | None],
    selection: Selection,
    columns: pd.Index,
    notes: Notes,
) -> pd.DataFrame:
    """The statistics table, one column per position column (see :func:`signalbench.engine.backtest`)."""
    ppy, info, times = clock
    on_clock = sim.returns if info is None or info.regular else resample_to_clock(sim.returns, times, opts.mode)
    col = column_stats_nb(sim.returns)
    clock_col = col if on_clock is sim.returns else column_stats_nb(on_clock)
    rows = performance_rows(col, clock_col, ppy, opts.mode, notes, calendar_days_per_year(info, times))
    rows.update(trade_rows(sim, col))
    rows.update(round_trip_rows(round_trip_stats_nb(sim.exposure, sim.returns, sim.costs)))
    rows.update(oracle_rows(price, costs, opts, rows["total_return_additive"]))
    rows["periods_per_year"] = np.full(sim.returns.shape[1], ppy)
    names = list(STAT_ROWS)
    if selection.dsr_trials is not None:
        rows["deflated_sharpe"] = deflated_sharpe_values(on_clock, selection)
        names.append("deflated_sharpe")
    empty_notes(sim.returns.shape[0], opts, rows["exposure_time"], columns, notes)
    return pd.DataFrame(np.vstack([rows[r] for r in names]), index=pd.Index(names), columns=columns)


def performance_rows(
    col: np.ndarray, clock_col: np.ndarray, ppy: float, mode: str, notes: Notes, days_per_year: int = 252
) -> dict[str, np.ndarray]:
    """Totals and drawdown (of the rows), annualized figures and ``clock_bars`` (of the clock); short samples noted.

    ``col`` and ``clock_col`` are :func:`column_stats_nb` of the rows' and of the clock's returns (the same
    array unless the rows are event time); ``days_per_year`` is the data's calendar (252 or 365), on which the
    sample's length in days is counted.
    """
    rows = summarize(clock_col, ppy, mode, exact=col)
    bars = int(clock_col[_COL["n_periods"], 0])
    rows["clock_bars"] = np.full(col.shape[1], float(bars))
    if not np.isfinite(ppy):
        return rows
    short = short_sample_note(bars, ppy, days_per_year)
    if short is not None:
        for key in ("ann_return_compound", "ann_return_additive", "calmar"):
            rows[key] = np.full(col.shape[1], np.nan)
        notes.add(ShortSampleWarning, short)
    if bars < MIN_CLOCK_BARS:
        notes.add(
            ShortSampleWarning,
            f"sharpe rests on {bars} clock bars, fewer than {MIN_CLOCK_BARS}: its standard error is about "
            f"sqrt(periods_per_year / bars) = {np.sqrt(ppy / bars):.3g} (annualized), so it says little",
        )
    return rows


def trade_rows(sim: Simulation, col: np.ndarray) -> dict[str, np.ndarray]:
    """Trading activity and its economics: trades, turnover, costs, hit rate, profit factor, breakeven cost."""
    trade = trade_stats_nb(sim.exposure, sim.gross_returns, sim.costs, sim.returns)
    turnover = trade[_TRADE["turnover"]]
    held = trade[_TRADE["held_bars"]]
    gp, gl = col[_COL["gross_profit"]], col[_COL["gross_loss"]]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return {
            "n_trades": trade[_TRADE["n_trades"]],
            "turnover": turnover,
            "exposure_time": trade[_TRADE["exposure_time"]],
            "cost_paid": trade[_TRADE["cost_paid"]],
            "hit_rate": np.where(held > 0, trade[_TRADE["hits"]] / held, np.nan),
            "profit_factor": np.where(gl > 0, gp / gl, np.where(gp > 0, np.inf, np.nan)),
            "breakeven_cost_bps": np.where(turnover > 0, 1e4 * trade[_TRADE["gross_total"]] / turnover, np.nan),
        }


def oracle_rows(price: np.ndarray, costs: Costs, opts: Options, additive_total: np.ndarray) -> dict[str, np.ndarray]:
    """``oracle_return_additive`` and ``signal_efficiency`` = ``total_return_additive / oracle_return_additive``.

    The oracle's total is that of :func:`signalbench.engine.oracle_positions` under the same prices, costs, delay
    and close, computed once when every column shares price and costs; the efficiency is NaN when it is 0.
    """
    m = additive_total.shape[0]
    k = 1 if price.shape[1] == 1 and costs.shared else m
    scratch = np.empty((price.shape[0], k), order="F")
    totals = oracle_nb(price, costs.fee, costs.half_spread, costs.slippage, opts.delay, opts.close_at_end, scratch)
    oracle = np.repeat(totals, m) if k == 1 else totals
    with np.errstate(divide="ignore", invalid="ignore"):
        efficiency = np.where(oracle > 0, additive_total / oracle, np.nan)
    return {"oracle_return_additive": oracle, "signal_efficiency": efficiency}


def deflated_sharpe_values(on_clock: np.ndarray, selection: Selection) -> np.ndarray:
    """Each trial column's deflated Sharpe on the clock's returns (the ones ``sharpe`` uses); NaN for benchmarks."""
    out = np.full(on_clock.shape[1], np.nan)
    trials = selection.trials
    if trials.any():
        x = on_clock if trials.all() else on_clock[:, trials]
        out[trials] = dsr_values(x, selection.dsr_trials)
    return out


def empty_notes(n: int, opts: Options, exposure_time: np.ndarray, columns: pd.Index, notes: Notes) -> None:
    """Note every way the result came out empty under the documented conventions (``EmptyResultWarning``)."""
    if n == 1:
        notes.add(EmptyResultWarning, "price has 1 row: there is no price change to earn, every return is a cost")
    elif opts.delay >= n - int(opts.close_at_end):
        closed = ", the last one closed by close_at_end" if opts.close_at_end else ""
        notes.add(
            EmptyResultWarning,
            f"delay={opts.delay} covers every row ({n} rows{closed}): no position is ever executed "
            "(e[t] = position[t - delay] for t >= delay, else 0), so every column's exposure is zero",
        )
    elif (exposure_time == 0).any():
        flat = [columns[j] for j in np.flatnonzero(exposure_time == 0)]
        shown = ", ".join(repr(c) for c in flat[:5]) + (f", ... ({len(flat)} columns)" if len(flat) > 5 else "")
        notes.add(
            EmptyResultWarning,
            f"column(s) {shown} never hold a position (zero exposure on every row): their returns are zero; "
            "check the positions (e.g. a threshold no probability reaches)",
        )
