"""Start ``signalbench run`` in its own process group and SIGKILL the whole group once one of some tasks is stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from signalbench.compute import TaskStore

ROOT = Path(__file__).resolve().parents[2]


def kill_run_once_stored(toml: Path, out: Path, keys: set[str], env: dict[str, str] | None = None) -> None:
    """Run ``toml`` into ``out`` from the CLI; SIGKILL its process group as soon as a task of ``keys`` is stored.

    Fails when the run ends before that (nothing would have been interrupted).
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    code = "import sys; from signalbench.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "run", str(toml), "--out", str(out), "--quiet", "--no-report"],
        env=env,
        start_new_session=True,
    )
    try:
        while proc.poll() is None:
            if (out / "tasks").is_dir() and TaskStore(out / "tasks").keys() & keys:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before one of the tasks was stored: nothing was interrupted"
        os.killpg(proc.pid, signal.SIGKILL)  # the whole process group, mid-run (the next task is under way)
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
