"""What a job's run folder says: its name, whether it is complete or can be resumed, and the job's task progress.

A job writes its run folder ``<runs>/<name>-job-<id>``. A run (single- or multi-piece) creates it at the start with
its ``config.json`` and its task store (``RUN/tasks``); ``metrics.json`` is written last, so a folder with it is
complete, and a folder with ``config.json`` alone is a run in progress that ``compare(..., resume=True)``
continues.

The job's worker records the graph it runs (the store's folder and every task key) in a progress file of the
spool; the runner counts the keys stored so far: ``tasks <done>/<total>``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal

_PROGRESS = re.compile(r"tasks (\d+)/(\d+)")


def folder_name(config: dict, job_id: str) -> str:
    """The run folder's name of job ``job_id`` (the experiment's name, made safe, and the job id)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(config.get("name") or "job")).strip(".-") or "job"
    return f"{name[:80]}-job-{job_id[:12]}"


def folder_state(out: Path) -> Literal["complete", "resumable", "none"]:
    """``complete`` (``metrics.json`` is there), ``resumable`` (a run begun) or ``none``."""
    if (out / "metrics.json").is_file():
        return "complete"
    return "resumable" if (out / "config.json").is_file() else "none"


def record_graph(path: Path, store_root: Path, keys: list[str]) -> None:
    """Write the progress file of a job's graph run (in the worker, before the tasks run)."""
    from signalbench._atomic import write_text

    write_text(path, json.dumps({"store": str(store_root), "keys": keys}))


def tasks_done(path: Path) -> tuple[int, int] | None:
    """(tasks stored, tasks in the graph) of a job's progress file; None before the graph is known."""
    try:
        graph = json.loads(path.read_text(encoding="utf-8"))
        stored = set(os.listdir(graph["store"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    keys = set(graph["keys"])
    return len(keys & stored), len(keys)


def progress_text(done: int, total: int) -> str:
    """The ``progress`` of a job running a graph."""
    return f"tasks {done}/{total}"


def progress_tasks(progress: str) -> dict[str, Any] | None:
    """``{"done", "total"}`` of a job's ``progress`` (None when it ran no graph)."""
    m = _PROGRESS.search(progress or "")
    return None if m is None else {"done": int(m.group(1)), "total": int(m.group(2))}
