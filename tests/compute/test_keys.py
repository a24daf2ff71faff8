"""Task keys: equal inputs give equal keys in any process; a change of kind, fn, params, deps or version changes it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from procs import subprocess_env

from signalbench.compute import Task, code_version, task_key

FN = "graphtasks:source"
BASE = dict(
    kind="piece", fn=FN, params={"a": 1, "b": [1.5, "x"], "c": {"d": None}}, deps={"x": "ab" * 16}, version="v1"
)


def test_same_inputs_same_key_whatever_the_order_of_mappings():
    key = task_key(**BASE)
    reordered = dict(BASE, params={"c": {"d": None}, "b": [1.5, "x"], "a": 1})
    assert task_key(**reordered) == key
    assert task_key(**dict(BASE, params={"a": np.int64(1), "b": (1.5, "x"), "c": {"d": None}})) == key
    assert len(key) >= 24 and all(ch in "0123456789abcdef" for ch in key)


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "fit"},
        {"fn": "graphtasks:combine"},
        {"params": {"a": 2, "b": [1.5, "x"], "c": {"d": None}}},
        {"params": {"a": 1, "b": [1.5, "x"], "c": {"d": 0}}},
        {"params": {"a": 1.0, "b": [1.5, "x"], "c": {"d": None}}},  # 1 and 1.0 are different params
        {"params": {"a": 1, "b": ["x", 1.5], "c": {"d": None}}},
        {"deps": {"x": "cd" * 16}},
        {"deps": {"y": "ab" * 16}},
        {"deps": {}},
        {"version": "v2"},
    ],
)
def test_any_change_changes_the_key(change):
    assert task_key(**dict(BASE, **change)) != task_key(**BASE)


def test_key_is_the_same_in_another_process():
    code = (
        "from signalbench.compute import task_key, code_version; "
        "print(task_key('piece', 'graphtasks:source', {'a': 1, 'b': [1.5, 'x'], 'c': {'d': None}}, "
        "{'x': 'ab' * 16}, 'v1')); print(code_version())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), check=True)
    assert out.stdout.split() == [task_key(**BASE), code_version()]


def test_version_defaults_to_the_code_version():
    no_version = {k: v for k, v in BASE.items() if k != "version"}
    assert task_key(**no_version) == task_key(**dict(BASE, version=code_version()))
    assert len(code_version()) == 24


def test_code_version_follows_the_source(tmp_path, monkeypatch):
    import signalbench.compute.tasks as tasks

    fake = tmp_path / "signalbench"
    (fake / "compute").mkdir(parents=True)
    (fake / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(tasks, "__file__", str(fake / "compute" / "tasks.py"))
    tasks.code_version.cache_clear()
    try:
        first = tasks.code_version()
        tasks.code_version.cache_clear()
        (fake / "a.py").write_text("x = 2\n")
        assert tasks.code_version() != first
    finally:
        tasks.code_version.cache_clear()


@pytest.mark.parametrize(
    ("params", "error", "text"),
    [
        ({"a": float("nan")}, ValueError, "task['params']['a']: expected a finite number"),
        ({"a": object()}, TypeError, "task['params']['a']: expected a JSON-able value"),
        ({1: 2}, TypeError, "task['params'] key: expected a string"),
        ({"a": np.zeros(2)}, TypeError, "task['params']['a']: expected a JSON-able value"),
    ],
)
def test_params_that_are_not_json_are_refused_by_name(params, error, text):
    with pytest.raises(error, match=text.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        task_key("piece", FN, params, {})


@pytest.mark.parametrize(
    ("fields", "error", "text"),
    [
        ({"key": "xyz"}, ValueError, "Task.key: expected a task key"),
        ({"fn": "graphtasks.source"}, ValueError, "Task.fn: expected 'package.module:function'"),
        ({"fn": lambda: 1}, TypeError, "Task.fn: expected a string"),
        ({"deps": {"x": "nope"}}, ValueError, r"Task.deps\['x'\]: expected a task key"),
        ({"params": {"x": 1}, "deps": {"x": "ab" * 16}}, ValueError, "a name not also in params"),
        ({"kind": ""}, TypeError, "Task.kind: expected a non-empty string"),
    ],
)
def test_bad_task_fields_are_named(fields, error, text):
    good = dict(key="ab" * 16, kind="piece", fn=FN, params={}, deps={})
    with pytest.raises(error, match=text):
        Task(**dict(good, **fields))
