"""Round trips (``BacktestResult.trades``) and the trade statistics rows, against a plain-Python reference.

The reference works from the raw inputs (prices, the executed exposure and the per-unit cost), not from the
engine's ``g`` and ``c`` series, and segments trades by sign runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signalbench import backtest
from tests.conftest import backtest_of_a_tiny_sample as tiny_backtest


def reference_trades(price: np.ndarray, e: np.ndarray, k: np.ndarray) -> list[dict]:
    """Trades of one column: price (n,), executed exposure (n,), per-unit cost (n,)."""
    n = len(e)
    trades: list[dict] = []
    cur = None
    for t in range(n):
        before = e[t - 1] if t > 0 else 0.0
        if cur is not None and t > 0:
            cur["gross_pnl"] += before * (price[t] / price[t - 1] - 1.0)
        side_now = np.sign(e[t])
        if cur is not None and side_now != cur["side"]:
            cur["costs"] += abs(before) * k[t]
            cur.update(exit_row=t, exit_price=price[t], is_open=False)
            trades.append(cur)
            cur = None
        elif cur is not None and e[t] != before:
            cur["costs"] += abs(e[t] - before) * k[t]
            cur["adjustments"] += 1
            cur["size"] = max(cur["size"], abs(e[t]))
        if cur is None and side_now != 0:
            cur = dict(
                entry_row=t, side=side_now, entry_size=abs(e[t]), size=abs(e[t]), adjustments=0,
                entry_price=price[t], gross_pnl=0.0, costs=abs(e[t]) * k[t],
            )  # fmt: skip
    if cur is not None:
        cur.update(exit_row=n - 1, exit_price=price[n - 1], is_open=True)
        trades.append(cur)
    for tr in trades:
        tr["net_pnl"] = tr["gross_pnl"] - tr["costs"]
        tr["bars_held"] = tr["exit_row"] - tr["entry_row"]
    return trades


def reference_stats(trades: list[dict]) -> dict[str, float]:
    net = np.array([t["net_pnl"] for t in trades])
    wins, losses = net[net > 0], net[net < 0]
    streaks = {1: 0, -1: 0}
    run, sign = 0, 0
    for x in np.sign(net):
        run = run + 1 if x == sign and x != 0 else 1
        sign = x
        if x != 0:
            streaks[int(x)] = max(streaks[int(x)], run)
    nan = float("nan")
    avg_win = wins.mean() if len(wins) else nan
    avg_loss = losses.mean() if len(losses) else nan
    return {
        "round_trips": len(net),
        "win_rate": len(wins) / len(net) if len(net) else nan,
        "avg_win": avg_win,
        "avg_loss": avg_loss,
        "payoff_ratio": avg_win / abs(avg_loss),
        "expectancy": net.mean() if len(net) else nan,
        "max_win_streak": streaks[1],
        "max_loss_streak": streaks[-1],
        "avg_bars_held": np.mean([t["bars_held"] for t in trades]) if trades else nan,
    }


@st.composite
def cases(draw):
    n = draw(st.integers(1, 60))
    m = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    price = 100 * np.cumprod(1 + rng.normal(0, 0.01, n))
    levels = np.array([-1.0, -0.5, -0.25, 0.0, 0.0, 0.3, 0.5, 1.0])
    position = rng.choice(levels, (n, m))
    hold = rng.random((n, m)) < draw(st.floats(0, 0.9))  # runs of unchanged targets
    for t in range(1, n):
        position[t, hold[t]] = position[t - 1, hold[t]]
    half_spread = rng.uniform(0, 5, n)
    fee = rng.uniform(0, 3, m)
    return price, position, fee, half_spread, draw(st.integers(0, 3)), draw(st.booleans())


@settings(max_examples=150)
@given(cases())
def test_trades_match_the_reference_and_add_up_to_the_additive_return(case):
    price, position, fee, half_spread, delay, close = case
    res = tiny_backtest(
        price, position, fee_bps=fee, half_spread_bps=half_spread[:, None], delay=delay, close_at_end=close,
        periods_per_year=252,
    )  # fmt: skip
    trades = res.trades
    n, m = position.shape
    for j in range(m):
        k = (fee[j] + half_spread) / 1e4
        ref = reference_trades(price, res.exposure[:, j], k)
        got = trades[trades["column"] == j].reset_index(drop=True)
        assert len(got) == len(ref)
        for field in ("entry_row", "exit_row", "side", "adjustments", "bars_held", "is_open"):
            assert got[field].tolist() == [t[field] for t in ref], field
        for field in ("entry_size", "size", "entry_price", "exit_price", "gross_pnl", "costs", "net_pnl"):
            np.testing.assert_allclose(got[field], [t[field] for t in ref], rtol=1e-12, atol=1e-15, err_msg=field)
        total = res.stats.loc["total_return_additive", j]
        assert abs(got["net_pnl"].sum() - total) <= 1e-12
        for row, value in reference_stats(ref).items():
            np.testing.assert_allclose(res.stats.loc[row, j], value, rtol=1e-12, atol=1e-15, err_msg=row)


def test_partial_sizes_reversal_and_an_open_trade_by_hand():
    price = np.array([100.0, 101, 102, 100, 99, 98])
    position = np.array([0.5, 1.0, 0.3, -1.0, -1.0, -1.0])
    res = tiny_backtest(price, position, fee_bps=10, periods_per_year=252)
    t = res.trades
    assert t["side"].tolist() == [1, -1]
    assert t["entry_row"].tolist() == [0, 3] and t["exit_row"].tolist() == [3, 5]
    assert t["adjustments"].tolist() == [2, 0]
    assert t["size"].tolist() == [1.0, 1.0] and t["entry_size"].tolist() == [0.5, 1.0]
    assert t["is_open"].tolist() == [False, True]
    # long leg: 0.5 * 1% + 1.0 * (102/101 - 1) + 0.3 * (100/102 - 1); costs 0.5 + 0.5 + 0.7 + 0.3 units at 10 bps
    gross_long = 0.5 * 0.01 + (102 / 101 - 1) + 0.3 * (100 / 102 - 1)
    np.testing.assert_allclose(t.loc[0, "gross_pnl"], gross_long, rtol=1e-14)
    np.testing.assert_allclose(t.loc[0, "costs"], 2.0e-3, rtol=1e-12)
    np.testing.assert_allclose(t.loc[1, "costs"], 1.0e-3, rtol=1e-12)  # the opening share of the reversal
    closed = tiny_backtest(price, position, fee_bps=10, periods_per_year=252, close_at_end=True).trades
    assert closed["is_open"].tolist() == [False, False] and closed["exit_row"].tolist() == [3, 5]


def test_labels_times_and_no_trades():
    idx = pd.date_range("2024-01-01", periods=5, freq="D")
    price = pd.Series([10.0, 11, 12, 11, 10], index=idx)
    pos = pd.DataFrame({"a": [0.0, 1, 1, 0, 0], "flat": 0.0}, index=idx)
    with pytest.warns(Warning):
        res = backtest(price, pos)
    t = res.trades
    assert t["column"].tolist() == ["a"]
    assert t["entry_time"].tolist() == [idx[1]] and t["exit_time"].tolist() == [idx[3]]
    assert res.stats.loc["round_trips"].tolist() == [1, 0]
    assert np.isnan(res.stats.loc["win_rate", "flat"])
    assert res.trades is t  # computed once


def test_a_subnormal_average_loss_gives_an_infinite_payoff_ratio_without_a_warning():
    import warnings

    from signalbench.engine.trades import round_trip_rows

    # count, wins, losses, sum_win, sum_loss, net, win_streak, loss_streak, bars (one column)
    acc = np.array([[2.0], [1.0], [1.0], [0.01], [-5e-324], [0.01], [1.0], [1.0], [4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = round_trip_rows(acc)
    assert rows["payoff_ratio"][0] == np.inf
    assert rows["avg_loss"][0] == -5e-324 and rows["win_rate"][0] == 0.5
