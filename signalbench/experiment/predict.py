"""Predicting a span of rows with a fitted model, the same way for the runner and the audit.

Row ``t``'s prediction reads rows ``t - window + 1 .. t``, so predicting rows ``start .. stop - 1`` passes the model
the ``window - 1`` rows before ``start`` as context (as many as exist) and drops their outputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["predict_span", "window"]


def window(model: Any) -> int:
    """Input rows per prediction: the model's ``window`` (or ``seq_len``), 1 without one."""
    return int(getattr(model, "window", getattr(model, "seq_len", 1)) or 1)


def predict_span(model: Any, X: pd.DataFrame, start: int, stop: int) -> np.ndarray:
    """Raw outputs for rows ``start .. stop - 1`` of ``X``, made with their past context.

    ``(n, k)`` class probabilities (columns in the order of ``model.classes_``) for classifiers; ``(n, 1)`` predicted
    values for regressors.
    """
    ctx = max(0, start - (window(model) - 1))
    rows = X.iloc[ctx:stop]
    if getattr(model, "task", "classification") == "regression":
        return np.asarray(model.predict(rows), dtype=np.float64)[start - ctx :, None]
    return np.asarray(model.predict_proba(rows), dtype=np.float64)[start - ctx :]
