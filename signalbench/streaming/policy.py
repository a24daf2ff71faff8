"""What the consumer does with one entry, without Redis I/O: check, apply, roll back, or give the dead-letter reason.

:class:`EntryPolicy` holds the consumer's position and the processor (online features + model stepper). For each
entry, in id order, :meth:`EntryPolicy.decide` returns a :class:`Decision`:

- ``settled``: at or before the last flushed id (already in the sink): acknowledge only;
- ``skip``: handled already in this run (re-read after an outage): nothing to do, it is acknowledged with its batch;
- ``dead``: with the reason (delivered more than ``max_deliveries`` times, deleted while pending, a field that fails
  :class:`~signalbench.streaming.entrycheck.EntryCheck` or the processor's check, out of order, or processing that
  failed); the state is as before the entry;
- ``row``: the prediction row (:func:`signalbench.streaming.rows.prediction_row`).

**Nothing a bad entry does stays in the state.** Every field is checked before any state changes. Should processing
still fail (the model raises, or returns other than one finite probability per class or all NaN), the state is
restored to what it was before the entry: the policy keeps the state of the last checkpoint (:meth:`checkpoint`,
taken at each flush) and the events processed since, and replays them onto it (processing is deterministic: that is
what makes a restart from a checkpoint exact). This costs nothing per event and at most one batch of steps on a
failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from signalbench.streaming.codec import EventMeta, id_key
from signalbench.streaming.entrycheck import EntryCheck
from signalbench.streaming.processor import Processor
from signalbench.streaming.rows import prediction_row

__all__ = ["DELETED", "Decision", "EntryPolicy"]

#: The dead-letter reason of an entry deleted from the stream while pending.
DELETED = "entry deleted from the stream while pending (trimmed?)"


@dataclass(frozen=True)
class Decision:
    """``kind`` is ``"settled"``, ``"skip"``, ``"dead"`` (with ``reason``) or ``"row"`` (with ``row``)."""

    kind: str
    reason: str = ""
    row: dict[str, Any] | None = None


_SETTLED, _SKIP = Decision("settled"), Decision("skip")


class EntryPolicy:
    """The per-entry rule of the consumer (see the module docstring).

    Parameters
    ----------
    processor : Processor
        Event fields -> probabilities; its state is what a bad entry must never change.
    max_deliveries : int, default 5
        An entry delivered more times than this is dead-lettered without processing.
    levels : int, optional
        The book levels every entry must have (the stream's and the model's depth); None: not checked.
    """

    def __init__(self, processor: Processor, *, max_deliveries: int = 5, levels: int | None = None) -> None:
        self.processor = processor
        self.max_deliveries = max_deliveries
        self.check = EntryCheck(levels)
        self.position: dict[str, Any] | None = None  # the last processed event: id, day, pos, time
        self.seen: str | None = None  # the last entry handled in any way
        self._base = processor.get_state()
        self._since: list[tuple[np.ndarray, bool]] = []  # (event, new day) processed since _base

    def restore(self, state: Mapping[str, np.ndarray], position: Mapping[str, Any]) -> None:
        """Continue from a checkpoint: the processor's state and the position saved with it."""
        self.processor.set_state(state)
        self._base, self._since = self.processor.get_state(), []
        self.position = dict(position)
        self.seen = self.position["id"]

    def checkpoint(self) -> dict[str, np.ndarray]:
        """The processor's state now (for the sink); a later failure rolls back to it plus the events after it."""
        self._base, self._since = self.processor.get_state(), []
        return self._base

    def decide(self, eid: str, fields: Mapping[str, str], *, deliveries: int = 1, received_ns: int = 0,
               flushed_id: str | None = None) -> Decision:  # fmt: skip
        """What to do with entry ``eid`` (see the module docstring); ``flushed_id``: the sink's last id."""
        key = id_key(eid)
        if flushed_id is not None and key <= id_key(flushed_id):
            return _SETTLED
        if self.seen is not None and key <= id_key(self.seen):
            return _SKIP
        self.seen = eid
        if deliveries > self.max_deliveries:
            return Decision("dead", f"delivered {deliveries} times (--max-deliveries {self.max_deliveries})")
        if not fields:
            return Decision("dead", DELETED)
        try:
            meta = self.check(fields)
            x = self.processor.check(fields)
            new_day = self._new_day(meta)
        except ValueError as exc:
            return Decision("dead", str(exc))
        try:
            probs, feature_us, model_us = self._apply(x, new_day)
        except Exception as exc:  # a model that fails on one event: undo it, dead-letter it, keep running
            self._roll_back()
            return Decision("dead", f"processing failed: {type(exc).__name__}: {exc}")
        self._since.append((x, new_day))
        self.position = {"id": eid, "day": meta.day, "pos": meta.pos, "time": meta.time}
        p = self.processor
        return Decision("row", row=prediction_row(eid, meta.pos, meta.time, probs, p.classes, mode=p.mode,
                                                  backend=p.backend, model=p.name, feature_us=feature_us,
                                                  model_us=model_us, producer_ns=meta.producer_ns,
                                                  received_ns=received_ns))  # fmt: skip

    def _apply(self, x: np.ndarray, new_day: bool) -> tuple[np.ndarray, float, float]:
        if new_day:
            self.processor.reset()
        probs, feature_us, model_us = self.processor.process(x)
        probs = np.asarray(probs, dtype=np.float64)
        n = len(self.processor.classes)
        total = float(np.add.reduce(probs)) if probs.shape == (n,) else np.nan
        if not (total - total == 0.0 or (probs.shape == (n,) and np.isnan(probs).all())):  # finite sum: all finite
            raise ValueError(f"probabilities: expected {n} finite values (or all nan), got {probs.tolist()!r}")
        return probs, feature_us, model_us

    def _roll_back(self) -> None:
        """The state before the failed entry: the last checkpoint's, then every event processed since."""
        self.processor.set_state(self._base)
        for x, new_day in self._since:
            if new_day:
                self.processor.reset()
            self.processor.process(x)

    def _new_day(self, meta: EventMeta) -> bool:
        """True at a new day; ValueError when the event is before the last processed one."""
        last = self.position
        if last is None:
            return False
        if meta.day < last["day"]:
            raise ValueError(f"day: expected {last['day']} or later (events in order), got {meta.day}; out of order")
        if meta.day > last["day"]:
            return True
        if meta.pos <= last["pos"]:
            raise ValueError(f"pos: expected > {last['pos']} (the last processed event of {meta.day}), "
                             f"got {meta.pos}; out of order")  # fmt: skip
        if meta.time < last["time"]:
            raise ValueError(f"time: expected >= {last['time']} (the last processed event's time), got {meta.time}; "
                             "out of order")  # fmt: skip
        return False
