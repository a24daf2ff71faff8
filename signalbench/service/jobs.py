"""The job runner: submitted experiments run one at a time, each in a separate process, their states persisted.

Kept to this one module so that it can hand jobs to the research-at-scale executors when they land. A job goes
``queued -> running -> done | failed | cancelled``; when the server starts, a job left ``running`` by a server that
was killed is marked ``failed`` (with the reason), never left running forever. A finished run is imported in the
same transaction that marks its job done, so it is in the database exactly once.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
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

STOPPED = "the server stopped while the job ran; submit it again"


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
    """The job's record (None when there is none)."""
    with engine.connect() as conn:
        row = conn.execute(select(db.jobs).where(db.jobs.c.id == job_id)).first()
    return None if row is None else {k: v for k, v in row._mapping.items() if k != "config"}


def _set(engine: Engine, job_id: str, *, when: tuple[str, ...] = (), **values) -> bool:
    stmt = update(db.jobs).where(db.jobs.c.id == job_id)
    if when:
        stmt = stmt.where(db.jobs.c.state.in_(when))
    with engine.begin() as conn:
        return conn.execute(stmt.values(**values, updated_at=time.time())).rowcount == 1


def recover(engine: Engine) -> int:
    """Mark the jobs a killed server left ``running`` as failed; returns how many."""
    stmt = update(db.jobs).where(db.jobs.c.state == "running")
    with engine.begin() as conn:
        return conn.execute(stmt.values(state="failed", error=STOPPED, updated_at=time.time())).rowcount


def cancel_queued(engine: Engine, job_id: str) -> bool:
    """Cancel a job that has not started (a server without a runner)."""
    return _set(engine, job_id, when=("queued",), state="cancelled")


def _folder_name(config: dict, job_id: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(config.get("name") or "job")).strip(".-") or "job"
    return f"{name[:80]}-job-{job_id[:12]}"


class JobRunner:
    """Runs queued jobs one at a time in child processes (``python -m signalbench.service.worker``)."""

    def __init__(self, engine: Engine, runs_dir: Path, *, poll: float = 0.5) -> None:
        self.engine, self.runs_dir, self.poll = engine, runs_dir, poll
        self.spool = runs_dir / ".jobs"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._child: tuple[str, subprocess.Popen, Path] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Recover the jobs of a killed server, then start taking queued jobs."""
        recover(self.engine)
        self.spool.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._loop, name="signalbench-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop taking jobs; a running one is stopped and marked failed (the server is going away)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            if self._child is not None:
                job_id, proc, _ = self._child
                proc.kill()
                proc.wait()
                _set(self.engine, job_id, when=("running",), state="failed", error=STOPPED)
                self._child = None

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
        if job is None or not _set(
            self.engine, job.id, when=("queued",), state="running", attempts=job.attempts + 1, progress="starting"
        ):
            return
        spec = self.spool / f"{job.id}.json"
        spec.write_text(json.dumps({"config": job.config, "base_dir": str(self.runs_dir.parent)}), encoding="utf-8")
        out = self.runs_dir / _folder_name(job.config, job.id)
        cmd = [sys.executable, "-m", "signalbench.service.worker", str(spec), str(out)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, preexec_fn=_die_with_parent
        )
        self._child = (job.id, proc, out)
        _set(self.engine, job.id, progress=f"running (process {proc.pid})")

    def _check(self) -> None:
        job_id, proc, out = self._child
        if proc.poll() is None:
            return
        self._child = None
        (self.spool / f"{job_id}.json").unlink(missing_ok=True)
        err = (proc.stderr.read() or b"").decode(errors="replace").strip() if proc.stderr else ""
        if proc.returncode != 0 or not out.is_dir():
            if get_job(self.engine, job_id)["state"] == "running":
                why = err.splitlines()[-1] if err else f"exit status {proc.returncode}"
                _set(self.engine, job_id, when=("running",), state="failed", error=why[:2000], progress="")
            return
        job = get_job(self.engine, job_id)
        try:
            record = read_run(out, submitted_by=job["submitted_by"])
        except (ValueError, OSError) as exc:  # a run folder the service cannot read: the job failed, with why
            _set(self.engine, job_id, when=("running",), state="failed", error=str(exc)[:2000], progress="")
            return
        with self.engine.begin() as conn:  # the run and the job's end in one transaction: imported exactly once
            insert_run(conn, record)
            conn.execute(
                update(db.jobs)
                .where(db.jobs.c.id == job_id)
                .values(state="done", run_id=out.name, progress="done", updated_at=time.time())
            )
