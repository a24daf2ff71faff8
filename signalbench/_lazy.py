"""Lazy re-exports for package ``__init__`` modules (PEP 562), so importing a package stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build the ``__getattr__`` and ``__dir__`` of a package that re-exports names lazily.

    Parameters
    ----------
    package : str
        The package's ``__name__`` (for error messages).
    exports : mapping
        Public name -> module that defines it, or ``"module:attribute"`` to export it under another name.
    namespace : dict
        The package's ``globals()``: a name is cached there after its first import.

    Returns
    -------
    tuple of callables
        ``(__getattr__, __dir__)`` to assign in the package.
    """

    def __getattr__(name: str) -> Any:
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module, _, attribute = module.partition(":")
        value = getattr(importlib.import_module(module), attribute or name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*exports, *(k for k in namespace if not k.startswith("_"))})

    return __getattr__, __dir__
