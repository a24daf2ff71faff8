"""The one place a task's status (from any executor) updates the run, the graph state and the progress display."""

from __future__ import annotations

from signalbench.compute.events import Sink
from signalbench.compute.graph import Graph
from signalbench.compute.outcome import GraphRun, TaskFailure
from signalbench.compute.progress import Progress

__all__ = ["Recorder"]


class Recorder:
    """Turns the status dictionaries of :func:`signalbench.compute.worker.execute` into a :class:`GraphRun`."""

    def __init__(
        self, graph: Graph, run: GraphRun, progress: Progress, fail_fast: bool, on_event: Sink | None = None
    ) -> None:
        self.graph, self.run, self.progress, self.fail_fast = graph, run, progress, fail_fast
        self.on_event = on_event
        self.stopped = False  # fail_fast saw a failure: start nothing more

    @property
    def listening(self) -> bool:
        """Whether the tasks' progress events are wanted (a display is shown, or the caller takes them)."""
        return self.progress.show or self.on_event is not None

    def event(self, event: dict) -> None:
        """A task's progress event (:mod:`signalbench.compute.events`): to the display and the caller's sink."""
        self.progress.event(event)
        if self.on_event is not None:
            self.on_event(event)

    def started(self, key: str) -> None:
        """``key`` was handed to a worker."""
        self.progress.set(key, "running")

    def record(self, status: dict) -> None:
        """Account for one finished task."""
        key = status["key"]
        task = self.graph.tasks[key]
        if status["status"] == "done":
            self.run.computed.append(key)
            self.graph.finish(key)
            self.progress.set(key, "done")
            return
        failure = TaskFailure(key, task.kind, dict(task.tags), status["error"], status["traceback"])
        self.run.failed[key] = failure
        self.progress.set(key, "failed")
        self.progress.log(str(failure))
        self.skip(self.graph.fail(key))
        if self.fail_fast:
            self.stopped = True

    def skip(self, keys: list[str]) -> None:
        """Mark ``keys`` skipped (not run)."""
        for key in keys:
            if key in self.run.skipped:
                continue
            self.graph.ended.add(key)
            self.run.skipped.append(key)
            self.progress.set(key, "skipped")

    def stop(self) -> None:
        """Skip every task not ended (fail_fast, or an executor that ends early)."""
        self.skip(self.graph.unfinished())
