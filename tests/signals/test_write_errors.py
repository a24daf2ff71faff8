"""Saving a model or exporting ONNX on a full disk: an OSError naming the path, and the old file is intact (it is)."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

import signalbench.signals as signals
from signalbench import _atomic
from tests.conftest import require_module

TORCH_FULL_DISK = "[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0"


def _fitted(name: str, seed: int, **params):
    model = signals.create(name, **params)
    X, y = model.example_data(160, seed)
    return model.fit(X, y), X


def test_a_model_save_on_a_full_disk_names_the_path_and_keeps_the_old_model(tmp_path, monkeypatch):
    import torch

    old, X = _fitted("logistic", 0)
    path = old.save(tmp_path / "model")
    before = old.predict_proba(X)
    new, _ = _fitted("logistic", 1)

    def full(*args, **kwargs):
        raise RuntimeError(TORCH_FULL_DISK)

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OSError) as info:
        new.save(path, overwrite=True)
    message = str(info.value)
    assert str(path) in message and "the old model is intact" in message and TORCH_FULL_DISK in message
    assert "\n" not in message
    monkeypatch.undo()
    np.testing.assert_array_equal(signals.load(path).predict_proba(X), before)  # still the old model
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary folder left
    with pytest.raises(OSError, match="nothing was written at"):
        monkeypatch.setattr(torch, "save", full)
        new.save(tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


def test_an_onnx_export_on_a_full_disk_names_the_path_and_keeps_the_old_file(tmp_path, monkeypatch):
    require_module("onnx", extra="onnx")
    model, _ = _fitted("lstm", 0, seq_len=3, hidden_size=4, epochs=1, progress=False, device="cpu")
    path = model.export_onnx(tmp_path / "model.onnx")
    old = path.read_bytes()
    real = _atomic._fsync_path

    def too_large(p):
        if p.name.startswith(".model.onnx."):
            raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))
        return real(p)

    monkeypatch.setattr(_atomic, "_fsync_path", too_large)
    with pytest.raises(OSError) as info:
        model.export_onnx(path)
    assert info.value.errno == errno.EFBIG
    message = str(info.value)
    assert str(path) in message and "File too large" in message and "the old model.onnx is intact" in message
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
