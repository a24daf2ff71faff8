from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench._validation import EmptyResultWarning
from signalbench.data import labels as L

NAN = np.nan


def test_direction_hand_example_ties_are_stationary_never_down():
    mid = [10.0, 10.0, 10.5, 10.25, 10.25, 11.0]
    np.testing.assert_array_equal(L.direction(mid, 1), [1, 2, 0, 1, 2, NAN])
    np.testing.assert_array_equal(L.direction(mid, 2), [2, 2, 0, 2, NAN, NAN])
    assert (L.DOWN, L.STATIONARY, L.UP) == (0, 1, 2)


def test_direction_threshold_is_relative():
    mid = [100.0, 100.005, 100.02, 99.9]
    # changes: +0.5 bp, +1.5 bp, -12 bp against a 1 bp threshold
    np.testing.assert_array_equal(L.direction(mid, 1, threshold=1e-4), [1, 2, 0, NAN])
    np.testing.assert_array_equal(L.direction([100.0, 100.0], 1, threshold=1e-4), [1, NAN])


def test_direction_groups_and_series():
    s = pd.Series([1.0, 2.0, 3.0, 1.0, 0.5, 0.7], index=pd.date_range("2024-01-01", periods=6, freq="h"))
    out = L.direction(s, 1, groups=[1, 1, 1, 2, 2, 2])
    assert isinstance(out, pd.Series) and out.index.equals(s.index)
    np.testing.assert_array_equal(out, [2, 2, NAN, 0, 2, NAN])  # row 2 does not look into day 2
    np.testing.assert_array_equal(L.direction([1.0, NAN, 3.0], 1), [NAN, NAN, NAN])


def test_smoothed_label_matches_pandas_reference():
    rng = np.random.default_rng(0)
    mid = pd.Series(100 + np.cumsum(rng.normal(0, 0.01, 500)))
    h, alpha = 5, 5e-5
    mplus = mid.rolling(h).mean().shift(-h)  # mean of mid[t+1 .. t+h]
    lt = (mplus - mid) / mid
    ref = np.where(lt.isna(), NAN, np.where(lt > alpha, 2, np.where(lt < -alpha, 0, 1)))
    np.testing.assert_array_equal(L.smoothed_direction(mid.to_numpy(), h, alpha=alpha), ref)
    assert np.isnan(ref[-h:]).all() and not np.isnan(ref[:-h]).any()


def test_smoothed_label_hand_example():
    mid = [10.0, 10.0, 11.0, 9.0, 10.0]
    # t0: mean(10, 11) = 10.5 -> up; t1: mean(11, 9) = 10 -> stationary; t2: mean(9, 10) = 9.5 -> down
    np.testing.assert_array_equal(L.smoothed_direction(mid, 2, alpha=0.01), [2, 1, 0, NAN, NAN])
    np.testing.assert_array_equal(
        L.smoothed_direction(mid, 2, alpha=0.01, groups=[0, 0, 0, 1, 1]), [2, NAN, NAN, NAN, NAN]
    )


def test_forward_log_return_and_spread_change_match_pandas():
    rng = np.random.default_rng(1)
    p = pd.Series(50 * np.exp(np.cumsum(rng.normal(0, 0.001, 300))))
    groups = np.repeat([0, 1], [100, 200])
    ref = np.log(p.groupby(groups).shift(-3) / p)
    np.testing.assert_allclose(L.forward_log_return(p, 3, groups=groups), ref, rtol=1e-12, equal_nan=True)
    spr = pd.Series(rng.integers(1, 5, 300) * 0.01)
    np.testing.assert_allclose(
        L.spread_change(spr, 2, groups=groups), spr.groupby(groups).shift(-2) - spr, equal_nan=True
    )
    np.testing.assert_allclose(L.spread_change(spr, 2, relative=True), spr.shift(-2) / spr - 1, equal_nan=True)
    np.testing.assert_array_equal(L.forward_log_return([1.0, NAN, 2.0, 3.0], 1), [NAN, NAN, np.log(1.5), NAN])


def test_bad_arguments():
    with pytest.raises(ValueError, match="horizon: expected an integer >= 1, got 0"):
        L.direction([1.0, 2.0], 0)
    with pytest.raises(TypeError, match="horizon: expected an integer >= 1, got 1.5"):
        L.direction([1.0, 2.0], 1.5)
    with pytest.raises(ValueError, match="threshold: expected a finite number >= 0"):
        L.direction([1.0, 2.0], 1, threshold=-1)
    with pytest.raises(TypeError, match="threshold: expected a finite number >= 0"):
        L.direction([1.0, 2.0], 1, threshold="1bp")
    with pytest.raises(ValueError, match="alpha"):
        L.smoothed_direction([1.0, 2.0], 1, alpha=np.nan)
    with pytest.raises(ValueError, match=r"spread: expected shape \(n,\)"):
        L.spread_change(np.ones((2, 2)), 1)
    with pytest.raises(TypeError, match="relative: expected True or False"):
        L.spread_change([1.0, 2.0], 1, relative="yes")
    with pytest.raises(ValueError, match="contiguous"):
        L.direction([1.0, 2.0, 3.0], 1, groups=[1, 2, 1])
    with pytest.raises(TypeError, match="groups: expected one label per row"):
        L.direction([1.0, 2.0, 3.0], 1, groups=3)


