"""The signals package's shape: modules import each other in one direction, only at the top; functions fit on a
screen; importing the package stays cheap; the entry points named in pyproject.toml resolve."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import signalbench.signals as signals

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "signalbench" / "signals"
MODULES = sorted(PACKAGE.glob("*.py"))


def _module_name(path: Path) -> str:
    return "signalbench.signals" if path.name == "__init__.py" else f"signalbench.signals.{path.stem}"


def _imports(tree: ast.AST, top_level: bool) -> set[str]:
    nodes = tree.body if top_level else [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    found = set()
    for node in nodes:
        for sub in ast.walk(node) if not top_level else [node]:
            if isinstance(sub, ast.ImportFrom) and sub.module:
                found |= {sub.module} | {f"{sub.module}.{a.name}" for a in sub.names}
            elif isinstance(sub, ast.Import):
                found |= {a.name for a in sub.names}
    return {m for m in found if m.startswith("signalbench")}


def test_no_function_level_imports_of_signalbench_modules():
    for path in MODULES:
        inner = _imports(ast.parse(path.read_text()), top_level=False)
        assert not inner, f"{path.name} imports {sorted(inner)} inside a function"


def test_the_modules_import_each_other_without_a_cycle():
    names = {_module_name(p): p for p in MODULES}
    graph = {
        name: {m for m in _imports(ast.parse(path.read_text()), top_level=True) if m in names and m != name}
        for name, path in names.items()
        if name != "signalbench.signals"
    }
    state: dict[str, int] = {}

    def visit(node, trail):
        if state.get(node) == 1:
            raise AssertionError(f"import cycle: {' -> '.join([*trail, node])}")
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in graph.get(node, ()):
            visit(nxt, [*trail, node])
        state[node] = 2

    for node in graph:
        visit(node, [])
    assert "signalbench.signals.registry" not in graph["signalbench.signals.base"]


def _code_lines(fn: ast.FunctionDef) -> int:
    body = fn.body
    first = body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        start = first.end_lineno + 1 if len(body) > 1 else fn.end_lineno
    else:
        start = first.lineno
    return fn.end_lineno - start + 1


def test_every_function_fits_on_a_screen():
    long = []
    for path in [*MODULES, ROOT / "signalbench" / "_atomic.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and _code_lines(node) > 50:
                long.append(f"{path.name}:{node.lineno} {node.name} ({_code_lines(node)} lines)")
    assert not long, long


def test_importing_the_package_loads_neither_torch_nor_a_model_module():
    code = (
        "import sys, signalbench, signalbench.signals as s; s.available(); "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('signalbench.signals.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "torch" not in out and "models" not in out, out


def test_entry_points_in_pyproject_resolve():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    eps = config["project"]["entry-points"]["signalbench.signals"]
    for name, target in eps.items():
        module, _, attr = target.partition(":")
        cls = getattr(__import__(module, fromlist=[attr]), attr)
        assert cls is signals.get(name) and cls.name == name


@pytest.mark.parametrize(
    "name", ["SignalModel", "TorchSignalModel", "ModelFileError", "load", "create", "NotFittedError"]
)
def test_public_names_resolve(name):
    assert not isinstance(getattr(signals, name), type(signals))
