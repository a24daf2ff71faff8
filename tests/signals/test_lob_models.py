"""The order-book architectures (binctabl, tlob, mlplob) and the book models' shared input: layers checked by hand,
layout errors, log sizes, stepping, and learning the level-1 imbalance of a synthetic book."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import signalbench.signals as signals
from signalbench.reports.metrics import macro_f1
from signalbench.signals.lob_nets import TABL, BiN
from signalbench.signals.nets import LogSizes
from tests.signals.test_stepping import assert_parity, step_all

TRAIN = {"epochs": 1, "progress": False, "device": "cpu"}
TINY = {
    "binctabl": {"seq_len": 6, "hidden_features": 6, "hidden_steps": 4, "second_features": 6, "second_steps": 2},
    "tlob": {"seq_len": 6, "hidden": 8, "num_layers": 1, "nhead": 2},
    "mlplob": {"seq_len": 6, "hidden": 8, "num_layers": 1},
}


def _zscore(a: np.ndarray, axis: int) -> np.ndarray:
    return (a - a.mean(axis=axis, keepdims=True)) / np.sqrt(a.var(axis=axis, keepdims=True) + 1e-5)


def test_bin_at_initialisation_is_the_mean_of_the_two_standardisations():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(2, 5, 4))  # (B, T, D)
    out = BiN(5, 4).double()(torch.from_numpy(x)).detach().numpy()
    expected = 0.5 * _zscore(x, axis=1) + 0.5 * _zscore(x, axis=2)  # each feature over time, each step over features
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_bin_forgets_the_level_and_scale_of_a_window():
    x = torch.randn(3, 6, 4, dtype=torch.float64)
    bin_ = BiN(6, 4).double()
    np.testing.assert_allclose(bin_(7.0 + 50.0 * x).detach(), bin_(x).detach(), atol=1e-3)  # eps = 1e-5 aside


def test_tabl_without_attention_is_the_bilinear_map_and_its_weights_sum_to_one():
    rng = np.random.default_rng(1)
    tabl = TABL(4, 5, 3, 2).double()
    x = torch.from_numpy(rng.normal(size=(2, 4, 5)))  # (B, D, T)
    with torch.no_grad():
        tabl.lam.fill_(0.0)
        w1, w2, b = tabl.w1.weight.numpy(), tabl.w2.weight.numpy(), tabl.bias.numpy()
        expected = np.einsum("ij,bjt,st->bis", w1, x.numpy(), w2) + b  # W1 X W2 + B
        np.testing.assert_allclose(tabl(x).numpy(), expected, rtol=1e-12, atol=1e-12)
        tabl.w.copy_(torch.from_numpy(rng.normal(size=(5, 5))))
        xb = tabl.w1(x.transpose(1, 2)).transpose(1, 2)
        np.testing.assert_allclose(tabl.attention(xb).sum(dim=-1).numpy(), 1.0, rtol=1e-12)


def test_the_diagonal_of_tabl_attention_matrix_is_fixed():
    tabl = TABL(4, 5, 3, 1)
    tabl(torch.randn(8, 4, 5)).square().sum().backward()
    grad = tabl.w.grad
    assert torch.all(grad.diagonal() == 0)
    assert grad.abs().sum() > 0  # the rest of the matrix learns


def test_log_sizes_by_hand():
    x = np.array([[100.5, 300.0, 100.4, 0.0, 100.6, 9.0, 100.3, 20000.0]])
    out = LogSizes(2)(torch.from_numpy(x)).numpy()
    expected = x.copy()
    expected[0, [1, 3, 5, 7]] = np.log([301.0, 1.0, 10.0, 20001.0])
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_a_deeplob_file_saved_before_size_input_existed_loads_as_raw_sizes(tmp_path):
    model = signals.create(
        "deeplob", seq_len=8, time_kernel=2, conv_channels=4, inception_channels=4, lstm_hidden=4, size_input="raw",
        **TRAIN,
    )  # fmt: skip
    X, y = model.example_data(150, 0)
    path = model.fit(X, y).save(tmp_path / "m")
    (path / "model.json").write_text((path / "model.json").read_text().replace('"size_input": "raw",', ""))
    loaded = signals.load(path)
    assert loaded.size_input == "raw" and signals.DeepLOBModel().size_input == "log"
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("name", list(TINY))
def test_a_book_in_another_order_is_named_with_the_fix(name):
    model = signals.create(name, **TINY[name], **TRAIN)
    X, y = model.example_data(100, 0)
    swapped = X[["ask_size_1", "ask_price_1", *X.columns[2:]]]
    cls = type(model).__name__
    with pytest.raises(ValueError, match=rf"at column 0 where 'ask_price_1' belongs; select them with X\[{cls}\."):
        model.fit(swapped, y)


def test_tlob_heads_must_divide_the_width():
    with pytest.raises(ValueError, match=r"^nhead: expected a divisor of hidden = 8, got 3$"):
        signals.create("tlob", hidden=8, nhead=3)


@pytest.mark.parametrize("name", list(TINY))
def test_the_new_models_step_row_by_row(name):
    model = signals.create(name, **TINY[name], **TRAIN)
    X, y = model.example_data(300, 1)
    model.fit(X.iloc[:200], y[:200])
    test = X.iloc[200:].to_numpy()
    assert_parity(step_all(model.stepper("window"), test), model.predict_proba(test))


@pytest.mark.parametrize("name", ["binctabl", "mlplob", "deeplob"])
def test_book_models_learn_the_level_1_imbalance(name):
    """The example book's classes follow its level-1 imbalance (noise 0.3): macro-F1 far above the majority's ~0.18.

    Measured (1 thread, this seed): binctabl 0.68, mlplob 0.66; deeplob 0.27 at lr 3e-3 (its loss sits near ln 3 for
    five epochs) and 0.56 at lr 1e-2, the paper's rate, used here.
    """
    params = {"deeplob": {"seq_len": 8, "time_kernel": 2, "conv_channels": 8, "inception_channels": 8,
                          "lstm_hidden": 8, "lr": 1e-2}}.get(name, {**TINY.get(name, {}), "lr": 3e-3})  # fmt: skip
    model = signals.create(name, **params, epochs=8, batch_size=64, progress=False, device="cpu")
    X, y = model.example_data(2400, 4)
    model.fit(X.iloc[:1600], y[:1600], X_val=X.iloc[1600:2000], y_val=y[1600:2000])
    pred, truth = model.predict(X.iloc[2000:]), y[2000:]
    ok = np.isfinite(pred)
    majority = macro_f1(truth[ok], np.full(ok.sum(), np.bincount(truth[ok].astype(int)).argmax(), dtype=float))
    assert macro_f1(truth[ok], pred[ok]) > majority + 0.3
    assert len(model.history_) >= 2 and model.history_[-1]["train_loss"] < model.history_[0]["train_loss"]


@pytest.mark.parametrize("name", ["deeplob", "binctabl", "tlob", "mlplob"])
def test_book_models_default_to_capped_epochs_balanced_classes_and_log_sizes(name):
    model = signals.create(name)
    assert 1_000 <= model.max_windows_per_epoch <= 100_000 and model.epochs <= 20
    assert model.class_weight == "balanced" and model.size_input == "log" and model.price_input == "mid_bps"
    if name == "deeplob":
        assert model.lr == 1e-2  # the paper's rate: at 1e-3 the loss stays at ln 3 for epochs
