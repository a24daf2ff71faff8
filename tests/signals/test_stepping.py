"""Model steps (signalbench.signals.stepping): stepping rows one at a time gives predict_proba, row for row."""

from __future__ import annotations

import copy
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import signalbench.signals as signals
from tests.conftest import require_module

TRAIN = {"epochs": 1, "progress": False, "device": "cpu"}
WINDOW_MODELS = {
    "lstm": {"seq_len": 7, "hidden_size": 8, "head_size": 8, **TRAIN},
    "transformer": {"seq_len": 7, "d_model": 8, "nhead": 2, "dim_feedforward": 16, "head_size": 8, **TRAIN},
}
BACKENDS = ["torch", "onnxruntime"]
TOL = 1e-5


def _needs(backend):
    if backend == "onnxruntime":
        require_module("onnxruntime", extra="onnx")
        require_module("onnx", extra="onnx")


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


# ------------------------------------------------------------------------------------------------ stateful mode

STATEFUL = {"hidden_size": 8, "num_layers": 2, "tbptt_len": 25, "batch_size": 4, "epochs": 2, **TRAIN}


@pytest.fixture(scope="module")
def stateful_model(tmp_path_factory):
    """A fitted stateful_lstm, saved and loaded back (the stepper of a loaded model is what a stream serves)."""
    model = signals.create("stateful_lstm", **STATEFUL)
    X, y = model.example_data(500, 4)
    X, _ = with_days(X.to_numpy(), warmup=3, days=2)
    model.fit(X[:300], y[:300], X_val=X[300:350], y_val=y[300:350])
    path = model.save(tmp_path_factory.mktemp("models") / "stateful")
    loaded = signals.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    return loaded, X[300:]


@pytest.mark.parametrize("backend", BACKENDS)
def test_stateful_step_equals_predict_proba(stateful_model, backend):
    _needs(backend)
    model, X = stateful_model
    X, starts = with_days(X, warmup=2, days=2)
    X[40, 1] = np.nan  # a NaN row mid-day: NaN output and the state restarts after it
    stepper = model.stepper("stateful", backend)
    assert (stepper.mode, stepper.backend, stepper.window) == ("stateful", backend, 1)
    expected = model.predict_proba(X)
    assert np.isnan(expected[40]).all() and np.isfinite(expected[41]).all()
    assert_parity(step_all(stepper, X, starts), expected)
    # the recurrence matters: row 60 with a fresh state at row 41 differs from row 60 predicted alone
    assert np.abs(model.predict_proba(X[60:61])[0] - expected[60]).max() > 1e-4


@pytest.mark.shared_data
@pytest.mark.parametrize("backend", BACKENDS)
def test_stateful_step_on_amzn_features(shared_data, backend):
    _needs(backend)
    from signalbench.data import compute_features, load_lobster
    from signalbench.data.labels import direction

    df = load_lobster(shared_data / "lobster" / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip").iloc[:3000]
    X = compute_features(df, "lob_basic")
    mid = (df["ask_price_1"] + df["bid_price_1"]).to_numpy() / 2
    y = np.asarray(direction(mid, 10))
    model = signals.create("stateful_lstm", hidden_size=16, tbptt_len=50, batch_size=8, **TRAIN)
    model.fit(X.iloc[:2000], y[:2000])
    stepper = model.stepper("stateful", backend)
    assert stepper.feature_names == tuple(X.columns)
    expected = model.predict_proba(X)
    assert np.isnan(expected[0]).all() and np.isfinite(expected[-1]).all()  # the warm-up, then one run
    assert_parity(step_all(stepper, X.to_numpy()), expected)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 199), backend=st.sampled_from(BACKENDS), other=st.sampled_from(BACKENDS))
def test_stateful_state_checkpoint_continues_identically(stateful_model, cut, backend, other):
    _needs(backend)
    _needs(other)
    model, X = stateful_model
    X = X[:200]
    a = model.stepper("stateful", backend)
    step_all(a, X[:cut])
    state = a.get_state()
    assert set(state) == {"h", "c"} and state["h"].shape == (2, 8)
    b = model.stepper("stateful", backend)
    b.set_state(state)
    rest_a, rest_b = step_all(a, X[cut:]), step_all(b, X[cut:])
    np.testing.assert_array_equal(rest_a, rest_b)  # same backend: bit for bit
    c = model.stepper("stateful", other)  # a state moves between backends
    c.set_state(state)
    assert_parity(step_all(c, X[cut:]), model.predict_proba(X)[cut:])


