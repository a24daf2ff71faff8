"""The book cost model against a plain Python walk of the book, its depth policies, and its input checks."""

from __future__ import annotations

import importlib.util
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench.engine.book import book_backtest

_spec = importlib.util.spec_from_file_location("book_reference", Path(__file__).with_name("book_reference.py"))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

EMPTY = ("nan", "marker")


def make_book(rows, empty="nan", index=None):
    """A book frame from rows of (asks, bids), each a list of (price, size) best first; missing levels are empty."""
    levels = max(max(len(a), len(b)) for a, b in rows)
    cols = {}
    for i in range(levels):
        for name, k, mark in (("ask", 0, 9_999_999_999), ("bid", 1, -9_999_999_999)):
            px, sz = [], []
            for row in rows:
                lv = row[k]
                if i < len(lv):
                    px.append(lv[i][0])
                    sz.append(lv[i][1])
                elif empty == "nan":
                    px.append(np.nan)
                    sz.append(np.nan)
                else:  # LOBSTER's own marker, in dollars, with size 0
                    px.append(mark / 10_000)
                    sz.append(0.0)
            cols[f"{name}_price_{i + 1}"] = np.array(px, dtype=float)
            cols[f"{name}_size_{i + 1}"] = np.array(sz, dtype=float)
    order = [f"{s}_{k}_{i}" for i in range(1, levels + 1) for s in ("ask", "bid") for k in ("price", "size")]
    return pd.DataFrame({c: cols[c] for c in order}, index=index)


@st.composite
def books(draw, max_n=8, max_levels=4):
    n = draw(st.integers(1, max_n))
    rows = []
    for _ in range(n):
        bid = draw(st.integers(500_000, 600_000))  # ticks
        ask = bid + draw(st.integers(1, 30))
        sides = []
        for best, sign in ((ask, 1), (bid, -1)):
            k = draw(st.integers(1, max_levels))
            steps = draw(st.lists(st.integers(1, 50), min_size=k, max_size=k))
            sizes = draw(st.lists(st.integers(1, 60), min_size=k, max_size=k))
            prices = best + sign * (np.cumsum(steps) - steps[0])
            sides.append([(int(p) / 10_000, s) for p, s in zip(prices, sizes)])
        rows.append(tuple(sides))
    return rows


@st.composite
def cases(draw):
    rows = draw(books())
    n = len(rows)
    m = draw(st.integers(1, 3))
    pos = np.array(
        draw(st.lists(st.sampled_from([-1.0, -0.5, -0.25, 0.0, 0.3, 0.5, 1.0]), min_size=n * m, max_size=n * m))
    ).reshape(n, m)
    size = draw(st.integers(1, 150))
    return rows, pos, size, draw(st.sampled_from(EMPTY))


def expected_path(rows_frame, pos, size, policy, penalty, delay, close):
    n = len(pos)
    src = np.arange(n) - delay
    return [ref.simulate(rows_frame, pos[:, j], src, size, policy, penalty, close) for j in range(pos.shape[1])]


@given(
    cases(), st.sampled_from(ref.POLICIES), st.floats(0.0, 50.0), st.integers(0, 2), st.booleans(), st.floats(0.0, 5.0)
)
def test_book_backtest_equals_a_python_walk_of_the_book(case, policy, penalty, delay, close, fee):
    rows, pos, size, empty = case
    book = make_book(rows, empty)
    mid = np.array([float(ref.mid_of(book, t)) for t in range(len(rows))])
    want = expected_path(book, pos, size, policy, penalty, delay, close)
    kwargs = dict(size=size, unfilled=policy, penalty_bps=penalty, delay=delay, close_at_end=close, fee_bps=fee)
    if any(w is None for w in want):
        with pytest.raises(ValueError, match="unfilled: expected orders within the displayed depth"):
            book_backtest(mid, pos, book, mode="additive", periods_per_year=252, **kwargs)
        return
    with warnings.catch_warnings():  # short samples and flat columns are noted; not the subject here
        warnings.simplefilter("ignore")
        res = book_backtest(mid, pos, book, mode="additive", periods_per_year=252, **kwargs)
    for j, (holdings, costs, short) in enumerate(want):
        np.testing.assert_array_equal(res.exposure[:, j], holdings / size)
        fee_dollars = [
            abs(h - p) * Fraction(fee) / 10_000 * Fraction(m_)
            for h, p, m_ in zip(holdings, np.r_[0, holdings[:-1]], [ref.mid_of(book, t) for t in range(len(rows))])
        ]
        dollars = np.array([float(c + f) for c, f in zip(costs, fee_dollars)])
        np.testing.assert_allclose(res.costs[:, j] * size * mid, dollars, rtol=1e-9, atol=1e-12)
        assert res.stats.loc["rows_short_of_depth"].iloc[j] == short
        parts = res.stats.loc[["cost_spread", "cost_depth", "cost_fees"]].iloc[:, j]
        assert parts.sum() == pytest.approx(res.stats.loc["cost_paid"].iloc[j], rel=1e-9, abs=1e-15)
        assert (parts >= -1e-15).all()


