"""``backtest(..., pbo_splits=S)``: the probability of backtest overfitting from the one pass, no returns matrix.

The one pass keeps each CSCV block's mean, sum of squared deviations, low and high per column. The PBO it gives must
be the PBO of :func:`signalbench.engine.selection.pbo` on the trial columns' returns (an independent computation from
the matrix: two-pass block moments), and identical under ``keep="all"``, ``keep="stats"`` in any chunk width, and
lazily generated chunks.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signalbench import backtest
from signalbench.engine.selection import block_bounds, block_moments, pbo, pbo_from_blocks


@st.composite
def sweeps(draw):
    splits = draw(st.sampled_from([2, 4, 6, 8]))
    n = draw(st.integers(2 * splits, 2 * splits + 40))
    m = draw(st.integers(2, 7))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    price = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, n))
    levels = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    position = levels[rng.integers(0, 5, size=(n, m))]
    if draw(st.booleans()):
        position[:, 1] = position[:, 0]  # a tie: the first maximum wins in both computations
    if draw(st.booleans()):
        position[:, -1] = 0.0  # a column that never trades: constant returns score 0
    return {
        "price": price,
        "position": position,
        "splits": splits,
        "fee_bps": draw(st.sampled_from([0.0, 1.0, 5.0])),
        "delay": draw(st.integers(0, 2)),
        "benchmarks": draw(st.sampled_from([None, [m - 1]])) if m > 2 else None,
        "memory": draw(st.integers(1, 4000)),
    }


def _run(case, **extra):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return backtest(
            case["price"],
            case["position"],
            fee_bps=case["fee_bps"],
            delay=case["delay"],
            benchmarks=case["benchmarks"],
            periods_per_year=252,
            pbo_splits=case["splits"],
            **extra,
        )


@settings(max_examples=60)
@given(sweeps())
def test_one_pass_pbo_is_the_pbo_of_the_returns(case):
    full = _run(case)
    trials = [c for c in range(case["position"].shape[1]) if c not in (case["benchmarks"] or [])]
    ref = pbo(full.returns[:, trials], case["splits"])
    assert full.pbo.n_combinations == ref.n_combinations
    np.testing.assert_allclose(full.pbo.is_performance, ref.is_performance, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(full.pbo.oos_performance, ref.oos_performance, rtol=1e-9, atol=1e-12)
    # the logits depend on ranks: equal unless two columns' out-of-sample Sharpes differ by rounding only
    oos = np.sort(ref.oos_performance)
    if not np.any(np.isclose(np.diff(oos), 0.0, atol=1e-12) & (np.diff(oos) != 0)):
        assert full.pbo.pbo == pytest.approx(ref.pbo)


@settings(max_examples=60)
@given(sweeps(), st.data())
def test_pbo_is_identical_in_chunks_and_lazily(case, data):
    full = _run(case)
    part = _run(case, keep="stats", memory=case["memory"])
    np.testing.assert_array_equal(part.pbo.logits, full.pbo.logits)
    np.testing.assert_array_equal(part.pbo.is_performance, full.pbo.is_performance)
    assert part.pbo.pbo == full.pbo.pbo
    m = case["position"].shape[1]
    cuts = sorted(data.draw(st.sets(st.integers(1, m - 1), max_size=3)))
    edges = [0, *cuts, m]
    chunks = (case["position"][:, a:b] for a, b in zip(edges[:-1], edges[1:]))
    lazy = _run({**case, "position": chunks}, keep="stats")
    np.testing.assert_array_equal(lazy.pbo.logits, full.pbo.logits)


def test_pbo_from_blocks_equals_pbo_on_the_matrix():
    rng = np.random.default_rng(5)
    x = rng.normal(0.0, 0.01, size=(503, 9))
    x[:, 3] += 0.004  # one configuration with an edge: PBO near 0
    bounds = block_bounds(503, 10)
    blocks = [np.arange(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    got = pbo_from_blocks(np.diff(bounds), block_moments(x, blocks))
    ref = pbo(x, 10)
    np.testing.assert_array_equal(got.logits, ref.logits)
    assert got.pbo == ref.pbo < 0.1


def test_pbo_of_a_planted_edge_and_of_noise():
    rng = np.random.default_rng(11)
    n = 4000
    steps = rng.normal(0.0, 1e-3, n)
    price = 100 * np.cumprod(1 + steps)
    noise = np.sign(rng.normal(size=(n, 12)))
    edge = np.r_[np.sign(steps[1:]), 0.0]  # knows the next step: the in-sample winner wins out of sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        planted = backtest(price, np.column_stack([noise, edge]), pbo_splits=8, keep="stats", periods_per_year=252)
        pure = backtest(price, noise, pbo_splits=8, keep="stats", periods_per_year=252)
    assert planted.pbo.pbo == 0.0
    assert 0.2 < pure.pbo.pbo < 0.8


def test_pbo_splits_is_checked_before_pricing():
    price = 100 + np.arange(20.0)
    pos = np.ones((20, 3))
    with pytest.raises(ValueError, match="pbo_splits: expected an even integer"):
        backtest(price, pos, pbo_splits=3)
    with pytest.raises(ValueError, match=r"pbo_splits: expected at most n / 2 = 10 blocks"):
        backtest(price, pos, pbo_splits=12)
    with pytest.raises(ValueError, match="pbo_splits: expected at least 2 trial columns"):
        backtest(price, pos, pbo_splits=4, benchmarks=[0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 20 rows: the short-sample note
        assert backtest(price, pos, periods_per_year=252).pbo is None
