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

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import boolean
from signalbench.compute import TaskStore
from signalbench.data.pieces import discover
from signalbench.engine import book_capacity
from signalbench.experiment.audit_run import audit_experiment
from signalbench.experiment.config import Experiment, load_experiment, parse_experiment
from signalbench.experiment.console import Reporter
from signalbench.experiment.folds import Fold
from signalbench.experiment.inputs import load_inputs
from signalbench.experiment.multirun import (
    PiecesResult,
    compare_pieces,
    is_multi_piece,
    resolved_config,
    start_run_folder,
    store_root,
    validate_pieces,
)
from signalbench.experiment.preflight import Plan, build, check
from signalbench.experiment.pricing import _backtest, _benchmarks, _book_costs, _Model, _positions
from signalbench.experiment.results import ExperimentResult, ExperimentWarning, assemble, write_run
from signalbench.experiment.runfolder import check_destination, default_run_dir
from signalbench.experiment.rungraph import TaskFailedError, fit_models

__all__ = ["ExperimentResult", "ExperimentWarning", "TaskFailedError", "compare"]


# ------------------------------------------------------------------------------------------------------- the run


def _fit_all(exp, inputs, plan: Plan, store, progress: bool, run_dir: Path | None) -> tuple[dict[str, _Model], Any]:
    """Every model fitted on every fold and its outputs (tasks of a graph run in ``store``), and the GraphRun."""
    return fit_models(exp, inputs, plan, store, progress=progress, run_dir=run_dir)


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

    Fits and predictions run as a graph of cached tasks in a task store (default ``RUN/tasks``; ``cache`` or
    ``[compute] cache`` names another, e.g. one shared by runs, where a run with one model added computes only that
    model's tasks), on the ``[compute]`` executor; ``compute`` overrides ``[compute]`` keys. The run folder is created
    at the start with ``config.json``; ``resume`` continues the run folder ``out`` (only missing tasks run, and
    ``metrics.json``, written last, equals an uninterrupted run's). A single-piece run (one symbol, a row split:
    :mod:`signalbench.experiment.rungraph`) returns an :class:`ExperimentResult`; an experiment of several symbols, or
    several LOBSTER or bars files, or with a split by day, returns a
    :class:`~signalbench.experiment.multirun.PiecesResult` (:mod:`signalbench.experiment.multirun`).

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
        Write the run folder (``False`` keeps the results in memory; the task store is then a temporary folder,
        removed at the end, unless ``cache`` or ``[compute] cache`` names one).
    runs_root : path, default "runs"
        Where default run folders go.
    report : bool, default True
        Write ``report.html`` into the run folder (:func:`signalbench.reports.html.build_report`) before
        ``metrics.json``.
    compute : dict, optional
        ``[compute]`` keys (``executor``, ``workers``, ``address``, ``fail_fast``); a single run without ``workers``
        runs its tasks in this process.
    cache : path, optional
        The task store's folder.
    resume : bool, default False
        Continue the run folder ``out`` (its ``config.json`` gave the experiment).

    Returns
    -------
    ExperimentResult

    Raises
    ------
    ConfigError
        For an invalid experiment (an :class:`Experiment` built in Python gets the checks of a TOML file, e.g. two
        models under one column name).
    FileExistsError
        When ``out`` exists already (checked before anything is fitted) and ``resume`` is not set.
    TaskFailedError
        When a fit or prediction of a single-piece run failed, naming the model and fold (the run folder keeps every
        finished task: resume it once the cause is fixed).
    signalbench.RunFolderError
        When the run folder cannot be written (no permission, a full disk): before anything is fitted when that can
        be seen then, else at the end, with no result file left behind.
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
    run_dir = _start(exp, out, runs_root, resume) if write else None
    return _single(exp, run_dir, progress=progress, report=report, cache=cache, fresh=write and not resume)


def _start(exp: Experiment, out, runs_root, resume: bool) -> Path:
    """The run folder: ``out`` to resume (it must hold ``config.json``), else a new one (checked, not yet made)."""
    if resume:
        if out is None or not (Path(out) / "config.json").is_file():
            where = "no out" if out is None else f"none at {Path(out) / 'config.json'}"
            raise FileNotFoundError(f"resume: expected a run folder with config.json, got {where}")
        return Path(out)
    check_destination(out, runs_root)  # a folder that cannot be written fails now, not after the fitting
    return Path(out) if out is not None else default_run_dir(exp.name, runs_root)


def _single(exp: Experiment, run_dir: Path | None, *, progress, report, cache, fresh: bool) -> ExperimentResult:
    """A single-piece run: the fits and predictions as a graph of tasks, then one backtest and the run folder.

    ``run_dir`` None: nothing is written (the task store is a temporary folder unless ``cache`` names one); ``fresh``:
    the run folder is created (with ``config.json``) once the checks passed, before anything is fitted.
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Reporter(progress) as reporter:
            with reporter.step("load data and features"):
                inputs = load_inputs(exp)
            plan = check(exp, inputs)  # every check that needs no fitting (what `validate` reports), before any fit
        notes += plan.skipped
        if fresh:
            resolved = {s.column: build(s, exp).get_params() for s in plan.specs}
            start_run_folder(exp, run_dir, resolved_config(exp, resolved))
        with _store(exp, run_dir, cache) as store:
            models, graph_run = _fit_all(exp, inputs, plan, store, progress, run_dir)
        folds = plan.folds
        start, stop = folds[0].start, folds[-1].stop
        with Reporter(progress) as reporter:
            with reporter.step("strategies and backtest"):
                columns, info, extra = _positions(exp, inputs, folds, models)
                bench = _benchmarks(exp, inputs, start, stop)
                result = _backtest(exp, inputs, start, stop, columns, bench, extra)
            capacity = None
            if exp.costs.model == "book" and exp.costs.capacity_sizes:  # a step only where there is a curve to draw
                with reporter.step("capacity curve"):
                    capacity = _capacity(exp, inputs, start, stop, {**columns, **bench})
    notes += [str(w.message) for w in caught if _ours(w)]
    stitched = _stitch_labels(plan.labels, folds)
    res = assemble(exp, inputs, folds, plan.gap, plan.label_info, models, stitched, columns, info, bench, result, notes)
    if capacity is not None:
        res.metrics["capacity"] = capacity
    fitted = {name: m.fitted for name, m in models.items()}
    res.audit = audit_experiment(exp, inputs, folds, plan.labels, fitted, res.metrics, res.fits)  # audit.json
    res.audit.warn(stacklevel=3)
    res.run = graph_run
    if run_dir is not None:
        res.run_dir = write_run(res, run_dir, report=report)
    return res


@contextmanager
def _store(exp: Experiment, run_dir: Path | None, cache) -> Iterator[TaskStore]:
    """The task store: ``cache``, else ``[compute] cache``, else ``RUN/tasks``; without either, a temporary folder."""
    if run_dir is not None or cache is not None or exp.compute.cache is not None:
        yield TaskStore(store_root(exp, run_dir, cache))
        return
    with tempfile.TemporaryDirectory(prefix="signalbench-tasks-") as tmp:
        yield TaskStore(tmp)


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
