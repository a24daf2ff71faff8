"""A single-piece run's fits and predictions as a graph of cached tasks (:mod:`signalbench.experiment.runtasks`).

Per model and fold: ``fit``, ``predict`` (the fold's traded span) and, where the fold has validation rows,
``predict_val`` (what tuning chooses on); all read the run's ``inputs`` (stored by the caller, which loaded them
first). Keys hold only what each task reads: the model spec (name, label, parameters), the experiment's seed (every
fold's model is built with it, as :func:`signalbench.experiment.preflight.build` does, so the numbers are those of a
run without a store), the device, the ``[labels]`` and ``[split]`` sections, the longest window of the run's models (the
purge gap: a model with a longer window moves every fold) and the fold; a model added leaves every other model's keys
unchanged. The graph runs on the ``[compute]`` executor (``workers`` unset: in this process) against the task store,
so an interrupted run resumes with what is stored, and a shared ``cache`` serves another run of the same tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from signalbench.experiment.config import Experiment, SyntheticData
from signalbench.experiment.fits import fit_record
from signalbench.experiment.graph import Graph, _spec
from signalbench.experiment.inputs import needs_spread
from signalbench.experiment.preflight import Plan
from signalbench.experiment.pricing import _Model
from signalbench.experiment.results import CLASSES

__all__ = ["RunGraph", "TaskFailedError", "build_run_graph", "fit_models", "inputs_params"]

_TASKS = "signalbench.experiment.runtasks"


class TaskFailedError(RuntimeError):
    """A task of a single-piece run failed: the message names the model, the fold and the error.

    A single run has one piece, so there is nothing to combine without it. The run folder keeps every task that
    finished (``signalbench run --resume RUN`` runs the rest).
    """


@dataclass
class RunGraph:
    """The tasks of a single run and the keys the caller reads, per (model column, fold)."""

    graph: Graph
    inputs: str
    fits: dict[tuple[str, int], str] = field(default_factory=dict)
    predicts: dict[tuple[str, int], str] = field(default_factory=dict)
    vals: dict[tuple[str, int], str] = field(default_factory=dict)

    @property
    def tasks(self) -> list:
        """Every task, the inputs first, then each model's fits, then their predictions."""
        return self.graph.tasks


def inputs_params(exp: Experiment) -> dict[str, Any]:
    """What :func:`~signalbench.experiment.inputs.load_inputs` reads of ``exp`` (the ``inputs`` task's parameters)."""
    synthetic = isinstance(exp.data, SyntheticData)
    return {
        "data": exp.data.model_dump(mode="json"),
        "features": exp.features,
        "seed": exp.seed if synthetic and exp.data.seed is None else 0,  # only synthetic data without a seed read it
        "base_dir": "" if synthetic else str(Path(exp.base_dir).resolve()),
        "spread": needs_spread(exp),
    }


def build_run_graph(exp: Experiment, plan: Plan) -> RunGraph:
    """Every task of the single run of ``exp`` whose folds and models ``plan`` (:func:`~.preflight.check`) gives."""
    g = RunGraph(Graph(module=_TASKS), "")
    g.inputs = g.graph.add("inputs", "inputs_task", inputs_params(exp), {}, {})
    common = {"labels": exp.labels.model_dump(mode="json"), "split": exp.split.model_dump(mode="json")}
    common["longest"] = plan.longest
    for spec in plan.specs:
        for k in range(len(plan.folds)):
            params = {"spec": _spec(spec), "seed": exp.seed, "device": exp.device, **common, "fold": k}
            tags = {"model": spec.column, "fold": str(k + 1)}
            g.fits[spec.column, k] = g.graph.add("fit", "fit_task", params, {"inputs": g.inputs}, tags)
    for spec in plan.specs:
        for k, fold in enumerate(plan.folds):
            deps = {"fit": g.fits[spec.column, k], "inputs": g.inputs}
            tags = {"model": spec.column, "fold": str(k + 1)}
            params = {**common, "fold": k}
            g.predicts[spec.column, k] = g.graph.add("predict", "predict_task", params, deps, tags)
            if fold.val.size:
                tags = {**tags, "part": "val"}
                g.vals[spec.column, k] = g.graph.add("predict", "predict_val_task", params, deps, tags)
    return g


def fit_models(
    exp: Experiment, inputs: Any, plan: Plan, store: Any, *, progress: bool = False, run_dir: Path | None = None
) -> tuple[dict[str, _Model], Any]:
    """Run the single run's graph in ``store``: each model's fits and outputs, and what the graph run did.

    The outputs are gathered as the runner prices them; the second value is the :class:`~signalbench.compute.GraphRun`.

    Raises
    ------
    TaskFailedError
        When a task failed (the first failure is named; ``run_dir``, when given, keeps what finished).
    """
    from signalbench.compute import run_graph  # looked up when called (the service wraps it to record the graph)
    from signalbench.experiment.runtasks import inputs_result

    g = build_run_graph(exp, plan)
    store.save(g.inputs, inputs_result(inputs))  # what the inputs task computes from these sections: loaded already
    c = exp.compute
    workers = 1 if c.workers is None and c.executor == "local" else c.workers
    run = run_graph(
        g.tasks,
        store,
        executor=c.executor,
        workers=workers,
        address=c.address,
        fail_fast=c.fail_fast,
        progress=progress,
    )
    if not run.ok():
        raise TaskFailedError(_failed(run, run_dir))
    return _gather(exp, plan, g, store), run


def _failed(run: Any, run_dir: Path | None) -> str:
    """The message of a failed single run: the first failed task's model, fold and error, and how to go on."""
    first = next(iter(run.failed.values()))
    tags = dict(first.tags)
    part = " (its validation rows)" if tags.get("part") == "val" else ""
    text = f"{first.kind}{part} of model {tags.get('model')!r} on fold {tags.get('fold')} failed: {first.error}"
    more = len(run.failed) - 1
    if more:
        text += f" (and {more} other task(s))"
    if run_dir is not None:
        text += f"; the run folder {run_dir} keeps every finished task: `signalbench run --resume {run_dir}` "
        text += "runs the rest"
    return text


def _gather(exp: Experiment, plan: Plan, g: RunGraph, store: Any) -> dict[str, _Model]:
    """Each model's outputs over the tested span, validation outputs, fitted models and ``fits.json`` records."""
    folds = plan.folds
    span0, span1 = folds[0].start, folds[-1].stop
    width = 1 if exp.labels.kind == "forward_return" else len(CLASSES)
    out: dict[str, _Model] = {}
    for spec in plan.specs:
        name = spec.column
        proba = np.full((span1 - span0, width), np.nan)
        vals, fitted, records = [], [], []
        for k, fold in enumerate(folds):
            fit, pred = store.load(g.fits[name, k]), store.load(g.predicts[name, k])
            proba[fold.start - span0 : fold.stop - span0] = pred["proba"]
            if (name, k) in g.vals:
                val = store.load(g.vals[name, k])
                vals.append((val["proba"], *(int(i) for i in val["span"])))
            part = fit["record"]
            records.append(fit_record(k + 1, part["train"], part["val"], (pred["context"], fold.start, fold.stop)))
            fitted.append(fit["model"])
        out[name] = _Model(name, proba, vals, fitted, records)
    return out
