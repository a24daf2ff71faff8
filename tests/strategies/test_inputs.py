"""Invariants of the rules' inputs: wrong kinds are TypeError, unsorted time ValueError, columns independent."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from signalbench.strategies import (
    ensemble,
    hysteresis,
    rules,
    sign,
    size_by_confidence,
    spread_filter,
    threshold,
    tune,
)

NAN = np.nan

# Every way an array can hold something that is not a number.
NON_NUMERIC = {
    "datetime": lambda shape: np.full(shape, np.datetime64("2024-01-02T09:30", "ns")),
    "timedelta": lambda shape: np.full(shape, np.timedelta64(5, "s")),
    "str": lambda shape: np.full(shape, "0.5"),
    "bytes": lambda shape: np.full(shape, b"0.5"),
    "object str": lambda shape: np.full(shape, "n/a", dtype=object),
    "complex": lambda shape: np.full(shape, 0.5 + 0j),
    "pandas datetime": lambda shape: _frame(shape, pd.date_range("2024-01-02", periods=shape[0], freq="min")),
    "pandas category": lambda shape: _frame(shape, pd.Categorical(["up"] * shape[0])),
    "pandas string": lambda shape: _frame(shape, pd.array(["0.5"] * shape[0], dtype="string")),
}


def _frame(shape, column):
    if len(shape) == 1:
        return pd.Series(column)
    return pd.DataFrame({j: column for j in range(shape[1])})


def _proba(n):
    return np.column_stack([np.full(n, 0.3), np.full(n, 0.7)])


# rule name -> (call with the bad input in argument position `slot`, shape of that argument)
CALLS = {
    "sign": (lambda x: sign(x), (4, 2)),
    "threshold": (lambda x: threshold(x, enter=0.6), (4, 2)),
    "hysteresis": (lambda x: hysteresis(x), (4, 2)),
    "size_by_confidence": (lambda x: size_by_confidence(x), (4, 2)),
    "ensemble": (lambda x: ensemble([_proba(4), x]), (4, 2)),
    "spread_filter position": (lambda x: spread_filter(x, np.ones(4), 2.0), (4,)),
    "spread_filter spread": (lambda x: spread_filter(np.ones(4), x, 2.0), (4,)),
    "rules predicted_return": (lambda x: rules(x, np.full(4, 100.0)), (4,)),
    "rules price": (lambda x: rules(np.zeros(4), x), (4,)),
    "rules rsi": (lambda x: rules(np.zeros(4), np.full(4, 100.0), rsi=x), (4,)),
    "rules volume": (lambda x: rules(np.zeros(4), np.full(4, 100.0), volume=x), (4,)),
    "tune signal": (lambda x: tune(sign, x, np.full(4, 100.0)), (4, 2)),
    "tune price": (lambda x: tune(sign, _proba(4), x), (4,)),
}


@given(kind=st.sampled_from(sorted(NON_NUMERIC)), call=st.sampled_from(sorted(CALLS)))
def test_every_non_numeric_dtype_is_a_type_error_naming_the_argument(kind, call):
    rule, shape = CALLS[call]
    with pytest.raises(TypeError, match="expected numbers, got"):
        rule(NON_NUMERIC[kind](shape))


@st.composite
def shuffled_time_index(draw, n=6):
    """A minute index with two rows swapped (never sorted)."""
    order = list(range(n))
    i = draw(st.integers(0, n - 2))
    j = draw(st.integers(i + 1, n - 1))
    order[i], order[j] = order[j], order[i]
    return pd.date_range("2024-01-02 09:30", periods=n, freq="min", tz=draw(st.sampled_from([None, "UTC"])))[order]


def _at(idx, values):
    """``values`` as pandas on the time index ``idx``, or the bare array when ``idx`` is None."""
    if idx is None:
        return values
    return pd.DataFrame(values, index=idx) if values.ndim == 2 else pd.Series(values, index=idx)


def _n(idx) -> int:
    return 6 if idx is None else len(idx)


def _varying(n):
    """Two-class probabilities that move from row to row (P(up) 0.2 .. 0.8), so row order shows in the output."""
    up = 0.2 + 0.15 * (np.arange(n) % 5)
    return np.column_stack([1.0 - up, up])


def _moves(n):
    return np.array([0.01, -0.02, 0.0, 0.03, -0.01, 0.02] * n)[:n]


PANDAS_CALLS = {
    "sign": lambda idx: sign(_at(idx, _varying(_n(idx)))),
    "threshold": lambda idx: threshold(_at(idx, _varying(_n(idx)))),
    "hysteresis": lambda idx: hysteresis(_at(idx, _varying(_n(idx)))),
    "size_by_confidence": lambda idx: size_by_confidence(_at(idx, _varying(_n(idx)))),
    "ensemble": lambda idx: ensemble([_at(idx, _varying(_n(idx))), _varying(_n(idx))[::-1]]),
    "spread_filter": lambda idx: spread_filter(_at(idx, np.sign(_moves(_n(idx)))), 1.0 + np.arange(_n(idx)), 3.0),
    "rules": lambda idx: rules(_at(idx, _moves(_n(idx))), 100.0 * np.cumprod(1.0 + _moves(_n(idx)))),
    "rules price": lambda idx: rules(_moves(_n(idx)), _at(idx, 100.0 * np.cumprod(1.0 + _moves(_n(idx))))),
    "tune": lambda idx: tune(sign, _at(idx, _varying(_n(idx))), 100.0 * np.cumprod(1.0 + _moves(_n(idx)))),
}


@given(idx=shuffled_time_index(), call=st.sampled_from(sorted(PANDAS_CALLS)))
def test_an_unsorted_time_index_is_always_a_value_error(idx, call):
    with pytest.raises(ValueError, match="expected timestamps sorted in time"):
        PANDAS_CALLS[call](idx)


@pytest.mark.parametrize("call", sorted(PANDAS_CALLS))
def test_mixed_utc_offsets_are_a_value_error_not_a_plain_index(call):
    stamps = [pd.Timestamp("2024-01-02 09:30", tz="America/New_York"), pd.Timestamp("2024-01-02 15:31", tz="UTC")]
    idx = pd.Index(stamps * 2, dtype=object)
    with pytest.raises(ValueError, match="expected timestamps in one time zone"):
        PANDAS_CALLS[call](idx)


@pytest.mark.parametrize("call", sorted(PANDAS_CALLS))
def test_a_sorted_time_index_is_accepted(call):
    """The same values as the bare arrays give, on the caller's index when the result is pandas."""
    idx = pd.date_range("2024-01-02 09:30", periods=6, freq="min", tz="UTC")
    got, bare = PANDAS_CALLS[call](idx), PANDAS_CALLS[call](None)
    if call == "tune":
        assert got.params == bare.params
        pd.testing.assert_frame_equal(got.table, bare.table)
        return
    if isinstance(got, pd.Series | pd.DataFrame):
        assert got.index.equals(idx)
        got = got.to_numpy()
    assert_array_equal(np.asarray(got, dtype=float), np.asarray(bare, dtype=float))
    assert np.unique(np.asarray(bare, dtype=float)).size > 1  # inputs that move: a row out of place would show


