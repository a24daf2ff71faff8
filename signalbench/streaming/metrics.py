"""Live metrics of the consumer: throughput, latency percentiles, flushes, lag, pending entries, dead letters.

Latencies are kept in rolling windows (the last ``window`` events); events per second is measured over the last
reporting interval. :meth:`Metrics.tick` logs one line at the interval (``logging``, logger
``signalbench.streaming``) and, when stderr is a terminal, refreshes a one-line live status (rich) in between
(``docs/architecture.md``, "Streaming").
"""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from rich.text import Text

__all__ = ["Metrics", "duration", "format_status"]

log = logging.getLogger("signalbench.streaming")


def _pct(values: deque, q: float) -> float:
    return float(np.percentile(np.fromiter(values, float, len(values)), q)) if values else float("nan")


def _n(value) -> str:
    return "?" if value is None else str(value)


def duration(us: float) -> str:
    """A latency in microseconds in the unit that reads best: ``1.3us``, ``57us``, ``12.4ms``, ``9.32s``."""
    if not np.isfinite(us):
        return "-"
    if us < 10:
        return f"{us:.1f}us"
    if us < 1_000:
        return f"{us:.0f}us"
    if us < 1_000_000:
        return f"{us / 1e3:.1f}ms"
    return f"{us / 1e6:.2f}s"


def format_status(s: dict[str, Any]) -> str:
    """One line: ``events 1234 (5678/s) | e2e p50/p90/p99 .. | model p50/p99 .. | features p50 .. | batches ..``...

    Latencies are in the unit that reads best (:func:`duration`); ``lag`` is entries not yet delivered to the group,
    ``pending`` entries delivered and not yet acknowledged.
    """
    d = duration
    return (
        f"events {s['events']} ({s['events_per_s']:.0f}/s) | "
        f"e2e p50/p90/p99 {d(s['e2e_p50_us'])}/{d(s['e2e_p90_us'])}/{d(s['e2e_p99_us'])} | "
        f"model p50/p99 {d(s['model_p50_us'])}/{d(s['model_p99_us'])} | features p50 {d(s['feature_p50_us'])} | "
        f"batches {s['batches']} | lag {_n(s['lag'])} | pending {_n(s['pending'])} | "
        f"dead letters {s['dead_letters']}"
    )


def _line(snap: dict[str, Any]) -> Text:
    """The live line: never wrapped (a wrapped line cannot be redrawn in place), cut with an ellipsis instead."""
    return Text(format_status(snap), no_wrap=True, overflow="ellipsis")


class Metrics:
    """Counters and rolling latency windows, reported every ``interval`` seconds.

    Parameters
    ----------
    window : int, default 10000
        Events in the rolling latency windows.
    interval : float, default 5.0
        Seconds between log lines (0 or None: never log).
    live : bool, optional
        Show a live status line on stderr (default: when stderr is a terminal).
    console : rich.console.Console, optional
        Where the live line goes (default: stderr). Give the console of the log handler
        (:func:`signalbench.streaming.commands` uses one ``RichHandler`` on it) so log lines print above the live
        line instead of through it.
    clock : callable, optional
        Seconds of a monotonic clock (default :func:`time.monotonic`; tests give a fake one).
    """

    def __init__(self, window: int = 10_000, interval: float | None = 5.0, live: bool | None = None,
                 console=None, clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self._clock = clock
        self.e2e: deque = deque(maxlen=window)
        self.model: deque = deque(maxlen=window)
        self.feature: deque = deque(maxlen=window)
        self.events = 0
        self.batches = 0
        self.dead_letters = 0
        self.lag: int | None = None
        self.pending: int | None = None
        self.interval = interval
        self._last = (clock(), 0)
        self._rate = 0.0
        self._live = None
        self._shown = 0.0
        if live if live is not None else sys.stderr.isatty():
            from rich.console import Console
            from rich.live import Live

            console = console if console is not None else Console(stderr=True)
            self._live = Live("", console=console, refresh_per_second=4, transient=True)
            self._live.start()

    def record(self, feature_us: float, model_us: float, e2e_us: float) -> None:
        """One processed event's latencies."""
        self.events += 1
        self.feature.append(feature_us)
        self.model.append(model_us)
        self.e2e.append(e2e_us)

    def snapshot(self) -> dict[str, Any]:
        """The current values (percentiles over the rolling windows, microseconds)."""
        s: dict[str, Any] = {"events": self.events, "events_per_s": self._rate, "batches": self.batches,
                             "dead_letters": self.dead_letters, "lag": self.lag, "pending": self.pending}  # fmt: skip
        for name, values in (("e2e", self.e2e), ("model", self.model), ("feature", self.feature)):
            for q in (50, 90, 99):
                s[f"{name}_p{q}_us"] = _pct(values, q)
        return s

    def due(self) -> bool:
        """True when a report is due (the caller then refreshes ``lag``/``pending`` and calls :meth:`tick`)."""
        return bool(self.interval) and self._clock() - self._last[0] >= self.interval

    def tick(self, force: bool = False) -> dict[str, Any] | None:
        """Log and show the status when the interval has passed (or ``force``); return the snapshot then."""
        now = self._clock()
        t0, n0 = self._last
        if not force and not self.due():
            if self._live is not None and now - self._shown >= 0.25:
                self._shown = now
                self._live.update(_line(self.snapshot()))
            return None
        self._rate = (self.events - n0) / (now - t0) if now > t0 else 0.0
        self._last = (now, self.events)
        snap = self.snapshot()
        log.info("stream: %s", format_status(snap))
        if self._live is not None:
            self._live.update(_line(snap))
        return snap

    def close(self) -> None:
        """Stop the live status line."""
        if self._live is not None:
            self._live.stop()
            self._live = None
