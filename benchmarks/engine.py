"""Engine throughput against vectorbt, the oracle's time, and peak memory, measured in one run.

Usage: ``.venv/bin/python benchmarks/engine.py [--bars 1000000] [--columns 1 20] [--repeat 3] [--skip-vectorbt]``

For each shape it times the full ``signalbench.backtest()`` call (validation, kernels, statistics, the oracle
row) with fees and a half spread, then the same work in vectorbt (``Portfolio.from_orders`` with target-percent
sizes plus ``stats()``), and prints bars x columns per second and the ratio. Both are warmed up first (Numba
compiles on first call) and the best of ``--repeat`` runs is kept. Peak memory is the process's peak resident
set size growth over the inputs, measured around our call before vectorbt runs.
"""

from __future__ import annotations

import argparse
import gc
import platform
import resource
import warnings

import numpy as np
import pandas as pd
from _timing import best_of

from signalbench import backtest, oracle_positions


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_inputs(n: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    price = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 1e-4, n))
    position = np.asfortranarray(np.round(rng.uniform(-1.0, 1.0, (n, m)), 1))
    return price, position


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-vectorbt", action="store_true")
    args = parser.parse_args()
    costs = {"fee_bps": 1.0, "half_spread_bps": 0.5}
    print(f"machine: {platform.machine()}, {platform.processor() or '?'}, cores={__import__('os').cpu_count()}")

    # warm-up: compile (or load from the cache) every kernel
    p, q = make_inputs(1000, 2)
    backtest(p, q, periods_per_year=252, **costs)

    rows = []
    for m in args.columns:
        price, position = make_inputs(args.bars, m)
        gc.collect()
        base = peak_rss_mb()
        ours = best_of(lambda p=price, q=position: backtest(p, q, periods_per_year=252, **costs), args.repeat)
        peak = peak_rss_mb() - base
        cells = args.bars * m
        row = {"bars": args.bars, "columns": m, "signalbench_s": ours, "signalbench_cells_per_s": cells / ours}
        row["signalbench_peak_mb"] = peak
        row["inputs_mb"] = (price.nbytes + position.nbytes) / 2**20
        if not args.skip_vectorbt:
            import vectorbt as vbt

            close = pd.DataFrame(np.repeat(price[:, None], m, axis=1))
            size = pd.DataFrame(position)

            def run_vbt(close=close, size=size):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pf = vbt.Portfolio.from_orders(
                        close,
                        size,
                        size_type="targetpercent",
                        direction="both",
                        fees=(costs["fee_bps"] + costs["half_spread_bps"]) / 1e4,
                        init_cash=1e8,
                        freq="1min",
                    )
                    pf.stats()

            small_close, small_size = close.iloc[:1000], size.iloc[:1000]
            run_vbt(small_close, small_size)  # warm-up (its own Numba compilation)
            theirs = best_of(run_vbt, max(1, args.repeat - 1))
            row["vectorbt_s"] = theirs
            row["vectorbt_cells_per_s"] = cells / theirs
            row["speedup"] = theirs / ours
        rows.append(row)

    price, _ = make_inputs(args.bars, 1)
    oracle_positions(price[:1000], **costs)
    row_oracle = best_of(lambda: oracle_positions(price, **costs), args.repeat)

    table = pd.DataFrame(rows).set_index(["bars", "columns"])
    with pd.option_context("display.width", 200, "display.float_format", "{:,.4g}".format):
        print(table.T)
    print(f"\noracle_positions on {args.bars:,} bars: {row_oracle:.4f} s")


if __name__ == "__main__":
    main()
