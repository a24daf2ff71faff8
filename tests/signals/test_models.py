"""Behaviour of the models beyond the conformance suite: scaling on training rows, feature checks, save format,
training loop (early stopping on validation, history, class weights), DeepLOB's layout, and the suite catching
broken models."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

import signalbench
import signalbench.signals as signals
from signalbench.signals.base import SignalModelWarning
from signalbench.signals.checks import check_signal_model, signal_model_checks
from signalbench.signals.models import LSTMModel

TINY = {"seq_len": 5, "hidden_size": 8, "head_size": 8, "epochs": 2, "batch_size": 64, "progress": False}


@pytest.fixture(scope="module")
def data():
    return LSTMModel().example_data(300, 0)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return signals.create("lstm", **TINY).fit(X, y)


def test_scaler_uses_training_rows_only(data):
    X, y = data
    model = signals.create("logistic").fit(X.iloc[:200], y[:200])
    np.testing.assert_allclose(model.scaler_mean_, X.iloc[:200].mean().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(model.scaler_scale_, X.iloc[:200].std(ddof=0).to_numpy(), rtol=1e-12)
    # validation data does not move the scaler
    with_val = signals.create("lstm", **TINY).fit(X.iloc[:200], y[:200], X_val=X.iloc[200:] * 10, y_val=y[200:])
    np.testing.assert_allclose(with_val.scaler_mean_, model.scaler_mean_, rtol=1e-12)
    # nor do unlabelled rows after the last training row (e.g. a test period passed as context)
    X_more = pd.concat([X.iloc[:200], X.iloc[200:] * 10 + 5])
    y_more = np.r_[y[:200], np.full(len(X) - 200, np.nan)]
    with_tail = signals.create("logistic").fit(X_more, y_more)
    last = int(np.flatnonzero(np.isfinite(y[:200]))[-1])
    np.testing.assert_allclose(with_tail.scaler_mean_, X.iloc[: last + 1].mean().to_numpy(), rtol=1e-12)


def test_wrong_feature_names_are_a_clear_error(fitted, data):
    X, _ = data
    with pytest.raises(ValueError, match=r"missing \['f2'\], unexpected \['spread'\]"):
        fitted.predict_proba(X.rename(columns={"f2": "spread"}))
    with pytest.raises(ValueError, match=r"X: expected 4 feature columns \(as in fit\), got 3"):
        fitted.predict_proba(X.iloc[:, :3])
    with pytest.raises(ValueError, match="different order"):
        fitted.predict_proba(X[["f1", "f0", "f2", "f3"]])
    # a plain array of the right width is accepted (it has no names to check) and gives the same numbers
    np.testing.assert_array_equal(fitted.predict_proba(X.to_numpy()), fitted.predict_proba(X))


def test_bad_inputs_name_the_argument(data):
    X, y = data
    model = signals.create("lstm", **TINY)
    with pytest.raises(ValueError, match=r"^y: expected 300 rows \(one label per row of X\), got 299$"):
        model.fit(X, y[:-1])
    with pytest.raises(ValueError, match=r"^y: expected integer class labels \(or NaN\), got 0.5 \(float\) at row 0$"):
        model.fit(X, y + 0.5)
    with pytest.raises(TypeError, match=r"^y_val: expected a value when X_val is given"):
        model.fit(X, y, X_val=X)
    with pytest.raises(ValueError, match=r"^X_val: expected 4 feature columns \(as in fit\), got 3$"):
        model.fit(X, y, X_val=X.iloc[:, :3].to_numpy(), y_val=y)
    with pytest.raises(
        ValueError, match=r"^y_val: expected the classes of the training labels \[0, 1, 2\], got classes \[7\]"
    ):
        model.fit(X, y, X_val=X, y_val=np.full(len(y), 7.0))
    with pytest.raises(ValueError, match=r"^y: expected at least two distinct classes .*, got \[1.0\]$"):
        model.fit(X, np.ones(len(y)))
    with pytest.raises(signals.NotFittedError, match="not fitted"):
        signals.create("lstm").predict_proba(X)


def test_wrong_kinds_of_input_are_type_errors(data):
    """The library's rule: strings, datetimes and objects where numbers are expected are a TypeError naming the
    argument (and column); today's ValueError for a wrong kind is gone."""
    X, y = data
    model = signals.create("logistic")
    with pytest.raises(TypeError, match=r"^X: expected numbers, got datetimes .* at column 'when'"):
        model.fit(X.assign(when=pd.date_range("2024-01-01", periods=len(X), freq="s")), y)
    with pytest.raises(TypeError, match=r"^X: expected numbers, got 'n/a' at row 3, column 'f1'"):
        model.fit(X.astype(object).assign(f1=lambda d: d["f1"].where(d.index != 3, "n/a")), y)
    with pytest.raises(TypeError, match=r"^y: expected numbers, got strings"):
        model.fit(X, y.astype(str))
    with pytest.raises(TypeError, match=r"^X: expected a 2-D array of numbers \(rows, features\), got 'abc'"):
        model.fit("abc", y)
    with pytest.raises(ValueError, match=r"^X: expected a 2-D array \(rows, features\), got shape \(300,\)$"):
        model.fit(X["f0"].to_numpy(), y)
    with pytest.raises(ValueError, match=r"^X: expected no infinite values, got inf at row 5, column 'f2'"):
        model.fit(X.assign(f2=np.where(np.arange(len(X)) == 5, np.inf, X["f2"])), y)
    with pytest.raises(TypeError, match=r"^callback: expected a callable"):
        model.fit(X, y, callback="print")


