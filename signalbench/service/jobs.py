"""The job runner: submitted experiments run one at a time, each in a separate process, their states persisted.

A job goes ``queued -> running -> done | failed | cancelled``. Its process runs the experiment through
:func:`signalbench.experiment.compare` with the server's ``[compute]`` settings (``signalbench serve --executor
local|dask|dask://host:port --workers N``; default: local, 1 worker), into the run folder of
:mod:`signalbench.service.jobfolder`. When the server starts, a job a killed server left ``running`` is re-queued
when its run folder can be resumed (its task store keeps every task done) and resumed, at most
``max_attempts`` attempts in all (then failed with the reason); one that cannot be resumed (stopped before its run
folder was created) is marked ``failed`` with the reason, never left running forever. A server stopped cleanly
does the same with the job it was running. A finished run is imported in the same transaction that marks its job
done, so it is in the database exactly once.

One server runs the jobs of a database: a second server with jobs on the same database would take the first's
running jobs for a killed server's.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from signalbench.service import db
from signalbench.service.importer import insert_run, read_run
from signalbench.service.jobfolder import folder_name, folder_state, progress_tasks, progress_text, tasks_done

STOPPED = (
    "the server stopped while the job ran and its run cannot be resumed (it stopped before its run folder was made); "
    "submit it again"
)
#: The states a job ends in.
ENDED = ("done", "failed", "cancelled")
#: Attempts of a job (its first run and the resumptions after a server stopped) before it is failed.
MAX_ATTEMPTS = 3
#: The server's ``[compute]`` settings by default: this machine, one worker (the job's own process).
COMPUTE = {"executor": "local", "workers": 1, "address": None}


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: no orphaned job outlives the server
    except OSError:
        pass


def submit(engine: Engine, config: dict, *, who: str = "", idempotency_key: str | None = None) -> tuple[str, bool]:
    """Queue a validated config; returns (job id, created). The same ``idempotency_key`` gives the same job."""
    now = time.time()
    row = {
        "id": uuid.uuid4().hex,
        "config": config,
        "state": "queued",
        "progress": "",
        "error": "",
        "attempts": 0,
        "idempotency_key": idempotency_key,
        "submitted_by": who,
        "created_at": now,
        "updated_at": now,
    }
    if idempotency_key is not None:
        with engine.connect() as conn:
            found = conn.execute(select(db.jobs.c.id).where(db.jobs.c.idempotency_key == idempotency_key)).first()
        if found is not None:
            return found.id, False
    try:
        with engine.begin() as conn:
            conn.execute(insert(db.jobs).values(**row))
    except IntegrityError:  # the same key submitted at the same moment: the other one won
        with engine.connect() as conn:
            found = conn.execute(select(db.jobs.c.id).where(db.jobs.c.idempotency_key == idempotency_key)).first()
        return found.id, False
    return row["id"], True


def get_job(engine: Engine, job_id: str) -> dict[str, Any] | None:
    """The job's record (None when there is none); ``tasks`` is ``{"done", "total"}`` of its graph, when known."""
    with engine.connect() as conn:
        row = conn.execute(select(db.jobs).where(db.jobs.c.id == job_id)).first()
    if row is None:
        return None
    job = {k: v for k, v in row._mapping.items() if k != "config"}
    return {**job, "tasks": progress_tasks(job["progress"])}


def _set(engine: Engine, job_id: str, *, when: tuple[str, ...] = (), **values) -> bool:
    stmt = update(db.jobs).where(db.jobs.c.id == job_id)
    if when:
        stmt = stmt.where(db.jobs.c.state.in_(when))
    with engine.begin() as conn:
        return conn.execute(stmt.values(**values, updated_at=time.time())).rowcount == 1


def _stopped(engine: Engine, job, runs_dir: Path, max_attempts: int) -> str:
    """Re-queue or fail a job whose server stopped while it ran; returns its new state."""
    out = runs_dir / folder_name(job.config, job.id)
    state = folder_state(out)
    if state == "none":
        _set(engine, job.id, when=("running",), state="failed", error=STOPPED, progress="")
        return "failed"
    if state == "resumable" and job.attempts >= max_attempts:  # a complete one is only imported
        why = (
            f"the server stopped during attempt {job.attempts} of the job (max attempts {max_attempts}); "
            f"continue it with `signalbench run --resume {out}` or submit it again"
        )
        _set(engine, job.id, when=("running",), state="failed", error=why)
        return "failed"
    done = f": {job.progress}" if progress_tasks(job.progress) else ""
    _set(engine, job.id, when=("running",), state="queued", progress=f"to resume{done}")
    return "queued"


def recover(engine: Engine, runs_dir: Path, max_attempts: int = MAX_ATTEMPTS) -> dict[str, int]:
    """Re-queue (to resume) or fail the jobs a killed server left ``running``; returns how many of each."""
    with engine.connect() as conn:
        left = conn.execute(select(db.jobs).where(db.jobs.c.state == "running")).all()
    counts = {"queued": 0, "failed": 0}
    for job in left:
        counts[_stopped(engine, job, runs_dir, max_attempts)] += 1
    return counts


def cancel_queued(engine: Engine, job_id: str) -> bool:
    """Cancel a job that has not started (a server without a runner)."""
    return _set(engine, job_id, when=("queued",), state="cancelled")


