"""Classification metrics for signal models, next to the trading statistics of :mod:`signalbench.engine`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def macro_f1(y_true, y_pred, classes: Sequence[int] = (0, 1, 2)) -> float:
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
        If the two arrays differ in shape or contain NaN.
    """
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of one length, got shapes {t.shape} and {p.shape}")
    if np.isnan(t).any() or np.isnan(p).any():
        raise ValueError("y_true and y_pred must not contain NaN: drop rows without a label or a prediction first")
    scores = []
    for c in classes:
        tp = np.sum((p == c) & (t == c))
        fp = np.sum((p == c) & (t != c))
        fn = np.sum((p != c) & (t == c))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


__all__ = ["macro_f1"]
