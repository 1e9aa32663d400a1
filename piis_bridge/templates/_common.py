"""What every kind of generated plugin shares: its ``pyproject.toml`` and the install part of its README."""

from __future__ import annotations

__all__ = ["PYPROJECT", "readme", "skeleton"]

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{{dist}}"
version = "0.1.0"
description = "piis-bridge {{kind}} plugin: {{name}}"
readme = "README.md"
requires-python = ">=3.11"
# piis-bridge is not published on PyPI: install it first (README "Install").
dependencies = ["piis-bridge>={{core_version}}"]

[project.optional-dependencies]
test = ["pytest>=8"]

# piis-bridge finds the plugin through this entry point; the module it names is the plugin.
[project.entry-points.piis_bridge]
{{name}} = "{{package}}"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["src"]
"""

_README = """# {{dist}}

A piis-bridge {{what}}.

Names (derived by `piis-bridge new-plugin`): plugin and entry point `{{name}}` (what `piis-bridge.toml`
routes to), import package `{{package}}`, distribution `{{dist}}`.

## Install

**piis-bridge is not published on PyPI**, so `pip install` cannot resolve this plugin's dependency
`piis-bridge>={{core_version}}` by itself: install piis-bridge first, into the same virtualenv, from a checkout
or from a wheel built from one.

```console
$ python3 -m venv .venv && . .venv/bin/activate
$ pip install /path/to/piis-bridge                  # a checkout (pip install -e ... to work on both)
  # or a wheel: pip wheel --no-deps -w dist /path/to/piis-bridge && pip install dist/piis_bridge-*.whl
$ pip install -e '.[test]'                          # this plugin, against the piis-bridge just installed
$ pytest                                            # the piis-bridge conformance kit, run against this plugin
$ piis-bridge plugins                               # {{name}} is listed with its hooks
```

Each hook in `src/{{package}}/__init__.py` raises `NotImplementedError` until you write it, and so does
each method of the harness in `tests/test_conformance.py`: the kit's failures name the missing piece.
Reference for every hook (arguments, when it is called, what to return, examples) and for the kit:
`docs/plugins.md` in piis-bridge.  Test data with valid check digits: `piis_bridge.testing.make_niss`,
`make_bce`, `make_ins`, `minimal_contract`.

## Use it for a CPAS in `piis-bridge.toml`

```toml
{{config}}
```
"""


def readme(what: str, config: str) -> str:
    """The README of a generated plugin: ``what`` it is, and the ``piis-bridge.toml`` lines that route to it."""
    return _README.replace("{{what}}", what).replace("{{config}}", config)


_SKELETON = '''class Settings(BaseModel):
    """``[cpas.<id>.plugins.{{name}}]`` in piis-bridge.toml.  Unknown keys are refused at startup."""

    model_config = ConfigDict(extra="forbid")

{{fields}}


def _todo(hook: str, what: str) -> NotImplementedError:
    return NotImplementedError(
        f"{PLUGIN_NAME}: {hook} is not implemented yet: {what} "
        f"(see piis-bridge docs/plugins.md#plugin_hook_{hook})"
    )


@hookimpl
def piis_plugin_settings() -> type[BaseModel]:
    return Settings
'''


def skeleton(fields: str) -> str:
    """What every generated plugin module holds between its imports and its hooks: the ``Settings``
    model with *fields* (indented class-body lines), the ``_todo`` error and ``piis_plugin_settings``."""
    return _SKELETON.replace("{{fields}}", fields.rstrip("\n"))
