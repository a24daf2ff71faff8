"""Run an experiment: data -> features -> labels -> folds -> models -> strategies -> ONE backtest -> run folder.

:func:`compare` is the entry point (``signalbench run`` calls it). What it guarantees:

- Every model (the listed ones and the baselines) is fit on training rows only, with early stopping on the fold's
  validation rows, and predicts the tested span with ``seq_len - 1`` rows of past context.
- Strategy parameters marked ``tune`` are chosen on validation rows only (net return after costs; staying flat is
  always a candidate), never on the tested rows.
- The tested span is priced in one :func:`signalbench.engine.backtest` call: every model x strategy column and the
  benchmarks (naive oracle, cost-aware oracle, buy-and-hold, all computed on the tested rows only) pay identical
  costs. Benchmarks are marked as such and are not trials of the deflated Sharpe; tuned grids count every candidate
  they tried as a trial.
- Classification metrics are computed on the labelled tested rows, the majority baseline's beside every model's.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import boolean
from signalbench.data.pieces import discover
from signalbench.engine import book_capacity
from signalbench.experiment.audit_run import audit_experiment
from signalbench.experiment.config import Experiment, load_experiment, parse_experiment
from signalbench.experiment.console import Reporter
from signalbench.experiment.fits import fit_record
from signalbench.experiment.fitting import block, context_of, epochs_of, fit
from signalbench.experiment.folds import Fold
from signalbench.experiment.inputs import Inputs, load_inputs
from signalbench.experiment.multirun import PiecesResult, compare_pieces, is_multi_piece, validate_pieces
from signalbench.experiment.preflight import Plan, build, check
from signalbench.experiment.pricing import _backtest, _benchmarks, _book_costs, _Model, _positions, _predict
from signalbench.experiment.results import CLASSES, ExperimentResult, ExperimentWarning, assemble, write_run
from signalbench.experiment.runfolder import check_destination

__all__ = ["ExperimentResult", "ExperimentWarning", "compare"]


# --------------------------------------------------------------------------------------------------------- models


def _fit(model: Any, inputs: Inputs, labels: np.ndarray, fold: Fold, reporter: Reporter, name: str) -> dict:
    """Fit ``model`` on the fold's training rows (validation rows for early stopping); returns the rows' record."""
    L = model.window
    train = [block(inputs.features, labels, fold.train, L)]
    val = [block(inputs.features, labels, fold.val, L)] if fold.val.size else []
    epochs = epochs_of(model)
    if epochs:
        callback, close = reporter.epochs(name, epochs)
        try:
            fit(model, train, val, callback)
        finally:
            close()
    else:
        with reporter.step(f"fit {name}"):
            fit(model, train, val)
    return {"train": train[0].record(), "val": val[0].record() if val else None}


# ----------------------------------------------------------------------------------------------------- strategies


# ------------------------------------------------------------------------------------------------------- the run


def _fit_all(exp, inputs, plan: Plan, reporter) -> dict[str, _Model]:
    folds, labels = plan.folds, plan.labels
    span0, span1 = folds[0].start, folds[-1].stop
    out: dict[str, _Model] = {}
    for spec in plan.specs:
        name = spec.column
        width = 1 if exp.labels.kind == "forward_return" else len(CLASSES)
        proba = np.full((span1 - span0, width), np.nan)
        vals, fitted, records = [], [], []
        for k, fold in enumerate(folds):
            model = build(spec, exp)
            label = name if len(folds) == 1 else f"{name} (fold {k + 1}/{len(folds)})"
            parts = _fit(model, inputs, labels[k], fold, reporter, label)
            ctx = context_of(model, inputs.features, fold.start)
            records.append(fit_record(k + 1, parts["train"], parts["val"], (ctx, fold.start, fold.stop)))
            with reporter.step(f"predict {label}"):
                proba[fold.start - span0 : fold.stop - span0] = _predict(model, inputs.features, fold.start, fold.stop)
                if fold.val.size:
                    v0, v1 = int(fold.val[0]), int(fold.val[-1]) + 1
                    vals.append((_predict(model, inputs.features, v0, v1), v0, v1))
            fitted.append(model)
        out[name] = _Model(name, proba, vals, fitted, records)
    return out


def _coerce(experiment: Any) -> Experiment:
    if isinstance(experiment, Experiment):  # built in Python: the checks of the file's entries were not made
        raw = experiment.model_dump(exclude={"base_dir"})
        return parse_experiment(raw, source=f"experiment {experiment.name!r}", base_dir=experiment.base_dir)
    if isinstance(experiment, str | Path):
        return load_experiment(experiment)
    if isinstance(experiment, dict):
        return parse_experiment(experiment)
    raise TypeError(f"experiment: expected an Experiment, a TOML path or a dict, got {type(experiment).__name__}")


def compare(
    experiment: Experiment | str | Path | dict,
    *,
    out: str | Path | None = None,
    seed: int | None = None,
    device: str | None = None,
    progress: bool = False,
    write: bool = True,
    runs_root: str | Path = "runs",
    report: bool = True,
    compute: dict[str, Any] | None = None,
    cache: str | Path | None = None,
    resume: bool = False,
) -> ExperimentResult | PiecesResult:
    """Run one experiment and write its run folder; see the module docstring for what is guaranteed.

    An experiment of several symbols, or several LOBSTER or bars files, or with a split by day, runs as a graph of
    cached tasks (:mod:`signalbench.experiment.multirun`) and returns a
    :class:`~signalbench.experiment.multirun.PiecesResult`; ``compute`` overrides ``[compute]`` keys, ``cache`` is
    the task store's folder, ``resume`` continues the run folder ``out``.

    Parameters
    ----------
    experiment : Experiment, path or dict
        The experiment (a TOML file path is read with :func:`~signalbench.experiment.load_experiment`).
    out : path, optional
        The run folder; default ``runs/<name>-<UTC timestamp>``.
    seed, device : optional
        Override the experiment's ``seed`` and ``device``.
    progress : bool, default False
        Show rich progress bars on standard error.
    write : bool, default True
        Write the run folder (``False`` keeps everything in memory).
    runs_root : path, default "runs"
        Where default run folders go.
    report : bool, default True
        Write ``report.html`` into the run folder (:func:`signalbench.reports.html.build_report`) before it is
        renamed into place.

    Returns
    -------
    ExperimentResult

    Raises
    ------
    ConfigError
        For an invalid experiment (an :class:`Experiment` built in Python gets the checks of a TOML file, e.g. two
        models under one column name).
    FileExistsError
        When ``out`` exists already (checked before anything is fitted).
    signalbench.RunFolderError
        When the run folder cannot be written (no permission, a full disk): before anything is fitted when that can
        be seen then, else at the end, with nothing left behind.
    """
    report = boolean(report, "report")
    exp = _coerce(experiment)
    update: dict[str, Any] = {k: v for k, v in (("seed", seed), ("device", device)) if v is not None}
    if compute:
        update["compute"] = {**exp.compute.model_dump(), **compute}
    if update:
        exp = parse_experiment({**exp.model_dump(exclude={"base_dir"}), **update}, base_dir=exp.base_dir)
    pieces = _pieces(exp)
    if is_multi_piece(exp, pieces):
        return compare_pieces(
            exp, pieces, out=out, runs_root=runs_root, progress=progress, report=report, cache=cache, resume=resume
        )
    if write:
        check_destination(out, runs_root)  # a folder that cannot be written fails now, not after the fitting
    notes: list[str] = []
    with Reporter(progress) as reporter, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with reporter.step("load data and features"):
            inputs = load_inputs(exp)
        plan = check(exp, inputs)  # every check that needs no fitting (what `validate` reports), before any fit
        folds, gap, labels, label_info = plan.folds, plan.gap, plan.labels, plan.label_info
        notes += plan.skipped
        models = _fit_all(exp, inputs, plan, reporter)
        start, stop = folds[0].start, folds[-1].stop
        with reporter.step("strategies and backtest"):
            columns, info, extra = _positions(exp, inputs, folds, models)
            bench = _benchmarks(exp, inputs, start, stop)
            result = _backtest(exp, inputs, start, stop, columns, bench, extra)
        capacity = None
        if exp.costs.model == "book" and exp.costs.capacity_sizes:  # a step only where there is a curve to draw
            with reporter.step("capacity curve"):
                capacity = _capacity(exp, inputs, start, stop, {**columns, **bench})
    notes += [str(w.message) for w in caught if _ours(w)]
    stitched = _stitch_labels(labels, folds)
    res = assemble(exp, inputs, folds, gap, label_info, models, stitched, columns, info, bench, result, notes)
    if capacity is not None:
        res.metrics["capacity"] = capacity
    fitted = {name: m.fitted for name, m in models.items()}
    res.audit = audit_experiment(exp, inputs, folds, labels, fitted, res.metrics, res.fits)  # audit.json
    res.audit.warn(stacklevel=2)
    if write:
        res.run_dir = write_run(res, out, runs_root, report=report)
    return res


def _pieces(exp: Experiment) -> list:
    """The (symbol, day) pieces of the data; synthetic data are drawn with the experiment's seed (as a single run)."""
    return discover(exp.data, exp.base_dir, seed=exp.seed)


