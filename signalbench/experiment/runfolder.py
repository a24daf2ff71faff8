"""The run's environment record (``environment.json``).

The run folder itself is owned by :mod:`signalbench._runfolder` (layout, writer, readers); its writing names are
re-exported here for the runner.
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from signalbench._runfolder import (
    FILES,
    check_destination,
    default_run_dir,
    model_folder,
    run_folder,
    to_jsonable,
    write_json,
)

__all__ = [
    "LAYOUT",
    "check_destination",
    "default_run_dir",
    "environment",
    "model_folder",
    "run_folder",
    "to_jsonable",
    "write_json",
]

#: The files of a finished run folder (:data:`signalbench._runfolder.FILES`).
LAYOUT = FILES

_PACKAGES = ("signalbench", "numpy", "pandas", "numba", "torch", "scipy", "pyarrow", "pydantic", "scikit-learn")


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def environment(device: str) -> dict[str, Any]:
    """Versions, git commit, device and thread counts of this process (for ``environment.json``)."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    threads: dict[str, Any] = {"cpu_count": os.cpu_count()}
    try:
        import torch

        threads["torch"] = torch.get_num_threads()
    except ImportError:
        pass
    try:
        import numba

        threads["numba"] = numba.get_num_threads()
    except ImportError:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "git_commit": _git_commit(),
        "device": device,
        "threads": threads,
    }
