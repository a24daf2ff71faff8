"""The exact perfect-foresight oracle under the book's costs: the best whole-share holding path.

.. warning::
   LOOK-AHEAD BY DESIGN, like :mod:`signalbench.engine.oracle`: it reads every future price and book. A bound
   on what any strategy could have earned under the same costs, never a signal.

What it optimises
-----------------
A column trades ``S`` shares (its ``size``) times an exposure, so its holding ``h[t]`` is a whole number of
shares in ``[-S, S]`` (``h[-1] = 0``) and its exposure is ``h / S``. Under the engine's conventions its total
additive net return is::

    R(h) = sum_t h[t-1] / S * x[t]  -  sum_t C_t(h[t] - h[t-1]),     x[t] = price[t] / price[t-1] - 1,

where ``C_t(q)`` is the cost, as a fraction of the notional ``S * mid[t]``, of trading ``q`` shares at row t:
buying walks the ask levels best first, selling the bid levels, each share paying ``|p_i - mid| / mid`` of its
level plus ``(fee_bps + slippage_bps) / 1e4`` (:mod:`signalbench.engine.book_kernels` prices a strategy's trades
by exactly these terms). Depth policies: with ``unfilled="partial"`` or ``"raise"`` the oracle may only use the
depth that is displayed, ``-bid_depth[t] <= q <= ask_depth[t]`` (a ``partial`` strategy's trades, each limited
to the displayed depth of its row, and a ``raise`` strategy's, which never exceed it, are all such paths); with
``"penalty"`` any ``q`` is allowed and the shares beyond the displayed depth pay the last visible level plus
``penalty_bps``, as the strategy's do. Rows before the first one a decision can reach (``delay``, or the first
execution row under ``latency``) cannot trade; with ``close_at_end`` the last row trades towards 0 as a
strategy's would (as far as the depth allows under ``partial``). The oracle maximises ``R`` exactly over every
such path, so no strategy priced by :func:`signalbench.engine.book.book_backtest` on the same prices, book,
size and costs can beat it (with ``latency`` it may also trade on rows inside a burst that no decision reaches:
still a bound, not always attained). And as ``C_t`` has integer breakpoints (level sizes are whole shares) and
``S`` is whole, the optimum over fractional holdings in ``[-S, S]`` is the same number (the value function
below is piecewise linear with integer breakpoints).

Dynamic programme
-----------------
``V_t(h)``: the best total of rows ``0..t`` ending row t with holding h. With ``A_t(h) = V_{t-1}(h) + h x[t] / S``
(holding h over ``(t-1, t]``)::

    V_t(h) = max_{h'} A_t(h') - C_t(h - h'),        V_{-1}(0) = 0, V_{-1}(h != 0) = -inf,

a max-plus convolution of ``A_t`` with ``-C_t``, restricted to ``[-S, S]``.

**Claim: every V_t is concave on an integer interval.** ``C_t`` is convex on the integer interval of allowed
``q``: its increments are the per-share costs of successive shares, which never decrease going away from 0 on
either side (ask prices rise and bid prices fall with the level, and the penalty share costs at least as much as
the last visible one), and across 0 they go from ``-(mid - bid_1) / mid - f`` to ``(ask_1 - mid) / mid + f``,
an increase exactly because the book is not crossed (``ask_1 > bid_1``; a crossed row would break it, which is
one reason such rows are refused). By induction: ``V_{-1}`` is concave on ``{0}``; ``A_t`` is ``V_{t-1}`` plus a
linear function, so concave on the same interval. For two concave sequences ``f`` on ``[a, b]`` and ``g`` on
``[c, d]``, the max-plus convolution ``(f # g)(z) = max_{x + y = z} f(x) + g(y)`` is concave on ``[a + c, b + d]``
and is obtained by starting from ``f(a) + g(c)`` and adding the increments of ``f`` and ``g`` merged in
decreasing order. Proof: any split ``z = x + y`` takes ``x - a`` increments of ``f`` (its first ones, in
order) and ``y - c`` of ``g``; ``f(x) + g(y) - f(a) - g(c)`` is their sum, at most the sum of the ``z - a - c``
largest increments of the two sequences together; because each sequence's increments are non-increasing,
those largest ones are a prefix of each, i.e. a feasible split, so the bound is attained and equals the
merged prefix sum. The merged increments are non-increasing, so ``f # g`` is concave; restricting a concave
sequence to a sub-interval (``[-S, S]``) keeps it concave. Hence ``V_t = A_t # (-C_t)`` is concave, and the
merge computes it exactly. ``-C_t`` has one run of equal increments per book level (and one for the penalty),
so a step costs O(S + levels) rather than the O(S^2) of trying every pair; only trades of at most ``2 S``
shares can matter, so the runs are cut there.

Floating point: every value the merge writes is ``A_t(x) + g(y)`` of a feasible split, so a rounding slip in
the increments can only make the oracle a hair lower than the exact optimum, never report an infeasible path.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from signalbench.engine.book_kernels import trade_nb


@njit(cache=True)
def _runs_nb(t, scale, f, policy, penalty, sell_cap, buy_cap, ask_px, ask_sz, bid_px, bid_sz, run_len, run_inc):
    """Runs of ``-C_t``'s increments from the deepest sale to the deepest purchase; returns (count, sold, g0).

    ``scale`` = 1 / S; ``sold``: the shares the leftmost point sells; ``g0 = -C_t(-sold)``.
    """
    mid2 = ask_px[t, 0] + bid_px[t, 0]
    levels = ask_px.shape[1]
    nr = 0
    # sell side, best level first, then reversed so that the deepest comes first (leftmost)
    left = sell_cap
    last = bid_px[t, 0]
    for i in range(levels + 1):
        if left == 0:
            break
        if i < levels:
            if bid_sz[t, i] == 0:
                continue
            take = min(bid_sz[t, i], left)
            last = bid_px[t, i]
            per = ((mid2 - 2 * last) / mid2 + f) * scale
        elif policy == 1:
            take = left
            per = ((mid2 - 2 * last) / mid2 + penalty + f) * scale
        else:
            break
        run_len[nr] = take
        run_inc[nr] = per
        nr += 1
        left -= take
    sold = sell_cap - left
    g0 = 0.0
    for r in range(nr):
        g0 -= run_len[r] * run_inc[r]
    run_len[:nr] = run_len[:nr][::-1].copy()
    run_inc[:nr] = run_inc[:nr][::-1].copy()
    left = buy_cap
    last = ask_px[t, 0]
    for i in range(levels + 1):
        if left == 0:
            break
        if i < levels:
            if ask_sz[t, i] == 0:
                continue
            take = min(ask_sz[t, i], left)
            last = ask_px[t, i]
            per = ((2 * last - mid2) / mid2 + f) * scale
        elif policy == 1:
            take = left
            per = ((2 * last - mid2) / mid2 + penalty + f) * scale
        else:
            break
        run_len[nr] = take
        run_inc[nr] = -per
        nr += 1
        left -= take
    return nr, sold, g0


@njit(cache=True)
def _merge_nb(v, lo, hi, s, z0, val, nr, run_len, run_inc, out):
    """Max-plus convolution by the merge of increments (module docstring), written into ``out`` on [-S, S].

    Returns the new interval ``(lo, hi)``.
    """
    z = z0
    if z >= -s:
        out[z + s] = val
    ia = lo
    r = 0
    rem = run_len[0] if nr > 0 else 0
    while z < s:
        while r < nr and rem == 0:
            r += 1
            rem = run_len[r] if r < nr else 0
        have_g = r < nr
        if ia < hi and (not have_g or v[ia + 1 + s] - v[ia + s] >= run_inc[r]):
            val += v[ia + 1 + s] - v[ia + s]
            ia += 1
        elif have_g:
            val += run_inc[r]
            rem -= 1
        else:
            break
        z += 1
        if z >= -s:
            out[z + s] = val
    return max(z0, -s), z


@njit(cache=True)
def _close_nb(v, lo, hi, s, t, f, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz):
    """The best total when the last row trades every holding towards 0 (as far as the policy lets it)."""
    best = -np.inf
    for h in range(lo, hi + 1):
        val = v[h + s]
        if h != 0:
            done, bps, _ = trade_nb(-h, t, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz)
            val -= abs(done) * (bps / 1e4 + f) / s
        best = max(best, val)
    return best


@njit(cache=True)
def book_oracle_nb(price, pj, first, s, f, policy, penalty_bps, close_at_end, ask_px, ask_sz, bid_px, bid_sz):
    """The optimal total additive net return of one column (module docstring); O(n (S + levels)).

    ``price``: (n, k) with the column ``pj``; ``first``: the first row that may trade; ``s``: whole shares;
    ``f``: (fee + slippage) / 1e4; ``policy``: 0 partial, 1 penalty, 2 raise (as partial: displayed depth only).
    """
    n = price.shape[0]
    w = 2 * s + 1
    v = np.full(w, -np.inf)
    out = np.full(w, -np.inf)
    v[s] = 0.0
    lo = 0
    hi = 0
    run_len = np.zeros(2 * ask_px.shape[1] + 2, dtype=np.int64)
    run_inc = np.zeros(2 * ask_px.shape[1] + 2)
    for t in range(n):
        x = price[t, pj] / price[t - 1, pj] - 1.0 if t > 0 else 0.0
        for h in range(lo, hi + 1):
            v[h + s] += h * x / s
        if t < first:
            continue
        if close_at_end and t == n - 1:
            return _close_nb(v, lo, hi, s, t, f, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz)
        nr, sold, g0 = _runs_nb(
            t, 1.0 / s, f, policy, penalty_bps / 1e4, hi + s, s - lo, ask_px, ask_sz, bid_px, bid_sz, run_len, run_inc
        )
        lo, hi = _merge_nb(v, lo, hi, s, lo - sold, v[lo + s] + g0, nr, run_len, run_inc, out)
        v, out = out, v
    best = -np.inf
    for h in range(lo, hi + 1):
        best = max(best, v[h + s])
    return best


@njit(cache=True, parallel=True)
def book_oracles_nb(price, pcol, first, sizes, fs, policy, penalty_bps, close_at_end, ask_px, ask_sz, bid_px, bid_sz):
    """:func:`book_oracle_nb` for each (price column, size, fee + slippage) triple, in parallel."""
    k = sizes.shape[0]
    out = np.empty(k)
    for ii in prange(k):
        i = np.int64(ii)
        out[i] = book_oracle_nb(
            price, pcol[i], first, sizes[i], fs[i], policy, penalty_bps, close_at_end, ask_px, ask_sz, bid_px, bid_sz
        )
    return out
