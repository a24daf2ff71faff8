"""OnlineFeatures: event by event equal to the batch feature sets, restartable, checkpointable, drift-free.

The batch path replays the same step kernel, so parity alone cannot catch a wrong formula: the reference tests here
compare both paths with an independent pandas implementation of every feature on synthetic books.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signalbench import load_lobster
from signalbench.data import OnlineFeatures, compute_features
from signalbench.data.synthetic import synthetic_ticks

SETS = ["lob_basic", "lob_levels", ["lob_basic", "lob_levels"], ["lob_levels", "lob_basic"]]


def run_online(df: pd.DataFrame, online: OnlineFeatures, *, reset_on_day: bool = True) -> np.ndarray:
    """Feed the frame's rows one by one (reset where the day changes); the rows returned, stacked."""
    X = df[list(online.fields)].to_numpy(np.float64)
    days = df["day"].to_numpy() if reset_on_day and "day" in df.columns else np.zeros(len(df))
    out = np.empty((len(df), len(online.names)))
    for t in range(len(df)):
        if t > 0 and days[t] != days[t - 1]:
            online.reset()
        out[t] = online.update(X[t])
    return out


def assert_parity(online_rows: np.ndarray, batch: pd.DataFrame) -> None:
    """Feature by feature: NaN exactly where the batch has NaN, values within 1e-9."""
    for j, name in enumerate(batch.columns):
        ours, ref = online_rows[:, j], batch[name].to_numpy()
        nan_diff = np.flatnonzero(np.isnan(ours) != np.isnan(ref))
        assert nan_diff.size == 0, f"{name}: NaN positions differ first at row {nan_diff[:1]}"
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=name)


