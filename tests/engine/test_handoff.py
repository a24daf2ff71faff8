"""``BacktestResult.to_vectorbt()``: the same portfolio in vectorbt (equal without costs, bounded apart with)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signalbench import backtest
from signalbench.engine.handoff import INIT_CASH
from tests.conftest import require_module

vbt = require_module("vectorbt")


@st.composite
def cases(draw):
    n = draw(st.integers(2, 60))
    m = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # moves of at least 1e-5 and targets of at least 1e-4: below that vectorbt's float tolerances skip orders
    moves = rng.uniform(1e-5, 0.03, n) * rng.choice([-1.0, 0.0, 1.0], n)
    moves[0] = 0.0
    price = 100 * np.cumprod(1 + moves)
    position = rng.choice([-1.0, -0.4, 0.0, 0.25, 1.0], (n, m))
    return price, position, draw(st.integers(0, 2)), draw(st.booleans())


def run(price, position, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = backtest(price, position, periods_per_year=252, **kw)
        pf = res.to_vectorbt()
        return res, pf.returns().to_numpy(), pf.value().to_numpy()


@settings(max_examples=30)  # vectorbt costs ~0.3 s an example
@given(cases())
def test_equal_to_vectorbt_without_costs(case):
    price, position, delay, close = case
    res, returns, value = run(price, position, delay=delay, close_at_end=close)
    np.testing.assert_allclose(res.returns, returns, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.equity, value / INIT_CASH, rtol=1e-9, atol=1e-9)


@settings(max_examples=20)
@given(cases(), st.floats(0.01, 20.0), st.floats(0.0, 10.0))
def test_with_costs_they_differ_inside_the_derived_bound(case, fee_bps, half_spread_bps):
    price, position, delay, close = case
    res, returns, _ = run(price, position, fee_bps=fee_bps, half_spread_bps=half_spread_bps, delay=delay)
    k = (fee_bps + half_spread_bps) / 1e4
    x = np.r_[0.0, price[1:] / price[:-1] - 1.0][:, None]
    assert np.all(np.abs(res.returns - returns) <= k * (6.5 * np.abs(x) + 2.2 * k) + 1e-10)


def test_pandas_labels_and_drift_costs():
    idx = pd.date_range("2024-01-01", periods=200, freq="D")
    rng = np.random.default_rng(1)
    price = pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.02, 200)), index=idx)
    position = pd.DataFrame({"half": 0.5, "flip": np.where(np.arange(200) % 10 < 5, 1.0, -1.0)}, index=idx)
    res, returns, _ = run(price, position, fee_bps=10)
    pf = res.to_vectorbt(freq="1D")
    assert list(pf.wrapper.columns) == ["half", "flip"] and pf.wrapper.index.equals(idx)
    # a constant half-long target: vectorbt pays for rebalancing the drift, signalbench (constant notional) not
    assert res.stats.loc["cost_paid", "half"] == pytest.approx(5e-4)
    assert np.abs(res.returns["half"].to_numpy() - returns[:, 0]).max() > 1e-7
