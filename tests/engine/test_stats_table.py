"""The statistics table an experiment reads: benchmarks apart from trials, the deflated Sharpe on the Sharpe's clock,
an explicit number of trials, the bars a Sharpe rests on, return rows that name their basis, short samples that are
not extrapolated, and every warning kept in ``notes``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench import backtest, naive_oracle_positions, oracle_positions
from signalbench.engine import STAT_ROWS, ShortSampleWarning, deflated_sharpe
from signalbench.engine.periods import MIN_CLOCK_BARS, event_clock_index, resample_to_clock


def run(*args, **kwargs):
    """backtest with warnings recorded; returns the result and the warning messages in order."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = backtest(*args, **kwargs)
    return res, [str(w.message) for w in caught]


def market(seed, n=400):
    rng = np.random.default_rng(seed)
    return 100 * np.cumprod(1 + rng.normal(0, 0.01, n)), rng


# ---------------------------------------------------------------------------------------------- benchmarks


@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(1, 3))
def test_benchmarks_never_change_the_trials_deflated_sharpe(seed, k, n_bench):
    price, rng = market(seed, 300)
    trials = pd.DataFrame(rng.uniform(-1, 1, (300, k)), columns=[f"m{j}" for j in range(k)])
    bench = {
        "oracle": oracle_positions(price, fee_bps=1.0),  # a Sharpe in the hundreds
        "naive": naive_oracle_positions(price),
        "hold": np.ones(300),
    }
    names = list(bench)[:n_bench]
    both = pd.concat([trials, pd.DataFrame({b: bench[b] for b in names})], axis=1)
    alone, _ = run(price, trials, fee_bps=1.0, periods_per_year=252, n_trials=max(k, 2))
    mixed, _ = run(price, both, fee_bps=1.0, periods_per_year=252, n_trials=max(k, 2), benchmarks=names)
    np.testing.assert_array_equal(
        mixed.stats.loc["deflated_sharpe", trials.columns], alone.stats.loc["deflated_sharpe"]
    )
    assert mixed.stats.loc["deflated_sharpe", names].isna().all()
    assert mixed.benchmarks == names
    # priced like every column: the other rows of a trial column do not depend on the benchmarks either
    pd.testing.assert_frame_equal(mixed.stats[trials.columns], alone.stats)


def test_an_oracle_counted_as_a_trial_drags_the_others_down():
    """What the benchmarks argument prevents: the old table deflated every column against the oracle's Sharpe."""
    price, rng = market(7, 2000)
    up_next = np.r_[np.sign(np.diff(price)), 0.0]
    informed = np.where(rng.uniform(size=2000) < 0.56, up_next, -up_next)
    positions = pd.DataFrame({"informed": informed, "noise": rng.choice([-1.0, 1.0], 2000), "oracle": up_next})
    counted, _ = run(price, positions, periods_per_year=252)
    apart, _ = run(price, positions, periods_per_year=252, benchmarks="oracle")
    assert apart.stats.loc["deflated_sharpe", "informed"] > 0.95
    assert counted.stats.loc["deflated_sharpe", "informed"] < 0.5


@pytest.mark.parametrize(
    ("benchmarks", "exc", "match"),
    [
        (["orcale"], ValueError, r"benchmarks\[0\]: expected a column label .* \(did you mean 'oracle'\?\)"),
        ([5], ValueError, r"benchmarks\[0\]: expected a column label \(one of 'a', 'oracle'\), got 5"),
        (3.5, TypeError, r"benchmarks: expected a column label or a list of column labels, got 3.5"),
    ],
)
def test_bad_benchmarks(benchmarks, exc, match):
    price, rng = market(1, 50)
    positions = pd.DataFrame({"a": np.ones(50), "oracle": naive_oracle_positions(price)})
    with pytest.raises(exc, match=match):
        backtest(price, positions, periods_per_year=252, benchmarks=benchmarks)


