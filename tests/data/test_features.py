from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view
from ta.momentum import RSIIndicator
from ta.trend import EMAIndicator, SMAIndicator

from signalbench.data import features as F
from signalbench.data.synthetic import synthetic_ticks

RNG = np.random.default_rng(12345)


def _groups(n, sizes):
    return np.repeat(np.arange(len(sizes)), sizes)[:n]


def _by_group(x, groups, fn):
    s = pd.Series(x)
    return s.groupby(groups, sort=False).transform(fn).to_numpy()


# ------------------------------------------------------------------------------------------- generic transforms


@pytest.mark.parametrize("window", [1, 2, 5, 20])
def test_rolling_sum_mean_std_match_pandas_per_group_with_missing_values(window):
    x = RNG.normal(100, 5, size=600)
    x[[13, 200, 201, 450]] = np.nan
    x[300] = np.inf  # non-finite counts as missing
    groups = _groups(600, [250, 100, 250])
    ref_x = np.where(np.isfinite(x), x, np.nan)
    for ours, fn in [
        (F.rolling_sum(x, window, groups=groups), lambda s: s.rolling(window).sum()),
        (F.rolling_mean(x, window, groups=groups), lambda s: s.rolling(window).mean()),
        (F.rolling_std(x, window, groups=groups), lambda s: s.rolling(window).std()),
        (F.rolling_std(x, window, groups=groups, ddof=0), lambda s: s.rolling(window).std(ddof=0)),
    ]:
        ref = _by_group(ref_x, groups, fn)
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_rolling_kernels_stay_accurate_over_a_long_series():
    x = 100 + np.cumsum(RNG.normal(0, 0.01, size=200_000))
    ref = pd.Series(x).rolling(50)
    np.testing.assert_allclose(F.rolling_mean(x, 50), ref.mean(), rtol=1e-12, equal_nan=True)
    # pandas' add/remove update drifts (~1e-7 relative here); an exact two-pass std per window is the reference.
    exact = np.r_[np.full(49, np.nan), sliding_window_view(x, 50).std(axis=1, ddof=1)]
    np.testing.assert_allclose(F.rolling_std(x, 50), exact, rtol=1e-11, equal_nan=True)
    np.testing.assert_allclose(F.rolling_std(x, 50), ref.std(), rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("k", [1, 5, 10])
def test_returns_match_pct_change_per_group(k):
    p = 100 + np.cumsum(RNG.normal(0, 0.1, size=300))
    groups = _groups(300, [120, 180])
    ref = _by_group(p, groups, lambda s: s.pct_change(k))
    np.testing.assert_allclose(F.returns(p, k, groups=groups), ref, rtol=1e-12, equal_nan=True)
    assert np.isnan(F.returns(p, k, groups=groups)[120 : 120 + k]).all()


@pytest.mark.parametrize("w", [5, 10, 20, 50])
def test_ma_ratio_and_volatility_match_pandas_formulas(w):
    p = pd.Series(100 + np.cumsum(RNG.normal(0, 0.05, size=400)))
    np.testing.assert_allclose(F.ma_ratio(p, w), p / p.rolling(w).mean() - 1, rtol=1e-10, atol=1e-14, equal_nan=True)
    np.testing.assert_allclose(
        F.rolling_volatility(p, w), p.pct_change().rolling(w).std(), rtol=1e-8, atol=1e-15, equal_nan=True
    )


def test_volume_ratio_and_dispersion_match_pandas_formulas():
    v = pd.Series(RNG.exponential(100, size=300).round())
    np.testing.assert_allclose(F.volume_ratio(v, 20), v / v.rolling(20).mean(), rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(
        F.volume_dispersion(v, 20), v.rolling(20).std() / v.rolling(20).mean(), rtol=1e-8, equal_nan=True
    )
    zeros = np.zeros(30)
    assert np.all(F.volume_ratio(zeros, 5)[4:] == 0) and np.all(F.volume_dispersion(zeros, 5)[4:] == 0)


def test_sma_and_ema_match_ta():
    close = pd.Series(100 + np.cumsum(RNG.normal(0, 0.2, size=500)))
    np.testing.assert_allclose(F.sma(close, 20), SMAIndicator(close, 20).sma_indicator(), rtol=1e-12, equal_nan=True)
    ours = F.ema(close, 20)
    ref = EMAIndicator(close, 20).ema_indicator().to_numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))  # same warm-up: first value at row 19
    np.testing.assert_allclose(ours, ref, rtol=1e-12, equal_nan=True)


