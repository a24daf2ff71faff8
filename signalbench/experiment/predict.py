"""Predicting a span of rows with a fitted model, the same way for the runner and the audit.

Row ``t``'s prediction reads rows ``t - window + 1 .. t``, so predicting rows ``start .. stop - 1`` passes the model
the ``window - 1`` rows before ``start`` as context (as many as exist) and drops their outputs. A stateful model
(``stateful_lstm``) reads every row of its run of finite rows instead (its state restarts only after a non-finite row,
e.g. at a day's feature warm-up). Either way the context is what the model's ``context_start`` says (the
:class:`signalbench.signals.SignalModel` contract), so the tested span is predicted exactly as predicting the whole
history would.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["predict_span", "predictor"]


def predict_span(model: Any, X: pd.DataFrame, start: int, stop: int) -> np.ndarray:
    """Raw outputs for rows ``start .. stop - 1`` of ``X``, made with their past context.

    ``(n, k)`` class probabilities (columns in the order of ``model.classes_``) for classifiers; ``(n, 1)`` predicted
    values for regressors.
    """
    ctx = int(model.context_start(X, start))
    rows = X.iloc[ctx:stop]
    if model.task == "regression":
        return np.asarray(model.predict(rows), dtype=np.float64)[start - ctx :, None]
    return np.asarray(model.predict_proba(rows), dtype=np.float64)[start - ctx :]


def predictor(model: Any) -> Any:
    """The causality check's view of a fitted model: the outputs of rows ``start .. stop - 1`` with their context.

    A :data:`signalbench.audit.Predictor`: ``(features, start, stop)`` -> :func:`predict_span`.
    """

    def predict(features: pd.DataFrame, start: int, stop: int) -> np.ndarray:
        return predict_span(model, features, start, stop)

    return predict
