"""The local process pool: results byte-equal to one process; one thread per worker; warm-up; dead workers; Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from graphs import chain_of_sleeps, diamond, task
from graphtasks import runs
from procs import HERE, stored_bytes, subprocess_env, wait_for

from signalbench.compute import TaskStore, run_graph


def test_two_workers_store_byte_equal_results_to_one(tmp_path):
    markers = str(tmp_path / "m")
    tasks = diamond(markers, n_sources=4)
    one, two = TaskStore(tmp_path / "one"), TaskStore(tmp_path / "two")
    run_one = run_graph(tasks, one, workers=1)
    run_two = run_graph(tasks, two, workers=2)
    assert run_one.ok() and run_two.ok() and sorted(run_two.computed) == sorted(run_one.computed)
    assert stored_bytes(two) == stored_bytes(one) and len(stored_bytes(one)) > 2 * len(tasks)
    pids = {p.name.split(".")[1] for p in Path(markers).iterdir()}
    assert str(os.getpid()) in pids and len(pids) >= 2  # the pool's tasks ran in other processes


def test_workers_run_one_thread_each_and_the_caller_keeps_its_settings(store, markers):
    before = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")}
    probes = [task("probe", "graphtasks:thread_settings", {"marker_dir": markers, "name": f"p{i}"}) for i in range(2)]
    run = run_graph(probes, store, workers=2)
    assert run.ok()
    for probe in probes:
        got = store.load(probe.key)
        assert (got["numba"], got["omp"], got["numba_env"]) == (1, "1", "1") and got["pid"] != os.getpid()
    assert {k: os.environ.get(k) for k in before} == before


def test_warm_up_runs_in_the_caller_before_the_pool_and_once_per_worker(tmp_path, store, monkeypatch):
    warm = tmp_path / "warm"
    monkeypatch.setenv("SIGNALBENCH_TEST_WARM_DIR", str(warm))
    import warmtasks

    from signalbench.compute import worker

    monkeypatch.setattr(worker, "_warmed", set())
    tasks = [task("pid", "warmtasks:pid", {"i": i}) for i in range(6)]
    run_graph(tasks, store, workers=2)
    calls = [p.name.split(".")[0] for p in warm.iterdir()]
    worker_pids = {str(store.load(t.key)) for t in tasks}
    assert calls.count(str(os.getpid())) == 1  # the caller warmed first
    assert sorted(c for c in calls if c != str(os.getpid())) == sorted(worker_pids)  # then each worker, once
    assert warmtasks.warm_up is not None


def test_a_failure_in_the_pool_is_isolated_and_fail_fast_stops(store, markers):
    bad = task("fit", "graphtasks:fail", {"marker_dir": markers, "name": "bad", "message": "boom"}, tags={"fold": "0"})
    after = task(
        "predict",
        "graphtasks:sleep_then",
        {"marker_dir": markers, "name": "after", "seconds": 0, "value": 1},
        {"m": bad.key},
    )
    others = chain_of_sleeps(markers, 2, 0.0)
    run = run_graph([bad, after, *others], store, workers=2)
    assert list(run.failed) == [bad.key] and run.skipped == [after.key]
    assert run.failed[bad.key].error == "ValueError: boom" and "raise ValueError" in run.failed[bad.key].traceback
    assert sorted(run.computed) == sorted(t.key for t in others)
    # second_i = 10 i + first_i = 11 i; the total is second0 + second1 = 0 + 11
    assert store.load(others[-1].key) == 11


def test_fail_fast_in_the_pool_starts_nothing_after_a_failure(store, markers):
    bad = task("fit", "graphtasks:fail", {"marker_dir": markers, "name": "bad", "message": "boom"})
    slow = chain_of_sleeps(markers, 3, 0.2)
    run = run_graph([bad, *slow], store, workers=2, fail_fast=True)
    assert list(run.failed) == [bad.key]
    assert runs(markers, "total") == 0 and run.skipped  # the final task never started
    assert sorted(run.computed + run.skipped + list(run.failed)) == sorted(t.key for t in [bad, *slow])


@pytest.mark.slow
def test_a_worker_that_dies_fails_its_task_and_the_rest_finish(store, markers):
    dies = task("fit", "graphtasks:die", {"marker_dir": markers, "name": "dies"}, tags={"model": "lstm"})
    others = chain_of_sleeps(markers, 2, 0.05)
    run = run_graph([dies, *others], store, workers=2)
    assert list(run.failed) == [dies.key]
    assert run.failed[dies.key].error.startswith("BrokenProcessPool: a worker process died")
    assert runs(markers, "dies") == 2  # tried once more, alone
    assert sorted(run.computed) == sorted(t.key for t in others)


def _start_script(tmp_path, workers: int, n: int, seconds: float) -> subprocess.Popen:
    args = [
        sys.executable,
        "-m",
        "killable",
        str(tmp_path / "store"),
        str(tmp_path / "m"),
        str(workers),
        str(n),
        str(seconds),
    ]
    return subprocess.Popen(
        args,
        cwd=HERE,
        env=subprocess_env(),
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_sigkill_of_the_process_group_then_a_rerun_computes_only_what_is_missing(tmp_path, workers):
    n, seconds = 4, 0.4
    proc = _start_script(tmp_path, workers, n, seconds)
    store = TaskStore(tmp_path / "store")
    try:
        wait_for(lambda: len(store.keys()) >= 3 or proc.poll() is not None)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    tasks = chain_of_sleeps(str(tmp_path / "m"), n, seconds)
    kept = store.keys()
    assert 3 <= len(kept) < len(tasks)
    before = {t.key: runs(tmp_path / "m", _name(t)) for t in tasks}
    run = run_graph(tasks, store, workers=1)
    assert run.ok() and sorted(run.cached) == sorted(kept)
    assert sorted(run.computed) == sorted(set(before) - kept)
    for t in tasks:  # finished tasks were not recomputed; the others ran once more
        assert runs(tmp_path / "m", _name(t)) == before[t.key] + (t.key not in kept)
    fresh = TaskStore(tmp_path / "fresh")
    run_graph(chain_of_sleeps(str(tmp_path / "m"), n, seconds), fresh, workers=1)
    assert stored_bytes(fresh) == {k: v for k, v in stored_bytes(store).items() if not k.startswith(".")}


@pytest.mark.slow
def test_ctrl_c_stops_the_pool_keeps_finished_results_and_leaves_no_worker(tmp_path):
    import psutil

    n, seconds = 8, 1.0  # 17 tasks of 1 s on 2 workers: about 9 s left when the Ctrl-C comes, even on a slow machine
    proc = _start_script(tmp_path, 2, n, seconds)
    store = TaskStore(tmp_path / "store")
    try:
        wait_for(lambda: len(store.keys()) >= 2 or proc.poll() is not None)
        assert proc.poll() is None, "the run ended before the Ctrl-C could be sent"
        children = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGINT)  # the caller only, as a Ctrl-C that reaches just the parent
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert "KeyboardInterrupt" in err, (proc.returncode, out, err)
    wait_for(lambda: not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children), 30)
    tasks = chain_of_sleeps(str(tmp_path / "m"), n, seconds)
    kept = store.keys()
    for key in kept:
        store.load(key)  # complete
    run = run_graph(tasks, store, workers=1)
    assert run.ok() and sorted(run.cached) == sorted(kept) and len(run.computed) == len(tasks) - len(kept)


def _name(t) -> str:
    return t.params["name"]


def test_a_warm_up_that_raises_fails_a_task_of_its_module_not_the_run(store, markers):
    from signalbench.compute import worker

    worker._warmed.discard("badwarm")
    bad = task("fit", "badwarm:one", {})
    good = task("piece", "graphtasks:sleep_then", {"marker_dir": markers, "name": "g", "seconds": 0, "value": 3})
    run = run_graph([bad, good], store, workers=2)
    assert run.computed == [good.key] and run.failed[bad.key].error == "RuntimeError: the kernels do not compile"