def test_ema_skips_missing_values_like_pandas_ignore_na():
    x = pd.Series(RNG.normal(size=80))
    x[[5, 6, 40]] = np.nan
    ref = x.ewm(span=10, adjust=False, ignore_na=True, min_periods=10).mean()
    np.testing.assert_allclose(F.ema(x, 10), ref, rtol=1e-12, equal_nan=True)


def test_rsi_matches_wilder_reference_and_ta_after_warm_up():
    close = pd.Series(100 + np.cumsum(RNG.normal(0, 0.2, size=1000)))
    ours = F.rsi(close, 14)
    # Independent reference with our documented convention: smoothing seeded with the first difference.
    d = close.diff().iloc[1:]
    up = d.clip(lower=0).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    dn = (-d).clip(lower=0).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    ref = np.r_[np.nan, (100 - 100 / (1 + up / dn)).to_numpy()]
    np.testing.assert_allclose(ours, ref, rtol=1e-10, equal_nan=True)
    assert np.isnan(ours[:14]).all() and np.isfinite(ours[14:]).all()
    # ta seeds its averages with a fake zero difference at row 0; the gap decays like (13/14)^t.
    ta_rsi = RSIIndicator(close, 14).rsi().to_numpy()
    np.testing.assert_allclose(ours[600:], ta_rsi[600:], rtol=1e-9)
    assert not np.allclose(ours[14:30], ta_rsi[14:30])


def test_rsi_edge_cases():
    assert np.all(F.rsi(np.arange(30.0), 14)[14:] == 100)
    assert np.all(F.rsi(np.arange(30.0)[::-1], 14)[14:] == 0)
    assert np.all(F.rsi(np.full(30, 5.0), 14)[14:] == 50)  # flat: 50, where ta reports 100


# ------------------------------------------------------------------------------------------- order book


def _book(rows):
    cols = ["bid_price_1", "bid_size_1", "ask_price_1", "ask_size_1"]
    return pd.DataFrame(rows, columns=cols)


def test_ofi_hand_worked_example():
    # Cont, Kukanov, Stoikov (2014), eq. 2, worked by hand row by row:
    df = _book(
        [
            [10.00, 100, 10.02, 200],  # t0: no previous state -> NaN
            [10.00, 150, 10.02, 200],  # t1: bid unchanged, queue +50          -> +150 - 100 = +50
            [10.01, 30, 10.02, 180],  # t2: bid improves (+30), ask queue -20 -> +30 - 180 + 200 = +50
            [10.00, 120, 10.03, 70],  # t3: bid drops (-30), ask retreats (+180) -> -30 + 180 = +150
            [10.00, 120, 10.01, 40],  # t4: ask improves (-40), bid same (120-120) -> 0 - 40 = -40
        ]
    )
    expected = [np.nan, 50.0, 50.0, 150.0, -40.0]
    np.testing.assert_array_equal(F.order_flow_imbalance(df), expected)
    np.testing.assert_array_equal(F.rolling_sum(F.order_flow_imbalance(df), 2), [np.nan, np.nan, 100, 200, 110])


def test_ofi_restarts_each_group_and_handles_empty_levels():
    df = _book([[10.0, 100, 10.02, 200], [10.0, 150, 10.02, 200], [10.0, 170, 10.02, 200]])
    np.testing.assert_array_equal(F.order_flow_imbalance(df, groups=[1, 2, 2]), [np.nan, np.nan, 20.0])
    empty = _book([[np.nan, np.nan, 10.02, 200], [10.0, 40, 10.02, 200], [np.nan, np.nan, 10.02, 200]])
    # a bid appearing adds its size; a bid vanishing removes it (empty = price -inf, size 0)
    np.testing.assert_array_equal(F.order_flow_imbalance(empty), [np.nan, 40.0, -40.0])


