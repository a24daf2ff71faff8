"""The run-level leakage audit: the pure checks of :mod:`signalbench.audit` applied to one experiment's run.

:func:`audit_experiment` is what every run gets (the runner calls it before the run folder is written);
:func:`audit_run` re-runs it from a finished run folder (``signalbench audit RUN_DIR``): it reads the folder through
its owner (:mod:`signalbench._runfolder`), loads the fitted models, rebuilds the inputs and judges each fit against
``fits.json``, the record of the rows each fit was given. The checks themselves live in :mod:`signalbench.audit`, which
imports nothing from the experiment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from signalbench._runfiles import RunFolderError
from signalbench._runfolder import config_of, fits_of, fold_rows, metrics_of, model_folders
from signalbench._validation import expected
from signalbench.audit import (
    CHECKS,
    N_CUTS,
    AuditReport,
    Finding,
    check_causality,
    check_features,
    check_fits,
    check_scalers,
    check_split,
    check_too_good,
)
from signalbench.experiment.fits import fold_record
from signalbench.experiment.fitting import predictor

__all__ = ["audit_experiment", "audit_pieces_run", "audit_run", "check_recorded", "predictor"]


def check_recorded(
    exp: Any, inputs: Any, folds: list[Any], metrics: dict[str, Any], fits: dict[str, Any] | None = None
) -> list[Finding]:
    """The split recorded in ``metrics.json`` and ``fits.json`` is the config's; recorded thresholds are refit.

    Each stationary threshold fit as a quantile must be the one fit on the fold's recorded training rows
    (``fits.json``; without it, the config's).
    """
    from signalbench.experiment.inputs import labels_for

    found: list[Finding] = []
    recorded = metrics.get("split", {}).get("folds", [])
    made = [{"train": f.train.size, "val": f.val.size, "test": f.test.size, "span": [f.start, f.stop]} for f in folds]
    if recorded and [{k: r[k] for k in made[0]} for r in recorded] != made:
        found.append(Finding("split_hygiene", "split", "metrics.json records another split than the config makes. "
                             "Next: compare its split.folds with `signalbench validate CONFIG`",
                             {"recorded": recorded, "config": made}))  # fmt: skip
    if fits is not None and fits.get("folds") != [fold_record(k + 1, f) for k, f in enumerate(folds)]:
        found.append(Finding("split_hygiene", "split", "fits.json records another split than the config makes. "
                             "Next: compare its folds with `signalbench validate CONFIG`", {}))  # fmt: skip
    trains = [fold_rows(r).train for r in fits["folds"]] if fits else [f.train for f in folds]
    for k, (train, info) in enumerate(zip(trains, metrics.get("labels", []))):
        if "stationary_quantile" not in info:
            continue
        _, refit = labels_for(exp, inputs, train)
        if not np.isclose(info["threshold"], refit["threshold"], rtol=1e-9, atol=0.0):
            found.append(
                Finding(
                    "split_hygiene",
                    f"labels (fold {k + 1})",
                    f"the stationary threshold {info['threshold']:.6g} (metrics.json, labels[{k}]) is not the one fit "
                    f"on the fold's training rows ({refit['threshold']:.6g}; fits.json, folds[{k}].train): it was "
                    f"fit on other rows. Next: find where the labels are made; to confirm, "
                    f"signalbench.data.fit_stationary_threshold on those rows",
                    {"recorded": info["threshold"], "training_rows": refit["threshold"]},
                )
            )
    return found


def audit_experiment(
    exp: Any,
    inputs: Any,
    folds: list[Any],
    labels: list[np.ndarray],
    models: dict[str, list[Any]],
    metrics: dict,
    fits: dict[str, Any] | None = None,
) -> AuditReport:
    """Every check on one run: its experiment, inputs, folds, per-fold labels, fitted models, metrics and fit record.

    ``folds`` are those the config makes; ``fits`` is the record of the rows each fit was given (``fits.json``):
    without one the scalers cannot be checked, which the check's outcome says.
    """
    from signalbench.data import compute_features
    from signalbench.data.labels import forward_log_return

    start, stop = folds[0].start, folds[-1].stop
    cuts = [int(start + (stop - start) * (k + 1) / (N_CUTS + 1)) for k in range(N_CUTS)]
    predictors = {
        (name if len(fits) == 1 else f"{name} (fold {k + 1})"): (predictor(m), folds[k].start, folds[k].stop)
        for name, fits in models.items()
        for k, m in enumerate(fits)
    }
    results: dict[str, list[Finding]] = {}
    results["causality"] = check_causality(
        inputs.frame, lambda f: compute_features(f, exp.features), predictors, cuts, seed=exp.seed
    )
    label = np.full(inputs.n, np.nan)
    for fold, y in zip(folds, labels):
        label[fold.test] = y[fold.test]
    targets = {"next return": forward_log_return(inputs.price.to_numpy(), 1, groups=inputs.groups)}
    if exp.labels.kind != "forward_return":
        targets["label"] = label
    results["features_vs_future"] = check_features(inputs.features, targets, np.arange(inputs.n))
    hygiene = check_fits(fits, exp.labels.horizon) if fits else check_split(folds, exp.labels.horizon)
    hygiene += check_scalers(models, inputs.features, fits["models"]) if fits else []
    results["split_hygiene"] = hygiene + check_recorded(exp, inputs, folds, metrics, fits)
    results["too_good"] = check_too_good(metrics)
    outcome = {c: "passed" if not results[c] else f"{len(results[c])} finding(s)" for c in CHECKS}
    if not fits:
        outcome["split_hygiene"] += " (scalers not checked: no fits.json, the record of the rows each fit was given)"
    return AuditReport(outcome, [f for c in CHECKS for f in results[c]])


def _load_models(run_dir: Path) -> dict[str, list[Any]]:
    """The fitted models of a run folder, per name and fold (``models/<name>`` or ``models/<name>-fold<k>``)."""
    from signalbench.signals import ModelFileError
    from signalbench.signals.registry import load

    found: dict[str, list[Any]] = {}
    for name, folders in model_folders(run_dir).items():
        for k in sorted(folders):
            try:
                found.setdefault(name, []).append(load(folders[k]))
            except ModelFileError as exc:  # a damaged model file is a damaged run folder
                raise RunFolderError(str(exc), folders[k]) from exc
    return found


def _recorded_experiment(run_dir: Path) -> Any:
    """The experiment of a run folder's ``config.json`` (relative data paths are read from its ``base_dir``)."""
    from signalbench.experiment.config import ConfigError, parse_experiment

    path = run_dir / "config.json"
    raw = dict(config_of(run_dir, required=True))
    raw.pop("models_resolved", None)
    base_dir = raw.pop("base_dir", ".")
    try:
        return parse_experiment(raw, source=str(path), base_dir=base_dir)
    except ConfigError as exc:  # the file was edited into an experiment that is not valid: one line, every problem
        found = "; ".join(f"{loc}: {msg}" if loc else msg for loc, msg in exc.problems)
        message = f"{path.name}: expected a valid experiment, got {found} at {path}; restore the file or pass the TOML"
        raise RunFolderError(message, path, exc.problems[0][0] if exc.problems else "") from exc


def audit_run(
    run_dir: str | Path, experiment: Any = None, *, write: bool = True, cache: str | Path | None = None
) -> AuditReport:
    """Re-run the audit on a finished run folder; write ``audit.json`` there and warn once per finding.

    Parameters
    ----------
    run_dir : path
        A run folder written by :func:`signalbench.experiment.compare`.
    experiment : Experiment or path, optional
        The run's experiment (a TOML path is read); default: the folder's ``config.json``, whose relative data paths
        are taken from the current folder.
    write : bool, default True
        Write ``audit.json`` into the run folder (atomically).
    cache : path, optional
        A multi-piece run's task store, where its fitted models are (default: ``[compute] cache``, else
        ``RUN_DIR/tasks``); a multi-piece run is audited by :func:`~signalbench.experiment.pieceaudit.audit_pieces`.

    Raises
    ------
    FileNotFoundError
        When ``run_dir`` is not a run folder (no ``metrics.json``).
    ValueError
        For a multi-piece run folder without its ``fits.json`` (written before this version) or of other pieces than
        its data has now.
    signalbench.RunFolderError
        When ``metrics.json``, ``config.json``, ``fits.json`` or a saved model of the folder is damaged (not JSON, a
        wrong shape or type at a key: the message names the file and the key).
    """
    from signalbench.experiment.config import Experiment, load_experiment
    from signalbench.experiment.folds import make_folds
    from signalbench.experiment.inputs import labels_for, load_inputs

    run_dir = Path(run_dir)
    metrics = metrics_of(run_dir)
    if experiment is None:
        experiment = _recorded_experiment(run_dir)
    elif not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment)
    if metrics.get("kind") == "pieces":
        report = audit_pieces_run(run_dir, experiment, metrics, cache)
        if write:
            report.write(run_dir)
        report.warn(stacklevel=2)
        return report
    inputs = load_inputs(experiment)
    models = _load_models(run_dir)
    window = max([m.window for fits in models.values() for m in fits] + [1])
    folds, _ = make_folds(experiment, inputs.n, window, inputs.groups)
    labels = [labels_for(experiment, inputs, fold.train)[0] for fold in folds]
    fits = fits_of(run_dir)
    report = audit_experiment(experiment, inputs, folds, labels, models, metrics, fits)
    if write:
        report.write(run_dir)
    report.warn(stacklevel=2)
    return report


