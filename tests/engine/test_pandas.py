"""Pandas in, pandas out: the index and column names carry through to every output."""

from __future__ import annotations

import numpy as np
import pandas as pd

from signalbench import backtest

SERIES = ("returns", "gross_returns", "costs", "exposure", "equity", "drawdown")


def test_dataframe_positions_on_a_shared_price_series():
    idx = pd.bdate_range("2024-01-01", periods=60)
    rng = np.random.default_rng(0)
    price = pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.01, 60)), index=idx, name="px")
    cols = pd.MultiIndex.from_product([["lstm", "transformer"], [0.55, 0.6]], names=["model", "enter"])
    position = pd.DataFrame(rng.uniform(-1, 1, (60, 4)), index=idx, columns=cols)
    res = backtest(price, position, fee_bps=[1, 2, 3, 4])
    for name in SERIES:
        out = getattr(res, name)
        assert isinstance(out, pd.DataFrame), name
        assert out.index.equals(idx) and out.columns.equals(cols), name
    assert res.stats.columns.equals(cols)
    # the numbers equal the plain-array call
    plain = backtest(price.to_numpy(), position.to_numpy(), fee_bps=[1, 2, 3, 4], periods_per_year=252)
    np.testing.assert_array_equal(res.returns.to_numpy(), plain.returns)
    np.testing.assert_array_equal(res.stats.to_numpy(), plain.stats.to_numpy())


def test_series_in_series_out():
    idx = pd.bdate_range("2024-01-01", periods=30)
    price = pd.Series(np.linspace(100, 110, 30), index=idx)
    position = pd.Series(np.ones(30), index=idx, name="long")
    res = backtest(price, position)
    for name in SERIES:
        out = getattr(res, name)
        assert isinstance(out, pd.Series) and out.index.equals(idx) and out.name == "long", name
    assert list(res.stats.columns) == ["long"]


def test_numpy_1d_in_1d_out_and_2d_in_2d_out():
    price = np.linspace(100, 110, 30)
    r1 = backtest(price, np.ones(30), periods_per_year=252)
    assert r1.returns.shape == (30,)
    r2 = backtest(price, np.ones((30, 1)), periods_per_year=252)
    assert r2.returns.shape == (30, 1)
    np.testing.assert_array_equal(r1.returns, r2.returns[:, 0])


def test_price_frame_columns_name_outputs_when_position_is_plain():
    idx = pd.RangeIndex(5)
    price = pd.DataFrame({"AAPL": np.arange(1.0, 6.0), "MSFT": np.arange(2.0, 7.0)}, index=idx)
    res = backtest(price, np.ones(5), periods_per_year=252)
    assert list(res.returns.columns) == ["AAPL", "MSFT"]
    assert list(res.stats.columns) == ["AAPL", "MSFT"]
