"""One name, one thing: every exported name of every signalbench package resolves to the object it names.

A package that re-exports a function under the name of one of its own submodules breaks as soon as anything imports
that submodule: Python then sets the package attribute to the module, and ``package.name(...)`` raises "'module'
object is not callable" (``signalbench.data.windows`` did, after fitting any neural model). So this test first imports
every submodule of signalbench, as a long session eventually does, and only then looks the names up.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys

import pytest

import signalbench

# The packages whose ``__init__`` exports names (lazily through ``_EXPORTS``, or eagerly under ``__all__``).
PACKAGES = [
    "signalbench",
    "signalbench.data",
    "signalbench.signals",
    "signalbench.strategies",
    "signalbench.engine",
    "signalbench.reports",
    "signalbench.compute",
]


def _import_everything() -> list[str]:
    """Import every module below signalbench; optional extras that are not installed are skipped."""
    names = []
    for info in pkgutil.walk_packages(signalbench.__path__, "signalbench."):
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as exc:  # an optional dependency (onnx, lightgbm, ...), never one of ours
            if (exc.name or "").startswith("signalbench"):
                raise
            continue
        names.append(info.name)
    return names


def _packages_with_exports() -> list[str]:
    found = {
        name
        for name, module in list(sys.modules.items())
        if name.startswith("signalbench") and hasattr(module, "__path__") and hasattr(module, "__all__")
    }
    return sorted(found | set(PACKAGES))


def _defining_module(package, name: str) -> tuple[str, str] | None:
    """``(module, attribute)`` that ``package.name`` must be, from the lazy table or the object's own module."""
    table = getattr(package, "_EXPORTS", None)
    if table is not None and name in table:
        module, _, attribute = table[name].partition(":")
        return module, attribute or name
    return None


@pytest.fixture(scope="module")
def everything_imported() -> list[str]:
    return _import_everything()


def test_every_submodule_was_imported(everything_imported):
    # the check below is only meaningful once the submodules that could shadow a name are loaded
    assert "signalbench.data.lobster" in everything_imported
    assert any(name.startswith("signalbench.signals.") for name in everything_imported)


def _problems(package_name: str) -> list[str]:
    package = importlib.import_module(package_name)
    problems = []
    for name in package.__all__:
        if name.startswith("__"):
            continue
        value = getattr(package, name)
        if inspect.ismodule(value):
            problems.append(f"{package_name}.{name} is the module {value.__name__}, not the object it exports")
            continue
        source = _defining_module(package, name)
        if source is None:
            owner = getattr(value, "__module__", None)
            if owner is None or not hasattr(sys.modules.get(owner), name):
                continue  # constants, and objects re-exported from a module that names them otherwise
            source = owner, name
        module, attribute = source
        expected = getattr(importlib.import_module(module), attribute)
        if inspect.ismodule(expected) or value is not expected:
            problems.append(f"{package_name}.{name} is {value!r}, but {module}.{attribute} is {expected!r}")
    return problems


def test_exported_names_are_the_objects_their_modules_define(everything_imported):
    packages = _packages_with_exports()
    assert set(PACKAGES) <= set(packages)
    problems = [p for name in packages for p in _problems(name)]
    assert not problems, "\n".join(problems)


def test_lazy_tables_export_what_all_lists():
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        assert set(getattr(package, "_EXPORTS", {})) <= set(package.__all__), package_name
