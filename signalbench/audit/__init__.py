"""The leakage audit's checks: run on every experiment, and again by ``signalbench audit RUN_DIR`` on its run folder.

This module holds the pure checks and imports nothing from the experiment; the run-level audit that applies them to a
run (:func:`signalbench.experiment.audit_run.audit_experiment`, :func:`~signalbench.experiment.audit_run.audit_run`)
lives with the experiment. :mod:`signalbench.audit.pieces` holds the split-hygiene and scaler checks of a multi-piece
run, judged per piece against its ``fits.json`` (applied by :mod:`signalbench.experiment.pieceaudit`).

Most "model beats the market" results are leaks. Each check below runs on the run's own data, features and fitted
models (``docs/architecture.md``) and names what it found, with its figures; a clean run lists the checks that ran.

``causality``
    At :data:`N_CUTS` cut points ``t`` inside the tested rows, every raw input row after ``t`` is scrambled (its
    values permuted among the rows after ``t``; the time index stays), the features are recomputed and every fitted
    model predicts again; features and probabilities up to ``t`` must not change (exactly for features, within
    :data:`PREDICTION_TOL` for probabilities). Catches a feature or a model that looks ahead.
``features_vs_future``
    The Spearman rank correlation of each feature at ``t`` with the forward return (and with the label) at ``t``
    against the same quantity one step earlier. A feature is named when ``|rho|`` with the future is at least
    :data:`FUTURE_RHO` and :data:`FUTURE_TO_PAST` times ``|rho|`` with the past (no causal market feature predicts
    the next move that well), or when it is a near copy (``|rho| >=`` :data:`NEAR_COPY`) of the forward return or
    the label.
``split_hygiene``
    Judged against ``fits.json``, the record of the rows the pipeline actually gave each fit
    (:mod:`signalbench.experiment.fits`), never a reconstruction: in every fold no row is in two parts, the label
    window (``horizon`` rows) of every training row ends before the first validation or tested row and that of every
    validation row before the first tested row; each model was trained (validated) on its fold's training
    (validation) rows only and predicted the fold's tested span; each fitted model's input scaler is the one its own
    rule gives on the rows it was given (the model is asked: ``SignalModel.scaler_statistics``); a stationary
    threshold given as a quantile equals the one fit on the fold's recorded training rows; the split recorded in
    ``metrics.json`` and ``fits.json`` is the one the config makes.
``too_good``
    A model's macro-F1 above :data:`MACRO_F1_LEAK` (order-book direction at these horizons: published deep models on
    LOBSTER reach :data:`MACRO_F1_BAND`; above 0.80 is almost surely a leak), accuracy of at least
    :data:`ACCURACY_NEAR_ONE` with fewer than half the errors of always predicting the most frequent class (so a
    label that is almost always "stationary" is not an alarm), a column whose net return exceeds the cost-aware
    oracle's (a bug by construction), or, on a synthetic run, a direction accuracy above the planted edge's Bayes
    accuracy by more than :data:`BAYES_Z` standard errors ``sqrt(a (1 - a) / moves)``.

Each finding is an :class:`AuditWarning` and an entry of ``audit.json`` in the run folder (written atomically), and
says what to do next (the rows, the file, how to confirm). False alarms, measured: ``tests/test_audit_corpus.py``
runs 32 clean experiments (synthetic ticks, a LOBSTER day, 1-minute bars on a 24/7 calendar and in weekday sessions;
holdout and walk-forward; window and stateful LSTMs, LightGBM and every baseline; 8 seeds): no finding. An earlier
version rebuilt each model's training span from the first labelled training row and flagged every fold of a clean
walk-forward LSTM on 24/7 bars whose first calendar day was shorter than the features' warm-up plus the window
(issue 16): the finite rows of that day feed no training window, so the model's scaler rightly leaves them out. The
thresholds above are deliberately far from the figures of clean runs (e.g. the demo's planted queue-imbalance edge
has a rank correlation of about 0.25 with the next move, against the :data:`FUTURE_RHO` of 0.5).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signalbench._runfolder import fold_rows, model_folder, rows_of, write_audit

__all__ = [
    "AuditReport",
    "AuditWarning",
    "Finding",
    "check_causality",
    "check_features",
    "check_fits",
    "check_scalers",
    "check_split",
    "check_too_good",
]

_MOVED = ("audit_experiment", "audit_run")


def __getattr__(name: str) -> Any:
    """Say where the run-level audit went (it is not re-exported here: that would make an import cycle)."""
    if name in _MOVED:
        raise AttributeError(
            f"signalbench.audit.{name}: the run-level audit lives with the experiment now; import it with "
            f"`from signalbench.experiment.audit_run import {name}`"
        )
    raise AttributeError(f"module 'signalbench.audit' has no attribute {name!r}")


CHECKS = ("causality", "features_vs_future", "split_hygiene", "too_good")
#: Cut points of the causality check.
N_CUTS = 3
#: Rows predicted on each side of a cut by the causality check.
CUT_WINDOW = 16
#: Largest change of a probability up to the cut that still counts as "identical" (float noise of a recomputation).
PREDICTION_TOL = 1e-9
#: Rank correlation with the next-step quantity from which a feature can be a leak ...
FUTURE_RHO = 0.5
#: ... when it is also this many times its rank correlation with the same quantity one step earlier.
FUTURE_TO_PAST = 3.0
#: A feature whose |rank correlation| with the forward return or the label reaches this is a near copy of it.
NEAR_COPY = 0.9
#: Published macro-F1 of deep models on LOBSTER order-book direction at short horizons.
MACRO_F1_BAND = (0.48, 0.64)
#: A macro-F1 above this is almost surely a leak.
MACRO_F1_LEAK = 0.80
#: An accuracy at least this high, with under half the errors of the majority class, is a leak.
ACCURACY_NEAR_ONE = 0.98
#: Standard errors by which a model may exceed the Bayes accuracy of a synthetic run before it is named.
BAYES_Z = 3.0


class AuditWarning(UserWarning):
    """A finding of the leakage audit (the message names the check, the column or model, and the figures)."""


@dataclass
class Finding:
    """One thing the audit found: the check, what it is about (a feature, model, fold or column), and figures."""

    check: str
    subject: str
    message: str
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class AuditReport:
    """The checks that ran (``"passed"``, ``"N finding(s)"`` or ``"skipped: why"``) and the findings."""

    checks: dict[str, str]
    findings: list[Finding]

    @property
    def clean(self) -> bool:
        """Whether nothing was found."""
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        """The content of ``audit.json``."""
        return {"clean": self.clean, "checks": self.checks, "findings": [asdict(f) for f in self.findings]}

    def warn(self, stacklevel: int = 2) -> None:
        """Issue one :class:`AuditWarning` per finding."""
        for f in self.findings:
            warnings.warn(f"audit [{f.check}] {f.subject}: {f.message}", AuditWarning, stacklevel=stacklevel + 1)

    def write(self, folder: str | Path) -> Path:
        """Write ``audit.json`` into ``folder`` atomically; returns its path."""
        return write_audit(folder, self.to_dict())


# ------------------------------------------------------------------------------------------------------ causality


def scramble_after(frame: pd.DataFrame, t: int, seed: int) -> pd.DataFrame:
    """A copy of ``frame`` whose rows after ``t`` hold the values of those rows in a random order (index kept).

    A column named ``day`` (the session a row belongs to) keeps its order, so days stay contiguous.
    """
    rng = np.random.default_rng(seed)
    order = np.r_[np.arange(t + 1), t + 1 + rng.permutation(len(frame) - t - 1)]
    out = frame.copy()
    for c in frame.columns:  # column by column: each keeps its dtype
        if c != "day":
            out[c] = frame[c].to_numpy()[order]
    return out


#: A predictor for the causality check: (features, start, stop) -> probabilities of rows start .. stop - 1.
Predictor = Callable[[pd.DataFrame, int, int], np.ndarray]


def check_causality(
    frame: pd.DataFrame,
    make_features: Callable[[pd.DataFrame], pd.DataFrame],
    predictors: dict[str, tuple[Predictor, int, int]],
    cuts: list[int],
    seed: int = 0,
) -> list[Finding]:
    """Scramble the raw rows after each cut, recompute; features and predictions up to the cut must not change.

    ``predictors`` maps a model name to ``(predict, start, stop)``: the rows ``[start, stop)`` it predicts.
    """
    base = make_features(frame)
    found: list[Finding] = []
    for k, t in enumerate(cuts):
        feats = make_features(scramble_after(frame, t, seed + k))
        a, b = base.iloc[: t + 1].to_numpy(dtype=float), feats.iloc[: t + 1].to_numpy(dtype=float)
        changed = ~((a == b) | (np.isnan(a) & np.isnan(b)))
        for j in np.flatnonzero(changed.any(axis=0)):
            row = int(np.flatnonzero(changed[:, j])[0])
            found.append(_lookahead(str(base.columns[j]), "feature", t, row, float(np.nanmax(np.abs(a - b)[:, j]))))
        for name, (predict, start, stop) in predictors.items():
            lo, hi = max(start, t - CUT_WINDOW), min(stop, t + CUT_WINDOW + 1)
            if not lo <= t < hi:
                continue
            p0, p1 = predict(base, lo, hi)[: t + 1 - lo], predict(feats, lo, hi)[: t + 1 - lo]
            diff = np.where(np.isnan(p0) & np.isnan(p1), 0.0, np.abs(p0 - p1))
            bad = np.flatnonzero((diff > PREDICTION_TOL).any(axis=1) | (np.isnan(p0) != np.isnan(p1)).any(axis=1))
            if bad.size:
                found.append(_lookahead(name, "model", t, lo + int(bad[0]), float(np.nanmax(diff))))
    return found


#: What to do next about a causality finding, per kind of subject.
_LOOKAHEAD_NEXT = {
    "feature": "Next: look for a negative shift, a centred window or a backward fill in how it is computed; to "
    "confirm, compute the features of the raw rows up to {cut} alone (signalbench.data.compute_features) and compare "
    "row {row}",
    "model": "Next: look for a window that reaches past its row, a pass over the whole input, or a backward fill in "
    "its predict_proba; to confirm, predict from the feature rows up to {cut} alone and compare row {row} with "
    "predictions.parquet",
}


def _lookahead(subject: str, what: str, cut: int, row: int, change: float) -> Finding:
    return Finding(
        "causality",
        subject,
        f"{what} output at row {row} changed (by up to {change:.3g}) when the raw rows after row {cut} were "
        f"scrambled: it reads rows after {'its own row' if what == 'feature' else 'the row it predicts'}. "
        + _LOOKAHEAD_NEXT[what].format(cut=cut, row=row),
        {"cut": cut, "first_changed_row": row, "max_change": change},
    )


# ---------------------------------------------------------------------------------------- features vs the future


def _rank_corr(features: pd.DataFrame, target: np.ndarray, rows: np.ndarray) -> pd.Series:
    """Spearman correlation of every feature with ``target`` on ``rows`` where both are finite."""
    x = features.iloc[rows]
    y = pd.Series(target[rows], index=x.index)
    ok = np.isfinite(y.to_numpy()) & np.isfinite(x.to_numpy(dtype=float)).all(axis=1)
    if ok.sum() < 3:
        return pd.Series(np.nan, index=features.columns)
    return x[ok].corrwith(y[ok], method="spearman").fillna(0.0)


def check_features(features: pd.DataFrame, targets: dict[str, np.ndarray], rows: np.ndarray) -> list[Finding]:
    """Name features far more related to a next-step quantity (``targets``: name -> (n,) array) than to its past.

    For each target ``y`` (the forward return, the label), the rank correlation of feature ``f[t]`` with ``y[t]``
    is compared with that with ``y[t - 1]``, on ``rows`` (positions with ``t >= 1``).
    """
    rows = rows[rows >= 1]
    found: list[Finding] = []
    for name, y in targets.items():
        y = np.asarray(y, dtype=float)
        past = np.r_[np.nan, y[:-1]]
        future_rho, past_rho = _rank_corr(features, y, rows), _rank_corr(features, past, rows)
        for col in features.columns:
            f, p = abs(float(future_rho[col])), abs(float(past_rho[col]))
            copy = f >= NEAR_COPY
            if copy or (f >= FUTURE_RHO and f >= FUTURE_TO_PAST * p):
                what = "is a near copy of" if copy else "is far more related to"
                found.append(
                    Finding(
                        "features_vs_future",
                        str(col),
                        f"{what} the {name} at t (|rank corr| {f:.3f}) than to the {name} one step earlier "
                        f"({p:.3f}): it is built from the future. Next: look for a negative shift or the label "
                        f"among its inputs; to confirm, signalbench.audit.check_features on this feature alone",
                        {"target": name, "rank_corr_future": f, "rank_corr_past": p},
                    )
                )
    return found


# ------------------------------------------------------------------------------------------------- split hygiene


def check_split(folds: list[Any], horizon: int) -> list[Finding]:
    """No row in two parts; label windows of training (validation) rows end before the first val/test (test) row.

    ``folds`` have ``train``, ``val`` and ``test`` arrays of row positions (:class:`signalbench.experiment.folds.Fold`);
    the label of row ``t`` reads rows up to ``t + horizon``.
    """
    found: list[Finding] = []
    for k, fold in enumerate(folds):
        parts = {"train": np.asarray(fold.train), "val": np.asarray(fold.val), "test": np.asarray(fold.test)}
        for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
            both = np.intersect1d(parts[a], parts[b])
            if both.size:
                found.append(
                    Finding(
                        "split_hygiene",
                        f"fold {k + 1}",
                        f"{both.size} row(s) are in both {a} and {b} (first: row {int(both[0])}). Next: compare "
                        f"the parts with `signalbench validate CONFIG` and fits.json's folds",
                        {"parts": [a, b], "rows": int(both.size), "first_row": int(both[0])},
                    )
                )
        for part, later in (("train", ("val", "test")), ("val", ("test",))):
            nxt = [parts[p] for p in later if parts[p].size]
            if not parts[part].size or not nxt:
                continue
            first = int(min(int(x.min()) for x in nxt))
            reach = int(parts[part].max()) + horizon
            if reach >= first:
                found.append(
                    Finding(
                        "split_hygiene",
                        f"fold {k + 1}",
                        f"the label window of the last {part} row (row {int(parts[part].max())}, horizon {horizon}) "
                        f"reaches row {reach}, at or after the first {'/'.join(later)} row {first}: the purge is "
                        "missing or too short. Next: the gap must be horizon + longest seq_len rows; compare the "
                        "parts with `signalbench validate CONFIG` and fits.json's folds",
                        {"part": part, "label_reach": reach, "first_later_row": first, "horizon": horizon},
                    )
                )
    return found


def check_scalers(models: dict[str, list[Any]], features: pd.DataFrame, fits: dict[str, list[dict]]) -> list[Finding]:
    """Each fitted model's input scaler must be the one its contract gives on the rows it was given to fit.

    ``fits`` maps a model name to its records per fold (``fits.json``'s ``models``,
    :mod:`signalbench.experiment.fits`): the block of feature rows passed to ``fit`` and its labelled rows. The model
    is asked which scaler those rows give (``SignalModel.scaler_statistics``); nothing is rebuilt here. Models that
    do not scale their inputs are skipped.
    """
    found: list[Finding] = []
    for name, fitted in models.items():
        records = fits.get(name, [])
        for k, model in enumerate(fitted):
            mean = model.scaler_mean_  # the contract: None for a model that does not scale its inputs
            if mean is None:
                continue
            if k >= len(records):
                found.append(_unrecorded(name, k, len(fitted)))
                continue
            train = records[k]["train"]
            lo, hi = train["rows"]
            expected_mean = scaler_mismatch(model, features.iloc[lo:hi], rows_of(train["labelled"]) - lo)
            if expected_mean is not None:
                found.append(_scaler_finding(name, k, len(fitted), np.asarray(mean), expected_mean, features, train))
    return found


def scaler_mismatch(model: Any, X: pd.DataFrame, labelled: np.ndarray) -> np.ndarray | None:
    """The scaler mean ``model``'s own rule gives on the block ``X`` it was given to fit, when it is not the model's.

    ``labelled`` are the positions in ``X`` given a finite label. None when the two agree or the model does not scale
    its inputs.
    """
    if model.scaler_mean_ is None:
        return None
    expected_stats = model.scaler_statistics(X, labelled)
    if expected_stats is None or np.allclose(model.scaler_mean_, expected_stats[0], rtol=1e-6, atol=1e-9):
        return None
    return np.asarray(expected_stats[0])


def worst_feature(mean: np.ndarray, expected_mean: np.ndarray) -> tuple[int, float]:
    """The feature whose scaler mean is relatively farthest from the expected one, and that relative difference."""
    off = np.abs(np.asarray(mean) - expected_mean) / (np.abs(expected_mean) + 1e-12)
    worst = int(np.argmax(off))
    return worst, float(off[worst])


def _unrecorded(name: str, k: int, n_folds: int) -> Finding:
    return Finding(
        "split_hygiene",
        f"{name} (fold {k + 1})",
        "fits.json holds no record of the rows this fit was given, so its scaler cannot be checked. Next: re-run the "
        "experiment with this version (it writes fits.json) and audit again (signalbench audit RUN_DIR)",
        {"model_folder": f"models/{model_folder(name, k, n_folds)}"},
    )


def _scaler_finding(name, k, n_folds, mean, expected_mean, features, train) -> Finding:
    """The finding of a scaler that differs from its fit rows', with the rows, the file and how to confirm."""
    worst, off = worst_feature(mean, expected_mean)
    lo, hi = train["rows"]
    spans = train["labelled"]
    first, last = (spans[0][0], spans[-1][1] - 1) if spans else (lo, hi - 1)
    folder = f"models/{model_folder(name, k, n_folds)}"
    return Finding(
        "split_hygiene",
        f"{name} (fold {k + 1})",
        f"its input scaler's mean differs from the one its own rule gives on the rows it was given to fit (largest "
        f"relative difference {off:.3g}, feature {features.columns[worst]!s}): it was fit on other rows "
        f"(all rows, validation or tested rows, or features scaled before the split). fits.json says fit got feature "
        f"rows {lo}..{hi - 1} with training labels on rows {first}..{last}. Next: find where the scaler or the "
        f"features saw other rows; to confirm, compare scaler_mean_ of signalbench.load_model('{folder}') with "
        f"model.scaler_statistics(features.iloc[{lo}:{hi}], labelled rows - {lo})[0]",
        {
            "max_relative_difference": off,
            "feature": str(features.columns[worst]),
            "fit_rows": [lo, hi],
            "labelled_rows": [first, last],
            "model_folder": folder,
        },
    )


