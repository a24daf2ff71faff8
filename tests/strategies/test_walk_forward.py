"""walk_forward: each fold is fitted on its past only, predicts its own block, and one backtest prices it all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signalbench import backtest
from signalbench.data.splits import walk_forward_splits as wf_folds
from signalbench.strategies import sign, walk_forward


class SpyModel:
    """A contract-shaped model whose single feature is the row number, so it can report what it saw.

    It predicts P(up) from the training frequency of "up" labels, tilted by the parity of the current row:
    a deterministic, causal rule (row t's output uses row t only).
    """

    instances: list = []

    def __init__(self, seq_len: int = 3):
        self.seq_len = seq_len
        SpyModel.instances.append(self)

    def fit(self, X, y, *, X_val=None, y_val=None):
        X = np.asarray(X)
        y = np.asarray(y, dtype=float)
        self.seen_rows_ = X[:, 0].astype(int)
        self.labelled_rows_ = X[np.isfinite(y), 0].astype(int)
        self.classes_ = np.unique(y[np.isfinite(y)])
        self.p_up_ = float(np.mean(y[np.isfinite(y)] == self.classes_.max()))
        return self

    def predict_proba(self, X):
        X = np.asarray(X)
        self.predicted_rows_ = X[:, 0].astype(int)
        p = np.clip(self.p_up_ + np.where(X[:, 0] % 2 == 0, 0.2, -0.2), 0, 1)
        out = np.c_[1 - p, p]
        out[: self.seq_len - 1] = np.nan  # warm-up, as real models do
        return out


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    n = 600
    X = np.c_[np.arange(n, dtype=float), rng.normal(size=n)]
    y = rng.integers(0, 2, n).astype(float)
    y[-2:] = np.nan  # horizon runs past the end
    price = pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.01, n)), index=pd.bdate_range("2020-01-01", periods=n))
    return X, y, price


def test_each_fold_sees_only_its_past(data):
    X, y, price = data
    folds = wf_folds(len(X), horizon=2, seq_len=3, n_folds=4)
    SpyModel.instances = []
    res = walk_forward(lambda: SpyModel(3), X, y, price, folds, sign, {"fee_bps": 1.0})
    assert len(SpyModel.instances) == 4
    for model, (train, test) in zip(SpyModel.instances, folds):
        assert model.seen_rows_.max() < test.min()
        np.testing.assert_array_equal(np.sort(model.labelled_rows_), np.sort(train))
        # prediction context: the seq_len - 1 rows before the block, then the block; nothing after it
        assert model.predicted_rows_.min() == test.min() - 2
        assert model.predicted_rows_.max() == test.max()
    tested = np.concatenate([t for _, t in folds])
    outside = np.setdiff1d(np.arange(len(X)), tested)
    proba = res.proba.to_numpy()
    assert np.isnan(proba[outside]).all() and np.isfinite(proba[tested]).all()
    assert (res.positions.to_numpy()[outside] == 0).all()


def test_equals_a_manual_backtest_of_the_stitched_positions(data):
    X, y, price = data
    folds = wf_folds(len(X), horizon=2, seq_len=3, n_folds=3)
    res = walk_forward(lambda: SpyModel(3), X, y, price, folds, sign, {"fee_bps": 2.0}, delay=1)
    manual = backtest(price, res.positions, fee_bps=2.0, delay=1)
    pd.testing.assert_frame_equal(res.backtest.stats, manual.stats)
    # the positions follow the rule on each row's own probabilities
    tested = np.concatenate([t for _, t in folds])
    p = res.proba.to_numpy()[tested]
    expected = np.where(p[:, 1] > p[:, 0], 1.0, -1.0)
    np.testing.assert_array_equal(res.positions.to_numpy()[tested], expected)


def test_rejects_folds_that_train_on_the_future(data):
    X, y, price = data
    bad = [(np.arange(100, 300), np.arange(200, 250))]
    with pytest.raises(ValueError, match=r"folds\[0\]: training row 299 is not before the test block at row 200"):
        walk_forward(lambda: SpyModel(3), X, y, price, bad, sign)
    overlapping = [(np.arange(0, 100), np.arange(150, 200)), (np.arange(0, 120), np.arange(190, 220))]
    with pytest.raises(ValueError, match=r"folds\[1\]: its test rows overlap"):
        walk_forward(lambda: SpyModel(3), X, y, price, overlapping, sign)


def test_length_mismatch(data):
    X, y, price = data
    with pytest.raises(ValueError, match=r"price: expected 600 rows to match X, got 599"):
        walk_forward(lambda: SpyModel(3), X, y, price.iloc[:-1], [], sign)


def test_with_a_real_model_the_out_of_sample_edge_is_found():
    from signalbench import create_model, synthetic_ticks
    from signalbench.data import compute_features, direction

    ticks = synthetic_ticks(6000, seed=5, edge=0.6)
    mid = (ticks.data["ask_price_1"] + ticks.data["bid_price_1"]) / 2
    X = compute_features(ticks.data, "lob_basic")
    y = direction(mid, horizon=1)
    folds = wf_folds(len(X), horizon=1, seq_len=1, n_folds=3)
    res = walk_forward(lambda: create_model("logistic"), X, y, mid, folds, sign, {"half_spread_bps": 0.0})
    tested = np.concatenate([t for _, t in folds])
    p = res.proba.to_numpy()[tested]
    yt = y.to_numpy()[tested] if hasattr(y, "to_numpy") else y[tested]
    moving = (yt == 0) | (yt == 2)
    acc = np.mean((p[moving, 2] > p[moving, 0]) == (yt[moving] == 2))
    assert acc > ticks.bayes_accuracy - 0.05 and acc > 0.55
    # expanding window: each fold's model was trained on more rows than the last
    assert [len(tr) for tr, _ in res.folds] == sorted(len(tr) for tr, _ in res.folds)
    assert res.backtest.stats.loc["total_return"].iloc[0] > 0