def _ours(w: warnings.WarningMessage) -> bool:
    """Warnings that belong in the run's notes (ours and the engine's), not third-party noise."""
    return (getattr(w.category, "__module__", "") or "").startswith("signalbench")


def _stitch_labels(labels: list[np.ndarray], folds: list[Fold]) -> np.ndarray:
    y = np.full(folds[-1].stop - folds[0].start, np.nan)
    for lab, fold in zip(labels, folds):
        y[fold.test - folds[0].start] = lab[fold.test]
    return y


def _capacity(exp, inputs, start, stop, positions: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """Net return and signal efficiency per ``capacity_sizes`` and each column's capacity (metrics.json)."""
    sizes = exp.costs.capacity_sizes
    if exp.costs.model != "book" or not sizes:
        return None
    kwargs = {k: v for k, v in _book_costs(exp).items() if k not in ("size", "notional")}
    price = inputs.price.iloc[start:stop]
    frame = pd.DataFrame(positions, index=price.index)
    curve = book_capacity(price, frame, inputs.frame.iloc[start:stop], sizes=sizes, **kwargs)
    return {
        "sizes": [int(s) for s in curve.net_return.index],
        "net_return": {str(c): curve.net_return[c].tolist() for c in curve.net_return.columns},
        "signal_efficiency": {str(c): curve.signal_efficiency[c].tolist() for c in curve.signal_efficiency.columns},
        "rows_short_of_depth": {str(c): curve.rows_short_of_depth[c].tolist() for c in curve.rows_short_of_depth},
        "capacity": {str(c): float(v) for c, v in curve.capacity.items()},
        "above_largest": [str(c) for c, v in curve.capacity.items() if v == np.inf],
        "rule": "capacity: the size where net return crosses zero (0: <= 0 at the smallest size; null: positive "
        "at every size (listed in above_largest) or never trading)",
    }


def validate(experiment: Experiment | str | Path | dict) -> str:
    """Load the data of an experiment and make every check a run makes that needs no fitting (nothing is fitted).

    The checks are those of :func:`signalbench.experiment.preflight.check`, which every run makes first: the models
    built, their devices and feature needs, the folds on the real rows and the rows each model trains on. A baseline
    that cannot run on these features is skipped with an :class:`ExperimentWarning`, as a run skips it.

    Returns a one-paragraph summary (rows, features, folds and their sizes, the purge gap).

    Raises
    ------
    ConfigError
        Listing every problem at once, each at its place in the config.
    ValueError
        For data that cannot be loaded (a :class:`signalbench.data.DataFormatError` names the file and row).
    """
    exp = _coerce(experiment)
    pieces = _pieces(exp)
    if is_multi_piece(exp, pieces):
        return validate_pieces(exp, pieces)
    inputs = load_inputs(exp)
    plan = check(exp, inputs)
    for why in plan.skipped:
        warnings.warn(why, ExperimentWarning, stacklevel=2)
    parts = "; ".join(
        f"fold {k + 1}: train {f.train.size:,}, val {f.val.size:,}, test {f.test.size:,}"
        for k, f in enumerate(plan.folds)
    )
    return (
        f"{inputs.description}; {inputs.features.shape[1]} features; longest window {plan.longest}, "
        f"purge gap {plan.gap} rows; {parts}"
    )
