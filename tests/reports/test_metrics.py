"""Classification metrics against scikit-learn (an independent implementation), on random labels and probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench.reports import metrics
from tests.conftest import require_module

skm = require_module("sklearn.metrics")

CLASSES = (0, 1, 2)


def _sample(seed: int, n: int):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n).astype(float)
    p = rng.dirichlet(np.ones(3), size=n)
    return y, p


@given(st.integers(0, 10_000), st.integers(1, 300))
def test_against_sklearn(seed, n):
    y, p = _sample(seed, n)
    pred = np.argmax(p, axis=1).astype(float)
    got = metrics.classification_metrics(y, p, CLASSES)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["macro_f1"] == pytest.approx(
        skm.f1_score(y, pred, labels=list(CLASSES), average="macro", zero_division=0)
    )
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, p, labels=list(CLASSES)))
    onehot = np.eye(3)[y.astype(int)]
    assert got["brier"] == pytest.approx(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    np.testing.assert_array_equal(got["confusion"], skm.confusion_matrix(y, pred, labels=list(CLASSES)))
    if len(np.unique(y)) > 0:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn warns when a predicted class has no true row
            want = skm.balanced_accuracy_score(y, pred)
        assert got["balanced_accuracy"] == pytest.approx(want)


def test_nan_rows_are_dropped():
    y, p = _sample(1, 50)
    y[3] = np.nan
    p[7] = np.nan
    got = metrics.classification_metrics(y, p)
    assert got["n_rows"] == 48


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="proba: expected shape"):
        metrics.classification_metrics(np.zeros(5), np.zeros((4, 3)))
    with pytest.raises(TypeError, match="y_true: expected numbers"):
        metrics.accuracy(np.array(["a", "b"]), np.zeros(2))
    with pytest.raises(ValueError, match="y_pred: expected 3 labels"):
        metrics.accuracy(np.zeros(3), np.zeros(2))


@given(st.integers(0, 10_000), st.integers(1, 200))
def test_direction_accuracy_counts_only_rows_that_moved(seed, n):
    y, p = _sample(seed, n)
    got = metrics.direction_accuracy(y, p)
    right = [(p[i, 2] > p[i, 0]) if y[i] == 2 else (p[i, 0] > p[i, 2]) for i in range(n) if y[i] != 1]
    if right:
        assert got == pytest.approx(np.mean(right))
    else:
        assert np.isnan(got)


@given(st.integers(0, 10_000), st.integers(3, 200))
def test_regression_metrics_against_scipy(seed, n):
    from scipy import stats

    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    p = 0.5 * y + rng.normal(size=n)
    got = metrics.regression_metrics(y, p)
    assert got["rmse"] == pytest.approx(np.sqrt(np.mean((y - p) ** 2)))
    assert got["correlation"] == pytest.approx(stats.pearsonr(y, p)[0])
    assert got["rank_correlation"] == pytest.approx(stats.spearmanr(y, p)[0])
    assert got["direction_accuracy"] == pytest.approx(np.mean(np.sign(p) == np.sign(y)))
