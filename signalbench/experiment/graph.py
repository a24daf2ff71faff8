"""The task graph of a multi-piece experiment: piece -> (threshold) -> labels -> fit -> predict -> backtest.

With a tuned strategy each fit also predicts its group's validation pieces (``predict_val``) and one ``tune`` task
per fit chooses the parameters on them; the fit's tested pieces' backtests read that choice.

Each task names its function in :mod:`signalbench.experiment.tasks` and is keyed by
:func:`signalbench.compute.task_key` over the config sections it reads (never the whole config), so a model added to
the config leaves every other model's fit and predict keys unchanged, and a re-run finds them in the store. A fit's
seed is derived from the experiment seed and the fit's identity (model column, fold, pool group). The combination of
the backtested pieces is made by the caller from whatever pieces finished (:mod:`signalbench.experiment.combine`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from signalbench.compute import Task, task_key
from signalbench.experiment.config import Experiment, ModelSpec
from signalbench.experiment.inputs import needs_spread
from signalbench.experiment.piecefolds import Member, fold_members, pool_groups

__all__ = ["Graph", "build_graph", "derived_seed"]

_TASKS = "signalbench.experiment.tasks"


@dataclass
class Graph:
    """The keys the caller reads: each tested piece's backtest, each fit and tune (per model, fold, group)."""

    tasks: list[Task] = field(default_factory=list)
    backtests: dict[int, str] = field(default_factory=dict)
    fits: dict[tuple[str, int, str], str] = field(default_factory=dict)
    tunes: dict[tuple[str, int, str], str] = field(default_factory=dict)
    module: str = _TASKS  # where the task functions are (a single run's: signalbench.experiment.runtasks)
    _seen: set[str] = field(default_factory=set, repr=False)

    def add(self, kind: str, fn: str, params: dict, deps: dict[str, str], tags: dict[str, str]) -> str:
        """Add a task (once: a task met again, e.g. fold-independent labels, keeps its first entry); its key."""
        key = task_key(kind, f"{self.module}:{fn}", params, deps)
        if key not in self._seen:
            self._seen.add(key)
            self.tasks.append(Task(key, kind, f"{self.module}:{fn}", params, deps, tags))
        return key


def derived_seed(seed: int, *identity: Any) -> int:
    """A seed for one task from the experiment seed and the task's identity (stable across runs and machines)."""
    text = json.dumps([int(seed), *identity], sort_keys=True)
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _spec(spec: ModelSpec) -> dict[str, Any]:
    return {"name": spec.name, "label": spec.label, **spec.params}


@dataclass
class _Ctx:
    exp: Experiment
    pieces: list[Any]
    longest: int
    labels: dict[str, Any]
    split: dict[str, Any]
    specs: list[ModelSpec]
    experiment: dict[str, Any]  # what a backtest or tune task reads (the config without [compute] and the name)

    def tags(self, i: int, **more: Any) -> dict[str, str]:
        return {"symbol": self.pieces[i].symbol, "day": self.pieces[i].day, **{k: str(v) for k, v in more.items()}}


def _piece_keys(g: Graph, c: _Ctx) -> list[str]:
    features, spread = list(c.exp.features), needs_spread(c.exp)
    keys = []
    for i, p in enumerate(c.pieces):
        params = {
            "piece": {"symbol": p.symbol, "day": p.day, "source": dict(p.source)},
            "features": features,
            "spread": spread,
        }
        if c.exp.costs.model == "book":  # only then, so a linear run's piece keys stay as they were
            params["book"] = True
        keys.append(g.add("piece", "piece_task", params, {}, c.tags(i)))
    return keys


def _label_keys(g: Graph, c: _Ctx, members: list[Member], pieces: list[str], group_of: dict[int, str]) -> dict:
    """The labels key of every member's piece in one fold (a fitted band: one threshold per pool group)."""
    thresholds: dict[str, str] = {}
    if c.labels["stationary_quantile"] is not None:
        for group in sorted(set(group_of.values())):
            train = [m for m in members if m.role in ("train", "rows") and group_of[m.piece] == group]
            params = {
                "labels": c.labels,
                "split": c.split,
                "longest": c.longest,
                "members": [m.params() for m in train],
            }
            deps = {f"piece_{j}": pieces[m.piece] for j, m in enumerate(train)}
            tags = {"fold": str(members[0].fold + 1), "group": group}
            thresholds[group] = g.add("threshold", "threshold_task", params, deps, tags)
    out = {}
    for m in members:
        deps = {"piece": pieces[m.piece]}
        if thresholds:
            deps["threshold"] = thresholds[group_of[m.piece]]
        out[m.piece] = g.add("labels", "labels_task", {"labels": c.labels}, deps, c.tags(m.piece, fold=m.fold + 1))
    return out


