from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signalbench.data import features as F
from signalbench.data.labels import direction
from signalbench.data.synthetic import synthetic_ticks

N = 300_000


def _moving_rows(ticks):
    df = ticks.data
    lab = direction(F.mid_price(df), 1, groups=df["day"])
    moving = (lab == 0) | (lab == 2)
    return lab, moving


def _sigma(acc, m):
    return np.sqrt(acc * (1 - acc) / m)


def test_deterministic_for_a_seed():
    a = synthetic_ticks(5000, seed=7, edge=0.4, levels=2, ticks_per_day=2000)
    b = synthetic_ticks(5000, seed=7, edge=0.4, levels=2, ticks_per_day=2000)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert a.bayes_accuracy == b.bayes_accuracy
    np.testing.assert_array_equal(a.p_up, b.p_up)
    c = synthetic_ticks(5000, seed=8, edge=0.4, levels=2, ticks_per_day=2000)
    assert not a.data["bid_price_1"].equals(c.data["bid_price_1"])


def test_frame_format_matches_the_book_columns():
    t = synthetic_ticks(20_000, seed=1, levels=3, ticks_per_day=7000)
    df = t.data
    for i in (1, 2, 3):
        assert {f"ask_price_{i}", f"ask_size_{i}", f"bid_price_{i}", f"bid_size_{i}"} <= set(df.columns)
    assert {"price", "volume", "trade_sign", "spread", "imbalance", "day"} <= set(df.columns)
    assert isinstance(df.index, pd.DatetimeIndex) and df.index.is_monotonic_increasing and df.index.is_unique
    assert (df["ask_price_1"] > df["bid_price_1"]).all()
    assert (df["ask_price_2"] > df["ask_price_1"]).all() and (df["bid_price_2"] < df["bid_price_1"]).all()
    ticks = np.concatenate([df[c].to_numpy() for c in ("ask_price_1", "bid_price_1", "price")]) / 0.01
    np.testing.assert_allclose(ticks, np.round(ticks), atol=1e-6)  # on the tick grid
    np.testing.assert_allclose(df["spread"], df["ask_price_1"] - df["bid_price_1"], atol=1e-9)
    assert set(np.unique(df["trade_sign"])) == {-1, 1} and (df["volume"] >= 1).all()
    assert df["day"].nunique() == 3 and (df.index.normalize() == df["day"]).all()
    assert (df.index.time >= pd.Timestamp("09:30").time()).all()
    assert (df.index.time < pd.Timestamp("16:00").time()).all()
    buys = df["trade_sign"] > 0
    assert (df.loc[buys, "price"] == df.loc[buys, "ask_price_1"]).all()
    assert set(np.unique(t.regime)) <= {0, 1, 2} and t.n_floored == 0
    # the mid does not move on every tick, and moves more in the high-volatility regimes
    mid = F.mid_price(df)
    moved = np.r_[np.diff(mid) != 0, False]
    assert 0.05 < 1 - moved.mean() < 0.5
    nxt = np.r_[t.regime[1:], 0]
    if (nxt == 0).any() and (nxt == 2).any():
        size = np.abs(np.r_[np.diff(mid), 0.0])
        assert size[nxt == 2].mean() > size[nxt == 0].mean()


@pytest.mark.parametrize("signal", ["queue_imbalance", "trade_flow"])
@pytest.mark.parametrize("edge", [0.3, 0.8])
def test_bayes_rule_realises_the_returned_accuracy(signal, edge):
    t = synthetic_ticks(N, seed=11, edge=edge, signal=signal, ticks_per_day=100_000)
    lab, moving = _moving_rows(t)
    assert moving.sum() == t.n_moves
    predict_up = t.p_up[moving] >= 0.5  # the Bayes rule (ties: up; their expected accuracy is 1/2 either way)
    realised = np.mean(predict_up == (lab[moving] == 2))
    assert abs(realised - t.bayes_accuracy) < 4 * _sigma(t.bayes_accuracy, t.n_moves)
    assert t.bayes_accuracy > 0.5 + edge / 20  # a real edge
    # and it is reached from the causal features alone
    feat = F.depth_imbalance(t.data) if signal == "queue_imbalance" else t.data["imbalance"].to_numpy()
    np.testing.assert_array_equal(predict_up, feat[moving] >= 0)


def test_queue_imbalance_accuracy_matches_the_population_value():
    t = synthetic_ticks(N, seed=3, edge=0.6)
    assert abs(t.bayes_accuracy - (0.5 + 0.6 / 4)) < 0.01  # x ~ uniform on [-1, 1]: E|x| = 1/2


def test_edge_zero_is_chance():
    t = synthetic_ticks(N, seed=5, edge=0.0)
    assert t.bayes_accuracy == 0.5
    lab, moving = _moving_rows(t)
    up = lab[moving] == 2
    s = _sigma(0.5, moving.sum())
    assert abs(up.mean() - 0.5) < 4 * s
    for rule in (t.data["imbalance"].to_numpy() >= 0, F.depth_imbalance(t.data) > 0, t.data["trade_sign"] > 0):
        assert abs(np.mean(np.asarray(rule)[moving] == up) - 0.5) < 4 * s