def test_multi_level_ofi_is_the_sum_of_levels(lobster_frame):
    df = lobster_frame(200, levels=3, seed=3)
    total = F.order_flow_imbalance_total(df)
    parts = sum(F.order_flow_imbalance(df, level=i) for i in (1, 2, 3))
    np.testing.assert_allclose(total, parts, equal_nan=True)
    np.testing.assert_allclose(F.order_flow_imbalance_total(df, levels=1), F.order_flow_imbalance(df), equal_nan=True)
    assert np.isfinite(total[1:]).all()
    with pytest.raises(ValueError, match="levels"):
        F.order_flow_imbalance_total(df, levels=4)


def test_mid_spread_microprice_hand_values():
    df = _book([[10.00, 300, 10.04, 100], [10.00, 300, np.nan, np.nan]])
    np.testing.assert_allclose(F.mid_price(df), [10.02, np.nan])
    np.testing.assert_allclose(F.spread(df), [0.04, np.nan])
    np.testing.assert_allclose(F.spread_bps(df), [0.04 / 10.02 * 1e4, np.nan])
    # (10.04 * 300 + 10.00 * 100) / 400 = 10.03: leans to the ask, whose queue is smaller
    np.testing.assert_allclose(F.microprice(df), [10.03, np.nan])
    np.testing.assert_allclose(F.microprice_deviation_bps(df), [0.01 / 10.02 * 1e4, np.nan])
    np.testing.assert_allclose(F.depth_imbalance(df, 1), [0.5, 1.0])  # empty ask level counts as size 0


def test_microprice_deviation_identity(lobster_frame):
    df = lobster_frame(300, levels=1, seed=5)
    expected = F.spread(df) / 2 * F.depth_imbalance(df) / F.mid_price(df) * 1e4
    np.testing.assert_allclose(F.microprice_deviation_bps(df), expected, rtol=1e-9, atol=1e-12)


def test_depth_imbalance_per_level(lobster_frame):
    df = lobster_frame(100, levels=2, seed=1)
    qb = df["bid_size_2"].fillna(0)
    qa = df["ask_size_2"].fillna(0)
    ref = ((qb - qa) / (qb + qa)).fillna(0.0).to_numpy()  # both sides empty: 0
    np.testing.assert_allclose(F.depth_imbalance(df, 2), ref)
    assert ((qb + qa) == 0).any()


def test_signed_trade_volume_lobster_convention():
    df = pd.DataFrame(
        {"type": [4, 4, 5, 1, 3, 5], "size": [100, 30, 50, 70, 10, 5], "direction": [1, -1, -1, 1, -1, 1]}
    )
    # execution of a buy limit order (direction 1) = seller-initiated = negative
    np.testing.assert_array_equal(F.signed_trade_volume(df), [-100, 30, 50, 0, 0, -5])
    np.testing.assert_array_equal(F.trade_flow(df, 3), [np.nan, np.nan, -20, 80, 50, -5])
    np.testing.assert_allclose(F.trade_imbalance(df, 3), [np.nan, np.nan, -20 / 180, 80 / 80, 1.0, -1.0])
    np.testing.assert_array_equal(F.trade_imbalance(df.iloc[3:5], 2), [np.nan, 0.0])  # no trades: 0
    with pytest.raises(ValueError, match="trade_sign"):
        F.signed_trade_volume(pd.DataFrame({"x": [1.0]}))


def test_synthetic_information_is_exactly_a_causal_feature():
    q = synthetic_ticks(5000, seed=4, edge=0.5)
    np.testing.assert_array_equal(F.depth_imbalance(q.data, 1), q.data["imbalance"])
    t = synthetic_ticks(5000, seed=4, edge=0.5, signal="trade_flow", flow_window=7, ticks_per_day=2500)
    feat = F.trade_imbalance(t.data, 7, groups=t.data["day"])
    warm = np.isnan(feat)
    assert warm.sum() == 2 * 6
    np.testing.assert_allclose(feat[~warm], t.data["imbalance"].to_numpy()[~warm], rtol=1e-12)
    assert np.all(t.data["imbalance"].to_numpy()[warm] == 0)


