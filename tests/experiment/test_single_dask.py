"""A single-piece run's tasks on a real Dask scheduler and two worker processes: the local executor's numbers.

Reuses the compute tests' cluster (``tests/compute/test_dask.py``); skipped with a reason without ``distributed``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compute"))

from test_dask import cluster  # noqa: E402, F401  (the fixture)

from signalbench.experiment import compare  # noqa: E402
from tests.experiment.test_single_graph import config  # noqa: E402


@pytest.mark.slow
def test_a_single_run_on_dask_workers_gives_the_local_metrics(tmp_path, cluster):  # noqa: F811
    local = compare(config(), out=tmp_path / "local", report=False)
    on_dask = config(compute={"executor": "dask", "address": cluster.address})
    dask = compare(on_dask, out=tmp_path / "dask", report=False)
    assert sorted(dask.run.computed) == sorted(local.run.computed)
    assert (tmp_path / "dask" / "metrics.json").read_bytes() == (tmp_path / "local" / "metrics.json").read_bytes()
