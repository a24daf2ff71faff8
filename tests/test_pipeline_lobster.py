"""End to end on the real AMZN LOBSTER sample: load, causal features, positions, backtest at the quoted spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signalbench import backtest, load_lobster, naive_oracle_positions, oracle_positions
from signalbench.data import compute_features


@pytest.fixture(scope="module")
def amzn(shared_data):
    book = load_lobster(shared_data / "lobster" / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip")
    return book[book["ask_price_1"].notna() & book["bid_price_1"].notna()]


def test_features_are_causal_on_real_data(amzn):
    full = compute_features(amzn, "lob_basic")
    k = 20_000
    head = compute_features(amzn.iloc[:k], "lob_basic")
    pd.testing.assert_frame_equal(full.iloc[:k], head)


def test_backtest_with_quoted_spread_and_event_time(amzn):
    feats = compute_features(amzn, "lob_basic")
    mid = (amzn["ask_price_1"] + amzn["bid_price_1"]) / 2
    half_spread_bps = (amzn["ask_price_1"] - amzn["bid_price_1"]) / mid * 1e4 / 2
    ofi = feats["ofi_l1_sum_100"].fillna(0.0).to_numpy()
    positions = pd.DataFrame(
        {
            "ofi_sign": np.sign(ofi),
            "ofi_strong": np.where(np.abs(ofi) > np.nanpercentile(np.abs(ofi[:10_000]), 95), np.sign(ofi), 0.0),
            "naive_oracle": naive_oracle_positions(mid),
            "cost_aware_oracle": oracle_positions(mid, half_spread_bps=half_spread_bps, delay=1),
        },
        index=amzn.index,
    )
    res = backtest(mid, positions, half_spread_bps=half_spread_bps, delay=1, mode="additive")
    stats = res.stats
    # irregular event timestamps: annualized on a 1-minute clock in the US session
    assert "event time" in res.clock
    assert res.periods_per_year == pytest.approx(252 * 390)
    # the cost-aware oracle bounds everything priced on the same prices and costs (delay included)
    total = res.equity.iloc[-1] - 1.0
    assert np.all(total <= stats.loc["oracle_return_additive"] + 1e-12)
    assert np.all(stats.loc["signal_efficiency"] <= 1 + 1e-12)
    # paying the real quoted spread on every flip, the naive "perfect foresight" loses money
    assert total["naive_oracle"] < 0 < total["cost_aware_oracle"]
    # trading on every event's OFI sign pays far more spread than it earns
    assert stats.loc["cost_paid", "ofi_sign"] > stats.loc["cost_paid", "ofi_strong"]
    assert stats.loc["breakeven_cost_bps", "ofi_sign"] < np.median(half_spread_bps)
    # the oracle's positions, executed with the same latency, attain the oracle_return_additive row exactly
    best = stats.loc["oracle_return_additive", "cost_aware_oracle"]
    assert total["cost_aware_oracle"] == pytest.approx(best, rel=1e-9)