# ------------------------------------------------------------------------------------------- feature sets


SETS = ["lob_basic", "lob_levels", "price_volume", "bar_returns", "close_indicators"]


@pytest.mark.parametrize("name", SETS)
def test_feature_sets_run_on_lobster_and_synthetic_frames(name, lobster_frame):
    frames = [lobster_frame(400, levels=3, seed=2), synthetic_ticks(400, seed=2, levels=2).data]
    for df in frames:
        out = F.compute_features(df, name)
        assert out.index.equals(df.index)
        assert (out.dtypes == np.float64).all()
        assert out.iloc[-100:].notna().all().all(), out.iloc[-100:].isna().sum()
        assert out.iloc[0].isna().any()


def test_feature_sets_column_names(lobster_frame):
    df = lobster_frame(100, levels=2)
    assert list(F.compute_features(df, "close_indicators").columns) == ["close", "volume", "sma_20", "ema_20", "rsi_14"]
    assert len(F.compute_features(df, "price_volume").columns) == 17
    assert "depth_imbalance_2" in F.compute_features(df, "lob_levels").columns
    both = F.compute_features(df, ["lob_basic", "close_indicators"])
    assert both.shape[1] == 11 + 5
    with pytest.raises(ValueError, match="features: expected each feature set once, got 'close_indicators' twice"):
        F.compute_features(df, ["close_indicators", "close_indicators"])


def test_overlapping_sets_combine_keeping_one_copy_of_a_shared_column(lobster_frame):
    df = lobster_frame(300, levels=3, seed=4, days=2)
    basic, levels = F.compute_features(df, "lob_basic"), F.compute_features(df, "lob_levels")
    shared = [c for c in basic.columns if c in levels.columns]
    assert shared == ["depth_imbalance_1", "ofi_l1_sum_10"]
    both = F.compute_features(df, ["lob_basic", "lob_levels"])
    assert list(both.columns) == list(basic.columns) + [c for c in levels.columns if c not in shared]
    pd.testing.assert_frame_equal(both[basic.columns], basic)
    pd.testing.assert_frame_equal(both[levels.columns], levels)
    other_way = F.compute_features(df, ["lob_levels", "lob_basic"])
    assert list(other_way.columns) == list(levels.columns) + [c for c in basic.columns if c not in shared]


def test_sets_that_disagree_under_one_name_are_an_error(lobster_frame):
    df = lobster_frame(100, levels=1, seed=1)
    # "spread" is the book's spread in price_volume; a set that makes another "spread" clashes with it
    other = F.FeatureSet("wide", "test set", lambda frame, groups: {"spread": 2 * F.spread(frame)})
    same = F.FeatureSet("same", "test set", lambda frame, groups: {"spread": F.spread(frame)})
    with pytest.raises(ValueError, match="different values of 'spread' from 'price_volume' and 'wide'"):
        F.compute_features(df, ["price_volume", other])
    assert F.compute_features(df, ["price_volume", same]).shape[1] == 17


def test_price_volume_on_bars_uses_close_and_matches_pandas():
    bars = pd.DataFrame(
        {
            "close": 50 + np.cumsum(RNG.normal(0, 0.1, 200)),
            "volume": RNG.integers(1, 1000, 200).astype(float),
            "spread": RNG.uniform(0.01, 0.05, 200),
            "imbalance": RNG.uniform(-1, 1, 200),
        }
    )
    out = F.compute_features(bars, "price_volume")
    c = bars["close"]
    np.testing.assert_allclose(out["return_5"], c.pct_change(5), equal_nan=True)
    np.testing.assert_allclose(
        out["spread_ma_ratio"], bars.spread / bars.spread.rolling(20).mean(), rtol=1e-10, equal_nan=True
    )
    np.testing.assert_allclose(
        out["imbalance_ma"], bars.imbalance.rolling(10).mean(), rtol=1e-9, atol=1e-12, equal_nan=True
    )


