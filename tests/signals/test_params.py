"""Hyperparameters: declared once, checked when a model is made or changed (not minutes into fit), by the library's
rule (TypeError for a wrong kind, ValueError for a wrong value), with a "did you mean" for unknown names."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import signalbench as sb
import signalbench.signals as signals
from signalbench.signals.registry import BUILTINS

# (model, hyperparameter, value, exception, message): one row per class of mistake
BAD = [
    ("lstm", "seq_len", 1.5, TypeError, r"^seq_len: expected an integer >= 1, got 1\.5 \(float\)$"),
    ("lstm", "seq_len", "20", TypeError, r"^seq_len: expected an integer >= 1, got '20'$"),
    ("lstm", "seq_len", True, TypeError, r"^seq_len: expected an integer >= 1, got True$"),
    ("lstm", "seq_len", 0, ValueError, r"^seq_len: expected an integer >= 1, got 0 \(int\)$"),
    ("lstm", "seq_len", 2**70, ValueError, r"^seq_len: expected an integer >= 1 and at most 2\*\*62"),
    ("lstm", "bidirectional", "yes", TypeError, r"^bidirectional: expected True or False, got 'yes'$"),
    ("lstm", "bidirectional", 1, TypeError, r"^bidirectional: expected True or False, got 1 \(int\)$"),
    ("lstm", "dropout", 1.5, ValueError, r"^dropout: expected a finite number in \[0, 1\), got 1\.5 \(float\)$"),
    ("lstm", "dropout", float("nan"), ValueError, r"^dropout: expected a finite number in \[0, 1\)"),
    ("lstm", "dropout", "0.1", TypeError, r"^dropout: expected a finite number in \[0, 1\), got '0\.1'$"),
    ("lstm", "pooling", "atention", ValueError, r"^pooling: expected one of .*\(did you mean 'attention'\?\)$"),
    ("lstm", "pooling", 3, TypeError, r"^pooling: expected one of 'attention', 'last', 'mean', got 3 \(int\)$"),
    ("lstm", "lr", 0.0, ValueError, r"^lr: expected a finite number > 0, got 0\.0"),
    ("lstm", "clip_grad_norm", -1.0, ValueError, r"^clip_grad_norm: expected a finite number > 0 or None"),
    ("lstm", "patience", 2.0, TypeError, r"^patience: expected an integer >= 0, got 2\.0 \(float\)$"),
    ("lstm", "max_windows_per_epoch", 0, ValueError, r"^max_windows_per_epoch: expected an integer >= 1 or None"),
    ("lstm", "progress", "no", TypeError, r"^progress: expected True, False or None, got 'no'$"),
    ("lstm", "class_weight", "balancd", ValueError, r"^class_weight: expected .*\(did you mean 'balanced'\?\)$"),
    ("lstm", "class_weight", 3, TypeError, r"^class_weight: expected None, 'balanced' or a list"),
    ("lstm", "class_weight", [1.0, "x"], TypeError, r"^class_weight\[1\]: expected a finite number >= 0, got 'x'$"),
    ("lstm", "seed", -1, ValueError, r"^seed: expected an integer >= 0, got -1 \(int\)$"),
    ("lstm", "seed", 0.5, TypeError, r"^seed: expected an integer >= 0, got 0\.5 \(float\)$"),
    ("lstm", "device", 0, TypeError, r"^device: expected 'auto', 'cpu', 'cuda', .*, got 0 \(int\)$"),
    ("lstm", "device", "gpu", ValueError, r"^device: expected 'auto', 'cpu', 'cuda', .*, got 'gpu'$"),
    ("transformer", "nhead", 3, ValueError, r"^nhead: expected a divisor of d_model = 64, got 3$"),
    ("deeplob", "seq_len", 10, ValueError, r"^seq_len: expected at least 6 \* \(time_kernel - 1\) \+ 1 = 19"),
    ("deeplob", "price_input", "mid", ValueError, r"^price_input: expected one of 'mid_bps', 'raw', got 'mid'"),
    ("multitask_lstm", "aux_weight", -1.0, ValueError, r"^aux_weight: expected a finite number >= 0"),
    ("persistence", "column", 1.0, TypeError, r"^column: expected a feature name \(str\), a column index >= 0 or None"),
    ("persistence", "threshold", -0.1, ValueError, r"^threshold: expected a finite number >= 0"),
    ("logistic", "class_weight", "balance", ValueError, r"^class_weight: .*\(did you mean 'balanced'\?\)$"),
    ("lightgbm", "subsample", 0.0, ValueError, r"^subsample: expected a finite number in \(0, 1\]"),
    ("lightgbm", "num_leaves", 1, ValueError, r"^num_leaves: expected an integer >= 2, got 1"),
]


@pytest.mark.parametrize(
    ("name", "param", "value", "exc", "message"), BAD, ids=[f"{r[0]}.{r[1]}={r[2]!r}" for r in BAD]
)
def test_a_wrong_hyperparameter_is_reported_when_the_model_is_made(name, param, value, exc, message):
    with pytest.raises(exc, match=message):
        signals.create(name, **{param: value})
    with pytest.raises(exc, match=message):
        signals.get(name)(**{param: value})
    model = signals.create(name)
    before = model.get_params()
    with pytest.raises(exc, match=message):
        model.set_params(**{param: value})
    assert model.get_params() == before  # a failed set_params changes nothing


def test_set_params_checks_the_combination_and_changes_nothing_on_error():
    model = signals.create("transformer", d_model=8, nhead=2)
    with pytest.raises(ValueError, match="divisor of d_model = 8"):
        model.set_params(nhead=3, dropout=0.3)
    assert model.nhead == 2 and model.dropout == 0.1
    model.set_params(d_model=9, nhead=3)  # changed together: fine
    assert (model.d_model, model.nhead) == (9, 3)


def test_a_value_assigned_directly_is_checked_again_at_fit():
    model = signals.create("logistic")
    X, y = model.example_data(60, 0)
    model.alpha = -1.0
    with pytest.raises(ValueError, match=r"^alpha: expected a finite number >= 0, got -1\.0"):
        model.fit(X, y)


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_declared_tables_drive_signature_params_repr_and_docs(name):
    cls = signals.get(name)
    table = cls.hyperparameters
    sig = inspect.signature(cls)
    assert list(sig.parameters) == list(table)
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in sig.parameters.values())
    model = cls()
    assert model.get_params() == {k: p.default for k, p in table.items()}
    assert repr(model) == f"{cls.__name__}()"
    for param in table:
        assert f"\n    {param} : " in cls.__doc__, param
    clone = cls(**model.get_params())
    assert clone.get_params() == model.get_params()
    with pytest.raises(TypeError):
        cls(1)  # keyword-only


def test_shared_groups_are_declared_once():
    lstm, trans, deeplob = signals.LSTMModel, signals.TransformerModel, signals.DeepLOBModel
    for name in ("epochs", "lr", "patience", "max_windows_per_epoch", "seed", "device", "class_weight"):
        assert lstm.hyperparameters[name] is trans.hyperparameters[name], name
    # a changed default is a new entry with the same rule
    assert deeplob.hyperparameters["batch_size"].default == 64
    assert deeplob.hyperparameters["batch_size"].rule is lstm.hyperparameters["batch_size"].rule


def test_values_are_stored_as_python_numbers_and_save(tmp_path):
    model = signals.create("lstm", seq_len=np.int64(4), hidden_size=np.int32(4), dropout=np.float32(0.25), epochs=1)
    params = model.get_params()
    assert type(params["seq_len"]) is int and type(params["hidden_size"]) is int
    assert type(params["dropout"]) is float and params["dropout"] == 0.25
    json.dumps(params)  # JSON-serializable, so the model saves
    assert repr(model) == "LSTMModel(seq_len=4, hidden_size=4, dropout=0.25, epochs=1)"
    import torch

    model = signals.create("lstm", device=torch.device("cpu"))
    assert model.device == "cpu"


def test_repr_and_create_of_the_public_api():
    model = sb.create_model("lstm", seq_len=20, progress=False)
    assert repr(model) == "LSTMModel(seq_len=20, progress=False)"
    assert model.window == 20


@given(st.one_of(st.floats(allow_nan=True), st.text(max_size=5), st.booleans(), st.none(), st.lists(st.integers())))
def test_integer_hyperparameters_take_only_integers(value):
    with pytest.raises(TypeError, match=r"^hidden_size: expected an integer >= 1"):
        signals.LSTMModel(hidden_size=value)


@given(st.integers(max_value=0))
def test_integer_hyperparameters_below_their_minimum_are_value_errors(value):
    with pytest.raises(ValueError, match=rf"^hidden_size: expected an integer >= 1, got {value} \(int\)$"):
        signals.LSTMModel(hidden_size=value)


@given(st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_valid_values_are_kept(value):
    assert signals.LSTMModel(dropout=value).dropout == value