def test_benchmarks_by_position_for_plain_arrays_and_by_tuple_for_a_multiindex():
    price, rng = market(2, 200)
    res, _ = run(price, rng.uniform(-1, 1, (200, 3)), periods_per_year=252, benchmarks=[2])
    assert res.benchmarks == [2] and np.isnan(res.stats.loc["deflated_sharpe", 2])
    cols = pd.MultiIndex.from_tuples([("lstm", 0.5), ("lstm", 0.6), ("oracle", 0.0)])
    frame = pd.DataFrame(rng.uniform(-1, 1, (200, 3)), columns=cols)
    res, _ = run(price, frame, periods_per_year=252, benchmarks=("oracle", 0.0))
    assert res.benchmarks == [("oracle", 0.0)]
    assert np.isnan(res.stats.loc["deflated_sharpe", ("oracle", 0.0)])


# ---------------------------------------------------------------------------------------------- n_trials


@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(0, 60))
def test_explicit_n_trials_equals_deflated_sharpe_of_the_best_column(seed, k, extra):
    price, rng = market(seed, 250)
    res, _ = run(price, rng.uniform(-1, 1, (250, k)), periods_per_year=252, n_trials=k + extra)
    assert "deflated_sharpe" in res.stats.index  # present even for one column once n_trials is stated
    assert res.n_trials == k + extra
    best = int(np.nanargmax(res.stats.loc["sharpe"].to_numpy()))
    want = deflated_sharpe(res.returns, n_trials=k + extra)
    assert want.best == best
    assert res.stats.loc["deflated_sharpe"].iloc[best] == pytest.approx(want.dsr, rel=1e-12, abs=1e-300)


def test_more_trials_tried_elsewhere_deflate_a_single_column():
    price, rng = market(3, 500)
    up_next = np.r_[np.sign(np.diff(price)), 0.0]
    informed = np.where(rng.uniform(size=500) < 0.53, up_next, -up_next)
    values = [
        run(price, informed, periods_per_year=252, n_trials=t)[0].stats.loc["deflated_sharpe"].iloc[0]
        for t in (1, 10, 100, 1000)
    ]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_n_trials_below_the_trial_columns_is_an_error():
    price, rng = market(4, 100)
    positions = pd.DataFrame(rng.uniform(-1, 1, (100, 4)), columns=list("abcd"))
    with pytest.raises(ValueError, match=r"n_trials: expected at least the number of trial columns \(4\), got 3"):
        backtest(price, positions, periods_per_year=252, n_trials=3)
    res, _ = run(price, positions, periods_per_year=252, n_trials=3, benchmarks=["d"])  # 3 trials: fine
    assert res.n_trials == 3


def test_no_deflated_sharpe_row_without_a_selection():
    price, rng = market(5, 100)
    positions = pd.DataFrame({"model": rng.uniform(-1, 1, 100), "hold": np.ones(100)})
    res, _ = run(price, positions, periods_per_year=252, benchmarks=["hold"])
    assert "deflated_sharpe" not in res.stats.index and res.n_trials is None


# ---------------------------------------------------------------------------------------------- event-time clock


def event_time_market(seed, n=6000):
    rng = np.random.default_rng(seed)
    day = pd.Timestamp("2024-03-04")
    offsets = np.sort(rng.uniform(9.5 * 3600, 16 * 3600, n)) * 1e9
    index = pd.DatetimeIndex(day + pd.to_timedelta(offsets.astype(np.int64), "ns"))
    return pd.Series(100 * np.cumprod(1 + rng.normal(0, 2e-4, n)), index=index), rng


def test_deflated_sharpe_uses_the_clock_and_returns_of_the_sharpe_row():
    price, rng = event_time_market(6)
    n = len(price)
    positions = pd.DataFrame(np.sign(rng.normal(size=(n, 5))), index=price.index, columns=list("abcde"))
    res, _ = run(price, positions, fee_bps=0.05)
    minute = resample_to_clock(res.returns.to_numpy(), price.index, "compound")
    assert res.stats.loc["clock_bars"].iloc[0] == len(event_clock_index(price.index)) == minute.shape[0]
    want = deflated_sharpe(pd.DataFrame(minute, columns=positions.columns))
    assert want.best == res.stats.loc["sharpe"].idxmax()
    assert res.stats.loc["deflated_sharpe", want.best] == pytest.approx(want.dsr, rel=1e-12)
    per_event = deflated_sharpe(res.returns)  # what the old row ranked: a different number
    assert res.stats.loc["deflated_sharpe", want.best] != pytest.approx(per_event.dsr, rel=1e-3)