def test_registry_errors():
    assert set(SETS) == set(F.available_feature_sets())
    with pytest.raises(ValueError, match="did you mean 'lob_basic'"):
        F.feature_set("lob_basics")
    with pytest.raises(ValueError, match="features: expected one of 'bar_returns', 'close_indicators', 'lob_basic'"):
        F.compute_features(pd.DataFrame({"close": [1.0]}), "nope")
    with pytest.raises(ValueError, match="df: expected a column 'ask_price_1'"):
        F.compute_features(pd.DataFrame({"close": [1.0, 2.0]}), "lob_basic")


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="window: expected an integer >= 1, got 0"):
        F.rolling_mean([1.0, 2.0], 0)
    with pytest.raises(ValueError, match=r"x: expected shape \(n,\)"):
        F.sma(np.ones((3, 2)), 2)
    with pytest.raises(ValueError, match="contiguous"):
        F.group_ids(["a", "a", "b", "a"], 4)
    with pytest.raises(ValueError, match="one label per row"):
        F.rolling_sum([1.0, 2.0, 3.0], 2, groups=[1, 1])
    with pytest.raises(ValueError, match="groups: expected a column of df .*'session'"):
        F.compute_features(pd.DataFrame({"close": [1.0, 2.0]}), "close_indicators", groups="session")


# The same mistake gets the same exception type everywhere: a wrong kind is a TypeError, a wrong value a ValueError.
WRONG_KINDS = [
    (lambda: F.rolling_mean([1.0, 2.0], 1.5), "window: expected an integer >= 1, got 1.5"),
    (lambda: F.rolling_std([1.0, 2.0], 2, ddof="1"), "ddof: expected an integer >= 0"),
    (lambda: F.returns([1.0, 2.0], True), "horizon: expected an integer >= 1, got True"),
    (lambda: F.depth_imbalance(pd.DataFrame({"bid_size_1": [1.0]}), level=None), "level: expected an integer"),
    (lambda: F.compute_features(pd.DataFrame({"close": [1.0]}), 3), r"features: expected a name \(str\) or a list"),
    (
        lambda: F.compute_features(pd.DataFrame({"close": [1.0]}), ["close_indicators", 3]),
        r"features\[1\]: expected a name",
    ),
    (lambda: F.feature_set(7), "features: expected one of 'bar_returns', 'close_indicators', 'lob_basic'"),
    (lambda: F.feature_set(np.array([1, 2])), "features: expected one of"),
    (lambda: F.compute_features({"close": [1.0]}, "close_indicators"), "df: expected a pandas DataFrame"),
    (
        lambda: F.compute_features(pd.DataFrame({"close": [1.0, 2.0]}), "close_indicators", groups=3),
        "groups: expected a column name, one label per row, or None",
    ),
    (lambda: F.order_flow_imbalance_total(pd.DataFrame(), levels="2"), "levels: expected an integer >= 1"),
    (lambda: F.rolling_sum(["1.0", "n/a"], 1), "x: expected numbers, got strings"),
    (lambda: F.rolling_sum(pd.Series([1.0, "n/a"]), 1), "x: expected numbers, got .n/a. at row 1"),  # not float("n/a")
]


@pytest.mark.parametrize(("call", "message"), WRONG_KINDS)
def test_a_wrong_kind_is_a_type_error_naming_the_argument(call, message):
    with pytest.raises(TypeError, match=message):
        call()


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("close", pd.date_range("2024-01-02 09:30", periods=40, freq="s")),  # would be 1.7e18 "dollars"
        ("volume", pd.to_timedelta(np.arange(40), unit="s")),
        ("ask_price_1", np.array(["100.0"] * 40, dtype=object)),
    ],
)
def test_datetime_or_text_columns_are_a_type_error_naming_the_column(lobster_frame, column, values):
    df = synthetic_ticks(40, seed=1).data
    df = df.assign(close=np.linspace(100, 101, 40)) if column == "close" else df
    df[column] = values
    set_name = "price_volume" if column != "ask_price_1" else "lob_basic"
    with pytest.raises(TypeError, match=f"df: expected numbers, got .* column '{column}'"):
        F.compute_features(df, set_name)