def test_a_huge_horizon_is_a_value_error_not_an_overflow():
    for h in (2**63, 10**30):
        with pytest.raises(ValueError, match="horizon: expected an integer >= 1 and at most 2\\*\\*62"):
            L.direction([1.0, 2.0, 3.0], h)
    with pytest.warns(EmptyResultWarning, match="horizon=4611686018427387904 reaches past the end of every group"):
        out = L.direction([1.0, 2.0, 3.0], 2**62)
    assert np.isnan(out).all()


@pytest.mark.parametrize(
    "fn",
    [L.direction, L.smoothed_direction, L.forward_log_return, L.spread_change, L.forward_change, L.smoothed_change],
)
def test_a_horizon_longer_than_the_data_warns_that_every_label_is_nan(fn):
    mid = pd.Series([10.0, 10.5, 10.25, 10.75], index=pd.date_range("2024-01-02", periods=4, freq="min"))
    with pytest.warns(EmptyResultWarning, match="every label is NaN"):
        out = fn(mid, 4)
    assert np.isnan(np.asarray(out)).all() and len(out) == 4  # the convention stands: NaN, same rows
    with pytest.warns(EmptyResultWarning, match="the longest has 2 rows"):
        fn(mid.to_numpy(), 2, groups=[0, 0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one row with a label: no warning
        fn(mid, 3)


@pytest.mark.parametrize("bad", [0.0, -10.5])
@pytest.mark.parametrize(
    "fn", [L.direction, L.smoothed_direction, L.forward_log_return, L.forward_change, L.smoothed_change]
)
def test_prices_must_be_positive_naming_the_first_bad_row(fn, bad):
    mid = pd.Series([10.0, 10.5, bad, 10.75, -1.0], index=pd.date_range("2024-01-02 09:30", periods=5, freq="min"))
    with pytest.raises(ValueError, match=r"expected prices > 0, got .* at row 2 \(2024-01-02 09:32:00\)"):
        fn(mid, 1)


def test_negative_prices_would_have_inverted_up_and_down():
    # the reason for the rule: a rise from -10 to -9 is a ratio of 0.9, which reads as "down"
    with pytest.raises(ValueError, match="prices > 0"):
        L.direction([-10.0, -9.0], 1)
    np.testing.assert_array_equal(L.direction([10.0, 11.0], 1), [L.UP, NAN])


def test_labels_refuse_a_series_out_of_time_order():
    mid = pd.Series(
        [10.0, 10.5, 10.25], index=pd.to_datetime(["2024-01-02 09:31", "2024-01-02 09:30", "2024-01-02 09:32"])
    )
    for fn in (L.direction, L.smoothed_direction, L.forward_log_return, L.spread_change):
        with pytest.raises(ValueError, match="index: expected timestamps sorted in time .* at row 1"):
            fn(mid, 1)


def test_datetime_inputs_are_a_type_error():
    with pytest.raises(TypeError, match="mid: expected numbers, got datetimes"):
        L.direction(pd.Series(pd.date_range("2024-01-02", periods=4), name="mid"), 1)
    with pytest.raises(TypeError, match="change: expected numbers, got timedeltas"):
        L.fit_stationary_threshold(np.arange(4).astype("timedelta64[s]"), [0, 1])


def test_smoothed_change_is_what_smoothed_direction_thresholds():
    rng = np.random.default_rng(3)
    mid = pd.Series(100 + np.cumsum(rng.normal(0, 0.01, 400)))
    h, alpha = 7, 3e-5
    change = L.smoothed_change(mid.to_numpy(), h)
    ref = ((mid.rolling(h).mean().shift(-h) - mid) / mid).to_numpy()  # independent: pandas
    np.testing.assert_allclose(change, ref, rtol=1e-9, atol=1e-15, equal_nan=True)
    labels = L.smoothed_direction(mid.to_numpy(), h, alpha=alpha)
    ok = np.isfinite(change)
    np.testing.assert_array_equal(
        labels[ok], np.where(change[ok] > alpha + L.TIE_RTOL, 2, np.where(change[ok] < -alpha - L.TIE_RTOL, 0, 1))
    )
    fwd = L.forward_change(mid, 3)
    np.testing.assert_allclose(fwd, mid.shift(-3) / mid - 1, rtol=1e-12, equal_nan=True)


def test_fit_stationary_threshold_is_a_quantile_of_the_training_rows():
    change = np.array([0.5, -1.0, 2.0, NAN, -4.0, 8.0, 100.0])
    # |change| on rows 0..4 (NaN skipped): 0.5, 1, 2, 4 -> median 1.5
    assert L.fit_stationary_threshold(change, [0, 1, 2, 3, 4], quantile=0.5) == 1.5
    assert L.fit_stationary_threshold(change, np.array([5, 6]), quantile=0.5) == 54.0
    with pytest.raises(ValueError, match="rows: expected at least one row with a finite change"):
        L.fit_stationary_threshold(change, [3])
    with pytest.raises(ValueError, match=r"quantile: expected a finite number in \(0, 1\)"):
        L.fit_stationary_threshold(change, [0, 1], quantile=1.0)
    with pytest.raises(ValueError, match=r"rows: expected row positions in \[0, 7\), got 7"):
        L.fit_stationary_threshold(change, [0, 7])
    with pytest.raises(TypeError, match="rows: expected a 1-D array of integer row positions"):
        L.fit_stationary_threshold(change, [0.0, 1.0])
    with pytest.raises(ValueError, match="rows: expected strictly increasing row positions"):
        L.fit_stationary_threshold(change, [2, 1])


@given(
    values=st.lists(st.floats(-1e-2, 1e-2, allow_nan=False), min_size=10, max_size=80),
    cut=st.integers(1, 9),
    other=st.lists(st.floats(-1.0, 1.0), min_size=80, max_size=80),
    q=st.floats(0.05, 0.95),
)
def test_values_outside_the_training_rows_never_move_the_threshold(values, cut, other, q):
    change = np.array(values)
    train = np.arange(cut)
    fitted = L.fit_stationary_threshold(change, train, quantile=q)
    changed = change.copy()
    changed[cut:] = np.array(other[: change.size - cut])  # anything at all on the validation and test rows
    assert L.fit_stationary_threshold(changed, train, quantile=q) == fitted
    assert fitted == np.quantile(np.abs(change[:cut]), q)  # numpy on the training rows alone


def test_fitted_threshold_balances_the_classes_of_the_training_rows():
    rng = np.random.default_rng(5)
    mid = 100 * np.exp(np.cumsum(rng.normal(0, 1e-4, 3000)))
    change = L.smoothed_change(mid, 10)
    train = np.arange(2000)
    alpha = L.fit_stationary_threshold(change, train, quantile=1 / 3)
    labels = L.smoothed_direction(mid, 10, alpha=alpha)
    share = np.mean(labels[train] == L.STATIONARY)
    assert abs(share - 1 / 3) < 0.01


@given(
    steps=st.lists(st.sampled_from([-2, -1, 0, 0, 1, 2]), min_size=2, max_size=80),
    h=st.integers(1, 6),
    cut=st.integers(0, 80),
)
def test_labels_nan_exactly_past_the_horizon_and_never_down_on_ties(steps, h, cut):
    mid = 100 + 0.01 * np.cumsum(steps)
    n = mid.size
    cut = min(cut, n)
    groups = (np.arange(n) >= cut).astype(int)
    end = np.where(np.arange(n) < cut, cut - 1, n - 1)
    horizon_ok = np.arange(n) + h <= end
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels = (
            L.direction(mid, h, groups=groups),
            L.smoothed_direction(mid, h, alpha=0.0, groups=groups),
            L.forward_log_return(mid, h, groups=groups),
            L.spread_change(mid, h, groups=groups),
        )
    for lab in labels:
        np.testing.assert_array_equal(np.isnan(lab), ~horizon_ok)
    # an all-NaN result is announced, and only then
    empty = [w for w in caught if issubclass(w.category, EmptyResultWarning)]
    assert len(empty) == (0 if horizon_ok.any() else len(labels))
    d = labels[0]
    idx = np.flatnonzero(horizon_ok)
    fut = mid[idx + h]
    np.testing.assert_array_equal(d[idx], np.where(fut > mid[idx], 2, np.where(fut < mid[idx], 0, 1)))
    assert set(np.unique(d[idx])) <= {0.0, 1.0, 2.0}


def test_float_rounding_of_equal_mids_is_stationary():
    a = (100.02 + 100.00) / 2
    b = (100.04 + 99.98) / 2
    assert a != b  # the same true mid, different floats
    np.testing.assert_array_equal(L.direction([a, b, a], 1), [1, 1, NAN])
    np.testing.assert_array_equal(L.direction([a, a + 0.005], 1), [2, NAN])  # half a tick is a move
