"""Lazy re-exports for the connector packages' public APIs (PEP 562 module ``__getattr__``).

Why: ``piis_connectors.casesystem`` and ``piis_connectors.federal`` are imported by their pytest
plugins in every test process; importing zeep, lxml schemas or the simulators there would slow every
run.  A package lists where each public name lives; the name is imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for *package*: *exports* maps a public name to its submodule."""
    namespace = importlib.import_module(package).__dict__

    def module_getattr(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value  # later lookups skip this function
        return value

    def module_dir() -> list[str]:
        return sorted({*namespace, *exports})

    return module_getattr, module_dir
