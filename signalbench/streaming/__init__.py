"""Streaming inference: replay order-book events through Redis Streams, predict per event, sink to Parquet.

An orchestrator (``docs/architecture.md``, "Streaming"): it may import every stage; no stage imports it. Needs the
``streaming`` extra (the ``redis`` client): ``pip install 'signalbench[streaming]'``.

- :func:`signalbench.streaming.replay.replay` (``signalbench stream replay``; not re-exported, the module has its
  name): a LOBSTER day into a stream, ids ``<day epoch ms>-<pos+1>``.
- :class:`Consumer`, :class:`InferConfig` (``signalbench stream infer``): consumer group, checkpointed restarts,
  dead letters, capped back-off; :class:`EntryPolicy` (the per-entry rule, no I/O: every field checked by
  :class:`EntryCheck` before any state changes, a failure rolled back, the dead-letter reason);
  :class:`ModelProcessor` (online features + model stepper) and the :class:`Processor` protocol it implements.
- :class:`ParquetSink`, :func:`read_sink`: crash-safe Parquet batches listed in ``manifest.json``.
- :class:`Metrics`: live throughput and latency percentiles. :class:`RedisLink`: the connection and retry policy.
- :func:`safe_trim_id`, :func:`trim_behind_groups`: backpressure behind the slowest group.
- :func:`evaluate` (``signalbench stream evaluate``) -> :class:`StreamEvaluation`: a sink scored against the
  realised labels (accuracy, macro-F1, calibration, latency percentiles, throughput); ``evaluation.json`` and
  ``evaluation.html``.
"""

from __future__ import annotations

from signalbench._lazy import lazy_exports

_EXPORTS = {
    "parse_speed": "signalbench.streaming.replay",
    "ReplaySummary": "signalbench.streaming.replay",
    "Consumer": "signalbench.streaming.consumer",
    "InferConfig": "signalbench.streaming.consumer",
    "EntryPolicy": "signalbench.streaming.policy",
    "EntryCheck": "signalbench.streaming.entrycheck",
    "Processor": "signalbench.streaming.processor",
    "ModelProcessor": "signalbench.streaming.processor",
    "ParquetSink": "signalbench.streaming.sink",
    "SinkMismatch": "signalbench.streaming.sink",
    "read_sink": "signalbench.streaming.sink",
    "Metrics": "signalbench.streaming.metrics",
    "RedisLink": "signalbench.streaming._redis",
    "RedisUnavailable": "signalbench.streaming._redis",
    "safe_trim_id": "signalbench.streaming.backpressure",
    "trim_behind_groups": "signalbench.streaming.backpressure",
    "entry_id": "signalbench.streaming.codec",
    "position_of": "signalbench.streaming.codec",
    "evaluate": "signalbench.streaming.analytics",
    "StreamEvaluation": "signalbench.streaming.analytics",
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
