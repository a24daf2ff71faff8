"""Engine throughput against its floors and vectorbt, and a statistics-only sweep larger than memory, in one run.

Usage: ``.venv/bin/python benchmarks/engine.py [--bars 1000000] [--columns 20] [--repeat 5] [--skip-vectorbt]
[--sweep 1000] [--lazy 10000] [--skip-sweep]``

1. **Full backtest** (1,000,000 x 20, fees and a half spread): ``signalbench.backtest()`` (validation, the one pass,
   the statistics table, the oracle row); the **floor**, a Numba kernel that reads the same inputs and writes the
   same six (n, m) outputs with no statistics (the simulation alone); and vectorbt ``Portfolio.from_orders``
   (target percent, both directions) + ``stats()`` on the same inputs. Goal: within 2x of the floor, 100x vectorbt.
2. **Sweep** (1,000,000 bars x ``--sweep`` columns, a threshold x stop-loss x max-hold grid of a small Numba rule
   over one probability series, ``keep="stats"``, generated chunk by chunk with
   :func:`signalbench.strategies.grid_chunks`): time, peak traced memory above the inputs (``tracemalloc``,
   a separate run), and the **sweep floor**: the same chunks generated and read by a one-pass kernel that
   accumulates only what a Sharpe and a max drawdown need. The time of generating the chunks alone is printed
   too. Goal: within 2x of the floor, peak under 1 GB above the inputs.
3. **Lazy** (``--lazy`` columns, the same grid made wider): time and peak memory once, to show memory stays flat.

Numba compiles on first call: everything is warmed up first; timings are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd
from _timing import best_of
from numba import njit, prange

from signalbench import backtest, oracle_positions
from signalbench.engine.kernels import flex
from signalbench.engine.sweep import chunk_width, memory_bytes
from signalbench.strategies import grid_chunks

COSTS = {"fee_bps": 1.0, "half_spread_bps": 0.5}


@njit(cache=True, parallel=True)
def floor_nb(price, position, fee, half_spread, slippage, delay, returns, gross, costs, exposure, equity, drawdown):
    """The simulation alone: read the inputs, write the six outputs, accumulate nothing."""
    n, m = returns.shape
    for jj in prange(m):
        j = np.int64(jj)
        prev_e, prev_p, eq, peak = 0.0, flex(price, 0, j), 1.0, 1.0
        for t in range(n):
            p = flex(price, t, j)
            e = flex(position, t - delay, j) if t >= delay else 0.0
            g = prev_e * (p / prev_p - 1.0) if t > 0 else 0.0
            c = abs(e - prev_e) * (flex(fee, t, j) + flex(half_spread, t, j) + flex(slippage, t, j)) / 1e4
            r = g - c
            eq *= 1.0 + r
            peak = max(peak, eq)
            returns[t, j], gross[t, j], costs[t, j], exposure[t, j] = r, g, c, e
            equity[t, j], drawdown[t, j] = eq, eq / peak - 1.0
            prev_e, prev_p = e, p


@njit(cache=True, parallel=True)
def sharpe_drawdown_floor_nb(price, position, cost_bps):
    """One pass per column accumulating only sum r, sum r^2 and the max drawdown (the sweep's floor)."""
    n, m = position.shape
    out = np.empty((3, m))
    for jj in prange(m):
        j = np.int64(jj)
        prev_e, s, s2, eq, peak, mdd = 0.0, 0.0, 0.0, 1.0, 1.0, 0.0
        for t in range(n):
            e = position[t, j]
            r = (prev_e * (price[t, 0] / price[t - 1, 0] - 1.0) if t > 0 else 0.0) - abs(e - prev_e) * cost_bps / 1e4
            s += r
            s2 += r * r
            eq *= 1.0 + r
            peak = max(peak, eq)
            mdd = min(mdd, eq / peak - 1.0)
            prev_e = e
        out[0, j], out[1, j], out[2, j] = s, s2, mdd
    return out


@njit(cache=True)
def threshold_stop_hold_nb(p_up, price, enter, stop, hold):
    """Long above ``enter``, short below ``1 - enter``; out at a loss of ``stop`` or after ``hold`` bars."""
    n = p_up.shape[0]
    out = np.zeros(n)
    side, entry, start = 0.0, 0.0, 0
    for t in range(n):
        if side != 0.0 and (side * (price[t] / entry - 1.0) <= -stop or t - start >= hold):
            side = 0.0
        elif side == 0.0 and (p_up[t] > enter or p_up[t] < 1.0 - enter):
            side, entry, start = (1.0 if p_up[t] > enter else -1.0), price[t], t
        out[t] = side
    return out


def threshold_stop_hold(p_up: np.ndarray, price: np.ndarray, enter: float, stop: float, hold: int) -> np.ndarray:
    """The sweep's position rule (a grid parameter each)."""
    return threshold_stop_hold_nb(p_up, price, enter, stop, hold)


def make_inputs(n: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    price = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 1e-4, n))
    position = np.asfortranarray(np.round(rng.uniform(-1.0, 1.0, (n, m)), 1))
    return price, position


def full_backtest(n: int, m: int, repeat: int, skip_vectorbt: bool) -> dict[str, float]:
    """Part 1: backtest against the simulation floor and vectorbt."""
    price, position = make_inputs(n, m)
    p2 = price.reshape(-1, 1)
    costs = [np.full((1, 1), COSTS["fee_bps"]), np.full((1, 1), COSTS["half_spread_bps"]), np.zeros((1, 1))]

    def floor() -> None:
        outs = [np.empty((n, m), order="F") for _ in range(6)]
        floor_nb(p2, position, *costs, 0, *outs)

    floor()
    row = {"backtest_s": best_of(lambda: backtest(price, position, periods_per_year=252, **COSTS), repeat)}
    row["floor_s"] = best_of(floor, repeat)
    row["vs_floor"] = row["backtest_s"] / row["floor_s"]
    if not skip_vectorbt:
        row["vectorbt_s"] = vectorbt_time(price, position, max(1, repeat - 2))
        row["speedup_vs_vectorbt"] = row["vectorbt_s"] / row["backtest_s"]
    return row