def check_fits(fits: dict[str, Any], horizon: int) -> list[Finding]:
    """The recorded split is purged and disjoint, and each model was given its fold's rows and no others.

    ``fits`` is the content of ``fits.json``: every model's labelled training (validation) rows must be training
    (validation) rows of its fold, and the rows it predicted the fold's tested span.
    """
    folds = [fold_rows(r) for r in fits.get("folds", [])]
    found = check_split(folds, horizon)
    for name, records in fits.get("models", {}).items():
        for rec in records:
            k = int(rec["fold"])
            if not 1 <= k <= len(folds):
                found.append(Finding("split_hygiene", f"{name} (fold {k})", "fits.json records a fit of a fold the "
                                     "split does not have. Next: re-run the experiment", {"fold": k}))  # fmt: skip
                continue
            fold = folds[k - 1]
            for part, allowed in (("train", fold.train), ("val", fold.val)):
                given = rows_of((rec.get(part) or {}).get("labelled", []))
                stray = np.setdiff1d(given, allowed)
                if stray.size:
                    found.append(_stray(name, k, part, stray, given.size))
            if rec["predict"]["scored"] != [fold.start, fold.stop]:
                found.append(
                    Finding(
                        "split_hygiene",
                        f"{name} (fold {k})",
                        f"its predictions kept rows {rec['predict']['scored']} (fits.json), not the fold's tested "
                        f"span [{fold.start}, {fold.stop}). Next: check how the runner stitches the folds' predictions",
                        {"scored": rec["predict"]["scored"], "span": [fold.start, fold.stop]},
                    )
                )
    return found


