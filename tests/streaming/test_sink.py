"""The Parquet sink: exactly-once under any batch boundaries and re-deliveries, crash leftovers, contract columns."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signalbench import _atomic
from signalbench.streaming import ParquetSink, SinkMismatch, entry_id, read_sink
from signalbench.streaming import sink as sink_module

CLASSES = [-1, 0, 1]
IDENTITY = {"model": "/m/lstm", "mode": "window", "backend": "torch", "stream": "lob:events", "group": "g",
            "classes": CLASSES, "features": ["lob_basic"], "source": "/data/x.zip"}  # fmt: skip


def row(k: int, day: str = "2024-03-04") -> dict:
    p = np.array([k % 3 + 1.0, 2.0, 3.0]) / (k % 3 + 6.0)
    return {"event_id": entry_id(day, k), "pos": k, "time": 1_709_544_600_000_000_000 + k * 1000,
            "pred": None if k < 2 else CLASSES[int(np.argmax(p))], "p_-1": p[0] if k >= 2 else np.nan,
            "p_0": p[1] if k >= 2 else np.nan, "p_1": p[2] if k >= 2 else np.nan, "mode": "window",
            "backend": "torch", "model": "lstm", "feature_us": 1.5, "model_us": 20.0, "e2e_us": 100.0 + k,
            "producer_ns": 10 * k, "received_ns": 10 * k + 3, "published_ns": 10 * k + 7}  # fmt: skip


def new_sink(folder, **kw) -> ParquetSink:
    return ParquetSink(folder, IDENTITY, batch_size=kw.pop("batch_size", 10**6), flush_interval=3600, **kw)


@settings(max_examples=40)
@given(n=st.integers(1, 60), cuts=st.lists(st.tuples(st.integers(1, 25), st.integers(0, 10), st.booleans()),
                                            min_size=1, max_size=30))  # fmt: skip
def test_exactly_once_under_any_batches_redeliveries_and_restarts(tmp_path_factory, n, cuts):
    """Batches of any size, each starting up to 10 rows before the last one written (a re-delivery), with the sink
    reopened at random (a restart): the sink holds rows 0..n-1 exactly once, in order, listed contiguously."""
    folder = tmp_path_factory.mktemp("sink")
    sink, k = new_sink(folder), 0
    for size, back, reopen in cuts:
        start = max(0, k - back)
        for j in range(start, min(n, start + size)):
            sink.add(row(j))
        k = max(k, min(n, start + size))
        sink.flush({"n": np.array(k)}, {"id": entry_id("2024-03-04", k - 1), "day": "2024-03-04", "pos": k - 1,
                                        "time": 0})  # fmt: skip
        if reopen:
            sink = new_sink(folder)
    while k < n:
        sink.add(row(k))
        k += 1
    sink.flush({"n": np.array(k)}, {"id": entry_id("2024-03-04", k - 1), "day": "2024-03-04", "pos": k - 1, "time": 0})
    table = read_sink(folder).to_pandas()
    assert table["pos"].tolist() == list(range(n))
    manifest = json.loads((folder / "manifest.json").read_text())
    firsts = [e["first_pos"] for e in manifest["files"]]
    lasts = [e["last_pos"] for e in manifest["files"]]
    assert firsts[0] == 0 and lasts[-1] == n - 1 and all(b == a + 1 for a, b in zip(lasts, firsts[1:]))
    assert int(new_sink(folder).checkpoint()["n"]) == n
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["manifest.json"] + [e["file"] for e in manifest["files"]] + [e["checkpoint"] for e in manifest["files"]]
    )


def test_contract_columns_and_types(tmp_path):
    sink = new_sink(tmp_path)
    for k in range(5):
        assert sink.add(row(k))
    assert not sink.add(row(3))  # already buffered
    ids = sink.flush({"x": np.arange(3.0)}, {"id": entry_id("2024-03-04", 4), "day": "2024-03-04", "pos": 4, "time": 1})
    assert ids == [entry_id("2024-03-04", k) for k in range(5)]
    assert not sink.add(row(4))  # already in the sink
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    entry = manifest["files"][0]
    assert entry["file"] == "part_1709510400000-1_1709510400000-5.parquet" and entry["rows"] == 5
    assert {k: manifest[k] for k in IDENTITY} == IDENTITY and manifest["position"]["pos"] == 4
    schema = pq.read_schema(tmp_path / entry["file"])
    types = {f.name: str(f.type) for f in schema}
    assert types == {"event_id": "string", "pos": "int64", "time": "timestamp[ns]", "pred": "int64",
                     "p_-1": "double", "p_0": "double", "p_1": "double", "mode": "string", "backend": "string",
                     "model": "string", "feature_us": "double", "model_us": "double", "e2e_us": "double",
                     "producer_ns": "int64", "received_ns": "int64", "published_ns": "int64"}  # fmt: skip
    df = read_sink(tmp_path).to_pandas()
    assert df["pred"].isna().tolist() == [True, True, False, False, False]
    assert str(df["time"].iloc[1]) == "2024-03-04 09:30:00.000001"
    np.testing.assert_array_equal(new_sink(tmp_path).checkpoint()["x"], np.arange(3.0))


def test_crash_before_the_manifest_commit_leaves_nothing_listed(tmp_path, monkeypatch):
    sink = new_sink(tmp_path)
    for k in range(4):
        sink.add(row(k))
    sink.flush({"n": np.array(4)}, {"id": entry_id("2024-03-04", 3), "day": "2024-03-04", "pos": 3, "time": 0})
    for k in range(4, 9):
        sink.add(row(k))

    def crash(path, text, encoding="utf-8"):
        raise KeyboardInterrupt  # the process dies between the data files and the manifest

    monkeypatch.setattr(sink_module._atomic, "write_text", crash)
    with pytest.raises(KeyboardInterrupt):
        sink.flush({"n": np.array(9)}, {"id": entry_id("2024-03-04", 8), "day": "2024-03-04", "pos": 8, "time": 0})
    monkeypatch.setattr(sink_module._atomic, "write_text", _atomic.write_text)
    leftovers = {p.name for p in tmp_path.iterdir()}
    assert "part_1709510400000-5_1709510400000-9.parquet" in leftovers  # written, renamed, but never listed
    (tmp_path / ".part_1709510400000-5_1709510400000-9.parquet.abc.tmp").write_bytes(b"half a file")
    assert read_sink(tmp_path).num_rows == 4  # readers see only listed files
    reopened = new_sink(tmp_path)  # the next consumer start cleans up
    assert {p.name for p in tmp_path.iterdir()} == {"manifest.json", "part_1709510400000-1_1709510400000-4.parquet",
                                                    "part_1709510400000-1_1709510400000-4.state.npz"}  # fmt: skip
    assert reopened.last_id == entry_id("2024-03-04", 3) and int(reopened.checkpoint()["n"]) == 4


def test_due_by_size_and_interval(tmp_path):
    sink = ParquetSink(tmp_path, IDENTITY, batch_size=3, flush_interval=3600)
    assert not sink.due()
    sink.add(row(0))
    sink.add(row(1))
    assert not sink.due()
    sink.add(row(2))
    assert sink.due()
    quick = ParquetSink(tmp_path / "q", IDENTITY, batch_size=100, flush_interval=0.0)
    quick.add(row(0))
    assert quick.due()


def test_reusing_a_sink_of_another_model_is_refused(tmp_path):
    new_sink(tmp_path)
    with pytest.raises(SinkMismatch, match=r"--sink: expected a new folder or one written with mode='stateful'"):
        ParquetSink(tmp_path, {**IDENTITY, "mode": "stateful"})
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"manifest.json: expected the sink's manifest \(JSON\)"):
        new_sink(tmp_path)


def test_reusing_a_sink_of_data_of_another_depth_is_refused(tmp_path):
    """A restart on a stream of another depth: refused by name (its checkpoint's feature state would not fit)."""
    ParquetSink(tmp_path, {**IDENTITY, "levels": 1})
    with pytest.raises(SinkMismatch, match=r"--sink: expected a new folder or one written with levels=10, got .* "
                                           r"holding levels=1; use another --sink folder"):  # fmt: skip
        ParquetSink(tmp_path, {**IDENTITY, "levels": 10})
    ParquetSink(tmp_path, {**IDENTITY, "levels": 1})