def test_stateful_errors(stateful_model):
    model, X = stateful_model
    with pytest.raises(ValueError, match="^mode: "):
        model.stepper("window")
    stepper = model.stepper("stateful")
    with pytest.raises(ValueError, match="^x: "):
        stepper.step(np.zeros(model.n_features_in_ + 1))
    with pytest.raises(ValueError, match=r"state\['h'\]"):
        stepper.set_state({"h": np.zeros((1, 8)), "c": np.zeros((2, 8))})
    with pytest.raises(ValueError, match="'c'"):
        stepper.set_state({"h": np.zeros((2, 8))})


def test_onnx_step_graph_file(stateful_model, tmp_path):
    _needs("onnxruntime")
    import onnx
    import onnxruntime as ort

    from signalbench.signals.onnx import export_onnx_step

    model, X = stateful_model
    path = export_onnx_step(model, tmp_path / "step.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step.onnx"]  # no temporary file left
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["graph"] == "step" and meta["signalbench_model"] == "stateful_lstm"
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    h = c = np.zeros((2, 1, 8), dtype=np.float32)
    rows = X[3:40]  # after the first day's warm-up: one run
    got = []
    for row in rows:
        p, h, c = sess.run(None, {"x": row[None], "h": h, "c": c})
        got.append(p[0])
    np.testing.assert_allclose(np.array(got), model.predict_proba(rows), atol=TOL, rtol=0)
    with pytest.raises(ValueError, match="^model: "):
        export_onnx_step(signals.create("logistic").fit(*signals.create("logistic").example_data(100)), path)


