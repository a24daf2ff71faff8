"""Backtesting several configurations adds a deflated Sharpe row; one configuration does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signalbench import backtest
from signalbench.engine.selection import deflated_sharpe
from signalbench.strategies import grid, size_by_confidence


def test_deflated_sharpe_row_only_when_several_columns():
    rng = np.random.default_rng(0)
    price = 100 * np.cumprod(1 + rng.normal(0, 0.01, 500))
    single = backtest(price, rng.uniform(-1, 1, 500), periods_per_year=252)
    assert "deflated_sharpe" not in single.stats.index
    several = backtest(price, rng.uniform(-1, 1, (500, 6)), periods_per_year=252)
    dsr = several.stats.loc["deflated_sharpe"]
    assert np.all((dsr >= 0) & (dsr <= 1))
    best = several.stats.loc["sharpe"].idxmax()
    assert dsr[best] == pytest.approx(deflated_sharpe(several.returns).dsr, rel=1e-12)


def test_noise_grid_is_deflated_and_a_real_edge_survives():
    rng = np.random.default_rng(1)
    n = 3000
    price = 100 * np.cumprod(1 + rng.normal(0, 0.001, n))
    up_next = np.r_[np.diff(price) > 0, False]
    # probabilities: 30 noise models, one with a real (look-ahead planted) edge of 55% accuracy
    noise = rng.uniform(0.3, 0.7, (n, 30))
    informed = np.where(rng.uniform(size=n) < 0.55, up_next, ~up_next) * 0.2 + 0.4
    positions = pd.DataFrame(np.sign(np.c_[noise, informed] - 0.5))
    res = backtest(price, positions, periods_per_year=252)
    dsr = res.stats.loc["deflated_sharpe"].to_numpy()
    assert dsr[-1] > 0.95
    assert np.median(dsr[:-1]) < 0.5


def test_grid_positions_carry_their_parameters_into_stats():
    rng = np.random.default_rng(2)
    n = 400
    price = pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.01, n)), index=pd.bdate_range("2020-01-01", periods=n))
    p_up = rng.uniform(0, 1, n)
    proba = pd.DataFrame({"down": 1 - p_up, "up": p_up}, index=price.index)
    positions = grid(size_by_confidence, proba, scale=[0.5, 1.0], min_edge=[0.0, 0.2])
    res = backtest(price, positions, fee_bps=1)
    assert res.stats.columns.equals(positions.columns)
    assert "deflated_sharpe" in res.stats.index


def test_moments_kernel_matches_scipy():
    from scipy import stats

    from signalbench.engine.selection import _moments

    rng = np.random.default_rng(3)
    x = np.c_[rng.standard_t(4, (500, 3)) * 0.01, np.full(500, 0.002)]
    sr, skew, kurt = _moments(x)
    np.testing.assert_allclose(sr[:3], x[:, :3].mean(0) / x[:, :3].std(0), rtol=1e-12)
    np.testing.assert_allclose(skew[:3], stats.skew(x[:, :3], bias=False), rtol=1e-10)
    np.testing.assert_allclose(kurt[:3], stats.kurtosis(x[:, :3], fisher=False, bias=False), rtol=1e-10)
    assert np.isnan([sr[3], skew[3], kurt[3]]).all()  # constant column