def test_regressor_has_no_predict_proba(data):
    X, _ = data
    model = signals.create("lstm_regressor", seq_len=5, hidden_size=8, epochs=1, progress=False)
    X, y = model.example_data(200, 0)
    model.fit(X, y)
    with pytest.raises(AttributeError, match="regression model: use predict"):
        model.predict_proba(X)
    assert model.predict(X).shape == (200,)


def test_save_format_is_json_plus_state_dict(fitted, data, tmp_path):
    X, _ = data
    path = fitted.save(tmp_path / "lstm")
    meta = json.loads((path / "model.json").read_text())
    assert meta["model"] == "lstm"
    assert meta["library_version"] == signalbench.__version__
    assert meta["feature_names"] == ["f0", "f1", "f2", "f3"]
    assert meta["classes"] == [0, 1, 2] and meta["seq_len"] == 5
    assert meta["params"]["hidden_size"] == 8
    np.testing.assert_array_equal(meta["scaler"]["mean"], fitted.scaler_mean_)  # exact float round trip
    assert meta["state"]["net_config"]["hidden_size"] == 8 and len(meta["state"]["history"]) == 2
    weights = torch.load(path / "weights.pt", weights_only=True)
    assert set(weights) == set(fitted.net_.state_dict())
    # torch.save writes a zip; no pickled module or class is inside, only tensor storages and the dict of them
    with zipfile.ZipFile(path / "weights.pt") as zf:
        pickled = zf.read(next(n for n in zf.namelist() if n.endswith("data.pkl")))
    assert b"LSTMNet" not in pickled and b"signalbench" not in pickled


