"""The runner's wiring, watched by spies: which rows each model trains, stops early and is tuned on.

Two spy models (cheap majority models with windows 3 and 8, registered in-process) record the rows ``fit`` is given;
their probabilities encode the row they were made for, so a spy tuner can tell which rows a strategy was tuned on.
The expected rows are derived here from the config alone (horizon 3, longest window 8: a purge gap of 11 rows), never
read from the runner.
"""

from __future__ import annotations

import numpy as np
import pytest

from signalbench import strategies
from signalbench.experiment import compare, parse_experiment
from signalbench.experiment.inputs import load_inputs
from signalbench.signals import registry
from signalbench.signals.baselines import MajorityModel

HORIZON = 3
WINDOWS = {"spy_short": 3, "spy_long": 8}
GAP = HORIZON + max(WINDOWS.values())  # the README's promise: horizon + longest seq_len


class _Spy(MajorityModel):
    """A majority model that records what it is fitted on and whose probabilities name the row they belong to."""

    index = None  # the experiment's full feature index, set by the fixture
    fits: list = []

    def fit(self, X, y, *, X_val=None, y_val=None, callback=None):
        record = {"model": self.name, "X": _positions(X), "y": _labelled(X, y)}
        if X_val is not None:
            record |= {"X_val": _positions(X_val), "y_val": _labelled(X_val, y_val)}
        _Spy.fits.append(record)
        return super().fit(X, y, X_val=X_val, y_val=y_val, callback=callback)

    def predict_proba(self, X):
        out = super().predict_proba(X)
        if hasattr(X, "index") and _Spy.index is not None:
            rows = _positions(X)
            p_down = 0.05 + 0.4 * rows / len(_Spy.index)  # row r's output names r (decoded by _decode)
            finite = np.isfinite(out).all(axis=1)
            out[finite] = np.c_[p_down, 0.5 - p_down, np.full(rows.size, 0.5)][finite][:, : out.shape[1]]
        return out


def _positions(X) -> np.ndarray:
    return _Spy.index.get_indexer(X.index)


def _labelled(X, y) -> np.ndarray:
    return _positions(X)[np.isfinite(np.asarray(y, dtype=np.float64))]


def _decode(proba: np.ndarray) -> np.ndarray:
    return np.rint((proba[:, 0] - 0.05) / 0.4 * len(_Spy.index)).astype(np.int64)


def _spy_class(name: str, window: int) -> type:
    return type(f"Spy_{name}", (_Spy,), {"name": name, "window": window})  # the contract: the model says its window


SPIES = {name: _spy_class(name, w) for name, w in WINDOWS.items()}


def config(split: dict) -> dict:
    return {
        "name": "spies",
        "seed": 3,
        "device": "cpu",
        "data": {"kind": "synthetic", "n": 2400, "edge": 0.6},
        "labels": {"kind": "direction", "horizon": HORIZON},
        "costs": {"fee_bps": 0.1, "half_spread_bps": 0.5, "delay": 1},
        "split": split,
        "models": [{"name": name} for name in WINDOWS],
        "baselines": {"exclude": ["majority", "persistence", "logistic"]},
        "strategies": [{"rule": "threshold", "enter": [0.5, 0.6], "tune": True}],
    }


@pytest.fixture
def spied(monkeypatch):
    """Run ``compare`` with the spies registered and ``strategies.tune`` recording its inputs."""
    real_get, real_available, real_tune = registry.get, registry.available, strategies.tune
    monkeypatch.setattr(registry, "get", lambda name: SPIES[name] if name in SPIES else real_get(name))
    monkeypatch.setattr(registry, "available", lambda: (*real_available(), *SPIES))
    tuned: list = []

    def spy_tune(rule, signal, price, grid=None, **costs):
        tuned.append({"rows": _decode(np.asarray(signal)), "price": np.asarray(price, dtype=np.float64).copy()})
        return real_tune(rule, signal, price, grid, **costs)

    monkeypatch.setattr(strategies, "tune", spy_tune)
    monkeypatch.setattr(_Spy, "fits", [])

    def run(split: dict):
        cfg = config(split)
        inputs = load_inputs(parse_experiment(cfg))
        monkeypatch.setattr(_Spy, "index", inputs.features.index)
        res = compare(cfg, write=False, report=False)
        return res, inputs, list(_Spy.fits), tuned

    return run


def _contiguous(rows: np.ndarray) -> bool:
    return rows.size > 0 and bool(np.all(np.diff(rows) == 1))


@pytest.mark.parametrize(
    "split",
    [
        {"kind": "holdout", "train": 0.6, "val": 0.2, "test": 0.2},
        {"kind": "walk_forward", "train": 0.6, "val": 0.2, "test": 0.3, "n_folds": 3},
    ],
    ids=["holdout", "walk_forward"],
)
def test_models_and_tuning_see_only_their_fold_parts_with_the_exact_purge_gap(spied, split):
    res, inputs, fits, tuned = spied(split)
    folds = res.metrics["split"]["folds"]
    assert res.metrics["split"]["purge_gap"] == GAP
    assert len(fits) == len(WINDOWS) * len(folds)
    assert len(tuned) == len(WINDOWS) * len(folds)
    price = inputs.price.to_numpy()
    for i, fit in enumerate(fits):
        fold = folds[i % len(folds)]
        start, stop = fold["span"]
        window = WINDOWS[fit["model"]]
        train, val = fit["y"], fit["y_val"]
        assert _contiguous(train) and _contiguous(val), fit["model"]
        assert (train.size, val.size) == (fold["train"], fold["val"])
        # rows strictly between training and validation, and between validation and the tested span: the gap
        assert val[0] - train[-1] - 1 == GAP
        assert start - val[-1] - 1 == GAP
        # X_val is the validation rows plus exactly window - 1 rows of context, nothing tested
        np.testing.assert_array_equal(fit["X_val"], np.arange(val[0] - window + 1, val[-1] + 1))
        np.testing.assert_array_equal(fit["X"], np.arange(train[0] - window + 1, train[-1] + 1))
        assert fit["X_val"].max() < start and fit["X"].max() < start
        # the tuner saw this fold's validation rows, their probabilities and their prices
        tune = tuned[i]
        np.testing.assert_array_equal(tune["rows"], val)
        np.testing.assert_array_equal(tune["price"], price[val[0] : val[-1] + 1])
    spans = [f["span"] for f in folds]
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # consecutive tested blocks, one backtest
    assert spans[-1][1] == inputs.n
