"""``backtest(..., keep="stats")``: the columns in chunks, no (n, m) series, the same table and notes as the full path.

The statistics-only path and the full path run the same one-pass kernel, so the tables must be identical to the
last bit for every shape, chunk width, cost shape, delay, mode and benchmark choice (hypothesis); lazily generated
column chunks must give the table of the whole matrix; and a sweep priced this way must not allocate the series.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench import backtest
from signalbench.strategies import grid, grid_chunks, threshold


@st.composite
def sweeps(draw):
    n = draw(st.integers(1, 30))
    m = draw(st.integers(1, 5))
    mp = draw(st.sampled_from([1, m]))
    steps = np.array(draw(st.lists(st.floats(-0.2, 0.2), min_size=n * mp, max_size=n * mp))).reshape(n, mp)
    price = 100.0 * np.cumprod(1.0 + steps, axis=0)
    levels = st.sampled_from([-1.0, -0.5, 0.0, 0.5, 1.0])
    position = np.array(draw(st.lists(levels, min_size=n * m, max_size=n * m))).reshape(n, m)
    cost = st.floats(0.0, 20.0)
    kinds = {
        "scalar": lambda: draw(cost),
        # (1, m) per column, (n, 1) per row: a 1-D cost is refused as ambiguous when n == m
        "column": lambda: np.array(draw(st.lists(cost, min_size=m, max_size=m))).reshape(1, m),
        "row": lambda: np.array(draw(st.lists(cost, min_size=n, max_size=n))).reshape(n, 1),
        "cell": lambda: np.array(draw(st.lists(cost, min_size=n * m, max_size=n * m))).reshape(n, m),
    }
    hs_kind = draw(st.sampled_from(list(kinds)))
    fee_kind = draw(st.sampled_from(["scalar", "column"]))
    return {
        "price": price,
        "position": position,
        "fee_bps": kinds[fee_kind](),
        "half_spread_bps": kinds[hs_kind](),
        "delay": draw(st.integers(0, 4)),
        "mode": draw(st.sampled_from(["compound", "additive"])),
        "close_at_end": draw(st.booleans()),
        "benchmarks": draw(st.sampled_from([None, [0]])) if m > 1 else None,
        "n_trials": draw(st.sampled_from([None, 7])),
        "memory": draw(st.integers(1, 3000)),  # from one column a chunk to all of them
    }


def _both(case, **extra):
    kwargs = {k: v for k, v in case.items() if k not in ("price", "position", "memory")}
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        full = backtest(case["price"], case["position"], **kwargs, **extra)
        part = backtest(case["price"], case["position"], keep="stats", memory=case["memory"], **kwargs, **extra)
    return full, part


@given(sweeps())
def test_stats_only_table_is_the_full_table(case):
    full, part = _both(case, periods_per_year=252)
    pd.testing.assert_frame_equal(part.stats, full.stats, check_exact=True)
    assert part.notes == full.notes and part.n_trials == full.n_trials and part.benchmarks == full.benchmarks
    assert part.returns is None and part.equity is None


@given(sweeps(), st.data())
def test_lazy_chunks_give_the_table_of_the_whole_matrix(case, data):
    position = case["position"]
    m = position.shape[1]
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, m - 1)), max_size=3))) if m > 1 else []
    bounds = [0, *cuts, m]
    chunks = (position[:, a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a)
    case = {**case, "price": case["price"][:, 0], "fee_bps": 1.5}
    spread = case["half_spread_bps"]
    per_row = np.shape(spread) == (len(case["price"]), 1)
    if not (np.isscalar(spread) or per_row):
        case["half_spread_bps"] = 0.5  # lazy columns take scalar or per-row costs only
    full, _ = _both(case, periods_per_year=252)
    kwargs = {k: v for k, v in case.items() if k not in ("price", "position", "memory")}
    if per_row:
        kwargs["half_spread_bps"] = spread[:, 0]  # lazy: the column count is unknown, per-row costs are 1-D
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        lazy = backtest(case["price"], chunks, keep="stats", periods_per_year=252, **kwargs)
    pd.testing.assert_frame_equal(lazy.stats, full.stats, check_exact=True)
    assert lazy.notes == full.notes


def test_event_time_in_chunks_equals_the_full_path():
    rng = np.random.default_rng(3)
    seconds = np.sort(rng.choice(np.arange(34_200, 34_200 + 3 * 3600), size=400, replace=False))
    index = pd.Timestamp("2024-03-04") + pd.to_timedelta(seconds, unit="s")
    price = pd.Series(100 * np.cumprod(1 + rng.normal(0, 1e-3, 400)), index=index)
    position = pd.DataFrame(rng.choice([-1.0, 0.0, 1.0], size=(400, 5)), index=index)
    case = {"price": price, "position": position, "memory": 8 * 400 * 12, "fee_bps": 1.0, "half_spread_bps": 0.5}
    case.update(delay=1, mode="compound", close_at_end=False, benchmarks=None, n_trials=None)
    full, part = _both(case)
    assert full.clock == part.clock and "event" in full.clock
    pd.testing.assert_frame_equal(part.stats, full.stats, check_exact=True)


def test_grid_chunks_price_like_the_grid():
    rng = np.random.default_rng(0)
    p_up = rng.uniform(0, 1, 300)
    proba = np.column_stack([1 - p_up, p_up])
    price = 100 * np.cumprod(1 + rng.normal(0, 1e-3, 300))
    enters = [0.5, 0.55, 0.6, 0.7, 0.8]
    whole = grid(threshold, proba, enter=enters)
    chunks = grid_chunks(threshold, proba, enter=enters)
    assert [c.shape[1] for c in chunks(2)] == [2, 2, 1]
    pd.testing.assert_frame_equal(pd.concat(list(chunks(2)), axis=1), whole)
    full = backtest(price, whole, fee_bps=1.0, periods_per_year=252)
    lazy = backtest(price, chunks, fee_bps=1.0, periods_per_year=252, keep="stats", memory=8 * 300 * 3 * 2)
    pd.testing.assert_frame_equal(lazy.stats, full.stats, check_exact=True)


def test_stats_only_allocates_no_series():
    rng = np.random.default_rng(1)
    n, m = 20_000, 100
    price = 100 * np.cumprod(1 + rng.normal(0, 1e-4, n))
    position = np.asfortranarray(rng.choice([-1.0, 0.0, 1.0], size=(n, m)))
    backtest(price[:50], position[:50], periods_per_year=252, keep="stats")  # compile outside the measurement
    tracemalloc.start()
    backtest(price, position, periods_per_year=252, fee_bps=1.0, keep="stats")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < n * m * 8 / 4  # a quarter of one (n, m) series; the full path allocates six


def test_stats_only_result_says_what_it_lacks():
    res = backtest(np.array([1.0, 1.1, 1.2]), np.ones(3), periods_per_year=252, keep="stats")
    assert res.returns is None
    with pytest.raises(ValueError, match='keep="all"'):
        res.trades  # noqa: B018


def test_lazy_positions_need_keep_stats_and_shared_costs():
    price = np.array([1.0, 1.1, 1.2])
    with pytest.raises(TypeError, match='keep="stats"'):
        backtest(price, iter([np.ones((3, 2))]))
    with pytest.raises(ValueError, match=r"fee_bps: expected a scalar or per-row cost"):
        backtest(price, iter([np.ones((3, 2))]), fee_bps=[1.0, 2.0], keep="stats")
    with pytest.raises(ValueError, match=r"position chunk 1: .*3 rows"):
        backtest(price, iter([np.ones((3, 2)), np.ones((4, 1))]), keep="stats")
    with pytest.raises(ValueError, match=r"position: expected finite values.*column 2"):
        backtest(price, iter([np.ones((3, 2)), np.array([[1.0], [np.nan], [0.0]])]), keep="stats")


@pytest.mark.parametrize(
    ("memory", "ok"), [("1GB", True), ("512 MiB", True), (4096, True), ("lots", False), (0, False)]
)
def test_memory_budget_forms(memory, ok):
    price = np.array([1.0, 1.1, 1.2])
    if ok:
        backtest(price, np.ones(3), keep="stats", memory=memory, periods_per_year=252)
    else:
        with pytest.raises(ValueError, match="memory: expected a byte count"):
            backtest(price, np.ones(3), keep="stats", memory=memory, periods_per_year=252)


def test_tune_prices_a_large_grid_in_chunks_with_the_same_choice(monkeypatch):
    from signalbench.strategies import tune, tuning

    rng = np.random.default_rng(2)
    p_up = np.clip(0.5 + 0.3 * np.sign(rng.normal(size=400)) * rng.uniform(0, 1, 400), 0, 1)
    proba = np.column_stack([1 - p_up, p_up])
    price = 100 * np.cumprod(1 + rng.normal(0, 1e-3, 400))
    values = {"enter": [0.55, 0.6, 0.7, 0.8, 0.95]}
    small = tune(threshold, proba, price, values, fee_bps=0.5, half_spread_bps=np.full(400, 0.25), delay=1)
    calls = []
    monkeypatch.setattr(tuning, "LARGE_GRID_CELLS", 0)
    monkeypatch.setattr(tuning.grids, "grid", lambda *a, **k: calls.append(1))  # the eager grid must not run
    large = tune(threshold, proba, price, values, fee_bps=0.5, half_spread_bps=np.full(400, 0.25), delay=1)
    assert not calls and large.params == small.params
    assert list(large.table.index) == list(small.table.index)
    pd.testing.assert_frame_equal(large.table, small.table, check_exact=False, rtol=1e-12, atol=1e-15)
