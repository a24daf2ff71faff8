"""The conformance suite (signalbench.signals.checks) on every built-in model, at tiny sizes."""

from __future__ import annotations

import pytest

from signalbench.signals import create
from signalbench.signals.checks import signal_model_checks

TRAIN = {"epochs": 2, "batch_size": 64, "progress": False, "device": "cpu"}

TINY = {
    "lstm": {"seq_len": 6, "hidden_size": 8, "head_size": 8, **TRAIN},
    "lstm_last_batchnorm": {
        "seq_len": 6,
        "hidden_size": 8,
        "num_layers": 1,
        "bidirectional": False,
        "pooling": "last",
        "batch_norm": True,
        "dropout": 0.3,
        **TRAIN,
    },
    "lstm_plain": {
        "seq_len": 6,
        "hidden_size": 8,
        "bidirectional": False,
        "pooling": "last",
        "head_size": 0,
        **TRAIN,
    },
    "transformer": {"seq_len": 6, "d_model": 8, "nhead": 2, "dim_feedforward": 16, "head_size": 8, **TRAIN},
    "multitask_lstm": {"seq_len": 6, "hidden_size": 8, "head_size": 8, **TRAIN},
    "lstm_regressor": {"seq_len": 6, "hidden_size": 8, **TRAIN},
    "deeplob": {"seq_len": 8, "time_kernel": 2, "conv_channels": 4, "inception_channels": 4, "lstm_hidden": 8, **TRAIN},
    "binctabl": {
        "seq_len": 6,
        "hidden_features": 6,
        "hidden_steps": 4,
        "second_features": 6,
        "second_steps": 2,
        **TRAIN,
    },
    "tlob": {"seq_len": 6, "hidden": 8, "num_layers": 1, "nhead": 2, **TRAIN},
    "mlplob": {"seq_len": 6, "hidden": 8, "num_layers": 1, **TRAIN},
    "stateful_lstm": {"hidden_size": 8, "num_layers": 2, "tbptt_len": 16, "batch_size": 4, **TRAIN},
    "majority": {},
    "persistence": {"column": "f0", "threshold": 0.5},
    "ofi_sign": {"column": 1, "threshold": 0.5},
    "logistic": {},
    "lightgbm": {"n_estimators": 15, "num_leaves": 4, "min_child_samples": 5},
}


VARIANTS = {"lstm_last_batchnorm": "lstm", "lstm_plain": "lstm"}  # other settings of a registered model


def _factory(key):
    name = VARIANTS.get(key, key)
    return lambda: create(name, **TINY[key])


CASES = [(key, check) for key in TINY for check in signal_model_checks(_factory(key))]


@pytest.mark.parametrize(("key", "check"), CASES, ids=[f"{k}-{c.name}" for k, c in CASES])
def test_builtin_model_conforms(key, check):
    check()


def test_every_builtin_is_covered():
    from signalbench.signals.registry import BUILTINS

    assert set(BUILTINS) <= {VARIANTS.get(k, k) for k in TINY}
