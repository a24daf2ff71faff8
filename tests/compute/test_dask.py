"""The Dask executor against a real scheduler and two real workers (separate processes on loopback).

Compares stored results with the local executor byte for byte, kills a worker while its task runs, and checks the
errors for a missing extra and an unreachable scheduler. Skipped with a reason when ``distributed`` is not installed
(fails instead under CI: SIGNALBENCH_REQUIRE_SYSTEM=1).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from graphs import chain_of_sleeps, diamond, task
from graphtasks import runs
from procs import stored_bytes, subprocess_env, wait_for

from signalbench.compute import TaskStore, run_graph
from tests.conftest import require_module


class DaskCluster:
    """``dask scheduler`` on a free loopback port and ``n`` ``dask worker`` processes (one thread, no nanny)."""

    def __init__(self, folder: Path, n_workers: int = 2) -> None:
        self.folder, self.n_workers = folder, n_workers
        self.file = folder / "scheduler.json"
        self.procs: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []

    def _spawn(self, module: str, *args: str) -> subprocess.Popen:
        env = {**subprocess_env(), "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
        log = open(self.folder / f"{module.rsplit('.', 1)[-1]}-{len(self.procs)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args], env=env, stdout=log, stderr=log, start_new_session=True
        )
        self.procs.append(proc)
        return proc

    def start(self) -> DaskCluster:
        self._spawn(
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(self.file),
        )
        wait_for(self.file.exists, 60, "the scheduler file")
        self.address = json.loads(self.file.read_text())["address"]
        for i in range(self.n_workers):
            self.workers.append(
                self._spawn(
                    "distributed.cli.dask_worker",
                    "--scheduler-file",
                    str(self.file),
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--name",
                    f"w{i}",
                    "--host",
                    "127.0.0.1",
                )
            )
        self.wait_for_workers(self.n_workers)
        return self

    def wait_for_workers(self, n: int) -> None:
        import distributed

        with distributed.Client(self.address, timeout=30) as client:
            client.wait_for_workers(n, timeout=90)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def cluster(tmp_path):
    require_module("distributed", extra="distributed")
    folder = tmp_path / "cluster"
    folder.mkdir()
    running = DaskCluster(folder).start()
    yield running
    running.stop()


def test_a_graph_on_two_dask_workers_stores_what_the_local_executor_stores(tmp_path, cluster):
    markers = str(tmp_path / "m")
    tasks = diamond(markers, n_sources=4)
    local, dask = TaskStore(tmp_path / "local"), TaskStore(tmp_path / "dask")
    run_graph(tasks, local, workers=1)
    run = run_graph(tasks, dask, executor="dask", address=cluster.address)
    assert run.ok() and sorted(run.computed) == sorted(t.key for t in tasks)
    assert stored_bytes(dask) == stored_bytes(local)
    ran_in = {p.name.split(".")[1] for p in Path(markers).iterdir()} - {str(os.getpid())}
    assert ran_in <= {str(w.pid) for w in cluster.workers} and ran_in  # the dask run's tasks ran on the workers
    again = run_graph(tasks, dask, executor="dask", address=cluster.address)
    assert again.computed == [] and sorted(again.cached) == sorted(t.key for t in tasks)


def test_a_worker_killed_mid_task_has_its_task_run_elsewhere_with_identical_results(tmp_path, cluster):
    markers, release = str(tmp_path / "m"), tmp_path / "release"
    waiter = task(
        "fit",
        "graphtasks:wait_for_file",
        {"marker_dir": markers, "name": "waiter", "path": str(release), "value": 7},
        tags={"model": "x"},
    )
    after = task(
        "predict",
        "graphtasks:sleep_then",
        {"marker_dir": markers, "name": "after", "seconds": 0, "value": 1},
        {"m": waiter.key},
    )
    tasks = [waiter, after, *diamond(markers, n_sources=3)]
    dask = TaskStore(tmp_path / "dask")
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run_graph, tasks, dask, executor="dask", address=cluster.address)
        started = Path(markers) / "started-waiter"
        wait_for(started.exists, 60, "the waiting task to start")
        pid = int(started.read_text())
        assert pid in {w.pid for w in cluster.workers}
        started.unlink()
        os.kill(pid, signal.SIGKILL)
        wait_for(started.exists, 60, "the task to start again on the other worker")
        assert int(started.read_text()) != pid
        release.write_text("")
        run = running.result(timeout=120)
    assert run.ok() and sorted(run.computed) == sorted(t.key for t in tasks), run.failed
    assert runs(markers, "waiter") == 2
    local = TaskStore(tmp_path / "local")
    run_graph(tasks, local, workers=1)  # the release file exists: the waiting task returns at once
    assert stored_bytes(dask) == stored_bytes(local)


def test_failures_on_dask_skip_dependents_and_the_rest_finish(tmp_path, cluster):
    markers = str(tmp_path / "m")
    bad = task(
        "fit", "graphtasks:fail", {"marker_dir": markers, "name": "bad", "message": "no rows"}, tags={"symbol": "AMZN"}
    )
    child = task(
        "predict",
        "graphtasks:sleep_then",
        {"marker_dir": markers, "name": "child", "seconds": 0, "value": 1},
        {"m": bad.key},
    )
    grandchild = task(
        "assemble",
        "graphtasks:sleep_then",
        {"marker_dir": markers, "name": "grandchild", "seconds": 0, "value": 1},
        {"m": child.key},
    )
    others = diamond(markers)
    store = TaskStore(tmp_path / "s")
    run = run_graph([bad, child, grandchild, *others], store, executor="dask", address=cluster.address)
    assert list(run.failed) == [bad.key] and sorted(run.skipped) == sorted([child.key, grandchild.key])
    failure = run.failed[bad.key]
    assert (failure.kind, failure.tags, failure.error) == ("fit", {"symbol": "AMZN"}, "ValueError: no rows")
    assert "raise ValueError(message)" in failure.traceback
    assert sorted(run.computed) == sorted(t.key for t in others)
    assert runs(markers, "child") == 0 and runs(markers, "grandchild") == 0
    # fail_fast: the pending futures are cancelled; the last task of the slow chains never runs
    slow = chain_of_sleeps(markers, 2, 0.5)
    fast = run_graph([bad, *slow], TaskStore(tmp_path / "ff"), executor="dask", address=cluster.address, fail_fast=True)
    assert list(fast.failed) == [bad.key] and slow[-1].key in fast.skipped and runs(markers, "total") == 0
    assert sorted(fast.computed + fast.skipped + list(fast.failed)) == sorted(t.key for t in [bad, *slow])


def test_an_unreachable_scheduler_is_named_after_a_short_timeout(store, monkeypatch):
    require_module("distributed", extra="distributed")
    import socket

    from signalbench.compute import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    start = time.monotonic()
    with pytest.raises(
        ConnectionError, match=f"address: expected a Dask scheduler that answers within 2 s, got '{address}'; start one"
    ):
        run_graph(
            [task("piece", "graphtasks:source", {"marker_dir": "m", "name": "s", "seed": 0})],
            store,
            executor="dask",
            address=address,
        )
    assert time.monotonic() - start < 30


def test_without_distributed_the_error_names_the_extra(store, monkeypatch):
    import importlib

    real = importlib.import_module

    def no_distributed(name, *args):
        if name == "distributed":
            raise ModuleNotFoundError("No module named 'distributed'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_distributed)
    with pytest.raises(
        ImportError,
        match=r"executor: expected the optional 'distributed' extra installed for "
        r"executor='dask', got No module named 'distributed'; "
        r"pip install 'signalbench\[distributed\]'",
    ):
        run_graph(
            [task("piece", "graphtasks:source", {"marker_dir": "m", "name": "s", "seed": 0})],
            store,
            executor="dask",
            address="tcp://127.0.0.1:1",
        )


@pytest.mark.slow
def test_a_local_dask_cluster_when_no_address_is_given(tmp_path):
    require_module("distributed", extra="distributed")
    markers = str(tmp_path / "m")
    tasks = diamond(markers)
    local, dask = TaskStore(tmp_path / "local"), TaskStore(tmp_path / "dask")
    run_graph(tasks, local, workers=1)
    run = run_graph(tasks, dask, executor="dask", workers=2)
    assert run.ok() and stored_bytes(dask) == stored_bytes(local)
    elsewhere = [p for p in Path(markers).iterdir() if p.name.split(".")[1] != str(os.getpid())]
    assert len(elsewhere) == len(tasks)  # the dask run's tasks ran in the cluster's processes
    probe = task("probe", "graphtasks:thread_settings", {"marker_dir": markers, "name": "probe"})
    run_graph([probe], dask, executor="dask", workers=1)
    got = dask.load(probe.key)
    assert (got["numba"], got["omp"], got["numba_env"]) == (1, "1", "1") and got["pid"] != os.getpid()
