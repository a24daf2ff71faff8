"""Every check a run makes that needs no fitting, made on the loaded data before anything is fitted.

:func:`check` is the start of every run (:func:`signalbench.experiment.compare`) and all of
:func:`signalbench.experiment.validate`, so a config that validates does not fail later for a reason validation could
have seen. It reports every problem at once in one :class:`~signalbench.experiment.config.ConfigError`, each at its
place in the config:

- each model is built (its hyperparameters checked by its declaration), its device resolved on this machine, and
  asked whether the feature set's columns give it what it needs (``SignalModel.required_features``); a baseline added
  by default that cannot run on these features is skipped with a note instead;
- the folds are cut on the real rows; each fold tests at least as many rows as the longest window, and every model
  has at least 2 rows to train on (a complete finite window and a label) and, with a validation part, 1 to validate on;
- with class labels, each fold's training rows hold 2+ classes and its validation rows no class they lack.

The checks of the config alone (the schema, the strategies' parameters by the rules themselves, grid sizes, costs
against the data kind) are made when the config is read (:func:`signalbench.experiment.config.parse_experiment`).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from signalbench.experiment.config import ConfigError, Experiment, ModelSpec
from signalbench.experiment.folds import Fold, make_folds
from signalbench.experiment.inputs import Inputs, labels_for
from signalbench.signals import registry

__all__ = ["Plan", "build", "build_model", "check"]

#: Rows a model needs to be fit on (see ``SignalModel.fit``), and to be validated on.
MIN_TRAIN_ROWS = 2
MIN_VAL_ROWS = 1


@dataclass
class Plan:
    """What the checks found: the folds, the purge gap, the labels of each fold and the models that run."""

    folds: list[Fold]
    gap: int
    longest: int
    labels: list[np.ndarray]
    label_info: list[dict[str, Any]]
    specs: list[ModelSpec]
    skipped: list[str] = field(default_factory=list)


def build(spec: ModelSpec, exp: Experiment) -> Any:
    """The unfitted model of ``spec``: the experiment's seed and device unless the spec sets its own."""
    return build_model(spec, exp.seed, exp.device)


def build_model(spec: ModelSpec, seed: int, device: str) -> Any:
    """The unfitted model of ``spec`` with ``seed`` and ``device`` unless the spec sets its own."""
    accepted = inspect.signature(registry.get(spec.name)).parameters
    params = spec.params
    if "seed" in accepted and "seed" not in params:
        params["seed"] = seed
    if "device" in accepted and "device" not in params:
        params["device"] = device
    if "progress" in accepted and "progress" not in params:
        params["progress"] = False
    return registry.create(spec.name, **params)


def _where(exp: Experiment, spec: ModelSpec) -> str:
    """The config location of a model: ``models[i]``, or ``baselines (name)`` for one added by default."""
    for i, listed in enumerate(exp.models):
        if listed is spec:
            return f"models[{i}]"
    return f"baselines ({spec.name})"


def _model_problems(exp: Experiment, spec: ModelSpec, model: Any, columns: list[str]) -> list[tuple[str, str]]:
    """The device and the features of one built model."""
    from signalbench.signals.devices import resolve_device

    where = _where(exp, spec)
    problems = []
    if hasattr(model, "device"):
        try:
            resolve_device(model.device)
        except (TypeError, ValueError) as exc:
            loc = f"{where}.device" if "device" in spec.params else "device"
            problems.append((loc, str(exc).removeprefix("device: ")))
    need = model.required_features(columns)
    if need:
        head, sep, rest = need.partition(": ")
        loc = f"{where}.{head}" if sep and head in spec.params else where
        problems.append((loc, f"{rest if sep else need} (feature sets {', '.join(exp.features)})"))
    return problems


def _models(exp: Experiment, inputs: Inputs, problems: list, skipped: list) -> list[tuple[ModelSpec, Any]]:
    """Every model built and asked about its device and features; default baselines that cannot run are skipped."""
    columns = [str(c) for c in inputs.features.columns]
    out = []
    for spec in exp.model_specs():
        model = build(spec, exp)
        found = _model_problems(exp, spec, model, columns)
        if found and not _where(exp, spec).startswith("models"):
            skipped.append(f"{spec.name} baseline skipped: {found[0][1]}")
            continue
        problems += found
        out.append((spec, model))
    return out


