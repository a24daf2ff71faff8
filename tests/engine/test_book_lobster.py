"""The book cost model on the real GOOG 5-level sample: the issue's cost figures, and the Python walk on real rows."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

from signalbench import load_lobster
from signalbench.engine.book import book_backtest, book_cost

_spec = importlib.util.spec_from_file_location("book_reference", Path(__file__).with_name("book_reference.py"))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)


@pytest.fixture(scope="module")
def goog(shared_data):
    return load_lobster(shared_data / "lobster" / "LOBSTER_SampleFile_GOOG_2012-06-21_5.zip")


def test_median_cost_of_crossing_the_goog_book(goog):
    # issue 20's figures: 2.5 bps for 1 share, 2.6 for 100, 3.6 for 500 (of what is displayed; 70% of rows short)
    one, hundred, five = (book_cost(goog, q) for q in (1, 100, 500))
    assert one["bps"].median() == pytest.approx(2.5, abs=0.1)
    assert hundred["bps"].median() == pytest.approx(2.6, abs=0.1)
    assert five["bps"].median() == pytest.approx(3.6, abs=0.15)
    assert five["short"].mean() == pytest.approx(0.70, abs=0.03)
    assert not one["short"].any()
    # one share costs exactly the half spread; selling sees the bid side
    half = (goog["ask_price_1"] - goog["bid_price_1"]) / (goog["ask_price_1"] + goog["bid_price_1"]) * 1e4
    np.testing.assert_allclose(one["bps"], half, rtol=1e-9)
    np.testing.assert_allclose(book_cost(goog, -1)["bps"], half, rtol=1e-9)


def test_cost_of_one_order_equals_the_python_walk_on_real_rows(goog):
    rows = np.random.default_rng(3).choice(len(goog), size=60, replace=False)
    for q in (37, -230, 800):
        got = book_cost(goog, q, unfilled="penalty", penalty_bps=5.0)
        for t in rows:
            done, dollars, short = ref.trade(goog, int(t), q, "penalty", 5.0)
            mid = float(ref.mid_of(goog, int(t)))
            assert got["filled"].iloc[t] == done
            assert got["short"].iloc[t] == short
            assert got["bps"].iloc[t] == pytest.approx(float(dollars) / (abs(done) * mid) * 1e4, rel=1e-9)


@pytest.mark.parametrize("size", [100, 500])
def test_book_backtest_equals_the_python_walk_on_a_real_slice(goog, size):
    part = goog.iloc[20_000:20_400]
    mid = (part["ask_price_1"] + part["bid_price_1"]) / 2
    rng = np.random.default_rng(size)
    pos = np.clip(np.cumsum(rng.choice([-0.5, 0.0, 0.5], size=len(part))), -1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = book_backtest(mid, pos, part, size=size, delay=1, mode="additive", periods_per_year=252)
    holdings, costs, short = ref.simulate(part, pos, np.arange(len(part)) - 1, size, "partial")
    np.testing.assert_array_equal(res.exposure.to_numpy() * size, holdings)
    dollars = np.array([float(c) for c in costs])
    np.testing.assert_allclose(res.costs.to_numpy() * size * mid.to_numpy(), dollars, rtol=1e-9, atol=1e-12)
    assert res.stats.loc["rows_short_of_depth"].iloc[0] == short
    assert short > 0 if size == 500 else True
