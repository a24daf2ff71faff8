"""Issue 8's classes of bad input, engine-wide: time order, bools, mixed offsets, datetimes as numbers, empty results,
PBO limits, and one error rule (TypeError for a wrong kind, ValueError for a wrong value) in every engine module."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench import backtest, naive_oracle_positions, oracle_positions
from signalbench._validation import EmptyResultWarning
from signalbench.engine import (
    annual_return,
    calmar_ratio,
    deflated_sharpe,
    deflated_sharpe_row,
    max_drawdown,
    pbo,
    sharpe_ratio,
    sortino_ratio,
)
from signalbench.engine.periods import ShortSampleWarning
from signalbench.engine.selection import MAX_PBO_COMBINATIONS

N = 30
DAYS = pd.bdate_range("2024-01-01", periods=N)
PRICE = 100 * np.cumprod(1 + np.random.default_rng(0).normal(0, 0.01, N))


def quiet(fn, *args, **kwargs):
    """Call ``fn`` with the engine's informational warnings silenced (these tests are about errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------------------------- 1. time order


@st.composite
def unsorted_days(draw):
    """A permutation of N business days that is not sorted (a shuffled DatetimeIndex)."""
    order = draw(st.permutations(range(N)).filter(lambda p: list(p) != sorted(p)))
    return DAYS[list(order)]


@given(unsorted_days(), st.sampled_from([None, 252.0]))
def test_a_shuffled_datetime_index_always_raises(index, ppy):
    """Priced as if sorted was the old behaviour when periods_per_year was given: now always an error."""
    price = pd.Series(PRICE, index=index)
    with pytest.raises(ValueError, match=r"price's index: expected timestamps sorted in time .* at row \d+"):
        backtest(price, np.ones(N), periods_per_year=ppy)
    with pytest.raises(ValueError, match=r"price's index: expected timestamps sorted in time"):
        oracle_positions(price)
    with pytest.raises(ValueError, match=r"price's index: expected timestamps sorted in time"):
        naive_oracle_positions(price)


@given(unsorted_days())
def test_order_is_checked_on_position_costs_and_returns_too(index):
    position = pd.Series(np.ones(N), index=index)
    with pytest.raises(ValueError, match=r"position's index: expected timestamps sorted in time"):
        backtest(PRICE, position, periods_per_year=252)
    spread = pd.Series(np.ones(N), index=index)
    with pytest.raises(ValueError, match=r"half_spread_bps's index: expected timestamps sorted in time"):
        backtest(PRICE, np.ones(N), half_spread_bps=spread, periods_per_year=252)
    with pytest.raises(ValueError, match=r"returns's index: expected timestamps sorted in time"):
        max_drawdown(pd.Series(np.full(N, 0.01), index=index))


def test_the_first_row_out_of_order_is_named():
    index = DAYS.insert(10, DAYS[3]).delete(11)  # row 10 steps back in time
    with pytest.raises(ValueError, match=r"got 2024-01-04 00:00:00 after 2024-01-12 00:00:00 at row 10"):
        backtest(pd.Series(PRICE, index=index), np.ones(N), periods_per_year=252)


def test_a_sorted_index_with_ties_is_accepted():
    """Priced row by row like any index: always long at 1 bp, so equity is (1 - 1e-4) * price / price[0]."""
    index = DAYS.insert(5, DAYS[5]).delete(6)  # two equal timestamps: non-decreasing
    res = quiet(backtest, pd.Series(PRICE, index=index), np.ones(N), fee_bps=1.0, periods_per_year=252)
    assert res.returns.index.equals(index)
    moves = np.r_[0.0, PRICE[1:] / PRICE[:-1] - 1.0]
    want = moves - np.r_[1e-4, np.zeros(N - 1)]  # the one entry pays the fee
    np.testing.assert_allclose(res.returns.to_numpy().ravel(), want, rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.equity.to_numpy().ravel(), (1 - 1e-4) * PRICE / PRICE[0], rtol=1e-12)


# ---------------------------------------------------------------------------------------------- 2. bools

not_bools = st.one_of(
    st.text(max_size=5), st.integers(-2, 2), st.floats(allow_nan=False), st.none(), st.lists(st.booleans())
)


@given(not_bools)
def test_every_bool_argument_rejects_other_kinds(value):
    with pytest.raises(TypeError, match=r"close_at_end: expected True or False, got"):
        backtest(PRICE, np.ones(N), close_at_end=value, periods_per_year=252)
    with pytest.raises(TypeError, match=r"close_at_end: expected True or False, got"):
        oracle_positions(PRICE, close_at_end=value)


def test_numpy_bools_are_bools():
    a = quiet(backtest, PRICE, np.ones(N), close_at_end=np.bool_(True), periods_per_year=252)
    assert a.exposure[-1] == 0.0


# ---------------------------------------------------------------------------------------------- 3. UTC offsets


