"""Models by name: built-ins without entry points, third-party plugins through the entry-point group."""

from __future__ import annotations

import importlib.metadata
import sys
import types

import numpy as np
import pytest

import signalbench.signals as signals
from signalbench.signals import registry
from signalbench.signals.base import SignalModel
from signalbench.signals.checks import check_signal_model


class ToyPlugin(SignalModel):
    """A third-party model: logits from a mean of the window, fitted as class frequencies per sign bucket."""

    name = "toy_plugin"
    task = "classification"

    def __init__(self, *, seq_len: int = 3, smoothing: float = 1.0):
        self.seq_len = seq_len
        self.smoothing = smoothing

    def fit_prepared(self, X, y, rows, val, *, callback=None):
        import torch

        L = self.seq_len
        means = np.stack([X[r - L + 1 : r + 1, 0].mean() for r in rows])
        bucket = (means > 0).astype(int)
        k = len(self.classes_)
        table = np.full((2, k), float(self.smoothing))
        np.add.at(table, (bucket, y[rows].astype(int)), 1.0)
        self.table_ = table / table.sum(axis=1, keepdims=True)
        self._torch = torch

    def predict_prepared(self, X, start):
        L = self.seq_len
        csum = np.concatenate(([0.0], np.cumsum(X[:, 0], dtype=np.float64)))
        t = np.arange(start, X.shape[0])
        means = (csum[t + 1] - csum[t + 1 - L]) / L
        return self.table_[(means > 0).astype(int)]

    def get_learned_state(self):
        import torch

        return {}, {"table": torch.from_numpy(self.table_.copy())}

    def set_learned_state(self, meta, tensors):
        self.table_ = tensors["table"].numpy()


class _Dist:
    def __init__(self, name):
        self.name = name


def _fake_entry_points(monkeypatch, specs):
    """Make importlib.metadata.entry_points(group='signalbench.signals') return ``specs`` (name -> value)."""
    real = importlib.metadata.entry_points

    def fake(**kwargs):
        if kwargs.get("group") == registry.GROUP:
            eps = []
            for name, value in specs.items():
                ep = importlib.metadata.EntryPoint(name=name, value=value, group=registry.GROUP)
                eps.append(ep._for(_Dist("thirdparty-dist")) if hasattr(ep, "_for") else ep)
            return importlib.metadata.EntryPoints(eps)
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)


@pytest.fixture
def plugin_module(monkeypatch):
    mod = types.ModuleType("thirdparty_signals")
    mod.ToyPlugin = ToyPlugin
    monkeypatch.setitem(sys.modules, "thirdparty_signals", mod)
    return mod


def test_builtins_need_no_entry_points(monkeypatch):
    _fake_entry_points(monkeypatch, {})
    names = signals.available()
    for name in (
        "lstm",
        "transformer",
        "multitask_lstm",
        "lstm_regressor",
        "deeplob",
        "binctabl",
        "tlob",
        "mlplob",
        "majority",
        "persistence",
        "logistic",
        "ofi_sign",
        "lightgbm",
    ):
        assert name in names
        assert signals.get(name).name == name
    assert type(signals.create("lstm", hidden_size=4)).__name__ == "LSTMModel"


def test_plugin_is_listed_created_and_conforms(monkeypatch, plugin_module):
    _fake_entry_points(monkeypatch, {"toy_plugin": "thirdparty_signals:ToyPlugin"})
    assert "toy_plugin" in signals.available()
    model = signals.create("toy_plugin", seq_len=4)
    assert isinstance(model, ToyPlugin) and model.seq_len == 4
    check_signal_model(lambda: signals.create("toy_plugin", seq_len=4))


def test_plugin_listing_does_not_import(monkeypatch):
    _fake_entry_points(monkeypatch, {"lazy_one": "module_that_does_not_exist_xyz:Model"})
    assert "lazy_one" in signals.available()  # no import happened, so no error


def test_broken_plugin_is_named_in_the_error(monkeypatch):
    _fake_entry_points(monkeypatch, {"broken_model": "module_that_does_not_exist_xyz:Model"})
    with pytest.raises(signals.PluginLoadError, match=r"broken_model.*module_that_does_not_exist_xyz") as info:
        signals.create("broken_model")
    assert "thirdparty-dist" in str(info.value) or "unknown distribution" in str(info.value)
    assert isinstance(info.value.__cause__, ImportError)
    # the other models are unaffected
    assert signals.create("majority").name == "majority"


def test_plugin_that_is_not_a_model_is_rejected(monkeypatch, plugin_module):
    plugin_module.not_a_model = object
    _fake_entry_points(monkeypatch, {"odd": "thirdparty_signals:not_a_model"})
    with pytest.raises(signals.PluginLoadError, match="not a SignalModel"):
        signals.get("odd")


