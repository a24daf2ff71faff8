"""Run folders land in ./runs by default (default_run_dir); git must not offer them for a commit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from signalbench.experiment.runfolder import default_run_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_the_default_run_folder_is_ignored_by_git():
    run = default_run_dir("demo", root=ROOT / "runs")
    assert run.parent == ROOT / "runs"
    probe = (run / "metrics.json").relative_to(ROOT)
    done = subprocess.run(["git", "check-ignore", "-q", str(probe)], cwd=ROOT, check=False)
    assert done.returncode == 0, f"{probe} is not ignored: add runs/ to .gitignore"
