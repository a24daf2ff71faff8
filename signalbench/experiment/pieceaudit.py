"""The leakage audit of a multi-piece run: the checks of :mod:`signalbench.audit` applied per piece.

:func:`audit_pieces` runs at the end of :func:`~signalbench.experiment.multirun.compare_pieces` (in the parent, after
the graph) and again from a finished run folder (``signalbench audit RUN``). It judges the run against its record,
``fits.json`` (:mod:`signalbench.experiment.piecefits`), and the fitted models and piece features of its task store:

- ``split_hygiene``: per piece and fold, the recorded parts are disjoint and purged (the label windows of a part end
  before the later parts' rows) and are the parts the config's fold specification makes; each fit's blocks hold only
  its fold's training (validation) rows of each piece and none of the piece's tested rows (with a day split: no
  tested symbol-day in a training frame); each prediction kept its piece's tested span; each fitted stationary band
  was fit on training rows only and is the band those rows give; each model's input scaler is the one its own rule
  gives on the frame it was given (:func:`signalbench.audit.pieces.check_piece_scalers`).
- ``causality`` and ``features_vs_future``: on a sample of :data:`SAMPLE` tested pieces (evenly spread over the
  tested pieces), the checks of a single run on that piece's raw rows and every fit that predicted it.
- ``too_good``: the single run's rule on each symbol's and each day's figures (a column beating the cost-aware oracle
  summed over the same pieces, a macro-F1 out of reach).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from signalbench._runfolder import rows_of
from signalbench._validation import EmptyResultWarning
from signalbench.audit import (
    CHECKS,
    N_CUTS,
    AuditReport,
    Finding,
    check_causality,
    check_features,
    check_too_good,
)
from signalbench.audit.pieces import check_piece_fits, check_piece_scalers, check_piece_split, piece_name
from signalbench.experiment.fitting import predictor
from signalbench.experiment.piecefits import fold_parts_of

__all__ = ["SAMPLE", "audit_pieces"]

#: Tested pieces on which the causality and features-vs-future checks run.
SAMPLE = 2


def fitted(fits: dict[str, Any], store: Any) -> dict[tuple[str, int, str], dict[str, Any]]:
    """The stored result (the fitted model and what travels with it) of every recorded fit still in the task store."""
    out = {}
    for column, records in fits.get("models", {}).items():
        for rec in records:
            if store.has(rec["task"]):
                out[(column, int(rec["fold"]), rec["group"])] = store.load(rec["task"])
    return out


def fit_features(fit: dict[str, Any], piece: dict[str, Any]) -> pd.DataFrame:
    """The feature rows a fit's model reads from a piece: the piece's own, or normalised per symbol as the fit was.

    ``piece`` holds ``features`` (and ``symbol``); a pooled fit that normalises its features per symbol stores its
    scaler with the model (``normaliser``), and its inputs are the piece's features through that scaler.
    """
    if fit.get("normaliser") is None:
        return piece["features"]
    from signalbench.experiment.poolnorm import predict_features  # the per-symbol normalisation of pooled fits

    return predict_features(fit, piece)


def _renamed(findings: list[Finding], name: str, where: dict[str, Any]) -> list[Finding]:
    return [Finding(f.check, f"{f.subject} ({name})", f.message, {**f.figures, **where}) for f in findings]


def _sample(fits: dict[str, Any]) -> list[int]:
    tested = sorted({int(p["piece"]) for recs in fits["models"].values() for r in recs for p in r["predict"]})
    if len(tested) <= SAMPLE:
        return tested
    return [tested[int(round(j * (len(tested) - 1) / (SAMPLE - 1)))] for j in range(SAMPLE)]


def _look_ahead(exp, pieces, fits, done, i: int) -> tuple[list[Finding], list[Finding]]:
    """Causality and features-vs-future on piece ``i``: its raw rows and every fit that predicted it."""
    from signalbench.data import compute_features
    from signalbench.data.labels import forward_log_return
    from signalbench.data.pieces import load_piece

    data = load_piece(pieces[i], exp.features, spread=False)
    predictors = {}
    for column, records in fits["models"].items():
        for rec in records:
            fit = done.get((column, int(rec["fold"]), rec["group"]))
            for p in rec["predict"]:
                if int(p["piece"]) == i and fit is not None:
                    predictors[f"{column} (fold {rec['fold']})"] = (_predictor(fit, pieces[i].symbol), *p["scored"])
    spans = [s for _, s0, s1 in predictors.values() for s in (s0, s1)]
    start, stop = (min(spans), max(spans)) if spans else (0, len(data.frame))
    cuts = [int(start + (stop - start) * (k + 1) / (N_CUTS + 1)) for k in range(N_CUTS)]
    where, name = {"symbol": pieces[i].symbol, "day": pieces[i].day}, piece_name(fits, i)
    with warnings.catch_warnings():  # the rows near a cut inside a day's warm-up are predicted NaN, as in the run
        warnings.simplefilter("ignore", EmptyResultWarning)
        causal = check_causality(data.frame, lambda f: compute_features(f, exp.features), predictors, cuts, exp.seed)
    price = data.price.to_numpy(dtype=np.float64)
    future = check_features(data.features, {"next return": forward_log_return(price, 1)}, np.arange(len(price)))
    return _renamed(causal, name, where), _renamed(future, name, where)


def _predictor(fit: dict[str, Any], symbol: str) -> Any:
    """A fit's predictions from a piece's raw features, through the fit's own normalisation (as the run predicted)."""
    base = predictor(fit["model"])
    return lambda f, start, stop: base(fit_features(fit, {"features": f, "symbol": symbol}), start, stop)


