"""An independent reference of the book cost model: a plain Python walk of the book, level by level, in Fractions.

Written from the rules in ``signalbench.engine.book`` (not from its kernels): a row's levels are read from the
frame as ``load_lobster`` gives it (NaN for an empty level; LOBSTER's 9999999999 markers with size 0 count as
empty too), the trade walks them best first, and the cost against the mid is exact.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

POLICIES = ("partial", "penalty", "raise")


def levels_of(book: pd.DataFrame) -> int:
    k = 0
    while f"ask_price_{k + 1}" in book.columns:
        k += 1
    return k


def side(book: pd.DataFrame, t: int, name: str) -> list[tuple[Fraction, int]]:
    """The occupied levels of one side at row t, as (price in dollars, exact; shares), best first."""
    out = []
    for i in range(1, levels_of(book) + 1):
        p = book[f"{name}_price_{i}"].iloc[t]
        s = book[f"{name}_size_{i}"].iloc[t]
        if np.isnan(p) or np.isnan(s) or s == 0 or abs(p) >= 999_999.9999:
            continue
        out.append((Fraction(round(p * 10_000), 10_000), int(s)))
    return out


def mid_of(book: pd.DataFrame, t: int) -> Fraction:
    return (side(book, t, "ask")[0][0] + side(book, t, "bid")[0][0]) / 2


def trade(book: pd.DataFrame, t: int, d: int, policy: str, penalty_bps: float) -> tuple[int, Fraction, bool]:
    """Execute ``d`` shares at row t: (signed shares executed, cost in dollars against the mid, short of depth)."""
    mid = mid_of(book, t)
    levels = side(book, t, "ask" if d > 0 else "bid")
    want = abs(d)
    got = 0
    cost = Fraction(0)
    for price, shares in levels:
        take = min(shares, want - got)
        cost += take * abs(price - mid)
        got += take
        if got == want:
            break
    short = got < want
    if short and policy == "penalty":
        rest = want - got
        cost += rest * (abs(levels[-1][0] - mid) + mid * Fraction(penalty_bps) / 10_000)
        got = want
    return (got if d > 0 else -got), cost, short


def simulate(book, position, src, size, policy, penalty_bps=0.0, close_at_end=False):
    """Holdings, costs in dollars and short rows of one column, row by row; None when ``raise`` would raise."""
    n = len(position)
    h = 0
    holdings, costs, short_rows = [], [], 0
    for t in range(n):
        target = 0
        if src[t] >= 0 and not (close_at_end and t == n - 1):
            target = round(size * float(position[src[t]]))  # Python rounds half to even, as documented
        cost = Fraction(0)
        if target != h:
            done, cost, short = trade(book, t, target - h, policy, penalty_bps)
            if short:
                short_rows += 1
                if policy == "raise":
                    return None
            h += done
        holdings.append(h)
        costs.append(cost)
    return np.array(holdings), costs, short_rows
