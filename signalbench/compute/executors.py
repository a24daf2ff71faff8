"""The executor a command line names: ``local``, ``dask`` or ``dask://host:port``, as ``[compute]`` keys."""

from __future__ import annotations

from typing import Any

__all__ = ["executor_settings"]


def executor_settings(text: str, argument: str = "--executor") -> dict[str, Any]:
    """``{"executor": ...}``, with the scheduler's ``address`` for ``dask://host:port``.

    Anything else is a ValueError naming ``argument``.
    """
    if text.startswith("dask://"):
        return {"executor": "dask", "address": "tcp://" + text.removeprefix("dask://")}
    if text in ("local", "dask"):
        return {"executor": text}
    raise ValueError(f"{argument}: expected 'local', 'dask' or 'dask://host:port', got {text!r}")
