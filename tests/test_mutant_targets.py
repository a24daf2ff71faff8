"""Every planted bug of ``scripts/mutants.py`` still finds the code it mutates (a rewrite must update its patch)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _mutants():
    spec = importlib.util.spec_from_file_location("signalbench_mutants", ROOT / "scripts" / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is made
    spec.loader.exec_module(module)
    return module.MUTANTS


@pytest.mark.parametrize("mutant", _mutants(), ids=lambda m: m.name)
def test_the_mutant_finds_exactly_one_target(mutant):
    text = (ROOT / mutant.path).read_text(encoding="utf-8")
    versions = [mutant.old, *(old for old, _ in mutant.also)]
    assert sum(text.count(old) == 1 for old in versions) == 1, (mutant.name, mutant.path)
    for test in mutant.tests:
        assert (ROOT / test.split("::")[0]).is_file(), test
