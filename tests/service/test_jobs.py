"""POST /runs, GET and DELETE /jobs/{id}: validated exactly as `signalbench validate`, idempotent submissions,
persisted states, a killed server's job never left running, a finished run imported exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error

import pytest
from sqlalchemy import func, insert, select

from signalbench.cli import main
from signalbench.service import db, jobs, keys, migrate
from signalbench.service.importer import import_runs
from signalbench.service.jobfolder import folder_name, folder_state
from tests.service.conftest import Client, free_port

TINY = {
    "name": "tiny-job",
    "seed": 1,
    "device": "cpu",
    "data": {"kind": "synthetic", "n": 600, "edge": 0.6, "ticks_per_day": 600},
    "labels": {"kind": "direction", "horizon": 1},
    "costs": {"fee_bps": 0.1},
    "baselines": {"exclude": ["persistence", "logistic"]},
    "models": [],
    "strategies": [{"rule": "sign"}],
}
BAD_TOML = """
name = "bad"
seq = 3
[data]
kind = "synthetic"
n = 50
[labels]
kind = "direction"
horizon = 1
[[models]]
name = "lstm"
seq_len = 1.5
[[strategies]]
rule = "sign"
"""


@pytest.fixture
def writer(engine, serve):
    """A client with a write key on a server without a job runner (jobs stay queued)."""
    return Client(serve(), keys.create_key(engine, "w", ["write"]))


def test_a_bad_config_is_a_422_listing_every_location_as_signalbench_validate(writer, tmp_path, capsys):
    status, headers, raw = writer.call(
        "POST", "/api/v1/runs", BAD_TOML.encode(), headers={"Content-Type": "application/toml"}
    )
    assert status == 422 and headers["content-type"] == "application/problem+json"
    locations = [e["location"] for e in json.loads(raw)["errors"]]
    assert {"seq", "data.n", "models[0].seq_len"} <= set(locations)
    path = tmp_path / "bad.toml"
    path.write_text(BAD_TOML)
    assert main(["validate", str(path)]) == 2
    printed = capsys.readouterr().err.splitlines()[1:]
    assert [line.strip().split(": ", 1)[0] for line in printed] == locations


def test_submission_is_idempotent_and_a_queued_job_cancels(writer, engine):
    key = {"Idempotency-Key": "retry-1"}
    s1, h1, b1 = writer.call("POST", "/api/v1/runs", TINY, headers=key)
    s2, _, b2 = writer.call("POST", "/api/v1/runs", TINY, headers=key)
    first, second = json.loads(b1), json.loads(b2)
    assert (
        (s1, s2) == (202, 202)
        and first["job"] == second["job"]
        and (first["created"], second["created"]) == (True, False)
    )
    assert h1["location"] == f"/api/v1/jobs/{first['job']}"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.jobs)).scalar() == 1
    status, job = writer.json("GET", f"/api/v1/jobs/{first['job']}")
    assert job["state"] == "queued" and job["attempts"] == 0
    assert writer.json("DELETE", f"/api/v1/jobs/{first['job']}")[1]["state"] == "cancelled"
    status, problem = writer.json("DELETE", f"/api/v1/jobs/{first['job']}")
    assert status == 409 and "cancelled" in problem["detail"]


def test_a_job_left_running_by_a_killed_server_is_marked_failed_at_restart(engine, runs_dir):
    now = time.time()
    with engine.begin() as conn:
        conn.execute(
            insert(db.jobs).values(
                id="j1",
                config=TINY,
                state="running",
                progress="running",
                error="",
                attempts=1,
                submitted_by="",
                created_at=now,
                updated_at=now,
            )
        )
    runner = jobs.JobRunner(engine, runs_dir)
    runner.start()
    runner.stop()
    job = jobs.get_job(engine, "j1")
    assert job["state"] == "failed" and job["error"] == jobs.STOPPED


def _wait(client, job_id: str, states: tuple[str, ...], timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.json("GET", f"/api/v1/jobs/{job_id}")[1]
        if job["state"] in states:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not reach {states}: {job}")


@pytest.mark.slow
def test_a_job_runs_in_a_separate_process_and_its_run_is_imported_exactly_once(engine, runs_dir, serve):
    from signalbench.service.jobs import JobRunner

    client = Client(serve(runner=JobRunner(engine, runs_dir, poll=0.2)), keys.create_key(engine, "w", ["write"]))
    status, body = client.json("POST", "/api/v1/runs", TINY)
    job = _wait(client, body["job"], ("done", "failed"))
    assert job["state"] == "done", job
    assert job["attempts"] == 1 and (runs_dir / job["run_id"] / "metrics.json").is_file()
    status, run = client.json("GET", f"/api/v1/runs/{job['run_id']}")
    assert status == 200 and run["submitted_by"] == "w" and run["name"] == "tiny-job"
    assert import_runs(engine, runs_dir).imported == []  # already there: imported exactly once
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.runs)).scalar() == 1


@pytest.mark.slow
def test_killing_the_server_mid_job_never_leaves_the_job_running_after_restart(tmp_path):
    runs = tmp_path / "runs"
    url = f"sqlite:///{tmp_path / 'killed.sqlite'}"
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    key = keys.create_key(engine, "w", ["write"])
    slow = {**TINY, "data": {**TINY["data"], "n": 200_000, "ticks_per_day": 20_000}}

    def start() -> tuple[subprocess.Popen, Client]:
        port = free_port()
        cmd = [
            sys.executable,
            "-c",
            "import sys; from signalbench.cli import main; sys.exit(main())",
            "serve",
            "--db",
            url,
            "--runs",
            str(runs),
            "--port",
            str(port),
        ]
        proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        client = Client(f"http://127.0.0.1:{port}", key)
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            try:
                if client.call("GET", "/api/v1/health")[0] == 200:
                    break
            except urllib.error.URLError:  # not listening yet
                pass
            time.sleep(0.3)
        return proc, client

    proc, client = start()
    job_id = client.json("POST", "/api/v1/runs", slow)[1]["job"]
    _wait(client, job_id, ("running",))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert jobs.get_job(engine, job_id)["state"] == "running"  # what a killed server leaves behind
    # the job's run folder, if its worker got as far as making it, can be resumed; else the job cannot be
    begun = folder_state(runs / folder_name(slow, job_id)) != "none"
    proc, client = start()
    try:
        job = client.json("GET", f"/api/v1/jobs/{job_id}")[1]
        if begun:  # re-queued for a second attempt (test_job_resume.py follows such a job to the end)
            assert job["state"] in ("queued", "running", "done") and job["attempts"] in (1, 2), job
        else:
            assert job["state"] == "failed" and job["error"] == jobs.STOPPED
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    engine.dispose()


@pytest.mark.slow
def test_cancelling_a_running_job_kills_its_process_and_stays_cancelled(engine, runs_dir, serve):
    from signalbench.service.jobs import JobRunner

    runner = JobRunner(engine, runs_dir, poll=0.2)
    client = Client(serve(runner=runner), keys.create_key(engine, "w", ["write"]))
    slow = {**TINY, "data": {**TINY["data"], "n": 200_000, "ticks_per_day": 20_000}}
    job_id = client.json("POST", "/api/v1/runs", slow)[1]["job"]
    _wait(client, job_id, ("running",))
    while runner._child is None:  # the process is being started
        time.sleep(0.05)
    proc = runner._child[1]
    status, job = client.json("DELETE", f"/api/v1/jobs/{job_id}")
    assert status == 200 and job["state"] == "cancelled"
    proc.wait(timeout=30)
    time.sleep(1.0)  # a few polls of the runner: the kill is not read as a failure
    assert client.json("GET", f"/api/v1/jobs/{job_id}")[1]["state"] == "cancelled"
    assert not any(p.name.endswith(job_id[:12]) for p in runs_dir.iterdir())  # nothing that looks finished
