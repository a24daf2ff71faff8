"""The step kernel of the order-book feature sets: one event in, one feature row out, O(1) per event.

This is the single set of formulas of ``lob_basic`` and ``lob_levels``: :class:`~signalbench.data.OnlineFeatures`
calls :func:`step_nb` once per event, and the batch path (:func:`replay_nb`, used by
:func:`~signalbench.data.features.compute_features`) is a Numba loop calling the same function over the rows, so
online and offline values are the same numbers bit for bit (see docs/architecture.md, "Online features").

State (a few float64/int64 arrays, see :class:`Layout`):

- ``ring`` (series x 128): the last 128 values of each per-event series (OFI of each level, OFI summed over the
  levels, signed and absolute traded volume, one-event mid return, mid), written at position ``p & 127`` where ``p``
  counts the events since the last reset. Windows (10, 50, 100) and lags (1, 10) read it.
- ``acc`` (slots + 1, 3) and ``cnt`` (slots + 2, 2): per trailing sum its total (``acc[k, 0]``), the count of
  missing values in its window and the events since its last re-anchoring (``cnt[k]``); for the volatility
  (row ``slots``) the shifted sums ``s1, s2`` and their shift ``K``; ``cnt[-1, 0]`` is ``p``.
- ``prev`` (levels x 4): the previous event's book (bid price, bid size, ask price, ask size per level, an empty
  level as bid -inf / ask +inf with size 0), for the order-flow imbalance.

Re-anchoring: a trailing sum over ``w`` events is updated by adding the value entering the window and subtracting
the one leaving it, and every ``w`` events (``p % w == 0``, kept as a phase counter) it is recomputed from the ring
(a fresh sum of the ``w`` values in the window), so rounding never accumulates over more than ``w`` events
whatever the length of the day. The volatility's sums of ``x - K`` and ``(x - K)^2`` take a shift ``K`` (the value
at the re-anchoring event) and are recomputed in the same way every ``w`` events, as
:func:`~signalbench.data.features.kernels.rolling_var_nb` does. Recomputation costs ``w`` reads once per ``w``
events: O(1) amortized.

The kernels never allocate and are compiled with ``_nrt=False``: without reference counting of the arrays passed
from function to function (atomic increments Numba could not prune around branches) an event costs about a
quarter of the time. The helpers are inlined into :func:`step_nb` and :func:`replay_nb` (``inline="always"``,
Numba IR inlining), another third off.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from signalbench.data.features.kernels import _ofi_step

__all__ = ["BASIC", "RING", "Layout", "reset_nb", "replay_nb", "step_nb"]

#: Length of the ring buffers (a power of two above the longest window + 1).
RING = 128
_MASK = RING - 1
#: The ``lob_basic`` features, in the order of the feature set (indices 0..10 of the full row).
BASIC = (
    "spread_bps",
    "microprice_dev_bps",
    "depth_imbalance_1",
    "ofi_l1_sum_10",
    "ofi_l1_sum_100",
    "ofi_sum_10",
    "trade_imbalance_10",
    "trade_flow_100",
    "mid_ret_1",
    "mid_ret_10",
    "mid_volatility_50",
)
_N_BASIC = len(BASIC)
_VOL_WINDOW = 50
_FIELDS_PER_LEVEL = ("ask_price", "ask_size", "bid_price", "bid_size")
_MESSAGE_FIELDS = ("type", "size", "direction")


class Layout:
    """Where everything lives for a book of ``levels`` levels: event fields, ring series, sums, the full row.

    The full row holds the 11 ``lob_basic`` features, then ``depth_imbalance_2..L``, then ``ofi_l2..L_sum_10``,
    then two scratch values (the signed and absolute traded volume over 10 events). With ``basic=False`` (only
    ``lob_levels`` asked for) the kernel keeps and computes only the depth imbalances and per-level OFI sums.
    """

    def __init__(self, levels: int, *, basic: bool = True) -> None:
        L = self.levels = int(levels)
        self.basic = bool(basic)
        self.fields = _MESSAGE_FIELDS + tuple(f"{k}_{i}" for i in range(1, L + 1) for k in _FIELDS_PER_LEVEL)
        self.n_series = L + 5  # ofi_1..L, ofi total, v, |v|, return 1, mid
        self.n_full = _N_BASIC + 2 * (L - 1) + 2
        tot, v, absv = L, L + 1, L + 2
        scratch = self.n_full - 2
        rows = [(0, 10, 3)]
        if self.basic:
            rows += [(0, 100, 4), (tot, 10, 5), (v, 100, 7), (v, 10, scratch), (absv, 10, scratch + 1)]
        rows += [(i - 1, 10, self.index(f"ofi_l{i}_sum_10")) for i in range(2, L + 1)]
        #: (series, window, index in the full row) of each trailing sum.
        self.slots = np.array(rows, dtype=np.int64)

    def index(self, name: str) -> int:
        """Position of feature ``name`` in the full row (KeyError for a name this layout does not make)."""
        if name in BASIC:
            return BASIC.index(name)
        for prefix, suffix, first in (("depth_imbalance_", "", 2), ("ofi_l", "_sum_10", 3)):
            number = name[len(prefix) : len(name) - len(suffix)] if name.startswith(prefix) else ""
            if name.endswith(suffix) and number.isdigit() and 1 <= int(number) <= self.levels:
                i = int(number)
                offset = 0 if prefix == "depth_imbalance_" else self.levels - 1
                return first if i == 1 else _N_BASIC + offset + i - 2
        raise KeyError(name)

    def new_state(self) -> dict[str, np.ndarray]:
        """Fresh state arrays (already reset)."""
        k = self.slots.shape[0]
        state = {
            "ring": np.empty((self.n_series, RING)),
            "acc": np.empty((k + 1, 3)),
            "cnt": np.empty((k + 2, 2), dtype=np.int64),
            "prev": np.empty((self.levels, 4)),
        }
        reset_nb(state["ring"], state["acc"], state["cnt"], state["prev"])
        return state


@njit(cache=True, _nrt=False)
def reset_nb(ring, acc, cnt, prev):
    """Start of a group (day): no event seen, empty windows."""
    ring[:] = np.nan
    acc[:] = 0.0
    cnt[:] = 0
    prev[:] = np.nan


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def _depth_imbalance(ap, aq, bp, bq):
    qb = bq if np.isfinite(bp) else 0.0
    qa = aq if np.isfinite(ap) else 0.0
    total = qa + qb
    if total > 0:
        return (qb - qa) / total
    return 0.0 if np.isfinite(total) else np.nan


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def _book_row(x, levels, full):
    """The features of the book after this event alone: spread, micro-price deviation; returns the mid."""
    ap, aq, bp, bq = x[3], x[4], x[5], x[6]
    mid = (ap + bp) / 2.0
    full[0] = (ap - bp) / ((ap + bp) / 2.0) * 1e4
    micro = (ap * bq + bp * aq) / (aq + bq)
    if not np.isfinite(micro):
        micro = np.nan
    full[1] = (micro - mid) / mid * 1e4
    return mid


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def _depth_row(x, levels, full):
    """Depth imbalance of every level."""
    full[2] = _depth_imbalance(x[3], x[4], x[5], x[6])
    for i in range(1, levels):
        j = 3 + 4 * i
        full[_N_BASIC + i - 1] = _depth_imbalance(x[j], x[j + 1], x[j + 2], x[j + 3])


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def _flows(x, levels, p, prev, ring, pos):
    """Write this event's order-flow imbalance per level and in total, and signed/absolute traded volume."""
    total = 0.0
    for i in range(levels):
        j = 3 + 4 * i
        ap, aq, bp, bq = x[j], x[j + 1], x[j + 2], x[j + 3]
        bid_empty, ask_empty = not np.isfinite(bp), not np.isfinite(ap)
        bp = -np.inf if bid_empty else bp
        ap = np.inf if ask_empty else ap
        bq = 0.0 if bid_empty or not np.isfinite(bq) else bq
        aq = 0.0 if ask_empty or not np.isfinite(aq) else aq
        e = np.nan if p == 0 else _ofi_step(prev[i, 0], prev[i, 1], prev[i, 2], prev[i, 3], bp, bq, ap, aq)
        prev[i, 0], prev[i, 1], prev[i, 2], prev[i, 3] = bp, bq, ap, aq
        ring[i, pos] = e
        total += e
    ring[levels, pos] = total
    # LOBSTER: an execution (type 4 or 5) of a resting order of direction d is a trade of sign -d.
    v = -x[2] * x[1] if x[0] == 4.0 or x[0] == 5.0 else 0.0
    ring[levels + 1, pos] = v
    ring[levels + 2, pos] = abs(v)


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def _window_sum(ring, s, w, p, acc, cnt, k):
    """Trailing sum of series ``s`` over ``w`` events (NaN in warm-up or with a missing value in the window)."""
    phase = cnt[k, 1]  # events since the last re-anchoring (p % w without a division)
    if phase == 0:  # re-anchor: a fresh sum of the window's values in the ring
        total, missing = 0.0, 0
        for j in range(max(0, p - w + 1), p + 1):
            value = ring[s, j & _MASK]
            if np.isfinite(value):
                total += value
            else:
                missing += 1
    else:
        total, missing = acc[k, 0], cnt[k, 0]
        value = ring[s, p & _MASK]
        if np.isfinite(value):
            total += value
        else:
            missing += 1
        if p >= w:  # the value leaving the window
            old = ring[s, (p - w) & _MASK]
            if np.isfinite(old):
                total -= old
            else:
                missing -= 1
    acc[k, 0], cnt[k, 0] = total, missing
    cnt[k, 1] = phase + 1 if phase + 1 < w else 0
    return total if p + 1 >= w and missing == 0 else np.nan


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def _window_std(ring, s, w, p, acc, cnt, k):
    """Trailing sample standard deviation of series ``s`` over ``w`` events (as ``rolling_var_nb``, ddof 1)."""
    lo = max(0, p - w + 1)
    value = ring[s, p & _MASK]
    phase = cnt[k, 1]
    if phase == 0:  # re-anchor on this event and recompute the shifted sums exactly
        anchor = value if np.isfinite(value) else 0.0
        s1, s2, missing = 0.0, 0.0, 0
        for j in range(lo, p + 1):
            v = ring[s, j & _MASK]
            if np.isfinite(v):
                d = v - anchor
                s1 += d
                s2 += d * d
            else:
                missing += 1
    else:
        s1, s2, anchor, missing = acc[k, 0], acc[k, 1], acc[k, 2], cnt[k, 0]
        if np.isfinite(value):
            d = value - anchor
            s1 += d
            s2 += d * d
        else:
            missing += 1
        if p >= w:
            old = ring[s, (p - w) & _MASK]
            if np.isfinite(old):
                d = old - anchor
                s1 -= d
                s2 -= d * d
            else:
                missing -= 1
    acc[k, 0], acc[k, 1], acc[k, 2], cnt[k, 0] = s1, s2, anchor, missing
    cnt[k, 1] = phase + 1 if phase + 1 < w else 0
    nobs = p - lo + 1 - missing
    if p + 1 >= w and missing == 0 and nobs > 1:
        return np.sqrt(max(s2 - s1 * s1 / nobs, 0.0) / (nobs - 1))
    return np.nan


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def _lag(ring, s, p, k):
    return ring[s, (p - k) & _MASK] if p >= k else np.nan


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def _basic_row(x, levels, p, pos, slots, ring, acc, cnt, full):
    """The ``lob_basic`` features that are not sums of one series: spread, micro-price, returns, volatility, trades."""
    mid = _book_row(x, levels, full)
    ret_s, mid_s = levels + 3, levels + 4
    ring[mid_s, pos] = mid
    ring[ret_s, pos] = mid / _lag(ring, mid_s, p, 1) - 1.0
    full[8] = ring[ret_s, pos]
    full[9] = mid / _lag(ring, mid_s, p, 10) - 1.0
    full[10] = _window_std(ring, ret_s, _VOL_WINDOW, p, acc, cnt, slots.shape[0])


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def _advance(x, basic, slots, ring, acc, cnt, prev, full):
    """Update the state by one event ``x`` and write the full feature row (see :class:`Layout`) to ``full``.

    ``basic`` False (``Layout(basic=False)``): only the depth imbalances and the per-level OFI sums.
    """
    levels = prev.shape[0]
    k_sums = slots.shape[0]
    p = cnt[k_sums + 1, 0]
    pos = p & _MASK
    _depth_row(x, levels, full)
    _flows(x, levels, p, prev, ring, pos)
    if basic:
        _basic_row(x, levels, p, pos, slots, ring, acc, cnt, full)
    for k in range(k_sums):
        full[slots[k, 2]] = _window_sum(ring, slots[k, 0], slots[k, 1], p, acc, cnt, k)
    if basic:
        num, den = full[full.shape[0] - 2], full[full.shape[0] - 1]
        if np.isfinite(num) and np.isfinite(den):
            full[6] = num / den if den != 0 else 0.0
        else:
            full[6] = np.nan
    cnt[k_sums + 1, 0] = p + 1


