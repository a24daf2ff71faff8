"""The task functions of a multi-piece run (named by ``Task.fn``; each a pure function of its params and deps).

``piece`` loads one (symbol, day) and computes its features from it alone; ``threshold`` fits a quantile
stationary band on one fold's training rows of its training pieces; ``labels`` labels one piece (with that
threshold); ``fit`` fits one model spec on one fold and pool group, its frame the concatenation of every training
piece's training rows, each with its own ``seq_len - 1`` rows of context and NaN labels outside
(:func:`signalbench.data.splits.with_context` per piece: no window crosses a piece, no tested row is in it);
``predict`` predicts one piece's tested span with context from that piece only (``predict_val`` its validation rows);
``tune`` chooses the tuned strategies' parameters of one fit on its group's validation pieces
(:mod:`signalbench.experiment.piecetune`); ``backtest`` prices one piece: every model x strategy column and the
benchmarks at identical costs (the runner's functions, on the piece). A pooled fit normalises each piece's features
per symbol with the statistics of the training rows first, and its predictions use the same statistics
(:mod:`signalbench.experiment.poolnorm`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from signalbench.experiment.fits import ranges
from signalbench.experiment.piecefolds import piece_fold
from signalbench.experiment.poolnorm import normalise_pooled, predict_features

__all__ = [
    "backtest_task",
    "fit_task",
    "labels_task",
    "piece_task",
    "predict_task",
    "predict_val_task",
    "threshold_task",
    "tune_task",
    "warm_up",
]


def book_frame(frame: pd.DataFrame) -> pd.DataFrame | None:
    """The order-book columns of a piece's rows (``ask_price_i, ask_size_i, bid_price_i, bid_size_i``), or None."""
    from signalbench.engine.book_inputs import book_levels

    try:
        levels = book_levels(frame.columns)
    except ValueError:
        return None
    sides = [f"{s}_{k}_{i}" for i in range(1, levels + 1) for s in ("ask", "bid") for k in ("price", "size")]
    return frame[sides]


def piece_task(piece: dict[str, Any], features: list[str], spread: bool, book: bool = False) -> dict[str, Any]:
    """One piece's causal features, traded price, (with ``spread``) quoted half spread and (``book``) order book."""
    from signalbench.data.pieces import Piece, load_piece

    data = load_piece(Piece(piece["symbol"], piece["day"], piece["source"]), features, spread=spread)
    out: dict[str, Any] = {"features": data.features, "price": data.price.rename("price"), "n": len(data.price)}
    out["symbol"] = piece["symbol"]
    out["bayes_accuracy"] = data.bayes_accuracy
    if data.half_spread_bps is not None:
        out["half_spread_bps"] = np.asarray(data.half_spread_bps, dtype=np.float64)
    if book:
        frame = book_frame(data.frame)
        if frame is None:
            raise ValueError(f"costs.model: expected an order book in piece {piece['symbol']}/{piece['day']}, got none")
        out["book"] = frame
    return out


def _changes(labels: dict[str, Any], price: np.ndarray) -> np.ndarray:
    from signalbench.data import labels as lab

    changes = lab.forward_change if labels["kind"] == "direction" else lab.smoothed_change
    return np.asarray(changes(price, labels["horizon"]), dtype=np.float64)


def threshold_task(labels: dict, split: dict, longest: int, members: list[dict], **pieces: Any) -> dict[str, Any]:
    """A fold's stationary band: the ``stationary_quantile`` of |change| on its training pieces' training rows."""
    from signalbench.data import labels as lab

    parts, record = [], []
    for i, member in enumerate(members):
        p = pieces[f"piece_{i}"]
        fold = piece_fold(labels, split, member, p["n"], longest)
        parts.append(_changes(labels, p["price"].to_numpy(dtype=np.float64))[fold.train])
        record.append({"member": i, "rows": ranges(fold.train)})
    change = np.concatenate(parts) if parts else np.zeros(0)
    rows = np.arange(change.size)
    threshold = lab.fit_stationary_threshold(change, rows, quantile=labels["stationary_quantile"])
    return {"threshold": float(threshold), "record": record}


def labels_task(labels: dict[str, Any], piece: dict[str, Any], threshold: dict | None = None) -> dict[str, Any]:
    """One piece's labels (NaN where the label window leaves the piece); a fitted band from ``threshold``."""
    from signalbench.data import labels as lab

    price = piece["price"].to_numpy(dtype=np.float64)
    info: dict[str, Any] = {"kind": labels["kind"], "horizon": labels["horizon"]}
    if labels["kind"] == "forward_return":
        return {"y": np.asarray(lab.forward_log_return(price, labels["horizon"]), dtype=np.float64), "info": info}
    if threshold is not None:
        value = threshold["threshold"]
        info.update(threshold_fit_on="training rows of the fold's training pieces")
        info["stationary_quantile"] = labels["stationary_quantile"]
    elif labels["threshold"] is not None:
        value = labels["threshold"]
    else:
        value = 0.0 if labels["kind"] == "direction" else 2e-5  # the functions' documented defaults
    info["threshold"] = float(value)
    make = lab.direction if labels["kind"] == "direction" else lab.smoothed_direction
    key = "threshold" if labels["kind"] == "direction" else "alpha"
    y = make(price, labels["horizon"], **{key: float(value)})
    return {"y": np.asarray(y, dtype=np.float64), "info": info}