def _too_good(metrics: dict[str, Any]) -> list[Finding]:
    """The single run's rule on each symbol's and each day's block of ``metrics.json``."""
    found = []
    info, benchmarks = metrics.get("columns", {}), metrics.get("benchmarks", [])
    for block in ("per_symbol", "per_day"):
        for where, rows in metrics.get(block, {}).items():
            oracle = (rows.get("oracle") or {}).get("net_return")
            view = {
                "benchmarks": benchmarks,
                "columns": {
                    c: {"total_return_additive": r.get("net_return"), "oracle_return_additive": oracle}
                    for c, r in rows.items()
                },
                "models": {
                    info[c]["model"]: {"macro_f1": r.get("macro_f1")}
                    for c, r in rows.items()
                    if info.get(c, {}).get("model") and r.get("macro_f1") is not None
                },
            }
            key = "symbol" if block == "per_symbol" else "day"
            found += _renamed(check_too_good(view), where, {key: where})
    return found


def _recorded_split(exp, pieces, fits, loaded, longest: int) -> list[Finding]:
    """The parts recorded in ``fits.json`` are those the config's fold specification makes on these pieces."""
    made = fold_parts_of(exp, pieces, loaded, longest)
    found = []
    recorded = {int(f["fold"]): f["parts"] for f in fits.get("folds", [])}
    if int(fits.get("longest", longest)) != longest or sorted(recorded) != list(range(1, len(made) + 1)):
        return [
            Finding(
                "split_hygiene",
                "split",
                "fits.json records other folds than the config makes. Next: compare "
                "its folds with `signalbench validate CONFIG`",
                {"recorded": sorted(recorded)},
            )
        ]
    for k, parts in enumerate(made, start=1):
        if recorded[k] != parts:
            odd = next((p for p in recorded[k] if p not in parts), None) or next(
                p for p in parts if p not in recorded[k]
            )
            name = piece_name(fits, int(odd["piece"]))
            found.append(
                Finding(
                    "split_hygiene",
                    f"{name} (fold {k})",
                    f"fits.json records other parts of fold {k} than the config's fold specification makes (first "
                    f"difference: {name}, role {odd['role']}). Next: compare folds[{k - 1}].parts with "
                    "`signalbench validate CONFIG`; a fold specification changed in code shows here",
                    {"fold": k, "symbol": pieces[int(odd["piece"])].symbol, "day": pieces[int(odd["piece"])].day},
                )
            )
    return found


