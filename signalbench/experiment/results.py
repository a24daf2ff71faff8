"""Turn a finished run into its metrics and write the run folder (its owner: :mod:`signalbench._runfolder`)."""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signalbench._runfiles import written
from signalbench._runfolder import model_folder, write_json, write_run_record
from signalbench.experiment.config import Experiment
from signalbench.experiment.fits import FORMAT as FITS_FORMAT
from signalbench.experiment.fits import fold_record
from signalbench.experiment.runfolder import environment, move_into, scratch
from signalbench.reports.html import build_report

__all__ = ["ExperimentResult", "ExperimentWarning", "assemble", "write_run"]


class ExperimentWarning(UserWarning):
    """Something in a run's results a researcher must know (a column that never trades, a model that never commits)."""


@dataclass
class ExperimentResult:
    """What :func:`compare` produced (all of it is also in the run folder).

    Attributes
    ----------
    experiment : Experiment
        The resolved experiment (defaults filled in, seed and device as used).
    metrics : dict
        What ``metrics.json`` holds.
    table : pandas.DataFrame
        ``metrics.csv``: one row per metric, one column per model x strategy (benchmarks last).
    backtest : BacktestResult
        The one backtest of every column over the tested span.
    proba : dict of str to pandas.DataFrame
        Each model's class probabilities over the tested span.
    models : dict of str to list
        Each model's fitted instance per fold.
    run_dir : pathlib.Path or None
        Where the run folder was written.
    audit : signalbench.audit.AuditReport or None
        The leakage audit of the run (``audit.json`` in the run folder).
    positions : pandas.DataFrame
        The target position of every column over the tested span, as given to the backtest (benchmarks included).
    fits : dict
        ``fits.json``: the folds as used and each model's record per fold of the rows given to ``fit`` and
        ``predict_proba`` (:mod:`signalbench.experiment.fits`).
    run : signalbench.compute.GraphRun or None
        What the run's task graph did: the keys computed now and those found in the task store (cached).
    """

    experiment: Experiment
    metrics: dict[str, Any]
    table: pd.DataFrame
    backtest: Any
    proba: dict[str, pd.DataFrame]
    labels: pd.Series
    models: dict[str, list[Any]] = field(repr=False)
    run_dir: Path | None = None
    audit: Any = None
    positions: pd.DataFrame | None = field(default=None, repr=False)
    fits: dict[str, Any] = field(default_factory=dict, repr=False)
    run: Any = field(default=None, repr=False)

    @property
    def notes(self) -> list[str]:
        """Every warning the run issued, in order."""
        return list(self.metrics.get("notes", []))


#: Classes of the direction labels (down, stationary, up), the columns of every probability frame.
CLASSES = (0, 1, 2)
#: Their names, as the warnings write them.
CLASS_NAMES = ("down", "stationary", "up")
#: A classifier whose argmax is one class on more than this share of tested rows is named in a warning.
ONE_CLASS_SHARE = 0.95
#: What to try instead when a column of a rule never trades (the rule's own knob first, then another rule).
_IDLE_HINTS = {
    "sign": "'sign' holds no position while 'stationary' is the most probable class: try a threshold on "
    "p_up - p_down ('size_by_confidence' with min_edge)",
    "threshold": "try a lower 'enter', or a threshold on p_up - p_down ('size_by_confidence' with min_edge)",
    "hysteresis": "try a lower 'enter', or a threshold on p_up - p_down ('size_by_confidence' with min_edge)",
    "size_by_confidence": "|p_up - p_down| stays within the dead zone on every row: try a lower 'min_edge' "
    "(or tune = true to choose it on validation rows), or 'threshold' with a low 'enter'",
    "size_by_confidence, no min_edge": "p_up - p_down is 0 on every row: the model gives no direction",
    "tuned": "widen the tuning grid toward the values that trade",
    "regressor": "the predicted return is 0 on every row: the model gives no direction",
}


def _model_metrics(models, labels: np.ndarray, classification: bool) -> dict[str, dict[str, Any]]:
    from signalbench.reports.metrics import classification_metrics, regression_metrics

    out = {}
    for name, m in models.items():
        if classification:
            out[name] = classification_metrics(labels, m.proba, CLASSES)
        else:
            out[name] = regression_metrics(labels, m.proba[:, 0])
        history = getattr(m.fitted[-1], "history_", None)
        out.setdefault(name, {})["epochs_run"] = len(history) if isinstance(history, list) else None
    return out


def _warn(message: str, notes: list[str]) -> None:
    warnings.warn(message, ExperimentWarning, stacklevel=3)
    notes.append(message)


