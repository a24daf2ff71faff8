"""run_graph in this process (executor="local", workers=1): order, cache, failures, fail_fast, checks of the graph."""

from __future__ import annotations

import numpy as np
import pytest
from graphs import diamond, task
from graphtasks import runs

from signalbench.compute import GraphRun, TaskFailure, run_graph


def test_a_graph_runs_in_dependency_order_and_stores_every_result(store, markers):
    tasks = diamond(markers)
    run = run_graph(tasks, store, workers=1)
    assert run.ok() and sorted(run.computed) == sorted(t.key for t in tasks)
    assert run.cached == [] and run.failed == {} and run.skipped == []
    assert store.keys() == {t.key for t in tasks}
    # the summary equals what the functions give when called by hand, in order
    import graphtasks

    parts = [graphtasks.source(markers, f"s{i}", i) for i in range(3)]
    c = [graphtasks.combine(markers, "c", 2.0, a=parts[i], b=parts[i + 1]) for i in range(2)]
    assert store.load(tasks[-1].key) == {"c0": c[0]["total"], "c1": c[1]["total"]}
    np.testing.assert_array_equal(store.load(tasks[3].key)["series"], c[0]["series"])


def test_stored_tasks_are_not_rerun(store, markers):
    tasks = diamond(markers)
    run_graph(tasks, store, workers=1)
    assert runs(markers) == 6
    again = run_graph(tasks, store, workers=1)
    assert runs(markers) == 6  # nothing ran a second time
    assert again.computed == [] and sorted(again.cached) == sorted(t.key for t in tasks) and again.ok()


def test_a_changed_param_reruns_only_that_task_and_its_dependents(store, markers):
    run_graph(diamond(markers), store, workers=1)
    changed = diamond(markers, scale=3.0)  # the combines and the summary change, the sources do not
    run = run_graph(changed, store, workers=1)
    assert sorted(run.cached) == sorted(t.key for t in changed[:3])
    assert sorted(run.computed) == sorted(t.key for t in changed[3:])
    assert runs(markers, "source0") == 1 and runs(markers, "combine0") == 2 and runs(markers, "summary") == 2


def _graph_with_a_failure(markers):
    good = task("piece", "graphtasks:sleep_then", {"marker_dir": markers, "name": "good", "seconds": 0, "value": 1})
    bad = task(
        "fit",
        "graphtasks:fail",
        {"marker_dir": markers, "name": "bad", "message": "no rows at 3"},
        {"x": good.key},
        {"symbol": "AMZN", "fold": "1"},
    )
    child = task(
        "predict",
        "graphtasks:sleep_then",
        {"marker_dir": markers, "name": "child", "seconds": 0, "value": 2},
        {"m": bad.key},
    )
    grandchild = task(
        "assemble",
        "graphtasks:sleep_then",
        {"marker_dir": markers, "name": "grandchild", "seconds": 0, "value": 3},
        {"p": child.key},
    )
    other = task("piece", "graphtasks:sleep_then", {"marker_dir": markers, "name": "other", "seconds": 0, "value": 4})
    other_child = task(
        "fit",
        "graphtasks:sleep_then",
        {"marker_dir": markers, "name": "other_child", "seconds": 0, "value": 5},
        {"x": other.key},
    )
    return good, bad, child, grandchild, other, other_child


def test_a_failure_skips_its_dependents_and_the_rest_finishes(store, markers):
    good, bad, child, grandchild, other, other_child = _graph_with_a_failure(markers)
    run = run_graph([good, bad, child, grandchild, other, other_child], store, workers=1)
    assert not run.ok()
    assert sorted(run.computed) == sorted([good.key, other.key, other_child.key])
    assert run.skipped == [child.key, grandchild.key]
    failure = run.failed[bad.key]
    assert isinstance(failure, TaskFailure)
    assert (failure.key, failure.kind, failure.tags) == (bad.key, "fit", {"symbol": "AMZN", "fold": "1"})
    assert failure.error == "ValueError: no rows at 3"
    assert "graphtasks.py" in failure.traceback and "raise ValueError(message)" in failure.traceback
    assert str(failure) == f"fit task {bad.key} (symbol=AMZN, fold=1) failed: ValueError: no rows at 3"
    assert runs(markers, "child") == 0 and runs(markers, "grandchild") == 0
    assert store.load(other_child.key) == 9 and not store.has(bad.key)


