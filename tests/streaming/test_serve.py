"""Starting the streaming commands against a real redis-server: the stream's metadata, its depth, unreachable or
malformed Redis URLs."""

from __future__ import annotations

import json
import logging
import re
import threading

import numpy as np
import pytest

import signalbench.signals as signals
from signalbench.cli import _parser, main
from signalbench.data import compute_features, load_lobster
from signalbench.streaming import RedisLink, read_sink
from signalbench.streaming import commands as stream_commands
from signalbench.streaming.replay import replay
from signalbench.streaming.serve import build_consumer


def infer_args(*argv: str):
    args = _parser().parse_args(["stream", "infer", *argv])
    args.console = None
    return args


class _Flag(logging.Handler):
    """Sets ``event`` when a record containing ``text`` is logged."""

    def __init__(self, event: threading.Event, text: str) -> None:
        super().__init__(logging.INFO)
        self.event, self.text = event, text

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


@pytest.fixture
def streaming_log():
    """The streaming logger at INFO with a handler that flags a message; restored afterwards."""
    logger = logging.getLogger("signalbench.streaming")
    level, event = logger.level, threading.Event()
    handler = _Flag(event, "waiting for the replay's metadata")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield event
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_consumer_started_before_the_replay_waits_for_its_metadata(link, redis_server, tiny_run, tmp_path,
                                                                     streaming_log):  # fmt: skip
    """Its first prediction already uses the replayed data's 2 levels (not 1): the sink equals predict_proba, and the
    manifest records the source, symbol and day (which ``stream evaluate`` needs)."""
    run, data = tiny_run
    args = infer_args("--model", str(run / "models" / "lstm"), "--sink", str(tmp_path / "sink"), "--redis",
                      redis_server.url, "--exit-at-end", "--metrics-interval", "0")  # fmt: skip
    result = {}

    def consume():
        try:
            result["summary"] = build_consumer(args).run()
        except BaseException as exc:  # reported by the assertion below
            result["error"] = exc

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    waited = streaming_log.wait(10)
    if waited:  # ready before the replay: its group exists (benchmarks/streaming.py waits for it)
        assert [g["name"] for g in link.client.xinfo_groups("lob:events")] == ["signalbench"]
    replay(data, "lob:events", link=link)
    thread.join(120)
    assert "error" not in result, result
    df = load_lobster(data)
    proba = signals.load(run / "models" / "lstm").predict_proba(compute_features(df, "lob_basic"))
    table = read_sink(tmp_path / "sink").to_pandas()
    got = table[["p_0", "p_1", "p_2"]].to_numpy()
    assert len(got) == len(df) and np.isfinite(proba).all(axis=1).sum() > 500
    np.testing.assert_array_equal(np.isnan(got), np.isnan(proba))
    np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(proba), atol=1e-5, rtol=0)
    manifest = json.loads((tmp_path / "sink" / "manifest.json").read_text())
    assert (manifest["levels"], manifest["source"]) == (2, str(data.resolve()))
    assert (manifest["ticker"], manifest["days"]) == ("TOY", ["2024-03-04"])
    assert waited, "the consumer said it was waiting for the metadata"


def test_without_a_replay_the_wait_ends_at_idle_exit(link, redis_server, tiny_run, tmp_path, capsys):
    run, _ = tiny_run
    code = main(["stream", "infer", "--model", str(run / "models" / "lstm"), "--sink", str(tmp_path / "sink"),
                 "--redis", redis_server.url, "--idle-exit", "0.3"])  # fmt: skip
    assert code == 2
    assert ("--in: expected a stream with replay metadata (lob:events:meta: levels, source), got none after 0.3s at "
            "lob:events; start `signalbench stream replay` into it") in capsys.readouterr().err  # fmt: skip


@pytest.mark.parametrize(("levels", "hint"), [(1, "serve a model fitted on data of this depth"),
                                              (3, "replay the data with --levels 2 into a new stream")])  # fmt: skip
def test_a_stream_of_another_depth_than_the_models_is_refused(link, redis_server, tiny_run, make_lobster, tmp_path,
                                                              capsys, levels, hint):  # fmt: skip
    run, _ = tiny_run
    data = make_lobster({"2024-03-04": 40}, levels=levels)
    replay(data, "lob:events", link=link)
    code = main(["stream", "infer", "--model", str(run / "models" / "lstm"), "--sink", str(tmp_path / "sink"),
                 "--redis", redis_server.url, "--idle-exit", "0"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert (f"--in: expected a stream of 2-level books (the model's run was fitted on 2 level(s)), got lob:events "
            f"holding {levels}-level books ({data.resolve()}); {hint}") in err  # fmt: skip
    assert not (tmp_path / "sink").exists()


def test_replay_against_an_unreachable_redis_gives_up_by_default(helpers, toy_lobster, monkeypatch, capsys):
    """The default is bounded (REPLAY_RETRY_FOR, 30 s; shortened here) and the message names the URL and the flag."""
    assert _parser().parse_args(["stream", "replay", "x.zip"]).retry_for == 30.0
    assert _parser().parse_args(["stream", "infer", "--model", "m", "--sink", "s"]).retry_for is None
    monkeypatch.setattr(stream_commands, "REPLAY_RETRY_FOR", 0.3)
    url = f"redis://127.0.0.1:{helpers.free_port()}/0"
    assert main(["stream", "replay", str(toy_lobster), "--redis", url]) == 2
    err = capsys.readouterr().err
    assert re.search(
        rf"--redis: expected a reachable Redis server, got no answer from {re.escape(url)} for 0\.\d+s "
        r"\(.*\); start redis-server, pass --redis URL, or --retry-for SECONDS to wait longer",
        err,
    ), err
    assert main(["stream", "replay", str(toy_lobster), "--redis", url, "--retry-for", "-1"]) == 2
    assert "--retry-for: expected a finite number >= 0" in capsys.readouterr().err


@pytest.mark.parametrize(("path", "bad"), [("/one", "one"), ("/-1", "-1"), ("/0/x", "0/x"), ("/0?db=two", "two")])
def test_a_redis_url_whose_database_is_not_an_integer_is_refused(link, redis_server, toy_lobster, capsys, path, bad):
    url = redis_server.url.rsplit("/", 1)[0] + path
    assert main(["stream", "replay", str(toy_lobster), "--redis", url, "--limit", "5"]) == 2
    assert (f"--redis: expected a URL redis://HOST:PORT/DB (rediss:// for TLS, unix:///PATH?db=DB) with DB an "
            f"integer >= 0, got database {bad!r} in {url}") in capsys.readouterr().err  # fmt: skip
    with pytest.raises(ValueError, match=r"got database 'x' in redis://u:\*\*\*@h:1/x$"):
        RedisLink("redis://u:secret@h:1/x")
    assert RedisLink(redis_server.url.rsplit("/", 1)[0] + "/3").url.endswith("/3")
