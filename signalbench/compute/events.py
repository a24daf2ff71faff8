"""Progress events a running task sends to its run's display (e.g. the epochs of a fit), from the process it runs in.

A task function asks :func:`emitter` for a sender and, when it gets one, calls it as ``emit(done, total, info)``
(``info`` a short text, e.g. the epoch's losses). The executor delivers each event to the caller's
:class:`~signalbench.compute.progress.Progress` as ``{"key", "done", "total", "info", "pid"}``: directly when the task
runs in the caller's process, through a queue from a local pool's workers (:func:`listen`). Where nobody listens (no
progress asked for, a Dask worker) :func:`emitter` returns None: the task runs exactly as it does with a listener,
the events only report.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["drain", "emitter", "listen", "running"]

Sink = Callable[[dict[str, Any]], None]

_sink: Sink | None = None  # where this process's events go (set by the executor; None: nobody listens)
_key: str | None = None  # the task running now in this process


def listen(sink: Sink | None) -> None:
    """Send this process's events to ``sink`` (a callable, or a queue's ``put``); None stops sending."""
    global _sink
    _sink = sink


@contextlib.contextmanager
def running(key: str) -> Iterator[None]:
    """Events emitted in the block belong to task ``key``."""
    global _key
    before, _key = _key, key
    try:
        yield
    finally:
        _key = before


def emitter() -> Callable[[int, int, str], None] | None:
    """``emit(done, total, info)`` for the task running now, or None when nobody listens."""
    sink, key = _sink, _key
    if sink is None or key is None:
        return None
    pid = os.getpid()

    def emit(done: int, total: int, info: str = "") -> None:
        with contextlib.suppress(Exception):  # a display that cannot be reached never fails the task
            sink({"key": key, "done": int(done), "total": int(total), "info": str(info), "pid": pid})

    return emit


def drain(queue: Any, sink: Sink) -> None:
    """Hand every event waiting in ``queue`` to ``sink`` (without blocking)."""
    import queue as queues

    while True:
        try:
            event = queue.get_nowait()
        except (queues.Empty, EOFError, OSError):
            return
        sink(event)
