"""``run_graph``: run a graph of tasks against a task store with one of the executors."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from signalbench import _validation as v
from signalbench.compute.graph import Graph, check_tasks
from signalbench.compute.outcome import GraphRun
from signalbench.compute.progress import Progress
from signalbench.compute.record import Recorder
from signalbench.compute.store import TaskStore
from signalbench.compute.tasks import Task

__all__ = ["run_graph"]

EXECUTORS = ("local", "dask")


def run_graph(
    tasks: Sequence[Task],
    store: TaskStore,
    *,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    fail_fast: bool = False,
    progress: bool = False,
    on_event: Callable[[dict], None] | None = None,
) -> GraphRun:
    """Run every task whose result is not in ``store``, each after its dependencies; store the results.

    Parameters
    ----------
    tasks : sequence of Task
        The graph: unique keys, dependencies on tasks of the graph (or results already stored), no cycle.
    store : TaskStore
        Where results are read and written; on a file system every worker sees.
    executor : {"local", "dask"}, default "local"
        ``"local"``: a process pool on this machine (``workers=1``: this process). ``"dask"``: a Dask cluster at
        ``address``, or a ``LocalCluster`` of ``workers`` processes when ``address`` is None (the ``distributed``
        extra).
    workers : int, optional
        Worker processes; default ``os.cpu_count()``.
    address : str, optional
        The Dask scheduler (``"tcp://host:8786"``); only with ``executor="dask"``.
    fail_fast : bool, default False
        Stop starting tasks at the first failure (the rest are ``skipped``).
    progress : bool, default False
        Show one live table on standard error: per kind of task, done / running / failed / cached, and a bar for
        each running task that reports progress (the epochs of a fit) where the executor is local.
    on_event : callable, optional
        Also receives every progress event of the tasks (``{"key", "done", "total", "info", "pid"}``), where the
        executor is local (:mod:`signalbench.compute.events`; a Dask run sends none). Events never change results.

    Returns
    -------
    GraphRun
        Every key as computed, cached, failed (with its error and traceback) or skipped.
    """
    executor = v.choice(executor, "executor", EXECUTORS)
    workers = (os.cpu_count() or 1) if workers is None else v.integer(workers, "workers", minimum=1)
    if address is not None and executor != "dask":
        raise ValueError(
            v.expected("address", "None with executor='local'", address, hint="pass executor='dask' to use a cluster")
        )
    if address is not None and not isinstance(address, str):
        raise TypeError(v.expected("address", "a string 'tcp://host:port'", address))
    fail_fast = v.boolean(fail_fast, "fail_fast")
    progress = v.boolean(progress, "progress")
    if on_event is not None and not callable(on_event):
        raise TypeError(v.expected("on_event", "a callable taking one event (a dict) or None", on_event))
    if not isinstance(store, TaskStore):
        raise TypeError(v.expected("store", "a TaskStore", store))
    store.clean()
    stored = store.keys()
    by_key = check_tasks(tasks, stored)
    run = GraphRun(cached=[k for k in by_key if k in stored])
    graph = Graph(by_key, run.cached)
    labels = {k: ", ".join(f"{name} {value}" for name, value in t.tags.items()) for k, t in by_key.items()}
    with Progress({k: t.kind for k, t in by_key.items()}, show=progress, labels=labels) as shown:
        for key in run.cached:
            shown.set(key, "cached")
        recorder = Recorder(graph, run, shown, fail_fast, on_event)
        if graph.waiting:  # something to run: only then start workers
            _execute(recorder, store, executor, workers, address)
        recorder.stop()
    return run


def _execute(recorder: Recorder, store: TaskStore, executor: str, workers: int, address: str | None) -> None:
    if executor == "local" and workers == 1:
        from signalbench.compute.inprocess import run_in_process

        run_in_process(recorder, str(store.root))
    elif executor == "local":
        from signalbench.compute.pool import run_pool

        run_pool(recorder, str(store.root), workers)
    else:
        from signalbench.compute.cluster import run_dask

        run_dask(recorder, str(store.root), workers, address)