# ---------------------------------------------------------------- a column alone or inside a 2-D input


@st.composite
def columns(draw, max_n=40, max_m=4):
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, max_m))
    steps = np.array(draw(st.lists(st.integers(-30, 30), min_size=n * m, max_size=n * m)), dtype=float)
    price = 100.0 * np.cumprod(1.0 + steps.reshape(n, m) / 2000.0, axis=0)
    pred = np.array(
        draw(st.lists(st.sampled_from([NAN, -0.02, -0.005, 0.0, 0.005, 0.02]), min_size=n * m, max_size=n * m))
    )
    spread = np.array(draw(st.lists(st.sampled_from([NAN, 0.5, 1.0, 3.0]), min_size=n * m, max_size=n * m)))
    position = np.array(
        draw(st.lists(st.sampled_from([NAN, -1.0, -0.5, 0.0, 0.5, 1.0]), min_size=n * m, max_size=n * m))
    )
    return price, pred.reshape(n, m), spread.reshape(n, m), position.reshape(n, m)


@given(
    data=columns(),
    kw=st.fixed_dictionaries(
        {
            "threshold": st.sampled_from([0.0, 0.01]),
            "stop_loss": st.sampled_from([None, 0.005]),
            "max_hold": st.sampled_from([None, 2]),
        }
    ),
)
def test_rules_give_each_column_what_it_gets_alone(data, kw):
    price, pred, _, _ = data
    together = rules(pred, price, **kw)
    shared = rules(pred, price[:, :1], **kw)  # one price column shared by every prediction column
    for j in range(pred.shape[1]):
        assert_array_equal(together[:, j], rules(pred[:, j], price[:, j], **kw))
        assert_array_equal(shared[:, j], rules(pred[:, j], price[:, 0], **kw))


@given(data=columns(), when_wide=st.sampled_from(["hold", "flat"]))
def test_spread_filter_gives_each_column_what_it_gets_alone(data, when_wide):
    _, _, spread, position = data
    together = spread_filter(position, spread, 2.0, when_wide=when_wide)
    shared = spread_filter(position, spread[:, 0], 2.0, when_wide=when_wide)
    for j in range(position.shape[1]):
        assert_array_equal(together[:, j], spread_filter(position[:, j], spread[:, j], 2.0, when_wide=when_wide))
        assert_array_equal(shared[:, j], spread_filter(position[:, j], spread[:, 0], 2.0, when_wide=when_wide))


def test_a_grid_column_equals_the_rule_alone():
    from signalbench.strategies import grid

    rng = np.random.default_rng(0)
    p_up = rng.uniform(0, 1, 50)
    proba = np.column_stack([1 - p_up, p_up])
    out = grid(functools.partial(hysteresis, proba), enter=[0.55, 0.7], exit=[0.1, 0.5])
    for enter, exit_ in out.columns:
        assert_array_equal(out[(enter, exit_)].to_numpy(), hysteresis(proba, enter=enter, exit=exit_))
