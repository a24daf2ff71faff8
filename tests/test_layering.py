"""The stages import each other only in the documented order (docs/architecture.md, "Layering").

Every module of the package is read with ``ast`` (nothing is imported): ``import`` and ``from ... import`` statements
at any depth, and string constants that name a signalbench module (the lazy-export tables of the package
``__init__`` files, ``importlib.import_module("...")``), count as imports. Imports under ``if TYPE_CHECKING:`` do not.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "signalbench"

STAGES = ("data", "signals", "strategies", "engine", "reports", "compute")
ORCHESTRATORS = ("experiment", "audit", "streaming", "service", "cli")
# stage -> the stages it may import (besides itself and the shared private modules signalbench/_*.py)
ALLOWED = {
    "data": set(),
    "engine": set(),
    "signals": {"data"},
    "strategies": {"engine"},
    "reports": {"engine"},
    "compute": {"signals"},  # the task graph is generic; it stores signal models in their own format
    "shared": set(),
}
_MODULE_STRING = re.compile(r"^signalbench(\.[A-Za-z_][A-Za-z0-9_]*)+(:[A-Za-z_][A-Za-z0-9_]*)?$")


def kind_of(module: str) -> str:
    """'data', 'signals', ... for a stage; 'orchestrator'; 'shared' for signalbench._x; 'top' for signalbench."""
    parts = module.split(".")
    if parts[0] != "signalbench":
        return "external"
    if len(parts) == 1:
        return "top"
    head = parts[1]
    if head in STAGES:
        return head
    if head in ORCHESTRATORS:
        return "orchestrator"
    if head.startswith("_"):
        return "shared"
    return "unknown"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(source: str, module: str, is_package: bool = False) -> list[tuple[int, str, str]]:
    """``(line, imported module, what the line names)`` for every signalbench import in ``source``."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str, str]] = []
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _type_checking(node):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, a.name) for a in node.names if a.name.split(".")[0] == "signalbench"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "signalbench":
                continue
            for alias in node.names:
                # "from signalbench.data import lobster" imports the submodule when it is one
                sub = f"{target}.{alias.name}"
                found.append((node.lineno, sub if _is_module(sub) else target, alias.name))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _MODULE_STRING.match(node.value):
            found.append((node.lineno, node.value.partition(":")[0], node.value))
    return found


def _is_module(name: str) -> bool:
    path = ROOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """The imports of ``module`` that go against the documented layering, as readable lines."""
    me = kind_of(module)
    if me in ("orchestrator", "top"):
        return []
    bad = []
    for line, target, named in imports_of(source, module, is_package):
        other = kind_of(target)
        if other in (me, "shared", "external"):
            continue
        if other == "top" and named in ("__version__", "signalbench"):
            continue
        if other in ALLOWED.get(me, set()):
            continue
        bad.append(f"{module}:{line} imports {target} ({named}): {me} may not import {other}")
    return bad


# module -> the packages it may not import although its kind allows them (docs/architecture.md, "Layering")
FORBIDDEN = {
    # the audit's pure checks import nothing from the experiment; the run-level audit lives in experiment/audit_run.py
    "signalbench.audit": ("signalbench.experiment",),
}


def forbidden_imports(module: str, source: str, is_package: bool = False) -> list[str]:
    """The imports of ``module`` that :data:`FORBIDDEN` rules out, as readable lines."""
    bad = []
    rules = [b for m, banned in FORBIDDEN.items() if module == m or module.startswith(m + ".") for b in banned]
    for line, target, named in imports_of(source, module, is_package):
        for banned in rules:
            if target == banned or target.startswith(banned + "."):
                bad.append(f"{module}:{line} imports {target} ({named}): {module} may not import {banned}")
    return bad


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        yield path, module_name(path), path.name == "__init__.py"


