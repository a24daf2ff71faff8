"""Reliability against a real redis-server: SIGKILL restarts, poison events, Redis restarts, backpressure."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

from signalbench.data import load_lobster
from signalbench.streaming import Consumer, InferConfig, ParquetSink, RedisLink, RedisUnavailable, read_sink
from signalbench.streaming.backpressure import safe_trim_id, trim_behind_groups
from signalbench.streaming.codec import encode_rows, entry_id, id_key
from signalbench.streaming.replay import _send, meta_key, replay
from signalbench.streaming.serve import sink_identity

FIELDS = ["size", "price", "ask_price_1", "bid_price_1"]


def reference(toy, df, skip=()) -> dict[str, np.ndarray]:
    """The toy processor over the frame's events in order (new day -> reset), without the consumer: id -> probs."""
    proc, out, last_day = toy.ToyProcessor(), {}, None
    for day, frame in df.groupby("day", sort=True):
        x = frame[FIELDS].to_numpy(float)
        proc.reset()
        for pos in range(len(frame)):
            eid = entry_id(day, pos)
            if eid in skip:
                continue
            out[eid] = proc.process(x[pos])[0]
        last_day = day
    assert last_day is not None
    return out


def assert_sink_equals(sink_dir, expected: dict[str, np.ndarray]) -> None:
    table = read_sink(sink_dir).to_pandas()
    assert table["event_id"].tolist() == list(expected), "every event exactly once, in order"
    probs = table[["p_-1", "p_0", "p_1"]].to_numpy()
    np.testing.assert_array_equal(probs, np.array(list(expected.values())))
    want_pred = [None if np.isnan(p).any() else (-1, 0, 1)[int(np.argmax(p))] for p in expected.values()]
    assert [None if v is None or v != v else int(v) for v in table["pred"].astype(object)] == want_pred


def assert_all_settled(link, ids) -> None:
    assert link.client.xpending("lob:events", "g")["pending"] == 0
    assert [e for e, _ in link.client.xrange("lob:predictions")] == list(ids)


