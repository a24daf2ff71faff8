"""End to end on the shared AMZN sample: replay -> infer -> sink equals the saved model's predict_proba (1e-5).

The first 3000 events of the AMZN day (57,515 events) keep most runs (window and stateful mode; torch and
onnxruntime) to a few seconds each; one test streams the whole day in both modes (onnxruntime, the fast backend).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import signalbench.signals as signals
from signalbench.cli import main
from signalbench.data import compute_features, load_lobster
from signalbench.data.labels import direction
from signalbench.streaming import Consumer, InferConfig, ModelProcessor, ParquetSink, read_sink
from signalbench.streaming.replay import replay
from signalbench.streaming.serve import sink_identity
from tests.conftest import require_module

N = 3000
TRAIN = {"epochs": 1, "progress": False, "device": "cpu", "seed": 3}
MODELS = {
    "lstm": {"seq_len": 8, "hidden_size": 8, "head_size": 8, **TRAIN},
    "stateful_lstm": {"hidden_size": 8, "num_layers": 2, "tbptt_len": 32, "batch_size": 8, **TRAIN},
}


@pytest.fixture(scope="module")
def amzn(shared_data):
    return shared_data / "lobster" / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip"


@pytest.fixture(scope="module")
def run_dir(amzn, tmp_path_factory):
    """A run folder with two small models fitted on the first N events' lob_basic features, and their X."""
    df = load_lobster(amzn).iloc[:N]
    X = compute_features(df, "lob_basic")
    mid = (df["ask_price_1"] + df["bid_price_1"]) / 2
    y = direction(mid.to_numpy(), 20, threshold=1e-5)
    run = tmp_path_factory.mktemp("run")
    (run / "config.json").write_text(json.dumps({"features": ["lob_basic"]}))
    for name, params in MODELS.items():
        model = signals.create(name, **params).fit(X.iloc[:2000], y[:2000])
        model.save(run / "models" / name)
    return run, X


def expected_proba(run, name, X) -> np.ndarray:
    return signals.load(run / "models" / name).predict_proba(X)


def assert_parity(sink_dir, proba: np.ndarray, mode: str, backend: str) -> None:
    table = read_sink(sink_dir).to_pandas()
    assert table["pos"].tolist() == list(range(len(proba)))
    got = table[[c for c in table.columns if c.startswith("p_")]].to_numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(proba))
    assert np.isfinite(proba).all(axis=1).sum() > N / 2  # most rows carry a prediction
    np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(proba), atol=1e-5, rtol=0)
    assert set(table["mode"]) == {mode} and set(table["backend"]) == {backend}
    assert (table["e2e_us"] > 0).all() and (table["published_ns"] >= table["received_ns"]).all()


@pytest.fixture
def torch_threads():
    """``stream infer`` sets torch's thread count (--torch-threads, default 1): put it back afterwards."""
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(("name", "mode", "backend"), [("lstm", "window", "onnxruntime"),
                                                       ("stateful_lstm", "stateful", "torch"),
                                                       ("stateful_lstm", "stateful", "onnxruntime")])  # fmt: skip
def test_streamed_predictions_equal_predict_proba(link, amzn, run_dir, tmp_path, torch_threads, name, mode, backend):
    if backend == "onnxruntime":
        require_module("onnxruntime", extra="onnx")
    else:
        import torch

        torch.set_num_threads(1)  # as `stream infer` does (--torch-threads)
    run, X = run_dir
    replay(amzn, "lob:events", link=link, limit=N)
    cfg = InferConfig(group="g", consumer="c1", exit_at_end=True)
    meta = link.client.hgetall("lob:events:meta")
    proc = ModelProcessor(run / "models" / name, mode=mode, backend=backend, levels=int(meta["levels"]))
    sink = ParquetSink(tmp_path / "sink", sink_identity(proc, cfg, meta), batch_size=700, flush_interval=5.0)
    Consumer(link, proc, sink, cfg).run()
    assert_parity(tmp_path / "sink", expected_proba(run, name, X), mode, backend)
    manifest = json.loads((tmp_path / "sink" / "manifest.json").read_text())
    assert manifest["model"] == str((run / "models" / name).resolve()) and manifest["run_dir"] == str(run.resolve())
    assert manifest["source"] == str(amzn.resolve()) and manifest["features"] == ["lob_basic"]
    classes = signals.load(run / "models" / name).classes_.tolist()
    assert (manifest["mode"], manifest["backend"], manifest["classes"]) == (mode, backend, classes)


