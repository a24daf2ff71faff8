"""Latency in time: an order decided at row s executes at the first row at least ``latency`` later, on its book."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench.engine.book import book_backtest
from signalbench.engine.book_inputs import execution_source, parse_latency

_spec = importlib.util.spec_from_file_location("test_book", Path(__file__).with_name("test_book.py"))
tb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tb)


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("250us", 250_000),
        ("1.5ms", 1_500_000),
        ("2s", 2_000_000_000),
        ("100ns", 100),
        (" 3 µs", 3_000),
        (40, 40_000),
        (0.5, 500),
        ("0us", 0),
    ],
)
def test_latency_units(text, ns):
    assert parse_latency(text) == ns


@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        ("250", ValueError),
        ("fast", ValueError),
        (-1, ValueError),
        ("-3ms", ValueError),
        (True, TypeError),
        ([1], TypeError),
    ],
)
def test_bad_latency_is_named(bad, kind):
    with pytest.raises(kind, match="latency: expected a duration"):
        parse_latency(bad)


def in_force(times, lat):
    """Per row t, the latest decision s whose execution row (first r >= s with time[r] >= time[s] + lat) is <= t."""
    n = len(times)
    arrive = []
    for s in range(n):
        r = s
        while r < n and times[r] < times[s] + lat:
            r += 1
        arrive.append(r)
    return [max([s for s in range(n) if arrive[s] <= t], default=-1) for t in range(n)]


@given(st.lists(st.integers(0, 5), min_size=1, max_size=30), st.integers(0, 12))
def test_execution_rows_equal_a_plain_loop(gaps, lat):
    times = np.cumsum(gaps).astype(np.int64) * 1_000  # bursts: many rows at one timestamp
    src, _ = execution_source(len(times), None, lat, times)  # lat microseconds
    assert list(src) == in_force(list(times), lat * 1_000)
    assert (src < np.arange(len(times))).all() or lat == 0  # a decision never executes on its own row's book
    assert (src <= np.arange(len(times))).all()


def test_latency_executes_on_the_first_book_late_enough():
    us = pd.to_datetime("2012-06-21 09:30") + pd.to_timedelta([0, 0, 100, 100, 400, 1000], unit="us")
    book = tb.make_book([([(10.01, 10)], [(10.00, 10)])] * 6, index=pd.DatetimeIndex(us, name="timestamp"))
    price = pd.Series(10.005, index=book.index)
    pos = np.array([1.0, -1.0, 0.5, 1.0, -0.5, 0.25])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = book_backtest(price, pos, book, size=4, latency="250us", mode="additive", periods_per_year=252)
        same = book_backtest(price, pos, book, size=4, latency=0, mode="additive", periods_per_year=252)
        rows = book_backtest(price, pos, book, size=4, delay=0, mode="additive", periods_per_year=252)
    # rows 0-3 decide before 250us have passed; at row 4 (400us) the latest of them (row 3) is in force; row 5
    # (1000us) executes row 4's decision; row 5's own would execute at 1250us, after the data
    np.testing.assert_array_equal(res.exposure.to_numpy(), [0, 0, 0, 0, 1, -0.5])
    np.testing.assert_array_equal(same.exposure.to_numpy(), rows.exposure.to_numpy())
    assert res.params["latency"] == "250us"
