"""Shared test configuration: hypothesis profiles, slow marker, shared data location, required system programs."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

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


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder; tests that need it skip with a reason when it is absent."""
    if not (SHARED_DATA / "lobster").is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set SIGNALBENCH_SHARED_DATA to its location)")
    return SHARED_DATA


def require_executable(name: str, *, package: str | None = None) -> str:
    """The path of system program ``name``, or skip the calling test with a reason naming it.

    CI (``.ci/run``) installs the system components and sets ``SIGNALBENCH_REQUIRE_SYSTEM=1``: there a missing program
    fails the test instead of skipping it, so an integration test can never pass by being skipped.
    """
    import shutil

    path = shutil.which(name)
    if path:
        return path
    how = f"apt-get install {package or name}"
    if os.environ.get("SIGNALBENCH_REQUIRE_SYSTEM") == "1":
        pytest.fail(f"{name} not found on PATH, and SIGNALBENCH_REQUIRE_SYSTEM=1 (CI) requires it ({how})")
    pytest.skip(f"{name} not found on PATH: this test drives the real program ({how} to run it)")
