"""Bad input gets a clear error naming the argument and what was wrong: TypeError for a wrong kind, ValueError for a
wrong value, in the one message form ``"<argument>: expected <what>, got <found>[ at <where>][; <hint>]"``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signalbench import backtest, oracle_positions

P = np.array([100.0, 101.0, 102.0, 101.5])
Q = np.array([1.0, 0.0, -1.0, 0.5])


@pytest.mark.parametrize(
    ("price", "match"),
    [
        (np.array([100.0, np.nan, 102.0, 101.5]), r"price: expected finite values, got nan at row 1"),
        (np.array([100.0, np.inf, 102.0, 101.5]), r"price: expected finite values, got inf at row 1"),
        (np.array([100.0, 101.0, 0.0, 101.5]), r"price: expected values > 0, got 0.0 at row 2"),
        (np.array([100.0, 101.0, 102.0, -1.0]), r"price: expected values > 0, got -1.0 at row 3"),
        (np.ones((4, 2, 1)), r"price: expected shape \(n,\) or \(n, m\)"),
        (np.array([]), r"price: expected at least 1 row, got 0"),
    ],
)
def test_bad_prices(price, match):
    with pytest.raises(ValueError, match=match):
        backtest(price, Q if price.ndim == 1 and len(price) == 4 else np.ones(len(price)), periods_per_year=252)


def test_bad_price_names_pandas_label_and_column():
    idx = pd.date_range("2024-01-01", periods=4, freq="D")
    price = pd.DataFrame({"a": P, "b": [100.0, 101.0, -5.0, 100.0]}, index=idx)
    with pytest.raises(ValueError, match=r"row 2 \(2024-01-03 00:00:00\), column 'b'"):
        backtest(price, np.ones((4, 2)))


@pytest.mark.parametrize(
    ("position", "match"),
    [
        (np.array([1.0, np.nan, 0.0, 0.0]), r"position: expected finite values, got nan at row 1"),
        (np.array([1.0, 0.0, -np.inf, 0.0]), r"position: expected finite values, got -inf at row 2"),
        (np.array([1.0, 0.0, 1.5, 0.0]), r"position: expected \|values\| <= max_leverage \(1\), got 1.5 at row 2"),
        (np.array([1.0, 0.0]), r"position: expected 4 rows to match price, got 2"),
        (np.ones((4, 3)), None),  # broadcasting one price over 3 columns is fine
    ],
)
def test_bad_positions(position, match):
    if match is None:
        assert backtest(P, position, periods_per_year=252).returns.shape == (4, 3)
        return
    with pytest.raises(ValueError, match=match):
        backtest(P, position, periods_per_year=252)


def test_string_positions_are_a_type_error():
    with pytest.raises(TypeError, match=r"position: expected numbers, got strings \(dtype <U1\)"):
        backtest(P, np.array(["a", "b", "c", "d"]), periods_per_year=252)


def test_leverage_can_be_raised():
    res = backtest(P, Q * 2, max_leverage=2.0, periods_per_year=252)
    assert res.exposure.max() == 2.0


def test_column_mismatch():
    with pytest.raises(ValueError, match=r"position: expected 1 or 2 columns to match price, got 3"):
        backtest(np.ones((4, 2)) * 100, np.zeros((4, 3)), periods_per_year=252)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"fee_bps": -1.0}, ValueError, r"fee_bps: expected costs >= 0 basis points, got -1.0"),
        ({"slippage_bps": np.nan}, ValueError, r"slippage_bps: expected finite values, got nan"),
        ({"half_spread_bps": np.ones(3)}, ValueError, r"half_spread_bps: expected .* got length 3"),
        ({"fee_bps": np.ones(4)}, ValueError, r"fee_bps: expected a scalar, a per-column sequence of length m"),
        ({"fee_bps": "cheap"}, TypeError, r"fee_bps: expected an array of numbers, got 'cheap'"),
        ({"fee_bps": True}, TypeError, r"fee_bps: expected numbers, got booleans"),
        ({"delay": -1}, ValueError, r"delay: expected an integer >= 0, got -1"),
        ({"delay": 1.5}, TypeError, r"delay: expected an integer >= 0, got 1.5 \(float\)"),
        ({"delay": True}, TypeError, r"delay: expected an integer >= 0, got True"),
        ({"delay": 2**70}, ValueError, r"delay: expected an integer >= 0 and at most 2\*\*62"),
        ({"mode": "log"}, ValueError, r"mode: expected one of 'compound', 'additive', got 'log'"),
        ({"mode": "compund"}, ValueError, r"got 'compund' \(did you mean 'compound'\?\)"),
        ({"mode": 1}, TypeError, r"mode: expected one of 'compound', 'additive', got 1"),
        ({"periods_per_year": 0}, ValueError, r"periods_per_year: expected a finite number > 0 or None, got 0"),
        ({"periods_per_year": np.inf}, ValueError, r"periods_per_year: expected a finite number > 0 or None, got inf"),
        ({"periods_per_year": "252"}, TypeError, r"periods_per_year: expected a finite number > 0 or None"),
        ({"max_leverage": 0}, ValueError, r"max_leverage: expected a finite number > 0, got 0"),
        ({"max_leverage": "1"}, TypeError, r"max_leverage: expected a finite number > 0, got '1'"),
        ({"close_at_end": "yes"}, TypeError, r"close_at_end: expected True or False, got 'yes'"),
        ({"close_at_end": "no"}, TypeError, r"close_at_end: expected True or False, got 'no'"),
        ({"close_at_end": 0}, TypeError, r"close_at_end: expected True or False, got 0"),
        ({"n_trials": 2.0}, TypeError, r"n_trials: expected an integer >= 1 or None, got 2.0"),
        ({"n_trials": 0}, ValueError, r"n_trials: expected an integer >= 1 or None, got 0"),
    ],
)
def test_bad_options(kwargs, exc, match):
    kwargs = {"periods_per_year": 252, **kwargs}
    with pytest.raises(exc, match=match):
        backtest(P, Q, **kwargs)


def test_ambiguous_cost_length():
    price = np.ones((3, 3)) * 100
    with pytest.raises(ValueError, match=r"half_spread_bps: expected an unambiguous shape .* got a length-3 sequence"):
        backtest(price, np.zeros((3, 3)), half_spread_bps=[1.0, 2.0, 3.0], periods_per_year=252)
    # the unambiguous spellings work
    backtest(price, np.zeros((3, 3)), half_spread_bps=np.ones((1, 3)), periods_per_year=252)
    backtest(price, np.zeros((3, 3)), half_spread_bps=np.ones((3, 1)), periods_per_year=252)


def test_misaligned_pandas_indexes():
    idx = pd.date_range("2024-01-01", periods=4, freq="D")
    price = pd.Series(P, index=idx)
    position = pd.Series(Q, index=idx.shift(1, freq="D"))
    with pytest.raises(ValueError, match=r"position's index: expected the price's index, got .* at row 0 \(the first"):
        backtest(price, position)


def test_misaligned_columns():
    idx = pd.RangeIndex(4)
    price = pd.DataFrame({"a": P, "b": P}, index=idx)
    position = pd.DataFrame({"b": Q, "a": Q}, index=idx)
    match = r"position's columns: expected the price's columns \['a', 'b'\], got \['b', 'a'\]"
    with pytest.raises(ValueError, match=match):
        backtest(price, position, periods_per_year=252)


def test_per_row_series_must_share_the_index():
    idx = pd.date_range("2024-01-01", periods=4, freq="D")
    with pytest.raises(ValueError, match=r"half_spread_bps: expected a per-row Series on exactly the price index"):
        backtest(pd.Series(P, index=idx), Q, half_spread_bps=pd.Series(np.ones(4)))


def test_unsorted_datetime_index():
    idx = pd.DatetimeIndex(["2024-01-02", "2024-01-01", "2024-01-03", "2024-01-04"])
    for ppy in (None, 252):  # the order is checked whether the clock is inferred or given
        with pytest.raises(ValueError, match=r"price's index: expected timestamps sorted in time .* at row 1"):
            backtest(pd.Series(P, index=idx), Q, periods_per_year=ppy)


def test_oracle_validates_too():
    with pytest.raises(ValueError, match=r"price: expected values > 0"):
        oracle_positions(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"fee_bps: expected costs >= 0"):
        oracle_positions(P, fee_bps=-2)
    with pytest.raises(TypeError, match=r"close_at_end: expected True or False, got 'no'"):
        oracle_positions(P, close_at_end="no")
    with pytest.raises(TypeError, match=r"delay: expected an integer >= 0, got 1.0 \(float\)"):
        oracle_positions(P, delay=1.0)


def test_inputs_are_not_mutated():
    price, position, hs = P.copy(), Q.copy(), np.ones(4)
    backtest(price, position, half_spread_bps=hs, periods_per_year=252)
    np.testing.assert_array_equal(price, P)
    np.testing.assert_array_equal(position, Q)
    np.testing.assert_array_equal(hs, np.ones(4))