def test_every_module_is_in_a_known_place():
    unknown = [name for _, name, _ in _modules() if kind_of(name) == "unknown"]
    assert not unknown, f"modules outside the documented stages and orchestrators: {unknown}"


def test_stages_import_only_what_the_layering_allows():
    bad = []
    for path, name, is_pkg in _modules():
        bad += violations(name, path.read_text(encoding="utf-8"), is_pkg)
    assert not bad, "imports against docs/architecture.md:\n" + "\n".join(bad)


def test_shared_private_modules_import_no_stage():
    for path, name, is_pkg in _modules():
        if kind_of(name) == "shared":
            assert not violations(name, path.read_text(encoding="utf-8"), is_pkg)


def test_the_audit_checks_import_nothing_from_the_experiment():
    bad = []
    for path, name, is_pkg in _modules():
        bad += forbidden_imports(name, path.read_text(encoding="utf-8"), is_pkg)
    assert not bad, "imports against docs/architecture.md:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    "source",
    [
        "from signalbench.experiment.fits import rows_of\n",
        "def f():\n    from signalbench.experiment.inputs import labels_for\n",
        "import signalbench.experiment\n",
        "_X = 'signalbench.experiment.predict:predict_span'\n",
    ],
)
def test_a_planted_experiment_import_in_the_audit_is_caught(source):
    assert forbidden_imports("signalbench.audit", source)
    assert forbidden_imports("signalbench.audit.pieces", source)  # the audit package's modules too
    assert not forbidden_imports("signalbench.audit", "from signalbench._runfolder import rows_of\n")


def test_no_import_cycles_between_modules():
    """No two modules import each other, directly or through others (function-level imports included)."""
    graph: dict[str, set[str]] = {}
    for path, name, is_pkg in _modules():
        if is_pkg:
            continue
        graph[name] = {
            t for _, t, _ in imports_of(path.read_text(encoding="utf-8"), name, is_pkg) if t in graph or _is_module(t)
        }
    graph = {k: {t for t in v if t in graph and t != k} for k, v in graph.items()}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


# --- the checker itself catches planted wrong imports (so the tests above can fail) ---------------------------------


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("signalbench.engine.backtest", "from signalbench.strategies.positions import sign\n"),
        ("signalbench.engine.backtest", "import signalbench.data.lobster\n"),
        ("signalbench.data.features", "def f():\n    from signalbench.signals import registry\n"),
        ("signalbench.signals.base", "from signalbench.engine import backtest\n"),
        ("signalbench.strategies.positions", "from ..signals.base import SignalModel\n"),
        ("signalbench.reports.html", "from signalbench.experiment.runner import run\n"),
        ("signalbench.strategies", "_EXPORTS = {'x': 'signalbench.signals.registry'}\n"),
        ("signalbench._validation", "from signalbench.engine import backtest\n"),
        ("signalbench.data.lobster", "import importlib\nimportlib.import_module('signalbench.experiment.runner')\n"),
        ("signalbench.compute.run", "from signalbench.experiment import runner\n"),
        ("signalbench.compute.store", "def f():\n    from signalbench.engine import backtest\n"),
    ],
)
def test_planted_wrong_import_is_caught(module, source):
    assert violations(module, source, is_package=module.count(".") == 1)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("signalbench.signals.base", "from signalbench.data.windowing import windows\n"),
        ("signalbench.strategies.positions", "from signalbench.engine.kernels import simulate_nb\n"),
        ("signalbench.engine.backtest", "from signalbench._validation import integer\n"),
        ("signalbench.engine.backtest", "from signalbench import __version__\n"),
        ("signalbench.compute.store", "def f():\n    from signalbench.signals.registry import load\n"),
        ("signalbench.experiment.runner", "from signalbench.signals import create\nimport signalbench.engine\n"),
        (
            "signalbench.data.lobster",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import signalbench.engine\n",
        ),
    ],
)
def test_allowed_import_passes(module, source):
    assert not violations(module, source)