def _checks(
    columns_info, stats: pd.DataFrame, model_metrics, benchmarks, notes: list[str], one_by_design=()
) -> list[str]:
    """Named warnings for columns that never trade and classifiers that almost always predict one class.

    ``one_by_design`` names the models that predict one class by construction (the majority baseline): not warned.
    """
    for name, m in model_metrics.items():
        if name not in one_by_design:
            _one_class(name, m.get("predicted_share"), m.get("n_rows"), notes)
    flat = []
    for col in stats.columns:
        if col in benchmarks:
            continue
        chosen = columns_info.get(col, {}).get("chosen")
        if chosen and all(c == "flat" for c in chosen):
            flat.append(col)
            continue
        if float(stats.at["n_trades", col]) == 0:
            flat.append(col)  # named here; the engine's own idle-column note would repeat it
            _warn(
                f"{col}: never traded on the tested rows (0 trades): its Sharpe and efficiency are not informative; "
                f"{_idle_hint(columns_info.get(col, {}), model_metrics)}",
                notes,
            )
    tuned_flat = [c for c in flat if columns_info.get(c, {}).get("chosen")]
    if tuned_flat:
        notes.append(
            f"tuning on the validation rows chose to stay flat (no candidate earned after costs there) for "
            f"{', '.join(tuned_flat)}: they do not trade on the tested rows"
        )
    return flat


def _one_class(name: str, share, n_rows, notes: list[str]) -> None:
    """Warn when a classifier's most probable class is one class on more than ``ONE_CLASS_SHARE`` of the rows."""
    if not share or len(share) != len(CLASS_NAMES):
        return
    k = int(np.argmax(share))
    if share[k] <= ONE_CLASS_SHARE:
        return
    rows = f" ({round(share[k] * n_rows):,} of {n_rows:,})" if n_rows else ""
    where = f"{name}: its most probable class is {CLASS_NAMES[k]!r} on {share[k]:.1%} of the tested rows{rows}"
    if CLASS_NAMES[k] == "stationary":
        advice = (
            "so rules that trade on the most probable class (sign, threshold) hardly trade; try a threshold on "
            "p_up - p_down (strategy 'size_by_confidence' with min_edge, tuned on validation rows)"
        )
    else:
        advice = (
            f"so rules on the most probable class hold one side ({CLASS_NAMES[k]}) almost throughout: the model "
            "learned one answer (class imbalance of the training labels, or a fit that did not converge), not a "
            "signal; compare it with the 'majority' baseline and check its training history"
        )
    _warn(f"{where}, {advice}", notes)


def _idle_hint(info: dict, model_metrics) -> str:
    """What to try for a column that never traded, from the rule (and parameters) that made it."""
    if info.get("tuned"):
        return _IDLE_HINTS["tuned"]
    model = model_metrics.get(info.get("model"), {})
    if info.get("model") is not None and "predicted_share" not in model and "n_rows" in model:
        return _IDLE_HINTS["regressor"]
    rule = info.get("strategy")
    if rule == "size_by_confidence" and not (info.get("params") or {}).get("min_edge"):
        return _IDLE_HINTS["size_by_confidence, no min_edge"]
    return _IDLE_HINTS.get(rule, _IDLE_HINTS["threshold"])


def _engine_notes(result, flat: list[str]) -> list[str]:
    """The backtest's notes, less its 'never hold a position' note when every column it names was already named."""
    idle = [str(c) for c in result.stats.columns if float(result.stats.at["exposure_time", c]) == 0]
    out = []
    for note in getattr(result, "notes", []):
        if "never hold a position" in note and idle and set(idle) <= set(flat):
            continue
        out.append(note)
    return out


def assemble(exp, inputs, folds, gap, label_info, models, labels, columns, info, bench, result, notes):
    """The ExperimentResult of a run: metrics per column and per model, notes, and the tables."""
    start, stop = folds[0].start, folds[-1].stop
    index = inputs.price.index[start:stop]
    classification = exp.labels.kind != "forward_return"
    model_metrics = _model_metrics(models, labels, classification)
    stats = result.stats
    benchmarks = list(bench)
    constant = [name for name, m in models.items() if m.fitted and getattr(m.fitted[-1], "name", "") == "majority"]
    flat = _checks(info, stats, model_metrics, benchmarks, notes, constant)
    notes[:] = [n for n in notes if n not in result.notes]  # the engine's warnings, caught during the run
    notes.extend(_engine_notes(result, flat))
    per_column: dict[str, dict[str, Any]] = {}
    for col in stats.columns:
        row: dict[str, Any] = {"benchmark": col in benchmarks, **info.get(col, {})}
        model = info.get(col, {}).get("model")
        if model in model_metrics:
            row.update({k: v for k, v in model_metrics[model].items() if not isinstance(v, list)})
        row.update({k: float(v) for k, v in stats[col].items()})
        per_column[col] = row
    metrics = {
        "experiment": exp.name,
        "data": inputs.description,
        "tested": {
            "rows": int(stop - start),
            "labelled_rows": int(np.isfinite(labels).sum()),
            "first": str(pd.Timestamp(index[0]).floor("s")),
            "last": str(pd.Timestamp(index[-1]).floor("s")),
        },
        "split": {
            "kind": exp.split.kind,
            "purge_gap": int(gap),
            "folds": [
                {
                    "train": int(f.train.size),
                    "val": int(f.val.size),
                    "test": int(f.test.size),
                    "span": [f.start, f.stop],
                }
                for f in folds
            ],
        },
        "labels": label_info,
        "bayes_accuracy": inputs.bayes_accuracy,
        "benchmarks": benchmarks,
        "periods_per_year": float(result.periods_per_year),
        "clock": result.clock,
        "columns": per_column,
        "models": model_metrics,
        "notes": notes,
    }
    table = pd.DataFrame({c: {k: v for k, v in row.items() if _scalar(v)} for c, row in per_column.items()})
    names = [f"p{c}" for c in CLASSES] if classification else ["prediction"]
    proba = {name: pd.DataFrame(m.proba, index=index, columns=names) for name, m in models.items()}
    fitted = {name: m.fitted for name, m in models.items()}
    y = pd.Series(labels, index=index, name="label")
    positions = pd.DataFrame({**columns, **bench}, index=index)
    fits = {
        "format": FITS_FORMAT,
        "folds": [fold_record(k + 1, f) for k, f in enumerate(folds)],
        "models": {name: m.fits for name, m in models.items()},
    }
    return ExperimentResult(exp, metrics, table, result, proba, y, fitted, positions=positions, fits=fits)