def test_walk_takes_levels_in_order_and_measures_against_the_mid():
    # ask 100.02 x 3, 100.05 x 5; bid 100.00 x 4; mid 100.01. Buying 6: 3 at +0.01, 3 at +0.04 -> 0.15 dollars.
    book = make_book([([(100.02, 3), (100.05, 5)], [(100.00, 4)])] * 2)
    mid = np.array([100.01, 100.01])
    res = book_backtest(mid, np.array([0.0, 1.0]), book, size=6, mode="additive", periods_per_year=252)
    assert res.costs[1] * 6 * 100.01 == pytest.approx(0.15, rel=1e-12)
    # of which 6 x 0.01 is the spread and 3 x 0.03 the depth beyond the best level
    assert res.stats.loc["cost_spread"].iloc[0] * 6 * 100.01 == pytest.approx(0.06, rel=1e-12)
    assert res.stats.loc["cost_depth"].iloc[0] * 6 * 100.01 == pytest.approx(0.09, rel=1e-12)
    assert res.stats.loc["cost_fees"].iloc[0] == 0.0
    # selling 6 from flat: 4 at -0.01, then 2 beyond the depth
    short = np.array([0.0, -1.0])
    part = book_backtest(mid, short, book, size=6, unfilled="partial", mode="additive", periods_per_year=252)
    assert part.exposure[1] == pytest.approx(-4 / 6)
    assert part.costs[1] * 6 * 100.01 == pytest.approx(0.04, rel=1e-12)
    pen = book_backtest(
        mid, short, book, size=6, unfilled="penalty", penalty_bps=10.0, mode="additive", periods_per_year=252
    )
    assert pen.exposure[1] == -1.0
    # 4 x 0.01 + 2 x (0.01 + 10 bps of 100.01)
    assert pen.costs[1] * 6 * 100.01 == pytest.approx(0.04 + 2 * (0.01 + 0.10001), rel=1e-12)
    assert part.stats.loc["rows_short_of_depth"].iloc[0] == 1
    with pytest.raises(ValueError, match=r"column 0 beyond the book's depth at row 1"):
        book_backtest(mid, short, book, size=6, unfilled="raise")


def test_partial_fills_retry_on_the_next_rows():
    book = make_book([([(10.01, 2)], [(10.00, 2)])] * 4)
    mid = np.full(4, 10.005)
    res = book_backtest(mid, np.array([1.0, 1.0, 1.0, 0.0]), book, size=5, mode="additive", periods_per_year=252)
    np.testing.assert_array_equal(res.exposure * 5, [2, 4, 5, 3])
    assert res.stats.loc["rows_short_of_depth"].iloc[0] == 3


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([([(10.00, 1)], [(10.00, 1)])], r"best ask 10.0 <= best bid 10.0 at row 0.*crossed='drop'"),
        ([([(10.00, 1)], [(10.01, 1)])], r"best ask 10.0 <= best bid 10.01 at row 0"),
        ([([], [(10.0, 1)])], r"no ask at level 1 at row 0"),
    ],
)
def test_crossed_locked_and_one_sided_rows_are_refused(rows, message):
    book = make_book([([(10.01, 1)], [(10.00, 1)])] + rows)
    with pytest.raises(ValueError, match=message.replace("row 0", "row 1")):
        book_backtest(np.full(2, 10.0), np.zeros(2), book, size=1)


def test_bad_arguments_name_themselves():
    book = make_book([([(10.01, 1)], [(10.00, 1)])] * 3)
    price, pos = np.full(3, 10.0), np.zeros(3)
    with pytest.raises(ValueError, match="size: expected whole shares >= 1"):
        book_backtest(price, pos, book, size=0)
    with pytest.raises(ValueError, match="size: expected whole shares >= 1"):
        book_backtest(price, pos, book, size=1.5)
    with pytest.raises(TypeError, match="size: expected whole shares"):
        book_backtest(price, pos, book, size="10")
    with pytest.raises(ValueError, match="unfilled"):
        book_backtest(price, pos, book, size=1, unfilled="wait")
    with pytest.raises(ValueError, match="book: expected 4 rows"):
        book_backtest(np.full(4, 10.0), np.zeros(4), book, size=1)
    with pytest.raises(ValueError, match="book: expected a frame with columns ask_price_i"):
        book_backtest(price, pos, book.rename(columns={"ask_price_1": "ask"}), size=1)
    with pytest.raises(TypeError, match="book: expected a pandas DataFrame"):
        book_backtest(price, pos, book.to_numpy(), size=1)
    bad = book.copy()
    bad.loc[bad.index[2], "bid_size_1"] = 1.5
    with pytest.raises(ValueError, match=r"book\['bid_size_1'\]: expected whole shares .* at row 2"):
        book_backtest(price, pos, bad, size=1)
    with pytest.raises(ValueError, match="latency: expected latency or delay, not both"):
        book_backtest(price, pos, book, size=1, delay=1, latency="1ms")
    with pytest.raises(ValueError, match="latency: expected a book indexed by time"):
        book_backtest(price, pos, book, size=1, latency="1ms")
