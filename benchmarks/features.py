"""Throughput of synthetic_ticks and of every feature set on 1,000,000 rows, against a floor in the same run.

Floors: for the generator, a plain per-tick Python loop of the same kind of model (regime-switching volatility,
volume, spread, imbalance), timed on a sample with rows/s extrapolated; for each feature set, a plain pandas
implementation of the same features (groupby day + rolling/shift/ewm). The pandas
results are also compared with ours, so the benchmark cannot win by computing something else.

Run: .venv/bin/python benchmarks/features.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from signalbench.data import features as F
from signalbench.data.synthetic import synthetic_ticks


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def python_loop_generator(n_ticks, tick_size=0.01):
    """A per-tick Python loop generating regime-switching ticks (the floor for synthetic_ticks)."""
    rng = np.random.default_rng(0)
    prices = [100.0]
    volumes, spreads, imbalances = [], [], []
    vols = [0.0001, 0.0003, 0.0005]
    regime = 0
    for _ in range(n_ticks - 1):
        if rng.random() < 0.001:
            regime = rng.choice([0, 1, 2], p=[0.5, 0.35, 0.15])
        vol = vols[regime]
        momentum = 0.1 * (prices[-1] - np.mean(prices[-100:])) if len(prices) > 100 else 0
        noise = rng.standard_normal() * vol * prices[-1]
        change = -0.0001 * momentum + noise
        prices.append(max(round((prices[-1] + change) / tick_size) * tick_size, 1.0))
        volumes.append(int(rng.exponential(100 + 50 * regime)))
        spreads.append(tick_size * (1 + regime + rng.exponential(0.5)))
        imbalances.append(np.clip(rng.standard_normal() * 0.3 + 0.2 * np.sign(change), -1, 1))
    return prices


# ---------------------------------------------------------------------------------- pandas floors (same features)


def _g(df):
    return df.groupby("day", sort=False)


def pandas_lob_basic(df):
    mid = (df.ask_price_1 + df.bid_price_1) / 2
    out = pd.DataFrame(index=df.index)
    out["spread_bps"] = (df.ask_price_1 - df.bid_price_1) / mid * 1e4
    micro = (df.ask_price_1 * df.bid_size_1 + df.bid_price_1 * df.ask_size_1) / (df.bid_size_1 + df.ask_size_1)
    out["microprice_dev_bps"] = (micro - mid) / mid * 1e4
    out["depth_imbalance_1"] = (df.bid_size_1 - df.ask_size_1) / (df.bid_size_1 + df.ask_size_1)
    g = _g(df)

    def ofi(i):
        bp, bq, ap, aq = (df[f"{k}_{i}"] for k in ("bid_price", "bid_size", "ask_price", "ask_size"))
        pbp, pbq, pap, paq = (g[f"{k}_{i}"].shift(1) for k in ("bid_price", "bid_size", "ask_price", "ask_size"))
        e = (bp >= pbp) * bq - (bp <= pbp) * pbq - (ap <= pap) * aq + (ap >= pap) * paq
        return e.where(pbp.notna())

    levels = F.book_levels(df)
    e1 = ofi(1)
    tmp = pd.DataFrame(
        {
            "day": df.day,
            "e1": e1,
            "e": sum(ofi(i) for i in range(1, levels + 1)),
            "v": df.trade_sign * df.volume,
            "a": df.volume,
            "mid": mid,
        }
    )
    gt = tmp.groupby("day", sort=False)
    out["ofi_l1_sum_10"] = gt.e1.transform(lambda s: s.rolling(10).sum())
    out["ofi_l1_sum_100"] = gt.e1.transform(lambda s: s.rolling(100).sum())
    out["ofi_sum_10"] = gt.e.transform(lambda s: s.rolling(10).sum())
    out["trade_imbalance_10"] = gt.v.transform(lambda s: s.rolling(10).sum()) / gt.a.transform(
        lambda s: s.rolling(10).sum()
    )
    out["trade_flow_100"] = gt.v.transform(lambda s: s.rolling(100).sum())
    out["mid_ret_1"] = gt.mid.pct_change(1)
    out["mid_ret_10"] = gt.mid.pct_change(10)
    tmp["r"] = out["mid_ret_1"]
    out["mid_volatility_50"] = tmp.groupby("day", sort=False).r.transform(lambda s: s.rolling(50).std())
    return out


def pandas_lob_levels(df):
    out = pd.DataFrame(index=df.index)
    levels = F.book_levels(df)
    g = _g(df)
    for i in range(1, levels + 1):
        out[f"depth_imbalance_{i}"] = (df[f"bid_size_{i}"] - df[f"ask_size_{i}"]) / (
            df[f"bid_size_{i}"] + df[f"ask_size_{i}"]
        )
    for i in range(1, levels + 1):
        bp, bq, ap, aq = (df[f"{k}_{i}"] for k in ("bid_price", "bid_size", "ask_price", "ask_size"))
        pbp, pbq, pap, paq = (g[f"{k}_{i}"].shift(1) for k in ("bid_price", "bid_size", "ask_price", "ask_size"))
        e = ((bp >= pbp) * bq - (bp <= pbp) * pbq - (ap <= pap) * aq + (ap >= pap) * paq).where(pbp.notna())
        out[f"ofi_l{i}_sum_10"] = e.groupby(df.day, sort=False).transform(lambda s: s.rolling(10).sum())
    return out


def _pandas_returns_volume(df, tmp):
    """The price/volume columns shared by ``bar_returns`` and ``price_volume`` (price: the mid)."""
    g = tmp.groupby("day", sort=False)
    out = pd.DataFrame(index=df.index)
    for k in (1, 5, 10):
        out[f"return_{k}"] = g.p.pct_change(k)
    for w in (5, 10, 20, 50):
        out[f"ma_ratio_{w}"] = tmp.p / g.p.transform(lambda s, w=w: s.rolling(w).mean()) - 1
    tmp["r"] = out["return_1"]
    g = tmp.groupby("day", sort=False)
    for w in (5, 10, 20, 50):
        out[f"volatility_{w}"] = g.r.transform(lambda s, w=w: s.rolling(w).std())
    vm = g.v.transform(lambda s: s.rolling(20).mean())
    out["volume_ma_ratio"] = tmp.v / vm
    out["volume_std"] = g.v.transform(lambda s: s.rolling(20).std()) / vm
    return out


def _mid_frame(df, book=True):
    """Day, mid price and volume (and, with ``book``, the spread and imbalance columns) in one frame."""
    tmp = pd.DataFrame({"day": df.day, "p": (df.ask_price_1 + df.bid_price_1) / 2, "v": df.volume})
    if book:
        tmp["s"], tmp["i"] = df.spread, df.imbalance
    return tmp


def pandas_bar_returns(df):
    return _pandas_returns_volume(df, _mid_frame(df, book=False))


def pandas_price_volume(df):
    tmp = _mid_frame(df)
    out = _pandas_returns_volume(df, tmp)
    g = tmp.groupby("day", sort=False)
    out["spread"] = tmp.s
    out["spread_ma_ratio"] = tmp.s / g.s.transform(lambda s: s.rolling(20).mean())
    out["imbalance"] = tmp.i
    out["imbalance_ma"] = g.i.transform(lambda s: s.rolling(10).mean())
    return out


def pandas_close_indicators(df):
    close = (df.ask_price_1 + df.bid_price_1) / 2
    tmp = pd.DataFrame({"day": df.day, "c": close})
    g = tmp.groupby("day", sort=False)
    out = pd.DataFrame(index=df.index)
    out["close"] = close
    out["volume"] = df.volume
    out["sma_20"] = g.c.transform(lambda s: s.rolling(20).mean())
    out["ema_20"] = g.c.transform(lambda s: s.ewm(span=20, adjust=False, min_periods=20).mean())

    def rsi(s):
        d = s.diff().iloc[1:]
        up = d.clip(lower=0).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
        dn = (-d).clip(lower=0).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
        r = 100 - 100 / (1 + up / dn)
        return pd.concat([pd.Series([np.nan], index=s.index[:1]), r])

    out["rsi_14"] = g.c.transform(rsi)
    return out


FLOORS = {
    "lob_basic": pandas_lob_basic,
    "lob_levels": pandas_lob_levels,
    "price_volume": pandas_price_volume,
    "bar_returns": pandas_bar_returns,
    "close_indicators": pandas_close_indicators,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--loop-sample", type=int, default=20_000, help="ticks for the Python-loop floor")
    args = parser.parse_args()
    n = args.rows
    missing = sorted(set(F.available_feature_sets()) - set(FLOORS))
    if missing:  # a new feature set needs its pandas floor here, before anything is timed
        raise SystemExit(f"benchmarks/features.py: no pandas floor for feature set(s) {missing}; add one to FLOORS")

    synthetic_ticks(1000, seed=0)  # compile / load the Numba cache
    t_gen, ticks = best_of(lambda: synthetic_ticks(n, seed=1, levels=3, ticks_per_day=n // 4))
    t_loop, _ = best_of(lambda: python_loop_generator(args.loop_sample), repeat=1)
    gen_rate, loop_rate = n / t_gen, args.loop_sample / t_loop
    print(
        f"synthetic_ticks({n:,}): {t_gen:.3f} s = {gen_rate:,.0f} ticks/s; per-tick Python loop "
        f"{loop_rate:,.0f} ticks/s (on {args.loop_sample:,}); ratio {gen_rate / loop_rate:,.0f}x"
    )

    df = ticks.data
    print(f"\n{'feature set':<16} {'cols':>4} {'ours s':>8} {'rows/s':>14} {'pandas s':>9} {'ratio':>7}  max|diff|")
    for name in F.available_feature_sets():
        F.compute_features(df.iloc[:2000], name)  # compile
        t_ours, ours = best_of(lambda name=name: F.compute_features(df, name))
        t_pd, ref = best_of(lambda name=name: FLOORS[name](df), repeat=1)
        diff = np.nanmax(
            np.abs(ours.to_numpy() - ref[ours.columns].to_numpy().astype(float))
            / (1 + np.abs(ref[ours.columns].to_numpy().astype(float)))
        )
        same_nan = np.array_equal(np.isnan(ours.to_numpy()), np.isnan(ref[ours.columns].to_numpy(float)))
        print(
            f"{name:<16} {ours.shape[1]:>4} {t_ours:>8.3f} {n / t_ours:>14,.0f} {t_pd:>9.3f} "
            f"{t_pd / t_ours:>6.1f}x  {diff:.1e}{'' if same_nan else ' (NaN positions differ)'}"
        )


if __name__ == "__main__":
    main()
