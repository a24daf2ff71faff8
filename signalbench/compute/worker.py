"""Running one task where it runs (this process, a pool worker, a Dask worker): load deps, call ``fn``, store.

Only small status dictionaries leave :func:`execute`; results go to the store.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from signalbench._validation import expected
from signalbench.compute.events import listen, running
from signalbench.compute.store import TaskStore
from signalbench.compute.tasks import Task

__all__ = [
    "THREAD_VARIABLES",
    "execute",
    "init_worker",
    "resolve",
    "task_spec",
    "thread_variables",
    "warm_up",
    "warm_up_here",
]

# One thread per worker process: the pool's processes start with these, and init_worker sets them again.
THREAD_VARIABLES = {
    name: "1" for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
}
WARM_UP = "warm_up"  # a module of task functions may define warm_up(): called once per process before its tasks

_worker = False  # True in a pool or Dask worker process (never in the caller's process)
_warmed: set[str] = set()


def task_spec(task: Task) -> dict:
    """A task as plain data (what crosses a process boundary)."""
    return {
        "key": task.key,
        "kind": task.kind,
        "fn": task.fn,
        "params": dict(task.params),
        "deps": dict(task.deps),
        "tags": dict(task.tags),
    }


def resolve(fn: str) -> Callable[..., Any]:
    """The function named ``"package.module:function"`` (attributes may be dotted: ``"m:Class.method"``)."""
    module_name, _, attr = fn.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"fn: expected a callable, got {type(obj).__name__} at {fn}")
    return obj


def init_worker(events_queue: Any = None) -> None:
    """Set up a worker process: one thread for Numba, torch and OpenMP; warm-ups run before the first task.

    With ``events_queue`` (a local pool whose caller shows progress) the tasks' progress events are put on it.
    """
    global _worker
    _worker = True
    os.environ.update(THREAD_VARIABLES)
    _one_thread()
    if events_queue is not None:
        listen(events_queue.put)


def _one_thread() -> None:
    """One thread in the libraries this process has loaded (torch reads no variable once imported)."""
    if "numba" in sys.modules:
        import numba

        if numba.get_num_threads() != 1:
            numba.set_num_threads(1)
    if "torch" in sys.modules:
        import torch

        if torch.get_num_threads() != 1:
            torch.set_num_threads(1)


def warm_up(module_name: str) -> None:
    """Call ``module.warm_up()`` once per process, when the module of task functions defines it.

    The caller's process warms every module before a pool starts, so the Numba cache files exist before the workers
    read them (no two processes compile and write one cache file at once).
    """
    if module_name in _warmed:
        return
    _warmed.add(module_name)
    hook = getattr(importlib.import_module(module_name), WARM_UP, None)
    if callable(hook):
        hook()


def warm_up_here(fns: Iterable[str]) -> None:
    """Warm the modules of the task functions ``fns`` in this process, before workers start (writes the JIT cache)."""
    for module in sorted({fn.partition(":")[0] for fn in fns}):
        with contextlib.suppress(Exception):  # a module or hook that fails here fails its tasks, in the worker
            warm_up(module)


@contextlib.contextmanager
def thread_variables() -> Iterator[None]:
    """:data:`THREAD_VARIABLES` in this process's environment for the block (workers spawned in it inherit them)."""
    saved = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    os.environ.update(THREAD_VARIABLES)
    try:
        yield
    finally:
        for k, old in saved.items():
            if old is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = old


def execute(spec: dict, root: str) -> dict:
    """Run the task ``spec`` (:func:`task_spec`) against the store at ``root``, unless its result is stored.

    Returns
    -------
    dict
        ``{"key", "status": "done" | "failed", "error", "traceback"}``; "done" also when the result was stored
        meanwhile (by this run's copy of the task on a worker that then died, or by another run). An exception of the
        task is a
        ``"failed"`` status, never raised (so an executor's retries are kept for dead workers); a
        ``KeyboardInterrupt`` propagates, and a result is stored only when complete.
    """
    key = spec["key"]
    if not os.path.isdir(root):  # never create it here: results on a disk the caller does not see would be lost
        error = expected(
            "store",
            "the task store's folder on a file system this worker sees",
            "nothing",
            at=f"{root} on {socket.gethostname()}",
            raw=True,
            hint="put the store (--cache) on a shared file system mounted at the same path",
        )
        return {"key": key, "status": "failed", "error": f"FileNotFoundError: {error}", "traceback": ""}
    store = TaskStore(root)
    if store.has(key):
        return {"key": key, "status": "done"}
    try:
        fn = resolve(spec["fn"])
        if _worker:
            warm_up(spec["fn"].partition(":")[0])
            _one_thread()
        args = {name: store.load(dep) for name, dep in spec["deps"].items()}
        with running(key):
            value = fn(**spec["params"], **args)
        store.save(key, value)
    except Exception as exc:  # noqa: BLE001 - any error of the task is its failure, reported with its traceback
        return {
            "key": key,
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    return {"key": key, "status": "done"}
