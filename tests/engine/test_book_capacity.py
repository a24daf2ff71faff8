"""The capacity curve: net return and efficiency per size from one call, and where the net return crosses zero."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from signalbench.engine.book import book_backtest
from signalbench.engine.book_curve import book_capacity, capacity_of

_spec = importlib.util.spec_from_file_location("test_book", Path(__file__).with_name("test_book.py"))
tb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tb)


def test_capacity_is_the_interpolated_zero_crossing():
    net = pd.DataFrame(
        {
            "a": [0.02, 0.01, -0.01],
            "b": [0.03, 0.02, 0.01],
            "c": [-0.01, 0.02, 0.01],
            "d": [0.01, 0.0, -1.0],
            "e": [0.0, 0.0, 0.0],
        },
        index=pd.Index([1, 10, 100], name="size"),
    )
    cap = capacity_of(net)
    assert cap["a"] == pytest.approx(10 + 90 * 0.01 / 0.02)  # 55
    assert cap["b"] == np.inf
    assert cap["c"] == 0.0
    assert cap["d"] == 10.0
    assert np.isnan(cap["e"])  # never trades


def test_curve_equals_one_backtest_per_size_and_shrinks_with_depth():
    # the price steps up 30 bps every other row; the book is 5 shares a level, each level 10 bps further out
    n = 40
    mid = 100.0 * np.cumprod(np.r_[1.0, np.where(np.arange(1, n) % 2 == 0, 1.003, 1.0)])
    rows = [([(m + 0.01 + 0.1 * i, 5) for i in range(4)], [(m - 0.01 - 0.1 * i, 5) for i in range(4)]) for m in mid]
    rows = [([(round(p, 4), s) for p, s in a], [(round(p, 4), s) for p, s in b]) for a, b in rows]
    book = tb.make_book(rows)
    mids = np.array([(a[0][0] + b[0][0]) / 2 for a, b in rows])
    up = np.r_[np.diff(mids) > 0, False]
    pos = np.column_stack([up.astype(float), 0.5 * up])  # long exactly before each step up
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curve = book_capacity(mids, pos, book, sizes=[20, 2, 40, 10], unfilled="penalty", penalty_bps=20.0)
        for size in (2, 10, 20, 40):
            one = book_backtest(mids, pos, book, size=size, unfilled="penalty", penalty_bps=20.0, mode="additive")
            np.testing.assert_array_equal(curve.net_return.loc[size], one.stats.loc["total_return_additive"])
            np.testing.assert_array_equal(curve.signal_efficiency.loc[size], one.stats.loc["signal_efficiency"])
    assert list(curve.net_return.index) == [2, 10, 20, 40]
    net = curve.net_return[0].to_numpy()
    assert net[0] > net[1] > net[2] > net[3]  # deeper levels cost more per share
    assert curve.net_return[0].iloc[0] > 0 > curve.net_return[0].iloc[-1]
    assert 2 < curve.capacity[0] < 40
    assert curve.capacity[1] > curve.capacity[0]  # half the exposure: twice the size for the same shares
    assert (curve.signal_efficiency.to_numpy() <= 1).all()


@pytest.mark.parametrize(
    ("sizes", "kind"), [([], ValueError), ([1, 1], ValueError), ([0, 5], ValueError), ("10", TypeError)]
)
def test_bad_sizes_are_named(sizes, kind):
    book = tb.make_book([([(10.01, 1)], [(10.00, 1)])] * 3)
    with pytest.raises(kind, match="sizes: expected a non-empty list of distinct whole sizes"):
        book_capacity(np.full(3, 10.0), np.zeros(3), book, sizes=sizes)


def test_a_book_converted_once_prices_like_its_frame_and_is_checked_against_the_prices():
    from signalbench.engine.book_inputs import as_book

    index = pd.date_range("2024-01-02 10:00", periods=6, freq="s")
    rows = [([(10.02, 3), (10.05, 4)], [(10.00, 2), (9.97, 5)])] * 6
    book = tb.make_book(rows, index=index)
    price = pd.Series(np.linspace(10.01, 10.04, 6), index=index)
    pos = pd.Series([0.0, 1.0, 1.0, -1.0, 0.5, 0.0], index=index)
    kw = {"size": 6, "fee_bps": 0.5, "mode": "additive", "periods_per_year": 252}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_frame = book_backtest(price, pos, book, **kw).stats
        converted = as_book(book, 6, None)
        pd.testing.assert_frame_equal(book_backtest(price, pos, converted, **kw).stats, from_frame)
        later = index + pd.Timedelta("1ms")
        with pytest.raises(ValueError, match="book's index: expected the price's index"):
            book_backtest(price.set_axis(later), pos.set_axis(later), converted, **kw)
