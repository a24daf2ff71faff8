"""The backtest of one piece: its tested span priced by the runner's own functions, as one run of one piece.

The piece is given to :func:`signalbench.experiment.runner._positions`, ``_benchmarks`` and ``_backtest`` as an
:class:`~signalbench.experiment.inputs.Inputs` of its rows alone, so every model x strategy column and the benchmarks
(naive oracle, cost-aware oracle, buy-and-hold: on the piece's tested rows only) pay identical costs, exactly as in a
single-piece run. The predictions of every fold that tests the piece are stitched over its span.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from signalbench.experiment.config import parse_experiment
from signalbench.experiment.inputs import Inputs
from signalbench.experiment.piecefolds import piece_fold
from signalbench.experiment.results import CLASSES
from signalbench.strategies.tuning import TuneResult

__all__ = ["experiment_of", "piece_backtest", "piece_inputs"]


def experiment_of(experiment: dict[str, Any]):
    """The :class:`~signalbench.experiment.config.Experiment` a task was given (its dumped config)."""
    return parse_experiment({k: v for k, v in experiment.items() if k != "base_dir"}, base_dir=experiment["base_dir"])


def piece_inputs(piece: dict[str, Any]) -> Inputs:
    """A ``piece`` task's result as the pricing functions take it (its order book as the frame, when it has one)."""
    price = piece["price"]
    frame = piece["book"] if piece.get("book") is not None else pd.DataFrame(index=price.index)
    spread = piece.get("half_spread_bps")
    return Inputs(frame, piece["features"], price, spread, None, piece.get("bayes_accuracy"), "")


def _as_picks(choices: dict[str, Any]) -> dict[int, TuneResult]:
    """A tune task's choices (:mod:`signalbench.experiment.piecetune`) as :class:`TuneResult` s to apply.

    Their ``rule`` is bound to the tested rows by :func:`signalbench.experiment.pricing._tuned`.
    """
    out = {}
    for i, c in choices.items():
        table = pd.DataFrame(c["table"]).set_index("candidate")
        out[int(i)] = TuneResult(c["params"], table, c["n_trials"], None, False, {})
    return out


def _picks(folds: list[dict], order: list[int], deps: dict, name: str) -> dict[int, list] | None:
    """Per tuned strategy, the choice of each fold (in time order) for model ``name``; None when nothing is tuned."""
    if not any(f"tune_{j}_{name}" in deps for j in range(len(folds))):
        return None
    per_fold = [_as_picks(deps[f"tune_{j}_{name}"]["choices"]) for j in order]
    return {i: [fold[i] for fold in per_fold] for i in per_fold[0]}


def _stitch(exp, longest, folds, piece, deps) -> tuple[list, list[int], dict[str, np.ndarray], np.ndarray]:
    """The folds (in time order) and their order in ``folds``, each model's outputs over the span, the labels."""
    lab, split = exp.labels.model_dump(), exp.split.model_dump()
    cut = [(piece_fold(lab, split, f["member"], piece["n"], longest), j) for j, f in enumerate(folds)]
    cut.sort(key=lambda fj: fj[0].start)
    span0, span1 = cut[0][0].start, cut[-1][0].stop
    width = 1 if exp.labels.kind == "forward_return" else len(CLASSES)
    proba: dict[str, np.ndarray] = {}
    y = np.full(span1 - span0, np.nan)
    for fold, j in cut:
        for name in folds[j]["models"]:
            out = proba.setdefault(name, np.full((span1 - span0, width), np.nan))
            out[fold.start - span0 : fold.stop - span0] = deps[f"pred_{j}_{name}"]["proba"]
        y[fold.test - span0] = deps[f"labels_{j}"]["y"][fold.test]
    return [f for f, _ in cut], [j for _, j in cut], proba, y


def _book_summary(exp, inputs, start, stop, positions, result) -> dict[str, Any]:
    """Under book costs: each column's exact book oracle and rows short of depth, and its capacity curve points."""
    from signalbench.experiment.pricing import book_curve

    if exp.costs.model != "book":
        return {}
    stats = result.stats
    out: dict[str, Any] = {
        "oracle_return": {str(c): float(stats.loc["oracle_return_additive", c]) for c in stats.columns},
        "rows_short_of_depth": {str(c): int(stats.loc["rows_short_of_depth", c]) for c in stats.columns},
    }
    if exp.costs.capacity_sizes:
        out["capacity"] = book_curve(exp, inputs, start, stop, positions)
    return out


def _exposure(positions: dict[str, np.ndarray], stats: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per column: tested rows with a long, short and flat target, rows in the market (executed) and turnover."""
    out = {}
    for c, v in positions.items():
        v = np.asarray(v, dtype=np.float64)
        row = {"long": int(np.sum(v > 0)), "short": int(np.sum(v < 0)), "flat": int(np.sum(v == 0))}
        row["in_market"] = float(stats.loc["exposure_time", c]) * v.size  # exposure_time: a share of the rows
        row["turnover"] = float(stats.loc["turnover", c])
        out[str(c)] = row
    return out


def piece_backtest(experiment: dict, longest: int, folds: list[dict], piece: dict, deps: dict) -> dict[str, Any]:
    """Net returns per row of every column on the piece's tested span, labels, outputs and the piece's summary."""
    from signalbench.experiment.pricing import _backtest, _benchmarks, _Model, _positions
    from signalbench.reports.metrics import classification_metrics

    exp = experiment_of(experiment)
    inputs = piece_inputs(piece)
    cut, order, proba, y = _stitch(exp, longest, folds, piece, deps)
    start, stop = cut[0].start, cut[-1].stop
    models = {name: _Model(name, p, [], [], [], _picks(folds, order, deps, name)) for name, p in proba.items()}
    with warnings.catch_warnings():  # a piece's intraday figures are kept; the run's notes are about the pooled ones
        warnings.simplefilter("ignore")
        columns, info, extra = _positions(exp, inputs, cut, models)
        bench = _benchmarks(exp, inputs, start, stop)
        result = _backtest(exp, inputs, start, stop, columns, bench, extra)
    returns = pd.DataFrame(result.returns, copy=True)
    returns.columns = [str(c) for c in returns.columns]
    classification = exp.labels.kind != "forward_return"
    f1 = {
        name: classification_metrics(y, p, CLASSES)["macro_f1"] if classification else None for name, p in proba.items()
    }
    summary = {
        "rows": int(stop - start),
        "labelled": int(np.isfinite(y).sum()),
        "net_return": {c: float(returns[c].sum()) for c in returns.columns},
        "macro_f1": {k: (None if v is None or not np.isfinite(v) else float(v)) for k, v in f1.items()},
        "info": {str(c): v for c, v in info.items()},
        "benchmarks": list(bench),
        "mean_position": {str(c): float(np.mean(v)) for c, v in {**columns, **bench}.items()},
        "exposure": _exposure({**columns, **bench}, result.stats),
        "extra_trials": int(extra),
        **_book_summary(exp, inputs, start, stop, {**columns, **bench}, result),
    }
    names = [f"{name}:p{c}" for name in proba for c in range(proba[name].shape[1])]
    outputs = pd.DataFrame(np.hstack(list(proba.values())), columns=names) if proba else pd.DataFrame()
    return {"returns": returns, "labels": y, "outputs": outputs, "summary": summary}
