"""The producer: replay a LOBSTER day into a Redis Stream, in order, at the recorded pace or as fast as possible.

``signalbench stream replay LOBSTER_PATH --stream lob:events [--speed 1x|10x|max]`` (``docs/architecture.md``,
"Streaming"). Each entry holds one event and the book after it (every column of
:func:`signalbench.load_lobster`), its position, time and the producer's send time, under the id
``<day epoch ms>-<pos + 1>`` (:mod:`signalbench.streaming.codec`). Entries go out in pipelined ``XADD`` batches:
with ``speed=None`` ("max") back to back; otherwise each event when its recorded time since the day's first replayed
event, divided by ``speed``, has passed (events that are due together share a batch).

Stream metadata lives in the hash ``<stream>:meta``: ``source`` (absolute path), ``levels``, ``ticker``, ``days``,
``limit``, ``events``, ``id_scheme``, ``first_id``, ``last_id`` and ``done`` (1 once every event is in the stream).

Replaying again into the same stream continues after its last entry: ids already there are skipped (so a producer
that was interrupted can simply be started again, and a finished replay adds nothing). Replaying a different source
into a stream that holds another one is a ValueError.

Backpressure (``max_len``): before each batch the producer trims acknowledged entries (``XTRIM MINID ~`` behind the
slowest group, :mod:`signalbench.streaming.backpressure`) and waits while the slowest group's backlog (pending plus
not yet delivered entries) is ``max_len`` or more. With no consumer group nothing is acknowledged: it waits for one.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from signalbench._validation import expected, integer, number
from signalbench.data import load_lobster
from signalbench.streaming._redis import RedisLink
from signalbench.streaming.backpressure import trim_behind_groups
from signalbench.streaming.codec import encode_rows, id_key

__all__ = ["ReplaySummary", "meta_key", "parse_speed", "replay"]

log = logging.getLogger("signalbench.streaming")


def meta_key(stream: str) -> str:
    """The hash that holds a stream's replay metadata: ``<stream>:meta``."""
    return f"{stream}:meta"


def parse_speed(text: str | float | None) -> float | None:
    """``"max"`` -> None (as fast as possible); ``"10x"``, ``"0.5x"``, ``"10"`` or 10.0 -> the factor (> 0)."""
    if text is None or (isinstance(text, str) and text.strip().lower() == "max"):
        return None
    raw = text.strip().lower().removesuffix("x") if isinstance(text, str) else text
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(expected("--speed", "'max' or a factor such as 1x, 10x, 0.5x", text)) from None
    return number(value, "--speed", low=0.0, low_open=True)


@dataclass
class ReplaySummary:
    """What a replay did: entries sent, entries skipped (already in the stream), days, seconds, waits."""

    stream: str
    sent: int
    skipped: int
    days: list[str]
    first_id: str | None
    last_id: str | None
    seconds: float
    backpressure_waits: int = 0

    @property
    def events_per_second(self) -> float:
        """Entries sent per second of wall time."""
        return self.sent / self.seconds if self.seconds > 0 else float("nan")


def _day_frames(df: pd.DataFrame, day: str | None, limit: int | None) -> list[pd.DataFrame]:
    frames = [g for _, g in df.groupby("day", sort=True)]
    if day is not None:
        frames = [g for g in frames if str(pd.Timestamp(g["day"].iloc[0]).date()) == day]
        if not frames:
            known = ", ".join(str(pd.Timestamp(g["day"].iloc[0]).date()) for _, g in df.groupby("day"))
            raise ValueError(expected("--day", f"one of the file's days ({known})", day))
    return [g.iloc[:limit] if limit is not None else g for g in frames]


def _check_meta(link: RedisLink, stream: str, meta: dict[str, str]) -> None:
    old = link.call("HGETALL", link.client.hgetall, meta_key(stream))
    for name in ("source", "levels", "days", "limit"):
        if old and old.get(name) != meta[name]:
            raise ValueError(
                expected("--stream", f"a stream replaying {meta['source']} ({name}={meta[name]})",
                         f"{stream!r}, which holds a replay with {name}={old.get(name)}", raw=True,
                         hint="replay into a new stream name, or delete the stream and its :meta key first")
            )  # fmt: skip
    link.call("HSET", link.client.hset, meta_key(stream), mapping={**meta, "done": old.get("done", "0")})


def _last_id(link: RedisLink, stream: str) -> tuple[int, int] | None:
    if not link.call("EXISTS", link.client.exists, stream):
        return None
    return id_key(link.call("XINFO STREAM", link.client.xinfo_stream, stream)["last-generated-id"])


def _send(link: RedisLink, stream: str, batch: list[tuple[str, dict[str, str]]]) -> None:
    """One pipelined XADD per entry; an id already there (a retry after an outage) is not an error."""

    def attempt():
        pipe = link.client.pipeline(transaction=False)
        now = str(time.time_ns())
        for eid, fields in batch:
            pipe.xadd(stream, {**fields, "producer_ns": now}, id=eid)
        for res in pipe.execute(raise_on_error=False):
            if isinstance(res, Exception) and "equal or smaller" not in str(res):
                raise res

    link.call("XADD batch", attempt)


