"""Classification metrics for signal models, next to the trading statistics of :mod:`signalbench.engine`.

Every function takes labels (and, where needed, the ``(n, k)`` class probabilities of the classes ``classes``) on
the rows that have both a label and a prediction: drop NaN rows first (:func:`classification_metrics` does it).
Conventions, chosen to match scikit-learn (the tests check them against it): macro averages are unweighted means over
``classes`` (a class neither present nor predicted scores 0 in F1 and is skipped by the balanced accuracy's recall
average when it has no true row); the log loss clips probabilities to ``[1e-15, 1 - 1e-15]``; the multi-class Brier
score is the mean over rows of ``sum_k (p_k - [y = k])^2`` (0 is perfect, 2 the worst).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from signalbench._validation import expected, numeric_array

__all__ = [
    "accuracy",
    "balanced_accuracy",
    "brier_score",
    "classification_metrics",
    "confusion_matrix",
    "direction_accuracy",
    "log_loss",
    "macro_f1",
    "regression_metrics",
]

_EPS = 1e-15


def _labels(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, _, _ = numeric_array(y_true, "y_true", ndim=(1,), allow_nan=False)
    p, _, _ = numeric_array(y_pred, "y_pred", ndim=(1,), allow_nan=False)
    if t.shape != p.shape:
        raise ValueError(expected("y_pred", f"{t.shape[0]} labels to match y_true", f"{p.shape[0]}", raw=True))
    return t, p


def _proba(y_true: Any, proba: Any, classes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    t, _, _ = numeric_array(y_true, "y_true", ndim=(1,), allow_nan=False)
    p, _, _ = numeric_array(proba, "proba", ndim=(2,), allow_nan=False)
    if p.shape != (t.shape[0], len(classes)):
        raise ValueError(
            expected("proba", f"shape ({t.shape[0]}, {len(classes)}) (rows of y_true, classes)", f"{p.shape}", raw=True)
        )
    onehot = (t[:, None] == np.asarray(classes, dtype=np.float64)[None, :]).astype(np.float64)
    return onehot, p


def confusion_matrix(y_true: Any, y_pred: Any, classes: Sequence[int] = (0, 1, 2)) -> np.ndarray:
    """``(k, k)`` int64 counts: row = true class, column = predicted class, in the order of ``classes``."""
    t, p = _labels(y_true, y_pred)
    cls = np.asarray(classes, dtype=np.float64)
    ti = np.searchsorted(cls, t)
    pi = np.searchsorted(cls, p)
    ok = (ti < cls.size) & (pi < cls.size)
    ok[ok] &= (cls[ti[ok]] == t[ok]) & (cls[pi[ok]] == p[ok])
    out = np.zeros((cls.size, cls.size), dtype=np.int64)
    np.add.at(out, (ti[ok], pi[ok]), 1)
    return out


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Share of rows whose predicted class equals the label (NaN for no rows)."""
    t, p = _labels(y_true, y_pred)
    return float(np.mean(t == p)) if t.size else float("nan")


def balanced_accuracy(y_true: Any, y_pred: Any, classes: Sequence[int] = (0, 1, 2)) -> float:
    """Mean recall over the classes that have at least one true row (chance level is 1 / their number)."""
    cm = confusion_matrix(y_true, y_pred, classes)
    support = cm.sum(axis=1)
    present = support > 0
    if not present.any():
        return float("nan")
    return float(np.mean(np.diag(cm)[present] / support[present]))


def macro_f1(y_true: Any, y_pred: Any, classes: Sequence[int] = (0, 1, 2)) -> float:
    """Unweighted mean of the per-class F1 scores ``2 tp / (2 tp + fp + fn)``.

    Parameters
    ----------
    y_true, y_pred : array-like
        ``(n,)`` class labels (drop NaN rows first).
    classes : sequence of int, default (0, 1, 2)
        The classes to average over (down, stationary, up); a class neither present nor predicted scores 0.

    Returns
    -------
    float
        Macro-F1 in [0, 1].

    Raises
    ------
    ValueError
        If the two arrays differ in length or contain NaN.
    """
    cm = confusion_matrix(y_true, y_pred, classes)
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    den = 2 * tp + fp + fn
    scores = np.where(tp > 0, 2 * tp / np.where(den > 0, den, 1), 0.0)
    return float(np.mean(scores))


def log_loss(y_true: Any, proba: Any, classes: Sequence[int] = (0, 1, 2)) -> float:
    """Mean negative log-likelihood of the true class, probabilities clipped to ``[1e-15, 1 - 1e-15]``."""
    onehot, p = _proba(y_true, proba, classes)
    if not onehot.shape[0]:
        return float("nan")
    picked = np.clip(np.sum(onehot * p, axis=1), _EPS, 1 - _EPS)
    return float(-np.mean(np.log(picked)))


