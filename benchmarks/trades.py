"""What the round trips cost a backtest: the trade-statistics pass inside it, and the trades table on demand.

Usage: ``.venv/bin/python benchmarks/trades.py [--bars 1000000] [--columns 20] [--repeat 3]``

Times a full ``signalbench.backtest()`` (fees and a half spread, positions that change about every 20 bars with
partial sizes and reversals), then, on its result, the round-trip statistics kernel that ``backtest`` runs for the
``stats`` rows (already inside the first figure) and building ``BacktestResult.trades`` (only paid when asked
for). Prints each as a ratio to the backtest; the target is under 0.20 for the statistics pass. Best of
``--repeat`` after a warm-up (Numba compiles on first call).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from _timing import best_of

from signalbench import backtest
from signalbench.engine.trades import round_trip_stats_nb, trades_frame


def inputs(n: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    price = 100 * np.cumprod(1 + rng.normal(0, 1e-4, n))
    levels = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    change = rng.random((n, m)) < 0.05
    draws = rng.choice(levels, (n, m))
    position = np.where(change, draws, np.nan)
    position[0] = 0.0
    for j in range(m):  # forward-fill: hold until the next change
        col = position[:, j]
        idx = np.where(~np.isnan(col), np.arange(n), 0)
        np.maximum.accumulate(idx, out=idx)
        position[:, j] = col[idx]
    return price, position


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=1_000_000)
    ap.add_argument("--columns", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    price, position = inputs(args.bars, args.columns)
    warnings.simplefilter("ignore")

    def run():
        return backtest(price, position, fee_bps=1.0, half_spread_bps=0.5, periods_per_year=252 * 390)

    small = backtest(price[:100], position[:100], periods_per_year=252)
    _ = small.trades  # compile
    total = best_of(run, args.repeat)
    res = run()
    sim = res.priced.sim
    stats_pass = best_of(lambda: round_trip_stats_nb(sim.exposure, sim.returns, sim.costs), args.repeat)
    table = best_of(lambda: trades_frame(res.priced), args.repeat)
    n_trades = int(res.stats.loc["round_trips"].sum())
    print(f"{args.bars:,} bars x {args.columns} columns, {n_trades:,} round trips")
    print(f"backtest (trade statistics included): {total:.3f} s")
    print(f"trade statistics pass:                {stats_pass:.3f} s  ratio {stats_pass / (total - stats_pass):.3f}")
    print(f"trades table (on demand):             {table:.3f} s  ratio {table / total:.3f}")


if __name__ == "__main__":
    main()
