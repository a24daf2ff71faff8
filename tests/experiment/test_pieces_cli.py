"""``signalbench run`` flags of multi-piece runs: --executor, --workers, --fail-fast, --cache, --resume."""

from __future__ import annotations

import argparse
import json

import pytest

from signalbench.cli import _compute, main
from tests.experiment.test_pieces_run import _toml, config


def _args(**kw):
    return argparse.Namespace(**{"executor": None, "workers": None, "fail_fast": False, **kw})


def test_executor_flag_forms():
    assert _compute(_args(executor="dask://10.0.0.5:8786")) == {"executor": "dask", "address": "tcp://10.0.0.5:8786"}
    assert _compute(_args(executor="local", workers=3, fail_fast=True)) == {
        "executor": "local",
        "workers": 3,
        "fail_fast": True,
    }
    assert _compute(_args()) == {}
    with pytest.raises(ValueError, match="--executor: expected 'local', 'dask' or 'dask://host:port', got 'ray'"):
        _compute(_args(executor="ray"))


def test_resume_takes_the_run_folder_alone(tmp_path, capsys):
    toml = tmp_path / "e.toml"
    toml.write_text(_toml(config()))
    assert main(["run", str(toml), "--resume", str(tmp_path / "r")]) == 2
    assert "--resume: expected the run folder alone" in capsys.readouterr().err
    assert main(["run", "--resume", str(tmp_path / "nothing")]) == 2
    assert "expected a run folder with config.json" in capsys.readouterr().err


def test_run_then_resume_from_the_command_line(tmp_path, capsys):
    toml = tmp_path / "e.toml"
    toml.write_text(_toml(config()))
    out, cache = tmp_path / "run", tmp_path / "cache"
    assert main(["run", str(toml), "--out", str(out), "--quiet", "--no-report", "--cache", str(cache)]) == 0
    printed = capsys.readouterr().out
    assert "pooled" in printed and "SYN0" in printed and "2020-01-07" in printed  # symbol, day and pooled tables
    assert not (out / "tasks").exists() and any(cache.iterdir())  # the store is where --cache says
    first = (out / "metrics.json").read_text()
    (out / "metrics.json").unlink()
    assert main(["run", "--resume", str(out), "--quiet", "--no-report", "--cache", str(cache)]) == 0
    assert (out / "metrics.json").read_text() == first
    assert json.loads(first)["kind"] == "pieces"
