"""Fixtures of the report tests: one tiny synthetic run per session (its report, tear sheets), and chromium."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from signalbench.experiment import compare
from signalbench.reports.html import build_report

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


SYMBOLS = ("AMZN", "GOOG")
DAYS = ("2012-06-20", "2012-06-21", "2012-06-22")
POOLED_NOTE = "daily clock: sum of additive returns per symbol-day, equal notional per symbol"


def piece_blocks(metrics: dict) -> dict:
    """The five multi-piece blocks of metrics.json (scale_design.md section 3), over ``metrics``' columns.

    Two symbols x three days, one piece (GOOG on the last day) missing with its failed fit; every figure a distinct
    number so a test can find it, ``macro_f1`` null for the benchmarks, the oracle's signal efficiency 1.
    """
    bench = set(metrics["benchmarks"])
    columns = list(metrics["columns"])

    def figures(k: int, j: int, rests: dict) -> dict:
        return {
            "net_return": round(0.001 * (k + 1) * (1 if j % 2 else -1) + 0.0001 * j, 6),
            "signal_efficiency": 1.0 if columns[j] == "oracle" else round(0.01 * (k + 1) + 0.001 * j, 6),
            "macro_f1": None if columns[j] in bench else round(0.3 + 0.01 * k + 0.001 * j, 6),
            "rests_on": rests,
        }

    tested = [(s, d) for s in SYMBOLS for d in DAYS if (s, d) != ("GOOG", DAYS[-1])]
    per_symbol = {
        s: {c: figures(k, j, {"days": 3 - k, "rows": 1000 * (3 - k)}) for j, c in enumerate(columns)}
        for k, s in enumerate(SYMBOLS)
    }
    per_day = {
        d: {c: figures(10 + k, j, {"symbols": 2 if k < 2 else 1, "rows": 1000 * (2 if k < 2 else 1)}) for j, c in
            enumerate(columns)}
        for k, d in enumerate(DAYS)
    }  # fmt: skip
    pooled = {
        c: {
            **figures(20, j, {"days": 3, "symbols": 2, "rows": 5000}),
            "sharpe": None,
            "max_drawdown": round(-0.002 * (j + 1), 6),
            "deflated_sharpe": None,
            "note": POOLED_NOTE,
        }
        for j, c in enumerate(columns)
    }
    daily = {"index": list(DAYS), "returns": {c: [0.001 * j, None, -0.0005 * j] for j, c in enumerate(columns)}}
    missing = {
        "symbol": "GOOG",
        "day": DAYS[-1],
        "task": "fit",
        "model": "lstm",
        "fold": 1,
        "error": "ValueError: window: expected at least 4 rows, got 2",
    }
    return {
        "pieces": {"tested": [{"symbol": s, "day": d, "rows": 1000} for s, d in tested], "missing": [missing]},
        "per_symbol": per_symbol,
        "per_day": per_day,
        "pooled": pooled,
        "daily": daily,
    }


@pytest.fixture(scope="session")
def pieces_run(tiny_run, tmp_path_factory):
    """A copy of the tiny run whose metrics.json also holds the multi-piece blocks (:func:`piece_blocks`)."""
    run = tmp_path_factory.mktemp("pieces") / "run"
    shutil.copytree(tiny_run, run)
    path = run / "metrics.json"
    metrics = json.loads(path.read_text())
    path.write_text(json.dumps({**metrics, **piece_blocks(metrics)}, indent=1))
    build_report(run, tearsheets=False)
    return run