def _run_until(helpers, url, sink, threshold, link, *extra) -> tuple[int, str]:
    """Start the toy consumer; SIGKILL it once the predictions stream holds ``threshold`` entries (or it ends)."""
    proc = subprocess.Popen(helpers.consumer_command(url, sink, *extra), env=helpers.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    while proc.poll() is None and link.client.xlen("lob:predictions") < threshold:
        time.sleep(0.002)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_sigkill_at_random_points_loses_and_duplicates_nothing(link, redis_server, toy_lobster, helpers, tmp_path):
    replay(toy_lobster, "lob:events", link=link)
    df = load_lobster(toy_lobster)
    expected = reference(helpers.toy, df)
    rng = np.random.default_rng(20240304)
    points = sorted(rng.choice(np.arange(150, 1500), size=4, replace=False).tolist())
    logs, killed = [], 0
    for k, point in enumerate(points):
        name = "c2" if k == 2 else "c1"  # one restart under another name: the dead c1's entries are claimed
        code, err = _run_until(helpers, redis_server.url, tmp_path / "sink", point, link, "--consumer", name,
                               "--delay", "0.0004")  # fmt: skip
        killed += code == -signal.SIGKILL
        logs.append(err)
    final = helpers.run_toy(redis_server.url, tmp_path / "sink", "--consumer", "c1")
    logs.append(final.stderr)
    assert killed >= 3, "the consumer must have been killed mid-run"
    assert_sink_equals(tmp_path / "sink", expected)
    assert_all_settled(link, expected)
    assert link.client.xlen("lob:events:dead") == 0
    text = "\n".join(logs)
    assert "restored the checkpoint" in text and "took over" in text


def _poison_stream(link, df):
    days = [g for _, g in df.groupby("day", sort=True)]
    d1, d2 = encode_rows(days[0]), encode_rows(days[1])
    _send(link, "lob:events", d1)
    base = d1[-1][1]
    ms = int(d1[-1][0].split("-")[0]) + 1  # ids between the two days
    poison = [
        ({k: v for k, v in base.items() if k != "bid_price_1"}, r"bid_price_1: expected the field"),
        ({**base, "pos": "300", "price": "n/a"}, r"price: expected a number, got 'n/a'"),
        ({**base, "pos": "10"}, r"pos: expected > 299 .*got 10; out of order"),
        ({**base, "pos": "400", "time": str(int(base["time"]) - 1)}, r"time: expected >= \d+ .*out of order"),
        ({k: v for k, v in base.items() if k != "pos"}, r"pos: expected the field in the entry"),
        ({**base, "day": "2024-03-03", "pos": "500"}, r"day: expected 2024-03-04 or later"),
        # values that are numbers but not a book's (accepted into the sink, and the state, before they were checked)
        ({**base, "pos": "601", "price": "inf"}, r"price: expected a finite price > 0"),
        ({**base, "pos": "602", "size": "nan"}, r"size: expected a finite size in \[0, 9007199254740992\], got 'nan'"),
        ({**base, "pos": "603", "size": "1e308"}, r"size: expected a finite size .*got '1e308'"),
        ({**base, "pos": "604", "size": "-100"}, r"size: expected a finite size .*got '-100'"),
        ({**base, "pos": "605", "size": "1" * 10**6}, r"size: expected at most 64 characters, got 1000000 characters"),
        ({**base, "pos": "606", "ask_price_1": "-10"}, r"ask_price_1: expected a price > 0"),
        ({**base, "pos": str(2**63)}, r"pos: expected an integer in \[0, 9223372036854775807\] \(int64\)"),
    ]
    _send(link, "lob:events", [(f"{ms}-{k + 1}", f) for k, (f, _) in enumerate(poison)])
    _send(link, "lob:events", d2)
    link.client.hset(meta_key("lob:events"), mapping={"done": "1", "last_id": d2[-1][0]})
    return [(f"{ms}-{k + 1}", reason) for k, (_, reason) in enumerate(poison)]


def test_poison_events_go_to_the_dead_letters_and_the_rest_is_processed(link, make_lobster, helpers, tmp_path):
    df = load_lobster(make_lobster({"2024-03-04": 300, "2024-03-05": 200}))
    poison = _poison_stream(link, df)
    first = entry_id("2024-03-04", 0)
    link.client.xgroup_create("lob:events", "g", id="0")
    link.client.xreadgroup("g", "old", {"lob:events": ">"}, count=1)
    link.client.xclaim("lob:events", "g", "old", 0, [first], retrycount=10)  # delivered 10 times already
    cfg = InferConfig(group="g", consumer="c1", max_deliveries=5, exit_at_end=True, read_count=64)
    proc = helpers.toy.ToyProcessor()
    sink = ParquetSink(tmp_path / "sink", sink_identity(proc, cfg, {}), batch_size=100, flush_interval=0.1)
    summary = Consumer(link, proc, sink, cfg).run()
    dead = link.client.xrange("lob:events:dead")
    assert [e for e, _ in dead] == [first] + [eid for eid, _ in poison]
    assert dead[0][1]["dead:reason"] == "delivered 11 times (--max-deliveries 5)"
    for (eid, fields), (_, reason) in zip(dead[1:], poison):
        assert re.search(reason, fields["dead:reason"]), (eid, fields["dead:reason"])
        assert fields["dead:id"] == eid and fields["dead:stream"] == "lob:events" and "ask_price_1" in fields
    expected = reference(helpers.toy, df, skip={first})
    assert_sink_equals(tmp_path / "sink", expected)
    assert summary["dead_letters"] == 14 and summary["events"] == 499
    assert link.client.xpending("lob:events", "g")["pending"] == 0


@pytest.mark.parametrize("earlier", [4, 5], ids=["at_the_limit", "one_over"])
def test_max_deliveries_is_the_last_delivery_that_is_processed(link, make_lobster, helpers, tmp_path, earlier):
    """Delivered ``earlier`` times before, the take-over is delivery ``earlier + 1``: 5 of 5 runs, 6 of 5 is dead."""
    df = load_lobster(make_lobster({"2024-03-04": 40}))
    rows = encode_rows(df)
    _send(link, "lob:events", rows)
    link.client.hset(meta_key("lob:events"), mapping={"done": "1", "last_id": rows[-1][0]})
    first = rows[0][0]
    link.client.xgroup_create("lob:events", "g", id="0")
    link.client.xreadgroup("g", "old", {"lob:events": ">"}, count=1)
    link.client.xclaim("lob:events", "g", "old", 0, [first], retrycount=earlier)
    cfg = InferConfig(group="g", consumer="c1", max_deliveries=5, exit_at_end=True, read_count=64)
    proc = helpers.toy.ToyProcessor()
    sink = ParquetSink(tmp_path / "sink", sink_identity(proc, cfg, {}), batch_size=100, flush_interval=0.1)
    summary = Consumer(link, proc, sink, cfg).run()
    dead = link.client.xrange("lob:events:dead")
    if earlier + 1 <= cfg.max_deliveries:
        assert dead == [] and summary["dead_letters"] == 0 and summary["events"] == 40
        assert_sink_equals(tmp_path / "sink", reference(helpers.toy, df))
    else:
        assert [e for e, _ in dead] == [first] and summary["events"] == 39
        assert dead[0][1]["dead:reason"] == "delivered 6 times (--max-deliveries 5)"
        assert_sink_equals(tmp_path / "sink", reference(helpers.toy, df, skip={first}))
    assert link.client.xpending("lob:events", "g")["pending"] == 0


def _stderr_lines(proc) -> list[str]:
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True).start()
    return lines


