"""Pricing a tested span: model outputs -> every model x strategy column and the benchmarks -> one backtest.

The functions take an :class:`~signalbench.experiment.inputs.Inputs` of the rows to price: the whole data of a
single run (:mod:`signalbench.experiment.runner`) or one piece's rows alone (:mod:`signalbench.experiment.piecerun`),
so a multi-piece run prices each piece exactly as a single run prices its data. Every column and the benchmarks (the
cost-aware oracle, the naive oracle, buy-and-hold: on the priced rows only) pay identical costs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from signalbench import strategies
from signalbench.engine import backtest, book_backtest, naive_oracle_positions, oracle_positions
from signalbench.experiment.config import BENCHMARKS, Experiment, StrategySpec
from signalbench.experiment.fitting import predict_span
from signalbench.experiment.inputs import Inputs
from signalbench.experiment.results import CLASSES
from signalbench.strategies import specs as rule_specs

# BENCHMARKS: the columns every run prices beside the models (they look ahead, except buy-and-hold: never signals)


def _predict(model: Any, X: pd.DataFrame, start: int, stop: int) -> np.ndarray:
    """Predictions of rows ``start .. stop - 1``, made with their past context.

    ``(n, 3)`` probabilities of classes 0, 1, 2 for classifiers (a class the model never saw gets 0); ``(n, 1)``
    predicted values for regressors.
    """
    out = predict_span(model, X, start, stop)
    if model.task == "regression":
        return out
    proba = np.zeros((stop - start, len(CLASSES)))
    cols = [CLASSES.index(int(c)) for c in model.classes_]
    proba[:, cols] = out
    proba[~np.isfinite(out).all(axis=1)] = np.nan
    return proba


def _label(model: str, spec: StrategySpec, params: dict[str, Any], tuned: bool) -> str:
    return spec.column(model, params, tuned)


@dataclass
class _Model:
    name: str
    proba: np.ndarray  # (span, 3)
    val: list[tuple[np.ndarray, int, int]]  # per fold: validation probabilities and their span
    fitted: list[Any]
    fits: list[dict]  # per fold: the rows given to fit and predict (fits.json)
    picks: dict[int, list[Any]] | None = None  # per tuned strategy (index in exp.strategies): per fold, its choice


def _costs(exp: Experiment, inputs: Inputs, start: int, stop: int) -> dict[str, Any]:
    """Linear costs; under ``model = "book"`` the quoted half spread (one share's cost) tunes rules and benchmarks."""
    c = exp.costs
    spread = c.half_spread_bps
    if spread == "quoted" or c.model == "book":
        spread = inputs.half_spread_bps[start:stop]
    return {
        "fee_bps": c.fee_bps,
        "slippage_bps": c.slippage_bps,
        "half_spread_bps": spread,
        "delay": c.delay,
        "close_at_end": c.close_at_end,
    }


def _signal(proba: np.ndarray) -> np.ndarray:
    """A model's output as its rules take it: (n, 3) class probabilities, or (n,) predicted returns of a regressor."""
    return proba[:, 0] if proba.shape[1] == 1 else proba


def _rows(inputs: Inputs, lo: int, hi: int) -> dict[str, Any]:
    """The per-row inputs a rule may read (the traded price, the quoted half spread) of rows ``lo .. hi - 1``."""
    spread = None if inputs.half_spread_bps is None else inputs.half_spread_bps[lo:hi]
    return {"price": inputs.price.iloc[lo:hi].to_numpy(), "spread": spread}


def _tune_on_val(exp, inputs, val: tuple[np.ndarray, int, int], spec: StrategySpec, bound) -> Any:
    """The grid point of ``spec`` chosen on one stretch of validation rows (``val``: outputs, first row, end)."""
    val_proba, v0, v1 = val
    lists = {k: (v if isinstance(v, list) else [v]) for k, v in spec.params.items()}
    with warnings.catch_warnings():  # candidates that never trade are expected while tuning
        warnings.simplefilter("ignore")
        return strategies.tune(
            bound(**_rows(inputs, v0, v1)),
            _signal(val_proba),
            inputs.price.iloc[v0:v1].to_numpy(),
            lists,
            **_costs(exp, inputs, v0, v1),
        )


def _tuned(exp, inputs, folds, m: _Model, spec: StrategySpec, bound, picks=None) -> tuple[np.ndarray, dict, int]:
    """A tuned column: per fold, the grid point chosen on its validation rows applied to its tested rows.

    ``picks`` (per fold, a :class:`~signalbench.strategies.TuneResult`) are choices made elsewhere (a multi-piece
    run's tune task, on every validation piece of the fold's pool group); without them each fold is tuned on
    ``m.val``.
    """
    span0 = folds[0].start
    pos = np.zeros(m.proba.shape[0])
    chosen = picks if picks is not None else [_tune_on_val(exp, inputs, v, spec, bound) for v in m.val]
    choices, tables = [], []
    n_trials = 1
    for choice, fold in zip(chosen, folds):
        lo, hi = fold.start - span0, fold.stop - span0
        on_test = replace(choice, rule=bound(**_rows(inputs, fold.start, fold.stop)))
        pos[lo:hi] = np.asarray(on_test.apply(_signal(m.proba[lo:hi])), dtype=np.float64)
        choices.append(choice.params if choice.params is not None else "flat")
        tables.append(choice.table.reset_index().to_dict(orient="list"))
        n_trials = choice.n_trials
    entry = {"model": m.name, "strategy": spec.rule, "tuned": True, "chosen": choices, "tuning": tables}
    return pos, entry, n_trials


def _positions(exp, inputs, folds, models) -> tuple[dict[str, np.ndarray], dict[str, dict], int]:
    """Every model x strategy column over the tested span, the column descriptions, and the extra trials.

    Each rule is called as :func:`signalbench.strategies.specs.bind` says (regressors, ``forward_return`` labels,
    give it their predicted returns).
    """
    span0, span1 = folds[0].start, folds[-1].stop
    columns: dict[str, np.ndarray] = {}
    info: dict[str, dict] = {}
    extra_trials = 0
    for m in models.values():
        task = "regression" if m.proba.shape[1] == 1 else "classification"
        for i, spec in enumerate(exp.strategies):
            bound = partial(rule_specs.bind, spec.rule, of=spec.of, task=task)
            if spec.tune:
                col = _label(m.name, spec, {}, tuned=True)
                picks = None if m.picks is None else m.picks[i]
                columns[col], info[col], n_trials = _tuned(exp, inputs, folds, m, spec, bound, picks)
                extra_trials += max(0, n_trials - 1)  # every candidate tried is a trial; the column is one
                continue
            rule = bound(**_rows(inputs, span0, span1))
            for params in spec.grid():
                col = _label(m.name, spec, params if spec.params else {}, tuned=False)
                columns[col] = np.nan_to_num(np.asarray(rule(_signal(m.proba), **params), dtype=np.float64))
                info[col] = {"model": m.name, "strategy": spec.rule, "params": params, "tuned": False}
                if spec.of:
                    info[col]["of"] = spec.of
    return columns, info, extra_trials


def _benchmarks(exp, inputs, start, stop) -> dict[str, np.ndarray]:
    price = inputs.price.iloc[start:stop].to_numpy()
    costs = _costs(exp, inputs, start, stop)
    positions = {
        "oracle": np.asarray(oracle_positions(price, **costs), dtype=np.float64),
        "naive_oracle": np.asarray(naive_oracle_positions(price), dtype=np.float64),
        "buy_and_hold": np.ones(stop - start),
    }
    return {name: positions[name] for name in BENCHMARKS}


def _backtest(exp, inputs, start, stop, columns, bench, extra_trials):
    index = inputs.price.index[start:stop]
    frame = pd.DataFrame({**columns, **bench}, index=index)
    if exp.costs.model == "book":
        return book_backtest(
            inputs.price.iloc[start:stop],
            frame,
            inputs.frame.iloc[start:stop],
            **_book_costs(exp, list(frame.columns)),
            periods_per_year=exp.periods_per_year,
            benchmarks=list(bench),
            n_trials=max(1, len(columns) + extra_trials),
        )
    return backtest(
        inputs.price.iloc[start:stop],
        frame,
        **_costs(exp, inputs, start, stop),
        periods_per_year=exp.periods_per_year,
        benchmarks=list(bench),
        n_trials=max(1, len(columns) + extra_trials),
    )


def book_curve(exp: Experiment, inputs: Inputs, start: int, stop: int, positions: dict[str, np.ndarray]) -> dict:
    """Per ``capacity_sizes``: each column's net return, exact book oracle and rows short of depth (one piece's).

    What :func:`signalbench.engine.book_capacity` measures, with the oracle's total kept, so that a multi-piece run
    can sum every figure over its pieces before it finds each column's capacity.
    """
    kwargs = {k: v for k, v in _book_costs(exp).items() if k not in ("size", "notional")}
    price = inputs.price.iloc[start:stop]
    frame = pd.DataFrame(positions, index=price.index)
    from signalbench.engine.book_inputs import as_book

    book = as_book(inputs.frame.iloc[start:stop], len(price), price.index)  # converted once for every size
    rows = {"net_return": "total_return_additive", "oracle_return": "oracle_return_additive"}
    rows["rows_short_of_depth"] = "rows_short_of_depth"
    out: dict[str, Any] = {"sizes": [int(s) for s in sorted(exp.costs.capacity_sizes)]}
    out.update({name: {str(c): [] for c in frame.columns} for name in rows})
    with warnings.catch_warnings():  # the run's own backtest of these rows already gave its warnings
        warnings.simplefilter("ignore")
        for size in out["sizes"]:
            stats = book_backtest(price, frame, book, size=size, mode="additive", **kwargs).stats
            for name, row in rows.items():
                for c in frame.columns:
                    out[name][str(c)].append(float(stats.loc[row, c]))
    return out


def _book_costs(exp: Experiment, columns: list[str] | None = None) -> dict[str, Any]:
    """The arguments of :func:`signalbench.engine.book.book_backtest` that ``[costs]`` sets.

    ``size`` and ``notional`` given per column (a table) are resolved for ``columns``.
    """
    c = exp.costs
    return {
        "size": c.per_column("size", columns) if columns is not None else c.size,
        "notional": c.per_column("notional", columns) if columns is not None else c.notional,
        "unfilled": c.unfilled,
        "penalty_bps": c.penalty_bps,
        "fee_bps": c.fee_bps,
        "slippage_bps": c.slippage_bps,
        "delay": None if c.latency is not None else c.delay,
        "latency": c.latency,
        "close_at_end": c.close_at_end,
    }
