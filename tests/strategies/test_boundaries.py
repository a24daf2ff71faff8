"""Stage boundaries: the position rules import neither the engine's oracle and selection statistics nor SciPy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import signalbench

ROOT = str(Path(signalbench.__file__).resolve().parents[1])


def _modules_after(code: str) -> list[str]:
    """The modules loaded by running ``code`` in a fresh interpreter (this checkout's signalbench)."""
    script = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_sign_imports_neither_scipy_nor_numba_nor_the_engine():
    loaded = _modules_after(
        """
        import numpy as np
        import signalbench.strategies.positions as positions
        positions.sign(np.array([[0.3, 0.7], [0.6, 0.4]]))
        positions.threshold(np.array([[0.3, 0.7]]), enter=0.6)
        positions.size_by_confidence(np.array([[0.3, 0.7]]))
        """
    )
    assert "signalbench.strategies.positions" in loaded  # the probe ran
    forbidden = [m for m in loaded if m.split(".")[0] in ("scipy", "numba") or m.startswith("signalbench.engine")]
    assert forbidden == []


def test_the_path_dependent_rules_import_nothing_from_the_engine():
    loaded = _modules_after(
        """
        import numpy as np
        from signalbench.strategies import ensemble, hysteresis, rules, spread_filter
        p = np.array([[0.3, 0.7], [0.6, 0.4]])
        hysteresis(ensemble([p, p]))
        spread_filter(np.array([1.0, -1.0]), np.array([1.0, 3.0]), 2.0)
        rules(np.array([0.02, 0.0]), np.array([100.0, 101.0]), threshold=0.01)
        """
    )
    assert "signalbench.strategies._kernels" in loaded
    assert [m for m in loaded if m.startswith("signalbench.engine")] == []
    # Numba itself imports the top-level scipy package (a version check) and scipy.linalg when it compiles;
    # the oracle and the selection statistics would bring scipy.stats, scipy.special and scipy.optimize.
    assert [m for m in loaded if m.startswith(("scipy.stats", "scipy.special", "scipy.optimize"))] == []


def test_the_strategies_package_no_longer_reexports_the_selection_statistics():
    import signalbench
    import signalbench.engine.selection as selection
    import signalbench.strategies as strategies

    for name in ("deflated_sharpe", "deflated_sharpe_row", "DeflatedSharpe", "pbo", "PBOResult"):
        assert name not in strategies.__all__
        with pytest.raises(AttributeError):
            getattr(strategies, name)
    assert signalbench.deflated_sharpe is selection.deflated_sharpe
    assert signalbench.pbo is selection.pbo


def test_the_rules_kernel_is_gone_from_the_engine():
    with pytest.raises(ModuleNotFoundError):
        __import__("signalbench.engine.rules_kernel")