def _stray(name: str, k: int, part: str, stray: np.ndarray, given: int) -> Finding:
    label = "trained" if part == "train" else "validated"
    return Finding(
        "split_hygiene",
        f"{name} (fold {k})",
        f"it was {label} on {stray.size} of {given} labelled row(s) that are not {part} rows of fold {k} (first: row "
        f"{int(stray[0])}; fits.json, models.{name}[{k - 1}].{part}.labelled against folds[{k - 1}].{part}). Next: "
        f"find where the runner builds this part's labels; to confirm, intersect the two lists of ranges",
        {"part": part, "rows": int(stray.size), "first_row": int(stray[0])},
    )


# --------------------------------------------------------------------------------------------- too good to be true


#: What to do next about a result too good to be true.
_TOO_GOOD_NEXT = (
    "Next: read this run's causality and features_vs_future findings, and look for a label or forward return among "
    "the features; to confirm, re-run without the suspect features (a leak's score falls back to the usual band)"
)


def check_too_good(metrics: dict[str, Any]) -> list[Finding]:
    """Macro-F1 or accuracy out of reach, a column beating the cost-aware oracle, a model beating the Bayes rule.

    ``metrics`` is the content of a run folder's ``metrics.json``.
    """
    found: list[Finding] = []
    for name, m in metrics.get("models", {}).items():
        f1, acc = m.get("macro_f1"), m.get("accuracy")
        if f1 is not None and f1 > MACRO_F1_LEAK:
            found.append(
                Finding(
                    "too_good",
                    name,
                    f"macro-F1 {f1:.3f} is above {MACRO_F1_LEAK}: published deep models on order-book direction "
                    f"reach {MACRO_F1_BAND[0]}-{MACRO_F1_BAND[1]}; this is almost surely a leak. " + _TOO_GOOD_NEXT,
                    {"macro_f1": f1, "band": list(MACRO_F1_BAND)},
                )
            )
        majority = _majority_share(m.get("confusion"))
        if acc is not None and acc >= ACCURACY_NEAR_ONE and 1 - acc < 0.5 * (1 - majority):
            found.append(
                Finding(
                    "too_good",
                    name,
                    f"accuracy {acc:.4f} is near 1, with under half the errors of always predicting the most "
                    f"frequent class ({majority:.4f}). " + _TOO_GOOD_NEXT,
                    {"accuracy": acc, "majority_share": majority},
                )
            )
        found += _beats_bayes(name, m, metrics.get("bayes_accuracy"))
    benchmarks = set(metrics.get("benchmarks", []))
    for col, row in metrics.get("columns", {}).items():
        net, oracle = row.get("total_return_additive"), row.get("oracle_return_additive")
        if col in benchmarks or net is None or oracle is None:
            continue
        if net > oracle + 1e-9 * max(1.0, abs(oracle)):
            found.append(
                Finding(
                    "too_good",
                    col,
                    f"net return {net:.6g} exceeds the cost-aware oracle's {oracle:.6g}, the best any position path "
                    "can earn under the same costs: a bug by construction (a look-ahead in the positions or prices). "
                    "Next: compare the column's positions.parquet with the oracle's on the rows it earned more",
                    {"total_return_additive": net, "oracle_return_additive": oracle},
                )
            )
    return found