def _wait_for(lines: list[str], text: str, proc, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not any(text in line for line in lines):
        assert proc.poll() is None and time.monotonic() < end, "".join(lines)[-3000:]
        time.sleep(0.01)


def test_redis_down_at_start_and_restarted_mid_run(redis_executable, toy_lobster, helpers, tmp_path):
    server = helpers.RedisServer(redis_executable, tmp_path / "redis", aof=True)
    (tmp_path / "redis").mkdir()
    proc = subprocess.Popen(helpers.consumer_command(server.url, tmp_path / "sink", "--delay", "0.001"),
                            env=helpers.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    lines = _stderr_lines(proc)
    try:
        _wait_for(lines, f"Redis at {server.url} is unavailable", proc)  # started before the server: retrying
        server.start()
        link = RedisLink(server.url, retry_for=30)
        replay(toy_lobster, "lob:events", link=link)
        while link.client.xlen("lob:predictions") < 700 and proc.poll() is None:
            time.sleep(0.005)
        server.stop()  # mid-run (AOF keeps the stream, the group and its pending entries)
        time.sleep(1.0)
        server.start()
        proc.wait(timeout=120)
        time.sleep(0.1)
        err = "".join(lines)
        assert proc.returncode == 0, err[-3000:]
        expected = reference(helpers.toy, load_lobster(toy_lobster))
        assert_sink_equals(tmp_path / "sink", expected)
        assert_all_settled(link, expected)
        assert len(re.findall(rf"Redis at {re.escape(server.url)} is unavailable", err)) >= 2, err[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
        server.stop()


def test_unreachable_redis_is_a_clear_error_after_the_retry_budget(helpers, caplog):
    url = f"redis://127.0.0.1:{helpers.free_port()}/0"
    link = RedisLink(url, retry_for=0.3)
    with pytest.raises(RedisUnavailable, match=rf"--redis: expected a reachable Redis server, got no answer from "
                                               rf"{re.escape(url)} for 0\.\d+s"):  # fmt: skip
        link.ping()
    assert f"Redis at {url} is unavailable" in caplog.text
    assert RedisLink("redis://u:secret@127.0.0.1:1/0").url.endswith("@127.0.0.1:1/0")
    from signalbench.streaming._redis import redact

    assert redact("redis://u:secret@h:1/0") == "redis://u:***@h:1/0"


def _unacked(link, stream, group) -> set[str]:
    """Entries the group has not acknowledged: pending or not yet delivered."""
    info = {g["name"]: g for g in link.client.xinfo_groups(stream)}[group]
    pending = {p["message_id"] for p in link.client.xpending_range(stream, group, "-", "+", 10_000)}
    later = {e for e, _ in link.client.xrange(stream, f"({info['last-delivered-id']}", "+")}
    return pending | later


@pytest.mark.parametrize("seed", range(6))
def test_trimming_never_drops_an_unacknowledged_entry(link, seed):
    rng = np.random.default_rng(seed)
    ids = [f"1000-{k}" for k in range(1, 1201)]
    _send(link, "s", [(e, {"k": e}) for e in ids])
    groups = ["a", "b", "c"][: rng.integers(1, 4)]
    for g in groups:
        link.client.xgroup_create("s", g, id="0")
        for _ in range(rng.integers(0, 6)):
            got = link.client.xreadgroup(g, f"{g}-x", {"s": ">"}, count=int(rng.integers(1, 400)))
            delivered = [e for e, _ in got[0][1]] if got else []
            acked = [e for e in delivered if rng.random() < 0.9]
            if acked:
                link.client.xack("s", g, *acked)
    before = {g: _unacked(link, "s", g) for g in groups}
    bound = safe_trim_id(link, "s")
    removed = trim_behind_groups(link, "s")
    left = {e for e, _ in link.client.xrange("s")}
    for g in groups:
        assert before[g] <= left, f"group {g} lost unacknowledged entries"
    # the bound is tight: every entry below it was acknowledged by every group, and the first unacked one is at it
    first_unacked = min((e for g in groups for e in before[g]), key=id_key, default=None)
    if first_unacked is not None:
        assert id_key(bound) <= id_key(first_unacked)
    assert all(id_key(e) >= id_key(bound) or all(e not in before[g] for g in groups) for e in ids)
    assert removed == len(ids) - len(left)


def test_trimming_with_everything_acknowledged_removes_whole_nodes(link):
    _send(link, "s", [(f"1000-{k}", {"k": "x"}) for k in range(1, 1001)])
    assert safe_trim_id(link, "s") is None and trim_behind_groups(link, "s") == 0  # no group: nothing acked
    link.client.xgroup_create("s", "a", id="0")
    got = link.client.xreadgroup("a", "x", {"s": ">"}, count=650)
    link.client.xack("s", "a", *[e for e, _ in got[0][1]])
    assert safe_trim_id(link, "s") == "1000-651"
    removed = trim_behind_groups(link, "s")
    assert 0 < removed <= 650 and link.client.xrange("s", count=1)[0][0] <= "1000-651"


def test_replay_with_max_len_waits_for_the_consumer(link, redis_server, toy_lobster, helpers, tmp_path):
    link.client.xgroup_create("lob:events", "g", id="0", mkstream=True)
    result = {}
    producer = threading.Thread(target=lambda: result.update(s=replay(toy_lobster, "lob:events", link=RedisLink(
        redis_server.url), batch=50, max_len=200)))  # fmt: skip
    producer.start()
    helpers.run_toy(redis_server.url, tmp_path / "sink", "--idle-exit", "3")
    producer.join(60)
    expected = reference(helpers.toy, load_lobster(toy_lobster))
    assert_sink_equals(tmp_path / "sink", expected)
    assert result["s"].backpressure_waits > 0 and result["s"].sent == 2000
    assert link.client.xlen("lob:events") < 2000  # acknowledged entries were trimmed on the way
