"""Saved models: nothing is lost on a failed save, and a damaged or mismatched file is a clear ModelFileError.

The save test injects a failure at every call to the file system, torch and json that one save makes (each in turn),
for a replace by exchange (Linux renameat2), for the two-rename fallback, and for a first save; after each, the path
must load as the old model or the new one (the old one exactly when the failure came before the swap), and no
temporary folder may be left. A hard crash (os._exit) between the fallback's two renames is recovered by load.
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import signalbench as sb
import signalbench._atomic as atomic
import signalbench.signals as signals
from signalbench.signals.errors import ModelFileError

TINY = {"seq_len": 4, "hidden_size": 6, "head_size": 0, "epochs": 1, "batch_size": 64, "progress": False}
TARGETS = [
    (os, "rename"),
    (os, "replace"),
    (os, "fsync"),
    (os, "open"),
    (os, "close"),
    (os, "mkdir"),
    (os, "unlink"),
    (os, "rmdir"),
    (os, "scandir"),
    (shutil, "rmtree"),
    (tempfile, "mkdtemp"),
    (torch, "save"),
    (json, "dump"),
    (builtins, "open"),
    (atomic, "exchange"),
]


@pytest.fixture(scope="module")
def two_models():
    """An old and a new fitted model of one kind (different seeds: different predictions), and data."""
    old = signals.create("lstm", **TINY, seed=0)
    X, y = old.example_data(120, 0)
    old.fit(X, y)
    new = signals.create("lstm", **TINY, seed=1).fit(X, y)
    ref_old, ref_new = old.predict_proba(X), new.predict_proba(X)
    assert np.nanmax(np.abs(ref_old - ref_new)) > 1e-3
    return old, new, X, ref_old, ref_new


class _Injector:
    """Counts calls to TARGETS and raises ``exc`` at call number ``fail_at`` (None: never)."""

    def __init__(self, fail_at: int | None, exc: type[BaseException]):
        self.fail_at, self.exc, self.calls = fail_at, exc, []

    def install(self, mp: pytest.MonkeyPatch, fallback: bool) -> None:
        if fallback:
            mp.setattr(atomic, "exchange", lambda a, b: False)
        for module, name in TARGETS:
            mp.setattr(module, name, self._wrap(f"{module.__name__}.{name}", getattr(module, name)))

    def _wrap(self, label, fn):
        def wrapper(*args, **kwargs):
            i = len(self.calls)
            self.calls.append(label)
            if i == self.fail_at:
                raise self.exc(f"injected failure at call {i} ({label})")
            return fn(*args, **kwargs)

        return wrapper


def _save(model, path, fail_at, exc, mode) -> tuple[_Injector, bool]:
    injector = _Injector(fail_at, exc)
    raised = False
    with pytest.MonkeyPatch.context() as mp:
        injector.install(mp, fallback=mode == "fallback")
        try:
            model.save(path, overwrite=mode != "fresh")
        except (OSError, KeyboardInterrupt) as error:
            assert "injected failure" in str(error)
            raised = True
    return injector, raised


def _swap_call(calls: list[str], mode: str) -> int:
    """Index of the call that puts the new folder in place (failures up to it leave the old model)."""
    if mode == "exchange":
        return calls.index("signalbench._atomic.exchange")
    renames = [i for i, c in enumerate(calls) if c == "os.rename"]
    return renames[-1]  # fallback: the second rename; fresh: the only one


@pytest.mark.parametrize("exc", [OSError, KeyboardInterrupt], ids=["OSError", "KeyboardInterrupt"])
@pytest.mark.parametrize("mode", ["exchange", "fallback", "fresh"])
def test_a_failure_at_every_step_of_save_keeps_old_or_new(two_models, tmp_path, mode, exc):
    old, new, X, ref_old, ref_new = two_models
    probe = tmp_path / "probe"
    probe.mkdir()
    if mode != "fresh":
        old.save(probe / "model")
    clean, raised = _save(new, probe / "model", None, exc, mode)
    assert not raised
    steps = clean.calls
    swap = _swap_call(steps, mode)
    for needed in ("torch.save", "json.dump", "os.fsync", "tempfile.mkdtemp"):
        assert needed in steps, (needed, steps)
    outcomes = []
    for k in range(len(steps)):
        folder = tmp_path / f"run{k}"
        folder.mkdir()
        if mode != "fresh":
            old.save(folder / "model")
        injector, raised = _save(new, folder / "model", k, exc, mode)
        assert injector.calls[: k + 1] == steps[: k + 1]
        where = f"failure at call {k} ({steps[k]}), swap at {swap}, raised: {raised}"
        # a save that raised before its swap left the old model (or none); any other, the new one
        kept_old = raised and k <= swap
        outcomes.append((steps[k], raised))
        assert sorted(os.listdir(folder)) == ([] if mode == "fresh" and kept_old else ["model"]), where
        if mode == "fresh" and kept_old:
            continue
        assert sorted(os.listdir(folder / "model")) == ["model.json", "weights.pt"], where
        got = signals.load(folder / "model").predict_proba(X)
        np.testing.assert_array_equal(got, ref_old if kept_old else ref_new, err_msg=where)
    # the injected failures were not all swallowed: every kind of step that can fail made save fail
    failed = {step for step, raised in outcomes if raised}
    assert {"torch.save", "json.dump", "tempfile.mkdtemp", "os.fsync", "signalbench._atomic.exchange"} - {
        "signalbench._atomic.exchange" if mode != "exchange" else ""
    } <= failed, failed


def test_a_hard_crash_between_the_fallback_renames_is_recovered_by_load(two_models, tmp_path):
    old, new, X, ref_old, _ = two_models
    path, source = tmp_path / "model", tmp_path / "source"
    old.save(path)
    new.save(source)
    script = textwrap.dedent(
        f"""
        import os
        import signalbench._atomic as atomic
        import signalbench.signals as signals

        atomic.exchange = lambda a, b: False  # a system without renameat2
        real, calls = os.rename, []

        def rename(src, dst):
            calls.append(dst)
            if len(calls) == 2:
                os._exit(17)  # killed between moving the old model aside and renaming the new one into place
            return real(src, dst)

        os.rename = rename
        signals.load({str(source)!r}).save({str(path)!r}, overwrite=True)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], env=os.environ.copy(), capture_output=True, text=True)
    assert done.returncode == 17, done.stderr
    assert not path.exists()
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".model.")]
    assert len([n for n in left if n.endswith(".old")]) == 1, left
    np.testing.assert_array_equal(sb.load_model(path).predict_proba(X), ref_old)
    assert path.is_dir() and not [n for n in os.listdir(tmp_path) if n.endswith(".old")]