def _object_index(offsets_hours):
    return pd.Index(
        [
            dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=h))) + dt.timedelta(days=i)
            for i, h in enumerate(offsets_hours)
        ],
        dtype=object,
    )


def test_mixed_utc_offsets_are_an_error_not_a_missing_clock():
    index = _object_index([-5] * 15 + [-4] * 15)
    with pytest.raises(ValueError, match=r"price's index: expected timestamps in one time zone, got mixed UTC"):
        backtest(pd.Series(PRICE, index=index), np.ones(N))
    with pytest.raises(ValueError, match=r"price's index: expected timestamps in one time zone"):
        oracle_positions(pd.Series(PRICE, index=index))


def test_an_object_index_with_one_offset_is_a_time_index():
    index = _object_index([-5] * N)
    assert index.dtype == object
    res = quiet(backtest, pd.Series(PRICE, index=index), np.ones(N))
    same = quiet(backtest, pd.Series(PRICE, index=pd.DatetimeIndex(index)), np.ones(N))
    assert res.clock == same.clock and res.periods_per_year == same.periods_per_year == 365  # daily, weekends
    backwards = pd.Series(PRICE, index=index[::-1])
    with pytest.raises(ValueError, match=r"sorted in time"):
        backtest(backwards, np.ones(N), periods_per_year=252)


# ---------------------------------------------------------------------------------------------- 4. datetimes as numbers

time_like = st.sampled_from(
    [
        pd.date_range("2024-01-01", periods=N, freq="min"),
        pd.to_timedelta(np.arange(N), "s"),
        pd.date_range("2024-01-01", periods=N, freq="min", tz="UTC"),
    ]
)


@given(time_like)
def test_datetimes_and_timedeltas_are_not_read_as_nanoseconds(values):
    frame = pd.DataFrame({"px": PRICE, "when": values})
    with pytest.raises(TypeError, match=r"price: expected numbers, got (datetimes|timedeltas) .* at column 'when'"):
        backtest(frame, np.ones((N, 2)), periods_per_year=252)
    with pytest.raises(TypeError, match=r"position: expected numbers, got .* at column 'when'"):
        backtest(PRICE, frame.rename(columns={"px": "a"}).assign(a=1.0), periods_per_year=252)
    with pytest.raises(TypeError, match=r"half_spread_bps: expected numbers, got (datetimes|timedeltas)"):
        backtest(PRICE, np.ones(N), half_spread_bps=pd.Series(values), periods_per_year=252)
    with pytest.raises(TypeError, match=r"price: expected numbers"):
        oracle_positions(pd.Series(values))
    returns = pd.DataFrame({"r": np.full(N, 0.01), "when": values})
    for fn in (sharpe_ratio, sortino_ratio, annual_return, calmar_ratio):
        with pytest.raises(TypeError, match=r"returns: expected numbers, got .* at column 'when'"):
            fn(returns, 252)
    with pytest.raises(TypeError, match=r"returns: expected numbers, got .* at column 'when'"):
        deflated_sharpe(returns)
    with pytest.raises(TypeError, match=r"returns_2d: expected numbers, got .* at column 'when'"):
        deflated_sharpe_row(returns)
    with pytest.raises(TypeError, match=r"returns: expected numbers, got .* at column 'when'"):
        pbo(returns, n_splits=2)


def test_strings_in_numbers_name_the_row():
    price = pd.Series(PRICE.astype(object))
    price[4] = "n/a"
    with pytest.raises(TypeError, match=r"price: expected numbers, got 'n/a' at row 4"):
        backtest(price, np.ones(N), periods_per_year=252)


# ---------------------------------------------------------------------------------------------- 5. empty results


@given(st.integers(1, 8), st.integers(0, 12), st.booleans())
def test_a_delay_covering_every_row_warns_and_is_noted(n, delay, close):
    price = PRICE[:n]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = backtest(price, np.ones(n), delay=delay, close_at_end=close, periods_per_year=252)
    empty = [str(w.message) for w in caught if issubclass(w.category, EmptyResultWarning)]
    nothing_executed = delay >= n - int(close)
    assert np.all(res.exposure == 0) == (nothing_executed or (n == 1 and close))
    if n == 1:
        assert any("1 row" in m for m in empty)
    elif nothing_executed:
        assert any(f"delay={delay} covers every row" in m for m in empty)
    else:
        assert not empty
    assert [str(w.message) for w in caught] == res.notes  # notes are exactly the warnings issued


def test_a_column_that_never_trades_is_named():
    positions = pd.DataFrame({"trades": np.ones(N), "flat": np.zeros(N)})
    with (
        pytest.warns(ShortSampleWarning, match="30 clock bars"),  # 30 bars: said once, asserted here
        pytest.warns(EmptyResultWarning, match=r"column\(s\) 'flat' never hold a position"),
    ):
        res = backtest(PRICE, positions, periods_per_year=252)
    assert any("'flat'" in note for note in res.notes)