def _frame(labels, split, longest, members, deps, part: str, L: int) -> tuple[list, list]:
    """The blocks of one part of every member (each piece's rows with their own context), and their record."""
    from signalbench.experiment.fitting import block

    blocks, record = [], []
    for i, member in enumerate(members):
        p, y = deps[f"piece_{i}"], deps[f"labels_{i}"]["y"]
        rows = getattr(piece_fold(labels, split, member, p["n"], longest), part)
        if rows.size == 0:
            continue
        b = block(p["features"], y, rows, L)
        blocks.append(b)
        record.append({"member": i, **b.record()})
    return blocks, record


def fit_task(
    spec: dict, seed: int, device: str, labels: dict, split: dict, longest: int, members: list[dict], **deps: Any
) -> dict[str, Any]:
    """One model spec fit on one fold's training pieces of one pool group (validation pieces for early stopping).

    A model that trains in epochs reports each epoch to the run's progress display, where one listens
    (:func:`signalbench.compute.events.emitter`); the fit is the same either way.
    """
    from signalbench.experiment.config import ModelSpec
    from signalbench.experiment.fitting import fit
    from signalbench.experiment.preflight import build_model

    model = build_model(ModelSpec(**spec), seed, device)
    deps, normaliser = normalise_pooled(model, labels, split, longest, members, deps)
    L = model.window
    train, train_record = _frame(labels, split, longest, members, deps, "train", L)
    val, val_record = _frame(labels, split, longest, members, deps, "val", L)
    fit(model, train, val, _epoch_callback(model))
    return {"model": model, "record": {"train": train_record, "val": val_record}, "normaliser": normaliser}


def _epoch_callback(model: Any):
    """A ``callback(epoch, metrics)`` sending each epoch to the progress display, or None (no epochs, no listener)."""
    from signalbench.compute.events import emitter
    from signalbench.experiment.console import epoch_info
    from signalbench.experiment.fitting import epochs_of

    total, emit = epochs_of(model), emitter()
    if not total or emit is None:
        return None
    return lambda epoch, metrics: emit(int(epoch), total, epoch_info(metrics))


def predict_task(labels: dict, split: dict, longest: int, member: dict, fit: dict, piece: dict) -> dict[str, Any]:
    """One fitted model's outputs over one piece's traded span of one fold (context from the piece only)."""
    fold = piece_fold(labels, split, member, piece["n"], longest)
    return _span(fit, piece, int(fold.start), int(fold.stop))


def predict_val_task(labels: dict, split: dict, longest: int, member: dict, fit: dict, piece: dict) -> dict[str, Any]:
    """One fitted model's outputs over one piece's validation rows of one fold (context from the piece only)."""
    val = piece_fold(labels, split, member, piece["n"], longest).val
    if val.size == 0:
        return {"proba": np.zeros((0, 1)), "span": [0, 0]}
    return _span(fit, piece, int(val[0]), int(val[-1]) + 1)


def _span(fit: dict, piece: dict, start: int, stop: int) -> dict[str, Any]:
    """The fitted model's outputs over rows ``start .. stop - 1`` of the piece (its features as the fit saw them)."""
    from signalbench.experiment.fitting import context_of
    from signalbench.experiment.pricing import _predict

    features = predict_features(fit, piece)
    proba = _predict(fit["model"], features, start, stop)
    return {"proba": proba, "span": [start, stop], "context": context_of(fit["model"], features, start)}


def tune_task(experiment: dict, pieces: list[str], **deps: Any) -> dict[str, Any]:
    """The tuned strategies' choices of one fit (model, fold, pool group) on its validation pieces ``deps``."""
    from signalbench.experiment.piecetune import tune_pieces

    return tune_pieces(experiment, pieces, deps)


def backtest_task(experiment: dict, longest: int, folds: list[dict], piece: dict, **deps: Any) -> dict[str, Any]:
    """Every model x strategy column and the benchmarks on one piece's tested span, at identical costs.

    ``folds`` lists the folds that test this piece (``member`` and ``models``, the column names); ``deps`` holds
    ``pred_<j>_<model>`` and ``labels_<j>`` of the j-th of them. Returns the per-row net returns, the stitched
    labels and class probabilities, and the piece's summary.
    """
    from signalbench.experiment.piecerun import piece_backtest

    return piece_backtest(experiment, longest, folds, piece, deps)


def warm_up() -> None:
    """Compile the engine's kernels once (called by the executor before its workers start, and in each worker)."""
    import warnings

    from signalbench.engine import backtest, oracle_positions

    price = np.linspace(100.0, 101.0, 8)
    with warnings.catch_warnings():  # a sample of 8 rows is short, on purpose
        warnings.simplefilter("ignore")
        position = np.asarray(oracle_positions(price, fee_bps=0.1), dtype=np.float64)
        backtest(price, np.c_[position, np.ones(8)], fee_bps=0.1, periods_per_year=252.0)
