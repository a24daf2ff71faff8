"""Fitting a model on a fold's rows and predicting a span with context: the one implementation of both.

The runner (a single run's folds), the task graph's ``fit`` and ``predict`` tasks (one fold of a pool group's pieces)
and :func:`signalbench.experiment.walk_forward` call these functions; they differ only in the rows they pass.

- :func:`block`: one part of a split (a fold's training or validation rows of one piece, or of a single run's data)
  with the ``window - 1`` rows of context before it (:func:`signalbench.data.splits.with_context`; as many as exist
  before row 0), labels NaN off the part; its :meth:`Block.record` is the ``fits.json`` shape
  (:func:`signalbench.experiment.fits.part_rows`).
- :func:`fit`: the model fitted on its training blocks (one frame: a block each, no window crosses two blocks' rows
  given a label), early-stopped on its validation blocks, with an optional epoch callback.
- :func:`predict_span`: rows ``start .. stop - 1`` predicted with the context the model's ``context_start`` names
  (row ``t`` reads rows ``t - window + 1 .. t``; a stateful model its run of finite rows), the context's outputs
  dropped, so a span is predicted exactly as predicting the whole history would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from signalbench.data.splits import with_context
from signalbench.experiment.fits import part_rows

__all__ = ["Block", "block", "context_of", "epochs_of", "fit", "predict_span", "predictor"]


@dataclass(frozen=True)
class Block:
    """One part's rows with their context: ``X`` and ``y`` are rows ``start .. stop - 1`` of the data.

    ``labelled`` holds the row positions (in the data) that carry a finite label: the rows trained or validated on.
    """

    X: Any
    y: np.ndarray
    start: int
    labelled: np.ndarray

    @property
    def stop(self) -> int:
        """One past the block's last row."""
        return self.start + len(self.X)

    def record(self) -> dict[str, Any]:
        """The block as ``fits.json`` records it (:func:`signalbench.experiment.fits.part_rows`)."""
        return part_rows(self.start, self.stop, self.labelled)


def block(X: Any, y: Any, rows: np.ndarray, window: int) -> Block:
    """The part ``rows`` of ``X``, ``y`` with the ``window - 1`` rows before its first row (as many as exist)."""
    rows = np.asarray(rows, dtype=np.int64)
    X_part, y_part, lo, _ = with_context(X, y, rows, min(int(window), int(rows[0]) + 1))
    y_part = np.asarray(y_part, dtype=np.float64)
    return Block(X_part, y_part, int(lo), int(lo) + np.flatnonzero(np.isfinite(y_part)))


def _frame(blocks: Sequence[Block]) -> tuple[Any, np.ndarray]:
    """The blocks as one ``X``, ``y`` (a single block as it is; several concatenated, a DataFrame re-indexed)."""
    if not blocks:  # nothing to fit on: the model's own error says so
        return pd.DataFrame(), np.zeros(0)
    if len(blocks) == 1:
        return blocks[0].X, blocks[0].y
    y = np.concatenate([b.y for b in blocks])
    if isinstance(blocks[0].X, pd.DataFrame):
        return pd.concat([b.X.reset_index(drop=True) for b in blocks], ignore_index=True), y
    return np.concatenate([np.asarray(b.X) for b in blocks]), y


def fit(
    model: Any,
    train: Sequence[Block],
    val: Sequence[Block] = (),
    callback: Callable[[int, dict[str, float]], None] | None = None,
) -> None:
    """Fit ``model`` on the ``train`` blocks; the ``val`` blocks (if any) are ``X_val``/``y_val`` (early stopping).

    ``callback(epoch, metrics)`` is passed on to a model that trains in epochs (:func:`epochs_of`).
    """
    X, y = _frame(train)
    kwargs: dict[str, Any] = {}
    if val:
        kwargs["X_val"], kwargs["y_val"] = _frame(val)
    if callback is not None:
        kwargs["callback"] = callback
    model.fit(X, y, **kwargs)


def epochs_of(model: Any) -> int:
    """The epochs a model trains for (0: it does not train in epochs and takes no epoch callback)."""
    return int(getattr(model, "epochs", 0) or 0)


def _rows(X: Any, lo: int, hi: int) -> Any:
    return X.iloc[lo:hi] if isinstance(X, pd.DataFrame) else X[lo:hi]


def context_of(model: Any, X: Any, start: int, earliest: int | None = None) -> int:
    """The first row a prediction from ``start`` is given: ``model.context_start``, or ``earliest`` if before."""
    ctx = int(model.context_start(X, start))
    return ctx if earliest is None else min(ctx, int(earliest))


def predict_span(
    model: Any,
    X: Any,
    start: int,
    stop: int,
    *,
    earliest: int | None = None,
    task: str | None = None,
    check: Callable[[Any, int], np.ndarray] | None = None,
) -> np.ndarray:
    """Raw outputs for rows ``start .. stop - 1`` of ``X``, made with their past context.

    ``(n, k)`` class probabilities (columns in the order of ``model.classes_``) for classifiers; ``(n, 1)`` predicted
    values for regressors (``task``, default ``model.task``). The context starts at ``model.context_start(X, start)``,
    or at ``earliest`` when that is before it. ``check(raw, rows)``, when given, checks the model's raw output for the
    ``rows`` rows given and returns it as a float array (before the context's rows are dropped).
    """
    ctx = context_of(model, X, start, earliest)
    rows = _rows(X, ctx, stop)
    regression = (model.task if task is None else task) == "regression"
    raw = model.predict(rows) if regression else model.predict_proba(rows)
    out = np.asarray(raw, dtype=np.float64) if check is None else check(raw, stop - ctx)
    return out[start - ctx :, None] if regression else out[start - ctx :]


def predictor(model: Any) -> Any:
    """The causality check's view of a fitted model: the outputs of rows ``start .. stop - 1`` with their context.

    A :data:`signalbench.audit.Predictor`: ``(features, start, stop)`` -> :func:`predict_span`.
    """

    def predict(features: Any, start: int, stop: int) -> np.ndarray:
        return predict_span(model, features, start, stop)

    return predict
