"""Perfect-foresight benchmarks.

.. warning::
   LOOK-AHEAD BY DESIGN. Every function in this module reads future prices: ``oracle_positions`` decides the
   position at bar t from the whole price path. They exist only to bound what any strategy could have earned
   and must never feed a signal, a feature, a label threshold or a model. Nothing in ``signalbench.data``,
   ``signalbench.signals`` or ``signalbench.strategies`` imports this module.

The exact oracle
----------------
Under the engine's conventions (see :mod:`signalbench.engine.kernels`) the total *additive* net return of an
executed exposure path ``e`` is::

    R(e) = sum_t e[t-1] * x[t]  -  sum_t k[t] * |e[t] - e[t-1]|,    x[t] = price[t] / price[t-1] - 1,

with ``e[-1] = 0`` and per-unit cost ``k[t] = (fee + half_spread[t] + slippage) / 1e4``. ``oracle_positions``
maximises ``R`` over ``e[t]`` in {-1, 0, 1} by dynamic programming over the three states (O(n) time, O(n) bytes
of back-pointers). ``R`` is linear in ``e`` plus a total-variation penalty, i.e. a linear programme whose
constraint matrix (first differences) is totally unimodular; its optimum over the box ``|e[t]| <= 1`` is
therefore attained at an integral vertex, so the {-1, 0, 1} optimum is also the optimum over all fractional
strategies with ``|position| <= 1``: no strategy priced on the same prices and costs can beat it.

Ties are broken towards keeping the previous state (then towards flat), so the oracle never trades for nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from signalbench._validation import boolean, warn_empty
from signalbench.engine._inputs import as_costs, as_price, check_delay, wrap_like
from signalbench.engine.kernels import flex

# _ORDER[s] lists the previous states in tie-break order for arriving in state s (0 short, 1 flat, 2 long).
_ORDER = np.array([[0, 1, 2], [1, 0, 2], [2, 1, 0]], dtype=np.int64)


@njit(cache=True)
def _oracle_column_nb(price, fee, half_spread, slippage, j, pj, first, close_at_end, out):
    """Optimal executed exposures of column j (written into ``out[:, j]``); returns the optimal total.

    ``first``: the first bar at which the exposure may be non-zero (the latency ``delay``).
    ``close_at_end``: the exposure of the last bar is forced to 0. ``out`` with 0 rows: the total only (no
    back-pointers are kept and no path is written).
    """
    n = price.shape[0]
    path = out.shape[0] > 0
    value = np.array([-np.inf, 0.0, -np.inf])  # value[s]: best total of r[0..t] with e[t] = s - 1
    arrive = np.empty(3)
    back = np.empty((n if path else 1, 3), dtype=np.int8)  # back[t, s]: the state at t - 1 on the best path into s
    for t in range(n):
        x = flex(price, t, pj) / flex(price, t - 1, pj) - 1.0 if t > 0 else 0.0
        k = (flex(fee, t, j) + flex(half_spread, t, j) + flex(slippage, t, j)) / 1e4
        # value of arriving at bar t from each state (held over (t-1, t]) before paying for a change
        arrive[0] = value[0] - x
        arrive[1] = value[1]
        arrive[2] = value[2] + x
        tradable = t >= first and not (close_at_end and t == n - 1)
        row = t if path else 0
        for s in range(3):
            if s != 1 and not tradable:
                value[s] = -np.inf
                back[row, s] = 1
            else:
                value[s], back[row, s] = _best_arrival_nb(arrive, s, k)
    best, s = _best_final_nb(value)
    if path:
        _backtrack_nb(s, back, j, out)
    return best


@njit(cache=True)
def _best_arrival_nb(arrive, s, k):
    """Best value of being in state s after paying ``k`` per unit changed, and the state it came from.

    Candidates in tie-break order: stay, then flat, then the other side.
    """
    best = -np.inf
    arg = s
    for q in range(3):
        sp = _ORDER[s, q]
        if arrive[sp] == -np.inf:
            continue
        val = arrive[sp] - abs(s - sp) * k
        if val > best:
            best = val
            arg = sp
    return best, arg


@njit(cache=True)
def _best_final_nb(value):
    """The best total over the final states and its state (ties towards flat, then long)."""
    s = 1
    best = value[1]
    if value[2] > best:
        best = value[2]
        s = 2
    if value[0] > best:
        best = value[0]
        s = 0
    return best, s


@njit(cache=True)
def _backtrack_nb(s, back, j, out):
    """Write the optimal path ending in state ``s`` into ``out[:, j]``."""
    for t in range(back.shape[0] - 1, -1, -1):
        out[t, j] = s - 1
        s = back[t, s]


@njit(cache=True, parallel=True)
def oracle_nb(price, fee, half_spread, slippage, first, close_at_end, out):
    """Exact cost-aware oracle for every column; fills ``out`` (n, m) and returns the (m,) optimal totals.

    ``out`` with 0 rows, (0, m): the totals only (what the ``oracle_return_additive`` row needs).
    """
    m = out.shape[1]
    totals = np.empty(m)
    for jj in prange(m):
        j = np.int64(jj)  # the prange index is unsigned: unifying it with 0 would give a float
        pj = j if price.shape[1] > 1 else 0
        totals[j] = _oracle_column_nb(price, fee, half_spread, slippage, j, pj, first, close_at_end, out)
    return totals


def oracle_positions(
    price: Any,
    *,
    fee_bps: Any = 0.0,
    half_spread_bps: Any = 0.0,
    slippage_bps: Any = 0.0,
    delay: int = 0,
    close_at_end: bool = False,
) -> Any:
    """Exact perfect-foresight positions in {-1, 0, 1} that maximise total additive net return after costs.

    .. warning:: LOOK-AHEAD: position t is chosen knowing every future price. A benchmark, never a signal.

    Parameters
    ----------
    price : array-like or pandas object, shape (n,) or (n, m)
        Finite, positive prices (the same input :func:`signalbench.backtest` takes).
    fee_bps, half_spread_bps, slippage_bps : float, per-column sequence, or per-row array
        Costs in basis points per unit of exposure traded, exactly as in :func:`signalbench.backtest`.
    delay : int, default 0
        Latency in bars. The returned *target* positions are shifted so that, executed with the same
        ``delay``, they produce the optimal exposures (the first ``delay`` bars cannot be traded).
    close_at_end : bool, default False
        Whether the backtest forces the last bar flat.

    Returns
    -------
    numpy.ndarray or pandas object
        Positions with the shape (and pandas labels) of ``price``; ``backtest(price, oracle_positions(price,
        **costs), **costs, mode="additive")`` attains the maximal total return. All zero, with an
        ``EmptyResultWarning``, when ``delay`` leaves no bar to trade.

    Raises
    ------
    TypeError
        Non-numeric prices or costs, a non-integer ``delay``, a non-bool ``close_at_end``.
    ValueError
        Prices that are not finite and > 0, a time index out of order, costs that are negative, non-finite or
        of the wrong shape, a negative ``delay`` (``docs/architecture.md``).

    Notes
    -----
    Dynamic programming over the states {-1, 0, 1}: O(n) time per column. See the module docstring for why the
    result also bounds every fractional strategy with ``|position| <= 1``.
    """
    p2, template = as_price(price)
    n, m = p2.shape
    delay = check_delay(delay)
    close_at_end = boolean(close_at_end, "close_at_end")
    costs = as_costs(fee_bps, half_spread_bps, slippage_bps, n, m, template.index)
    if delay >= n - int(close_at_end):
        warn_empty(f"oracle_positions: delay={delay} leaves no bar to trade in {n} rows; every position is 0")
    exposure = np.empty((n, m), order="F")
    oracle_nb(p2, costs.fee, costs.half_spread, costs.slippage, delay, close_at_end, exposure)
    target = np.zeros_like(exposure)
    if delay < n:
        target[: n - delay] = exposure[delay:]
    return wrap_like(target, template)


def naive_oracle_positions(price: Any) -> Any:
    """The tutorials' perfect-foresight benchmark: ``sign(price[t+1] - price[t])``, 0 on the last bar.

    .. warning:: LOOK-AHEAD: position t is the sign of the *next* price change. It pays no attention to costs,
       so after costs it can lose money; :func:`oracle_positions` is the honest bound.

    Parameters
    ----------
    price : array-like or pandas object, shape (n,) or (n, m)
        Finite, positive prices; a time index must be sorted.

    Returns
    -------
    numpy.ndarray or pandas object
        Positions in {-1, 0, 1} with the shape (and pandas labels) of ``price``.

    Raises
    ------
    TypeError
        Non-numeric prices.
    ValueError
        Prices that are not finite and > 0, or a time index out of order.
    """
    p2, template = as_price(price)
    if p2.shape[0] == 1:
        warn_empty("naive_oracle_positions: price has 1 row, so there is no next move; the position is 0")
    out = np.zeros(p2.shape, order="F")
    out[:-1] = np.sign(np.diff(p2, axis=0))
    return wrap_like(out, template)


__all__ = ["naive_oracle_positions", "oracle_nb", "oracle_positions"]
