"""A multi-symbol, multi-day experiment on a real Dask scheduler and two worker processes: the local executor's numbers.

Reuses the compute tests' cluster (``tests/compute/test_dask.py``: a scheduler and two ``dask worker`` processes on
loopback). Skipped with a reason when ``distributed`` is not installed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compute"))

from test_dask import cluster  # noqa: E402, F401  (the fixture)

from signalbench.compute import TaskStore  # noqa: E402
from signalbench.experiment.graph import build_graph  # noqa: E402
from tests.experiment.test_pieces_run import _pieces, config, run  # noqa: E402


@pytest.mark.slow
def test_dask_run_with_a_worker_killed_gives_the_local_metrics(tmp_path, cluster):  # noqa: F811
    cfg = config(days=5)
    run(cfg, tmp_path / "local")
    exp, pieces = _pieces(cfg)
    fits = {t.key for t in build_graph(exp, pieces, 1, exp.model_specs()).tasks if t.kind == "fit"}
    out = tmp_path / "dask"
    killed: list[int] = []

    def kill_one_worker_after_a_fit() -> None:
        while not killed:
            stored = TaskStore(out / "tasks").keys() if (out / "tasks").is_dir() else set()
            if stored & fits or result:
                victim = cluster.workers[0]
                os.killpg(victim.pid, signal.SIGKILL)
                killed.append(victim.pid)
                return
            threading.Event().wait(0.05)

    result: list = []
    killer = threading.Thread(target=kill_one_worker_after_a_fit, daemon=True)
    killer.start()
    res = run(cfg, out, compute={"executor": "dask", "address": cluster.address})
    result.append(res)
    killer.join(timeout=10)
    assert killed and res.ok
    assert (out / "metrics.json").read_text() == (tmp_path / "local" / "metrics.json").read_text()
