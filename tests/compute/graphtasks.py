"""Module-level task functions for the compute tests, imported by name (``graphtasks:...``) in every worker.

``tests/compute/conftest.py`` puts this folder on ``sys.path`` (and on ``PYTHONPATH`` for the processes it starts).
Each task that counts its executions writes one marker file per run into ``marker_dir``: ``<name>.<pid>.<random>``.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd


def mark(marker_dir: str, name: str) -> None:
    Path(marker_dir).mkdir(parents=True, exist_ok=True)
    (Path(marker_dir) / f"{name}.{os.getpid()}.{uuid.uuid4().hex}").write_text("")


def runs(marker_dir: str | Path, name: str | None = None) -> int:
    """How many times the task ``name`` (every task when None) ran."""
    folder = Path(marker_dir)
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.iterdir() if name is None or p.name.split(".")[0] == name)


def source(marker_dir: str, name: str, seed: int, n: int = 50) -> dict:
    """A piece of data: a frame, an array and a number drawn from ``seed``."""
    mark(marker_dir, name)
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"x": rng.normal(size=n), "y": rng.integers(0, 5, n)},
        index=pd.date_range("2020-01-02 09:30", periods=n, freq="s"),
    )
    return {"frame": frame, "weights": rng.normal(size=3), "seed": seed}


def combine(marker_dir: str, name: str, scale: float, **parts: dict) -> dict:
    """Sums over the parts' frames (in name order), scaled."""
    mark(marker_dir, name)
    total = sum(float(parts[k]["frame"]["x"].sum() + parts[k]["weights"].sum()) for k in sorted(parts))
    series = pd.concat([parts[k]["frame"]["x"] * scale for k in sorted(parts)], ignore_index=True).rename("scaled")
    return {"total": total * scale, "series": series}


def fail(marker_dir: str, name: str, message: str, **deps) -> None:
    mark(marker_dir, name)
    raise ValueError(message)


def sleep_then(marker_dir: str, name: str, seconds: float, value: int, **deps) -> int:
    """Sleeps, then returns ``value`` plus the dependencies' values: a task slow enough to be interrupted."""
    mark(marker_dir, name)
    time.sleep(seconds)
    return value + sum(int(d) for d in deps.values())


def wait_for_file(marker_dir: str, name: str, path: str, value: int, timeout: float = 60.0) -> int:
    """Marks that it started, then waits until ``path`` exists (a test releases it) and returns ``value``."""
    mark(marker_dir, name)
    started = Path(marker_dir) / f"started-{name}"
    started.write_text(str(os.getpid()))
    end = time.monotonic() + timeout
    while not Path(path).exists():
        if time.monotonic() > end:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.05)
    return value


def thread_settings(marker_dir: str, name: str) -> dict:
    """The thread settings this worker process runs with."""
    mark(marker_dir, name)
    import numba

    return {
        "numba": int(numba.get_num_threads()),
        "omp": os.environ.get("OMP_NUM_THREADS"),
        "numba_env": os.environ.get("NUMBA_NUM_THREADS"),
        "pid": os.getpid(),
    }


def summarize(marker_dir: str, name: str, **parts: dict) -> dict:
    """The totals of the combined parts, by argument name."""
    mark(marker_dir, name)
    return {k: parts[k]["total"] for k in sorted(parts)}


def die(marker_dir: str, name: str) -> None:
    """Kills its own process (a worker killed mid-task, out of memory)."""
    import signal

    mark(marker_dir, name)
    os.kill(os.getpid(), signal.SIGKILL)


def interrupt(marker_dir: str, name: str, **deps) -> None:
    """As a Ctrl-C that lands while this task runs."""
    mark(marker_dir, name)
    raise KeyboardInterrupt


def save_many(root: str, keys: list[str], size: int) -> int:
    """Save a large array under each key (a second process does the same at the same time)."""
    from signalbench.compute import TaskStore

    store = TaskStore(root)
    for i, key in enumerate(keys):
        store.save(key, {"a": np.full(size, i, dtype=np.float64), "i": i})
    return os.getpid()


def steps(n: int, name: str) -> dict:
    """Reports ``n`` steps of progress where something listens (compute.events); the result never depends on it."""
    from signalbench.compute.events import emitter

    emit = emitter()
    for k in range(1, n + 1):
        if emit is not None:
            emit(k, n, f"{name} step {k}")
    return {"n": n, "name": name}