def vectorbt_time(price: np.ndarray, position: np.ndarray, repeat: int) -> float:
    import vectorbt as vbt

    close = pd.DataFrame(np.repeat(price[:, None], position.shape[1], axis=1))
    size = pd.DataFrame(position)

    def run(close=close, size=size) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pf = vbt.Portfolio.from_orders(
                close,
                size,
                size_type="targetpercent",
                direction="both",
                fees=(COSTS["fee_bps"] + COSTS["half_spread_bps"]) / 1e4,
                init_cash=1e8,
                freq="1min",
            )
            pf.stats()

    run(close.iloc[:1000], size.iloc[:1000])  # its own Numba compilation
    return best_of(run, repeat)


def sweep_grid(n: int, width: int, seed: int = 1) -> tuple[np.ndarray, object]:
    """A threshold x stop-loss x max-hold grid of the rule above over one probability series, ``width`` columns."""
    rng = np.random.default_rng(seed)
    price = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 1e-4, n))
    p_up = np.clip(0.5 + 0.1 * rng.standard_normal(n), 0.0, 1.0)
    chunks = grid_chunks(
        threshold_stop_hold,
        p_up,
        price,
        enter=[0.5 + 0.01 * (k + 1) for k in range(10)],
        stop=[0.001 * (k + 1) for k in range(10)],
        hold=list(range(5, 5 + 10 * max(1, width // 100), 10)),
    )
    return price, chunks


def sweep(n: int, width: int, repeat: int, memory: str) -> dict[str, float]:
    """Part 2: the statistics-only sweep against the Sharpe/drawdown floor on the same chunks."""
    price, chunks = sweep_grid(n, width)
    p2 = price.reshape(-1, 1)
    cost = COSTS["fee_bps"] + COSTS["half_spread_bps"]

    def ours() -> pd.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return backtest(price, chunks, keep="stats", memory=memory, periods_per_year=252 * 390, **COSTS).stats

    cols = chunk_width(n, memory_bytes(memory), lazy=True, event_time=False, per_column_oracle=False)  # the engine's

    def generate() -> None:
        for chunk in chunks(cols):
            chunk.to_numpy()

    def floor() -> None:
        for chunk in chunks(cols):
            sharpe_drawdown_floor_nb(p2, np.asfortranarray(chunk.to_numpy()), cost)

    row = {"columns": len(chunks), "sweep_s": best_of(ours, repeat)}
    row["floor_s"] = best_of(floor, repeat)
    row["generate_s"] = best_of(generate, repeat)
    row["vs_floor"] = row["sweep_s"] / row["floor_s"]
    row["engine_s_net_of_generation"] = row["sweep_s"] - row["generate_s"]
    row["floor_s_net_of_generation"] = row["floor_s"] - row["generate_s"]
    row["peak_mb_above_inputs"] = traced_peak_mb(ours)

    def with_pbo() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return backtest(
                price, chunks, keep="stats", memory=memory, periods_per_year=252 * 390, pbo_splits=16, **COSTS
            ).pbo

    row["sweep_with_pbo16_s"] = best_of(with_pbo, repeat)
    row["pbo16"] = with_pbo().pbo
    return row


def traced_peak_mb(fn) -> float:
    """Peak memory traced while ``fn`` runs, above what was allocated before (NumPy reports to tracemalloc)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-vectorbt", action="store_true")
    parser.add_argument("--sweep", type=int, default=1000)
    parser.add_argument("--lazy", type=int, default=10_000)
    parser.add_argument("--sweep-repeat", type=int, default=2)
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--memory", default="1GB")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.processor() or '?'}, cores={os.cpu_count()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    p, q = make_inputs(1000, 2)
    backtest(p, q, periods_per_year=252, **COSTS)  # warm-up: compile (or load from the cache) every kernel
    full = full_backtest(args.bars, args.columns, args.repeat, args.skip_vectorbt)
    print(f"\n1. backtest {args.bars:,} x {args.columns} with costs (best of {args.repeat})")
    print(pd.Series(full).to_string(float_format="{:,.4g}".format))
    price, _ = make_inputs(args.bars, 1)
    oracle_positions(price[:1000], **COSTS)
    print(f"oracle_positions on {args.bars:,} bars: {best_of(lambda: oracle_positions(price, **COSTS), 3):.4f} s")
    if args.skip_sweep:
        return
    sweep(2000, 200, 1, args.memory)  # warm-up
    row = sweep(args.bars, args.sweep, args.sweep_repeat, args.memory)
    print(f"\n2. stats-only sweep {args.bars:,} x {args.sweep} (best of {args.sweep_repeat}; peak traced separately)")
    print(pd.Series(row).to_string(float_format="{:,.4g}".format))
    if args.lazy:
        lazy_price, chunks = sweep_grid(args.bars, args.lazy)
        t0 = time.perf_counter()
        peak = traced_peak_mb(
            lambda: backtest(lazy_price, chunks, keep="stats", memory=args.memory, periods_per_year=252 * 390, **COSTS)
        )
        print(
            f"\n3. lazy sweep {args.bars:,} x {len(chunks):,}: {time.perf_counter() - t0:.1f} s once (traced), "
            f"peak {peak:,.0f} MB above the inputs"
        )


if __name__ == "__main__":
    main()