def test_load_errors_and_version_warning(fitted, tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved signal model"):
        signals.load(tmp_path / "nothing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "model.json").write_text('{"format": "something else"}')
    with pytest.raises(
        signals.ModelFileError, match=r"model.json key 'format': expected .*signal model.*, got 'something else'"
    ):
        signals.load(tmp_path / "bad")
    path = fitted.save(tmp_path / "m")
    meta = json.loads((path / "model.json").read_text())
    meta["library_version"] = "99.0.0"
    (path / "model.json").write_text(json.dumps(meta))
    with pytest.warns(SignalModelWarning, match="newer"):
        signals.load(path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="not a saved signal model"):
        fitted.save(tmp_path / "file", overwrite=True)


def test_early_stopping_restores_best_validation_weights(data):
    X, y = data
    model = signals.create("lstm", **{**TINY, "epochs": 12, "lr": 0.05, "patience": 2, "lr_patience": 10})
    model.fit(X.iloc[:200], y[:200], X_val=X.iloc[200:], y_val=y[200:])
    hist = pd.DataFrame(model.history_)
    assert list(hist.columns[:5]) == ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"]
    best = int(hist["val_loss"].idxmin())
    # stopped `patience` epochs after the best one (or ran out of epochs)
    assert len(hist) == min(12, best + 1 + 2)
    # the kept weights are the best epoch's: re-evaluating the validation loss reproduces its minimum
    p = model.predict_proba(X.iloc[200:])
    rows = np.arange(4, 100)
    loss = -np.mean(np.log(p[rows, y[200:][rows].astype(int)]))
    assert loss == pytest.approx(hist["val_loss"].min(), rel=1e-5)


def test_without_validation_all_epochs_run(data):
    X, y = data
    model = signals.create("lstm", **{**TINY, "epochs": 3}).fit(X, y)
    assert [h["epoch"] for h in model.history_] == [1, 2, 3]
    assert all(np.isnan(h["val_loss"]) for h in model.history_)


def test_class_weights_change_the_fit(data):
    X, y = data
    plain = signals.create("lstm", **TINY).fit(X, y).predict_proba(X)
    weighted = signals.create("lstm", **TINY, class_weight=[1.0, 5.0, 1.0]).fit(X, y).predict_proba(X)
    assert np.nanmean(weighted[:, 1]) > np.nanmean(plain[:, 1]) + 0.01
    with pytest.raises(ValueError, match=r"^class_weight: expected 3 weights, one per class \[0, 1, 2\], got 2$"):
        signals.create("lstm", **TINY, class_weight=[1.0, 2.0]).fit(X, y)
    with pytest.raises(ValueError, match=r"^class_weight\[1\]: expected a finite number >= 0, got -2.0"):
        signals.create("lstm", class_weight=[1.0, -2.0, 1.0])  # at construction, not at fit


def test_fit_leaves_global_torch_rng_alone(data):
    X, y = data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    signals.create("lstm", **TINY).fit(X, y)
    assert torch.equal(torch.rand(3), expected)


def test_multitask_forecasts_the_auxiliary_target():
    model = signals.create(
        "multitask_lstm", seq_len=3, hidden_size=16, head_size=16, epochs=15, progress=False, dropout=0.0
    )
    X, y = model.example_data(600, 1)
    model.fit(X.iloc[:450], y[:450])
    aux = model.predict_aux(X.iloc[450:])[2:]
    truth = y[450:, 1][2:]
    assert np.corrcoef(aux, truth)[0, 1] > 0.5  # the generator drives it by f1 at t
    with pytest.raises(ValueError, match=r"^y: expected two columns .*, got shape \(600,\)$"):
        model.fit(X, y[:, 0])


def test_deeplob_expects_the_book_layout():
    model = signals.create(
        "deeplob",
        seq_len=8,
        time_kernel=2,
        conv_channels=4,
        inception_channels=4,
        lstm_hidden=4,
        epochs=1,
        progress=False,
    )
    X, y = model.example_data(200, 0)
    assert list(X.columns) == signals.DeepLOBModel.book_columns(2)
    with pytest.raises(ValueError, match=r"got 'bid_price_1' at column 1 where 'ask_size_1' belongs"):
        model.fit(X[["ask_price_1", "bid_price_1", "ask_size_1", *X.columns[3:]]], y)
    with pytest.raises(ValueError, match=r"\(4 columns per level\), got 6 columns"):
        model.fit(X.iloc[:, :6], y)
    with pytest.raises(ValueError, match=r"^seq_len: expected at least 6 \* \(time_kernel - 1\) \+ 1 = 19 .*, got 10$"):
        signals.create("deeplob", seq_len=10)  # when the model is made
    model.fit(X.to_numpy(), y)  # an array in the documented order is accepted


class _DropoutLeftOn(LSTMModel):
    name = "lstm"

    def predict_prepared(self, X, start):  # the classic bug: no eval(), so dropout stays active
        from signalbench.data.windowing import iter_batches

        self.net_.train()
        with torch.no_grad():
            out = [torch.softmax(self.net_(xb).double(), 1).numpy() for xb in iter_batches(X, 5, 64, start=start)]
        self.net_.eval()
        return np.concatenate(out)


class _LooksAhead(signals.MajorityModel):
    def predict_prepared(self, X, start):
        nxt = np.r_[X[start + 1 :, 0], 0.0]
        p = np.tile(self.class_prior_, (X.shape[0] - start, 1))
        p[:, 0] = 1 / (1 + np.exp(-nxt))
        return p / p.sum(axis=1, keepdims=True)


class _Unseeded(signals.LogisticModel):
    def fit_prepared(self, X, y, rows, val, *, callback=None):
        super().fit_prepared(X, y, rows, val, callback=callback)
        self.coef_ = self.coef_ + np.random.default_rng().normal(size=self.coef_.shape)


@pytest.mark.parametrize(
    ("factory", "failure"),
    [
        (lambda: _LooksAhead(), "causality"),
        (lambda: _Unseeded(), "determinism"),
        (lambda: _DropoutLeftOn(**{**TINY, "dropout": 0.5}), "batch_invariance"),
    ],
    ids=["look-ahead", "unseeded", "dropout-in-predict"],
)
def test_suite_catches_broken_models(factory, failure):
    check = next(c for c in signal_model_checks(factory) if c.name == failure)
    with pytest.raises(AssertionError, match=rf"check_signal_model\[{failure}\]"):
        check()


def test_suite_rejects_a_model_registered_under_another_class():
    with pytest.raises(AssertionError, match=r"init_params.*registry's 'majority'"):
        check_signal_model(lambda: _LooksAhead())


def test_a_frame_out_of_time_order_is_an_error(data):
    X, y = data
    timed = X.set_index(pd.date_range("2024-03-04 09:30", periods=len(X), freq="s"))
    model = signals.create("logistic").fit(timed, y)
    backwards = timed.iloc[::-1]
    with pytest.raises(ValueError, match=r"^X's index: expected timestamps sorted in time .* at row 1; sort it first"):
        model.predict_proba(backwards)
    with pytest.raises(ValueError, match=r"^X's index: expected timestamps sorted in time"):
        signals.create("logistic").fit(backwards, y[::-1])


def test_predicting_with_no_complete_window_warns(fitted, data):
    from signalbench._validation import EmptyResultWarning

    X, _ = data
    holes = X.copy()
    holes.iloc[::3, 0] = np.nan  # every window of 5 rows holds a NaN
    with pytest.warns(EmptyResultWarning, match=r"no row has a complete window of seq_len=5 finite rows"):
        out = fitted.predict_proba(holes)
    assert np.isnan(out).all()
