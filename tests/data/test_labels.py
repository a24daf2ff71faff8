from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    np.testing.assert_array_equal(L.smoothed_direction(mid, 2, alpha=0.01, groups=[0, 0, 0, 1, 1]),
                                  [2, NAN, NAN, NAN, NAN])


def test_forward_log_return_and_spread_change_match_pandas():
    rng = np.random.default_rng(1)
    p = pd.Series(50 * np.exp(np.cumsum(rng.normal(0, 0.001, 300))))
    groups = np.repeat([0, 1], [100, 200])
    ref = np.log(p.groupby(groups).shift(-3) / p)
    np.testing.assert_allclose(L.forward_log_return(p, 3, groups=groups), ref, rtol=1e-12, equal_nan=True)
    spr = pd.Series(rng.integers(1, 5, 300) * 0.01)
    np.testing.assert_allclose(L.spread_change(spr, 2, groups=groups), spr.groupby(groups).shift(-2) - spr,
                               equal_nan=True)
    np.testing.assert_allclose(L.spread_change(spr, 2, relative=True), spr.shift(-2) / spr - 1, equal_nan=True)
    np.testing.assert_array_equal(L.forward_log_return([1.0, -1.0, 2.0], 1), [NAN, NAN, NAN])


def test_bad_arguments():
    with pytest.raises(ValueError, match="horizon"):
        L.direction([1.0, 2.0], 0)
    with pytest.raises(ValueError, match="threshold"):
        L.direction([1.0, 2.0], 1, threshold=-1)
    with pytest.raises(ValueError, match="alpha"):
        L.smoothed_direction([1.0, 2.0], 1, alpha=np.nan)
    with pytest.raises(ValueError, match="one-dimensional"):
        L.spread_change(np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="contiguous"):
        L.direction([1.0, 2.0, 3.0], 1, groups=[1, 2, 1])


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
    for lab in (L.direction(mid, h, groups=groups), L.smoothed_direction(mid, h, alpha=0.0, groups=groups),
                L.forward_log_return(mid, h, groups=groups), L.spread_change(mid, h, groups=groups)):
        np.testing.assert_array_equal(np.isnan(lab), ~horizon_ok)
    d = L.direction(mid, h, groups=groups)
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
