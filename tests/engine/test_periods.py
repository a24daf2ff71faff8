"""The annualization rule: explicit wins, DatetimeIndex inference, event time, and no silent 252."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from signalbench import AnnualizationWarning, backtest
from signalbench.engine import infer_clock, sharpe_ratio
from signalbench.engine.periods import event_clock_index, resample_to_clock


def us_minutes(days: int, start: str = "2024-03-04") -> pd.DatetimeIndex:
    sessions = pd.bdate_range(start, periods=days)
    return pd.DatetimeIndex(
        np.concatenate([d + pd.Timedelta("09:31:00") + pd.to_timedelta(np.arange(390), "min") for d in sessions])
    )


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (pd.bdate_range("2024-01-01", periods=300), 252),
        (pd.date_range("2024-01-01", periods=300, freq="D"), 365),  # weekends present: crypto calendar
        (pd.date_range("2024-01-05", periods=100, freq="W-FRI"), 52),
        (pd.date_range("2020-01-31", periods=40, freq="ME"), 12),
        (pd.date_range("2010-03-31", periods=40, freq="QE"), 4),
        (pd.date_range("2000-12-31", periods=20, freq="YE"), 1),
        (us_minutes(3), 252 * 390),
        (us_minutes(3)[::5], 252 * 78),  # 5-minute bars
        (pd.date_range("2024-01-01", periods=5000, freq="h"), 365 * 24),  # 24/7
    ],
)
def test_inferred_periods(index, expected):
    clock = infer_clock(index)
    assert clock is not None and clock.regular
    assert clock.periods_per_year == pytest.approx(expected)


def test_intraday_is_never_252():
    clock = infer_clock(us_minutes(2))
    assert clock.periods_per_year != 252


def test_us_session_in_other_timezone_uses_observed_session():
    idx = us_minutes(3).tz_localize("America/New_York").tz_convert("UTC")
    # in UTC the bars are 13:31-20:00: the observed session (6.5 h) gives the same answer
    assert infer_clock(idx.tz_localize(None)).periods_per_year == pytest.approx(252 * 390)
    # a tz-aware index is read in its own zone
    assert infer_clock(us_minutes(3).tz_localize("America/New_York")).periods_per_year == pytest.approx(252 * 390)


def test_missing_bars_keep_the_clock_regular():
    idx = us_minutes(2).delete([5, 6, 100])
    clock = infer_clock(idx)
    assert clock.regular and clock.periods_per_year == pytest.approx(252 * 390)


def test_event_time_resamples_to_one_minute():
    rng = np.random.default_rng(0)
    day = pd.Timestamp("2024-03-04")
    offsets = np.sort(rng.uniform(9.5 * 3600, 16 * 3600, 5000)) * 1e9
    idx = pd.DatetimeIndex(day + pd.to_timedelta(offsets.astype(np.int64), "ns"))
    clock = infer_clock(idx)
    assert not clock.regular and clock.bar == pd.Timedelta("1min")
    assert clock.periods_per_year == pytest.approx(252 * 390)

    r = rng.normal(0, 1e-4, (5000, 2))
    grid = event_clock_index(idx)
    minute = resample_to_clock(r, idx, "compound")
    assert minute.shape == (len(grid), 2)
    # compounding is preserved exactly (up to rounding) and each minute is the product of its events
    np.testing.assert_allclose(np.prod(1 + minute, axis=0), np.prod(1 + r, axis=0), rtol=1e-12)
    frame = pd.DataFrame(1 + r, index=idx)
    by_minute = frame.groupby(idx.floor("min")).prod() - 1
    np.testing.assert_allclose(minute[np.searchsorted(grid, by_minute.index)], by_minute.to_numpy(), rtol=1e-12)
    additive = resample_to_clock(r, idx, "additive")
    np.testing.assert_allclose(additive.sum(axis=0), r.sum(axis=0), rtol=1e-12)


def test_backtest_on_event_time_annualizes_the_minute_returns():
    rng = np.random.default_rng(1)
    day = pd.Timestamp("2024-03-04")
    offsets = np.sort(rng.uniform(9.5 * 3600, 16 * 3600, 3000)) * 1e9
    idx = pd.DatetimeIndex(day + pd.to_timedelta(offsets.astype(np.int64), "ns"))
    price = pd.Series(100 * np.cumprod(1 + rng.normal(0, 1e-4, 3000)), index=idx)
    position = pd.Series(np.sign(rng.normal(size=3000)), index=idx)
    res = backtest(price, position, fee_bps=0.1)
    minute = resample_to_clock(res.returns.to_numpy().reshape(-1, 1), idx, "compound")[:, 0]
    assert res.stats.iloc[:, 0]["sharpe"] == pytest.approx(sharpe_ratio(minute, 252 * 390), rel=1e-12)
    # per-event Sharpe annualized with the minute count would be a different (wrong) number
    assert res.stats.iloc[:, 0]["sharpe"] != pytest.approx(sharpe_ratio(res.returns, 252 * 390), rel=1e-3)
    assert res.stats.iloc[:, 0]["total_return_compound"] == pytest.approx(res.equity.iloc[-1] - 1, rel=1e-12)
    assert "event time" in res.clock


def test_no_index_no_value_warns_and_leaves_annualized_rows_nan():
    price = 100 * np.cumprod(1 + np.random.default_rng(2).normal(0, 0.01, 50))
    with pytest.warns(AnnualizationWarning, match="periods_per_year is unknown"):
        res = backtest(price, np.ones(50))
    s = res.stats.iloc[:, 0]
    for row in ("ann_return_compound", "ann_return_additive", "ann_volatility", "sharpe", "sortino", "calmar"):
        assert np.isnan(s[row]), row
    for row in ("total_return_compound", "total_return_additive", "max_drawdown", "n_trades", "oracle_return_additive"):
        assert np.isfinite(s[row]), row


def test_explicit_value_wins_over_the_index():
    idx = us_minutes(1)
    price = pd.Series(100 * np.cumprod(1 + np.random.default_rng(3).normal(0, 1e-3, len(idx))), index=idx)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = backtest(price, np.ones(len(idx)), periods_per_year=1000)
    assert res.periods_per_year == 1000 and res.clock == "explicit"
    assert backtest(price, np.ones(len(idx))).periods_per_year == pytest.approx(252 * 390)