def planted(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A marker every 30-60 rows carries a sign; the label is the sign of the latest marker, NaN before the first.

    No single row tells the label (the marker is 30-60 rows back): only a model that remembers can beat chance.
    """
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.zeros(n), np.zeros(n), rng.standard_normal(n)])
    y = np.full(n, np.nan)
    t = int(rng.integers(0, 30))
    while t < n:
        sign = rng.choice([-1.0, 1.0])
        X[t, :2] = 1.0, sign
        y[t : t + 60] = 1.0 if sign > 0 else 0.0
        t += int(rng.integers(30, 60))
    X[n // 2 : n // 2 + 5] = np.nan  # a day boundary: the state restarts
    y[n // 2 : n // 2 + 5] = np.nan
    return X, y


def test_tbptt_learns_a_signal_from_far_back():
    X, y = planted(5000, 0)
    Xt, yt = planted(2000, 1)
    params = {**TRAIN, "epochs": 8, "lr": 1e-2}
    model = signals.create("stateful_lstm", hidden_size=16, num_layers=1, tbptt_len=100, batch_size=8, **params)
    model.fit(X, y)
    ok = np.isfinite(yt) & np.isfinite(Xt).all(axis=1)
    accuracy = np.mean(model.predict(Xt)[ok] == yt[ok])
    memoryless = signals.create("logistic").fit(X, y).predict(Xt)
    chance = max(np.mean(yt[ok] == 0), np.mean(yt[ok] == 1))  # always answering the commoner class
    assert np.mean(memoryless[ok] == yt[ok]) < chance + 0.05  # the current row alone does not beat chance
    assert accuracy > 0.9


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "mode"), [("lstm", "window"), ("stateful_lstm", "stateful")])
def test_online_features_then_step_equal_offline_predictions(shared_data, name, mode):
    """The streaming path end to end (issue 12): each event's online feature row, stepped, is predict_proba's row."""
    import signalbench.data as data
    from signalbench.data.labels import direction

    df = data.load_lobster(shared_data / "lobster" / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip").iloc[:2500]
    X = data.compute_features(df, "lob_basic")
    mid = (df["ask_price_1"] + df["bid_price_1"]).to_numpy() / 2
    params = {"seq_len": 10, "head_size": 8} if name == "lstm" else {"tbptt_len": 50}
    model = signals.create(name, hidden_size=8, **params, **TRAIN).fit(X.iloc[:1500], direction(mid, 10)[:1500])
    online = data.OnlineFeatures("lob_basic")
    events = df[list(online.fields)].to_numpy(np.float64)
    expected = model.predict_proba(X)
    for backend in BACKENDS:
        _needs(backend)
        online.reset()
        stepper = model.stepper(mode, backend)
        assert stepper.feature_names == online.names
        got = np.array([stepper.step(online.update(event)) for event in events])
        assert_parity(got, expected)


def test_torch_steps_leave_the_callers_thread_setting(window_models, stateful_model):
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        window_models["lstm"][0].stepper().step(window_models["lstm"][1][0])
        stateful = stateful_model[0].stepper("stateful")
        stateful.step(stateful_model[1][5])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_regressor_steps_its_value(backend):
    _needs(backend)
    model = signals.create("lstm_regressor", seq_len=5, hidden_size=8, **TRAIN)
    X, y = model.example_data(250, 3)
    model.fit(X.iloc[:150], y[:150])
    test = X.iloc[150:].to_numpy()
    stepper = model.stepper(backend=backend)
    assert stepper.classes == ()
    assert_parity(step_all(stepper, test), model.predict(test)[:, None])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_row_the_model_rejects_names_x_and_its_row(backend):
    _needs(backend)
    model = signals.create(
        "deeplob", seq_len=8, time_kernel=2, conv_channels=4, inception_channels=4, lstm_hidden=8, **TRAIN
    )
    X, y = model.example_data(300, 1)
    model.fit(X.iloc[:200], y[:200])
    test = X.iloc[200:].to_numpy()
    bad = test[0].copy()
    bad[[0, 2]] = [-1.0, -1.2]  # ask_price_1, bid_price_1: mid -1.1
    stepper = model.stepper(backend=backend)
    no_mid = r"^x: expected order-book prices > 0 \(a positive mid\), got -1\.1 at row {} stepped since the last reset$"
    got = [stepper.step(row) for row in test[:3]]  # in the warm-up: the row is checked before its window is full
    with pytest.raises(ValueError, match=no_mid.format(3)):
        stepper.step(bad)
    got += [stepper.step(row) for row in test[3:20]]  # the rejected row left no trace
    with pytest.raises(ValueError, match=no_mid.format(20)):  # a full window: was "X: ... at row 7" (torch), or
        stepper.step(bad)  # no error at all (onnxruntime: the graph divides by the negative mid)
    got += [stepper.step(row) for row in test[20:40]]
    assert_parity(np.array(got), model.predict_proba(test[:40]))
    stepper.reset()
    stepper.step(test[0])
    with pytest.raises(ValueError, match=no_mid.format(1)):  # counted again from the reset
        stepper.step(bad)
    rows = test[:8].copy()
    rows[5] = bad
    with pytest.raises(ValueError, match=r"^state\['rows'\]: expected order-book prices > 0 .* at row 5$"):
        stepper.set_state({"rows": rows, "run": np.array(8)})
    nan_mid = bad.copy()
    nan_mid[0] = np.nan  # a missing price is a gap, not an error (as in predict_proba)
    assert np.isnan(stepper.step(nan_mid)).all()


def _count_exports(monkeypatch) -> list:
    import torch

    calls = []
    export = torch.onnx.export

    def counting(*args, **kwargs):
        calls.append(1)
        return export(*args, **kwargs)

    monkeypatch.setattr(torch.onnx, "export", counting)
    return calls


def test_a_second_onnxruntime_stepper_does_not_export_again(window_models, stateful_model, monkeypatch):
    _needs("onnxruntime")
    _, X = window_models["lstm"]
    model = signals.create("lstm", **WINDOW_MODELS["lstm"])  # its own model: this test fits it twice
    data, y = model.example_data(400, 3)
    model.fit(data.iloc[:250], y[:250])
    calls = _count_exports(monkeypatch)
    first = step_all(model.stepper(backend="onnxruntime"), X[:30])
    assert len(calls) == 1
    second = step_all(model.stepper(backend="onnxruntime"), X[:30])
    assert len(calls) == 1  # the graph exported for the first stepper is reused
    np.testing.assert_array_equal(first, second)
    model.fit(data.iloc[100:350], y[100:350])  # refit on other rows: other weights, the same classes
    refit = step_all(model.stepper(backend="onnxruntime"), X[:30])
    assert len(calls) == 2
    assert_parity(refit, model.predict_proba(X[:30]))  # a stale graph would give the first fit's probabilities
    assert np.nanmax(np.abs(refit - first)) > 10 * TOL  # so that the parity above tells a stale graph apart
    model.set_params(predict_batch_size=7)
    model.stepper(backend="onnxruntime")
    assert len(calls) == 3
    stateful, Xs = stateful_model  # other tests may have made its steppers (and cached its graph): a copy, then
    stateful = copy.deepcopy(stateful).set_params(predict_batch_size=99)  # set_params drops the copied cache
    a = step_all(stateful.stepper("stateful", "onnxruntime"), Xs[:30])
    b = step_all(stateful.stepper("stateful", "onnxruntime"), Xs[:30])
    assert len(calls) == 4  # the single-step graph: one export for both steppers
    np.testing.assert_array_equal(a, b)