def test_an_oracle_with_nothing_to_trade_warns():
    with pytest.warns(EmptyResultWarning, match=r"delay=5 leaves no bar to trade in 5 rows"):
        out = oracle_positions(PRICE[:5], delay=5)
    assert np.all(out == 0)
    with pytest.warns(EmptyResultWarning, match=r"no next move"):
        naive_oracle_positions(PRICE[:1])


# ---------------------------------------------------------------------------------------------- 6. PBO limits


def test_pbo_needs_two_observations_per_block():
    x = np.random.default_rng(1).normal(0, 0.01, (2, 3))
    with pytest.raises(ValueError, match=r"returns: expected at least 2 observations per block \(4 rows for"):
        pbo(x, n_splits=2)  # returned 0.0 before
    assert 0.0 <= pbo(np.random.default_rng(1).normal(0, 0.01, (4, 3)), n_splits=2).pbo <= 1.0


def test_pbo_refuses_too_many_combinations_before_allocating():
    x = np.random.default_rng(2).normal(0, 0.01, (40, 3))
    match = rf"n_splits: expected at most {MAX_PBO_COMBINATIONS:,} combinations .* got n_splits=40, which gives "
    with pytest.raises(ValueError, match=match + f"{math.comb(40, 20):,}"):
        pbo(x, n_splits=40)  # a MemoryError before
    with pytest.raises(ValueError, match=r"n_splits: expected at most"):
        pbo(None, n_splits=22)  # the split count is refused before the returns are even read
    assert math.comb(20, 10) <= MAX_PBO_COMBINATIONS < math.comb(22, 11)


# ---------------------------------------------------------------------------------------------- 7. one error rule


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda x: deflated_sharpe(x, n_trials=2.5), TypeError, r"n_trials: expected an integer >= 1 or None"),
        (lambda x: deflated_sharpe(x, n_trials=True), TypeError, r"n_trials: expected an integer >= 1 or None"),
        (lambda x: deflated_sharpe(x, n_trials=0), ValueError, r"n_trials: expected an integer >= 1 or None"),
        (lambda x: deflated_sharpe(x, var_sharpe="0.1"), TypeError, r"var_sharpe: expected a finite number >= 0"),
        (lambda x: deflated_sharpe(x, var_sharpe=-1.0), ValueError, r"var_sharpe: expected a finite number >= 0"),
        (lambda x: deflated_sharpe(x, var_sharpe=np.nan), ValueError, r"var_sharpe: expected a finite number"),
        (lambda x: deflated_sharpe_row(x, n_trials="3"), TypeError, r"n_trials: expected an integer >= 1"),
        (lambda x: deflated_sharpe(x[:3]), ValueError, r"returns: expected at least 4 observations"),
        (lambda x: deflated_sharpe(np.ones((10, 2))), ValueError, r"returns: expected a column with non-zero var"),
        (lambda x: deflated_sharpe("abc"), TypeError, r"returns: expected an array of numbers, got 'abc'"),
        (lambda x: pbo(x, n_splits=4.0), TypeError, r"n_splits: expected an even integer >= 2, got 4.0"),
        (lambda x: pbo(x, n_splits=3), ValueError, r"n_splits: expected an even integer >= 2, got 3"),
        (lambda x: pbo(x, n_splits=2, metric=3), TypeError, r"metric: expected 'sharpe', 'mean' or a callable"),
        (lambda x: pbo(x, n_splits=2, metric="shrape"), ValueError, r"\(did you mean 'sharpe'\?\)"),
        (lambda x: pbo(x[:, :1], n_splits=2), ValueError, r"returns: expected at least 2 configurations"),
        (lambda x: sharpe_ratio(x, "252"), TypeError, r"periods_per_year: expected a finite number > 0"),
        (lambda x: sharpe_ratio(x, -1), ValueError, r"periods_per_year: expected a finite number > 0"),
        (lambda x: annual_return(x, 252, mode="log"), ValueError, r"mode: expected one of 'compound', 'additive'"),
        (lambda x: max_drawdown(x, mode=None), TypeError, r"mode: expected one of 'compound', 'additive'"),
    ],
)
def test_selection_and_stats_follow_the_error_rule(call, exc, match):
    x = np.random.default_rng(3).normal(0, 0.01, (40, 3))
    with pytest.raises(exc, match=match):
        call(x)


def test_periods_per_year_reads_the_same_everywhere():
    """One check, one message: backtest and the statistics functions share it."""
    messages = []
    for call in (lambda: backtest(PRICE, np.ones(N), periods_per_year=0), lambda: sharpe_ratio(PRICE, 0)):
        with pytest.raises(ValueError) as info:
            call()
        messages.append(str(info.value))
    assert messages[0] == messages[1]
