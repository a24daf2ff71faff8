"""``notional``: the amount traded at exposure 1, converted once to whole shares at the mid of the first row an
order can execute on; exactly one of ``size`` and ``notional``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signalbench.engine.book import book_backtest
from tests.engine.test_book import make_book

# mids 10.005, 20.005, 40.005 (one level each side, deep enough for every order below)
ROWS = [([(10.01, 10_000)], [(10.00, 10_000)]), ([(20.01, 10_000)], [(20.00, 10_000)])] + [
    ([(40.01, 10_000)], [(40.00, 10_000)])
] * 4
MID = np.array([10.005, 20.005, 40.005, 40.005, 40.005, 40.005])
POS = np.array([[1.0, -1.0], [1.0, -0.5], [0.0, 0.5], [-1.0, 1.0], [-1.0, 0.0], [0.0, 0.0]])


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.stats, b.stats)
    np.testing.assert_array_equal(np.asarray(a.exposure), np.asarray(b.exposure))


def test_notional_is_the_shares_it_buys_at_the_first_executable_mid():
    book = make_book(ROWS)
    res = book_backtest(MID, POS, book, notional=5_000.0, mode="additive", periods_per_year=252)
    shares = round(5_000.0 / 10.005)  # 499.75... -> 500 shares at row 0's mid
    _same(res, book_backtest(MID, POS, book, size=shares, mode="additive", periods_per_year=252))
    assert res.params["size"] == [500] and res.params["notional"] == 5_000.0


def test_with_a_delay_the_mid_of_the_first_execution_row_converts_it():
    book = make_book(ROWS)
    res = book_backtest(MID, POS, book, notional=5_000.0, delay=2, mode="additive", periods_per_year=252)
    assert res.params["size"] == [round(5_000.0 / 40.005)]  # orders decided at row 0 execute at row 2
    _same(res, book_backtest(MID, POS, book, size=125, delay=2, mode="additive", periods_per_year=252))


def test_notional_per_column():
    book = make_book(ROWS)
    res = book_backtest(MID, POS, book, notional=[1_000.0, 3_000.0], mode="additive", periods_per_year=252)
    assert res.params["size"] == [100, 300]
    _same(res, book_backtest(MID, POS, book, size=[100, 300], mode="additive", periods_per_year=252))


def test_exactly_one_of_size_and_notional_and_bad_notionals_are_named():
    book = make_book(ROWS)
    with pytest.raises(TypeError, match="size, notional: expected exactly one .*, got both"):
        book_backtest(MID, POS, book, size=10, notional=100.0)
    with pytest.raises(TypeError, match="size, notional: expected exactly one .*, got neither"):
        book_backtest(MID, POS, book)
    for bad in (0.0, -5.0, np.nan, np.inf):
        with pytest.raises(
            ValueError, match=rf"notional: expected an amount > 0: a number, or one per column, got {bad}"
        ):
            book_backtest(MID, POS, book, notional=bad)
    with pytest.raises(TypeError, match="notional: expected an amount > 0"):
        book_backtest(MID, POS, book, notional="5000")
    with pytest.raises(ValueError, match=r"notional: expected an amount > 0: a number, or one per column \(2"):
        book_backtest(MID, POS, book, notional=[1.0, 2.0, 3.0])
    with pytest.raises(
        ValueError,
        match=r"notional: expected at least half a share's worth at the mid \(10.005 at row 0\), got 4.0 \(float\); "
        "raise notional, or give size in shares",
    ):
        book_backtest(MID, POS, book, notional=4.0)
