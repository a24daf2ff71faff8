"""The book cost model on the GOOG 5-level day: time against the linear-cost backtest of the same columns.

Usage: ``.venv/bin/python benchmarks/book.py [--data ../shared/data/lobster] [--columns 20]
[--sizes 1 10 100 500 1000] [--repeat 3]``

Loads the GOOG sample (112,673 events), makes ``--columns`` random target-exposure columns, and times:

- ``backtest`` with linear costs (fee plus the quoted half spread per row), the reference;
- ``book_backtest`` at each size (reading the book into ticks, execution on the book, the exact book oracle, and
  the backtest, which takes the oracle's totals instead of computing the linear oracle it would replace);
- the execution alone (:func:`signalbench.engine.book_kernels.execute_nb`) and the oracle alone, per size, so the
  split is visible: the oracle is O(price changes x breakpoints) per distinct size, the execution
  O(n x columns x levels);
- ``book_capacity`` over all sizes in one call;
- on five 2,000-row slices, the exact oracle against the best path over the three holdings {-size, 0, size} under
  the same book costs (what the linear-cost oracle's states can reach), at 100 and 500 shares.

Everything is warmed up first (Numba compiles on the first call); the best of ``--repeat`` runs is kept.
"""

from __future__ import annotations

import argparse
import os
import platform
import warnings
from pathlib import Path

import numpy as np
from _timing import best_of

from signalbench import backtest, load_lobster
from signalbench.engine.book import book_backtest, book_cost, book_oracle_totals
from signalbench.engine.book_curve import book_capacity
from signalbench.engine.book_inputs import as_book, execution_source
from signalbench.engine.book_kernels import execute_nb

_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("SIGNALBENCH_SHARED_DATA", _ROOT.parent / "shared" / "data")) / "lobster"


def positions(n: int, m: int, seed: int = 0) -> np.ndarray:
    """Random walks of exposure in [-1, 1] that change on about one row in 50 (a signal, not noise every event)."""
    rng = np.random.default_rng(seed)
    steps = rng.choice([-0.5, 0.0, 0.5], size=(n, m), p=[0.01, 0.98, 0.01])
    return np.asfortranarray(np.clip(np.cumsum(steps, axis=0), -1.0, 1.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 500, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    load = "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    print(f"machine: {platform.machine()}, {platform.processor() or '?'}, cores={os.cpu_count()}, {load}")
    book = load_lobster(args.data / "LOBSTER_SampleFile_GOOG_2012-06-21_5.zip")
    mid = ((book["ask_price_1"] + book["bid_price_1"]) / 2).to_numpy()
    half = ((book["ask_price_1"] - book["bid_price_1"]) / (2 * mid) * 1e4).to_numpy()
    n, m = len(book), args.columns
    pos = positions(n, m)
    kw = {"mode": "additive", "periods_per_year": 252 * 390}
    backtest(mid[:500], pos[:500], fee_bps=0.5, half_spread_bps=half[:500], **kw)  # warm up
    book_backtest(mid[:500], pos[:500], book.iloc[:500], size=10, fee_bps=0.5, **kw)

    linear = best_of(lambda: backtest(mid, pos, fee_bps=0.5, half_spread_bps=half, **kw), args.repeat)
    print(f"GOOG {n} events x {m} columns; linear-cost backtest: {linear:.3f} s")
    the_book = as_book(book, n, None)
    src, _ = execution_source(n, 0, None, None)
    fs = np.full(m, 0.5 / 1e4)
    total = 0.0
    for size in args.sizes:
        full = best_of(lambda s=size: book_backtest(mid, pos, book, size=s, fee_bps=0.5, **kw), args.repeat)
        total += full
        outs = [np.empty((n, m), order="F") for _ in range(2)] + [
            np.zeros(m, np.int64),
            np.zeros(m, np.int64),
            np.zeros((2, m)),
        ]
        sizes = np.array([size])
        args_ex = (pos, src, sizes, 0, 0.0, False, the_book.ask_px, the_book.ask_sz, the_book.bid_px, the_book.bid_sz)
        execute = best_of(lambda a=(*args_ex, *outs): execute_nb(*a), args.repeat)
        oracle = best_of(
            lambda s=sizes: book_oracle_totals(mid[:, None], the_book, s, fs, 0, 0, 0.0, False), args.repeat
        )
        print(
            f"size {size:>5}: book_backtest {full:.3f} s ({full / linear:.1f}x linear); "
            f"execution {execute:.3f} s, oracle {oracle:.3f} s"
        )
    print("load average after the sizes: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    curve = best_of(lambda: book_capacity(mid, pos, book, sizes=args.sizes, fee_bps=0.5), 1)
    oracle_gap(book, mid, 0.5 / 1e4)
    print(
        f"book_capacity over {len(args.sizes)} sizes: {curve:.3f} s (sum of single calls {total:.3f} s); "
        f"{curve / (linear * len(args.sizes)):.1f}x the linear backtest per size"
    )


def three_state(part, mid: np.ndarray, size: int, f: float) -> float:
    """The best total over holdings {-size, 0, size} (partial: a trade needs the displayed depth), by a plain DP."""
    x = np.r_[0.0, mid[1:] / mid[:-1] - 1.0]
    cost = {}
    for q in (size, 2 * size):
        for sign in (1, -1):
            c = book_cost(part, sign * q)
            cost[sign * q] = np.where(c["short"], np.inf, q / size * (c["bps"].to_numpy() / 1e4 + f))
    cost[0] = np.zeros(len(mid))
    states = (-size, 0, size)
    v = {h: (0.0 if h == 0 else -np.inf) for h in states}
    for t in range(len(mid)):
        v = {h: max(v[g] + g / size * x[t] - cost[h - g][t] for g in states) for h in states}
    return max(v.values())


def oracle_gap(book, mid: np.ndarray, f: float) -> None:
    """Print the exact oracle against the three-state one on five 2,000-row slices."""
    n = len(book)
    for size in (100, 500):
        gaps = []
        for start in np.linspace(0, n - 2_000, 5).astype(int):
            part = book.iloc[start : start + 2_000]
            pm = mid[start : start + 2_000]
            exact = book_oracle_totals(
                pm[:, None], as_book(part, 2_000, None), np.array([size]), np.array([f]), 0, 0, 0.0, False
            )[0]
            gaps.append(exact / three_state(part, pm, size, f) - 1)
        print(f"size {size:>4}: exact oracle above the three-state one by " + ", ".join(f"{g:.1%}" for g in gaps))


if __name__ == "__main__":
    main()
