"""Assemble a consumer from a saved model and a stream: processor, sink identity, metrics (``stream infer``).

``docs/architecture.md``, "Streaming".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from signalbench._validation import integer, number
from signalbench.streaming._redis import RedisLink
from signalbench.streaming.consumer import Consumer, InferConfig
from signalbench.streaming.metrics import Metrics
from signalbench.streaming.processor import ModelProcessor, Processor
from signalbench.streaming.replay import meta_key
from signalbench.streaming.sink import ParquetSink

__all__ = ["build_consumer", "sink_identity"]


def sink_identity(processor: Processor, cfg: InferConfig, stream_meta: dict[str, str], **extra: Any) -> dict[str, Any]:
    """What the manifest records: model, run folder, source data, stream, group, mode, backend, feature sets."""
    model_dir = getattr(processor, "model_dir", None)
    run_dir = model_dir.parent.parent if model_dir is not None and (model_dir.parent.parent / "config.json").is_file() \
        else None  # fmt: skip
    return {
        "model": str(model_dir) if model_dir is not None else processor.name,
        "model_name": processor.name,
        "run_dir": str(run_dir) if run_dir is not None else None,
        "source": stream_meta.get("source"),
        "levels": int(stream_meta["levels"]) if stream_meta.get("levels", "None") != "None" else None,
        "stream": cfg.stream, "out": cfg.out, "group": cfg.group, "dead_letters": cfg.dead,
        "mode": processor.mode, "backend": processor.backend,
        "features": list(getattr(processor, "feature_sets", []) or []),
        "classes": [c.item() if hasattr(c, "item") else c for c in processor.classes],
        "id_scheme": "<day epoch ms>-<pos+1>",
        **extra,
    }  # fmt: skip


def build_consumer(args) -> Consumer:
    """A :class:`Consumer` from ``signalbench stream infer``'s parsed arguments."""
    cfg = InferConfig(
        stream=args.stream, out=args.out, group=args.group, consumer=args.consumer,
        max_deliveries=integer(args.max_deliveries, "--max-deliveries", minimum=1),
        claim_idle=number(args.claim_idle, "--claim-idle", low=0.0),
        exit_at_end=args.exit_at_end, idle_exit=args.idle_exit,
    )  # fmt: skip
    if args.backend == "torch":
        import torch

        torch.set_num_threads(integer(args.torch_threads, "--torch-threads", minimum=1))
    link = RedisLink(args.redis, retry_for=args.retry_for)
    link.ping()
    meta = link.call("HGETALL", link.client.hgetall, meta_key(cfg.stream))
    levels = int(meta["levels"]) if meta.get("levels", "None") != "None" else 1
    processor = ModelProcessor(Path(args.model), mode=args.mode, backend=args.backend, feature_sets=args.features,
                               levels=levels)  # fmt: skip
    sink = ParquetSink(args.sink, sink_identity(processor, cfg, meta),
                       batch_size=integer(args.batch_size, "--batch-size", minimum=1),
                       flush_interval=number(args.flush_interval, "--flush-interval", low=0.0))  # fmt: skip
    metrics = Metrics(interval=args.metrics_interval)
    return Consumer(link, processor, sink, cfg, metrics)
