"""Statistics against empyrical-reloaded (an independent implementation) and its published fixture values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from signalbench import backtest
from signalbench.engine import (
    annual_return,
    annual_volatility,
    calmar_ratio,
    max_drawdown,
    sharpe_ratio,
    sortino_ratio,
)
from tests.conftest import require_module

empyrical = require_module("empyrical")

# empyrical's own test fixture (daily returns in percent) and the values its tests publish for it
MIXED = np.array([np.nan, 1.0, 10.0, -4.0, 2.0, 3.0, 2.0, 1.0, -10.0]) / 100


def test_mixed_returns_published_values():
    assert sharpe_ratio(MIXED, 252) == pytest.approx(1.7238613961706866, rel=1e-12)
    assert sortino_ratio(MIXED, 252) == pytest.approx(2.605531251673693, rel=1e-12)
    assert max_drawdown(MIXED) == pytest.approx(-0.1, rel=1e-12)
    assert annual_return(MIXED, 252) == pytest.approx(1.9135925373194231, rel=1e-12)
    assert annual_volatility(MIXED, 252) == pytest.approx(0.9136465399704637, rel=1e-12)
    assert calmar_ratio(MIXED, 252) == pytest.approx(19.135925373194233, rel=1e-12)


def test_nan_handling_is_documented_behaviour():
    # NaN is skipped by moments but counts as a flat period for compounding and annualization
    with_nan = MIXED
    without = MIXED[1:]
    assert sharpe_ratio(with_nan, 252) == pytest.approx(sharpe_ratio(without, 252), rel=1e-14)
    assert annual_return(with_nan, 252) != pytest.approx(annual_return(without, 252), rel=1e-6)
    # nine periods passed, one of them without an observation
    assert annual_return(with_nan, 252) == pytest.approx(np.prod(1 + without) ** (252 / 9) - 1, rel=1e-12)


returns_arrays = arrays(
    np.float64,
    st.integers(0, 300),
    elements=st.floats(-0.5, 0.5, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-8),
)


@given(returns_arrays)
def test_against_empyrical_random(r):
    cases = [
        (sharpe_ratio(r, 252), empyrical.sharpe_ratio(r)),
        (sortino_ratio(r, 252), empyrical.sortino_ratio(r)),
        (annual_volatility(r, 252), empyrical.annual_volatility(r)),
        (annual_return(r, 252), empyrical.annual_return(r)),
        (max_drawdown(r), empyrical.max_drawdown(r)),
        (calmar_ratio(r, 252), empyrical.calmar_ratio(r)),
    ]
    for ours, theirs in cases:
        if np.isnan(theirs):
            assert np.isnan(ours)
        elif np.isinf(theirs):
            assert ours == theirs
        else:
            assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "r",
    [
        np.array([]),
        np.array([0.01]),
        np.array([0.01, 0.01, 0.01]),
        np.array([-0.01, -0.01]),
        np.zeros(10),
        np.array([0.05, -0.02]),
        np.array([np.nan, np.nan, 0.01, 0.02]),
        np.array([0.01, 0.02, 0.03]),  # no negative return: Sortino is +inf
    ],
)
def test_edge_cases_agree_with_empyrical(r):
    pairs = {
        "sharpe": (sharpe_ratio(r, 252), empyrical.sharpe_ratio(r)),
        "sortino": (sortino_ratio(r, 252), empyrical.sortino_ratio(r)),
        "vol": (annual_volatility(r, 252), empyrical.annual_volatility(r)),
        "mdd": (max_drawdown(r), empyrical.max_drawdown(r)),
    }
    if len(r):
        pairs["calmar"] = (calmar_ratio(r, 252), empyrical.calmar_ratio(r))
        pairs["annual"] = (annual_return(r, 252), empyrical.annual_return(r))
    for name, (ours, theirs) in pairs.items():
        if np.isnan(theirs):
            assert np.isnan(ours), name
        else:
            assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15), name


def test_dataframe_input_gives_series_per_column():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(0.001, 0.01, (250, 3)), columns=["a", "b", "c"])
    ours = sharpe_ratio(frame, 252)
    assert isinstance(ours, pd.Series) and list(ours.index) == ["a", "b", "c"]
    for col in frame:
        assert ours[col] == pytest.approx(empyrical.sharpe_ratio(frame[col].to_numpy()), rel=1e-12)


def test_backtest_stats_match_empyrical_on_its_returns():
    rng = np.random.default_rng(2)
    idx = pd.bdate_range("2023-01-02", periods=400)
    price = pd.Series(100 * np.cumprod(1 + rng.normal(0.0005, 0.01, 400)), index=idx)
    position = pd.DataFrame(rng.uniform(-1, 1, (400, 2)), index=idx, columns=["x", "y"])
    res = backtest(price, position, fee_bps=2.0)
    assert res.periods_per_year == 252  # daily weekday bars
    for col in position:
        r = res.returns[col].to_numpy()
        st_ = res.stats[col]
        assert st_["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r), rel=1e-12)
        assert st_["sortino"] == pytest.approx(empyrical.sortino_ratio(r), rel=1e-12)
        assert st_["max_drawdown"] == pytest.approx(empyrical.max_drawdown(r), rel=1e-12)
        assert st_["ann_return_compound"] == pytest.approx(empyrical.annual_return(r), rel=1e-12)
        assert st_["ann_volatility"] == pytest.approx(empyrical.annual_volatility(r), rel=1e-12)
        assert st_["calmar"] == pytest.approx(empyrical.calmar_ratio(r), rel=1e-12)
        assert st_["max_drawdown"] == pytest.approx(res.drawdown[col].min(), rel=1e-15)
