"""Round trips from the executed exposure: a Numba kernel per column, ``prange`` over columns (vectorbt style).

A **round trip** (trade) is a maximal run of bars on which the executed exposure ``e`` keeps one side
(``docs/architecture.md``):

- it opens at the bar ``t0`` where ``e[t0] != 0`` and ``e[t0 - 1]`` is 0 or of the other side, at ``price[t0]``;
- it closes at the bar ``t1`` where ``e[t1 - 1] != 0`` and ``e[t1]`` is 0 or of the other side, at
  ``price[t1]``: a reversal (+1 to -1) closes one trade and opens the next on the same bar;
- a change of size without a change of side (0.5 -> 1.0 -> 0.3) is a **partial entry or exit inside the same
  round trip**: the trade goes on, its PnL and costs include the adjustment, ``size`` is the largest |exposure|
  it reached, ``entry_size`` the first, and ``adjustments`` counts the partial changes;
- with ``close_at_end=False`` a position still held on the last bar is an **open** trade: ``exit_row`` is the
  last row, ``exit_price`` the last price, its PnL is marked to market there and ``is_open`` is 1. It counts
  in every trade statistic as marked, so the trades' net PnL always adds up to the column's
  ``total_return_additive``.

PnL is in the engine's additive units (fractions of equity, constant notional): the trade open at ``t - 1``
earns ``g[t] = e[t-1] * (price[t] / price[t-1] - 1)``; it pays ``c[t]`` for the bars where its size changes; on a
reversal bar the cost ``c[t] = |e[t] - e[t-1]| * k[t]`` is split between the closing trade
(``|e[t-1]| / (|e[t-1]| + |e[t]|)`` of it) and the opening one (the rest). Every ``g`` and ``c`` of the column is
attributed to exactly one trade, hence the sum.

Trade statistics (:data:`TRADE_ROWS`, rows of ``BacktestResult.stats``) come from one pass that stores no
record, so :func:`signalbench.backtest` pays little for them; the records themselves
(``BacktestResult.trades``) are built only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numba import njit, prange

from signalbench.engine.kernels import flex

#: Columns of a trade record, in order (the float array :func:`trade_records_nb` fills).
RECORD_FIELDS = (
    "column",  # position of the column
    "entry_row",
    "exit_row",  # the last row for an open trade
    "side",  # +1 long, -1 short
    "entry_size",  # |e| at the entry bar
    "size",  # largest |e| during the trade
    "adjustments",  # partial entries and exits (size changes without a change of side)
    "entry_price",
    "exit_price",
    "bars_held",  # exit_row - entry_row
    "gross_pnl",
    "costs",
    "net_pnl",  # gross_pnl - costs
    "is_open",  # 1 when the trade is still held on the last bar (close_at_end=False)
)
_NF = len(RECORD_FIELDS)

#: Rows the trade statistics add to ``BacktestResult.stats``, in order.
TRADE_ROWS = (
    "round_trips",  # number of trades, an open one included
    "win_rate",  # share of trades with net_pnl > 0
    "avg_win",  # mean net_pnl of the winners
    "avg_loss",  # mean net_pnl of the losers (net_pnl < 0; a negative number)
    "payoff_ratio",  # avg_win / |avg_loss|
    "expectancy",  # mean net_pnl per trade
    "max_win_streak",  # longest run of consecutive winners
    "max_loss_streak",  # longest run of consecutive losers (a trade with net_pnl == 0 ends both runs)
    "avg_bars_held",  # mean bars_held
)
#: Number of raw round-trip accumulators, in order: count, wins, losses, sum of wins, sum of losses, sum of net,
#: longest win streak, longest loss streak, sum of bars held.
N_TRIP = 9


@njit(cache=True)
def _close_nb(rec, k, acc, streak, t, price_t, is_open):
    """Finish the trade in ``rec[k]`` at row ``t`` and add it to the accumulators; returns the new streak."""
    rec[k, 2] = t
    rec[k, 8] = price_t
    rec[k, 9] = t - rec[k, 1]
    rec[k, 12] = rec[k, 10] - rec[k, 11]
    rec[k, 13] = 1.0 if is_open else 0.0
    return add_trade_nb(acc, rec[k, 12], rec[k, 9], streak)


@njit(cache=True)
def _open_nb(rec, k, j, t, e_t, price_t, cost):
    """Start a trade in ``rec[k]`` at row ``t`` with exposure ``e_t`` (nonzero) and its share of the cost."""
    rec[k, 0] = j
    rec[k, 1] = t
    rec[k, 3] = 1.0 if e_t > 0.0 else -1.0
    rec[k, 4] = abs(e_t)
    rec[k, 5] = abs(e_t)
    rec[k, 6] = 0.0
    rec[k, 7] = price_t
    rec[k, 10] = 0.0
    rec[k, 11] = cost


@njit(cache=True)
def _walk_1d_nb(e, g, c, price, j, rec, acc):
    """Walk one column's exposure, filling the trade records ``rec`` (one row per trade) and ``acc``."""
    n = e.shape[0]
    k = -1
    streak = 0
    prev = 0.0
    for t in range(n):
        cur = e[t]
        p = flex(price, t, j)
        if prev != 0.0:
            rec[k, 10] += g[t]
        flips = prev != 0.0 and (cur == 0.0 or (cur > 0.0) != (prev > 0.0))
        if flips:
            share = c[t] if cur == 0.0 else c[t] * abs(prev) / (abs(prev) + abs(cur))
            rec[k, 11] += share
            streak = _close_nb(rec, k, acc, streak, t, p, False)
            if cur != 0.0:
                k += 1
                _open_nb(rec, k, j, t, cur, p, c[t] - share)
        elif prev == 0.0 and cur != 0.0:
            k += 1
            _open_nb(rec, k, j, t, cur, p, c[t])
        elif cur != prev:
            rec[k, 11] += c[t]
            rec[k, 6] += 1.0
            rec[k, 5] = max(rec[k, 5], abs(cur))
        prev = cur
    if prev != 0.0:
        _close_nb(rec, k, acc, streak, n - 1, flex(price, n - 1, j), True)


