"""The book oracle's first kernel, kept as a reference: the same DP over a dense array of all 2 S + 1 holdings.

``signalbench.engine.book_oracle`` now keeps the concave value function as runs of equal increments (O(breakpoints)
per price change); this is the O(S)-per-price-change version it replaced, verbatim, which the tests compare with it.
Its cost side (``_collect_nb``, ``_runs_nb``: the runs of ``-C`` over a block of rows) is the first kernel's too, kept
here so that the reference does not move with the library.
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
    order = np.argsort(marg[:k], kind="mergesort")
    m2 = marg[:k][order].copy()
    s2 = size[:k][order].copy()
    left = cap
    out = 0
    for i in range(k):
        if left == 0:
            break
        take = min(s2[i], left)
        marg[out] = m2[i]
        size[out] = take
        left -= take
        out += 1
    return out


@njit(cache=True)
def _runs_nb(t, u, scale, f, policy, penalty, sell_cap, buy_cap, ask_px, ask_sz, bid_px, bid_sz, run_len, run_inc):
    """Runs of the increments of ``-C``, the cheapest way to trade over rows t..u, deepest sale first.

    No price changes among the rows, so ``-C`` is the max-plus convolution of their ``-C_r``: their increments
    merged (module docstring), laid out from the deepest sale to the deepest purchase.
    Returns ``(count, sold, g0)``: ``sold`` the shares the leftmost point sells, ``g0 = -C(-sold)``.
    """
    cap = (u - t + 1) * (ask_px.shape[1] + 1)
    marg = np.empty(cap)
    size = np.empty(cap, dtype=np.int64)
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
def _close_nb(v, lo, hi, s, xs, t, f, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz):
    """The best total when the last row trades every holding towards 0 (as far as the policy lets it)."""
    best = -np.inf
    for h in range(lo, hi + 1):
        val = v[h + s] + h * xs
        if h != 0:
            done, bps, _ = trade_nb(-h, t, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz)
            val -= abs(done) * (bps / 1e4 + f) / s
        best = max(best, val)
    return best


@njit(cache=True)
def _merge_nb(v, lo, hi, s, xs, z0, val, nr, run_len, run_inc, out):
    """Max-plus convolution by the merge of increments (module docstring), written into ``out`` on [-S, S].

    ``A(h) = v[h] + h * xs`` (the holding's return over the row, applied here rather than in a pass of its own);
    ``val`` is the value at ``z0``. Below ``-S`` nothing is written, so a run of ``-C`` that wins there is taken
    whole (its increments are equal, and larger than ``A``'s next one). Returns the new interval ``(lo, hi)``.
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
        da = v[ia + 1 + s] - v[ia + s] + xs if ia < hi else -np.inf
        step = 1
        if ia < hi and (not have_g or da >= run_inc[r]):
            val += da
            ia += 1
        elif have_g:
            if z + 1 < -s:
                step = min(rem, -s - z)
            val += step * run_inc[r]
            rem -= step
        else:
            break
        z += step
        if z >= -s:
            out[z + s] = val
    return max(z0, -s), z


@njit(cache=True)
def dense_oracle_nb(price, pj, first, s, f, policy, penalty_bps, close_at_end, ask_px, ask_sz, bid_px, bid_sz):
    """The optimal total additive net return of one column (module docstring); O(S) per price change.

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
    run_len = np.zeros(64, dtype=np.int64)
    run_inc = np.zeros(run_len.shape[0])
    t = 0
    while t < n:
        xs = (price[t, pj] / price[t - 1, pj] - 1.0) / s if t > 0 else 0.0  # applied by the merge (or the close)
        if t < first:  # holding 0 until the first row that may trade
            t += 1
            continue
        if close_at_end and t == n - 1:
            return _close_nb(v, lo, hi, s, xs, t, f, policy, penalty_bps, ask_px, ask_sz, bid_px, bid_sz)
        u = t  # the rows after t with the same price: one trade over them (module docstring)
        while u + 1 < n and price[u + 1, pj] == price[u, pj] and not (close_at_end and u + 1 == n - 1):
            u += 1
        need = 2 * (u - t + 1) * (ask_px.shape[1] + 1)
        if need > run_len.shape[0]:
            run_len = np.zeros(2 * need, dtype=np.int64)
            run_inc = np.zeros(2 * need)
        nr, sold, g0 = _runs_nb(
            t,
            u,
            1.0 / s,
            f,
            policy,
            penalty_bps / 1e4,
            hi + s,
            s - lo,
            ask_px,
            ask_sz,
            bid_px,
            bid_sz,
            run_len,
            run_inc,
        )
        lo, hi = _merge_nb(v, lo, hi, s, xs, lo - sold, v[lo + s] + lo * xs + g0, nr, run_len, run_inc, out)
        v, out = out, v
        t = u + 1
    best = -np.inf
    for h in range(lo, hi + 1):
        best = max(best, v[h + s])
    return best