def test_cli_replay_and_infer_window_mode(link, redis_server, amzn, run_dir, tmp_path, capsys, torch_threads):
    run, X = run_dir
    url = redis_server.url
    assert main(["stream", "replay", str(amzn), "--stream", "lob:events", "--limit", str(N), "--redis", url]) == 0
    assert f"{N} events sent" in capsys.readouterr().out
    code = main(["stream", "infer", "--model", str(run / "models" / "lstm"), "--in", "lob:events", "--out",
                 "lob:predictions", "--sink", str(tmp_path / "sink"), "--mode", "window", "--redis", url,
                 "--exit-at-end", "--batch-size", "1000", "--metrics-interval", "0.5"])  # fmt: skip
    assert code == 0
    assert f"{N} events, 3 batches, 0 dead letters" in capsys.readouterr().out
    assert_parity(tmp_path / "sink", expected_proba(run, "lstm", X), "window", "torch")
    published = link.client.xrange("lob:predictions", count=1, min="1340236800000-2999")[0][1]
    assert published["event_id"] == "1340236800000-2999" and published["mode"] == "window"
    assert set(published) == {"event_id", "pred", "p_0", "p_1", "p_2", "mode", "latency_us"}
    row = read_sink(tmp_path / "sink").to_pandas().set_index("event_id").loc["1340236800000-2999"]
    assert [float(published[f"p_{c}"]) for c in (0, 1, 2)] == [row["p_0"], row["p_1"], row["p_2"]]
    assert published["pred"] == str(int(row["pred"])) and float(published["latency_us"]) > 0


def test_cli_errors_name_the_argument(link, redis_server, run_dir, tmp_path, capsys, torch_threads):
    run, _ = run_dir
    url = redis_server.url
    code = main(["stream", "infer", "--model", str(run / "models" / "lstm"), "--sink", str(tmp_path / "s"),
                 "--mode", "stateful", "--redis", url, "--idle-exit", "0"])  # fmt: skip
    assert code == 2 and "mode" in capsys.readouterr().err
    assert main(["stream", "infer", "--model", str(tmp_path / "no-model"), "--sink", str(tmp_path / "s"),
                 "--redis", url, "--idle-exit", "0"]) == 2  # fmt: skip
    assert "--model: expected a saved model folder" in capsys.readouterr().err
    assert main(["stream", "replay", "nowhere.zip", "--redis", url]) == 2
    assert "nowhere.zip" in capsys.readouterr().err
    assert main(["stream", "replay", "x.zip", "--speed", "fast", "--redis", url]) == 2


@pytest.mark.parametrize(("name", "mode", "backend"), [("lstm", "window", "torch"),
                                                       ("stateful_lstm", "stateful", "onnxruntime")])  # fmt: skip
def test_restart_from_the_checkpoint_with_the_real_model(link, amzn, run_dir, tmp_path, torch_threads, name, mode,
                                                         backend):  # fmt: skip
    """A consumer abandoned mid-run (as after SIGKILL: no final flush) and a new one started on the same sink: the
    feature and model state restored from the checkpoint continue exactly where the last flush left them."""
    if backend == "onnxruntime":
        require_module("onnxruntime", extra="onnx")
    import torch

    torch.set_num_threads(1)
    run, X = run_dir
    replay(amzn, "lob:events", link=link, limit=N)
    meta = link.client.hgetall("lob:events:meta")

    def consumer():
        cfg = InferConfig(group="g", consumer="c1", exit_at_end=True, read_count=128)
        proc = ModelProcessor(run / "models" / name, mode=mode, backend=backend)
        sink = ParquetSink(tmp_path / "sink", sink_identity(proc, cfg, meta), batch_size=500, flush_interval=60)
        return Consumer(link, proc, sink, cfg)

    first = consumer()
    first.start()
    while first.sink.batches < 2 or len(first.sink) == 0:  # two batches flushed and some rows only buffered
        first.step()
    assert link.client.xpending("lob:events", "g")["pending"] == len(first.sink) > 0
    consumer().run()  # the abandoned consumer's buffered rows are re-processed from the checkpoint
    assert_parity(tmp_path / "sink", expected_proba(run, name, X), mode, backend)


@pytest.mark.parametrize(("name", "mode"), [("lstm", "window"), ("stateful_lstm", "stateful")])
def test_whole_amzn_day_streamed_equals_predict_proba(link, amzn, run_dir, tmp_path, name, mode):
    """Every one of the day's 57,515 events through Redis: the sink equals predict_proba on the batch features."""
    require_module("onnxruntime", extra="onnx")
    run, _ = run_dir
    X = compute_features(load_lobster(amzn), "lob_basic")
    sent = replay(amzn, "lob:events", link=link)
    assert sent.sent == len(X) == 57_515
    cfg = InferConfig(group="g", consumer="c1", exit_at_end=True, read_count=1000)
    meta = link.client.hgetall("lob:events:meta")
    proc = ModelProcessor(run / "models" / name, mode=mode, backend="onnxruntime", levels=int(meta["levels"]))
    sink = ParquetSink(tmp_path / "sink", sink_identity(proc, cfg, meta), batch_size=20_000, flush_interval=60.0)
    Consumer(link, proc, sink, cfg).run()
    assert_parity(tmp_path / "sink", expected_proba(run, name, X), mode, "onnxruntime")