def _bands(exp, fits, loaded) -> list[Finding]:
    """Each fitted stationary band equals the one refit on the rows recorded for it."""
    from signalbench.data.labels import fit_stationary_threshold
    from signalbench.experiment.tasks import _changes as label_changes

    labels = exp.labels.model_dump()
    found = []
    for fold in fits.get("folds", []):
        for band in fold.get("thresholds", []):
            if any(int(b["piece"]) not in loaded for b in band["rows"]):
                continue
            rows = [(int(b["piece"]), rows_of(b["rows"])) for b in band["rows"]]
            prices = {i: loaded[i]["price"].to_numpy(dtype=np.float64) for i, _ in rows}
            change = np.concatenate([label_changes(labels, prices[i])[r] for i, r in rows]) if rows else np.zeros(0)
            refit = fit_stationary_threshold(change, np.arange(change.size), quantile=labels["stationary_quantile"])
            if not np.isclose(band["value"], refit, rtol=1e-9, atol=0.0):
                k = int(fold["fold"])
                found.append(
                    Finding(
                        "split_hygiene",
                        f"labels (fold {k}, group {band['group']})",
                        f"the stationary band {band['value']:.6g} of fold {k} is not the one fit on the training rows "
                        f"recorded for it ({float(refit):.6g}; fits.json, folds[{k - 1}].thresholds): it was fit on "
                        "other rows. Next: check threshold_task in experiment/tasks.py; to confirm, "
                        "signalbench.data.fit_stationary_threshold on those rows",
                        {"fold": k, "group": band["group"], "recorded": band["value"], "refit": float(refit)},
                    )
                )
    return found


def audit_pieces(
    exp: Any, pieces: list[Any], fits: dict[str, Any], store: Any, metrics: dict[str, Any], loaded: dict, longest: int
) -> AuditReport:
    """Every check of a multi-piece run (module docstring) against its ``fits.json`` and its task ``store``.

    ``loaded`` holds the stored result of every piece that loaded (features, price, n); ``longest`` is the longest
    window of the run's models (the fold specification's purge inside a piece).
    """
    done = fitted(fits, store)
    models = {key: fit["model"] for key, fit in done.items()}

    def features(key: tuple[str, int, str], i: int) -> pd.DataFrame | None:
        return fit_features(done[key], loaded[i]) if key in done and i in loaded else None

    results: dict[str, list[Finding]] = {c: [] for c in CHECKS}
    sample = _sample(fits)
    for i in sample:
        causal, future = _look_ahead(exp, pieces, fits, done, i)
        results["causality"] += causal
        results["features_vs_future"] += future
    hygiene = check_piece_split(fits) + _recorded_split(exp, pieces, fits, loaded, longest) + check_piece_fits(fits)
    results["split_hygiene"] = hygiene + _bands(exp, fits, loaded) + check_piece_scalers(models, features, fits)
    results["too_good"] = _too_good(metrics)
    outcome = {c: "passed" if not results[c] else f"{len(results[c])} finding(s)" for c in CHECKS}
    tested = {int(p["piece"]) for recs in fits["models"].values() for r in recs for p in r["predict"]}
    for c in ("causality", "features_vs_future"):
        outcome[c] += (
            f" (on {len(sample)} of {len(tested)} tested pieces: {', '.join(piece_name(fits, i) for i in sample)})"
        )
    unchecked = sum(len(recs) for recs in fits["models"].values()) - len(models)
    if unchecked:  # e.g. a folder audited without the task store it was run with (signalbench audit --cache)
        outcome["split_hygiene"] += f" ({unchecked} fit(s) not in the task store: their scalers were not checked)"
        outcome["causality"] += f" ({unchecked} fit(s) not in the task store: their predictions were not checked)"
    return AuditReport(outcome, [f for c in CHECKS for f in results[c]])
