"""Jobs on the research-at-scale executors: the server's [compute] settings, the graph's progress, and a job that a
killed server left running resumed from its task store (bounded attempts), or failed when it cannot be resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import warnings

import pytest
from sqlalchemy import func, insert, select

from signalbench.cli import main
from signalbench.service import db, jobs, keys, migrate
from signalbench.service.jobfolder import folder_name, progress_tasks, record_graph, tasks_done
from tests.service.conftest import Client, free_port, write_run
from tests.service.test_jobs import TINY

MULTI = {
    "name": "multi-job",
    "seed": 1,
    "device": "cpu",
    "data": {"kind": "synthetic", "n": 6000, "edge": 0.6, "ticks_per_day": 1000, "symbols": 2, "days": 3},
    "labels": {"kind": "direction", "horizon": 1},
    "split": {"kind": "days", "train_days": 1, "val_days": 1, "test_days": 1},
    "costs": {"fee_bps": 0.1},
    "baselines": {"exclude": ["persistence"]},
    "models": [],
    "strategies": [{"rule": "sign"}],
}


def _running(engine, job_id: str, config: dict, attempts: int) -> None:
    now = time.time()
    with engine.begin() as conn:
        conn.execute(
            insert(db.jobs).values(
                id=job_id,
                config=config,
                state="running",
                progress="tasks 3/22",
                error="",
                attempts=attempts,
                submitted_by="w",
                created_at=now,
                updated_at=now,
            )
        )


def test_recovery_requeues_a_resumable_job_fails_one_out_of_attempts_and_one_without_a_task_store(engine, runs_dir):
    for job_id, attempts in (("begun1", 1), ("begun3", 3)):
        _running(engine, job_id, MULTI, attempts)
        folder = runs_dir / folder_name(MULTI, job_id)
        folder.mkdir()
        (folder / "config.json").write_text("{}")  # what a multi-piece run writes first
    _running(engine, "single", TINY, 1)
    _running(engine, "ended3", TINY, 3)
    write_run(runs_dir, folder_name(TINY, "ended3"), sharpe={"lstm:sign": 1.0})  # complete: only to import
    assert jobs.recover(engine, runs_dir, max_attempts=3) == {"queued": 2, "failed": 2}
    resumable, spent, single = (jobs.get_job(engine, j) for j in ("begun1", "begun3", "single"))
    assert resumable["state"] == "queued" and resumable["attempts"] == 1
    assert resumable["tasks"] == {"done": 3, "total": 22}  # what it had done, shown while it waits
    assert jobs.get_job(engine, "ended3")["state"] == "queued"
    assert spent["state"] == "failed" and "attempt 3 of the job (max attempts 3)" in spent["error"]
    assert "signalbench run --resume" in spent["error"]
    assert single["state"] == "failed" and single["error"] == jobs.STOPPED


def test_a_job_whose_run_finished_before_the_server_died_is_imported_once_at_restart(engine, runs_dir):
    _running(engine, "finished", TINY, 1)
    write_run(runs_dir, folder_name(TINY, "finished"), sharpe={"lstm:sign": 1.0})  # metrics.json: complete
    runner = jobs.JobRunner(engine, runs_dir, poll=0.05)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while jobs.get_job(engine, "finished")["state"] != "done":
            assert time.monotonic() < deadline, jobs.get_job(engine, "finished")
            time.sleep(0.05)
    finally:
        runner.stop()
    job = jobs.get_job(engine, "finished")
    assert job["run_id"] == folder_name(TINY, "finished") and job["attempts"] == 2
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.runs)).scalar() == 1


def test_progress_counts_the_graphs_tasks_in_its_store(tmp_path):
    store = tmp_path / "tasks"
    store.mkdir()
    (store / "a").mkdir()
    (store / ".b.x.tmp").mkdir()  # a writer's temporary folder is not a result
    path = tmp_path / "p.json"
    assert tasks_done(path) is None  # before the graph is known
    record_graph(path, store, ["a", "b", "c"])
    assert tasks_done(path) == (1, 3)
    assert progress_tasks("tasks 1/3") == {"done": 1, "total": 3} and progress_tasks("running (process 7)") is None


@pytest.mark.parametrize(
    ("option", "named"), [(["--executor", "spark"], "--executor"), (["--workers", "0"], "--workers")]
)
def test_serve_refuses_bad_compute_settings(tmp_path, capsys, option, named):
    assert main(["serve", "--runs", str(tmp_path / "runs"), *option]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(f"signalbench serve: {named}: expected")


def test_serve_hands_its_executor_to_every_job_and_keeps_the_task_store_in_the_run_folder(engine, runs_dir):
    import argparse

    from signalbench.service.commands import _compute

    args = argparse.Namespace(executor="dask://scheduler:8786", workers=4, max_attempts=3)
    compute = _compute(args)
    assert compute == {"executor": "dask", "address": "tcp://scheduler:8786", "workers": 4}
    runner = jobs.JobRunner(engine, runs_dir, compute=compute)
    assert runner.compute == {**compute, "cache": None}  # a job's own [compute] cache is not used
    default = _compute(argparse.Namespace(executor="local", workers=1, max_attempts=3))
    assert jobs.JobRunner(engine, runs_dir, compute=default).compute == {**jobs.COMPUTE, "cache": None}


def _start(url: str, runs, key: str) -> tuple[subprocess.Popen, Client]:
    port = free_port()
    cmd = [sys.executable, "-c", "import sys; from signalbench.cli import main; sys.exit(main())", "serve"]
    cmd += ["--db", url, "--runs", str(runs), "--port", str(port), "--executor", "local", "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)  # its own process group: killed whole below
    client = Client(f"http://127.0.0.1:{port}", key)
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
        try:
            if client.call("GET", "/api/v1/health")[0] == 200:
                return proc, client
        except urllib.error.URLError:  # not listening yet
            pass
        time.sleep(0.3)


def _until(client, job_id: str, done, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.json("GET", f"/api/v1/jobs/{job_id}")[1]
        if done(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id}: {job}")


@pytest.mark.slow
def test_a_multi_piece_job_resumes_after_the_server_is_killed_and_equals_an_uninterrupted_run(tmp_path):
    from signalbench.experiment import compare

    runs = tmp_path / "runs"
    url = f"sqlite:///{tmp_path / 'resume.sqlite'}"
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    key = keys.create_key(engine, "w", ["write"])
    proc, client = _start(url, runs, key)
    try:
        job_id = client.json("POST", "/api/v1/runs", MULTI)[1]["job"]
        job = _until(client, job_id, lambda j: j["tasks"] and j["tasks"]["done"] >= 2 or j["state"] in jobs.ENDED)
        assert job["state"] == "running" and job["tasks"]["done"] < job["tasks"]["total"], job
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the server and its job's process, mid-job
        proc.wait()
    store = runs / folder_name(MULTI, job_id) / "tasks"
    before = {p.name: p.stat().st_mtime_ns for p in store.iterdir() if not p.name.startswith(".")}
    assert before and jobs.get_job(engine, job_id)["state"] == "running"  # what a killed server leaves behind
    proc, client = _start(url, runs, key)
    try:
        job = _until(client, job_id, lambda j: j["state"] in jobs.ENDED)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert job["state"] == "done" and job["attempts"] == 2, job
    assert job["tasks"]["done"] == job["tasks"]["total"] == 22
    after = {p.name: p.stat().st_mtime_ns for p in store.iterdir() if p.name in before}
    assert after == before  # the tasks done before the kill were not computed again
    with engine.connect() as conn:
        ids = conn.execute(select(db.runs.c.id)).scalars().all()
    assert ids == [job["run_id"]]  # in the database exactly once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(MULTI, out=tmp_path / "uninterrupted", compute={"executor": "local", "workers": 1})
    got = json.loads((runs / job["run_id"] / "metrics.json").read_text())
    assert got == json.loads((tmp_path / "uninterrupted" / "metrics.json").read_text())
    engine.dispose()
