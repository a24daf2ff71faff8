"""The inference consumer: read events through a consumer group, predict, publish, sink, acknowledge.

``signalbench stream infer --model RUN_DIR/models/NAME --in lob:events --out lob:predictions --sink DIR``
(``docs/architecture.md``, "Streaming"). The protocol, per read batch (``XREADGROUP ... >``):

1. each entry goes through the per-entry policy (:class:`~signalbench.streaming.policy.EntryPolicy`, no I/O): every
   field checked before any state changes, in order by day/pos/time (else it goes to ``<in>:dead`` with the reason
   and is acknowledged), the features updated and the model stepped (a new day resets both), the state rolled back
   if processing fails;
2. the predictions are published with one pipelined ``XADD <out>`` per event under the event's own id (a
   re-publish after a crash is refused by Redis: idempotent) and buffered in the sink;
3. when the sink is due (batch size or interval) it flushes the rows together with the checkpoint (features and
   model state, the position); only then are the flushed events acknowledged (``XACK``).

On start the checkpoint is restored and the pending entries taken over (:mod:`signalbench.streaming.recovery`):
entries at or before the checkpoint are acknowledged without reprocessing (they are in the sink), an entry delivered
more than ``max_deliveries`` times goes to the dead letters, the rest is processed in id order. The same take-over
runs after a Redis outage, so entries whose delivery reply was lost are not skipped; acknowledgements are retried
until Redis answers, and any still missing at a crash are made at the next start (the entries are then at or before
the checkpoint).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from signalbench.streaming._redis import RedisLink
from signalbench.streaming.codec import id_key
from signalbench.streaming.metrics import Metrics
from signalbench.streaming.policy import DELETED, EntryPolicy
from signalbench.streaming.processor import Processor
from signalbench.streaming.recovery import Pending, take_over
from signalbench.streaming.replay import meta_key
from signalbench.streaming.rows import stamp_published
from signalbench.streaming.sink import ParquetSink

__all__ = ["Consumer", "InferConfig", "ensure_group"]

log = logging.getLogger("signalbench.streaming")
_REFUSED = "equal or smaller"


@dataclass
class InferConfig:
    """The consumer's settings (CLI flags of ``signalbench stream infer``)."""

    stream: str = "lob:events"
    out: str = "lob:predictions"
    group: str = "signalbench"
    consumer: str = "consumer-1"
    max_deliveries: int = 5
    read_count: int = 500
    block_ms: int = 200
    claim_idle: float = 0.0
    out_max_len: int | None = None
    exit_at_end: bool = False
    idle_exit: float | None = None
    levels: int | None = None  # book levels every event must have (the stream's, from <stream>:meta)

    @property
    def dead(self) -> str:
        """The dead-letter stream: ``<in>:dead``."""
        return f"{self.stream}:dead"