def brier_score(y_true: Any, proba: Any, classes: Sequence[int] = (0, 1, 2)) -> float:
    """Multi-class Brier score: mean over rows of ``sum_k (p_k - [y = k])^2`` (0 best, 2 worst)."""
    onehot, p = _proba(y_true, proba, classes)
    if not onehot.shape[0]:
        return float("nan")
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def classification_metrics(y_true: Any, proba: Any, classes: Sequence[int] = (0, 1, 2)) -> dict[str, Any]:
    """Every metric on the rows with a label and a full probability row; the predicted class is the argmax.

    Returns
    -------
    dict
        ``n_rows``, ``accuracy``, ``balanced_accuracy``, ``macro_f1``, ``log_loss``, ``brier``, ``confusion``
        (``(k, k)`` list of lists, rows true, columns predicted) and ``predicted_share`` (share of rows predicted as
        each class, in the order of ``classes``).
    """
    t, _, _ = numeric_array(y_true, "y_true", ndim=(1,))
    p, _, _ = numeric_array(proba, "proba", ndim=(2,))
    if p.shape != (t.shape[0], len(classes)):
        raise ValueError(expected("proba", f"shape ({t.shape[0]}, {len(classes)})", f"{p.shape}", raw=True))
    ok = np.isfinite(t) & np.isfinite(p).all(axis=1)
    t, p = t[ok], p[ok]
    cls = np.asarray(classes, dtype=np.float64)
    pred = cls[np.argmax(p, axis=1)] if p.shape[0] else np.empty(0)
    cm = confusion_matrix(t, pred, classes)
    return {
        "n_rows": int(t.size),
        "accuracy": accuracy(t, pred),
        "balanced_accuracy": balanced_accuracy(t, pred, classes),
        "macro_f1": macro_f1(t, pred, classes) if t.size else float("nan"),
        "log_loss": log_loss(t, p, classes),
        "brier": brier_score(t, p, classes),
        "confusion": cm.tolist(),
        "predicted_share": (cm.sum(axis=0) / max(t.size, 1)).tolist(),
        "direction_accuracy": direction_accuracy(t, p, classes),
    }


def direction_accuracy(y_true: Any, proba: Any, classes: Sequence[int] = (0, 1, 2)) -> float:
    """On the rows whose label is down or up: the share where ``P(up) > P(down)`` agrees with the label.

    This is the accuracy a synthetic run's Bayes-optimal figure refers to (the direction of the next move, given that
    it moves), so the two can be compared; ties ``P(up) == P(down)`` count as wrong. NaN without such rows.
    """
    onehot, p = _proba(y_true, proba, classes)
    cls = list(classes)
    if 0 not in cls or 2 not in cls:
        return float("nan")
    down, up = cls.index(0), cls.index(2)
    moved = (onehot[:, down] + onehot[:, up]) > 0
    if not moved.any():
        return float("nan")
    said_up = p[moved, up] > p[moved, down]
    said_down = p[moved, down] > p[moved, up]
    right = np.where(onehot[moved, up] > 0, said_up, said_down)
    return float(np.mean(right))


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, Any]:
    """Forecast quality of predicted returns on the rows with both a label and a prediction.

    Returns
    -------
    dict
        ``n_rows``; ``rmse``; ``correlation`` (Pearson) and ``rank_correlation`` (Spearman, the information
        coefficient), NaN when either side is constant; ``direction_accuracy``: on rows whose label is not 0, the share
        where the prediction has the label's sign (a zero prediction counts as wrong).
    """
    t, _, _ = numeric_array(y_true, "y_true", ndim=(1,))
    p, _, _ = numeric_array(y_pred, "y_pred", ndim=(1,))
    if t.shape != p.shape:
        raise ValueError(expected("y_pred", f"{t.shape[0]} values to match y_true", f"{p.shape[0]}", raw=True))
    ok = np.isfinite(t) & np.isfinite(p)
    t, p = t[ok], p[ok]
    out: dict[str, Any] = {"n_rows": int(t.size), "rmse": float(np.sqrt(np.mean((t - p) ** 2))) if t.size else np.nan}
    varies = t.size > 1 and np.ptp(t) > 0 and np.ptp(p) > 0
    out["correlation"] = float(np.corrcoef(t, p)[0, 1]) if varies else float("nan")
    if varies:
        rt = np.argsort(np.argsort(t, kind="stable"), kind="stable").astype(np.float64)
        rp = np.argsort(np.argsort(p, kind="stable"), kind="stable").astype(np.float64)
        out["rank_correlation"] = float(np.corrcoef(rt, rp)[0, 1])
    else:
        out["rank_correlation"] = float("nan")
    moved = t != 0
    out["direction_accuracy"] = float(np.mean(np.sign(p[moved]) == np.sign(t[moved]))) if moved.any() else np.nan
    return out
