"""What a stream entry holds: the entry-id scheme and the encoding of one order-book event.

Entry ids (``docs/architecture.md``, "Streaming")
-------------------------------------------------
The event at row position ``pos`` (0-based) of trading day ``day`` in the replayed file gets the id
``<day epoch ms>-<pos + 1>``: the millisecond part is the day's midnight as milliseconds since 1970-01-01 (the date
read as UTC; LOBSTER times are exchange-local and naive), the sequence part is the position plus one. Ids increase
with the position within a day and from one day to the next, a replay of the same file always gives the same ids,
and an id says which event it is (:func:`position_of`). The predictions stream reuses the event's id, so publishing
a prediction twice is refused by Redis.

Fields
------
``pos`` (int), ``time`` (the event timestamp, int nanoseconds since the epoch of the naive exchange-local time),
``day`` (``YYYY-MM-DD``), ``producer_ns`` (int unix nanoseconds when the producer sent it), then every column of
:func:`signalbench.load_lobster`'s frame by name (``type, order_id, size, price, direction, halt, ask_price_1, ...``;
``halt`` as 0/1, floats written with ``repr`` so they read back bit for bit, an empty level as ``nan``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "META_FIELDS",
    "EventMeta",
    "day_ms",
    "encode_rows",
    "entry_id",
    "id_key",
    "next_id",
    "parse_meta",
    "position_of",
]

#: The fields every entry carries besides the frame's columns.
META_FIELDS = ("pos", "time", "day", "producer_ns")
_EPOCH = dt.date(1970, 1, 1)
_INT64 = (-(2**63), 2**63 - 1)


def day_ms(day: dt.date | pd.Timestamp | str) -> int:
    """Milliseconds from 1970-01-01 to the midnight of ``day`` (the id's millisecond part)."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    elif isinstance(day, pd.Timestamp | dt.datetime):
        day = day.date()
    return (day - _EPOCH).days * 86_400_000


def entry_id(day: dt.date | pd.Timestamp | str, pos: int) -> str:
    """The stream entry id of the event at row position ``pos`` (0-based) of ``day``: ``<day epoch ms>-<pos+1>``."""
    return f"{day_ms(day)}-{int(pos) + 1}"


def id_key(entry: str) -> tuple[int, int]:
    """``(ms, seq)`` of a Redis entry id, for ordering (ids compare as number pairs, not as strings)."""
    ms, dash, seq = entry.partition("-")
    if not (dash and ms.isascii() and ms.isdigit() and seq.isascii() and seq.isdigit()):
        raise ValueError(f"entry id: expected '<ms>-<seq>', got {entry!r}")
    return int(ms), int(seq)


def next_id(entry: str) -> str:
    """The smallest id after ``entry`` (for ``XTRIM MINID`` and exclusive ranges)."""
    ms, seq = id_key(entry)
    return f"{ms}-{seq + 1}"


def position_of(entry: str) -> tuple[dt.date, int]:
    """``(day, pos)`` that an id of this scheme names (inverse of :func:`entry_id`)."""
    ms, seq = id_key(entry)
    if ms % 86_400_000 or seq < 1:
        raise ValueError(f"entry id: expected '<day epoch ms>-<pos + 1>' (signalbench replay ids), got {entry!r}")
    return _EPOCH + dt.timedelta(days=ms // 86_400_000), seq - 1


def _column_text(values: np.ndarray) -> list[str]:
    if values.dtype == bool:
        return ["1" if v else "0" for v in values]
    if values.dtype.kind in "iu":
        return [str(v) for v in values.tolist()]
    if values.dtype.kind == "f":
        return [repr(v) for v in values.tolist()]
    if values.dtype.kind == "M":
        return [str(v)[:10] for v in values.astype("datetime64[D]")]
    return [str(v) for v in values.tolist()]


def encode_rows(day_frame: pd.DataFrame, start: int = 0) -> list[tuple[str, dict[str, str]]]:
    """``(entry id, fields)`` of the rows ``start..`` of one day's frame (``producer_ns`` is added when sent).

    Parameters
    ----------
    day_frame : pandas.DataFrame
        One trading day of :func:`signalbench.load_lobster`'s frame (row position = the event's ``pos``).
    start : int, default 0
        The first position to encode.
    """
    part = day_frame.iloc[start:]
    day = pd.Timestamp(day_frame["day"].iloc[0])
    base = day_ms(day)
    times = part.index.asi8.tolist()
    columns = {name: _column_text(part[name].to_numpy()) for name in part.columns}
    names = list(columns)
    out = []
    for k in range(len(part)):
        pos = start + k
        fields = {"pos": str(pos), "time": str(times[k]), "day": day.strftime("%Y-%m-%d")}
        for name in names:
            fields[name] = columns[name][k]
        out.append((f"{base}-{pos + 1}", fields))
    return out


class EventMeta:
    """The position of one event: its day, ``pos``, ``time`` (ns) and the producer's send time (ns)."""

    __slots__ = ("day", "pos", "producer_ns", "time")

    def __init__(self, day: str, pos: int, time: int, producer_ns: int) -> None:
        self.day, self.pos, self.time, self.producer_ns = day, pos, time, producer_ns


def _int_field(fields: Mapping[str, Any], name: str) -> int:
    if name not in fields:
        raise ValueError(f"{name}: expected the field in the entry, got an entry without it")
    raw = fields[name]
    try:
        return int(raw)
    except (TypeError, ValueError):
        pass
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected an integer, got {raw!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise ValueError(f"{name}: expected an integer, got {raw!r}")
    return int(value)


def _int64_field(fields: Mapping[str, Any], name: str, low: int = _INT64[0]) -> int:
    value = _int_field(fields, name)
    if not low <= value <= _INT64[1]:
        raise ValueError(f"{name}: expected an integer in [{low}, {_INT64[1]}] (int64), got {fields[name]!r}")
    return value


def parse_meta(fields: Mapping[str, Any]) -> EventMeta:
    """The :data:`META_FIELDS` of an entry, checked; ValueError naming the field when missing or malformed.

    ``pos``, ``time`` and ``producer_ns`` are integers within int64 (``pos >= 0``), ``day`` a date ``YYYY-MM-DD``.
    """
    pos = _int64_field(fields, "pos", low=0)
    time = _int64_field(fields, "time")
    producer_ns = _int64_field(fields, "producer_ns")
    if "day" not in fields:
        raise ValueError("day: expected the field in the entry, got an entry without it")
    day = fields["day"]
    try:
        dt.date.fromisoformat(day)
    except (TypeError, ValueError):
        raise ValueError(f"day: expected a date YYYY-MM-DD, got {day!r}") from None
    return EventMeta(day, pos, time, producer_ns)
