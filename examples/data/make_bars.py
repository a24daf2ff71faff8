"""Write ``bars_1min.csv``: ten days of synthetic 1-minute OHLCV bars with a weak, known momentum edge.

The close-to-close log return follows ``r[t] = 0.15 * r[t-1] + noise`` within a day (noise sd 4 bps), so the last
bar's move carries a little information about the next one. Each bar's open, high and low come from a path of
six 10-second steps. The file is committed (``examples/bars.toml`` reads it); run this script to rebuild it
byte for byte (same seed, same file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 11
DAYS = 10
PHI = 0.15


def make_bars(seed: int = SEED, days: int = DAYS) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    level = np.log(50.0)
    for day in pd.bdate_range("2024-04-01", periods=days):
        index = day + pd.Timedelta(hours=9, minutes=31) + pd.to_timedelta(np.arange(390), "min")
        r = np.empty(390)
        prev = 0.0
        for t in range(390):
            prev = PHI * prev + rng.normal(0.0, 4e-4)
            r[t] = prev
        steps = rng.normal(0.0, 1.5e-4, size=(390, 6))
        steps[:, -1] += r - steps.sum(axis=1)  # each bar's sub-steps add up to its return
        path = level + np.cumsum(np.concatenate([[0.0], r]))
        opens = np.exp(path[:-1])
        inner = path[:-1, None] + np.cumsum(steps, axis=1)
        highs = np.exp(np.maximum(inner.max(axis=1), path[:-1]))
        lows = np.exp(np.minimum(inner.min(axis=1), path[:-1]))
        closes = np.exp(path[1:])
        volume = rng.integers(200, 5000, size=390)
        frames.append(
            pd.DataFrame(
                {"open": opens, "high": highs, "low": lows, "close": closes, "volume": volume},
                index=pd.Index(index.strftime("%Y-%m-%d %H:%M:%S"), name="timestamp"),
            )
        )
        level = path[-1]
    return pd.concat(frames).round(4)


if __name__ == "__main__":
    out = Path(__file__).with_name("bars_1min.csv")
    make_bars().to_csv(out)
    print(f"wrote {out}")
