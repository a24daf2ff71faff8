"""Predicting a span of rows with a fitted model, the same way for the runner and the audit.

Row ``t``'s prediction reads rows ``t - window + 1 .. t``, so predicting rows ``start .. stop - 1`` passes the model
the ``window - 1`` rows before ``start`` as context (as many as exist) and drops their outputs. A stateful model
(``stateful_lstm``) reads every row of its run of finite rows instead (its state restarts only after a non-finite row,
e.g. at a day's feature warm-up): its context is found by the model's ``context_start``, so the tested span is
predicted exactly as predicting the whole history would.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["context_start", "predict_span", "window"]


def window(model: Any) -> int:
    """Input rows per prediction: the model's ``window`` (or ``seq_len``), 1 without one."""
    return int(getattr(model, "window", getattr(model, "seq_len", 1)) or 1)


def context_start(model: Any, X: pd.DataFrame, start: int) -> int:
    """The first row that predictions of rows ``start, ...`` read: the model's ``context_start`` or the window rule."""
    if hasattr(model, "context_start"):
        return int(model.context_start(X, start))
    return max(0, start - (window(model) - 1))


def predict_span(model: Any, X: pd.DataFrame, start: int, stop: int) -> np.ndarray:
    """Raw outputs for rows ``start .. stop - 1`` of ``X``, made with their past context.

    ``(n, k)`` class probabilities (columns in the order of ``model.classes_``) for classifiers; ``(n, 1)`` predicted
    values for regressors.
    """
    ctx = context_start(model, X, start)
    rows = X.iloc[ctx:stop]
    if getattr(model, "task", "classification") == "regression":
        return np.asarray(model.predict(rows), dtype=np.float64)[start - ctx :, None]
    return np.asarray(model.predict_proba(rows), dtype=np.float64)[start - ctx :]
