"""Numba kernels of the book cost model: walk the levels of one side, and execute target holdings on the book.

Integer arithmetic: prices are LOBSTER ticks (dollars x 10,000), sizes whole shares, and ``mid2 = ask_1 + bid_1``
is twice the mid in ticks, so the cost of a trade against the mid, ``sum q_i * |2 p_i - mid2|`` (ticks x 2), is
exact in int64; only the final division into basis points is a float.

Policies for depth that is not displayed (``POLICIES``): 0 ``partial`` (fill what is displayed; the rest is
retried on the next rows, towards the target then in force), 1 ``penalty`` (fill everything: the remainder at
the last visible level plus ``penalty_bps`` of the mid), 2 ``raise`` (the caller raises at the first such row).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: The depth policies, in the order of their codes in the kernels.
POLICIES = ("partial", "penalty", "raise")


@njit(cache=True)
def walk_nb(px, sz, t, q):
    """Take up to ``q`` > 0 shares from one side at row t, best level first (empty levels have size 0).

    Returns ``(filled, notional, last)``: the shares taken, ``sum taken_i * price_i`` in ticks, and the price of
    the last level visited (the deepest visible one when the depth runs out; 0 when the side is empty).
    """
    filled = 0
    notional = 0
    last = 0
    for i in range(px.shape[1]):
        s = sz[t, i]
        if s == 0:
            continue
        take = min(s, q - filled)
        notional += take * px[t, i]
        filled += take
        last = px[t, i]
        if filled == q:
            break
    return filled, notional, last


@njit(cache=True)
def depth_nb(sz, t):
    """The displayed shares of one side at row t."""
    total = 0
    for i in range(sz.shape[1]):
        total += sz[t, i]
    return total


@njit(cache=True)
def trade_nb(d, t, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz):
    """Execute a trade of ``d`` != 0 shares (> 0 buys on the ask, < 0 sells on the bid) at row t.

    Returns ``(executed, bps, short)``: the shares executed (signed), the cost against the mid in basis points
    per share executed (``1e4 * cost / (|executed| * mid)``, penalty included), and whether ``d`` exceeded the
    displayed depth.
    """
    mid2 = ask_px[t, 0] + bid_px[t, 0]
    q = abs(d)
    if d > 0:
        filled, notional, last = walk_nb(ask_px, ask_sz, t, q)
        num = 2 * notional - filled * mid2
        edge = 2 * last - mid2
    else:
        filled, notional, last = walk_nb(bid_px, bid_sz, t, q)
        num = filled * mid2 - 2 * notional
        edge = mid2 - 2 * last
    short = filled < q
    rest = 0
    if short and policy == 1:
        rest = q - filled
        num += rest * edge
    done = filled + rest
    if done == 0:
        return 0, 0.0, short
    bps = 1e4 * num / (done * mid2) + penalty_bps * rest / done
    return done if d > 0 else -done, bps, short


@njit(cache=True, parallel=True)
def execute_nb(
    position,
    src,
    size,
    policy,
    penalty_bps,
    close_at_end,
    ask_px,
    ask_sz,
    bid_px,
    bid_sz,
    exposure,
    cost_bps,
    short,
    first_short,
    parts,
):
    """Executed exposure and per-cell cost (bps per unit of exposure traded) of every column on the book.

    ``position``: (n, 1) or (n, m) target exposures; ``src[t]``: the decision row in force at row t (-1: none);
    ``size``: (1,) or (m,) whole shares. The target holding is ``rint(size * position[src[t]])`` shares (0 before
    the first decision, and on the last row with ``close_at_end``); each row trades towards it under ``policy``.
    Fills ``exposure`` (holding / size), ``cost_bps`` (0 where nothing trades), ``short`` (rows whose trade
    exceeded the displayed depth), ``first_short`` (the first such row, -1 if none; with ``raise`` the column
    stops there) and ``parts`` (2, m): per column the total cost, as a fraction of the notional, of the best level's
    half spread on every share traded, and of the whole walk of the book (penalty included).
    """
    n, m = exposure.shape
    for jj in prange(m):
        j = np.int64(jj)  # the prange index is unsigned: unifying it with 0 would give a float
        pj = j if position.shape[1] > 1 else 0
        s_j = size[j if size.shape[0] > 1 else 0]
        h = 0
        count = 0
        spread = 0.0
        walk = 0.0
        first = -1
        for t in range(n):
            target = 0
            if src[t] >= 0 and not (close_at_end and t == n - 1):
                target = np.int64(np.rint(s_j * position[src[t], pj]))
            k = 0.0
            if target != h:
                done, k, is_short = trade_nb(target - h, t, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz)
                if is_short:
                    count += 1
                    if first < 0:
                        first = t
                    if policy == 2:
                        break
                h += done
                traded = abs(done) / s_j
                spread += traded * (ask_px[t, 0] - bid_px[t, 0]) / (ask_px[t, 0] + bid_px[t, 0])
                walk += traded * k / 1e4
            exposure[t, j] = h / s_j
            cost_bps[t, j] = k
        short[j] = count
        first_short[j] = first
        parts[0, j] = spread
        parts[1, j] = walk


@njit(cache=True, parallel=True)
def cost_curve_nb(shares, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz, bps, filled, short):
    """Per row, the cost in bps against the mid of one order of ``shares`` (> 0 buys, < 0 sells) and its fill."""
    for tt in prange(ask_px.shape[0]):
        t = np.int64(tt)
        done, k, is_short = trade_nb(shares, t, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz)
        bps[t] = k
        filled[t] = done
        short[t] = is_short