# ---------------------------------------------------------------------------------------------------------------------
# Damaged and mismatched files
# ---------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(two_models, tmp_path_factory):
    old, _, X, _, _ = two_models
    root = tmp_path_factory.mktemp("saved")
    old.save(root / "lstm")
    wide = signals.create("lstm", **{**TINY, "hidden_size": 9}).fit(X, old.example_data(120, 0)[1])
    wide.save(root / "wide")
    trans = signals.create("transformer", seq_len=4, d_model=4, nhead=2, dim_feedforward=8, epochs=1, progress=False)
    trans.fit(X, old.example_data(120, 0)[1]).save(root / "transformer")
    return root


def _copy(saved: Path, name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copytree(saved / name, dst)
    return dst


def _edit_json(path: Path, edit) -> None:
    meta = json.loads((path / "model.json").read_text())
    edit(meta)
    (path / "model.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("damage", "pattern"),
    [
        (
            lambda b: b[: len(b) // 2],
            r"weights\.pt: expected a state_dict written by torch\.save .*, got an unreadable",
        ),
        (lambda b: b"\x00garbage" * 50, r"weights\.pt: expected a state_dict .*, got an unreadable file"),
        (lambda b: b"", r"weights\.pt: expected a state_dict .*, got an unreadable file"),
        (lambda b: b[:-30], r"weights\.pt: expected a state_dict .*, got an unreadable file"),
    ],
    ids=["truncated", "garbage", "empty", "tail-cut"],
)
def test_a_corrupted_weights_file_is_a_model_file_error(saved, tmp_path, damage, pattern):
    path = _copy(saved, "lstm", tmp_path)
    weights = path / "weights.pt"
    weights.write_bytes(damage(weights.read_bytes()))
    with pytest.raises(ModelFileError, match=pattern) as info:
        signals.load(path)
    assert str(weights) in str(info.value)


def test_weights_of_another_architecture(saved, tmp_path):
    path = _copy(saved, "lstm", tmp_path)
    shutil.copy(saved / "wide" / "weights.pt", path / "weights.pt")  # hidden_size 9 instead of 6
    with pytest.raises(
        ModelFileError,
        match=r"weights\.pt\['encoder\.lstm\.weight_ih_l0'\]: expected a tensor of shape \(24, 4\) .*, got shape "
        r"\(36, 4\)",
    ):
        signals.load(path)
    shutil.copy(saved / "transformer" / "weights.pt", path / "weights.pt")
    with pytest.raises(ModelFileError, match=r"weights\.pt: expected the \d+ tensors .*, got missing \['encoder"):
        signals.load(path)


def test_model_json_edited_to_other_hyperparameters(saved, tmp_path):
    path = _copy(saved, "lstm", tmp_path)
    _edit_json(path, lambda m: m["params"].update(hidden_size=9))
    with pytest.raises(
        ModelFileError, match=r"key 'state\.net_config': expected the network .*, got \{'hidden_size': 6\}"
    ):
        signals.load(path)
    _edit_json(path, lambda m: m["state"]["net_config"].update(hidden_size=9))  # now both say 9, the weights 6
    with pytest.raises(ModelFileError, match=r"expected a tensor of shape \(36, 4\) .*, got shape \(24, 4\)"):
        signals.load(path)
    path = _copy(saved, "transformer", tmp_path)
    _edit_json(path, lambda m: m["params"].update(nhead=3))
    with pytest.raises(ModelFileError, match=r"model\.json key 'params': nhead: expected a divisor of d_model = 4"):
        signals.load(path)


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda m: m.pop("n_features"), r"model\.json: expected a key 'n_features', got none"),
        (lambda m: m.pop("params"), r"model\.json: expected a key 'params', got none"),
        (lambda m: m.update(n_features="four"), r"key 'n_features': expected an integer >= 1, got 'four'"),
        (lambda m: m.update(seq_len=7), r"key 'seq_len': expected 4 \(from the hyperparameters\), got 7"),
        (lambda m: m["scaler"]["mean"].pop(), r"key 'scaler\.mean': expected 4 values \(n_features\), got 3"),
        (lambda m: m.update(scaler=None), r"key 'scaler': expected a feature scaler \(lstm\), got None"),
        (lambda m: m.update(feature_names=["a"]), r"key 'feature_names': expected 4 names \(n_features\), got 1"),
        (lambda m: m.update(classes=[1]), r"key 'classes': expected at least two sorted, distinct class labels"),
        (lambda m: m["params"].update(dropout=1.5), r"key 'params': dropout: expected a finite number in \[0, 1\)"),
        (lambda m: m["params"].update(hiden_size=3), r"key 'params': hiden_size: .*did you mean 'hidden_size'"),
        (lambda m: m.update(model="lstn"), r"key 'model': name: expected a signal model name .*did you mean 'lstm'"),
        (lambda m: m.update(weights="../x.pt"), r"key 'weights': expected a file name inside the model folder"),
        (lambda m: m["state"].pop("net_config") and m["state"].pop("history"), None),  # optional: still loads
    ],
    ids=[
        "no-n_features",
        "no-params",
        "n_features-kind",
        "seq_len",
        "scaler-length",
        "scaler-missing",
        "names-length",
        "classes",
        "bad-param",
        "unknown-param",
        "unknown-model",
        "weights-path",
        "optional-keys",
    ],
)
def test_model_json_problems_name_the_file_and_key(saved, tmp_path, two_models, edit, pattern):
    path = _copy(saved, "lstm", tmp_path)
    _edit_json(path, edit)
    if pattern is None:
        _, _, X, ref_old, _ = two_models
        np.testing.assert_array_equal(signals.load(path).predict_proba(X), ref_old)
        return
    with pytest.raises(ModelFileError, match=pattern) as info:
        signals.load(path)
    assert str(path / "model.json") in str(info.value)


