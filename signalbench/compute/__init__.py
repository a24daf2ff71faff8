"""Graphs of pure, cached tasks, run on this machine or on a Dask cluster (generic: knows nothing of experiments).

A :class:`Task` names a module-level function, its JSON-able ``params`` and the keys of the tasks whose results it
takes (``deps``); :func:`task_key` hashes all of that with :func:`code_version`. :class:`TaskStore` keeps each result
in a folder of its own, written atomically. :func:`run_graph` runs the tasks not stored yet, each after its
dependencies, and returns a :class:`GraphRun` (computed, cached, failed with :class:`TaskFailure`, skipped).
"""

from __future__ import annotations

from signalbench.compute.outcome import GraphRun, TaskFailure
from signalbench.compute.run import run_graph
from signalbench.compute.store import TaskStore, TaskStoreError
from signalbench.compute.tasks import Task, code_version, task_key

__all__ = ["GraphRun", "Task", "TaskFailure", "TaskStore", "TaskStoreError", "code_version", "run_graph", "task_key"]
