"""Shared test configuration: hypothesis profiles, slow marker, shared data, required programs and optional modules."""

from __future__ import annotations

import importlib
import importlib.util
import os
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SIGNALBENCH_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _register_hypothesis_profiles() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    profiles = config["tool"]["signalbench"]["hypothesis"]["profiles"]
    for name, options in profiles.items():
        options = dict(options)
        if options.get("deadline") == "none":
            options["deadline"] = None
        settings.register_profile(name, **options)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


_register_hypothesis_profiles()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow") or os.environ.get("SIGNALBENCH_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow or SIGNALBENCH_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


REQUIRE_SYSTEM = os.environ.get("SIGNALBENCH_REQUIRE_SYSTEM") == "1"
SETUP = "bash scripts/setup.sh installs it"


def _missing(what: str, how: str) -> None:
    """Skip the calling test (or module) because ``what`` is missing; fail instead under CI.

    CI (``.ci/run``) installs every system program, extra and data set the tests use and sets
    ``SIGNALBENCH_REQUIRE_SYSTEM=1``: there a missing one fails, so a test can never pass in CI by being skipped.
    """
    if REQUIRE_SYSTEM:
        pytest.fail(f"{what}, and SIGNALBENCH_REQUIRE_SYSTEM=1 (CI) requires it ({how})", pytrace=False)
    pytest.skip(f"{what} ({how} to run this test)", allow_module_level=True)


def require_shared_data() -> Path:
    """The ../shared/data folder, or skip the calling test with a reason when it is absent (fail under CI)."""
    if not (SHARED_DATA / "lobster").is_dir():
        _missing(f"shared data not found at {SHARED_DATA}", "set SIGNALBENCH_SHARED_DATA to its location")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder (:func:`require_shared_data`)."""
    return require_shared_data()


def require_executable(name: str, *, package: str | None = None) -> str:
    """The path of system program ``name``, or skip the calling test with a reason naming it (fail under CI)."""
    import shutil

    path = shutil.which(name)
    if path is None:
        _missing(f"{name} not found on PATH (this test drives the real program)", f"apt-get install {package or name}")
    return path


def require_module(name: str, *, extra: str | None = None) -> ModuleType:
    """Import the optional module ``name`` (an extra the test setup installs); skip without it, fail under CI.

    Only a module that is not installed skips: one that is installed but fails to import raises its own error.
    Use it at module level (``vbt = require_module("vectorbt")``) or inside a test.
    """
    if importlib.util.find_spec(name.split(".")[0]) is None:
        how = f"pip install 'signalbench[{extra}]'" if extra else SETUP
        _missing(f"the optional module {name} is not installed", how)
    return importlib.import_module(name)


def backtest_of_a_tiny_sample(*args, **kwargs):
    """:func:`signalbench.backtest` on the few bars a unit test prices: its short-sample and empty-result warnings are
    expected, so they are asserted (exactly the result's notes) instead of leaked; any other warning is passed on."""
    import warnings

    from signalbench import backtest
    from signalbench._validation import EmptyResultWarning
    from signalbench.engine import ShortSampleWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = backtest(*args, **kwargs)
    ours = [w for w in caught if issubclass(w.category, (ShortSampleWarning, EmptyResultWarning))]
    assert [str(w.message) for w in ours] == res.notes
    for w in caught:
        if w not in ours:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return res
