"""Columns longer than the one pass's tile (256 bars): the tiles join up exactly.

The other reference tests draw at most 60 rows, inside one tile; here the series, the statistics and the round trips
of columns of 255 to 700 rows (a trade open across a tile's edge, a delay longer than a tile, per-row costs) are
checked against the same plain-NumPy and plain-Python references.
"""

from __future__ import annotations

import numpy as np
import pytest

from signalbench.engine.trades import TRIP_TILE
from tests.conftest import backtest_of_a_tiny_sample as backtest
from tests.engine.test_reference import reference
from tests.engine.test_reference import reference_stats as reference_column_stats
from tests.engine.test_trades import reference_stats as reference_trade_stats
from tests.engine.test_trades import reference_trades

LENGTHS = (TRIP_TILE - 1, TRIP_TILE, TRIP_TILE + 1, 700)
OPTIONS = [(0, False, "compound", False), (3, True, "additive", True), (300, False, "compound", True)]


def _inputs(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A price path and positions with runs of held targets, reversals and flat bars."""
    rng = np.random.default_rng(seed)
    price = 100 * np.cumprod(1 + rng.normal(0, 0.01, n))
    levels = np.array([-1.0, -0.5, 0.0, 0.0, 0.3, 0.5, 1.0])
    position = rng.choice(levels, (n, m))
    hold = rng.random((n, m)) < np.array([0.0, 0.7, 0.98])[:m]  # busy, calm, and trades held across tiles
    for t in range(1, n):
        position[t, hold[t]] = position[t - 1, hold[t]]
    return price, position


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize(("delay", "close", "mode", "per_row"), OPTIONS)
def test_columns_over_several_tiles_equal_the_references(n, delay, close, mode, per_row):
    m = 3
    price, position = _inputs(n, m, seed=n + delay)
    fee = np.array([0.5, 1.0, 2.0])
    half_spread = np.random.default_rng(n).uniform(0, 5, n) if per_row else np.float64(0.5)
    res = backtest(
        price, position, fee_bps=fee, half_spread_bps=half_spread, delay=delay, mode=mode, close_at_end=close,
        periods_per_year=252,
    )  # fmt: skip
    hs = half_spread.reshape(n, 1) if per_row else half_spread
    ref = reference(price[:, None], position, fee.reshape(1, m), hs, np.float64(0.0), delay, mode, close)
    for name, expected in ref.items():
        np.testing.assert_allclose(getattr(res, name), expected, rtol=1e-12, atol=1e-14, err_msg=name)
    stats = reference_column_stats(ref["returns"], ref["exposure"], ref["gross_returns"], ref["costs"], mode, 252)
    for name, expected in stats.items():
        np.testing.assert_allclose(res.stats.loc[name].to_numpy(), expected, rtol=1e-9, atol=1e-12, err_msg=name)
    trades = res.trades
    for j in range(m):
        k = (fee[j] + np.broadcast_to(half_spread, n)) / 1e4
        ref_trades = reference_trades(price, res.exposure[:, j], k)
        assert (trades["column"] == j).sum() == len(ref_trades)
        for row, value in reference_trade_stats(ref_trades).items():
            np.testing.assert_allclose(res.stats.loc[row, j], value, rtol=1e-12, atol=1e-15, err_msg=row)
