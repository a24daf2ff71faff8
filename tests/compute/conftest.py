"""Fixtures of the compute tests: the task functions' module on the path, a store, a marker folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # "graphtasks:..." resolves here and in spawned workers (they copy sys.path)


@pytest.fixture
def store(tmp_path):
    from signalbench.compute import TaskStore

    return TaskStore(tmp_path / "store")


@pytest.fixture
def markers(tmp_path) -> str:
    return str(tmp_path / "markers")
