"""What a consumer takes over when it starts or after an outage: its own pending entries and dead consumers'.

The group has one consumer at a time (the features are one sequential state over the stream). On start, and after
every Redis outage, the consumer collects, in id order:

- the delivery count of every pending entry of the group (``XPENDING`` with a range, before re-reading them);
- its own pending entries, re-read with ``XREADGROUP ... 0`` (a deleted entry comes back without fields);
- the pending entries of other consumers (a previous run under another name) with ``XAUTOCLAIM``, for those idle
  at least ``claim_idle`` seconds; younger ones are waited for, so no entry is processed out of order.

(``docs/architecture.md``, "Streaming".)
"""

from __future__ import annotations

import logging
import time

from signalbench.streaming._redis import RedisLink
from signalbench.streaming.codec import id_key

__all__ = ["Pending", "take_over"]

log = logging.getLogger("signalbench.streaming")

Entry = tuple[str, dict[str, str]]


class Pending:
    """The entries to re-process, in id order, with their delivery counts (this delivery included)."""

    def __init__(self, entries: list[Entry], deliveries: dict[str, int], deleted: list[str]) -> None:
        self.entries = sorted(entries, key=lambda e: id_key(e[0]))
        self.deliveries = deliveries
        self.deleted = deleted


def _delivery_counts(link: RedisLink, stream: str, group: str, page: int = 1000) -> dict[str, int]:
    counts: dict[str, int] = {}
    start = "-"
    while True:
        rows = link.call("XPENDING", link.client.xpending_range, stream, group, start, "+", page)
        for r in rows:
            counts[r["message_id"]] = int(r["times_delivered"])
        if len(rows) < page:
            return counts
        start = "(" + rows[-1]["message_id"]


def _own(link: RedisLink, stream: str, group: str, me: str, page: int = 1000) -> list[Entry]:
    out: list[Entry] = []
    start = "0"
    while True:
        resp = link.call("XREADGROUP 0", link.client.xreadgroup, group, me, {stream: start}, count=page)
        batch = resp[0][1] if resp else []
        out += [(eid, fields or {}) for eid, fields in batch]
        if len(batch) < page:
            return out
        start = batch[-1][0]


def _others_pending(link: RedisLink, stream: str, group: str, me: str) -> int:
    summary = link.call("XPENDING", link.client.xpending, stream, group)
    return sum(int(c["pending"]) for c in summary.get("consumers") or [] if c["name"] != me)


def _claim(link: RedisLink, stream: str, group: str, me: str, claim_idle: float) -> tuple[list[Entry], list[str]]:
    entries: list[Entry] = []
    deleted: list[str] = []
    waited = False
    while True:
        cursor = "0-0"
        while True:
            resp = link.call("XAUTOCLAIM", link.client.xautoclaim, stream, group, me, int(claim_idle * 1000), cursor,
                             count=1000)  # fmt: skip
            cursor, claimed = resp[0], resp[1]
            deleted += list(resp[2]) if len(resp) > 2 else []
            entries += [(eid, fields or {}) for eid, fields in claimed]
            if cursor == "0-0":
                break
        left = _others_pending(link, stream, group, me)
        if not left:
            return entries, deleted
        if not waited:
            log.warning("%d pending entries of other consumers of group %s are younger than --claim-idle %gs; "
                        "waiting to claim them (one consumer per group)", left, group, claim_idle)  # fmt: skip
            waited = True
        time.sleep(min(0.5, max(claim_idle / 4, 0.05)))


def take_over(link: RedisLink, stream: str, group: str, me: str, claim_idle: float = 0.0) -> Pending:
    """Collect the entries to re-process (see the module docstring).

    Parameters
    ----------
    link : RedisLink
        The connection.
    stream, group, me : str
        The stream, the consumer group and this consumer's name.
    claim_idle : float, default 0.0
        Claim another consumer's pending entry only when it has been idle this many seconds.

    Returns
    -------
    Pending
    """
    counts = _delivery_counts(link, stream, group)
    own = _own(link, stream, group, me)
    claimed, deleted = _claim(link, stream, group, me, claim_idle)
    deliveries = {eid: counts.get(eid, 0) + 1 for eid, _ in own + claimed}
    return Pending(own + claimed, deliveries, deleted)