# ------------------------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def amzn(shared_data):
    return load_lobster(shared_data / "lobster" / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip")


@pytest.fixture(scope="module")
def goog(shared_data):
    return load_lobster(shared_data / "lobster" / "LOBSTER_SampleFile_GOOG_2012-06-21_5.zip")


@pytest.mark.parametrize("sets", SETS[:3])
def test_online_equals_batch_over_the_whole_amzn_day(amzn, sets):
    online = OnlineFeatures(sets, levels=1)
    batch = compute_features(amzn, sets)
    assert online.names == tuple(batch.columns)
    rows = run_online(amzn, online)
    assert_parity(rows, batch)
    assert np.isnan(rows[:100]).any() and np.isfinite(rows[-1000:]).all()  # warm-up rows were part of the check


@pytest.mark.parametrize("sets", SETS[:3])
def test_online_equals_batch_over_the_whole_goog_5_level_day(goog, sets):
    online = OnlineFeatures(sets, levels=5)
    batch = compute_features(goog, sets)
    assert online.names == tuple(batch.columns)
    assert_parity(run_online(goog, online), batch)


def test_events_as_redis_gives_them_reach_the_same_rows(amzn):
    """Fields as bytes keys and str/bytes values (repr round-trips a float exactly) through event_vector."""
    part = amzn.iloc[:3000]
    online = OnlineFeatures("lob_basic")
    rows = np.empty((len(part), len(online.names)))
    cols = {f: part[f].to_numpy(np.float64).tolist() for f in online.fields}
    for t in range(len(part)):
        entry = {f.encode(): (repr(v[t]).encode() if t % 2 else repr(v[t])) for f, v in cols.items()}
        entry[b"order_id"] = b"123"  # other fields are ignored
        rows[t] = online.update(online.event_vector(entry))
    assert_parity(rows, compute_features(part, "lob_basic"))


# ------------------------------------------------------------------------------------------- restarts, state


def test_day_restart_matches_batch_groups(lobster_frame):
    df = lobster_frame(900, levels=2, seed=6, days=2)
    for sets in SETS:
        batch = compute_features(df, sets, groups="day")
        assert OnlineFeatures(sets, levels=2).names == tuple(batch.columns)
        assert_parity(run_online(df, OnlineFeatures(sets, levels=2)), batch)
        day2 = (df["day"] == df["day"].iloc[-1]).to_numpy()
        alone = run_online(df[day2], OnlineFeatures(sets, levels=2))
        np.testing.assert_array_equal(run_online(df, OnlineFeatures(sets, levels=2))[day2], alone)
    # without the reset the second day's first rows are not warm-up any more: the restart is what makes them NaN
    carried = run_online(df, OnlineFeatures("lob_basic", levels=2), reset_on_day=False)
    first = int(np.argmax(day2))
    assert np.isnan(compute_features(df, "lob_basic").to_numpy()[first]).any()
    assert np.isfinite(carried[first]).all()


@settings(max_examples=25)
@given(cut=st.integers(0, 400), seed=st.integers(0, 50), levels=st.integers(1, 3))
def test_state_round_trip_continues_bit_for_bit(lobster_frame, cut, seed, levels):
    df = lobster_frame(400, levels=levels, seed=seed)
    X = df[list(OnlineFeatures(levels=levels).fields)].to_numpy(np.float64)
    sets = ["lob_basic", "lob_levels"]
    straight = OnlineFeatures(sets, levels=levels)
    expected = np.array([straight.update(x).copy() for x in X])
    first = OnlineFeatures(sets, levels=levels)
    for x in X[:cut]:
        first.update(x)
    state = first.get_state()
    for x in X[cut:]:  # the original goes on: the checkpoint must not share its arrays
        first.update(x)
    resumed = OnlineFeatures(sets, levels=levels)
    resumed.update(X[-1])  # some unrelated history, replaced by set_state
    resumed.set_state(state)
    rest = np.array([resumed.update(x).copy() for x in X[cut:]]).reshape(-1, len(resumed.names))
    np.testing.assert_array_equal(rest, expected[cut:])


def test_set_state_refuses_a_state_of_another_shape():
    one, three = OnlineFeatures(levels=1), OnlineFeatures(levels=3)
    with pytest.raises(ValueError, match=r"state\['ring'\]: expected float64 of shape \(6, 128\) \(levels=1\)"):
        one.set_state(three.get_state())
    with pytest.raises(ValueError, match="state: expected the arrays .* got no 'cnt'"):
        one.set_state({k: v for k, v in one.get_state().items() if k != "cnt"})
    with pytest.raises(TypeError, match="state: expected a mapping"):
        one.set_state([1, 2])


# ------------------------------------------------------------------------------------------- drift


def _window_sums_exact(values: np.ndarray, w: int, rows: np.ndarray) -> np.ndarray:
    return np.array([math.fsum(values[t - w + 1 : t + 1]) for t in rows])


def test_running_sums_do_not_drift_over_two_million_events():
    """Huge and tiny values in turn: an add/remove sum without re-anchoring keeps the huge values' rounding."""
    n, rng = 2_000_000, np.random.default_rng(7)
    scale = np.where((np.arange(n) // 5000) % 2 == 0, 1e9, 1e-2)  # blocks of huge, then small sizes
    ask_size = np.round(rng.lognormal(3, 1, n) * scale, 3) + 1e-3
    bid_size = np.round(rng.lognormal(3, 1, n) * scale, 3) + 1e-3
    ticks = 10_000_000 + np.cumsum(rng.integers(-1, 2, n))  # prices about $100,000
    df = pd.DataFrame(
        {
            "type": rng.choice([1.0, 4.0, 5.0], n),
            "size": np.round(rng.lognormal(2, 1, n) * scale, 3),
            "direction": rng.choice([-1.0, 1.0], n),
            "ask_price_1": (ticks + rng.integers(1, 3, n)) / 100,
            "ask_size_1": ask_size,
            "bid_price_1": ticks / 100,
            "bid_size_1": bid_size,
        }
    )
    feats = compute_features(df, "lob_basic", groups=None)
    rows = np.sort(rng.choice(np.arange(n - 200_000, n), 300, replace=False))
    rows = rows[scale[rows - 100] < 1]  # windows of small values only, long after huge ones passed
    mid = (df.ask_price_1 + df.bid_price_1).to_numpy() / 2
    ret = np.r_[np.nan, mid[1:] / mid[:-1] - 1]
    v = np.where(df["type"].to_numpy() >= 4, -df.direction.to_numpy() * df["size"].to_numpy(), 0.0)
    ofi = feats["ofi_l1_sum_100"].to_numpy()
    prev_ask, prev_bid = df.ask_price_1.shift().to_numpy(), df.bid_price_1.shift().to_numpy()
    e = (
        (df.bid_price_1 >= prev_bid) * bid_size
        - (df.bid_price_1 <= prev_bid) * np.r_[np.nan, bid_size[:-1]]
        - (df.ask_price_1 <= prev_ask) * ask_size
        + (df.ask_price_1 >= prev_ask) * np.r_[np.nan, ask_size[:-1]]
    )
    e = e.to_numpy()
    np.testing.assert_allclose(ofi[rows], _window_sums_exact(e, 100, rows), rtol=1e-9)
    np.testing.assert_allclose(
        feats["trade_flow_100"].to_numpy()[rows],
        _window_sums_exact(v, 100, rows),
        rtol=1e-9,
        atol=1e-9 * np.abs(v[rows]).max(),
    )
    vol = np.array([np.std(ret[t - 49 : t + 1], ddof=1) for t in rows])
    np.testing.assert_allclose(feats["mid_volatility_50"].to_numpy()[rows], vol, rtol=1e-9)
    # the same sums kept without re-anchoring (differences of running totals) are far off here
    total = np.nancumsum(e)
    naive = total[rows] - total[rows - 100]
    assert np.max(np.abs(naive / _window_sums_exact(e, 100, rows) - 1)) > 1e-9


# ------------------------------------------------------------------------------------------- bad input


def test_event_vector_names_the_field():
    online = OnlineFeatures()
    good = {f: "1.5" for f in online.fields}
    assert online.event_vector(good).dtype == np.float64
    for bad, field in [
        ({**good, "size": "n/a"}, "size"),
        ({**good, "bid_size_1": b"x"}, "bid_size_1"),
        ({k: v for k, v in good.items() if k != "ask_price_1"}, "ask_price_1"),
        ({**good, "type": None}, "type"),
        ({**good, "direction": "1,5"}, "direction"),
        ({**good, "size": [1]}, "size"),
        ({**good, "bid_price_1": ""}, "bid_price_1"),
    ]:
        with pytest.raises(ValueError, match=f"event field '{field}': expected"):
            online.event_vector(bad)
    assert np.isnan(online.event_vector({**good, "ask_price_1": "nan"})[3])  # an empty level
    assert online.event_vector({f.encode(): b"2" for f in online.fields}).tolist() == [2.0] * 7
    mixed = {(f.encode() if i % 2 else f): i for i, f in enumerate(online.fields)}  # str and bytes keys
    assert online.event_vector(mixed).tolist() == list(range(7))
    with pytest.raises(TypeError, match="mapping: expected a mapping"):
        online.event_vector([1.0] * 7)


def test_update_and_constructor_errors_name_the_argument():
    online = OnlineFeatures(levels=2)
    with pytest.raises(ValueError, match=r"x: expected a 1-D array of the 11 fields"):
        online.update(np.zeros(7))
    with pytest.raises(ValueError, match="x: expected a 1-D array"):
        online.update([0.0] * 11)
    with pytest.raises(TypeError, match="x: expected float64 numbers, got dtype <U1"):
        online.update(np.array(["a"] * 11))
    assert online.update(np.ones(11, dtype=np.int64)).shape == (11,)  # integers are converted
    with pytest.raises(ValueError, match="feature_sets: expected the order-book sets"):
        OnlineFeatures("price_volume")
    with pytest.raises(ValueError, match=r"feature_sets: expected the order-book .* \(did you mean 'lob_basic'"):
        OnlineFeatures("lob_basics")
    with pytest.raises(ValueError, match="feature_sets: expected each feature set once"):
        OnlineFeatures(["lob_basic", "lob_basic"])
    with pytest.raises(ValueError, match="levels: expected an integer >= 1, got 0"):
        OnlineFeatures(levels=0)
    with pytest.raises(TypeError, match="levels: expected an integer"):
        OnlineFeatures(levels="2")


def test_update_returns_a_reused_buffer_and_fields_follow_the_loader():
    online = OnlineFeatures(["lob_levels"], levels=2)
    assert online.fields == (
        "type",
        "size",
        "direction",
        "ask_price_1",
        "ask_size_1",
        "bid_price_1",
        "bid_size_1",
        "ask_price_2",
        "ask_size_2",
        "bid_price_2",
        "bid_size_2",
    )
    assert online.names == ("depth_imbalance_1", "depth_imbalance_2", "ofi_l1_sum_10", "ofi_l2_sum_10")
    x = np.array([1, 10, 1, 10.02, 300, 10.0, 100, 10.03, 50, 9.99, np.nan])
    first = online.update(x)
    assert first is online.update(x)
    # level 2: a bid price without a size is a missing value (NaN), not an empty level
    np.testing.assert_allclose(first[:2], [-0.5, np.nan])


@pytest.mark.parametrize(("field", "value"), [("size", -100.0), ("ask_price_1", -10.0), ("bid_size_2", -1.0),
                                             ("ask_price_2", np.inf), ("bid_price_1", -np.inf), ("size", np.inf),
                                             ("type", np.inf)])  # fmt: skip
def test_update_refuses_negative_sizes_prices_and_infinities_and_keeps_the_state(lobster_frame, field, value):
    """A bad event raises a ValueError naming its field and leaves the state as it was: the rows after it are
    those of the same events without it (the streaming consumer relies on this)."""
    df = lobster_frame(300, levels=2, seed=4)
    sets = ["lob_basic", "lob_levels"]
    online = OnlineFeatures(sets, levels=2)
    X = df[list(online.fields)].to_numpy(np.float64)
    for t in range(150):
        online.update(X[t])
    before = online.get_state()
    bad = X[150].copy()
    bad[online.fields.index(field)] = value
    with pytest.raises(ValueError, match=rf"event field '{field}': expected a finite value, >= 0 for a size or "
                                         rf"price \(NaN: missing\), got {value}"):  # fmt: skip
        online.update(bad)
    for key, array in online.get_state().items():
        np.testing.assert_array_equal(array, before[key], err_msg=key)
    rows = np.array([online.update(X[t]).copy() for t in range(150, 300)])
    assert_parity(rows, compute_features(df, sets).iloc[150:])


def test_update_accepts_nan_zero_and_negative_direction():
    """NaN is a missing value (an empty level), zero a size or price the batch path turns into NaN or inf."""
    online = OnlineFeatures(levels=1)
    assert online.update(np.array([1.0, 0.0, -1.0, 10.01, 0.0, 10.0, 0.0])).shape == (11,)
    assert online.update(np.array([4.0, 5.0, -1.0, np.nan, np.nan, 0.0, 3.0])).shape == (11,)


# ------------------------------------------------------------------------------------------- independent reference


def reference(df: pd.DataFrame, levels: int) -> pd.DataFrame:
    """The LOB features from their definitions, with pandas per day (not the kernel)."""
    out = pd.DataFrame(index=df.index)
    ap, aq, bp, bq = (df[f"{k}_1"] for k in ("ask_price", "ask_size", "bid_price", "bid_size"))
    mid = (ap + bp) / 2
    out["spread_bps"] = (ap - bp) / mid * 1e4
    micro = ((ap * bq + bp * aq) / (aq + bq)).replace([np.inf, -np.inf], np.nan)
    out["microprice_dev_bps"] = (micro - mid) / mid * 1e4

    def roll(s, w):
        return s.groupby(df["day"], sort=False).transform(lambda x: x.rolling(w).sum())

    ofi = {}
    for i in range(1, levels + 1):
        a_p, a_q, b_p, b_q = (df[f"{k}_{i}"] for k in ("ask_price", "ask_size", "bid_price", "bid_size"))
        b_q, a_q = b_q.where(b_p.notna(), 0.0), a_q.where(a_p.notna(), 0.0)  # an empty level has size 0
        total = a_q + b_q
        out[f"depth_imbalance_{i}"] = ((b_q - a_q) / total).where(total > 0, total * 0.0)  # NaN stays NaN
        b_q, a_q = b_q.fillna(0.0), a_q.fillna(0.0)
        b_p, a_p = b_p.fillna(-np.inf), a_p.fillna(np.inf)
        frame = pd.DataFrame({"bp": b_p, "bq": b_q, "ap": a_p, "aq": a_q, "day": df["day"]})
        prev = frame.groupby("day", sort=False).shift(1)
        e = (b_p >= prev.bp) * b_q - (b_p <= prev.bp) * prev.bq - (a_p <= prev.ap) * a_q + (a_p >= prev.ap) * prev.aq
        ofi[i] = e.where(prev.bp.notna())
        out[f"ofi_l{i}_sum_10"] = roll(ofi[i], 10)
    out["ofi_l1_sum_100"] = roll(ofi[1], 100)
    out["ofi_sum_10"] = roll(sum(ofi.values()), 10)
    v = pd.Series(np.where(df["type"].isin([4, 5]), -df["direction"] * df["size"], 0.0), index=df.index)
    num, den = roll(v, 10), roll(v.abs(), 10)
    out["trade_imbalance_10"] = (num / den).where(den != 0, 0.0).where(num.notna())
    out["trade_flow_100"] = roll(v, 100)
    for k in (1, 10):
        out[f"mid_ret_{k}"] = mid / mid.groupby(df["day"], sort=False).shift(k) - 1
    two_pass = lambda x: x.rolling(50).apply(lambda a: a.std(ddof=1), raw=True)  # noqa: E731
    out["mid_volatility_50"] = out["mid_ret_1"].groupby(df["day"], sort=False).transform(two_pass)
    return out


@settings(max_examples=20)
@given(
    n=st.integers(50, 400),
    levels=st.integers(1, 3),
    days=st.integers(1, 3),
    seed=st.integers(0, 10_000),
    holes=st.floats(0, 0.2),
)
def test_features_match_an_independent_pandas_reference(lobster_frame, n, levels, days, seed, holes):
    df = lobster_frame(n, levels=levels, seed=seed, days=days)
    rng = np.random.default_rng(seed)
    for side in ("ask", "bid"):  # an empty best level now and then (price and size NaN, as the loader gives)
        empty = rng.random(n) < holes
        df.loc[empty, [f"{side}_price_1", f"{side}_size_1"]] = np.nan
    ref = reference(df, levels)
    for sets in (["lob_basic", "lob_levels"], "lob_basic"):
        batch = compute_features(df, sets)
        assert_parity(batch.to_numpy(), ref[batch.columns])
        assert_parity(run_online(df, OnlineFeatures(sets, levels=levels)), ref[batch.columns])


def test_synthetic_ticks_trade_columns_give_the_same_features_as_lobster_ones():
    ticks = synthetic_ticks(2000, seed=3, levels=2, ticks_per_day=1000).data
    as_lobster = ticks.assign(type=4.0, size=ticks["volume"], direction=-ticks["trade_sign"])
    pd.testing.assert_frame_equal(compute_features(ticks, "lob_basic"), compute_features(as_lobster, "lob_basic"))
    v = (ticks["trade_sign"] * ticks["volume"]).groupby(ticks["day"]).transform(lambda s: s.rolling(100).sum())
    np.testing.assert_allclose(compute_features(ticks, "lob_basic")["trade_flow_100"], v, equal_nan=True)


def test_zero_sizes_and_prices_give_nan_or_inf_not_an_exception():
    """Divisions by zero (both queues empty of shares, a zero mid) follow IEEE rules in both paths, as before."""
    df = pd.DataFrame(
        {
            "type": [1.0, 4.0, 4.0, 1.0],
            "size": [5.0, 5.0, 5.0, 5.0],
            "direction": [1.0, 1.0, -1.0, 1.0],
            "ask_price_1": [10.01, 0.0, 10.02, 10.02],
            "ask_size_1": [0.0, 3.0, 0.0, 2.0],
            "bid_price_1": [10.0, 0.0, 10.0, 10.0],
            "bid_size_1": [0.0, 4.0, 0.0, 2.0],
        }
    )
    batch = compute_features(df, ["lob_basic", "lob_levels"])
    assert_parity(run_online(df, OnlineFeatures(["lob_basic", "lob_levels"])), batch)
    assert np.isnan(batch["microprice_dev_bps"][0]) and batch["depth_imbalance_1"][0] == 0.0
    assert np.isnan(batch["spread_bps"][1]) and np.isinf(batch["mid_ret_1"][2])
