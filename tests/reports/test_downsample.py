"""The min/max downsampler keeps every bucket's extremes and bounds the output length."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from signalbench.reports.downsample import minmax_downsample

values = hnp.arrays(
    np.float64,
    st.integers(1, 3000),
    elements=st.floats(-1e6, 1e6, allow_nan=False) | st.just(np.nan),
)


@given(values, st.integers(4, 500))
def test_extremes_of_every_bucket_survive(y, max_points):
    keep = minmax_downsample(y, max_points)
    assert np.all(np.diff(keep) > 0)
    assert keep[0] == 0 and keep[-1] == len(y) - 1
    if len(y) <= max_points:
        np.testing.assert_array_equal(keep, np.arange(len(y)))
        return
    assert len(keep) <= max_points + 2
    # independent check: split into the same buckets with array_split-like edges and look at each one
    edges = np.linspace(0, len(y), max_points // 2 + 1).astype(np.int64)
    kept = set(keep.tolist())
    for a, b in zip(edges[:-1], edges[1:]):
        chunk = y[a:b]
        if np.isnan(chunk).all():
            continue
        in_bucket = [y[i] for i in kept if a <= i < b]
        assert np.nanmax(chunk) in in_bucket
        assert np.nanmin(chunk) in in_bucket


def test_a_spike_in_a_million_rows_survives():
    y = np.zeros(1_000_000)
    y[123_457] = -5.0
    y[876_543] = 7.0
    keep = minmax_downsample(y)
    assert len(keep) <= 10_002
    assert 123_457 in keep and 876_543 in keep


def test_bad_arguments_name_themselves():
    with pytest.raises(TypeError, match="max_points"):
        minmax_downsample([1.0, 2.0], 10.5)
    with pytest.raises(ValueError, match="max_points"):
        minmax_downsample([1.0, 2.0], 2)
    with pytest.raises(ValueError, match="y"):
        minmax_downsample(np.ones((2, 2)))
