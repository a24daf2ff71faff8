"""Assemble a consumer from a saved model and a stream: processor, sink identity, metrics (``stream infer``).

A consumer may start before the replay: it waits for the stream's metadata (``<stream>:meta``: the data's book
levels and source) before it builds the online features, so its first prediction already uses the replayed depth,
and it refuses a stream of another depth than the model's run was fitted on. ``docs/architecture.md``, "Streaming".
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from signalbench._runfolder import run_of_model
from signalbench._validation import expected, integer, number
from signalbench.streaming._redis import RedisLink
from signalbench.streaming.consumer import Consumer, InferConfig, ensure_group
from signalbench.streaming.metrics import Metrics
from signalbench.streaming.processor import ModelProcessor, Processor, levels_of
from signalbench.streaming.replay import meta_key
from signalbench.streaming.sink import ParquetSink

__all__ = ["build_consumer", "sink_identity", "stream_levels", "wait_for_meta"]

log = logging.getLogger("signalbench.streaming")


def sink_identity(processor: Processor, cfg: InferConfig, stream_meta: dict[str, str], **extra: Any) -> dict[str, Any]:
    """What the manifest records: model, run folder, source data, stream, group, mode, backend, feature sets."""
    model_dir = getattr(processor, "model_dir", None)
    run_dir = run_of_model(model_dir) if model_dir is not None else None
    return {
        "model": str(model_dir) if model_dir is not None else processor.name,
        "model_name": processor.name,
        "run_dir": str(run_dir) if run_dir is not None else None,
        "source": stream_meta.get("source"),
        "ticker": stream_meta.get("ticker"),
        "days": stream_meta["days"].split(",") if stream_meta.get("days") else None,
        "levels": int(stream_meta["levels"]) if stream_meta.get("levels", "None") != "None" else None,
        "stream": cfg.stream, "out": cfg.out, "group": cfg.group, "dead_letters": cfg.dead,
        "mode": processor.mode, "backend": processor.backend,
        "features": list(getattr(processor, "feature_sets", []) or []),
        "classes": [c.item() if hasattr(c, "item") else c for c in processor.classes],
        "id_scheme": "<day epoch ms>-<pos+1>",
        **extra,
    }  # fmt: skip


def wait_for_meta(link: RedisLink, stream: str, timeout: float | None = None, poll: float = 0.2) -> dict[str, str]:
    """``<stream>:meta`` once the replay has written it (it holds ``levels``); wait up to ``timeout`` seconds.

    Raises
    ------
    ValueError
        No metadata after ``timeout`` seconds, naming the stream and what to start.
    """
    start = time.monotonic()
    waited = False
    while True:
        meta = link.call("HGETALL", link.client.hgetall, meta_key(stream))
        if meta.get("levels"):
            return meta
        if timeout is not None and time.monotonic() - start >= timeout:
            raise ValueError(expected("--in", f"a stream with replay metadata ({meta_key(stream)}: levels, source)",
                                      f"none after {timeout:g}s", at=stream, raw=True,
                                      hint="start `signalbench stream replay` into it"))  # fmt: skip
        if not waited:
            log.info("waiting for the replay's metadata in %s (book levels, source) before the first prediction",
                     meta_key(stream))  # fmt: skip
            waited = True
        time.sleep(poll)


def stream_levels(meta: dict[str, str], stream: str, model_dir: Path) -> int:
    """The book levels of the stream; ValueError when the model's run was fitted on another depth."""
    levels = integer(int(meta["levels"]), f"{meta_key(stream)} levels", minimum=1)
    fitted = levels_of(model_dir)
    if fitted is not None and fitted != levels:
        raise ValueError(expected(
            "--in", f"a stream of {fitted}-level books (the model's run was fitted on {fitted} level(s))",
            f"{stream} holding {levels}-level books ({meta.get('source')})", raw=True,
            hint=f"replay the data with --levels {fitted} into a new stream" if levels > fitted else
            "serve a model fitted on data of this depth"))  # fmt: skip
    return levels


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
    processor = ModelProcessor(Path(args.model), mode=args.mode, backend=args.backend, feature_sets=args.features,
                               levels=None)  # fmt: skip
    ensure_group(link, cfg.stream, cfg.group)  # ready: entries replayed from now on are the group's
    meta = wait_for_meta(link, cfg.stream, timeout=args.idle_exit)
    cfg.levels = stream_levels(meta, cfg.stream, processor.model_dir)
    processor.use_levels(cfg.levels)
    sink = ParquetSink(args.sink, sink_identity(processor, cfg, meta),
                       batch_size=integer(args.batch_size, "--batch-size", minimum=1),
                       flush_interval=number(args.flush_interval, "--flush-interval", low=0.0))  # fmt: skip
    metrics = Metrics(interval=args.metrics_interval, console=getattr(args, "console", None))
    return Consumer(link, processor, sink, cfg, metrics)
