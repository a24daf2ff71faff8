"""The store stays consistent: two writers of one key, a Ctrl-C inside a task; and the progress display."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
from graphs import diamond, task
from graphtasks import runs, save_many

from signalbench.compute import TaskStore, run_graph


def test_two_processes_saving_the_same_keys_at_once_leave_one_complete_result_each(tmp_path):
    keys = [f"{i:032x}" for i in range(12)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pids = pool.starmap(save_many, [(str(tmp_path), keys, 200_000)] * 2)
    assert len(set(pids)) == 2
    store = TaskStore(tmp_path)
    assert store.keys() == set(keys)
    for i, key in enumerate(keys):
        got = store.load(key)
        assert got["i"] == i and np.array_equal(got["a"], np.full(200_000, i, dtype=np.float64))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folder left


def test_ctrl_c_in_a_task_keeps_finished_results_and_the_rerun_computes_only_the_rest(store, markers):
    tasks = diamond(markers)
    stop = task("assemble", "graphtasks:interrupt", {"marker_dir": markers, "name": "stop"}, {"x": tasks[3].key})
    with pytest.raises(KeyboardInterrupt):
        run_graph([*tasks[:4], stop, *tasks[4:]], store, workers=1)
    done = store.keys()
    # ready order: the sources, both combines, then the interrupted task: the summary never started
    assert done == {t.key for t in tasks[:5]}
    assert [p.name for p in store.root.iterdir() if p.name.startswith(".")] == []
    run = run_graph(tasks, store, workers=1)
    assert sorted(run.cached) == sorted(done) and run.computed == [tasks[5].key]
    assert runs(markers, "source0") == 1 and runs(markers, "combine0") == 1 and runs(markers, "combine1") == 1


def test_progress_draws_one_table_per_kind_on_stderr(store, markers, capsys):
    tasks = diamond(markers)
    bad = task(
        "fit",
        "graphtasks:fail",
        {"marker_dir": markers, "name": "bad", "message": "broken piece"},
        tags={"symbol": "AMZN"},
    )
    child = task(
        "fit",
        "graphtasks:sleep_then",
        {"marker_dir": markers, "name": "child", "seconds": 0, "value": 0},
        {"m": bad.key},
    )
    run_graph(tasks[:3], store, workers=1)
    run_graph([*tasks, bad, child], store, workers=1, progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    rows = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
        for line in err.splitlines()
        if line.count("│") == 8
    }
    # columns: done, running, failed, cached, skipped, waiting (the last drawing of the table is the final state)
    last = {kind: cells for kind, cells in rows.items() if kind != "kind"}
    assert last == {
        "piece": ["0", "0", "0", "3", "0", "0"],
        "combine": ["2", "0", "0", "0", "0", "0"],
        "assemble": ["1", "0", "0", "0", "0", "0"],
        "fit": ["0", "0", "1", "0", "1", "0"],
    }
    assert "fit task" in err and "(symbol=AMZN) failed: ValueError: broken piece" in err


def test_no_progress_no_output(store, markers, capsys):
    run_graph(diamond(markers), store, workers=1)
    assert capsys.readouterr() == ("", "")
