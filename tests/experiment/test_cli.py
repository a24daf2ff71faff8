"""The signalbench command: version, models, validate (exit codes and located messages), run on a tiny config."""

from __future__ import annotations

import textwrap

import pytest

from signalbench import __version__
from signalbench.cli import main

TINY = """
name = "cli"
seed = 2
device = "cpu"
[data]
kind = "synthetic"
n = 2400
edge = 0.6
[labels]
horizon = 1
[baselines]
exclude = ["persistence", "logistic"]
[[models]]
name = "lstm"
seq_len = 4
hidden_size = 4
num_layers = 1
bidirectional = false
pooling = "last"
head_size = 0
epochs = 1
"""


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_models_lists_the_registry_with_parameters(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("lstm", "transformer", "majority", "logistic"):
        assert name in out
    assert "seq_len" in out


def test_validate_good_and_bad(tmp_path, capsys):
    good = tmp_path / "good.toml"
    good.write_text(textwrap.dedent(TINY))
    assert main(["validate", str(good)]) == 0
    assert "valid" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(textwrap.dedent(TINY).replace("seq_len = 4", "seq_len = 0").replace("seed = 2", "sed = 2"))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "models[0].seq_len" in err and "did you mean 'seed'" in err


def test_validate_missing_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_run_prints_the_summary_and_the_run_folder(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(textwrap.dedent(TINY))
    out = tmp_path / "run"
    assert main(["run", str(cfg), "--out", str(out), "--quiet", "--seed", "5"]) == 0
    text = capsys.readouterr().out
    assert "lstm:sign" in text and "oracle (benchmark)" in text
    assert "Bayes-optimal accuracy" in text
    assert str(out) in text.replace("\n", "")
    assert (out / "metrics.json").is_file()
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 2  # never overwrites a run folder
    assert "exists already" in capsys.readouterr().err


def test_run_into_an_existing_out_fails_before_fitting(tmp_path, capsys, monkeypatch):
    cfg = tmp_path / "exp.toml"
    cfg.write_text(textwrap.dedent(TINY))
    (tmp_path / "taken").mkdir()
    fitted = []
    monkeypatch.setattr("signalbench.experiment.runner._fit_all", lambda *a, **k: fitted.append(1))
    assert main(["run", str(cfg), "--quiet", "--out", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err
    assert f"run folder {tmp_path / 'taken'} exists already; choose another --out" in err and "Traceback" not in err
    assert not fitted  # refused before any model was fitted (it used to fail only when writing, after the fitting)


def test_an_unwritable_file_anywhere_ends_in_one_line_and_status_2(tmp_path, capsys, monkeypatch):
    """An OSError the commands do not name themselves (here a full disk while auditing) is still one line, status 2."""

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "audit.json"))

    monkeypatch.setattr("signalbench.experiment.audit_run.audit_run", full)
    assert main(["audit", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"signalbench audit: [Errno 28] No space left on device: '{tmp_path / 'audit.json'}'\n"


def test_run_out_below_a_file_fails_before_fitting(tmp_path, capsys, monkeypatch):
    cfg = tmp_path / "exp.toml"
    cfg.write_text(textwrap.dedent(TINY))
    (tmp_path / "notes.txt").write_text("mine")
    fitted = []
    monkeypatch.setattr("signalbench.experiment.runner._fit_all", lambda *a, **k: fitted.append(1))
    assert main(["run", str(cfg), "--quiet", "--out", str(tmp_path / "notes.txt" / "sub" / "run")]) == 2
    err = capsys.readouterr().err
    assert "notes.txt: expected a folder it can write, got NotADirectoryError" in err and "a file is in the way" in err
    assert str(tmp_path / "notes.txt") in err and err.count("\n") == 1 and not fitted
    assert (tmp_path / "notes.txt").read_text() == "mine"
