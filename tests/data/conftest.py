"""Small frames in the LOBSTER loader's column format, built here so these tests do not depend on the loader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_lobster_frame(n: int, *, levels: int = 3, seed: int = 0, days: int = 1) -> pd.DataFrame:
    """A random but valid LOBSTER-format frame: uncrossed book, empty deep levels (NaN), executions, days."""
    rng = np.random.default_rng(seed)
    tick = 0.01
    bid_ticks = 10_000 + np.cumsum(rng.integers(-1, 2, size=n))
    spread_ticks = rng.integers(1, 4, size=n)
    cols: dict[str, np.ndarray] = {
        "type": rng.choice([1, 2, 3, 4, 5], size=n, p=[0.4, 0.2, 0.2, 0.15, 0.05]),
        "order_id": rng.integers(1, 10**7, size=n),
        "size": rng.integers(1, 500, size=n),
        "price": np.zeros(n),
        "direction": rng.choice([-1, 1], size=n),
    }
    ask_off = np.zeros(n, dtype=np.int64)
    bid_off = np.zeros(n, dtype=np.int64)
    for i in range(1, levels + 1):
        if i > 1:
            ask_off += rng.integers(1, 3, size=n)
            bid_off += rng.integers(1, 3, size=n)
        ask_p = (bid_ticks + spread_ticks + ask_off) * tick
        bid_p = (bid_ticks - bid_off) * tick
        ask_q = rng.integers(1, 800, size=n).astype(float)
        bid_q = rng.integers(1, 800, size=n).astype(float)
        if i > 1:  # deep levels are sometimes empty
            ask_empty = rng.random(n) < 0.15
            bid_empty = rng.random(n) < 0.15
            ask_p = np.where(ask_empty, np.nan, ask_p)
            ask_q = np.where(ask_empty, np.nan, ask_q)
            bid_p = np.where(bid_empty, np.nan, bid_p)
            bid_q = np.where(bid_empty, np.nan, bid_q)
        cols[f"ask_price_{i}"] = ask_p
        cols[f"ask_size_{i}"] = ask_q
        cols[f"bid_price_{i}"] = bid_p
        cols[f"bid_size_{i}"] = bid_q
    cols["price"] = np.where(cols["direction"] > 0, cols["bid_price_1"], cols["ask_price_1"])
    cols["halt"] = np.zeros(n, dtype=bool)
    day_no = np.minimum(np.arange(n) * days // max(n, 1), days - 1)
    dates = pd.bdate_range("2012-06-21", periods=days)
    cols["day"] = np.asarray(dates[day_no])
    stamps = dates[day_no] + pd.Timedelta(hours=9, minutes=30) + pd.to_timedelta(np.arange(n), unit="ms")
    return pd.DataFrame(cols, index=pd.DatetimeIndex(stamps, name="time"))


@pytest.fixture(scope="session")
def lobster_frame():
    """Factory: ``lobster_frame(n, levels=3, seed=0, days=1)``."""
    return make_lobster_frame