def backlog(link: RedisLink, stream: str) -> int:
    """Entries the slowest group has not acknowledged (pending + not yet delivered); the length without a group."""
    groups = link.call("XINFO GROUPS", link.client.xinfo_groups, stream) if _last_id(link, stream) else []
    if not groups:
        return int(link.call("XLEN", link.client.xlen, stream))
    worst = 0
    for g in groups:
        lag = g.get("lag")
        if lag is None:  # Redis cannot tell after deletions: count the entries after the last delivered one
            lag = len(link.call("XRANGE", link.client.xrange, stream, f"({g['last-delivered-id']}", "+"))
        worst = max(worst, int(g["pending"]) + int(lag))
    return worst


def _wait_for_room(link: RedisLink, stream: str, max_len: int) -> int:
    """Trim acknowledged entries, then wait while the backlog is >= max_len; return how many waits it took."""
    waits = 0
    last_log = 0.0
    while True:
        if link.call("XLEN", link.client.xlen, stream) > max_len:
            trim_behind_groups(link, stream)
        pending = backlog(link, stream)
        if pending < max_len:
            return waits
        if time.monotonic() - last_log > 5.0:
            log.info("backpressure: %s holds %d unacknowledged entries (--max-len %d); waiting for the consumers",
                     stream, pending, max_len)  # fmt: skip
            last_log = time.monotonic()
        waits += 1
        time.sleep(0.05)


def _paced_end(times: list[int], i: int, day_start: tuple[float, int], speed: float | None, batch: int) -> int:
    """The end of the batch starting at ``i``: every event due by now (at least one), at most ``batch``."""
    if speed is None:
        return min(len(times), i + batch)
    wall0, t0 = day_start
    due = wall0 + (times[i] - t0) / speed / 1e9
    delay = due - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    now_t = t0 + (time.monotonic() - wall0) * speed * 1e9
    j = i + 1
    while j < len(times) and j - i < batch and times[j] <= now_t:
        j += 1
    return j


def replay(
    source: str | os.PathLike,
    stream: str = "lob:events",
    *,
    link: RedisLink,
    speed: float | None = None,
    levels: int | None = None,
    day: str | None = None,
    limit: int | None = None,
    batch: int = 500,
    max_len: int | None = None,
) -> ReplaySummary:
    """Put the events of a LOBSTER file into ``stream``, in order (see the module docstring).

    Parameters
    ----------
    source : path
        Anything :func:`signalbench.load_lobster` reads (a zip, a folder, a pair of CSV files).
    stream : str, default "lob:events"
        The stream key.
    link : RedisLink
        The connection (with its retry policy).
    speed : float, optional
        Replay at the recorded pace times ``speed`` (1.0 = real time); None: as fast as possible.
    levels : int, optional
        Book levels to keep (default: all in the file).
    day : str, optional
        Only this trading day (``YYYY-MM-DD``); default every day in the file, in date order.
    limit : int, optional
        Only the first ``limit`` events of each day.
    batch : int, default 500
        Entries per pipelined ``XADD`` batch.
    max_len : int, optional
        Backpressure: keep at most about this many unacknowledged entries in the stream (module docstring).

    Returns
    -------
    ReplaySummary
    """
    limit = integer(limit, "--limit", minimum=1, allow_none=True)
    batch = integer(batch, "--batch", minimum=1)
    max_len = integer(max_len, "--max-len", minimum=1, allow_none=True)
    df = load_lobster(source, levels=levels)
    frames = _day_frames(df, day, limit)
    days = [str(pd.Timestamp(g["day"].iloc[0]).date()) for g in frames]
    meta = {
        "source": str(Path(source).resolve()), "levels": str(df.attrs.get("levels")),
        "ticker": str(df.attrs.get("ticker")),
        "days": ",".join(days), "limit": str(limit), "events": str(sum(len(g) for g in frames)),
        "id_scheme": "<day epoch ms>-<pos+1>", "columns": ",".join(df.columns),
    }  # fmt: skip
    _check_meta(link, stream, meta)
    last = _last_id(link, stream)
    summary = ReplaySummary(stream, 0, 0, days, None, None, 0.0)
    started = time.monotonic()
    for frame in frames:
        _replay_day(link, stream, frame, last, speed, batch, max_len, summary)
    summary.seconds = time.monotonic() - started
    link.call("HSET", link.client.hset, meta_key(stream), mapping={"done": "1", "last_id": summary.last_id or ""})
    return summary


def _replay_day(link, stream, frame, last, speed, batch, max_len, summary: ReplaySummary) -> None:
    entries = encode_rows(frame)
    skip = 0 if last is None else sum(1 for eid, _ in entries if id_key(eid) <= last)
    summary.skipped += skip
    summary.first_id = summary.first_id or entries[0][0]
    summary.last_id = entries[-1][0]
    entries = entries[skip:]
    times = [int(f["time"]) for _, f in entries]
    i = 0
    day_start = (time.monotonic(), times[0]) if times else (0.0, 0)
    while i < len(entries):
        j = _paced_end(times, i, day_start, speed, batch)
        if max_len is not None:
            summary.backpressure_waits += _wait_for_room(link, stream, max_len)
        _send(link, stream, entries[i:j])
        summary.sent += j - i
        i = j