def test_datetime_series_into_a_primitive_is_a_type_error():
    stamps = pd.Series(pd.date_range("2024-01-02", periods=5), name="when")
    with pytest.raises(TypeError, match="x: expected numbers, got datetimes .* column 'when'"):
        F.rolling_mean(stamps, 2)
    with pytest.raises(TypeError, match="price: expected numbers, got timedeltas"):
        F.returns(np.arange(5).astype("timedelta64[s]"), 1)


@pytest.mark.parametrize("order", ["reversed", "one swap"])
def test_frames_out_of_time_order_are_refused_naming_the_first_row(lobster_frame, order):
    df = lobster_frame(200, levels=2, seed=8)
    if order == "reversed":
        bad, row = df.iloc[::-1], 1
    else:
        positions = np.arange(200)
        positions[[120, 121]] = positions[[121, 120]]
        bad, row = df.iloc[positions], 121
    message = f"df's index: expected timestamps sorted in time .* at row {row}; sort it first"
    for name in SETS:
        with pytest.raises(ValueError, match=message):
            F.compute_features(bad, name)
    for fn in (
        F.mid_price,
        F.spread_bps,
        F.half_spread_bps,
        F.depth_imbalance,
        F.order_flow_imbalance,
        F.signed_trade_volume,
        F.price_series,
        F.volume_series,
    ):
        with pytest.raises(ValueError, match=message):
            fn(bad)
    mid = pd.Series(F.mid_price(df), index=df.index)
    with pytest.raises(ValueError, match=f"x's index: expected timestamps sorted in time .* at row {row}"):
        F.rolling_mean(mid.iloc[::-1] if order == "reversed" else mid.iloc[positions], 5)
    # equal timestamps are in order (LOBSTER has many events per nanosecond stamp); no time index: rows as given
    tied = df.set_axis(df.index[:1].repeat(200))
    assert F.compute_features(tied, "lob_basic").shape == (200, 11)
    assert F.compute_features(bad.reset_index(drop=True), "lob_basic").shape == (200, 11)


def test_half_spread_bps_is_half_the_quoted_spread_in_bps(lobster_frame):
    df = lobster_frame(300, levels=1, seed=9)
    ask, bid = df["ask_price_1"].to_numpy(), df["bid_price_1"].to_numpy()
    np.testing.assert_allclose(F.half_spread_bps(df), (ask - bid) / 2 / ((ask + bid) / 2) * 1e4, rtol=1e-12)
    np.testing.assert_allclose(F.half_spread_bps(df), F.spread_bps(df) / 2, rtol=1e-12)
    book = _book([[10.00, 300, 10.04, 100], [10.00, 300, np.nan, np.nan]])
    np.testing.assert_allclose(F.half_spread_bps(book), [0.02 / 10.02 * 1e4, np.nan])


# ------------------------------------------------------------------------------------------- causality


def _assert_same(a: pd.DataFrame, b: pd.DataFrame):
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize("name", SETS)
@given(n=st.integers(60, 160), t=st.integers(0, 159), seed=st.integers(0, 2**16), data_seed=st.integers(0, 9))
def test_every_feature_set_is_causal(name, lobster_frame, n, t, seed, data_seed):
    t = t % n
    df = lobster_frame(n, levels=3, seed=data_seed, days=2)
    base = F.compute_features(df, name)
    other = lobster_frame(n, levels=3, seed=seed + 100, days=2)  # unrelated values after t
    numeric = [c for c in df.columns if c not in ("day", "halt")]
    changed = df.copy()
    changed.iloc[t + 1 :, [df.columns.get_loc(c) for c in numeric]] = other[numeric].iloc[t + 1 :].to_numpy()
    after = F.compute_features(changed, name)
    _assert_same(base.iloc[: t + 1], after.iloc[: t + 1])
    if t + 1 < n:
        assert not base.iloc[t + 1 :].equals(after.iloc[t + 1 :])  # the perturbation did reach the features


