"""The model contract: the runner, the audit and walk-forward ask a model its ``window`` and ``context_start``.

``SignalModel.window`` is the declared ``seq_len`` (1 without one); a model may override it or ``context_start``, and
every orchestrator uses what the model says instead of re-deriving it from a ``seq_len`` attribute.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signalbench import create_model
from signalbench.data.splits import walk_forward_splits as wf_folds
from signalbench.experiment import walk_forward
from signalbench.strategies import sign


class Spy:
    """A window-1 model of the contract whose single feature is the row number: it records the rows it predicted."""

    window = 1

    def context_start(self, X, start: int) -> int:
        return max(0, start - self.window + 1)

    def fit(self, X, y, *, X_val=None, y_val=None):
        self.classes_ = np.unique(y[np.isfinite(y)])
        return self

    def predict_proba(self, X):
        self.predicted_rows_ = np.asarray(X)[:, 0].astype(int)
        return np.full((len(X), self.classes_.size), 1.0 / self.classes_.size)


class WideWindow(Spy):
    """Reads 4 rows per prediction though it has no ``seq_len`` of that length (its ``window`` says so)."""

    window = 4


class LongContext(Spy):
    """A window-1 model whose predictions read back to row 0 (as a state that never resets would)."""

    def context_start(self, X, start: int) -> int:
        return 0


class NoContract:
    def fit(self, X, y, **kwargs):
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    n = 400
    X = np.c_[np.arange(n, dtype=float), rng.normal(size=n)]
    y = rng.integers(0, 2, n).astype(float)
    y[-2:] = np.nan
    price = pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.01, n)), index=pd.bdate_range("2020-01-01", periods=n))
    return X, y, price, wf_folds(n, horizon=2, seq_len=4, n_folds=2)


def test_walk_forward_asks_the_model_its_window(data):
    X, y, price, folds = data
    res = walk_forward(WideWindow, X, y, price, folds, sign, val_size=0.0)
    for model, (_, test) in zip(res.models, folds):
        assert model.predicted_rows_.min() == test.min() - 3  # window - 1 rows of context, from the model


def test_walk_forward_asks_the_model_its_context(data):
    X, y, price, folds = data
    res = walk_forward(LongContext, X, y, price, folds, sign, val_size=0.0)
    assert [int(m.predicted_rows_.min()) for m in res.models] == [0, 0]


def test_a_model_without_the_contract_is_refused(data):
    X, y, price, folds = data
    with pytest.raises(TypeError, match=r"model_factory: expected .* context_start and window \(the SignalModel"):
        walk_forward(NoContract, X, y, price, folds, sign)


@pytest.mark.parametrize(
    ("name", "params", "want", "context"),
    [("lstm", {"seq_len": 7}, 7, 4), ("logistic", {}, 1, 10), ("stateful_lstm", {}, 1, 0), ("majority", {}, 1, 10)],
)
def test_window_is_the_declared_seq_len_or_one(name, params, want, context):
    model = create_model(name, **params)
    assert model.window == want
    assert model.context_start(np.zeros((20, 2)), 10) == context  # a stateful model: its whole run of finite rows


def test_window_ignores_an_undeclared_seq_len_attribute():
    model = create_model("logistic")
    model.seq_len = 9  # not a hyperparameter of the model: its window stays what it declares
    assert model.window == 1
