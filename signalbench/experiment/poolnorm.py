"""The per-symbol normalisation of a pooled fit (``[split] pool = "all"``) in the task graph.

:func:`normalise_pooled` fits a :class:`~signalbench.signals.symbol_scaling.SymbolScaler` on the training rows of
the fit's pieces (each piece's ``fold.train`` rows, grouped by symbol: no validation or tested row), and gives the fit
every piece's features z-scored with its symbol's statistics; the scaler travels with the fit's result as JSON
(``"normaliser"``), and :func:`predict_features` applies it to a tested piece. A fit that is not pooled, or a model
that does not take the stage (:attr:`SignalModel.per_symbol_normalisation`), is left as it was (``None``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from signalbench.experiment.piecefolds import piece_fold
from signalbench.signals.symbol_scaling import SymbolScaler

__all__ = ["normalise_pooled", "predict_features"]


def normalise_pooled(
    model: Any, labels: dict, split: dict, longest: int, members: list[dict], deps: dict[str, Any]
) -> tuple[dict[str, Any], dict | None]:
    """``deps`` with each ``piece_<i>``'s features normalised per symbol, and the scaler's JSON (``None``: not used)."""
    if split.get("pool") != "all" or not model.per_symbol_normalisation:
        return deps, None
    parts = []
    for i, member in enumerate(members):
        p = deps[f"piece_{i}"]
        rows = piece_fold(labels, split, member, p["n"], longest).train
        if rows.size:
            parts.append((p["symbol"], p["features"].iloc[rows]))
    scaler = SymbolScaler().fit(parts)
    out = dict(deps)
    for i in range(len(members)):
        p = deps[f"piece_{i}"]
        out[f"piece_{i}"] = {**p, "features": scaler.transform(p["features"], p["symbol"])}
    return out, scaler.to_dict()


def predict_features(fit: dict[str, Any], piece: dict[str, Any]) -> pd.DataFrame:
    """The features a fitted model predicts ``piece`` from: normalised with the fit's scaler when it has one."""
    normaliser = fit.get("normaliser")
    if normaliser is None:
        return piece["features"]
    return SymbolScaler.from_dict(normaliser).transform(piece["features"], piece["symbol"])
