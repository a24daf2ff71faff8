"""A stateful model in an experiment: the tested span is predicted with its whole run of history as context."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from signalbench.experiment import compare
from signalbench.experiment.fitting import predict_span
from signalbench.experiment.inputs import load_inputs
from signalbench.signals import load

CONFIG = {
    "name": "stateful",
    "seed": 2,
    "device": "cpu",
    "features": ["lob_basic"],
    "data": {"kind": "synthetic", "n": 3000, "edge": 0.6, "ticks_per_day": 1000},
    "labels": {"kind": "direction", "horizon": 1},
    "costs": {"fee_bps": 0.1, "half_spread_bps": "quoted", "delay": 1},
    "models": [
        {"name": "stateful_lstm", "hidden_size": 8, "num_layers": 1, "tbptt_len": 20, "batch_size": 8, "epochs": 1}
    ],
    "strategies": [{"rule": "sign"}],
}


def test_stateful_lstm_runs_audits_and_predicts_with_its_whole_run(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = compare(CONFIG, out=tmp_path / "run")
    assert res.audit.clean, res.audit.findings  # causality included: scrambling later rows changes nothing before
    pred = pd.read_parquet(res.run_dir / "predictions.parquet")
    model = load(res.run_dir / "models" / "stateful_lstm")
    features = load_inputs(res.experiment).features
    rows = pred["row"].to_numpy()
    start = int(rows[0])
    # the tested span starts inside a day: its context reaches back to the end of that day's feature warm-up
    ctx = model.context_start(features, start)
    assert 0 < ctx < start and not np.isfinite(features.to_numpy()[ctx - 1]).all()
    whole = model.predict_proba(features)  # predicting the whole history at once
    cols = [f"stateful_lstm:p{int(c)}" for c in model.classes_]
    np.testing.assert_allclose(pred[cols].to_numpy(), whole[rows], atol=1e-6, rtol=0)
    # a window-1 context (the tested rows alone) would restart the state mid-day and give other numbers
    alone = model.predict_proba(features.iloc[start : rows[-1] + 1])
    assert np.nanmax(np.abs(alone - whole[start : rows[-1] + 1])) > 1e-4
    np.testing.assert_allclose(predict_span(model, features, start, rows[-1] + 1), whole[rows], atol=1e-6, rtol=0)


def test_walk_forward_predicts_each_block_with_its_whole_run():
    from signalbench.data.splits import walk_forward_splits
    from signalbench.experiment import walk_forward
    from signalbench.signals import create
    from signalbench.strategies import sign

    params = {"hidden_size": 8, "num_layers": 1, "tbptt_len": 20, "batch_size": 4, "epochs": 1}
    factory = lambda: create("stateful_lstm", progress=False, device="cpu", **params)  # noqa: E731
    X, y = factory().example_data(900, 5)
    X = X.to_numpy().copy()
    X[450:453] = np.nan  # a second "day": its warm-up restarts the state
    price = 100 * np.exp(np.cumsum(0.001 * np.nan_to_num(X[:, 0]).clip(-3, 3)))
    folds = walk_forward_splits(900, n_folds=2, horizon=1, seq_len=1)
    res = walk_forward(factory, X, y, price, folds, sign, val_size=0, periods_per_year=252)
    for (_, test), model in zip(folds, res.models):
        # each block equals the fold's model predicting the whole history at once (its state starts at a run start)
        np.testing.assert_allclose(res.proba[test], model.predict_proba(X)[test], atol=1e-6, rtol=0)
