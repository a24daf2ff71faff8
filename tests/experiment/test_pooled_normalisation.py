"""A pooled fit of the task graph normalises each piece's features per symbol, on training rows only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signalbench.compute import TaskStore
from signalbench.experiment.config import Labels, Split
from signalbench.experiment.piecefolds import piece_fold
from signalbench.experiment.poolnorm import normalise_pooled, predict_features
from signalbench.experiment.tasks import fit_task, predict_task, predict_val_task
from signalbench.signals import create

LABELS = Labels(horizon=2).model_dump()
POOLED = Split(pool="all").model_dump()
MEMBERS = [{"fold": 0, "role": "rows"}, {"fold": 0, "role": "rows"}]
LONGEST = 4


def _piece(symbol: str, level: float, seed: int, n: int = 400) -> dict:
    rng = np.random.default_rng(seed)
    features = pd.DataFrame({"price": level * (1 + 0.01 * rng.standard_normal(n)), "size": level * rng.gamma(2, 1, n)})
    features.iloc[:3] = np.nan  # warm-up
    return {"features": features, "n": n, "symbol": symbol}


def _deps(pieces: list[dict]) -> dict:
    deps = {}
    for i, p in enumerate(pieces):
        y = np.random.default_rng(10 + i).integers(0, 3, p["n"]).astype(np.float64)
        deps[f"piece_{i}"], deps[f"labels_{i}"] = p, {"y": y}
    return deps


def _train_rows(piece: dict, member: dict) -> np.ndarray:
    return piece_fold(LABELS, POOLED, member, piece["n"], LONGEST).train


def test_pooled_features_are_z_scores_of_each_symbols_training_rows():
    deps = _deps([_piece("AMZN", 220.0, 1), _piece("GOOG", 580.0, 2)])
    out, normaliser = normalise_pooled(create("logistic"), LABELS, POOLED, LONGEST, MEMBERS, deps)
    assert sorted(normaliser["symbols"]) == ["AMZN", "GOOG"]
    for i in range(2):
        train = out[f"piece_{i}"]["features"].iloc[_train_rows(deps[f"piece_{i}"], MEMBERS[i])].dropna()
        assert np.allclose(train.mean(), 0.0, atol=1e-9)
        assert np.allclose(train.std(ddof=0), 1.0, atol=1e-9)
    assert deps["piece_0"]["features"]["price"].iloc[5] > 100  # the inputs are not changed in place


def test_a_tested_row_does_not_change_the_statistics():
    amzn, goog = _piece("AMZN", 220.0, 1), _piece("GOOG", 580.0, 2)
    _, before = normalise_pooled(create("logistic"), LABELS, POOLED, LONGEST, MEMBERS, _deps([amzn, goog]))
    tested = piece_fold(LABELS, POOLED, MEMBERS[1], goog["n"], LONGEST).test
    changed = {**goog, "features": goog["features"].copy()}
    changed["features"].iloc[tested[0]] = [1e9, 1e9]
    _, after = normalise_pooled(create("logistic"), LABELS, POOLED, LONGEST, MEMBERS, _deps([amzn, changed]))
    assert after == before


@pytest.mark.parametrize(("split", "model"), [(Split(pool="symbol").model_dump(), "logistic"), (POOLED, "ofi_sign")])
def test_fits_that_are_not_pooled_or_models_that_opt_out_are_untouched(split, model):
    deps = _deps([_piece("AMZN", 220.0, 1), _piece("GOOG", 580.0, 2)])
    out, normaliser = normalise_pooled(create(model), LABELS, split, LONGEST, MEMBERS, deps)
    assert normaliser is None and out is deps


def test_fit_and_predict_tasks_use_the_same_statistics_through_the_store(tmp_path):
    pieces = [_piece("AMZN", 220.0, 1), _piece("GOOG", 580.0, 2)]
    spec = {"name": "logistic", "label": None}
    fit = fit_task(spec, 0, "cpu", LABELS, POOLED, LONGEST, MEMBERS, **_deps(pieces))
    # the model's own scaler saw normalised inputs: its means are near 0, not near the prices (220 .. 580)
    assert np.all(np.abs(fit["model"].scaler_mean_) < 0.5)
    store = TaskStore(tmp_path)
    store.save("ab" * 16, fit)
    loaded = store.load("ab" * 16)
    goog = pieces[1]
    got = predict_task(LABELS, POOLED, LONGEST, MEMBERS[1], loaded, goog)
    fold = piece_fold(LABELS, POOLED, MEMBERS[1], goog["n"], LONGEST)
    mean, std = goog["features"].iloc[fold.train].mean(), goog["features"].iloc[fold.train].std(ddof=0)
    want = fit["model"].predict_proba((goog["features"] - mean) / std)[fold.start : fold.stop]
    assert np.allclose(got["proba"], want, equal_nan=True)


def test_validation_predictions_for_tuning_use_the_fit_statistics_too():
    """A tuned pooled run chooses on ``predict_val``: it must see the inputs the model was fitted on."""
    pieces = [_piece("AMZN", 220.0, 1), _piece("GOOG", 580.0, 2)]
    fit = fit_task({"name": "logistic", "label": None}, 0, "cpu", LABELS, POOLED, LONGEST, MEMBERS, **_deps(pieces))
    goog = pieces[1]
    fold = piece_fold(LABELS, POOLED, MEMBERS[1], goog["n"], LONGEST)
    assert fold.val.size
    got = predict_val_task(LABELS, POOLED, LONGEST, MEMBERS[1], fit, goog)
    v0, v1 = got["span"]
    assert (v0, v1) == (int(fold.val[0]), int(fold.val[-1]) + 1)
    mean, std = goog["features"].iloc[fold.train].mean(), goog["features"].iloc[fold.train].std(ddof=0)
    want = fit["model"].predict_proba((goog["features"] - mean) / std)[v0:v1]
    assert np.allclose(got["proba"], want, equal_nan=True)


def test_predicting_a_symbol_not_seen_in_training_is_a_clear_error():
    deps = _deps([_piece("AMZN", 220.0, 1), _piece("AMZN", 221.0, 3)])
    _, normaliser = normalise_pooled(create("logistic"), LABELS, POOLED, LONGEST, MEMBERS, deps)
    with pytest.raises(ValueError, match=r"symbol: expected one of the symbols the model was trained on \['AMZN'\]"):
        predict_features({"normaliser": normaliser}, _piece("GOOG", 580.0, 2))
    piece = _piece("GOOG", 580.0, 2)
    assert predict_features({"normaliser": None}, piece) is piece["features"]


def test_a_day_split_fits_on_the_training_days_only():
    split = Split(kind="days", train_days=1, val_days=1, test_days=1, pool="all").model_dump()
    members = [{"fold": 0, "role": "train"}, {"fold": 0, "role": "val"}]
    train, val = _piece("AMZN", 220.0, 1), _piece("AMZN", 260.0, 5)  # the validation day trades higher
    out, normaliser = normalise_pooled(create("logistic"), LABELS, split, LONGEST, members, _deps([train, val]))
    rows = piece_fold(LABELS, split, members[0], train["n"], LONGEST).train
    assert np.allclose(normaliser["symbols"]["AMZN"]["mean"], train["features"].iloc[rows].mean().to_numpy())
    assert out["piece_1"]["features"]["price"].mean() > 5  # the validation day, scaled by the training day