def _tune(g: Graph, c: _Ctx, fit: str, spec: ModelSpec, vals: list[Member], pieces: list[str], group: str) -> str:
    """The ``tune`` task of one fit: the fit's predictions over each validation piece, and the choice made on them."""
    k = vals[0].fold
    deps = {}
    for j, m in enumerate(vals):
        params = {"labels": c.labels, "split": c.split, "longest": c.longest, "member": m.params()}
        tags = c.tags(m.piece, model=spec.column, fold=k + 1, part="val")
        deps[f"val_{j}"] = g.add("predict", "predict_val_task", params, {"fit": fit, "piece": pieces[m.piece]}, tags)
        deps[f"piece_{j}"] = pieces[m.piece]
    # what tuning reads (costs, strategies, labels): not the models, so a model added leaves this one's choice cached
    experiment = {k: v for k, v in c.experiment.items() if k not in ("models", "baselines")}
    params = {"experiment": experiment, "pieces": [c.pieces[m.piece].id for m in vals]}
    tags = {"model": spec.column, "fold": str(k + 1), "group": group}
    key = g.tunes[(spec.column, k, group)] = g.add("tune", "tune_task", params, deps, tags)
    return key


def _fold(g: Graph, c: _Ctx, members: list[Member], pieces: list[str], groups: dict[str, list[int]], preds: dict):
    """The fits of one fold (per model and pool group) and their predictions on the group's tested pieces."""
    group_of = {i: name for name, ids in groups.items() for i in ids}
    labels = _label_keys(g, c, members, pieces, group_of)
    k = members[0].fold
    for group in groups:
        mine = [m for m in members if group_of[m.piece] == group]
        fit_members = [m for m in mine if m.role != "test"]
        tested = [m for m in mine if m.role in ("test", "rows")]
        if not fit_members or not tested:
            continue
        deps = {f"piece_{j}": pieces[m.piece] for j, m in enumerate(fit_members)}
        deps.update({f"labels_{j}": labels[m.piece] for j, m in enumerate(fit_members)})
        for spec in c.specs:
            params = {
                "spec": _spec(spec),
                "seed": derived_seed(c.exp.seed, spec.column, k, group),
                "device": c.exp.device,
                "labels": c.labels,
                "split": c.split,
                "longest": c.longest,
                "members": [m.params() for m in fit_members],
            }
            tags = {"model": spec.column, "fold": str(k + 1), "group": group}
            fit = g.fits[(spec.column, k, group)] = g.add("fit", "fit_task", params, deps, tags)
            vals = [m for m in mine if m.role in ("val", "rows")]
            tune = _tune(g, c, fit, spec, vals, pieces, group) if any(s.tune for s in c.exp.strategies) else None
            for m in tested:
                params = {"labels": c.labels, "split": c.split, "longest": c.longest, "member": m.params()}
                tags = c.tags(m.piece, model=spec.column, fold=k + 1)
                key = g.add("predict", "predict_task", params, {"fit": fit, "piece": pieces[m.piece]}, tags)
                preds.setdefault(m.piece, {}).setdefault(k, {"member": m, "labels": labels[m.piece], "pred": {}})
                preds[m.piece][k]["pred"][spec.column] = key
                if tune is not None:
                    preds[m.piece][k].setdefault("tune", {})[spec.column] = tune


def build_graph(exp: Experiment, pieces: list[Any], longest: int, specs: list[ModelSpec]) -> Graph:
    """Every task of a multi-piece run of ``exp`` over ``pieces`` (sorted by day, symbol) for the models ``specs``.

    ``longest`` is the longest window of the run's models (the purge inside a piece and its usable rows).
    """
    g = Graph()
    # what a backtest reads: not where the tasks run ([compute]) nor the run's name, so neither changes its key
    experiment = {**exp.model_dump(mode="json", exclude={"compute"}), "name": "piece"}
    c = _Ctx(exp, pieces, longest, exp.labels.model_dump(), exp.split.model_dump(), specs, experiment)
    keys = _piece_keys(g, c)
    groups = pool_groups(exp.split, [p.symbol for p in pieces])
    preds: dict[int, dict[int, dict]] = {}
    for members in fold_members(exp.split, [p.day for p in pieces]):
        _fold(g, c, members, keys, groups, preds)
    for i in sorted(preds):
        folds, deps = [], {"piece": keys[i]}
        for j, (_, entry) in enumerate(sorted(preds[i].items())):
            folds.append({"member": entry["member"].params(), "models": list(entry["pred"])})
            deps[f"labels_{j}"] = entry["labels"]
            deps.update({f"pred_{j}_{name}": key for name, key in entry["pred"].items()})
            deps.update({f"tune_{j}_{name}": key for name, key in entry.get("tune", {}).items()})
        params = {"experiment": experiment, "longest": longest, "folds": folds}
        g.backtests[i] = g.add("backtest", "backtest_task", params, deps, c.tags(i))
    return g
