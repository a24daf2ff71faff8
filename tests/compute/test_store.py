"""The task store: every result type round-trips equal; saves are atomic and pure; errors name the folder."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.extra import pandas as hpd

from signalbench.compute import TaskStore, TaskStoreError

KEY = "0123456789abcdef" * 2
_fresh = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
arrays = hnp.arrays(
    st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.bool_, np.dtype("<U4"), np.dtype("M8[ns]")]),
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)
frames = hpd.data_frames(
    [
        hpd.column("f", dtype=float),
        hpd.column("i", dtype=np.int64),
        hpd.column("b", dtype=bool),
        hpd.column("s", elements=st.text(max_size=5)),
    ],
    index=hpd.indexes(dtype="datetime64[ns]", max_size=6) | hpd.range_indexes(max_size=6),
)
series = hpd.series(dtype=float, index=hpd.range_indexes(max_size=6), name=st.none() | st.text(max_size=4))


def assert_equal(got, want):
    assert type(got) is type(want)
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want)
    elif isinstance(want, pd.Series):
        pd.testing.assert_series_equal(got, want)
    elif isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    elif isinstance(want, dict):
        assert list(got) == list(want)
        for k in want:
            assert_equal(got[k], want[k])
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == want


@_fresh
@given(value=st.dictionaries(names, json_values | arrays | frames | series, max_size=5))
def test_a_dict_of_any_entries_round_trips(tmp_path_factory, value):
    store = TaskStore(tmp_path_factory.mktemp("s"))
    store.save(KEY, value)
    assert_equal(store.load(KEY), value)


@_fresh
@given(value=json_values | arrays | frames | series)
def test_a_single_value_round_trips(tmp_path_factory, value):
    store = TaskStore(tmp_path_factory.mktemp("s"))
    store.save(KEY, value)
    assert_equal(store.load(KEY), value)


def test_each_type_is_stored_in_its_own_format(store):
    frame = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.date_range("2020-01-02", periods=2, freq="D"))
    value = {"frame": frame, "s": frame["x"], "a": np.arange(3), "n": 1, "t": "x", "tuple": (1, 2), "set": {3}}
    store.save(KEY, value)
    folder = store.path(KEY)
    manifest = json.loads((folder / "manifest.json").read_text())
    kinds = {name: entry["as"] for name, entry in manifest["entries"].items()}
    assert kinds == {
        "frame": "frame",
        "s": "series",
        "a": "array",
        "n": "json",
        "t": "json",
        "tuple": "pickle",
        "set": "pickle",
    }
    assert manifest["entries"]["tuple"]["type"] == "builtins.tuple"
    assert json.loads((folder / "result.json").read_text()) == {"n": 1, "t": "x"}
    assert pd.read_parquet(folder / "0.parquet").equals(frame)
    got = store.load(KEY)
    assert got["frame"].index.freq == "D"  # the frequency a Parquet file drops is restored
    assert_equal(got, value)


def test_frames_parquet_cannot_hold_are_pickled_and_still_round_trip(store):
    value = {
        "int_columns": pd.DataFrame({0: [1], 1: [2]}),
        "mixed": pd.DataFrame({"m": [1, "a"]}),
        "tuple_name": pd.Series([1.0], name=("a", 1)),
    }
    store.save(KEY, value)
    manifest = json.loads((store.path(KEY) / "manifest.json").read_text())
    assert {e["as"] for e in manifest["entries"].values()} == {"pickle"}
    assert_equal(store.load(KEY), value)


def test_a_model_is_saved_in_its_own_format(store):
    from signalbench.signals import create

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] > 0).astype(int)
    model = create("logistic").fit(x[:150], y[:150])
    store.save(KEY, {"model": model, "rows": 150})
    assert (store.path(KEY) / "0.model" / "model.json").is_file()
    got = store.load(KEY)
    assert got["rows"] == 150 and type(got["model"]) is type(model)
    np.testing.assert_array_equal(got["model"].predict_proba(x[150:]), model.predict_proba(x[150:]))


def test_saving_a_stored_key_changes_nothing(store):
    store.save(KEY, {"a": 1})
    store.save(KEY, {"a": 2})
    assert store.load(KEY) == {"a": 1}
    assert store.keys() == {KEY}


def test_a_failed_save_leaves_no_folder_and_no_key(store):
    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot pickle this")

    with pytest.raises(RuntimeError, match="cannot pickle this"):
        store.save(KEY, {"ok": np.zeros(3), "bad": Unpicklable()})
    assert not store.has(KEY) and store.keys() == set()
    assert list(store.root.iterdir()) == []  # the temporary folder is gone too


def test_a_half_written_folder_is_not_a_result(store):
    (store.root / f".{KEY}.abc.tmp").mkdir()  # what a killed writer leaves
    (store.root / f".{KEY}.abc.tmp" / "0.npy").write_bytes(b"partial")
    (store.root / KEY).mkdir()  # a folder without its manifest (made by hand): not a result either
    assert not store.has(KEY) and store.keys() == set()
    store.save(KEY + "ab", 1)
    assert store.keys() == {KEY + "ab"}


def test_missing_key_and_damaged_entry_are_named(store):
    with pytest.raises(TaskStoreError, match=f"key: expected a key stored in the task store, got '{KEY}' at .*{KEY}"):
        store.load(KEY)
    store.save(KEY, {"a": np.arange(4)})
    (store.path(KEY) / "0.npy").write_bytes(b"garbage")
    with pytest.raises(
        TaskStoreError,
        match=f"task store entry: expected a complete stored result, .* at .*{KEY}; delete the folder to recompute it",
    ):
        store.load(KEY)


@pytest.mark.parametrize(("key", "error"), [("../etc", ValueError), ("ABCDEF" * 5, ValueError), (12, TypeError)])
def test_keys_that_are_not_task_keys_are_refused(store, key, error):
    with pytest.raises(error, match="key: expected a task key"):
        store.path(key)


def test_root_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match="root: expected a folder, got a file at"):
        TaskStore(tmp_path / "f")


def test_clean_removes_only_old_temporary_folders_of_killed_writers(store, markers):
    import os
    import time

    from signalbench.compute import run_graph

    old, fresh, other = store.root / f".{KEY}.abc123.tmp", store.root / f".{KEY}.def456.tmp", store.root / ".notes.tmp"
    for folder in (old, fresh, other):
        folder.mkdir()
        (folder / "0.npy").write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    os.utime(other, (two_hours_ago, two_hours_ago))
    assert store.clean() == [old]
    assert not old.exists() and fresh.exists() and other.exists()
    os.utime(fresh, (two_hours_ago, two_hours_ago))
    run_graph([], store)  # every run cleans first
    assert not fresh.exists() and other.exists()
