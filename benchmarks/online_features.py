"""Online order-book features: per-event update latency, and batch throughput against the old vectorized path.

- Latency: ``OnlineFeatures.update`` timed event by event with ``time.perf_counter_ns`` over the whole AMZN day
  (level 1, 57,515 events; ``lob_basic``) and the GOOG day (5 levels; ``lob_basic`` + ``lob_levels``), after a
  warm-up pass (compilation, caches); p50/p90/p99/max, with ``event_vector`` (from the strings Redis gives) and
  the timer's own cost beside it.
- Batch: ``compute_features`` for ``lob_basic`` / ``lob_levels`` (now a replay of the step kernel) against a copy of
  the vectorized path it replaced (below, ``old_lob_basic`` / ``old_lob_levels``), on both days and on 1,000,000
  synthetic ticks; best of ``--repeat``, printed as old/new ratios, and the values compared (NaN positions and
  largest difference) so neither side can win by computing something else.

Run: .venv/bin/python benchmarks/online_features.py [--repeat 5] [--rows 1000000] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import best_of

from signalbench import load_lobster
from signalbench.data import OnlineFeatures, compute_features, synthetic_ticks
from signalbench.data._inputs import Runs, group_ids
from signalbench.data.features import book_levels
from signalbench.data.features._frame import frame_groups, missing
from signalbench.data.features.book import (
    depth_imbalance,
    microprice_deviation_bps,
    mid_price,
    order_flow_imbalance,
    order_flow_imbalance_total,
    spread_bps,
)
from signalbench.data.features.price import returns, rolling_volatility
from signalbench.data.features.rolling import rolling_sum
from signalbench.data.features.trades import trade_flow, trade_imbalance

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ the peer: the vectorized path before the kernel


def old_lob_basic(df, groups):
    """``lob_basic`` as ``sets.py`` computed it before the step kernel (one vectorized pass per feature)."""
    mid = mid_price(df)
    ofi1 = order_flow_imbalance(df, level=1, groups=groups)
    ofi = order_flow_imbalance_total(df, groups=groups)
    return {
        "spread_bps": spread_bps(df),
        "microprice_dev_bps": microprice_deviation_bps(df),
        "depth_imbalance_1": depth_imbalance(df, 1),
        "ofi_l1_sum_10": rolling_sum(ofi1, 10, groups=groups),
        "ofi_l1_sum_100": rolling_sum(ofi1, 100, groups=groups),
        "ofi_sum_10": rolling_sum(ofi, 10, groups=groups),
        "trade_imbalance_10": trade_imbalance(df, 10, groups=groups),
        "trade_flow_100": trade_flow(df, 100, groups=groups),
        "mid_ret_1": returns(mid, 1, groups=groups),
        "mid_ret_10": returns(mid, 10, groups=groups),
        "mid_volatility_50": rolling_volatility(mid, 50, groups=groups),
    }


def old_lob_levels(df, groups):
    """``lob_levels`` as ``sets.py`` computed it before the step kernel."""
    levels = book_levels(df)
    if levels == 0:
        raise missing(df, "book columns (needed by 'lob_levels')")
    out = {f"depth_imbalance_{i}": depth_imbalance(df, i) for i in range(1, levels + 1)}
    for i in range(1, levels + 1):
        out[f"ofi_l{i}_sum_10"] = rolling_sum(order_flow_imbalance(df, level=i, groups=groups), 10, groups=groups)
    return out


OLD = {"lob_basic": old_lob_basic, "lob_levels": old_lob_levels}


def old_compute(df, name):
    runs = Runs(group_ids(frame_groups(df, "day"), len(df)))
    return pd.DataFrame(OLD[name](df, runs), index=df.index)


# ------------------------------------------------------------------------------------------------ measurements


def _percentiles(ns: np.ndarray) -> str:
    p50, p90, p99 = np.percentile(ns, [50, 90, 99])
    return f"p50 {p50 / 1e3:6.2f}  p90 {p90 / 1e3:6.2f}  p99 {p99 / 1e3:6.2f}  max {ns.max() / 1e3:8.1f} us"


def latency(df: pd.DataFrame, sets, levels: int, label: str) -> None:
    """Per-event latency of ``update`` (and of ``event_vector`` from strings) over the whole day, after warm-up."""
    online = OnlineFeatures(sets, levels=levels)
    X = np.ascontiguousarray(df[list(online.fields)].to_numpy(np.float64))
    records = df[list(online.fields)].astype(str).to_dict("records")
    for x in X:  # warm-up: a whole pass
        online.update(x)
    online.reset()
    clock = time.perf_counter_ns
    upd, vec, empty = (np.empty(len(X), dtype=np.int64) for _ in range(3))
    for i, x in enumerate(X):
        t0 = clock()
        online.update(x)
        upd[i] = clock() - t0
    for i, rec in enumerate(records):
        t0 = clock()
        online.event_vector(rec)
        vec[i] = clock() - t0
    for i in range(len(X)):
        t0 = clock()
        empty[i] = clock() - t0
    print(f"{label} ({len(X):,} events, {len(online.names)} features)")
    print(f"  update        {_percentiles(upd)}")
    print(f"  event_vector  {_percentiles(vec)}")
    print(f"  timer alone   {_percentiles(empty)}")


def batch(df: pd.DataFrame, label: str, repeat: int) -> None:
    """compute_features (kernel replay) against the old vectorized path: best-of times, ratio, agreement."""
    for name in ("lob_basic", "lob_levels"):
        new, old = compute_features(df, name), old_compute(df, name)  # warm-up, and the values compared
        same_nan = np.array_equal(new.isna().to_numpy(), old.isna().to_numpy())
        a, b = new.to_numpy(), old[new.columns].to_numpy()
        diff = np.nanmax(np.abs(a - b) / (1 + np.abs(b)))
        t_new = best_of(lambda name=name: compute_features(df, name), repeat)
        t_old = best_of(lambda name=name: old_compute(df, name), repeat)
        print(
            f"  {label:<26} {name:<11} new {t_new * 1e3:8.1f} ms ({len(df) / t_new / 1e6:5.2f} M rows/s)  "
            f"old {t_old * 1e3:8.1f} ms  old/new {t_old / t_new:5.2f}x  max|diff| {diff:.1e}"
            f"{'' if same_nan else '  NaN POSITIONS DIFFER'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per batch measurement (best reported)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic ticks for the batch comparison")
    default = Path(os.environ.get("SIGNALBENCH_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=default, help="the shared data folder (holds lobster/)")
    args = parser.parse_args()
    folder = args.data / "lobster"
    amzn_zip = folder / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip"
    goog_zip = folder / "LOBSTER_SampleFile_GOOG_2012-06-21_5.zip"
    if not amzn_zip.exists() or not goog_zip.exists():
        raise SystemExit(f"LOBSTER samples not found in {folder} (pass --data or set SIGNALBENCH_SHARED_DATA)")
    amzn, goog = load_lobster(amzn_zip), load_lobster(goog_zip)

    print("Per-event latency of OnlineFeatures (perf_counter_ns around each call, after a warm-up pass)")
    latency(amzn, "lob_basic", 1, "AMZN level 1, lob_basic")
    latency(goog, ["lob_basic", "lob_levels"], 5, "GOOG 5 levels, lob_basic + lob_levels")

    print("\nBatch compute_features: kernel replay (new) vs the old vectorized path (best of "
          f"{args.repeat})")
    batch(amzn, "AMZN (57,515 x 1 level)", args.repeat)
    batch(goog, f"GOOG ({len(goog):,} x 5 levels)", args.repeat)
    ticks = synthetic_ticks(args.rows, seed=1, levels=3, ticks_per_day=args.rows // 4).data
    batch(ticks, f"synthetic ({args.rows:,} x 3 levels)", args.repeat)


if __name__ == "__main__":
    main()
