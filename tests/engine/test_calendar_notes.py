"""Short-sample notes and clock labels count days on the data's own calendar (365-day markets: calendar days)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from signalbench import backtest

ANNUAL = ("ann_return_compound", "ann_return_additive", "calmar")


def _run(index: pd.DatetimeIndex, **kwargs):
    price = pd.Series(100 * np.cumprod(np.full(len(index), 1 + 1e-5)), index=index)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = backtest(price, np.ones(len(index)), **kwargs)
    short = [str(w.message) for w in caught if "calmar are NaN" in str(w.message)]
    return res, short


def _minutes_24_7(days: float) -> pd.DatetimeIndex:
    return pd.date_range("2024-03-01", periods=int(days * 1440), freq="min")  # a Friday: weekends inside


def test_a_24_7_sample_is_counted_in_calendar_days():
    res, short = _run(_minutes_24_7(12.5))
    assert res.periods_per_year == 365 * 1440
    assert len(short) == 1
    assert "the sample spans 12.5 calendar days (18000 bars at 525600 a year, 365 days a year)" in short[0]
    assert "trading days" not in short[0]
    assert res.stats.iloc[:, 0][list(ANNUAL)].isna().all()


def test_the_minimum_sample_uses_the_same_calendar():
    # 25 calendar days of a 24/7 market: enough (>= 20 days of its calendar), although 25 * 252 / 365 = 17.3 < 20
    res, short = _run(_minutes_24_7(25))
    assert short == []
    assert res.stats.iloc[:, 0][list(ANNUAL[:2])].notna().all()  # (calmar is NaN here: no drawdown)
    res, short = _run(_minutes_24_7(19.5))
    assert len(short) == 1 and "spans 19.5 calendar days" in short[0]


def test_an_explicit_periods_per_year_still_counts_on_the_index_calendar():
    _, short = _run(_minutes_24_7(12.5), periods_per_year=365 * 1440)
    assert len(short) == 1 and "spans 12.5 calendar days" in short[0]
    weekdays = pd.bdate_range("2024-03-04", periods=10)
    _, short = _run(weekdays, periods_per_year=252)
    assert len(short) == 1 and "spans 10 trading days" in short[0]


@pytest.mark.parametrize(
    ("index", "label"),
    [
        (pd.date_range("2024-03-01", periods=3 * 1440, freq="min"), "1-minute bars, 24-hour market, 365 days a year"),
        (
            pd.DatetimeIndex(
                [
                    d + pd.Timedelta("09:31:00") + pd.Timedelta(minutes=i)
                    for d in pd.bdate_range("2024-03-04", periods=2)
                    for i in range(390)
                ]
            ),
            "1-minute bars, US equity session 09:30-16:00, 252 days a year",
        ),
    ],
)
def test_the_clock_label_names_the_calendar_once(index, label):
    res, _ = _run(index)
    assert res.clock.startswith(label + ":")
    assert res.clock.count("365") + res.clock.count("252") == 1
