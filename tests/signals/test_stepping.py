"""Model steps (signalbench.signals.stepping): stepping rows one at a time gives predict_proba, row for row."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import signalbench.signals as signals

TRAIN = {"epochs": 1, "progress": False, "device": "cpu"}
WINDOW_MODELS = {
    "lstm": {"seq_len": 7, "hidden_size": 8, "head_size": 8, **TRAIN},
    "transformer": {"seq_len": 7, "d_model": 8, "nhead": 2, "dim_feedforward": 16, "head_size": 8, **TRAIN},
}
BACKENDS = ["torch", "onnxruntime"]
TOL = 1e-5


def _needs(backend):
    if backend == "onnxruntime":
        pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
        pytest.importorskip("onnx", reason="the onnx extra is not installed")


def step_all(stepper, X: np.ndarray, day_starts=()) -> np.ndarray:
    """Step every row of X in order, resetting at the given rows; (n, k)."""
    starts = set(day_starts)
    out = []
    for t, row in enumerate(X):
        if t in starts:
            stepper.reset()
        out.append(stepper.step(row))
    return np.array(out)


def assert_parity(got: np.ndarray, expected: np.ndarray) -> None:
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(expected), atol=TOL, rtol=0)


def with_days(X: np.ndarray, warmup: int, days: int) -> tuple[np.ndarray, list[int]]:
    """X cut into ``days`` days, each starting with ``warmup`` all-NaN rows (a feature warm-up)."""
    X = X.copy()
    starts = [int(s) for s in np.linspace(0, len(X), days, endpoint=False)]
    for s in starts:
        X[s : s + warmup] = np.nan
    return X, starts


@pytest.fixture(scope="module")
def window_models():
    fitted = {}
    for name, params in WINDOW_MODELS.items():
        model = signals.create(name, **params)
        X, y = model.example_data(400, 3)
        fitted[name] = (model.fit(X.iloc[:250], y[:250]), X.iloc[250:].to_numpy())
    return fitted


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(WINDOW_MODELS))
def test_window_step_equals_predict_proba(window_models, name, backend):
    _needs(backend)
    model, X = window_models[name]
    X, starts = with_days(X, warmup=3, days=3)
    X[60, 2] = np.nan  # a missing value mid-day blanks the windows holding it
    stepper = model.stepper("window", backend)
    assert (stepper.mode, stepper.backend, stepper.window) == ("window", backend, model.window)
    assert stepper.classes == tuple(model.classes_.tolist())
    assert stepper.feature_names == tuple(model.feature_names_in_)
    got = step_all(stepper, X, starts)
    expected = model.predict_proba(X)
    assert np.isnan(expected[60:67]).all() and np.isfinite(expected[67]).all()
    assert_parity(got, expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_window_step_of_a_model_with_a_row_transform(backend):
    _needs(backend)
    model = signals.create(
        "deeplob", seq_len=8, time_kernel=2, conv_channels=4, inception_channels=4, lstm_hidden=8, **TRAIN
    )
    X, y = model.example_data(300, 1)
    model.fit(X.iloc[:200], y[:200])
    test = X.iloc[200:].to_numpy()
    assert_parity(step_all(model.stepper(backend=backend), test), model.predict_proba(test))


def test_window_step_of_a_model_without_a_network():
    model = signals.create("logistic")
    X, y = model.example_data(300, 2)
    model.fit(X.iloc[:200], y[:200])
    test = X.iloc[200:].to_numpy().copy()
    test[10] = np.nan
    assert_parity(step_all(model.stepper(), test), model.predict_proba(test))
    with pytest.raises(ValueError, match="backend"):
        model.stepper(backend="onnxruntime")


@pytest.mark.shared_data
@pytest.mark.parametrize("backend", BACKENDS)
def test_window_step_on_amzn_features(shared_data, backend):
    _needs(backend)
    from signalbench.data import compute_features, load_lobster
    from signalbench.data.labels import direction

    df = load_lobster(shared_data / "lobster" / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip").iloc[:3000]
    X = compute_features(df, "lob_basic")
    mid = (df["ask_price_1"] + df["bid_price_1"]).to_numpy() / 2
    y = np.asarray(direction(mid, 10))
    model = signals.create("lstm", seq_len=10, hidden_size=8, head_size=8, **TRAIN).fit(X.iloc[:2000], y[:2000])
    values = X.to_numpy()
    assert np.isnan(values[0]).any()  # the feature warm-up is stepped through too
    stepper = model.stepper("window", backend)
    assert stepper.feature_names == tuple(X.columns)
    assert_parity(step_all(stepper, values), model.predict_proba(X))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 149), backend=st.sampled_from(BACKENDS))
def test_window_state_checkpoint_continues_identically(window_models, cut, backend):
    _needs(backend)
    model, X = window_models["lstm"]
    X, _ = with_days(X[:150], warmup=2, days=2)
    a = model.stepper("window", backend)
    first = step_all(a, X[:cut])
    state = a.get_state()
    b = model.stepper("window", backend)
    b.set_state(state)
    rest_b = step_all(b, X[cut:])
    rest_a = step_all(a, X[cut:])
    np.testing.assert_array_equal(rest_a, rest_b)
    got = np.concatenate([first.reshape(-1, len(model.classes_)), rest_b])
    assert_parity(got, model.predict_proba(X))


def test_stateful_mode_of_a_window_model_is_an_error(window_models):
    model, _ = window_models["lstm"]
    with pytest.raises(ValueError, match="^mode: "):
        model.stepper("stateful")
    with pytest.raises(ValueError, match="mode"):
        model.stepper("streaming")
    with pytest.raises(ValueError, match="backend"):
        model.stepper("window", "tensorrt")


def test_bad_rows_are_errors(window_models):
    model, X = window_models["lstm"]
    stepper = model.stepper()
    with pytest.raises(ValueError, match="^x: .*4 features"):
        stepper.step(X[0, :3])
    with pytest.raises(ValueError, match="^x: "):
        stepper.step(X[:2])
    with pytest.raises(TypeError, match="^x: "):
        stepper.step(["a", "b", "c", "d"])
    bad = X[0].copy()
    bad[1] = np.inf
    with pytest.raises(ValueError, match="^x: expected no infinite values"):
        stepper.step(bad)
    with pytest.raises(signals.NotFittedError):
        signals.create("lstm").stepper()


def test_bad_states_are_errors(window_models):
    model, X = window_models["lstm"]
    stepper = model.stepper()
    with pytest.raises(TypeError, match="^state: "):
        stepper.set_state([1, 2])
    with pytest.raises(ValueError, match="rows"):
        stepper.set_state({"run": np.array(0)})
    with pytest.raises(ValueError, match=r"state\['rows'\]"):
        stepper.set_state({"rows": np.zeros((3, 4)), "run": np.array(0)})


def test_onnxruntime_missing_names_the_extra(window_models, monkeypatch):
    model, _ = window_models["lstm"]
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r"signalbench\[onnx\]"):
        model.stepper("window", "onnxruntime")
