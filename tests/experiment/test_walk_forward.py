"""walk_forward: each fold is fitted on its past only, predicts its own block, and one backtest prices it all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signalbench import backtest
from signalbench.data.splits import walk_forward_splits as wf_folds
from signalbench.experiment import walk_forward
from signalbench.strategies import sign


class SpyModel:
    """A contract-shaped model whose single feature is the row number, so it can report what it saw.

    It predicts P(up) from the training frequency of "up" labels, tilted by the parity of the current row:
    a deterministic, causal rule (row t's output uses row t only).
    """

    instances: list = []

    def __init__(self, seq_len: int = 3):
        self.seq_len = seq_len
        SpyModel.instances.append(self)

    @property
    def window(self) -> int:
        return self.seq_len

    def context_start(self, X, start: int) -> int:
        return max(0, start - self.seq_len + 1)

    def fit(self, X, y, *, X_val=None, y_val=None):
        X = np.asarray(X)
        y = np.asarray(y, dtype=float)
        self.seen_rows_ = X[:, 0].astype(int)
        self.labelled_rows_ = X[np.isfinite(y), 0].astype(int)
        self.classes_ = np.unique(y[np.isfinite(y)])
        self.p_up_ = float(np.mean(y[np.isfinite(y)] == self.classes_.max()))
        self.val_rows_ = None
        if X_val is not None:
            Xv, yv = np.asarray(X_val), np.asarray(y_val, dtype=float)
            self.val_rows_ = Xv[np.isfinite(yv), 0].astype(int)
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
    res = walk_forward(lambda: SpyModel(3), X, y, price, folds, sign, {"fee_bps": 1.0}, val_size=0.0)
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
    with pytest.raises(
        ValueError, match=r"folds\[0\]: expected training rows before its test block at row 200, got training row 299"
    ):
        walk_forward(lambda: SpyModel(3), X, y, price, bad, sign)
    overlapping = [(np.arange(0, 100), np.arange(150, 200)), (np.arange(0, 120), np.arange(190, 220))]
    with pytest.raises(ValueError, match=r"folds\[1\]: expected test rows no earlier fold tested, got row 190 again"):
        walk_forward(lambda: SpyModel(3), X, y, price, overlapping, sign)


def test_length_mismatch(data):
    X, y, price = data
    with pytest.raises(ValueError, match=r"price: expected 600 rows to match X, got 599"):
        walk_forward(lambda: SpyModel(3), X, y, price.iloc[:-1], [], sign)


class _NoClasses(SpyModel):
    def fit(self, X, y, *, X_val=None, y_val=None):
        super().fit(X, y)
        del self.classes_
        return self


class _WrongShape(SpyModel):
    def predict_proba(self, X):
        return super().predict_proba(X)[:-1]


class _Strings(SpyModel):
    def predict_proba(self, X):
        return np.full((len(X), 2), "0.5")


_SHARED = SpyModel(3)
_FOLDS = [(np.arange(0, 300), np.arange(310, 400)), (np.arange(0, 400), np.arange(410, 500))]


def _call(data, **changes):
    X, y, price = data
    args = {
        "model_factory": lambda: SpyModel(3),
        "X": X,
        "y": y,
        "price": price,
        "folds": _FOLDS,
        "strategy": sign,
        "costs": {"fee_bps": 1.0},
    }
    kwargs = changes.pop("kwargs", {})
    args.update(changes)
    return walk_forward(**args, **kwargs)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # a fold beyond the data (was an IndexError from NumPy)
        (
            {"folds": [_FOLDS[0], (np.arange(0, 500), np.arange(590, 650))]},
            r"folds\[1\] test rows: expected row positions in \[0, 600\) \(the rows of X\), got 600",
        ),
        (
            {"folds": [(np.arange(-5, 100), np.arange(200, 300))]},
            r"folds\[0\] train rows: expected row positions in \[0, 600\).*got -5",
        ),
        ({"folds": []}, "folds: expected at least one"),
        (
            {"folds": [(np.arange(0, 10), np.array([], dtype=np.int64))]},
            r"folds\[0\] test rows: expected at least one row",
        ),
        (
            {"folds": [(np.arange(0, 10), np.arange(20, 40).reshape(4, 5))]},
            r"folds\[0\] test rows: expected a 1-D array",
        ),
        (
            {"folds": [(np.arange(0, 20), np.arange(30, 40))], "y": np.r_[np.full(25, np.nan), np.zeros(575)]},
            r"folds\[0\]: expected training rows with at least one label",
        ),
        ({"y": np.full(600, 0.5)}, r"y: expected class labels \(whole numbers\) or NaN, got 0\.5 at row 0"),
        ({"y": np.full(600, np.nan)}, "y: expected at least one class label, got only NaN"),
        ({"y": np.zeros(599)}, "y: expected 600 rows to match X, got 599"),
        ({"y": np.r_[np.zeros(599), np.inf]}, "y: expected no infinite values"),
        ({"X": np.zeros(600)}, r"X: expected shape \(n, m\)"),
        ({"price": -pd.Series(np.ones(600))}, r"price: expected values > 0, got -1\.0 at row 0"),
        ({"price": pd.Series(np.r_[np.ones(599), np.nan])}, "price: expected finite values, got nan at row 599"),
        (
            {"costs": {"fee": 1.0}},
            "costs: expected one of fee_bps, half_spread_bps, slippage_bps, got 'fee' .*did you mean 'fee_bps'",
        ),
        ({"kwargs": {"dealy": 1}}, "backtest keyword: expected one of .*did you mean 'delay'"),
        ({"kwargs": {"fee_bps": 2.0}}, "fee_bps: expected one value, got it in costs and as a keyword"),
        ({"costs": {"fee_bps": -1.0}}, "fee_bps"),
        ({"kwargs": {"delay": -1}}, "delay"),
        (
            {"model_factory": lambda: _SHARED},
            r"model_factory: expected a new model for every fold, got the same object again at folds\[1\]",
        ),
        ({"model_factory": _WrongShape}, r"folds\[0\] predict_proba: expected shape \(92, 2\)"),
        ({"strategy": lambda p: np.zeros(10)}, "strategy output: expected 600 rows"),
    ],
)
def test_bad_values_are_value_errors_naming_the_argument(data, changes, message):
    with pytest.raises(ValueError, match=message):
        _call(data, **changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # a model factory that returns None (was an AttributeError on None.fit)
        (
            {"model_factory": lambda: None},
            r"model_factory: expected a callable returning a model with fit, predict_proba, context_start and window "
            r"\(the SignalModel contract\), got None at folds\[0\]",
        ),
        ({"model_factory": lambda: object()}, "model_factory: expected a callable returning a model with fit"),
        ({"model_factory": SpyModel(3)}, "model_factory: expected a callable returning a new, unfitted model"),
        ({"model_factory": _NoClasses}, r"model_factory: expected models that set classes_ when fitted"),
        ({"model_factory": _Strings}, r"folds\[0\] predict_proba: expected numbers, got strings"),
        ({"strategy": "sign"}, "strategy: expected a callable"),
        ({"strategy": lambda p: None}, "strategy output: expected an array of numbers, got None"),
        (
            {"folds": [(np.arange(0, 600) < 300, np.arange(0, 600) >= 310)]},
            r"folds\[0\] train rows: expected integer row positions, got dtype bool; use np.flatnonzero\(mask\)",
        ),
        (
            {"folds": [(np.arange(0.0, 300.0), np.arange(310, 400))]},
            r"folds\[0\] train rows: expected integer row positions, got dtype float64",
        ),
        ({"folds": [np.arange(10)]}, r"folds\[0\]: expected a \(train, test\) pair"),
        ({"folds": 5}, "folds: expected a list of"),
        ({"costs": 1.0}, "costs: expected a dict"),
        ({"kwargs": {"seq_len": 2.0}}, "seq_len: expected an integer >= 1 or None, got 2.0"),
        ({"kwargs": {"close_at_end": "no"}}, "close_at_end"),
        ({"X": np.full((600, 2), "a")}, "X: expected numbers, got strings"),
        (
            {"X": pd.DataFrame({"t": pd.date_range("2024", periods=600)})},
            "X: expected numbers, got datetimes .* column 't'",
        ),
        ({"y": pd.Series(["up"] * 600)}, "y: expected numbers, got 'up' at row 0"),
    ],
)
def test_wrong_kinds_are_type_errors_naming_the_argument(data, changes, message):
    with pytest.raises(TypeError, match=message):
        _call(data, **changes)


def test_bad_arguments_are_reported_before_any_model_is_fitted(data):
    X, y, price = data
    fitted = []

    class Counting(SpyModel):
        def fit(self, X, y, *, X_val=None, y_val=None):
            fitted.append(1)
            return super().fit(X, y)

    late = [_FOLDS[0], (np.arange(0, 500), np.arange(590, 601))]
    for kwargs in (
        {"folds": late},
        {"costs": {"fee_bps": -1.0}},
        {"kwargs": {"mode": "compund"}},
        {"y": np.full(600, 0.5)},
    ):
        with pytest.raises((TypeError, ValueError)):
            _call(data, model_factory=Counting, **kwargs)
    assert fitted == []


def test_unsorted_or_misaligned_time_indexes_are_rejected(data):
    X, y, price = data
    shuffled = price.iloc[np.r_[1, 0, 2:600]]
    with pytest.raises(ValueError, match="price's index: expected timestamps sorted in time"):
        _call(data, price=shuffled)
    frame = pd.DataFrame(X, index=price.index + pd.Timedelta(days=1))
    with pytest.raises(ValueError, match="price's index: expected the index of X"):
        _call(data, X=frame)


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
    assert res.backtest.returns.sum() > 0  # total additive net return


def test_each_fold_gets_its_own_purged_validation_tail(data):
    """Early stopping needs validation data: the tail of each fold's past, after a purge gap, before its test block."""
    X, y, price = data
    folds = wf_folds(len(X), horizon=2, seq_len=3, n_folds=3)
    SpyModel.instances = []
    walk_forward(lambda: SpyModel(3), X, y, price, folds, sign, horizon=2, val_size=0.25)
    for model, (train, test) in zip(SpyModel.instances, folds):
        val = model.val_rows_
        assert val is not None and val.size > 0
        assert set(val) <= set(train)  # taken from the fold's past
        assert model.labelled_rows_.max() < val.min() - (2 + 3)  # purge gap of horizon + seq_len
        assert val.max() < test.min()
        assert not set(val) & set(model.labelled_rows_)


def test_val_size_zero_trains_on_every_training_row(data):
    X, y, price = data
    folds = wf_folds(len(X), horizon=1, seq_len=3, n_folds=2)
    SpyModel.instances = []
    walk_forward(lambda: SpyModel(3), X, y, price, folds, sign, val_size=0.0)
    for model, (train, _) in zip(SpyModel.instances, folds):
        assert model.val_rows_ is None
        np.testing.assert_array_equal(np.sort(model.labelled_rows_), np.sort(train))