@given(n=st.integers(30, 120), t=st.integers(0, 119), seed=st.integers(0, 2**16))
def test_every_primitive_is_causal(n, t, seed):
    t = t % n
    rng = np.random.default_rng(seed)
    x = 100 + np.cumsum(rng.normal(size=n))
    y = x.copy()
    y[t + 1 :] = rng.normal(50, 10, size=n - t - 1)
    groups = _groups(n, [n // 3, n])
    fns = [
        lambda v: F.rolling_sum(v, 7, groups=groups),
        lambda v: F.rolling_mean(v, 7, groups=groups),
        lambda v: F.rolling_std(v, 7, groups=groups),
        lambda v: F.returns(v, 3, groups=groups),
        lambda v: F.ma_ratio(v, 5, groups=groups),
        lambda v: F.rolling_volatility(v, 5, groups=groups),
        lambda v: F.volume_ratio(v, 5, groups=groups),
        lambda v: F.volume_dispersion(v, 5, groups=groups),
        lambda v: F.sma(v, 5, groups=groups),
        lambda v: F.ema(v, 5, groups=groups),
        lambda v: F.rsi(v, 5, groups=groups),
    ]
    for fn in fns:
        np.testing.assert_array_equal(fn(x)[: t + 1], fn(y)[: t + 1])


@pytest.mark.parametrize("name", SETS)
def test_day_two_does_not_depend_on_day_one(name, lobster_frame):
    df = lobster_frame(600, levels=3, seed=11, days=2)
    day2 = df["day"] == df["day"].iloc[-1]
    full = F.compute_features(df, name)
    alone = F.compute_features(df[day2], name)
    _assert_same(full[day2.to_numpy()], alone)
    # and a different day 1 changes nothing on day 2
    other = lobster_frame(600, levels=3, seed=99, days=2)
    mixed = pd.concat([other[~day2.to_numpy()], df[day2.to_numpy()]])
    _assert_same(F.compute_features(mixed, name)[day2.to_numpy()], alone)
    # warm-up restarts: the first row of day 2 has NaNs whenever the set has a rolling feature
    assert full[day2.to_numpy()].iloc[0].isna().any()


def test_groups_none_reaches_across_days(lobster_frame):
    df = lobster_frame(300, levels=1, seed=2, days=2)
    day2 = (df["day"] == df["day"].iloc[-1]).to_numpy()
    joined = F.compute_features(df, "close_indicators", groups=None)
    assert joined[day2].iloc[0].notna().all()


@given(steps=st.lists(st.integers(-3, 5), min_size=2, max_size=60))
def test_the_first_row_out_of_order_is_the_one_named(steps):
    # timestamps that mostly move forward (ties allowed) and sometimes back
    stamps = pd.Timestamp("2024-01-02 09:30") + pd.to_timedelta(np.cumsum(steps), unit="ms")
    df = pd.DataFrame({"close": np.linspace(10, 11, len(steps)), "volume": 1.0}, index=stamps)
    first_back = next((i for i in range(1, len(steps)) if stamps[i] < stamps[i - 1]), None)
    if first_back is None:
        assert F.compute_features(df, "close_indicators").shape == (len(steps), 5)
    else:
        with pytest.raises(
            ValueError, match=f"got {stamps[first_back]} after {stamps[first_back - 1]} at row {first_back};"
        ):
            F.compute_features(df, "close_indicators")


def test_bar_returns_needs_no_book_and_matches_price_volume():
    """The bar set is price_volume without the spread and imbalance columns, and runs on plain OHLCV bars."""
    from signalbench.data import compute_features, synthetic_ticks

    ticks = synthetic_ticks(3000, seed=1, ticks_per_day=1500).data
    full = compute_features(ticks, "price_volume")
    bars = compute_features(ticks, "bar_returns")
    pd.testing.assert_frame_equal(bars, full[bars.columns])
    assert not {"spread", "imbalance"} & set(bars.columns)
    ohlcv = pd.DataFrame({"close": ticks["price"].to_numpy(), "volume": ticks["volume"].to_numpy()}, index=ticks.index)
    assert compute_features(ohlcv, "bar_returns").shape == (3000, 13)
    with pytest.raises(ValueError, match="spread"):
        compute_features(ohlcv, "price_volume")
