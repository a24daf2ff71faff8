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
merge computes it exactly. ``-C_t`` has one run of equal increments per book level (and one for the penalty);
only trades of at most ``2 S`` shares can matter, so the runs are cut there.

**Runs, not holdings.** ``V_t`` is kept as its value at the left end of its interval and its increments grouped
in runs of equal ones (a concave piecewise-linear function by its breakpoints), never as 2 S + 1 values. Adding
the holding's return ``h x / S`` adds ``x / S`` to every increment (it keeps their order), and the merge above
works run by run: a step costs O(K + R) for the K runs of ``V_{t-1}`` and the R of ``-C_t``, not O(S), and not
the O(S^2) of trying every pair. K is at most 2 S but in practice the number of distinct marginal values the
book has produced (on the GOOG day at 1,000 shares: 7 on average over its 24,085 price changes, at most 91), so
the oracle's time hardly grows with S.
Neighbouring runs of exactly equal increments are joined, which changes no value.

Rows between which the price does not move (``x = 0``, most events of a LOBSTER day when the price is the mid)
are one step: with no gross return among rows t..u, trading over them is worth ``A # (-C_t) # ... # (-C_u)``,
and by the same lemma ``(-C_t) # ... # (-C_u)`` is the merge of their increments (each row's depth usable once,
as the rows are separate books). So the block costs one merge with ``A``: O(K + R log R) for its R level runs
instead of one merge per event.

Floating point: every value the merge reaches is ``A_t(x) + g(y)`` of a feasible split, so a rounding slip in
the increments can only make the oracle a hair lower than the exact optimum, never report an infeasible path.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from signalbench.engine.book_kernels import trade_nb


@njit(cache=True)
def _collect_nb(px, sz, opx, t, u, sign, f, policy, penalty, cap, marg, size):
    """Per-share costs and shares of one side's levels over rows t..u, cheapest first, cut at ``cap`` shares.

    Costs are fractions of the mid, fee and slippage included. ``opx``: the other side's prices (for the mid); ``sign``:
    +1 for asks, -1 for bids. Under ``policy`` 1 each row adds an unlimited level past its last visible one (the
    penalty). Returns the number of runs written into ``marg`` and ``size``.
    """
    k = 0
    for r in range(t, u + 1):
        mid2 = px[r, 0] + opx[r, 0]
        last = px[r, 0]
        for i in range(px.shape[1]):
            if sz[r, i] > 0:
                last = px[r, i]
                marg[k] = sign * (2 * last - mid2) / mid2 + f
                size[k] = min(sz[r, i], cap)
                k += 1
        if policy == 1:
            marg[k] = sign * (2 * last - mid2) / mid2 + penalty + f
            size[k] = cap
            k += 1
    if u > t:  # one row's levels are in order already (prices move away from the mid, the penalty last)
        order = np.argsort(marg[:k], kind="mergesort")
        marg[:k] = marg[:k][order]
        size[:k] = size[:k][order]
    left = cap
    out = 0
    for i in range(k):
        if left == 0:
            break
        take = min(size[i], left)
        marg[out] = marg[i]
        size[out] = take
        left -= take
        out += 1
    return out


@njit(cache=True)
def _runs_nb(t, u, scale, f, policy, penalty, caps, book, run_len, run_inc, marg, size):
    """Runs of the increments of ``-C``, the cheapest way to trade over rows t..u, deepest sale first.

    No price changes among the rows, so ``-C`` is the max-plus convolution of their ``-C_r``: their increments
    merged (module docstring), laid out from the deepest sale to the deepest purchase. ``caps``: the most shares
    that can be sold and bought; ``book``: ``(ask_px, ask_sz, bid_px, bid_sz)``; ``marg`` and ``size``: work space
    for one side's levels over the rows.
    Returns ``(count, sold, g0)``: ``sold`` the shares the leftmost point sells, ``g0 = -C(-sold)``.
    """
    ask_px, ask_sz, bid_px, bid_sz = book
    sell_cap, buy_cap = caps
    ns = _collect_nb(bid_px, bid_sz, ask_px, t, u, -1, f, policy, penalty, sell_cap, marg, size)
    sold = 0
    g0 = 0.0
    for i in range(ns):  # the deepest (dearest) sale first
        run_len[i] = size[ns - 1 - i]
        run_inc[i] = marg[ns - 1 - i] * scale
        sold += size[i]
        g0 -= size[i] * marg[i] * scale
    nb = _collect_nb(ask_px, ask_sz, bid_px, t, u, 1, f, policy, penalty, buy_cap, marg, size)
    for i in range(nb):
        run_len[ns + i] = size[i]
        run_inc[ns + i] = -marg[i] * scale
    return ns + nb, sold, g0