def _scalar(v: Any) -> bool:
    return isinstance(v, int | float | bool | str | np.integer | np.floating) or v is None


def _frame(index: pd.Index, rows: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(index)))
    frame.insert(0, "row", rows)
    frame.insert(0, "timestamp", np.asarray(index))
    return frame


def write_run(res, run_dir: str | Path, report: bool = False) -> Path:
    """Write the result files of ``res`` into the run folder ``run_dir`` (created at the start of the run).

    They are built in a hidden folder inside it (with ``report.html`` when ``report``) and moved into place one by
    one, ``metrics.json`` last (:func:`~signalbench.experiment.runfolder.move_into`): a folder with ``metrics.json`` is
    complete. A write that fails leaves no result file and the folder as it was (its task store kept: resumable).
    """
    run_dir = Path(run_dir)
    try:
        tmp = scratch(run_dir)
    except OSError as exc:
        raise written(run_dir, exc, "nothing was written", kind="folder") from exc
    try:
        _write_files(res, tmp, report)
        move_into(tmp, run_dir)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            where = getattr(exc, "filename", None) or run_dir
            raise written(where, exc, f"nothing was written at {run_dir} (the partial files were removed)") from exc
        raise
    return run_dir


def _write_files(res, tmp: Path, report: bool) -> None:
    """Every result file of a single run into the empty folder ``tmp``."""
    exp = res.experiment
    start = res.metrics["split"]["folds"][0]["span"][0]
    rows = np.arange(start, start + len(res.labels))
    index = res.labels.index
    resolved = exp.model_dump()
    resolved["base_dir"] = str(Path(exp.base_dir).resolve())  # where relative data paths are read from
    resolved["models_resolved"] = {name: fits[-1].get_params() for name, fits in res.models.items()}
    write_run_record(tmp, {name: len(fits) for name, fits in res.models.items()})
    write_json(tmp / "config.json", resolved)
    write_json(tmp / "environment.json", environment(exp.device))
    write_json(tmp / "metrics.json", res.metrics)
    write_json(tmp / "fits.json", res.fits)
    if res.audit is not None:
        res.audit.write(tmp)
    res.table.to_csv(tmp / "metrics.csv", index_label="metric")
    preds = {"label": res.labels.to_numpy()}
    for name, p in res.proba.items():
        for c in p.columns:
            preds[f"{name}:{c}"] = p[c].to_numpy()
    _frame(index, rows, preds).to_parquet(tmp / "predictions.parquet")
    targets = {str(c): res.positions[c].to_numpy() for c in res.positions.columns}
    _frame(index, rows, targets).to_parquet(tmp / "positions.parquet")
    returns = {"price": _price_of(res, len(index))}
    returns.update({str(c): np.asarray(res.backtest.returns[c]) for c in res.backtest.returns.columns})
    gross = res.backtest.gross_returns
    returns.update({f"gross:{c}": np.asarray(gross[c]) for c in gross.columns})  # the report's cost curves
    _frame(index, rows, returns).to_parquet(tmp / "returns.parquet")
    (tmp / "models").mkdir()
    (tmp / "history").mkdir()
    for name, fits in res.models.items():
        for k, model in enumerate(fits):
            model.save(tmp / "models" / model_folder(name, k, len(fits)))
        history = [getattr(m, "history_", None) for m in fits]
        write_json(tmp / "history" / f"{name}.json", history if len(fits) > 1 else history[0])
    if report:
        build_report(tmp)  # from the folder's own files, before they are moved into place


def _price_of(res, n: int) -> np.ndarray:
    """The traded price of the tested rows (NaN when the backtest kept no prices)."""
    priced = getattr(res.backtest, "priced", None)
    if priced is None:
        return np.full(n, np.nan)
    return np.asarray(priced.price, dtype=np.float64)[:, 0]
