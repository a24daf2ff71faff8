"""Skips cannot hide in CI: a missing data folder, program or optional module skips locally and fails under
``SIGNALBENCH_REQUIRE_SYSTEM=1``; an installed module that fails to import is an error, never a skip."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests import conftest

TESTS = Path(__file__).resolve().parent


@pytest.fixture(params=[False, True], ids=["local", "ci"])
def ci(request, monkeypatch):
    monkeypatch.setattr(conftest, "REQUIRE_SYSTEM", request.param)
    return request.param


def _outcome(fn, *args, **kwargs):
    """``"skip"`` or ``"fail"`` (with the message) for a call that stops the test."""
    try:
        fn(*args, **kwargs)
    except pytest.skip.Exception as exc:
        return "skip", str(exc)
    except pytest.fail.Exception as exc:
        return "fail", str(exc)
    return "ran", ""


def test_missing_shared_data_skips_locally_and_fails_in_ci(ci, monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path / "nowhere")
    kind, message = _outcome(conftest.require_shared_data)
    assert kind == ("fail" if ci else "skip")
    assert f"shared data not found at {tmp_path / 'nowhere'}" in message and "SIGNALBENCH_SHARED_DATA" in message


def test_present_shared_data_is_returned(ci, monkeypatch, tmp_path):
    (tmp_path / "lobster").mkdir()
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path)
    assert conftest.require_shared_data() == tmp_path


def test_missing_program_skips_locally_and_fails_in_ci(ci):
    kind, message = _outcome(conftest.require_executable, "no-such-program-xyz", package="xyz-tools")
    assert kind == ("fail" if ci else "skip")
    assert "no-such-program-xyz not found on PATH" in message and "apt-get install xyz-tools" in message


def test_missing_module_skips_locally_and_fails_in_ci(ci):
    kind, message = _outcome(conftest.require_module, "no_such_module_xyz.sub", extra="onnx")
    assert kind == ("fail" if ci else "skip")
    assert "no_such_module_xyz.sub is not installed" in message and "signalbench[onnx]" in message


def test_an_installed_module_that_fails_to_import_is_an_error_not_a_skip(ci, monkeypatch, tmp_path):
    (tmp_path / "broken_extra_xyz.py").write_text("raise ImportError('broken_extra_xyz: a bug at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "broken_extra_xyz", raising=False)
    with pytest.raises(ImportError, match="a bug at import"):
        conftest.require_module("broken_extra_xyz")


def test_an_installed_module_is_returned(ci):
    assert conftest.require_module("json.decoder") is sys.modules["json.decoder"]


def test_no_test_uses_importorskip():
    """Optional modules go through conftest.require_module (one rule for skips); the project's own are imported."""
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "importorskip":
                offenders.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert offenders == []
