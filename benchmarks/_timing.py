"""Timing shared by the benchmark scripts: the best of several runs, after a garbage collection each."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Seconds of the fastest of ``repeat`` calls of ``fn`` (warm it up first: Numba compiles on the first call)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
