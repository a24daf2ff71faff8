"""The exact oracle under book costs: brute force on short random books, a plain O(S^2) DP on real GOOG slices,
and no strategy above it."""

from __future__ import annotations

import importlib.util
import itertools
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench import load_lobster
from signalbench.engine.book import book_backtest
from signalbench.engine.book_inputs import as_book
from signalbench.engine.book_oracle import book_oracle_nb

_spec = importlib.util.spec_from_file_location("book_reference", Path(__file__).with_name("book_reference.py"))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)
_spec2 = importlib.util.spec_from_file_location("test_book", Path(__file__).with_name("test_book.py"))
tb = importlib.util.module_from_spec(_spec2)
_spec2.loader.exec_module(tb)
_spec3 = importlib.util.spec_from_file_location("book_oracle_dense", Path(__file__).with_name("book_oracle_dense.py"))
dense = importlib.util.module_from_spec(_spec3)
sys.modules["book_oracle_dense"] = dense  # numba's cache finds the kernels' module by its name
_spec3.loader.exec_module(dense)


def quiet_backtest(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return book_backtest(*args, mode="additive", periods_per_year=252, **kwargs)


def brute_force(book, price, size, policy, penalty, fee, delay, close):
    """Best total over every whole-share holding path, enumerated, with costs from the Python walk."""
    n = len(price)
    mids = [ref.mid_of(book, t) for t in range(n)]
    x = np.r_[0.0, price[1:] / price[:-1] - 1.0]
    cost = {}  # (t, delta) -> (fraction of notional, executed delta) or None when the depth forbids it
    for t in range(n):
        for d in range(-2 * size, 2 * size + 1):
            if d == 0:
                cost[t, d] = (0.0, 0)
                continue
            done, dollars, short = ref.trade(book, t, d, policy, penalty)
            if short and policy != "penalty":
                cost[t, d] = None
            else:
                total = dollars + abs(done) * mids[t] * Fraction(fee) / 10_000
                cost[t, d] = (float(total / (size * mids[t])), done)
    best = -np.inf
    for path in itertools.product(range(-size, size + 1), repeat=n):
        h, total, ok = 0, 0.0, True
        for t in range(n):
            total += h / size * x[t]
            want = path[t] if t >= delay else 0
            if close and t == n - 1:
                d = -h
                if d != 0:  # the close goes as far as the depth allows
                    done, dollars, short = ref.trade(book, t, d, policy, penalty)
                    total -= float((dollars + abs(done) * mids[t] * Fraction(fee) / 10_000) / (size * mids[t]))
                break
            c = cost[t, want - h]
            if c is None:
                ok = False
                break
            total -= c[0]
            h = want
        if ok:
            best = max(best, total)
    return best


@given(
    tb.books(max_n=4, max_levels=3),
    st.integers(1, 3),
    st.sampled_from(ref.POLICIES),
    st.floats(0.0, 30.0),
    st.floats(0.0, 5.0),
    st.integers(0, 1),
    st.booleans(),
    st.lists(st.one_of(st.just(0.0), st.floats(-0.01, 0.01)), min_size=4, max_size=4),  # flat runs: one block
)
def test_oracle_equals_brute_force_on_short_random_books(rows, size, policy, penalty, fee, delay, close, steps):
    rows = [tuple([(p, min(s, 2)) for p, s in side] for side in row) for row in rows]  # shallow: depth matters
    book = tb.make_book(rows)
    n = len(rows)
    price = 100.0 * np.cumprod(1.0 + np.array(steps[:n]))
    res = quiet_backtest(
        price,
        np.zeros(n),
        book,
        size=size,
        unfilled=policy,
        penalty_bps=penalty,
        fee_bps=fee,
        delay=delay,
        close_at_end=close,
    )
    want = brute_force(book, price, size, policy, penalty, fee, delay, close)
    assert res.stats.loc["oracle_return_additive"].iloc[0] == pytest.approx(want, rel=1e-9, abs=1e-12)


@given(tb.cases(), st.sampled_from(["partial", "penalty"]), st.integers(0, 2))
def test_no_strategy_beats_the_book_oracle(case, policy, delay):
    rows, pos, size, empty = case
    book = tb.make_book(rows, empty)
    n = len(rows)
    price = np.array([float(ref.mid_of(book, t)) for t in range(n)]) * np.linspace(1.0, 1.01, n)
    res = quiet_backtest(price, pos, book, size=size, unfilled=policy, penalty_bps=3.0, delay=delay)
    total = res.stats.loc["total_return_additive"].to_numpy()
    oracle = res.stats.loc["oracle_return_additive"].to_numpy()
    assert (total <= oracle + 1e-12).all()
    eff = res.stats.loc["signal_efficiency"].to_numpy()
    assert not (eff > 1).any()


@given(
    tb.books(max_n=25, max_levels=4),
    st.integers(1, 300),
    st.integers(0, 2),
    st.floats(0.0, 30.0),
    st.floats(0.0, 5.0),
    st.integers(0, 3),
    st.booleans(),
    st.lists(st.one_of(st.just(0.0), st.floats(-0.01, 0.01)), min_size=25, max_size=25),
)
def test_the_oracle_on_runs_equals_the_dense_dp(rows, size, policy, penalty, fee, first, close, steps):
    """The value function kept as runs of equal increments gives the dense DP's optimum (its first kernel)."""
    b = as_book(tb.make_book(rows), len(rows), None)
    price = (100.0 * np.cumprod(1.0 + np.array(steps[: len(rows)])))[:, None]
    args = (price, 0, first, size, fee / 1e4, policy, penalty, close, b.ask_px, b.ask_sz, b.bid_px, b.bid_sz)
    assert book_oracle_nb(*args) == pytest.approx(dense.dense_oracle_nb(*args), rel=1e-9, abs=1e-12)


def numpy_dp(part, price, size, fee_bps, states=None):
    """The O(S^2)-per-row DP over every holding in [-S, S] (or only ``states``), costs from per-share marginals."""
    ask_px = part[[f"ask_price_{i}" for i in range(1, 6)]].to_numpy()
    ask_sz = part[[f"ask_size_{i}" for i in range(1, 6)]].to_numpy().astype(int)
    bid_px = part[[f"bid_price_{i}" for i in range(1, 6)]].to_numpy()
    bid_sz = part[[f"bid_size_{i}" for i in range(1, 6)]].to_numpy().astype(int)
    h = np.arange(-size, size + 1)
    v = np.where(h == 0, 0.0, -np.inf)
    x = np.r_[0.0, price[1:] / price[:-1] - 1.0]
    delta = h[None, :] - h[:, None]  # [from, to]
    for t in range(len(price)):
        mid = (ask_px[t, 0] + bid_px[t, 0]) / 2
        buy = np.cumsum(np.repeat(ask_px[t] - mid, ask_sz[t]) / mid + fee_bps / 1e4)[: 2 * size] / size
        sell = np.cumsum(np.repeat(mid - bid_px[t], bid_sz[t]) / mid + fee_bps / 1e4)[: 2 * size] / size
        table = np.full(4 * size + 1, -np.inf)  # -cost of delta, -inf beyond the displayed depth
        table[2 * size] = 0.0
        table[2 * size + 1 : 2 * size + 1 + buy.size] = -buy
        table[2 * size - sell.size : 2 * size] = -sell[::-1]
        a = v + h / size * x[t]
        v = np.max(a[:, None] + table[delta + 2 * size], axis=0)
        if states is not None:
            v[~np.isin(h, states)] = -np.inf
    return v.max()


@pytest.fixture(scope="module")
def goog(shared_data):
    return load_lobster(shared_data / "lobster" / "LOBSTER_SampleFile_GOOG_2012-06-21_5.zip")


@pytest.mark.parametrize(("start", "size"), [(5_000, 40), (60_000, 150)])
def test_oracle_equals_a_plain_dp_on_real_slices_and_bounds_a_grid(goog, start, size):
    part = goog.iloc[start : start + 300]
    mid = ((part["ask_price_1"] + part["bid_price_1"]) / 2).to_numpy()
    price = mid
    want = numpy_dp(part, price, size, 0.5)
    # a grid of exposures: the naive oracle scaled, and a random walk, plus the three-state optimum's level
    naive = np.r_[np.sign(np.diff(price)), 0.0]
    rng = np.random.default_rng(start)
    cols = [naive * a for a in (0.1, 0.25, 0.5, 1.0)] + [np.clip(np.cumsum(rng.normal(0, 0.2, 300)), -1, 1)]
    res = quiet_backtest(price, np.column_stack(cols), part, size=size, fee_bps=0.5)
    oracle = res.stats.loc["oracle_return_additive"].to_numpy()
    assert oracle == pytest.approx(np.full(len(cols), want), rel=1e-9)
    assert (res.stats.loc["total_return_additive"].to_numpy() <= oracle).all()
    # holding only {-S, 0, S} (the linear-cost oracle's states) is one of the paths: never better
    assert numpy_dp(part, price, size, 0.5, states=[-size, 0, size]) <= want + 1e-12