def test_fail_fast_starts_nothing_after_the_first_failure(store, markers):
    good, bad, child, grandchild, other, other_child = _graph_with_a_failure(markers)
    run = run_graph([good, bad, child, grandchild, other, other_child], store, workers=1, fail_fast=True)
    # tasks run in the order they become ready: good, other, then bad (other_child became ready after bad)
    assert list(run.failed) == [bad.key] and run.computed == [good.key, other.key]
    assert sorted(run.skipped) == sorted([child.key, grandchild.key, other_child.key])
    assert runs(markers, "other_child") == 0
    # every task is in exactly one list
    everything = run.computed + run.cached + list(run.failed) + run.skipped
    assert sorted(everything) == sorted(t.key for t in (good, bad, child, grandchild, other, other_child))


def test_a_failed_task_is_retried_by_the_next_run(store, markers):
    good, bad, *_ = _graph_with_a_failure(markers)
    run_graph([good, bad], store, workers=1)
    run = run_graph([good, bad], store, workers=1)
    assert run.cached == [good.key] and list(run.failed) == [bad.key]
    assert runs(markers, "bad") == 2


def test_a_function_that_cannot_be_imported_is_a_failure_of_its_task(store, markers):
    missing = task("piece", "graphtasks:no_such_function", {})
    run = run_graph([missing], store, workers=1)
    assert run.failed[missing.key].error.startswith("AttributeError: module 'graphtasks' has no attribute")


def test_dependencies_already_stored_need_not_be_in_the_graph(store, markers):
    tasks = diamond(markers)
    run_graph(tasks[:3], store, workers=1)
    run = run_graph(tasks[3:], store, workers=1)  # the sources are only in the store
    assert run.ok() and len(run.computed) == 3


def test_an_empty_graph_is_an_empty_run(store):
    assert run_graph([], store) == GraphRun()


@pytest.mark.parametrize(
    ("make", "error", "text"),
    [
        (
            lambda ts: ts + [ts[0]],
            ValueError,
            r"tasks\[6\].key: expected a key unique in the graph, got '[0-9a-f]+'; "
            r"it is also the key of piece \(symbol=SYN0\)",
        ),
        (
            lambda ts: ts[3:],
            ValueError,
            r"deps\['a'\] of the combine \(pair=0-1\) task [0-9a-f]+: expected the key of "
            r"a task of the graph or of a stored result",
        ),
        (lambda ts: ts + ["x"], TypeError, r"tasks\[6\]: expected a Task, got 'x'"),
        (lambda ts: "abc", TypeError, "tasks: expected a sequence of Task"),
    ],
)
def test_a_graph_that_is_not_one_is_refused_by_name(store, markers, make, error, text):
    with pytest.raises(error, match=text):
        run_graph(make(diamond(markers)), store, workers=1)


def test_a_cycle_is_refused_naming_it(store):
    from signalbench.compute import Task

    a, b = "aa" * 16, "bb" * 16
    tasks = [Task(a, "x", "graphtasks:source", {}, {"d": b}), Task(b, "y", "graphtasks:source", {}, {"d": a})]
    with pytest.raises(ValueError, match="tasks: expected a graph without cycles, got the cycle x -> y -> x"):
        run_graph(tasks, store, workers=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"executor": "ray"}, ValueError, "executor: expected one of"),
        ({"workers": 0}, ValueError, "workers: expected an integer >= 1"),
        ({"workers": 1.5}, TypeError, "workers: expected an integer"),
        ({"address": "tcp://h:1"}, ValueError, "address: expected None with executor='local'"),
        ({"fail_fast": "yes"}, TypeError, "fail_fast: expected"),
    ],
)
def test_bad_arguments_are_named(store, kwargs, error, text):
    with pytest.raises(error, match=text):
        run_graph([], store, **kwargs)


def test_store_must_be_a_task_store(tmp_path):
    with pytest.raises(TypeError, match="store: expected a TaskStore"):
        run_graph([], str(tmp_path))


def test_a_worker_that_does_not_see_the_store_fails_the_task_naming_the_folder(tmp_path):
    from signalbench.compute.worker import execute, task_spec

    t = task("piece", "graphtasks:source", {"marker_dir": str(tmp_path / "m"), "name": "s", "seed": 0})
    status = execute(task_spec(t), str(tmp_path / "not-mounted"))
    assert status["status"] == "failed" and not (tmp_path / "not-mounted").exists()
    assert status["error"].startswith(
        "FileNotFoundError: store: expected the task store's folder on a file system "
        f"this worker sees, got nothing at {tmp_path / 'not-mounted'} on "
    )
    assert runs(str(tmp_path / "m")) == 0
