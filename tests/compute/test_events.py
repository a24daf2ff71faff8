"""Progress events of running tasks (compute.events): delivered in-process and from pool workers, shown as bars."""

from __future__ import annotations

import os

import pytest
from graphs import task
from procs import stored_bytes

from signalbench.compute import TaskStore, run_graph
from signalbench.compute.events import emitter, running
from signalbench.compute.progress import Progress


def _steps(n_tasks: int, n: int = 3) -> list:
    return [task("fit", "graphtasks:steps", {"n": n, "name": f"t{i}"}, tags={"fold": str(i)}) for i in range(n_tasks)]


def _by_key(events: list[dict]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for e in events:
        out.setdefault(e["key"], []).append(e["done"])
    return out


def test_in_process_tasks_send_their_events_to_the_callers_sink(tmp_path):
    tasks, events = _steps(2), []
    run = run_graph(tasks, TaskStore(tmp_path / "s"), workers=1, on_event=events.append)
    assert run.ok()
    # a task in flight on the other worker when the pool broke is run again: its events start over, never stop
    found = _by_key(events)
    assert sorted(found) == sorted(t.key for t in tasks)
    for t in tasks:
        runs = len(found[t.key]) // 3
        assert runs >= 1 and found[t.key] == [1, 2, 3] * runs, found[t.key]
    assert {e["pid"] for e in events} == {os.getpid()}
    assert all(e["total"] == 3 and e["info"].endswith(f"step {e['done']}") for e in events)


def test_pool_workers_send_their_events_through_the_queue_and_results_do_not_change(tmp_path):
    tasks, events = _steps(4), []
    quiet, heard = TaskStore(tmp_path / "quiet"), TaskStore(tmp_path / "heard")
    assert run_graph(tasks, quiet, workers=2).ok()
    assert run_graph(tasks, heard, workers=2, on_event=events.append).ok()
    # a task in flight on the other worker when the pool broke is run again: its events start over, never stop
    found = _by_key(events)
    assert sorted(found) == sorted(t.key for t in tasks)
    for t in tasks:
        runs = len(found[t.key]) // 3
        assert runs >= 1 and found[t.key] == [1, 2, 3] * runs, found[t.key]  # every event of every task, in order
    assert os.getpid() not in {e["pid"] for e in events}  # sent by the worker processes
    assert stored_bytes(heard) == stored_bytes(quiet)


def test_nobody_listening_gives_no_emitter():
    assert emitter() is None  # no executor listens in the test process
    with running("k"):
        assert emitter() is None


def test_progress_draws_a_bar_per_running_task_and_drops_it_when_the_task_ends():
    from rich.console import Console

    progress = Progress({"a": "fit", "b": "fit"}, labels={"a": "model lstm, fold 1, group all"})
    progress.event({"key": "a", "done": 1, "total": 2, "info": "train_loss 0.6931"})
    assert progress.bars == {}  # not running yet: a late or stray event is ignored
    progress.set("a", "running")
    progress.event({"key": "a", "done": 1, "total": 2, "info": "train_loss 0.6931"})
    console = Console(record=True, width=120, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(progress.renderable())
    text = console.export_text()
    assert "model lstm, fold 1, group all" in text and "1/2" in text and "train_loss 0.6931" in text
    progress.set("a", "done")
    assert progress.bars == {}
    progress.event({"key": "a", "done": 2, "total": 2, "info": ""})  # arrives after the task ended
    assert progress.bars == {}


def test_on_event_must_be_callable(tmp_path):
    with pytest.raises(TypeError, match="on_event: expected a callable taking one event"):
        run_graph(_steps(1), TaskStore(tmp_path / "s"), on_event="print")


@pytest.mark.slow
def test_a_worker_that_dies_does_not_stop_the_others_events(tmp_path, markers):
    dies = task("fit", "graphtasks:die", {"marker_dir": markers, "name": "dies"})
    tasks, events = _steps(3), []
    run = run_graph([dies, *tasks], TaskStore(tmp_path / "s"), workers=2, on_event=events.append)
    assert list(run.failed) == [dies.key] and sorted(run.computed) == sorted(t.key for t in tasks)
    # a task in flight on the other worker when the pool broke is run again: its events start over, never stop
    found = _by_key(events)
    assert sorted(found) == sorted(t.key for t in tasks)
    for t in tasks:
        runs = len(found[t.key]) // 3
        assert runs >= 1 and found[t.key] == [1, 2, 3] * runs, found[t.key]
