"""examples/plugin: a third-party model that a user can copy, installed as a package and used by name.

The slow test installs it the way a user does (pip, its own pyproject.toml and entry point) into a fresh virtual
environment and runs its experiment through the CLI; the fast one runs the conformance suite on the class registered
in-process (no install).
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

import signalbench
from signalbench.signals import registry
from signalbench.signals.checks import check_signal_model

PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "plugin"
ROOT = Path(signalbench.__file__).resolve().parents[1]  # the signalbench under test (first on the subprocess path)


@pytest.fixture
def ewma_ridge(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGIN / "src"))
    monkeypatch.setattr(registry, "_REGISTERED", {})
    from signalbench_ewma import EWMARidge

    return EWMARidge


def test_the_example_plugin_passes_the_conformance_suite_registered_in_process(ewma_ridge):
    if "ewma_ridge" in registry.available():
        pytest.skip("the example plugin is installed in this environment")
    registry.register("ewma_ridge", ewma_ridge)
    check_signal_model(lambda: ewma_ridge(seq_len=5, halflife=2.0))


def _venv(where: Path) -> Path:
    """A fresh venv that also sees this interpreter's site-packages (pip, setuptools, torch, ...)."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # --system-site-packages reaches the base interpreter's packages, not those of the venv running this test
    lines = [f"import site; site.addsitedir({p!r})" for p in site.getsitepackages()]
    Path(purelib, "_parent_site.pth").write_text("\n".join(lines) + "\n")
    return python


@pytest.mark.slow
def test_the_example_plugin_installs_and_runs_an_experiment_by_its_entry_point(tmp_path):
    plugin = tmp_path / "plugin"
    shutil.copytree(PLUGIN, plugin, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    python = _venv(tmp_path / "venv")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(plugin)], check=True, env=env
    )
    cli = [python, "-c", "from signalbench.cli import main; main()"]
    listed = subprocess.run([*cli, "models"], env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert "ewma_ridge" in listed.stdout and "halflife" in listed.stdout
    out = tmp_path / "run"
    done = subprocess.run(
        [*cli, "run", str(plugin / "experiment.toml"), "--out", str(out), "--quiet", "--no-report"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"ewma_ridge:sign", "ewma_ridge_slow:sign"} <= set(metrics["columns"])
    assert metrics["models"]["ewma_ridge"]["n_rows"] > 0 and metrics["models"]["ewma_ridge_slow"]["n_rows"] > 0
    # the saved fold models load back by name in the venv, through the installed entry point
    check = (
        "import sys; from pathlib import Path; from signalbench.signals import load; "
        "m = [load(p.parent) for p in sorted(Path(sys.argv[1]).rglob('model.json'))]; "
        "print(sorted({type(x).__name__ for x in m}))"
    )
    loaded = subprocess.run([python, "-c", check, str(out / "models")], env=env, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert "EWMARidge" in loaded.stdout
