"""Package discovery for the one-distribution, several-import-packages layout.

`plugins/`, `connectors/` and `mappings/` are directories named for what they hold; they are
installed as the import packages ``piis_plugins``, ``piis_connectors`` and ``piis_mappings``.
setuptools cannot discover renamed directories from pyproject.toml alone, so the package list
is computed here; everything else lives in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

_RENAMED = {"piis_plugins": "plugins", "piis_connectors": "connectors", "piis_mappings": "mappings"}
_NOT_PACKAGES = ["*__pycache__", "*.egg-info"]


def _packages() -> list[str]:
    """Every directory, data-only ones included (``xsd/``, ``wsdl/``, ``migrations/versions``).

    Why namespace discovery: setuptools installs the files of a directory only if that directory is listed as
    a package; data directories without ``__init__.py`` were missing from the list, so every build printed a
    BuildBackendWarning per directory ("would be ignored" in a future setuptools)."""
    packages = find_namespace_packages(
        include=["piis_bridge", "piis_bridge.*"], exclude=_NOT_PACKAGES
    )
    for name, directory in _RENAMED.items():
        packages.append(name)
        packages.extend(
            f"{name}.{sub}" for sub in find_namespace_packages(directory, exclude=_NOT_PACKAGES)
        )
    return packages


setup(packages=_packages(), package_dir={"piis_bridge": "piis_bridge", **_RENAMED})
