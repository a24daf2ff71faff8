"""Fixtures of the report tests: one tiny synthetic run per session (its report, tear sheets), and chromium."""

from __future__ import annotations

import copy

import pytest

from signalbench.experiment import compare

TINY = {
    "name": "tiny-report",
    "seed": 3,
    "device": "cpu",
    "data": {"kind": "synthetic", "n": 2400, "edge": 0.6, "ticks_per_day": 1200},
    "labels": {"kind": "direction", "horizon": 1},
    "costs": {"fee_bps": 0.1, "half_spread_bps": "quoted", "delay": 1},
    "baselines": {"exclude": ["persistence"]},
    "models": [
        {
            "name": "lstm",
            "seq_len": 4,
            "hidden_size": 4,
            "num_layers": 1,
            "bidirectional": False,
            "pooling": "last",
            "head_size": 0,
            "epochs": 2,
            "batch_size": 256,
        }
    ],
    "strategies": [{"rule": "sign"}, {"rule": "threshold", "enter": [0.4, 0.5], "tune": True}],
}


@pytest.fixture
def tiny_config():
    """The tiny experiment (a fresh copy)."""
    return copy.deepcopy(TINY)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The run folder of the tiny experiment, report and tear sheets included (built once per session)."""
    out = tmp_path_factory.mktemp("report") / "run"
    compare(copy.deepcopy(TINY), out=out, progress=False)
    return out


@pytest.fixture(scope="session")
def chromium(pytestconfig):
    """The system chromium, through the root conftest's ``require_executable`` (skips, or fails under CI)."""
    for plugin in pytestconfig.pluginmanager.get_plugins():
        require = getattr(plugin, "require_executable", None)
        if callable(require) and str(getattr(plugin, "__file__", "")).endswith("conftest.py"):
            return require("chromium")
    raise RuntimeError("tests/conftest.py's require_executable was not found among the loaded conftest plugins")
