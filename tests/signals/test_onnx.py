"""ONNX export: onnxruntime on raw windows agrees with the torch model's predictions to 1e-5."""

from __future__ import annotations

import numpy as np
import pytest

import signalbench.signals as signals
from signalbench.data.windowing import windows
from tests.conftest import require_module

ort = require_module("onnxruntime", extra="onnx")
onnx = require_module("onnx", extra="onnx")

TRAIN = {"epochs": 1, "progress": False, "device": "cpu"}
MODELS = {
    "lstm": {"seq_len": 7, "hidden_size": 8, **TRAIN},
    "transformer": {"seq_len": 7, "d_model": 8, "nhead": 2, "dim_feedforward": 16, **TRAIN},
    "multitask_lstm": {"seq_len": 7, "hidden_size": 8, **TRAIN},
    "lstm_regressor": {"seq_len": 7, "hidden_size": 8, **TRAIN},
    "deeplob": {"seq_len": 8, "time_kernel": 2, "conv_channels": 4, "inception_channels": 4, "lstm_hidden": 8, **TRAIN},
    "binctabl": {"seq_len": 6, "hidden_features": 6, "second_features": 6, "second_steps": 2, **TRAIN},
    "tlob": {"seq_len": 6, "hidden": 8, "num_layers": 1, "nhead": 2, **TRAIN},
    "mlplob": {"seq_len": 6, "hidden": 8, "num_layers": 1, **TRAIN},
}
BOOK = {"deeplob", "binctabl", "tlob", "mlplob"}  # a row transform of prices: float64 inputs
# float32 rounding differs between torch and onnxruntime by up to 3.1e-5 for tlob's tiny network (its BiN divides by
# the spread of a step's 8 features; not the MHA fast path: disabling it changes the torch output by 4e-8)
ATOL = {"tlob": 1e-4}


@pytest.mark.parametrize("name", MODELS)
def test_onnxruntime_matches_torch(name, tmp_path):
    model = signals.create(name, **MODELS[name])
    X, y = model.example_data(260, 2)
    model.fit(X.iloc[:200], y[:200])
    test = X.iloc[200:]
    path = model.export_onnx(tmp_path / f"{name}.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}.onnx"]  # no temporary file left
    proto = onnx.load(str(path))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["signalbench_model"] == name and meta["seq_len"] == str(model.window)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    L = model.window
    # raw features (scaling is inside the graph); float64 where a row transform takes differences of nearby prices
    dtype = np.float64 if name in BOOK else np.float32
    assert meta["input_dtype"] == np.dtype(dtype).name
    W = np.ascontiguousarray(windows(test.to_numpy(dtype), L))
    got = sess.run(None, {"windows": W})[0]
    if name == "multitask_lstm":
        expected = np.column_stack([model.predict_proba(test), model.predict_aux(test)])
    elif model.task == "regression":
        expected = model.predict(test)[:, None]
    else:
        expected = model.predict_proba(test)
    expected = expected[L - 1 :]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=ATOL.get(name, 1e-5), rtol=0)
    # dynamic batch: one window at a time gives the same numbers
    one = np.concatenate([sess.run(None, {"windows": W[i : i + 1]})[0] for i in range(5)])
    np.testing.assert_allclose(one, got[:5], atol=ATOL.get(name, 1e-5), rtol=0)


def test_export_does_not_change_the_model(tmp_path):
    model = signals.create("transformer", **MODELS["transformer"])
    X, y = model.example_data(120, 0)
    model.fit(X, y)
    before = model.predict_proba(X)
    model.export_onnx(tmp_path / "t.onnx")
    np.testing.assert_array_equal(model.predict_proba(X), before)
    assert not model.net_.training


def test_export_before_fit_is_an_error(tmp_path):
    with pytest.raises(signals.NotFittedError):
        signals.create("lstm").export_onnx(tmp_path / "x.onnx")
