from __future__ import annotations

import subprocess
import sys
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from signalbench.data.windowing import iter_batches, window_rows, windows


def _stacked(X, L):  # a Python loop stacking every window: the independent reference
    return np.stack([X[i : i + L] for i in range(len(X) - L + 1)])


def test_windows_is_a_read_only_view_with_the_right_rows():
    X = np.arange(60, dtype=np.float64).reshape(20, 3)
    W = windows(X, 5)
    assert W.shape == (16, 5, 3)
    assert np.shares_memory(W, X)
    assert not W.flags.writeable
    with pytest.raises(ValueError):
        W[0, 0, 0] = 1.0
    np.testing.assert_array_equal(W, _stacked(X, 5))
    rows = window_rows(20, 5)
    np.testing.assert_array_equal(rows, np.arange(4, 20))
    for k, r in enumerate(rows):  # window k ends at row k + seq_len - 1
        np.testing.assert_array_equal(W[k, -1], X[r])


def test_windows_one_dimensional_and_frame_input():
    x = np.arange(10.0)
    W = windows(x, 3)
    assert W.shape == (8, 3, 1) and np.shares_memory(W, x)
    df = pd.DataFrame({"a": np.arange(6.0), "b": np.arange(6.0) * 2})
    np.testing.assert_array_equal(windows(df, 2)[1], [[1.0, 2.0], [2.0, 4.0]])


@given(
    n=st.integers(1, 40),
    F=st.integers(1, 4),
    L=st.integers(1, 40),
    bs=st.integers(1, 9),
    a=st.integers(0, 40),
    b=st.integers(0, 40),
)
def test_iter_batches_concatenate_to_the_windows(n, F, L, bs, a, b):
    L = min(L, n)
    X = np.random.default_rng(n * 100 + F).normal(size=(n, F))
    start = L - 1 + a % (n - L + 1)
    stop = start + b % (n - start + 1)
    batches = list(iter_batches(X, L, bs, start=start, stop=stop))
    rows = window_rows(n, L, start=start, stop=stop)
    assert all(t.shape[0] == bs for t in batches[:-1])
    assert all(t.dtype == torch.float32 and t.shape[1:] == (L, F) for t in batches)
    got = torch.cat(batches).numpy() if batches else np.empty((0, L, F), np.float32)
    assert got.shape[0] == rows.size == stop - start
    ref = np.stack([X[r - L + 1 : r + 1] for r in rows]) if rows.size else np.empty((0, L, F))
    np.testing.assert_array_equal(got, ref.astype(np.float32))


def test_iter_batches_defaults_dtype_and_device():
    X = np.random.default_rng(0).normal(size=(50, 2))
    out = list(iter_batches(X, 10, 16, dtype=torch.float64, device="cpu"))
    assert [t.shape[0] for t in out] == [16, 16, 9]
    np.testing.assert_array_equal(torch.cat(out).numpy(), windows(X, 10))
    assert out[0].dtype == torch.float64 and out[0].device.type == "cpu"
    bf = next(iter_batches(X, 10, 4, dtype=torch.bfloat16))
    assert bf.dtype == torch.bfloat16 and bf.shape == (4, 10, 2)
    # batches are copies: writing to one does not touch X
    first = next(iter_batches(X, 10, 4, dtype=torch.float64))
    first.zero_()
    assert X[0, 0] != 0


def test_bad_arguments_are_named():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="seq_len: expected an integer >= 1, got 0"):
        windows(X, 0)
    with pytest.raises(ValueError, match="seq_len: expected at most the 10 rows of X"):
        windows(X, 11)
    with pytest.raises(ValueError, match=r"X: expected shape \(n,\) or \(n, m\)"):
        windows(np.zeros((2, 2, 2)), 1)
    with pytest.raises(ValueError, match="batch_size: expected an integer >= 1, got 0"):
        iter_batches(X, 3, 0)
    with pytest.raises(ValueError, match="start: expected a row >= 2 .* got 1"):
        iter_batches(X, 3, 2, start=1)
    with pytest.raises(ValueError, match="stop: expected a row <= 10 .* got 11"):
        iter_batches(X, 3, 2, stop=11)
    with pytest.raises(ValueError, match="stop: expected a row >= start"):
        window_rows(10, 3, start=5, stop=4)


def test_wrong_kinds_are_type_errors():
    X = np.zeros((10, 2))
    with pytest.raises(TypeError, match="dtype: expected a torch.dtype"):
        iter_batches(X, 3, 2, dtype=np.float32)
    with pytest.raises(TypeError, match="X: expected numbers, got strings"):
        windows(np.array([["a"], ["b"]]), 1)
    with pytest.raises(TypeError, match="X: expected numbers, got datetimes .* column 't'"):
        windows(pd.DataFrame({"t": pd.date_range("2024-01-02", periods=4)}), 2)
    with pytest.raises(TypeError, match="seq_len: expected an integer >= 1, got 2.0"):
        windows(X, 2.0)
    with pytest.raises(TypeError, match="batch_size: expected an integer"):
        iter_batches(X, 3, "8")
    with pytest.raises(TypeError, match="start: expected an integer row or None, got 2.5"):
        window_rows(10, 3, start=2.5)
    with pytest.raises(TypeError, match="n: expected an integer >= 0"):
        window_rows(True, 1)


def test_the_window_functions_stay_functions_after_the_module_is_imported():
    import importlib

    import signalbench.data as data

    importlib.import_module("signalbench.data.windowing")  # what fitting any neural model does
    assert callable(data.windows) and data.windows is windows
    np.testing.assert_array_equal(data.windows(np.arange(5.0), 2)[:, :, 0], [[0, 1], [1, 2], [2, 3], [3, 4]])


def test_iterating_holds_about_one_batch():
    n, F, L, bs = 20_000, 8, 50, 256
    X = np.random.default_rng(0).normal(size=(n, F))
    batch_bytes = bs * L * F * 4  # float32
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        total = 0.0
        for t in iter_batches(X, L, bs):
            total += float(t[:, -1, 0].sum())
            del t
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    full_copy = (n - L + 1) * L * F * 4
    assert peak < 1.2 * batch_bytes, (peak, batch_bytes)  # one batch at a time (X is float64: no bigger temp)
    assert peak < full_copy / 20
    np.testing.assert_allclose(total, X[L - 1 :, 0].astype(np.float32).sum(), rtol=1e-4)


def test_import_stays_light():
    code = "import sys, signalbench.data.windowing, signalbench.data.splits; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
