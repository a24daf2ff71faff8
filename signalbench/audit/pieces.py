"""The split-hygiene checks of a multi-piece run, judged per piece against its record (``fits.json``, kind "pieces").

The record (:mod:`signalbench.experiment.piecefits`) gives each fold's parts per piece, and each fit's blocks per piece
(rows, context, labelled rows), its predictions and the rows of each fitted stationary band. Every finding names the
piece (symbol and day), the model and the fold. Rows are a piece's own row positions; no check compares rows of two
pieces (features, labels and windows never cross a piece).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from signalbench._runfolder import RecordedFold, rows_of
from signalbench.audit import Finding, check_split, scaler_mismatch, worst_feature

__all__ = ["check_piece_fits", "check_piece_scalers", "check_piece_split", "piece_name"]

_PARTS = ("train", "val", "test")


def piece_name(fits: dict[str, Any], i: int) -> str:
    """``"SYMBOL DAY"`` of piece ``i`` of the record (``piece #i`` when the record has no such piece)."""
    pieces = fits.get("pieces", [])
    return f"{pieces[i]['symbol']} {pieces[i]['day']}" if 0 <= i < len(pieces) else f"piece #{i}"


def _where(fits: dict[str, Any], i: int) -> dict[str, Any]:
    pieces = fits.get("pieces", [])
    return {"symbol": pieces[i]["symbol"], "day": pieces[i]["day"]} if 0 <= i < len(pieces) else {"piece": i}


def fold_parts(fold: dict[str, Any]) -> dict[int, dict[str, np.ndarray]]:
    """Per piece, its training, validation and tested rows in one fold record (a piece listed twice: the union)."""
    out: dict[int, dict[str, list]] = {}
    for part in fold["parts"]:
        mine = out.setdefault(int(part["piece"]), {p: [] for p in _PARTS})
        for p in _PARTS:
            mine[p] += part[p]
    return {i: {p: rows_of(spans[p]) for p in _PARTS} for i, spans in out.items()}


def check_piece_split(fits: dict[str, Any]) -> list[Finding]:
    """In every fold, per piece: no row in two parts, and each part's label windows end before the later parts."""
    found = []
    for fold in fits.get("folds", []):
        k = int(fold["fold"])
        for i, parts in sorted(fold_parts(fold).items()):
            recorded = RecordedFold(parts["train"], parts["val"], parts["test"], 0, 0)
            for f in check_split([recorded], int(fits["horizon"])):
                subject = f"{piece_name(fits, i)} (fold {k})"
                found.append(Finding(f.check, subject, f.message, {**f.figures, **_where(fits, i), "fold": k}))
    return found


def check_piece_fits(fits: dict[str, Any]) -> list[Finding]:
    """Each fit was given its fold's rows of each piece and no tested row; predictions and bands as the folds say.

    A fit's labelled training (validation) rows of a piece must be training (validation) rows of that piece in the
    fit's fold, the block of a piece given to ``fit`` (context included) must hold none of the piece's tested rows in
    that fold (with a day split: no tested symbol-day in a training frame), each prediction must keep the tested span
    of its piece, and each fitted stationary band must be fit on training rows only.
    """
    folds = {int(f["fold"]): f for f in fits.get("folds", [])}
    parts = {k: fold_parts(f) for k, f in folds.items()}
    found: list[Finding] = []
    for column, records in fits.get("models", {}).items():
        for rec in records:
            k = int(rec["fold"])
            subject = f"{column} (fold {k}, group {rec.get('group', '?')})"
            if k not in folds:
                found.append(
                    Finding(
                        "split_hygiene",
                        subject,
                        "fits.json records a fit of a fold the split does not have. Next: re-run the experiment",
                        {"fold": k},
                    )
                )
                continue
            for part in ("train", "val"):
                for block in rec.get(part) or []:
                    found += _block_findings(fits, parts[k], column, k, part, block)
            found += _prediction_findings(fits, folds[k], column, k, rec.get("predict", []))
    for k, fold in folds.items():
        for band in fold.get("thresholds", []):
            for block in band["rows"]:
                i = int(block["piece"])
                stray = np.setdiff1d(rows_of(block["rows"]), parts[k].get(i, {}).get("train", np.zeros(0)))
                if stray.size:
                    found.append(_band_finding(fits, k, band["group"], i, stray))
    return found


def _block_findings(fits, parts, column: str, k: int, part: str, block: dict) -> list[Finding]:
    i = int(block["piece"])
    mine = parts.get(i, {p: np.zeros(0, dtype=np.int64) for p in _PARTS})
    name, where = piece_name(fits, i), _where(fits, i)
    subject = f"{column} (fold {k}, {name})"
    out = []
    given = rows_of(block["labelled"])
    stray = np.setdiff1d(given, mine[part])
    label = "trained" if part == "train" else "validated"
    if stray.size:
        out.append(
            Finding(
                "split_hygiene",
                subject,
                f"it was {label} on {stray.size} of {given.size} labelled row(s) of {name} that are not {part} rows "
                f"of that piece in fold {k} (first: row {int(stray[0])}; fits.json, models.{column}, fold {k}, {part} "
                f"block of piece {i}, against folds[{k - 1}].parts). Next: find where the graph's fit task builds "
                f"this part (experiment/tasks.py _frame); to confirm, intersect the two lists of ranges",
                {**where, "fold": k, "part": part, "rows": int(stray.size), "first_row": int(stray[0])},
            )
        )
    lo, hi = block["rows"]
    tested = mine["test"][(mine["test"] >= lo) & (mine["test"] < hi)]
    if tested.size:
        out.append(
            Finding(
                "split_hygiene",
                subject,
                f"the {part} frame given to fit holds {tested.size} tested row(s) of {name} in fold {k} (rows "
                f"{lo}..{hi - 1} given, first tested row {int(tested[0])}): the model saw the rows it is scored on. "
                f"Next: check the fold specification of the run (experiment/piecefolds.py) and which pieces the fit "
                f"task reads; to confirm, compare fits.json's block with folds[{k - 1}].parts of piece {i}",
                {**where, "fold": k, "part": part, "rows": int(tested.size), "first_row": int(tested[0])},
            )
        )
    return out


def _prediction_findings(fits, fold: dict, column: str, k: int, predictions: list[dict]) -> list[Finding]:
    spans: dict[int, list] = {}
    for part in fold["parts"]:
        if part["test"]:
            spans.setdefault(int(part["piece"]), []).append(list(part["span"]))
    out = []
    for p in predictions:
        i = int(p["piece"])
        if list(p["scored"]) in spans.get(i, []):
            continue
        name = piece_name(fits, i)
        out.append(
            Finding(
                "split_hygiene",
                f"{column} (fold {k}, {name})",
                f"its predictions of {name} kept rows {p['scored']} (fits.json), not the piece's tested span in fold "
                f"{k} ({spans.get(i) or 'none: the piece is not tested in this fold'}). Next: check how the backtest "
                f"task stitches the folds' predictions (experiment/piecerun.py)",
                {**_where(fits, i), "fold": k, "scored": p["scored"], "spans": spans.get(i, [])},
            )
        )
    return out


def _band_finding(fits, k: int, group: str, i: int, stray: np.ndarray) -> Finding:
    name = piece_name(fits, i)
    return Finding(
        "split_hygiene",
        f"labels (fold {k}, group {group}, {name})",
        f"the stationary band of fold {k} was fit on {stray.size} row(s) of {name} that are not training rows of "
        f"that piece in the fold (first: row {int(stray[0])}; fits.json, folds[{k - 1}].thresholds): the labels saw "
        f"validation or tested rows. Next: check threshold_task in experiment/tasks.py; to confirm, refit "
        f"signalbench.data.fit_stationary_threshold on the fold's training rows",
        {**_where(fits, i), "fold": k, "group": group, "rows": int(stray.size), "first_row": int(stray[0])},
    )


def check_piece_scalers(
    models: dict[tuple[str, int, str], Any],
    features: Callable[[tuple[str, int, str], int], pd.DataFrame | None],
    fits: dict[str, Any],
) -> list[Finding]:
    """Each fitted model's input scaler must be the one its contract gives on the frame it was given to fit.

    ``models`` maps ``(column, fold (1-based), group)`` to the fitted model; ``features(key, i)`` gives piece ``i``'s
    feature rows as the fit ``key`` read them (None when they are not at hand). The frame is rebuilt from the record
    alone: the blocks of ``fits.json`` (each piece's rows with context) in order, with their labelled rows; the model
    is asked which scaler that frame gives (``SignalModel.scaler_statistics``). A fit whose model or pieces are not at
    hand is not checked.
    """
    found = []
    for column, records in fits.get("models", {}).items():
        for rec in records:
            key = (column, int(rec["fold"]), rec["group"])
            model, blocks = models.get(key), rec["train"]
            frames = [features(key, int(b["piece"])) for b in blocks] if model is not None else [None]
            if not blocks or any(f is None for f in frames):
                continue
            frame = pd.concat([f.iloc[b["rows"][0] : b["rows"][1]] for f, b in zip(frames, blocks)])
            offsets = np.cumsum([0] + [b["rows"][1] - b["rows"][0] for b in blocks])
            labelled = np.concatenate(
                [rows_of(b["labelled"]) - b["rows"][0] + off for b, off in zip(blocks, offsets)]
            ).astype(np.int64)
            expected_mean = scaler_mismatch(model, frame.reset_index(drop=True), labelled)
            if expected_mean is not None:
                found.append(_scaler_finding(fits, column, rec, np.asarray(model.scaler_mean_), expected_mean, frame))
    return found


def _scaler_finding(fits, column: str, rec: dict, mean: np.ndarray, expected_mean: np.ndarray, frame) -> Finding:
    worst, off = worst_feature(mean, expected_mean)
    k, group = int(rec["fold"]), rec["group"]
    given = ", ".join(
        f"{piece_name(fits, int(b['piece']))} rows {b['rows'][0]}..{b['rows'][1] - 1}" for b in rec["train"]
    )
    return Finding(
        "split_hygiene",
        f"{column} (fold {k}, group {group})",
        f"its input scaler's mean differs from the one its own rule gives on the frame it was given to fit (largest "
        f"relative difference {off:.3g}, feature {frame.columns[worst]!s}): it was fit on other rows (all rows, "
        f"validation or tested pieces, or features scaled before the split). fits.json says fit got {given}. Next: "
        f"find where the scaler or the features saw other rows; to confirm, load the model from the task store "
        f"(RUN/tasks/{rec.get('task', '?')}) and compare its scaler_mean_ with model.scaler_statistics(those blocks "
        f"concatenated, their labelled rows)[0]",
        {
            "max_relative_difference": off,
            "feature": str(frame.columns[worst]),
            "fold": k,
            "group": group,
            "pieces": [piece_name(fits, int(b["piece"])) for b in rec["train"]],
            "task": rec.get("task"),
        },
    )