def test_unreadable_json_and_missing_tensors_of_a_baseline(two_models, tmp_path):
    _, _, X, _, _ = two_models
    y = signals.LSTMModel().example_data(120, 0)[1]
    path = signals.create("logistic").fit(X, y).save(tmp_path / "logistic")
    text = (path / "model.json").read_text()
    (path / "model.json").write_text(text[: len(text) // 2])
    with pytest.raises(ModelFileError, match=r"model\.json: expected a JSON model file, got unreadable JSON"):
        signals.load(path)
    (path / "model.json").write_text(text)
    torch.save({"coef": torch.zeros(4, 3, dtype=torch.float64)}, path / "weights.pt")
    with pytest.raises(ModelFileError, match=r"weights\.pt: expected the 2 tensors .*, got missing \['intercept'\]"):
        signals.load(path)
    torch.save({"coef": torch.zeros(5, 3), "intercept": torch.zeros(3)}, path / "weights.pt")
    with pytest.raises(ModelFileError, match=r"weights\.pt\['coef'\]: expected a tensor of shape \(4, 3\)"):
        signals.load(path)
    torch.save([1, 2, 3], path / "weights.pt")
    with pytest.raises(ModelFileError, match=r"weights\.pt: expected a dict of named tensors, got list"):
        signals.load(path)


def test_every_model_file_error_is_a_value_error():
    assert issubclass(ModelFileError, ValueError)
    assert signals.ModelFileError is ModelFileError


def test_a_file_saved_before_price_input_existed_loads_as_raw_prices(tmp_path):
    model = signals.create(
        "deeplob",
        seq_len=8,
        time_kernel=2,
        conv_channels=4,
        inception_channels=4,
        lstm_hidden=4,
        epochs=1,
        progress=False,
        price_input="raw",
    )
    X, y = model.example_data(150, 0)
    path = model.fit(X, y).save(tmp_path / "deeplob")
    _edit_json(path, lambda m: m["params"].pop("price_input"))
    loaded = signals.load(path)
    assert loaded.price_input == "raw"
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


# ---------------------------------------------------------------------------------------------------------------------
# A model saved on a GPU machine loads on a CPU-only one
# ---------------------------------------------------------------------------------------------------------------------


def _as_if_saved_on_cuda(path: Path, mp: pytest.MonkeyPatch) -> None:
    """Rewrite a saved model as a GPU machine writes it: ``device="cuda"`` and weights tagged as CUDA storage."""
    _edit_json(path, lambda m: m["params"].update(device="cuda"))
    tensors = torch.load(path / "weights.pt", weights_only=True)
    with mp.context() as m:  # torch.save records each storage's location tag; a CUDA tensor's is "cuda:0"
        m.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        torch.save(tensors, path / "weights.pt")


def test_a_model_saved_with_device_cuda_loads_on_the_cpu(saved, tmp_path, two_models, monkeypatch):
    _, _, X, ref_old, _ = two_models
    path = _copy(saved, "lstm", tmp_path)
    _as_if_saved_on_cuda(path, monkeypatch)
    if not torch.cuda.is_available():  # the rewritten file really says CUDA: a plain torch.load cannot read it here
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(path / "weights.pt", weights_only=True)
    loaded = signals.load(path)
    assert loaded.device_ == torch.device("cpu")
    assert {p.device for p in loaded.net_.parameters()} == {torch.device("cpu")}
    assert loaded.get_params()["device"] == "cuda"  # the hyperparameter is kept as saved; fit would use it
    np.testing.assert_array_equal(loaded.predict_proba(X), ref_old)
    stepper = loaded.stepper(backend="torch")
    rows = [stepper.step(x) for x in np.asarray(X, dtype=np.float64)[:12]]
    np.testing.assert_allclose(rows[-1], ref_old[11], atol=1e-5)


def test_load_onto_a_requested_device(saved, tmp_path, two_models, monkeypatch):
    _, _, X, ref_old, _ = two_models
    path = _copy(saved, "lstm", tmp_path)
    _as_if_saved_on_cuda(path, monkeypatch)
    for device in ("cpu", torch.device("cpu"), "auto"):
        loaded = signals.load(path, device=device)
        want = "cuda" if device == "auto" and torch.cuda.is_available() else "cpu"
        assert loaded.device_.type == want
        assert {p.device.type for p in loaded.net_.parameters()} == {want}
        np.testing.assert_allclose(loaded.predict_proba(X), ref_old, atol=1e-5)
    baseline = signals.create("majority").fit(X, signals.LSTMModel().example_data(120, 0)[1])
    np.testing.assert_array_equal(
        signals.load(baseline.save(tmp_path / "majority"), device="cpu").predict_proba(X), baseline.predict_proba(X)
    )


def test_a_requested_device_this_machine_lacks_is_a_clear_error(saved, tmp_path):
    kinds = r"^device: expected 'auto', 'cpu', 'cuda', 'cuda:<index>' or a torch\.device, got "
    cases = [("gpu", ValueError, kinds + "'gpu'"), (3, TypeError, kinds + "3")]
    if not torch.cuda.is_available():
        no_cuda = r"^device: expected 'auto', 'cpu' or a device this machine has, got {}; no CUDA here$"
        cases += [("cuda", ValueError, no_cuda.format("'cuda'")), ("cuda:1", ValueError, no_cuda.format("'cuda:1'"))]
    else:
        many = torch.cuda.device_count()
        cases.append((f"cuda:{many}", ValueError, rf"^device: expected .* got 'cuda:{many}'; {many} CUDA device"))
    for device, kind, pattern in cases:
        with pytest.raises(kind, match=pattern) as info:
            signals.load(saved / "lstm", device=device)
        assert type(info.value) is kind  # not a ModelFileError: the file is fine, the request is not
        with pytest.raises(kind, match=pattern):  # checked before the folder is read
            signals.load(tmp_path / "no-such-model", device=device)
