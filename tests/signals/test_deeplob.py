"""DeepLOB sees prices relative to each row's own mid, so a test period at another price level looks like training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import signalbench.signals as signals
from signalbench.signals.nets import MidRelativePrices

TINY = {
    "seq_len": 10,
    "time_kernel": 2,
    "conv_channels": 6,
    "inception_channels": 6,
    "lstm_hidden": 6,
    "epochs": 2,
    "lr": 5e-3,
    "progress": False,
    "device": "cpu",
}


def _book(n: int, seed: int, level: float = 100.0):
    """A two-level book around a random-walk mid, spreads of 1-3 ticks, classes driven by the level-1 imbalance."""
    rng = np.random.default_rng(seed)
    mid = level * np.exp(np.cumsum(rng.normal(0, 2e-4, n)))
    half = 0.01 * rng.integers(1, 4, n) / 2
    cols = {}
    for i in (1, 2):
        gap = 0.01 * (i - 1) * rng.integers(1, 3, n)
        cols[f"ask_price_{i}"] = mid + half + gap
        cols[f"ask_size_{i}"] = rng.integers(1, 500, n).astype(float)
        cols[f"bid_price_{i}"] = mid - half - gap
        cols[f"bid_size_{i}"] = rng.integers(1, 500, n).astype(float)
    X = pd.DataFrame(cols)[signals.DeepLOBModel.book_columns(2)]
    imb = (X["bid_size_1"] - X["ask_size_1"]) / (X["bid_size_1"] + X["ask_size_1"])
    s = imb.to_numpy() + 0.3 * rng.standard_normal(n)
    return X, np.where(s > 0.3, 2.0, np.where(s < -0.3, 0.0, 1.0))


@pytest.fixture(scope="module")
def fitted():
    X, y = _book(800, 0)
    test, _ = _book(300, 1)
    return {mode: signals.create("deeplob", **TINY, price_input=mode).fit(X, y) for mode in ("mid_bps", "raw")}, test


def _shifted(X: pd.DataFrame, factor: float) -> pd.DataFrame:
    out = X.copy()
    prices = [c for c in X.columns if "price" in c]
    out[prices] = out[prices] * factor
    return out


@pytest.mark.parametrize("factor", [1.5, 0.6])
def test_a_price_level_shift_does_not_change_the_predictions(fitted, factor):
    models, test = fitted
    base = models["mid_bps"].predict_proba(test)
    moved = models["mid_bps"].predict_proba(_shifted(test, factor))
    np.testing.assert_allclose(moved, base, atol=1e-9, equal_nan=True)
    # with raw prices the same shift moves the inputs outside the training range and the predictions with them
    raw = models["raw"]
    assert np.nanmax(np.abs(raw.predict_proba(_shifted(test, factor)) - raw.predict_proba(test))) > 0.02


def test_mid_bps_is_the_default_and_is_saved(fitted, tmp_path):
    assert signals.DeepLOBModel().price_input == "mid_bps"
    models, test = fitted
    path = models["mid_bps"].save(tmp_path / "m")
    loaded = signals.load(path)
    assert loaded.price_input == "mid_bps"
    np.testing.assert_array_equal(loaded.predict_proba(test), models["mid_bps"].predict_proba(test))


@given(
    st.lists(st.floats(min_value=1.0, max_value=1e4), min_size=1, max_size=6),
    st.floats(min_value=1e-4, max_value=1e-2),
    st.floats(min_value=0.1, max_value=10.0),
)
def test_mid_relative_prices_by_hand_and_scale_free(mids, spread, scale):
    n = len(mids)
    mid = np.array(mids)
    X = np.column_stack(
        [mid * (1 + spread), np.arange(n) + 1.0, mid * (1 - spread), np.arange(n) + 2.0, mid * (1 + 2 * spread),
         np.full(n, 7.0), mid * (1 - 3 * spread), np.full(n, 8.0)]
    )  # fmt: skip
    out = MidRelativePrices(2)(torch.from_numpy(X)).numpy()
    expected = X.copy()
    for j in (0, 2, 4, 6):
        expected[:, j] = (X[:, j] - mid) / mid * 1e4  # mid = (ask_1 + bid_1) / 2 of the same row
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(out[:, 0], spread * 1e4, rtol=1e-6)
    scaled = X.copy()
    scaled[:, 0::2] *= scale
    np.testing.assert_allclose(MidRelativePrices(2)(torch.from_numpy(scaled)).numpy(), out, rtol=1e-9, atol=1e-7)
    # each row on its own: other rows do not matter
    np.testing.assert_array_equal(MidRelativePrices(2)(torch.from_numpy(X[-1:])).numpy(), out[-1:])


def test_a_non_positive_book_price_is_named():
    X, y = _book(200, 3)
    X.loc[57, ["ask_price_1", "bid_price_1"]] = [-1.0, -1.2]
    with pytest.raises(
        ValueError, match=r"^X: expected order-book prices > 0 \(a positive mid\), got -1\.1 at row 57$"
    ):
        signals.create("deeplob", **TINY).fit(X, y)
