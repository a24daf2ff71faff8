"""Helpers of the compute tests: the environment of the processes they start, waiting, a store's bytes."""

from __future__ import annotations

import os
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def subprocess_env() -> dict[str, str]:
    """The environment of a process a test starts: this tree and the task functions importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def wait_for(predicate, timeout: float = 120.0, what: str = "a condition") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def stored_bytes(store) -> dict[str, bytes]:
    """Every file of every stored result, by path relative to the store."""
    return {str(p.relative_to(store.root)): p.read_bytes() for p in sorted(store.root.rglob("*")) if p.is_file()}
