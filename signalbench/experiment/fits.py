"""The record of every fit: the rows the pipeline gave each model, per fold (``fits.json`` in the run folder).

Its ranges are read and written by :mod:`signalbench._runfolder.fits` (``ranges``, ``rows_of``, re-exported here).

The leakage audit judges a fitted model against this record, never against a reconstruction of the split: the
scaler it learned must be the one its own contract gives on these rows (``SignalModel.scaler_statistics``), and the
label thresholds are refit on the training rows recorded here. ``fits.json`` holds ``{"format": 1, "folds": [...],
"models": {model: [...]}}``: per fold the split the pipeline used (:func:`fold_record`: ``train``, ``val`` and ``test``
as ranges, the traded ``span``; the stationary threshold is fit on ``train``), and per model one record per fit::

    {"fold": 1,
     "train":   {"rows": [lo, hi], "context": [lo, first], "labelled": [[a, b], ...]},
     "val":     {"rows": [lo, hi], "context": [lo, first], "labelled": [[a, b], ...]} or null,
     "predict": {"rows": [lo, hi], "context": [lo, start], "scored": [start, hi]}}

Every pair is a half-open range ``[a, b)`` of row positions into the run's feature rows. ``rows`` is the block of
feature rows passed to ``fit`` (as ``X``, or ``X_val``) or to ``predict_proba``; ``labelled`` the rows of that block
given a finite label (the rows trained on, or validated on, when their window is complete and finite); ``context``
the rows before the first of them, given as input only; ``scored`` the rows whose predictions are kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from signalbench._runfolder.fits import FORMAT, fold_rows, ranges, rows_of
from signalbench.experiment.folds import Fold

__all__ = ["FORMAT", "fit_record", "fold_of", "fold_record", "part_rows", "ranges", "rows_of"]


def part_rows(lo: int, hi: int, labelled: Any) -> dict[str, Any]:
    """The record of one block ``[lo, hi)`` passed to ``fit`` whose rows ``labelled`` carry a finite label."""
    labelled = np.asarray(labelled, dtype=np.int64)
    first = int(labelled.min()) if labelled.size else hi
    return {"rows": [int(lo), int(hi)], "context": [int(lo), first], "labelled": ranges(labelled)}


def fit_record(
    fold: int, train: dict[str, Any], val: dict[str, Any] | None, predict: tuple[int, int, int]
) -> dict[str, Any]:
    """One fit's record: its fold (1-based), the :func:`part_rows` of ``X`` and ``X_val``, and the predicted block.

    ``predict`` is ``(context start, first scored row, stop)``.
    """
    lo, start, stop = (int(x) for x in predict)
    return {
        "fold": int(fold),
        "train": train,
        "val": val,
        "predict": {"rows": [lo, stop], "context": [lo, start], "scored": [start, stop]},
    }


def fold_record(k: int, fold: Fold) -> dict[str, Any]:
    """The record of fold ``k`` (1-based): its training, validation and tested rows as ranges, and its span."""
    parts = {name: ranges(getattr(fold, name)) for name in ("train", "val", "test")}
    return {"fold": int(k), **parts, "span": [int(fold.start), int(fold.stop)]}


def fold_of(record: dict[str, Any]) -> Fold:
    """The :class:`~signalbench.experiment.folds.Fold` a :func:`fold_record` describes."""
    r = fold_rows(record)
    return Fold(r.train, r.val, r.test, r.start, r.stop)