class JobRunner:
    """Runs queued jobs one at a time in child processes (``python -m signalbench.service.worker``).

    ``compute``: the ``[compute]`` keys every job runs with (default :data:`COMPUTE`); ``max_attempts``: how many
    times a job is started in all (resumptions after a server stopped included).
    """

    def __init__(
        self,
        engine: Engine,
        runs_dir: Path,
        *,
        poll: float = 0.5,
        compute: dict[str, Any] | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.engine, self.runs_dir, self.poll = engine, runs_dir, poll
        self.compute = {**COMPUTE, **(compute or {}), "cache": None}  # the task store is the run folder's own
        self.max_attempts = max_attempts
        self.spool = runs_dir / ".jobs"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._child: tuple[str, subprocess.Popen, Path] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Recover the jobs of a killed server (re-queued to resume, or failed), then start taking queued jobs."""
        recover(self.engine, self.runs_dir, self.max_attempts)
        self.spool.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._loop, name="signalbench-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop taking jobs; a running one is stopped, then re-queued to resume at the next start or failed."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            if self._child is not None:
                job_id, proc, _ = self._child
                proc.kill()
                proc.wait()
                self._child = None
                with self.engine.connect() as conn:
                    job = conn.execute(select(db.jobs).where(db.jobs.c.id == job_id)).first()
                if job is not None and job.state == "running":
                    _stopped(self.engine, job, self.runs_dir, self.max_attempts)

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job (its process is killed); False when it had finished already."""
        if cancel_queued(self.engine, job_id):
            return True
        with self._lock:  # marked first, then killed: the runner never reads the kill as a failure
            if not _set(self.engine, job_id, when=("running",), state="cancelled", progress="cancelled"):
                return False
            if self._child is not None and self._child[0] == job_id:
                self._child[1].kill()
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with self._lock:
                    if self._child is None:
                        self._claim()
                    else:
                        self._check()
            except Exception as exc:  # a database hiccup must not end the runner; it is retried on the next tick
                print(f"signalbench job runner: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._stop.wait(self.poll)

    def _claim(self) -> None:
        with self.engine.connect() as conn:
            stmt = select(db.jobs).where(db.jobs.c.state == "queued").order_by(db.jobs.c.created_at).limit(1)
            job = conn.execute(stmt).first()
        if job is None or not _set(self.engine, job.id, when=("queued",), state="running", attempts=job.attempts + 1):
            return
        out = self.runs_dir / folder_name(job.config, job.id)
        state = folder_state(out)
        if state == "complete":  # finished before its server stopped, not imported yet
            self._import(job.id, out)
            return
        spec = {
            "config": job.config,
            "base_dir": str(self.runs_dir.parent),
            "compute": self.compute,
            "resume": state == "resumable",
            "progress": str(self.spool / f"{job.id}.progress.json"),
        }
        (self.spool / f"{job.id}.json").write_text(json.dumps(spec), encoding="utf-8")
        cmd = [sys.executable, "-m", "signalbench.service.worker", str(self.spool / f"{job.id}.json"), str(out)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        with open(self.spool / f"{job.id}.err", "wb") as err:  # a file: a chatty job never fills a pipe
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env, preexec_fn=_die_with_parent)
        self._child = (job.id, proc, out)
        how = "resuming" if spec["resume"] else "running"
        _set(self.engine, job.id, when=("running",), progress=f"{how} (process {proc.pid})")

    def _check(self) -> None:
        job_id, proc, out = self._child
        if proc.poll() is None:
            self._progress(job_id)
            return
        self._child = None
        self._progress(job_id)  # the tasks stored in the end
        err_file = self.spool / f"{job_id}.err"
        err = err_file.read_bytes().decode(errors="replace").strip() if err_file.is_file() else ""
        for name in (f"{job_id}.json", f"{job_id}.progress.json", f"{job_id}.err"):
            (self.spool / name).unlink(missing_ok=True)
        if proc.returncode != 0 or folder_state(out) != "complete":
            if get_job(self.engine, job_id)["state"] == "running":
                why = err.splitlines()[-1] if err else f"exit status {proc.returncode}"
                _set(self.engine, job_id, when=("running",), state="failed", error=why[:2000], progress="")
            return
        self._import(job_id, out)

    def _progress(self, job_id: str) -> None:
        counted = tasks_done(self.spool / f"{job_id}.progress.json")
        if counted is not None:
            text = progress_text(*counted)
            if get_job(self.engine, job_id)["progress"] != text:
                _set(self.engine, job_id, when=("running",), progress=text)

    def _import(self, job_id: str, out: Path) -> None:
        """The finished run into the database and the job done, in one transaction (imported exactly once)."""
        job = get_job(self.engine, job_id)
        try:
            record = read_run(out, submitted_by=job["submitted_by"])
        except (ValueError, OSError) as exc:  # a run folder the service cannot read: the job failed, with why
            _set(self.engine, job_id, when=("running",), state="failed", error=str(exc)[:2000], progress="")
            return
        tasks = progress_tasks(job["progress"])
        with self.engine.begin() as conn:
            insert_run(conn, record)  # False when `db import` took it first: still there once
            conn.execute(
                update(db.jobs)
                .where(db.jobs.c.id == job_id)
                .values(
                    state="done",
                    run_id=out.name,
                    progress=job["progress"] if tasks else "done",
                    updated_at=time.time(),
                )
            )
