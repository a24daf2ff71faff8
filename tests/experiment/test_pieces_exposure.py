"""Exposure of a multi-piece run: long / short / flat shares and time in market over every tested row of every piece.

positions.parquet of a multi-piece run holds each column's mean position per day, from which no share of rows can be
read; the shares are counted per piece (``piecerun._exposure``) and weighted by rows when pieces are combined.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signalbench import backtest
from signalbench.experiment.combine import PieceResult, combine
from signalbench.experiment.piecerun import _exposure


def _piece(symbol: str, day: str, position: np.ndarray, seed: int) -> PieceResult:
    rng = np.random.default_rng(seed)
    price = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 1e-3, position.size))
    with pytest.warns(Warning):  # a short sample: the engine says so
        res = backtest(price, pd.DataFrame({"m:sign": position}), periods_per_year=252.0)
    summary = {
        "rows": int(position.size),
        "labelled": int(position.size),
        "net_return": {"m:sign": float(np.sum(res.returns["m:sign"]))},
        "macro_f1": {"m": None},
        "info": {"m:sign": {"model": None, "strategy": "sign"}},  # no classes: macro-F1 is not what is tested
        "benchmarks": [],
        "mean_position": {"m:sign": float(np.mean(position))},
        "exposure": _exposure({"m:sign": position}, res.stats),
        "oracle_return": {"m:sign": float(res.stats.loc["oracle_return_additive", "m:sign"])},
    }
    return PieceResult(symbol, day, {"summary": summary})


def test_shares_are_counted_on_every_row_and_weighted_by_rows_across_pieces():
    a = np.array([1.0] * 4 + [0.0] * 6)  # 10 rows: 4 long, 6 flat
    b = np.array([-1.0] * 6 + [0.5] * 6 + [0.0] * 18)  # 30 rows: 6 short, 6 long, 18 flat
    blocks = combine([_piece("AAA", "2024-01-02", a, 1), _piece("BBB", "2024-01-02", b, 2)])
    pooled = blocks["pooled"]["m:sign"]
    assert pooled["long_share"] == pytest.approx(10 / 40)
    assert pooled["short_share"] == pytest.approx(6 / 40)
    assert pooled["flat_share"] == pytest.approx(24 / 40)
    # executed exposure (no delay, both pieces end flat): in the market wherever the target is not flat
    assert pooled["exposure_time"] == pytest.approx((4 + 12) / 40)
    # turnover: a enters 1 and leaves 1; b enters 1, flips 1.5, leaves 0.5
    assert pooled["turnover"] == pytest.approx(2.0 + 3.0)
    by_symbol = blocks["per_symbol"]
    assert by_symbol["AAA"]["m:sign"]["long_share"] == pytest.approx(0.4)
    assert by_symbol["BBB"]["m:sign"]["short_share"] == pytest.approx(0.2)