class _Batch:
    """What one read batch produced: rows to publish and sink, dead letters, ids to acknowledge now."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.dead: list[tuple[str, dict[str, str], str, int]] = []
        self.settled: list[str] = []


class Consumer:
    """One consumer of a group (see the module docstring).

    Parameters
    ----------
    link : RedisLink
        The connection.
    processor : Processor
        Event fields -> probabilities (:class:`signalbench.streaming.processor.ModelProcessor`).
    sink : ParquetSink
        Where predictions and checkpoints go.
    config : InferConfig
        Names and settings.
    metrics : Metrics, optional
        Live metrics (default: a silent one).
    """

    def __init__(self, link: RedisLink, processor: Processor, sink: ParquetSink, config: InferConfig,
                 metrics: Metrics | None = None) -> None:  # fmt: skip
        self.link, self.r, self.processor, self.sink, self.cfg = link, link.client, processor, sink, config
        self.metrics = metrics if metrics is not None else Metrics(interval=None, live=False)
        self.policy = EntryPolicy(processor, max_deliveries=config.max_deliveries, levels=config.levels)
        self.stopping = False
        self._idle_since = time.monotonic()

    # ------------------------------------------------------------------------------------------------ start, run

    def start(self) -> None:
        """Connect, create the group (at id 0, MKSTREAM), restore the checkpoint, take over pending entries."""
        self.link.ping()
        self._ensure_group()
        state = self.sink.checkpoint()
        if state is not None:
            self.policy.restore(state, self.sink.position)
            at = self.policy.position
            log.info("restored the checkpoint at %s (pos %d of %s)", at["id"], at["pos"], at["day"])
        self.recover()

    def _ensure_group(self) -> None:
        ensure_group(self.link, self.cfg.stream, self.cfg.group)

    def recover(self) -> None:
        """Take over the pending entries (own and dead consumers') and process them in id order."""
        pending: Pending = take_over(self.link, self.cfg.stream, self.cfg.group, self.cfg.consumer,
                                     self.cfg.claim_idle)  # fmt: skip
        batch = _Batch()
        for eid in pending.deleted:
            batch.dead.append((eid, {}, DELETED, 0))
        received = time.time_ns()
        for eid, fields in pending.entries:
            self._handle(eid, fields, received, batch, pending.deliveries.get(eid, 1))
        self._finish(batch)
        if pending.entries:
            log.info("took over %d pending entries (%d acknowledged as already in the sink)",
                     len(pending.entries), len(batch.settled))  # fmt: skip

    def run(self) -> dict[str, Any]:
        """Start, then consume until stopped (``stopping``), idle (``idle_exit``) or at the end (``exit_at_end``).

        A stop between two read batches flushes the sink. An exception (Ctrl-C included) does not: it may have come
        between updating the state and buffering a row, so the checkpoint of the last flush is the one to restart
        from (as after a crash).
        """
        self.start()
        while not self.stopping:
            self.step()
            if self._done():
                break
        self.flush()
        self._backlog()
        self.metrics.tick(force=True)
        return self.metrics.snapshot()

    def step(self) -> int:
        """One read batch (blocking up to ``block_ms``): handle it, flush when due, report; entries read."""
        outages = self.link.outages
        count = max(1, min(self.cfg.read_count, self.sink.batch_size - len(self.sink)))
        block = max(1, min(self.cfg.block_ms, int(self.sink.flush_interval * 1000)))
        resp = self.link.call("XREADGROUP", self._read, count, block)
        if self.link.outages != outages:  # a reply may have been lost: re-read what is pending, in order
            self.recover()
            return 0
        entries = resp[0][1] if resp else []
        batch = _Batch()
        received = time.time_ns()
        for eid, fields in entries:
            self._handle(eid, fields, received, batch, 1)
        self._finish(batch)
        if entries:
            self._idle_since = time.monotonic()
        if self.sink.due():
            self.flush()
        if self.metrics.due():
            self._backlog()
            self.metrics.tick()
        return len(entries)

    def _read(self, count: int, block: int):
        try:
            return self.r.xreadgroup(self.cfg.group, self.cfg.consumer, {self.cfg.stream: ">"}, count=count,
                                     block=block)  # fmt: skip
        except Exception as exc:
            if "NOGROUP" not in str(exc):
                raise
            log.warning("group %s of %s is gone (Redis lost its data?); creating it again at id 0", self.cfg.group,
                        self.cfg.stream)  # fmt: skip
            self._ensure_group()
            return []

    def _backlog(self) -> None:
        """Refresh the metrics' consumer lag (entries not yet delivered) and pending entries (not acknowledged)."""
        try:
            groups = self.link.call("XINFO GROUPS", self.r.xinfo_groups, self.cfg.stream)
            for g in groups:
                if g["name"] == self.cfg.group:
                    lag = g.get("lag")
                    if lag is None:  # Redis cannot tell (after deletions): count what follows, up to 1000
                        lag = len(self.r.xrange(self.cfg.stream, f"({g['last-delivered-id']}", "+", count=1000))
                    self.metrics.lag, self.metrics.pending = lag, g.get("pending")
        except Exception as exc:  # metrics only: never stop the consumer for them
            log.debug("metrics: could not read the group's lag (%s)", exc)

    def _done(self) -> bool:
        if self.cfg.idle_exit is not None and time.monotonic() - self._idle_since >= self.cfg.idle_exit:
            return True
        if not self.cfg.exit_at_end:
            return False
        meta = self.link.call("HGETALL", self.r.hgetall, meta_key(self.cfg.stream))
        last = meta.get("last_id")
        seen = self.policy.seen
        return meta.get("done") == "1" and bool(last) and seen is not None and id_key(seen) >= id_key(last)

    # ------------------------------------------------------------------------------------------- one entry, a batch

    def _handle(self, eid: str, fields: dict[str, str], received: int, batch: _Batch, deliveries: int) -> None:
        flushed = self.sink.position
        decision = self.policy.decide(eid, fields, deliveries=deliveries, received_ns=received,
                                      flushed_id=flushed["id"] if flushed is not None else None)  # fmt: skip
        if decision.kind == "settled":
            batch.settled.append(eid)  # in the sink (or dead-lettered) before the checkpoint: acknowledge only
        elif decision.kind == "dead":
            batch.dead.append((eid, fields, decision.reason, deliveries))
        elif decision.kind == "row":
            batch.rows.append(decision.row)

    def _finish(self, batch: _Batch) -> None:
        """Dead letters, then publish the rows, then buffer them in the sink; acknowledge what is settled."""
        if batch.dead:
            self._dead_letters(batch.dead)
        if batch.rows:
            published = self._publish(batch.rows)
            for row in batch.rows:
                self.sink.add(stamp_published(row, published))
                self.metrics.record(row["feature_us"], row["model_us"], row["e2e_us"])
        acks = batch.settled + [d[0] for d in batch.dead]
        if acks:
            self._ack(acks)

    def _dead_letters(self, dead: list[tuple[str, dict[str, str], str, int]]) -> None:
        def attempt():
            pipe = self.r.pipeline(transaction=False)
            for eid, fields, reason, deliveries in dead:
                extra = {"dead:reason": reason, "dead:id": eid, "dead:stream": self.cfg.stream,
                         "dead:group": self.cfg.group, "dead:deliveries": str(deliveries)}  # fmt: skip
                pipe.xadd(self.cfg.dead, {**fields, **extra}, id=eid)
            _check(pipe.execute(raise_on_error=False))

        self.link.call("XADD dead letters", attempt)
        self.metrics.dead_letters += len(dead)
        for eid, _, reason, _ in dead:
            log.warning("dead letter %s -> %s: %s", eid, self.cfg.dead, reason)

    def _publish(self, rows: list[dict[str, Any]]) -> int:
        def attempt():
            pipe = self.r.pipeline(transaction=False)
            for row in rows:
                pipe.xadd(self.cfg.out, _published_fields(row), id=row["event_id"], maxlen=self.cfg.out_max_len,
                          approximate=True)  # fmt: skip
            _check(pipe.execute(raise_on_error=False))
            return time.time_ns()

        return self.link.call("XADD predictions", attempt)

    def _ack(self, ids: list[str]) -> None:
        for k in range(0, len(ids), 1000):
            self.link.call("XACK", self.r.xack, self.cfg.stream, self.cfg.group, *ids[k : k + 1000])

    def flush(self) -> None:
        """Flush the sink with the checkpoint, then acknowledge the flushed events."""
        if not len(self.sink):
            return
        ids = self.sink.flush(self.policy.checkpoint(), self.policy.position)
        self.metrics.batches += 1
        self._ack(ids)


def ensure_group(link: RedisLink, stream: str, group: str) -> None:
    """Create the consumer group at id 0 (and the stream: MKSTREAM) unless it exists."""
    try:
        link.call("XGROUP CREATE", link.client.xgroup_create, stream, group, id="0", mkstream=True)
    except Exception as exc:  # BUSYGROUP: it exists
        if "BUSYGROUP" not in str(exc):
            raise


def _check(results: list[Any]) -> None:
    """Raise the first error of a pipeline, except "id equal or smaller" (already written: idempotent)."""
    for res in results:
        if isinstance(res, Exception) and _REFUSED not in str(res):
            raise res


def _published_fields(row: dict[str, Any]) -> dict[str, str]:
    """``event_id``, ``pred`` (empty: no prediction), ``p_<class>``, ``mode``, ``latency_us`` (producer -> now).

    Few fields on purpose: packing each field costs the Python client time on every event (the sink has the rest).
    """
    out = {"event_id": row["event_id"], "pred": "" if row["pred"] is None else str(row["pred"])}
    out.update({k: repr(v) for k, v in row.items() if k.startswith("p_")})
    out["mode"] = row["mode"]
    out["latency_us"] = f"{(time.time_ns() - row['producer_ns']) / 1e3:.1f}"
    return out