def _tested_problems(exp: Experiment, inputs: Inputs, folds: list[Fold], longest: int) -> list[tuple[str, str]]:
    """Each fold tests at least ``longest`` rows (and at least 2)."""
    from signalbench.data.splits import usable_rows

    need = max(2, longest)
    small = min(f.test.size for f in folds)
    if small >= need:
        return []
    sp = exp.split
    m = usable_rows(inputs.n, horizon=exp.labels.horizon, seq_len=longest, groups=inputs.groups).size
    tested = int(m * sp.test)
    if sp.kind == "holdout":
        what = f"a test part of at least {need} rows (2, and the longest window: {longest})"
        return [("split.test", f"expected {what}, got {small} of {m:,} usable rows; use a larger test share")]
    most = max(1, tested // need)
    what = f"at most {most} fold(s): each must test at least {need} rows (2, and the longest window: {longest})"
    got = f"{sp.n_folds} folds of {small} row(s) in the test share {sp.test:g} of {m:,} usable rows ({tested:,} rows)"
    return [("split.n_folds", f"expected {what}, got {got}; use fewer folds or a larger split.test")]


def _count(X: np.ndarray, y: np.ndarray, rows: np.ndarray, L: int) -> int:
    """The rows of a part a model of window ``L`` learns from: a complete finite window and a finite label."""
    from signalbench.data.splits import with_context
    from signalbench.signals.inputs import valid_window_rows

    Xp, yp, _, _ = with_context(X, y, rows, L)
    return int((valid_window_rows(Xp, L) & np.isfinite(yp)).sum())


def _fit_problems(exp, inputs, folds, labels, models) -> list[tuple[str, str]]:
    """Every model has rows to train on (and to validate on) in every fold."""
    X = inputs.features.to_numpy(dtype=np.float64)
    problems = []
    for spec, model in models:
        L = model.window
        for k, fold in enumerate(folds):
            parts = [("train", fold.train, MIN_TRAIN_ROWS)]
            parts += [("val", fold.val, MIN_VAL_ROWS)] if fold.val.size else []
            for part, rows, need in parts:
                got = _count(X, labels[k], rows, L)
                if got < need:
                    what = f"at least {need} {part} row(s) with a complete finite window of {L} rows and a label"
                    found = f"{got} of fold {k + 1}'s {rows.size:,} {part} rows"
                    hint = "use more data, a shorter window or a larger share for that part"
                    problems.append((_where(exp, spec), f"expected {what}, got {found}; {hint}"))
                    break
            else:
                continue
            break  # one problem per model
    return problems


def _class_problems(exp: Experiment, folds: list[Fold], labels: list[np.ndarray]) -> list[tuple[str, str]]:
    """Classifiers learn 2+ classes per fold and meet no other class in its validation rows (as ``fit`` requires)."""
    if exp.labels.kind == "forward_return":
        return []
    problems = []
    for k, (fold, y) in enumerate(zip(folds, labels)):
        train = np.unique(y[fold.train][np.isfinite(y[fold.train])]).astype(np.int64).tolist()
        val = np.unique(y[fold.val][np.isfinite(y[fold.val])]).astype(np.int64).tolist()
        if len(train) < 2:
            what = f"at least two classes among fold {k + 1}'s labelled training rows"
            problems.append(("labels", f"expected {what}, got {train}; use more data or another stationary band"))
        elif set(val) - set(train):
            what = f"fold {k + 1}'s validation labels within the classes of its training labels {train}"
            hint = "a class the models never learnt cannot be validated on: use more training rows"
            problems.append(("labels", f"expected {what}, got classes {sorted(set(val) - set(train))}; {hint}"))
    return problems


def check(exp: Experiment, inputs: Inputs) -> Plan:
    """Every check that needs no fitting, on the loaded data; the folds and labels the run will use.

    Raises
    ------
    ConfigError
        Listing every problem at once, each at its place in the config.
    """
    source = f"experiment {exp.name!r}"
    problems: list[tuple[str, str]] = []
    skipped: list[str] = []
    models = _models(exp, inputs, problems, skipped)
    longest = max((m.window for _, m in models), default=1)
    try:
        folds, gap = make_folds(exp, inputs.n, longest, inputs.groups)
    except ValueError as exc:
        found = str(exc).removeprefix("split: ")
        raise ConfigError(source, [*problems, ("split", f"{found} ({inputs.description})")]) from None
    problems += _tested_problems(exp, inputs, folds, longest)
    labels, label_info = [], []
    for fold in folds:
        y, info = labels_for(exp, inputs, fold.train)
        labels.append(y)
        label_info.append(info)
    problems += _class_problems(exp, folds, labels)
    if not problems:
        problems += _fit_problems(exp, inputs, folds, labels, models)
    if problems:
        raise ConfigError(source, list(dict.fromkeys(problems)))
    return Plan(folds, gap, longest, labels, label_info, [s for s, _ in models], skipped)
