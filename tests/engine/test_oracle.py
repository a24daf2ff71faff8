"""The exact cost-aware oracle: brute force, an upper bound on every strategy, and the cost monotonicity."""

from __future__ import annotations

import contextlib
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench import naive_oracle_positions, oracle_positions
from signalbench._validation import EmptyResultWarning
from tests.conftest import backtest_of_a_tiny_sample as backtest


def additive_total(price, exposure, k):
    """Total additive net return of an *executed* exposure path, written as a plain loop (independent)."""
    total, prev = 0.0, 0.0
    for t in range(len(price)):
        if t > 0:
            total += prev * (price[t] / price[t - 1] - 1.0)
        total -= abs(exposure[t] - prev) * k[t]
        prev = exposure[t]
    return total


@st.composite
def small_cases(draw, max_n=7):
    n = draw(st.integers(1, max_n))
    steps = np.array(draw(st.lists(st.floats(-0.05, 0.05, allow_nan=False), min_size=n, max_size=n)))
    price = 100.0 * np.cumprod(1.0 + steps)
    fee = draw(st.floats(0.0, 30.0))
    half_spread = np.array(draw(st.lists(st.floats(0.0, 30.0), min_size=n, max_size=n)))
    slippage = draw(st.floats(0.0, 10.0))
    delay = draw(st.integers(0, 3))
    close = draw(st.booleans())
    return price, fee, half_spread, slippage, delay, close


@given(small_cases())
def test_oracle_equals_brute_force(case):
    price, fee, hs, slip, delay, close = case
    n = len(price)
    k = (fee + hs + slip) / 1e4
    best = -np.inf
    for path in itertools.product((-1.0, 0.0, 1.0), repeat=n):
        e = np.array(path)
        if (delay and np.any(e[:delay] != 0)) or (close and e[-1] != 0):
            continue  # not executable with this latency / forced close
        best = max(best, additive_total(price, e, k))
    costs = {"fee_bps": fee, "half_spread_bps": hs, "slippage_bps": slip}
    nothing = pytest.warns(EmptyResultWarning, match=f"delay={delay} leaves no bar to trade in {n} rows")
    with nothing if delay >= n - int(close) else contextlib.nullcontext():  # no bar left once delayed and closed
        pos = oracle_positions(price, **costs, delay=delay, close_at_end=close)
    assert set(np.unique(pos)) <= {-1.0, 0.0, 1.0}
    res = backtest(price, pos, **costs, delay=delay, close_at_end=close, mode="additive", periods_per_year=252)
    assert res.equity[-1] - 1.0 == pytest.approx(best, rel=1e-12, abs=1e-15)
    assert res.stats.loc["oracle_return_additive"].iloc[0] == pytest.approx(best, rel=1e-12, abs=1e-15)


@given(small_cases(max_n=60), st.data())
def test_no_fractional_strategy_beats_the_oracle(case, data):
    price, fee, hs, slip, delay, close = case
    n = len(price)
    m = 3
    position = np.array(
        data.draw(st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=n * m, max_size=n * m))
    ).reshape(n, m)
    hs = hs.reshape(-1, 1)  # per row, unambiguous even when n == m
    res = backtest(
        price,
        position,
        fee_bps=fee,
        half_spread_bps=hs,
        slippage_bps=slip,
        delay=delay,
        close_at_end=close,
        mode="additive",
        periods_per_year=252,
    )
    totals = res.equity[-1] - 1.0
    oracle = res.stats.loc["oracle_return_additive"].to_numpy()
    assert np.all(totals <= oracle + 1e-12)
    eff = res.stats.loc["signal_efficiency"].to_numpy()
    assert np.all((eff <= 1 + 1e-12) | np.isnan(eff))


@given(small_cases(max_n=60), st.data())
def test_costs_never_increase_pnl(case, data):
    price, fee, hs, slip, delay, close = case
    n = len(price)
    position = np.array(
        data.draw(st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=2 * n, max_size=2 * n))
    ).reshape(n, 2)
    hs = hs.reshape(-1, 1)  # per row, unambiguous even when n == m
    kw = {"delay": delay, "close_at_end": close, "periods_per_year": 252}
    free = backtest(price, position, mode="additive", **kw)
    paid = backtest(price, position, fee_bps=fee, half_spread_bps=hs, slippage_bps=slip, mode="additive", **kw)
    assert np.all(paid.returns <= free.returns)
    assert np.all(paid.equity[-1] <= free.equity[-1])
    assert np.all(paid.stats.loc["oracle_return_additive"] <= free.stats.loc["oracle_return_additive"] + 1e-15)
    for mode in ("compound",):
        f = backtest(price, position, mode=mode, **kw)
        p = backtest(price, position, fee_bps=fee, half_spread_bps=hs, slippage_bps=slip, mode=mode, **kw)
        assert np.all(p.stats.loc["total_return_compound"] <= f.stats.loc["total_return_compound"] + 1e-15)