# ---------------------------------------------------------------------------------------------- clock_bars


@given(st.integers(2, 250))
def test_clock_bars_and_the_short_sample_warning(n):
    price, rng = market(8, n)
    res, messages = run(price, rng.uniform(-1, 1, n), periods_per_year=252)
    assert res.stats.loc["clock_bars"].iloc[0] == n
    short = [m for m in messages if m.startswith("sharpe rests on")]
    assert bool(short) == (n < MIN_CLOCK_BARS)
    if short:
        assert f"sharpe rests on {n} clock bars, fewer than {MIN_CLOCK_BARS}" in short[0]
        assert f"{np.sqrt(252 / n):.3g} (annualized)" in short[0]


def test_a_warning_class_a_program_can_filter():
    price, rng = market(9, 39)
    with pytest.warns(ShortSampleWarning, match=r"sharpe rests on 39 clock bars"):
        backtest(price, np.ones(39), periods_per_year=252 * 390)


# ---------------------------------------------------------------------------------------------- bases


def test_every_return_row_names_its_basis_and_efficiency_is_their_ratio():
    for row in STAT_ROWS:
        if "return" in row:
            assert row.endswith(("_compound", "_additive")), row
    i = STAT_ROWS.index("signal_efficiency")
    assert STAT_ROWS[i - 2 : i] == ("total_return_additive", "oracle_return_additive")
    price, rng = market(10, 300)
    for mode in ("compound", "additive"):
        res, _ = run(price, rng.uniform(-1, 1, (300, 3)), fee_bps=2.0, periods_per_year=252, mode=mode)
        s = res.stats
        np.testing.assert_allclose(s.loc["total_return_additive"], res.returns.sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(s.loc["total_return_compound"], np.prod(1 + res.returns, axis=0) - 1, rtol=1e-12)
        np.testing.assert_allclose(
            s.loc["signal_efficiency"], s.loc["total_return_additive"] / s.loc["oracle_return_additive"], rtol=1e-12
        )


# ---------------------------------------------------------------------------------------------- short samples


@given(st.integers(2, 60))
def test_annual_return_of_a_short_sample_is_not_extrapolated(n):
    price, rng = market(11, n)
    index = pd.bdate_range("2024-01-01", periods=n)
    res, messages = run(pd.Series(price, index=index), pd.Series(rng.uniform(0, 1, n), index=index))
    s = res.stats.iloc[:, 0]
    short = n < 20  # daily bars: one row per trading day
    for row in ("ann_return_compound", "ann_return_additive", "calmar"):
        assert np.isnan(s[row]) == short or (row == "calmar" and s["max_drawdown"] == 0), row
    assert np.isfinite(s["sharpe"]) or s["ann_volatility"] == 0  # Sharpe stays
    reason = [m for m in messages if m.startswith("ann_return_compound, ann_return_additive and calmar are NaN")]
    assert bool(reason) == short
    if short:
        assert f"spans {n:.3g} trading days" in reason[0]
    assert messages == res.notes


def test_five_days_of_minutes_are_not_annualized():
    """The issue's case: a large annual return extrapolated from five days of one-minute bars."""
    sessions = pd.bdate_range("2024-03-04", periods=5)
    index = pd.DatetimeIndex(
        np.concatenate([d + pd.Timedelta("09:31:00") + pd.to_timedelta(np.arange(390), "min") for d in sessions])
    )
    price = pd.Series(100 * np.cumprod(np.full(len(index), 1 + 2e-5)), index=index)
    res, messages = run(price, np.ones(len(index)))
    assert res.periods_per_year == 252 * 390
    assert res.stats.iloc[:, 0][["ann_return_compound", "ann_return_additive", "calmar"]].isna().all()
    assert res.stats.iloc[:, 0]["sharpe"] > 0 and res.stats.iloc[:, 0]["total_return_compound"] > 0
    assert any("spans 5 trading days" in m for m in res.notes)
