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
from signalbench.engine.kernels import COLUMN_STATS
from signalbench.engine.onepass import ACC, TRADE_STATS
from signalbench.engine.oracle import oracle_nb
from signalbench.engine.periods import MIN_CLOCK_BARS, ShortSampleWarning, short_sample_note
from signalbench.engine.selection import dsr_from_moments
from signalbench.engine.stats import STAT_ROWS, summarize
from signalbench.engine.trades import round_trip_rows

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
    """The six (n, m) series :func:`signalbench.engine.onepass.one_pass_nb` fills."""

    returns: np.ndarray
    gross_returns: np.ndarray
    costs: np.ndarray
    exposure: np.ndarray
    equity: np.ndarray
    drawdown: np.ndarray


@dataclass(frozen=True)
class Accumulated:
    """What the table is built from, per column: no (n, m) array, so a sweep can be summarized chunk by chunk.

    Attributes
    ----------
    acc : numpy.ndarray
        (ACC_ROWS, m) accumulators of :func:`signalbench.engine.onepass.one_pass_nb`.
    clock : numpy.ndarray
        (len(COLUMN_STATS) + 4, m): the column statistics and the mean and central moments m2, m3, m4 of the
        returns on the clock the annualized figures use (those of the rows unless the rows are event time).
    oracle : numpy.ndarray
        (m,) total additive net return of the cost-aware oracle under each column's prices and costs.
    blocks : numpy.ndarray
        (4, S, m): each PBO block's mean, sum of squared deviations, lowest and highest net return
        (:data:`signalbench.engine.onepass.PBO_BLOCK`); S = 0 when no PBO was asked for.
    """

    acc: np.ndarray
    clock: np.ndarray
    oracle: np.ndarray
    blocks: np.ndarray

    @staticmethod
    def concat(parts: list[Accumulated]) -> Accumulated:
        """The columns of several chunks side by side, in order."""
        return Accumulated(
            *(np.concatenate([getattr(p, f) for p in parts], axis=-1) for f in ("acc", "clock", "oracle", "blocks"))
        )


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
    summed: Accumulated,
    opts: Options,
    ppy: float,
    selection: Selection,
    columns: pd.Index,
    notes: Notes,
    days_per_year: int = 252,
) -> pd.DataFrame:
    """The statistics table, one column per position column (see :func:`signalbench.engine.backtest`).

    ``days_per_year`` is the data's calendar (:func:`signalbench.engine.periods.calendar_days_per_year`), on which a
    short sample's days are counted.
    """
    col = summed.acc[ACC["column"]]
    clock_col = summed.clock[: len(COLUMN_STATS)]
    rows = performance_rows(col, clock_col, ppy, opts.mode, notes, days_per_year)
    rows.update(trade_rows(summed.acc[ACC["trade"]], col))
    rows.update(round_trip_rows(summed.acc[ACC["trips"]]))
    rows.update(efficiency_rows(summed.oracle, rows["total_return_additive"]))
    m = col.shape[1]
    rows["periods_per_year"] = np.full(m, ppy)
    names = list(STAT_ROWS)
    if selection.dsr_trials is not None:
        moments = summed.clock[len(COLUMN_STATS) :]
        rows["deflated_sharpe"] = deflated_sharpe_values(moments, int(clock_col[_COL["n_periods"], 0]), selection)
        names.append("deflated_sharpe")
    empty_notes(int(col[_COL["n_periods"], 0]), opts, rows["exposure_time"], columns, notes)
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


def trade_rows(trade: np.ndarray, col: np.ndarray) -> dict[str, np.ndarray]:
    """Trading activity and its economics: trades, turnover, costs, hit rate, profit factor, breakeven cost.

    ``trade`` holds the :data:`signalbench.engine.onepass.TRADE_STATS` rows, ``col`` the column statistics.
    """
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


def oracle_totals(price: np.ndarray, costs: Costs, opts: Options, m: int) -> np.ndarray:
    """The (m,) total additive net return of :func:`signalbench.engine.oracle_positions` for each column.

    Under the same prices, costs, delay and close; computed once when every column shares price and costs.
    """
    k = 1 if price.shape[1] == 1 and costs.shared else m
    no_path = np.empty((0, k))  # the totals only
    totals = oracle_nb(price, costs.fee, costs.half_spread, costs.slippage, opts.delay, opts.close_at_end, no_path)
    return np.repeat(totals, m) if k == 1 else totals


def efficiency_rows(oracle: np.ndarray, additive_total: np.ndarray) -> dict[str, np.ndarray]:
    """``oracle_return_additive`` and ``signal_efficiency`` = ``total_return_additive / oracle_return_additive``.

    The efficiency is NaN where the oracle earns nothing.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        efficiency = np.where(oracle > 0, additive_total / oracle, np.nan)
    return {"oracle_return_additive": oracle, "signal_efficiency": efficiency}


def deflated_sharpe_values(moments: np.ndarray, n_obs: int, selection: Selection) -> np.ndarray:
    """Each trial column's deflated Sharpe from its clock returns' moments (``sharpe``'s); NaN for benchmarks."""
    out = np.full(moments.shape[1], np.nan)
    trials = selection.trials
    if trials.any():
        out[trials] = dsr_from_moments(moments[:, trials], n_obs, selection.dsr_trials)
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
        # a NumPy scalar label (lazily generated chunks) reads as its value, as a Python one does
        shown = ", ".join(repr(c.item() if isinstance(c, np.generic) else c) for c in flat[:5])
        shown += f", ... ({len(flat)} columns)" if len(flat) > 5 else ""
        notes.add(
            EmptyResultWarning,
            f"column(s) {shown} never hold a position (zero exposure on every row): their returns are zero; "
            "check the positions (e.g. a threshold no probability reaches)",
        )
