"""Replay: ids carry positions, order, exact field round trip, reproducibility, resume, pacing (real redis-server)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench.data import load_lobster
from signalbench.streaming import entry_id, parse_speed, position_of
from signalbench.streaming.codec import encode_rows, id_key
from signalbench.streaming.replay import _send, meta_key, replay


def decode(fields: dict[str, str], column: str, dtype) -> object:
    text = fields[column]
    if dtype is np.dtype(bool):
        return text == "1"
    if np.issubdtype(dtype, np.datetime64):
        return pd.Timestamp(text)
    if np.issubdtype(dtype, np.integer):
        return int(text)
    return float(text)


def assert_entries_match_frame(entries, df: pd.DataFrame) -> None:
    """Every entry is the frame's row at its position, exactly (floats bit for bit, NaN for NaN)."""
    days = [g for _, g in df.groupby("day", sort=True)]
    expected_ids = [f"{(pd.Timestamp(g['day'].iloc[0]).date() - dt.date(1970, 1, 1)).days * 86_400_000}-{k + 1}"
                    for g in days for k in range(len(g))]  # fmt: skip
    assert [eid for eid, _ in entries] == expected_ids
    rows = pd.concat(days)
    for (eid, fields), (ts, row) in zip(entries, rows.iterrows()):
        day, pos = position_of(eid)
        assert fields["day"] == str(day) and int(fields["pos"]) == pos
        assert int(fields["time"]) == ts.value
        for column in df.columns:
            got, want = decode(fields, column, df[column].dtype), row[column]
            if isinstance(want, float) and math.isnan(want):
                assert math.isnan(got), (eid, column)
            else:
                assert got == want, (eid, column, got, want)


def test_replay_ids_order_and_fields(link, toy_lobster):
    s = replay(toy_lobster, "lob:events", link=link)
    df = load_lobster(toy_lobster)
    assert s.sent == len(df) == 2000 and s.skipped == 0 and s.days == ["2024-03-04", "2024-03-05"]
    entries = link.client.xrange("lob:events")
    assert_entries_match_frame(entries, df)
    assert [id_key(e) for e, _ in entries] == sorted(id_key(e) for e, _ in entries)
    meta = link.client.hgetall(meta_key("lob:events"))
    assert meta["source"] == str(toy_lobster.resolve()) and meta["levels"] == "1" and meta["done"] == "1"
    assert meta["last_id"] == entries[-1][0] and meta["events"] == "2000"


def test_replay_is_reproducible_and_resumable(link, toy_lobster):
    replay(toy_lobster, "a", link=link, batch=97)
    first = link.client.xrange("a")
    link.client.flushall()
    replay(toy_lobster, "a", link=link, batch=500)
    second = link.client.xrange("a")
    strip = [(e, {k: v for k, v in f.items() if k != "producer_ns"}) for e, f in first]
    assert strip == [(e, {k: v for k, v in f.items() if k != "producer_ns"}) for e, f in second]
    # an interrupted producer: the first 333 entries are there; replaying again sends only the rest
    link.client.flushall()
    df = load_lobster(toy_lobster)
    _send(link, "b", encode_rows(df[df["day"] == df["day"].iloc[0]])[:333])
    s = replay(toy_lobster, "b", link=link)
    assert (s.sent, s.skipped) == (2000 - 333, 333)
    assert [e for e, _ in link.client.xrange("b")] == [e for e, _ in first]
    again = replay(toy_lobster, "b", link=link)
    assert (again.sent, again.skipped) == (0, 2000)


def test_replay_refuses_another_source(link, toy_lobster, make_lobster):
    replay(toy_lobster, "s", link=link, limit=10)
    other = make_lobster({"2024-03-04": 50}, seed=1)
    with pytest.raises(ValueError, match=r"--stream: expected a stream replaying .*lobster0 \(source=.*\), got 's'"):
        replay(other, "s", link=link, limit=10)
    with pytest.raises(ValueError, match=r"limit=20.*holds a replay with limit=10"):
        replay(toy_lobster, "s", link=link, limit=20)


def test_replay_day_and_limit(link, toy_lobster):
    s = replay(toy_lobster, "s", link=link, day="2024-03-05", limit=100)
    entries = link.client.xrange("s")
    assert s.sent == 100 and entries[0][0] == entry_id("2024-03-05", 0) and entries[-1][0] == entry_id("2024-03-05", 99)
    with pytest.raises(ValueError, match=r"--day: expected one of the file's days \(2024-03-04, 2024-03-05\)"):
        replay(toy_lobster, "t", link=link, day="2024-03-06")


def test_paced_replay_is_never_early(link, toy_lobster):
    """At speed s, event k is sent no earlier than (t_k - t_0) / s after event 0 (recorded pace, scaled)."""
    speed = 40.0
    replay(toy_lobster, "p", link=link, speed=speed, limit=150, day="2024-03-04")
    entries = link.client.xrange("p")
    t = np.array([int(f["time"]) for _, f in entries])
    sent = np.array([int(f["producer_ns"]) for _, f in entries])
    assert np.all(sent - sent[0] >= (t - t[0]) / speed - 1e6)  # 1 ms for the clock reads around the sleep
    assert (sent[-1] - sent[0]) >= (t[-1] - t[0]) / speed - 1e6 > 0


def test_parse_speed():
    assert parse_speed("max") is None and parse_speed(None) is None
    assert parse_speed("1x") == 1.0 and parse_speed("10x") == 10.0 and parse_speed("0.5") == 0.5
    with pytest.raises(ValueError, match=r"--speed: expected 'max' or a factor"):
        parse_speed("fast")
    with pytest.raises(ValueError, match=r"--speed"):
        parse_speed("0x")


@given(st.dates(dt.date(1970, 1, 2), dt.date(2200, 1, 1)), st.integers(0, 10**9),
       st.dates(dt.date(1970, 1, 2), dt.date(2200, 1, 1)), st.integers(0, 10**9))  # fmt: skip
def test_id_scheme_round_trip_and_order(d1, p1, d2, p2):
    a, b = entry_id(d1, p1), entry_id(d2, p2)
    assert position_of(a) == (d1, p1) and position_of(b) == (d2, p2)
    assert (id_key(a) < id_key(b)) == ((d1, p1) < (d2, p2))


def test_amzn_sample_round_trip(link, shared_data):
    path = shared_data / "lobster" / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip"
    s = replay(path, "amzn", link=link, limit=3000)
    df = load_lobster(path).iloc[:3000]
    assert s.sent == 3000 and s.first_id == "1340236800000-1"
    assert_entries_match_frame(link.client.xrange("amzn"), df)


@pytest.mark.parametrize("bad", ["1-", "-1", "a-1", "1-2-3", "\u0661-1", "", "1"])
def test_malformed_entry_ids_are_refused(bad):
    with pytest.raises(ValueError, match=r"entry id: expected '<ms>-<seq>'"):
        id_key(bad)
    with pytest.raises(ValueError, match=r"entry id: expected"):
        position_of(bad)
    with pytest.raises(ValueError, match=r"signalbench replay ids"):
        position_of("1000-1")  # not a midnight