def test_leaky_mode_builds_the_look_ahead_column():
    honest = synthetic_ticks(N, seed=9, edge=0.2)
    leaky = synthetic_ticks(N, seed=9, edge=0.2, leaky=True)
    assert leaky.bayes_accuracy == honest.bayes_accuracy  # the attainable accuracy is unchanged
    lab, moving = _moving_rows(leaky)
    up = lab[moving] == 2
    imb = leaky.data["imbalance"].to_numpy()
    nxt = np.sign(np.r_[np.diff(F.mid_price(leaky.data)), 0.0])
    assert 0.45 < np.corrcoef(imb[:-1], nxt[:-1])[0, 1] < 0.65  # ~0.56 by construction
    leaky_acc = np.mean((imb[moving] >= 0) == up)
    assert leaky_acc > leaky.bayes_accuracy + 0.1  # impossible without looking ahead
    honest_acc = np.mean((honest.data["imbalance"].to_numpy()[moving] >= 0) == up)
    assert honest_acc < honest.bayes_accuracy + 4 * _sigma(0.55, moving.sum())
    assert leaky.data.iloc[-1]["imbalance"] == leaky.data.iloc[-2]["imbalance"]


def test_day_boundaries_and_trade_flow_restart():
    t = synthetic_ticks(10_000, seed=2, edge=1.0, signal="trade_flow", flow_window=20, ticks_per_day=2500)
    x = t.data["imbalance"].to_numpy()
    starts = np.arange(0, 10_000, 2500)
    for s in starts:
        assert np.all(x[s : s + 19] == 0) and np.all(t.p_up[s : s + 19] == 0.5)
    lab, moving = _moving_rows(t)
    assert np.isnan(lab[starts[1:] - 1]).all()
    assert np.isnan(t.p_up[-1])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"edge: expected a finite number in \[0, 1\], got 1.5"):
        synthetic_ticks(100, seed=0, edge=1.5)
    with pytest.raises(ValueError, match="signal: expected one of 'queue_imbalance', 'trade_flow', got 'news'"):
        synthetic_ticks(100, seed=0, signal="news")
    with pytest.raises(ValueError, match="did you mean 'trade_flow'"):
        synthetic_ticks(100, seed=0, signal="trade_flo")
    with pytest.raises(ValueError, match="regime_probs: expected 3 numbers >= 0 summing to 1"):
        synthetic_ticks(100, seed=0, regime_probs=(0.5, 0.5))
    with pytest.raises(ValueError, match="n: expected an integer >= 2, got 1"):
        synthetic_ticks(1, seed=0)
    with pytest.raises(ValueError, match="start_price: expected a price >= 3 \\* tick_size = 0.03"):
        synthetic_ticks(100, seed=0, start_price=0.01)
    with pytest.raises(ValueError, match="vols: expected volatilities >= 0"):
        synthetic_ticks(100, seed=0, vols=(1e-4, -1e-4, 0.0))
    with pytest.raises(ValueError, match="vols: expected finite values, got nan"):
        synthetic_ticks(100, seed=0, vols=(1e-4, np.nan, 0.0))
    with pytest.raises(ValueError, match="start: expected a date"):
        synthetic_ticks(100, seed=0, start="not a date")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": None}, "seed: expected an integer >= 0, got None"),
        ({"seed": 1.0}, "seed: expected an integer >= 0, got 1.0"),
        ({"n": 100.0}, "n: expected an integer >= 2"),
        ({"edge": "0.3"}, "edge: expected a finite number"),
        ({"leaky": "no"}, "leaky: expected True or False, got 'no'"),  # not taken as True
        ({"tick_size": "0.01"}, "tick_size: expected a finite number > 0"),
        ({"vols": np.array([1, 2], dtype="timedelta64[s]")}, "vols: expected numbers, got timedeltas"),
        ({"vols": pd.date_range("2024-01-01", periods=3)}, "vols: expected numbers, got datetimes"),
        ({"ticks_per_day": 1e3}, "ticks_per_day: expected an integer >= 2"),
        ({"signal": 1}, "signal: expected one of"),
        ({"start": 20240102}, "start: expected a date such as '2024-01-02', got 20240102"),
    ],
)
def test_a_wrong_kind_is_a_type_error(kwargs, message):
    args = {"seed": 0, **kwargs}
    n = args.pop("n", 100)
    with pytest.raises(TypeError, match=message):
        synthetic_ticks(n, **args)


def test_an_array_where_a_name_is_expected_is_a_type_error():
    with pytest.raises(TypeError, match="signal: expected one of 'queue_imbalance', 'trade_flow'"):
        synthetic_ticks(100, seed=0, signal=np.array(["trade_flow", "x"]))
