"""Package discovery for the one-distribution, several-import-packages layout.

`plugins/`, `connectors/` and `mappings/` are directories named for what they hold; they are
installed as the import packages ``piis_plugins``, ``piis_connectors`` and ``piis_mappings``.
setuptools cannot discover renamed directories from pyproject.toml alone, so the package list
is computed here; everything else lives in pyproject.toml.
"""

from setuptools import find_packages, setup

_RENAMED = {"piis_plugins": "plugins", "piis_connectors": "connectors", "piis_mappings": "mappings"}


def _packages() -> list[str]:
    packages = find_packages(include=["piis_bridge", "piis_bridge.*"])
    for name, directory in _RENAMED.items():
        packages.append(name)
        packages.extend(f"{name}.{sub}" for sub in find_packages(directory))
    return packages


setup(packages=_packages(), package_dir={"piis_bridge": "piis_bridge", **_RENAMED})