@njit(cache=True, inline="always")
def add_trade_nb(acc, net, bars, streak):
    """Add one finished trade (net PnL, bars held) to the accumulators; returns the new win/loss streak."""
    acc[0] += 1.0
    acc[5] += net
    acc[8] += bars
    if net > 0.0:
        acc[1] += 1.0
        acc[3] += net
        streak = streak + 1 if streak > 0 else 1
        acc[6] = max(acc[6], streak)
    elif net < 0.0:
        acc[2] += 1.0
        acc[4] += net
        streak = streak - 1 if streak < 0 else -1
        acc[7] = max(acc[7], -streak)
    else:
        streak = 0
    return streak


#: Bars per tile of the round-trip pass (and of the one pass that calls it).
TRIP_TILE = 256
#: Rows of the per-bar events :func:`trip_events_nb` fills, in order (``(N_EVENT, TRIP_TILE)`` arrays).
TRIP_EVENTS = (
    "keep",  # 1 when the PnL of the trade open before the bar runs on, 0 when a trade opens on it
    "base",  # the new trade's PnL after its first bar (r, or minus its share of the cost on a reversal); else 0
    "opening",  # on a reversal, the opening trade's share of the cost (the closing one gets r + it); else 0
    "closes",  # 1 when a trade closes on the bar (to flat or on a reversal)
)
N_EVENT = len(TRIP_EVENTS)


@njit(cache=True, inline="always")
def _event_nb(prev, cur, c_t, r_t):
    """The :data:`TRIP_EVENTS` of one bar, from the exposure before and on it, its cost and its net return."""
    held, now = prev != 0.0, cur != 0.0
    flip = (cur > 0.0) != (prev > 0.0)
    reversal = held & now & flip
    opens = now & ((not held) | flip)
    opening = c_t * abs(cur) / (abs(prev) + abs(cur))
    opening = opening if reversal else 0.0
    base = -opening if reversal else r_t
    return (0.0 if opens else 1.0), (base if opens else 0.0), opening, (1.0 if held & ((not now) | flip) else 0.0)


