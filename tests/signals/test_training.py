"""The training loop: capped epochs, the progress callback, the per-epoch history, the device."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import signalbench.signals as signals
from signalbench.signals import training
from signalbench.signals.training import TrainConfig, epoch_rows, resolve_device

TINY = {"seq_len": 5, "hidden_size": 8, "head_size": 8, "epochs": 3, "batch_size": 32, "progress": False}


@pytest.fixture(scope="module")
def data():
    return signals.LSTMModel().example_data(300, 0)


def _count_gathered(monkeypatch) -> list[int]:
    sizes: list[int] = []
    real = training._gather

    def gather(view, rows, seq_len):
        sizes.append(len(rows))
        return real(view, rows, seq_len)

    monkeypatch.setattr(training, "_gather", gather)
    return sizes


def test_max_windows_per_epoch_trains_on_a_random_subset_each_epoch(data, monkeypatch):
    X, y = data
    sizes = _count_gathered(monkeypatch)
    model = signals.create("lstm", **TINY, max_windows_per_epoch=70).fit(X, y)
    assert [h["train_windows"] for h in model.history_] == [70, 70, 70]
    assert sum(sizes) == 3 * 70  # no validation data: every gathered window is a training window
    sizes.clear()
    full = signals.create("lstm", **TINY).fit(X, y)
    assert [h["train_windows"] for h in full.history_] == [296] * 3 and sum(sizes) == 3 * 296
    # seeded: the same subsets and weights again
    again = signals.create("lstm", **TINY, max_windows_per_epoch=70).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))


def test_epoch_rows_draws_distinct_rows_and_new_subsets():
    rows = np.arange(10, 1010)
    gen = torch.Generator().manual_seed(3)
    first, second = epoch_rows(rows, gen, 100), epoch_rows(rows, gen, 100)
    for part in (first, second):
        assert part.size == 100 and np.unique(part).size == 100 and np.isin(part, rows).all()
    assert set(first) != set(second)  # a fresh subset each epoch, not the same 100 rows every time
    whole = epoch_rows(rows, gen, None)
    assert np.array_equal(np.sort(whole), rows)
    assert np.array_equal(np.sort(epoch_rows(rows, gen, 5000)), rows)  # a cap above the rows: all of them
    again = torch.Generator().manual_seed(3)
    np.testing.assert_array_equal(epoch_rows(rows, again, 100), first)


def test_validation_is_not_capped(data, monkeypatch):
    X, y = data
    sizes = _count_gathered(monkeypatch)
    model = signals.create("lstm", **{**TINY, "epochs": 2}, max_windows_per_epoch=40)
    model.fit(X.iloc[:200], y[:200], X_val=X.iloc[200:], y_val=y[200:])
    n_val = 100 - 4  # windows ending in the validation part
    assert sum(sizes) == 2 * (40 + n_val)


def test_callback_gets_every_epoch_and_replaces_the_progress_bar(data, monkeypatch):
    X, y = data
    bars = []
    real_tqdm = training.tqdm

    def tqdm(*args, **kwargs):
        bars.append(kwargs["disable"])
        return real_tqdm(*args, **kwargs)

    monkeypatch.setattr(training, "tqdm", tqdm)
    seen = []
    model = signals.create("lstm", **{**TINY, "progress": True})
    model.fit(X.iloc[:200], y[:200], X_val=X.iloc[200:], y_val=y[200:], callback=lambda e, m: seen.append((e, m)))
    assert bars == [True]  # no tqdm bar while a callback reports progress
    assert [e for e, _ in seen] == [1, 2, 3]
    assert [m for _, m in seen] == model.history_
    for _, m in seen:
        assert {"train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr", "seconds"} <= set(m)
        assert 0 <= m["train_accuracy"] <= 1 and 0 <= m["val_accuracy"] <= 1
    model.fit(X, y)
    assert bars == [True, False]  # progress=True and no callback: the bar is shown
    assert not hasattr(model, "_fit_callback")


def test_a_failing_callback_stops_training(data):
    X, y = data

    def stop(epoch, metrics):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        signals.create("lstm", **TINY).fit(X, y, callback=stop)


def test_history_accuracy_matches_the_restored_weights(data):
    X, y = data
    model = signals.create("lstm", **{**TINY, "epochs": 6, "lr": 0.03, "patience": 2})
    model.fit(X.iloc[:200], y[:200], X_val=X.iloc[200:], y_val=y[200:])
    hist = pd.DataFrame(model.history_)
    best = hist.loc[hist["val_loss"].idxmin()]
    p = model.predict_proba(X.iloc[200:])[4:]  # rows with a complete window in the validation part
    truth = y[200:][4:].astype(int)
    assert np.mean(np.argmax(p, axis=1) == truth) == pytest.approx(best["val_accuracy"], abs=1e-12)
    assert -np.mean(np.log(p[np.arange(truth.size), truth])) == pytest.approx(best["val_loss"], rel=1e-5)
    assert hist["train_accuracy"].between(0, 1).all()


def test_regressors_have_no_accuracy(data):
    model = signals.create("lstm_regressor", seq_len=4, hidden_size=4, epochs=2, progress=False)
    X, y = model.example_data(150, 0)
    model.fit(X.iloc[:100], y[:100], X_val=X.iloc[100:], y_val=y[100:])
    assert all(np.isnan(h["train_accuracy"]) and np.isnan(h["val_accuracy"]) for h in model.history_)
    assert all(np.isfinite(h["val_loss"]) for h in model.history_)


def test_device_auto_uses_cuda_when_present(monkeypatch, data):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ValueError, match=r"^device: expected .* got 'cuda:2'; 2 CUDA device\(s\) here$"):
        resolve_device("cuda:2")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    X, y = data
    assert signals.create("lstm", **TINY).fit(X, y).device_ == torch.device("cpu")  # "auto" is the default
    model = signals.create("lstm", **TINY, device="cuda")  # made anywhere: the machine that fits may have CUDA
    with pytest.raises(ValueError, match=r"^device: expected 'auto', 'cpu' or a device this machine has, got 'cuda'"):
        model.fit(X, y)


def test_train_config_uses_the_declared_rules():
    TrainConfig().validate()
    with pytest.raises(TypeError, match=r"^epochs: expected an integer >= 1, got 2\.5"):
        TrainConfig(epochs=2.5).validate()
    with pytest.raises(ValueError, match=r"^lr_factor: expected a finite number in \(0, 1\), got 1\.0"):
        TrainConfig(lr_factor=1.0).validate()
