"""The executor of ``executor="local", workers=1``: every task in this process, one after another."""

from __future__ import annotations

from signalbench.compute.events import listen
from signalbench.compute.record import Recorder
from signalbench.compute.worker import execute, task_spec

__all__ = ["run_in_process"]


def run_in_process(recorder: Recorder, root: str) -> None:
    """Run ready tasks one at a time until none is left (or fail_fast stops the run); their events go straight to it."""
    graph = recorder.graph
    listen(recorder.event if recorder.listening else None)
    try:
        while not recorder.stopped:
            ready = graph.take_ready(1)
            if not ready:
                return
            recorder.started(ready[0])
            recorder.record(execute(task_spec(graph.tasks[ready[0]]), root))
    finally:
        listen(None)
