"""Backtest a few simple strategies and both oracles on synthetic ticks with a known edge.

Run: .venv/bin/python examples/basic_backtest.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from signalbench import backtest, naive_oracle_positions, oracle_positions, synthetic_ticks


def main() -> None:
    ticks = synthetic_ticks(20_000, seed=1)
    data = ticks.data
    mid = ((data["ask_price_1"] + data["bid_price_1"]) / 2).to_numpy()
    imbalance = (data["bid_size_1"] - data["ask_size_1"]) / (data["bid_size_1"] + data["ask_size_1"])
    positions = pd.DataFrame(
        {
            "imbalance_sign": np.sign(imbalance.to_numpy()),
            "imbalance_strong": np.where(np.abs(imbalance.to_numpy()) > 0.5, np.sign(imbalance.to_numpy()), 0.0),
            "naive_oracle": naive_oracle_positions(mid),
            "cost_aware_oracle": oracle_positions(mid, half_spread_bps=0.2),
        }
    )
    res = backtest(
        mid,
        positions,
        half_spread_bps=0.2,
        mode="additive",
        periods_per_year=252 * 23_400,
        benchmarks=["naive_oracle", "cost_aware_oracle"],
    )
    print(f"Bayes-optimal accuracy of the next move from the planted signal: {ticks.bayes_accuracy:.3f}")
    with pd.option_context("display.width", 160, "display.max_columns", 10, "display.float_format", "{:.4g}".format):
        print(res.stats)


if __name__ == "__main__":
    main()
