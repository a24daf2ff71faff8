"""Evidence that the models learn, and only what is there.

- Synthetic ticks with a planted edge (:func:`signalbench.data.synthetic.synthetic_ticks`): on the test rows where the
  mid moves, the LSTM and the Transformer call the direction about as well as the generator's Bayes-optimal rule
  (within 3 points) and far better than ``majority``; with ``edge=0`` they do not beat ``majority`` by more than
  three standard errors. (CI sizes; ``benchmarks/models.py`` runs the full-size version.)
- The shared AMZN LOBSTER sample end to end: features, 3-class labels, purged chronological split, fit, predict;
  macro-F1 next to the baselines, and below 0.80 (published models reach 0.55-0.64 on LOBSTER stocks; more means a
  leak).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import signalbench.signals as signals
from signalbench.data.features import compute_features, mid_price
from signalbench.data.labels import direction
from signalbench.data.splits import train_val_test_split
from signalbench.data.synthetic import synthetic_ticks
from signalbench.reports.metrics import macro_f1
from tests.conftest import require_module

LSTM = {"seq_len": 5, "hidden_size": 16, "head_size": 16, "num_layers": 1, "epochs": 10, "lr": 5e-3, "patience": 3}
TRANSFORMER = {
    "seq_len": 5,
    "d_model": 16,
    "nhead": 2,
    "dim_feedforward": 32,
    "head_size": 16,
    "num_layers": 1,
    "epochs": 6,
    "lr": 3e-3,
    "patience": 2,
}
COMMON = {"batch_size": 256, "progress": False, "device": "cpu", "seed": 0}


def _synthetic(edge: float, n: int = 12_000, seed: int = 7):
    ticks = synthetic_ticks(n, seed=seed, edge=edge)
    X = ticks.data[["imbalance", "spread", "trade_sign"]].astype(np.float64)
    y = direction(mid_price(ticks.data), 1)
    return ticks, X, y


def _directional_accuracy(model, X, y, lo, hi):
    """Accuracy of 'up if P(up) > P(down)' on the test rows whose mid moves (what bayes_accuracy refers to)."""
    p = model.predict_proba(X.iloc[lo - model.window + 1 : hi])[model.window - 1 :]
    yt = y[lo:hi]
    moving = ((yt == 0) | (yt == 2)) & np.isfinite(p).all(axis=1)
    up = p[:, 2] > p[:, 0]
    return float(np.mean(up[moving] == (yt[moving] == 2))), moving


def _fit_eval(name, params, X, y, n):
    a, b = int(0.6 * n), int(0.8 * n)
    model = signals.create(name, **params)
    model.fit(X.iloc[:a], y[:a], X_val=X.iloc[a:b], y_val=y[a:b])
    return _directional_accuracy(model, X, y, b + 10, n)


@pytest.mark.parametrize(("name", "params"), [("lstm", LSTM), ("transformer", TRANSFORMER)])
def test_reaches_bayes_accuracy_with_a_planted_edge(name, params):
    ticks, X, y = _synthetic(edge=0.6)
    n = len(X)
    acc, moving = _fit_eval(name, {**params, **COMMON}, X, y, n)
    majority, _ = _fit_eval("majority", {}, X, y, n)
    b = int(0.8 * n) + 10
    bayes_realised = float(np.mean((ticks.p_up[b:n][moving] > 0.5) == (y[b:n][moving] == 2)))
    print(
        f"{name}: accuracy {acc:.4f}, Bayes expected {ticks.bayes_accuracy:.4f}, realised {bayes_realised:.4f}, "
        f"majority {majority:.4f} on {moving.sum()} moving rows"
    )
    assert acc >= bayes_realised - 0.03
    assert acc >= ticks.bayes_accuracy - 0.03
    assert acc <= bayes_realised + 3 * np.sqrt(0.25 / moving.sum())  # nothing beats Bayes beyond noise
    assert acc > majority + 0.08


@pytest.mark.parametrize(("name", "params"), [("lstm", LSTM), ("transformer", TRANSFORMER)])
def test_no_edge_no_skill(name, params):
    ticks, X, y = _synthetic(edge=0.0)
    assert ticks.bayes_accuracy == 0.5
    n = len(X)
    acc, moving = _fit_eval(name, {**params, **COMMON}, X, y, n)
    majority, _ = _fit_eval("majority", {}, X, y, n)
    b = int(0.8 * n) + 10
    up_share = float(np.mean(y[b:n][moving] == 2))
    best_constant = max(up_share, 1 - up_share)  # the most majority (a constant) could score here, in hindsight
    se = np.sqrt(0.25 / moving.sum())
    print(
        f"{name} edge 0: accuracy {acc:.4f}, majority {majority:.4f}, best constant {best_constant:.4f}, "
        f"3 SE {3 * se:.4f}"
    )
    assert majority <= best_constant
    assert acc < best_constant + 3 * se
    assert acc < 0.5 + 3 * se


def test_macro_f1_by_hand():
    y = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 2, 0])
    # class 0: tp 1 fp 1 fn 1 -> 0.5; class 1: tp 1 fp 1 fn 0 -> 2/3; class 2: tp 2 fp 0 fn 1 -> 0.8
    assert macro_f1(y, p) == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)


def test_macro_f1_against_sklearn():
    metrics = require_module("sklearn.metrics")
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.integers(0, 3, 200)
        p = rng.integers(0, 2, 200)  # class 2 never predicted
        expected = metrics.f1_score(y, p, labels=[0, 1, 2], average="macro", zero_division=0)
        assert macro_f1(y, p) == pytest.approx(expected, rel=1e-12)


def _part(frame, labels, rows, L):
    """Contiguous rows rows[0]-L+1 .. rows[-1] of X, with labels kept only on ``rows`` (the rest is context)."""
    lo, hi = rows[0] - L + 1, rows[-1] + 1
    y = np.full(hi - lo, np.nan)
    y[rows - lo] = labels[rows]
    return frame.iloc[lo:hi], y


@pytest.mark.shared_data
def test_amzn_end_to_end_macro_f1(shared_data):
    from signalbench.data.lobster import load_lobster

    df = load_lobster(shared_data / "lobster" / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip")
    X = compute_features(df, "lob_basic")
    mid = mid_price(df)
    days = df["day"].to_numpy()
    horizon, L = 10, 10
    split = train_val_test_split(len(df), horizon=horizon, seq_len=L, groups=days)
    # The stationary band: the 1/3 quantile of |10-event mid return| on the training rows only.
    change = np.abs(pd.Series(mid).shift(-horizon).to_numpy() / mid - 1)[split.train]
    threshold = float(np.nanquantile(change, 1 / 3))
    y = np.asarray(direction(mid, horizon, threshold=threshold, groups=days))
    assert set(np.unique(y[split.test])) == {0.0, 1.0, 2.0}
    X_tr, y_tr = _part(X, y, split.train, L)
    X_va, y_va = _part(X, y, split.val, L)
    X_te, y_te = _part(X, y, split.test, L)
    assert X_tr.index[-1] < X_va.index[0] and X_va.index[-1] < X_te.index[0]

    models = {
        "majority": signals.create("majority"),
        "persistence": signals.create("persistence", threshold=threshold),
        "ofi_sign": signals.create("ofi_sign"),
        "logistic": signals.create("logistic"),
        "lightgbm": signals.create("lightgbm", n_estimators=100, num_leaves=15),
        "lstm": signals.create(
            "lstm",
            seq_len=L,
            hidden_size=16,
            head_size=16,
            num_layers=1,
            epochs=4,
            batch_size=512,
            lr=3e-3,
            class_weight="balanced",
            **{k: COMMON[k] for k in ("progress", "device", "seed")},
        ),
    }
    scores = {}
    for name, model in models.items():
        model.fit(X_tr, y_tr, X_val=X_va, y_val=y_va)
        pred = model.predict(X_te)
        ok = np.isfinite(y_te) & np.isfinite(pred)
        assert ok.sum() >= 0.95 * np.isfinite(y_te).sum()  # predictions for (nearly) every test row
        scores[name] = macro_f1(y_te[ok], pred[ok])
    print("AMZN macro-F1 (test):", {k: round(v, 4) for k, v in scores.items()})
    assert all(0.0 <= s < 0.80 for s in scores.values()), scores  # above 0.80 would mean a leak
    assert scores["majority"] < 0.30  # one class of three: at most 0.5 * 2/3 / ... ~ 0.17-0.25
    assert scores["lstm"] > scores["majority"]
