"""A small least-recently-used cache whose values are loaded once: concurrent first requests wait for the one load.

Shared by the saved models of ``predict`` and the loaded pieces of ``market-data``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class LoadOnce:
    """The last ``size`` values of ``load(key)``; each key is loaded once while it stays in the cache."""

    def __init__(self, load: Callable[[Any], Any], size: int) -> None:
        self.load, self.size = load, size
        self.values: OrderedDict[Hashable, Any] = OrderedDict()
        self.lock = threading.Lock()
        self.loading: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable) -> Any:
        """The value of ``key``, loaded on first use (a failed load is not cached: the error goes to the caller)."""
        with self.lock:
            if key in self.values:
                self.values.move_to_end(key)
                return self.values[key]
            loading = self.loading.setdefault(key, threading.Lock())
        with loading:
            with self.lock:
                if key in self.values:
                    return self.values[key]
            value = self.load(key)
            with self.lock:
                self.values[key] = value
                self.loading.pop(key, None)
                while len(self.values) > self.size:
                    self.values.popitem(last=False)
        return value