def _majority_share(confusion: Any) -> float:
    """The share of the most frequent true class in a confusion matrix (rows: true classes); 0 without one."""
    cm = np.asarray(confusion if confusion else [[0.0]], dtype=float)
    total = cm.sum()
    return float(cm.sum(axis=1).max() / total) if total > 0 else 0.0


def _beats_bayes(name: str, m: dict[str, Any], bayes: float | None) -> list[Finding]:
    """A direction accuracy above the synthetic run's Bayes accuracy by more than BAYES_Z standard errors."""
    acc, confusion = m.get("direction_accuracy"), m.get("confusion")
    if bayes is None or acc is None or not confusion:
        return []
    cm = np.asarray(confusion, dtype=float)
    moves = float(cm[0].sum() + cm[-1].sum())
    if moves < 1:
        return []
    se = float(np.sqrt(bayes * (1 - bayes) / moves))
    if acc <= bayes + BAYES_Z * se:
        return []
    return [
        Finding(
            "too_good",
            name,
            f"direction accuracy {acc:.4f} beats the Bayes accuracy {bayes:.4f} of the planted edge by "
            f"{(acc - bayes) / se:.1f} standard errors ({se:.4f} on {int(moves)} moves): no model can, without "
            "looking ahead. " + _TOO_GOOD_NEXT,
            {"direction_accuracy": acc, "bayes_accuracy": bayes, "standard_error": se, "moves": int(moves)},
        )
    ]