@njit(cache=True, error_model="numpy")
def trip_events_nb(events, e, c, r, i0, k, prev):
    """``events[:, :k]``: the :data:`TRIP_EVENTS` of bars ``i0 .. i0 + k - 1`` of ``e``, ``c``, ``r`` (1-D).

    ``prev``: the exposure before bar ``i0``. No branch on the data: the loop vectorizes.
    """
    events[0, 0], events[1, 0], events[2, 0], events[3, 0] = _event_nb(prev, e[i0], c[i0], r[i0])
    for i in range(1, k):
        t = i0 + i
        events[0, i], events[1, i], events[2, i], events[3, i] = _event_nb(e[t - 1], e[t], c[t], r[t])


@njit(cache=True, error_model="numpy")
def trips_run_nb(acc, events, r, i0, k, t0, trip):
    """Walk bars ``i0 .. i0 + k - 1`` of ``r`` (rows ``t0 ..``) with their events; add each closed trade to ``acc``.

    ``trip`` is the open trade's net PnL and entry row, and the win/loss streak, before the bars; returned after
    them. The same trades as :func:`_walk_1d_nb`: a trade's net PnL is the sum of ``r`` over its bars, except that
    on a reversal bar the closing trade gets ``g = r + c`` less its share of ``c`` and the new one the rest. The
    same sums, in the same order, as :func:`add_trade_nb` on each trade, but without a branch on the data (a trade
    closes on about half the bars of a busy signal: branches would be mispredicted): the flags of ``events`` are
    0 or 1, so ``x * flag`` is ``x`` or a zero that leaves a sum as it was, and the running PnL is
    ``run * keep + base``, exactly ``run`` or ``base`` (``r`` is finite, as the engine's returns always are).
    A trade still open after the last bar is added by the caller.
    """
    net, start, streak = trip
    count, wins, losses, sum_win, sum_loss, sum_net = acc[0], acc[1], acc[2], acc[3], acc[4], acc[5]
    best_win, best_loss, bars = np.int64(acc[6]), np.int64(acc[7]), acc[8]
    for i in range(k):
        t = t0 + i
        keep, closes = events[0, i], events[3, i]
        run = net + r[i0 + i]
        closed = run + events[2, i]  # the closing trade's net PnL (when one closes)
        net = run * keep + events[1, i]
        win = closes * np.float64(closed > 0.0)
        loss = closes * np.float64(closed < 0.0)
        count += closes
        wins += win
        losses += loss
        bars += closes * np.float64(t - start)
        start = start if keep > 0.0 else t
        sum_net += closes * closed
        sum_win += win * closed
        sum_loss += loss * closed
        # win: the streak goes on (or starts) upwards; loss: downwards; a zero trade ends it
        w, lo, c = np.int64(win), np.int64(loss), np.int64(closes)
        streak = w * (max(streak, 0) + 1) + lo * (min(streak, 0) - 1) + (1 - c) * streak
        best_win, best_loss = max(best_win, streak), max(best_loss, -streak)
    acc[0], acc[1], acc[2], acc[3], acc[4], acc[5] = count, wins, losses, sum_win, sum_loss, sum_net
    acc[6], acc[7], acc[8] = best_win, best_loss, bars
    return net, start, streak


@njit(cache=True)
def _stats_1d_nb(e, r, c, acc):
    """The accumulators of one column in one lean pass over ``e``, ``r`` and ``c``, a tile at a time."""
    n = e.shape[0]
    events = np.empty((N_EVENT, TRIP_TILE))
    trip = (0.0, 0, 0)
    prev = 0.0
    for t0 in range(0, n, TRIP_TILE):
        k = min(TRIP_TILE, n - t0)
        trip_events_nb(events, e, c, r, t0, k, prev)
        trip = trips_run_nb(acc, events, r, t0, k, t0, trip)
        prev = e[t0 + k - 1]
    if prev != 0.0:
        add_trade_nb(acc, trip[0], n - 1 - trip[1], trip[2])


