"""The realised labels of streamed predictions: the label the model was trained on, computed on the replayed day.

**Look-ahead by design**, like :mod:`signalbench.data.labels`: this runs after the stream, to score it, never inside
the consumer. The label definition comes from the run folder the model was saved in (``docs/architecture.md``,
"Streaming"), and the labels are made by the experiment's own recipe, :func:`signalbench.data.labels.make_labels`:

- kind and horizon from ``config.json`` (``labels``);
- the stationary threshold as the run used it: ``metrics.json`` records, per fold, the threshold every label of that
  fold was made with (``labels[k].threshold``, fitted on that fold's training rows when the config gives a
  ``stationary_quantile``); the model folder picks the fold (:func:`signalbench._runfolder.fold_of_model`);
- when the run folder does not record it (a quantile band and no ``metrics.json``), it is fit the documented way
  (:func:`signalbench.data.labels.fit_stationary_threshold`) on the **first third** of the streamed rows that have a
  label, and only rows whose label window starts after those rows' windows end are scored, so no scored label
  influenced its own threshold. The evaluation says which rows it was fit on.

A model that did not come from a run folder needs the definition passed in (``labels={"kind": ..., "horizon": ...,
"threshold": ...}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signalbench._runfolder import config_of, fold_of_model, metrics_of
from signalbench._validation import choice, expected, integer, number

__all__ = ["LabelSpec", "first_unseen_row", "label_spec", "realised_labels"]

_KINDS = ("direction", "smoothed_direction")


@dataclass(frozen=True)
class LabelSpec:
    """How the labels are made: kind, horizon, and the threshold (None: fit it, with ``quantile``)."""

    kind: str
    horizon: int
    threshold: float | None
    quantile: float | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _same_file(a: Any, b: Any) -> bool:
    try:
        return Path(a).expanduser().resolve().samefile(Path(b).expanduser().resolve())
    except (OSError, TypeError):
        return False


def first_unseen_row(run_dir: Any, model_dir: Any, source: Any) -> tuple[int, str | None]:
    """The first data row the model was not fitted, validated or tuned on, when the stream replays its run's data.

    A model from a run folder was fitted on rows of the run's data before its fold's test block (``metrics.json``
    ``split.folds[k].span``); scoring those rows would report in-sample accuracy. When the replayed ``source`` is the
    run's own data file, rows before the fold's first tested row are left out (counted as ``in_sample``). Another
    file (another day), or no run folder, is unseen from its first row: ``(0, None)``.

    Returns
    -------
    tuple of (int, str or None)
        The first row to score and why (None when nothing is left out).
    """
    config = config_of(run_dir) if run_dir is not None else None
    metrics = metrics_of(run_dir, required=False) if config is not None else None
    if config is None or metrics is None:
        return 0, None
    run = Path(run_dir)
    data = config.get("data") or {}
    paths = data.get("path") if isinstance(data.get("path"), list) else [data.get("path")]
    base = Path(config.get("base_dir") or run)
    if not any(isinstance(p, str) and _same_file(p if Path(p).is_absolute() else base / p, source) for p in paths):
        return 0, None
    folds = metrics.get("split", {}).get("folds") or []
    k = fold_of_model(model_dir)
    if not 0 <= k < len(folds):
        return 0, None
    start = int(folds[k]["span"][0])
    return start, (
        f"the stream replays the run's own data: rows 0 .. {start - 1} are the rows fold {k + 1}'s model was fitted, "
        f"validated and tuned on (metrics.json split.folds[{k}]), left out as in-sample"
    )


def _recorded_threshold(run_dir: Path, fold: int) -> float | None:
    labels = (metrics_of(run_dir, required=False) or {}).get("labels")
    if isinstance(labels, list) and 0 <= fold < len(labels) and isinstance(labels[fold], dict):
        value = labels[fold].get("threshold")
        return float(value) if isinstance(value, int | float) else None
    return None


def _from_mapping(labels: Mapping[str, Any], source: str) -> LabelSpec:
    kind = labels.get("kind", "direction")
    if kind == "forward_return":
        raise ValueError(
            expected(
                "labels.kind",
                f"one of {_KINDS} (a classifier's labels)",
                kind,
                hint="streamed predictions are class probabilities; a regressor is not evaluated",
            )
        )
    kind = choice(kind, "labels.kind", _KINDS)
    horizon = integer(labels.get("horizon", 1), "labels.horizon", minimum=1)
    quantile = labels.get("stationary_quantile")
    threshold = labels.get("threshold")
    if threshold is not None:
        return LabelSpec(kind, horizon, number(threshold, "labels.threshold", low=0.0), None, source)
    if quantile is not None:
        return LabelSpec(
            kind,
            horizon,
            None,
            number(quantile, "labels.stationary_quantile", low=0.0, high=1.0, low_open=True, high_open=True),
            source,
        )
    from signalbench.data.labels import DEFAULT_THRESHOLD

    return LabelSpec(kind, horizon, DEFAULT_THRESHOLD[kind], None, f"{source}; the threshold is the documented default")


def label_spec(
    run_dir: str | Path | None, model_dir: str | Path | None = None, labels: Mapping[str, Any] | None = None
) -> LabelSpec:
    """The label definition a model was trained with (see the module docstring for where each part comes from).

    Parameters
    ----------
    run_dir : path, optional
        The run folder the model was saved in (its ``config.json`` and ``metrics.json`` are read).
    model_dir : path, optional
        The model folder (``<run>/models/<name>`` or ``<name>-fold<k>``), which picks the fold's threshold.
    labels : mapping, optional
        ``kind``, ``horizon`` and ``threshold`` or ``stationary_quantile``; overrides the run folder.

    Returns
    -------
    LabelSpec

    Raises
    ------
    ValueError
        Neither a run folder nor ``labels``; a ``config.json`` without a ``labels`` section (never guessed);
        regression labels; an unreadable ``config.json``.
    """
    if labels is not None:
        return _from_mapping(labels, "given labels")
    if run_dir is None:
        raise ValueError(
            expected(
                "labels",
                "the label definition (the model did not come from a run folder)",
                "none",
                raw=True,
                hint="pass labels={'kind': ..., 'horizon': ..., 'threshold': ...} (--label-kind, --horizon)",
            )
        )
    run_dir = Path(run_dir)
    try:
        config = config_of(run_dir, required=True)
    except FileNotFoundError as exc:  # a model folder outside a run folder's layout: a wrong argument
        raise ValueError(str(exc)) from None
    if not config.get("labels"):
        raise ValueError(
            expected(
                "labels",
                f"a 'labels' section in {run_dir / 'config.json'} (a run folder's resolved experiment has one)",
                "none",
                raw=True,
                hint="pass labels={'kind': ..., 'horizon': ..., 'threshold': ...} (--label-kind, --horizon)",
            )
        )
    spec = _from_mapping(config["labels"], f"{run_dir / 'config.json'}")
    fold = fold_of_model(model_dir)
    recorded = _recorded_threshold(run_dir, fold)
    if recorded is not None and spec.quantile is not None:
        where = f"{run_dir / 'metrics.json'} labels[{fold}] (fit on that fold's training rows)"
        return LabelSpec(spec.kind, spec.horizon, recorded, spec.quantile, where)
    return spec


def realised_labels(frame: pd.DataFrame, spec: LabelSpec, positions: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Labels of every row of ``frame`` (classes 0 down, 1 stationary, 2 up; NaN at each day's end).

    Parameters
    ----------
    frame : pandas.DataFrame
        The replayed data as :func:`signalbench.data.load_lobster` returns it.
    spec : LabelSpec
        From :func:`label_spec`.
    positions : numpy.ndarray
        The data rows of the sink's predictions (sorted, unique); used only when the threshold must be fit.

    Returns
    -------
    labels : numpy.ndarray
        ``(len(frame),)`` float64.
    info : dict
        ``kind``, ``horizon``, ``threshold``, ``threshold_source`` and, when fit here, ``threshold_fit_on`` and
        ``first_scored_row`` (data rows before it are not scored).
    """
    from signalbench.data.features import mid_price
    from signalbench.data.labels import label_change, make_labels

    price = np.asarray(mid_price(frame), dtype=np.float64)
    groups = frame["day"].to_numpy() if "day" in frame.columns else None
    info: dict[str, Any] = {"kind": spec.kind, "horizon": spec.horizon, "threshold_source": spec.source}
    fit_rows = None
    if spec.threshold is None:
        fit_rows, fit_info = _head_rows(label_change(price, spec.kind, spec.horizon, groups=groups), spec, positions)
        info.update(fit_info)
    labels, threshold = make_labels(
        price,
        spec.kind,
        spec.horizon,
        threshold=spec.threshold,
        quantile=spec.quantile,
        fit_rows=fit_rows,
        groups=groups,
    )
    info["threshold"] = threshold
    return labels, info


def _head_rows(change: np.ndarray, spec: LabelSpec, positions: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """The rows a quantile band is fit on when the run folder records none: the first labelled third streamed."""
    labelled = positions[np.isfinite(change[positions])]
    if labelled.size < 3:
        raise ValueError(
            expected(
                "sink",
                "at least 3 streamed rows with a label to fit the stationary threshold",
                labelled.size,
                hint="pass labels={..., 'threshold': ...}",
            )
        )
    rows = labelled[: labelled.size // 3]
    first = int(rows[-1]) + spec.horizon + 1  # the fit rows' label windows end before this row
    how = (
        f"quantile {spec.quantile:g} of |change| on the first third of the streamed rows with a label "
        f"(rows {int(rows[0])}..{int(rows[-1])}, {rows.size} rows); the run folder records no fitted threshold"
    )
    return rows, {
        "threshold_source": how,
        "threshold_fit_on": [int(rows[0]), int(rows[-1])],
        "first_scored_row": first,
    }
