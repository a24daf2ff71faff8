"""The executor of ``executor="dask"``: tasks as Dask futures, on a cluster or a LocalCluster (``distributed`` extra).

- Each task is one future; it depends on its dependencies' futures, whose values are small status dictionaries
  (:func:`signalbench.compute.worker.execute`): results go to the store (a folder every worker sees), never through
  the scheduler. A task whose dependency did not end well returns "skipped" without running.
- Task errors are statuses, not exceptions, so Dask's retries are kept for what they are for: a worker that dies
  mid-task has its task run again on another worker (the scheduler's ``allowed-failures``, and ``retries``). A result
  stored by a worker that then died is found in the store, not computed twice.
- ``address=None`` starts a ``LocalCluster`` of ``workers`` processes with one thread each (and one thread for Numba,
  torch and OpenMP, set before the processes start); an existing cluster's workers should be started with
  ``--nthreads 1`` and ``OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1`` (the worker also sets Numba and torch to one thread).
- ``distributed`` is imported only here, lazily: without it the error names the extra.
- Progress events of running tasks (the epochs of a fit) are not sent back from Dask workers: their tasks find no
  listener (:func:`signalbench.compute.events.emitter` is None) and run exactly as they do with one; the display
  shows the task counts only.
"""

from __future__ import annotations

import importlib
from typing import Any

from signalbench._validation import expected
from signalbench.compute.record import Recorder
from signalbench.compute.worker import THREAD_VARIABLES, execute, init_worker, task_spec, warm_up_here

__all__ = ["CONNECT_TIMEOUT", "import_distributed", "run_dask"]

CONNECT_TIMEOUT = 10  # seconds to reach a scheduler at ``address`` before the error names it
RETRIES = 2


def import_distributed() -> Any:
    """The ``distributed`` module, or an ImportError naming the extra that installs it."""
    try:
        return importlib.import_module("distributed")
    except ImportError as exc:
        raise ImportError(
            expected(
                "executor",
                "the optional 'distributed' extra installed for executor='dask'",
                f"{exc}",
                raw=True,
                hint="pip install 'signalbench[distributed]' (on this machine and on every worker)",
            )
        ) from exc


def run_dask(recorder: Recorder, root: str, workers: int, address: str | None) -> None:
    """Run the graph of ``recorder`` as Dask futures."""
    distributed = import_distributed()
    warm_up_here(recorder.graph.tasks[k].fn for k in recorder.graph.waiting)
    cluster = None if address is not None else _local_cluster(distributed, workers)
    client = _connect(distributed, address if cluster is None else cluster)
    futures: dict[str, Any] = {}
    try:
        futures = _submit(client, recorder, root)
        _collect(distributed, client, recorder, futures)
    finally:
        pending = [f for f in futures.values() if not f.done()]
        if pending:
            client.cancel(pending, force=True)
        client.close()
        if cluster is not None:
            cluster.close()


def _local_cluster(distributed: Any, workers: int) -> Any:
    import dask

    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **THREAD_VARIABLES}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
        )


def _connect(distributed: Any, address: Any) -> Any:
    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(
            expected(
                "address",
                f"a Dask scheduler that answers within {CONNECT_TIMEOUT} s",
                address,
                hint=f"start one ('dask scheduler') or check host and port ({type(exc).__name__}: {exc})",
            )
        ) from exc


def _submit(client: Any, recorder: Recorder, root: str) -> dict[str, Any]:
    """One future per task still to run, in an order where dependencies come first."""
    graph = recorder.graph
    futures: dict[str, Any] = {}
    for key in _dependency_order(recorder):
        task = graph.tasks[key]
        deps = [futures[d] for d in task.deps.values() if d in futures]
        futures[key] = client.submit(
            run_after, task_spec(task), root, *deps, key=f"{task.kind}-{key}", pure=False, retries=RETRIES
        )
    for key in graph.take_ready():
        recorder.started(key)
    return futures


def _dependency_order(recorder: Recorder) -> list[str]:
    graph, order, seen = recorder.graph, [], set(recorder.graph.done)

    def visit(key: str) -> None:
        stack = [(key, False)]
        while stack:
            node, expanded = stack.pop()
            if node in seen:
                continue
            if expanded:
                seen.add(node)
                order.append(node)
                continue
            stack.append((node, True))
            stack.extend((d, False) for d in graph.tasks[node].deps.values() if d in graph.tasks and d not in seen)

    for key in graph.unfinished():
        visit(key)
    return order


def _collect(distributed: Any, client: Any, recorder: Recorder, futures: dict[str, Any]) -> None:
    by_future = {f.key: k for k, f in futures.items()}
    for future in distributed.as_completed(list(futures.values()), loop=client.loop):
        key = by_future[future.key]
        status = _status(future, key)
        if status["status"] != "skipped" and key not in recorder.graph.ended:
            recorder.record(status)
            for ready in recorder.graph.take_ready():
                recorder.started(ready)
        if recorder.stopped:
            client.cancel([f for f in futures.values() if not f.done()], force=True)
            return


def _status(future: Any, key: str) -> dict:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a task Dask gave up on (KilledWorker after its retries), or cancelled
        return {"key": key, "status": "failed", "error": f"{type(exc).__name__}: {exc}", "traceback": ""}


_initialised = False


def run_after(spec: dict, root: str, *deps: dict) -> dict:
    """On a Dask worker: run the task unless a dependency did not end well (then "skipped", nothing run)."""
    global _initialised
    if any(d.get("status") != "done" for d in deps):
        return {"key": spec["key"], "status": "skipped"}
    if not _initialised:
        init_worker()
        _initialised = True
    return execute(spec, root)
