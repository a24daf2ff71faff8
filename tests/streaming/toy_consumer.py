"""A consumer with a tiny deterministic stateful processor, run as a subprocess by the reliability tests.

The processor keeps per-day state (an event count and an exponential average of the mid price) so that a restart
from a wrong checkpoint, or an event processed twice or skipped, changes the following predictions.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

FIELDS = ("size", "price", "ask_price_1", "bid_price_1")


class ToyProcessor:
    """Event -> 3 class probabilities from a running state; NaN for the first 3 events of a day (warm-up)."""

    classes = (-1, 0, 1)
    mode = "window"
    backend = "toy"
    name = "toy"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.reset()

    def check(self, fields: Mapping[str, Any]) -> np.ndarray:
        out = np.empty(len(FIELDS))
        for k, name in enumerate(FIELDS):
            if name not in fields:
                raise ValueError(f"{name}: expected the field in the entry, got an entry without it")
            try:
                out[k] = float(fields[name])
            except (TypeError, ValueError):
                raise ValueError(f"{name}: expected a number, got {fields[name]!r}") from None
        return out

    def process(self, x: np.ndarray) -> tuple[np.ndarray, float, float]:
        if self.delay:
            time.sleep(self.delay)
        mid = 0.5 * (x[2] + x[3])
        self.n += 1
        self.ema = mid if math.isnan(self.ema) else 0.9 * self.ema + 0.1 * mid
        if self.n <= 3:
            return np.full(3, np.nan), 1.0, 2.0
        z = np.array([(self.ema - mid) * 10, (self.n % 7) / 7.0, math.log1p(x[0]) / 5])
        p = np.exp(z - z.max())
        return p / p.sum(), 1.0, 2.0

    def reset(self) -> None:
        self.n = 0
        self.ema = float("nan")

    def get_state(self) -> dict[str, np.ndarray]:
        return {"n": np.array(self.n), "ema": np.array(self.ema)}

    def set_state(self, state) -> None:
        self.n = int(state["n"])
        self.ema = float(state["ema"])


def main() -> int:
    from signalbench.streaming import Consumer, InferConfig, Metrics, ParquetSink, RedisLink
    from signalbench.streaming.serve import sink_identity

    p = argparse.ArgumentParser()
    p.add_argument("--redis", required=True)
    p.add_argument("--sink", required=True)
    p.add_argument("--stream", default="lob:events")
    p.add_argument("--consumer", default="c1")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--flush-interval", type=float, default=0.2)
    p.add_argument("--read-count", type=int, default=50)
    p.add_argument("--max-deliveries", type=int, default=50)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--idle-exit", type=float)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    cfg = InferConfig(stream=args.stream, out="lob:predictions", group="g", consumer=args.consumer,
                      max_deliveries=args.max_deliveries, read_count=args.read_count, exit_at_end=True,
                      idle_exit=args.idle_exit)  # fmt: skip
    link = RedisLink(args.redis, retry_for=60)
    proc = ToyProcessor(args.delay)
    sink = ParquetSink(args.sink, sink_identity(proc, cfg, {}), batch_size=args.batch_size,
                       flush_interval=args.flush_interval)  # fmt: skip
    consumer = Consumer(link, proc, sink, cfg, Metrics(interval=1.0, live=False))
    signal.signal(signal.SIGTERM, lambda *a: setattr(consumer, "stopping", True))
    summary = consumer.run()
    print(f"done {summary['events']} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