@njit(cache=True)
def _merge_nb(lo, vlo, vlen, vinc, nv, s, xs, sold, g0, nr, run_len, run_inc, olen, oinc):
    """Max-plus convolution of ``A`` with ``-C`` by the merge of their runs of increments (module docstring).

    ``A``: the value function, ``vlo`` at holding ``lo`` and ``nv`` runs of ``vlen`` equal increments ``vinc``
    (non-increasing), plus the holding's return over the row (``h * xs``: every increment gains ``xs``, applied
    here rather than in a pass of its own). ``-C``: ``g0`` at ``-sold`` and ``nr`` runs ``run_len``/``run_inc``.
    Writes the result's runs into ``olen``/``oinc``, cut to [-S, S] (equal neighbours joined), and returns
    ``(lo, hi, vlo, count)``.
    """
    z = lo - sold
    val = vlo + lo * xs + g0
    new_lo, new_vlo = z, val
    ia, ra = 0, vlen[0] if nv > 0 else 0
    r, rg = 0, run_len[0] if nr > 0 else 0
    no = 0
    while z < s:
        while ia < nv and ra == 0:
            ia += 1
            ra = vlen[ia] if ia < nv else 0
        while r < nr and rg == 0:
            r += 1
            rg = run_len[r] if r < nr else 0
        if ia >= nv and r >= nr:
            break
        take_a = ia < nv and (r >= nr or vinc[ia] + xs >= run_inc[r])
        inc = vinc[ia] + xs if take_a else run_inc[r]
        step = min(ra if take_a else rg, (-s - z) if z < -s else (s - z))
        if take_a:
            ra -= step
        else:
            rg -= step
        val += step * inc
        if z >= -s:
            if no > 0 and oinc[no - 1] == inc:
                olen[no - 1] += step
            else:
                olen[no] = step
                oinc[no] = inc
                no += 1
        z += step
        if z == -s:
            new_lo, new_vlo = z, val
    return new_lo, z, new_vlo, no


@njit(cache=True)
def _close_nb(lo, vlo, vlen, vinc, nv, s, xs, t, f, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz):
    """The best total when the last row trades every holding towards 0 (as far as the policy lets it)."""
    best = -np.inf
    h, val, i, left = lo, vlo, 0, vlen[0] if nv > 0 else 0
    while True:
        here = val + h * xs
        if h != 0:
            done, bps, _ = trade_nb(-h, t, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz)
            here -= abs(done) * (bps / 1e4 + f) / s
        best = max(best, here)
        while i < nv and left == 0:
            i += 1
            left = vlen[i] if i < nv else 0
        if i >= nv:
            return best
        val += vinc[i]
        left -= 1
        h += 1


@njit(cache=True)
def book_oracle_nb(price, pj, first, s, f, policy, penalty_bps, close_at_end, ask_px, ask_sz, bid_px, bid_sz):
    """The optimal total additive net return of one column (module docstring); O(breakpoints) per price change.

    ``price``: (n, k) with the column ``pj``; ``first``: the first row that may trade; ``s``: whole shares;
    ``f``: (fee + slippage) / 1e4; ``policy``: 0 partial, 1 penalty, 2 raise (as partial: displayed depth only).
    The value function is held as its value ``vlo`` at ``lo`` and ``nv`` runs of equal increments.
    """
    n = price.shape[0]
    cap = 64
    vlen, vinc = np.zeros(cap, dtype=np.int64), np.zeros(cap)
    olen, oinc = np.zeros(cap, dtype=np.int64), np.zeros(cap)
    lo, hi, vlo, nv = 0, 0, 0.0, 0
    run_len, run_inc = np.zeros(64, dtype=np.int64), np.zeros(64)
    marg, size = np.zeros(64), np.zeros(64, dtype=np.int64)
    book = (ask_px, ask_sz, bid_px, bid_sz)
    t = 0
    while t < n:
        xs = (price[t, pj] / price[t - 1, pj] - 1.0) / s if t > 0 else 0.0  # applied by the merge (or the close)
        if t < first:  # holding 0 until the first row that may trade
            t += 1
            continue
        if close_at_end and t == n - 1:
            return _close_nb(lo, vlo, vlen, vinc, nv, s, xs, t, f, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz)
        u = t  # the rows after t with the same price: one trade over them (module docstring)
        while u + 1 < n and price[u + 1, pj] == price[u, pj] and not (close_at_end and u + 1 == n - 1):
            u += 1
        need = 2 * (u - t + 1) * (ask_px.shape[1] + 1)
        if need > run_len.shape[0]:
            run_len, run_inc = np.zeros(2 * need, dtype=np.int64), np.zeros(2 * need)
            marg, size = np.zeros(2 * need), np.zeros(2 * need, dtype=np.int64)
        caps = (hi + s, s - lo)
        nr, sold, g0 = _runs_nb(t, u, 1.0 / s, f, policy, penalty_bps / 1e4, caps, book, run_len, run_inc, marg, size)
        if nv + nr > olen.shape[0]:
            cap = 2 * (nv + nr)
            olen, oinc = np.zeros(cap, dtype=np.int64), np.zeros(cap)
        lo, hi, vlo, nv = _merge_nb(lo, vlo, vlen, vinc, nv, s, xs, sold, g0, nr, run_len, run_inc, olen, oinc)
        vlen, vinc, olen, oinc = olen, oinc, vlen, vinc
        t = u + 1
    best = vlo
    val = vlo
    for i in range(nv):
        val += vlen[i] * vinc[i]
        best = max(best, val)
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
