"""The connectors' explicit public APIs: ``__all__`` of ``piis_connectors.casesystem`` and ``.federal``."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["piis_connectors.casesystem", "piis_connectors.federal"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_is_the_object_its_module_defines(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__, f"{package} exports nothing"
    for name in module.__all__:
        value = getattr(module, name)
        home = importlib.import_module(value.__module__)
        assert getattr(home, name) is value
        assert name in getattr(home, "__all__", ()), f"{name} is not public in {home.__name__}"
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018 - the attribute access is the test


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_the_package_imports_no_submodule(package: str) -> None:
    """Its pytest plugin imports the package in every test process: the API must cost nothing there."""
    code = (
        f"import sys, {package}; "
        f"print(sorted(m for m in sys.modules if m.startswith('{package}.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
