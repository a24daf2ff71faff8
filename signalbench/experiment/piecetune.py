"""Tuning in a multi-piece run: one choice per (model, fold, pool group) made on all the group's validation pieces.

Each validation piece's rows are priced on their own at the run's costs (as a single run tunes: the quoted half
spread under ``model = "book"``), every candidate of the grid and "flat"; the candidates' net returns are summed over
the pieces (each symbol-day's sum of additive returns, as the daily combination sums them) and the best is chosen
(:func:`signalbench.strategies.tuning.pool`: "flat" unless a candidate earns more than 0). The tested pieces of the
group then apply that choice (:mod:`signalbench.experiment.piecerun`). Only validation rows are read: the
predictions of the ``predict_val`` tasks and the prices and spreads of those rows.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from signalbench.strategies import specs as rule_specs
from signalbench.strategies.tuning import pool

__all__ = ["tune_pieces"]


def tune_pieces(experiment: dict, pieces: list[str], deps: dict[str, Any]) -> dict[str, Any]:
    """The choice of every tuned strategy (by its index in ``strategies``) on the validation pieces in ``deps``.

    ``deps`` holds ``val_<j>`` (the ``predict_val`` result: ``proba`` and ``span``) and ``piece_<j>`` of the j-th
    validation piece, named ``pieces[j]`` (``"SYMBOL/DAY"``).
    """
    from signalbench.experiment.piecerun import experiment_of, piece_inputs
    from signalbench.experiment.pricing import _tune_on_val

    exp = experiment_of(experiment)
    used = [j for j in range(len(pieces)) if deps[f"val_{j}"]["proba"].shape[0]]
    if not used:
        raise ValueError(f"tune: expected validation rows in the fold's validation pieces, got none in {pieces}")
    out = {}
    for i, spec in enumerate(exp.strategies):
        if not spec.tune:
            continue
        results = []
        for j in used:
            proba, (v0, v1) = deps[f"val_{j}"]["proba"], deps[f"val_{j}"]["span"]
            task = "regression" if proba.shape[1] == 1 else "classification"
            bound = partial(rule_specs.bind, spec.rule, of=spec.of, task=task)
            results.append(_tune_on_val(exp, piece_inputs(deps[f"piece_{j}"]), (proba, v0, v1), spec, bound))
        choice = pool(results)
        out[str(i)] = {
            "strategy": spec.rule,
            "params": choice.params,
            "n_trials": int(choice.n_trials),
            "table": choice.table.reset_index().to_dict(orient="list"),
            "rests_on": {
                "pieces": [pieces[j] for j in used],
                "rows": int(sum(deps[f"val_{j}"]["span"][1] - deps[f"val_{j}"]["span"][0] for j in used)),
            },
        }
    return {"choices": out}