def test_naive_oracle_is_sign_of_next_move():
    price = np.array([10.0, 11.0, 11.0, 10.5, 12.0])
    np.testing.assert_array_equal(naive_oracle_positions(price), [1.0, 0.0, -1.0, 1.0, 0.0])


def test_oracle_without_costs_equals_naive_total():
    rng = np.random.default_rng(3)
    price = 50 * np.cumprod(1 + rng.normal(0, 0.01, 500))
    naive = backtest(price, naive_oracle_positions(price), mode="additive", periods_per_year=252)
    exact = backtest(price, oracle_positions(price), mode="additive", periods_per_year=252)
    assert exact.equity[-1] == pytest.approx(naive.equity[-1], rel=1e-12)
    assert naive.stats.loc["signal_efficiency"].iloc[0] == pytest.approx(1.0, rel=1e-12)


def test_naive_oracle_loses_to_cost_aware_oracle_under_costs():
    rng = np.random.default_rng(4)
    price = 50 * np.cumprod(1 + rng.normal(0, 2e-4, 2000))
    costs = {"fee_bps": 1.0, "half_spread_bps": 2.0}
    naive = backtest(price, naive_oracle_positions(price), mode="additive", periods_per_year=252, **costs)
    exact = backtest(price, oracle_positions(price, **costs), mode="additive", periods_per_year=252, **costs)
    assert naive.equity[-1] < exact.equity[-1]
    assert naive.stats.loc["signal_efficiency"].iloc[0] < 1.0
    assert exact.stats.loc["signal_efficiency"].iloc[0] == pytest.approx(1.0, rel=1e-12)
    assert exact.stats.loc["n_trades"].iloc[0] < naive.stats.loc["n_trades"].iloc[0]


def test_oracle_stays_flat_when_costs_exceed_every_move():
    price = np.array([100.0, 100.1, 100.0, 100.1, 100.0])
    assert np.all(oracle_positions(price, fee_bps=20.0) == 0.0)


def test_oracle_multi_column_and_pandas_labels():
    import pandas as pd

    rng = np.random.default_rng(5)
    idx = pd.date_range("2024-01-01", periods=100, freq="D")
    price = pd.DataFrame(100 * np.cumprod(1 + rng.normal(0, 0.01, (100, 2)), axis=0), index=idx, columns=["a", "b"])
    pos = oracle_positions(price, fee_bps=[1.0, 5.0])
    assert isinstance(pos, pd.DataFrame) and list(pos.columns) == ["a", "b"] and pos.index.equals(idx)
    for j, fee in enumerate([1.0, 5.0]):
        single = oracle_positions(price.iloc[:, j].to_numpy(), fee_bps=fee)
        np.testing.assert_array_equal(pos.iloc[:, j].to_numpy(), single)


@pytest.mark.parametrize(("delay", "close"), [(0, False), (2, True)])
def test_the_totals_only_oracle_equals_the_total_of_its_path(delay, close):
    # the backtest's oracle row asks for the totals only (no back-pointers, no path): the same optimum, exactly
    from signalbench.engine.oracle import oracle_nb

    rng = np.random.default_rng(7)
    n = 600
    price = (100 * np.cumprod(1 + rng.normal(0, 0.002, (n, 2)), axis=0)).copy(order="F")
    fee, half_spread, slip = np.array([[1.0, 3.0]]), rng.uniform(0, 2, (n, 1)), np.zeros((1, 1))
    path = np.empty((n, 2), order="F")
    with_path = oracle_nb(price, fee, half_spread, slip, delay, close, path)
    totals = oracle_nb(price, fee, half_spread, slip, delay, close, np.empty((0, 2)))
    assert np.array_equal(totals, with_path)
    priced = backtest(
        price, oracle_positions(price, fee_bps=fee[0], half_spread_bps=half_spread[:, 0], delay=delay,
                                close_at_end=close),
        fee_bps=fee[0], half_spread_bps=half_spread[:, 0], delay=delay, close_at_end=close, mode="additive",
        periods_per_year=252,
    )  # fmt: skip
    np.testing.assert_allclose(priced.stats.loc["total_return_additive"].to_numpy(), totals, rtol=1e-12)
    np.testing.assert_allclose(priced.stats.loc["oracle_return_additive"].to_numpy(), totals, rtol=0)