@njit(cache=True, parallel=True)
def round_trip_stats_nb(exposure, returns, costs):
    """Per-column trade accumulators, shape ``(9, m)``: no record is stored (see :func:`trade_records_nb`)."""
    m = exposure.shape[1]
    out = np.zeros((N_TRIP, m))
    for jj in prange(m):
        j = np.int64(jj)  # the prange index is unsigned: unifying it with 0 would give a float
        _stats_1d_nb(exposure[:, j], returns[:, j], costs[:, j], out[:, j])
    return out


@njit(cache=True, parallel=True)
def trade_records_nb(exposure, gross, costs, price, counts):
    """All trades of all columns, shape ``(counts.sum(), len(RECORD_FIELDS))``, by column then entry row.

    ``counts`` is the per-column number of trades (row 0 of :func:`round_trip_stats_nb`); the records' accumulators are
    discarded.
    """
    m = exposure.shape[1]
    starts = np.zeros(m + 1, dtype=np.int64)
    for j in range(m):
        starts[j + 1] = starts[j] + np.int64(counts[j])
    out = np.empty((starts[m], _NF))
    for jj in prange(m):
        j = np.int64(jj)
        acc = np.zeros(N_TRIP)
        _walk_1d_nb(exposure[:, j], gross[:, j], costs[:, j], price, j, out[starts[j] : starts[j + 1]], acc)
    return out


def round_trip_rows(acc: np.ndarray) -> dict[str, np.ndarray]:
    """:data:`TRADE_ROWS` from the accumulators of :func:`round_trip_stats_nb` (NaN where a figure has no trades)."""
    count, wins, losses, sum_win, sum_loss, net, win_streak, loss_streak, bars = acc
    # over: a subnormal average loss makes the payoff ratio overflow to inf, which is its value (as profit_factor)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        avg_win = np.where(wins > 0, sum_win / wins, np.nan)
        avg_loss = np.where(losses > 0, sum_loss / losses, np.nan)
        return {
            "round_trips": count,
            "win_rate": np.where(count > 0, wins / count, np.nan),
            "avg_win": avg_win,
            "avg_loss": avg_loss,
            "payoff_ratio": avg_win / np.abs(avg_loss),
            "expectancy": np.where(count > 0, net / count, np.nan),
            "max_win_streak": win_streak,
            "max_loss_streak": loss_streak,
            "avg_bars_held": np.where(count > 0, bars / count, np.nan),
        }


@dataclass
class Priced:
    """What a backtest priced, kept for the results computed on demand: prices, series, costs, labels."""

    price: np.ndarray  # (n, 1) or (n, m), checked
    sim: Any  # signalbench.engine.summary.Simulation
    costs: Any  # signalbench.engine._inputs.Costs
    template: Any  # signalbench.engine._inputs.Template
    trades: pd.DataFrame | None = field(default=None, repr=False)


def trades_frame(priced: Priced) -> pd.DataFrame:
    """The records of :func:`trade_records_nb` as a DataFrame with the inputs' labels (see ``BacktestResult``)."""
    sim = priced.sim
    counts = round_trip_stats_nb(sim.exposure, sim.returns, sim.costs)[0]
    rec = trade_records_nb(sim.exposure, sim.gross_returns, sim.costs, priced.price, counts)
    frame = pd.DataFrame(rec, columns=list(RECORD_FIELDS))
    ints = ["column", "entry_row", "exit_row", "side", "adjustments", "bars_held"]
    frame[ints] = frame[ints].astype(np.int64)
    frame["is_open"] = frame["is_open"].astype(bool)
    index = priced.template.index
    labels = pd.RangeIndex(sim.exposure.shape[0]) if index is None else index
    columns = priced.template.columns
    frame["column"] = np.asarray(columns, dtype=object)[frame["column"].to_numpy()] if len(frame) else []
    frame.insert(3, "entry_time", labels[frame["entry_row"].to_numpy()])
    frame.insert(4, "exit_time", labels[frame["exit_row"].to_numpy()])
    return frame