def test_plugin_name_must_match_entry_point(monkeypatch, plugin_module):
    _fake_entry_points(monkeypatch, {"other_name": "thirdparty_signals:ToyPlugin"})
    with pytest.raises(signals.PluginLoadError, match="must equal the entry-point name"):
        signals.get("other_name")


def test_entry_point_cannot_shadow_a_builtin(monkeypatch, plugin_module):
    _fake_entry_points(monkeypatch, {"lstm": "thirdparty_signals:ToyPlugin"})
    with pytest.warns(UserWarning, match="built in"):
        names = signals.available()
    assert names.count("lstm") == 1
    assert signals.get("lstm").__name__ == "LSTMModel"


def test_unknown_name_suggests_close_match():
    with pytest.raises(
        ValueError,
        match=r"^name: expected a signal model name \(one of .*lstm.*\), got 'lstn' \(did you mean 'lstm'\?\)$",
    ):
        signals.create("lstn")
    with pytest.raises(ValueError, match=r"one of binctabl, deeplob, .*, transformer\), got 'zzzzzz'$"):
        signals.create("zzzzzz")
    with pytest.raises(TypeError, match=r"^name: expected a signal model name \(str\), got 3 \(int\)$"):
        signals.create(3)


def test_unknown_hyperparameter_suggests_close_match():
    with pytest.raises(
        ValueError,
        match=r"^hiden_size: expected a hyperparameter of 'lstm' \(seq_len, .*\), got an unknown name "
        r"\(did you mean 'hidden_size'\?\)$",
    ):
        signals.create("lstm", hiden_size=8)
    with pytest.raises(ValueError, match=r"^seq_length: .*did you mean 'seq_len'"):
        signals.create("transformer").set_params(seq_length=3)
    with pytest.raises(ValueError, match=r"^hiden_size: .*did you mean 'hidden_size'"):
        signals.LSTMModel(hiden_size=8)  # the class itself, not only create()


def test_saved_plugin_model_loads_through_the_registry(monkeypatch, plugin_module, tmp_path):
    _fake_entry_points(monkeypatch, {"toy_plugin": "thirdparty_signals:ToyPlugin"})
    model = signals.create("toy_plugin")
    X, y = model.example_data(120, 3)
    model.fit(X, y)
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(signals.load(tmp_path / "m").predict_proba(X), model.predict_proba(X))


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTERED", {})


def test_check_signal_model_passes_on_a_class_registered_in_process(monkeypatch, clean_registry):
    _fake_entry_points(monkeypatch, {})  # not installed as a plugin
    assert signals.register("toy_plugin", ToyPlugin) is ToyPlugin
    assert "toy_plugin" in signals.available()
    assert isinstance(signals.create("toy_plugin", seq_len=4), ToyPlugin)
    check_signal_model(lambda: ToyPlugin(seq_len=4))


def test_an_unregistered_plugin_fails_save_load_with_how_to_register(monkeypatch, clean_registry, tmp_path):
    _fake_entry_points(monkeypatch, {})
    with pytest.raises(AssertionError, match=r"save_load.*'toy_plugin'.*signalbench\.signals\.register\(name, cls\)"):
        check_signal_model(lambda: ToyPlugin(seq_len=4))
    model = ToyPlugin().fit(*ToyPlugin().example_data(120, 3))
    model.save(tmp_path / "m")
    with pytest.raises(signals.ModelFileError, match=r"key 'model': .*'toy_plugin'.*register\(name, cls\).*entry"):
        signals.load(tmp_path / "m")


def test_register_checks_its_arguments(clean_registry):
    with pytest.raises(ValueError, match=r"^name: expected the class's name attribute 'toy_plugin', got 'other'; set "):
        signals.register("other", ToyPlugin)
    with pytest.raises(ValueError, match=r"^name: expected a name that is not a built-in model's, got 'lstm'"):
        signals.register("lstm", ToyPlugin)
    with pytest.raises(TypeError, match=r"^cls: expected a SignalModel subclass, got "):
        signals.register("toy_plugin", object)
    with pytest.raises(TypeError, match=r"^name: expected a signal model name \(str\)"):
        signals.register(3, ToyPlugin)
    assert "toy_plugin" not in signals.available()


def test_a_registered_class_wins_over_an_entry_point_of_its_name(monkeypatch, clean_registry):
    _fake_entry_points(monkeypatch, {"toy_plugin": "module_that_does_not_exist_xyz:Model"})
    signals.register("toy_plugin", ToyPlugin)
    assert signals.get("toy_plugin") is ToyPlugin


def test_a_model_without_the_public_hooks_is_told_which_to_write():
    class OldStyle(SignalModel):
        name = "old_style"

        def __init__(self, *, seq_len: int = 2):
            self.seq_len = seq_len

        def _fit(self, X, y, rows, val):  # the private name of an earlier release: not called
            self.done_ = True

    X, y = OldStyle().example_data(60, 0)
    with pytest.raises(NotImplementedError, match=r"OldStyle must implement fit_prepared\(X, y, rows, val"):
        OldStyle().fit(X, y)
