"""Run ids and artifact paths that never leave the runs folder.

A run id is a folder name directly under the runs folder (letters, digits, ``.``, ``_``, ``-``; not ``.`` or
``..``); an artifact path is relative, without ``..``, backslashes or NUL, and its resolved location (symbolic links
followed) must lie inside the run folder. Anything else is refused before a file is opened.
"""

from __future__ import annotations

import re
from pathlib import Path

RUN_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}")


class PathRefused(ValueError):
    """A run id or an artifact path that could lead outside the runs folder (``argument`` names which)."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


def run_dir(runs_dir: Path, run_id: str) -> Path:
    """The folder of run ``run_id``, checked."""
    if not RUN_ID.fullmatch(run_id) or run_id in (".", ".."):
        raise PathRefused(
            "run_id", f"run_id: expected a run folder name (letters, digits, '.', '_', '-'), got {run_id!r}"
        )
    return runs_dir / run_id


def artifact(runs_dir: Path, run_id: str, path: str) -> Path:
    """The file ``path`` of run ``run_id``, resolved; :class:`PathRefused` when it would leave the run folder."""
    root = run_dir(runs_dir, run_id).resolve()
    parts = path.split("/")
    bad = (
        not path
        or path.startswith("/")
        or "\\" in path
        or "\0" in path
        or any(p in ("", ".", "..") for p in parts)
        or re.match(r"^[A-Za-z]:", path)
    )
    if bad:
        raise PathRefused("path", f"path: expected a relative path inside the run folder, got {path!r}")
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not root.is_relative_to(runs_dir.resolve()):
        raise PathRefused("path", f"path: expected a file inside the run folder, got {path!r}, which leads outside it")
    return target


def inside(path: str | Path, roots: list[Path]) -> bool:
    """Whether ``path``, resolved (symbolic links followed), lies under one of ``roots`` (resolved too)."""
    target = Path(path).resolve()
    return any(target.is_relative_to(Path(root).resolve()) for root in roots)
