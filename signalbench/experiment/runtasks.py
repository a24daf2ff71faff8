"""The task functions of a single-piece run (named by ``Task.fn``; each a pure function of its params and deps).

A single run reads its data as one frame (:func:`signalbench.experiment.inputs.load_inputs`: one file, or several
days of one symbol concatenated, with their day ``groups``), and its folds are cut over all of it
(:func:`signalbench.experiment.folds.make_folds`, which keeps the purge inside each day), so its tasks take the run's
inputs whole instead of a piece:

- ``inputs``: the features, traded price and day groups of the data (the caller stores what it loaded itself);
- ``fit``: one model spec fitted on one fold's training rows, early-stopped on its validation rows
  (:func:`signalbench.experiment.fitting.block` and :func:`~signalbench.experiment.fitting.fit`), with the fold's
  labels (:func:`signalbench.experiment.inputs.labels_for`: a quantile band fitted on its training rows);
- ``predict``: the fitted model's outputs over the fold's traded span; ``predict_val`` over its validation rows (what
  tuning reads), each with its past context (the multi-piece tasks' one span prediction).

Each task finds its fold from the split, the labels' horizon, the longest window and the row count, as the runner does,
so a task's key holds only small parameters.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

__all__ = ["fit_task", "inputs_result", "inputs_task", "predict_task", "predict_val_task"]


def inputs_result(inputs: Any) -> dict[str, Any]:
    """What the tasks read of an :class:`~signalbench.experiment.inputs.Inputs`: features, price, day groups."""
    return {"features": inputs.features, "price": inputs.price, "groups": inputs.groups, "n": int(inputs.n)}


def inputs_task(
    data: dict[str, Any], features: str | list[str], seed: int, base_dir: str, spread: bool
) -> dict[str, Any]:
    """The run's data loaded and its features computed (``load_inputs`` of the config sections it reads)."""
    from pydantic import TypeAdapter

    from signalbench.experiment.config import Data, Experiment
    from signalbench.experiment.inputs import read_inputs

    section = TypeAdapter(Data).validate_python(data)
    resolve = Experiment.model_construct(base_dir=base_dir).resolve  # config paths relative to the TOML file
    return inputs_result(read_inputs(section, features, seed, resolve, spread))


def _fold(labels: dict, split: dict, longest: int, fold: int, inputs: dict) -> Any:
    """Fold ``fold`` (0-based) of the run, as :func:`signalbench.experiment.folds.make_folds` cuts it."""
    from signalbench.experiment.config import Labels, Split
    from signalbench.experiment.folds import make_folds

    exp = SimpleNamespace(labels=Labels(**labels), split=Split(**split))
    folds, _ = make_folds(exp, inputs["n"], longest, inputs["groups"])
    return folds[fold]


def _labels(labels: dict, rows: np.ndarray, inputs: dict) -> np.ndarray:
    """The fold's labels of every row (a quantile band fitted on its training ``rows``)."""
    from signalbench.experiment.config import Labels
    from signalbench.experiment.inputs import labels_for

    data = SimpleNamespace(price=inputs["price"], groups=inputs["groups"])
    y, _ = labels_for(SimpleNamespace(labels=Labels(**labels)), data, rows)
    return y


def fit_task(
    spec: dict, seed: int, device: str, labels: dict, split: dict, longest: int, fold: int, inputs: dict
) -> dict[str, Any]:
    """One model spec fitted on one fold's training rows (its validation rows for early stopping); its record.

    The record is what ``fits.json`` holds of the blocks given to ``fit`` (``train`` and ``val``).
    """
    from signalbench.experiment.config import ModelSpec
    from signalbench.experiment.fitting import block, fit
    from signalbench.experiment.preflight import build_model
    from signalbench.experiment.tasks import _epoch_callback

    model = build_model(ModelSpec(**spec), seed, device)
    f = _fold(labels, split, longest, fold, inputs)
    y, features, L = _labels(labels, f.train, inputs), inputs["features"], model.window
    train = [block(features, y, f.train, L)]
    val = [block(features, y, f.val, L)] if f.val.size else []
    fit(model, train, val, _epoch_callback(model))
    return {"model": model, "record": {"train": train[0].record(), "val": val[0].record() if val else None}}


def predict_task(labels: dict, split: dict, longest: int, fold: int, fit: dict, inputs: dict) -> dict[str, Any]:
    """The fitted model's outputs over the fold's traded span (with past context), the span and the context's start."""
    from signalbench.experiment.tasks import _span

    f = _fold(labels, split, longest, fold, inputs)
    return _span(fit, inputs, int(f.start), int(f.stop))


def predict_val_task(labels: dict, split: dict, longest: int, fold: int, fit: dict, inputs: dict) -> dict[str, Any]:
    """The fitted model's outputs over the fold's validation rows (with past context): what tuning chooses on."""
    from signalbench.experiment.tasks import _span

    val = _fold(labels, split, longest, fold, inputs).val
    v0, v1 = int(val[0]), int(val[-1]) + 1
    return _span(fit, inputs, v0, v1)
