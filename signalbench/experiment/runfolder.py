"""The run's environment record (``environment.json``).

The run folder itself is owned by :mod:`signalbench._runfolder` (layout, writer, readers); its writing names are
re-exported here for the runner.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
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
    "move_into",
    "run_folder",
    "scratch",
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


def scratch(run_dir: Path) -> Path:
    """A hidden empty folder inside ``run_dir`` to build result files in."""
    return Path(tempfile.mkdtemp(prefix=".results-", dir=run_dir))


def move_into(tmp: Path, run_dir: Path, last: str = "metrics.json") -> None:
    """Move every file and folder of ``tmp`` into ``run_dir`` (each in one rename), ``last`` at the end.

    A folder with ``last`` (``metrics.json``) is complete: an old ``last`` is removed first, the new one moved last.
    """
    names = sorted(p.name for p in tmp.iterdir() if p.name != last) + ([last] if (tmp / last).exists() else [])
    (run_dir / last).unlink(missing_ok=True)  # rewriting a complete folder: it is not complete until the new one lands
    for name in names:
        target = run_dir / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(tmp / name, target)
    shutil.rmtree(tmp, ignore_errors=True)
