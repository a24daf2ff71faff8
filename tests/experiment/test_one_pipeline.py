"""One fit/predict implementation (experiment/fitting.py) behind the runner, the graph's tasks and walk_forward().

The same fold fitted and predicted by each of the three gives bit-identical probabilities; a multi-piece run on the
local pool reports each fit's epochs from the worker processes, and the reports change no result.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from signalbench.compute import TaskStore
from signalbench.data.splits import usable_rows, walk_forward_splits
from signalbench.experiment import compare, walk_forward
from signalbench.experiment.config import parse_experiment
from signalbench.experiment.folds import validation_tail
from signalbench.experiment.inputs import load_inputs
from signalbench.experiment.preflight import build, check
from signalbench.experiment.runner import _fit_all
from signalbench.experiment.tasks import fit_task, predict_task
from signalbench.strategies import sign

LSTM = {
    "name": "lstm",
    "seq_len": 4,
    "hidden_size": 3,
    "num_layers": 1,
    "bidirectional": False,
    "pooling": "last",
    "head_size": 0,
    "epochs": 2,
    "batch_size": 128,
}
NO_BASELINES = {"exclude": ["majority", "persistence", "logistic"]}


def _single_run():
    cfg = {
        "name": "onepipe",
        "seed": 5,
        "device": "cpu",
        "data": {"kind": "synthetic", "n": 1200, "edge": 0.5, "ticks_per_day": 1200},
        "labels": {"kind": "direction", "horizon": 1},
        "split": {"kind": "walk_forward", "train": 0.6, "val": 0.2, "test": 0.3, "n_folds": 2},
        "models": [LSTM],
        "baselines": NO_BASELINES,
        "strategies": [{"rule": "sign"}],
    }
    exp = parse_experiment(cfg)
    inputs = load_inputs(exp)
    return exp, inputs, check(exp, inputs)


def _walk_forward_pairs(exp, inputs, longest):
    """The (train, test) pairs the experiment's walk-forward split is cut from (as experiment/folds.py cuts them)."""
    sp, horizon = exp.split, exp.labels.horizon
    m = usable_rows(inputs.n, horizon=horizon, seq_len=longest, groups=inputs.groups).size
    size = max(1, int(m * sp.test) // sp.n_folds)
    return walk_forward_splits(
        inputs.n, horizon=horizon, seq_len=longest, n_folds=sp.n_folds, test_size=size, groups=inputs.groups
    )


def test_runner_tasks_and_walk_forward_predict_a_fold_bit_for_bit_alike(tmp_path):
    exp, inputs, plan = _single_run()
    (spec,) = plan.specs
    share, gap = exp.split.val / (exp.split.train + exp.split.val), plan.gap
    fitted_by_runner = _fit_all(exp, inputs, plan, TaskStore(tmp_path), False, None)[0][spec.column]
    runner = fitted_by_runner.proba
    span0 = plan.folds[0].start
    piece = {"features": inputs.features, "n": inputs.n, "price": inputs.price}
    labels, split = exp.labels.model_dump(), exp.split.model_dump()
    pairs = _walk_forward_pairs(exp, inputs, plan.longest)
    for k, fold in enumerate(plan.folds):
        member = {"fold": k, "role": "rows"}
        given = {"labels": labels, "split": split, "longest": plan.longest}
        model = {"spec": {"name": spec.name, "label": spec.label, **spec.params}, "seed": exp.seed}
        fitted = fit_task(
            **model, device=exp.device, **given, members=[member], piece_0=piece, labels_0={"y": plan.labels[k]}
        )
        task = predict_task(labels, split, plan.longest, member, fitted, piece)
        assert task["span"] == [fold.start, fold.stop]  # the task's fold is the runner's
        head, val = validation_tail(pairs[k][0], share, gap)
        assert np.array_equal(head, fold.train) and np.array_equal(val, fold.val)  # and walk_forward's
        options = {"seq_len": plan.longest, "horizon": exp.labels.horizon, "val_size": share}
        factory = lambda: build(spec, exp)  # noqa: E731, B023 - called within this iteration
        wf = walk_forward(factory, inputs.features, plan.labels[k], inputs.price, [pairs[k]], sign, **options)
        assert list(wf.proba.columns) == [0, 1, 2]
        tested = fold.test
        from_runner = runner[tested - span0]
        assert np.isfinite(from_runner).all()
        np.testing.assert_array_equal(task["proba"][tested - fold.start], from_runner)
        np.testing.assert_array_equal(wf.proba.to_numpy()[tested], from_runner)
        # the rows given to fit, and the context of the prediction, as recorded (fits.json), are the runner's too
        # (the runner predicts its whole traded span, walk_forward the tested rows: they end apart)
        ours, theirs = wf.fits[0], fitted_by_runner.fits[k]
        assert (ours["train"], ours["val"]) == (theirs["train"], theirs["val"])
        assert ours["predict"]["context"] == theirs["predict"]["context"]
        assert fitted["record"]["train"] == [{"member": 0, **ours["train"]}]  # the graph records what they record


def _pieces_config(workers: int) -> dict:
    return {
        "name": "epochs",
        "seed": 2,
        "device": "cpu",
        "data": {"kind": "synthetic", "n": 3 * 300, "ticks_per_day": 300, "symbols": 2, "edge": 0.4},
        "labels": {"kind": "direction", "horizon": 1},
        "split": {"kind": "walk_forward_days", "train_days": 1, "val_days": 1, "pool": "symbol"},
        "models": [LSTM],
        "baselines": NO_BASELINES,
        "strategies": [{"rule": "sign"}],
        "costs": {"fee_bps": 0.1},
        "compute": {"workers": workers},
    }


@pytest.mark.slow
def test_a_local_pool_run_reports_every_fits_epochs_from_its_workers_and_they_change_nothing(tmp_path, monkeypatch):
    import os

    import signalbench.compute as compute

    events: list[dict] = []
    plain = compute.run_graph

    def listening(*args, **kwargs):
        return plain(*args, **kwargs, on_event=events.append)

    quiet = compare(_pieces_config(2), out=tmp_path / "quiet", report=False)
    assert not events
    monkeypatch.setattr(compute, "run_graph", listening)
    shown = compare(_pieces_config(2), out=tmp_path / "shown", report=False, progress=True)
    fits = [k for k, t in shown.graph.fits.items()]
    assert len(fits) == 2  # one per symbol
    by_fit: dict[str, list[int]] = {}
    for e in events:
        by_fit.setdefault(e["key"], []).append(e["done"])
        assert e["total"] == 2 and "train_loss" in e["info"] and e["pid"] != os.getpid()
    assert by_fit == {key: [1, 2] for key in shown.graph.fits.values()}
    assert json.dumps(shown.metrics, sort_keys=True) == json.dumps(quiet.metrics, sort_keys=True)


class _Frequency:
    """The training frequency of each class, whatever the row (window 1): enough to see which rows it was given."""

    window = 1

    def context_start(self, X, start: int) -> int:
        return start

    def fit(self, X, y, *, X_val=None, y_val=None):
        y = np.asarray(y, dtype=float)
        self.classes_, counts = np.unique(y[np.isfinite(y)], return_counts=True)
        self.p_ = counts / counts.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.p_, (len(X), 1))


def test_walk_forward_takes_a_folds_rows_as_a_set():
    rng = np.random.default_rng(1)
    n = 400
    X, y = rng.normal(size=(n, 2)), rng.integers(0, 3, n).astype(float)
    price = 100 + np.cumsum(rng.normal(0, 0.1, n))
    train, test = np.arange(0, 300), np.arange(310, 400)
    shuffled = rng.permutation(train)
    kwargs = {"horizon": 1, "val_size": 0.2, "periods_per_year": 252.0}
    ordered = walk_forward(_Frequency, X, y, price, [(train, test)], sign, **kwargs)
    mixed = walk_forward(_Frequency, X, y, price, [(shuffled, test)], sign, **kwargs)
    assert mixed.fits == ordered.fits  # the same validation tail: the last rows in time, not in the list
    np.testing.assert_array_equal(mixed.proba, ordered.proba)