@njit(cache=True, error_model="numpy", _nrt=False)
def step_nb(x, out, sel, basic, slots, ring, acc, cnt, prev, full):
    """One event ``x`` (fields of :class:`Layout`): update the state, write the features ``sel`` of the row to ``out``.

    Returns 0, or -1 (nothing changed) when ``x`` does not have the layout's number of fields.
    """
    if x.shape[0] != 3 + 4 * prev.shape[0]:
        return -1
    _advance(x, basic, slots, ring, acc, cnt, prev, full)
    for j in range(sel.shape[0]):
        out[j] = full[sel[j]]
    return 0


@njit(cache=True, error_model="numpy", _nrt=False)
def replay_nb(X, gid, out, sel, basic, slots, ring, acc, cnt, prev, full, x):
    """The batch path: :func:`step_nb`'s update over the events ``X[:, t]``, restarting where ``gid`` changes.

    ``X`` is (fields, n), ``out`` (features, n): one contiguous row per field and per feature; ``x`` is a buffer
    of one event.
    """
    n = X.shape[1]
    for t in range(n):
        if t == 0 or gid[t] != gid[t - 1]:
            reset_nb(ring, acc, cnt, prev)
        for j in range(X.shape[0]):
            x[j] = X[j, t]
        _advance(x, basic, slots, ring, acc, cnt, prev, full)
        for j in range(sel.shape[0]):
            out[j, t] = full[sel[j]]