def audit_pieces_run(run_dir: Path, exp: Any, metrics: dict[str, Any], cache: str | Path | None = None) -> AuditReport:
    """The audit of a finished multi-piece run folder, from its ``fits.json`` and task store (``cache``).

    Pieces are read from the task store, or loaded again from the data where the store lacks them; the fitted models
    come from the store only (a fit not there is named in the outcome: its scaler and causality are not checked).
    """
    from signalbench.compute import TaskStore
    from signalbench.data.pieces import discover
    from signalbench.experiment.multirun import _specs_and_longest, store_root
    from signalbench.experiment.pieceaudit import audit_pieces
    from signalbench.experiment.piecefits import load_pieces
    from signalbench.experiment.tasks import piece_task

    fits = fits_of(run_dir)
    if fits is None or fits.get("kind") != "pieces":
        raise ValueError(
            expected(
                "run_dir",
                "a multi-piece run folder with its fits.json (the pieces and rows each fit was given)",
                "none" if fits is None else "the fits.json of a single run",
                at=str(run_dir),
                raw=True,
                hint="the folder was written before multi-piece runs recorded their fits; run the experiment again",
            )
        )
    pieces = discover(exp.data, exp.base_dir, seed=exp.seed)
    names = [(p["symbol"], p["day"]) for p in fits["pieces"]]
    if names != [(p.symbol, p.day) for p in pieces]:
        found = ", ".join(f"{p.symbol} {p.day}" for p in pieces[:6])
        raise ValueError(
            expected(
                "run_dir",
                f"the data's pieces to be those of fits.json ({len(names)})",
                f"{len(pieces)}: {found}",
                at=str(run_dir / "fits.json"),
                raw=True,
                hint="pass the experiment the run was made with",
            )
        )
    _, longest, _, _ = _specs_and_longest(exp, pieces)
    store = TaskStore(store_root(exp, run_dir, cache))
    loaded = load_pieces(store, [p["task"] for p in fits["pieces"]])
    for i, p in enumerate(pieces):
        if i not in loaded and fits["pieces"][i].get("rows") is not None:  # loaded in the run, not in this store
            source = {"symbol": p.symbol, "day": p.day, "source": dict(p.source)}
            loaded[i] = piece_task(source, list(exp.features), spread=False)  # the same recipe on the data
    return audit_pieces(exp, pieces, fits, store, metrics, loaded, longest)
