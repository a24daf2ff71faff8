"""Entry/exit trading rules: the Numba kernel against a plain-Python reference, hand-worked paths, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from signalbench.strategies import rules
from signalbench.strategies._kernels import rules_2d_nb

NAN = np.nan


# ---------------------------------------------------------------- plain-Python reference


def reference_rules(
    pred,
    price,
    *,
    threshold=0.0,
    short_threshold=None,
    rsi=None,
    rsi_long_max=70.0,
    rsi_short_min=30.0,
    volume=None,
    volume_window=20,
    volume_factor=1.0,
    stop_loss=None,
    take_profit=None,
    max_hold=None,
    exit_on_opposite=True,
    reenter_on_exit_bar=False,
):
    """A literal, loop-per-bar reading of the documented rules (no Numba, no vectorisation)."""
    short_threshold = threshold if short_threshold is None else short_threshold
    n = len(pred)
    out = []
    pos, entry_price, entry_bar = 0, None, None
    for t in range(n):
        if math.isnan(pred[t]):
            pos = 0
            out.append(0.0)
            continue
        if volume is None:
            vol_ok = True
        elif t < volume_window:
            vol_ok = False
        else:
            vol_ok = volume[t] > volume_factor * (sum(volume[t - volume_window : t]) / volume_window)
        r = 50.0 if rsi is None else rsi[t]
        lo, hi = (-math.inf, math.inf) if rsi is None else (rsi_short_min, rsi_long_max)
        long_signal = vol_ok and pred[t] > threshold and r < hi
        short_signal = vol_ok and pred[t] < -short_threshold and r > lo
        signal = 1 if long_signal else (-1 if short_signal else 0)
        exited = False
        if pos != 0:
            trade_return = pos * (price[t] / entry_price - 1.0)
            if (
                (stop_loss is not None and trade_return <= -stop_loss)
                or (take_profit is not None and trade_return >= take_profit)
                or (max_hold is not None and t - entry_bar >= max_hold)
                or (exit_on_opposite and signal == -pos)
            ):
                pos, exited = 0, True
        if pos == 0 and signal != 0 and (reenter_on_exit_bar or not exited):
            pos, entry_price, entry_bar = signal, price[t], t
        out.append(float(pos))
    return np.array(out)


@st.composite
def market(draw, max_n=60, n=None):
    n = draw(st.integers(1, max_n)) if n is None else n
    steps = draw(st.lists(st.integers(-30, 30), min_size=n, max_size=n))
    price = 100.0 * np.cumprod(1.0 + np.array(steps) / 2000.0)
    pred = np.array(
        draw(st.lists(st.sampled_from([NAN, -0.03, -0.015, -0.005, 0.0, 0.005, 0.015, 0.03]), min_size=n, max_size=n))
    )
    rsi = np.array(
        draw(st.lists(st.sampled_from([NAN, 10.0, 29.0, 30.0, 50.0, 70.0, 71.0, 90.0]), min_size=n, max_size=n))
    )
    volume = np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), dtype=float)
    return price, pred, rsi, volume


params = st.fixed_dictionaries(
    {
        "threshold": st.one_of(st.sampled_from([0.0, 0.005, 0.01]), st.floats(0.0, 0.04)),
        "short_threshold": st.one_of(st.sampled_from([None, 0.0, 0.02]), st.floats(0.0, 0.04)),
        "rsi_long_max": st.one_of(st.sampled_from([70.0, 80.0]), st.floats(40.0, 100.0)),
        "rsi_short_min": st.one_of(st.sampled_from([30.0, 20.0]), st.floats(0.0, 60.0)),
        "volume_window": st.integers(1, 5),
        "volume_factor": st.one_of(st.sampled_from([0.0, 1.0, 1.5]), st.floats(0.0, 3.0)),
        "stop_loss": st.sampled_from([None, 0.002, 0.005, 0.02]),
        "take_profit": st.sampled_from([None, 0.003, 0.01, 0.03]),
        "max_hold": st.sampled_from([None, 1, 2, 5]),
        "exit_on_opposite": st.booleans(),
        "reenter_on_exit_bar": st.booleans(),
    }
)


@given(m=market(), kw=params, use_rsi=st.booleans(), use_volume=st.booleans())
def test_kernel_matches_plain_python_reference(m, kw, use_rsi, use_volume):
    price, pred, rsi, volume = m
    inputs = {"rsi": rsi if use_rsi else None, "volume": volume if use_volume else None}
    got = rules(pred, price, **kw, **inputs)
    want = reference_rules(
        list(pred), list(price), **kw, **{k: None if v is None else list(v) for k, v in inputs.items()}
    )
    assert_array_equal(got, want)


@given(m=market(), data=st.data(), kw=params)
def test_rules_are_causal(m, data, kw):
    """Changing every input after bar t leaves the positions up to t unchanged."""
    price, pred, rsi, volume = m
    n = len(price)
    t = data.draw(st.integers(0, n - 1))
    other_price, other_pred, other_rsi, other_volume = data.draw(market(n=n))
    cut = slice(t + 1, None)
    price2, pred2, rsi2, volume2 = price.copy(), pred.copy(), rsi.copy(), volume.copy()
    price2[cut], pred2[cut], rsi2[cut], volume2[cut] = (
        other_price[cut],
        other_pred[cut],
        other_rsi[cut],
        other_volume[cut],
    )
    a = rules(pred, price, rsi=rsi, volume=volume, **kw)
    b = rules(pred2, price2, rsi=rsi2, volume=volume2, **kw)
    assert_array_equal(a[: t + 1], b[: t + 1])
    assert set(np.unique(a)) <= {-1.0, 0.0, 1.0}
    assert (a[np.isnan(pred)] == 0).all()


def test_two_dimensional_kernel_runs_each_column_with_its_own_parameters():
    rng = np.random.default_rng(7)
    n, m = 300, 4
    price = 100 * np.cumprod(1 + rng.normal(0, 0.004, size=(n, m)), axis=0)
    pred = rng.normal(0, 0.01, size=(n, m))
    pred[:10] = NAN
    rsi = rng.uniform(0, 100, size=(n, m))
    vol_ok = rng.random((n, m)) < 0.7
    thr = np.array([0.0, 0.005, 0.01, 0.002])
    thr_s = np.array([0.0, 0.01, 0.005, 0.002])
    hi = np.array([70.0, 80.0, np.inf, 60.0])
    lo = np.array([30.0, 20.0, -np.inf, 40.0])
    sl = np.array([0.005, np.inf, 0.01, 0.003])
    tp = np.array([0.01, 0.02, np.inf, 0.004])
    hold = np.array([5, 10, np.iinfo(np.int64).max, 3], dtype=np.int64)
    opp = np.array([True, False, True, False])
    reenter = np.array([False, True, True, False])
    out = rules_2d_nb(price, pred, rsi, vol_ok, thr, thr_s, hi, lo, sl, tp, hold, opp, reenter)
    for j in range(m):
        volume = np.where(vol_ok[:, j], 2.0, 0.0)  # window 1, factor 0: confirmed exactly where vol_ok (t >= 1)
        want = reference_rules(
            list(pred[:, j]),
            list(price[:, j]),
            threshold=thr[j],
            short_threshold=thr_s[j],
            rsi=list(rsi[:, j]),
            rsi_long_max=hi[j],
            rsi_short_min=lo[j],
            volume=list(volume),
            volume_window=1,
            volume_factor=0.0,
            stop_loss=None if np.isinf(sl[j]) else sl[j],
            take_profit=None if np.isinf(tp[j]) else tp[j],
            max_hold=None if hold[j] > n else int(hold[j]),
            exit_on_opposite=bool(opp[j]),
            reenter_on_exit_bar=bool(reenter[j]),
        )
        assert_array_equal(out[1:, j], want[1:])  # bar 0 has no trailing volume in the reference
    assert np.abs(np.diff(out, axis=0)).sum() > 0  # trades happen


# ---------------------------------------------------------------- hand-worked paths


def test_stop_loss_checked_on_the_bar_price_and_exits_at_it():
    price = np.array([100.0, 100.0, 99.6, 99.4, 100.0])
    pred = np.array([0.01, 0.0, 0.0, 0.0, 0.0])
    # bar 2: trade return -0.4 % > -0.5 %: hold; bar 3: -0.6 % <= -0.5 %: flat at bar 3
    assert_array_equal(rules(pred, price, threshold=0.005, stop_loss=0.005), [1, 1, 1, 0, 0])


def test_take_profit_for_a_short():
    price = np.array([100.0, 99.0, 98.0, 97.0])
    pred = np.array([-0.02, 0.0, 0.0, 0.0])
    # short return: bar 1 +1 %, bar 2 +2 % >= 1.5 %: flat at bar 2
    assert_array_equal(rules(pred, price, threshold=0.01, take_profit=0.015), [-1, -1, 0, 0])


def test_max_hold_and_reentry_on_the_exit_bar():
    price = np.full(7, 100.0)
    pred = np.full(7, 0.02)
    # entered at 0, flat at 0 + 2; no re-entry on bar 2, new trade at 3, flat at 5, new trade at 6
    assert_array_equal(rules(pred, price, threshold=0.01, max_hold=2), [1, 1, 0, 1, 1, 0, 1])
    # re-entry allowed: the trade is renewed on the exit bar, the target never leaves 1
    assert_array_equal(rules(pred, price, threshold=0.01, max_hold=2, reenter_on_exit_bar=True), np.ones(7))


def test_opposite_signal_exit_and_reversal():
    price = np.full(5, 100.0)
    pred = np.array([0.02, 0.0, -0.02, -0.02, 0.0])
    assert_array_equal(rules(pred, price, threshold=0.01), [1, 1, 0, -1, -1])
    assert_array_equal(rules(pred, price, threshold=0.01, reenter_on_exit_bar=True), [1, 1, -1, -1, -1])
    assert_array_equal(rules(pred, price, threshold=0.01, exit_on_opposite=False), [1, 1, 1, 1, 1])


def test_asymmetric_thresholds():
    price = np.full(4, 100.0)
    pred = np.array([-0.015, 0.015, -0.025, -0.025])
    # short needs pred < -0.02: bar 0 no; bar 1 long (> 0.01); bar 2 short signal exits the long; bar 3 short
    assert_array_equal(rules(pred, price, threshold=0.01, short_threshold=0.02), [0, 1, 0, -1])


def test_nan_prediction_is_flat_and_closes_the_trade():
    price = np.full(4, 100.0)
    assert_array_equal(rules(np.array([0.02, NAN, 0.0, 0.02]), price, threshold=0.01), [1, 0, 0, 1])


def test_rsi_filter_blocks_overbought_longs_and_oversold_shorts():
    price = np.full(6, 100.0)
    pred = np.array([0.02, 0.02, NAN, -0.02, -0.02, -0.02])
    rsi = np.array([75.0, 69.0, 50.0, 30.0, NAN, 31.0])
    # bar 0 RSI 75 >= 70: no long; bar 1 long; bar 2 NaN pred: flat; bar 3 RSI 30 not > 30; bar 4 RSI NaN
    assert_array_equal(rules(pred, price, threshold=0.01, rsi=rsi), [0, 1, 0, 0, 0, -1])


def test_volume_confirmation_uses_the_previous_bars_only():
    price = np.full(6, 100.0)
    pred = np.full(6, 0.02)
    volume = np.array([1.0, 1.0, 1.0, 3.0, 1.0, 1.0])
    # bar 2: 1 > mean(1, 1) = 1 fails; bar 3: 3 > mean(1, 1): entry; trade kept afterwards
    assert_array_equal(rules(pred, price, threshold=0.01, volume=volume, volume_window=2), [0, 0, 0, 1, 1, 1])
    # factor 2: bar 3 needs 3 > 2 * 1 -> still confirmed; factor 3: never
    assert_array_equal(
        rules(pred, price, threshold=0.01, volume=volume, volume_window=2, volume_factor=3.0), np.zeros(6)
    )


def test_engine_realizes_the_exit_at_the_stop_bar_price_gap_included():
    from signalbench.engine import ShortSampleWarning, backtest

    price = np.array([100.0, 100.0, 99.8, 97.0, 96.0, 101.0])  # gaps from -0.2 % to -3 % through a 1 % stop
    pred = np.array([0.01, 0.0, 0.0, 0.0, 0.0, 0.0])
    pos = rules(pred, price, threshold=0.005, stop_loss=0.01)
    assert_array_equal(pos, [1, 1, 1, 0, 0, 0])
    with pytest.warns(ShortSampleWarning) as caught:  # six bars: annual figures are NaN, the Sharpe noise; said so
        result = backtest(price, pos, periods_per_year=252)
    assert [w.category for w in caught] == [ShortSampleWarning] * 2
    assert "6 trading days" in str(caught[0].message) and "6 clock bars" in str(caught[1].message)
    assert result.equity[-1] == pytest.approx(97.0 / 100.0, abs=1e-12)  # realized -3 %, not -1 %
    assert result.exposure[3] == 0 and result.exposure[2] == 1


def test_multi_column_pandas_input():
    idx = pd.date_range("2024-01-02 09:30", periods=5, freq="min")
    pred = pd.DataFrame({"lstm": [0.02, 0.0, 0.0, 0.0, 0.0], "tcn": [-0.02, 0.0, 0.02, 0.02, 0.0]}, index=idx)
    price = pd.Series([100.0, 101.0, 102.0, 101.0, 100.0], index=idx)
    out = rules(pred, price, threshold=0.01, take_profit=0.015)
    assert isinstance(out, pd.DataFrame) and out.index.equals(idx) and list(out.columns) == ["lstm", "tcn"]
    assert_array_equal(out["lstm"], [1, 1, 0, 0, 0])  # +2 % at bar 2 >= 1.5 %
    assert_array_equal(out["tcn"], [-1, -1, 0, 1, 1])  # opposite signal at bar 2, no re-entry until bar 3


def test_pandas_series_in_series_out():
    idx = pd.RangeIndex(5, 8)
    out = rules(pd.Series([0.02, 0.0, 0.0], index=idx), pd.Series([1.0, 1.0, 1.0], index=idx), threshold=0.01)
    assert isinstance(out, pd.Series) and out.index.equals(idx)


# ---------------------------------------------------------------- errors


def _rules_with(kwargs):
    """rules() on three bars, with ``kwargs`` replacing the defaults (inputs included)."""
    args = {"predicted_return": np.array([0.02, 0.0, 0.0]), "price": np.full(3, 100.0), **kwargs}
    return rules(args.pop("predicted_return"), args.pop("price"), **args)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"price": np.array([100.0, 0.0, 100.0])}, r"price: expected values > 0, got 0\.0 at row 1"),
        ({"price": np.array([100.0, NAN, 100.0])}, "price: expected finite values, got nan at row 1"),
        ({"price": np.array([100.0, 100.0])}, "price: expected 3 rows"),
        ({"threshold": -0.01}, "threshold: expected a finite number >= 0, got -0.01"),
        ({"short_threshold": -0.01}, "short_threshold: expected a finite number >= 0"),
        ({"stop_loss": 0.0}, "stop_loss: expected a finite number > 0 or None, got 0.0"),
        ({"take_profit": -1.0}, "take_profit: expected a finite number > 0 or None"),
        ({"max_hold": 0}, "max_hold: expected an integer >= 1 or None, got 0"),
        ({"volume": np.array([1.0, -1.0, 1.0])}, r"volume: expected values >= 0, got -1\.0 at row 1"),
        ({"volume": np.array([1.0, NAN, 1.0])}, "volume: expected finite values, got nan at row 1"),
        ({"volume": np.ones(3), "volume_window": 0}, "volume_window: expected an integer >= 1, got 0"),
        ({"rsi": np.ones(4)}, "rsi: expected 3 rows"),
        ({"rsi_long_max": NAN}, "rsi_long_max: expected a finite number, got nan"),
        ({"predicted_return": np.array([0.1, np.inf, 0.0])}, "predicted_return: expected no infinite values"),
        ({"predicted_return": np.zeros((3, 2, 2))}, r"predicted_return: expected shape \(n,\) or \(n, m\)"),
        ({"price": np.ones((3, 3))}, r"price: expected 1 column \(like predicted_return\), got 3"),
    ],
)
def test_bad_values_are_value_errors_naming_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _rules_with(kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_hold": 2.5}, r"max_hold: expected an integer >= 1 or None, got 2\.5 \(float\)"),
        ({"max_hold": True}, "max_hold: expected an integer"),
        ({"volume": np.ones(3), "volume_window": 1.5}, "volume_window: expected an integer >= 1"),
        ({"volume_window": 20.0}, "volume_window: expected an integer >= 1"),
        ({"exit_on_opposite": "yes"}, "exit_on_opposite: expected True or False, got 'yes'"),
        ({"reenter_on_exit_bar": 1}, "reenter_on_exit_bar: expected True or False"),
        ({"threshold": "0.01"}, "threshold: expected a finite number"),
        ({"stop_loss": "1%"}, "stop_loss: expected"),
        ({"predicted_return": np.array(["0.1", "0", "0"])}, "predicted_return: expected numbers, got strings"),
        ({"price": pd.Series(pd.date_range("2024", periods=3))}, r"price: expected numbers, got datetimes"),
        ({"volume": pd.to_timedelta([1, 2, 3], unit="s")}, "volume: expected numbers, got timedeltas"),
        ({"rsi": np.array([1 + 1j, 2, 3])}, "rsi: expected numbers, got complex numbers"),
    ],
)
def test_wrong_kinds_are_type_errors_naming_the_argument(kwargs, message):
    with pytest.raises(TypeError, match=message):
        _rules_with(kwargs)


def test_misaligned_pandas_indexes_are_rejected():
    pred = pd.Series([0.02, 0.0, 0.0], index=[0, 1, 2])
    with pytest.raises(ValueError, match=r"price's index: expected the index of predicted_return .* at row 0"):
        rules(pred, pd.Series([1.0, 1.0, 1.0], index=[1, 2, 3]))


def test_two_dimensional_inputs_equal_column_by_column_calls():
    rng = np.random.default_rng(0)
    n = 80
    price = 100 * np.cumprod(1 + rng.normal(0, 0.003, (n, 3)), axis=0)
    pred = rng.normal(0, 0.01, (n, 3))
    volume = rng.integers(0, 10, (n, 3)).astype(float)
    rsi = rng.uniform(0, 100, (n, 3))
    kw = {"threshold": 0.005, "stop_loss": 0.004, "take_profit": 0.006, "volume_window": 3}
    out = rules(pred, price, rsi=rsi, volume=volume, **kw)
    for j in range(3):
        assert_array_equal(out[:, j], rules(pred[:, j], price[:, j], rsi=rsi[:, j], volume=volume[:, j], **kw))
    assert np.abs(out).sum() > 0
