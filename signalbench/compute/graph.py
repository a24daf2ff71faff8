"""The checks of a task graph and its bookkeeping: which tasks are ready, which are blocked by a failure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from signalbench._validation import expected
from signalbench.compute.tasks import Task

__all__ = ["Graph", "check_tasks"]


def check_tasks(tasks: Sequence[Task], stored: Iterable[str] = ()) -> dict[str, Task]:
    """The tasks by key, in the given order, after checking that they form a graph.

    Keys are unique; every dependency is a task of the graph or a stored result; there is no cycle. Each error names
    the task (its kind, tags and key) and the argument.
    """
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Sequence):
        raise TypeError(expected("tasks", "a sequence of Task", tasks))
    by_key: dict[str, Task] = {}
    for i, task in enumerate(tasks):
        if not isinstance(task, Task):
            raise TypeError(expected(f"tasks[{i}]", "a Task", task))
        if task.key in by_key:
            raise ValueError(
                expected(
                    f"tasks[{i}].key",
                    "a key unique in the graph",
                    task.key,
                    hint=f"it is also the key of {by_key[task.key].label}",
                )
            )
        by_key[task.key] = task
    stored = set(stored)
    for task in by_key.values():
        for arg, key in task.deps.items():
            if key not in by_key and key not in stored:
                raise ValueError(
                    expected(
                        f"deps[{arg!r}] of the {task.label} task {task.key}",
                        "the key of a task of the graph or of a stored result",
                        repr(key),
                    )
                )
    _check_acyclic(by_key)
    return by_key


def _check_acyclic(by_key: dict[str, Task]) -> None:
    state: dict[str, int] = {}
    for start in by_key:
        if start in state:
            continue
        stack = [(start, iter(by_key[start].deps.values()))]
        state[start] = 1
        while stack:
            node, deps = stack[-1]
            nxt = next((d for d in deps if d in by_key), None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                path = [n for n, _ in stack] + [nxt]
                cycle = " -> ".join(by_key[k].label for k in path[path.index(nxt) :])
                raise ValueError(expected("tasks", "a graph without cycles", f"the cycle {cycle}", raw=True))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(by_key[nxt].deps.values())))


class Graph:
    """The state of a run: tasks wait for their dependencies, become ready, then end done, failed or skipped.

    Parameters
    ----------
    tasks : dict of str to Task
        From :func:`check_tasks`.
    finished : iterable of str
        Keys already done (found in the store); a dependency outside ``tasks`` counts as done.
    """

    def __init__(self, tasks: dict[str, Task], finished: Iterable[str]) -> None:
        self.tasks = tasks
        self.done = {k for k in finished if k in tasks}
        self.ended = set(self.done)
        self.dependents: dict[str, list[str]] = {k: [] for k in tasks}
        self.waiting: dict[str, int] = {}
        for key, task in tasks.items():
            if key in self.done:
                continue
            pending = {d for d in task.deps.values() if d in tasks and d not in self.done}
            self.waiting[key] = len(pending)
            for dep in pending:
                self.dependents[dep].append(key)
        self._ready = [k for k in tasks if self.waiting.get(k) == 0]

    def take_ready(self, limit: int | None = None) -> list[str]:
        """Up to ``limit`` (default all) keys that may run now, each returned once, in the order they became ready."""
        n = len(self._ready) if limit is None else max(limit, 0)
        ready, self._ready = self._ready[:n], self._ready[n:]
        return ready

    def finish(self, key: str) -> None:
        """``key`` ended well: its dependents whose dependencies are all done become ready."""
        self.done.add(key)
        self.ended.add(key)
        for child in self.dependents[key]:
            self.waiting[child] -= 1
            if self.waiting[child] == 0:
                self._ready.append(child)

    def fail(self, key: str) -> list[str]:
        """``key`` failed: the keys of every task that depends on it (directly or not), now skipped."""
        self.ended.add(key)
        skipped, stack = [], list(self.dependents[key])
        while stack:
            child = stack.pop()
            if child in self.ended:
                continue
            self.ended.add(child)
            skipped.append(child)
            stack.extend(self.dependents[child])
        return sorted(skipped, key=list(self.tasks).index)

    def unfinished(self) -> list[str]:
        """Keys not ended yet, in the graph's order."""
        return [k for k in self.tasks if k not in self.ended]
