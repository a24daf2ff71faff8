"""A task of the graph, its key and the code version that keys depend on.

A :class:`Task` names its function by ``"package.module:function"`` (imported by name where it runs: no pickled
functions, no jitted functions cross a process boundary), takes small JSON-able ``params`` and the stored results of
other tasks as ``deps`` (argument name -> key). Its key is a hash of all of that and of the code version, so a result
in the store is valid exactly as long as the inputs and the code that made it are unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signalbench import __version__
from signalbench._validation import expected

__all__ = ["KEY_PATTERN", "Task", "canonical_json", "code_version", "task_key"]

KEY_PATTERN = re.compile(r"[0-9a-f]{24,64}")
_FN_PATTERN = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_KEY_LENGTH = 32


@dataclass(frozen=True)
class Task:
    """One pure unit of work: ``fn(**params, **{name: stored result of key for name, key in deps})``.

    Attributes
    ----------
    key : str
        :func:`task_key` of the other fields; unique in a graph.
    kind : str
        ``"piece"``, ``"fit"``, ...: progress and failures group by it.
    fn : str
        ``"package.module:function"``, imported by name in the worker.
    params : Mapping[str, Any]
        Small JSON-able keyword arguments.
    deps : Mapping[str, str]
        Argument name -> key of another task; its stored result is passed as that argument.
    tags : Mapping[str, str]
        Labels shown in progress and failures (``{"symbol": "AMZN", "day": "2012-06-21"}``); not part of the key.
    """

    key: str
    kind: str
    fn: str
    params: Mapping[str, Any]
    deps: Mapping[str, str]
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_key(self.key, "Task.key")
        if not isinstance(self.kind, str) or not self.kind:
            raise TypeError(expected("Task.kind", "a non-empty string", self.kind))
        check_fn(self.fn, "Task.fn")
        for name, value in (("params", self.params), ("deps", self.deps), ("tags", self.tags)):
            if not isinstance(value, Mapping):
                raise TypeError(expected(f"Task.{name}", "a mapping", value))
        for arg, key in self.deps.items():
            if arg in self.params:
                raise ValueError(expected(f"Task.deps[{arg!r}]", "a name not also in params", "both", raw=True))
            check_key(key, f"Task.deps[{arg!r}]")

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def label(self) -> str:
        """``kind`` and the tags, for messages: ``fit (model=lstm, fold=1)``."""
        tags = ", ".join(f"{k}={v}" for k, v in self.tags.items())
        return f"{self.kind} ({tags})" if tags else self.kind


def check_key(key: Any, name: str) -> str:
    """``key`` when it is a task key (lowercase hex, 24 to 64 characters); else a TypeError or ValueError."""
    if not isinstance(key, str):
        raise TypeError(expected(name, "a task key (a hex string)", key))
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError(expected(name, "a task key (24 to 64 lowercase hex characters, from task_key)", key))
    return key


def check_fn(fn: Any, name: str) -> str:
    """``fn`` when it reads ``"package.module:function"``; else a TypeError or ValueError."""
    if not isinstance(fn, str):
        raise TypeError(expected(name, "a string 'package.module:function'", fn))
    if not _FN_PATTERN.fullmatch(fn):
        raise ValueError(expected(name, "'package.module:function'", fn, hint="name a module-level function"))
    return fn


def _plain(value: Any, where: str) -> Any:
    """``value`` as plain JSON types (tuples become lists, NumPy scalars Python numbers); refuses anything else."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(expected(where, "a finite number (keys are canonical JSON)", value))
        return float(value)
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():  # a NumPy scalar
        return _plain(value.item(), where)
    if isinstance(value, Mapping):
        out = {}
        for k, item in value.items():
            if not isinstance(k, str):
                raise TypeError(expected(f"{where} key", "a string", k))
            out[k] = _plain(item, f"{where}[{k!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise TypeError(expected(where, "a JSON-able value (None, bool, int, float, str, list, dict)", value))


def canonical_json(value: Any, name: str = "params") -> str:
    """The one JSON text of ``value``: sorted keys, no spaces, ASCII; a TypeError/ValueError naming what is not JSON."""
    return json.dumps(_plain(value, name), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


@functools.cache
def code_version() -> str:
    """A hash of signalbench's source files and ``__version__``, computed once per process (24 hex characters)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def task_key(kind: str, fn: str, params: Mapping[str, Any], deps: Mapping[str, str], version: str | None = None) -> str:
    """The key of a task: sha256 (32 hex characters) of the canonical JSON of its inputs and the code version.

    Parameters
    ----------
    kind, fn : str
        As in :class:`Task`.
    params : Mapping[str, Any]
        JSON-able keyword arguments (tuples count as lists; NaN and infinities are refused).
    deps : Mapping[str, str]
        Argument name -> the key of the task whose result is passed.
    version : str, optional
        The code version; default :func:`code_version`.

    Returns
    -------
    str
        Equal for equal inputs in any process; any change of kind, fn, params, deps or version changes it.
    """
    if not isinstance(kind, str) or not kind:
        raise TypeError(expected("kind", "a non-empty string", kind))
    check_fn(fn, "fn")
    for arg, key in dict(deps).items():
        check_key(key, f"deps[{arg!r}]")
    if version is not None and not isinstance(version, str):
        raise TypeError(expected("version", "a string or None", version))
    text = canonical_json(
        {"kind": kind, "fn": fn, "params": params, "deps": dict(deps), "version": version or code_version()}, "task"
    )
    return hashlib.sha256(text.encode()).hexdigest()[:_KEY_LENGTH]
