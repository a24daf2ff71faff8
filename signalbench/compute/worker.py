"""Running one task where it runs (this process, a pool worker, a Dask worker): load deps, call ``fn``, store.

Only small status dictionaries leave :func:`execute`; results go to the store.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable
from typing import Any

from signalbench.compute.store import TaskStore
from signalbench.compute.tasks import Task

__all__ = ["execute", "resolve", "task_spec"]


def task_spec(task: Task) -> dict:
    """A task as plain data (what crosses a process boundary)."""
    return {"key": task.key, "kind": task.kind, "fn": task.fn, "params": dict(task.params),
            "deps": dict(task.deps), "tags": dict(task.tags)}


def resolve(fn: str) -> Callable[..., Any]:
    """The function named ``"package.module:function"`` (attributes may be dotted: ``"m:Class.method"``)."""
    module_name, _, attr = fn.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"fn: expected a callable, got {type(obj).__name__} at {fn}")
    return obj


def execute(spec: dict, root: str) -> dict:
    """Run the task ``spec`` (:func:`task_spec`) against the store at ``root``, unless its result is stored.

    Returns
    -------
    dict
        ``{"key", "status": "done" | "cached" | "failed", "error", "traceback"}``. An exception of the task is a
        ``"failed"`` status, never raised (so an executor's retries are kept for dead workers); a
        ``KeyboardInterrupt`` propagates, and a result is stored only when complete.
    """
    store = TaskStore(root)
    key = spec["key"]
    if store.has(key):
        return {"key": key, "status": "cached"}
    try:
        fn = resolve(spec["fn"])
        args = {name: store.load(dep) for name, dep in spec["deps"].items()}
        value = fn(**spec["params"], **args)
        store.save(key, value)
    except Exception as exc:  # noqa: BLE001 - any error of the task is its failure, reported with its traceback
        return {"key": key, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc()}
    return {"key": key, "status": "done"}
